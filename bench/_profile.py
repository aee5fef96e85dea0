"""Sampling profiles of the API server with py-spy, and a summary of where the time goes.

``py-spy`` is not a project dependency; install it into the venv by hand (``pip install py-spy``)
to use ``--profile``. It attaches to the running server by pid and writes "raw" (collapsed-stack)
output: one line per distinct stack, ``frame;frame;...;leaf count``, each frame
``function (path:line)``. :func:`summarize_profile` reads that and ranks leaf functions (self time)
and packages (self time grouped by where the code lives), and skiff's own functions by\ninclusive time (how much of the server's time runs under each).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProfileSummary", "find_py_spy", "start_py_spy", "stop_py_spy", "summarize_profile"]

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<path>[^()]*?)(?::(?P<line>\d+))?\)$")


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    samples: int
    top_functions: list[tuple[str, float]]
    """(``function (module)``, percent of samples where it was the running leaf frame)."""
    top_packages: list[tuple[str, float]]
    """(package, percent of samples whose leaf frame lives in it)."""
    top_inclusive: list[tuple[str, float]]
    """(skiff ``function (module)``, percent of samples with it anywhere on the stack)."""


def find_py_spy() -> str | None:
    """The py-spy executable next to this interpreter, else on PATH, else ``None``."""
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return str(beside)
    return shutil.which("py-spy")


def start_py_spy(exe: str, pid: int, output: Path, *, rate: int = 200) -> subprocess.Popen[bytes]:
    """Start recording ``pid`` (all its threads, idle time excluded) into ``output``.

    py-spy's own messages go to ``output`` + ``.log``.
    """
    with open(f"{output}.log", "wb") as log:
        return subprocess.Popen(
            [
                exe,
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--output",
                str(output),
                "--nonblocking",
            ],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_py_spy(proc: subprocess.Popen[bytes], *, timeout: float = 30.0) -> None:
    """Ask py-spy to stop (SIGINT makes it write its output) and wait for it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _package(path: str) -> str:
    # py-spy names files relative to the sys.path entry they came from ("skiff/store/_sqlite.py",
    # "asyncio/sslproto.py", "uuid.py"); absolute paths appear for files outside sys.path.
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    parts = path.split("/")
    if parts[0] == "skiff" and len(parts) > 1:
        return "skiff." + parts[1].removesuffix(".py")
    return parts[0].removesuffix(".py") or "?"


def _label(frame: str) -> tuple[str, str]:
    """(``function (module)``, package) of one py-spy frame."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip(), "?"
    path = match.group("path")
    module = Path(path).name.removesuffix(".py") if path else "?"
    return f"{match.group('func')} ({module})", _package(path)


# Entry frames every server sample passes through; ranking them "inclusive" says nothing.
_ENTRY_MODULES = frozenset({"skiff.__main__", "skiff.cmd"})


def summarize_profile(raw: Path, *, top: int = 15) -> ProfileSummary:
    """Rank leaf functions, packages and on-stack functions of a py-spy raw profile."""
    leaf: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f]
        if not frames:
            continue
        total += count
        name, package = _label(frames[-1])
        leaf[name] += count
        packages[package] += count
        labels = {_label(f) for f in frames}
        for seen in {
            name for name, pkg in labels if pkg.startswith("skiff.") and pkg not in _ENTRY_MODULES
        }:
            inclusive[seen] += count

    def pct(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(k, 100.0 * v / total) for k, v in counter.most_common(top)] if total else []

    return ProfileSummary(total, pct(leaf), pct(packages), pct(inclusive))
