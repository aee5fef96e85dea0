"""`FakeNetwork`: a `PodNetwork` that only allocates addresses (fake and process runtimes).

Pods get IPs from the node's podCIDR (the first usable address is the gateway's, as on the bridge,
so pods start at the second); assignments persist in ``<state_dir>/fake-ipam.json`` when a state
directory is given, so an agent restart keeps every pod's IP. Nothing on the host is touched.
With ``host=True`` (the process runtime) every pod gets the node's own address.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

from skiff.network.base import NetworkConfig, NetworkError, PortMapping

__all__ = ["FakeNetwork"]


class FakeNetwork:
    def __init__(self, state_dir: Path | None = None, *, host: bool = False) -> None:
        self.state_dir = state_dir
        # host: every pod shares the node's address (the process runtime runs pods as host
        # processes on the host network)
        self.host = host
        self.config: NetworkConfig | None = None
        self._assigned: dict[str, str] = {}  # sandbox id -> IP
        self._loaded = False

    def _file(self) -> Path | None:
        return None if self.state_dir is None else self.state_dir / "fake-ipam.json"

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        path = self._file()
        if path is not None and path.exists():
            self._assigned = dict(json.loads(path.read_text()))

    def _save(self) -> None:
        path = self._file()
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._assigned))
        tmp.replace(path)

    async def setup_node(self, config: NetworkConfig) -> None:
        self._load()
        self.config = config

    async def attach(
        self, sandbox_id: str, netns_path: str, port_mappings: tuple[PortMapping, ...] = ()
    ) -> str:
        self._load()
        if sandbox_id in self._assigned:
            return self._assigned[sandbox_id]
        if self.config is None:
            raise NetworkError("the node network is not set up (no podCIDR yet)")
        if self.host:
            self._assigned[sandbox_id] = self.config.node_ip
            self._save()
            return self.config.node_ip
        net = ipaddress.ip_network(self.config.pod_cidr, strict=False)
        used = set(self._assigned.values())
        hosts = net.hosts()
        next(hosts, None)  # the gateway's
        for ip in hosts:
            text = str(ip)
            if text not in used:
                self._assigned[sandbox_id] = text
                self._save()
                return text
        raise NetworkError(f"no free address left in {self.config.pod_cidr}")

    async def detach(self, sandbox_id: str) -> None:
        self._load()
        if self._assigned.pop(sandbox_id, None) is not None:
            self._save()

    def ip_of(self, sandbox_id: str) -> str | None:
        self._load()
        return self._assigned.get(sandbox_id)

    async def cleanup(self) -> None:
        self._assigned.clear()
        path = self._file()
        if path is not None:
            path.unlink(missing_ok=True)
