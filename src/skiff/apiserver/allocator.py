"""Cluster-wide ranges of pod CIDRs, service ClusterIPs and NodePorts, kept as bitmaps in the store.

Each range keeps one record in the store (``/registry/ranges/<name>``), shaped like Kubernetes'
``RangeAllocation`` (``{"range": <spec>, "data": <base64 bitmap>}``): bit ``i`` is set when the
range's ``i``-th value is taken. The record is a few bytes per 8 values up to the highest one
taken, whatever the number of owners, and it does not say who owns a value: the objects do
(a Service's ``spec.clusterIP``, a Node's ``spec.podCIDR``).

Every change is one read and one compare-and-swap of that record, so several API servers sharing a
store never hand out the same value; a lost compare rereads and retries. A change that changes
nothing writes nothing. Owners release their values when they go (``release``); what still leaks
(a create that failed after allocating, a crash between a delete and its release) is found by
``reconcile``, the range half of a repair pass: it marks values that live objects hold but the
record lost at once, and frees a value no live object holds only when two consecutive passes saw
it leaked, so an allocation whose create is still in flight is never freed. This is Kubernetes'
``ipallocator``/``portallocator`` storage (``pkg/registry/core/service/allocator/storage``) and its
repair controllers (``pkg/registry/core/service/ipallocator/controller/repair.go``); which objects
hold which values is ``skiff.apiserver.allocation``'s business.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from skiff.store import KeyExists, KeyValue, Store

__all__ = [
    "AllocationError",
    "AlreadyAllocated",
    "BlockRange",
    "IPRange",
    "NotInRange",
    "PortRange",
    "Range",
    "RangeAllocator",
    "RangeFull",
    "RepairResult",
    "Snapshot",
    "TooManyConflicts",
    "cidr_blocks",
    "ip_range",
    "parse_range",
    "port_range",
]

RANGES_PREFIX = "/registry/ranges/"
MAX_SIZE = 1 << 20
"""Largest range a bitmap covers (a /12 of IPv4, a /108 of IPv6); values past it are not in range."""
LEAK_PASSES = 2
"""A value must be found leaked by this many consecutive repair passes before it is freed."""


class AllocationError(Exception):
    """Why a value could not be allocated; the caller words it for its object.

    AllocationError
    ├── AlreadyAllocated   the value is taken
    ├── NotInRange         the value is not one of the range's
    ├── RangeFull          no free value left
    └── TooManyConflicts   the record kept changing under every compare-and-swap
    """

    def __init__(self, value: str = "") -> None:
        super().__init__(value)
        self.value = value


class AlreadyAllocated(AllocationError):
    pass


class NotInRange(AllocationError):
    pass


class RangeFull(AllocationError):
    pass


class TooManyConflicts(AllocationError):
    pass


class Range(Protocol):
    """The values of a range, numbered 0..size-1 (the bit offsets of the record)."""

    @property
    def spec(self) -> str:
        """What the record's ``range`` field says; ``parse_range(spec)`` rebuilds the numbering."""
        ...

    @property
    def size(self) -> int: ...

    @property
    def usable(self) -> int:
        """Bitmask of the offsets automatic allocation may hand out (reserved ones excluded)."""
        ...

    def offset(self, value: str) -> int | None:
        """The offset of ``value``, or None when it is not a value of this range."""
        ...

    def value(self, offset: int) -> str: ...


class IPRange:
    """Addresses of a CIDR. The network address, the IPv4 broadcast address and ``reserved`` ones
    are never handed out automatically (they may still be asked for by name)."""

    def __init__(self, cidr: str, *, reserved: Iterable[str] = ()) -> None:
        self.network = ipaddress.ip_network(cidr)
        self._base = int(self.network.network_address)
        self.spec = str(self.network)
        self.size = min(self.network.num_addresses, MAX_SIZE)
        usable = (1 << self.size) - 1
        if self.network.num_addresses > 2:
            usable &= ~1  # the network address
            if self.network.version == 4 and self.size == self.network.num_addresses:
                usable &= ~(1 << (self.size - 1))  # the broadcast address
        for value in reserved:
            offset = self.offset(value)
            if offset is not None:
                usable &= ~(1 << offset)
        self.usable = usable

    def offset(self, value: str) -> int | None:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return None
        if address.version != self.network.version:
            return None
        offset = int(address) - self._base
        return offset if 0 <= offset < self.size else None

    def value(self, offset: int) -> str:
        return str(self.network.network_address + offset)


