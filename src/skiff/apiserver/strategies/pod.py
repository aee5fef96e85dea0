"""Pods: a new pod is Pending with its QoS class; a bound pod is deleted gracefully.

Kubernetes: pkg/registry/core/pod/strategy.go (``PrepareForCreate`` sets ``Pending`` and the QoS
class, ``CheckGracefulDelete`` gives bound pods their ``terminationGracePeriodSeconds``) and
pod/storage/storage.go (``ReturnDeletedObject: true``).
"""

from __future__ import annotations

import copy
from typing import Any

from skiff.api.resources import ResourceInfo
from skiff.apiserver.strategies._base import DefaultStrategy

__all__ = ["PodStrategy", "qos_class"]

# what a bound pod waits for its agent when neither the client nor the spec says (Kubernetes'
# DefaultTerminationGracePeriodSeconds)
DEFAULT_GRACE_SECONDS = 30


def qos_class(spec: dict[str, Any]) -> str:
    """Pod QoS class as Kubernetes computes it from the containers' requests and limits."""
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    requests_seen = limits_seen = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req = res.get("requests") or {}
        lim = res.get("limits") or {}
        if req or lim:
            requests_seen = requests_seen or bool(req)
            limits_seen = limits_seen or bool(lim)
        for name in ("cpu", "memory"):
            if name not in lim or (name in req and str(req[name]) != str(lim[name])):
                guaranteed = False
    if not requests_seen and not limits_seen:
        return "BestEffort"
    if guaranteed and containers:
        return "Guaranteed"
    return "Burstable"


class PodStrategy(DefaultStrategy):
    def __init__(self, info: ResourceInfo) -> None:
        super().__init__(info, return_deleted_object=True)

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj.get("spec") or {})}

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        super().prepare_for_update(new, old)
        # ephemeral containers change only through pods/ephemeralcontainers (Kubernetes keeps
        # the old ones on a write of the pod itself)
        _copy_ephemeral(old, new)

    def prepare_subresource_update(
        self, subresource: str, new: dict[str, Any], old: dict[str, Any]
    ) -> None:
        """``pods/ephemeralcontainers``: the pod as it was, with the new
        ``spec.ephemeralContainers`` (``EphemeralContainersStrategy.PrepareForUpdate``)."""
        ephemeral = copy.deepcopy((new.get("spec") or {}).get("ephemeralContainers"))
        super().prepare_subresource_update(subresource, new, old)
        if subresource != "ephemeralcontainers":
            return
        # dropNonEphemeralContainerUpdates: the old pod's metadata too, but for its identity
        meta = new.get("metadata") or {}
        kept = {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion") if k in meta}
        new["metadata"] = {**copy.deepcopy(old.get("metadata") or {}), **kept}
        spec = new.setdefault("spec", {})
        if ephemeral:
            spec["ephemeralContainers"] = ephemeral
        else:
            spec.pop("ephemeralContainers", None)

    def delete_grace_seconds(self, obj: dict[str, Any], requested: int | None) -> int:
        """A pod bound to a node waits for its agent to stop the containers (or for
        ``--grace-period=0 --force``); an unbound or finished pod goes at once."""
        spec = obj.get("spec") or {}
        phase = (obj.get("status") or {}).get("phase")
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return max(0, requested)
        grace = spec.get("terminationGracePeriodSeconds")
        return DEFAULT_GRACE_SECONDS if grace is None else max(0, int(grace))


def _copy_ephemeral(old: dict[str, Any], new: dict[str, Any]) -> None:
    old_eph = (old.get("spec") or {}).get("ephemeralContainers")
    spec = new.get("spec")
    if not isinstance(spec, dict):
        return
    if old_eph:
        spec["ephemeralContainers"] = copy.deepcopy(old_eph)
    else:
        spec.pop("ephemeralContainers", None)
