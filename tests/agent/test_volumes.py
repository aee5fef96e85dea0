"""`skiff.agent.volumes`: pod volumes on the host, container mounts, managed files.

Covers the pod directory layout, emptyDir (mode, and medium Memory as a sized tmpfs when root),
hostPath type checks and creation, configMap / secret / downwardAPI / projected volumes written by
the atomic writer (``..data`` swap, modes, items, optional sources, Kubernetes' error messages,
refresh in place without rewriting unchanged content), the refused serviceAccountToken projection
and PVCs, mounts() with subPath / subPathExpr / readOnly and its refusal of ``..``, absolute paths
and symlink escapes, /etc/hosts, /etc/hostname and /etc/resolv.conf for each dnsPolicy, the
termination message file, and teardown. Everything happens in tmp dirs; tmpfs mounts (root only)
are named under a ``skiff-`` directory and unmounted by the fixture even when a test fails.
"""

from __future__ import annotations

import base64
import os
import socket
import stat
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from skiff.agent.envvars import ConfigError
from skiff.agent.volumes import VolumeError, VolumeManager, dns_config, write_atomic
from skiff.runtime.types import Mount

ROOT = os.geteuid() == 0


class Lookup:
    def __init__(self) -> None:
        self.config_maps: dict[tuple[str, str], dict[str, Any]] = {}
        self.secrets: dict[tuple[str, str], dict[str, Any]] = {}

    async def config_map(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self.config_maps.get((namespace, name))

    async def secret(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self.secrets.get((namespace, name))

    async def services(self, namespace: str) -> list[Mapping[str, Any]]:
        return []


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path) + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [p for p in points if p.startswith(prefix)]


@pytest.fixture
def pods_dir(tmp_path: Path) -> Iterator[Path]:
    pods = tmp_path / "skiff-pods"
    pods.mkdir()
    try:
        yield pods
    finally:
        for point in sorted(_mounts_under(pods), key=len, reverse=True):
            subprocess.run(["umount", "-l", point], check=False)


@pytest.fixture
def lookup() -> Lookup:
    return Lookup()


@pytest.fixture
def manager(pods_dir: Path, lookup: Lookup, tmp_path: Path) -> VolumeManager:
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("# host\nnameserver 192.168.1.1\nsearch lan example.com\noptions edns0\n")
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n192.168.1.5 buildhost\n")
    return VolumeManager(
        pods_dir,
        lookup,
        node_name="node-a",
        node_ip="192.168.1.5",
        node_allocatable={"cpu": "2", "memory": "1Gi"},
        host_resolv_conf=resolv,
        host_hosts_file=hosts,
    )


def _pod(
    volumes: list[dict[str, Any]], container: dict[str, Any] | None = None, **spec: Any
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "web-1",
            "namespace": "shop",
            "uid": "uid-1",
            "labels": {"app": "web"},
        },
        "spec": {
            "containers": [container or {"name": "app", "resources": {"limits": {"cpu": "500m"}}}],
            "volumes": volumes,
            **spec,
        },
    }


def _vol(manager: VolumeManager, plugin: str, name: str) -> Path:
    return manager.volume_dir("uid-1", plugin, name)


def _lexists(path: Path) -> bool:
    return os.path.lexists(path)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---- configMap, secret, atomic writer


async def test_config_map_volume_layout_and_modes(manager: VolumeManager, lookup: Lookup) -> None:
    lookup.config_maps[("shop", "settings")] = {
        "data": {"app.conf": "a=1\n", "other": "x"},
        "binaryData": {"logo": base64.b64encode(b"\x89PNG").decode()},
    }
    pod = _pod(
        [
            {"name": "all", "configMap": {"name": "settings"}},
            {
                "name": "some",
                "configMap": {
                    "name": "settings",
                    "defaultMode": 0o600,
                    "items": [
                        {"key": "app.conf", "path": "conf/app.conf"},
                        {"key": "other", "path": "o", "mode": 0o755},
                    ],
                },
            },
        ]
    )
    await manager.setup(pod, pod_ip="10.42.0.7")
    all_dir = _vol(manager, "configMap", "all")
    assert str(all_dir).endswith("skiff-pods/uid-1/volumes/kubernetes.io~configmap/all")
    assert (all_dir / "app.conf").read_text() == "a=1\n"
    assert (all_dir / "logo").read_bytes() == b"\x89PNG"
    assert os.readlink(all_dir / "app.conf") == "..data/app.conf"
    data = os.readlink(all_dir / "..data")
    assert data.startswith("..") and (all_dir / data).is_dir() and not (all_dir / data).is_symlink()
    assert _mode(all_dir / "app.conf") == 0o644
    some = _vol(manager, "configMap", "some")
    assert sorted(os.listdir(some)) == sorted(["..data", data_name(some), "conf", "o"])
    assert (some / "conf" / "app.conf").read_text() == "a=1\n"
    assert _mode(some / "conf" / "app.conf") == 0o600
    assert _mode(some / "o") == 0o755


