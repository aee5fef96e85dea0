"""The per-container shim: owns a container's stdio and exit status so neither depends on the agent.

Forked by the shim server (`serve`: ``python -m skiff.runtime.runc.shim --server <fd>``, started once
by the runtime with this module imported), or started on its own as ``python -m
skiff.runtime.runc.shim <container-dir>``; configuration in ``<container-dir>/shim.json``. Either
way it forks once more and calls ``setsid``, so it is a child of init (or of
the nearest subreaper), never of the agent: killing or restarting the agent leaves the shim, the
container, its log file and its exit record alone. Like conmon or containerd-shim it makes itself a
child subreaper, so the container's init process (which ``runc create`` leaves behind) becomes its
child and its exit status can be collected with ``waitpid``.

What it does, in order:
1. ``runc create`` with pipes it owns as the container's stdio (or a console socket for a tty);
   ``process`` mode instead spawns ``argv`` on the host when told to start.
2. Tells the runtime on its stdout (one JSON line) whether creation worked, then serves a unix
   socket ``shim.sock`` in the container directory: one JSON request line per connection:
   ``{"op": "start"}`` (runs ``runc start``), ``{"op": "kill", "signal": N}``, ``{"op": "wait"}``
   (answers once the container exited) and ``{"op": "attach", "stdin": bool}`` (then binary frames,
   see `FRAME_STDOUT` ...).
3. Writes every output chunk to the CRI log file (``<RFC3339Nano> stdout|stderr F|P <line>``,
   rotated by size into ``<log>.1``, ``<log>.2`` ...) and to attached clients.
4. When the init process exits: drains stdio, reads the OOM counter of the container's memory cgroup
   (before ``runc delete`` removes it), runs ``runc delete``, writes ``exit.json`` atomically
   (exit code, reason ``Completed``/``Error``/``OOMKilled``/``ContainerCannotRun``, times), sends
   its id to the runtime's ``notify_socket`` (so the agent's PLEG sees the exit at once), answers
   waiters and exits.

It uses a plain ``selectors`` loop, not asyncio: one shim runs per container, and asyncio would
make every shim (and the shim server) larger and slower to start.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import select
import selectors
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "FRAME_CLOSE_STDIN",
    "FRAME_EXIT",
    "FRAME_RESIZE",
    "FRAME_STDERR",
    "FRAME_STDIN",
    "FRAME_STDOUT",
    "CriLogWriter",
    "Shim",
    "main",
    "rfc3339_nano",
    "serve",
    "write_json_atomic",
]

# frames on an attach connection: ">BI" header (type, length) then the payload
FRAME_STDIN = 0
FRAME_STDOUT = 1
FRAME_STDERR = 2
FRAME_EXIT = 3  # payload: the exit code as ASCII digits
FRAME_CLOSE_STDIN = 4
FRAME_RESIZE = 5  # payload: ">HH" width, height
HEADER = struct.Struct(">BI")

# a line longer than this is written as partial ("P") records, as containerd does
_MAX_LINE = 16 * 1024
# how long to wait for the stdio pipes to reach EOF once the init process has exited
_DRAIN_SECONDS = 2.0


def rfc3339_nano(ns: int | None = None) -> str:
    """``2026-12-06T19:00:00.123456789Z`` (always nine fraction digits, as CRI log lines)."""
    ns = time.time_ns() if ns is None else ns
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


def write_json_atomic(path: Path, value: Any) -> None:
    """Write through a temp file and a rename, so a reader sees the old or the new record whole.

    No fsync: these records (the shim's and the runtime's) must outlive the agent and the shim,
    which the page cache does, not the kernel - a reboot ends every container and namespace they
    describe anyway. An fsync per record cost a burst of pod starts more than anything else on
    the agent's event loop (tens of ms each on a busy disk)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f)
    os.replace(tmp, path)


