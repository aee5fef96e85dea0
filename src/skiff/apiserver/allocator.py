"""Cluster-wide allocation of pod CIDRs, service ClusterIPs and NodePorts.

Each range keeps one allocation record in the store (``/registry/ranges/<name>``): a JSON map of
allocated value -> owner and time. Every change is a compare-and-swap on that record, so several
API servers sharing a store never hand out the same value. Owners are checked lazily: a value whose
owner no longer exists is reused once its allocation is older than ``grace`` seconds (younger ones
may belong to a create still in flight), so a crashed request or a deleted object never leaks a
value for good, and no delete hook is needed.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

import orjson

from skiff.apiserver.errors import ApiError
from skiff.store import KeyExists, Store

__all__ = ["RangeAllocator", "cidr_blocks", "ip_range", "port_range"]

OwnerCheck = Callable[[set[str]], Awaitable[set[str]]]
"""Given owner names, return those that still exist."""


def cidr_blocks(cluster_cidr: str, mask: int) -> Callable[[], Iterator[str]]:
    network = ipaddress.ip_network(cluster_cidr)

    def values() -> Iterator[str]:
        for subnet in network.subnets(new_prefix=mask):
            yield str(subnet)

    return values


def ip_range(cidr: str, *, reserved: Iterable[str] = ()) -> Callable[[], Iterator[str]]:
    """Host addresses of ``cidr`` minus the network, broadcast and ``reserved`` ones."""
    network = ipaddress.ip_network(cidr)
    skip = set(reserved)

    def values() -> Iterator[str]:
        for host in network.hosts():
            text = str(host)
            if text not in skip:
                yield text

    return values


def port_range(low: int, high: int) -> Callable[[], Iterator[str]]:
    def values() -> Iterator[str]:
        for port in range(low, high + 1):
            yield str(port)

    return values


class RangeAllocator:
    """Hands out values of one range, each to one owner, via CAS on one store record."""

    def __init__(
        self,
        store: Store,
        name: str,
        values: Callable[[], Iterator[str]],
        *,
        live_owners: OwnerCheck,
        what: str,
        grace: float = 60.0,
    ) -> None:
        self.store = store
        self.key = f"/registry/ranges/{name}"
        self.values = values
        self.live_owners = live_owners
        self.what = what
        self.grace = grace

    async def _load(self) -> tuple[Any, dict[str, Any]]:
        kv = await self.store.get(self.key)
        record: dict[str, Any] = orjson.loads(kv.value) if kv is not None else {"allocated": {}}
        record.setdefault("allocated", {})
        return kv, record

    async def _save(self, kv: Any, record: dict[str, Any]) -> bool:
        data = orjson.dumps(record)
        if kv is None:
            try:
                await self.store.create(self.key, data)
            except KeyExists:
                return False
            return True
        result = await self.store.update(self.key, data, expected_revision=kv.mod_revision)
        return result.succeeded

    async def _reclaim(self, allocated: dict[str, dict[str, Any]], keep: str) -> None:
        now = time.time()
        old = {
            v["owner"]
            for v in allocated.values()
            if v["owner"] != keep and now - float(v.get("time", 0)) > self.grace
        }
        if not old:
            return
        alive = await self.live_owners(old)
        for value, entry in list(allocated.items()):
            if entry["owner"] in old and entry["owner"] not in alive:
                del allocated[value]

    async def allocate(self, owner: str, *, count: int = 1, want: Iterable[str] = ()) -> list[str]:
        """Values for ``owner``: the ``want``ed ones (which must be free or already its own)
        plus ``count - len(want)`` new ones. Values the owner already holds are reused first."""
        wanted = list(want)
        for _ in range(32):
            kv, record = await self._load()
            allocated: dict[str, dict[str, Any]] = record["allocated"]
            await self._reclaim(allocated, owner)
            now = time.time()
            for value in wanted:
                holder = allocated.get(value)
                if holder is not None and holder["owner"] != owner:
                    raise ApiError(
                        422,
                        "Invalid",
                        f"{self.what} {value} is already allocated to {holder['owner']}; "
                        "choose another or leave it empty to get a free one",
                    )
            mine = [v for v, e in allocated.items() if e["owner"] == owner and v not in wanted]
            result = list(wanted)
            for value in mine:
                if len(result) >= count:
                    break
                result.append(value)
            if len(result) < count:
                for value in self.values():
                    if value not in allocated and value not in result:
                        result.append(value)
                        if len(result) >= count:
                            break
            if len(result) < count:
                raise ApiError(
                    503,
                    "ServiceUnavailable",
                    f"no free {self.what} left for {owner}: the range is fully allocated",
                )
            for value in result:
                allocated[value] = {"owner": owner, "time": now}
            # values the owner held but no longer needs go back to the pool
            for value in mine:
                if value not in result:
                    del allocated[value]
            if await self._save(kv, record):
                return result
        raise ApiError(
            409,
            "Conflict",
            f"could not allocate a {self.what}: too many concurrent allocations; retry",
        )

    async def release(self, owner: str) -> None:
        """Give back every value of ``owner``."""
        for _ in range(32):
            kv, record = await self._load()
            allocated: dict[str, dict[str, Any]] = record["allocated"]
            mine = [v for v, e in allocated.items() if e["owner"] == owner]
            if not mine:
                return
            for value in mine:
                del allocated[value]
            if await self._save(kv, record):
                return
