"""The scheduling queue: activeQ, backoffQ and the unschedulable pool (internal/queue).

- **activeQ** is a heap by priority (higher first), then by when the pod was first queued; `pop`
  waits on it.
- **backoffQ** holds pods waiting out their back-off: ``initial * 2^(attempts-1)`` seconds, capped
  at ``max`` (podInitialBackoffSeconds 1, podMaxBackoffSeconds 10). `flush` moves the pods whose
  back-off ended to activeQ; the scheduler calls it every second.
- **unschedulable pool**: pods no node could take, with the plugins that rejected them. A cluster
  event (`move_for_event`) moves back only the pods rejected by a plugin that registered for that
  event - to backoffQ if their back-off has not ended, else to activeQ - so an event that cannot
  help wakes nobody, and an event that can never makes a hot loop. A pod left there for
  ``max_unschedulable`` seconds (5 min) is retried anyway.
- **gated pods** (a PreEnqueue plugin said no, e.g. scheduling gates) wait apart until an update
  lets them in.

If an event arrives while a pod is being scheduled and that pod then fails, it goes to backoffQ
rather than the pool (the ``moveRequestCycle`` rule), so the event is not missed.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from skiff.scheduler.framework import ClusterEvent, Status
from skiff.scheduler.types import PodInfo
from skiff.util.clock import Clock, SystemClock

__all__ = ["QueuedPod", "SchedulingQueue"]


@dataclass(eq=False)
class QueuedPod:
    pod: PodInfo
    timestamp: float  # first queued (ordering within a priority)
    attempts: int = 0
    last_failure: float = 0.0
    unschedulable_plugins: set[str] = field(default_factory=set)
    gated_by: str = ""
    cycle: int = 0

    @property
    def uid(self) -> str:
        return self.pod.uid


class SchedulingQueue:
    def __init__(
        self,
        *,
        clock: Clock | None = None,
        initial_backoff: float = 1.0,
        max_backoff: float = 10.0,
        max_unschedulable: float = 300.0,
        pre_enqueue: Callable[[PodInfo], Status] | None = None,
        interested: Callable[[ClusterEvent], frozenset[str]] | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_unschedulable = max_unschedulable
        self._pre_enqueue = pre_enqueue
        self._interested = interested
        self._seq = itertools.count()
        self._active: list[tuple[int, float, int, str]] = []
        self._active_set: dict[str, QueuedPod] = {}
        self._backoff: list[tuple[float, int, str]] = []
        self._backoff_set: dict[str, QueuedPod] = {}
        self._unschedulable: dict[str, QueuedPod] = {}
        self._gated: dict[str, QueuedPod] = {}
        self._in_flight: dict[str, QueuedPod] = {}
        self._wakeup = asyncio.Event()
        self.scheduling_cycle = 0
        self.move_request_cycle = -1
        self._closed = False

    # -- sizes -------------------------------------------------------------------------------

    def pending(self) -> dict[str, int]:
        """scheduler_pending_pods by queue."""
        return {
            "active": len(self._active_set),
            "backoff": len(self._backoff_set),
            "unschedulable": len(self._unschedulable),
            "gated": len(self._gated),
        }

    def __contains__(self, uid: object) -> bool:
        return (
            uid in self._active_set
            or uid in self._backoff_set
            or uid in self._unschedulable
            or uid in self._gated
            or uid in self._in_flight
        )

    def where(self, uid: str) -> str | None:
        for name, pool in (
            ("active", self._active_set),
            ("backoff", self._backoff_set),
            ("unschedulable", self._unschedulable),
            ("gated", self._gated),
            ("in-flight", self._in_flight),
        ):
            if uid in pool:
                return name
        return None

    # -- internals ---------------------------------------------------------------------------

    def _push_active(self, qp: QueuedPod) -> None:
        if self._pre_enqueue is not None:
            st = self._pre_enqueue(qp.pod)
            if not st.ok:
                qp.gated_by = st.plugin or "PreEnqueue"
                self._gated[qp.uid] = qp
                return
        qp.gated_by = ""
        self._active_set[qp.uid] = qp
        heapq.heappush(self._active, (-qp.pod.priority, qp.timestamp, next(self._seq), qp.uid))
        self._wakeup.set()

    def _push_backoff(self, qp: QueuedPod) -> None:
        self._backoff_set[qp.uid] = qp
        heapq.heappush(self._backoff, (self.backoff_expiry(qp), next(self._seq), qp.uid))

    def backoff_duration(self, qp: QueuedPod) -> float:
        if qp.attempts <= 0:
            return 0.0
        return float(min(self.initial_backoff * 2 ** (qp.attempts - 1), self.max_backoff))

    def backoff_expiry(self, qp: QueuedPod) -> float:
        return qp.last_failure + self.backoff_duration(qp)

    def _backing_off(self, qp: QueuedPod) -> bool:
        return self.backoff_expiry(qp) > self.clock.monotonic()

    def _remove(self, uid: str) -> QueuedPod | None:
        # heaps are cleaned lazily: entries whose uid left the set are skipped
        for pool in (self._active_set, self._backoff_set, self._unschedulable, self._gated):
            qp = pool.pop(uid, None)
            if qp is not None:
                return qp
        return None

    # -- informer side -----------------------------------------------------------------------

    def add(self, pod: PodInfo) -> None:
        """A new pending pod."""
        if pod.uid in self or self._closed:
            return
        self._push_active(QueuedPod(pod, self.clock.monotonic()))

    def update(self, pod: PodInfo) -> None:
        """A pending pod changed: take the new object. A gated or unschedulable pod whose spec or
        labels changed is tried again (its tolerations, affinity... may now fit); an update that
        changes neither (a status write) leaves the pod where it was."""
        uid = pod.uid
        if uid in self._in_flight:
            self._in_flight[uid].pod = pod
            return
        where = self.where(uid)
        if where is None:
            self.add(pod)
            return
        if where == "active":
            self._active_set[uid].pod = pod
            return
        if where == "backoff":
            self._backoff_set[uid].pod = pod
            return
        pool = self._unschedulable if where == "unschedulable" else self._gated
        qp = pool[uid]
        changed = qp.pod.spec != pod.spec or dict(qp.pod.labels) != dict(pod.labels)
        qp.pod = pod
        if not changed:
            return
        del pool[uid]
        if self._backing_off(qp):
            self._push_backoff(qp)
        else:
            self._push_active(qp)

    def delete(self, uid: str) -> None:
        self._remove(uid)
        self._in_flight.pop(uid, None)

    # -- scheduler side ----------------------------------------------------------------------

    def _pop_nowait(self) -> QueuedPod | None:
        while self._active:
            _, _, _, uid = heapq.heappop(self._active)
            qp = self._active_set.pop(uid, None)
            if qp is None:
                continue  # stale heap entry
            self.scheduling_cycle += 1
            qp.cycle = self.scheduling_cycle
            qp.attempts += 1
            self._in_flight[uid] = qp
            return qp
        return None

    async def pop(self) -> QueuedPod:
        """The next pod to schedule (waits while activeQ is empty)."""
        while True:
            qp = self._pop_nowait()
            if qp is not None:
                return qp
            self._wakeup.clear()
            await self._wakeup.wait()

    def done(self, uid: str) -> None:
        """The pod left the scheduler (bound, or gone)."""
        self._in_flight.pop(uid, None)

    def add_unschedulable(self, qp: QueuedPod, plugins: Iterable[str]) -> None:
        """A pod that fit nowhere (AddUnschedulableIfNotPresent)."""
        if self._in_flight.pop(qp.uid, None) is None:
            return  # deleted meanwhile
        qp.last_failure = self.clock.monotonic()
        qp.unschedulable_plugins = set(plugins)
        if self.move_request_cycle >= qp.cycle or not qp.unschedulable_plugins:
            self._push_backoff(qp)
        else:
            self._unschedulable[qp.uid] = qp

    def add_backoff(self, qp: QueuedPod) -> None:
        """A pod whose attempt failed with an error (or whose binding failed)."""
        if self._in_flight.pop(qp.uid, None) is None:
            return
        qp.last_failure = self.clock.monotonic()
        qp.unschedulable_plugins = set()
        self._push_backoff(qp)

    def flush(self) -> None:
        """Move pods whose back-off ended to activeQ, and pods unschedulable for too long."""
        now = self.clock.monotonic()
        while self._backoff and self._backoff[0][0] <= now:
            _, _, uid = heapq.heappop(self._backoff)
            qp = self._backoff_set.pop(uid, None)
            if qp is not None:
                if self._backing_off(qp):  # re-pushed with a later expiry meanwhile
                    self._push_backoff(qp)
                    continue
                self._push_active(qp)
        stale = [
            qp
            for qp in self._unschedulable.values()
            if now - qp.last_failure > self.max_unschedulable
        ]
        for qp in stale:
            del self._unschedulable[qp.uid]
            self._push_active(qp)

    def next_backoff_expiry(self) -> float | None:
        return self._backoff[0][0] if self._backoff else None

    def move_for_event(self, event: ClusterEvent) -> int:
        """Move the unschedulable pods this event may help (MoveAllToActiveOrBackoffQueue)."""
        self.move_request_cycle = self.scheduling_cycle
        if not self._unschedulable:
            return 0
        interested = self._interested(event) if self._interested is not None else None
        moved = [
            qp
            for qp in self._unschedulable.values()
            if interested is None or qp.unschedulable_plugins & interested
        ]
        for qp in moved:
            del self._unschedulable[qp.uid]
            if self._backing_off(qp):
                self._push_backoff(qp)
            else:
                self._push_active(qp)
        return len(moved)

    def close(self) -> None:
        self._closed = True
