"""The pod network's pure parts, without root: nftables rendering (the atomic replace script,
refusal of anything that could inject a statement), the node ruleset BridgeNetwork applies
(hostPort DNAT with and without a host IP, UDP, hairpin and egress masquerade), host-local IPAM
order, veth names, namespace paths, sysctl key checks, and loading persisted state."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from skiff.network import nft, sysctl
from skiff.network.base import NetworkConfig, NetworkError, PortMapping
from skiff.network.bridge import BridgeNetwork, next_free_ip, ruleset, veth_name
from skiff.network.netns import exec_argv, path_of

CONFIG = NetworkConfig(pod_cidr="10.42.3.0/24")


def test_render_replaces_the_table_in_one_script() -> None:
    table = nft.Table(
        "ip",
        "skiff",
        (
            nft.Chain("hostports", (nft.Rule(("tcp", "dport", "80"), "dnat to 10.42.0.5:8080"),)),
            nft.Chain(
                "prerouting",
                (nft.Rule(("fib", "daddr", "type", "local"), "jump hostports", comment="local"),),
                type="nat",
                hook="prerouting",
                priority="-100",
                policy="accept",
            ),
        ),
    )
    assert nft.render(table) == (
        "table ip skiff\n"
        "delete table ip skiff\n"
        "table ip skiff {\n"
        "\tchain hostports {\n"
        "\t\ttcp dport 80 dnat to 10.42.0.5:8080\n"
        "\t}\n"
        "\tchain prerouting {\n"
        "\t\ttype nat hook prerouting priority -100; policy accept;\n"
        '\t\tfib daddr type local jump hostports comment "local"\n'
        "\t}\n"
        "}\n"
    )
    assert nft.render_delete("ip", "skiff") == "table ip skiff\ndelete table ip skiff\n"


@pytest.mark.parametrize(
    "table",
    [
        nft.Table("ip", "skiff; flush ruleset"),
        nft.Table("ipx", "skiff"),
        nft.Table("ip", "skiff", (nft.Chain("c d"),)),
        nft.Table("ip", "skiff", (nft.Chain("c", (nft.Rule(("tcp", "dport", "80;"), "accept"),)),)),
        nft.Table("ip", "skiff", (nft.Chain("c", (nft.Rule(("tcp",), "accept\nflush"),)),)),
        nft.Table("ip", "skiff", (nft.Chain("c", (nft.Rule((), "accept", comment='x"y'),)),)),
        nft.Table("ip", "skiff", (nft.Chain("c", (nft.Rule(("}",), "accept"),)),)),
        nft.Table("ip", "skiff", (nft.Chain("c", type="nat"),)),
        nft.Table("ip", "skiff", sets=(nft.Set("s", "ipv4_addr", ("1.2.3.4, 5.6.7.8 }",)),)),
    ],
)
def test_render_refuses_what_could_escape_a_statement(table: nft.Table) -> None:
    with pytest.raises(NetworkError):
        nft.render(table)


def _chain(table: nft.Table, name: str) -> list[str]:
    chain = next(c for c in table.chains if c.name == name)
    return [nft._render_rule(rule) for rule in chain.rules]


def test_ruleset_for_a_node() -> None:
    pods = {
        "b": (
            "10.42.3.10",
            (PortMapping(53, 5353, "UDP"), PortMapping(80, 8080, "TCP", "192.0.2.7")),
        ),
        "a": ("10.42.3.2", (PortMapping(80, 80),)),
        "v6": ("10.42.3.3", (PortMapping(80, 9090, "TCP", "2001:db8::1"),)),
    }
    table = ruleset(CONFIG, pods)
    assert (table.family, table.name) == ("ip", "skiff")
    assert _chain(table, "hostports") == [
        'tcp dport 80 dnat to 10.42.3.2:80 comment "hostPort 80/tcp"',
        'udp dport 5353 dnat to 10.42.3.10:53 comment "hostPort 5353/udp"',
        'ip daddr 192.0.2.7 tcp dport 8080 dnat to 10.42.3.10:80 comment "hostPort 8080/tcp"',
    ]
    assert _chain(table, "prerouting") == ["fib daddr type local jump hostports"]
    assert _chain(table, "output") == ["fib daddr type local jump hostports"]
    assert _chain(table, "input") == [
        'iifname != "lo" ip daddr 127.0.0.0/8 ct state new,invalid drop comment "loopback only from lo"'
    ]
    assert table.sets == (
        nft.Set(
            "hairpin",
            "ipv4_addr . ipv4_addr",
            ("10.42.3.2 . 10.42.3.2", "10.42.3.3 . 10.42.3.3", "10.42.3.10 . 10.42.3.10"),
        ),
    )
    assert _chain(table, "postrouting") == [
        'ip saddr . ip daddr @hairpin masquerade comment "a pod reaching itself through a DNAT"',
        'ip saddr 127.0.0.0/8 oifname "skiff0" masquerade comment "hostPort on loopback"',
        'ip saddr 10.42.3.0/24 ip daddr != 10.42.0.0/16 masquerade comment "pods leaving the cluster"',
    ]
    text = nft.render(table)
    assert (
        "\tset hairpin {\n\t\ttype ipv4_addr . ipv4_addr;\n"
        "\t\telements = { 10.42.3.2 . 10.42.3.2, 10.42.3.3 . 10.42.3.3, 10.42.3.10 . 10.42.3.10 }\n"
        "\t}\n"
    ) in text
    assert "\tset hairpin {\n\t\ttype ipv4_addr . ipv4_addr;\n\t}\n" in nft.render(
        ruleset(CONFIG, {})
    )
    assert nft.render_add_elements("ip", "skiff", "hairpin", ["10.42.3.4 . 10.42.3.4"]) == (
        "add element ip skiff hairpin { 10.42.3.4 . 10.42.3.4 }\n"
    )
    with pytest.raises(NetworkError):
        nft.render_add_elements("ip", "skiff", "hairpin", ["1.2.3.4 }; flush ruleset; {"])
    assert "type nat hook postrouting priority 100;" in text
    assert "type nat hook output priority -100;" in text


@pytest.mark.parametrize(
    ("config", "pods", "message"),
    [
        (CONFIG, {"a": ("10.42.3.2", (PortMapping(1, 2, "ICMP"),))}, "protocol"),
        (CONFIG, {"a": ("10.42.3.2", (PortMapping(1, 70000),))}, "range"),
        (NetworkConfig(pod_cidr="10.99.0.0/24"), {}, "not inside"),
        (NetworkConfig(pod_cidr="10.42.0.0/30"), {}, "too small"),
        (NetworkConfig(pod_cidr="10.42.0.1/24"), {}, "invalid"),
        (NetworkConfig(pod_cidr="10.42.0.0/24", bridge="skiffvx"), {}, "bridge"),
    ],
)
def test_ruleset_refuses_bad_input(
    config: NetworkConfig, pods: dict[str, tuple[str, tuple[PortMapping, ...]]], message: str
) -> None:
    with pytest.raises(NetworkError, match=message):
        ruleset(config, pods)


def test_ipam_skips_reserved_addresses_and_goes_round_robin() -> None:
    net = ipaddress.IPv4Network("10.42.3.0/29")  # .2 .. .6 usable
    assert next_free_ip(net, set(), None) == "10.42.3.2"
    assert next_free_ip(net, {"10.42.3.2"}, "10.42.3.2") == "10.42.3.3"
    # .3 was released but .4 comes first: a released address is not handed out again at once
    assert next_free_ip(net, {"10.42.3.2"}, "10.42.3.3") == "10.42.3.4"
    assert next_free_ip(net, {"10.42.3.2", "10.42.3.3"}, "10.42.3.6") == "10.42.3.4"  # wraps
    assert next_free_ip(net, set(), "10.99.0.1") == "10.42.3.2"  # a stale last address
    full = {f"10.42.3.{i}" for i in range(2, 7)}
    with pytest.raises(NetworkError, match="no free address"):
        next_free_ip(net, full, None)


def test_names_and_paths() -> None:
    name = veth_name("0123456789abcdef" * 4)
    assert name.startswith("skiffv") and len(name) == 15
    assert veth_name("x") == veth_name("x") != veth_name("y")
    assert path_of("skiff-test-a") == "/run/netns/skiff-test-a"
    assert path_of("/proc/1/ns/net") == "/proc/1/ns/net"
    with pytest.raises(NetworkError):
        path_of("../etc")
    assert exec_argv(None, ["nft", "list", "tables"]) == ["nft", "list", "tables"]
    assert exec_argv("skiff-test-a", ["nft"]) == [
        "nsenter",
        "--net=/run/netns/skiff-test-a",
        "--",
        "nft",
    ]


async def test_sysctl_only_touches_net_keys() -> None:
    with pytest.raises(NetworkError, match="only net"):
        await sysctl.write("kernel.panic", "1", netns="skiff-test-none")
    with pytest.raises(NetworkError, match="value"):
        await sysctl.write("net.ipv4.ip_forward", "1; reboot", netns="skiff-test-none")


def test_state_is_read_back(tmp_path: Path) -> None:
    state = {
        "version": 1,
        "config": {
            "pod_cidr": "10.42.3.0/24",
            "cluster_cidr": "10.42.0.0/16",
            "service_cidr": "10.43.0.0/16",
            "bridge": "skiff0",
            "mtu": 1500,
            "node_ip": "127.0.0.1",
        },
        "ip_forward_before": "0",
        "last_ip": "10.42.3.2",
        "pods": {
            "s1": {
                "ip": "10.42.3.2",
                "veth": veth_name("s1"),
                "netns": "/run/netns/x",
                "ports": [[80, 8080, "TCP", ""]],
            }
        },
    }
    (tmp_path / "bridge.json").write_text(json.dumps(state))
    network = BridgeNetwork(tmp_path)
    assert network.ip_of("s1") == "10.42.3.2"
    assert network.ip_of("s2") is None

    (tmp_path / "bridge.json").write_text("{not json")
    with pytest.raises(NetworkError, match="corrupt"):
        BridgeNetwork(tmp_path)
    (tmp_path / "bridge.json").write_text(json.dumps({**state, "version": 9}))
    with pytest.raises(NetworkError, match="version"):
        BridgeNetwork(tmp_path)
    assert BridgeNetwork(tmp_path / "nothing-yet").ip_of("s1") is None
