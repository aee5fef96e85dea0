"""What the runc and process runtimes share: records on disk, the shim client, attach sessions and
the sandbox/container lifecycle around the shim.

On-disk layout under ``state_dir`` (everything a new instance needs to re-adopt):
``sandboxes/<id>/sandbox.json`` and ``containers/<id>/{container.json, shim.json, shim.pid,
started.json, exit.json, shim.sock, ...}``. A container's state is read from those files: an exit
record means EXITED, ``started.json`` RUNNING, otherwise CREATED; a container whose shim is gone
without an exit record is reported EXITED with reason ``Error``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import functools
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from skiff.runtime.runc._linux import unix_path
from skiff.runtime.runc.shim import write_json_atomic
from skiff.runtime.runc.streams import AttachSession
from skiff.runtime.types import (
    ContainerConfig,
    ContainerRuntimeError,
    ContainerState,
    ContainerStatus,
    DNSConfig,
    Mount,
    NotFound,
    Resources,
    SandboxConfig,
    SandboxState,
    SandboxStatus,
    SecurityContext,
)

__all__ = [
    "NOTIFY_SOCKET",
    "SHIM_SERVER_PID",
    "STOP_SIGNAL_ANNOTATION",
    "ContainerRecord",
    "SandboxRecord",
    "ShimGone",
    "ShimRuntimeBase",
    "container_config_from_dict",
    "new_id",
    "sandbox_config_from_dict",
    "shim_request",
]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

# how long a shim may take to report that its container was created
_CREATE_TIMEOUT = 60.0
# the unix datagram socket (in the state dir) shims send their container's id to on exit
NOTIFY_SOCKET = "events.sock"
# the shim server's pid (it is no child of the agent: it detaches, as the shims do)
SHIM_SERVER_PID = "shim-server.pid"
# after SIGKILL, how long to wait for the exit record before giving up
_KILL_WAIT = 15.0


def new_id() -> str:
    """16 hex digits: unique on a node and short enough for unix socket paths."""
    return secrets.token_hex(8)


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value or ())


def sandbox_config_from_dict(d: dict[str, Any]) -> SandboxConfig:
    dns = d.get("dns") or {}
    return SandboxConfig(
        **{
            **d,
            "dns": DNSConfig(
                nameservers=_tuple(dns.get("nameservers")),
                searches=_tuple(dns.get("searches")),
                options=_tuple(dns.get("options")),
            ),
            "resources": Resources(**(d.get("resources") or {})),
        }
    )


def container_config_from_dict(d: dict[str, Any]) -> ContainerConfig:
    sec = dict(d.get("security") or {})
    for key in ("supplemental_groups", "capabilities_add", "capabilities_drop"):
        sec[key] = _tuple(sec.get(key))
    mounts = tuple(
        Mount(**{**m, "options": _tuple(m.get("options"))}) for m in d.get("mounts") or ()
    )
    return ContainerConfig(
        **{
            **d,
            "argv": _tuple(d.get("argv")),
            "env": tuple((k, v) for k, v in d.get("env") or ()),
            "mounts": mounts,
            "resources": Resources(**(d.get("resources") or {})),
            "security": SecurityContext(**sec),
        }
    )


@dataclass
class SandboxRecord:
    id: str
    config: SandboxConfig
    created_at: float
    netns_path: str = ""
    uts_path: str = ""
    ipc_path: str = ""
    cgroup_parent: str = ""
    stopped: bool = False

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SandboxRecord:
        return cls(**{**d, "config": sandbox_config_from_dict(d["config"])})


@dataclass
class ContainerRecord:
    id: str
    sandbox_id: str
    config: ContainerConfig
    created_at: float
    cgroup: str = ""  # cgroupsPath given to runc ("" for process containers)
    rootfs: str = ""  # overlay mount point ("" if none)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ContainerRecord:
        return cls(**{**d, "config": container_config_from_dict(d["config"])})


class ShimGone(ContainerRuntimeError):
    """The container's shim is not running (it exited, or was killed)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="ShimGone")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


async def shim_request(cdir: Path, request: dict[str, Any]) -> dict[str, Any]:
    """One request/answer with a container's shim."""
    try:
        with unix_path(cdir / "shim.sock") as path:
            reader, writer = await asyncio.open_unix_connection(path)
    except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError) as e:
        raise ShimGone(f"shim for {cdir.name} is not running") from e
    try:
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        line = await reader.readline()
    except ConnectionError as e:
        raise ShimGone(f"shim for {cdir.name} went away") from e
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    if not line:
        raise ShimGone(f"shim for {cdir.name} closed the connection")
    answer = json.loads(line)
    return answer if isinstance(answer, dict) else {}


