"""Shared plumbing for the benchmarks: owned processes and temp dirs, percentiles, result output.

Every benchmark runs inside :func:`guarded`, which turns SIGTERM, SIGHUP and the hard timeout
(SIGALRM) into exceptions so that :class:`Resources` always runs its cleanup: each process the
benchmark started is ended by its own pid (its process group, since every child is started in a new
session and owns nothing else), and each temporary directory it made is removed. Children also get
a pipe on stdin and exit when it closes, so they do not outlive a parent that was SIGKILLed.
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import orjson
from rich.console import Console
from rich.table import Table

from skiff.testing.cluster import ServerProcess

__all__ = [
    "REPO_ROOT",
    "BenchInterrupted",
    "Resources",
    "Summary",
    "cpu_seconds",
    "guarded",
    "now_wall",
    "print_json_line",
    "print_table",
    "raise_fd_limit",
    "read_ready_line",
    "read_result_line",
    "summarize",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The checkout the benchmarks run from; child processes import ``bench`` from here."""


class BenchInterrupted(Exception):
    """The benchmark was stopped by a signal or by its hard timeout; cleanup still runs."""


@dataclass(frozen=True, slots=True)
class Summary:
    """Latency distribution of one series, in milliseconds."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float

    def as_dict(self, prefix: str = "") -> dict[str, float | int]:
        return {
            f"{prefix}count": self.count,
            f"{prefix}p50_ms": round(self.p50, 3),
            f"{prefix}p95_ms": round(self.p95, 3),
            f"{prefix}p99_ms": round(self.p99, 3),
            f"{prefix}max_ms": round(self.max, 3),
        }


def _nearest_rank(ordered: Sequence[float], q: float) -> float:
    # Nearest-rank percentile (the smallest value with at least q of the samples at or below it),
    # so p99 of 100 samples is the 99th value and never an interpolation between two samples.
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def summarize(latencies_ms: Sequence[float]) -> Summary:
    """Percentiles of ``latencies_ms``; all zero for an empty series."""
    if not latencies_ms:
        return Summary(0, 0.0, 0.0, 0.0, 0.0)
    ordered = sorted(latencies_ms)
    return Summary(
        count=len(ordered),
        p50=_nearest_rank(ordered, 0.50),
        p95=_nearest_rank(ordered, 0.95),
        p99=_nearest_rank(ordered, 0.99),
        max=ordered[-1],
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by process ``pid`` (its threads included), from /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name (field 2) may contain spaces; the fields after its closing parenthesis
    # are fixed, utime and stime being the 12th and 13th of them.
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def raise_fd_limit() -> None:
    """Lift the soft open-files limit to the hard one; children (server, clients) inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


@dataclass
class Resources:
    """Owns what a benchmark starts: child processes, API servers, temporary directories."""

    base_dir: Path | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    servers: list[ServerProcess] = field(default_factory=list)
    dirs: list[Path] = field(default_factory=list)

    def tempdir(self, prefix: str) -> Path:
        path = Path(os.path.abspath(tempfile.mkdtemp(prefix=prefix, dir=self.base_dir)))
        self.dirs.append(path)
        return path

    def spawn_module(self, module: str, *args: str) -> subprocess.Popen[bytes]:
        """Start ``python -m module args...`` from the checkout, stdin and stdout piped to us."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
            # Unbuffered: readline() on a raw pipe reads no further than the line, so nothing of a
            # later line hides in a buffer that read_result_line's os.read() would not see.
            bufsize=0,
        )
        self.processes.append(proc)
        return proc

    def start_server(self, data_dir: Path, *extra_args: str) -> ServerProcess:
        """Start a ``skiff apiserver`` on a free 127.0.0.1 port and wait until it is ready."""
        server = ServerProcess(data_dir=data_dir, extra_args=list(extra_args))
        self.servers.append(server)  # registered first: start() may fail with the child running
        server.start(timeout=60.0)
        return server

    def stop_server(self, server: ServerProcess) -> None:
        server.stop()
        with contextlib.suppress(ValueError):
            self.servers.remove(server)

    def close(self) -> None:
        """End every owned process (by pid) and remove every owned directory; never raises."""
        for proc in self.processes:
            _end_process(proc)
        self.processes.clear()
        for server in self.servers:
            with contextlib.suppress(Exception):
                server.stop(timeout=10.0)
        self.servers.clear()
        for path in self.dirs:
            shutil.rmtree(path, ignore_errors=True)
        self.dirs.clear()


def _end_process(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    if proc.poll() is not None:
        return
    # The child leads its own session, so its process group id is its pid: this reaches the
    # child and anything it started, and nothing else.
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def read_ready_line(proc: subprocess.Popen[bytes], *, timeout: float) -> dict[str, Any]:
    """Wait (at most ``timeout`` s) for the child's first stdout line, a JSON object; return it."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise TimeoutError(f"child {proc.pid} not ready after {timeout:.0f}s")
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"child {proc.pid} exited with {proc.wait()} before it was ready")
    result: dict[str, Any] = orjson.loads(line)
    return result


