"""Rate limiters deciding how long a work item waits before it is retried.

Mirrors client-go ``util/workqueue/default_rate_limiters.go``:

* `ItemExponentialRateLimiter`: per item, ``base * 2**failures`` capped at ``max_delay``
  (``ItemExponentialFailureRateLimiter``, 5 ms -> 1000 s by default);
* `BucketRateLimiter`: one token bucket for all items (``BucketRateLimiter`` over
  ``rate.NewLimiter(10, 100)``): a burst of ``burst`` items, then ``qps`` per second;
* `MaxOfRateLimiter`: the longest of several (``MaxOfRateLimiter``);
* `default_controller_rate_limiter`: exponential per item *and* the overall bucket, the max of both
  (``DefaultControllerRateLimiter``).

Time comes from an injected `Clock`, so tests drive the bucket with a fake clock.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol

from skiff.util.backoff import exponential_delay
from skiff.util.clock import Clock, SystemClock

__all__ = [
    "BucketRateLimiter",
    "ItemExponentialRateLimiter",
    "MaxOfRateLimiter",
    "RateLimiter",
    "default_controller_rate_limiter",
]


class RateLimiter(Protocol):
    """Decides retry delays for work items."""

    def when(self, item: Hashable) -> float:
        """Seconds ``item`` must wait now; counts as one more failure for per-item limiters."""
        ...

    def forget(self, item: Hashable) -> None:
        """Stop tracking ``item`` (it succeeded); the next failure starts from the base delay."""
        ...

    def num_requeues(self, item: Hashable) -> int:
        """How many failures are being tracked for ``item``."""
        ...


class ItemExponentialRateLimiter:
    """Per-item exponential back-off: ``base_delay * 2**failures`` up to ``max_delay``."""

    def __init__(self, base_delay: float = 0.005, max_delay: float = 1000.0) -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        failures = self._failures.get(item, 0)
        self._failures[item] = failures + 1
        return exponential_delay(failures, base=self.base_delay, cap=self.max_delay)

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


class BucketRateLimiter:
    """A token bucket shared by all items; a caller that finds it empty is told to wait.

    Like ``rate.Limiter.Reserve``, a reservation is always granted and may put the bucket in debt,
    so delays grow linearly with the backlog (``debt / qps``).
    """

    def __init__(self, qps: float = 10.0, burst: int = 100, *, clock: Clock | None = None) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError("qps must be > 0 and burst >= 1")
        self.qps = qps
        self.burst = burst
        self.clock: Clock = clock or SystemClock()
        self._tokens = float(burst)
        self._last = self.clock.monotonic()

    def when(self, item: Hashable) -> float:
        now = self.clock.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        self._tokens -= 1.0
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self.qps

    def forget(self, item: Hashable) -> None:
        return None

    def num_requeues(self, item: Hashable) -> int:
        return 0


class MaxOfRateLimiter:
    """The longest delay of several limiters; every limiter sees every call."""

    def __init__(self, *limiters: RateLimiter) -> None:
        if not limiters:
            raise ValueError("need at least one rate limiter")
        self.limiters = limiters

    def when(self, item: Hashable) -> float:
        return max(limiter.when(item) for limiter in self.limiters)

    def forget(self, item: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return max(limiter.num_requeues(item) for limiter in self.limiters)


def default_controller_rate_limiter(
    *,
    clock: Clock | None = None,
    base_delay: float = 0.005,
    max_delay: float = 1000.0,
    qps: float = 10.0,
    burst: int = 100,
) -> MaxOfRateLimiter:
    """Per-item exponential back-off combined with an overall token bucket (max of the two)."""
    return MaxOfRateLimiter(
        ItemExponentialRateLimiter(base_delay, max_delay),
        BucketRateLimiter(qps, burst, clock=clock),
    )
