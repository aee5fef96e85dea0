"""WatchStream.poke: a consumer's one timer wakes a waiting stream without ending it."""

from __future__ import annotations

import asyncio

from skiff.store import MemoryStore, Revision


async def test_poke_returns_empty_batch_and_stream_goes_on() -> None:
    store = MemoryStore()
    async with store.watch("/a/", revision=Revision(0)) as events:
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, events.poke)
        assert await events.next_batch() == []
        assert not events.closed
        await store.create("/a/x", b"1")
        batch = await events.next_batch()
        assert [e.kv.key for e in batch] == ["/a/x"]
        events.poke()  # a poke while events are ready does not hide them
        await store.create("/a/y", b"2")
        assert [e.kv.key for e in await events.next_batch()] == ["/a/y"]
    await store.close()


async def test_closed_reports_the_end_of_the_stream() -> None:
    store = MemoryStore()
    async with store.watch("/a/", revision=Revision(0)) as events:
        await store.close()
        assert await events.next_batch() == []
        assert events.closed
