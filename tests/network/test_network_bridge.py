"""BridgeNetwork on real kernel objects, inside private network namespaces (root only).

Each test makes its own namespaces (``skiff-test-<tag>-...``): one plays the host (an uplink
veth with a documentation-range address and a default route out of it, ip_forward 0 as on a
fresh machine), others play pods. Covered: pods get distinct addresses from the podCIDR and reach
each other and the gateway over the bridge (hairpin on each port, lo up, default route); hostPort
DNAT from the host (node address and 127.0.0.1), from another machine, from another pod and
from the pod itself (hairpin); masquerade of traffic leaving the cluster; service-style DNAT from another table, pod to pod and a pod to itself; a pod cannot
reach the node's loopback services through the bridge; a cluster or service address with no pod
fails fast with EHOSTUNREACH instead of following the default route; concurrent attaches; a new
BridgeNetwork over the same state keeps assignments; detach is idempotent; cleanup (also from a
fresh instance, and with the state lost) leaves no bridge, veth, route or nftables table and
restores ip_forward. The machine's own namespace is never touched: every finalizer deletes the
namespaces, and the real host's ip_forward is checked unchanged.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from skiff.network import netns, nft, routes, sysctl
from skiff.network.base import NetworkConfig, NetworkError, PortMapping
from skiff.network.bridge import NFT_TABLE, VETH_PREFIX, BridgeNetwork, veth_name


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth pairs, nftables)"
    for tool in ("ip", "nft", "nsenter", "sysctl", "busybox"):
        if shutil.which(tool) is None:
            return f"needs {tool} on PATH"
    return None


pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(_missing() is not None, reason=_missing() or ""),
]

POD_CIDR = "10.42.7.0/24"
GATEWAY = "10.42.7.1"
NODE_IP = "198.51.100.1"  # TEST-NET-2, only ever on the test host namespace's uplink
CONFIG = NetworkConfig(pod_cidr=POD_CIDR, node_ip=NODE_IP)

SERVER = """
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(16)
print("ready", flush=True)
while True:
    c, addr = s.accept()
    data = c.recv(100)
    c.sendall(data + b" from " + addr[0].encode())
    c.close()
"""

CLIENT = """
import errno, socket, sys, time
start = time.monotonic()
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
    c.sendall(b"hi")
    print(c.recv(100).decode())
except TimeoutError:
    print("TIMEOUT", round(time.monotonic() - start, 3))
except OSError as e:
    print("ERR", errno.errorcode.get(e.errno or 0, str(e)), round(time.monotonic() - start, 3))
"""


UDP_ECHO = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 53))
print("ready", flush=True)
while True:
    data, addr = s.recvfrom(100)
    s.sendto(data + b" from " + addr[0].encode(), addr)
"""

UDP_ASK = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"hi", (sys.argv[1], int(sys.argv[2])))
print(s.recvfrom(100)[0].decode())
"""


async def _run(ns: str, *argv: str, limit: float = 10.0) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *netns.exec_argv(ns, argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), limit)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode()


async def _connect(ns: str, ip: str, port: int, wait: float = 3.0) -> str:
    _, out = await _run(ns, sys.executable, "-c", CLIENT, ip, str(port), str(wait))
    return out.strip()


async def _ping(ns: str, ip: str) -> bool:
    rc, _ = await _run(ns, "busybox", "ping", "-c", "1", "-W", "2", ip)
    return rc == 0


def _sync(ns: str, *argv: str) -> str:
    return netns.run_sync(list(argv), netns=ns)


@pytest.fixture(scope="module", autouse=True)
def _real_host_untouched() -> Iterator[None]:
    """Safety net: the machine's own forwarding setting is the same after these tests."""
    before = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    yield
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == before


@pytest.fixture
def make_ns() -> Iterator[Callable[[str], str]]:
    """Factory of private namespaces ``skiff-test-<tag>-<role>``, all deleted afterwards."""
    tag = secrets.token_hex(3)
    made: list[str] = []

    def make(role: str) -> str:
        name = f"skiff-test-{tag}-{role}"
        netns.create(name)
        made.append(name)
        return name

    yield make
    for name in reversed(made):
        netns.delete(name)


