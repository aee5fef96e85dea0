"""SchedulingGates (PreEnqueue): a pod with ``spec.schedulingGates`` waits outside the queue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skiff.scheduler.framework import Code, Handle, Status
from skiff.scheduler.types import PodInfo

NAME = "SchedulingGates"


class SchedulingGates:
    name = NAME

    def pre_enqueue(self, pod: PodInfo) -> Status:
        if not pod.gates:
            return Status()
        return Status(
            Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
            (f"waiting for scheduling gates: [{' '.join(pod.gates)}]",),
        )


def new(args: Mapping[str, Any], handle: Handle) -> SchedulingGates:
    return SchedulingGates()
