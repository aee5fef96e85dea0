"""The supervisor behind ``skiff server`` (skiff.cmd.supervisor), with tiny Python children.

Covers: children start in order, each only once the previous is ready; SIGTERM-like stop ends
them in reverse order, each by its pid; a child exiting before it was ready stops the supervisor
with its exit code, its name and its last stderr line, after stopping the children already up; a
dead child is restarted with a doubling back-off while the others keep running. Excludes: the
real API server and controller-manager (tests/integration/test_server.py).
"""

from __future__ import annotations

import itertools
import logging
import sys
import threading
import time
from pathlib import Path

import pytest

from skiff.cmd.supervisor import ChildSpec, Supervisor

# a child: optional "was <file> there when I started", then ready file, then wait for SIGTERM
CHILD = r"""
import pathlib, signal, sys, time
name, ready, log, check = sys.argv[1:5]
log = pathlib.Path(log)
def note(text):
    with log.open("a") as f:
        f.write(text + "\n")
note(f"{name} started, {check} there: {pathlib.Path(check).exists()}")
def on_term(*_):
    note(f"{name} stopped")
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
time.sleep(0.2)
pathlib.Path(ready).write_text("ok")
while True:
    time.sleep(0.05)
"""


def _spec(tmp: Path, name: str, check: str = "-") -> ChildSpec:
    ready = tmp / f"{name}.ready"
    return ChildSpec(
        name,
        [sys.executable, "-c", CHILD, name, str(ready), str(tmp / "log"), check],
        ready=ready.exists,
        prepare=lambda: ready.unlink(missing_ok=True),
        ready_timeout=20,
    )


def _run(sup: Supervisor) -> tuple[threading.Thread, list[int]]:
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(sup.run()), daemon=True)
    thread.start()
    return thread, result


def _wait(check: object, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_start_in_order_and_stop_in_reverse(tmp_path: Path) -> None:
    sup = Supervisor(
        [_spec(tmp_path, "first"), _spec(tmp_path, "second", str(tmp_path / "first.ready"))],
        poll=0.02,
    )
    thread, result = _run(sup)
    try:
        _wait(lambda: (tmp_path / "second.ready").exists(), "both ready")
        pids = [c.pid for c in sup.children]
    finally:
        sup.stopping.set()
        thread.join(30)
    assert result == [0]
    lines = (tmp_path / "log").read_text().splitlines()
    # the second started only once the first was ready, and they stopped in reverse order
    assert lines == [
        "first started, - there: False",
        f"second started, {tmp_path / 'first.ready'} there: True",
        "second stopped",
        "first stopped",
    ]
    assert all(c.exit_code() is not None for c in sup.children) and None not in pids


def test_a_child_that_cannot_start_is_named_with_its_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = ChildSpec(
        "broken",
        [
            sys.executable,
            "-c",
            "import sys; print('no: port 6443 in use', file=sys.stderr); sys.exit(3)",
        ],
        ready=lambda: False,
    )
    sup = Supervisor([_spec(tmp_path, "first"), broken], poll=0.02)
    with caplog.at_level(logging.INFO, logger="skiff.supervisor"):
        assert sup.run() == 3
    text = caplog.text
    assert "broken failed to start (exit code 3)" in text
    assert "no: port 6443 in use" in text
    assert "first stopped" in (tmp_path / "log").read_text()  # what had started is stopped


def test_a_dead_child_is_restarted_with_back_off(tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    flaky = ChildSpec(
        "flaky",
        [
            sys.executable,
            "-c",
            "import pathlib, sys, time; p = pathlib.Path(sys.argv[1]); "
            "p.open('a').write(f'{time.monotonic()}\\n'); time.sleep(0.1); sys.exit(1)",
            str(starts),
        ],
        ready=lambda: starts.exists(),
    )
    sup = Supervisor([_spec(tmp_path, "steady"), flaky], initial_delay=0.2, poll=0.02)
    thread, result = _run(sup)
    try:
        _wait(lambda: starts.exists() and len(starts.read_text().split()) >= 4, "restarts", 30)
        steady = sup.children[0]
        assert steady.exit_code() is None  # the other child keeps running
    finally:
        sup.stopping.set()
        thread.join(30)
    assert result == [0]
    times = [float(t) for t in starts.read_text().split()]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # each gap is the child's 0.1 s life plus the back-off: 0.2, 0.4, 0.8 s
    for gap, delay in zip(gaps, (0.2, 0.4, 0.8), strict=False):
        assert gap >= 0.1 + delay
    assert gaps[2] > gaps[0]