@pytest.fixture
def host(make_ns: Callable[[str], str]) -> str:
    """A namespace playing a fresh node: lo up, an uplink with the node address and a
    default route out of it (where a stray packet for a cluster address would go), ip_forward 0."""
    ns = make_ns("host")
    _sync(ns, "ip", "link", "set", "lo", "up")
    # a veth whose far end has no address: the "uplink" where stray packets vanish
    _sync(ns, "ip", "link", "add", "skiff-uplink", "type", "veth", "peer", "name", "skiff-far")
    _sync(ns, "ip", "link", "set", "skiff-far", "up")
    _sync(ns, "ip", "addr", "add", f"{NODE_IP}/24", "dev", "skiff-uplink")
    _sync(ns, "ip", "link", "set", "skiff-uplink", "up")
    _sync(ns, "ip", "route", "add", "default", "via", "198.51.100.254")
    _sync(ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0")
    return ns


@pytest.fixture
def remote(host: str, make_ns: Callable[[str], str]) -> str:
    """Another machine on the node's uplink (it is the node's default gateway, and does not
    forward: what it is not addressed to, it drops)."""
    ns = make_ns("remote")
    _sync(host, "ip", "link", "set", "skiff-far", "netns", ns)
    _sync(ns, "ip", "link", "set", "lo", "up")
    _sync(ns, "ip", "addr", "add", "198.51.100.254/24", "dev", "skiff-far")
    _sync(ns, "ip", "link", "set", "skiff-far", "up")
    return ns


@pytest.fixture
async def net(host: str, tmp_path: Path) -> AsyncIterator[BridgeNetwork]:
    network = BridgeNetwork(tmp_path / "state", host_netns=host)
    await network.setup_node(CONFIG)
    yield network
    await network.cleanup()


@pytest.fixture
async def server(
    make_ns: Callable[[str], str],
) -> AsyncIterator[Callable[[str, int], Awaitable[None]]]:
    """Start the TCP echo server inside a pod namespace; killed by pid afterwards."""
    procs: list[asyncio.subprocess.Process] = []

    async def start(ns: str, port: int) -> None:
        proc = await asyncio.create_subprocess_exec(
            *netns.exec_argv(ns, [sys.executable, "-c", SERVER, str(port)]),
            stdout=subprocess.PIPE,
        )
        procs.append(proc)
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 10)
        assert line.strip() == b"ready"

    yield start
    for proc in procs:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_pods_reach_each_other_and_the_gateway(
    net: BridgeNetwork, host: str, make_ns: Callable[[str], str]
) -> None:
    own = os.readlink("/proc/thread-self/ns/net")
    a, b = make_ns("a"), make_ns("b")
    ip_a = await net.attach("sandbox-a", netns.path_of(a))
    ip_b = await net.attach("sandbox-b", netns.path_of(b))
    assert (
        os.readlink("/proc/thread-self/ns/net") == own
    )  # entering pods' namespaces used other threads
    assert ip_a != ip_b
    for ip in (ip_a, ip_b):
        assert ip.startswith("10.42.7.") and ip not in ("10.42.7.0", GATEWAY, "10.42.7.255")
    assert await net.attach("sandbox-a", netns.path_of(a)) == ip_a  # idempotent
    assert net.ip_of("sandbox-a") == ip_a and net.ip_of("nope") is None

    assert f"inet {ip_a}/24" in _sync(a, "ip", "-4", "addr", "show", "dev", "eth0")
    assert "UP" in _sync(a, "ip", "link", "show", "dev", "lo")
    assert f"default via {GATEWAY} dev eth0" in _sync(a, "ip", "route")
    details = _sync(host, "ip", "-d", "link", "show", "dev", veth_name("sandbox-a"))
    assert "master skiff0" in details and "hairpin on" in details
    assert _sync(host, "sysctl", "-n", "net.ipv4.ip_forward").strip() == "1"

    assert await _ping(a, ip_b)
    assert await _ping(b, ip_a)
    assert await _ping(a, GATEWAY)
    assert await _ping(host, ip_b)


async def test_host_port_dnat(
    net: BridgeNetwork,
    host: str,
    make_ns: Callable[[str], str],
    server: Callable[[str, int], Awaitable[None]],
) -> None:
    a, b = make_ns("a"), make_ns("b")
    ip_a = await net.attach("sandbox-a", netns.path_of(a), (PortMapping(8080, 18080),))
    ip_b = await net.attach("sandbox-b", netns.path_of(b))
    await server(a, 8080)

    assert await _connect(a, ip_a, 8080) == f"hi from {ip_a}"  # the server itself answers
    # the node reaching its own address: DNAT in output, the pod sees the node address
    assert await _connect(host, NODE_IP, 18080) == f"hi from {NODE_IP}"
    # 127.0.0.1: DNAT + masquerade to the gateway (route_localnet on the bridge)
    assert await _connect(host, "127.0.0.1", 18080) == f"hi from {GATEWAY}"
    # another pod through the node address: replies cross the bridge and still meet conntrack
    assert await _connect(b, NODE_IP, 18080) == f"hi from {ip_b}"
    # the pod reaching itself through its hostPort: hairpin, masqueraded to the gateway
    assert await _connect(a, NODE_IP, 18080) == f"hi from {GATEWAY}"
    # no mapping on another port
    assert (await _connect(host, NODE_IP, 18081)).startswith("ERR ECONNREFUSED")

    await net.detach("sandbox-a")
    assert "18080" not in _sync(host, "nft", "list", "table", "ip", NFT_TABLE)
    assert (await _connect(host, NODE_IP, 18080)).startswith("ERR ECONNREFUSED")