def read_result_line(proc: subprocess.Popen[bytes], *, timeout: float) -> dict[str, Any]:
    """Read the child's remaining stdout up to EOF (its result line is the last one)."""
    assert proc.stdout is not None
    chunks: list[bytes] = []
    end = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"child {proc.pid} gave no result in {timeout:.0f}s")
            if not sel.select(left):
                continue
            data = os.read(fd, 1 << 20)
            if not data:
                break
            chunks.append(data)
    lines = [ln for ln in b"".join(chunks).splitlines() if ln.strip()]
    if not lines:
        raise RuntimeError(f"child {proc.pid} exited with {proc.wait()} and no result")
    result: dict[str, Any] = orjson.loads(lines[-1])
    if "fatal" in result:
        raise RuntimeError(f"child {proc.pid} failed: {result['fatal']}")
    proc.wait(timeout=10)
    return result


@contextlib.contextmanager
def guarded(*, timeout: float, base_dir: Path | None = None) -> Iterator[Resources]:
    """Run a benchmark body with a hard timeout and signal handling; always clean up after it."""
    raise_fd_limit()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGALRM:
            raise BenchInterrupted(f"hard timeout of {timeout:.0f}s reached")
        raise BenchInterrupted(f"stopped by signal {signal.Signals(signum).name}")

    handled = (signal.SIGTERM, signal.SIGHUP, signal.SIGALRM)
    previous: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {
        sig: signal.signal(sig, on_signal) for sig in handled
    }
    signal.alarm(max(1, math.ceil(timeout)))
    resources = Resources(base_dir=base_dir)
    try:
        yield resources
    finally:
        signal.alarm(0)
        # A second Ctrl-C or SIGTERM during cleanup must not leave children behind.
        for ignored in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(ignored, signal.SIG_IGN)
        try:
            resources.close()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)


def fake_agent_argv(
    server_url: str,
    token_file: Path,
    *,
    node_name: str,
    agent_port: int,
    data_dir: Path,
    lease_period: float,
    cluster_cidr: str,
    simulate: int = 0,
    extra: Sequence[str] = (),
) -> list[str]:
    """The command line of a fake-runtime ``skiff agent`` on 127.0.0.1 (``simulate`` > 0: one
    process hosting that many nodes, ``<node_name>-<i>``)."""
    return [
        sys.executable,
        "-m",
        "skiff",
        "agent",
        "--server",
        server_url,
        "--token-file",
        str(token_file),
        "--runtime",
        "fake",
        "--node-name",
        node_name,
        "--node-ip",
        "127.0.0.1",
        "--agent-port",
        str(agent_port),
        "--data-dir",
        str(data_dir),
        "--lease-period",
        f"{lease_period:g}",
        "--cluster-cidr",
        cluster_cidr,
        *(["--simulate", str(simulate)] if simulate else []),
        *extra,
    ]


def print_table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], *, out: IO[str] | None = None
) -> None:
    """Print a compact result table with rich (plain text when stdout is not a terminal)."""
    table = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    Console(file=out or sys.stdout, width=max(100, shutil.get_terminal_size().columns)).print(table)


def print_json_line(result: dict[str, Any]) -> None:
    """Print the final line: the figures as one JSON object (what scripts and the smoke test read)."""
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    sys.stdout.flush()


def now_wall() -> float:
    """Wall-clock seconds; the one clock shared by every process of a benchmark on this machine."""
    return time.time()
