"""The server side of SPDY/3.1, as much as port-forward needs.

kubectl 1.32 carries port-forward's SPDY session inside a WebSocket (subprotocol
``SPDY/3.1+portforward.k8s.io``, ``client-go/tools/portforward/tunneling_dialer.go``): the binary
messages, concatenated, are the SPDY byte stream. The client (moby/spdystream) opens streams with
SYN_STREAM, waits for a SYN_REPLY on each, sends DATA (FIN half-closes), RST_STREAM when done,
and PINGs now and then. Flow control (WINDOW_UPDATE) is not enforced by that client and is
ignored here, as are SETTINGS.

Wire format (draft-mbelshe-httpbis-spdy-00, SPDY/3; big-endian throughout):

- control frame: ``0x8003``, type ``u16``, flags ``u8``, length ``u24``, payload;
- data frame: stream id ``u32`` (top bit 0), flags ``u8`` (``0x01`` FIN), length ``u24``, data;
- header blocks (SYN_STREAM, SYN_REPLY, HEADERS) are zlib streams with the SPDY/3 dictionary,
  one compression context per direction for the whole session, each block ending in a sync
  flush; decompressed: ``count u32`` then ``len u32, name, len u32, value`` per header
  (several values of one name joined by NUL).

`FrameParser`, `HeaderCodec` and the ``encode_*`` functions are pure; `Session` runs a session
over any byte transport (``send`` a coroutine function, ``feed`` what arrives).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import struct
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "DICTIONARY",
    "ControlFrame",
    "ControlType",
    "DataFrame",
    "FrameParser",
    "HeaderCodec",
    "ProtocolError",
    "RstStatus",
    "Session",
    "Stream",
    "encode_control",
    "encode_data",
    "encode_goaway",
    "encode_ping",
    "encode_rst_stream",
    "encode_syn_reply",
    "encode_syn_stream",
]

log = logging.getLogger(__name__)

VERSION = 3
FLAG_FIN = 0x01
MAX_LENGTH = (1 << 24) - 1


class ControlType(enum.IntEnum):
    SYN_STREAM = 1
    SYN_REPLY = 2
    RST_STREAM = 3
    SETTINGS = 4
    PING = 6
    GOAWAY = 7
    HEADERS = 8
    WINDOW_UPDATE = 9


class RstStatus(enum.IntEnum):
    PROTOCOL_ERROR = 1
    INVALID_STREAM = 2
    REFUSED_STREAM = 3
    UNSUPPORTED_VERSION = 4
    CANCEL = 5
    INTERNAL_ERROR = 6
    FLOW_CONTROL_ERROR = 7
    STREAM_IN_USE = 8
    STREAM_ALREADY_CLOSED = 9


def _dictionary() -> bytes:
    # the SPDY/3 header compression dictionary (draft-mbelshe-httpbis-spdy-00 section
    # 2.6.10.1): length-prefixed words, then a run of plain text; 1423 bytes in all
    words = [
        "options",
        "head",
        "post",
        "put",
        "delete",
        "trace",
        "accept",
        "accept-charset",
        "accept-encoding",
        "accept-language",
        "accept-ranges",
        "age",
        "allow",
        "authorization",
        "cache-control",
        "connection",
        "content-base",
        "content-encoding",
        "content-language",
        "content-length",
        "content-location",
        "content-md5",
        "content-range",
        "content-type",
        "date",
        "etag",
        "expect",
        "expires",
        "from",
        "host",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-range",
        "if-unmodified-since",
        "last-modified",
        "location",
        "max-forwards",
        "pragma",
        "proxy-authenticate",
        "proxy-authorization",
        "range",
        "referer",
        "retry-after",
        "server",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "vary",
        "via",
        "warning",
        "www-authenticate",
        "method",
        "get",
        "status",
    ]
    words += ["200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive"]
    words += ["origin"]
    text = (
        "100101201202205206300302303304305306307402405406407408409410411412413414415416417502"
        "504505203 Non-Authoritative Information204 No Content301 Moved Permanently"
        "400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error"
        "501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct "
        "Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,"
        "image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
        "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8"
        "charset=iso-8859-1,utf-,*,enq=0."
    )
    out = b"".join(struct.pack(">I", len(w)) + w.encode() for w in words) + text.encode()
    assert len(out) == 1423
    return out


DICTIONARY = _dictionary()


class ProtocolError(Exception):
    """The peer broke the framing (the session cannot go on)."""


@dataclass(frozen=True, slots=True)
class ControlFrame:
    type: int
    flags: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class DataFrame:
    stream_id: int
    flags: int
    data: bytes

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


_HEAD = struct.Struct(">HHI")  # version|control bit, type, flags<<24|length
_DATA_HEAD = struct.Struct(">II")  # stream id, flags<<24|length


class FrameParser:
    """Splits a byte stream into frames (whatever the chunking of what is fed)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[ControlFrame | DataFrame]:
        self._buffer += data
        frames: list[ControlFrame | DataFrame] = []
        while len(self._buffer) >= 8:
            length = int.from_bytes(self._buffer[5:8], "big")
            if len(self._buffer) < 8 + length:
                break
            head = bytes(self._buffer[:8])
            payload = bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            if head[0] & 0x80:
                word, kind, _ = _HEAD.unpack(head)
                version = word & 0x7FFF
                if version != VERSION:
                    raise ProtocolError(f"SPDY version {version} is not supported (only 3)")
                frames.append(ControlFrame(kind, head[4], payload))
            else:
                stream_id, _ = _DATA_HEAD.unpack(head)
                frames.append(DataFrame(stream_id & 0x7FFFFFFF, head[4], payload))
        return frames


