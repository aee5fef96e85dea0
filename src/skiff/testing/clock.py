"""`FakeClock`: a manually advanced `skiff.util.clock.Clock` for tests (trio's ``MockClock`` idea).

Time only moves when a test calls `FakeClock.advance` (or `FakeClock.set`); sleepers whose deadline
has been reached are woken in deadline order. `FakeClock.wait_sleepers` lets a test wait until the
code under test is actually blocked on the clock before advancing, so tests do not race.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools

__all__ = ["FakeClock"]


class FakeClock:
    """A clock whose time is advanced explicitly; `sleep` blocks until then."""

    def __init__(self, *, start: float = 1_000.0, wall_start: float = 1_750_000_000.0) -> None:
        self._now = start
        self._wall_offset = wall_start - start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._changed = asyncio.Event()

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        return self._now + self._wall_offset

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), fut))
        self._notify()
        try:
            await fut
        finally:
            if not fut.done():
                fut.cancel()

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and wake every sleeper whose deadline has passed."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self.set(self._now + seconds)

    def set(self, now: float) -> None:
        """Jump to monotonic time ``now`` (not earlier than the current time)."""
        if now < self._now:
            raise ValueError("time does not go backwards")
        self._now = now
        while self._sleepers and self._sleepers[0][0] <= now:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)
        self._notify()

    @property
    def sleepers(self) -> int:
        """Number of tasks currently blocked in `sleep`."""
        return sum(1 for _, _, fut in self._sleepers if not fut.done())

    def next_deadline(self) -> float | None:
        """The earliest pending wake-up time, if any."""
        pending = [d for d, _, fut in self._sleepers if not fut.done()]
        return min(pending) if pending else None

    async def wait_sleepers(self, count: int = 1) -> None:
        """Wait (in real time, yielding to the loop) until at least ``count`` tasks sleep."""
        while self.sleepers < count:
            self._changed.clear()
            await self._changed.wait()

    async def advance_to_next(self) -> float:
        """Wait for a sleeper, then jump to the earliest deadline; returns the new time."""
        await self.wait_sleepers(1)
        deadline = self.next_deadline()
        assert deadline is not None
        self.set(max(deadline, self._now))
        await asyncio.sleep(0)
        return self._now

    def _notify(self) -> None:
        self._changed.set()
