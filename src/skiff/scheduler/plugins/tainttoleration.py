"""TaintToleration (Filter, PreScore, Score): a node's NoSchedule and NoExecute taints must be
tolerated ("node(s) had untolerated taint {key: value}"); nodes with fewer untolerated
PreferNoSchedule taints score higher (tainttoleration/taint_toleration.go)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from skiff.scheduler.cache import SchedulerCache
from skiff.scheduler.framework import (
    ClusterEvent,
    Code,
    CycleState,
    Handle,
    Status,
    default_normalize,
)
from skiff.scheduler.plugins._helpers import find_untolerated, tolerates
from skiff.scheduler.types import NodeInfo, PodInfo

NAME = "TaintToleration"
_HARD = ("NoSchedule", "NoExecute")


class TaintToleration:
    name = NAME
    events = frozenset({ClusterEvent.NODE_ADD, ClusterEvent.NODE_TAINT})

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        taint = find_untolerated(node.taints, pod.tolerations, _HARD)
        if taint is None:
            return Status()
        return Status.unschedulable(
            f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value') or ''}}}",
            unresolvable=True,
        )

    def filter_mask(
        self, state: CycleState, pod: PodInfo, cache: SchedulerCache
    ) -> npt.NDArray[np.bool_]:
        mask = ~cache.tainted[: cache.rows]
        # one decision per distinct set of hard taints, not one per tainted node
        for taints, rows in cache.taint_groups():
            if find_untolerated(taints, pod.tolerations, _HARD) is None:
                mask[rows] = True
        return mask

    cache: SchedulerCache | None = None

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status:
        rows = getattr(nodes, "rows", None)
        if self.cache is not None and rows is not None:
            soft = bool(self.cache.soft_tainted[rows].any())
        else:
            soft = any(t.get("effect") == "PreferNoSchedule" for n in nodes for t in n.taints)
        return Status() if soft else Status(Code.SKIP)

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        prefer = [
            t
            for t in pod.tolerations
            if (t.get("effect") or "PreferNoSchedule") == "PreferNoSchedule"
        ]
        return sum(
            1
            for taint in node.taints
            if taint.get("effect") == "PreferNoSchedule"
            and not any(tolerates(t, taint) for t in prefer)
        )

    def normalize_score(
        self, state: CycleState, pod: PodInfo, scores: npt.NDArray[np.float64]
    ) -> None:
        default_normalize(scores, reverse=True)


def new(args: Mapping[str, Any], handle: Handle) -> TaintToleration:
    plugin = TaintToleration()
    plugin.cache = handle.cache
    return plugin
