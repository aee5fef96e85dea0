"""Pure parts of the runc runtime, no root needed: the shim's CRI log writer (line format, partial
lines, rotation), config records surviving a JSON round trip, and the OCI spec builder
(capabilities, resources, namespaces joined by path, mounts, privileged containers), and unix
socket paths longer than sun_path allows.

Excludes: running anything (tests/runtime/test_runc.py does that as root).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import socket
from pathlib import Path

import pytest

from skiff.runtime.runc._linux import unix_path
from skiff.runtime.runc.common import container_config_from_dict, sandbox_config_from_dict
from skiff.runtime.runc.oci import (
    ALL_CAPABILITIES,
    DEFAULT_CAPABILITIES,
    NamespacePaths,
    capabilities,
    container_spec,
)
from skiff.runtime.runc.runtime import unavailable_reason
from skiff.runtime.runc.shim import CriLogWriter, rfc3339_nano
from skiff.runtime.types import (
    ContainerConfig,
    DNSConfig,
    Mount,
    Resources,
    SandboxConfig,
    SecurityContext,
)

LINE = re.compile(r"^(\S+) (stdout|stderr) (F|P) (.*)$")


def records(path: Path) -> list[tuple[str, str, str]]:
    out = []
    for line in path.read_bytes().decode().split("\n")[:-1]:
        m = LINE.match(line)
        assert m, line
        out.append((m[2], m[3], m[4]))
    return out


def test_timestamp_has_nine_fraction_digits() -> None:
    assert rfc3339_nano(1_796_586_069_000_000_007) == "2026-12-06T19:41:09.000000007Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", rfc3339_nano())


def test_log_lines_partial_and_interleaved(tmp_path: Path) -> None:
    log = tmp_path / "c" / "0.log"
    w = CriLogWriter(str(log))
    w.write("stdout", b"hel")
    w.write("stderr", b"oops\n")
    w.write("stdout", b"lo\nwor")
    w.write("stdout", b"ld\n" + b"x" * (16 * 1024 + 5) + b"\n")
    w.write("stdout", b"crlf\r\nbare\rcr\n")
    w.write("stdout", b"tail without newline")
    w.close()
    assert records(log) == [
        ("stderr", "F", "oops"),
        ("stdout", "F", "hello"),
        ("stdout", "F", "world"),
        ("stdout", "P", "x" * 16 * 1024),
        ("stdout", "F", "xxxxx"),
        ("stdout", "F", "crlf"),
        ("stdout", "F", "bare\rcr"),
        ("stdout", "F", "tail without newline"),
    ]


def test_log_rotation_keeps_max_files(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    w = CriLogWriter(str(log), max_bytes=200, max_files=3)
    for i in range(40):
        w.write("stdout", f"line {i:02d}\n".encode())
    w.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["0.log", "0.log.1", "0.log.2"]
    for p in tmp_path.iterdir():
        assert p.stat().st_size <= 200
    # newest lines in the live file, older ones in .1, then .2; nothing duplicated
    live = [m for _, _, m in records(log)]
    one = [m for _, _, m in records(tmp_path / "0.log.1")]
    two = [m for _, _, m in records(tmp_path / "0.log.2")]
    assert live[-1] == "line 39"
    assert two + one + live == [f"line {i:02d}" for i in range(40 - len(two + one + live), 40)]


def test_configs_round_trip_through_json() -> None:
    container = ContainerConfig(
        name="c",
        image="busybox",
        image_id="sha256:x",
        argv=("sh", "-c", "true"),
        env=(("A", "1"), ("B", "2")),
        mounts=(Mount("/data", "/host", read_only=True, options=("nodev",)),),
        resources=Resources(cpu_shares=512, memory_limit_bytes=1 << 20),
        security=SecurityContext(run_as_user=1000, capabilities_add=("NET_ADMIN",)),
        labels={"io.kubernetes.pod.uid": "u"},
    )
    data = json.loads(json.dumps(dataclasses.asdict(container)))
    assert container_config_from_dict(data) == container
    sandbox = SandboxConfig(
        pod_uid="u", name="p", namespace="ns", dns=DNSConfig(nameservers=("10.43.0.10",))
    )
    assert sandbox_config_from_dict(json.loads(json.dumps(dataclasses.asdict(sandbox)))) == sandbox


@pytest.mark.parametrize(
    ("security", "expected"),
    [
        (SecurityContext(), {f"CAP_{c}" for c in DEFAULT_CAPABILITIES}),
        (
            SecurityContext(capabilities_drop=("ALL",), capabilities_add=("NET_BIND_SERVICE",)),
            {"CAP_NET_BIND_SERVICE"},
        ),
        (
            SecurityContext(capabilities_drop=("KILL",), capabilities_add=("CAP_NET_ADMIN",)),
            {f"CAP_{c}" for c in DEFAULT_CAPABILITIES if c != "KILL"} | {"CAP_NET_ADMIN"},
        ),
        (SecurityContext(privileged=True), {f"CAP_{c}" for c in ALL_CAPABILITIES}),
    ],
    ids=["default", "drop-all-add-one", "drop-one-add-one", "privileged"],
)
def test_capabilities(security: SecurityContext, expected: set[str]) -> None:
    assert set(capabilities(security)) == expected


def test_container_spec() -> None:
    config = ContainerConfig(
        name="c",
        image="busybox",
        image_id="",
        argv=("httpd", "-f"),
        env=(("PATH", "/bin"), ("X", "1")),
        working_dir="/srv",
        mounts=(Mount("/data", "/host/data", read_only=True), Mount("/scratch", type="tmpfs")),
        resources=Resources(
            cpu_shares=256, cpu_quota_us=50_000, memory_limit_bytes=64 << 20, pids_limit=100
        ),
        security=SecurityContext(
            run_as_user=1000,
            run_as_group=2000,
            supplemental_groups=(3000,),
            read_only_rootfs=True,
            allow_privilege_escalation=False,
        ),
    )
    spec = container_spec(
        config,
        rootfs="/r",
        cgroups_path="/skiff/n/pod-1/c1",
        namespaces=NamespacePaths(network="/run/netns/skiff-1", uts="/s/uts", ipc="/s/ipc"),
        hostname="pod",
    )
    p = spec["process"]
    assert p["args"] == ["httpd", "-f"]
    assert "PATH=/bin" in p["env"] and "X=1" in p["env"] and "HOSTNAME=pod" in p["env"]
    assert p["cwd"] == "/srv"
    assert p["user"] == {"uid": 1000, "gid": 2000, "additionalGids": [3000]}
    assert p["noNewPrivileges"] is True
    assert spec["root"] == {"path": "/r", "readonly": True}
    # the pod's UTS namespace already carries the hostname: none set per container
    assert "hostname" not in spec
    ns = {n["type"]: n.get("path") for n in spec["linux"]["namespaces"]}
    assert ns == {
        "mount": None,
        "pid": None,
        "network": "/run/netns/skiff-1",
        "uts": "/s/uts",
        "ipc": "/s/ipc",
    }
    res = spec["linux"]["resources"]
    assert res["cpu"] == {"shares": 256, "quota": 50_000, "period": 100_000}
    assert res["memory"] == {"limit": 64 << 20}
    assert res["pids"] == {"limit": 100}
    assert spec["linux"]["cgroupsPath"] == "/skiff/n/pod-1/c1"
    mounts = {m["destination"]: m for m in spec["mounts"]}
    assert {"/proc", "/dev", "/dev/pts", "/dev/shm", "/sys"} <= set(mounts)
    assert mounts["/data"]["source"] == "/host/data" and "ro" in mounts["/data"]["options"]
    assert mounts["/scratch"]["type"] == "tmpfs"
    assert "/proc/kcore" in spec["linux"]["maskedPaths"]


def test_privileged_and_host_namespaces() -> None:
    config = ContainerConfig(
        name="c",
        image="x",
        image_id="",
        argv=("sh",),
        security=SecurityContext(privileged=True),
    )
    spec = container_spec(
        config,
        rootfs="/r",
        cgroups_path="/c",
        namespaces=NamespacePaths(network=None, uts="", ipc=None, pid=None),
        hostname="h",
    )
    assert {n["type"] for n in spec["linux"]["namespaces"]} == {"mount", "uts"}
    assert spec["hostname"] == "h"
    assert spec["linux"]["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    assert "maskedPaths" not in spec["linux"]
    sysfs = next(m for m in spec["mounts"] if m["destination"] == "/sys")
    assert "rw" in sysfs["options"]


def test_unix_path_beyond_sun_path(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    target = deep / "shim.sock"
    assert len(str(target)) > 108
    with socket.socket(socket.AF_UNIX) as server:
        with unix_path(target) as name:
            assert len(name) < 108
            server.bind(name)
        server.listen(1)
        with socket.socket(socket.AF_UNIX) as client:
            with unix_path(target) as name:
                client.connect(name)
            conn, _ = server.accept()
            with conn:
                client.sendall(b"x")
                assert conn.recv(1) == b"x"
    assert target.exists()


def test_unavailable_reason() -> None:
    if os.geteuid() != 0:
        assert unavailable_reason() == "the runc runtime needs root"
        return
    assert "is not installed" in str(unavailable_reason("skiff-no-such-runc"))
    if shutil.which("runc"):
        assert unavailable_reason() is None