async def _wait_pid(pid: int, within: float) -> None:
    """Wait (at most ``within`` seconds) for any process to exit, through a pidfd."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return
    loop = asyncio.get_running_loop()
    gone: asyncio.Future[None] = loop.create_future()

    def exited() -> None:
        if not gone.done():
            gone.set_result(None)

    loop.add_reader(fd, exited)
    try:
        async with asyncio.timeout(within):
            await gone
    except TimeoutError:
        pass
    finally:
        loop.remove_reader(fd)
        os.close(fd)


async def _send_fds(sock: socket.socket, data: bytes, fds: list[int]) -> None:
    """One SCM_RIGHTS message on a non-blocking socket, waiting while its buffer is full."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            socket.send_fds(sock, [data], fds)
            return
        except BlockingIOError:
            pass
        writable: asyncio.Future[None] = loop.create_future()

        def ready(fut: asyncio.Future[None] = writable) -> None:
            if not fut.done():
                fut.set_result(None)

        loop.add_writer(sock.fileno(), ready)
        try:
            await writable
        finally:
            loop.remove_writer(sock.fileno())


STOP_SIGNAL_ANNOTATION = "skiff.io/stop-signal"


def _stop_signal(annotations: dict[str, str]) -> int:
    """The image's stop signal (``SIGQUIT``, ``QUIT`` or ``3`` in the annotation), else SIGTERM."""
    name = annotations.get(STOP_SIGNAL_ANNOTATION, "").strip().upper()
    if not name:
        return int(signal.SIGTERM)
    if name.isdigit():
        return int(name)
    try:
        return int(signal.Signals[name if name.startswith("SIG") else f"SIG{name}"])
    except KeyError:
        return int(signal.SIGTERM)


def _shim_env() -> dict[str, str]:
    """The agent's environment with skiff's own location first on PYTHONPATH."""
    import skiff

    src = str(Path(skiff.__file__).resolve().parent.parent)
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([src, *[p for p in paths if p != src]])
    return env


