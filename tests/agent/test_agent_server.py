"""skiff.agent.server: the agent's HTTPS endpoint driven directly (httpx and websockets, with the
API server's client certificate).

Covers mutual TLS (no client certificate, or one from another CA, fails the handshake; the
right one is served; without a client CA anyone is), the serving certificate reloaded from
renewed files (a half-written renewal ignored); ``/healthz``, ``/stats/summary``, ``/pods``
(from the runtime's sandboxes or a lister), ``/runningpods/``, unknown paths and methods and a
failing lookup as Status; ``/containerLogs`` (tail, timestamps, sinceTime, previous, follow
until the followed container ends or the client leaves, errors as Status); exec over
``v5.channel.k8s.io`` (stdout/stderr channels, exit code in the Status, stdin closed by the 255
message, a tty with resize and no stderr channel, the process killed when the client leaves,
runtime failures at start and midway reported on channel 3) and ``v4.channel.k8s.io``; attach;
refusals (unknown pod or container, no command, no stream) on the error channel after the
upgrade, and before it only for protocols not spoken here or bad ``ports``; port-forward as SPDY
in a WebSocket (two connections, a port nobody listens on, a pod not running here, pings) and as
the v4 channel protocol; stopping the server ends open streams. Through a real API server with
kubectl and the Python client: test_agent_server_e2e.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import websockets
from agentserver_doubles import (
    Lookup,
    Pki,
    ProcessRuntime,
    ProcessSession,
    append,
    cri_line,
    make_pki,
    pod_object,
    sandbox,
    serve_agent,
)
from cryptography import x509
from websockets.asyncio.client import connect

from skiff.agent import spdy
from skiff.agent.server import AgentServer
from skiff.apiserver.connect import offering
from skiff.runtime.types import ContainerRuntimeError, ContainerState, ContainerStatus
from skiff.testing.wait import eventually

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
SPDY_PF = "SPDY/3.1+portforward.k8s.io"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("agent-pki"))


@pytest.fixture
async def pong_port() -> AsyncIterator[int]:
    """A server on 127.0.0.1 standing in for port 80 of the pod: answers one line and closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await reader.readline()
        writer.write(b"pong: " + line)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class Agent:
    server: AgentServer
    lookup: Lookup
    runtime: ProcessRuntime
    pki: Pki
    log_file: Path

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base, verify=self.pki.client_context(**kwargs), timeout=10
        )

    def ws_url(self, path: str, **query: Any) -> str:
        return f"wss://127.0.0.1:{self.server.port}{path}" + (
            "?" + urlencode(query, doseq=True) if query else ""
        )


def _web_lookup(tmp_path: Path) -> tuple[Lookup, Path]:
    log_file = tmp_path / "logs" / "default_web_uid-web" / "main" / "0.log"
    log_file.parent.mkdir(parents=True)
    lookup = Lookup(
        pods={("default", "web"): pod_object("web", containers=("main", "side"))},
        containers={("default", "web", "main"): "c-main", ("default", "web", "side"): "c-gone"},
        logs={("default", "web", "main"): log_file},
        sandboxes={("default", "web"): "sb-web"},
    )
    return lookup, log_file


@pytest.fixture
async def agent(tmp_path: Path, pki: Pki, pong_port: int) -> AsyncIterator[Agent]:
    lookup, log_file = _web_lookup(tmp_path)
    runtime = ProcessRuntime(ports={80: pong_port}, states={"c-main": ContainerState.RUNNING})
    async with serve_agent(lookup, runtime, pki) as server:
        yield Agent(server, lookup, runtime, pki, log_file)


# ------------------------------------------------------------------------------------ TLS


async def test_only_callers_with_the_client_ca_certificate_get_in(agent: Agent) -> None:
    async with agent.client() as client:
        r = await client.get("/healthz")
        assert (r.status_code, r.text) == (200, "ok")
    for kwargs in ({"cert": False}, {"stranger": True}):
        async with agent.client(**kwargs) as client:
            with pytest.raises(httpx.TransportError):
                await client.get("/healthz")
    # a WebSocket without the certificate does not get as far as the upgrade either
    with pytest.raises((ssl.SSLError, OSError, websockets.InvalidHandshake)):
        async with connect(
            agent.ws_url("/exec/default/web/main", command="ls", stdout="true"),
            ssl=agent.pki.client_context(cert=False),
            subprotocols=[V5],  # type: ignore[list-item]
        ):
            pass


