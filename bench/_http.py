"""A minimal HTTP/1.1 keep-alive client over asyncio TLS streams, for load generation only.

Why not httpx: on this 2-core machine the load generator shares the CPU with the server it
measures, so every microsecond the client spends per request is taken from the server. httpx's
AsyncClient costs several hundred microseconds of CPU per request (request/response models, header
normalisation, its connection pool); writing a pre-built request and reading ``Content-Length`` or
chunked bodies straight off the stream costs a fraction of that (README.md has the figures). The
server side is unchanged: real TLS, real HTTP/1.1, one request at a time per connection, exactly
what 50 keep-alive clients do.

This client understands only what the benchmarks need: responses with ``Content-Length`` or
``Transfer-Encoding: chunked``. Watches use :class:`WatchProtocol`, a bare ``asyncio.Protocol``
that parses the chunked stream in ``data_received``: a thousand watchers share two cores with the
server, so the watcher must cost as little per event as the bare relay's reader does.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar, cast

_T = TypeVar("_T")

__all__ = [
    "LOOP_NAME",
    "HttpConnection",
    "HttpError",
    "Response",
    "WatchProtocol",
    "client_ssl_context",
    "open_watch",
    "run_async",
]


_uvloop: ModuleType | None
try:
    import uvloop as _uvloop_module

    _uvloop = _uvloop_module
except ImportError:  # pragma: no cover - uvloop is expected, but the benchmarks run without it
    _uvloop = None

LOOP_NAME = "uvloop" if _uvloop is not None else "asyncio"
"""The event loop the load generators and the relay run on: the server's (uvloop) when present."""


def run_async(main: Coroutine[Any, Any, _T]) -> _T:
    """Run ``main`` on uvloop when it is installed (as the API server does), else on asyncio.

    The clients and the reference relay use the same loop as the server, so the relay is the floor
    for the server's own machinery and the clients take as little CPU from it as they can.
    """
    if _uvloop is not None:
        result: _T = _uvloop.run(main)
        return result
    return asyncio.run(main)


class HttpError(Exception):
    """The peer sent something this client cannot parse, or closed the connection mid-response."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes


def client_ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """A TLS client context trusting ``ca_file`` (the server's generated CA)."""
    ctx = ssl.create_default_context(cafile=ca_file)
    return ctx


class HttpConnection:
    """One keep-alive HTTPS connection; requests on it are sequential (HTTP/1.1 without pipelining)."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, token: str
    ) -> None:
        self._reader = reader
        self._writer = writer
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self._common = (
            f"Host: {host}\r\n{auth}Accept: application/json\r\nUser-Agent: skiff-bench\r\n"
        ).encode()

    @classmethod
    async def open(
        cls, host: str, port: int, *, ssl_context: ssl.SSLContext | None, token: str
    ) -> HttpConnection:
        reader, writer = await asyncio.open_connection(host, port, ssl=ssl_context, limit=1 << 20)
        return cls(reader, writer, f"{host}:{port}", token)

    def _head(
        self, method: str, path: str, body: bytes | None, content_type: str = "application/json"
    ) -> bytes:
        length = (
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            if body is not None
            else ""
        )
        return f"{method} {path} HTTP/1.1\r\n".encode() + self._common + length.encode() + b"\r\n"

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        content_type: str = "application/json",
    ) -> Response:
        """Send one request and read its whole response (``content_type`` of the body, e.g. a
        merge patch's)."""
        self._writer.write(self._head(method, path, body, content_type) + (body or b""))
        status, headers = await self._read_head()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parts = [chunk async for chunk in self._chunks()]
            return Response(status, b"".join(parts))
        length = int(headers.get("content-length", "0"))
        try:
            payload = await self._reader.readexactly(length) if length else b""
        except asyncio.IncompleteReadError as exc:
            raise HttpError("connection closed mid-body") from exc
        return Response(status, payload)

    async def _read_head(self) -> tuple[int, dict[str, str]]:
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            raise HttpError("connection closed before the response head") from exc
        lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError) as exc:
            raise HttpError(f"bad status line {lines[0]!r}") from exc
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        return status, headers

    async def _chunks(self) -> AsyncIterator[bytes]:
        reader = self._reader
        try:
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")  # the blank line after the (empty) trailers
                    return
                data = await reader.readexactly(size + 2)
                yield data[:-2]
        except (asyncio.IncompleteReadError, ValueError) as exc:
            raise HttpError("bad or truncated chunked body") from exc

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await self._writer.wait_closed()


class WatchProtocol(asyncio.Protocol):
    """One watch stream: sends a GET, checks for a chunked 200, hands each line to ``on_line``.

    ``on_line(line, received_at)`` gets every non-empty newline-terminated line of the body with the
    wall-clock time its bytes were read; it returns ``True`` to end the watch (the connection is
    closed). ``ready`` resolves when the response head is in, ``done`` when the watch ends; either
    fails with :class:`HttpError` if the server refuses or breaks the stream.
    """

    def __init__(
        self,
        request: bytes,
        on_line: Callable[[bytes, float], bool],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._request = request
        self._on_line = on_line
        self.ready: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._line = bytearray()
        self._head = False
        self._need = (
            0  # bytes (data + CRLF) still due for the current chunk; 0: a size line is next
        )

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buf = self._buf
        buf += data
        if not self._head:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).decode("latin-1")
            del buf[: end + 4]
            status = head[9:12]
            if status != "200" or "chunked" not in head.lower():
                self._fail(HttpError(f"watch answered {head.splitlines()[0]!r}"))
                return
            self._head = True
            self.ready.set_result(None)
        while True:
            if self._need == 0:
                eol = buf.find(b"\r\n")
                if eol < 0:
                    return
                try:
                    size = int(bytes(buf[:eol]).split(b";", 1)[0], 16)
                except ValueError:
                    self._fail(HttpError("bad chunk size line"))
                    return
                del buf[: eol + 2]
                if size == 0:
                    self._finish()
                    return
                self._need = size + 2
            if len(buf) < self._need:
                return
            self._line += buf[: self._need - 2]
            del buf[: self._need]
            self._need = 0
            while (nl := self._line.find(b"\n")) >= 0:
                line = bytes(self._line[:nl])
                del self._line[: nl + 1]
                if line and self._on_line(line, now):
                    self._finish()
                    return

    def close(self) -> None:
        """Hang up (the watch ends without ``done`` failing)."""
        self._finish()

    def _finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)
        if self._transport is not None:
            self._transport.close()

    def _fail(self, exc: Exception) -> None:
        if not self.ready.done():
            # The watch never started: ``ready`` carries the error and nobody awaits ``done``.
            self.ready.set_exception(exc)
            self.done.cancel()
        elif not self.done.done():
            self.done.set_exception(exc)
        if self._transport is not None:
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self._fail(HttpError(f"watch connection lost: {exc or 'closed by the server'}"))


async def open_watch(
    host: str,
    port: int,
    path: str,
    *,
    ssl_context: ssl.SSLContext | None,
    token: str,
    on_line: Callable[[bytes, float], bool],
) -> WatchProtocol:
    """Connect and start a watch on ``path``; return once the server answered 200."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}Accept: application/json\r\n"
        "User-Agent: skiff-bench\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    _transport, protocol = await loop.create_connection(
        lambda: WatchProtocol(request, on_line, loop), host, port, ssl=ssl_context
    )
    await protocol.ready
    return protocol