class CriLogWriter:
    """CRI-format log lines with size-based rotation (``path`` -> ``path.1`` -> ``path.2`` ...).

    ``max_files`` counts the live file too, so at most ``max_files - 1`` rotated ones are kept."""

    def __init__(self, path: str, *, max_bytes: int = 10 * 1024 * 1024, max_files: int = 5) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.max_files = max(max_files, 1)
        self._pending: dict[str, bytes] = {}
        self._file: Any = None
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._open()

    def _open(self) -> None:
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed in close()
        self._size = self._file.tell()

    def _rotate(self) -> None:
        self._file.close()
        keep = self.max_files - 1
        if keep <= 0:
            os.unlink(self.path)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.path}.{keep}")
            for i in range(keep - 1, 0, -1):
                with contextlib.suppress(FileNotFoundError):
                    os.replace(f"{self.path}.{i}", f"{self.path}.{i + 1}")
            os.replace(self.path, f"{self.path}.1")
        self._open()

    def _emit(self, stream: str, tag: str, content: bytes) -> None:
        if self._file is None:
            return
        record = f"{rfc3339_nano()} {stream} {tag} ".encode() + content + b"\n"
        if self._size and self._size + len(record) > self.max_bytes:
            self._rotate()
        self._file.write(record)
        self._size += len(record)

    def write(self, stream: str, data: bytes) -> None:
        buf = self._pending.get(stream, b"") + data
        while True:
            nl = buf.find(b"\n")
            if nl < 0:
                break
            # "\r\n" ends a line too (a terminal's output), as Go's bufio.ReadLine has it
            line = buf[: nl - 1] if nl and buf[nl - 1 : nl] == b"\r" else buf[:nl]
            buf = buf[nl + 1 :]
            while len(line) > _MAX_LINE:
                self._emit(stream, "P", line[:_MAX_LINE])
                line = line[_MAX_LINE:]
            self._emit(stream, "F", line)
        while len(buf) >= _MAX_LINE:
            self._emit(stream, "P", buf[:_MAX_LINE])
            buf = buf[_MAX_LINE:]
        self._pending[stream] = buf

    def flush(self, stream: str) -> None:
        """End of ``stream``: an unterminated last line is written as a full line."""
        buf = self._pending.pop(stream, b"")
        if buf:
            self._emit(stream, "F", buf)

    def close(self) -> None:
        for stream in list(self._pending):
            self.flush(stream)
        if self._file is not None:
            self._file.close()
            self._file = None


class _Loop:
    """A minimal readiness loop: per-fd read and write callbacks."""

    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self.readers: dict[int, Callable[[], None]] = {}
        self.writers: dict[int, Callable[[], None]] = {}

    def _update(self, fd: int) -> None:
        mask = (selectors.EVENT_READ if fd in self.readers else 0) | (
            selectors.EVENT_WRITE if fd in self.writers else 0
        )
        try:
            self.sel.get_key(fd)
            registered = True
        except KeyError:
            registered = False
        if not mask:
            if registered:
                self.sel.unregister(fd)
        elif registered:
            self.sel.modify(fd, mask)
        else:
            self.sel.register(fd, mask)

    def add_reader(self, fd: int, callback: Callable[[], None]) -> None:
        self.readers[fd] = callback
        self._update(fd)

    def remove_reader(self, fd: int) -> None:
        if self.readers.pop(fd, None) is not None:
            self._update(fd)

    def add_writer(self, fd: int, callback: Callable[[], None]) -> None:
        self.writers[fd] = callback
        self._update(fd)

    def remove_writer(self, fd: int) -> None:
        if self.writers.pop(fd, None) is not None:
            self._update(fd)

    def run_once(self, timeout: float | None) -> None:
        for key, events in self.sel.select(timeout):
            fd = key.fd
            if events & selectors.EVENT_READ and fd in self.readers:
                self.readers[fd]()
            if events & selectors.EVENT_WRITE and fd in self.writers:
                self.writers[fd]()