def data_name(directory: Path) -> str:
    return os.readlink(directory / "..data")


async def test_refresh_swaps_atomically_and_skips_unchanged(
    manager: VolumeManager, lookup: Lookup
) -> None:
    lookup.config_maps[("shop", "settings")] = {"data": {"a": "1", "b": "2"}}
    pod = _pod([{"name": "cfg", "configMap": {"name": "settings"}}])
    await manager.setup(pod, pod_ip="10.42.0.7")
    target = _vol(manager, "configMap", "cfg")
    first = data_name(target)
    await manager.refresh(pod)
    assert data_name(target) == first  # unchanged: nothing rewritten

    lookup.config_maps[("shop", "settings")] = {"data": {"a": "10", "c": "3"}}
    await manager.refresh(pod)
    second = data_name(target)
    assert second != first
    assert not (target / first).exists()  # the old generation is gone
    assert (target / "a").read_text() == "10"
    assert (target / "c").read_text() == "3"
    assert not _lexists(target / "b")
    assert sorted(os.listdir(target)) == sorted(["..data", second, "a", "c"])


def test_write_atomic_refuses_bad_paths(tmp_path: Path) -> None:
    for bad in ("../x", "/etc/passwd", "a/../../b", "..hidden"):
        with pytest.raises(VolumeError):
            write_atomic(tmp_path / "v", {bad: (b"", 0o644)})
    assert write_atomic(tmp_path / "v", {"ok": (b"1", 0o644)}) is True
    assert write_atomic(tmp_path / "v", {"ok": (b"1", 0o644)}) is False
    assert write_atomic(tmp_path / "v", {"ok": (b"1", 0o600)}) is True  # a mode change counts


async def test_secret_volume(manager: VolumeManager, lookup: Lookup, pods_dir: Path) -> None:
    lookup.secrets[("shop", "creds")] = {"data": {"password": base64.b64encode(b"s3cret").decode()}}
    pod = _pod([{"name": "creds", "secret": {"secretName": "creds"}}])
    await manager.setup(pod, pod_ip="10.42.0.7")
    target = _vol(manager, "secret", "creds")
    assert (target / "password").read_bytes() == b"s3cret"
    assert _mode(target / "password") == 0o644  # kubelet's default for secrets too
    if ROOT:
        assert _mounts_under(pods_dir) == [str(target)]  # kept off the disk
    await manager.teardown("uid-1")
    assert _mounts_under(pods_dir) == []
    assert not manager.pod_dir("uid-1").exists()


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        (
            {"configMap": {"name": "absent"}},
            'MountVolume.SetUp failed for volume "v" : configmap "absent" not found',
        ),
        (
            {"secret": {"secretName": "absent"}},
            'MountVolume.SetUp failed for volume "v" : secret "absent" not found',
        ),
        (
            {"configMap": {"name": "settings", "items": [{"key": "nope", "path": "n"}]}},
            'MountVolume.SetUp failed for volume "v" : '
            "configmap references non-existent config key: nope",
        ),
        (
            {"persistentVolumeClaim": {"claimName": "data"}},
            'MountVolume.SetUp failed for volume "v" : persistentvolumeclaim "data" not bound',
        ),
        (
            {"projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
            'MountVolume.SetUp failed for volume "v" : serviceAccountToken projection needs '
            "the TokenRequest API",
        ),
        ({"nfs": {"server": "x", "path": "/"}}, "volume type nfs is not supported"),
    ],
    ids=["cm", "secret", "key", "pvc", "token", "nfs"],
)
async def test_setup_errors(
    manager: VolumeManager, lookup: Lookup, volume: dict[str, Any], message: str
) -> None:
    lookup.config_maps[("shop", "settings")] = {"data": {"a": "1"}}
    with pytest.raises(VolumeError) as info:
        await manager.setup(_pod([{"name": "v", **volume}]), pod_ip="10.42.0.7")
    assert message in str(info.value)
    assert info.value.reason == "FailedMount" and info.value.volume == "v"