class HeaderCodec:
    """Header blocks of one direction each way: a compressor for what is sent, a decompressor
    for what arrives (both persist for the session, as SPDY requires)."""

    def __init__(self) -> None:
        self._out = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, DICTIONARY)
        self._in = zlib.decompressobj(zdict=DICTIONARY)

    def encode(self, headers: Sequence[tuple[str, str]]) -> bytes:
        merged: dict[str, list[str]] = {}
        for name, value in headers:
            merged.setdefault(name.lower(), []).append(value)
        raw = bytearray(struct.pack(">I", len(merged)))
        for name, values in merged.items():
            n = name.encode()
            v = "\0".join(values).encode()
            raw += struct.pack(">I", len(n)) + n + struct.pack(">I", len(v)) + v
        return self._out.compress(bytes(raw)) + self._out.flush(zlib.Z_SYNC_FLUSH)

    def decode(self, block: bytes) -> dict[str, list[str]]:
        try:
            raw = self._in.decompress(block)
        except zlib.error as e:
            raise ProtocolError(f"cannot decompress a header block: {e}") from None
        headers: dict[str, list[str]] = {}
        try:
            (count,) = struct.unpack_from(">I", raw, 0)
            at = 4
            for _ in range(count):
                (n,) = struct.unpack_from(">I", raw, at)
                name = raw[at + 4 : at + 4 + n].decode()
                at += 4 + n
                (m,) = struct.unpack_from(">I", raw, at)
                value = raw[at + 4 : at + 4 + m].decode()
                at += 4 + m
                if at > len(raw):
                    raise ProtocolError("a header block ends inside a header")
                headers.setdefault(name.lower(), []).extend(value.split("\0"))
        except (struct.error, UnicodeDecodeError) as e:
            raise ProtocolError(f"malformed header block: {e}") from None
        return headers


def encode_control(kind: int, flags: int, payload: bytes) -> bytes:
    if len(payload) > MAX_LENGTH:
        raise ValueError("control frame too long")
    return _HEAD.pack(0x8000 | VERSION, kind, (flags << 24) | len(payload)) + payload


def encode_data(stream_id: int, data: bytes, *, fin: bool = False) -> bytes:
    if len(data) > MAX_LENGTH:
        raise ValueError("data frame too long")
    flags = FLAG_FIN if fin else 0
    return _DATA_HEAD.pack(stream_id & 0x7FFFFFFF, (flags << 24) | len(data)) + data


