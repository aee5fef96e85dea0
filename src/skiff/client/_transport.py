"""`LeanTransport`: a small HTTP/1.1 keep-alive ``httpx.AsyncBaseTransport`` over asyncio streams.

Why: the scheduler binds hundreds of pods a second and controllers write in bursts, so the
client's own CPU per request matters on a 2-core node. httpx's default transport (httpcore) pays
for generality this client never uses (HTTP/2, proxies, a state machine per connection, h11's
event objects, trio/anyio portability). This transport writes the request head in one ``write``,
parses the response head with ``bytes`` operations and reads ``Content-Length`` or chunked bodies
straight off the ``asyncio.StreamReader``. ``bench/client_transport.py`` measures both; the figures
and the choice are in docs/client.md.

What it does, and keeps from httpx's transport:

* TLS through the caller's ``ssl.SSLContext`` (verification, client certificates), SNI from the
  ``sni_hostname`` request extension (``tls-server-name``) or the URL host;
* a bounded pool per (scheme, host, port): ``max_connections`` in use at once, waiting at most the
  ``pool`` timeout (then ``httpx.PoolTimeout``); idle connections are reused, closed ones dropped;
* ``connect``/``read``/``write`` timeouts from the request's ``timeout`` extension, raised as the
  matching ``httpx`` timeout errors; socket failures are ``httpx.ConnectError``/``ReadError``/
  ``WriteError``, malformed answers ``httpx.RemoteProtocolError``, so callers handle
  ``httpx.TransportError`` exactly as before;
* streaming responses (watches): a chunked body is handed out chunk by chunk as it arrives; the
  connection goes back to the pool only when the body was read to its end;
* a request on a reused connection that the server had already closed (EOF before any response
  byte) is sent once more on a fresh connection, as browsers and httpcore do for idle keep-alive
  races.

Not supported, on purpose: HTTP/2, proxies, ``HEAD`` requests, ``Expect: 100-continue``, request
bodies that are not in memory (the client always sends bytes), response trailers (ignored).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import httpx

__all__ = ["LeanTransport", "Origin", "RawResponse", "encode_head"]


class _NoDeadline:
    """``asyncio.timeout(None)`` without its cost (it still builds and reschedules a Timeout)."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


_NO_DEADLINE = _NoDeadline()


def _deadline(seconds: float | None) -> asyncio.Timeout | _NoDeadline:
    return _NO_DEADLINE if seconds is None else asyncio.timeout(seconds)


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class _Pool:
    """Connections to one origin: idle ones to reuse, and a limit on how many exist."""

    def __init__(self, limit: int | None) -> None:
        self.idle: list[_Conn] = []
        self.slots = asyncio.Semaphore(limit) if limit else None


class _Body(httpx.AsyncByteStream):
    """A response body read from the connection; gives the connection back when fully read."""

    def __init__(
        self,
        transport: LeanTransport,
        pool: _Pool,
        conn: _Conn,
        *,
        length: int | None,
        chunked: bool,
        keep_alive: bool,
        read_timeout: float | None,
    ) -> None:
        self._transport = transport
        self._pool = pool
        self._conn = conn
        self._length = length
        self._chunked = chunked
        self._keep_alive = keep_alive
        self._read_timeout = read_timeout
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        reader = self._conn.reader
        timeout = self._read_timeout
        try:
            if self._chunked:
                while True:
                    async with _deadline(timeout):
                        size_line = await reader.readuntil(b"\r\n")
                    try:
                        size = int(size_line.split(b";", 1)[0], 16)
                    except ValueError:
                        raise httpx.RemoteProtocolError("bad chunk size line") from None
                    if size == 0:
                        async with _deadline(timeout):
                            while await reader.readuntil(b"\r\n") != b"\r\n":
                                pass  # trailers
                        break
                    async with _deadline(timeout):
                        data = await reader.readexactly(size + 2)
                    yield data[:-2]
            elif self._length is not None:
                remaining = self._length
                while remaining:
                    async with _deadline(timeout):
                        data = await reader.read(min(remaining, 1 << 16))
                    if not data:
                        raise httpx.RemoteProtocolError("connection closed mid-body")
                    remaining -= len(data)
                    yield data
            else:
                self._keep_alive = False
                while True:
                    async with _deadline(timeout):
                        data = await reader.read(1 << 16)
                    if not data:
                        break
                    yield data
        except TimeoutError:
            self._release(reuse=False)
            raise httpx.ReadTimeout("timed out reading the response body") from None
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            self._release(reuse=False)
            raise httpx.RemoteProtocolError(f"truncated response body: {exc}") from exc
        except (OSError, ssl.SSLError) as exc:
            self._release(reuse=False)
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        except BaseException:
            self._release(reuse=False)
            raise
        self._release(reuse=self._keep_alive)

    def _release(self, *, reuse: bool) -> None:
        if self._released:
            return
        self._released = True
        self._transport._release(self._pool, self._conn, reuse=reuse)

    async def aclose(self) -> None:
        # Closed before the end (a watch the caller stopped): the connection's state is unknown.
        self._release(reuse=False)


class LeanTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 keep-alive transport; see the module docstring for what it does and does not do."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int | None = 100,
    ) -> None:
        self._ssl = ssl_context
        self._limit = max_connections
        self._pools: dict[Origin, _Pool] = {}
        self._live: set[_Conn] = set()
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        tls = url.raw_scheme == b"https"
        origin = Origin(
            tls=tls,
            host=url.host,
            port=url.port or (443 if tls else 80),
            sni=request.extensions.get("sni_hostname"),
        )
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        head = _request_head(request)
        body = await request.aread()
        status, reason, headers, stream = await self._send(origin, head, body, timeouts)
        return httpx.Response(
            status,
            headers=headers,
            stream=stream,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )

    async def fetch(
        self,
        origin: Origin,
        head: bytes,
        body: bytes,
        timeouts: Mapping[str, float | None],
    ) -> RawResponse:
        """Send one request whose head is already encoded (`encode_head`) and read the whole
        answer: the direct path `Client` takes for ordinary requests, without building httpx
        request and response models. Raises the same ``httpx`` errors as a request through
        httpx."""
        # One deadline for the whole exchange instead of one per read and write: each asyncio
        # timeout arms a timer, and four of them were a quarter of this path's CPU.
        # The wait for a free connection is not part of it (that is the pool timeout).
        pool = self._pool(origin)
        await self._acquire(pool, timeouts.get("pool"))
        inner = {"connect": timeouts.get("connect")}
        try:
            async with _deadline(timeouts.get("read")):
                status, reason, headers, stream = await self._send(
                    origin, head, body, inner, acquired=pool
                )
                parts = [chunk async for chunk in stream]
        except TimeoutError:
            raise httpx.ReadTimeout("timed out waiting for the response") from None
        return RawResponse(status, reason, headers, b"".join(parts))

    def _pool(self, origin: Origin) -> _Pool:
        if self._closed:
            raise httpx.ConnectError("transport is closed")
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = _Pool(self._limit)
        return pool

    async def _acquire(self, pool: _Pool, pool_timeout: float | None) -> None:
        """Take a connection slot, waiting at most ``pool_timeout`` seconds for one."""
        if pool.slots is None:
            return
        if not pool.slots.locked():
            await pool.slots.acquire()  # a free slot: taken at once, no timer needed
            return
        try:
            async with _deadline(pool_timeout):
                await pool.slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("timed out waiting for a free connection") from None

    async def _send(
        self,
        origin: Origin,
        head: bytes,
        body: bytes,
        timeouts: Mapping[str, float | None],
        *,
        acquired: _Pool | None = None,
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]], _Body]:
        """Send on a pooled connection; ``acquired`` is the pool whose slot the caller holds."""
        if acquired is not None:
            pool = acquired
        else:
            pool = self._pool(origin)
            await self._acquire(pool, timeouts.get("pool"))
        try:
            for attempt in range(2):
                conn, reused = await self._connect(pool, origin, timeouts, fresh=attempt > 0)
                try:
                    return await self._exchange(pool, conn, head, body, timeouts)
                except _StaleConnection:
                    self._discard(conn)
                    if not reused:
                        raise httpx.RemoteProtocolError(
                            "server closed the connection without a response"
                        ) from None
                except BaseException:
                    # Failed or cancelled mid-exchange: the connection's state is unknown.
                    self._discard(conn)
                    raise
            raise AssertionError("unreachable")  # pragma: no cover
        except BaseException:
            if pool.slots is not None:
                pool.slots.release()
            raise

    async def _connect(
        self,
        pool: _Pool,
        origin: Origin,
        timeouts: Mapping[str, float | None],
        *,
        fresh: bool,
    ) -> tuple[_Conn, bool]:
        while pool.idle and not fresh:
            conn = pool.idle.pop()
            if conn.usable():
                return conn, True
            self._discard(conn)
        tls = origin.tls
        if tls and self._ssl is None:
            self._ssl = ssl.create_default_context()
        try:
            async with _deadline(timeouts.get("connect")):
                reader, writer = await asyncio.open_connection(
                    origin.host,
                    origin.port,
                    ssl=self._ssl if tls else None,
                    server_hostname=(origin.sni or origin.host) if tls else None,
                    limit=1 << 20,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"timed out connecting to {origin.host}") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # Nagle plus the server's delayed ACK would add ~40 ms to a request whose head and
            # body leave in separate segments.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = _Conn(reader, writer)
        self._live.add(conn)
        return conn, False

    async def _exchange(
        self,
        pool: _Pool,
        conn: _Conn,
        head: bytes,
        body: bytes,
        timeouts: Mapping[str, float | None],
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]], _Body]:
        try:
            conn.writer.write(head + body if len(body) < 65536 else head)
            if len(body) >= 65536:
                conn.writer.write(body)
            async with _deadline(timeouts.get("write")):
                await conn.writer.drain()
        except TimeoutError:
            conn.close()
            raise httpx.WriteTimeout("timed out sending the request") from None
        except (OSError, ssl.SSLError) as exc:
            raise _StaleConnection from exc
        read_timeout = timeouts.get("read")
        try:
            async with _deadline(read_timeout):
                raw = await conn.reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            conn.close()
            raise httpx.ReadTimeout("timed out waiting for the response") from None
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _StaleConnection from exc
            conn.close()
            raise httpx.RemoteProtocolError("connection closed inside the response head") from exc
        except asyncio.LimitOverrunError as exc:
            conn.close()
            raise httpx.RemoteProtocolError("response head too large") from exc
        except (OSError, ssl.SSLError) as exc:
            conn.close()
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        status, reason, headers = _parse_head(raw, conn)
        length: int | None = None
        chunked = False
        keep_alive = True
        for name, value in headers:
            lname = name.lower()
            if lname == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    conn.close()
                    raise httpx.RemoteProtocolError("bad Content-Length") from None
            elif lname == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif lname == b"connection":
                keep_alive = b"close" not in value.lower()
        if status in (204, 304) or 100 <= status < 200:
            length = 0
        if chunked:
            length = None
        stream = _Body(
            self,
            pool,
            conn,
            length=length,
            chunked=chunked,
            keep_alive=keep_alive,
            read_timeout=read_timeout,
        )
        return status, reason, headers, stream

    def _release(self, pool: _Pool, conn: _Conn, *, reuse: bool) -> None:
        if reuse and not self._closed and conn.usable():
            pool.idle.append(conn)
        else:
            self._discard(conn)
        if pool.slots is not None:
            pool.slots.release()

    def _discard(self, conn: _Conn) -> None:
        conn.close()
        self._live.discard(conn)

    async def aclose(self) -> None:
        """Close every connection, idle or still streaming."""
        self._closed = True
        conns = list(self._live)
        self._live.clear()
        self._pools.clear()
        for conn in conns:
            conn.close()
        for conn in conns:
            with contextlib.suppress(OSError, ssl.SSLError):
                await conn.writer.wait_closed()