async def test_optional_sources(manager: VolumeManager, lookup: Lookup) -> None:
    lookup.config_maps[("shop", "settings")] = {"data": {"a": "1"}}
    pod = _pod(
        [
            {"name": "none", "configMap": {"name": "absent", "optional": True}},
            {
                "name": "keys",
                "configMap": {
                    "name": "settings",
                    "optional": True,
                    "items": [{"key": "a", "path": "a"}, {"key": "zz", "path": "zz"}],
                },
            },
        ]
    )
    await manager.setup(pod, pod_ip="10.42.0.7")
    assert [
        n for n in os.listdir(_vol(manager, "configMap", "none")) if not n.startswith("..")
    ] == []
    assert (_vol(manager, "configMap", "keys") / "a").read_text() == "1"
    assert not _lexists(_vol(manager, "configMap", "keys") / "zz")


async def test_downward_api_and_projected(manager: VolumeManager, lookup: Lookup) -> None:
    lookup.config_maps[("shop", "settings")] = {"data": {"a": "1"}}
    lookup.secrets[("shop", "creds")] = {"data": {"user": base64.b64encode(b"ann").decode()}}
    items = [
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
        {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}, "mode": 0o600},
        {
            "path": "cpu",
            "resourceFieldRef": {"containerName": "app", "resource": "limits.cpu", "divisor": "1m"},
        },
        {
            "path": "mem",
            "resourceFieldRef": {
                "containerName": "app",
                "resource": "limits.memory",
                "divisor": "1Mi",
            },
        },
    ]
    pod = _pod(
        [
            {"name": "info", "downwardAPI": {"items": items}},
            {
                "name": "all",
                "projected": {
                    "defaultMode": 0o640,
                    "sources": [
                        {"configMap": {"name": "settings"}},
                        {
                            "secret": {
                                "name": "creds",
                                "items": [{"key": "user", "path": "db/user"}],
                            }
                        },
                        {
                            "downwardAPI": {
                                "items": [
                                    {"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}
                                ]
                            }
                        },
                    ],
                },
            },
        ]
    )
    await manager.setup(pod, pod_ip="10.42.0.7")
    info = _vol(manager, "downwardAPI", "info")
    assert (info / "labels").read_text() == 'app="web"'
    assert (info / "name").read_text() == "web-1"
    assert _mode(info / "name") == 0o600
    assert (info / "cpu").read_text() == "500"
    assert (info / "mem").read_text() == "1024"  # unset limit: node allocatable
    proj = _vol(manager, "projected", "all")
    assert (proj / "a").read_text() == "1"
    assert (proj / "db" / "user").read_text() == "ann"
    assert (proj / "ns").read_text() == "shop"
    assert _mode(proj / "db" / "user") == 0o640

    pod["metadata"]["labels"] = {"app": "web", "track": "canary"}
    await manager.refresh(pod)
    assert (info / "labels").read_text() == 'app="web"\ntrack="canary"'


# ---- emptyDir and hostPath


async def test_empty_dir(manager: VolumeManager, pods_dir: Path) -> None:
    await manager.setup(_pod([{"name": "scratch", "emptyDir": {}}]), pod_ip="10.42.0.7")
    scratch = _vol(manager, "emptyDir", "scratch")
    assert scratch.is_dir() and _mode(scratch) == 0o777
    assert _mounts_under(pods_dir) == []


@pytest.mark.skipif(not ROOT, reason="mounting a tmpfs needs root")
async def test_memory_empty_dir_is_sized_tmpfs(manager: VolumeManager, pods_dir: Path) -> None:
    pod = _pod([{"name": "fast", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}}])
    await manager.setup(pod, pod_ip="10.42.0.7")
    await manager.setup(pod, pod_ip="10.42.0.7")  # idempotent: mounted once
    fast = _vol(manager, "emptyDir", "fast")
    assert _mounts_under(pods_dir) == [str(fast)]
    vfs = os.statvfs(fast)
    assert vfs.f_blocks * vfs.f_frsize == 8 * 1024 * 1024
    assert _mode(fast) == 0o777
    (fast / "f").write_text("x")
    await manager.teardown("uid-1")
    assert _mounts_under(pods_dir) == []
    assert not manager.pod_dir("uid-1").exists()


