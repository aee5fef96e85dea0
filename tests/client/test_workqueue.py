"""WorkQueue and rate limiters: dedup, one worker per item, requeue after done, delays and rate
limiting on a FakeClock, shutdown (with and without drain), statistics. No network."""

from __future__ import annotations

import asyncio

import pytest

from skiff.client import (
    BucketRateLimiter,
    ItemExponentialRateLimiter,
    MaxOfRateLimiter,
    ShutDown,
    WorkQueue,
    WouldBlock,
    default_controller_rate_limiter,
)
from skiff.testing.clock import FakeClock


def make_queue(clock: FakeClock | None = None) -> WorkQueue[str]:
    clock = clock or FakeClock()
    return WorkQueue(name="test", clock=clock)


async def test_dedup_while_queued() -> None:
    q = make_queue()
    for _ in range(3):
        q.add("a")
    q.add("b")
    assert len(q) == 2
    assert await q.get() == "a"
    assert await q.get() == "b"
    with pytest.raises(WouldBlock):
        q.get_nowait()
    assert q.statistics().adds == 2


async def test_item_in_processing_not_handed_out_and_requeued_after_done() -> None:
    q = make_queue()
    q.add("a")
    item = await q.get()
    q.add("a")  # re-added while a worker has it
    q.add("a")
    assert len(q) == 0
    with pytest.raises(WouldBlock):
        q.get_nowait()
    q.done(item)
    assert len(q) == 1
    assert q.get_nowait() == "a"
    q.done("a")
    assert len(q) == 0


async def test_concurrent_workers_never_share_an_item() -> None:
    q = make_queue()
    active: set[str] = set()
    processed: list[str] = []

    async def worker() -> None:
        while True:
            try:
                key = await q.get()
            except ShutDown:
                return
            try:
                assert key not in active, f"{key} handed to two workers"
                active.add(key)
                await asyncio.sleep(0)
                if len(processed) < 200:
                    q.add(key)  # re-added during processing
                processed.append(key)
                await asyncio.sleep(0)
            finally:
                active.discard(key)
                q.done(key)

    async with asyncio.TaskGroup() as tg:
        for _ in range(4):
            tg.create_task(worker())
        for key in ("a", "b", "c"):
            q.add(key)
        while len(processed) < 200:  # noqa: ASYNC110 - let the workers spin
            await asyncio.sleep(0)
        await q.shut_down_with_drain()
    assert set(processed) == {"a", "b", "c"}


async def test_get_waits_for_add() -> None:
    q = make_queue()
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    assert not getter.done()
    q.add("x")
    assert await getter == "x"


async def test_add_after_uses_clock_and_earliest_deadline_wins() -> None:
    clock = FakeClock()
    q = make_queue(clock)
    q.add_after("a", 10)
    q.add_after("a", 5)
    q.add_after("a", 20)
    assert q.statistics().waiting == 1
    getter = asyncio.create_task(q.get())
    await clock.wait_sleepers(1)
    clock.advance(4.9)
    await asyncio.sleep(0)
    assert not getter.done()
    clock.advance(0.1)
    assert await getter == "a"
    q.done("a")
    clock.advance(20)
    with pytest.raises(WouldBlock):
        q.get_nowait()  # the superseded 10 s and 20 s deadlines do not re-add it


async def test_add_after_wakes_a_getter_waiting_for_a_later_item() -> None:
    clock = FakeClock()
    q = make_queue(clock)
    q.add_after("late", 100)
    getter = asyncio.create_task(q.get())
    await clock.wait_sleepers(1)
    q.add_after("soon", 1)
    await asyncio.sleep(0)
    clock.advance(1)
    assert await getter == "soon"


async def test_rate_limited_exponential_per_item_and_forget() -> None:
    clock = FakeClock()
    limiter = ItemExponentialRateLimiter(base_delay=0.005, max_delay=1000)
    q: WorkQueue[str] = WorkQueue(clock=clock, rate_limiter=limiter)
    delays = [limiter.when("probe") for _ in range(5)]
    assert delays == [0.005, 0.01, 0.02, 0.04, 0.08]
    limiter.forget("probe")
    for expected in (0.005, 0.01, 0.02):
        q.add_rate_limited("k")
        assert q.num_requeues("k") >= 1
        deadline_before = clock.monotonic()
        getter = asyncio.create_task(q.get())
        await clock.wait_sleepers(1)
        clock.advance(expected * 0.99)
        await asyncio.sleep(0)
        assert not getter.done()
        clock.advance(expected * 0.02)
        assert await getter == "k"
        assert clock.monotonic() - deadline_before >= expected
        q.done("k")
    assert q.num_requeues("k") == 3
    q.forget("k")
    assert q.num_requeues("k") == 0
    assert q.statistics().retries == 3


