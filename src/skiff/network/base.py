"""The pod network seam the agent drives (CNI's role; no API types).

Implementations: ``skiff.network.bridge.BridgeNetwork`` (bridge ``skiff0``, a veth per pod, IPs from
the node's podCIDR, masquerade, hostPort DNAT, ``unreachable`` routes for the cluster and service
CIDRs) and ``skiff.network.fake.FakeNetwork`` (IP allocation only, for the fake and process
runtimes). IP assignments persist under ``state_dir`` so an agent restart keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["NetworkConfig", "NetworkError", "PodNetwork", "PortMapping"]


@dataclass(frozen=True, slots=True)
class PortMapping:
    """A hostPort: traffic to ``host_ip:host_port`` (all addresses when empty) reaches the pod's
    ``container_port``."""

    container_port: int
    host_port: int
    protocol: str = "TCP"  # TCP | UDP | SCTP
    host_ip: str = ""


class NetworkError(Exception):
    """Setting up or tearing down the pod network failed."""


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    pod_cidr: str  # this node's block, e.g. "10.42.0.0/24"
    cluster_cidr: str = "10.42.0.0/16"
    service_cidr: str = "10.43.0.0/16"
    bridge: str = "skiff0"
    mtu: int = 1500
    node_ip: str = "127.0.0.1"


class PodNetwork(Protocol):
    async def setup_node(self, config: NetworkConfig) -> None:
        """Create (idempotently) the node-level pieces: bridge with the podCIDR's first address,
        routes, masquerade, ip_forward. Called once the Node has its podCIDR."""
        ...

    async def attach(
        self, sandbox_id: str, netns_path: str, port_mappings: tuple[PortMapping, ...] = ()
    ) -> str:
        """Give the sandbox's namespace an interface eth0 with an IP (returned), lo up, default
        route via the bridge, and its hostPorts. Idempotent: a second call returns the same IP."""
        ...

    async def detach(self, sandbox_id: str) -> None:
        """Release the IP, veth and hostPorts (idempotent; the netns may already be gone)."""
        ...

    def ip_of(self, sandbox_id: str) -> str | None: ...

    async def cleanup(self) -> None:
        """Remove everything this network made on the host (``skiff agent cleanup``)."""
        ...
