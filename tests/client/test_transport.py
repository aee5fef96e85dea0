"""The client's transports: `LeanTransport` (HTTP/1.1 keep-alive, Content-Length and chunked
bodies, connection reuse, a stale kept-alive connection retried once on a fresh one, timeouts and
refused connections as httpx errors, the pool limit as PoolTimeout), the separate watch pool (more
open watches than the request pool has connections, and requests still answered at once; the same
watches on one shared pool starve requests, which shows the test can fail), and
``transport="httpx"`` still working end to end), and the direct request path `Client` takes over
the lean transport (what goes on the wire; status errors and Retry-After). TLS with the lean
transport is in test_tls.py.
Raw protocol cases use a tiny asyncio server on 127.0.0.1; the rest the real API server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest

from skiff.apiserver.server import ApiServer
from skiff.client import (
    Client,
    Config,
    LeanTransport,
    NotFound,
    ServerError,
    TransportError,
    Watch,
    WatchEventType,
)
from skiff.testing.apiserver import admin_config
from skiff.testing.wait import eventually


class RawServer:
    """Answers each request on a connection with the next of ``responses`` (raw bytes)."""

    def __init__(self, respond: Callable[[int, bytes], bytes | None]) -> None:
        self.respond = respond
        self.connections = 0
        self.requests: list[bytes] = []
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = self.connections
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                self.requests.append(head + body)
                answer = self.respond(conn, head)
                if answer is None:
                    await asyncio.Event().wait()  # never answer
                writer.write(answer or b"")
                await writer.drain()
                if answer is not None and b"X-Then: close" in answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            self._server.close()
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await self._server.wait_closed()


def ok(body: bytes, *, close_after: bool = False) -> bytes:
    extra = b"X-Then: close\r\n" if close_after else b""
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )


async def test_keep_alive_reuse_and_chunked_bodies() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'3\r\n{"a\r\n5;ext=1\r\n":1}\n\r\n0\r\nTrailer: x\r\n\r\n'
    )
    server = RawServer(lambda conn, head: chunked if b"/chunked" in head else ok(b'{"ok":1}'))
    async with server.running() as url, httpx.AsyncClient(transport=LeanTransport()) as http:
        for _ in range(3):
            assert (await http.get(f"{url}/plain")).json() == {"ok": 1}
        assert (await http.get(f"{url}/chunked")).json() == {"a": 1}
        assert (await http.post(f"{url}/plain", content=b'{"x":1}')).status_code == 200
    assert server.connections == 1  # all five requests on one kept-alive connection
    assert server.requests[-1].endswith(b'{"x":1}')
    assert b"content-length: 7" in server.requests[-1].lower()


async def test_stale_kept_alive_connection_is_retried_once() -> None:
    # The server closes each connection after one answer without saying so (an idle timeout
    # racing the next request): the transport must resend on a fresh connection.
    server = RawServer(lambda conn, head: ok(b'{"n":%d}' % conn, close_after=True))
    async with server.running() as url, httpx.AsyncClient(transport=LeanTransport()) as http:
        assert (await http.get(f"{url}/a")).json() == {"n": 1}
        await eventually(lambda: server.connections == 1 and not server._handlers)
        assert (await http.get(f"{url}/b")).json() == {"n": 2}
    assert server.connections == 2


async def test_errors_are_httpx_errors() -> None:
    server = RawServer(lambda conn, head: None if b"/hang" in head else b"garbage\r\n\r\n")
    async with server.running() as url, httpx.AsyncClient(transport=LeanTransport()) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"{url}/hang", timeout=httpx.Timeout(5.0, read=0.2))
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"{url}/bad")
    async with httpx.AsyncClient(transport=LeanTransport()) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("http://127.0.0.1:9/")


async def test_pool_limit_times_out_as_pool_timeout() -> None:
    server = RawServer(lambda conn, head: None)  # holds every request
    transport = LeanTransport(max_connections=1)
    async with server.running() as url, httpx.AsyncClient(transport=transport) as http:
        first = asyncio.create_task(http.get(f"{url}/a", timeout=5))
        await eventually(lambda: len(server.requests) == 1)
        with pytest.raises(httpx.PoolTimeout):
            await http.get(f"{url}/b", timeout=httpx.Timeout(5.0, pool=0.2))
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)


async def open_watches(client: Client, count: int) -> list[Watch]:
    """``count`` watches, each proven connected by its first event."""
    watches = []
    for _ in range(count):
        w = client.watch("configmaps", namespace="default", resource_version="0")
        event = await anext(w)
        assert event.type is WatchEventType.ADDED
        watches.append(w)
    return watches


async def test_watches_do_not_starve_requests(server: ApiServer) -> None:
    config = admin_config(server)
    async with Client(config, max_connections=2, timeout=5) as client:
        await client.create("configmaps", {"metadata": {"name": "seed"}})
        watches = await open_watches(client, 6)  # three times the request pool
        try:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            for i in range(10):
                await client.create("configmaps", {"metadata": {"name": f"c{i}"}})
                await client.get("configmaps", f"c{i}")
            assert loop.time() - t0 < 5
            for w in watches:  # the watches are live, not merely open
                event = await anext(w)
                assert event.object["metadata"]["name"] == "c0"
        finally:
            for w in watches:
                await w.aclose()


async def test_one_shared_pool_would_starve_requests(server: ApiServer) -> None:
    # The counter-test: watches and requests on one 2-connection pool; a request then waits for
    # a free connection until the pool timeout, which is what the separate watch pool prevents.
    shared = LeanTransport(max_connections=2)
    async with Client(admin_config(server), transport=shared, timeout=0.3) as client:
        await client.create("configmaps", {"metadata": {"name": "seed"}})
        watches = await open_watches(client, 2)
        try:
            with pytest.raises(TransportError, match="PoolTimeout"):
                await client.get("configmaps", "seed")
        finally:
            for w in watches:
                await w.aclose()


async def test_httpx_transport_still_selectable(server: ApiServer) -> None:
    async with Client(admin_config(server), transport="httpx") as client:
        await client.create("configmaps", {"metadata": {"name": "h"}})
        async with client.watch("configmaps", resource_version="0") as w:
            event = await anext(w)
            assert event.object["metadata"]["name"] == "h"
        assert (await client.get("configmaps", "h"))["metadata"]["name"] == "h"
    with pytest.raises(ValueError, match="unknown transport"):
        Client(admin_config(server), transport="h2")  # type: ignore[arg-type]


def parse_request(raw: bytes) -> tuple[str, str, dict[str, list[str]], dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ")
    assert version == "HTTP/1.1"
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    url = urlsplit(target)
    return method, url.path, parse_qs(url.query), headers, body


async def test_direct_request_path_shapes() -> None:
    """What the lean direct path puts on the wire: a base path prefix, the Host header, query
    encoding of selectors the server must decode back exactly, auth, content headers, body."""
    server = RawServer(lambda conn, head: ok(b'{"kind":"X","metadata":{}}'))
    async with server.running() as url:
        config = Config(server=url + "/prefix/", token="s3cret", namespace="team")
        async with Client(config) as c:
            await c.list(
                "pods",
                label_selector={
                    "matchLabels": {"app": "web"},
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}],
                },
                field_selector=r"metadata.name=a\,b",
                limit=5,
            )
            await c.create("configmaps", {"metadata": {"name": "x"}, "data": {"k": "v w"}})
            await c.patch("deployments", "web", {"spec": {}}, patch_type="merge")
            await c.get("pods", "p", metadata_only=True)
    requests = [parse_request(r) for r in server.requests]
    method, path, query, headers, body = requests[0]
    assert (method, path) == ("GET", "/prefix/api/v1/pods")
    assert query == {
        "labelSelector": ["app=web,tier in (a,b)"],
        "fieldSelector": [r"metadata.name=a\,b"],
        "limit": ["5"],
    }
    port = url.rsplit(":", 1)[1]
    assert headers["host"] == f"127.0.0.1:{port}"
    assert headers["authorization"] == "Bearer s3cret"
    assert headers["accept"] == "application/json"
    assert headers["user-agent"].startswith("skiff-client/")
    assert "content-length" not in headers and body == b""
    method, path, _, headers, body = requests[1]
    assert (method, path) == ("POST", "/prefix/api/v1/namespaces/team/configmaps")
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    assert orjson.loads(body) == {"metadata": {"name": "x"}, "data": {"k": "v w"}}
    assert requests[2][3]["content-type"] == "application/merge-patch+json"
    assert requests[3][3]["accept"] == (
        "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
    )
    assert server.connections == 1


async def test_status_errors_and_retry_after_on_the_direct_path() -> None:
    answers = iter(
        [
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (len(NOT_FOUND), NOT_FOUND),
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 4\r\n\r\noops",
        ]
    )
    server = RawServer(lambda conn, head: next(answers))
    sleeps: list[float] = []

    class Clock:
        def monotonic(self) -> float:
            return 0.0

        def time(self) -> float:
            return 0.0

        async def sleep(self, seconds: float) -> None:
            sleeps.append(seconds)

    async with server.running() as url, Client(Config(server=url), clock=Clock()) as c:
        with pytest.raises(NotFound) as missing:
            await c.get("pods", "p")
        assert sleeps == [1.0]  # the 429 was retried after Retry-After
        assert missing.value.status["message"] == 'pods "p" not found'
        with pytest.raises(ServerError) as bad:
            await c.get("pods", "p")
        assert bad.value.code == 502 and "oops" in str(bad.value)


NOT_FOUND = orjson.dumps(
    {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": 'pods "p" not found',
        "reason": "NotFound",
        "code": 404,
    }
)
