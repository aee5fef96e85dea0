"""Exponential back-off: a pure delay function, jitter, and a stateful back-off with reset.

client-go computes retry delays in two places this module covers:

* ``workqueue.ItemExponentialFailureRateLimiter``: ``base * 2**failures`` capped at ``max``
  (`exponential_delay`);
* ``wait.Backoff`` / ``BackoffManager`` used by the reflector between list/watch attempts:
  a growing, jittered delay that resets after a quiet period (`Backoff`).

Everything here is pure or driven by an injected `Clock`; nothing sleeps on its own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from skiff.util.clock import Clock, SystemClock

__all__ = ["Backoff", "exponential_delay", "jittered"]


def exponential_delay(attempt: int, *, base: float, cap: float, factor: float = 2.0) -> float:
    """Delay before retry number ``attempt`` (0-based): ``base * factor**attempt``, at most ``cap``.

    Overflow-safe for any attempt count (a key failing for days must not raise OverflowError).
    """
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    if base <= 0:
        return 0.0
    delay = base
    for _ in range(attempt):
        delay *= factor
        if delay >= cap:
            return cap
    return min(delay, cap)


def jittered(duration: float, max_factor: float, rng: random.Random | None = None) -> float:
    """``duration`` plus a random extra in ``[0, duration * max_factor)`` (client-go ``wait.Jitter``)."""
    if max_factor <= 0:
        return duration
    r = (rng or random).random()
    return duration + r * max_factor * duration


@dataclass
class Backoff:
    """A stateful exponential back-off that forgets past failures after a quiet period.

    `next_delay` returns the delay to wait before the next attempt and grows it; if more than
    ``reset_after`` seconds passed since the previous call, the delay starts from ``initial`` again
    (client-go ``NewExponentialBackoffManager(800ms, 30s, 2m, 2.0, 1.0)`` as used by the reflector).
    """

    initial: float = 0.8
    cap: float = 30.0
    factor: float = 2.0
    jitter: float = 1.0
    reset_after: float = 120.0
    clock: Clock = field(default_factory=SystemClock)
    rng: random.Random = field(default_factory=random.Random)
    _attempt: int = field(default=0, init=False)
    _last: float | None = field(default=None, init=False)

    @property
    def attempts(self) -> int:
        """How many delays were handed out since the last reset."""
        return self._attempt

    def next_delay(self) -> float:
        now = self.clock.monotonic()
        if self._last is not None and now - self._last > self.reset_after:
            self._attempt = 0
        self._last = now
        delay = exponential_delay(
            self._attempt, base=self.initial, cap=self.cap, factor=self.factor
        )
        self._attempt += 1
        return min(jittered(delay, self.jitter, self.rng), self.cap * (1 + self.jitter))

    def reset(self) -> None:
        """Forget past failures (call after a success)."""
        self._attempt = 0
        self._last = None