async def test_without_a_client_ca_anyone_is_served(tmp_path: Path, pki: Pki) -> None:
    lookup, _ = _web_lookup(tmp_path)
    async with (
        serve_agent(lookup, ProcessRuntime(), pki, client_ca=False) as server,
        httpx.AsyncClient(
            base_url=f"https://127.0.0.1:{server.port}", verify=pki.client_context(cert=False)
        ) as client,
    ):
        assert (await client.get("/healthz")).status_code == 200


def _served_serial(port: int, pki: Pki) -> int:
    ctx = pki.client_context()
    import socket

    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


async def test_a_renewed_serving_certificate_is_loaded(tmp_path: Path, pki: Pki) -> None:
    cert, key = tmp_path / "serving.crt", tmp_path / "serving.key"
    pki.issue_serving(cert, key)
    own = Pki(**{**pki.__dict__, "serving_cert": cert, "serving_key": key})
    lookup, _ = _web_lookup(tmp_path)
    async with serve_agent(lookup, ProcessRuntime(), own) as server:
        before = await asyncio.to_thread(_served_serial, server.port, pki)
        assert server.reload_certificate() is False
        # half a renewal (a new certificate, the old key) is not taken: the old pair still serves
        spare_key = tmp_path / "spare.key"
        pki.issue_serving(tmp_path / "new.crt", spare_key)
        cert.write_bytes((tmp_path / "new.crt").read_bytes())
        later = os.stat(cert).st_mtime + 10
        os.utime(cert, (later, later))
        assert server.reload_certificate() is False
        assert await asyncio.to_thread(_served_serial, server.port, pki) == before
        key.write_bytes(spare_key.read_bytes())
        os.utime(key, (later + 1, later + 1))
        assert server.reload_certificate() is True
        after = await asyncio.to_thread(_served_serial, server.port, pki)
        assert after != before
        assert after == x509.load_pem_x509_certificate(cert.read_bytes()).serial_number


# ------------------------------------------------------------------------------------ plain


async def test_stats_pods_and_unknown_paths(agent: Agent) -> None:
    agent.lookup.summary = {"node": {"nodeName": "n1", "cpu": {"usageNanoCores": 5}}, "pods": []}
    agent.runtime.sandboxes = [sandbox("web", uid="uid-web"), sandbox("stray", uid="uid-s")]
    agent.runtime.containers = [
        ContainerStatus(
            id="c-main",
            sandbox_id="sb-web",
            name="main",
            attempt=0,
            state=ContainerState.RUNNING,
            image="busybox",
            image_id="",
        )
    ]
    async with agent.client() as client:
        r = await client.get("/stats/summary")
        assert r.json() == agent.lookup.summary
        pods = (await client.get("/pods")).json()
        assert pods["kind"] == "PodList"
        # the stray sandbox's pod is not one the lookup knows
        assert [p["metadata"]["name"] for p in pods["items"]] == ["web"]
        running = (await client.get("/runningpods/")).json()
        by_name = {p["metadata"]["name"]: p for p in running["items"]}
        assert set(by_name) == {"web", "stray"}
        assert by_name["web"]["metadata"]["uid"] == "uid-web"
        assert by_name["web"]["spec"]["containers"] == [
            {"name": "main", "image": "busybox", "resources": {}}
        ]
        r = await client.get("/no/such/thing")
        assert r.status_code == 404 and r.json()["kind"] == "Status"
        r = await client.post("/stats/summary")
        assert r.status_code == 405 and r.json()["reason"] == "MethodNotAllowed"
        r = await client.post("/exec/default/web/main?command=ls", headers={"Upgrade": "SPDY/3.1"})
        assert r.status_code == 400 and "SPDY" in r.json()["message"]


async def test_pods_from_a_lister(agent: Agent) -> None:
    class Lister(Lookup):
        def list_pods(self) -> list[dict[str, Any]]:
            return [pod_object("a"), pod_object("b")]

    agent.server.lookup = Lister()
    async with agent.client() as client:
        pods = (await client.get("/pods")).json()
    assert [p["metadata"]["name"] for p in pods["items"]] == ["a", "b"]


# ------------------------------------------------------------------------------------ logs


