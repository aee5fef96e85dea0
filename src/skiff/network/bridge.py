"""The pod network on one node: a bridge, a veth per pod, host-local IPAM, NAT in nftables.

`BridgeNetwork` implements `skiff.network.base.PodNetwork` the way the CNI ``bridge`` +
``host-local`` + ``portmap`` plugins do together (containernetworking/plugins), in-process:

- node (`BridgeNetwork.setup_node`): bridge ``skiff0`` holding the podCIDR's first address
  (the pods' gateway), a fixed MAC (a bridge otherwise takes its lowest port's MAC and changes it
  as pods come and go), bridged IPv4 passed to netfilter so replies of NATed flows between two
  pods on the bridge meet their conntrack entry; ``net.ipv4.ip_forward=1`` (the value found first
  is kept in the state file and put back by `cleanup`); ``unreachable`` routes for the cluster and
  service CIDRs (see `skiff.network.routes`); the nftables table ``ip skiff``.
- pod (`BridgeNetwork.attach`): a veth pair made with its peer already inside the pod's namespace
  as ``eth0`` (so no name is ever borrowed on the host), the host end ``skiffv<hash>`` on the
  bridge with ``hairpin_mode`` on (a pod reaching itself through a NAT comes back out of the port
  it entered), an address from the podCIDR, ``lo`` up, a default route via the gateway.
- nftables table ``ip skiff`` (rendered whole by `ruleset` and replaced atomically, except that a
  new pod without hostPorts only adds its element to the set ``hairpin``): hostPort DNAT in
  ``prerouting`` (traffic arriving) and ``output`` (the node itself) for destinations that are
  local addresses; masquerade for pod traffic leaving the cluster CIDR, for each pod's hairpin
  flow (source and destination both the pod after DNAT; the set ``hairpin`` holds ``ip . ip`` for
  every pod), and for hostPorts reached on 127.0.0.1 (the bridge gets ``route_localnet`` so such
  packets may be routed to it); an ``input`` filter dropping new flows to 127.0.0.0/8 that arrive
  on anything but ``lo``, so ``route_localnet`` never lets a pod reach a service the node binds
  to loopback (kube-proxy's guard for CVE-2020-8558).

IPAM (host-local's role): addresses from the podCIDR except the network address, the gateway and
the broadcast address, handed out round-robin after the last one given (an address just released
is not reused at once), recorded with the pod's veth, namespace and hostPorts in
``<state_dir>/bridge.json``, written atomically (temp file, rename; no fsync: the record must
outlive the agent process, not the machine, whose reboot removes every veth, bridge and namespace
anyway), so a restarted agent (a new `BridgeNetwork` over the same directory) keeps every
assignment.

Every host-side operation happens in the namespace ``host_netns`` (None: the caller's own); tests
give a private namespace so the machine's own network is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import os
import secrets
from collections.abc import AsyncIterator, Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyroute2 import AsyncIPRoute  # type: ignore[import-untyped]
from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

from skiff.network import nft, routes, sysctl
from skiff.network.base import NetworkConfig, NetworkError, PortMapping
from skiff.network.netns import netlink_socket, path_of

__all__ = [
    "NFT_FAMILY",
    "NFT_TABLE",
    "STATE_FILE",
    "VETH_PREFIX",
    "BridgeNetwork",
    "next_free_ip",
    "ruleset",
    "veth_name",
]

NFT_FAMILY = "ip"
NFT_TABLE = "skiff"
VETH_PREFIX = "skiffv"
HAIRPIN_SET = "hairpin"
STATE_FILE = "bridge.json"
POD_IFNAME = "eth0"
_STATE_VERSION = 1
_EEXIST = 17
_ENODEV = 19
_ENOENT = 2
_PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}


def veth_name(sandbox_id: str) -> str:
    """Host-side veth name: ``skiffv`` + 9 hex digits of the sandbox id's sha256 (15 chars, the
    kernel's limit)."""
    return VETH_PREFIX + hashlib.sha256(sandbox_id.encode()).hexdigest()[:9]