async def test_traffic_leaving_the_cluster_and_host_ports_from_outside(
    net: BridgeNetwork,
    host: str,
    remote: str,
    make_ns: Callable[[str], str],
    server: Callable[[str, int], Awaitable[None]],
) -> None:
    a = make_ns("a")
    await net.attach("sandbox-a", netns.path_of(a), (PortMapping(8080, 18080),))
    await server(a, 8080)
    await server(remote, 9000)
    # a pod talking to a machine outside the cluster is masqueraded to the node's address (the
    # remote machine has no route back to pod addresses)
    assert await _connect(a, "198.51.100.254", 9000) == f"hi from {NODE_IP}"
    # a hostPort reached from another machine keeps the caller's address
    assert await _connect(remote, NODE_IP, 18080) == "hi from 198.51.100.254"


async def test_host_port_on_one_address_and_conflicts(
    net: BridgeNetwork,
    host: str,
    make_ns: Callable[[str], str],
    server: Callable[[str, int], Awaitable[None]],
) -> None:
    a, b = make_ns("a"), make_ns("b")
    await net.attach("sandbox-a", netns.path_of(a), (PortMapping(80, 18090, "TCP", NODE_IP),))
    await server(a, 80)
    assert await _connect(host, NODE_IP, 18090) == f"hi from {NODE_IP}"
    assert (await _connect(host, "127.0.0.1", 18090)).startswith("ERR ECONNREFUSED")
    with pytest.raises(NetworkError, match="already used"):
        await net.attach("sandbox-b", netns.path_of(b), (PortMapping(80, 18090),))
    assert net.ip_of("sandbox-b") is None
    # the same port on UDP is another mapping, and UDP is forwarded too
    await net.attach("sandbox-b", netns.path_of(b), (PortMapping(53, 18090, "UDP"),))
    echo = await asyncio.create_subprocess_exec(
        *netns.exec_argv(b, [sys.executable, "-c", UDP_ECHO]), stdout=subprocess.PIPE
    )
    try:
        assert echo.stdout is not None
        assert (await asyncio.wait_for(echo.stdout.readline(), 10)).strip() == b"ready"
        _, out = await _run(host, sys.executable, "-c", UDP_ASK, NODE_IP, "18090")
        assert out.strip() == f"hi from {NODE_IP}"
    finally:
        echo.kill()
        await echo.wait()
    with pytest.raises(NetworkError, match="protocol"):
        await net.attach("sandbox-c", netns.path_of(b), (PortMapping(1, 2, "ICMP"),))


async def test_service_style_dnat_from_another_table(
    net: BridgeNetwork,
    host: str,
    make_ns: Callable[[str], str],
    server: Callable[[str, int], Awaitable[None]],
) -> None:
    """What a service proxy will add (DNAT of a ClusterIP in a table of its own) works over the
    bridge: another pod reaches the backend with its own source address, and the backend reaching
    itself through the ClusterIP (hairpin; a pod without hostPorts, so its hairpin element came
    from the incremental path) is masqueraded to the gateway."""
    a, b = make_ns("a"), make_ns("b")
    ip_a = await net.attach("sandbox-a", netns.path_of(a))
    ip_b = await net.attach("sandbox-b", netns.path_of(b))
    await server(a, 8080)
    service = nft.Table(
        "ip",
        "skiff-test-svc",
        (
            nft.Chain(
                "prerouting",
                (
                    nft.Rule(
                        ("ip", "daddr", "10.43.0.10", "tcp", "dport", "80"), f"dnat to {ip_a}:8080"
                    ),
                ),
                type="nat",
                hook="prerouting",
                priority="-100",
            ),
        ),
    )
    await nft.apply(service, netns=host)
    assert await _connect(b, "10.43.0.10", 80) == f"hi from {ip_b}"
    assert await _connect(a, "10.43.0.10", 80) == f"hi from {GATEWAY}"


