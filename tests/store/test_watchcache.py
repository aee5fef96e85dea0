"""WatchCache specifics (skiff.apiserver.watchcache): fan-out to 1,000 watchers, the event window
and ``Compacted`` for watches older than it, read-your-writes and ``wait_for_revision``, relisting
when its own feed is dropped, and shutting down with the store.

The Store contract the cache shares with the backends is in ``tests/contract/``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from skiff.apiserver.watchcache import WatchCache
from skiff.store import (
    Compacted,
    Compactor,
    FutureRevision,
    MemoryStore,
    Revision,
    SQLiteStore,
    StoreClosed,
    WatchDropped,
    WatchStream,
)


async def drain(events: WatchStream, n: int) -> list[int]:
    out: list[int] = []
    async with asyncio.timeout(30):  # hang guard only
        while len(out) < n:
            batch = await events.next_batch()
            assert batch
            out.extend(e.revision for e in batch)
    return out


async def test_thousand_watchers_each_get_every_event(tmp_path: Path) -> None:
    async with (
        await SQLiteStore.open(tmp_path / "state.db") as base,
        WatchCache(base, watch_queue_size=1000) as cache,
    ):
        watches = [cache.watch("/registry/pods/") for _ in range(1000)]
        streams = [await w.__aenter__() for w in watches]
        try:
            revisions = await asyncio.gather(
                *(cache.create(f"/registry/pods/default/p{i}", b"{}") for i in range(200))
            )
            await cache.create("/registry/services/default/s", b"{}")
            expected = sorted(revisions)
            results = await asyncio.gather(*(drain(s, 200) for s in streams))
            assert all(r == expected for r in results)
            assert cache.statistics().watch.dropped_subscribers == 0
        finally:
            for w in watches:
                await w.__aexit__(None, None, None)


async def test_watch_older_than_window_is_compacted() -> None:
    base = MemoryStore()
    async with WatchCache(base, window=5) as cache:
        revisions = [await cache.create(f"/w/{i}", b"v") for i in range(8)]
        stats = cache.statistics()
        assert stats.window_events == 5 and stats.oldest_revision == revisions[2]
        with pytest.raises(Compacted) as info:
            async with cache.watch("/w/", revision=revisions[1]):
                pass
        assert (info.value.requested, info.value.compacted) == (revisions[1], revisions[2])
        assert info.value.current == revisions[-1]
        async with cache.watch("/w/", revision=revisions[2]) as events:
            assert await drain(events, 5) == revisions[3:]
        # The store itself still has that history: only the cache's window is exceeded.
        async with base.watch("/w/", revision=revisions[1]) as events:
            assert await drain(events, 6) == revisions[2:]
    await base.close()


async def test_writes_are_visible_in_cache_reads_when_they_return() -> None:
    base = MemoryStore()
    async with WatchCache(base) as cache:
        for i in range(20):
            r = await cache.create(f"/y/{i:02d}", b"v")
            assert cache.current_revision() >= r
            assert [kv.key for kv in (await cache.list("/y/")).items][-1] == f"/y/{i:02d}"
            result = await cache.update(f"/y/{i:02d}", b"w", expected_revision=r)
            kv = await cache.get(f"/y/{i:02d}")
            assert kv is not None and kv.mod_revision == result.revision
    await base.close()


async def test_wait_for_revision() -> None:
    base = MemoryStore()
    async with WatchCache(base) as cache:
        await cache.wait_for_revision(Revision(0))
        waiter = asyncio.create_task(cache.wait_for_revision(Revision(2)))
        await base.create("/v/a", b"v")  # behind the cache's back: it learns from its watch
        await base.create("/v/b", b"v")
        await waiter
        assert cache.current_revision() == 2
        with pytest.raises(FutureRevision) as info:
            await cache.wait_for_revision(Revision(10), timeout=0.01)
        assert (info.value.requested, info.value.current) == (10, 2)
    await base.close()


async def test_dropped_feed_relists_and_drops_cache_watchers() -> None:
    base = MemoryStore(watch_queue_size=5)
    async with WatchCache(base) as cache:
        await cache.create("/z/before", b"v")
        async with cache.watch("/z/") as events:
            # Memory writes complete without yielding, so the cache's feed cannot keep up.
            for i in range(20):
                await base.create(f"/z/{i}", b"v")
            await cache.wait_for_revision(base.current_revision())
            with pytest.raises(WatchDropped):
                await drain(events, 1)
        assert cache.statistics().relists == 2
        assert len((await cache.list("/z/")).items) == 21
        async with cache.watch("/z/") as events:
            r = await cache.create("/z/after", b"v")
            assert await drain(events, 1) == [r]
    await base.close()


async def test_cache_stops_when_its_store_closes() -> None:
    base = MemoryStore()
    cache = WatchCache(base)
    await cache.start()
    async with cache.watch("") as events:
        await base.close()
        with pytest.raises(StoreClosed):
            await drain(events, 1)
    with pytest.raises(StoreClosed):
        await cache.list("")
    await cache.close()


async def test_compactor_keeps_the_last_revisions() -> None:
    store = MemoryStore()
    for i in range(30):
        await store.create(f"/c/{i}", b"v")
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)
        if len(sleeps) == 2:
            for i in range(30, 35):
                await store.create(f"/c/{i}", b"v")
        if len(sleeps) == 3:
            await store.create("/c/last", b"v")
            await store.close()  # run() returns once the store is closed

    compactor = Compactor(store, keep=10, interval=7.0, sleep=sleep)
    await compactor.run()
    assert sleeps == [7.0, 7.0, 7.0]
    stats = compactor.statistics()
    assert (stats.runs, stats.last_compacted, stats.failures) == (2, 25, 0)
    assert store.statistics().compact_revision == 25