def test_exponential_caps_at_max() -> None:
    limiter = ItemExponentialRateLimiter(base_delay=1, max_delay=10)
    assert [limiter.when("x") for _ in range(6)] == [1, 2, 4, 8, 10, 10]
    for _ in range(2000):
        limiter.when("x")  # no overflow for long-failing items
    assert limiter.when("x") == 10


def test_bucket_allows_burst_then_qps() -> None:
    clock = FakeClock()
    bucket = BucketRateLimiter(qps=10, burst=3, clock=clock)
    assert [bucket.when(i) for i in range(3)] == [0, 0, 0]
    assert bucket.when(3) == pytest.approx(0.1)
    assert bucket.when(4) == pytest.approx(0.2)
    clock.advance(10)  # refills, but never above burst
    assert [bucket.when(i) for i in range(3)] == [0, 0, 0]
    assert bucket.when(9) == pytest.approx(0.1)


def test_default_controller_limiter_is_max_of_item_and_bucket() -> None:
    clock = FakeClock()
    limiter = default_controller_rate_limiter(clock=clock, base_delay=0.005, qps=10, burst=2)
    assert isinstance(limiter, MaxOfRateLimiter)
    assert limiter.when("a") == 0.005  # item back-off dominates, bucket has tokens
    assert limiter.when("b") == 0.005
    # bucket empty: the bucket's 0.1 s beats b's second failure (0.01 s)
    assert limiter.when("b") == pytest.approx(0.1)
    assert limiter.num_requeues("b") == 2
    limiter.forget("b")
    assert limiter.num_requeues("b") == 0


async def test_shutdown_hands_out_queued_then_raises_and_drops_delayed() -> None:
    clock = FakeClock()
    q = make_queue(clock)
    q.add("a")
    q.add_after("later", 1)
    q.shut_down()
    q.add("ignored")
    q.add_rate_limited("ignored")
    assert await q.get() == "a"
    with pytest.raises(ShutDown):
        await q.get()
    stats = q.statistics()
    assert stats.shutting_down and stats.waiting == 0 and stats.processing == 1


async def test_shutdown_wakes_blocked_getters() -> None:
    q = make_queue()
    getters = [asyncio.create_task(q.get()) for _ in range(3)]
    await asyncio.sleep(0)
    q.shut_down()
    results = await asyncio.gather(*getters, return_exceptions=True)
    assert all(isinstance(r, ShutDown) for r in results)


async def test_shutdown_with_drain_waits_for_in_flight_items() -> None:
    q = make_queue()
    q.add("a")
    item = await q.get()
    drain = asyncio.create_task(q.shut_down_with_drain())
    await asyncio.sleep(0)
    assert not drain.done()
    q.done(item)
    await asyncio.wait_for(drain, 1)


async def test_observer_sees_adds_retries_depth_and_latencies() -> None:
    from skiff.client.workqueue import set_queue_observer_factory

    events: list[tuple[str, str, float]] = []

    class Observer:
        def __init__(self, name: str) -> None:
            self.name = name

        def added(self) -> None:
            events.append((self.name, "add", 0))

        def retried(self) -> None:
            events.append((self.name, "retry", 0))

        def depth(self, n: int) -> None:
            events.append((self.name, "depth", n))

        def waited(self, seconds: float) -> None:
            events.append((self.name, "waited", seconds))

        def worked(self, seconds: float) -> None:
            events.append((self.name, "worked", seconds))

    clock = FakeClock()
    set_queue_observer_factory(Observer)
    try:
        q: WorkQueue[str] = WorkQueue(name="obs", clock=clock)
    finally:
        set_queue_observer_factory(None)
    unobserved: WorkQueue[str] = WorkQueue(name="plain", clock=clock)
    unobserved.add("x")
    q.add("a")
    q.add("b")
    clock.advance(2.0)
    item = q.get_nowait()
    clock.advance(0.5)
    q.add_rate_limited(item)
    q.done(item)
    kinds = [(k, v) for _, k, v in events]
    assert ("add", 0) in kinds and ("retry", 0) in kinds
    assert ("waited", 2.0) in kinds and ("worked", 0.5) in kinds
    assert ("depth", 2) in kinds and ("depth", 1) in kinds
    assert {name for name, _, _ in events} == {"obs"}
