"""The process supervisor behind ``skiff server``: several children, started in order, kept alive.

As k3s runs its components (``pkg/daemons/executor``) with readiness between them, and restarts a
dead one:

- **start in order**: each child is started and waited for until its ``ready`` check passes
  (the API server: ``/readyz`` answers 200; the controller-manager: its ready file exists) before
  the next starts;
- **say which child failed to start and why**: a child that exits before it was ever ready, or is
  not ready within ``ready_timeout``, stops the supervisor (after stopping the children already
  running), with the child's name, exit code and the last lines it wrote to stderr - a port in use,
  a bad flag - instead of restarting it forever;
- **restart a dead one with back-off**: 1 s, doubling up to 30 s, back to 1 s once a child has
  lived 30 s; the others keep running (clients reconnect);
- **stop all on SIGTERM/SIGINT**: in reverse start order, each by its pid, SIGTERM then SIGKILL
  after ``stop_timeout``.

Children's stdout is inherited; their stderr is copied through line by line (so logs still reach
the terminal or the log file) and the last lines are kept for the failure message.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

__all__ = ["Child", "ChildSpec", "Supervisor"]

log = logging.getLogger("skiff.supervisor")


@dataclass
class ChildSpec:
    """One supervised program."""

    name: str
    argv: list[str]
    ready: Callable[[], bool]
    """Polled after start until it returns True."""
    prepare: Callable[[], None] | None = None
    """Called before every start (e.g. to remove a stale ready file)."""
    ready_timeout: float = 60.0


@dataclass
class Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay: float = 1.0
    restart_at: float | None = None
    ever_ready: bool = False
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    _pump: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        if self.spec.prepare is not None:
            self.spec.prepare()
        self.tail.clear()
        self.process = subprocess.Popen(self.spec.argv, stderr=subprocess.PIPE)
        self.started_at = time.monotonic()
        self.restart_at = None
        stream = self.process.stderr
        assert stream is not None
        self._pump = threading.Thread(
            target=self._copy, args=(stream,), name=f"{self.spec.name}-stderr", daemon=True
        )
        self._pump.start()
        log.info("started %s (pid %d)", self.spec.name, self.process.pid)

    def _copy(self, stream: IO[bytes]) -> None:
        out = sys.stderr.buffer
        for line in iter(stream.readline, b""):
            self.tail.append(line.decode(errors="replace").rstrip())
            try:
                out.write(line)
                out.flush()
            except (OSError, ValueError):
                pass
        stream.close()

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def why(self) -> str:
        if self._pump is not None:
            self._pump.join(timeout=2)
        lines = [line for line in self.tail if line.strip()]
        return "\n  ".join(lines[-8:]) if lines else "(it wrote nothing to stderr)"

    def stop(self, timeout: float) -> None:
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        log.info("stopping %s (pid %d)", self.spec.name, proc.pid)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning(
                "%s (pid %d) did not stop in %.0f s; killing it", self.spec.name, proc.pid, timeout
            )
            proc.kill()
            proc.wait()
        if self._pump is not None:
            self._pump.join(timeout=2)
        log.info("stopped %s (pid %d, exit code %s)", self.spec.name, proc.pid, proc.returncode)


class Supervisor:
    """Start ``specs`` in order, keep them alive, stop them on a signal (see the module doc)."""

    def __init__(
        self,
        specs: list[ChildSpec],
        *,
        initial_delay: float = 1.0,
        max_delay: float = 30.0,
        healthy_after: float = 30.0,
        stop_timeout: float = 15.0,
        poll: float = 0.2,
    ) -> None:
        self.children = [Child(spec, delay=initial_delay) for spec in specs]
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.healthy_after = healthy_after
        self.stop_timeout = stop_timeout
        self.poll = poll
        self.stopping = threading.Event()

    def install_signal_handlers(self) -> None:
        def on_signal(signum: int, _frame: object) -> None:
            running = [
                c.spec.name
                for c in reversed(self.children)
                if c.process is not None and c.exit_code() is None
            ]
            log.info(
                "received %s; stopping %s",
                signal.Signals(signum).name,
                ", ".join(running) or "(no child running)",
            )
            self.stopping.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def run(self) -> int:
        """Supervise until stopped (0) or a child fails to start (its exit code, or 1)."""
        try:
            for child in self.children:
                code = self._start_and_wait(child)
                if code is not None:
                    return code
                if self.stopping.is_set():
                    return 0
            while not self.stopping.is_set():
                self._tend()
                self.stopping.wait(self.poll)
            return 0
        finally:
            self.stop_all()
            log.info("supervisor stopped")

    def _start_and_wait(self, child: Child) -> int | None:
        spec = child.spec
        child.start()
        deadline = time.monotonic() + spec.ready_timeout
        while not self.stopping.is_set():
            code = child.exit_code()
            if code is not None:
                log.error(
                    "%s failed to start (exit code %s); not starting the rest. It said:\n  %s",
                    spec.name,
                    code,
                    child.why(),
                )
                return code or 1
            if _safe(spec.ready):
                child.ever_ready = True
                log.info("%s is ready", spec.name)
                return None
            if time.monotonic() > deadline:
                log.error(
                    "%s failed to start: not ready within %.0f s; stopping. It said:\n  %s",
                    spec.name,
                    spec.ready_timeout,
                    "\n  ".join(list(child.tail)[-8:]) or "(nothing on stderr)",
                )
                return 1
            self.stopping.wait(self.poll)
        return None

    def _tend(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at and not self.stopping.is_set():
                    child.start()
                continue
            code = child.exit_code()
            if code is None:
                continue
            if now - child.started_at > self.healthy_after:
                child.delay = self.initial_delay
            log.error(
                "%s (pid %s) exited with code %s; restarting in %.0f s",
                child.spec.name,
                child.pid,
                code,
                child.delay,
            )
            child.restart_at = now + child.delay
            child.delay = min(child.delay * 2, self.max_delay)

    def stop_all(self) -> None:
        """Stop every child, in reverse start order, each by its pid."""
        for child in reversed(self.children):
            child.stop(self.stop_timeout)


def _safe(check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except Exception:  # a readiness probe that fails is "not ready yet"
        return False
