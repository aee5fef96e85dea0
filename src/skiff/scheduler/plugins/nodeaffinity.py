"""NodeAffinity (PreFilter, Filter, PreScore, Score): ``nodeSelector`` and required node affinity
(``matchExpressions`` on labels, ``matchFields`` on ``metadata.name`` as DaemonSets pin their
pods), and preferred terms scored by the sum of matching weights, normalised to 0-100
(nodeaffinity/node_affinity.go)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from skiff.scheduler.framework import (
    ClusterEvent,
    Code,
    CycleState,
    Handle,
    Status,
    default_normalize,
)
from skiff.scheduler.plugins._helpers import node_matches_required, node_selector_term_matches
from skiff.scheduler.types import NodeInfo, PodInfo

NAME = "NodeAffinity"
REASON = "node(s) didn't match Pod's node affinity/selector"


def _preferred(pod: PodInfo) -> Sequence[Mapping[str, Any]]:
    section = pod.affinity.get("nodeAffinity") or {}
    return section.get("preferredDuringSchedulingIgnoredDuringExecution") or ()


class NodeAffinity:
    name = NAME
    events = frozenset({ClusterEvent.NODE_ADD, ClusterEvent.NODE_LABEL})

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status:
        required = (pod.affinity.get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
        if not pod.node_selector and not required:
            return Status(Code.SKIP)
        return Status()

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        if node_matches_required(pod, node):
            return Status()
        return Status.unschedulable(REASON, unresolvable=True)

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status:
        return Status() if _preferred(pod) else Status(Code.SKIP)

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        total = 0
        for term in _preferred(pod):
            weight = int(term.get("weight") or 0)
            if weight and node_selector_term_matches(term.get("preference") or {}, node):
                total += weight
        return total

    def normalize_score(
        self, state: CycleState, pod: PodInfo, scores: npt.NDArray[np.float64]
    ) -> None:
        default_normalize(scores)


def new(args: Mapping[str, Any], handle: Handle) -> NodeAffinity:
    return NodeAffinity()
