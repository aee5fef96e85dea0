"""skiff.agent.spdy and the pure parts of skiff.agent.streaming.

Covers the SPDY/3 dictionary, header blocks through one persistent zlib context per direction
(several blocks in a row, several values of one name), frames split at any byte, a session
answering SYN_STREAM with SYN_REPLY, delivering DATA and FIN, echoing PING, honouring RST_STREAM,
refusing a server-numbered stream, sending DATA/FIN and GOAWAY; the channel protocol choice, the
exit Status kubectl turns into its exit code, and the ``ports`` parameter. exec/attach and
port-forward over real WebSockets are in test_agent_server.py.
"""

from __future__ import annotations

import asyncio
import struct
import zlib

import pytest

from skiff.agent import spdy, streaming
from skiff.agent.spdy import ControlFrame, ControlType, DataFrame, HeaderCodec
from skiff.testing.wait import eventually


def test_dictionary_is_the_spdy3_one() -> None:
    d = spdy.DICTIONARY
    assert len(d) == 1423
    assert d.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head")
    assert d.endswith(b"charset=iso-8859-1,utf-,*,enq=0.")
    # a header block names the dictionary by its Adler-32 in the zlib header (FDICT)
    block = HeaderCodec().encode([("port", "80")])
    assert block[1] & 0x20
    assert struct.unpack(">I", block[2:6])[0] == zlib.adler32(d)


def test_header_blocks_share_one_context_per_direction() -> None:
    sender, receiver = HeaderCodec(), HeaderCodec()
    first = sender.encode([("streamtype", "error"), ("port", "80"), ("requestid", "0")])
    second = sender.encode([("streamtype", "data"), ("port", "80"), ("requestid", "0")])
    third = sender.encode([("X-Many", "a"), ("x-many", "b")])
    # the second block leans on the first's history: alone it does not decompress
    with pytest.raises(spdy.ProtocolError):
        HeaderCodec().decode(second)
    assert receiver.decode(first) == {
        "streamtype": ["error"],
        "port": ["80"],
        "requestid": ["0"],
    }
    assert receiver.decode(second)["streamtype"] == ["data"]
    assert receiver.decode(third) == {"x-many": ["a", "b"]}
    assert receiver.decode(sender.encode([])) == {}


def test_frames_parse_whatever_the_chunking() -> None:
    codec = HeaderCodec()
    wire = (
        spdy.encode_syn_stream(codec, 1, [("port", "80")], fin=True)
        + spdy.encode_data(1, b"hello")
        + spdy.encode_data(3, b"", fin=True)
        + spdy.encode_ping(7)
        + spdy.encode_rst_stream(3, spdy.RstStatus.CANCEL)
        + spdy.encode_goaway(3)
    )
    parser = spdy.FrameParser()
    frames: list[ControlFrame | DataFrame] = []
    for i in range(len(wire)):
        frames += parser.feed(wire[i : i + 1])
    assert [type(f).__name__ for f in frames] == [
        "ControlFrame",
        "DataFrame",
        "DataFrame",
        "ControlFrame",
        "ControlFrame",
        "ControlFrame",
    ]
    syn = frames[0]
    assert isinstance(syn, ControlFrame)
    assert syn.type == ControlType.SYN_STREAM and syn.flags == spdy.FLAG_FIN
    assert frames[1] == DataFrame(1, 0, b"hello")
    fin = frames[2]
    assert isinstance(fin, DataFrame) and fin.fin and fin.stream_id == 3
    assert frames[3] == ControlFrame(ControlType.PING, 0, struct.pack(">I", 7))
    assert frames[4] == ControlFrame(ControlType.RST_STREAM, 0, struct.pack(">II", 3, 5))
    with pytest.raises(spdy.ProtocolError):
        spdy.FrameParser().feed(b"\x80\x02\x00\x01\x00\x00\x00\x00")


class _Peer:
    """The client side of a session: what the server sent, parsed."""

    def __init__(self) -> None:
        self.codec = HeaderCodec()  # the client's compressor
        self.replies = HeaderCodec()  # decodes the server's blocks
        self.parser = spdy.FrameParser()
        self.frames: list[ControlFrame | DataFrame] = []

    async def receive(self, data: bytes) -> None:
        self.frames += self.parser.feed(data)

    def controls(self, kind: int) -> list[ControlFrame]:
        return [f for f in self.frames if isinstance(f, ControlFrame) and f.type == kind]

    def data(self, stream_id: int) -> list[DataFrame]:
        return [f for f in self.frames if isinstance(f, DataFrame) and f.stream_id == stream_id]