class PortRange:
    """The ports ``low..high``, both included."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high
        self.spec = f"{low}-{high}"
        self.size = high - low + 1
        self.usable = (1 << self.size) - 1

    def offset(self, value: str) -> int | None:
        try:
            port = int(value)
        except ValueError:
            return None
        return port - self.low if self.low <= port <= self.high else None

    def value(self, offset: int) -> str:
        return str(self.low + offset)


class BlockRange:
    """The ``/mask`` blocks of a cluster CIDR (the node pod CIDRs)."""

    def __init__(self, cluster_cidr: str, mask: int) -> None:
        self.network = ipaddress.ip_network(cluster_cidr)
        if not self.network.prefixlen <= mask <= self.network.max_prefixlen:
            raise ValueError(f"block size /{mask} does not fit in {self.network}")
        self.mask = mask
        self.spec = f"{self.network},{mask}"
        self.size = min(1 << (mask - self.network.prefixlen), MAX_SIZE)
        self.usable = (1 << self.size) - 1
        self._shift = self.network.max_prefixlen - mask
        self._base = int(self.network.network_address)

    def offset(self, value: str) -> int | None:
        try:
            block = ipaddress.ip_network(value)
        except ValueError:
            return None
        if block.version != self.network.version or block.prefixlen != self.mask:
            return None
        offset = (int(block.network_address) - self._base) >> self._shift
        return offset if 0 <= offset < self.size else None

    def value(self, offset: int) -> str:
        address = self.network.network_address + (offset << self._shift)
        return f"{address}/{self.mask}"


def ip_range(cidr: str, *, reserved: Iterable[str] = ()) -> IPRange:
    return IPRange(cidr, reserved=reserved)


def port_range(low: int, high: int) -> PortRange:
    return PortRange(low, high)


def cidr_blocks(cluster_cidr: str, mask: int) -> BlockRange:
    return BlockRange(cluster_cidr, mask)


def parse_range(spec: str) -> Range:
    """The range a record's ``range`` field names (to read a record written for another range)."""
    if "," in spec:
        cidr, _, mask = spec.partition(",")
        return BlockRange(cidr, int(mask))
    if "/" in spec:
        return IPRange(spec)
    low, _, high = spec.partition("-")
    return PortRange(int(low), int(high))


def _bits(mask: int) -> Iterator[int]:
    """Offsets of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The record as read: its bitmap and the stored version to compare against."""

    bits: int
    kv: KeyValue | None
    stale: bool = False
    """The stored record has another layout or range; the next write rewrites it."""


@dataclass(frozen=True, slots=True)
class RepairResult:
    """What one repair pass found in one range."""

    range: str
    repaired: tuple[str, ...] = ()
    """Values live objects hold that the record had lost; now marked taken."""
    leaked: tuple[str, ...] = ()
    """Values no live object holds, seen for the first time; freed by the next pass if still so."""
    freed: tuple[str, ...] = ()
    """Values no live object held on two consecutive passes; now free."""
    duplicates: tuple[str, ...] = ()
    """Values held by more than one live object (reported only; nothing to free)."""
    outside: tuple[str, ...] = ()
    """Values live objects hold that are not in the range (reported only)."""
    written: bool = False