@dataclass(slots=True)
class _Pod:
    ip: str
    veth: str
    netns: str
    ports: tuple[PortMapping, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "ip": self.ip,
            "veth": self.veth,
            "netns": self.netns,
            "ports": [[p.container_port, p.host_port, p.protocol, p.host_ip] for p in self.ports],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> _Pod:
        ports = tuple(
            PortMapping(container_port=int(c), host_port=int(h), protocol=str(p), host_ip=str(i))
            for c, h, p, i in data.get("ports", [])
        )
        return cls(
            ip=str(data["ip"]), veth=str(data["veth"]), netns=str(data["netns"]), ports=ports
        )


@dataclass(slots=True)
class _State:
    config: NetworkConfig | None = None
    ip_forward_before: str | None = None
    last_ip: str | None = None
    pods: dict[str, _Pod] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "version": _STATE_VERSION,
            "config": None
            if cfg is None
            else {
                "pod_cidr": cfg.pod_cidr,
                "cluster_cidr": cfg.cluster_cidr,
                "service_cidr": cfg.service_cidr,
                "bridge": cfg.bridge,
                "mtu": cfg.mtu,
                "node_ip": cfg.node_ip,
            },
            "ip_forward_before": self.ip_forward_before,
            "last_ip": self.last_ip,
            "pods": {sid: pod.to_json() for sid, pod in sorted(self.pods.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> _State:
        if data.get("version") != _STATE_VERSION:
            raise NetworkError(f"unknown network state version {data.get('version')!r}")
        raw = data.get("config")
        config = None if raw is None else NetworkConfig(**raw)
        pods = {str(sid): _Pod.from_json(pod) for sid, pod in data.get("pods", {}).items()}
        return cls(
            config=config,
            ip_forward_before=data.get("ip_forward_before"),
            last_ip=data.get("last_ip"),
            pods=pods,
        )


def _check_config(config: NetworkConfig) -> tuple[ipaddress.IPv4Network, ipaddress.IPv4Address]:
    """The podCIDR and its gateway (first address); `NetworkError` for a config we cannot serve."""
    try:
        pod = ipaddress.ip_network(config.pod_cidr, strict=True)
        cluster = ipaddress.ip_network(config.cluster_cidr, strict=True)
        ipaddress.ip_network(config.service_cidr, strict=True)
    except ValueError as e:
        raise NetworkError(f"invalid network config: {e}") from e
    if not isinstance(pod, ipaddress.IPv4Network) or not isinstance(cluster, ipaddress.IPv4Network):
        raise NetworkError("only IPv4 pod and cluster CIDRs are supported")
    if not pod.subnet_of(cluster):
        raise NetworkError(f"podCIDR {pod} is not inside the cluster CIDR {cluster}")
    if pod.prefixlen > 29:
        raise NetworkError(f"podCIDR {pod} is too small")
    if not config.bridge or len(config.bridge) > 15 or config.bridge.startswith(VETH_PREFIX):
        raise NetworkError(f"invalid bridge name {config.bridge!r}")
    return pod, pod.network_address + 1


def next_free_ip(pod_cidr: ipaddress.IPv4Network, used: Set[str], last: str | None) -> str:
    """host-local's choice: the first free address after ``last`` (wrapping), skipping the
    network address, the gateway (first address) and the broadcast address."""
    first = int(pod_cidr.network_address) + 2
    end = int(pod_cidr.broadcast_address) - 1
    size = end - first + 1
    start = first
    if last is not None:
        previous = int(ipaddress.IPv4Address(last))
        if first <= previous <= end:
            start = previous + 1
    for i in range(size):
        address = str(ipaddress.IPv4Address(first + (start - first + i) % size))
        if address not in used:
            return address
    raise NetworkError(f"no free address left in {pod_cidr}")


def _hairpin_element(ip: str) -> str:
    return f"{ip} . {ip}"


def _host_port_rules(ip: str, mapping: PortMapping) -> nft.Rule:
    proto = _PROTOCOLS.get(mapping.protocol.upper())
    if proto is None:
        raise NetworkError(f"unsupported hostPort protocol {mapping.protocol!r}")
    for port in (mapping.host_port, mapping.container_port):
        if not 0 < port < 65536:
            raise NetworkError(f"port {port} out of range")
    match: tuple[str, ...] = ()
    if mapping.host_ip and mapping.host_ip != "0.0.0.0":
        host_ip = ipaddress.ip_address(mapping.host_ip)
        match = ("ip", "daddr", str(host_ip))
    return nft.Rule(
        match=(*match, proto, "dport", str(mapping.host_port)),
        verdict=f"dnat to {ip}:{mapping.container_port}",
        comment=f"hostPort {mapping.host_port}/{proto}",
    )


def ruleset(
    config: NetworkConfig, pods: Mapping[str, tuple[str, tuple[PortMapping, ...]]]
) -> nft.Table:
    """The whole ``ip skiff`` table for this node: ``pods`` maps a sandbox id to its IP and
    hostPorts. Pure, so rendering is tested without root."""
    pod_cidr, _gateway = _check_config(config)
    cluster = ipaddress.ip_network(config.cluster_cidr)
    ordered = sorted(pods.values(), key=lambda p: ipaddress.ip_address(p[0]))
    hostports: list[nft.Rule] = []
    hairpin: list[str] = []
    for ip, mappings in ordered:
        address = ipaddress.ip_address(ip)
        hairpin.append(_hairpin_element(str(address)))
        for mapping in mappings:
            if mapping.host_ip and ipaddress.ip_address(mapping.host_ip).version != 4:
                continue  # the table is IPv4; an IPv6 hostIP has nothing to match here
            hostports.append(_host_port_rules(str(address), mapping))
    bridge = f'"{config.bridge}"'
    local = nft.Rule(("fib", "daddr", "type", "local"), "jump hostports")
    return nft.Table(
        NFT_FAMILY,
        NFT_TABLE,
        (
            nft.Chain("hostports", tuple(hostports)),
            nft.Chain("prerouting", (local,), type="nat", hook="prerouting", priority="-100"),
            nft.Chain("output", (local,), type="nat", hook="output", priority="-100"),
            # route_localnet on the bridge (for hostPorts on 127.0.0.1) must not let a pod reach
            # the node's loopback services: new flows to 127/8 only from lo (CVE-2020-8558)
            nft.Chain(
                "input",
                (
                    nft.Rule(
                        ("iifname", "!=", '"lo"', "ip", "daddr", "127.0.0.0/8"),
                        "ct state new,invalid drop",
                        comment="loopback only from lo",
                    ),
                ),
                type="filter",
                hook="input",
                priority="0",
            ),
            nft.Chain(
                "postrouting",
                (
                    nft.Rule(
                        ("ip", "saddr", ".", "ip", "daddr", f"@{HAIRPIN_SET}"),
                        "masquerade",
                        comment="a pod reaching itself through a DNAT",
                    ),
                    nft.Rule(
                        ("ip", "saddr", "127.0.0.0/8", "oifname", bridge),
                        "masquerade",
                        comment="hostPort on loopback",
                    ),
                    nft.Rule(
                        ("ip", "saddr", str(pod_cidr), "ip", "daddr", "!=", str(cluster)),
                        "masquerade",
                        comment="pods leaving the cluster",
                    ),
                ),
                type="nat",
                hook="postrouting",
                priority="100",
            ),
        ),
        sets=(nft.Set(HAIRPIN_SET, "ipv4_addr . ipv4_addr", tuple(hairpin)),),
    )


def _ignore(e: Any, *codes: int) -> None:
    if getattr(e, "code", None) not in codes:
        raise e


class BridgeNetwork:
    """`PodNetwork` over a Linux bridge (see the module docstring).

    ``state_dir``: where the IPAM and the record of what was changed live (the agent passes
    ``<data-dir>/agent/<node>/state/network``). ``host_netns``: the namespace playing the host
    (a name under ``/run/netns`` or a path; None: the calling process's own). With
    ``service_cidr_unreachable=False`` no route is made for the service CIDR (a service proxy that
    routes it itself).
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        host_netns: str | None = None,
        service_cidr_unreachable: bool = True,
    ) -> None:
        self._state_dir = Path(state_dir)
        self._host_netns = host_netns
        self._service_route = service_cidr_unreachable
        self._lock = asyncio.Lock()
        self._rules_lock = asyncio.Lock()
        self._save_lock = asyncio.Lock()
        # every change to the state bumps the generation; the state file and the nft table each
        # catch up to it, and concurrent callers share one write/apply (a burst of attaches)
        self._generation = 0
        self._saved = -1
        self._applied = -1
        # changes since the last apply that are only new pods without hostPorts: their hairpin
        # elements are added to the live table instead of re-rendering it (nft -f of the whole
        # table costs ~20 ms, adding elements ~6 ms); anything else sets _full
        self._new_hairpin: list[str] = []
        self._full = True
        self._state = self._load()

    # -- state --------------------------------------------------------------------------------

    @property
    def state_file(self) -> Path:
        return self._state_dir / STATE_FILE

    def _load(self) -> _State:
        try:
            raw = self.state_file.read_text()
        except FileNotFoundError:
            return _State()
        except OSError as e:
            raise NetworkError(f"cannot read {self.state_file}: {e}") from e
        if not raw.strip():  # cut short by a power loss: nothing it named survived either
            return _State()
        try:
            return _State.from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError) as e:
            raise NetworkError(f"corrupt network state {self.state_file}: {e}") from e

    def _write(self, text: str) -> None:
        self._state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_name(f".{STATE_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            # no fsync: the record only has to outlive the agent process (the page cache does),
            # not the kernel - a reboot takes every veth, bridge and namespace with it
            tmp.write_text(text)
            os.replace(tmp, self.state_file)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    async def _persist(self) -> None:
        """Make the state file hold the current generation (or a later one) before returning."""
        wanted = self._generation
        async with self._save_lock:
            if self._saved >= wanted:
                return
            generation = self._generation
            text = json.dumps(self._state.to_json(), indent=1, sort_keys=True)
            # inline: without fsync, writing a few KB and renaming takes well under a
            # millisecond, less than a hop to a thread - and the default executor may be busy
            # (a queue there once held a burst of attaches for seconds)
            self._write(text)
            self._saved = generation

    def _allocate(self, pod_cidr: ipaddress.IPv4Network) -> str:
        used = {pod.ip for pod in self._state.pods.values()}
        address = next_free_ip(pod_cidr, used, self._state.last_ip)
        self._state.last_ip = address
        return address

    def _config(self) -> NetworkConfig:
        if self._state.config is None:
            raise NetworkError("the pod network is not set up on this node (setup_node first)")
        return self._state.config

    # -- netlink ------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _ipr(self, netns: str | None) -> AsyncIterator[Any]:
        # not pyroute2's netns= (forks a child per socket, and creates a missing namespace)
        ipr = AsyncIPRoute() if netns is None else AsyncIPRoute(fileno=netlink_socket(netns))
        async with ipr:
            yield ipr

    @staticmethod
    async def _lookup(ipr: Any, ifname: str) -> int | None:
        found = await ipr.link_lookup(ifname=ifname)
        return int(found[0]) if found else None

    async def _setup_bridge(self, config: NetworkConfig) -> None:
        pod_cidr, gateway = _check_config(config)
        async with self._ipr(self._host_netns) as ipr:
            index = await self._lookup(ipr, config.bridge)
            if index is None:
                mac = "02:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(5))
                await ipr.link(
                    "add",
                    ifname=config.bridge,
                    kind="bridge",
                    mtu=config.mtu,
                    address=mac,
                    br_nf_call_iptables=1,
                    br_forward_delay=0,
                )
                index = await self._lookup(ipr, config.bridge)
                if index is None:
                    raise NetworkError(f"bridge {config.bridge} vanished after creation")
            else:
                links = list(await ipr.link("get", index=index))
                info = links[0].get(("linkinfo", "kind")) if links else None
                if info != "bridge":
                    raise NetworkError(f"{config.bridge} exists and is not a bridge ({info})")
            try:
                await ipr.addr(
                    "add", index=index, address=str(gateway), prefixlen=pod_cidr.prefixlen
                )
            except NetlinkError as e:
                _ignore(e, _EEXIST)
            await ipr.link("set", index=index, state="up")
            await routes.ensure_unreachable(ipr, config.cluster_cidr)
            if self._service_route:
                await routes.ensure_unreachable(ipr, config.service_cidr)

    async def _plumb(self, sandbox_id: str, pod: _Pod, config: NetworkConfig, fresh: bool) -> None:
        pod_cidr, gateway = _check_config(config)
        async with self._ipr(self._host_netns) as ipr:
            bridge = await self._lookup(ipr, config.bridge)
            if bridge is None:
                raise NetworkError(f"bridge {config.bridge} is missing (setup_node first)")
            index = await self._lookup(ipr, pod.veth)
            if index is not None and fresh:
                # a veth left by an attach whose record was lost or for another namespace
                await ipr.link("del", index=index)
                index = None
            if index is None:
                fd = os.open(pod.netns, os.O_RDONLY)
                try:
                    await ipr.link(
                        "add",
                        ifname=pod.veth,
                        kind="veth",
                        mtu=config.mtu,
                        peer={"ifname": POD_IFNAME, "net_ns_fd": fd, "mtu": config.mtu},
                    )
                finally:
                    os.close(fd)
                index = await self._lookup(ipr, pod.veth)
                if index is None:
                    raise NetworkError(f"veth {pod.veth} vanished after creation")
            await ipr.link("set", index=index, master=bridge)
            await ipr.brport("set", index=index, mode=1)  # IFLA_BRPORT_MODE: hairpin
            await ipr.link("set", index=index, state="up")
        async with self._ipr(pod.netns) as pipr:
            lo = await self._lookup(pipr, "lo")
            if lo is not None:
                await pipr.link("set", index=lo, state="up")
            eth0 = await self._lookup(pipr, POD_IFNAME)
            if eth0 is None:
                raise NetworkError(f"{POD_IFNAME} is missing in {pod.netns}")
            await pipr.link("set", index=eth0, state="up")
            try:
                await pipr.addr("add", index=eth0, address=pod.ip, prefixlen=pod_cidr.prefixlen)
            except NetlinkError as e:
                _ignore(e, _EEXIST)
            await pipr.route("replace", dst="0.0.0.0", dst_len=0, gateway=str(gateway), oif=eth0)

    async def _delete_link(self, ifname: str) -> None:
        async with self._ipr(self._host_netns) as ipr:
            index = await self._lookup(ipr, ifname)
            if index is None:
                return
            try:
                await ipr.link("del", index=index)
            except NetlinkError as e:
                _ignore(e, _ENODEV)

    # -- nftables -----------------------------------------------------------------------------

    async def _apply_rules(self) -> None:
        """Bring the nft table up to the current generation; concurrent callers coalesce (one
        ``nft`` run covers every change made before it started)."""
        wanted = self._generation
        async with self._rules_lock:
            if self._applied >= wanted:
                return
            config = self._state.config
            if config is None:
                return
            generation = self._generation
            added, self._new_hairpin = self._new_hairpin, []
            if self._full:
                self._full = False
                pods = {sid: (pod.ip, pod.ports) for sid, pod in self._state.pods.items()}
                table = ruleset(config, pods)
                try:
                    await nft.apply(table, netns=self._host_netns)
                except BaseException:
                    self._full = True
                    raise
            else:
                try:
                    await nft.add_elements(
                        NFT_FAMILY, NFT_TABLE, HAIRPIN_SET, added, netns=self._host_netns
                    )
                except BaseException:
                    self._full = True
                    raise
            self._applied = generation

    def _changed(self, *, hairpin_only: str | None = None) -> None:
        """Record a change of the state (call without awaiting in between the change and this)."""
        self._generation += 1
        if hairpin_only is None:
            self._full = True
        else:
            self._new_hairpin.append(_hairpin_element(hairpin_only))

    # -- PodNetwork ---------------------------------------------------------------------------

    async def setup_node(self, config: NetworkConfig) -> None:
        _check_config(config)
        try:
            async with self._lock:
                old = self._state.config
                if old is not None and old.pod_cidr != config.pod_cidr and self._state.pods:
                    raise NetworkError(
                        f"podCIDR changed from {old.pod_cidr} to {config.pod_cidr} while pods are"
                        " attached; run `skiff agent cleanup` first"
                    )
                self._state.config = config
                if self._state.ip_forward_before is None:
                    self._state.ip_forward_before = await sysctl.read(
                        "net.ipv4.ip_forward", netns=self._host_netns
                    )
                self._changed()
                await self._persist()
                await self._setup_bridge(config)
                await sysctl.write("net.ipv4.ip_forward", "1", netns=self._host_netns)
                await sysctl.write(
                    f"net.ipv4.conf.{config.bridge}.route_localnet", "1", netns=self._host_netns
                )
                self._changed()
            await self._apply_rules()
        except NetlinkError as e:
            raise NetworkError(f"setting up the pod network: {e}") from e

    async def attach(
        self, sandbox_id: str, netns_path: str, port_mappings: tuple[PortMapping, ...] = ()
    ) -> str:
        netns = path_of(netns_path)
        for mapping in port_mappings:  # validate before anything is recorded
            _host_port_rules("0.0.0.0", mapping)
        try:
            async with self._lock:
                config = self._config()
                pod_cidr, _ = _check_config(config)
                self._check_ports(sandbox_id, port_mappings)
                pod = previous = self._state.pods.get(sandbox_id)
                fresh = pod is None or pod.netns != netns
                if pod is None:
                    ip = self._allocate(pod_cidr)
                    pod = _Pod(ip=ip, veth=veth_name(sandbox_id), netns=netns, ports=port_mappings)
                else:
                    pod = _Pod(ip=pod.ip, veth=pod.veth, netns=netns, ports=port_mappings)
                self._state.pods[sandbox_id] = pod
                ports_unchanged = not port_mappings and (previous is None or not previous.ports)
                self._changed(hairpin_only=pod.ip if ports_unchanged else None)
            await self._persist()  # the address is recorded before anything uses it
            try:
                await self._plumb(sandbox_id, pod, config, fresh)
            except (NetlinkError, OSError, NetworkError):
                if fresh:
                    await self.detach(sandbox_id)
                raise
            await self._apply_rules()
            return pod.ip
        except NetlinkError as e:
            raise NetworkError(f"attaching {sandbox_id}: {e}") from e
        except OSError as e:
            raise NetworkError(f"attaching {sandbox_id}: {e}") from e

    def _check_ports(self, sandbox_id: str, mappings: tuple[PortMapping, ...]) -> None:
        taken: dict[tuple[int, str], tuple[str, str]] = {}
        for sid, pod in self._state.pods.items():
            if sid == sandbox_id:
                continue
            for m in pod.ports:
                taken[(m.host_port, m.protocol.upper())] = (sid, m.host_ip)
        for m in mappings:
            other = taken.get((m.host_port, m.protocol.upper()))
            if other is None:
                continue
            sid, host_ip = other
            if not host_ip or not m.host_ip or host_ip == m.host_ip:
                raise NetworkError(
                    f"hostPort {m.host_port}/{m.protocol} is already used by sandbox {sid}"
                )

    async def detach(self, sandbox_id: str) -> None:
        try:
            async with self._lock:
                pod = self._state.pods.pop(sandbox_id, None)
                if pod is not None:
                    self._changed()
            if pod is not None:
                await self._persist()
            await self._delete_link(pod.veth if pod is not None else veth_name(sandbox_id))
            if pod is not None:
                await self._apply_rules()
        except NetlinkError as e:
            raise NetworkError(f"detaching {sandbox_id}: {e}") from e

    def ip_of(self, sandbox_id: str) -> str | None:
        pod = self._state.pods.get(sandbox_id)
        return pod.ip if pod is not None else None

    async def leftovers(self) -> list[str]:
        """What of this network still exists in the host namespace: the bridge, ``skiffv*``
        veths, routes carrying `routes.RTPROT_SKIFF`, the nft table. Empty after `cleanup`;
        ``skiff agent cleanup`` and tests check it."""
        bridge_name = self._state.config.bridge if self._state.config else NetworkConfig("").bridge
        found: list[str] = []
        try:
            async with self._ipr(self._host_netns) as ipr:
                async for link in await ipr.link("dump"):
                    name = link.get("ifname") or ""
                    if name == bridge_name or name.startswith(VETH_PREFIX):
                        found.append(f"link {name}")
                for dst, plen, metric in await routes.list_ours(ipr):
                    found.append(f"route {dst}/{plen} metric {metric}")
        except NetlinkError as e:
            raise NetworkError(f"listing the pod network: {e}") from e
        if (NFT_FAMILY, NFT_TABLE) in await nft.list_tables(netns=self._host_netns):
            found.append(f"nft table {NFT_FAMILY} {NFT_TABLE}")
        return found

    async def cleanup(self) -> None:
        try:
            async with self._lock, self._save_lock:
                state = self._state
                bridge_name = state.config.bridge if state.config else NetworkConfig("").bridge
                await nft.delete_table(NFT_FAMILY, NFT_TABLE, netns=self._host_netns)
                async with self._ipr(self._host_netns) as ipr:
                    bridge = await self._lookup(ipr, bridge_name)
                    recorded = {pod.veth for pod in state.pods.values()}
                    doomed: list[int] = []
                    async for link in await ipr.link("dump"):
                        name = link.get("ifname") or ""
                        if not name.startswith(VETH_PREFIX):
                            continue
                        if name in recorded or (
                            bridge is not None and link.get("master") == bridge
                        ):
                            doomed.append(int(link["index"]))
                    for index in doomed:
                        try:
                            await ipr.link("del", index=index)
                        except NetlinkError as e:
                            _ignore(e, _ENODEV)
                    if bridge is not None:
                        try:
                            await ipr.link("del", index=bridge)
                        except NetlinkError as e:
                            _ignore(e, _ENODEV)
                    await routes.remove_ours(ipr)
                if state.ip_forward_before is not None:
                    await sysctl.write(
                        "net.ipv4.ip_forward", state.ip_forward_before, netns=self._host_netns
                    )
                with contextlib.suppress(FileNotFoundError):
                    await asyncio.to_thread(self.state_file.unlink)
                self._state = _State()
                self._changed()
                self._new_hairpin = []
                self._saved = self._applied = -1
        except NetlinkError as e:
            raise NetworkError(f"cleaning up the pod network: {e}") from e
