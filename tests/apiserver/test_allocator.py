"""RangeAllocator: unique values under concurrency, wanted values, reclaim of vanished owners."""

from __future__ import annotations

import asyncio

import pytest

from skiff.apiserver.allocator import RangeAllocator, cidr_blocks, ip_range, port_range
from skiff.apiserver.errors import ApiError
from skiff.store import MemoryStore


def test_value_generators() -> None:
    assert list(cidr_blocks("10.42.0.0/22", 24)()) == [
        "10.42.0.0/24",
        "10.42.1.0/24",
        "10.42.2.0/24",
        "10.42.3.0/24",
    ]
    assert list(ip_range("10.43.0.0/29", reserved=["10.43.0.1"])()) == [
        "10.43.0.2",
        "10.43.0.3",
        "10.43.0.4",
        "10.43.0.5",
        "10.43.0.6",
    ]
    assert list(port_range(30000, 30002)()) == ["30000", "30001", "30002"]


async def test_concurrent_owners_get_distinct_values() -> None:
    store = MemoryStore()
    alive: set[str] = set()

    async def live(owners: set[str]) -> set[str]:
        return owners & alive

    alloc = RangeAllocator(store, "t", port_range(1, 100), live_owners=live, what="port")
    results = await asyncio.gather(*(alloc.allocate(f"o{i}") for i in range(40)))
    values = [r[0] for r in results]
    assert len(set(values)) == 40
    # asking again returns what the owner already holds
    assert await alloc.allocate("o3") == results[3]
    await store.close()


async def test_wanted_values_and_exhaustion() -> None:
    store = MemoryStore()

    async def live(owners: set[str]) -> set[str]:
        return owners

    alloc = RangeAllocator(store, "t", port_range(1, 3), live_owners=live, what="port")
    assert await alloc.allocate("a", want=["2"]) == ["2"]
    with pytest.raises(ApiError) as taken:
        await alloc.allocate("b", want=["2"])
    assert taken.value.code == 422 and "already allocated to a" in taken.value.message
    assert sorted(await alloc.allocate("b", count=2)) == ["1", "3"]
    with pytest.raises(ApiError) as full:
        await alloc.allocate("c")
    assert full.value.code == 503
    # an owner that needs fewer values gives the rest back
    assert await alloc.allocate("b", count=1, want=["3"]) == ["3"]
    assert await alloc.allocate("c") == ["1"]
    await alloc.release("c")
    assert await alloc.allocate("d") == ["1"]
    await store.close()


async def test_values_of_vanished_owners_are_reclaimed_after_grace() -> None:
    store = MemoryStore()
    alive = {"keeper", "new"}

    async def live(owners: set[str]) -> set[str]:
        return owners & alive

    alloc = RangeAllocator(store, "t", port_range(1, 2), live_owners=live, what="port", grace=0.0)
    await alloc.allocate("keeper")
    await alloc.allocate("ghost")  # never becomes a live object
    (kept,) = await alloc.allocate("keeper")
    # "ghost" never became a live object: its value goes to the next owner that needs one
    assert await alloc.allocate("new") == ["2" if kept == "1" else "1"]
    with pytest.raises(ApiError):
        await RangeAllocator(
            store, "t", port_range(1, 2), live_owners=live, what="port", grace=3600
        ).allocate("late")
    await store.close()
