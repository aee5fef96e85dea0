"""RangeAllocator over a MemoryStore: value numbering of the three range kinds, unique values under
concurrency (one and two allocators on one store), wanted/accepted/preferred values and their
errors, no write when nothing changes, the compact bitmap record and reading older records, and
``reconcile`` (the range half of a repair pass). Which objects hold values is test_allocation.py."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import orjson
import pytest

from skiff.apiserver.allocator import (
    AlreadyAllocated,
    NotInRange,
    RangeAllocator,
    RangeFull,
    cidr_blocks,
    ip_range,
    parse_range,
    port_range,
)
from skiff.store import MemoryStore


@pytest.fixture
async def store() -> AsyncIterator[MemoryStore]:
    s = MemoryStore()
    yield s
    await s.close()


def _usable(r: object) -> list[str]:
    usable = r.usable  # type: ignore[attr-defined]
    return [r.value(i) for i in range(r.size) if usable >> i & 1]  # type: ignore[attr-defined]


def test_ranges_number_their_values() -> None:
    blocks = cidr_blocks("10.42.0.0/22", 24)
    assert [blocks.value(i) for i in range(blocks.size)] == [
        "10.42.0.0/24",
        "10.42.1.0/24",
        "10.42.2.0/24",
        "10.42.3.0/24",
    ]
    assert blocks.offset("10.42.2.0/24") == 2
    assert blocks.offset("10.42.2.0/25") is None and blocks.offset("10.43.0.0/24") is None
    ips = ip_range("10.43.0.0/29", reserved=["10.43.0.1"])
    # network, broadcast and reserved addresses are never handed out automatically
    assert _usable(ips) == ["10.43.0.2", "10.43.0.3", "10.43.0.4", "10.43.0.5", "10.43.0.6"]
    assert ips.offset("10.43.0.1") == 1 and ips.offset("10.43.0.8") is None
    assert ips.offset("fd00::1") is None and ips.offset("bogus") is None
    ports = port_range(30000, 30002)
    assert _usable(ports) == ["30000", "30001", "30002"]
    assert ports.offset("29999") is None and ports.offset("30002") == 2
    for r in (blocks, ips, ports):
        again = parse_range(r.spec)
        assert [again.value(i) for i in range(r.size)] == [r.value(i) for i in range(r.size)]


async def test_concurrent_allocations_get_distinct_values(store: MemoryStore) -> None:
    # two allocators on one store stand for two API servers sharing it
    a = RangeAllocator(store, "t", port_range(1, 100), what="port")
    b = RangeAllocator(store, "t", port_range(1, 100), what="port")
    results = await asyncio.gather(
        *(x.allocate(count=1) for _ in range(30) for x in (a, b)),
    )
    values = [r[0] for r in results]
    assert len(set(values)) == 60
    assert sorted(map(int, values)) == list(range(1, 61))


async def test_wanted_values_errors_and_release(store: MemoryStore) -> None:
    alloc = RangeAllocator(store, "t", port_range(1, 3), what="port")
    assert await alloc.allocate(want=["2"]) == ["2"]
    with pytest.raises(AlreadyAllocated) as taken:
        await alloc.allocate(want=["2"])
    assert taken.value.value == "2"
    # a value the caller knows is its own is accepted
    assert await alloc.allocate(want=["2"], accept=["2"]) == ["2"]
    with pytest.raises(NotInRange):
        await alloc.allocate(want=["7"])
    assert sorted(await alloc.allocate(count=2)) == ["1", "3"]
    with pytest.raises(RangeFull):
        await alloc.allocate(count=1)
    await alloc.release(["3", "99"])
    assert await alloc.allocate(count=1) == ["3"]
    # a released value is not handed back by the same write, and a failed write releases nothing
    with pytest.raises(RangeFull):
        await alloc.allocate(count=1, release=["3"])
    assert alloc.taken(await alloc.snapshot(), "3")
    await alloc.release(["1"])
    assert await alloc.allocate(count=1, release=["3"]) == ["1"]
    assert not alloc.taken(await alloc.snapshot(), "3")


async def test_preferred_values_come_first(store: MemoryStore) -> None:
    alloc = RangeAllocator(store, "t", port_range(1, 10), what="port")
    assert await alloc.allocate(count=2, prefer=["7"]) == ["7", "1"]
    # a taken preferred value is skipped unless accepted
    assert await alloc.allocate(count=1, prefer=["7"]) == ["2"]
    assert await alloc.allocate(count=1, prefer=["7"], accept=["7"]) == ["7"]


async def test_nothing_changed_writes_nothing(store: MemoryStore) -> None:
    alloc = RangeAllocator(store, "t", port_range(1, 10), what="port")
    await alloc.allocate(want=["4"])
    before = store.current_revision()
    assert await alloc.allocate(want=["4"], accept=["4"]) == ["4"]
    await alloc.release(["5"])
    await alloc.release([])
    assert store.current_revision() == before


async def test_record_is_a_compact_bitmap(store: MemoryStore) -> None:
    alloc = RangeAllocator(store, "serviceips", ip_range("10.43.0.0/16"), what="ClusterIP")
    for _ in range(8):
        await alloc.allocate(count=125)
    kv = await store.get("/registry/ranges/serviceips")
    assert kv is not None
    record = orjson.loads(kv.value)
    assert record["range"] == "10.43.0.0/16"
    # 1,000 addresses (offsets 1..1000) take 126 bytes, not a map of 1,000 owners
    assert len(base64.b64decode(record["data"])) == 126
    assert len(kv.value) < 250


async def test_records_of_the_old_layout_and_of_another_range_are_read(
    store: MemoryStore,
) -> None:
    old = {"allocated": {"30001": {"owner": "a/b", "time": 1.0}, "99": {"owner": "c/d"}}}
    await store.create("/registry/ranges/nodeports", orjson.dumps(old))
    alloc = RangeAllocator(store, "nodeports", port_range(30000, 30002), what="NodePort")
    snap = await alloc.snapshot()
    assert snap.stale and alloc.taken(snap, "30001")
    assert await alloc.allocate(count=2) == ["30000", "30002"]
    record = orjson.loads((await store.get(alloc.key)).value)  # type: ignore[union-attr]
    assert record["range"] == "30000-30002" and "allocated" not in record
    # the configured range grows: values taken in the old one stay taken
    wider = RangeAllocator(store, "nodeports", port_range(29990, 30010), what="NodePort")
    snap = await wider.snapshot()
    assert snap.stale
    assert [v for v in ("30000", "30001", "30002") if wider.taken(snap, v)] == [
        "30000",
        "30001",
        "30002",
    ]
    assert await wider.allocate(count=1) == ["29990"]


async def test_repair_frees_a_leak_only_on_the_second_pass(store: MemoryStore) -> None:
    alloc = RangeAllocator(store, "t", port_range(1, 10), what="port")
    await alloc.allocate(want=["1", "2", "3"])
    first = await alloc.reconcile(await alloc.snapshot(), ["1"])
    assert first is not None
    assert first.leaked == ("2", "3") and first.freed == () and not first.written
    # "2" became live in between (its create was in flight): it is kept and forgotten
    second = await alloc.reconcile(await alloc.snapshot(), ["1", "2"])
    assert second is not None and second.freed == ("3",) and second.written
    snap = await alloc.snapshot()
    assert [v for v in ("1", "2", "3") if alloc.taken(snap, v)] == ["1", "2"]
    # "2" must again be seen leaked on two consecutive passes
    third = await alloc.reconcile(await alloc.snapshot(), ["1"])
    assert third is not None and third.leaked == ("2",) and third.freed == ()


async def test_repair_marks_lost_values_at_once_and_reports_odd_ones(store: MemoryStore) -> None:
    alloc = RangeAllocator(store, "t", port_range(1, 10), what="port")
    result = await alloc.reconcile(await alloc.snapshot(), ["4", "4", "77"])
    assert result is not None
    assert result.repaired == ("4",) and result.duplicates == ("4",)
    assert result.outside == ("77",) and result.written
    assert alloc.taken(await alloc.snapshot(), "4")


async def test_repair_against_a_changed_record_counts_nothing(store: MemoryStore) -> None:
    alloc = RangeAllocator(store, "t", port_range(1, 10), what="port")
    await alloc.allocate(want=["5"])
    stale = await alloc.snapshot()
    first = await alloc.reconcile(stale, [])
    assert first is not None and first.leaked == ("5",)
    await alloc.allocate(want=["6"])  # another server allocates: the snapshot is outdated
    assert await alloc.reconcile(stale, []) is None
    # the lost compare counted nothing: this pass is the second one
    second = await alloc.reconcile(await alloc.snapshot(), ["6"])
    assert second is not None and second.freed == ("5",)