async def test_container_logs(agent: Agent) -> None:
    agent.log_file.write_bytes(
        cri_line("2026-12-06T19:00:00.1Z", "one")
        + cri_line("2026-12-06T19:00:01.2Z", "two", stream="stderr")
    )
    async with agent.client() as client:
        r = await client.get("/containerLogs/default/web/main")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        assert r.text == "one\ntwo\n"
        r = await client.get("/containerLogs/default/web/main?tailLines=1&timestamps=true")
        assert r.text == "2026-12-06T19:00:01.200000000Z two\n"
        r = await client.get("/containerLogs/default/web/main?sinceTime=2026-12-06T19:00:01Z")
        assert r.text == "two\n"
        for path, code, words in (
            ("/containerLogs/default/nope/main", 404, 'pods "nope" not found'),
            ("/containerLogs/default/web/other", 400, "container other is not valid"),
            ("/containerLogs/default/web/main?previous=true", 400, "previous terminated"),
            ("/containerLogs/default/web/side", 400, "waiting to start"),
            ("/containerLogs/default/web/main?tailLines=x", 400, "tailLines"),
        ):
            r = await client.get(path)
            assert r.status_code == code, (path, r.text)
            body = r.json()
            assert body["kind"] == "Status" and body["code"] == code
            assert words in body["message"], (path, body)


async def test_previous_container_logs(agent: Agent, tmp_path: Path) -> None:
    old = tmp_path / "old.log"
    old.write_bytes(cri_line("2026-12-06T18:00:00Z", "crashed"))
    agent.lookup.previous_logs[("default", "web", "main")] = old
    async with agent.client() as client:
        r = await client.get("/containerLogs/default/web/main?previous=true&follow=true")
    # the previous container has ended: following it ends at once
    assert r.text == "crashed\n"


async def test_follow_streams_until_the_container_ends(agent: Agent) -> None:
    agent.log_file.write_bytes(cri_line("2026-12-06T19:00:00Z", "first"))
    async with (
        agent.client() as client,
        client.stream("GET", "/containerLogs/default/web/main?follow=true") as r,
    ):
        lines = r.aiter_lines()
        assert await anext(lines) == "first"
        append(agent.log_file, cri_line("2026-12-06T19:00:01Z", "second"))
        assert await anext(lines) == "second"
        # a restart: the lookup names a new container, the followed one has ended
        agent.lookup.containers[("default", "web", "main")] = "c-main-2"
        agent.runtime.states["c-main-2"] = ContainerState.RUNNING
        agent.runtime.states["c-main"] = ContainerState.EXITED
        rest = [line async for line in lines]
    assert rest == []


def _log_open(path: Path) -> bool:
    """Whether this process (the server runs in it) holds ``path`` open."""
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                return True
    return False


async def test_follow_ends_when_the_client_goes_away(agent: Agent) -> None:
    agent.log_file.write_bytes(cri_line("2026-12-06T19:00:00Z", "first"))
    async with (
        agent.client() as client,
        client.stream("GET", "/containerLogs/default/web/main?follow=true") as r,
    ):
        assert await anext(r.aiter_lines()) == "first"
        await eventually(lambda: _log_open(agent.log_file), what="the log followed")
    await eventually(lambda: not _log_open(agent.log_file), what="the log let go")


async def test_a_failing_lookup_is_a_status(agent: Agent) -> None:
    async def broken() -> dict[str, Any]:
        raise RuntimeError("no stats today")

    agent.lookup.stats_summary = broken  # type: ignore[method-assign]
    async with agent.client() as client:
        r = await client.get("/stats/summary")
    assert r.status_code == 500
    assert r.json()["reason"] == "InternalError" and "no stats today" in r.json()["message"]


# ------------------------------------------------------------------------------------ exec


async def _run(
    agent: Agent, path: str, protocol: str, to_send: list[bytes] = (), **query: Any
) -> tuple[dict[int, bytes], dict[str, Any], list[bytes]]:
    """Run a stream to its end: the bytes per channel, the Status, every message."""
    async with connect(
        agent.ws_url(path, **query),
        ssl=agent.pki.client_context(),
        subprotocols=[protocol],  # type: ignore[list-item]
        open_timeout=10,
    ) as ws:
        assert ws.subprotocol == protocol
        for message in to_send:
            await ws.send(message)
        messages = [m async for m in ws]
    channels: dict[int, bytes] = {}
    for m in messages:
        assert isinstance(m, bytes)
        channels[m[0]] = channels.get(m[0], b"") + m[1:]
    status = json.loads(channels.get(3) or b"{}")
    return channels, status, [bytes(m) for m in messages]


