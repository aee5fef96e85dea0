"""DefaultPreemption (PostFilter): when no node fits a pod, find the node where evicting the
fewest, lowest-priority pods would let it fit, evict them and nominate the node
(defaultpreemption/default_preemption.go, framework/preemption/preemption.go).

For each node that rejected the pod for a resolvable reason, every pod of lower priority is taken
off the node (in the cache, synchronously, and put back before returning) and the profile's
filters run again; if the pod then fits, victims are reprieved one by one, highest priority first
and PodDisruptionBudget-protected ones before the others, as long as the pod still fits. A budget
protects a victim when its ``status.disruptionsAllowed`` (kept by the disruption controller) is
used up. Among candidates the node with the fewest budget violations wins, then the lowest
highest-victim priority, the smallest sum of priorities, the fewest victims. Victims get the
``DisruptionTarget`` condition (reason ``PreemptionByScheduler``) and are deleted gracefully
(their own grace period, uid precondition); the pod gets ``status.nominatedNodeName``
(the scheduler writes it) and is retried when the victims are gone.

A pod with ``preemptionPolicy: Never`` never preempts, and a pod already nominated to a node
where a lower-priority pod is still terminating waits instead of preempting again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skiff.api.selector import SelectorError, label_selector_from_object
from skiff.scheduler.framework import (
    ClusterEvent,
    Code,
    CycleState,
    Handle,
    PostFilterResult,
    Status,
    histogram,
)
from skiff.scheduler.types import NodeInfo, PodInfo

NAME = "DefaultPreemption"
NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_HELPFUL = "Preemption is not helpful for scheduling"

log = logging.getLogger(__name__)


@dataclass
class Candidate:
    node: NodeInfo
    victims: list[PodInfo]
    pdb_violations: int

    def key(self) -> tuple[int, int, int, int]:
        top = max((v.priority for v in self.victims), default=-(2**31))
        return (self.pdb_violations, top, sum(v.priority for v in self.victims), len(self.victims))


def _raw(obj: Any) -> Mapping[str, Any]:
    raw = getattr(obj, "raw", obj)
    return raw if isinstance(raw, Mapping) else {}


class DefaultPreemption:
    name = NAME
    events = frozenset({ClusterEvent.POD_DELETE, ClusterEvent.PDB_CHANGE})

    def __init__(self, handle: Handle) -> None:
        self.handle = handle
        self.tasks: set[asyncio.Task[None]] = set()
        self.preempted = 0

    def _eligible(self, pod: PodInfo) -> str:
        if pod.spec.get("preemptionPolicy") == "Never":
            return "not eligible due to preemptionPolicy=Never."
        if pod.nominated_node:
            node = self.handle.cache.by_name.get(pod.nominated_node)
            if node is not None and any(
                p.terminating and p.priority < pod.priority for p in node.pods.values()
            ):
                return "not eligible due to a terminating pod on the nominated node."
        return ""

    def _budgets(self, namespace: str) -> list[tuple[Any, list[int]]]:
        if self.handle.pdbs is None:
            return []
        out = []
        for obj in self.handle.pdbs.list(namespace=namespace):
            raw = _raw(obj)
            try:
                sel = label_selector_from_object((raw.get("spec") or {}).get("selector"))
            except SelectorError:
                continue
            allowed = int((raw.get("status") or {}).get("disruptionsAllowed") or 0)
            out.append((sel, [allowed]))
        return out

    def _fits(self, pod: PodInfo, node: NodeInfo) -> bool:
        fw = self.handle.framework
        state = CycleState()
        if not fw.run_pre_filter(state, pod).ok:
            return False
        return bool(fw.run_filter_node(state, pod, node).ok)

    def _candidate(self, pod: PodInfo, node: NodeInfo) -> Candidate | None:
        cache = self.handle.cache
        lower = [
            p
            for p in node.pods.values()
            if p.priority < pod.priority and not cache.is_assumed(p.uid) and not p.terminating
        ]
        if not lower:
            return None
        removed: list[PodInfo] = []
        try:
            for p in lower:
                cache._unplace(p.uid)
                removed.append(p)
            if not self._fits(pod, node):
                return None
            budgets = self._budgets(pod.namespace) if self.handle.pdbs is not None else []
            by_ns: dict[str, list[tuple[Any, list[int]]]] = {pod.namespace: budgets}

            def violates(victim: PodInfo) -> bool:
                if victim.namespace not in by_ns:
                    by_ns[victim.namespace] = self._budgets(victim.namespace)
                hit = False
                for sel, allowed in by_ns[victim.namespace]:
                    if sel.matches(victim.labels):
                        allowed[0] -= 1
                        if allowed[0] < 0:
                            hit = True
                return hit

            ordered = sorted(lower, key=lambda p: -p.priority)
            flags = {p.uid: violates(p) for p in ordered}
            violating = [p for p in ordered if flags[p.uid]]
            others = [p for p in ordered if not flags[p.uid]]
            victims: list[PodInfo] = []
            violations = 0
            for p in violating + others:
                cache._place(p, node.name)
                removed.remove(p)
                if not self._fits(pod, node):
                    cache._unplace(p.uid)
                    removed.append(p)
                    victims.append(p)
                    if flags[p.uid]:
                        violations += 1
            return Candidate(node, victims, violations) if victims else None
        finally:
            for p in removed:
                cache._place(p, node.name)

    def post_filter(
        self, state: CycleState, pod: PodInfo, statuses: Mapping[str, Status]
    ) -> tuple[PostFilterResult | None, Status]:
        cache = self.handle.cache
        total = cache.node_count
        why = self._eligible(pod)
        if why:
            return None, Status(Code.UNSCHEDULABLE, (f"preemption: {why}",))
        reasons: dict[str, Status] = {}
        candidates: list[Candidate] = []
        limit = max(100, total // 10)
        for name, st in statuses.items():
            node = cache.by_name.get(name)
            if node is None:
                continue
            if st.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                reasons[name] = Status(st.code, (NOT_HELPFUL,))
                continue
            if len(candidates) >= limit:
                continue
            cand = self._candidate(pod, node)
            if cand is None:
                reasons[name] = Status(Code.UNSCHEDULABLE, (NO_VICTIMS,))
            else:
                candidates.append(cand)
        if not candidates:
            msg = f"preemption: 0/{total} nodes are available: {histogram(reasons.values())}."
            return None, Status(Code.UNSCHEDULABLE, (msg,))
        best = min(candidates, key=Candidate.key)
        for victim in best.victims:
            self._evict(pod, victim, best.node.name)
        self.preempted += len(best.victims)
        # lower-priority pods nominated to that node lose the nomination (they would not fit)
        for other, node_name in list(cache.nominated.values()):
            if node_name == best.node.name and other.priority < pod.priority:
                cache.nominate(other, "")
                self._clear_nomination(other)
        cache.nominate(pod, best.node.name)
        return PostFilterResult(best.node.name), Status()

    def _clear_nomination(self, pod: PodInfo) -> None:
        client = self.handle.client
        if client is None:
            return

        async def run() -> None:
            from skiff.client import ClientError

            with contextlib.suppress(ClientError):
                await client.patch_status(
                    "pods",
                    pod.name,
                    {"metadata": {"uid": pod.uid}, "status": {"nominatedNodeName": None}},
                    namespace=pod.namespace,
                    patch_type="strategic",
                )

        task = asyncio.get_running_loop().create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _evict(self, preemptor: PodInfo, victim: PodInfo, node: str) -> None:
        client = self.handle.client
        if client is None:
            return
        recorder = self.handle.recorder
        if recorder is not None:
            recorder.event(
                _event_target(victim),
                "Normal",
                "Preempted",
                f"Preempted by pod {preemptor.uid} on node {node}",
            )

        async def run() -> None:
            from skiff.client import ClientError, NotFound, Preconditions

            condition = {
                "type": "DisruptionTarget",
                "status": "True",
                "reason": "PreemptionByScheduler",
                "message": f"{preemptor.scheduler_name}: preempting to accommodate a higher "
                "priority pod",
            }
            with contextlib.suppress(ClientError):  # best effort, as upstream
                await client.patch_status(
                    "pods",
                    victim.name,
                    {"metadata": {"uid": victim.uid}, "status": {"conditions": [condition]}},
                    namespace=victim.namespace,
                    patch_type="strategic",
                )
            try:
                await client.delete(
                    "pods",
                    victim.name,
                    namespace=victim.namespace,
                    preconditions=Preconditions(uid=victim.uid),
                )
            except NotFound:
                pass
            except ClientError as e:
                log.warning("preemption: deleting %s failed: %s", victim.key, e)

        task = asyncio.get_running_loop().create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def _event_target(pod: PodInfo) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod.name,
            "namespace": pod.namespace,
            "uid": pod.uid,
        },
    }


def new(args: Mapping[str, Any], handle: Handle) -> DefaultPreemption:
    return DefaultPreemption(handle)