async def test_host_path_types(manager: VolumeManager, tmp_path: Path) -> None:
    made_dir = tmp_path / "made" / "dir"
    made_file = tmp_path / "made-file"
    sock_path = tmp_path / "s.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        pod = _pod(
            [
                {"name": "d", "hostPath": {"path": str(made_dir), "type": "DirectoryOrCreate"}},
                {"name": "f", "hostPath": {"path": str(made_file), "type": "FileOrCreate"}},
                {"name": "s", "hostPath": {"path": str(sock_path), "type": "Socket"}},
                {"name": "any", "hostPath": {"path": str(tmp_path / "whatever")}},
            ],
            {"name": "app", "volumeMounts": [{"name": "d", "mountPath": "/data"}]},
        )
        await manager.setup(pod, pod_ip="10.42.0.7")
        assert made_dir.is_dir() and made_file.is_file()
        assert not (tmp_path / "whatever").exists()
        assert Mount("/data", str(made_dir)) in manager.mounts(pod, pod["spec"]["containers"][0])
        for kind, path, what in [
            ("Directory", tmp_path / "nope", "is not a directory"),
            ("Directory", made_file, "is not a directory"),
            ("File", made_dir, "is not a file"),
            ("Socket", made_file, "is not a socket file"),
            ("CharDevice", made_file, "is not a character device"),
        ]:
            bad = _pod([{"name": "h", "hostPath": {"path": str(path), "type": kind}}])
            with pytest.raises(VolumeError, match=f"hostPath type check failed: {path} {what}"):
                await manager.setup(bad, pod_ip="10.42.0.7")
    finally:
        sock.close()


# ---- mounts and subPath


async def test_mounts_subpath_and_read_only(manager: VolumeManager, lookup: Lookup) -> None:
    lookup.config_maps[("shop", "settings")] = {"data": {"app.conf": "x"}}
    container = {
        "name": "app",
        "volumeMounts": [
            {"name": "scratch", "mountPath": "/work", "subPath": "one/two"},
            {"name": "scratch", "mountPath": "/per-pod", "subPathExpr": "$(POD)"},
            {"name": "scratch", "mountPath": "/ro", "readOnly": True},
            {"name": "cfg", "mountPath": "/etc/app.conf", "subPath": "app.conf"},
        ],
    }
    pod = _pod(
        [{"name": "scratch", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "settings"}}],
        container,
    )
    await manager.setup(pod, pod_ip="10.42.0.7")
    mounts = manager.mounts(pod, container, env={"POD": "web-1"})
    scratch = _vol(manager, "emptyDir", "scratch")
    cfg = _vol(manager, "configMap", "cfg")
    assert mounts[:4] == (
        Mount("/work", str(scratch / "one" / "two")),
        Mount("/per-pod", str(scratch / "web-1")),
        Mount("/ro", str(scratch), read_only=True),
        Mount("/etc/app.conf", str(cfg / "app.conf"), read_only=True),  # API data: always ro
    )
    assert (scratch / "one" / "two").is_dir() and (scratch / "web-1").is_dir()
    assert [m.destination for m in mounts[4:]] == [
        "/etc/hosts",
        "/etc/hostname",
        "/etc/resolv.conf",
        "/dev/termination-log",
    ]