class ShimRuntimeBase:
    """Sandbox and container lifecycle around the shim; subclasses provide isolation."""

    name = "base"
    version = "base://0"

    def __init__(
        self,
        state_dir: Path,
        *,
        log_max_bytes: int = 10 * 1024 * 1024,
        log_max_files: int = 5,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.sandboxes_dir = self.state_dir / "sandboxes"
        self.containers_dir = self.state_dir / "containers"
        self.log_max_bytes = log_max_bytes
        self.log_max_files = log_max_files
        self._sandboxes: dict[str, SandboxRecord] = {}
        self._containers: dict[str, ContainerRecord] = {}
        self._shim_pids: dict[str, int] = {}
        # the shim server (see `skiff.runtime.runc.shim.serve`), started with the first shim
        self._server_sock: socket.socket | None = None
        self._server_finalizer: weakref.finalize[Any, Any] | None = None
        self._server_lock = asyncio.Lock()
        self._send_lock = asyncio.Lock()
        # exit notifications from shims (`add_listener`; the PLEG listens)
        self._listeners: list[Callable[[], None]] = []
        self._notify_sock: socket.socket | None = None
        self._notify_finalizer: weakref.finalize[Any, Any] | None = None
        # blocking kernel work (mounts, cgroup removal that waits out EBUSY): threads of our own,
        # so a burst of pod starts and stops never queues the agent's default executor (6
        # threads on 2 cores) behind them
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    # --- hooks for subclasses

    async def _setup_sandbox(self, record: SandboxRecord) -> None:
        """Create the sandbox's namespaces; fills in the record's paths."""

    async def _teardown_sandbox(self, record: SandboxRecord) -> None:
        """Release what `_setup_sandbox` made (idempotent)."""

    async def _prepare_container(
        self, sandbox: SandboxRecord, record: ContainerRecord, cdir: Path
    ) -> dict[str, Any]:
        """Lay out the container directory; returns the mode-specific shim configuration."""
        raise NotImplementedError

    async def _cleanup_container(self, record: ContainerRecord, cdir: Path) -> None:
        """Undo `_prepare_container` (unmount, runc delete); idempotent."""

    async def _kill_without_shim(self, record: ContainerRecord, sig: int) -> None:
        """Signal a container whose shim is gone (best effort)."""

    def _orphan_pid(self, record: ContainerRecord) -> int:
        """The pid of a container process still running although its shim is gone, else 0."""
        return 0

    async def cleanup(self) -> None:
        """Stop and remove everything under the state dir (``skiff agent cleanup``)."""
        raise NotImplementedError

    # --- records

    def _cdir(self, container_id: str) -> Path:
        return self.containers_dir / container_id

    def _sdir(self, sandbox_id: str) -> Path:
        return self.sandboxes_dir / sandbox_id

    def _save_sandbox(self, record: SandboxRecord) -> None:
        write_json_atomic(self._sdir(record.id) / "sandbox.json", record.to_json())

    def _sandbox(self, sandbox_id: str) -> SandboxRecord:
        record = self._sandboxes.get(sandbox_id)
        if record is None:
            raise NotFound(f"sandbox {sandbox_id!r} not found")
        return record

    def _container(self, container_id: str) -> ContainerRecord:
        record = self._containers.get(container_id)
        if record is None:
            raise NotFound(f"container {container_id!r} not found")
        return record

    async def start(self) -> None:
        self.sandboxes_dir.mkdir(parents=True, exist_ok=True)
        self.containers_dir.mkdir(parents=True, exist_ok=True)
        if self._listeners:
            self._bind_notify()
        for sdir in sorted(self.sandboxes_dir.iterdir()):
            data = _read_json(sdir / "sandbox.json")
            if data is not None:
                with contextlib.suppress(TypeError, KeyError, ValueError):
                    rec = SandboxRecord.from_json(data)
                    self._sandboxes[rec.id] = rec
        for cdir in sorted(self.containers_dir.iterdir()):
            data = _read_json(cdir / "container.json")
            if data is not None:
                with contextlib.suppress(TypeError, KeyError, ValueError):
                    crec = ContainerRecord.from_json(data)
                    self._containers[crec.id] = crec

    async def _in_thread(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """``fn(*args, **kwargs)`` in one of the runtime's own threads."""
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=16, thread_name_prefix=f"skiff-{self.name}"
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def close(self) -> None:
        """Stop the shim server (never the shims) and the exit notifications."""
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
        if self._notify_sock is not None:
            with contextlib.suppress(RuntimeError, ValueError):
                asyncio.get_running_loop().remove_reader(self._notify_sock.fileno())
            self._notify_sock.close()
            self._notify_sock = None
            if self._notify_finalizer is not None:
                self._notify_finalizer.detach()
                self._notify_finalizer = None
        await self._stop_server()

    # --- exit notifications (`skiff.agent.pleg.ChangeNotifier`)

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (without arguments, on the event loop) whenever a shim reports that
        its container exited. Listening starts with `start` (or at once if already started)."""
        self._listeners.append(callback)
        if self.containers_dir.is_dir():
            with contextlib.suppress(RuntimeError):  # no running loop yet: start() binds
                asyncio.get_running_loop()
                self._bind_notify()

    def _bind_notify(self) -> None:
        if self._notify_sock is not None:
            return
        path = self.state_dir / NOTIFY_SOCKET
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # left by an agent that was killed
            with unix_path(path) as name:
                sock.bind(name)
            sock.setblocking(False)
            asyncio.get_running_loop().add_reader(sock.fileno(), self._on_notify)
        except OSError as e:
            sock.close()
            _log.warning("no exit notifications from shims (%s); relisting only", e)
            return
        self._notify_sock = sock
        self._notify_finalizer = weakref.finalize(self, sock.close)

    def _on_notify(self) -> None:
        sock = self._notify_sock
        if sock is None:
            return
        got = False
        while True:
            try:
                sock.recv(256)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            got = True
        if got:
            for callback in list(self._listeners):
                callback()

    # --- shim liveness and state

    def _shim_alive(self, container_id: str) -> bool:
        cdir = self._cdir(container_id)
        pid = self._shim_pids.get(container_id)
        if pid is None:
            try:
                pid = int((cdir / "shim.pid").read_text())
            except (OSError, ValueError):
                return False
        # a shim runs in its container's directory (forked by the shim server, its command line
        # is the server's; started on its own, the command line names the directory too)
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            cwd = ""
        if cwd != str(cdir) and cwd != os.path.realpath(cdir):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                cmdline = b""
            if str(cdir).encode() not in cmdline:
                self._shim_pids.pop(container_id, None)
                return False
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        if stat.rpartition(")")[2].split()[0] == "Z":
            return False
        self._shim_pids[container_id] = pid
        return True

    def _status(self, record: ContainerRecord) -> ContainerStatus:
        cdir = self._cdir(record.id)
        exit_rec = _read_json(cdir / "exit.json")
        started = _read_json(cdir / "started.json") or {}
        started_at = float(started.get("started_at", 0.0))
        common: dict[str, Any] = {
            "id": record.id,
            "sandbox_id": record.sandbox_id,
            "name": record.config.name,
            "attempt": record.config.attempt,
            "image": record.config.image,
            "image_id": record.config.image_id,
            "created_at": record.created_at,
            "log_path": record.config.log_path,
            "labels": dict(record.config.labels),
            "annotations": dict(record.config.annotations),
        }
        if exit_rec is not None:
            return ContainerStatus(
                state=ContainerState.EXITED,
                started_at=float(exit_rec.get("started_at") or started_at),
                finished_at=float(exit_rec.get("finished_at", 0.0)),
                exit_code=int(exit_rec.get("exit_code", 0)),
                reason=str(exit_rec.get("reason", "")),
                message=str(exit_rec.get("message", "")),
                **common,
            )
        if not self._shim_alive(record.id):
            orphan = self._orphan_pid(record)
            if orphan:
                # the shim was killed but the container runs on (its output is no longer logged)
                return ContainerStatus(
                    state=ContainerState.RUNNING,
                    started_at=started_at,
                    pid=orphan,
                    message="the container's shim is gone",
                    **common,
                )
            # a shim that died without writing its record: the exit status is lost
            if _read_json(cdir / "exit.json") is None:
                return ContainerStatus(
                    state=ContainerState.EXITED,
                    started_at=started_at,
                    finished_at=started_at or record.created_at,
                    exit_code=255,
                    reason="Error",
                    message="the container's shim exited without recording an exit status",
                    **common,
                )
            return self._status(record)
        if started:
            return ContainerStatus(
                state=ContainerState.RUNNING,
                started_at=started_at,
                pid=int(started.get("pid", 0)),
                **common,
            )
        return ContainerStatus(state=ContainerState.CREATED, **common)

    def _sandbox_status(self, record: SandboxRecord) -> SandboxStatus:
        c = record.config
        return SandboxStatus(
            id=record.id,
            pod_uid=c.pod_uid,
            name=c.name,
            namespace=c.namespace,
            attempt=c.attempt,
            state=SandboxState.NOTREADY if record.stopped else SandboxState.READY,
            created_at=record.created_at,
            netns_path=record.netns_path,
            labels=dict(c.labels),
            annotations=dict(c.annotations),
        )

    # --- sandboxes

    async def run_sandbox(self, config: SandboxConfig) -> str:
        sid = new_id()
        sdir = self._sdir(sid)
        sdir.mkdir(parents=True)
        record = SandboxRecord(id=sid, config=config, created_at=time.time())
        try:
            await self._setup_sandbox(record)
            self._save_sandbox(record)
        except BaseException:
            await self._teardown_sandbox(record)
            shutil.rmtree(sdir, ignore_errors=True)
            raise
        self._sandboxes[sid] = record
        return sid

    async def stop_sandbox(self, sandbox_id: str) -> None:
        record = self._sandbox(sandbox_id)
        running = [
            c
            for c in self._containers.values()
            if c.sandbox_id == sandbox_id and self._status(c).state != ContainerState.EXITED
        ]
        await asyncio.gather(*(self.stop_container(c.id, 0) for c in running))
        if not record.stopped:
            record.stopped = True
            self._save_sandbox(record)

    async def remove_sandbox(self, sandbox_id: str) -> None:
        record = self._sandboxes.get(sandbox_id)
        if record is None:
            return
        for c in [c for c in self._containers.values() if c.sandbox_id == sandbox_id]:
            await self.remove_container(c.id)
        await self._teardown_sandbox(record)
        shutil.rmtree(self._sdir(sandbox_id), ignore_errors=True)
        self._sandboxes.pop(sandbox_id, None)

    async def list_sandboxes(self) -> list[SandboxStatus]:
        return [self._sandbox_status(r) for r in self._sandboxes.values()]

    async def sandbox_status(self, sandbox_id: str) -> SandboxStatus:
        return self._sandbox_status(self._sandbox(sandbox_id))

    # --- containers

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        sandbox = self._sandbox(sandbox_id)
        if sandbox.stopped:
            raise ContainerRuntimeError(
                f"sandbox {sandbox_id} is stopped", reason="CreateContainerError"
            )
        cid = new_id()
        cdir = self._cdir(cid)
        cdir.mkdir(parents=True)
        record = ContainerRecord(
            id=cid, sandbox_id=sandbox_id, config=config, created_at=time.time()
        )
        try:
            shim_config = await self._prepare_container(sandbox, record, cdir)
            shim_config.update(
                id=cid,
                notify_socket=str(self.state_dir / NOTIFY_SOCKET),
                log_path=config.log_path,
                log_max_bytes=self.log_max_bytes,
                log_max_files=self.log_max_files,
                tty=config.tty,
                stdin=config.stdin,
                stdin_once=config.stdin_once,
            )
            write_json_atomic(cdir / "shim.json", shim_config)
            write_json_atomic(cdir / "container.json", record.to_json())
            answer = await self._spawn_shim(cdir)
            if "error" in answer:
                raise ContainerRuntimeError(str(answer["error"]), reason="CreateContainerError")
        except BaseException:
            await self._cleanup_container(record, cdir)
            shutil.rmtree(cdir, ignore_errors=True)
            raise
        self._containers[cid] = record
        return cid

    async def _spawn_shim(self, cdir: Path) -> dict[str, Any]:
        """Start the container's shim and wait for its ready line: forked by the shim server
        when it runs (or can be started), else as an interpreter of its own."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sent = False
            with contextlib.suppress(OSError):
                sent = await self._request_shim(cdir, theirs)
            theirs.close()
            if sent:
                line = await self._read_ready(ours)
            else:
                line = await self._exec_shim(cdir)
        finally:
            theirs.close()
            ours.close()
        if not line:
            log = (
                (cdir / "shim.log").read_text(errors="replace")
                if (cdir / "shim.log").exists()
                else ""
            )
            return {"error": f"the shim did not report: {log.strip()[-500:]}"}
        answer = json.loads(line)
        return answer if isinstance(answer, dict) else {"error": "bad answer from the shim"}

    @staticmethod
    async def _read_ready(sock: socket.socket) -> bytes:
        sock.setblocking(False)
        reader, writer = await asyncio.open_unix_connection(sock=sock.dup())
        try:
            async with asyncio.timeout(_CREATE_TIMEOUT):
                return await reader.readline()
        except (TimeoutError, ConnectionError, ValueError):
            return b""
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _exec_shim(self, cdir: Path) -> bytes:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            # no site-packages: the shim needs only the standard library and skiff (on
            # PYTHONPATH), and starts faster without them
            "-S",
            "-m",
            "skiff.runtime.runc.shim",
            str(cdir),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
            env=_shim_env(),
        )
        assert proc.stdout is not None
        try:
            async with asyncio.timeout(_CREATE_TIMEOUT):
                line = await proc.stdout.readline()
        except TimeoutError:
            line = b""
        finally:
            await proc.wait()
        return line

    async def _request_shim(self, cdir: Path, ready: socket.socket) -> bool:
        """Ask the shim server to fork a shim for ``cdir`` writing its ready line on ``ready``;
        False when no server can be had (the caller starts the shim itself). A server found
        dead is started again once."""
        for _ in range(2):
            sock = await self._server_socket()
            if sock is None:
                return False
            message = json.dumps({"cdir": str(cdir)}).encode()
            try:
                async with self._send_lock:
                    await _send_fds(sock, message, [ready.fileno()])
                return True
            except OSError:
                await self._stop_server()
        return False

    async def _server_socket(self) -> socket.socket | None:
        async with self._server_lock:
            if self._server_sock is not None:
                return self._server_sock
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            log = -1
            try:
                self.state_dir.mkdir(parents=True, exist_ok=True)
                log = os.open(
                    self.state_dir / "shim-server.log",
                    os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                    0o600,
                )
                # the server forks itself into a session of its own and this process exits at
                # once: the agent keeps only the socket, whose end makes the server exit
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-S",
                    "-m",
                    "skiff.runtime.runc.shim",
                    "--server",
                    str(theirs.fileno()),
                    str(self.state_dir / SHIM_SERVER_PID),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=log,
                    pass_fds=(theirs.fileno(),),
                    env=_shim_env(),
                )
                code = await proc.wait()
                if code != 0:
                    raise OSError(f"the shim server exited with {code}")
            except OSError as e:
                ours.close()
                _log.warning("cannot start the shim server (%s); starting shims one by one", e)
                return None
            finally:
                theirs.close()
                if log >= 0:
                    os.close(log)
            ours.setblocking(False)
            self._server_sock = ours
            self._server_finalizer = weakref.finalize(self, ours.close)
            return ours

    async def _stop_server(self) -> None:
        """Close the shim server's socket: it exits when it reads the end (shims stay)."""
        sock, self._server_sock = self._server_sock, None
        if sock is not None:
            sock.close()
            if self._server_finalizer is not None:
                self._server_finalizer.detach()
                self._server_finalizer = None

    async def start_container(self, container_id: str) -> None:
        record = self._container(container_id)
        try:
            answer = await shim_request(self._cdir(record.id), {"op": "start"})
        except ShimGone as e:
            raise ContainerRuntimeError(str(e), reason="RunContainerError") from e
        if "error" in answer:
            raise ContainerRuntimeError(str(answer["error"]), reason="RunContainerError")

    async def _signal(self, record: ContainerRecord, sig: int) -> None:
        try:
            await shim_request(self._cdir(record.id), {"op": "kill", "signal": int(sig)})
        except ShimGone:
            await self._kill_without_shim(record, sig)

    async def _wait_exit(self, record: ContainerRecord, within: float) -> bool:
        """True once the container has an exit status (or its shim is gone)."""
        cdir = self._cdir(record.id)
        try:
            async with asyncio.timeout(max(within, 0.0)):
                await shim_request(cdir, {"op": "wait"})
        except TimeoutError:
            return self._status(record).state == ContainerState.EXITED
        except ShimGone:
            # no shim to tell us: watch the orphaned process itself
            pid = self._orphan_pid(record)
            if pid:
                await _wait_pid(pid, within)
            return not self._orphan_pid(record)
        return True

    async def stop_container(self, container_id: str, grace_period: float) -> None:
        record = self._container(container_id)
        if self._status(record).state == ContainerState.EXITED:
            return
        if grace_period > 0:
            await self._signal(record, _stop_signal(record.config.annotations))
            if await self._wait_exit(record, grace_period):
                return
        await self._signal(record, signal.SIGKILL)
        if not await self._wait_exit(record, _KILL_WAIT):
            raise ContainerRuntimeError(
                f"container {container_id} did not exit after SIGKILL", reason="KillContainerError"
            )

    async def remove_container(self, container_id: str) -> None:
        record = self._containers.get(container_id)
        if record is None:
            return
        if self._status(record).state != ContainerState.EXITED:
            await self.stop_container(container_id, 0)
        cdir = self._cdir(container_id)
        await self._cleanup_container(record, cdir)
        shutil.rmtree(cdir, ignore_errors=True)
        self._containers.pop(container_id, None)
        self._shim_pids.pop(container_id, None)
        if record.config.log_path:
            log = Path(record.config.log_path)
            for path in [log, *log.parent.glob(log.name + ".*")]:
                with contextlib.suppress(OSError):
                    path.unlink()

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]:
        return [
            self._status(r)
            for r in list(self._containers.values())
            if sandbox_id is None or r.sandbox_id == sandbox_id
        ]

    async def container_status(self, container_id: str) -> ContainerStatus:
        return self._status(self._container(container_id))

    def _require_running(self, record: ContainerRecord) -> ContainerStatus:
        status = self._status(record)
        if status.state != ContainerState.RUNNING:
            raise ContainerRuntimeError(
                f"container {record.id} is not running ({status.state.value})", reason="NotRunning"
            )
        return status

    async def attach(self, container_id: str, *, tty: bool, stdin: bool) -> AttachSession:
        record = self._container(container_id)
        cdir = self._cdir(record.id)
        try:
            with unix_path(cdir / "shim.sock") as path:
                reader, writer = await asyncio.open_unix_connection(path)
        except (FileNotFoundError, ConnectionRefusedError) as e:
            raise ContainerRuntimeError(
                f"container {container_id} is not running", reason="NotRunning"
            ) from e
        writer.write(json.dumps({"op": "attach", "stdin": stdin}).encode() + b"\n")
        await writer.drain()
        return AttachSession(reader, writer, tty=record.config.tty)

    def _kill_shims(self) -> None:
        """SIGKILL every shim still alive under the state dir, known to this instance or not
        (cleanup)."""
        if not self.containers_dir.is_dir():
            return
        for cdir in self.containers_dir.iterdir():
            if self._shim_alive(cdir.name):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._shim_pids[cdir.name], signal.SIGKILL)
