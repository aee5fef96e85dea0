"""`FakeRuntime`: the Runtime Protocol without processes (kwok's idea), and `FakeImages`.

For scale tests (``skiff agent --runtime fake``, ``--simulate N``) and for the agent's own tests.
Containers follow their argv, judged on the injected clock:

- ``exit N`` (also ``sh -c 'exit N'``) exits with N ``exit_delay`` seconds after it starts;
- ``sleep S`` (also ``sh -c 'sleep S'``) exits 0 after S seconds;
- anything else runs until it is stopped.

``stop_container`` sends a pretend SIGTERM: the container exits with 143 at once, unless its
argv mentions ``trap`` (a program that ignores SIGTERM), which then runs until the grace period
is over and is killed (137) - so a grace period is honoured as with a real process.
With a ``state_dir`` every change is written to ``<state_dir>/fake-runtime.json`` and a new
instance re-adopts it (running containers keep running, exited ones keep their exit codes).
Listeners (`add_listener`) hear about containers that end by themselves, so the agent's PLEG can
relist at once instead of at its next period. `FakeTimers` wakes all of that on one task, shared
by every fake runtime of a process (``--simulate``: thousands of nodes, one timer task).
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import json
import os
import re
import secrets
import shlex
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from skiff.runtime.images.base import ImageConfig, ImageInfo, ImagePullError, RegistryAuth
from skiff.runtime.types import (
    ContainerConfig,
    ContainerRuntimeError,
    ContainerState,
    ContainerStats,
    ContainerStatus,
    ExecResult,
    NotFound,
    SandboxConfig,
    SandboxState,
    SandboxStatus,
)
from skiff.util.clock import Clock, SystemClock, format_epoch_time, wait_event

__all__ = ["FakeImages", "FakeRuntime", "FakeTimers", "fake_plan"]

_EXIT = re.compile(r"^\s*exit\s+(-?\d+)\s*;?\s*$")
_SLEEP = re.compile(r"^\s*sleep\s+(\d+(?:\.\d+)?)\s*;?\s*$")


def fake_plan(argv: tuple[str, ...] | list[str]) -> tuple[str, float]:
    """What a fake container with ``argv`` does: ("exit", code), ("sleep", seconds) or
    ("run", 0)."""
    args = list(argv)
    if len(args) >= 3 and os.path.basename(args[0]) in ("sh", "bash", "ash") and args[1] == "-c":
        script = args[2]
    else:
        script = " ".join(shlex.quote(a) for a in args)
        if args and os.path.basename(args[0]) in ("sleep", "exit"):
            script = " ".join([os.path.basename(args[0]), *args[1:]])
    if m := _EXIT.match(script):
        return ("exit", float(int(m.group(1)) & 0xFF))
    if m := _SLEEP.match(script):
        return ("sleep", float(m.group(1)))
    return ("run", 0.0)


class FakeTimers:
    """Callbacks at monotonic times of ``clock``, all run by one task (started on first use)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def call_at(self, when: float, callback: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), callback))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="fake-timers")
        self._wake.set()

    async def _run(self) -> None:
        while True:
            if not self._heap:
                self._wake.clear()
                await self._wake.wait()
                continue
            when = self._heap[0][0]
            now = self.clock.monotonic()
            if when <= now:
                _, _, callback = heapq.heappop(self._heap)
                callback()
                continue
            self._wake.clear()
            await wait_event(self.clock, self._wake, when - now)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@dataclass
class _Sandbox:
    id: str
    pod_uid: str
    name: str
    namespace: str
    attempt: int
    ready: bool
    created_at: float
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class _Container:
    id: str
    sandbox_id: str
    name: str
    attempt: int
    image: str
    image_id: str
    argv: list[str]
    log_path: str
    created_at: float
    state: str = "created"  # created | running | exited
    started_at: float = 0.0
    finished_at: float = 0.0
    ends_at: float = 0.0  # wall time it ends by itself (0: never)
    planned_exit: int = 0
    exit_code: int = 0
    reason: str = ""
    ignores_term: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