def encode_syn_stream(
    codec: HeaderCodec,
    stream_id: int,
    headers: Sequence[tuple[str, str]],
    *,
    fin: bool = False,
    priority: int = 0,
) -> bytes:
    """A SYN_STREAM (the client's frame; used by tests that play the client)."""
    block = codec.encode(headers)
    payload = struct.pack(">IIBB", stream_id, 0, (priority & 7) << 5, 0) + block
    return encode_control(ControlType.SYN_STREAM, FLAG_FIN if fin else 0, payload)


def encode_syn_reply(
    codec: HeaderCodec,
    stream_id: int,
    headers: Sequence[tuple[str, str]] = (),
    *,
    fin: bool = False,
) -> bytes:
    payload = struct.pack(">I", stream_id) + codec.encode(headers)
    return encode_control(ControlType.SYN_REPLY, FLAG_FIN if fin else 0, payload)


def encode_rst_stream(stream_id: int, status: int) -> bytes:
    return encode_control(ControlType.RST_STREAM, 0, struct.pack(">II", stream_id, status))


def encode_ping(ping_id: int) -> bytes:
    return encode_control(ControlType.PING, 0, struct.pack(">I", ping_id))


def encode_goaway(last_stream_id: int, status: int = 0) -> bytes:
    return encode_control(ControlType.GOAWAY, 0, struct.pack(">II", last_stream_id, status))


_EOF = b""


# what a stream holds of the peer's data before the session stops reading for it (the client
# does no flow control: a pod slower than the client slows the session down instead)
STREAM_BUFFER = 1 << 20


@dataclass(eq=False)
class Stream:
    """One stream the peer opened. ``read`` gives its data, ``b""`` once the peer half-closed
    (FIN) or reset it; ``write``/``close`` send DATA (FIN on close). Whoever stops reading a
    stream before its end calls ``abandon`` (its data is dropped from then on)."""

    session: Session
    id: int
    headers: dict[str, list[str]]
    _incoming: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    _buffered: int = 0
    _room: asyncio.Event = field(default_factory=asyncio.Event)
    remote_closed: bool = False
    local_closed: bool = False
    reset: bool = False
    abandoned: bool = False

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower()) or [""]
        return values[0]

    async def read(self) -> bytes:
        if self.remote_closed and self._incoming.empty():
            return _EOF
        data = await self._incoming.get()
        self._buffered -= len(data)
        if self._buffered < STREAM_BUFFER:
            self._room.set()
        return data

    def abandon(self) -> None:
        """Nobody reads this stream any more: drop what it holds and whatever comes."""
        self.abandoned = True
        while not self._incoming.empty():
            self._incoming.get_nowait()
        self._buffered = 0
        self._room.set()

    async def write(self, data: bytes) -> None:
        if self.local_closed or self.reset or not data:
            return
        for start in range(0, len(data), 1 << 16):
            await self.session.send(encode_data(self.id, data[start : start + (1 << 16)]))

    async def close(self) -> None:
        """Half-close: no more data from this side (DATA with FIN)."""
        if self.local_closed or self.reset:
            return
        self.local_closed = True
        await self.session.send(encode_data(self.id, b"", fin=True))

    async def abort(self, status: int = RstStatus.CANCEL) -> None:
        """Reset the stream (RST_STREAM)."""
        if self.reset:
            return
        self._remote_end(reset=True)
        await self.session.send(encode_rst_stream(self.id, status))

    async def _remote_data(self, data: bytes) -> None:
        while self._buffered >= STREAM_BUFFER and not (self.abandoned or self.remote_closed):
            self._room.clear()
            await self._room.wait()
        if not (self.remote_closed or self.abandoned) and data:
            self._incoming.put_nowait(data)
            self._buffered += len(data)

    def _remote_end(self, *, reset: bool = False) -> None:
        if reset:
            self.reset = True
            self.local_closed = True
        if not self.remote_closed:
            self.remote_closed = True
            self._incoming.put_nowait(_EOF)
        self._room.set()


