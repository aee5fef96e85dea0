"""PodTopologySpread (PreFilter, Filter, PreScore, Score): ``topologySpreadConstraints``
(podtopologyspread/filtering.go, scoring.go).

DoNotSchedule constraints filter: placing the pod on a node must keep ``count(domain) + 1 -
min(count)`` within ``maxSkew`` (the minimum is 0 while fewer than ``minDomains`` domains exist);
a node without the topology key is rejected as unresolvable. ScheduleAnyway constraints score:
fewer matching pods in the node's domains is better, each constraint weighted by
``log(domains + 2)``. Domains are counted over the nodes that pass the pod's node selector and
required node affinity (``nodeAffinityPolicy: Honor``); matching pods are those in the pod's
namespace selected by ``labelSelector`` (plus ``matchLabelKeys``), not terminating.

A pod without constraints gets the default ones (``PodTopologySpreadArgs``):
``defaultingType: System`` (the default) spreads the pods of one controller (same controller
ownerReference) across nodes (maxSkew 3) and zones (``topology.kubernetes.io/zone``, maxSkew 5),
as ScheduleAnyway; ``List`` uses ``defaultConstraints`` with that same owner selector.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from skiff.api.selector import LabelSelector, SelectorError, label_selector_from_object
from skiff.scheduler.cache import SchedulerCache
from skiff.scheduler.framework import (
    MAX_NODE_SCORE,
    ClusterEvent,
    Code,
    CycleState,
    Handle,
    Status,
)
from skiff.scheduler.plugins._helpers import node_matches_required
from skiff.scheduler.types import NodeInfo, PodInfo

NAME = "PodTopologySpread"
ERR_CONSTRAINTS = "node(s) didn't match pod topology spread constraints"
ERR_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)"
HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
SYSTEM_DEFAULTS = (
    {"maxSkew": 3, "topologyKey": HOSTNAME, "whenUnsatisfiable": "ScheduleAnyway"},
    {"maxSkew": 5, "topologyKey": ZONE, "whenUnsatisfiable": "ScheduleAnyway"},
)
_FILTER = NAME + "/filter"
_SCORE = NAME + "/score"


@dataclass
class Constraint:
    max_skew: int
    key: str
    hard: bool
    selector: LabelSelector | None  # None: the pod's controller (owner uid)
    min_domains: int

    def matches(self, pod: PodInfo, owner: str, namespace: str) -> bool:
        if pod.namespace != namespace or pod.terminating:
            return False
        if self.selector is None:
            return bool(owner) and pod.owner_uid == owner
        return self.selector.matches(pod.labels)


def _domain(node: NodeInfo, key: str) -> str | None:
    if key == HOSTNAME:
        return node.labels.get(key, node.name)
    return node.labels.get(key)


class PodTopologySpread:
    name = NAME
    events = frozenset(
        {
            ClusterEvent.NODE_ADD,
            ClusterEvent.NODE_LABEL,
            ClusterEvent.POD_ADD,
            ClusterEvent.POD_LABEL,
            ClusterEvent.POD_DELETE,
        }
    )

    def __init__(
        self,
        cache: SchedulerCache,
        *,
        defaulting: str = "System",
        defaults: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.cache = cache
        self.defaulting = defaulting
        self.defaults = tuple(defaults)

    def constraints(self, pod: PodInfo, *, hard: bool) -> list[Constraint]:
        raw: Sequence[Mapping[str, Any]] = pod.spread
        owner_selected = False
        if not raw:
            if not pod.owner_uid:
                return []
            raw = SYSTEM_DEFAULTS if self.defaulting == "System" else self.defaults
            owner_selected = True
        out = []
        c: Any
        for c in raw:
            is_hard = (c.get("whenUnsatisfiable") or "DoNotSchedule") == "DoNotSchedule"
            if is_hard != hard:
                continue
            selector: LabelSelector | None = None
            if not owner_selected:
                sel = dict(c.get("labelSelector") or {}) if c.get("labelSelector") else None
                keys = c.get("matchLabelKeys") or ()
                if keys:
                    sel = dict(sel or {})
                    exprs = list(sel.get("matchExpressions") or ())
                    for k in keys:
                        if k in pod.labels:
                            exprs.append({"key": k, "operator": "In", "values": [pod.labels[k]]})
                    sel["matchExpressions"] = exprs
                try:
                    selector = label_selector_from_object(sel)
                except SelectorError:
                    selector = label_selector_from_object(None)
            out.append(
                Constraint(
                    int(c.get("maxSkew") or 1),
                    str(c.get("topologyKey") or ""),
                    is_hard,
                    selector,
                    int(c.get("minDomains") or 1),
                )
            )
        return out

    def _counts(
        self, pod: PodInfo, constraints: list[Constraint], nodes: Sequence[NodeInfo]
    ) -> list[dict[str, int]]:
        """Matching pods per domain of each constraint, over eligible nodes (all domains
        present, zero or more)."""
        counts: list[dict[str, int]] = [{} for _ in constraints]
        for node in nodes:
            if not node_matches_required(pod, node):
                continue
            domains = [_domain(node, c.key) for c in constraints]
            if any(d is None for d in domains):
                continue
            for i, c in enumerate(constraints):
                d = domains[i]
                assert d is not None
                if c.selector is None:
                    n = self.cache.owner_counts.get(pod.owner_uid, {}).get(node.name, 0)
                else:
                    n = sum(
                        1 for other in node.pods.values() if c.matches(other, "", pod.namespace)
                    )
                counts[i][d] = counts[i].get(d, 0) + n
        return counts

    # -- filter ------------------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status:
        constraints = self.constraints(pod, hard=True)
        if not constraints:
            return Status(Code.SKIP)
        counts = self._counts(pod, constraints, self.cache.node_list())
        state.write(_FILTER, (constraints, counts))
        return Status()

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        data = state.read(_FILTER)
        if data is None:
            if self.pre_filter(state, pod).code == Code.SKIP:
                return Status()
            data = state.read(_FILTER)
        constraints, counts = data
        for c, per in zip(constraints, counts, strict=True):
            domain = _domain(node, c.key)
            if domain is None:
                return Status.unschedulable(ERR_MISSING_LABEL, unresolvable=True)
            self_match = 1 if c.matches(pod, pod.owner_uid, pod.namespace) else 0
            minimum = min(per.values()) if per else 0
            if len(per) < c.min_domains:
                minimum = 0
            if per.get(domain, 0) + self_match - minimum > c.max_skew:
                return Status.unschedulable(ERR_CONSTRAINTS)
        return Status()

    # -- score -------------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status:
        constraints = self.constraints(pod, hard=False)
        if not constraints:
            return Status(Code.SKIP)
        counts = self._counts(pod, constraints, self.cache.node_list())
        weights = [math.log(len(per) + 2) for per in counts]
        state.write(_SCORE, (constraints, counts, weights))
        return Status()

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        data = state.read(_SCORE)
        if data is None:
            return 0
        constraints, counts, weights = data
        total = 0.0
        for c, per, w in zip(constraints, counts, weights, strict=True):
            domain = _domain(node, c.key)
            if domain is None:
                return -1  # ignored node
            total += (per.get(domain, 0) + c.max_skew - 1) * w
        return round(total)

    def normalize_score(
        self, state: CycleState, pod: PodInfo, scores: npt.NDArray[np.float64]
    ) -> None:
        ignored = scores < 0
        valid = scores[~ignored]
        if valid.size == 0:
            scores[:] = 0
            return
        lo, hi = float(valid.min()), float(valid.max())
        if hi == 0:
            scores[:] = np.where(ignored, 0, MAX_NODE_SCORE)
            return
        scores[:] = np.where(ignored, 0, np.floor(MAX_NODE_SCORE * (hi + lo - scores) / hi))


def new(args: Mapping[str, Any], handle: Handle) -> PodTopologySpread:
    return PodTopologySpread(
        handle.cache,
        defaulting=str(args.get("defaultingType") or "System"),
        defaults=list(args.get("defaultConstraints") or ()),
    )