async def test_exec_v5_channels_and_exit_code(agent: Agent) -> None:
    channels, status, messages = await _run(
        agent,
        "/exec/default/web/main",
        V5,
        command=["sh", "-c", "echo out; echo err >&2; exit 3"],
        stdout="true",
        stderr="true",
    )
    assert channels[1] == b"out\n"
    assert channels[2] == b"err\n"
    assert messages[0] == b"\x01"  # the empty first message, as kubelet sends
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    _, ok, _ = await _run(
        agent, "/exec/default/web/main", V5, command=["true"], stdout="True", stderr="False"
    )
    assert ok == {"metadata": {}, "status": "Success"}


async def test_exec_stdin_ends_with_the_close_message(agent: Agent) -> None:
    channels, status, _ = await _run(
        agent,
        "/exec/default/web/main",
        V5,
        [b"\x00hello ", b"\x00world\n", b"\xff\x00"],
        command="cat",
        stdin="true",
        stdout="true",
    )
    assert channels[1] == b"hello world\n"
    assert status["status"] == "Success"


async def test_exec_v4_has_no_close_message(agent: Agent) -> None:
    channels, status, _ = await _run(
        agent,
        "/exec/default/web/main",
        V4,
        # 255 means nothing in v4: head ends after one line by itself
        [b"\xff\x00", b"\x00only line\n"],
        command=["head", "-n", "1"],
        stdin="true",
        stdout="true",
        stderr="true",
    )
    assert channels[1] == b"only line\n"
    assert status["status"] == "Success"


async def test_exec_tty_resizes_and_merges_stderr(agent: Agent) -> None:
    async with connect(
        agent.ws_url(
            "/exec/default/web/main",
            command=["sh", "-c", "echo err >&2; cat"],
            stdin="true",
            stdout="true",
            stderr="true",
            tty="true",
        ),
        ssl=agent.pki.client_context(),
        subprotocols=[V5],  # type: ignore[list-item]
    ) as ws:
        await ws.send(b'\x04{"Width":120,"Height":40}\n')
        await eventually(
            lambda: (
                bool(agent.runtime.sessions) and agent.runtime.sessions[-1].sizes == [(120, 40)]
            ),
            what="the resize",
        )
        await ws.send(b"\xff\x00")
        messages = [bytes(m) async for m in ws]  # type: ignore[arg-type]
    assert not any(m[0] == 2 for m in messages)
    assert b"".join(m[1:] for m in messages if m[0] == 1) == b"err\n"


async def test_exec_process_is_killed_when_the_client_leaves(agent: Agent) -> None:
    async with connect(
        agent.ws_url("/exec/default/web/main", command=["sleep", "60"], stdout="true"),
        ssl=agent.pki.client_context(),
        subprotocols=[V5],  # type: ignore[list-item]
    ) as ws:
        await eventually(lambda: bool(agent.runtime.sessions), what="the exec")
        assert await ws.recv() == b"\x01"
    session = agent.runtime.sessions[-1]
    await eventually(lambda: session.proc.returncode is not None, what="the process killed")
    assert session.closed


async def test_exec_runtime_failure_is_reported_on_the_error_channel(agent: Agent) -> None:
    # the lookup names a container the runtime does not know
    _, status, _ = await _run(agent, "/exec/default/web/side", V5, command="ls", stdout="true")
    assert status["status"] == "Failure" and status["reason"] == "InternalError"
    assert "c-gone" in status["message"]
    # a command that cannot start is reported the same way
    _, status, _ = await _run(
        agent, "/exec/default/web/main", V5, command="/no/such/binary", stdout="true"
    )
    assert status["reason"] == "InternalError" and "/no/such/binary" in status["message"]


async def test_a_session_failing_midway_is_reported(agent: Agent) -> None:
    real_exec = agent.runtime.exec

    async def exec_losing_its_shim(
        container_id: str, argv: list[str], *, tty: bool, stdin: bool
    ) -> ProcessSession:
        session = await real_exec(container_id, argv, tty=tty, stdin=stdin)

        async def wait() -> int | None:
            await session.proc.wait()
            raise ContainerRuntimeError("lost the shim")

        session.wait = wait  # type: ignore[method-assign]
        return session

    agent.runtime.exec = exec_losing_its_shim  # type: ignore[method-assign]
    _, status, _ = await _run(agent, "/exec/default/web/main", V5, command="true", stdout="1")
    assert status["status"] == "Failure" and "lost the shim" in status["message"]