class Session:
    """A SPDY/3 server session over a byte transport.

    ``send`` writes bytes to the peer (calls are serialised here); ``on_stream`` is called (as a
    task of its own) for each stream the peer opens, after its SYN_REPLY has been sent. ``feed``
    the bytes that arrive; `ProtocolError` from it means the session must end. ``close`` sends
    GOAWAY and cancels the stream tasks.
    """

    def __init__(
        self,
        send: Callable[[bytes], Awaitable[None]],
        on_stream: Callable[[Stream], Awaitable[None]],
    ) -> None:
        self._send = send
        self._on_stream = on_stream
        self._lock = asyncio.Lock()
        self._parser = FrameParser()
        self._codec = HeaderCodec()
        self.streams: dict[int, Stream] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_stream_id = 0
        self.closed = False

    async def send(self, frame: bytes) -> None:
        async with self._lock:
            if self.closed:
                return
            await self._send(frame)

    async def feed(self, data: bytes) -> None:
        for frame in self._parser.feed(data):
            if isinstance(frame, DataFrame):
                stream = self.streams.get(frame.stream_id)
                if stream is None:
                    continue  # a stream already gone: spdystream drops such data too
                await stream._remote_data(frame.data)
                if frame.fin:
                    stream._remote_end()
                    self._forget(stream)
            else:
                await self._control(frame)

    async def _control(self, frame: ControlFrame) -> None:
        p = frame.payload
        if frame.type == ControlType.SYN_STREAM:
            if len(p) < 10:
                raise ProtocolError("short SYN_STREAM")
            stream_id = int.from_bytes(p[0:4], "big") & 0x7FFFFFFF
            headers = self._codec.decode(p[10:])
            if stream_id == 0 or stream_id in self.streams or stream_id % 2 == 0:
                await self.send(encode_rst_stream(stream_id, RstStatus.PROTOCOL_ERROR))
                return
            self._last_stream_id = max(self._last_stream_id, stream_id)
            stream = Stream(self, stream_id, headers)
            self.streams[stream_id] = stream
            if frame.flags & FLAG_FIN:
                stream._remote_end()
            await self.send(encode_syn_reply(self._codec, stream_id))
            task = asyncio.create_task(self._run_stream(stream), name=f"spdy-stream-{stream_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif frame.type == ControlType.RST_STREAM:
            if len(p) < 8:
                raise ProtocolError("short RST_STREAM")
            stream_id = int.from_bytes(p[0:4], "big") & 0x7FFFFFFF
            gone = self.streams.pop(stream_id, None)
            if gone is not None:
                gone._remote_end(reset=True)
        elif frame.type == ControlType.PING:
            if len(p) < 4:
                raise ProtocolError("short PING")
            # the client's pings have odd ids; a server answers them unchanged
            await self.send(encode_control(ControlType.PING, 0, p[:4]))
        elif frame.type in (ControlType.HEADERS, ControlType.SYN_REPLY):
            # keep the decompression context in step even though the headers are not used
            if len(p) >= 4:
                self._codec.decode(p[4:])
        elif frame.type == ControlType.GOAWAY:
            for stream in list(self.streams.values()):
                stream._remote_end()
        # SETTINGS, WINDOW_UPDATE and unknown types are ignored

    async def _run_stream(self, stream: Stream) -> None:
        try:
            await self._on_stream(stream)
        except Exception:
            log.exception("SPDY stream %d failed", stream.id)
            with contextlib.suppress(Exception):
                await stream.abort(RstStatus.INTERNAL_ERROR)

    def _forget(self, stream: Stream) -> None:
        if stream.remote_closed and stream.local_closed:
            self.streams.pop(stream.id, None)

    async def close(self) -> None:
        """End the session: GOAWAY to the peer (if it can still be told), stream tasks cancelled."""
        if not self.closed:
            with contextlib.suppress(Exception):
                await self.send(encode_goaway(self._last_stream_id))
            self.closed = True
        for stream in list(self.streams.values()):
            stream._remote_end(reset=True)
            stream.abandon()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