UDP_SINK = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9999))
print("ready", flush=True)
while True:
    data, addr = s.recvfrom(100)
    print(data.decode(), addr[0], flush=True)
"""

SEND = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for target in sys.argv[1:]:
    s.sendto(target.encode(), (target, 9999))
"""


async def test_pods_cannot_reach_the_node_loopback(
    net: BridgeNetwork, host: str, make_ns: Callable[[str], str]
) -> None:
    """route_localnet on the bridge (hostPorts on 127.0.0.1) would let a pod that routes 127/8 to
    its gateway reach the node's loopback services; the input guard drops such new flows."""
    a = make_ns("a")
    await net.attach("sandbox-a", netns.path_of(a))
    # the pod (root in its namespace) sends 127.0.0.1 to the node instead of its own lo
    _sync(a, "ip", "route", "del", "local", "127.0.0.0/8", "dev", "lo", "table", "local")
    _sync(a, "ip", "route", "del", "local", "127.0.0.1", "dev", "lo", "table", "local")
    _sync(a, "ip", "route", "add", "127.0.0.0/8", "via", GATEWAY, "dev", "eth0")
    sink = await asyncio.create_subprocess_exec(
        *netns.exec_argv(host, [sys.executable, "-c", UDP_SINK]), stdout=subprocess.PIPE
    )
    try:
        assert sink.stdout is not None
        assert (await asyncio.wait_for(sink.stdout.readline(), 10)).strip() == b"ready"
        # the attempt first, then a datagram to the gateway that must arrive: whatever came
        # through before the control did so in order on the same path
        await _run(a, sys.executable, "-c", SEND, "127.0.0.1", GATEWAY)
        line = await asyncio.wait_for(sink.stdout.readline(), 10)
        assert line.decode().split()[0] == GATEWAY, line
    finally:
        sink.kill()
        await sink.wait()


async def test_cluster_and_service_addresses_without_a_pod_fail_fast(
    net: BridgeNetwork, host: str, make_ns: Callable[[str], str]
) -> None:
    a = make_ns("a")
    await net.attach("sandbox-a", netns.path_of(a))
    # from the node: the unreachable route answers at once (the default route would swallow it)
    for address in ("10.42.200.5", "10.43.0.10"):
        out = await _connect(host, address, 80)
        assert out.startswith("ERR EHOSTUNREACH"), out
        assert float(out.split()[-1]) < 1.0
    # from a pod: forwarded by the node, refused with ICMP host-unreachable
    out = await _connect(a, "10.42.201.9", 80)
    assert out.startswith("ERR EHOSTUNREACH"), out
    # control: an address outside the cluster does follow the default route (into the void)
    assert (await _connect(host, "203.0.113.9", 80, wait=0.3)).startswith("TIMEOUT")
    # the node's own podCIDR still wins over the /16
    assert "dev skiff0" in _sync(host, "ip", "route", "get", "10.42.7.50")


async def test_concurrent_attaches_get_distinct_addresses(
    net: BridgeNetwork, host: str, make_ns: Callable[[str], str]
) -> None:
    spaces = [make_ns(f"p{i}") for i in range(8)]
    ips = await asyncio.gather(
        *(net.attach(f"sandbox-{i}", netns.path_of(ns)) for i, ns in enumerate(spaces))
    )
    assert len(set(ips)) == 8
    hairpin = _sync(host, "nft", "list", "set", "ip", NFT_TABLE, "hairpin")
    for ip in ips:
        assert f"{ip} . {ip}" in hairpin
    assert await _ping(spaces[0], ips[7])


async def test_restart_keeps_assignments(
    net: BridgeNetwork, host: str, make_ns: Callable[[str], str], tmp_path: Path
) -> None:
    a, b, c = make_ns("a"), make_ns("b"), make_ns("c")
    ip_a = await net.attach("sandbox-a", netns.path_of(a), (PortMapping(80, 18100),))
    ip_b = await net.attach("sandbox-b", netns.path_of(b))

    again = BridgeNetwork(tmp_path / "state", host_netns=host)  # the agent restarted
    assert again.ip_of("sandbox-a") == ip_a and again.ip_of("sandbox-b") == ip_b
    await again.setup_node(CONFIG)
    assert await again.attach("sandbox-a", netns.path_of(a), (PortMapping(80, 18100),)) == ip_a
    assert "dnat to " + ip_a + ":80" in _sync(host, "nft", "list", "table", "ip", NFT_TABLE)

    await again.detach("sandbox-b")
    await again.detach("sandbox-b")  # idempotent
    ip_c = await again.attach("sandbox-c", netns.path_of(c))
    assert ip_c not in (ip_a, ip_b)  # round-robin: a released address is not reused at once
    state = json.loads((tmp_path / "state" / "bridge.json").read_text())
    assert {sid: p["ip"] for sid, p in state["pods"].items()} == {
        "sandbox-a": ip_a,
        "sandbox-c": ip_c,
    }
    links = _sync(host, "ip", "-br", "link")
    assert veth_name("sandbox-b") not in links and veth_name("sandbox-c") in links


