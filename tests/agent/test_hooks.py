"""`skiff.agent.hooks.run_handler`: lifecycle hook handlers (postStart / preStop).

Covers exec (real subprocesses through a runtime double: success, non-zero exit with output,
time limit), httpGet against a real server on 127.0.0.1 (a response of any status is success, no
response is an error, named ports), the sleep action on a FakeClock (finishing, and cut short by
the time limit), and the unsupported tcpSocket handler. When the agent runs hooks is the core's
part, not covered here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from skiff.agent.hooks import run_handler
from skiff.runtime.types import ExecResult
from skiff.testing.clock import FakeClock


class SubprocessRuntime:
    name = "double"
    version = "double://0"

    async def exec_sync(
        self, container_id: str, argv: list[str], time_limit: float | None = None
    ) -> ExecResult:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        try:
            async with asyncio.timeout(time_limit):
                out, _ = await proc.communicate()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return ExecResult(exit_code=-1, timed_out=True)
        assert proc.returncode is not None
        return ExecResult(exit_code=proc.returncode, stdout=out)


async def _run(handler: dict[str, Any], *, time_limit: float = 5.0, **kw: Any) -> str | None:
    return await run_handler(
        handler,
        runtime=SubprocessRuntime(),  # type: ignore[arg-type]
        container_id="c1",
        pod_ip="127.0.0.1",
        container_ports=kw.pop("container_ports", {}),
        time_limit=time_limit,
        **kw,
    )


async def test_exec_hook() -> None:
    assert await _run({"exec": {"command": ["true"]}}) is None
    error = await _run({"exec": {"command": ["sh", "-c", "echo cannot start; exit 2"]}})
    assert error is not None
    assert "exited with 2" in error and "cannot start" in error
    timed_out = await _run({"exec": {"command": ["sleep", "30"]}}, time_limit=0.5)
    assert timed_out is not None and "timed out" in timed_out


@pytest.fixture
async def http_port() -> AsyncIterator[tuple[int, list[bytes]]]:
    requests: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        requests.append(head)
        status = b"500 Internal Server Error" if b"/broken" in head else b"200 OK"
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], requests
    finally:
        server.close()
        await server.wait_closed()


async def test_http_hook(http_port: tuple[int, list[bytes]]) -> None:
    port, requests = http_port
    assert await _run({"httpGet": {"path": "/stop", "port": port}}) is None
    assert requests[0].startswith(b"GET /stop HTTP/1.1")
    assert b"kube-lifecycle/" in requests[0]
    # kubelet does not look at a hook's status code
    assert (
        await _run({"httpGet": {"path": "/broken", "port": "http"}}, container_ports={"http": port})
        is None
    )
    assert len(requests) == 2


async def test_http_hook_without_server() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    error = await _run({"httpGet": {"path": "/stop", "port": port}})
    assert error is not None and error.startswith("HTTP lifecycle hook (/stop) failed")


async def test_sleep_hook_on_clock() -> None:
    clock = FakeClock()
    task = asyncio.create_task(_run({"sleep": {"seconds": 5}}, time_limit=30, clock=clock))
    await clock.wait_sleepers(1)
    clock.advance(4)
    await asyncio.sleep(0)
    assert not task.done()
    clock.advance(1)
    assert await task is None

    cut = asyncio.create_task(_run({"sleep": {"seconds": 60}}, time_limit=2, clock=clock))
    await clock.wait_sleepers(1)
    clock.advance(2)
    assert await cut == "container terminated before sleep hook finished"


async def test_unsupported_handlers() -> None:
    tcp = await _run({"tcpSocket": {"port": 80}})
    assert tcp is not None and "not supported" in tcp
    assert await _run({}) is not None
