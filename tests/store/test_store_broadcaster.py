"""Broadcaster: fan-out to many subscribers, prefix grouping, bounded buffers dropping slow
subscribers, backlog/overlap de-duplication, subscribers indexed by a value, and closing. Exercised
directly, without a backend."""

from __future__ import annotations

import asyncio

import pytest

from skiff.store import (
    Broadcaster,
    Event,
    EventType,
    KeyValue,
    Revision,
    StoreClosed,
    WatchDropped,
)


def put(key: str, revision: int) -> Event:
    r = Revision(revision)
    return Event(EventType.PUT, KeyValue(key, b"v", r, r), None, True)


async def test_thousand_subscribers_each_get_every_event() -> None:
    b = Broadcaster(queue_size=100)
    subs = [b.subscribe("/p/", after=Revision(0)) for _ in range(1000)]
    batch = [put(f"/p/{i}", i) for i in range(1, 51)]
    b.publish(batch)
    b.publish([put("/other/x", 51), put("/p/last", 52)])
    for sub in subs:
        got = await sub.next_batch()
        assert [e.revision for e in got] == [*range(1, 51), 52]
    stats = b.statistics()
    assert (stats.subscribers, stats.prefixes, stats.dropped_subscribers) == (1000, 1, 0)
    for sub in subs:
        sub.close()
    assert b.statistics().subscribers == 0


async def test_slow_subscriber_is_dropped_others_continue() -> None:
    b = Broadcaster(queue_size=10)
    slow = b.subscribe("", after=Revision(0))
    fast = b.subscribe("", after=Revision(0))
    for i in range(1, 21):
        b.publish([put(f"/k/{i}", i)])
        assert [e.revision for e in await fast.next_batch()] == [i]
    with pytest.raises(WatchDropped):
        await slow.next_batch()
    assert b.statistics().dropped_subscribers == 1
    assert b.statistics().subscribers == 1
    fast.close()


async def test_backlog_then_live_skips_overlap() -> None:
    b = Broadcaster()
    sub = b.subscribe("/a/", after=Revision(2))
    b.publish([put("/a/x", 3), put("/a/y", 4)])
    # History read after subscribing overlaps with what was already published.
    sub.prepend([put("/a/x", 3), put("/a/y", 4)])
    b.publish([put("/a/z", 5)])
    got = await sub.next_batch()
    assert [e.revision for e in got] == [3, 4, 5]
    assert sub.after == 5
    sub.close()


async def test_next_batch_waits_for_events_and_honours_limit() -> None:
    b = Broadcaster()
    sub = b.subscribe("", after=Revision(0))
    waiting = asyncio.create_task(sub.next_batch(limit=2))
    await asyncio.sleep(0)
    assert not waiting.done()
    b.publish([put("/k/1", 1), put("/k/2", 2), put("/k/3", 3)])
    assert [e.revision for e in await waiting] == [1, 2]
    assert (await anext(sub)).revision == 3
    sub.close()
    assert await sub.next_batch() == []


async def test_close_ends_subscriptions_and_refuses_new_ones() -> None:
    b = Broadcaster()
    sub = b.subscribe("", after=Revision(0))
    b.publish([put("/k/1", 1)])
    b.close()
    assert [e.revision for e in await sub.next_batch()] == [1]  # buffered events still drain
    assert await sub.next_batch() == []
    late = b.subscribe("", after=Revision(0))
    assert await late.next_batch() == []

    failed = Broadcaster()
    victim = failed.subscribe("", after=Revision(0))
    failed.close(StoreClosed("gone"))
    with pytest.raises(StoreClosed):
        await victim.next_batch()


async def test_drop_all_fails_current_subscribers_but_stays_open() -> None:
    b = Broadcaster()
    old = b.subscribe("", after=Revision(0))
    b.drop_all(WatchDropped())
    with pytest.raises(WatchDropped):
        await old.next_batch()
    new = b.subscribe("", after=Revision(0))
    b.publish([put("/k/1", 1)])
    assert [e.revision for e in await new.next_batch()] == [1]
    new.close()


async def test_progress_revision_counts_other_prefixes_only_when_caught_up() -> None:
    b = Broadcaster()
    sub = b.subscribe("/a/", after=Revision(0))
    b.publish([put("/a/x", 1), put("/b/y", 2)])
    assert sub.progress_revision == 0  # /a/x is still buffered
    await sub.next_batch()
    assert sub.progress_revision == 2  # caught up: the /b/ event cannot concern this watch
    b.publish([put("/b/z", 3)])
    assert sub.progress_revision == 3
    sub.close()


async def test_cancelled_next_batch_loses_no_events() -> None:
    b = Broadcaster()
    sub = b.subscribe("", after=Revision(0))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sub.next_batch(), timeout=0.01)
    # Resolved and cancelled in the same loop iteration: the events must stay buffered.
    pending = asyncio.create_task(sub.next_batch())
    await asyncio.sleep(0)
    b.publish([put("/k/1", 1)])
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    assert [e.revision for e in await sub.next_batch()] == [1]
    sub.close()


async def test_indexed_subscribers_get_only_their_values_events() -> None:
    # index values from the key here: "/p/<node>/<name>"; the watch cache computes them from
    # the decoded object and its previous version
    def values(event: Event, name: str) -> tuple[str, ...]:
        assert name == "node"
        return (event.kv.key.split("/")[2],)

    b = Broadcaster(index_values=values)
    on_a = [b.subscribe("/p/", after=Revision(0), index=("node", "a")) for _ in range(3)]
    on_b = b.subscribe("/p/", after=Revision(0), index=("node", "b"))
    every = b.subscribe("/p/", after=Revision(0))
    assert b.statistics().indexed_subscribers == 4
    b.publish([put("/p/a/x", 1), put("/p/b/y", 2), put("/p/c/z", 3), put("/p/a/w", 4)])
    for sub in on_a:
        assert [e.revision for e in await sub.next_batch()] == [1, 4]
    assert [e.revision for e in await on_b.next_batch()] == [2]
    assert [e.revision for e in await every.next_batch()] == [1, 2, 3, 4]
    for sub in on_a:
        sub.close()
    assert b.statistics().indexed_subscribers == 1
    b.drop_all(WatchDropped("relist"))
    with pytest.raises(WatchDropped):
        await on_b.next_batch()
    assert b.statistics().subscribers == 0
