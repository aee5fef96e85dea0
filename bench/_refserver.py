"""The watch fan-out reference: a bare asyncio HTTPS server that only relays lines.

``python -m bench._refserver CERT KEY`` listens on a free 127.0.0.1 port (printed as the first
stdout line, JSON) and speaks just enough HTTP/1.1 for the benchmark's own clients:

* ``GET`` anything: a chunked 200 response that stays open; the connection joins the audience.
* ``POST`` anything: the body is wrapped as ``{"type":"ADDED","object":<body>}`` and written as
  one chunk to every open GET, then answered ``201`` with the body.

It is the floor under the API server's watch path on this machine: the same TLS, the same asyncio
transport writes to the same number of sockets, and the same client code reading it, with no
storage, validation, serialization or watch cache in between. It exits when stdin closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import sys

import orjson

from bench._http import run_async

__all__ = ["main"]

_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
)


class _Relay:
    def __init__(self) -> None:
        self.audience: set[asyncio.StreamWriter] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method = lines[0].split(" ", 1)[0]
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                if method == "GET":
                    writer.write(_STREAM_HEAD)
                    self.audience.add(writer)
                    await reader.read()  # until the watcher hangs up
                    return
                event = b'{"type":"ADDED","object":' + body + b"}\n"
                chunk = b"%x\r\n%s\r\n" % (len(event), event)
                for member in self.audience:
                    member.write(chunk)
                writer.write(
                    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
            return
        finally:
            self.audience.discard(writer)
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()


async def _serve(cert: str, key: str) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    relay = _Relay()
    server = await asyncio.start_server(relay.handle, "127.0.0.1", 0, ssl=ctx, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.buffer.write(orjson.dumps({"ready": True, "port": port}) + b"\n")
    sys.stdout.buffer.flush()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with server:
        await reader.read()  # stdin closed: the parent is done with us
    os._exit(0)  # skip waiting for lingering watch connections; the parent already has its data


def main(argv: list[str]) -> int:
    run_async(_serve(argv[0], argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
