"""The pod garbage collector: pods of vanished nodes, too many terminated pods, and terminating
pods no node will ever finish.

Kubernetes 1.32's ``pkg/controller/podgc/gc_controller.go`` (``gc``, ``gcTerminated``,
``gcOrphaned``, ``discoverDeletedNodes``, ``gcUnscheduledTerminating``,
``markFailedAndDeletePodWithCondition``). Every ``pod_gc_period`` seconds:

- **terminated pods** (phase Succeeded or Failed) beyond ``terminated_pod_gc_threshold`` are
  deleted, evicted ones first, then oldest first (0 turns this off);
- **orphaned pods**: a pod bound (``spec.nodeName``) to a node missing from the node cache puts
  that node in quarantine; once it has stayed missing for ``pod_gc_quarantine`` seconds and a live
  GET confirms it does not exist, each of its pods is marked Failed with the ``DisruptionTarget``
  condition (True, ``DeletionByPodGC``, "PodGC: node no longer exists") and deleted;
- **unscheduled terminating pods** (a ``deletionTimestamp`` and no node to finish them) are
  deleted;
- **terminating pods of an out-of-service node** (not Ready, tainted
  ``node.kubernetes.io/out-of-service`` by an operator) are deleted.

Every delete here is a force delete (grace period 0): no agent is left to terminate these pods.
`terminated_to_delete` and `QuarantineSet` are the pure decisions, tested on a FakeClock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from skiff.api.duration import parse_time
from skiff.client import Conflict, FrozenDict, NotFound, Preconditions, resolve, thaw
from skiff.controllers.base import ControllerContext, meta_of
from skiff.util.clock import Clock, format_epoch_time

__all__ = [
    "PodGarbageCollector",
    "QuarantineSet",
    "is_out_of_service",
    "is_terminated",
    "orphaned_nodes",
    "terminated_to_delete",
]

log = logging.getLogger("skiff.controllers.podgc")

NODES = resolve(("v1", "Node"))
PODS = resolve(("v1", "Pod"))

DISRUPTION_TARGET = "DisruptionTarget"
OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"


def is_terminated(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _created(pod: Mapping[str, Any]) -> float:
    value = meta_of(pod).get("creationTimestamp")
    try:
        return parse_time(str(value)).timestamp() if value else 0.0
    except ValueError:
        return 0.0


def terminated_to_delete(
    pods: Sequence[Mapping[str, Any]], threshold: int
) -> list[Mapping[str, Any]]:
    """The terminated pods over ``threshold`` to delete (``gcTerminated``): evicted pods (status
    reason ``Evicted``) first, then by creation time, oldest first; none when ``threshold <= 0``."""
    if threshold <= 0:
        return []
    terminated = [p for p in pods if is_terminated(p)]
    excess = len(terminated) - threshold
    if excess <= 0:
        return []
    terminated.sort(
        key=lambda p: (
            0 if (p.get("status") or {}).get("reason") == "Evicted" else 1,
            _created(p),
            str(meta_of(p).get("namespace") or ""),
            str(meta_of(p).get("name") or ""),
        )
    )
    return terminated[:excess]


def is_out_of_service(node: Mapping[str, Any]) -> bool:
    """Not Ready, and tainted ``node.kubernetes.io/out-of-service`` (any effect)."""
    ready = next(
        (
            c
            for c in (node.get("status") or {}).get("conditions") or ()
            if isinstance(c, Mapping) and c.get("type") == "Ready"
        ),
        None,
    )
    if ready is not None and ready.get("status") == "True":
        return False
    return any(
        isinstance(t, Mapping) and t.get("key") == OUT_OF_SERVICE
        for t in (node.get("spec") or {}).get("taints") or ()
    )


def orphaned_nodes(pods: Sequence[Mapping[str, Any]], existing: set[str]) -> set[str]:
    """Names of the nodes pods are bound to that are not in ``existing``."""
    out: set[str] = set()
    for pod in pods:
        node = str((pod.get("spec") or {}).get("nodeName") or "")
        if node and node not in existing:
            out.add(node)
    return out


class QuarantineSet:
    """Nodes seen missing, each with when it was first missed (on the injected clock); a node is
    due once missing for ``quarantine`` seconds (Kubernetes' ``nodeQueue.AddAfter(quarantineTime)``)."""

    def __init__(self, quarantine: float, clock: Clock) -> None:
        self.quarantine = quarantine
        self.clock = clock
        self._since: dict[str, float] = {}

    def observe(self, missing: set[str]) -> None:
        """Start the quarantine of newly missing nodes; forget those that came back."""
        now = self.clock.monotonic()
        for name in list(self._since):
            if name not in missing:
                del self._since[name]
        for name in missing:
            self._since.setdefault(name, now)

    def due(self) -> list[str]:
        now = self.clock.monotonic()
        return sorted(n for n, t in self._since.items() if now - t >= self.quarantine)

    def next_due(self) -> float | None:
        """Seconds until the next node's quarantine ends, if any is waiting."""
        if not self._since:
            return None
        now = self.clock.monotonic()
        return max(0.0, min(t + self.quarantine - now for t in self._since.values()))

    def discard(self, name: str) -> None:
        self._since.pop(name, None)


class PodGarbageCollector:
    name = "pod-garbage-collector-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.clock = ctx.clock
        self.options = ctx.options
        self.pods = ctx.factory.informer(PODS)
        self.nodes = ctx.factory.informer(NODES)
        self.quarantine = QuarantineSet(ctx.options.pod_gc_quarantine, ctx.clock)

    async def run(self) -> None:
        while True:
            try:
                await self.gc()
            except Exception:
                log.exception("pod garbage collection failed")
            wait = self.options.pod_gc_period
            due = self.quarantine.next_due()
            if due is not None:
                wait = min(wait, due + 0.01)
            await self.clock.sleep(wait)

    async def gc(self) -> None:
        """One pass (``PodGCController.gc``)."""
        pods = self.pods.lister.list()
        await self._gc_terminating(pods)
        await self._gc_terminated(pods)
        await self._gc_orphaned(pods)
        await self._gc_unscheduled_terminating(pods)

    async def _gc_terminating(self, pods: Sequence[FrozenDict]) -> None:
        """``gcTerminating``: terminating pods of a node that is not Ready and carries the
        ``node.kubernetes.io/out-of-service`` taint (an operator's word that it is down for good)
        are force deleted."""
        out = {
            str(meta_of(n).get("name") or "")
            for n in self.nodes.lister.list()
            if is_out_of_service(n)
        }
        if not out:
            return
        victims = [
            p
            for p in pods
            if meta_of(p).get("deletionTimestamp") and (p.get("spec") or {}).get("nodeName") in out
        ]
        if victims:
            log.info("garbage collecting %d terminating pods of out-of-service nodes", len(victims))
            await self._in_batches(victims, None)

    async def _gc_terminated(self, pods: Sequence[FrozenDict]) -> None:
        victims = terminated_to_delete(pods, self.options.terminated_pod_gc_threshold)
        if not victims:
            return
        log.info("garbage collecting %d terminated pods", len(victims))
        await self._in_batches(victims, None)

    async def _gc_orphaned(self, pods: Sequence[FrozenDict]) -> None:
        existing = {str(meta_of(n).get("name") or "") for n in self.nodes.lister.list()}
        self.quarantine.observe(orphaned_nodes(pods, existing))
        deleted: set[str] = set()
        for name in self.quarantine.due():
            if self.nodes.lister.get(name) is not None:
                self.quarantine.discard(name)
                continue
            try:
                await self.client.get(NODES, name)
            except NotFound:
                deleted.add(name)
            else:
                continue  # exists after all (the cache lags): keep watching
            self.quarantine.discard(name)
        if not deleted:
            return
        orphans = [p for p in pods if (p.get("spec") or {}).get("nodeName") in deleted]
        log.info(
            "garbage collecting %d pods of deleted nodes %s",
            len(orphans),
            ", ".join(sorted(deleted)),
        )
        condition = {
            "type": DISRUPTION_TARGET,
            "status": "True",
            "reason": "DeletionByPodGC",
            "message": "PodGC: node no longer exists",
        }
        await self._in_batches(orphans, condition)

    async def _gc_unscheduled_terminating(self, pods: Sequence[FrozenDict]) -> None:
        victims = [
            p
            for p in pods
            if meta_of(p).get("deletionTimestamp") and not (p.get("spec") or {}).get("nodeName")
        ]
        if victims:
            log.info("garbage collecting %d unscheduled terminating pods", len(victims))
            await self._in_batches(victims, None)

    async def _in_batches(
        self, pods: Sequence[Mapping[str, Any]], condition: Mapping[str, Any] | None
    ) -> None:
        for start in range(0, len(pods), 20):
            batch = pods[start : start + 20]
            results = await asyncio.gather(
                *(self._mark_failed_and_delete(p, condition) for p in batch),
                return_exceptions=True,
            )
            for pod, result in zip(batch, results, strict=True):
                if isinstance(result, BaseException) and not isinstance(result, Exception):
                    raise result
                if isinstance(result, Exception):
                    log.warning(
                        "deleting pod %s/%s failed: %s",
                        meta_of(pod).get("namespace"),
                        meta_of(pod).get("name"),
                        result,
                    )

    async def _mark_failed_and_delete(
        self, pod: Mapping[str, Any], condition: Mapping[str, Any] | None
    ) -> None:
        """``markFailedAndDeletePodWithCondition``: a pod not yet terminated is set Failed (with
        ``condition``) through pods/status; then it is force deleted."""
        meta = meta_of(pod)
        name, namespace = str(meta.get("name") or ""), str(meta.get("namespace") or "")
        if not is_terminated(pod):
            body = thaw(pod)
            status = body.setdefault("status", {})
            status["phase"] = "Failed"
            if condition is not None:
                conditions = [
                    c for c in status.get("conditions") or () if c.get("type") != condition["type"]
                ]
                conditions.append(
                    {**condition, "lastTransitionTime": format_epoch_time(self.clock.time())}
                )
                status["conditions"] = conditions
            try:
                await self.client.update_status(PODS, body)
            except NotFound:
                return
            except Conflict:
                pass  # changed meanwhile; it goes all the same
        with contextlib.suppress(NotFound):
            await self.client.delete(
                PODS,
                name,
                namespace=namespace,
                grace_period_seconds=0,
                preconditions=Preconditions(uid=str(meta.get("uid") or "")),
            )
