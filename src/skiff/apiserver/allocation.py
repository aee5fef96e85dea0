"""Which objects hold which range values: Services' ClusterIPs and NodePorts, Nodes' pod CIDRs.

``ServiceAllocation`` and ``PodCIDRAllocation`` sit between the generic registry and the bitmap
ranges of ``skiff.apiserver.allocator``. Each has the same three entry points:

* ``before_write(obj, old)`` runs after validation and admission, before the store write, never on
  a dry run (``old`` is None on create). It fills in the values the object needs and allocates
  only what changed against ``old``: a Service's ``spec.type``, ``clusterIP`` and the ports'
  ``nodePort``s, a Node's ``podCIDR``. An update that changes none of them touches no record.
  Values the object gave up (type changed away from NodePort, ExternalName, ``clusterIP: None``, a
  changed nodePort) are released once the new ones are taken. If the write then fails, the record
  may briefly miss a value the stored object still holds; the next repair pass marks it again.
* ``after_delete(obj)`` runs once the object is gone from the store and releases its values at
  once, so a Service recreated right away may ask for the same ClusterIP and NodePort.
* ``repair()`` is one pass of the repair loop (``run_repairs``): read the records, list the live
  objects once (from the watch cache, fresh), mark values live objects hold that a record lost,
  and free values no live object held on two consecutive passes (a create still in flight between
  its allocation and its write is seen leaked on one pass at most). As Kubernetes'
  ``ipallocator``/``portallocator`` repair controllers, it stays in the API server process
  because the ranges are store records, not API objects.

A ``before_write`` retried by the registry after a lost compare-and-swap on the object (same
request, same task) accepts and reuses the values it allocated on the earlier attempt instead of
refusing them as taken or leaking them.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol

from skiff.api import resources as kinds
from skiff.api.field import FieldError
from skiff.apiserver.allocator import (
    AllocationError,
    AlreadyAllocated,
    NotInRange,
    RangeAllocator,
    RangeFull,
    RepairResult,
    Snapshot,
    TooManyConflicts,
)
from skiff.apiserver.errors import ApiError, already_exists, invalid

__all__ = [
    "REPAIR_INTERVAL",
    "GetObject",
    "ListObjects",
    "PodCIDRAllocation",
    "Repairable",
    "ServiceAllocation",
    "run_repairs",
]

log = logging.getLogger("skiff.apiserver.allocation")

REPAIR_INTERVAL = 180.0
"""Seconds between repair passes (Kubernetes' service IP and node port repair run every 3 min)."""

NODE_PORT_TYPES = ("NodePort", "LoadBalancer")

ListObjects = Callable[[], Awaitable[Sequence[dict[str, Any]]]]
"""Every live object of a kind, at least as new as the store was when the call began."""
GetObject = Callable[[str, str], Awaitable[dict[str, Any] | None]]
"""The stored object of a kind by namespace and name (from the watch cache), or None."""


class Repairable(Protocol):
    async def repair(self) -> tuple[RepairResult, ...]: ...


class _Attempts:
    """Values allocated per (object uid, range) by the current asyncio task in the last few
    seconds: what an earlier attempt of the same request took, before its write lost a compare."""

    def __init__(self, ttl: float = 10.0) -> None:
        self.ttl = ttl
        self._by_task: weakref.WeakKeyDictionary[
            asyncio.Task[Any], tuple[float, dict[tuple[str, str], set[str]]]
        ] = weakref.WeakKeyDictionary()

    def _entries(self) -> dict[tuple[str, str], set[str]] | None:
        task = asyncio.current_task()
        if task is None:
            return None
        now = time.monotonic()
        entry = self._by_task.get(task)
        if entry is None or now - entry[0] > self.ttl:
            entry = (now, {})
            self._by_task[task] = entry
        return entry[1]

    def get(self, uid: str, name: str) -> set[str]:
        entries = self._entries()
        return set(entries.get((uid, name), ())) if entries is not None and uid else set()

    def add(self, uid: str, name: str, values: Iterable[str]) -> None:
        entries = self._entries()
        if entries is not None and uid:
            entries.setdefault((uid, name), set()).update(values)

    def discard(self, uid: str, name: str, values: Iterable[str]) -> None:
        entries = self._entries()
        if entries is not None and uid:
            entries.get((uid, name), set()).difference_update(values)


def _unavailable(alloc: RangeAllocator, error: AllocationError) -> ApiError:
    if isinstance(error, RangeFull):
        return ApiError(
            503,
            "ServiceUnavailable",
            f"failed to allocate a {alloc.what}: the range {alloc.range.spec} is full",
        )
    if isinstance(error, TooManyConflicts):
        return ApiError(
            409,
            "Conflict",
            f"could not allocate a {alloc.what}: too many concurrent allocations; retry",
        )
    raise error  # pragma: no cover - the callers handle the others


async def _refuse_existing(get_object: GetObject, plural: str, obj: dict[str, Any]) -> None:
    """A create of a name already taken fails as the store write would (409 AlreadyExists), but
    before anything is allocated: no leak, and not a misleading "already allocated" for a
    create that repeats the stored object's own values (bootstrap on every start does that)."""
    meta = obj.get("metadata") or {}
    namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    if await get_object(namespace, name) is not None:
        info = kinds.by_resource("", "v1", plural)
        assert info is not None
        raise already_exists(info, name)


class ServiceAllocation:
    """ClusterIPs and NodePorts of Services."""

    def __init__(
        self,
        *,
        cluster_ips: RangeAllocator,
        node_ports: RangeAllocator,
        list_services: ListObjects,
        get_service: GetObject,
    ) -> None:
        self.cluster_ips = cluster_ips
        self.node_ports = node_ports
        self.list_services = list_services
        self.get_service = get_service
        self._attempts = _Attempts()

    # -- what an object holds -----------------------------------------------------------------

    @staticmethod
    def held_ip(svc: dict[str, Any] | None) -> str:
        spec = (svc or {}).get("spec") or {}
        ip = spec.get("clusterIP") or ""
        if spec.get("type") == "ExternalName" or ip == "None":
            return ""
        return str(ip)

    @staticmethod
    def held_ports(svc: dict[str, Any] | None) -> list[str]:
        spec = (svc or {}).get("spec") or {}
        if spec.get("type") not in NODE_PORT_TYPES:
            return []
        ports = [p.get("nodePort") for p in spec.get("ports") or [] if isinstance(p, dict)]
        return list(dict.fromkeys(str(p) for p in ports if isinstance(p, int) and p))

    # -- the registry's calls -----------------------------------------------------------------

    async def before_write(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        """Fill in and allocate the Service's ClusterIP and NodePorts where they changed."""
        if old is None:
            await _refuse_existing(self.get_service, "services", obj)
        meta = obj.get("metadata") or {}
        name, uid = str(meta.get("name") or ""), str(meta.get("uid") or "")
        spec = obj.setdefault("spec", {})
        old_ip, old_ports = self.held_ip(old), self.held_ports(old)
        new_ip = await self._cluster_ip(spec, name, uid, old_ip)
        try:
            new_ports = await self._node_ports(spec, name, uid, old_ports)
        except Exception:
            if new_ip and new_ip != old_ip:
                await self._release(self.cluster_ips, uid, [new_ip])
            raise
        if old_ip and old_ip != new_ip:
            await self._release(self.cluster_ips, uid, [old_ip])
        gone = [p for p in old_ports if p not in new_ports]
        if gone:
            await self._release(self.node_ports, uid, gone)

    async def after_delete(self, obj: dict[str, Any]) -> None:
        """Release the deleted Service's ClusterIP and NodePorts."""
        await _release_gone(self.cluster_ips, [ip] if (ip := self.held_ip(obj)) else [])
        await _release_gone(self.node_ports, self.held_ports(obj))

    async def _release(self, alloc: RangeAllocator, uid: str, values: list[str]) -> None:
        self._attempts.discard(uid, alloc.name, values)
        await alloc.release(values)

    async def _cluster_ip(self, spec: dict[str, Any], name: str, uid: str, old_ip: str) -> str:
        """The ClusterIP the Service holds after this write ("" for none)."""
        alloc = self.cluster_ips
        ip = str(spec.get("clusterIP") or "")
        if spec.get("type") == "ExternalName" or ip == "None":
            return ""
        if ip and ip == old_ip:
            return ip
        if ip and alloc.range.offset(ip) is None:
            raise invalid(
                None,
                "Service",
                name,
                [
                    FieldError.invalid(
                        "spec.clusterIP",
                        ip,
                        "provided IP is not in the valid range. The range of valid IPs is "
                        f"{alloc.range.spec}",
                    )
                ],
            )
        mine = self._attempts.get(uid, alloc.name)
        try:
            if ip:
                (ip,) = await alloc.allocate(want=[ip], accept=mine)
            else:
                (ip,) = await alloc.allocate(count=1, prefer=sorted(mine), accept=mine)
        except AlreadyAllocated:
            raise invalid(
                None,
                "Service",
                name,
                [
                    FieldError.invalid(
                        "spec.clusterIPs",
                        [ip],
                        f"failed to allocate IP {ip}: provided IP is already allocated",
                    )
                ],
            ) from None
        except (RangeFull, TooManyConflicts) as e:
            raise _unavailable(alloc, e) from None
        self._attempts.add(uid, alloc.name, [ip])
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]
        return ip

    async def _node_ports(
        self, spec: dict[str, Any], name: str, uid: str, old_ports: list[str]
    ) -> list[str]:
        """The NodePorts the Service holds after this write."""
        if spec.get("type") not in NODE_PORT_TYPES:
            return []
        alloc = self.node_ports
        ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
        asked = [str(p["nodePort"]) for p in ports if isinstance(p.get("nodePort"), int)]
        asked = [p for p in asked if p != "0"]
        missing = [p for p in ports if not p.get("nodePort")]
        wanted = [p for p in dict.fromkeys(asked) if p not in old_ports]
        if not wanted and not missing:
            return list(dict.fromkeys(asked))
        mine = self._attempts.get(uid, alloc.name)
        try:
            got = await alloc.allocate(
                want=wanted, count=len(missing), accept=mine, prefer=sorted(mine)
            )
        except (AlreadyAllocated, NotInRange) as e:
            index = next((i for i, p in enumerate(ports) if str(p.get("nodePort")) == e.value), 0)
            detail = (
                "provided port is already allocated"
                if isinstance(e, AlreadyAllocated)
                else "provided port is not in the valid range. The range of valid ports is "
                f"{alloc.range.spec}"
            )
            raise invalid(
                None,
                "Service",
                name,
                [FieldError.invalid(f"spec.ports[{index}].nodePort", int(e.value), detail)],
            ) from None
        except (RangeFull, TooManyConflicts) as e:
            raise _unavailable(alloc, e) from None
        self._attempts.add(uid, alloc.name, got)
        for port, value in zip(missing, got[len(wanted) :], strict=True):
            port["nodePort"] = int(value)
        return list(dict.fromkeys(asked + got[len(wanted) :]))

    # -- repair -------------------------------------------------------------------------------

    async def repair(self) -> tuple[RepairResult, ...]:
        """One repair pass over the ClusterIP and NodePort ranges (one list of Services)."""
        ranges = (self.cluster_ips, self.node_ports)
        done: dict[str, RepairResult] = {}
        for _ in range(8):
            snaps = {a.name: await a.snapshot() for a in ranges if a.name not in done}
            services = await self.list_services()
            live = {
                self.cluster_ips.name: [ip for s in services if (ip := self.held_ip(s))],
                self.node_ports.name: [p for s in services for p in self.held_ports(s)],
            }
            for alloc in ranges:
                if alloc.name in snaps:
                    result = await alloc.reconcile(snaps[alloc.name], live[alloc.name])
                    if result is not None:
                        done[alloc.name] = _logged(result)
            if len(done) == len(ranges):
                return tuple(done[a.name] for a in ranges)
        raise _unavailable(self.cluster_ips, TooManyConflicts())


class PodCIDRAllocation:
    """Pod CIDRs of Nodes (until a node-IPAM controller in the controller-manager takes them)."""

    def __init__(
        self, *, pod_cidrs: RangeAllocator, list_nodes: ListObjects, get_node: GetObject
    ) -> None:
        self.pod_cidrs = pod_cidrs
        self.list_nodes = list_nodes
        self.get_node = get_node
        self._attempts = _Attempts()

    @staticmethod
    def held_cidr(node: dict[str, Any] | None) -> str:
        return str(((node or {}).get("spec") or {}).get("podCIDR") or "")

    async def before_write(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        """Keep, record or allocate the Node's pod CIDR.

        A ``podCIDR`` the client sets is kept and marked taken (even if another Node has it, as
        Kubernetes' node IPAM occupies it); an update without one keeps the stored one;
        otherwise the lowest free block is allocated. ``podCIDRs`` is ``[podCIDR]``."""
        if old is None:
            await _refuse_existing(self.get_node, "nodes", obj)
        spec = obj.setdefault("spec", {})
        uid = str((obj.get("metadata") or {}).get("uid") or "")
        alloc = self.pod_cidrs
        old_cidr = self.held_cidr(old)
        cidr = self.held_cidr(obj)
        if not cidr and old_cidr:
            spec["podCIDR"] = old_cidr
            spec["podCIDRs"] = list((old or {}).get("spec", {}).get("podCIDRs") or [old_cidr])
            return
        if cidr and cidr == old_cidr:
            spec.setdefault("podCIDRs", [cidr])
            return
        mine = self._attempts.get(uid, alloc.name)
        try:
            if cidr:
                spec.setdefault("podCIDRs", [cidr])
                if alloc.range.offset(cidr) is not None:
                    await alloc.allocate(want=[cidr], accept=[cidr])
            else:
                (cidr,) = await alloc.allocate(count=1, prefer=sorted(mine), accept=mine)
                self._attempts.add(uid, alloc.name, [cidr])
                spec["podCIDR"] = cidr
                spec["podCIDRs"] = [cidr]
        except (RangeFull, TooManyConflicts) as e:
            raise _unavailable(alloc, e) from None
        if old_cidr:
            self._attempts.discard(uid, alloc.name, [old_cidr])
            await alloc.release([old_cidr])

    async def after_delete(self, obj: dict[str, Any]) -> None:
        """Release the deleted Node's pod CIDR."""
        await _release_gone(self.pod_cidrs, [c] if (c := self.held_cidr(obj)) else [])

    async def repair(self) -> tuple[RepairResult, ...]:
        """One repair pass over the pod CIDR range (one list of Nodes)."""
        for _ in range(8):
            snap: Snapshot = await self.pod_cidrs.snapshot()
            nodes = await self.list_nodes()
            live = [c for n in nodes if (c := self.held_cidr(n))]
            result = await self.pod_cidrs.reconcile(snap, live)
            if result is not None:
                return (_logged(result),)
        raise _unavailable(self.pod_cidrs, TooManyConflicts())


async def _release_gone(alloc: RangeAllocator, values: list[str]) -> None:
    """Release a deleted object's values. The delete is done: a failure here must not fail it,
    and what stays taken is a leak the repair loop frees."""
    try:
        await alloc.release(values)
    except Exception as e:
        log.warning("range %s: releasing %s after a delete failed: %r", alloc.name, values, e)


def _logged(result: RepairResult) -> RepairResult:
    if result.repaired:
        log.warning("range %s: marked values live objects hold: %s", result.range, result.repaired)
    if result.freed:
        log.info("range %s: freed leaked values: %s", result.range, result.freed)
    if result.duplicates:
        log.warning("range %s: values held by several objects: %s", result.range, result.duplicates)
    if result.outside:
        log.warning("range %s: values outside the range: %s", result.range, result.outside)
    return result


async def run_repairs(
    allocations: Sequence[Repairable],
    *,
    interval: float = REPAIR_INTERVAL,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run a repair pass of each allocation every ``interval`` seconds, until cancelled. A failed
    pass is logged and retried at the next interval; it never stops the API server."""
    while True:
        await sleep(interval)
        for allocation in allocations:
            try:
                await allocation.repair()
            except Exception:
                log.exception("allocation repair pass failed; retrying in %.0f s", interval)
