"""Contract suite of the Store protocol, run against every implementation.

Covers: create/get/list (prefix bounds, limit/continue, past revisions), compare-and-swap update and
delete (results, not exceptions), revisions without holes, watch (from a past revision with prev_kv
and deletes in order, from 0 and from the current revision, prefix filtering, slow watchers dropped),
compaction and ``Compacted``/``FutureRevision``, concurrent CAS writers, and closing.

Implementations: MemoryStore, SQLiteStore (tmp_path), WatchCache over each. Backend-specific
behaviour (group commit, durability, crash safety, SQL schema) lives in ``tests/store/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from skiff.apiserver.watchcache import WatchCache
from skiff.store import (
    Compacted,
    Event,
    EventType,
    FutureRevision,
    KeyExists,
    KeyValue,
    MemoryStore,
    Revision,
    SQLiteStore,
    Store,
    StoreClosed,
    WatchDropped,
    WatchStream,
)

# Watchers in this suite may buffer this many events before being dropped.
QUEUE = 500


@pytest.fixture(params=["memory", "sqlite", "cache-memory", "cache-sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    kind: str = request.param
    base: Store
    if kind.endswith("sqlite"):
        base = await SQLiteStore.open(tmp_path / "state.db", watch_queue_size=QUEUE)
    else:
        base = MemoryStore(watch_queue_size=QUEUE)
    if not kind.startswith("cache"):
        try:
            yield base
        finally:
            await base.close()
        return
    cache = WatchCache(base, window=QUEUE * 4, watch_queue_size=QUEUE)
    await cache.start()
    try:
        yield cache
    finally:
        await cache.close()
        await base.close()


async def take(events: WatchStream, n: int) -> list[Event]:
    """Read exactly ``n`` events (the timeout only guards against a hang)."""
    out: list[Event] = []
    async with asyncio.timeout(20):
        while len(out) < n:
            batch = await events.next_batch(limit=n - len(out))
            assert batch, f"stream ended after {out}"
            out.extend(batch)
    return out


def rev(n: int) -> Revision:
    return Revision(n)


# -- create / get -----------------------------------------------------------------------------


async def test_create_then_get(store: Store) -> None:
    r = await store.create("/a/1", b"one")
    assert r == store.current_revision()
    assert await store.get("/a/1") == KeyValue("/a/1", b"one", r, r)
    assert await store.get("/a/missing") is None


async def test_create_existing_key_raises_key_exists(store: Store) -> None:
    await store.create("/a/1", b"one")
    with pytest.raises(KeyExists) as info:
        await store.create("/a/1", b"two")
    assert info.value.key == "/a/1"
    kv = await store.get("/a/1")
    assert kv is not None and kv.value == b"one"


async def test_revisions_are_consecutive_without_holes(store: Store) -> None:
    start = store.current_revision()
    seen = [await store.create("/r/a", b"1")]
    with pytest.raises(KeyExists):
        await store.create("/r/a", b"dup")
    failed = await store.update("/r/a", b"x", expected_revision=rev(seen[0] + 100))
    assert not failed.succeeded
    assert not (await store.delete("/r/missing")).succeeded
    ok = await store.update("/r/a", b"2", expected_revision=seen[0])
    seen.append(ok.revision)
    seen.append(await store.create("/r/b", b"1"))
    seen.append((await store.delete("/r/a")).revision)
    seen.append(await store.create("/r/a", b"again"))
    assert seen == list(range(start + 1, start + 6))
    assert store.current_revision() == seen[-1]


# -- list -------------------------------------------------------------------------------------


async def test_list_prefix_sorted_and_bounded(store: Store) -> None:
    for key in ["/p/b", "/p/a", "/pa", "/p/c", "/o/z", "/p/\u00e9"]:
        await store.create(key, key.encode())
    await store.delete("/p/c")
    result = await store.list("/p/")
    assert [kv.key for kv in result.items] == ["/p/a", "/p/b", "/p/\u00e9"]
    assert [kv.value for kv in result.items] == [b"/p/a", b"/p/b", "/p/\u00e9".encode()]
    assert result.revision == store.current_revision()
    assert not result.more
    everything = await store.list("")
    assert [kv.key for kv in everything.items] == ["/o/z", "/p/a", "/p/b", "/p/\u00e9", "/pa"]
    assert (await store.list("/nothing/")).items == ()


async def test_list_limit_and_continue(store: Store) -> None:
    keys = [f"/l/{i:02d}" for i in range(7)]
    for key in reversed(keys):
        await store.create(key, b"v")
    await store.create("/m/outside", b"v")
    first = await store.list("/l/", limit=3)
    assert [kv.key for kv in first.items] == keys[:3]
    assert first.more and first.last_key == keys[2]
    # A write between pages does not show: the continuation reads the first page's snapshot.
    await store.create("/l/99", b"late")
    await store.update("/l/05", b"changed", expected_revision=rev(0))
    second = await store.list(
        "/l/", revision=first.revision, limit=3, continue_after=first.last_key
    )
    assert [kv.key for kv in second.items] == keys[3:6]
    assert second.more and second.revision == first.revision
    assert [kv.value for kv in second.items] == [b"v", b"v", b"v"]
    third = await store.list(
        "/l/", revision=first.revision, limit=3, continue_after=second.last_key
    )
    assert [kv.key for kv in third.items] == keys[6:]
    assert not third.more
    exact = await store.list("/l/", limit=8)
    assert len(exact.items) == 8 and not exact.more


async def test_list_and_get_at_past_revision(store: Store) -> None:
    r1 = await store.create("/h/a", b"a1")
    r2 = await store.create("/h/b", b"b1")
    r3 = (await store.update("/h/a", b"a2", expected_revision=r1)).revision
    r4 = (await store.delete("/h/b")).revision
    await store.create("/h/c", b"c1")

    at2 = await store.list("/h/", revision=r2)
    assert at2.revision == r2
    assert [(kv.key, kv.value, kv.mod_revision) for kv in at2.items] == [
        ("/h/a", b"a1", r1),
        ("/h/b", b"b1", r2),
    ]
    at4 = await store.list("/h/", revision=r4)
    assert [(kv.key, kv.value) for kv in at4.items] == [("/h/a", b"a2")]
    assert await store.get("/h/a", revision=r2) == KeyValue("/h/a", b"a1", r1, r1)
    assert await store.get("/h/a", revision=r3) == KeyValue("/h/a", b"a2", r1, r3)
    assert await store.get("/h/b", revision=r4) is None
    assert await store.get("/h/c", revision=r4) is None


async def test_read_beyond_current_revision_raises_future_revision(store: Store) -> None:
    await store.create("/f/a", b"a")
    future = rev(store.current_revision() + 5)
    with pytest.raises(FutureRevision) as info:
        await store.get("/f/a", revision=future)
    assert info.value.requested == future
    with pytest.raises(FutureRevision):
        await store.list("/f/", revision=future)


# -- compare-and-swap -------------------------------------------------------------------------


async def test_update_compare_and_swap(store: Store) -> None:
    r1 = await store.create("/u/a", b"1")
    ok = await store.update("/u/a", b"2", expected_revision=r1)
    assert ok.succeeded
    assert ok.kv == KeyValue("/u/a", b"2", r1, ok.revision)
    assert ok.revision == r1 + 1

    stale = await store.update("/u/a", b"3", expected_revision=r1)
    assert not stale.succeeded
    assert stale.kv == ok.kv  # the current version, for the caller's conflict handling
    assert stale.revision == store.current_revision()

    missing = await store.update("/u/none", b"x", expected_revision=r1)
    assert (missing.succeeded, missing.kv) == (False, None)

    unconditional = await store.update("/u/a", b"4", expected_revision=rev(0))
    assert unconditional.succeeded and unconditional.kv is not None
    assert unconditional.kv.value == b"4"
    assert await store.get("/u/a") == unconditional.kv


async def test_delete_with_and_without_compare(store: Store) -> None:
    r1 = await store.create("/d/a", b"1")
    r2 = (await store.update("/d/a", b"2", expected_revision=r1)).revision
    wrong = await store.delete("/d/a", expected_revision=r1)
    assert not wrong.succeeded
    assert wrong.kv == KeyValue("/d/a", b"2", r1, r2)

    ok = await store.delete("/d/a", expected_revision=r2)
    assert ok.succeeded and ok.revision == r2 + 1
    assert ok.kv == KeyValue("/d/a", b"2", r1, r2)  # the deleted version
    assert await store.get("/d/a") is None

    gone = await store.delete("/d/a")
    assert (gone.succeeded, gone.kv) == (False, None)

    await store.create("/d/b", b"b")
    assert (await store.delete("/d/b")).succeeded  # expected_revision=0: unconditional


async def test_recreate_after_delete_starts_new_incarnation(store: Store) -> None:
    r1 = await store.create("/i/a", b"1")
    await store.delete("/i/a")
    r3 = await store.create("/i/a", b"again")
    kv = await store.get("/i/a")
    assert kv == KeyValue("/i/a", b"again", r3, r3)
    assert r3 != r1
    assert not (await store.update("/i/a", b"x", expected_revision=r1)).succeeded


async def test_concurrent_cas_increments_lose_no_update(store: Store) -> None:
    await store.create("/counter", b"0")
    tasks, rounds = 16, 8
    conflicts = 0

    async def increment() -> None:
        nonlocal conflicts
        for _ in range(rounds):
            while True:
                kv = await store.get("/counter")
                assert kv is not None
                result = await store.update(
                    "/counter", str(int(kv.value) + 1).encode(), expected_revision=kv.mod_revision
                )
                if result.succeeded:
                    break
                conflicts += 1

    async with asyncio.TaskGroup() as tg:
        for _ in range(tasks):
            tg.create_task(increment())
    kv = await store.get("/counter")
    assert kv is not None and int(kv.value) == tasks * rounds
    assert kv.mod_revision == kv.create_revision + tasks * rounds


# -- watch ------------------------------------------------------------------------------------


async def test_watch_from_revision_replays_history_in_order(store: Store) -> None:
    r0 = await store.create("/w/before", b"0")
    r1 = await store.create("/w/a", b"1")
    await store.create("/x/other", b"not watched")
    r3 = (await store.update("/w/a", b"2", expected_revision=r1)).revision
    r4 = (await store.delete("/w/a")).revision
    async with store.watch("/w/", revision=r0) as events:
        got = await take(events, 3)
        r6 = await store.create("/w/live", b"live")
        got += await take(events, 1)
    assert [e.revision for e in got] == [r1, r3, r4, r6]
    create, update, delete, live = got
    assert (create.type, create.create, create.prev_kv) == (EventType.PUT, True, None)
    assert create.kv == KeyValue("/w/a", b"1", r1, r1)
    assert (update.type, update.create) == (EventType.PUT, False)
    assert update.kv == KeyValue("/w/a", b"2", r1, r3)
    assert update.prev_kv == KeyValue("/w/a", b"1", r1, r1)
    assert delete.type is EventType.DELETE
    assert delete.kv == KeyValue("/w/a", b"2", r1, r4)  # last state, with the delete's revision
    assert delete.prev_kv == KeyValue("/w/a", b"2", r1, r3)
    assert live.kv.key == "/w/live" and live.create


async def test_watch_from_zero_and_from_current_only_sees_new_changes(store: Store) -> None:
    await store.create("/z/old", b"old")
    async with (
        store.watch("/z/") as from_zero,
        store.watch("/z/", revision=store.current_revision()) as from_current,
    ):
        r = await store.create("/z/new", b"new")
        r2 = (await store.update("/z/old", b"changed", expected_revision=rev(0))).revision
        for events in (from_zero, from_current):
            got = await take(events, 2)
            assert [(e.kv.key, e.revision) for e in got] == [("/z/new", r), ("/z/old", r2)]
            assert got[1].prev_kv is not None and got[1].prev_kv.value == b"old"


async def test_watch_iterates_with_async_for(store: Store) -> None:
    start = await store.create("/it/start", b"v")  # revision 0 would mean "from now on"
    for i in range(3):
        await store.create(f"/it/{i}", b"v")
    keys = []
    async with asyncio.timeout(20), store.watch("/it/", revision=start) as events:
        async for event in events:
            keys.append(event.kv.key)
            if len(keys) == 3:
                break
    assert keys == ["/it/0", "/it/1", "/it/2"]


async def test_many_concurrent_writes_reach_watcher_once_each_in_order(store: Store) -> None:
    async with store.watch("/c/") as events:
        revisions = await asyncio.gather(*(store.create(f"/c/{i}", b"v") for i in range(200)))
        got = await take(events, 200)
    assert [e.revision for e in got] == sorted(revisions)
    assert {e.kv.key for e in got} == {f"/c/{i}" for i in range(200)}


async def test_slow_watcher_is_dropped_with_watch_dropped(store: Store) -> None:
    async with store.watch("/s/") as slow, store.watch("/other/") as unrelated:
        for chunk in range(0, QUEUE + 50, 50):
            await asyncio.gather(*(store.create(f"/s/{chunk + i}", b"v") for i in range(50)))
        with pytest.raises(WatchDropped):
            async with asyncio.timeout(20):
                while await slow.next_batch():
                    pass
        # A watcher of another prefix is unaffected and keeps working.
        r = await store.create("/other/x", b"v")
        assert [e.revision for e in await take(unrelated, 1)] == [r]


# -- compaction -------------------------------------------------------------------------------


async def test_compaction_makes_old_revisions_unavailable(store: Store) -> None:
    r1 = await store.create("/k/a", b"1")
    r2 = (await store.update("/k/a", b"2", expected_revision=r1)).revision
    r3 = await store.create("/k/b", b"b")
    r4 = (await store.delete("/k/b")).revision
    r5 = (await store.update("/k/a", b"3", expected_revision=r2)).revision
    await store.compact(r4)

    with pytest.raises(Compacted) as info:
        await store.get("/k/a", revision=r3)
    assert (info.value.requested, info.value.compacted) == (r3, r4)
    assert info.value.current == store.current_revision()
    with pytest.raises(Compacted):
        await store.list("/k/", revision=r2)
    with pytest.raises(Compacted):
        async with store.watch("/k/", revision=r3):
            pass

    # The compaction point itself and everything after stay readable.
    assert await store.get("/k/a", revision=r4) == KeyValue("/k/a", b"2", r1, r2)
    assert await store.get("/k/b", revision=r4) is None
    assert [kv.value for kv in (await store.list("/k/", revision=r4)).items] == [b"2"]
    assert await store.get("/k/a") == KeyValue("/k/a", b"3", r1, r5)
    async with store.watch("/k/", revision=r4) as events:
        (event,) = await take(events, 1)
    assert event.revision == r5 and event.prev_kv == KeyValue("/k/a", b"2", r1, r2)

    await store.compact(r2)  # at or below the compaction point: nothing to do
    with pytest.raises(FutureRevision):
        await store.compact(rev(store.current_revision() + 1))
    r6 = await store.create("/k/c", b"c")
    assert r6 == r5 + 1  # compaction consumes no revisions


async def test_compaction_keeps_recreated_and_untouched_keys(store: Store) -> None:
    await store.create("/q/keep", b"k")
    r = await store.create("/q/cycle", b"1")
    await store.delete("/q/cycle")
    r3 = await store.create("/q/cycle", b"2")
    for i in range(5):
        await store.update("/q/keep", str(i).encode(), expected_revision=rev(0))
    await store.compact(store.current_revision())
    items = (await store.list("/q/")).items
    assert [(kv.key, kv.value) for kv in items] == [("/q/cycle", b"2"), ("/q/keep", b"4")]
    assert items[0].create_revision == r3 != r
    # CAS still works on compacted keys.
    assert (await store.update("/q/cycle", b"3", expected_revision=r3)).succeeded
    assert (await store.delete("/q/keep", expected_revision=items[1].mod_revision)).succeeded


# -- closing ----------------------------------------------------------------------------------


async def test_close_ends_watches_and_refuses_operations(store: Store) -> None:
    await store.create("/e/a", b"a")
    async with store.watch("/e/") as events:
        await store.close()
        assert await events.next_batch() == []
    with pytest.raises(StoreClosed):
        await store.create("/e/b", b"b")
    with pytest.raises(StoreClosed):
        await store.get("/e/a")
    await store.close()  # idempotent
