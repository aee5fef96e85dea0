"""The agent's side of the streaming protocols: exec/attach channels and port-forward.

exec and attach (``client-go/tools/remotecommand/websocket.go``, kubelet's
``pkg/kubelet/cri/streaming/remotecommand/websocket.go``): binary WebSocket messages whose first
byte names a channel - 0 stdin, 1 stdout, 2 stderr, 3 error (one ``metav1.Status`` at the end),
4 terminal resize (``{"Width":..,"Height":..}``) and, in ``v5.channel.k8s.io`` only, 255 "close
this channel" (kubectl sends ``[255, 0]`` when its stdin ends). ``v4.channel.k8s.io`` is the same
without 255. A command that exits non-zero ends with a Status of reason ``NonZeroExitCode`` whose
first cause (reason ``ExitCode``) carries the code, which kubectl exits with.

port-forward, two ways:

- kubectl 1.32: SPDY/3.1 inside the WebSocket (subprotocol ``SPDY/3.1+portforward.k8s.io``); per
  forwarded connection the client opens an ``error`` and a ``data`` stream with the same
  ``requestid`` and ``port`` headers (``apimachinery/pkg/util/portforward/constants.go``,
  kubelet's ``cri/streaming/portforward/httpstream.go``). Once both are there a connection to the
  port is made and bytes are relayed on the data stream; a failure is written on the error stream.
  Both streams are closed when the pod side has closed.
- the Python client's ``portforward()``: ``v4.channel.k8s.io`` with ``?ports=80,8080``; port i
  has data channel 2i and error channel 2i+1, and each channel first carries the port number
  (two bytes, little-endian) (kubelet's ``cri/streaming/portforward/websocket.go``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from skiff.agent import spdy
from skiff.runtime.base import StreamSession
from skiff.runtime.types import ContainerRuntimeError

__all__ = [
    "CHANNEL_PROTOCOLS",
    "PORT_FORWARD_PROTOCOLS",
    "SPDY_PORT_FORWARD",
    "Dial",
    "choose_protocol",
    "exit_status",
    "parse_ports",
    "refuse_stream",
    "serve_port_forward_spdy",
    "serve_port_forward_v4",
    "serve_remote_command",
]

log = logging.getLogger(__name__)

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
CHANNEL_PROTOCOLS = (V5, V4)
SPDY_PORT_FORWARD = "SPDY/3.1+portforward.k8s.io"
PORT_FORWARD_PROTOCOLS = (SPDY_PORT_FORWARD, V4)

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
_CHUNK = 32 * 1024

Dial = Callable[[int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
"""Opens a TCP connection to a port of the pod (``Runtime.port_forward`` bound to a sandbox)."""


def choose_protocol(offered: Sequence[str], supported: Sequence[str]) -> str | None:
    """The first of ``supported`` the client offered (the server's preference wins)."""
    wanted = {p.strip() for p in offered}
    return next((p for p in supported if p in wanted), None)


def exit_status(code: int | None) -> dict[str, Any]:
    """The channel-3 Status ending an exec: Success, or NonZeroExitCode with the code."""
    if not code:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: exit status {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def _failure(message: str, *, code: int = 500, reason: str = "InternalError") -> dict[str, Any]:
    return {
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def parse_ports(values: Sequence[str]) -> list[int]:
    """``ports`` query values (each may list several, comma-separated) as port numbers."""
    ports: list[int] = []
    for value in values:
        for part in value.split(","):
            text = part.strip()
            if not text:
                continue
            if not text.isdigit() or not 0 < int(text) < 65536:
                raise ValueError(f"invalid port {text!r}: must be 1-65535")
            ports.append(int(text))
    return ports


class _Sender:
    """Sends binary messages on a WebSocket one at a time; a client gone is not an error."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.lock = asyncio.Lock()
        self.gone = False

    async def send(self, data: bytes) -> None:
        async with self.lock:
            if self.gone:
                return
            try:
                await self.ws.send_bytes(data)
            except (WebSocketDisconnect, OSError, RuntimeError):
                self.gone = True

    async def close(self, code: int = 1000, reason: str = "") -> None:
        async with self.lock:
            if self.gone:
                return
            self.gone = True
            with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
                await self.ws.close(code, reason)


async def _messages(ws: WebSocket) -> Any:
    """The payloads a client sends, as bytes, until it goes away."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("bytes")
        if data is None and message.get("text") is not None:
            data = str(message["text"]).encode()
        if data:
            yield data


async def refuse_stream(ws: WebSocket, protocol: str, status: dict[str, Any]) -> None:
    """Accept ``ws`` only to end it with ``status`` (a Failure) on the error channel."""
    await ws.accept(subprotocol=protocol)
    out = _Sender(ws)
    await out.send(bytes([ERROR]) + json.dumps(status).encode())
    await out.close(1000)


async def serve_remote_command(
    ws: WebSocket,
    protocol: str,
    open_session: Callable[[], Awaitable[StreamSession]],
    *,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    tty: bool,
    report_exit_code: bool,
) -> None:
    """Accept ``ws`` with ``protocol`` and run an exec or attach session over it.

    ``open_session`` starts the process (``Runtime.exec``) or attaches (``Runtime.attach``); a
    runtime error from it ends the stream with a Failure Status. The stream ends when the
    process has closed its output and exited (exec) or the container ended (attach), with the
    Status on channel 3 (``report_exit_code``: a non-zero exit code is reported), or when the
    client goes away (the session is closed then: an exec'd process is killed).
    """
    await ws.accept(subprotocol=protocol)
    out = _Sender(ws)
    try:
        session = await open_session()
    except Exception as e:  # the runtime's failure, whatever it is, is the client's answer
        if not isinstance(e, ContainerRuntimeError):
            log.warning("starting a stream failed", exc_info=True)
        message = f"error executing command in container: {str(e) or type(e).__name__}"
        await out.send(bytes([ERROR]) + json.dumps(_failure(message)).encode())
        await out.close()
        return
    try:
        # kubelet writes an empty message on the first channel it will write to, so the
        # client knows the stream is up
        first = STDOUT if stdout else STDERR if stderr and not tty else ERROR
        await out.send(bytes([first]))

        async def pump(reader: asyncio.StreamReader, channel: int, wanted: bool) -> None:
            while chunk := await reader.read(_CHUNK):
                if wanted:
                    await out.send(bytes([channel]) + chunk)

        async def outputs() -> int | None:
            pumps = [pump(session.stdout, STDOUT, stdout)]
            if session.stderr is not None:
                pumps.append(pump(session.stderr, STDERR, stderr and not tty))
            await asyncio.gather(*pumps)
            return await session.wait()

        async def client() -> None:
            async for data in _messages(ws):
                channel, payload = data[0], data[1:]
                if channel == STDIN and stdin and payload:
                    await session.write_stdin(payload)
                elif channel == RESIZE and payload:
                    await _resize(session, payload)
                elif (
                    channel == CLOSE and protocol == V5 and payload[:1] == bytes([STDIN]) and stdin
                ):
                    await session.close_stdin()

        out_task = asyncio.create_task(outputs(), name="stream-outputs")
        in_task = asyncio.create_task(client(), name="stream-client")
        try:
            await asyncio.wait({out_task, in_task}, return_when=asyncio.FIRST_COMPLETED)
            if (
                not out_task.done()
                and in_task.done()
                and not in_task.cancelled()
                and in_task.exception() is not None
            ):
                # stdin could not be written (the process closed it): keep the output going
                await asyncio.wait({out_task})
            if out_task.done():
                failure = out_task.exception()
                if failure is not None:
                    log.warning("a stream's session failed", exc_info=failure)
                    status = _failure(
                        f"error in the stream: {str(failure) or type(failure).__name__}"
                    )
                else:
                    code = out_task.result()
                    status = exit_status(code if report_exit_code else 0)
                await out.send(bytes([ERROR]) + json.dumps(status).encode())
                await out.close(1000)
        finally:
            for task in (out_task, in_task):
                task.cancel()
            await asyncio.gather(out_task, in_task, return_exceptions=True)
    finally:
        with contextlib.suppress(Exception):
            await session.close()
        await out.close(1000)


async def _resize(session: StreamSession, payload: bytes) -> None:
    try:
        size = json.loads(payload)
        width, height = int(size.get("Width", 0)), int(size.get("Height", 0))
    except (ValueError, TypeError, AttributeError):
        return
    if width > 0 and height > 0:
        with contextlib.suppress(ContainerRuntimeError, OSError):
            await session.resize(width, height)


def _close_writer(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, RuntimeError):
        writer.close()


async def serve_port_forward_v4(ws: WebSocket, ports: Sequence[int], dial: Dial) -> None:
    """The Python client's port-forward: accept ``ws`` (``v4.channel.k8s.io``) and relay each
    port's connection on its data channel until every pod connection has closed or the client
    goes away."""
    await ws.accept(subprotocol=V4)
    out = _Sender(ws)
    for i, port in enumerate(ports):
        prefix = port.to_bytes(2, "little")
        await out.send(bytes([2 * i]) + prefix)
        await out.send(bytes([2 * i + 1]) + prefix)
    writers: dict[int, asyncio.StreamWriter] = {}
    pumps: list[asyncio.Task[None]] = []

    async def pod_to_client(i: int, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(OSError):
            while chunk := await reader.read(_CHUNK):
                await out.send(bytes([2 * i]) + chunk)

    for i, port in enumerate(ports):
        try:
            reader, writer = await dial(port)
        except (OSError, ContainerRuntimeError) as e:
            await out.send(bytes([2 * i + 1]) + _forward_error(port, e).encode())
            continue
        writers[i] = writer
        pumps.append(asyncio.create_task(pod_to_client(i, reader), name=f"pf-{port}"))

    async def client() -> None:
        async for data in _messages(ws):
            channel, payload = data[0], data[1:]
            writer = writers.get(channel // 2) if channel % 2 == 0 else None
            if writer is not None and payload:
                try:
                    writer.write(payload)
                    await writer.drain()
                except OSError:
                    writers.pop(channel // 2, None)

    if not pumps:
        # no port could be reached: the errors are said, nothing is left to relay
        await out.close(1000)
        return
    in_task = asyncio.create_task(client(), name="pf-client")
    all_pumps = asyncio.ensure_future(asyncio.gather(*pumps))
    try:
        waiting: set[asyncio.Future[Any]] = {in_task, all_pumps}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        in_task.cancel()
        for task in pumps:
            task.cancel()
        await asyncio.gather(in_task, *pumps, return_exceptions=True)
        await asyncio.gather(all_pumps, return_exceptions=True)
        for writer in writers.values():
            _close_writer(writer)
        await out.close(1000)


def _forward_error(port: int, error: BaseException) -> str:
    return f"error forwarding port {port} to pod: {str(error) or type(error).__name__}"


async def serve_port_forward_spdy(ws: WebSocket, dial: Dial) -> None:
    """kubectl's port-forward: accept ``ws`` (``SPDY/3.1+portforward.k8s.io``), run a SPDY
    session over its messages and forward each (error, data) stream pair until the client goes
    away."""
    await ws.accept(subprotocol=SPDY_PORT_FORWARD)
    out = _Sender(ws)
    pairs: dict[str, dict[str, spdy.Stream]] = {}

    async def on_stream(stream: spdy.Stream) -> None:
        kind = stream.header("streamtype")
        port_text = stream.header("port")
        if kind not in ("error", "data") or not port_text.isdigit():
            await stream.abort(spdy.RstStatus.PROTOCOL_ERROR)
            return
        port = int(port_text)
        key = stream.header("requestid") or f"port-{port}"
        pair = pairs.setdefault(key, {})
        pair[kind] = stream
        if "error" in pair and "data" in pair:
            del pairs[key]
            await _forward_spdy(pair["error"], pair["data"], port, dial)

    session = spdy.Session(out.send, on_stream)
    try:
        async for data in _messages(ws):
            await session.feed(data)
    except spdy.ProtocolError as e:
        log.warning("port-forward: %s", e)
    finally:
        await session.close()
        await out.close(1000)


async def _forward_spdy(
    error_stream: spdy.Stream, data_stream: spdy.Stream, port: int, dial: Dial
) -> None:
    try:
        reader, writer = await dial(port)
    except (OSError, ContainerRuntimeError) as e:
        await error_stream.write(_forward_error(port, e).encode())
        data_stream.abandon()
        error_stream.abandon()
        await error_stream.close()
        await data_stream.close()
        return

    async def client_to_pod() -> None:
        while data := await data_stream.read():
            writer.write(data)
            await writer.drain()
        if not data_stream.reset and writer.can_write_eof():
            # the client half-closed: so does the connection to the pod, whose answer may follow
            writer.write_eof()

    async def pod_to_client() -> None:
        while chunk := await reader.read(_CHUNK):
            await data_stream.write(chunk)

    up = asyncio.create_task(client_to_pod(), name=f"pf-up-{port}")
    down = asyncio.create_task(pod_to_client(), name=f"pf-down-{port}")
    try:
        await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        if up.done() and not down.done() and not data_stream.reset and up.exception() is None:
            await asyncio.wait({down})
        failure = next(
            (
                t.exception()
                for t in (up, down)
                if t.done() and not t.cancelled() and t.exception() is not None
            ),
            None,
        )
        if failure is not None and not data_stream.reset:
            await error_stream.write(_forward_error(port, failure).encode())
    finally:
        for task in (up, down):
            task.cancel()
        await asyncio.gather(up, down, return_exceptions=True)
        _close_writer(writer)
        data_stream.abandon()
        error_stream.abandon()
        await data_stream.close()
        await error_stream.close()
