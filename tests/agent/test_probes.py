"""`skiff.agent.probes.run_probe`: one run of each probe kind against real things on 127.0.0.1.

Covers exec (through a runtime double that runs real subprocesses: exit codes, output, timeout,
runtime errors), httpGet (status ranges, same-host redirects followed, other-host redirects never
followed and reported as a warning, redirect loops, headers, named ports, HTTPS without
verification, timeouts), tcpSocket (open, refused, named port) and grpc (a real grpcio health
server: SERVING, NOT_SERVING, unknown service, no health service). Probe scheduling and
thresholds are in test_prober.py.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from skiff.agent.probes import ProbeResult, resolve_port, run_probe
from skiff.runtime.types import ExecResult, NotFound


class SubprocessRuntime:
    """The part of the Runtime a probe uses: exec_sync runs argv as a host subprocess."""

    name = "double"
    version = "double://0"

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str], float | None]] = []

    async def exec_sync(
        self, container_id: str, argv: list[str], time_limit: float | None = None
    ) -> ExecResult:
        self.calls.append((container_id, argv, time_limit))
        if container_id == "gone":
            raise NotFound(f"no container {container_id}")
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            async with asyncio.timeout(time_limit):
                out, err = await proc.communicate()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return ExecResult(exit_code=-1, timed_out=True)
        assert proc.returncode is not None
        return ExecResult(exit_code=proc.returncode, stdout=out, stderr=err)


class _Handler(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, dict[str, str]]]  # (host header, path, headers)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append((self.headers.get("Host", ""), self.path, dict(self.headers.items())))
        port = self.server.server_address[1]
        routes = {
            "/ok": (200, {}),
            "/created": (201, {}),
            "/fail": (500, {}),
            "/missing": (404, {}),
            "/same": (302, {"Location": "/ok"}),
            "/same-absolute": (301, {"Location": f"http://127.0.0.1:{port}/ok"}),
            "/same-to-fail": (302, {"Location": "/fail"}),
            "/other": (302, {"Location": f"http://localhost:{port}/ok"}),
            "/loop": (302, {"Location": "/loop"}),
            "/headers": (200 if self.headers.get("X-Probe") == "yes" else 400, {}),
        }
        code, headers = routes.get(self.path, (404, {}))
        body = f"body of {self.path}".encode()
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def http_server() -> Iterator[tuple[int, list[tuple[str, str, dict[str, str]]]]]:
    seen: list[tuple[str, str, dict[str, str]]] = []
    handler = type("Handler", (_Handler,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    for s in _serve(server):
        yield s.server_address[1], seen


@pytest.fixture
def https_port(tmp_path: Path) -> Iterator[int]:
    """An HTTPS server with a self-signed certificate for a name that is not 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "skiff-probe-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    handler = type("Handler", (_Handler,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    for s in _serve(server):
        yield s.server_address[1]


async def _probe(probe: dict[str, Any], **kw: Any) -> ProbeResult:
    runtime = kw.pop("runtime", SubprocessRuntime())
    return await run_probe(
        probe,
        runtime=runtime,  # type: ignore[arg-type]
        container_id=kw.pop("container_id", "c1"),
        pod_ip="127.0.0.1",
        container_ports=kw.pop("container_ports", {}),
    )


# ---- exec


async def test_exec_success_and_failure_output() -> None:
    runtime = SubprocessRuntime()
    ok = await _probe({"exec": {"command": ["true"]}}, runtime=runtime)
    assert ok == ProbeResult(True)
    bad = await _probe(
        {"exec": {"command": ["sh", "-c", "echo not healthy; echo oops >&2; exit 3"]}},
        runtime=runtime,
    )
    assert bad.success is False
    assert "not healthy" in bad.message and "oops" in bad.message
    # timeoutSeconds defaults to 1 and is handed to the runtime
    assert runtime.calls[0] == ("c1", ["true"], 1.0)


async def test_exec_timeout_is_a_failure() -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    result = await _probe({"exec": {"command": ["sleep", "30"]}, "timeoutSeconds": 1})
    assert result.success is False
    assert "timed out" in result.message
    assert loop.time() - start < 10


async def test_exec_runtime_error_is_unknown() -> None:
    result = await _probe({"exec": {"command": ["true"]}}, container_id="gone")
    assert result.success is None
    assert "gone" in result.message


# ---- httpGet


@pytest.mark.parametrize(
    ("path", "success"),
    [("/ok", True), ("/created", True), ("/fail", False), ("/missing", False)],
    ids=["200", "201", "500", "404"],
)
async def test_http_status_ranges(
    http_server: tuple[int, list[Any]], path: str, success: bool
) -> None:
    port, _ = http_server
    result = await _probe({"httpGet": {"path": path, "port": port}})
    assert result.success is success
    if not success:
        assert result.message.startswith("HTTP probe failed with statuscode: ")
    else:
        assert result.message == ""


async def test_http_follows_same_host_redirects(http_server: tuple[int, list[Any]]) -> None:
    port, seen = http_server
    assert await _probe({"httpGet": {"path": "/same", "port": port}}) == ProbeResult(True)
    assert [p for _, p, _ in seen] == ["/same", "/ok"]
    assert await _probe({"httpGet": {"path": "/same-absolute", "port": port}}) == ProbeResult(True)
    failed = await _probe({"httpGet": {"path": "/same-to-fail", "port": port}})
    assert failed.success is False and "500" in failed.message


