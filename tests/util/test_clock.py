"""The Clock protocol implementations: SystemClock, the FakeClock test double (sleepers woken in
deadline order only when advanced, cancellation), wait_event on either clock, time formatting."""

from __future__ import annotations

import asyncio

import pytest

from skiff.testing.clock import FakeClock
from skiff.util.clock import (
    Clock,
    SystemClock,
    format_epoch_micro_time,
    format_epoch_time,
    wait_event,
)


def test_protocol_conformance() -> None:
    clocks: list[Clock] = [SystemClock(), FakeClock()]
    assert all(c.time() > 1e9 for c in clocks)


async def test_system_clock_sleeps() -> None:
    clock = SystemClock()
    start = clock.monotonic()
    await clock.sleep(0.01)
    assert clock.monotonic() - start >= 0.009


async def test_fake_clock_wakes_in_deadline_order() -> None:
    clock = FakeClock(start=0)
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    async with asyncio.TaskGroup() as tg:
        tg.create_task(sleeper("b", 2))
        tg.create_task(sleeper("a", 1))
        tg.create_task(sleeper("c", 3))
        await clock.wait_sleepers(3)
        assert clock.next_deadline() == 1
        clock.advance(0.5)
        await asyncio.sleep(0)
        assert woke == []
        clock.advance(1.5)
        await asyncio.sleep(0)
        assert woke == ["a", "b"]
        assert await clock.advance_to_next() == 3
    assert woke == ["a", "b", "c"]
    assert clock.monotonic() == 3
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set(1)


async def test_fake_clock_cancelled_sleeper_is_forgotten() -> None:
    clock = FakeClock()
    task = asyncio.create_task(clock.sleep(10))
    await clock.wait_sleepers(1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert clock.sleepers == 0
    assert clock.next_deadline() is None
    clock.advance(20)  # nothing to wake, no error


async def test_wait_event_with_fake_clock() -> None:
    clock = FakeClock()
    event = asyncio.Event()
    waiter = asyncio.create_task(wait_event(clock, event, 5))
    await clock.wait_sleepers(1)
    clock.advance(5)
    assert await waiter is False
    waiter = asyncio.create_task(wait_event(clock, event, 5))
    await clock.wait_sleepers(1)
    event.set()
    assert await waiter is True
    assert clock.sleepers == 0  # the timer was cleaned up
    assert await wait_event(clock, asyncio.Event(), 0) is False
    assert await wait_event(clock, event, None) is True


def test_formatting() -> None:
    assert format_epoch_time(0) == "1970-01-01T00:00:00Z"
    assert format_epoch_micro_time(1.5) == "1970-01-01T00:00:01.500000Z"
