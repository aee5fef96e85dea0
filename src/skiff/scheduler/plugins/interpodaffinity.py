"""InterPodAffinity (PreFilter, Filter, PreScore, Score): required pod affinity and
anti-affinity, the anti-affinity of pods already placed, and preferred terms as scores
(interpodaffinity/filtering.go, scoring.go).

PreFilter counts, per topology pair (``topologyKey``, value), the placed pods matching each of
the pod's terms, and the pairs where an existing pod's required anti-affinity matches the pod.
Filter then only looks the node's pairs up. With no terms on the pod and no placed pod carrying
required anti-affinity, the plugin skips itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from skiff.scheduler.cache import SchedulerCache
from skiff.scheduler.framework import MAX_NODE_SCORE, ClusterEvent, Code, CycleState, Handle, Status
from skiff.scheduler.plugins._helpers import AffinityTerm, affinity_terms
from skiff.scheduler.types import NodeInfo, PodInfo

NAME = "InterPodAffinity"
ERR_AFFINITY = "node(s) didn't match pod affinity rules"
ERR_ANTI = "node(s) didn't match pod anti-affinity rules"
ERR_EXISTING_ANTI = "node(s) didn't satisfy existing pods anti-affinity rules"
_STATE = NAME + "/prefilter"
_SCORE = NAME + "/prescore"

Pair = tuple[str, str]


@dataclass
class _PreFilter:
    affinity: list[AffinityTerm]
    anti: list[AffinityTerm]
    affinity_counts: list[dict[Pair, int]] = field(default_factory=list)
    anti_counts: dict[Pair, int] = field(default_factory=dict)
    existing_anti: dict[Pair, int] = field(default_factory=dict)
    affinity_anywhere: bool = False
    matches_own: bool = False


class InterPodAffinity:
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

    def __init__(self, cache: SchedulerCache) -> None:
        self.cache = cache

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status:
        affinity = affinity_terms(pod, "podAffinity")
        anti = affinity_terms(pod, "podAntiAffinity")
        if not affinity and not anti and not self.cache.anti_affinity_pods:
            return Status(Code.SKIP)
        s = _PreFilter(affinity, anti, [{} for _ in affinity])
        for other in self.cache.anti_affinity_pods.values():
            node = self.cache.by_name.get(self.cache.pods.get(other.uid, (other, ""))[1])
            if node is None or other.uid == pod.uid:
                continue
            for term in affinity_terms(other, "podAntiAffinity"):
                value = node.labels.get(term.topology_key)
                if value is not None and term.matches(pod):
                    pair = (term.topology_key, value)
                    s.existing_anti[pair] = s.existing_anti.get(pair, 0) + 1
        if affinity or anti:
            for other, node in self.cache.assigned_pods():
                if other.uid == pod.uid or other.terminating:
                    continue
                for i, term in enumerate(affinity):
                    value = node.labels.get(term.topology_key)
                    if value is not None and term.matches(other):
                        pair = (term.topology_key, value)
                        s.affinity_counts[i][pair] = s.affinity_counts[i].get(pair, 0) + 1
                        s.affinity_anywhere = True
                for term in anti:
                    value = node.labels.get(term.topology_key)
                    if value is not None and term.matches(other):
                        pair = (term.topology_key, value)
                        s.anti_counts[pair] = s.anti_counts.get(pair, 0) + 1
        s.matches_own = all(t.matches(pod) for t in affinity)
        state.write(_STATE, s)
        return Status()

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        s: _PreFilter | None = state.read(_STATE)
        if s is None:
            self.pre_filter(state, pod)
            s = state.read(_STATE)
            if s is None:
                return Status()
        if s.affinity:
            ok = True
            for i, term in enumerate(s.affinity):
                value = node.labels.get(term.topology_key)
                if value is None or s.affinity_counts[i].get((term.topology_key, value), 0) <= 0:
                    ok = False
                    break
            # the first pod of a group that selects itself may go anywhere with the keys
            if not ok and not (
                not s.affinity_anywhere
                and s.matches_own
                and all(t.topology_key in node.labels for t in s.affinity)
            ):
                return Status.unschedulable(ERR_AFFINITY, unresolvable=True)
        for term in s.anti:
            value = node.labels.get(term.topology_key)
            if value is not None and s.anti_counts.get((term.topology_key, value), 0) > 0:
                return Status.unschedulable(ERR_ANTI)
        for (key, value), n in s.existing_anti.items():
            if n > 0 and node.labels.get(key) == value:
                return Status.unschedulable(ERR_EXISTING_ANTI)
        return Status()

    # -- preferred ---------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status:
        affinity = affinity_terms(pod, "podAffinity", preferred=True)
        anti = affinity_terms(pod, "podAntiAffinity", preferred=True)
        if not affinity and not anti:
            return Status(Code.SKIP)
        weights: dict[Pair, int] = {}
        for other, node in self.cache.assigned_pods():
            if other.uid == pod.uid:
                continue
            for term, sign in [(t, 1) for t in affinity] + [(t, -1) for t in anti]:
                value = node.labels.get(term.topology_key)
                if value is not None and term.matches(other):
                    pair = (term.topology_key, value)
                    weights[pair] = weights.get(pair, 0) + sign * term.weight
        state.write(_SCORE, weights)
        return Status()

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        weights: dict[Pair, int] = state.read(_SCORE) or {}
        return sum(w for (k, v), w in weights.items() if node.labels.get(k) == v)

    def normalize_score(
        self, state: CycleState, pod: PodInfo, scores: npt.NDArray[np.float64]
    ) -> None:
        if not scores.size:
            return
        lo, hi = float(scores.min()), float(scores.max())
        if hi == lo:
            scores[:] = 0
            return
        scores[:] = np.floor(MAX_NODE_SCORE * (scores - lo) / (hi - lo))


def new(args: Mapping[str, Any], handle: Handle) -> InterPodAffinity:
    return InterPodAffinity(handle.cache)