class _Session:
    """A finished exec/attach: no output, exit code 0 (exec) or the container's (attach)."""

    def __init__(self, code: int | None) -> None:
        self.stdout = asyncio.StreamReader()
        self.stdout.feed_eof()
        self.stderr: asyncio.StreamReader | None = None
        self._code = code

    async def write_stdin(self, data: bytes) -> None:
        return None

    async def close_stdin(self) -> None:
        return None

    async def resize(self, width: int, height: int) -> None:
        return None

    async def wait(self) -> int | None:
        return self._code

    async def close(self) -> None:
        return None


class FakeRuntime:
    """The Runtime Protocol over in-memory records (see the module doc)."""

    name = "fake"
    version = "fake://0.1.0"

    def __init__(
        self,
        state_dir: Path | None = None,
        *,
        clock: Clock | None = None,
        timers: FakeTimers | None = None,
        exit_delay: float = 0.0,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.state_dir = state_dir
        self.exit_delay = exit_delay
        self._own_timers = timers is None
        self.timers = timers or FakeTimers(self.clock)
        self._sandboxes: dict[str, _Sandbox] = {}
        self._containers: dict[str, _Container] = {}
        self._listeners: list[Callable[[], None]] = []
        self._started = False

    # lifecycle

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        path = self._state_file()
        if path is not None and path.exists():
            data = json.loads(path.read_text())
            self._sandboxes = {s["id"]: _Sandbox(**s) for s in data.get("sandboxes", [])}
            self._containers = {c["id"]: _Container(**c) for c in data.get("containers", [])}
            for c in self._containers.values():
                if c.state == "running" and c.ends_at:
                    self._schedule(c)

    async def close(self) -> None:
        if self._own_timers:
            await self.timers.close()
        self._started = False

    async def cleanup(self) -> None:
        """Forget every sandbox and container (``skiff agent cleanup``)."""
        self._sandboxes.clear()
        self._containers.clear()
        path = self._state_file()
        if path is not None:
            path.unlink(missing_ok=True)

    def add_listener(self, callback: Callable[[], None]) -> None:
        """``callback()`` whenever a container ends by itself."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    # sandboxes

    async def run_sandbox(self, config: SandboxConfig) -> str:
        sid = secrets.token_hex(32)
        self._sandboxes[sid] = _Sandbox(
            id=sid,
            pod_uid=config.pod_uid,
            name=config.name,
            namespace=config.namespace,
            attempt=config.attempt,
            ready=True,
            created_at=self.clock.time(),
            labels=dict(config.labels),
            annotations=dict(config.annotations),
        )
        self._save()
        return sid

    async def stop_sandbox(self, sandbox_id: str) -> None:
        sandbox = self._sandbox(sandbox_id)
        for c in self._containers.values():
            if c.sandbox_id == sandbox_id:
                self._refresh(c)
                if c.state == "running":
                    self._exit(c, 137, self.clock.time())
        sandbox.ready = False
        self._save()

    async def remove_sandbox(self, sandbox_id: str) -> None:
        if sandbox_id not in self._sandboxes:
            return
        del self._sandboxes[sandbox_id]
        for cid in [c.id for c in self._containers.values() if c.sandbox_id == sandbox_id]:
            del self._containers[cid]
        self._save()

    async def list_sandboxes(self) -> list[SandboxStatus]:
        return [self._sandbox_status(s) for s in self._sandboxes.values()]

    async def sandbox_status(self, sandbox_id: str) -> SandboxStatus:
        return self._sandbox_status(self._sandbox(sandbox_id))

    # containers

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        sandbox = self._sandbox(sandbox_id)
        if not sandbox.ready:
            raise ContainerRuntimeError(
                f"sandbox {sandbox_id} is not ready", reason="CreateContainerError"
            )
        cid = secrets.token_hex(32)
        self._containers[cid] = _Container(
            id=cid,
            sandbox_id=sandbox_id,
            name=config.name,
            attempt=config.attempt,
            image=config.image,
            image_id=config.image_id,
            argv=list(config.argv),
            log_path=config.log_path,
            created_at=self.clock.time(),
            ignores_term=any("trap" in a for a in config.argv),
            labels=dict(config.labels),
            annotations=dict(config.annotations),
        )
        self._save()
        return cid

    async def start_container(self, container_id: str) -> None:
        c = self._container(container_id)
        if c.state != "created":
            raise ContainerRuntimeError(
                f"container {container_id} is {c.state}, not created", reason="RunContainerError"
            )
        now = self.clock.time()
        c.state = "running"
        c.started_at = now
        kind, value = fake_plan(c.argv)
        if kind == "exit":
            c.ends_at, c.planned_exit = now + self.exit_delay, int(value)
        elif kind == "sleep":
            c.ends_at, c.planned_exit = now + value, 0
        self._log(c, f"fake container {c.name} started: {' '.join(c.argv)}")
        if c.ends_at:
            self._schedule(c)
        self._save()

    async def stop_container(self, container_id: str, grace_period: float) -> None:
        c = self._container(container_id)
        self._refresh(c)
        if c.state == "created":
            self._exit(c, 0, self.clock.time(), started=False)
        if c.state != "running":
            return
        if c.ignores_term and grace_period > 0:
            deadline = self.clock.monotonic() + grace_period
            if c.ends_at:
                deadline = min(deadline, self.clock.monotonic() + (c.ends_at - self.clock.time()))
            while c.state == "running" and self.clock.monotonic() < deadline:
                await self.clock.sleep(deadline - self.clock.monotonic())
                self._refresh(c)
            if c.state == "running":
                self._exit(c, 137, self.clock.time())
        else:
            self._exit(c, 137 if c.ignores_term else 143, self.clock.time())
        self._save()

    async def remove_container(self, container_id: str) -> None:
        if self._containers.pop(container_id, None) is not None:
            self._save()

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]:
        out = []
        for c in self._containers.values():
            if sandbox_id is None or c.sandbox_id == sandbox_id:
                self._refresh(c)
                out.append(self._status(c))
        return out

    async def container_status(self, container_id: str) -> ContainerStatus:
        c = self._container(container_id)
        self._refresh(c)
        return self._status(c)

    # streaming and probes

    async def exec_sync(
        self, container_id: str, argv: list[str], time_limit: float | None = None
    ) -> ExecResult:
        c = self._container(container_id)
        self._refresh(c)
        if c.state != "running":
            raise ContainerRuntimeError(f"container {container_id} is not running")
        kind, value = fake_plan(argv)
        if kind == "exit":
            return ExecResult(int(value))
        if argv and os.path.basename(argv[0]) == "false":
            return ExecResult(1)
        return ExecResult(0)

    async def exec(self, container_id: str, argv: list[str], *, tty: bool, stdin: bool) -> _Session:
        result = await self.exec_sync(container_id, argv)
        return _Session(result.exit_code)

    async def attach(self, container_id: str, *, tty: bool, stdin: bool) -> _Session:
        c = self._container(container_id)
        self._refresh(c)
        return _Session(c.exit_code if c.state == "exited" else None)

    async def port_forward(
        self, sandbox_id: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self._sandbox(sandbox_id)
        raise ContainerRuntimeError(
            "the fake runtime has no network to forward to", reason="NotSupported"
        )

    async def container_stats(self, container_id: str) -> ContainerStats | None:
        c = self._container(container_id)
        self._refresh(c)
        if c.state != "running":
            return None
        return ContainerStats(container_id=container_id, timestamp=self.clock.time())

    # internals

    def _state_file(self) -> Path | None:
        return None if self.state_dir is None else self.state_dir / "fake-runtime.json"

    def _save(self) -> None:
        path = self._state_file()
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "sandboxes": [asdict(s) for s in self._sandboxes.values()],
            "containers": [asdict(c) for c in self._containers.values()],
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)

    def _sandbox(self, sandbox_id: str) -> _Sandbox:
        try:
            return self._sandboxes[sandbox_id]
        except KeyError:
            raise NotFound(f"no sandbox {sandbox_id}") from None

    def _container(self, container_id: str) -> _Container:
        try:
            return self._containers[container_id]
        except KeyError:
            raise NotFound(f"no container {container_id}") from None

    def _schedule(self, c: _Container) -> None:
        delay = max(0.0, c.ends_at - self.clock.time())
        self.timers.call_at(self.clock.monotonic() + delay, lambda: self._timer(c.id))

    def _timer(self, container_id: str) -> None:
        c = self._containers.get(container_id)
        if c is None or c.state != "running":
            return
        self._refresh(c)
        if c.state == "exited":
            self._save()
            for listener in list(self._listeners):
                listener()

    def _refresh(self, c: _Container) -> None:
        if c.state == "running" and c.ends_at and self.clock.time() >= c.ends_at:
            self._exit(c, c.planned_exit, c.ends_at)

    def _exit(self, c: _Container, code: int, when: float, *, started: bool = True) -> None:
        c.state = "exited"
        c.exit_code = code
        c.finished_at = when
        if not started:
            c.reason = "ContainerCannotRun"
        else:
            c.reason = "Completed" if code == 0 else "Error"
        self._log(c, f"fake container {c.name} exited with {code}")

    def _log(self, c: _Container, message: str) -> None:
        if not c.log_path:
            return
        path = Path(c.log_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = format_epoch_time(self.clock.time()).replace("Z", ".000000000Z")
        with path.open("a") as f:
            f.write(f"{stamp} stdout F {message}\n")

    def _sandbox_status(self, s: _Sandbox) -> SandboxStatus:
        return SandboxStatus(
            id=s.id,
            pod_uid=s.pod_uid,
            name=s.name,
            namespace=s.namespace,
            attempt=s.attempt,
            state=SandboxState.READY if s.ready else SandboxState.NOTREADY,
            created_at=s.created_at,
            labels=dict(s.labels),
            annotations=dict(s.annotations),
        )

    def _status(self, c: _Container) -> ContainerStatus:
        return ContainerStatus(
            id=c.id,
            sandbox_id=c.sandbox_id,
            name=c.name,
            attempt=c.attempt,
            state=ContainerState(c.state),
            image=c.image,
            image_id=c.image_id,
            created_at=c.created_at,
            started_at=c.started_at,
            finished_at=c.finished_at,
            exit_code=c.exit_code,
            reason=c.reason if c.state == "exited" else "",
            log_path=c.log_path,
            labels=dict(c.labels),
            annotations=dict(c.annotations),
        )


class FakeImages:
    """An `ImageService` stand-in for fake nodes: nothing is fetched; every image a pod names is
    recorded (``pulled``) and "present" from then on. A reference in ``missing`` fails to pull
    with `ImagePullError` (for ErrImagePull/ImagePullBackOff tests)."""

    def __init__(self, *, missing: set[str] | None = None) -> None:
        self.pulled: list[str] = []
        self.missing: set[str] = set(missing or ())
        self._images: dict[str, ImageInfo] = {}

    def _info(self, ref: str) -> ImageInfo:
        digest = hashlib.sha256(ref.encode()).hexdigest()
        return ImageInfo(
            id=f"sha256:{digest}",
            repo_tags=(ref,),
            repo_digests=(),
            size=0,
            config=ImageConfig(),
            layers=(),
        )

    def get(self, ref: str) -> ImageInfo | None:
        return self._images.get(ref)

    def images(self) -> list[ImageInfo]:
        return list(self._images.values())

    async def pull(self, ref: str, auth: dict[str, RegistryAuth] | None = None) -> ImageInfo:
        if ref in self.missing:
            raise ImagePullError(f'failed to resolve reference "{ref}": not found')
        self.pulled.append(ref)
        info = self._images[ref] = self._info(ref)
        return info

    async def ensure(
        self, ref: str, pull_policy: str, auth: dict[str, RegistryAuth] | None = None
    ) -> tuple[ImageInfo, bool]:
        have = self._images.get(ref)
        if have is not None and pull_policy != "Always":
            return have, False
        if have is None and pull_policy == "Never":
            raise ImagePullError(
                f'Container image "{ref}" is not present with pull policy of Never'
            )
        return await self.pull(ref, auth), True

    async def import_archive(self, path: Path, tag: str | None = None) -> list[ImageInfo]:
        raise ImagePullError("the fake image service imports nothing")

    async def remove(self, ref: str) -> None:
        self._images.pop(ref, None)

    def layer_dirs(self, image_id: str) -> list[Path]:
        return []

    def in_use(self, image_ids: set[str]) -> None:
        return None

    async def garbage_collect(self, high_percent: int, low_percent: int) -> list[str]:
        return []
