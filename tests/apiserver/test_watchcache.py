"""WatchCache specifics (skiff.apiserver.watchcache): fan-out to 1,000 watchers, the event window
and ``Compacted`` for watches older than it, read-your-writes and ``wait_for_revision``, relisting
when its own feed is dropped, and shutting down with the store. With an ObjectCodec (a toy JSON
one here, so the cache is tested without the API types): each version decoded once however many
watchers and selects read it, events routed by an indexed field to that value's watchers only
(moves reach both sides), ``select`` over labels, fields and the index with paging, and a value
that cannot be decoded not stopping the feed.

The Store contract the cache shares with the backends is in ``tests/contract/``; the API server's
watch streams over these are in ``test_watch.py``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from skiff.apiserver.watchcache import CachedEvent, CachedObject, ObjectCodec, WatchCache
from skiff.store import (
    Compacted,
    Compactor,
    EventType,
    FutureRevision,
    KeyValue,
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


# -- with a codec -----------------------------------------------------------------------------


def _decode(kv: KeyValue) -> Any:
    return json.loads(kv.value)


def _labels(obj: Any) -> Mapping[str, str]:
    labels: Mapping[str, str] = obj.get("labels") or {}
    return labels


def _fields(key: str, obj: Any) -> Mapping[str, str]:
    return {"name": key.rsplit("/", 1)[-1], "node": str(obj.get("node") or "")}


CODEC = ObjectCodec(
    decode=_decode, labels=_labels, fields=_fields, indexes={"/pods/": frozenset({"node"})}
)


def pod(node: str = "", **labels: str) -> bytes:
    return json.dumps({"node": node, "labels": labels}).encode()


async def take(events: WatchStream, n: int) -> list[CachedEvent]:
    out: list[CachedEvent] = []
    async with asyncio.timeout(10):  # hang guard only
        while len(out) < n:
            for event in await events.next_batch():
                assert isinstance(event, CachedEvent)
                out.append(event)
    return out


async def test_index_routes_events_to_the_watchers_of_their_value() -> None:
    base = MemoryStore()
    async with (
        WatchCache(base, codec=CODEC) as cache,
        cache.watch("/pods/", index=("node", "a")) as on_a,
        cache.watch("/pods/", index=("node", "b")) as on_b,
        cache.watch("/pods/", index=("node", "")) as unscheduled,
        cache.watch("/pods/") as everything,
    ):
        assert cache.statistics().watch.indexed_subscribers == 3
        r1 = await cache.create("/pods/p", pod())
        r2 = (await cache.update("/pods/p", pod("a"), expected_revision=r1)).revision
        r3 = (await cache.update("/pods/p", pod("b"), expected_revision=r2)).revision
        r4 = (await cache.delete("/pods/p")).revision
        r5 = await cache.create("/pods/fence", pod("a"))
        r6 = await cache.create("/pods/fence-b", pod("b"))
        r7 = await cache.create("/pods/fence-u", pod(""))
        assert [e.revision for e in await take(everything, 7)] == [r1, r2, r3, r4, r5, r6, r7]
        # the move from a to b concerns both nodes' watchers; the fences prove nothing else came
        assert [e.revision for e in await take(on_a, 3)] == [r2, r3, r5]
        assert [e.revision for e in await take(on_b, 3)] == [r3, r4, r6]
        moved = await take(unscheduled, 3)
        assert [e.revision for e in moved] == [r1, r2, r7]
        # leaving a selection: the previous content, at the event's revision
        gone = moved[1].deleted_object()
        assert gone.kv.value == pod() and gone.kv.mod_revision == r2
        assert gone.fields["node"] == ""
    await base.close()


async def test_each_version_is_decoded_once_for_all_readers() -> None:
    base = MemoryStore()
    async with WatchCache(base, codec=CODEC) as cache:
        watches = [cache.watch("/pods/", index=("node", "a")) for _ in range(50)]
        watches += [cache.watch("/pods/") for _ in range(50)]
        streams = [await w.__aenter__() for w in watches]
        try:
            r = await cache.create("/pods/p", pod("a", app="x"))
            await cache.update("/pods/p", pod("a", app="y"), expected_revision=r)
            for stream in streams:
                for event in await take(stream, 2):
                    # what a filtered watcher reads: the new and the previous version's fields
                    assert event.current.fields["node"] == "a"
                    assert event.previous is None or event.previous.labels == {"app": "x"}
            for _ in range(3):
                chosen = cache.select("/pods/", match=lambda e: e.labels.get("app") == "y")
                assert [e.kv.key for e in chosen.items] == ["/pods/p"]
            # two versions, each decoded once: not once per watcher, per previous value or per list
            assert cache.statistics().decodes == 2
        finally:
            for w in watches:
                await w.__aexit__(None, None, None)
    await base.close()


async def test_select_by_index_labels_and_pages() -> None:
    base = MemoryStore()
    for i in range(6):
        await base.create(f"/pods/p{i}", pod("a" if i % 2 == 0 else "b", n=str(i)))
    await base.create("/other/x", pod("a"))
    async with WatchCache(base, codec=CODEC) as cache:

        def names(items: tuple[CachedObject, ...]) -> list[str]:
            return [e.kv.key.rsplit("/", 1)[-1] for e in items]

        on_a = cache.select("/pods/", index=("node", "a"))
        assert names(on_a.items) == ["p0", "p2", "p4"] and not on_a.more
        assert cache.statistics().indexes == 1
        first = cache.select("/pods/", index=("node", "a"), limit=2)
        assert names(first.items) == ["p0", "p2"] and first.more
        rest = cache.select("/pods/", index=("node", "a"), limit=2, continue_after="/pods/p2")
        assert names(rest.items) == ["p4"]
        # a limit reached with keys after the last item (not matching ones too): more is set,
        # like a store scan's continue token
        last = cache.select("/pods/", index=("node", "a"), limit=1, continue_after="/pods/p2")
        assert names(last.items) == ["p4"] and last.more
        # the index follows writes
        kv = await cache.get("/pods/p1")
        assert kv is not None
        await cache.update("/pods/p1", pod("a"), expected_revision=kv.mod_revision)
        await cache.delete("/pods/p0")
        await cache.create("/pods/p9", pod("a"))
        on_a = cache.select("/pods/", index=("node", "a"))
        assert names(on_a.items) == ["p1", "p2", "p4", "p9"]
        # without an index (not configured for this prefix) the same answer comes from a scan
        assert names(cache.select("/other/", index=("node", "a")).items) == ["x"]
        odd = cache.select("/pods/", match=lambda e: int(e.labels.get("n", "0")) % 2 == 1)
        assert names(odd.items) == ["p3", "p5"]
    await base.close()


async def test_undecodable_value_does_not_stop_the_feed() -> None:
    base = MemoryStore()
    async with WatchCache(base, codec=CODEC) as cache:
        async with cache.watch("/pods/", index=("node", "a")) as on_a:
            await cache.create("/pods/bad", b"not json")
            r = await cache.create("/pods/good", pod("a"))
            assert [e.revision for e in await take(on_a, 1)] == [r]
        assert cache.statistics().decode_failures == 1
        chosen = cache.select("/pods/", index=("node", "a"))
        assert [e.kv.key for e in chosen.items] == ["/pods/good"]
    await base.close()


async def test_delete_event_shares_the_previous_versions_fields() -> None:
    base = MemoryStore()
    async with WatchCache(base, codec=CODEC) as cache:
        await cache.create("/pods/p", pod("a", app="x"))
        async with cache.watch("/pods/") as events:
            r = (await cache.delete("/pods/p")).revision
            (event,) = await take(events, 1)
        assert event.type is EventType.DELETE and event.previous is not None
        assert event.current.labels == {"app": "x"} and event.index_values("node") == ("a",)
        assert event.deleted_object() is event.current and event.current.kv.mod_revision == r
        assert cache.statistics().decodes == 1
    await base.close()
