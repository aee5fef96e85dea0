"""Time as an injected dependency: the `Clock` protocol, the real clock, and waiting helpers.

Everything that times out, backs off or runs periodically takes a `Clock` so tests can drive time by
hand (``skiff.testing.clock.FakeClock``) instead of sleeping, as the apiserver watch cache and
client-go's ``BoundedFrequencyRunner`` take a ``clock.Clock`` "for testing" and trio offers
``MockClock``.

Two readings are offered: `Clock.monotonic` for durations and deadlines (never goes backwards) and
`Clock.time` for wall-clock timestamps written into objects (Lease ``renewTime``, Event
``lastTimestamp``).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = [
    "Clock",
    "SystemClock",
    "format_epoch_micro_time",
    "format_epoch_time",
    "wait_event",
]


class Clock(Protocol):
    """A source of time and a way to sleep on it.

    Implementations must make `sleep` wake no earlier than ``monotonic() + seconds`` as observed by
    the same clock; a fake clock wakes sleepers only when time is advanced.
    """

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards; only differences are meaningful."""
        ...

    def time(self) -> float:
        """Wall-clock seconds since the Unix epoch (for timestamps written into objects)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the caller for ``seconds`` of this clock's time (``<= 0`` still yields once)."""
        ...


class SystemClock:
    """The real clock: `time.monotonic`, `time.time` and `asyncio.sleep`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


async def wait_event(
    clock: Clock,
    event: asyncio.Event,
    timeout: float | None,  # noqa: ASYNC109 - measured on the injected clock, not the loop's
) -> bool:
    """Wait until ``event`` is set or ``timeout`` seconds of ``clock`` time pass.

    Returns whether the event is set. ``asyncio.wait_for`` cannot be used because it measures real
    time; both waiters are owned here and cancelled before returning.
    """
    if event.is_set():
        return True
    if timeout is None:
        await event.wait()
        return True
    if timeout <= 0:
        return event.is_set()
    waiter = asyncio.ensure_future(event.wait())
    sleeper = asyncio.ensure_future(clock.sleep(timeout))
    try:
        await asyncio.wait((waiter, sleeper), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (waiter, sleeper):
            if not task.done():
                task.cancel()
        await asyncio.gather(waiter, sleeper, return_exceptions=True)
    return event.is_set()


def format_epoch_time(seconds: float) -> str:
    """Seconds since the epoch as RFC 3339 with second precision (``metav1.Time``); for a
    ``datetime`` use ``skiff.api.duration.format_time``."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_epoch_micro_time(seconds: float) -> str:
    """RFC 3339 with microseconds, as ``metav1.MicroTime`` (Lease renewTime) is serialized."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
