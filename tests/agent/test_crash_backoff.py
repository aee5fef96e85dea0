"""Crash back-off: the first crash restarts at once, later ones wait 1 s, 2 s, 4 s ... up to
60 s; a container that ran 10 minutes cleanly starts over; image pulls always wait."""

from __future__ import annotations

from skiff.agent.backoff import Backoff
from skiff.agent.kuberuntime import go_duration


def test_first_crash_immediate_then_doubling_to_the_cap() -> None:
    b = Backoff()
    key = ("uid", "c")
    waits = [b.crashed(key, 100.0 + i, ran_for=1.0) for i in range(10)]
    assert waits == [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert b.last_wait(key) == 60.0
    assert b.remaining(key, 109.0) == 60.0
    assert b.remaining(key, 200.0) == 0.0


def test_reset_after_a_clean_run() -> None:
    b = Backoff()
    key = ("uid", "c")
    b.crashed(key, 0.0, ran_for=1.0)
    assert b.crashed(key, 1.0, ran_for=1.0) == 1.0
    assert b.crashed(key, 5.0, ran_for=1.0) == 2.0
    assert b.crashed(key, 700.0, ran_for=600.0) == 0.0
    assert b.crashed(key, 701.0, ran_for=1.0) == 1.0


def test_keys_are_independent_and_forgotten_per_pod() -> None:
    b = Backoff()
    b.crashed(("a", "x"), 0, ran_for=0)
    b.crashed(("a", "x"), 0, ran_for=0)
    assert b.remaining(("a", "x"), 0) == 1.0
    assert b.remaining(("b", "x"), 0) == 0.0
    b.forget_pod("a")
    assert b.remaining(("a", "x"), 0) == 0.0


def test_failures_always_wait() -> None:
    b = Backoff(initial=1, maximum=4)
    assert [b.failed(("u", "i"), 0) for _ in range(4)] == [1, 2, 4, 4]


def test_go_duration() -> None:
    assert [go_duration(s) for s in (0.5, 1, 2, 32, 60, 90)] == [
        "500ms",
        "1s",
        "2s",
        "32s",
        "1m0s",
        "1m30s",
    ]