@pytest.mark.parametrize(
    "sub", ["../escape", "a/../../escape", "/etc", "link/inside", "link"], ids=str
)
async def test_subpath_cannot_escape(manager: VolumeManager, tmp_path: Path, sub: str) -> None:
    container = {"name": "app", "volumeMounts": [{"name": "s", "mountPath": "/x", "subPath": sub}]}
    pod = _pod([{"name": "s", "emptyDir": {}}], container)
    await manager.setup(pod, pod_ip="10.42.0.7")
    outside = tmp_path / "outside"
    outside.mkdir()
    (_vol(manager, "emptyDir", "s") / "link").symlink_to(outside)
    with pytest.raises(ConfigError, match="subPath"):
        manager.mounts(pod, container)
    assert list(outside.iterdir()) == []


async def test_unknown_volume_in_mount(manager: VolumeManager) -> None:
    container = {"name": "app", "volumeMounts": [{"name": "ghost", "mountPath": "/g"}]}
    pod = _pod([], container)
    await manager.setup(pod, pod_ip="10.42.0.7")
    with pytest.raises(ConfigError, match='cannot find volume "ghost"'):
        manager.mounts(pod, container)


# ---- managed files


async def test_hosts_hostname_and_aliases(manager: VolumeManager) -> None:
    pod = _pod(
        [],
        hostname="api",
        subdomain="backends",
        hostAliases=[{"ip": "10.1.2.3", "hostnames": ["foo.local", "bar.local"]}],
    )
    pod["status"] = {"podIPs": [{"ip": "10.42.0.7"}]}
    await manager.setup(pod, pod_ip="10.42.0.7")
    pod_dir = manager.pod_dir("uid-1")
    hosts = (pod_dir / "etc-hosts").read_text().splitlines()
    assert "127.0.0.1\tlocalhost" in hosts
    assert "10.42.0.7\tapi.backends.shop.svc.cluster.local\tapi" in hosts
    assert hosts[-1] == "10.1.2.3\tfoo.local\tbar.local"
    assert (pod_dir / "etc-hostname").read_text() == "api\n"

    host_net = _pod([], hostNetwork=True)
    host_net["metadata"]["uid"] = "uid-2"
    await manager.setup(host_net, pod_ip="192.168.1.5")
    hosts2 = (manager.pod_dir("uid-2") / "etc-hosts").read_text()
    assert "192.168.1.5 buildhost" in hosts2
    assert (manager.pod_dir("uid-2") / "etc-hostname").read_text() == socket.gethostname() + "\n"


async def test_container_own_etc_hosts_wins(manager: VolumeManager) -> None:
    container = {
        "name": "app",
        "volumeMounts": [{"name": "h", "mountPath": "/etc/hosts", "subPath": "hosts"}],
    }
    pod = _pod([{"name": "h", "emptyDir": {}}], container)
    await manager.setup(pod, pod_ip="10.42.0.7")
    dests = [m.destination for m in manager.mounts(pod, container)]
    assert dests.count("/etc/hosts") == 1


HOST_RESOLV = "nameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch lan\noptions edns0 ndots:2\n"