class RangeAllocator:
    """Hands out the values of one range via compare-and-swap on one bitmap record."""

    def __init__(
        self, store: Store, name: str, values: Range, *, what: str, retries: int = 32
    ) -> None:
        self.store = store
        self.name = name
        self.key = f"{RANGES_PREFIX}{name}"
        self.range = values
        self.what = what
        self.retries = retries
        # offset -> consecutive repair passes that found it leaked (this process's passes)
        self._leaks: dict[int, int] = {}

    # -- the record ---------------------------------------------------------------------------

    async def snapshot(self) -> Snapshot:
        """Read the record (one store read)."""
        kv = await self.store.get(self.key)
        if kv is None:
            return Snapshot(0, None)
        record: dict[str, Any] = orjson.loads(kv.value)
        if "allocated" in record:
            # the layout before bitmaps: {"allocated": {value: {"owner", "time"}}}
            bits = 0
            for value in record["allocated"]:
                offset = self.range.offset(str(value))
                if offset is not None:
                    bits |= 1 << offset
            return Snapshot(bits, kv, stale=True)
        bits = int.from_bytes(base64.b64decode(record.get("data") or ""), "little")
        spec = str(record.get("range") or "")
        if spec == self.range.spec:
            return Snapshot(bits, kv)
        # written for another range (the configuration changed): carry over what still fits
        old = parse_range(spec)
        moved = 0
        for offset in _bits(bits):
            new = self.range.offset(old.value(offset))
            if new is not None:
                moved |= 1 << new
        return Snapshot(moved, kv, stale=True)

    def _encode(self, bits: int) -> bytes:
        data = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
        return orjson.dumps({"range": self.range.spec, "data": base64.b64encode(data).decode()})

    async def _write(self, snap: Snapshot, bits: int) -> bool:
        """Compare-and-swap ``bits`` over ``snap``; False when the record changed meanwhile."""
        data = self._encode(bits)
        if snap.kv is None:
            try:
                await self.store.create(self.key, data)
            except KeyExists:
                return False
            return True
        result = await self.store.update(self.key, data, expected_revision=snap.kv.mod_revision)
        return result.succeeded

    def taken(self, snap: Snapshot, value: str) -> bool:
        offset = self.range.offset(value)
        return offset is not None and bool(snap.bits >> offset & 1)

    # -- allocation ---------------------------------------------------------------------------

    async def allocate(
        self,
        *,
        want: Sequence[str] = (),
        count: int = 0,
        accept: Iterable[str] = (),
        release: Iterable[str] = (),
        prefer: Sequence[str] = (),
    ) -> list[str]:
        """Take the ``want``ed values and ``count`` more, and give back ``release``, in one write.

        Returns the wanted values followed by the new ones. A wanted value must be in the range
        (:class:`NotInRange`) and free (:class:`AlreadyAllocated`) unless it is in ``accept``
        (values the caller knows are already its own). New values are taken from ``prefer``
        first when those are free or accepted, then the lowest free ones (:class:`RangeFull`
        when none is left). Released values that are not in range are ignored. Nothing is
        written when nothing changes.
        """
        wanted = list(dict.fromkeys(want))
        accepted = set(accept)
        rel = 0
        for value in release:
            offset = self.range.offset(value)
            if offset is not None:
                rel |= 1 << offset
        for _ in range(self.retries):
            snap = await self.snapshot()
            bits = snap.bits
            keep = 0
            for value in wanted:
                offset = self.range.offset(value)
                if offset is None:
                    raise NotInRange(value)
                if bits >> offset & 1 and value not in accepted:
                    raise AlreadyAllocated(value)
                bits |= 1 << offset
                keep |= 1 << offset
            result = list(wanted)
            for value in prefer:
                if len(result) - len(wanted) >= count:
                    break
                offset = self.range.offset(value)
                if offset is None or value in result:
                    continue
                if not bits >> offset & 1 or value in accepted:
                    bits |= 1 << offset
                    keep |= 1 << offset
                    result.append(value)
            while len(result) - len(wanted) < count:
                free = self.range.usable & ~bits & ~rel
                if not free:
                    raise RangeFull()
                low = free & -free
                bits |= low
                keep |= low
                result.append(self.range.value(low.bit_length() - 1))
            bits &= ~(rel & ~keep)
            if bits == snap.bits and not snap.stale:
                return result
            if await self._write(snap, bits):
                return result
        raise TooManyConflicts()

    async def release(self, values: Iterable[str]) -> None:
        """Give ``values`` back (values not in range are ignored; free ones stay free)."""
        values = list(values)
        if values:
            await self.allocate(release=values)

    # -- repair -------------------------------------------------------------------------------

    async def reconcile(self, snap: Snapshot, live: Iterable[str]) -> RepairResult | None:
        """One repair pass over this range, given ``snap`` (read *before* ``live`` was listed)
        and the values live objects hold. Marks lost values, counts leaks, frees values leaked
        on ``LEAK_PASSES`` consecutive passes, and writes the record by compare-and-swap against
        ``snap``. Returns None when the record changed since ``snap`` (nothing is counted then:
        take a new snapshot and list again)."""
        held = 0
        duplicates: list[str] = []
        outside: list[str] = []
        for value in live:
            offset = self.range.offset(value)
            if offset is None:
                outside.append(value)
            elif held >> offset & 1:
                duplicates.append(value)
            else:
                held |= 1 << offset
        lost = held & ~snap.bits
        leaks: dict[int, int] = {}
        freed = 0
        for offset in _bits(snap.bits & ~held):
            passes = self._leaks.get(offset, 0) + 1
            if passes >= LEAK_PASSES:
                freed |= 1 << offset
            else:
                leaks[offset] = passes
        bits = (snap.bits | lost) & ~freed
        written = bits != snap.bits or snap.stale
        if written and not await self._write(snap, bits):
            return None
        self._leaks = leaks
        name = self.range.value
        return RepairResult(
            self.name,
            repaired=tuple(name(o) for o in _bits(lost)),
            leaked=tuple(name(o) for o in leaks),
            freed=tuple(name(o) for o in _bits(freed)),
            duplicates=tuple(duplicates),
            outside=tuple(outside),
            written=written,
        )
