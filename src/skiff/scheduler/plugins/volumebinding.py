"""VolumeBinding, its simplest case (PreFilter, Filter): a pod whose PersistentVolumeClaim is
missing or not yet bound waits ("pod has unbound immediate PersistentVolumeClaims"); a claim bound
to a PersistentVolume with required node affinity limits the pod to the nodes it selects
("node(s) had volume node affinity conflict"). No provisioning or delayed binding here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skiff.scheduler.framework import ClusterEvent, Code, CycleState, Handle, Status
from skiff.scheduler.plugins._helpers import node_selector_term_matches
from skiff.scheduler.types import NodeInfo, PodInfo

NAME = "VolumeBinding"
ERR_UNBOUND = "pod has unbound immediate PersistentVolumeClaims"
ERR_CONFLICT = "node(s) had volume node affinity conflict"
_STATE = NAME + "/terms"


def _raw(obj: Any) -> Mapping[str, Any]:
    raw = getattr(obj, "raw", obj)
    return raw if isinstance(raw, Mapping) else {}


class VolumeBinding:
    name = NAME
    events = frozenset({ClusterEvent.PVC_CHANGE, ClusterEvent.PV_CHANGE, ClusterEvent.NODE_ADD})

    def __init__(self, handle: Handle) -> None:
        self.handle = handle

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status:
        if not pod.pvcs:
            return Status(Code.SKIP)
        pvcs = self.handle.pvcs
        if pvcs is None:
            return Status(Code.SKIP)
        node_terms: list[list[Mapping[str, Any]]] = []
        for claim in pod.pvcs:
            obj = pvcs.get(claim, namespace=pod.namespace)
            if obj is None:
                return Status.unschedulable(
                    f'persistentvolumeclaim "{claim}" not found', unresolvable=True
                )
            pvc = _raw(obj)
            if (pvc.get("metadata") or {}).get("deletionTimestamp"):
                return Status.unschedulable(
                    f'persistentvolumeclaim "{claim}" is being deleted', unresolvable=True
                )
            volume = str((pvc.get("spec") or {}).get("volumeName") or "")
            if not volume:
                return Status.unschedulable(ERR_UNBOUND, unresolvable=True)
            if self.handle.pvs is not None:
                pv = self.handle.pvs.get(volume)
                if pv is not None:
                    required = ((_raw(pv).get("spec") or {}).get("nodeAffinity") or {}).get(
                        "required"
                    ) or {}
                    terms = list(required.get("nodeSelectorTerms") or ())
                    if terms:
                        node_terms.append(terms)
        if not node_terms:
            state.skip_filter.add(NAME)
        state.write(_STATE, node_terms)
        return Status()

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        terms_per_volume: list[list[Mapping[str, Any]]] = state.read(_STATE) or []
        for terms in terms_per_volume:
            if not any(node_selector_term_matches(t, node) for t in terms):
                return Status.unschedulable(ERR_CONFLICT, unresolvable=True)
        return Status()


def new(args: Mapping[str, Any], handle: Handle) -> VolumeBinding:
    return VolumeBinding(handle)