class _Conn:
    """One client of the shim's socket."""

    def __init__(self, shim: Shim, sock: socket.socket) -> None:
        self.shim = shim
        self.sock = sock
        self.fd = sock.fileno()
        self.inbuf = b""
        self.outbuf = b""
        self.attached = False
        self.want_stdin = False
        self.closing = False
        self.closed = False
        sock.setblocking(False)
        shim.loop.add_reader(self.fd, self._on_read)

    def _on_read(self) -> None:
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        self.inbuf += data
        if not self.attached:
            nl = self.inbuf.find(b"\n")
            if nl < 0:
                if len(self.inbuf) > 65536:
                    self.close()
                return
            line, self.inbuf = self.inbuf[:nl], self.inbuf[nl + 1 :]
            try:
                request = json.loads(line or b"{}")
            except ValueError:
                request = {}
            self.shim._request(self, request if isinstance(request, dict) else {})
        if self.attached:
            self._frames()

    def _frames(self) -> None:
        while len(self.inbuf) >= HEADER.size:
            kind, size = HEADER.unpack_from(self.inbuf)
            if len(self.inbuf) < HEADER.size + size:
                return
            payload = self.inbuf[HEADER.size : HEADER.size + size]
            self.inbuf = self.inbuf[HEADER.size + size :]
            self.shim._client_frame(self, kind, payload)

    def send(self, data: bytes) -> None:
        if self.closed:
            return
        if not self.outbuf:
            try:
                sent = self.sock.send(data)
            except BlockingIOError:
                sent = 0
            except OSError:
                self.close()
                return
            data = data[sent:]
            if not data:
                return
            self.shim.loop.add_writer(self.fd, self._on_write)
        self.outbuf += data
        if len(self.outbuf) > 8 * 1024 * 1024:
            # a client that stopped reading is dropped rather than buffered without bound
            self.close()

    def _on_write(self) -> None:
        try:
            sent = self.sock.send(self.outbuf)
        except BlockingIOError:
            return
        except OSError:
            self.close()
            return
        self.outbuf = self.outbuf[sent:]
        if not self.outbuf:
            self.shim.loop.remove_writer(self.fd)
            if self.closing:
                self.close()

    def reply(self, value: dict[str, Any]) -> None:
        """Answer a request and close once the answer is sent."""
        self.send(json.dumps(value).encode() + b"\n")
        self.close_when_sent()

    def close_when_sent(self) -> None:
        self.closing = True
        if not self.outbuf:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.shim.loop.remove_reader(self.fd)
        self.shim.loop.remove_writer(self.fd)
        self.shim.clients.discard(self)
        self.shim.waiters.discard(self)
        self.sock.close()

    def flush_blocking(self, within: float) -> None:
        """Before the shim exits: push out what is buffered, for at most ``within`` seconds."""
        if self.closed or not self.outbuf:
            return
        self.sock.setblocking(True)
        self.sock.settimeout(within)
        with contextlib.suppress(OSError):
            self.sock.sendall(self.outbuf)
        self.outbuf = b""