async def test_detach_after_the_pod_namespace_is_gone(
    net: BridgeNetwork, host: str, make_ns: Callable[[str], str]
) -> None:
    a = make_ns("a")
    await net.attach("sandbox-a", netns.path_of(a))
    netns.delete(a)
    await net.detach("sandbox-a")
    assert net.ip_of("sandbox-a") is None
    assert VETH_PREFIX not in _sync(host, "ip", "-br", "link")
    with pytest.raises(NetworkError):
        await net.attach("sandbox-a", netns.path_of(a))  # the namespace no longer exists
    assert net.ip_of("sandbox-a") is None
    assert not netns.exists(a)  # and attach did not create it


async def test_attach_before_setup_is_an_error(host: str, tmp_path: Path) -> None:
    network = BridgeNetwork(tmp_path / "state", host_netns=host)
    with pytest.raises(NetworkError, match="setup_node"):
        await network.attach("sandbox-a", f"/run/netns/{host}")


def _leftovers(ns: str) -> list[str]:
    found: list[str] = []
    links = _sync(ns, "ip", "-br", "link")
    found += [
        line.split()[0] for line in links.splitlines() if line.startswith(("skiff0", "skiffv"))
    ]
    found += [
        f"route {r}"
        for r in _sync(ns, "ip", "route", "show", "proto", str(routes.RTPROT_SKIFF)).splitlines()
    ]
    found += [f"table {t}" for t in _sync(ns, "nft", "list", "tables").splitlines()]
    return found


@pytest.mark.parametrize("how", ["same", "fresh", "state-lost"])
async def test_cleanup_leaves_nothing(
    host: str, make_ns: Callable[[str], str], tmp_path: Path, how: str
) -> None:
    state_dir = tmp_path / "state"
    network = BridgeNetwork(state_dir, host_netns=host)
    await network.setup_node(CONFIG)
    a, b = make_ns("a"), make_ns("b")
    await network.attach("sandbox-a", netns.path_of(a), (PortMapping(80, 18110),))
    await network.attach("sandbox-b", netns.path_of(b))
    assert len(_leftovers(host)) == 6  # bridge, 2 veths, 2 routes, the table
    assert sorted(await network.leftovers()) == sorted(
        [
            "link skiff0",
            f"link {veth_name('sandbox-a')}",
            f"link {veth_name('sandbox-b')}",
            "route 10.42.0.0/16 metric 4000000000",
            "route 10.43.0.0/16 metric 4000000000",
            "nft table ip skiff",
        ]
    )
    assert netns.list_named(f"{host[:-4]}") == sorted([a, b, host])
    assert await sysctl.read("net.ipv4.ip_forward", netns=host) == "1"

    if how == "fresh":  # `skiff agent cleanup` in a new process
        network = BridgeNetwork(state_dir, host_netns=host)
    elif how == "state-lost":
        shutil.rmtree(state_dir)
        network = BridgeNetwork(state_dir, host_netns=host)
    await network.cleanup()

    assert _leftovers(host) == []
    assert await network.leftovers() == []
    assert "eth0" not in _sync(a, "ip", "-br", "link")  # the peer went with its veth
    assert not (state_dir / "bridge.json").exists()
    expected = "1" if how == "state-lost" else "0"  # without the record nothing is restored
    assert await sysctl.read("net.ipv4.ip_forward", netns=host) == expected
    await network.cleanup()  # twice is fine
    assert await nft.list_tables(netns=host) == []


async def test_cleanup_of_a_node_that_never_ran_is_a_no_op(host: str, tmp_path: Path) -> None:
    _sync(host, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")  # set by someone else
    network = BridgeNetwork(tmp_path / "state", host_netns=host)
    await network.cleanup()
    assert await network.leftovers() == []
    assert await sysctl.read("net.ipv4.ip_forward", netns=host) == "1"
    assert "skiff-uplink" in _sync(host, "ip", "-br", "link")
