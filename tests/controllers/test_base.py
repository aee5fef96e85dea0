"""The worker contract of skiff.controllers.base (client-go sample-controller's processNextWorkItem).

Covers: success forgets the key's back-off and marks it done; a failing sync is retried after the
rate limiter's delay (measured on a FakeClock) and never stops the worker; a key re-added while
being synced is synced again afterwards and never by two workers at once; cancellation propagates
(``done`` still runs) and a shut-down queue ends the workers; ``split_key``; ``metadata_informer``
hands out the factory's shared informer. Excludes: the controllers themselves.
"""

from __future__ import annotations

import asyncio

import pytest

from skiff.client import Client, Config, SharedInformerFactory, WorkQueue
from skiff.controllers import metadata_informer, process_next_work_item, run_workers
from skiff.controllers.base import split_key
from skiff.testing.clock import FakeClock


async def test_success_forgets_and_marks_done() -> None:
    clock = FakeClock()
    queue: WorkQueue[str] = WorkQueue(name="t", clock=clock)
    seen: list[str] = []

    async def sync(key: str) -> None:
        seen.append(key)

    queue.add("a")
    queue.add_rate_limited("a")  # give it some back-off history to forget
    assert queue.num_requeues("a") == 1
    assert await process_next_work_item(queue, sync)
    assert seen == ["a"]
    assert queue.num_requeues("a") == 0
    assert queue.statistics().processing == 0


async def test_failure_is_retried_after_the_rate_limited_delay() -> None:
    clock = FakeClock()
    queue: WorkQueue[str] = WorkQueue(name="t", clock=clock)
    attempts: list[float] = []
    attempted: asyncio.Queue[None] = asyncio.Queue()

    async def sync(key: str) -> None:
        attempts.append(clock.monotonic())
        attempted.put_nowait(None)
        if len(attempts) < 3:
            raise RuntimeError("boom")

    queue.add("k")
    workers = asyncio.create_task(run_workers(queue, sync, 2, name="t"))
    try:
        for _ in range(2):
            await attempted.get()  # a failed attempt...
            await clock.advance_to_next()  # ...is retried once its back-off has passed
        await asyncio.wait_for(attempted.get(), 5)
        assert len(attempts) == 3
        # 5 ms then 10 ms of back-off (client-go's default per-item limiter), on the fake clock
        assert attempts[1] - attempts[0] == pytest.approx(0.005)
        assert attempts[2] - attempts[1] == pytest.approx(0.010)
        assert queue.num_requeues("k") == 0  # forgotten after the success
        assert not workers.done()  # failures never stop a worker
    finally:
        queue.shut_down()
        await asyncio.wait_for(workers, 5)


async def test_readded_key_is_synced_again_never_concurrently() -> None:
    queue: WorkQueue[str] = WorkQueue(name="t")
    running = 0
    max_running = 0
    calls = 0
    release = asyncio.Event()
    first_started = asyncio.Event()
    second_done = asyncio.Event()

    async def sync(key: str) -> None:
        nonlocal running, max_running, calls
        running += 1
        max_running = max(max_running, running)
        calls += 1
        try:
            if calls == 1:
                first_started.set()
                await release.wait()
            else:
                second_done.set()
        finally:
            running -= 1

    queue.add("k")
    workers = asyncio.create_task(run_workers(queue, sync, 4))
    try:
        await first_started.wait()
        queue.add("k")  # changed while being synced
        await asyncio.sleep(0)
        assert calls == 1  # not handed to a second worker meanwhile
        release.set()
        await asyncio.wait_for(second_done.wait(), 5)
        assert max_running == 1
    finally:
        queue.shut_down()
        await asyncio.wait_for(workers, 5)


async def test_cancellation_propagates_and_done_still_runs() -> None:
    queue: WorkQueue[str] = WorkQueue(name="t")
    started = asyncio.Event()

    async def sync(key: str) -> None:
        started.set()
        await asyncio.Event().wait()  # blocks until cancelled

    queue.add("k")
    workers = asyncio.create_task(run_workers(queue, sync, 1))
    await started.wait()
    assert queue.statistics().processing == 1
    workers.cancel()
    with pytest.raises(asyncio.CancelledError):
        await workers
    assert queue.statistics().processing == 0  # done() ran in the finally


async def test_shut_down_queue_ends_the_workers_after_draining() -> None:
    queue: WorkQueue[str] = WorkQueue(name="t")
    seen: list[str] = []

    async def sync(key: str) -> None:
        seen.append(key)

    for key in ("a", "b", "c"):
        queue.add(key)
    queue.shut_down()
    await asyncio.wait_for(run_workers(queue, sync, 2), 5)
    assert sorted(seen) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="at least one worker"):
        await run_workers(queue, sync, 0)


def test_split_key() -> None:
    assert split_key("ns/name") == ("ns", "name")
    assert split_key("cluster-scoped") == ("", "cluster-scoped")


async def test_metadata_informer_is_the_factorys_shared_informer() -> None:
    async with Client(Config(server="http://127.0.0.1:9")) as client:
        factory = SharedInformerFactory(client)
        from skiff.client import resolve

        info = resolve("configmaps")
        shared = metadata_informer(factory, info)
        assert shared is factory.informer(info, metadata_only=True)
        assert shared is not factory.informer(info)  # whole objects are another informer
