"""ProcessRuntime: the container lifecycle for plain host processes (no root needed).

Covers: the warning it gives at construction, CRI log lines and exit codes/reasons, a command that
cannot start, graceful stop (the stop signal honoured, SIGKILL after the grace period, the whole process
group), exec_sync (output, exit code, time limit), exec with a tty and with piped stdin, attach,
port-forward to a host port, stats from /proc, re-adoption by a new instance after the agent
process was SIGKILLed (the shim keeps the process, its log and its exit code), the shim server
(shims forked by it, restarted when killed, shims started on their own without it) and exit
notifications to listeners (what the PLEG relists on).

Excludes: isolation of any kind (there is none by design).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from skiff.runtime.process import WARNING, ProcessRuntime
from skiff.runtime.runc.common import SHIM_SERVER_PID, STOP_SIGNAL_ANNOTATION
from skiff.runtime.types import (
    ContainerConfig,
    ContainerRuntimeError,
    ContainerState,
    ContainerStatus,
    SandboxConfig,
)
from skiff.testing.wait import eventually

CRI_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) (F|P) (.*)$")


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[ProcessRuntime]:
    rt = ProcessRuntime(tmp_path / "state")
    await rt.start()
    try:
        yield rt
    finally:
        pids = [c.pid for c in await rt.list_containers() if c.pid]
        await rt.cleanup()
        for pid in pids:
            assert not alive(pid), f"process {pid} survived cleanup"


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def cconfig(tmp: Path, *argv: str, **kw: object) -> ContainerConfig:
    name = str(kw.pop("name", "c"))
    return ContainerConfig(
        name=name,
        image="",
        image_id="",
        argv=argv,
        log_path=str(tmp / "logs" / name / "0.log"),
        **kw,  # type: ignore[arg-type]
    )


async def sandbox(rt: ProcessRuntime) -> str:
    return await rt.run_sandbox(SandboxConfig(pod_uid=uuid.uuid4().hex, name="p", namespace="ns"))


async def run(rt: ProcessRuntime, sid: str, config: ContainerConfig) -> str:
    cid = await rt.create_container(sid, config)
    assert (await rt.container_status(cid)).state == ContainerState.CREATED
    await rt.start_container(cid)
    return cid


async def exited(rt: ProcessRuntime, cid: str, within: float = 10.0) -> ContainerStatus:
    async def done() -> bool:
        return (await rt.container_status(cid)).state == ContainerState.EXITED

    await eventually(done, within=within, interval=0.02, what=f"container {cid} exited")
    return await rt.container_status(cid)


def log_records(path: str) -> list[tuple[str, str, str]]:
    if not os.path.exists(path):
        return []
    records = []
    for line in Path(path).read_bytes().decode().split("\n")[:-1]:
        m = CRI_LINE.match(line)
        assert m, f"not a CRI log line: {line!r}"
        records.append((m[1], m[2], m[3]))
    return records


def test_warns_at_construction(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="skiff.runtime.process"):
        rt = ProcessRuntime(tmp_path)
    assert rt.warning == WARNING
    assert "no isolation" in caplog.text


async def test_logs_exit_codes_and_reasons(runtime: ProcessRuntime, tmp_path: Path) -> None:
    sid = await sandbox(runtime)
    failing = cconfig(
        tmp_path,
        "sh",
        "-c",
        'echo out; echo err >&2; echo "$GREETING"; pwd; exit 3',
        env=(("GREETING", "hi there"),),
        working_dir=str(tmp_path),
        name="failing",
    )
    cid = await run(runtime, sid, failing)
    status = await exited(runtime, cid)
    assert (status.exit_code, status.reason) == (3, "Error")
    records = log_records(failing.log_path)
    assert ("stdout", "F", "out") in records
    assert ("stderr", "F", "err") in records
    assert ("stdout", "F", "hi there") in records
    assert ("stdout", "F", str(tmp_path)) in records
    ok = await run(runtime, sid, cconfig(tmp_path, "true", name="ok"))
    assert (await exited(runtime, ok)).reason == "Completed"
    status = await runtime.sandbox_status(sid)
    assert status.netns_path == ""


async def test_command_that_cannot_start(runtime: ProcessRuntime, tmp_path: Path) -> None:
    sid = await sandbox(runtime)
    cid = await runtime.create_container(sid, cconfig(tmp_path, "/no/such/program"))
    with pytest.raises(ContainerRuntimeError, match="no/such/program") as info:
        await runtime.start_container(cid)
    assert info.value.reason == "RunContainerError"
    status = await exited(runtime, cid)
    assert (status.exit_code, status.reason) == (128, "ContainerCannotRun")


async def test_stop_grace_then_kill(runtime: ProcessRuntime, tmp_path: Path) -> None:
    sid = await sandbox(runtime)
    # the image's stop signal (here QUIT) replaces SIGTERM
    polite = cconfig(
        tmp_path,
        "sh",
        "-c",
        'trap "echo bye; exit 0" QUIT; echo ready; while :; do sleep 0.05; done',
        name="polite",
        annotations={STOP_SIGNAL_ANNOTATION: "SIGQUIT"},
    )
    stubborn = cconfig(
        tmp_path,
        "sh",
        "-c",
        'trap "" TERM; echo ready; while :; do sleep 0.05; done',
        name="stubborn",
    )
    p = await run(runtime, sid, polite)
    s = await run(runtime, sid, stubborn)
    for c in (polite, stubborn):
        await eventually(lambda c=c: ("stdout", "F", "ready") in log_records(c.log_path))
    started = time.monotonic()
    await runtime.stop_container(p, 10)
    assert time.monotonic() - started < 3
    assert (await runtime.container_status(p)).reason == "Completed"
    assert ("stdout", "F", "bye") in log_records(polite.log_path)
    pid = (await runtime.container_status(s)).pid
    started = time.monotonic()
    await runtime.stop_container(s, 1.0)
    assert 1.0 <= time.monotonic() - started < 5
    status = await runtime.container_status(s)
    assert (status.exit_code, status.reason) == (137, "Error")
    assert not alive(pid)


async def test_exec_and_attach(runtime: ProcessRuntime, tmp_path: Path) -> None:
    sid = await sandbox(runtime)
    config = cconfig(
        tmp_path, "sh", "-c", "read line; echo got $line; sleep 60", stdin=True, name="main"
    )
    cid = await run(runtime, sid, config)
    result = await runtime.exec_sync(cid, ["sh", "-c", "echo $((6*7)); echo oops >&2; exit 4"])
    assert (result.exit_code, result.stdout, result.stderr) == (4, b"42\n", b"oops\n")
    slow = await runtime.exec_sync(cid, ["sleep", "30"], time_limit=0.3)
    assert slow.timed_out

    session = await runtime.exec(cid, ["sh"], tty=True, stdin=True)
    try:
        await session.write_stdin(b"tty; exit 5\n")
        output = b""
        while b"/dev/pts/" not in output:
            chunk = await asyncio.wait_for(session.stdout.read(4096), 10)
            assert chunk, output
            output += chunk
        assert await asyncio.wait_for(session.wait(), 10) == 5
    finally:
        await session.close()

    attached = await runtime.attach(cid, tty=False, stdin=True)
    try:
        await attached.write_stdin(b"hello\n")
        assert await asyncio.wait_for(attached.stdout.readline(), 10) == b"got hello\n"
    finally:
        await attached.close()
    await runtime.stop_container(cid, 0)
    assert (await runtime.container_status(cid)).exit_code == 137


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_port_forward_and_stats(runtime: ProcessRuntime, tmp_path: Path) -> None:
    sid = await sandbox(runtime)
    port = free_port()
    server = textwrap.dedent(
        f"""
        import socket
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", {port})); s.listen()
        print("listening", flush=True)
        x = bytearray(8 << 20)
        while True:
            c, _ = s.accept(); c.sendall(b"pong:" + c.recv(100)); c.close()
        """
    )
    config = cconfig(tmp_path, sys.executable, "-c", server)
    cid = await run(runtime, sid, config)
    await eventually(lambda: ("stdout", "F", "listening") in log_records(config.log_path))
    reader, writer = await runtime.port_forward(sid, port)
    try:
        writer.write(b"ping")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 5) == b"pong:ping"
    finally:
        writer.close()
        await writer.wait_closed()
    stats = await runtime.container_stats(cid)
    assert stats is not None
    assert stats.memory_usage_bytes > 8 << 20
    assert stats.cpu_usage_ns > 0


AGENT = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    from skiff.runtime.process import ProcessRuntime
    from skiff.runtime.types import ContainerConfig, SandboxConfig

    async def main() -> None:
        state, log = sys.argv[1:3]
        rt = ProcessRuntime(Path(state))
        await rt.start()
        sid = await rt.run_sandbox(SandboxConfig(pod_uid="u", name="p", namespace="default"))
        cid = await rt.create_container(sid, ContainerConfig(
            name="ticker", image="", image_id="", log_path=log,
            argv=("sh", "-c", "trap 'echo stopping; exit 9' TERM; i=0; "
                  "while :; do echo tick $i; i=$((i+1)); sleep 0.05; done")))
        await rt.start_container(cid)
        print(json.dumps({"sandbox": sid, "container": cid}), flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


async def test_agent_sigkill_keeps_process(runtime: ProcessRuntime, tmp_path: Path) -> None:
    script = tmp_path / "agent.py"
    script.write_text(AGENT)
    log = tmp_path / "logs" / "ticker" / "0.log"
    agent = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        str(runtime.state_dir),
        str(log),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
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

    fresh = ProcessRuntime(runtime.state_dir)
    await fresh.start()
    assert (await fresh.container_status(cid)).state == ContainerState.RUNNING
    seen = ticks()
    await eventually(lambda: ticks() > seen + 3, what="the process keeps logging")
    await fresh.stop_container(cid, 5)
    status = await fresh.container_status(cid)
    assert (status.exit_code, status.reason) == (9, "Error")
    # a third instance still sees the exit code
    third = ProcessRuntime(runtime.state_dir)
    await third.start()
    assert (await third.container_status(cid)).exit_code == 9


async def test_exit_notification(runtime: ProcessRuntime, tmp_path: Path) -> None:
    """A shim tells the runtime that its container exited as soon as the exit is recorded (the
    PLEG's cue to relist at once)."""
    recorded: list[bool] = []
    sid = await sandbox(runtime)
    cid = await runtime.create_container(sid, cconfig(tmp_path, "sh", "-c", "exit 4"))
    exit_file = runtime.containers_dir / cid / "exit.json"
    runtime.add_listener(lambda: recorded.append(exit_file.exists()))
    await runtime.start_container(cid)
    await eventually(lambda: recorded, what="an exit notification")
    assert recorded[0] is True  # the exit record is written before the notification
    assert (await runtime.container_status(cid)).exit_code == 4


async def test_shim_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Shims are forked by one shim server; a server that was killed is started again by the next
    create, and with no server at all a shim is started on its own. A listener added before
    `start` hears exits too."""
    rt = ProcessRuntime(tmp_path / "state")
    exits: list[int] = []
    rt.add_listener(lambda: exits.append(1))
    await rt.start()
    try:
        sid = await sandbox(rt)

        def shim_cmdline(cid: str) -> bytes:
            pid = int((rt.containers_dir / cid / "shim.pid").read_text())
            return Path(f"/proc/{pid}/cmdline").read_bytes()

        first = await rt.create_container(sid, cconfig(tmp_path, "sleep", "30", name="a"))
        server = int((rt.state_dir / SHIM_SERVER_PID).read_text())
        assert b"--server" in shim_cmdline(first)  # forked by the server
        os.kill(server, signal.SIGKILL)
        await eventually(lambda: not alive(server), what="the shim server is gone")
        second = await rt.create_container(sid, cconfig(tmp_path, "sleep", "30", name="b"))
        assert int((rt.state_dir / SHIM_SERVER_PID).read_text()) != server

        async def no_server() -> None:
            return None

        monkeypatch.setattr(rt, "_server_socket", no_server)
        third = await rt.create_container(sid, cconfig(tmp_path, "sh", "-c", "exit 0", name="c"))
        assert str(rt.containers_dir / third).encode() in shim_cmdline(third)  # its own
        for cid in (first, second, third):
            await rt.start_container(cid)
        for cid in (first, second):
            assert (await rt.container_status(cid)).state == ContainerState.RUNNING
        await eventually(lambda: exits, what="the exit of the third container heard")
        assert (await rt.container_status(third)).reason == "Completed"
    finally:
        await rt.cleanup()
        await rt.close()