@pytest.mark.parametrize(
    ("spec", "cluster_dns", "want"),
    [
        ({}, (), (("192.168.1.1", "192.168.1.2"), ("lan",), ("edns0", "ndots:2"))),
        (
            {},
            ("10.43.0.10",),
            (
                ("10.43.0.10",),
                ("shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "lan"),
                ("ndots:5",),
            ),
        ),
        (
            {"hostNetwork": True},
            ("10.43.0.10",),
            (("192.168.1.1", "192.168.1.2"), ("lan",), ("edns0", "ndots:2")),
        ),
        (
            {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet"},
            ("10.43.0.10",),
            (
                ("10.43.0.10",),
                ("shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "lan"),
                ("ndots:5",),
            ),
        ),
        (
            {
                "dnsPolicy": "None",
                "dnsConfig": {
                    "nameservers": ["1.1.1.1"],
                    "searches": ["corp"],
                    "options": [{"name": "ndots", "value": "1"}, {"name": "rotate"}],
                },
            },
            (),
            (("1.1.1.1",), ("corp",), ("ndots:1", "rotate")),
        ),
        (
            {"dnsPolicy": "Default", "dnsConfig": {"options": [{"name": "ndots", "value": "3"}]}},
            (),
            (("192.168.1.1", "192.168.1.2"), ("lan",), ("edns0", "ndots:3")),
        ),
    ],
    ids=[
        "cluster-first-fallback",
        "cluster-first",
        "host-net",
        "with-host-net",
        "none",
        "default-merge",
    ],
)
def test_dns_config(
    spec: dict[str, Any], cluster_dns: tuple[str, ...], want: tuple[Any, ...]
) -> None:
    pod = _pod([], **spec)
    got = dns_config(pod, host_resolv_conf=HOST_RESOLV, cluster_dns=cluster_dns)
    assert (got.nameservers, got.searches, got.options) == want


async def test_resolv_conf_file(manager: VolumeManager) -> None:
    pod = _pod([], dnsPolicy="None", dnsConfig={"nameservers": ["1.1.1.1"], "searches": ["corp"]})
    await manager.setup(pod, pod_ip="10.42.0.7")
    text = (manager.pod_dir("uid-1") / "resolv.conf").read_text()
    assert text == "search corp\nnameserver 1.1.1.1\n"


async def test_termination_message_file(manager: VolumeManager) -> None:
    container = {"name": "app", "terminationMessagePath": "/tmp/done"}
    pod = _pod([], container)
    await manager.setup(pod, pod_ip="10.42.0.7")
    mounts = manager.mounts(pod, container)
    path = manager.termination_message_file("uid-1", "app")
    assert Mount("/tmp/done", str(path)) in mounts
    assert _mode(path) == 0o666 and path.read_bytes() == b""
    path.write_text("finished badly")
    manager.mounts(pod, container)  # the next container starts with an empty file
    assert path.read_bytes() == b""


async def test_termination_message_file_per_attempt(manager: VolumeManager) -> None:
    container = {"name": "app"}
    pod = _pod([], container)
    await manager.setup(pod, pod_ip="10.42.0.7")

    def message(attempt: int) -> Path:
        return manager.termination_message_file("uid-1", "app", attempt=attempt)

    first = manager.mounts(pod, container, attempt=0)
    assert Mount("/dev/termination-log", str(message(0))) in first
    message(0).write_text("crashed: no config")
    manager.mounts(pod, container, attempt=1)
    # the predecessor's message survives its successor's start
    assert message(0).read_text() == "crashed: no config"
    assert message(1).read_bytes() == b""
    manager.mounts(pod, container, attempt=2)
    manager.mounts(pod, container, attempt=3)
    assert not message(0).exists() and not message(1).exists()
    assert message(2).exists() and message(3).exists()


async def test_teardown_removes_everything(manager: VolumeManager, lookup: Lookup) -> None:
    lookup.config_maps[("shop", "settings")] = {"data": {"a": "1"}}
    pod = _pod([{"name": "cfg", "configMap": {"name": "settings"}}, {"name": "e", "emptyDir": {}}])
    await manager.setup(pod, pod_ip="10.42.0.7")
    await manager.setup(pod, pod_ip="10.42.0.7")
    assert manager.pod_dir("uid-1").is_dir()
    await manager.teardown("uid-1")
    assert not manager.pod_dir("uid-1").exists()
    await manager.teardown("uid-1")  # again: nothing to do


@pytest.mark.skipif(not ROOT, reason="changing group ownership needs root")
async def test_fs_group_ownership(manager: VolumeManager, lookup: Lookup) -> None:
    lookup.secrets[("shop", "creds")] = {"data": {"key": base64.b64encode(b"k").decode()}}
    pod = _pod(
        [
            {"name": "creds", "secret": {"secretName": "creds", "defaultMode": 0o600}},
            {"name": "scratch", "emptyDir": {}},
        ],
        securityContext={"fsGroup": 4321},
    )
    await manager.setup(pod, pod_ip="10.42.0.7")
    key = _vol(manager, "secret", "creds") / "key"
    assert key.stat().st_gid == 4321
    assert _mode(key) == 0o640  # group-readable
    first = data_name(_vol(manager, "secret", "creds"))
    await manager.refresh(pod)
    assert data_name(_vol(manager, "secret", "creds")) == first  # ownership counts as unchanged
    scratch = _vol(manager, "emptyDir", "scratch")
    assert scratch.stat().st_gid == 4321
    assert _mode(scratch) == 0o2777