async def test_attach(agent: Agent) -> None:
    channels, status, _ = await _run(
        agent, "/attach/default/web/main", V5, stdout="true", stderr="true"
    )
    assert channels[1] == b"attached\n"
    assert status["status"] == "Success"


@pytest.mark.parametrize(
    ("path", "query", "code", "words"),
    [
        ("/exec/default/nope/main", {"command": "ls", "stdout": "true"}, 404, "not found"),
        ("/exec/default/web/x", {"command": "ls", "stdout": "true"}, 400, "not valid"),
        ("/exec/default/web/main", {"stdout": "true"}, 400, "at least one command"),
        ("/exec/default/web/main", {"command": "ls"}, 400, "at least 1 of stdin"),
        ("/attach/default/nope/main", {"stdout": "true"}, 404, "not found"),
    ],
)
async def test_stream_refusals_come_on_the_error_channel(
    agent: Agent, path: str, query: dict[str, str], code: int, words: str
) -> None:
    """Upgraded first, so kubectl shows the agent's reason (a refused upgrade would make it
    retry with SPDY, which the API server does not relay)."""
    channels, status, _ = await _run(agent, path, V5, **query)
    assert set(channels) == {3}
    assert status["kind"] == "Status" and status["status"] == "Failure"
    assert status["code"] == code and words in status["message"], status


@pytest.mark.parametrize(
    ("path", "query", "protocol", "words"),
    [
        ("/exec/default/web/main", {"command": "ls", "stdout": "1"}, "channel.k8s.io", "v5"),
        ("/portForward/default/web", {}, "v3.channel.k8s.io", "SPDY/3.1"),
        ("/portForward/default/web", {}, V4, "ports"),
        ("/portForward/default/web", {"ports": "0"}, V4, "invalid port"),
    ],
)
async def test_refusals_before_the_upgrade_are_status(
    agent: Agent, path: str, query: dict[str, str], protocol: str, words: str
) -> None:
    with pytest.raises(websockets.InvalidStatus) as caught:
        async with connect(
            agent.ws_url(path, **query),
            ssl=agent.pki.client_context(),
            create_connection=offering([protocol]),
        ):
            pass
    response = caught.value.response
    assert response.status_code == 400
    body = json.loads(bytes(response.body or b""))
    assert body["kind"] == "Status" and body["code"] == 400
    assert words in body["message"], body


# ------------------------------------------------------------------------------------ port-forward


class _SpdyClient:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.codec = spdy.HeaderCodec()
        self.replies = spdy.HeaderCodec()
        self.parser = spdy.FrameParser()
        self.frames: list[spdy.ControlFrame | spdy.DataFrame] = []

    async def open_pair(self, request: int, port: int) -> tuple[int, int]:
        error_id, data_id = 4 * request + 1, 4 * request + 3
        headers = [("port", str(port)), ("requestid", str(request))]
        await self.ws.send(
            spdy.encode_syn_stream(self.codec, error_id, [("streamtype", "error"), *headers])
            + spdy.encode_data(error_id, b"", fin=True)
        )
        await self.ws.send(
            spdy.encode_syn_stream(self.codec, data_id, [("streamtype", "data"), *headers])
        )
        return error_id, data_id

    async def until_fin(self, *stream_ids: int) -> None:
        while not all(self.finished(s) for s in stream_ids):
            message = await asyncio.wait_for(self.ws.recv(), 10)
            self.frames += self.parser.feed(message)

    def finished(self, stream_id: int) -> bool:
        return any(
            isinstance(f, spdy.DataFrame) and f.stream_id == stream_id and f.fin
            for f in self.frames
        )

    def data(self, stream_id: int) -> bytes:
        return b"".join(
            f.data
            for f in self.frames
            if isinstance(f, spdy.DataFrame) and f.stream_id == stream_id
        )

    def replied(self) -> list[int]:
        return [
            int.from_bytes(f.payload[:4], "big")
            for f in self.frames
            if isinstance(f, spdy.ControlFrame) and f.type == spdy.ControlType.SYN_REPLY
        ]


