"""NodeUnschedulable (Filter): cordoned nodes (``spec.unschedulable``) take no new pods unless the
pod tolerates ``node.kubernetes.io/unschedulable:NoSchedule``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from skiff.scheduler.cache import SchedulerCache
from skiff.scheduler.framework import ClusterEvent, CycleState, Handle, Status
from skiff.scheduler.plugins._helpers import tolerates
from skiff.scheduler.types import NodeInfo, PodInfo

NAME = "NodeUnschedulable"
REASON = "node(s) were unschedulable"
_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


class NodeUnschedulable:
    name = NAME
    events = frozenset({ClusterEvent.NODE_ADD, ClusterEvent.NODE_SCHEDULABLE})

    def _tolerated(self, pod: PodInfo) -> bool:
        return any(tolerates(t, _TAINT) for t in pod.tolerations)

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        if node.unschedulable and not self._tolerated(pod):
            return Status.unschedulable(REASON, unresolvable=True)
        return Status()

    def filter_mask(
        self, state: CycleState, pod: PodInfo, cache: SchedulerCache
    ) -> npt.NDArray[np.bool_]:
        if self._tolerated(pod):
            return np.ones(cache.rows, dtype=np.bool_)
        return ~cache.unschedulable[: cache.rows]


def new(args: Mapping[str, Any], handle: Handle) -> NodeUnschedulable:
    return NodeUnschedulable()
