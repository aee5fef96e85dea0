"""NodeResourcesFit (PreFilter, Filter, Score): the pod's requests must fit what the node has
left, and nodes are scored by a strategy (noderesources/fit.go, least_allocated.go,
most_allocated.go).

Filter: for each resource the pod requests (and always the pod count), ``allocatable - requested
>= request``, "Insufficient <resource>" (or "Too many pods") otherwise; pods nominated to the node
by preemption with at least the pod's priority count as requested. The mask form computes this
for every node at once over the cache's arrays.

Score (``scoringStrategy.type``): ``LeastAllocated`` (default; spreads) scores each resource
``(allocatable - requested) * 100 / allocatable``, ``MostAllocated`` (bin-packing)
``requested * 100 / allocatable``, both on the non-zero requests including the pod, averaged with
the resources' weights (default cpu 1, memory 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from skiff.scheduler.cache import SchedulerCache
from skiff.scheduler.framework import (
    ALLOC_ROWS,
    NONZERO_ROWS,
    ClusterEvent,
    CycleState,
    Handle,
    Status,
)
from skiff.scheduler.types import NRES, PODS, RESOURCES, NodeInfo, PodInfo

NAME = "NodeResourcesFit"
STRATEGIES = ("LeastAllocated", "MostAllocated")
_STATE = NAME + "/nominated"


def _reason(col: int) -> str:
    return "Too many pods" if col == PODS else f"Insufficient {RESOURCES[col]}"


def parse_resources(spec: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    default: list[dict[str, Any]] = [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}]
    for r in spec or default:
        out[str(r.get("name"))] = int(r.get("weight") or 1)
    return out


class NodeResourcesFit:
    name = NAME
    events = frozenset(
        {ClusterEvent.NODE_ADD, ClusterEvent.NODE_ALLOCATABLE, ClusterEvent.POD_DELETE}
    )

    def __init__(
        self, strategy: str = "LeastAllocated", resources: Mapping[str, int] | None = None
    ):
        if strategy not in STRATEGIES:
            raise ValueError(f"scoringStrategy.type: Unsupported value: {strategy!r}")
        self.strategy = strategy
        weights = dict(resources or {"cpu": 1, "memory": 1})
        self.weights = np.zeros(NRES, dtype=np.float64)
        for name, w in weights.items():
            if name in RESOURCES:
                self.weights[RESOURCES.index(name)] = w
        self.weight_sum = float(self.weights.sum()) or 1.0
        self.cols = [c for c in range(NRES) if self.weights[c] > 0] or [0]
        self.col_weights = self.weights[self.cols]

    # -- filter ------------------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status:
        return Status()

    def _nominated(
        self, state: CycleState, pod: PodInfo, cache: SchedulerCache | None
    ) -> npt.NDArray[np.int64] | None:
        if cache is None:
            return None
        cached = state.read(_STATE)
        if cached is None:
            cached = (cache.nominated_requests(pod),)
            state.write(_STATE, cached)
        value: npt.NDArray[np.int64] | None = cached[0]
        return value

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        free = node.allocatable - node.requested
        extra = self._nominated(state, pod, self.cache)
        if extra is not None and node.index < extra.shape[0]:
            free = free - extra[node.index]
        reasons = [
            _reason(col)
            for col in range(NRES)
            if (pod.requests[col] > 0 or col == PODS) and free[col] < pod.requests[col]
        ]
        for name, amount in pod.extended.items():
            have = node.extended_allocatable.get(name, 0) - node.extended_requested.get(name, 0)
            if have < amount:
                reasons.append(f"Insufficient {name}")
        if reasons:
            return Status.unschedulable(*reasons)
        return Status()

    def filter_mask(
        self, state: CycleState, pod: PodInfo, cache: SchedulerCache
    ) -> npt.NDArray[np.bool_]:
        n = cache.rows
        extra = self._nominated(state, pod, cache)
        mask: npt.NDArray[np.bool_] | None = None
        for col in range(NRES):
            want = int(pod.requests[col])
            if want <= 0 and col != PODS:
                continue
            free = cache.allocatable[:n, col] - cache.requested[:n, col]
            if extra is not None:
                free = free - extra[:n, col]
            ok = free >= want
            mask = ok if mask is None else (mask & ok)
        assert mask is not None
        if pod.extended:
            for row in np.flatnonzero(mask):
                node = cache.nodes[int(row)]
                if node is None or not self.filter(state, pod, node).ok:
                    mask[row] = False
        return mask

    cache: SchedulerCache | None = None

    # -- score -------------------------------------------------------------------------------

    def _score_rows(
        self, alloc: npt.NDArray[np.int64], requested: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        cap = alloc.astype(np.float64)
        req = requested.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.strategy == "LeastAllocated":
                per = np.where((cap > 0) & (req <= cap), np.floor((cap - req) * 100.0 / cap), 0.0)
            else:
                req = np.minimum(req, cap)
                per = np.where(cap > 0, np.floor(req * 100.0 / cap), 0.0)
        result: npt.NDArray[np.float64] = np.floor(per @ self.weights / self.weight_sum)
        return result

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        rows = self._score_rows(
            node.allocatable[None, :].astype(np.float64),
            (node.non_zero + pod.non_zero)[None, :].astype(np.float64),
        )
        return int(rows[0])

    def score_vector(
        self, state: CycleState, pod: PodInfo, cache: SchedulerCache, rows: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        cap = state.read(ALLOC_ROWS)
        req = state.read(NONZERO_ROWS)
        if cap is None or req is None or len(cap) != len(rows):
            cap = cache.allocatable[rows].astype(np.float64)
            req = (cache.non_zero[rows] + pod.non_zero).astype(np.float64)
        return self._score_rows(cap, req)


def new(args: Mapping[str, Any], handle: Handle) -> NodeResourcesFit:
    strategy = args.get("scoringStrategy") or {}
    plugin = NodeResourcesFit(
        str(strategy.get("type") or "LeastAllocated"), parse_resources(strategy.get("resources"))
    )
    plugin.cache = handle.cache
    return plugin
