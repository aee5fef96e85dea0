"""RuncRuntime against the host's runc (root only): real containers from a busybox root directory.

Covers: CRI log lines and exit codes/reasons (Completed, Error, OOMKilled from the memory cgroup,
create errors), graceful stop (SIGTERM honoured; SIGKILL after the grace period), exec_sync (output,
exit code, time limit), exec with a tty, attach with stdin, port-forward into the sandbox's own
network namespace, cgroup statistics, surviving a SIGKILLed agent (a new instance re-adopts the
running container, its log and exit code) and `cleanup` leaving no runc state, mount, namespace or
cgroup behind.

Image layers come from a stand-in for the image store (two plain directories stacked by
overlayfs); also a non-root user and a read-only root filesystem.

Excludes: the real image store and the pod network (loopback only).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from skiff.runtime.runc._linux import mounts_under
from skiff.runtime.runc.runtime import ROOTFS_ANNOTATION, RuncRuntime
from skiff.runtime.types import (
    ContainerConfig,
    ContainerRuntimeError,
    ContainerState,
    ContainerStatus,
    Mount,
    Resources,
    SandboxConfig,
    SecurityContext,
)
from skiff.testing.wait import eventually

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="runc containers need root"),
    pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed"),
    pytest.mark.skipif(not Path("/bin/busybox").exists(), reason="needs busybox-static"),
]

CRI_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) (F|P) (.*)$")


def make_busybox_rootfs(root: Path) -> Path:
    """A complete root filesystem: /bin/busybox plus one relative symlink per applet."""
    (root / "bin").mkdir(parents=True)
    shutil.copy2("/bin/busybox", root / "bin" / "busybox")
    applets = subprocess.run(
        ["/bin/busybox", "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    for name in applets:
        if name != "busybox":
            os.symlink("busybox", root / "bin" / name)
    for sub in ("proc", "dev", "sys", "tmp", "etc", "root"):
        (root / sub).mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    return root


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_busybox_rootfs(tmp_path_factory.mktemp("skiff-rootfs") / "rootfs")


def leftovers(rt: RuncRuntime, netns_paths: list[str]) -> list[str]:
    """What the runtime left on the host (should be nothing after cleanup)."""
    left: list[str] = []
    listed = subprocess.run(
        ["runc", "--root", str(rt.root), "list", "-q"], capture_output=True, text=True
    ).stdout.split()
    left += [f"runc container {c}" for c in listed]
    left += [f"mount {m}" for m in mounts_under(rt.state_dir)]
    mounted = Path("/proc/self/mountinfo").read_text()
    left += [f"netns {p}" for p in netns_paths if p in mounted or os.path.exists(p)]
    if rt.cgroups.exists(rt.cgroup_parent):
        left.append(f"cgroup {rt.cgroup_parent}")
    return left


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[RuncRuntime]:
    rt = RuncRuntime(
        tmp_path / "state", images=None, cgroup_parent=f"skiff-test-{uuid.uuid4().hex[:8]}"
    )
    await rt.start()
    try:
        yield rt
    finally:
        netns_paths = [s.netns_path for s in await rt.list_sandboxes() if s.netns_path]
        await rt.cleanup()
        assert leftovers(rt, netns_paths) == []


async def sandbox(rt: RuncRuntime, name: str = "pod", resources: Resources = Resources()) -> str:
    return await rt.run_sandbox(
        SandboxConfig(
            pod_uid=uuid.uuid4().hex,
            name=name,
            namespace="default",
            hostname=name,
            resources=resources,
        )
    )


def cconfig(rootfs: Path, tmp: Path, *argv: str, **kw: object) -> ContainerConfig:
    name = str(kw.pop("name", "c"))
    return ContainerConfig(
        name=name,
        image="busybox",
        image_id="",
        argv=argv,
        log_path=str(tmp / "logs" / name / "0.log"),
        annotations={ROOTFS_ANNOTATION: str(rootfs)},
        **kw,  # type: ignore[arg-type]
    )


async def run(rt: RuncRuntime, sid: str, config: ContainerConfig) -> str:
    cid = await rt.create_container(sid, config)
    await rt.start_container(cid)
    return cid


async def exited(rt: RuncRuntime, cid: str, within: float = 10.0) -> ContainerStatus:
    async def done() -> bool:
        return (await rt.container_status(cid)).state == ContainerState.EXITED

    await eventually(done, within=within, interval=0.02, what=f"container {cid} exited")
    return await rt.container_status(cid)


def exists(path: str) -> bool:
    return os.path.exists(path)


def log_records(path: str) -> list[tuple[str, str, str]]:
    records = []
    for line in Path(path).read_bytes().decode().split("\n")[:-1]:
        m = CRI_LINE.match(line)
        assert m, f"not a CRI log line: {line!r}"
        records.append((m[1], m[2], m[3]))
    return records


async def test_logs_exit_codes_and_reasons(
    runtime: RuncRuntime, rootfs: Path, tmp_path: Path
) -> None:
    sid = await sandbox(runtime, "logs")
    failing = cconfig(
        rootfs,
        tmp_path,
        "sh",
        "-c",
        "echo out; echo err >&2; hostname; printf partial; exit 3",
        name="failing",
    )
    cid = await run(runtime, sid, failing)
    status = await exited(runtime, cid)
    assert (status.exit_code, status.reason) == (3, "Error")
    assert status.started_at >= status.created_at > 0
    assert status.finished_at >= status.started_at
    records = log_records(failing.log_path)
    assert ("stdout", "F", "out") in records
    assert ("stderr", "F", "err") in records
    assert ("stdout", "F", "logs") in records  # the sandbox's hostname
    assert ("stdout", "F", "partial") in records
    ok = await run(runtime, sid, cconfig(rootfs, tmp_path, "true", name="ok"))
    status = await exited(runtime, ok)
    assert (status.exit_code, status.reason) == (0, "Completed")
    # the container's writes go to its own upper dir, never into the shared root directory
    writer = await run(runtime, sid, cconfig(rootfs, tmp_path, "touch", "/written", name="w"))
    assert (await exited(runtime, writer)).exit_code == 0
    assert not (rootfs / "written").exists()
    listed = {c.id: c for c in await runtime.list_containers(sid)}
    assert set(listed) == {cid, ok, writer}
    await runtime.remove_container(cid)
    assert not exists(failing.log_path)
    assert {c.id for c in await runtime.list_containers()} == {ok, writer}


class FakeImages:
    """A LayerSource: the busybox root as the bottom layer, and a second layer above it."""

    def __init__(self, layers: list[Path]) -> None:
        self.layers = layers

    def layer_dirs(self, image_id: str) -> list[Path]:
        assert image_id == "sha256:test"
        return self.layers


async def test_image_layers_user_and_readonly_rootfs(rootfs: Path, tmp_path: Path) -> None:
    top = tmp_path / "layer-top"
    (top / "etc").mkdir(parents=True)
    (top / "etc" / "motd").write_text("from the top layer\n")
    rt = RuncRuntime(
        tmp_path / "state",
        images=FakeImages([rootfs, top]),
        cgroup_parent=f"skiff-test-{uuid.uuid4().hex[:8]}",
    )
    await rt.start()
    try:
        sid = await sandbox(rt, "layers")
        config = ContainerConfig(
            name="c",
            image="test",
            image_id="sha256:test",
            argv=("sh", "-c", "cat /etc/motd; id -u; id -g; touch /x || echo read-only"),
            log_path=str(tmp_path / "logs" / "c.log"),
            security=SecurityContext(run_as_user=1000, run_as_group=1000, read_only_rootfs=True),
            mounts=(Mount("/data", str(tmp_path / "layer-top" / "etc"), read_only=True),),
        )
        cid = await run(rt, sid, config)
        assert (await exited(rt, cid)).exit_code == 0
        lines = [m for _, _, m in log_records(config.log_path)]
        assert lines[:3] == ["from the top layer", "1000", "1000"]
        assert "read-only" in lines
    finally:
        await rt.cleanup()
    assert leftovers(rt, []) == []


async def test_create_error(runtime: RuncRuntime, rootfs: Path, tmp_path: Path) -> None:
    sid = await sandbox(runtime)
    with pytest.raises(ContainerRuntimeError, match="no-such-binary") as info:
        await runtime.create_container(sid, cconfig(rootfs, tmp_path, "/no-such-binary"))
    assert info.value.reason == "CreateContainerError"
    assert await runtime.list_containers() == []
    assert list(runtime.containers_dir.iterdir()) == []


async def test_oom_killed(runtime: RuncRuntime, rootfs: Path, tmp_path: Path) -> None:
    sid = await sandbox(runtime, "oom")
    config = cconfig(
        rootfs,
        tmp_path,
        "sh",
        "-c",
        "x=0123456789abcdef; while :; do x=$x$x; done",
        resources=Resources(memory_limit_bytes=16 * 1024 * 1024),
    )
    cid = await run(runtime, sid, config)
    status = await exited(runtime, cid, within=20)
    assert (status.exit_code, status.reason) == (137, "OOMKilled")


async def test_stop_honours_grace_then_kills(
    runtime: RuncRuntime, rootfs: Path, tmp_path: Path
) -> None:
    sid = await sandbox(runtime, "stop")
    polite = cconfig(
        rootfs,
        tmp_path,
        "sh",
        "-c",
        'trap "echo bye; exit 0" TERM; echo ready; while :; do sleep 0.05; done',
        name="polite",
    )
    stubborn = cconfig(
        rootfs,
        tmp_path,
        "sh",
        "-c",
        'trap "" TERM; echo ready; while :; do sleep 0.05; done',
        name="stubborn",
    )
    p = await run(runtime, sid, polite)
    s = await run(runtime, sid, stubborn)
    for config in (polite, stubborn):
        await eventually(
            lambda c=config: (
                ("stdout", "F", "ready") in log_records(c.log_path)
                if Path(c.log_path).exists()
                else False
            ),
            what="ready",
        )
    started = time.monotonic()
    await runtime.stop_container(p, 10)
    assert time.monotonic() - started < 3
    status = await runtime.container_status(p)
    assert (status.state, status.exit_code, status.reason) == (
        ContainerState.EXITED,
        0,
        "Completed",
    )
    assert ("stdout", "F", "bye") in log_records(polite.log_path)
    started = time.monotonic()
    await runtime.stop_container(s, 1.0)
    took = time.monotonic() - started
    assert 1.0 <= took < 5, took
    status = await runtime.container_status(s)
    assert (status.exit_code, status.reason) == (137, "Error")
    await runtime.stop_container(s, 1.0)  # stopping an exited container is a no-op


async def test_exec_sync_and_tty_exec(runtime: RuncRuntime, rootfs: Path, tmp_path: Path) -> None:
    sid = await sandbox(runtime, "exec")
    cid = await run(runtime, sid, cconfig(rootfs, tmp_path, "sleep", "60"))
    result = await runtime.exec_sync(cid, ["sh", "-c", "echo $((6*7)); echo oops >&2; exit 4"])
    assert (result.exit_code, result.stdout, result.stderr) == (4, b"42\n", b"oops\n")
    assert not result.timed_out
    started = time.monotonic()
    slow = await runtime.exec_sync(cid, ["sleep", "30"], time_limit=0.3)
    assert slow.timed_out and time.monotonic() - started < 5

    session = await runtime.exec(cid, ["sh"], tty=True, stdin=True)
    try:
        await session.resize(100, 30)
        # runc sizes the container's terminal once it relays it: type after the prompt, as a user
        output = b""
        while b"# " not in output:
            chunk = await asyncio.wait_for(session.stdout.read(4096), 10)
            assert chunk, output
            output += chunk
        await session.write_stdin(b"tty; stty size; exit 5\n")
        while b"30 100" not in output:
            chunk = await asyncio.wait_for(session.stdout.read(4096), 10)
            assert chunk, output
            output += chunk
        assert b"/dev/pts/" in output
        assert await asyncio.wait_for(session.wait(), 10) == 5
    finally:
        await session.close()

    piped = await runtime.exec(
        cid, ["sh", "-c", "read x; echo got $x; exit 2"], tty=False, stdin=True
    )
    try:
        await piped.write_stdin(b"hello\n")
        await piped.close_stdin()
        assert await asyncio.wait_for(piped.stdout.read(), 10) == b"got hello\n"
        assert await asyncio.wait_for(piped.wait(), 10) == 2
    finally:
        await piped.close()


async def test_attach_with_stdin(runtime: RuncRuntime, rootfs: Path, tmp_path: Path) -> None:
    sid = await sandbox(runtime, "attach")
    config = cconfig(
        rootfs,
        tmp_path,
        "sh",
        "-c",
        "read line; echo got $line; exit 7",
        stdin=True,
        stdin_once=True,
    )
    cid = await run(runtime, sid, config)
    session = await runtime.attach(cid, tty=False, stdin=True)
    try:
        await session.write_stdin(b"hello\n")
        assert await asyncio.wait_for(session.stdout.readline(), 10) == b"got hello\n"
        assert await asyncio.wait_for(session.wait(), 10) == 7
    finally:
        await session.close()
    assert ("stdout", "F", "got hello") in log_records(config.log_path)


async def test_tty_container_attach(runtime: RuncRuntime, rootfs: Path, tmp_path: Path) -> None:
    sid = await sandbox(runtime, "tty")
    config = cconfig(rootfs, tmp_path, "sh", tty=True, stdin=True)
    cid = await run(runtime, sid, config)
    session = await runtime.attach(cid, tty=True, stdin=True)
    try:
        assert session.stderr is None
        await session.resize(120, 40)
        await session.write_stdin(b"tty; echo sum-$((1+1)); exit 3\n")
        output = b""
        while b"sum-2" not in output:
            chunk = await asyncio.wait_for(session.stdout.read(4096), 10)
            assert chunk, output
            output += chunk
        assert b"/dev/pts/0" in output
        assert await asyncio.wait_for(session.wait(), 10) == 3
    finally:
        await session.close()
    status = await exited(runtime, cid)
    assert (status.exit_code, status.reason) == (3, "Error")
    # a terminal has one stream: everything is logged as stdout
    assert {s for s, _, _ in log_records(config.log_path)} == {"stdout"}


async def test_port_forward_reaches_the_sandbox(
    runtime: RuncRuntime, rootfs: Path, tmp_path: Path
) -> None:
    sid = await sandbox(runtime, "web")
    script = "echo hello-from-pod > /tmp/index.html; exec httpd -f -p 127.0.0.1:18080 -h /tmp"
    cid = await run(runtime, sid, cconfig(rootfs, tmp_path, "sh", "-c", script))

    async def fetch() -> bytes:
        try:
            reader, writer = await runtime.port_forward(sid, 18080)
        except ContainerRuntimeError:
            return b""
        try:
            writer.write(b"GET /index.html HTTP/1.0\r\n\r\n")
            await writer.drain()
            return await asyncio.wait_for(reader.read(), 5)
        finally:
            writer.close()
            await writer.wait_closed()

    body = b""

    async def served() -> bool:
        nonlocal body
        body = await fetch()
        return b"hello-from-pod" in body

    await eventually(served, within=10, what="httpd answering in the sandbox")
    # the server lives in the sandbox's namespace only, not on the host's loopback
    with pytest.raises(OSError):
        _, w = await asyncio.open_connection("127.0.0.1", 18080)
        w.close()
    assert (await runtime.container_status(cid)).state == ContainerState.RUNNING


async def test_stats(runtime: RuncRuntime, rootfs: Path, tmp_path: Path) -> None:
    sid = await sandbox(runtime, "stats")
    cid = await run(
        runtime,
        sid,
        cconfig(
            rootfs,
            tmp_path,
            "sh",
            "-c",
            "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 60",
        ),
    )

    async def busy() -> object:
        stats = await runtime.container_stats(cid)
        return (
            stats is not None and stats.cpu_usage_ns > 10_000_000 and stats.memory_usage_bytes > 0
        )

    await eventually(busy, within=10, what="cpu and memory usage")
    stats = await runtime.container_stats(cid)
    assert stats is not None
    assert 0 < stats.memory_working_set_bytes <= stats.memory_usage_bytes


AGENT = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    from skiff.runtime.runc.runtime import ROOTFS_ANNOTATION, RuncRuntime
    from skiff.runtime.types import ContainerConfig, SandboxConfig

    async def main() -> None:
        state, rootfs, log, parent = sys.argv[1:5]
        rt = RuncRuntime(Path(state), images=None, cgroup_parent=parent)
        await rt.start()
        sid = await rt.run_sandbox(SandboxConfig(pod_uid="u", name="p", namespace="default"))
        cid = await rt.create_container(sid, ContainerConfig(
            name="ticker", image="busybox", image_id="", log_path=log,
            argv=("sh", "-c", "trap 'echo stopping; exit 9' TERM; i=0; "
                  "while :; do echo tick $i; i=$((i+1)); sleep 0.05; done"),
            annotations={ROOTFS_ANNOTATION: rootfs}))
        await rt.start_container(cid)
        print(json.dumps({"sandbox": sid, "container": cid}), flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


async def test_agent_sigkill_keeps_container(
    runtime: RuncRuntime, rootfs: Path, tmp_path: Path
) -> None:
    script = tmp_path / "agent.py"
    script.write_text(AGENT)
    log = tmp_path / "logs" / "ticker" / "0.log"
    agent = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        str(runtime.state_dir),
        str(rootfs),
        str(log),
        runtime.cgroup_parent,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert agent.stdout is not None
        ids = json.loads(await asyncio.wait_for(agent.stdout.readline(), 30))
    finally:
        if agent.returncode is None:
            os.kill(agent.pid, signal.SIGKILL)
        await agent.wait()
    cid = ids["container"]

    def ticks() -> int:
        return sum(1 for s, _, m in log_records(str(log)) if s == "stdout" and m.startswith("tick"))

    # a new runtime over the same state dir finds the container still running and logging
    fresh = RuncRuntime(runtime.state_dir, images=None, cgroup_parent=runtime.cgroup_parent)
    await fresh.start()
    status = await fresh.container_status(cid)
    assert status.state == ContainerState.RUNNING
    assert [s.id for s in await fresh.list_sandboxes()] == [ids["sandbox"]]
    seen = ticks()
    await eventually(lambda: ticks() > seen + 3, what="the container keeps logging")
    await fresh.stop_container(cid, 5)
    status = await fresh.container_status(cid)
    assert (status.exit_code, status.reason) == (9, "Error")
    assert ("stdout", "F", "stopping") in log_records(str(log))
    # the fixture's runtime cleans up what the agent made (cleanup reloads the state dir)


async def test_cleanup_removes_everything(
    runtime: RuncRuntime, rootfs: Path, tmp_path: Path
) -> None:
    # pod-level limits: the pod cgroup is made first, the containers' nest inside it
    pod_limits = Resources(memory_limit_bytes=128 << 20, cpu_shares=512)
    sids = [await sandbox(runtime, f"p{i}", pod_limits) for i in range(2)]
    for i, sid in enumerate(sids):
        await run(
            runtime,
            sid,
            cconfig(
                rootfs,
                tmp_path,
                "sleep",
                "60",
                name=f"c{i}",
                resources=Resources(memory_limit_bytes=64 << 20, cpu_shares=256, pids_limit=50),
            ),
        )
    netns_paths = [s.netns_path for s in await runtime.list_sandboxes()]
    assert all(exists(p) for p in netns_paths)
    assert runtime.cgroups.exists(runtime.cgroup_parent)
    if runtime.cgroups.version == 1:
        pod_dir = runtime.cgroups.mounts["memory"] / runtime.cgroup_parent / f"pod-{sids[0]}"
        assert int((pod_dir / "memory.limit_in_bytes").read_text()) == 128 << 20
        assert len([p for p in pod_dir.iterdir() if p.is_dir()]) == 1  # the container's
    assert mounts_under(runtime.state_dir)
    assert len(await runtime.runc_list()) == 2
    await runtime.cleanup()
    assert leftovers(runtime, netns_paths) == []
    assert await runtime.list_containers() == []


async def test_lost_shim_container_still_stoppable(
    runtime: RuncRuntime, rootfs: Path, tmp_path: Path
) -> None:
    sid = await sandbox(runtime, "orphan")
    cid = await run(runtime, sid, cconfig(rootfs, tmp_path, "sleep", "60"))
    shim_pid = int((runtime.containers_dir / cid / "shim.pid").read_text())
    os.kill(shim_pid, signal.SIGKILL)
    await eventually(lambda: not runtime._shim_alive(cid), what="the shim is gone")
    status = await runtime.container_status(cid)
    assert status.state == ContainerState.RUNNING and status.pid > 0
    await runtime.stop_container(cid, 0)
    status = await runtime.container_status(cid)
    assert (status.state, status.exit_code) == (ContainerState.EXITED, 255)
    await runtime.remove_container(cid)
    assert await runtime.runc_list() == []
