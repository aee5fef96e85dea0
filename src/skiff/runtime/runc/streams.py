"""Stream sessions (the Runtime's `StreamSession`): attach through a shim's socket, and exec'd
processes over pipes or a pty of ours."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import struct
import termios
from pathlib import Path

from skiff.runtime.runc.shim import (
    FRAME_CLOSE_STDIN,
    FRAME_EXIT,
    FRAME_RESIZE,
    FRAME_STDERR,
    FRAME_STDIN,
    FRAME_STDOUT,
    HEADER,
)

__all__ = ["AttachSession", "ExecSession", "open_pty"]


class AttachSession:
    """A `StreamSession` over a shim's attach socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, tty: bool):
        self._reader = reader
        self._writer = writer
        self.stdout = asyncio.StreamReader()
        self.stderr: asyncio.StreamReader | None = None if tty else asyncio.StreamReader()
        self._code: int | None = None
        self._pump = asyncio.get_running_loop().create_task(self._read_frames())

    async def _read_frames(self) -> None:
        try:
            while True:
                kind, size = HEADER.unpack(await self._reader.readexactly(HEADER.size))
                payload = await self._reader.readexactly(size) if size else b""
                if kind == FRAME_STDOUT:
                    self.stdout.feed_data(payload)
                elif kind == FRAME_STDERR:
                    (self.stderr or self.stdout).feed_data(payload)
                elif kind == FRAME_EXIT:
                    self._code = int(payload or b"0")
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.stdout.feed_eof()
            if self.stderr is not None:
                self.stderr.feed_eof()

    async def _send(self, kind: int, payload: bytes = b"") -> None:
        if self._writer.is_closing():
            return
        self._writer.write(HEADER.pack(kind, len(payload)) + payload)
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()

    async def write_stdin(self, data: bytes) -> None:
        await self._send(FRAME_STDIN, data)

    async def close_stdin(self) -> None:
        await self._send(FRAME_CLOSE_STDIN)

    async def resize(self, width: int, height: int) -> None:
        await self._send(FRAME_RESIZE, width.to_bytes(2, "big") + height.to_bytes(2, "big"))

    async def wait(self) -> int | None:
        await asyncio.shield(self._pump)
        return self._code

    async def close(self) -> None:
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()


class ExecSession:
    """A `StreamSession` for an exec'd process (pipes, or a pty of ours for a tty). ``pid_file``
    names the exec'd process's pid (``runc exec --pid-file``); without one the process was
    started in its own session and its whole process group is killed on `close`."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        pid_file: Path | None,
        *,
        master: int | None = None,
    ) -> None:
        self._proc = proc
        self._pid_file = pid_file
        self._master = master
        # a resize before the first output may reach runc before it handles SIGWINCH: it is
        # signalled again once output shows that it relays the terminal
        self._resize_pending = False
        self._seen_output = False
        if master is not None:
            self.stdout = asyncio.StreamReader()
            self.stderr: asyncio.StreamReader | None = None
            loop = asyncio.get_running_loop()
            loop.add_reader(master, self._on_master)
        else:
            assert proc.stdout is not None
            self.stdout = proc.stdout
            self.stderr = proc.stderr

    def _on_master(self) -> None:
        assert self._master is not None
        try:
            data = os.read(self._master, 65536)
        except OSError:  # EIO: runc closed the pty's slave side
            data = b""
        if data:
            self._seen_output = True
            if self._resize_pending:
                self._resize_pending = False
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._proc.pid, signal.SIGWINCH)
            self.stdout.feed_data(data)
        else:
            asyncio.get_running_loop().remove_reader(self._master)
            self.stdout.feed_eof()

    async def write_stdin(self, data: bytes) -> None:
        if self._master is not None:
            await asyncio.get_running_loop().run_in_executor(None, os.write, self._master, data)
            return
        if self._proc.stdin is None or self._proc.stdin.is_closing():
            return
        self._proc.stdin.write(data)
        with contextlib.suppress(ConnectionError):
            await self._proc.stdin.drain()

    async def close_stdin(self) -> None:
        if self._master is not None:
            # end of input on a terminal: ^D
            await self.write_stdin(b"\x04")
        elif self._proc.stdin is not None:
            self._proc.stdin.close()

    async def resize(self, width: int, height: int) -> None:
        if self._master is None:
            return
        with contextlib.suppress(OSError):
            fcntl.ioctl(self._master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        # runc copies the size of its terminal to the container's on SIGWINCH
        self._resize_pending = not self._seen_output
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._proc.pid, signal.SIGWINCH)

    async def wait(self) -> int | None:
        code = await self._proc.wait()
        return 128 - code if code < 0 else code

    async def close(self) -> None:
        if self._proc.returncode is None:
            with contextlib.suppress(OSError, ValueError):
                if self._pid_file is None:
                    os.killpg(self._proc.pid, signal.SIGKILL)
                else:
                    os.kill(int(self._pid_file.read_text()), signal.SIGKILL)
            try:
                async with asyncio.timeout(5):
                    await self._proc.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self._proc.kill()
                await self._proc.wait()
        if self._master is not None:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._master)
            os.close(self._master)
            self._master = None
            self.stdout.feed_eof()
        if self._pid_file is not None:
            with contextlib.suppress(FileNotFoundError):
                self._pid_file.unlink()


def open_pty(width: int = 80, height: int = 24) -> tuple[int, int]:
    """A pty pair whose size is set (a program must never see 0x0)."""
    master, slave = os.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    return master, slave
