"""The scheduler's cache: nodes and the pods placed on them, kept from informer events.

Like kube-scheduler's ``internal/cache`` it is updated incrementally (no per-cycle rebuild) and
*assumes* a pod on its node the moment the scheduling cycle picks the node, before the binding
reaches the API server, so the next cycles see the node's resources as taken and a burst cannot
over-commit it. When the pod's binding comes back through the informer the assumption is
confirmed; when binding fails it is forgotten (`forget`), and an assumption that is never
confirmed expires after `assume_ttl` seconds once binding finished (``cleanupAssumedPods``).

Per-node numbers live in numpy arrays, one row per node (``allocatable``, ``requested``,
``non_zero`` with one column per `skiff.scheduler.types.RESOURCES`; ``valid``, ``ready``,
``tainted``, ``unschedulable`` booleans), so the resource filter and the resource scores run over
every node at once. A `NodeInfo`'s ``requested`` is a view of its row. Rows of deleted nodes are
reused. Rows with NoSchedule/NoExecute taints are also kept grouped by those taints
(`taint_groups`), so TaintToleration decides once per distinct taint set.

The cache also keeps what other plugins ask for often: the pods with required anti-affinity
(`anti_affinity_pods`), and the nominated pods per node (preemption's ``nominatedNodeName``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from skiff.scheduler.framework import ClusterEvent
from skiff.scheduler.types import NRES, NodeInfo, PodInfo, node_info, pod_info
from skiff.util.clock import Clock, SystemClock

__all__ = ["SchedulerCache", "TaintGroup", "TaintKey", "hard_taint_key", "node_events"]

_TAINT_EFFECTS = ("NoSchedule", "NoExecute")


TaintKey = tuple[tuple[str, str, str], ...]
TaintGroup = tuple[tuple[Mapping[str, str], ...], npt.NDArray[np.intp]]


def hard_taint_key(node: NodeInfo) -> TaintKey:
    """A node's NoSchedule/NoExecute taints as far as a toleration can tell them apart (key,
    value, effect): nodes with equal keys are tolerated by exactly the same pods."""
    return tuple(
        (str(t.get("key") or ""), str(t.get("value") or ""), str(t.get("effect")))
        for t in node.taints
        if t.get("effect") in _TAINT_EFFECTS
    )


def node_events(old: NodeInfo, new: NodeInfo) -> set[ClusterEvent]:
    """Which `ClusterEvent` s a node update is (nodeSchedulingPropertiesChange)."""
    out: set[ClusterEvent] = set()
    if old.unschedulable != new.unschedulable:
        out.add(ClusterEvent.NODE_SCHEDULABLE)
    if dict(old.labels) != dict(new.labels):
        out.add(ClusterEvent.NODE_LABEL)
    if list(old.taints) != list(new.taints):
        out.add(ClusterEvent.NODE_TAINT)
    if not np.array_equal(old.allocatable, new.allocatable) or (
        old.extended_allocatable != new.extended_allocatable
    ):
        out.add(ClusterEvent.NODE_ALLOCATABLE)
    if old.ready != new.ready:
        out.add(ClusterEvent.NODE_CONDITION)
    return out


class SchedulerCache:
    def __init__(self, *, clock: Clock | None = None, assume_ttl: float = 30.0) -> None:
        self.clock: Clock = clock or SystemClock()
        self.assume_ttl = assume_ttl
        self._cap = 0
        self.rows = 0  # rows in use (deleted ones included, marked invalid)
        self.allocatable: npt.NDArray[np.int64] = np.zeros((0, NRES), dtype=np.int64)
        self.requested: npt.NDArray[np.int64] = np.zeros((0, NRES), dtype=np.int64)
        self.non_zero: npt.NDArray[np.int64] = np.zeros((0, NRES), dtype=np.int64)
        self.valid: npt.NDArray[np.bool_] = np.zeros(0, dtype=np.bool_)
        self.ready: npt.NDArray[np.bool_] = np.zeros(0, dtype=np.bool_)
        self.tainted: npt.NDArray[np.bool_] = np.zeros(0, dtype=np.bool_)
        self.unschedulable: npt.NDArray[np.bool_] = np.zeros(0, dtype=np.bool_)
        self.soft_tainted: npt.NDArray[np.bool_] = np.zeros(0, dtype=np.bool_)
        self.nodes: list[NodeInfo | None] = []
        self.by_name: dict[str, NodeInfo] = {}
        self._free_rows: list[int] = []
        self.pods: dict[str, tuple[PodInfo, str]] = {}  # uid -> (pod, node name)
        self.assumed: dict[str, float | None] = {}  # uid -> deadline (None while binding)
        self._orphans: dict[str, dict[str, PodInfo]] = {}  # node name -> pods before the node
        self.anti_affinity_pods: dict[str, PodInfo] = {}
        self.nominated: dict[str, tuple[PodInfo, str]] = {}  # uid -> (pod, node)
        self.with_extended = 0  # nodes advertising extended resources
        self.owner_counts: dict[str, dict[str, int]] = {}  # controller uid -> node -> pods
        # nodes with hard taints grouped by `hard_taint_key`, so TaintToleration decides once
        # per distinct taint set, not once per node (a zone outage taints thousands alike)
        self._taint_rows: dict[TaintKey, set[int]] = {}
        self._row_taints: dict[int, TaintKey] = {}
        self._taint_groups: list[TaintGroup] | None = []

    # -- nodes -------------------------------------------------------------------------------

    @property
    def node_count(self) -> int:
        return len(self.by_name)

    def node_list(self) -> list[NodeInfo]:
        return [n for n in self.nodes if n is not None]

    def _grow(self) -> None:
        cap = max(16, self._cap * 2)

        def grow2(a: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
            out = np.zeros((cap, NRES), dtype=np.int64)
            out[: self._cap] = a
            return out

        def grow1(a: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
            out = np.zeros(cap, dtype=np.bool_)
            out[: self._cap] = a
            return out

        self.allocatable = grow2(self.allocatable)
        self.requested = grow2(self.requested)
        self.non_zero = grow2(self.non_zero)
        self.valid = grow1(self.valid)
        self.ready = grow1(self.ready)
        self.tainted = grow1(self.tainted)
        self.unschedulable = grow1(self.unschedulable)
        self.soft_tainted = grow1(self.soft_tainted)
        self._cap = cap
        for node in self.nodes:
            if node is not None:
                self._attach(node)

    def _attach(self, node: NodeInfo) -> None:
        row = node.index
        node.requested = self.requested[row]
        node.non_zero = self.non_zero[row]

    def _write_row(self, node: NodeInfo) -> None:
        row = node.index
        self.allocatable[row] = node.allocatable
        self.valid[row] = True
        self.ready[row] = node.ready
        key = hard_taint_key(node)
        self.tainted[row] = bool(key)
        self._set_taint_group(row, key)
        self.unschedulable[row] = node.unschedulable
        self.soft_tainted[row] = any(t.get("effect") == "PreferNoSchedule" for t in node.taints)

    def add_node(self, raw: Mapping[str, Any]) -> NodeInfo:
        node = node_info(raw)
        existing = self.by_name.get(node.name)
        if existing is not None:
            self.update_node(raw)
            return existing
        if self._free_rows:
            row = self._free_rows.pop()
        else:
            if self.rows >= self._cap:
                self._grow()
            row = self.rows
            self.rows += 1
        node.index = row
        self.requested[row] = 0
        self.non_zero[row] = 0
        self._attach(node)
        if row < len(self.nodes):
            self.nodes[row] = node
        else:
            self.nodes.append(node)
        self.by_name[node.name] = node
        self._write_row(node)
        if node.extended_allocatable:
            self.with_extended += 1
        for pod in self._orphans.pop(node.name, {}).values():
            node.add_pod(pod)
        return node

    def update_node(self, raw: Mapping[str, Any]) -> set[ClusterEvent]:
        """Replace a node's object; returns what changed for scheduling."""
        new = node_info(raw)
        old = self.by_name.get(new.name)
        if old is None:
            self.add_node(raw)
            return {ClusterEvent.NODE_ADD}
        events = node_events(old, new)
        if old.extended_allocatable and not new.extended_allocatable:
            self.with_extended -= 1
        elif new.extended_allocatable and not old.extended_allocatable:
            self.with_extended += 1
        old.raw = new.raw
        old.labels = new.labels
        old.taints = new.taints
        old.unschedulable = new.unschedulable
        old.ready = new.ready
        old.allocatable = new.allocatable
        old.extended_allocatable = new.extended_allocatable
        old.generation += 1
        self._write_row(old)
        return events

    def _set_taint_group(self, row: int, key: TaintKey) -> None:
        old = self._row_taints.get(row, ())
        if old == key:
            return
        if old:
            rows = self._taint_rows[old]
            rows.discard(row)
            if not rows:
                del self._taint_rows[old]
            del self._row_taints[row]
        if key:
            self._taint_rows.setdefault(key, set()).add(row)
            self._row_taints[row] = key
        self._taint_groups = None

    def taint_groups(self) -> list[TaintGroup]:
        """The rows of valid nodes with hard taints, grouped by those taints: (the taints, rows)
        per distinct set."""
        if self._taint_groups is None:
            self._taint_groups = [
                (
                    tuple({"key": k, "value": v, "effect": e} for k, v, e in key),
                    np.fromiter(sorted(rows), dtype=np.intp, count=len(rows)),
                )
                for key, rows in self._taint_rows.items()
            ]
        return self._taint_groups

    def remove_node(self, name: str) -> None:
        node = self.by_name.pop(name, None)
        if node is None:
            return
        row = node.index
        self.valid[row] = False
        self.ready[row] = False
        self.soft_tainted[row] = False
        self.tainted[row] = False
        self._set_taint_group(row, ())
        self.nodes[row] = None
        self._free_rows.append(row)
        if node.extended_allocatable:
            self.with_extended -= 1
        # pods still bound to the node wait as orphans until it returns or they go
        if node.pods:
            self._orphans[name] = dict(node.pods)

    # -- pods --------------------------------------------------------------------------------

    def _place(self, pod: PodInfo, node_name: str) -> None:
        self.pods[pod.uid] = (pod, node_name)
        node = self.by_name.get(node_name)
        if node is not None:
            node.add_pod(pod)
        else:
            self._orphans.setdefault(node_name, {})[pod.uid] = pod
        if pod.has_required_anti_affinity:
            self.anti_affinity_pods[pod.uid] = pod
        if pod.owner_uid:
            per = self.owner_counts.setdefault(pod.owner_uid, {})
            per[node_name] = per.get(node_name, 0) + 1

    def _unplace(self, uid: str) -> PodInfo | None:
        entry = self.pods.pop(uid, None)
        if entry is None:
            return None
        pod, node_name = entry
        node = self.by_name.get(node_name)
        if node is not None:
            node.remove_pod(uid)
        else:
            self._orphans.get(node_name, {}).pop(uid, None)
        self.anti_affinity_pods.pop(uid, None)
        if pod.owner_uid:
            per = self.owner_counts.get(pod.owner_uid)
            if per is not None:
                left = per.get(node_name, 0) - 1
                if left > 0:
                    per[node_name] = left
                else:
                    per.pop(node_name, None)
                    if not per:
                        del self.owner_counts[pod.owner_uid]
        return pod

    def add_pod(self, raw: Mapping[str, Any] | PodInfo) -> PodInfo:
        """An assigned pod seen through the informer (confirms an assumption)."""
        pod = raw if isinstance(raw, PodInfo) else pod_info(raw)
        self.nominated.pop(pod.uid, None)
        current = self.pods.get(pod.uid)
        if current is not None:
            if pod.uid in self.assumed and current[1] == pod.node_name:
                del self.assumed[pod.uid]
                # keep accounting, but hold the informer's newer object
                self._unplace(pod.uid)
                self._place(pod, pod.node_name)
                return pod
            self.assumed.pop(pod.uid, None)
            self._unplace(pod.uid)
        self._place(pod, pod.node_name)
        return pod

    def update_pod(self, raw: Mapping[str, Any] | PodInfo) -> PodInfo:
        pod = raw if isinstance(raw, PodInfo) else pod_info(raw)
        self.assumed.pop(pod.uid, None)
        self._unplace(pod.uid)
        self._place(pod, pod.node_name)
        return pod

    def remove_pod(self, uid: str) -> PodInfo | None:
        self.assumed.pop(uid, None)
        self.nominated.pop(uid, None)
        return self._unplace(uid)

    def assume(self, pod: PodInfo, node_name: str) -> None:
        """Count ``pod`` on ``node_name`` now (AssumePod)."""
        if pod.uid in self.pods:
            raise ValueError(f"pod {pod.key} is already in the cache")
        self._place(pod, node_name)
        self.assumed[pod.uid] = None
        self.nominated.pop(pod.uid, None)

    def finish_binding(self, uid: str) -> None:
        if uid in self.assumed:
            self.assumed[uid] = self.clock.monotonic() + self.assume_ttl

    def forget(self, uid: str) -> None:
        """Drop an assumption whose binding failed (ForgetPod)."""
        if uid in self.assumed:
            del self.assumed[uid]
            self._unplace(uid)

    def is_assumed(self, uid: str) -> bool:
        return uid in self.assumed

    def cleanup_expired(self) -> list[str]:
        now = self.clock.monotonic()
        expired = [uid for uid, t in self.assumed.items() if t is not None and t < now]
        for uid in expired:
            self.forget(uid)
        return expired

    def assigned_pods(self) -> Iterator[tuple[PodInfo, NodeInfo]]:
        for node in self.nodes:
            if node is None:
                continue
            for pod in node.pods.values():
                yield pod, node

    # -- nominations -------------------------------------------------------------------------

    def nominate(self, pod: PodInfo, node_name: str) -> None:
        if node_name:
            self.nominated[pod.uid] = (pod, node_name)
        else:
            self.nominated.pop(pod.uid, None)

    def nominated_requests(self, pod: PodInfo) -> npt.NDArray[np.int64] | None:
        """Per-row requests of pods nominated to nodes with priority >= ``pod``'s (other than
        ``pod``), which filters must leave room for; None when there are none."""
        if not self.nominated:
            return None
        extra: npt.NDArray[np.int64] | None = None
        for uid, (other, node_name) in self.nominated.items():
            if uid == pod.uid or other.priority < pod.priority:
                continue
            node = self.by_name.get(node_name)
            if node is None:
                continue
            if extra is None:
                extra = np.zeros((self.rows, NRES), dtype=np.int64)
            extra[node.index] += other.requests
        return extra
