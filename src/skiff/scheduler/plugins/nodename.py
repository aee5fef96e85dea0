"""NodeName (Filter): a pod naming ``spec.nodeName`` fits only that node (the scheduler only sees
such pods when another component asks it to check them, but the plugin is kept for parity)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skiff.scheduler.framework import ClusterEvent, Code, CycleState, Handle, Status
from skiff.scheduler.types import NodeInfo, PodInfo

NAME = "NodeName"
REASON = "node(s) didn't match the requested node name"


class NodeName:
    name = NAME
    events = frozenset({ClusterEvent.NODE_ADD})

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status:
        return Status() if pod.node_name else Status(Code.SKIP)

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        if pod.node_name and pod.node_name != node.name:
            return Status.unschedulable(REASON, unresolvable=True)
        return Status()


def new(args: Mapping[str, Any], handle: Handle) -> NodeName:
    return NodeName()