async def test_session_opens_streams_relays_data_and_answers_pings() -> None:
    peer = _Peer()
    opened: list[spdy.Stream] = []
    received: dict[int, list[bytes]] = {}

    async def on_stream(stream: spdy.Stream) -> None:
        opened.append(stream)
        chunks = received.setdefault(stream.id, [])
        while data := await stream.read():
            chunks.append(data)
        chunks.append(b"<eof>")
        await stream.write(b"bye " + stream.header("streamtype").encode())
        await stream.close()

    session = spdy.Session(peer.receive, on_stream)
    try:
        await session.feed(
            spdy.encode_syn_stream(peer.codec, 1, [("streamtype", "error"), ("port", "80")])
            + spdy.encode_data(1, b"", fin=True)
            + spdy.encode_syn_stream(peer.codec, 3, [("streamtype", "data"), ("port", "80")])
            + spdy.encode_data(3, b"abc")
            + spdy.encode_ping(1)
        )
        replies = peer.controls(ControlType.SYN_REPLY)
        assert [struct.unpack(">I", r.payload[:4])[0] for r in replies] == [1, 3]
        for r in replies:
            assert peer.replies.decode(r.payload[4:]) == {}
        assert peer.controls(ControlType.PING) == [
            ControlFrame(ControlType.PING, 0, struct.pack(">I", 1))
        ]
        await eventually(lambda: received.get(1) == [b"<eof>"], what="the error stream ended")
        await eventually(lambda: received.get(3) == [b"abc"], what="data on stream 3")
        await session.feed(spdy.encode_data(3, b"def", fin=True))
        await eventually(lambda: received[3] == [b"abc", b"def", b"<eof>"], what="FIN")
        await eventually(lambda: len(peer.data(3)) == 2, what="the answer and its FIN")
        assert peer.data(3) == [DataFrame(3, 0, b"bye data"), DataFrame(3, spdy.FLAG_FIN, b"")]
        assert opened[0].header("port") == "80"
        # a stream numbered as the server's (even) is refused
        await session.feed(spdy.encode_syn_stream(peer.codec, 4, [("port", "80")]))
        rst = peer.controls(ControlType.RST_STREAM)
        assert rst[-1].payload == struct.pack(">II", 4, spdy.RstStatus.PROTOCOL_ERROR)
        # a reset stream reads as ended, and the session does not write to it
        await session.feed(
            spdy.encode_syn_stream(peer.codec, 5, [("streamtype", "data"), ("port", "81")])
        )
        await eventually(lambda: 5 in received, what="stream 5 open")
        await session.feed(spdy.encode_rst_stream(5, spdy.RstStatus.CANCEL))
        await eventually(lambda: received[5] == [b"<eof>"], what="the reset seen")
        # (the handler's write and close follow the EOF without a pause: they were dropped)
        assert peer.data(5) == []
    finally:
        await session.close()
    goaway = peer.controls(ControlType.GOAWAY)
    assert goaway and struct.unpack(">I", goaway[0].payload[:4])[0] == 5


async def test_session_ignores_settings_and_window_updates_and_stays_in_step() -> None:
    peer = _Peer()
    seen: list[dict[str, list[str]]] = []

    async def on_stream(stream: spdy.Stream) -> None:
        seen.append(stream.headers)

    session = spdy.Session(peer.receive, on_stream)
    try:
        await session.feed(
            spdy.encode_control(ControlType.SETTINGS, 0, struct.pack(">I", 0))
            + spdy.encode_control(ControlType.WINDOW_UPDATE, 0, struct.pack(">II", 1, 1000))
            + spdy.encode_syn_stream(peer.codec, 1, [("a", "1")])
            # a HEADERS frame's block must still go through the decompressor
            + spdy.encode_control(
                ControlType.HEADERS, 0, struct.pack(">I", 1) + peer.codec.encode([("b", "2")])
            )
            + spdy.encode_syn_stream(peer.codec, 3, [("c", "3")])
        )
        await eventually(lambda: len(seen) == 2, what="both streams")
        assert seen == [{"a": ["1"]}, {"c": ["3"]}]
    finally:
        await session.close()


async def test_a_full_stream_holds_the_session_back_until_read_or_abandoned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spdy, "STREAM_BUFFER", 10)
    peer = _Peer()
    streams: list[spdy.Stream] = []

    async def on_stream(stream: spdy.Stream) -> None:
        streams.append(stream)

    session = spdy.Session(peer.receive, on_stream)
    try:
        await session.feed(spdy.encode_syn_stream(peer.codec, 1, [("a", "1")]))
        await session.feed(spdy.encode_data(1, b"0123456789"))
        await eventually(lambda: bool(streams), what="the stream")
        stream = streams[0]
        blocked = asyncio.create_task(session.feed(spdy.encode_data(1, b"more")))
        await eventually(lambda: not stream._room.is_set(), what="the feed waiting for room")
        assert not blocked.done()
        assert await stream.read() == b"0123456789"
        await asyncio.wait_for(blocked, 5)
        assert await stream.read() == b"more"
        # abandoned, the stream takes no more and holds nothing back
        await session.feed(spdy.encode_data(1, b"0123456789"))
        late = asyncio.create_task(session.feed(spdy.encode_data(1, b"x")))
        await eventually(lambda: not stream._room.is_set(), what="the feed waiting again")
        assert not late.done()
        stream.abandon()
        await asyncio.wait_for(late, 5)
        await session.feed(spdy.encode_data(1, b"dropped", fin=True))
        assert await stream.read() == b""
    finally:
        await session.close()


def test_exit_status_carries_the_code() -> None:
    assert streaming.exit_status(0) == {"metadata": {}, "status": "Success"}
    assert streaming.exit_status(None)["status"] == "Success"
    failed = streaming.exit_status(3)
    assert failed["reason"] == "NonZeroExitCode"
    assert failed["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]


def test_protocol_choice_prefers_the_newest() -> None:
    both = ["v4.channel.k8s.io", "v5.channel.k8s.io"]
    assert streaming.choose_protocol(both, streaming.CHANNEL_PROTOCOLS) == "v5.channel.k8s.io"
    assert streaming.choose_protocol(["v4.channel.k8s.io"], streaming.CHANNEL_PROTOCOLS) == (
        "v4.channel.k8s.io"
    )
    assert streaming.choose_protocol(["channel.k8s.io"], streaming.CHANNEL_PROTOCOLS) is None
    assert (
        streaming.choose_protocol(["SPDY/3.1+portforward.k8s.io"], streaming.PORT_FORWARD_PROTOCOLS)
        == streaming.SPDY_PORT_FORWARD
    )


def test_ports_parameter() -> None:
    assert streaming.parse_ports(["80,8080", "9000"]) == [80, 8080, 9000]
    assert streaming.parse_ports([]) == []
    for bad in (["0"], ["65536"], ["http"], ["80,-1"]):
        with pytest.raises(ValueError):
            streaming.parse_ports(bad)
