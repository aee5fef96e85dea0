"""Exponential back-off helpers: the pure delay function (cap, overflow safety), jitter bounds, and
the stateful Backoff growing, capping and resetting after a quiet period on a FakeClock."""

from __future__ import annotations

import random

import pytest

from skiff.testing.clock import FakeClock
from skiff.util.backoff import Backoff, exponential_delay, jittered


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(0, 0.005), (1, 0.01), (3, 0.04), (20, 1000.0), (10_000, 1000.0)],
    ids=["first", "second", "fourth", "capped", "huge"],
)
def test_exponential_delay(attempt: int, expected: float) -> None:
    assert exponential_delay(attempt, base=0.005, cap=1000) == pytest.approx(expected)


def test_exponential_delay_edges() -> None:
    assert exponential_delay(5, base=0, cap=10) == 0
    assert exponential_delay(2, base=1, cap=100, factor=3) == 9
    with pytest.raises(ValueError):
        exponential_delay(-1, base=1, cap=2)


def test_jitter_bounds() -> None:
    rng = random.Random(1)
    values = [jittered(10, 0.5, rng) for _ in range(200)]
    assert all(10 <= v < 15 for v in values)
    assert max(values) - min(values) > 1
    assert jittered(10, 0) == 10


def test_backoff_grows_caps_and_resets() -> None:
    clock = FakeClock()
    b = Backoff(initial=1, cap=8, jitter=0, reset_after=60, clock=clock)
    delays = []
    for _ in range(6):
        delays.append(b.next_delay())
        clock.advance(1)
    assert delays == [1, 2, 4, 8, 8, 8]
    assert b.attempts == 6
    clock.advance(61)  # a long quiet period forgets the failures
    assert b.next_delay() == 1
    b.next_delay()
    b.reset()
    assert b.next_delay() == 1


def test_backoff_jitter_stays_bounded() -> None:
    b = Backoff(initial=1, cap=4, jitter=1.0, clock=FakeClock(), rng=random.Random(3))
    delays = [b.next_delay() for _ in range(20)]
    assert all(0 < d <= 8 for d in delays)
    assert delays[0] < 2