@dataclass(frozen=True, slots=True)
class Origin:
    """Where connections go: scheme, host and port, plus the TLS server name to verify (SNI)."""

    tls: bool
    host: str
    port: int
    sni: str | None = None


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A whole response read by `LeanTransport.fetch`."""

    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    content: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive)."""
        key = name.lower().encode()
        for k, v in self.headers:
            if k.lower() == key:
                return v.decode("latin-1")
        return None


class _StaleConnection(Exception):
    """The connection was closed by the peer before any byte of a response arrived."""


def _request_head(request: httpx.Request) -> bytes:
    url = request.url
    target = url.raw_path  # path plus query, already percent-encoded
    lines = [request.method.encode(), b" ", target, b" HTTP/1.1\r\n"]
    for name, value in request.headers.raw:
        lines += (name, b": ", value, b"\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)


def encode_head(method: str, target: str, headers: Mapping[str, str]) -> bytes:
    """An HTTP/1.1 request head: ``target`` is the percent-encoded path and query; ``headers``
    must include ``Host`` (and ``Content-Length`` when there is a body)."""
    lines = [f"{method} {target} HTTP/1.1\r\n"]
    lines.extend(f"{name}: {value}\r\n" for name, value in headers.items())
    lines.append("\r\n")
    head = "".join(lines)
    if "\n" in "".join(headers.values()) or "\r" in "".join(headers.values()):
        raise ValueError("header values may not contain line breaks")
    return head.encode("latin-1")


def _parse_head(raw: bytes, conn: _Conn) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    lines = raw[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    try:
        if not parts[0].startswith(b"HTTP/1."):
            raise ValueError(parts[0])
        status = int(parts[1])
    except (IndexError, ValueError):
        conn.close()
        raise httpx.RemoteProtocolError(f"bad status line {lines[0]!r}") from None
    reason = parts[2] if len(parts) > 2 else b""
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            conn.close()
            raise httpx.RemoteProtocolError(f"bad header line {line!r}")
        headers.append((name.strip(), value.strip()))
    return status, reason, headers