async def test_http_never_follows_redirect_to_other_host(
    http_server: tuple[int, list[Any]],
) -> None:
    port, seen = http_server
    result = await _probe({"httpGet": {"path": "/other", "port": port}})
    assert result.success is True
    assert "Probe terminated redirects" in result.message
    assert "localhost" in result.message
    # the other host was never asked
    assert [(h, p) for h, p, _ in seen] == [(f"127.0.0.1:{port}", "/other")]


async def test_http_redirect_loop_fails(http_server: tuple[int, list[Any]]) -> None:
    port, seen = http_server
    result = await _probe({"httpGet": {"path": "/loop", "port": port}})
    assert result.success is False
    assert "redirects" in result.message
    assert len(seen) == 11  # the first request and 10 redirects


async def test_http_headers_named_port_and_user_agent(
    http_server: tuple[int, list[Any]],
) -> None:
    port, seen = http_server
    probe = {
        "httpGet": {
            "path": "/headers",
            "port": "web",
            "httpHeaders": [{"name": "X-Probe", "value": "yes"}],
        }
    }
    assert await _probe(probe, container_ports={"web": port}) == ProbeResult(True)
    headers = seen[-1][2]
    assert headers["User-Agent"].startswith("kube-probe/")
    virtual = {
        "httpGet": {
            "path": "/ok",
            "port": port,
            "httpHeaders": [{"name": "Host", "value": "shop.example"}],
        }
    }
    assert await _probe(virtual) == ProbeResult(True)
    assert seen[-1][0] == "shop.example"
    no_port = await _probe(probe, container_ports={"other": port})
    assert no_port.success is None
    assert "couldn't find port: web" in no_port.message


async def test_http_connection_refused_and_timeout() -> None:
    # a port nobody listens on: bind one, learn its number, close it
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    refused = await _probe({"httpGet": {"path": "/", "port": port}})
    assert refused.success is False
    assert refused.message.startswith(f'Get "http://127.0.0.1:{port}/"')

    # a server that accepts and never answers
    writers: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        writers.append(w)

    mute = await asyncio.start_server(silent, "127.0.0.1", 0)
    try:
        port = mute.sockets[0].getsockname()[1]
        result = await _probe({"httpGet": {"path": "/", "port": port}, "timeoutSeconds": 1})
        assert result.success is False
        assert "deadline exceeded" in result.message
    finally:
        for w in writers:
            w.close()
        mute.close()
        await mute.wait_closed()


async def test_https_without_verification(https_port: int) -> None:
    result = await _probe({"httpGet": {"path": "/ok", "port": https_port, "scheme": "HTTPS"}})
    assert result == ProbeResult(True)


# ---- tcpSocket


async def test_tcp_socket() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        assert await _probe({"tcpSocket": {"port": port}}) == ProbeResult(True)
        assert await _probe(
            {"tcpSocket": {"port": "svc"}}, container_ports={"svc": port}
        ) == ProbeResult(True)
    finally:
        server.close()
        await server.wait_closed()
    refused = await _probe({"tcpSocket": {"port": port}})
    assert refused.success is False
    assert refused.message.startswith(f"dial tcp 127.0.0.1:{port}: connect:")


def test_resolve_port() -> None:
    assert resolve_port(80, {}) == 80
    assert resolve_port("8080", {}) == 8080
    assert resolve_port("http", {"http": 81}) == 81
    with pytest.raises(ValueError, match="couldn't find port"):
        resolve_port("http", {})
    with pytest.raises(ValueError, match="invalid port number"):
        resolve_port(70000, {})


# ---- grpc


@pytest.fixture
async def grpc_health() -> AsyncIterator[tuple[int, Any]]:
    import grpc  # type: ignore[import-untyped]
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc  # type: ignore[import-untyped]

    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    await servicer.set("db", health_pb2.HealthCheckResponse.NOT_SERVING)
    try:
        yield port, servicer
    finally:
        await server.stop(None)


async def test_grpc_health(grpc_health: tuple[int, Any]) -> None:
    from grpc_health.v1 import health_pb2

    port, servicer = grpc_health
    assert await _probe({"grpc": {"port": port}}) == ProbeResult(True)
    db = await _probe({"grpc": {"port": port, "service": "db"}})
    assert db == ProbeResult(False, 'service unhealthy (responded with "NOT_SERVING")')
    await servicer.set("db", health_pb2.HealthCheckResponse.SERVING)
    assert await _probe({"grpc": {"port": port, "service": "db"}}) == ProbeResult(True)
    unknown = await _probe({"grpc": {"port": port, "service": "nope"}})
    assert unknown.success is False
    assert "health rpc probe failed: NOT_FOUND" in unknown.message


async def test_grpc_without_health_service_and_refused() -> None:
    import grpc

    server = grpc.aio.server()
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        result = await _probe({"grpc": {"port": port}})
        assert result.success is False
        assert "does not implement the grpc health protocol" in result.message
    finally:
        await server.stop(None)
    refused = await _probe({"grpc": {"port": port}})
    assert refused.success is False
    assert "failed to connect service" in refused.message


async def test_no_handler_is_unknown() -> None:
    assert (await _probe({"periodSeconds": 3})).success is None