async def test_port_forward_spdy_in_a_websocket(agent: Agent) -> None:
    async with connect(
        agent.ws_url("/portForward/default/web"),
        ssl=agent.pki.client_context(),
        create_connection=offering([SPDY_PF]),
    ) as ws:
        assert ws.subprotocol == SPDY_PF
        client = _SpdyClient(ws)
        error_id, data_id = await client.open_pair(0, 80)
        await ws.send(spdy.encode_data(data_id, b"hello\n"))
        await client.until_fin(error_id, data_id)
        assert client.data(data_id) == b"pong: hello\n"
        assert client.data(error_id) == b""
        # a second connection on the same session, and a port nobody listens on
        second = await client.open_pair(1, 80)
        refused = await client.open_pair(2, 81)
        await ws.send(spdy.encode_data(second[1], b"again\n"))
        await client.until_fin(*second, *refused)
        assert client.data(second[1]) == b"pong: again\n"
        assert b"error forwarding port 81" in client.data(refused[0])
        assert client.data(refused[1]) == b""
        assert set(client.replied()) == {error_id, data_id, *second, *refused}
        # a pod not running here is told on the error stream
        agent.lookup.sandboxes.clear()
        gone = await client.open_pair(3, 80)
        await client.until_fin(*gone)
        assert b'pod "web" has no running sandbox' in client.data(gone[0])
        # pings are answered
        await ws.send(spdy.encode_ping(9))
        while not any(
            isinstance(f, spdy.ControlFrame) and f.type == spdy.ControlType.PING
            for f in client.frames
        ):
            client.frames += client.parser.feed(await asyncio.wait_for(ws.recv(), 10))


async def test_port_forward_v4_channels(agent: Agent) -> None:
    async with connect(
        agent.ws_url("/portForward/default/web", ports="80,81"),
        ssl=agent.pki.client_context(),
        subprotocols=[V4],  # type: ignore[list-item]
    ) as ws:
        first = [await ws.recv() for _ in range(4)]
        assert first == [b"\x00\x50\x00", b"\x01\x50\x00", b"\x02\x51\x00", b"\x03\x51\x00"]
        await ws.send(b"\x00hello\n")
        rest = [bytes(m) async for m in ws]  # type: ignore[arg-type]
    by_channel: dict[int, bytes] = {}
    for m in rest:
        by_channel[m[0]] = by_channel.get(m[0], b"") + m[1:]
    assert by_channel[0] == b"pong: hello\n"
    assert b"error forwarding port 81" in by_channel[3]


async def test_port_forward_v4_to_a_pod_not_here(agent: Agent) -> None:
    agent.lookup.pods.clear()
    async with connect(
        agent.ws_url("/portForward/default/web", ports="80"),
        ssl=agent.pki.client_context(),
        subprotocols=[V4],  # type: ignore[list-item]
    ) as ws:
        messages = [bytes(m) async for m in ws]  # type: ignore[arg-type]
    assert messages[:2] == [b"\x00\x50\x00", b"\x01\x50\x00"]
    assert b"".join(m[1:] for m in messages[2:] if m[0] == 1).endswith(b'pods "web" not found')


async def test_stopping_ends_open_streams(tmp_path: Path, pki: Pki) -> None:
    """Cancelling serve() ends a followed log and an exec within the grace period: the file is
    let go and the exec'd process killed."""
    lookup, log_file = _web_lookup(tmp_path)
    log_file.write_bytes(cri_line("2026-12-06T19:00:00Z", "first"))
    runtime = ProcessRuntime(states={"c-main": ContainerState.RUNNING})
    server = AgentServer(
        lookup,
        runtime.as_runtime(),
        bind="127.0.0.1",
        port=0,
        cert_file=pki.serving_cert,
        key_file=pki.serving_key,
        client_ca_file=pki.ca_file,
    )
    server.shutdown_grace = 1.0
    serving = asyncio.create_task(server.serve())
    try:
        await asyncio.wait_for(server.ready.wait(), 10)
        agent = Agent(server, lookup, runtime, pki, log_file)
        async with (
            agent.client() as client,
            client.stream("GET", "/containerLogs/default/web/main?follow=true") as r,
            connect(
                agent.ws_url("/exec/default/web/main", command=["sleep", "60"], stdout="true"),
                ssl=pki.client_context(),
                subprotocols=[V5],  # type: ignore[list-item]
            ) as ws,
        ):
            assert await anext(r.aiter_lines()) == "first"
            assert await ws.recv() == b"\x01"
            loop = asyncio.get_running_loop()
            started = loop.time()
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
            assert loop.time() - started < 8
            assert not _log_open(log_file)
            await eventually(
                lambda: runtime.sessions[-1].proc.returncode is not None, what="exec killed"
            )
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await runtime.close()
