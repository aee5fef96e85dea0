"""A minimal HTTP/1.1 keep-alive client over asyncio TLS streams, for load generation only.

Why not httpx: on this 2-core machine the load generator shares the CPU with the server it
measures, so every microsecond the client spends per request is taken from the server. httpx's
AsyncClient costs several hundred microseconds of CPU per request (request/response models, header
normalisation, its connection pool); writing a pre-built request and reading ``Content-Length`` or
chunked bodies straight off the stream costs a fraction of that (README.md has the figures). The
server side is unchanged: real TLS, real HTTP/1.1, one request at a time per connection, exactly
what 50 keep-alive clients do.

This client understands only what the benchmarks need: responses with ``Content-Length`` or
``Transfer-Encoding: chunked``, and newline-delimited streams (watch) inside chunked bodies.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass

__all__ = ["HttpConnection", "HttpError", "Response", "client_ssl_context"]


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
        reader, writer = await asyncio.open_connection(
            host, port, ssl=ssl_context, limit=1 << 20
        )
        return cls(reader, writer, f"{host}:{port}", token)

    def _head(self, method: str, path: str, body: bytes | None) -> bytes:
        length = (
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            if body is not None
            else ""
        )
        return f"{method} {path} HTTP/1.1\r\n".encode() + self._common + length.encode() + b"\r\n"

    async def request(self, method: str, path: str, body: bytes | None = None) -> Response:
        """Send one request and read its whole response."""
        self._writer.write(self._head(method, path, body) + (body or b""))
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

    async def start_stream(self, path: str) -> None:
        """GET ``path`` (a watch) and return once the response head says 200.

        Raises :class:`HttpError` for any other status. Read the body with :meth:`lines`.
        """
        self._writer.write(self._head("GET", path, None))
        status, headers = await self._read_head()
        if status != 200:
            length = int(headers.get("content-length", "0"))
            detail = await self._reader.read(length) if length else b""
            raise HttpError(f"watch answered {status}: {detail[:300]!r}")

    async def lines(self) -> AsyncIterator[bytes]:
        """Yield each newline-terminated line of the chunked body started by :meth:`start_stream`.

        The iteration ends when the server ends the body.
        """
        pending = b""
        async for chunk in self._chunks():
            pending += chunk
            if b"\n" not in pending:
                continue
            *complete, pending = pending.split(b"\n")
            for line in complete:
                if line:
                    yield line

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
        try:
            await self._writer.wait_closed()
        except (OSError, ssl.SSLError):
            pass
