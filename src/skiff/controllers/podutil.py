"""Pod and owner helpers shared by the workload controllers (ReplicaSet, Deployment, DaemonSet,
StatefulSet, Job): readiness and availability, controller references, and the ranking of pods to
delete first. Kubernetes keeps these in ``pkg/api/v1/pod`` and ``pkg/controller/controller_utils.go``.
Pure functions over plain (or frozen) objects; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from skiff.client import FrozenDict
from skiff.controllers.base import epoch_of, meta_of

_MAPPINGS = (FrozenDict, dict, Mapping)  # concrete types first: the ABC check is slow

__all__ = [
    "controller_ref",
    "deletion_rank",
    "is_pod_active",
    "is_pod_available",
    "owner_reference",
    "pod_ready",
    "pod_ready_since",
    "pods_to_delete",
    "restart_count",
]


def controller_ref(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ownerReference with ``controller: true``, if any."""
    for ref in meta_of(obj).get("ownerReferences") or ():
        if isinstance(ref, Mapping) and ref.get("controller") is True:
            return ref
    return None


def owner_reference(owner: Mapping[str, Any], *, api_version: str, kind: str) -> dict[str, Any]:
    """A controller ownerReference to ``owner`` (``blockOwnerDeletion`` so foreground deletion
    waits for the dependant, as Kubernetes' controllers set it)."""
    meta = meta_of(owner)
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def is_pod_active(pod: Mapping[str, Any]) -> bool:
    """Not terminated (phase Succeeded/Failed) and not being deleted (``IsPodActive``)."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not meta_of(pod).get("deletionTimestamp")


def _ready_condition(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    status = pod.get("status")
    if not status:
        return None
    for cond in status.get("conditions") or ():
        if isinstance(cond, _MAPPINGS) and cond.get("type") == "Ready":
            return cond
    return None


def pod_ready(pod: Mapping[str, Any]) -> bool:
    cond = _ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def pod_ready_since(pod: Mapping[str, Any]) -> float | None:
    """When the pod last became Ready (epoch seconds), or None if it is not Ready."""
    cond = _ready_condition(pod)
    if cond is None or cond.get("status") != "True":
        return None
    return epoch_of(cond.get("lastTransitionTime")) or 0.0


def is_pod_available(pod: Mapping[str, Any], min_ready_seconds: int, now: float) -> bool:
    """Ready for at least ``min_ready_seconds`` (``IsPodAvailable``)."""
    if min_ready_seconds <= 0:
        return pod_ready(pod)
    since = pod_ready_since(pod)
    if since is None:
        return False
    return min_ready_seconds <= 0 or since + min_ready_seconds <= now


def restart_count(pod: Mapping[str, Any]) -> int:
    return sum(
        int(s.get("restartCount") or 0)
        for s in (pod.get("status") or {}).get("containerStatuses") or ()
        if isinstance(s, Mapping)
    )


_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def deletion_rank(
    pod: Mapping[str, Any], *, related_on_node: Mapping[str, int] | None = None
) -> tuple[Any, ...]:
    """Sort key: pods that sort first are deleted first (``ActivePodsWithRanks.Less``).

    Unassigned before assigned; Pending before Unknown before Running; not ready before ready;
    more pods of the same controller on the same node first (spreads the survivors); ready for
    a shorter time first; more restarts first; newer first.
    """
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    node = str(spec.get("nodeName") or "")
    ready = pod_ready(pod)
    since = pod_ready_since(pod) or 0.0
    created = epoch_of(meta_of(pod).get("creationTimestamp")) or 0.0
    crowd = related_on_node.get(node, 0) if related_on_node and node else 0
    return (
        1 if node else 0,
        _PHASE_RANK.get(str(status.get("phase") or "Pending"), 0),
        1 if ready else 0,
        -crowd,
        -since if ready else 0.0,
        -restart_count(pod),
        -created,
        str(meta_of(pod).get("name") or ""),
    )


def pods_to_delete(
    pods: Sequence[Mapping[str, Any]], count: int, *, related: Sequence[Mapping[str, Any]] = ()
) -> list[Mapping[str, Any]]:
    """The ``count`` pods to delete first among ``pods``; ``related`` (all active pods of the
    controller's family) decides how crowded each node is."""
    on_node: dict[str, int] = {}
    for pod in related or pods:
        node = str((pod.get("spec") or {}).get("nodeName") or "")
        if node:
            on_node[node] = on_node.get(node, 0) + 1
    ranked = sorted(pods, key=lambda p: deletion_rank(p, related_on_node=on_node))
    return ranked[: max(0, count)]
