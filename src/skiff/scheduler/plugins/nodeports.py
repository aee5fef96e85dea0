"""NodePorts (PreFilter, Filter): a pod's ``hostPort`` s must be free on the node: same protocol and
port conflict when either host IP is ``0.0.0.0`` or both are equal (nodeports/node_ports.go)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skiff.scheduler.framework import ClusterEvent, Code, CycleState, Handle, Status
from skiff.scheduler.types import NodeInfo, PodInfo

NAME = "NodePorts"
REASON = "node(s) didn't have free ports for the requested pod ports"


class NodePorts:
    name = NAME
    events = frozenset({ClusterEvent.NODE_ADD, ClusterEvent.POD_DELETE})

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status:
        return Status() if pod.host_ports else Status(Code.SKIP)

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        for hp in pod.host_ports:
            ips = node.used_ports.get((hp.protocol, hp.port))
            if not ips:
                continue
            if hp.ip == "0.0.0.0" or "0.0.0.0" in ips or hp.ip in ips:
                return Status.unschedulable(REASON)
        return Status()


def new(args: Mapping[str, Any], handle: Handle) -> NodePorts:
    return NodePorts()