class Shim:
    def __init__(self, cdir: Path, config: dict[str, Any], ready_fd: int) -> None:
        self.cdir = cdir
        self.cfg = config
        self.ready_fd = ready_fd
        self.id: str = config["id"]
        self.mode: str = config.get("mode", "runc")
        self.tty: bool = bool(config.get("tty"))
        self.log = CriLogWriter(
            config.get("log_path", ""),
            max_bytes=int(config.get("log_max_bytes", 10 * 1024 * 1024)),
            max_files=int(config.get("log_max_files", 5)),
        )
        self.loop = _Loop()
        self.pid = 0
        self.started = False
        self.started_at = 0.0
        self.exit_code: int | None = None
        self.exit_record: dict[str, Any] | None = None
        self.clients: set[_Conn] = set()
        self.waiters: set[_Conn] = set()
        self.stdin_fd: int | None = None
        self.master_fd: int | None = None
        self.stdin_buf = b""
        self.stdin_close_pending = False
        self.open_streams: dict[int, str] = {}
        self.drain_deadline: float | None = None
        self.pidfd: int | None = None
        self.cannot_run = ""

    # --- runc / process plumbing

    def _runc(self, *args: str) -> list[str]:
        return [
            self.cfg["runc"],
            "--root",
            self.cfg["root"],
            "--log",
            str(self.cdir / "runc.log"),
            "--log-format",
            "json",
            *args,
        ]

    def _runc_error(self, fallback: str) -> str:
        try:
            lines = (self.cdir / "runc.log").read_text().splitlines()
        except OSError:
            return fallback
        for line in reversed(lines):
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if entry.get("level") in {"error", "fatal"}:
                    return str(entry.get("msg", fallback))
        return fallback

    def _stdio(self) -> tuple[int, int, int, list[int]]:
        """(stdin, stdout, stderr) for the child, plus our ends to watch; remembers stdin."""
        if self.cfg.get("stdin"):
            in_r, in_w = os.pipe()
            os.set_blocking(in_w, False)
            self.stdin_fd = in_w
        else:
            in_r = os.open(os.devnull, os.O_RDONLY)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        return in_r, out_w, err_w, [out_r, err_r]

    def _create_runc(self) -> tuple[str | None, list[int]]:
        """``runc create``; (None, our stdio ends to watch) or (the error, [])."""
        args = ["create", "--bundle", str(self.cdir), "--pid-file", str(self.cdir / "init.pid")]
        console: socket.socket | None = None
        if self.tty:
            console = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            with contextlib.suppress(FileNotFoundError):
                os.unlink("console.sock")
            console.bind("console.sock")  # relative: cwd is the container dir
            console.listen(1)
            args += ["--console-socket", "console.sock"]
            in_fd = os.open(os.devnull, os.O_RDONLY)
            out_fd = err_fd = os.open(os.devnull, os.O_WRONLY)
            ours: list[int] = []
        else:
            in_fd, out_fd, err_fd, ours = self._stdio()
        try:
            proc = subprocess.Popen(
                [*self._runc(*args), self.id],
                stdin=in_fd,
                stdout=out_fd,
                stderr=err_fd,
                cwd=self.cdir,
                preexec_fn=_default_signals,
            )
        except OSError as e:
            return f"cannot run runc: {e}", []
        finally:
            for fd in {in_fd, out_fd, err_fd}:
                os.close(fd)
        try:
            if console is not None:
                while True:
                    exited = proc.poll() is not None
                    ready, _, _ = select.select([console], [], [], 0 if exited else 0.1)
                    if ready:
                        conn, _ = console.accept()
                        with conn:
                            _msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 1)
                        if fds:
                            self.master_fd = fds[0]
                            ours = [fds[0]]
                        break
                    if exited:
                        break
            rc = proc.wait()
        finally:
            if console is not None:
                console.close()
                with contextlib.suppress(FileNotFoundError):
                    os.unlink("console.sock")
        if rc != 0:
            for fd in ours:
                os.close(fd)
            return self._runc_error(f"runc create exited with {rc}"), []
        self.pid = int((self.cdir / "init.pid").read_text().strip())
        return None, ours

    def _spawn_process(self) -> str | None:
        """``process`` mode: run argv on the host now (its own session and process group)."""
        env = dict(self.cfg.get("env") or {})
        env.setdefault("PATH", os.environ.get("PATH", "/usr/bin:/bin"))
        cwd = self.cfg.get("cwd") or None
        if self.tty:
            master, slave = os.openpty()
            in_fd = out_fd = err_fd = slave
            ours = [master]
            self.master_fd = master
        else:
            in_fd, out_fd, err_fd, ours = self._stdio()
        try:
            proc = subprocess.Popen(
                self.cfg["argv"],
                stdin=in_fd,
                stdout=out_fd,
                stderr=err_fd,
                cwd=cwd,
                env=env,
                start_new_session=True,
                preexec_fn=_default_signals,
            )
        except OSError as e:
            for fd in ours:
                os.close(fd)
            if self.stdin_fd is not None:
                os.close(self.stdin_fd)
                self.stdin_fd = None
            self.master_fd = None
            return f"cannot start {self.cfg['argv'][0]!r}: {e.strerror or e}"
        finally:
            for fd in {in_fd, out_fd, err_fd}:
                os.close(fd)
        # we reap it ourselves; keep Popen from warning about a child it never waited for
        proc.returncode = 0
        self.pid = proc.pid
        self._watch(ours)
        return None

    def _watch(self, fds: list[int]) -> None:
        streams = ["stdout"] if self.master_fd is not None else ["stdout", "stderr"]
        for fd, stream in zip(fds, streams, strict=False):
            os.set_blocking(fd, False)
            self.open_streams[fd] = stream
            self.loop.add_reader(fd, functools.partial(self._on_output, fd))
        self.pidfd = os.pidfd_open(self.pid)
        self.loop.add_reader(self.pidfd, self._on_exit)

    def _on_output(self, fd: int) -> None:
        stream = self.open_streams[fd]
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the pty's last slave closed
            data = b""
        if not data:
            self._close_stream(fd)
            return
        self.log.write(stream, data)
        self._broadcast(FRAME_STDOUT if stream == "stdout" else FRAME_STDERR, data)

    def _close_stream(self, fd: int) -> None:
        stream = self.open_streams.pop(fd, None)
        if stream is None:
            return
        self.loop.remove_reader(fd)
        if fd != self.master_fd:
            os.close(fd)
        self.log.flush(stream)

    def _broadcast(self, kind: int, data: bytes) -> None:
        frame = HEADER.pack(kind, len(data)) + data
        for conn in list(self.clients):
            conn.send(frame)

    def _on_exit(self) -> None:
        assert self.pidfd is not None
        self.loop.remove_reader(self.pidfd)
        os.close(self.pidfd)
        self.pidfd = None
        try:
            _, status = os.waitpid(self.pid, 0)
            code = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            code = 255
        self.exit_code = 128 - code if code < 0 else code
        self.drain_deadline = time.monotonic() + _DRAIN_SECONDS

    def _finish(self, *, cannot_run: str = "") -> None:
        for fd in list(self.open_streams):
            self._close_stream(fd)
        oom = False
        if self.mode == "runc" and self.cfg.get("cgroup") and not cannot_run:
            # before `runc delete`, which removes the memory cgroup holding the counter
            from skiff.runtime.runc.cgroups import detect

            oom = detect().oom_killed(self.cfg["cgroup"])
        if self.mode == "runc":
            subprocess.run(
                self._runc("delete", "--force", self.id),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
        code = 128 if cannot_run else (self.exit_code if self.exit_code is not None else 255)
        if cannot_run:
            reason = "ContainerCannotRun"
        elif oom:
            reason = "OOMKilled"
        elif code == 0:
            reason = "Completed"
        else:
            reason = "Error"
        self.exit_record = {
            "exit_code": code,
            "reason": reason,
            "message": cannot_run,
            "oom_killed": oom,
            "started_at": self.started_at if self.started else 0.0,
            "finished_at": time.time(),
        }
        self.log.close()
        write_json_atomic(self.cdir / "exit.json", self.exit_record)
        self._notify()
        self._broadcast(FRAME_EXIT, str(code).encode())
        for conn in list(self.clients):
            conn.close_when_sent()
        for conn in list(self.waiters):
            conn.reply(self.exit_record)

    def _notify(self) -> None:
        """Tell the runtime (its ``notify_socket``, a unix datagram socket the agent binds) that
        this container exited, so its PLEG relists now instead of at the next period. Best
        effort: nobody listening, or a full queue, leaves it to the periodic relist."""
        path = self.cfg.get("notify_socket")
        if not path:
            return
        from skiff.runtime.runc._linux import unix_path

        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.setblocking(False)
            with unix_path(Path(path)) as name:
                s.sendto(self.id.encode(), name)

    # --- requests

    def _request(self, conn: _Conn, req: dict[str, Any]) -> None:
        op = req.get("op")
        if op == "start":
            conn.reply(self._start())
        elif op == "kill":
            conn.reply(self._kill(int(req.get("signal", signal.SIGTERM))))
        elif op == "wait":
            if self.exit_record is not None:
                conn.reply(self.exit_record)
            else:
                self.waiters.add(conn)
        elif op == "attach":
            if self.exit_record is not None:
                code = str(self.exit_record.get("exit_code", 0)).encode()
                conn.send(HEADER.pack(FRAME_EXIT, len(code)) + code)
                conn.close_when_sent()
                return
            conn.attached = True
            conn.want_stdin = bool(req.get("stdin"))
            self.clients.add(conn)
        else:
            conn.reply({"error": f"unknown op {op!r}"})

    def _start(self) -> dict[str, Any]:
        if self.started:
            return {"ok": True, "started_at": self.started_at, "pid": self.pid}
        if self.exit_code is not None or self.exit_record is not None:
            return {"error": "container has exited"}
        if self.mode == "runc":
            proc = subprocess.run(
                self._runc("start", self.id),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
            )
            if proc.returncode != 0:
                err = proc.stderr.decode(errors="replace").strip() or self._runc_error("runc start")
                return {"error": err}
        else:
            error = self._spawn_process()
            if error is not None:
                self.cannot_run = error
                return {"error": error}
        self.started = True
        self.started_at = time.time()
        write_json_atomic(
            self.cdir / "started.json", {"started_at": self.started_at, "pid": self.pid}
        )
        return {"ok": True, "started_at": self.started_at, "pid": self.pid}

    def _kill(self, sig: int) -> dict[str, Any]:
        if self.exit_code is not None or self.exit_record is not None:
            return {"ok": True, "exited": True}
        if self.pid == 0:
            # process mode, never started: nothing to signal; it simply ends
            self.exit_code = 128 + sig
            self.drain_deadline = time.monotonic()
            return {"ok": True}
        with contextlib.suppress(ProcessLookupError):
            if self.mode == "process":
                os.killpg(self.pid, sig)
            else:
                os.kill(self.pid, sig)
        return {"ok": True}

    def _client_frame(self, conn: _Conn, kind: int, payload: bytes) -> None:
        if kind == FRAME_STDIN and conn.want_stdin:
            self._write_stdin(payload)
        elif kind == FRAME_CLOSE_STDIN and conn.want_stdin:
            if self.cfg.get("stdin_once") and self.stdin_fd is not None:
                self.stdin_close_pending = True
                self._flush_stdin()
        elif kind == FRAME_RESIZE and self.master_fd is not None and len(payload) == 4:
            width, height = struct.unpack(">HH", payload)
            with contextlib.suppress(OSError):
                fcntl.ioctl(
                    self.master_fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0)
                )

    def _stdin_target(self) -> int | None:
        return self.master_fd if self.master_fd is not None else self.stdin_fd

    def _write_stdin(self, data: bytes) -> None:
        if self._stdin_target() is None:
            return
        self.stdin_buf += data
        self._flush_stdin()

    def _flush_stdin(self) -> None:
        fd = self._stdin_target()
        if fd is None:
            self.stdin_buf = b""
            return
        while self.stdin_buf:
            try:
                n = os.write(fd, self.stdin_buf)
            except BlockingIOError:
                self.loop.add_writer(fd, self._flush_stdin)
                return
            except OSError:  # the container closed its end
                self.stdin_buf = b""
                break
            self.stdin_buf = self.stdin_buf[n:]
        self.loop.remove_writer(fd)
        if self.stdin_close_pending and fd == self.stdin_fd:
            os.close(fd)
            self.stdin_fd = None
            self.stdin_close_pending = False

    def _on_accept(self) -> None:
        try:
            sock, _ = self.server.accept()
        except BlockingIOError:
            return
        _Conn(self, sock)

    # --- main

    def run(self) -> None:
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            os.unlink("shim.sock")
        self.server.bind("shim.sock")  # relative: cwd is the container dir
        self.server.listen(64)
        self.server.setblocking(False)
        self.loop.add_reader(self.server.fileno(), self._on_accept)
        (self.cdir / "shim.pid").write_text(str(os.getpid()))
        if self.mode == "runc":
            error, fds = self._create_runc()
            if error is None:
                self._watch(fds)
            else:
                self.cannot_run = error
        if self.cannot_run:
            # record everything before answering: the runtime removes the directory at once
            self._finish(cannot_run=self.cannot_run)
            self._close_server()
            self._ready({"error": self.cannot_run})
            return
        self._ready({"ok": True, "pid": self.pid})
        while self.exit_record is None:
            failed = self._start_error()  # process mode: argv could not be started
            if failed:
                self._finish(cannot_run=failed)
                break
            timeout = None
            if self.drain_deadline is not None:
                if not self.open_streams or time.monotonic() >= self.drain_deadline:
                    self._finish()
                    break
                timeout = max(self.drain_deadline - time.monotonic(), 0.0)
            self.loop.run_once(timeout)
        # no new connections; let waiters and attached clients have their answers
        self._close_server()
        conns = [c for c in self.loop_conns() if not c.closed]
        for conn in conns:
            conn.flush_blocking(1.0)
            conn.close()

    def _start_error(self) -> str:
        return self.cannot_run

    def _close_server(self) -> None:
        self.loop.remove_reader(self.server.fileno())
        self.server.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink("shim.sock")

    def loop_conns(self) -> list[_Conn]:
        return [*self.clients, *self.waiters]

    def _ready(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            os.write(self.ready_fd, json.dumps(message).encode() + b"\n")
        with contextlib.suppress(OSError):
            os.close(self.ready_fd)


_RESET_SIGNALS = (
    signal.SIGHUP,
    signal.SIGINT,
    signal.SIGQUIT,
    signal.SIGTERM,
    signal.SIGUSR1,
    signal.SIGUSR2,
)


def _default_signals() -> None:
    """In the child before exec: default dispositions for the signals the shim ignores (and
    those a shell ignores for background jobs), so the container can trap them - an ignored
    signal stays ignored across exec and cannot be trapped by a shell."""
    for sig in _RESET_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


def _become_shim(cdir: Path, ready: int) -> None:
    """In a process that is about to be a shim (its stdio no longer matters): fork once and
    ``setsid``, so the shim is a child of init (or the nearest subreaper) and never of the agent
    or the shim server; the parent returns. ``ready`` receives the one JSON line of the
    creation's outcome."""
    try:
        config = json.loads((cdir / "shim.json").read_text())
    except (OSError, ValueError) as e:
        with contextlib.suppress(OSError):
            os.write(ready, json.dumps({"error": f"reading shim.json: {e}"}).encode() + b"\n")
        return
    if os.fork():
        return
    try:
        os.setsid()
        os.chdir(cdir)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        errlog = os.open(cdir / "shim.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(errlog, 2)
        os.close(errlog)
        os.close(devnull)
        from skiff.runtime.runc._linux import set_child_subreaper

        set_child_subreaper()
        Shim(cdir, config, ready).run()
    finally:
        os._exit(0)


def serve(control: socket.socket) -> None:
    """The shim server (a fork server): started once by the runtime with the module already
    imported, it forks a shim for each request instead of the runtime starting a new interpreter
    per container (~40 ms of CPU each, most of it start-up and imports).

    Requests arrive on ``control`` (a ``SOCK_SEQPACKET`` socket pair end): one message per
    shim, the container directory as JSON plus one file descriptor (SCM_RIGHTS) on which the
    shim writes its ready line. The server forks a child that forks the shim and exits (the
    server reaps it), so shims are exactly as detached as when started on their own. The server
    exits when the runtime closes its end (or dies): nothing outlives the agent but the shims.
    """
    # what every shim needs, imported once here rather than in each shim
    import skiff.runtime.runc._linux
    import skiff.runtime.runc.cgroups  # noqa: F401

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(control, 65536, 4)
        except InterruptedError:
            continue
        except OSError:
            return
        if not msg and not fds:
            return  # the runtime closed its end
        try:
            cdir = Path(json.loads(msg)["cdir"])
        except (ValueError, KeyError, TypeError):
            cdir = None
        if cdir is None or not fds:
            for fd in fds:
                os.close(fd)
            continue
        ready, extra = fds[0], fds[1:]
        for fd in extra:
            os.close(fd)
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                _become_shim(cdir, ready)
            finally:
                os._exit(0)
        os.close(ready)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--server":
        control = socket.socket(fileno=int(args[1]))
        if os.fork():
            os._exit(0)
        os.setsid()
        os.chdir("/")
        if len(args) > 2:  # where to note our pid (for `skiff agent cleanup` and tests)
            with contextlib.suppress(OSError):
                Path(args[2]).write_text(str(os.getpid()))
        serve(control)
        os._exit(0)
    cdir = Path(args[0]).resolve()
    # the runtime reads our stdout for the ready line; the shim itself writes it on a copy
    ready = os.dup(1)
    _become_shim(cdir, ready)
    os._exit(0)


if __name__ == "__main__":
    main()
