"""Per-kind behaviour of the generic registry (Kubernetes' REST strategies).

The generic registry asks a strategy what to do with status on create and update, whether a
change bumps ``metadata.generation``, and how a delete proceeds (graceful or immediate). Kinds
without special rules use the defaults derived from ``ResourceInfo.has_status``.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from skiff.api.defaults import generate_job_selector, prepare_namespace_create
from skiff.api.resources import ResourceInfo

__all__ = [
    "delete_grace_seconds",
    "keep_allocated_values",
    "merge_string_data",
    "prepare_for_create",
    "prepare_for_update",
    "prepare_status_update",
    "spec_changed",
]

# metadata fields a status write may not change (Kubernetes' ResetObjectMetaForStatus)
_STATUS_LOCKED_META = (
    "deletionTimestamp",
    "generation",
    "labels",
    "annotations",
    "finalizers",
    "ownerReferences",
)
# kinds whose status is written by their creator on create (the agent registers a Node with status)
_KEEP_STATUS_ON_CREATE = {"Node", "Event"}


def _qos_class(spec: dict[str, Any]) -> str:
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


def prepare_for_create(info: ResourceInfo, obj: dict[str, Any]) -> None:
    """Reset what a client may not set on create: status (for spec/status kinds)."""
    if info.has_status and info.kind not in _KEEP_STATUS_ON_CREATE:
        if info.kind == "Pod":
            obj["status"] = {"phase": "Pending", "qosClass": _qos_class(obj.get("spec") or {})}
        elif info.kind == "Namespace":
            obj["status"] = {"phase": "Active"}
            # every namespace carries the finalizer the namespace lifecycle removes when empty
            prepare_namespace_create(obj)
        else:
            obj.pop("status", None)
    if info.has_status:
        obj["metadata"]["generation"] = 1
    if info.kind == "Job":
        generate_job_selector(obj)
    if info.kind == "Secret":
        merge_string_data(obj)


def keep_allocated_values(new: dict[str, Any], old: dict[str, Any]) -> None:
    """An update that leaves a Service's ClusterIP or NodePorts empty keeps the allocated ones
    (Kubernetes' patchAllocatedValues), so ``kubectl apply``/``replace`` of a manifest without
    them does not try to change immutable fields."""
    spec, old_spec = new.get("spec"), old.get("spec") or {}
    if not isinstance(spec, dict):
        return
    if not spec.get("clusterIP") and old_spec.get("clusterIP"):
        spec["clusterIP"] = old_spec["clusterIP"]
        if old_spec.get("clusterIPs"):
            spec["clusterIPs"] = list(old_spec["clusterIPs"])
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        old_ports = {
            (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
            for p in old_spec.get("ports") or []
            if isinstance(p, dict) and p.get("nodePort")
        }
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and not port.get("nodePort"):
                held = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
                if held:
                    port["nodePort"] = held


def merge_string_data(secret: dict[str, Any]) -> None:
    """Fold a Secret's write-only ``stringData`` into ``data`` (base64), as Kubernetes does."""
    string_data = secret.pop("stringData", None)
    if not string_data:
        return
    data = dict(secret.get("data") or {})
    for key, value in string_data.items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    secret["data"] = data


def spec_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether anything besides metadata and status differs (what bumps ``generation``)."""
    keys = (set(old) | set(new)) - {"metadata", "status", "apiVersion", "kind"}
    return any(old.get(k) != new.get(k) for k in keys)


def prepare_for_update(info: ResourceInfo, new: dict[str, Any], old: dict[str, Any]) -> None:
    """A write to the main resource: status is kept from the stored object; generation bumps."""
    if info.has_status:
        if "status" in old:
            new["status"] = copy.deepcopy(old["status"])
        else:
            new.pop("status", None)
    if info.kind == "Secret":
        merge_string_data(new)
    if info.kind == "Service":
        keep_allocated_values(new, old)
    if info.kind == "Namespace":
        # spec.finalizers change only through /finalize (what the namespace lifecycle uses), so
        # an edit cannot skip emptying the namespace
        old_finalizers = (old.get("spec") or {}).get("finalizers")
        spec = new.setdefault("spec", {})
        if old_finalizers:
            spec["finalizers"] = list(old_finalizers)
        else:
            spec.pop("finalizers", None)
        # a namespace's phase follows its deletion, not the client
        new["status"] = copy.deepcopy(old.get("status") or {"phase": "Active"})
    if info.has_status:
        gen = int(old.get("metadata", {}).get("generation") or 1)
        if spec_changed(old, new):
            gen += 1
        new["metadata"]["generation"] = gen


def prepare_status_update(info: ResourceInfo, new: dict[str, Any], old: dict[str, Any]) -> None:
    """A write to ``/status``: only status changes; spec and locked metadata come from ``old``."""
    for k in list(new):
        if k not in ("metadata", "status", "apiVersion", "kind"):
            del new[k]
    for k, v in old.items():
        if k not in ("metadata", "status", "apiVersion", "kind"):
            new[k] = copy.deepcopy(v)
    meta, old_meta = new["metadata"], old.get("metadata", {})
    for k in _STATUS_LOCKED_META:
        if k in old_meta:
            meta[k] = copy.deepcopy(old_meta[k])
        else:
            meta.pop(k, None)


def delete_grace_seconds(info: ResourceInfo, obj: dict[str, Any], requested: int | None) -> int:
    """Grace period for a delete; 0 means remove at once.

    Only pods are deleted gracefully: a pod bound to a node waits for its agent to stop the
    containers (or for ``--grace-period=0 --force``); an unbound or finished pod goes at once.
    """
    if info.kind != "Pod":
        return 0
    spec = obj.get("spec") or {}
    phase = (obj.get("status") or {}).get("phase")
    if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
        return 0
    if requested is not None:
        return max(0, requested)
    grace = spec.get("terminationGracePeriodSeconds")
    return 30 if grace is None else max(0, int(grace))
