"""NodeResourcesBalancedAllocation (Score): prefer nodes whose cpu and memory would be used in
equal shares (noderesources/balanced_allocation.go): ``(1 - std(fractions)) * 100`` over the
non-zero requests including the pod, each fraction capped at 1."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from skiff.scheduler.cache import SchedulerCache
from skiff.scheduler.framework import ALLOC_ROWS, NONZERO_ROWS, CycleState, Handle
from skiff.scheduler.plugins.noderesourcesfit import parse_resources
from skiff.scheduler.types import RESOURCES, NodeInfo, PodInfo

NAME = "NodeResourcesBalancedAllocation"


class BalancedAllocation:
    name = NAME

    def __init__(self, resources: Mapping[str, int] | None = None) -> None:
        names = list(resources or {"cpu": 1, "memory": 1})
        self.cols = [RESOURCES.index(n) for n in names if n in RESOURCES]

    def _score(
        self, alloc: npt.NDArray[np.float64], requested: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        cap = alloc[:, self.cols]
        req = requested[:, self.cols]
        frac = np.where(cap > 0, np.minimum(req / np.where(cap > 0, cap, 1.0), 1.0), 1.0)
        if frac.shape[1] == 2:
            std = np.abs(frac[:, 0] - frac[:, 1]) / 2
        else:
            std = frac.std(axis=1)
        result: npt.NDArray[np.float64] = np.floor((1 - std) * 100)
        return result

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        alloc = node.allocatable[None, :].astype(np.float64)
        req = (node.non_zero + pod.non_zero)[None, :].astype(np.float64)
        return int(self._score(alloc, req)[0])

    def score_vector(
        self, state: CycleState, pod: PodInfo, cache: SchedulerCache, rows: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        cap = state.read(ALLOC_ROWS)
        req = state.read(NONZERO_ROWS)
        if cap is None or req is None or len(cap) != len(rows):
            cap = cache.allocatable[rows].astype(np.float64)
            req = (cache.non_zero[rows] + pod.non_zero).astype(np.float64)
        return self._score(cap, req)


def new(args: Mapping[str, Any], handle: Handle) -> BalancedAllocation:
    return BalancedAllocation(parse_resources(args.get("resources")))
