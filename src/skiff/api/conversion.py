"""Conversion between served versions of one kind (today: HorizontalPodAutoscaler v1 <-> v2).

HPAs are stored as autoscaling/v2. A v1 client sees ``targetCPUUtilizationPercentage``; what v1
cannot express (other metrics, conditions, behavior) travels in annotations, exactly the
round-trip trick Kubernetes uses, so a v1 read-modify-write loses nothing a v2 client set.
"""

from __future__ import annotations

import copy
import json
from typing import Any

__all__ = ["convert"]

_METRICS = "autoscaling.alpha.kubernetes.io/metrics"
_CURRENT = "autoscaling.alpha.kubernetes.io/current-metrics"
_CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
_BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"


def convert(obj: dict[str, Any], api_version: str) -> dict[str, Any]:
    """Return ``obj`` expressed in ``api_version`` (a copy; the input is never changed)."""
    if obj.get("apiVersion") == api_version:
        return obj
    if obj.get("kind") == "HorizontalPodAutoscaler":
        if api_version == "autoscaling/v1" and obj.get("apiVersion") == "autoscaling/v2":
            return _hpa_v2_to_v1(obj)
        if api_version == "autoscaling/v2" and obj.get("apiVersion") == "autoscaling/v1":
            return _hpa_v1_to_v2(obj)
    if str(obj.get("apiVersion") or "").rpartition("/")[0] == api_version.rpartition("/")[0]:
        # Built-in kinds with several versions are all handled above: what reaches here is a
        # custom resource, whose CRD says conversion strategy None (only apiVersion changes)
        out = dict(obj)
        out["apiVersion"] = api_version
        return out
    raise ValueError(f"no conversion of {obj.get('apiVersion')} {obj.get('kind')} to {api_version}")


def _is_cpu_utilization(metric: dict[str, Any]) -> bool:
    res = metric.get("resource") or {}
    target = res.get("target") or {}
    return bool(
        metric.get("type") == "Resource"
        and res.get("name") == "cpu"
        and target.get("type") == "Utilization"
    )


def _hpa_v2_to_v1(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v1"
    spec = out.get("spec") or {}
    annotations = dict((out.get("metadata") or {}).get("annotations") or {})
    metrics = spec.pop("metrics", None) or []
    others = []
    for m in metrics:
        if _is_cpu_utilization(m) and "targetCPUUtilizationPercentage" not in spec:
            spec["targetCPUUtilizationPercentage"] = m["resource"]["target"].get(
                "averageUtilization"
            )
        else:
            others.append(m)
    if others:
        annotations[_METRICS] = json.dumps(others, separators=(",", ":"))
    behavior = spec.pop("behavior", None)
    if behavior:
        annotations[_BEHAVIOR] = json.dumps(behavior, separators=(",", ":"))
    status = out.get("status")
    if isinstance(status, dict):
        current = status.pop("currentMetrics", None) or []
        rest = []
        for m in current:
            res = m.get("resource") or {}
            cur = res.get("current") or {}
            if (
                m.get("type") == "Resource"
                and res.get("name") == "cpu"
                and ("averageUtilization" in cur)
            ):
                status["currentCPUUtilizationPercentage"] = cur["averageUtilization"]
            else:
                rest.append(m)
        if rest:
            annotations[_CURRENT] = json.dumps(rest, separators=(",", ":"))
        conditions = status.pop("conditions", None)
        if conditions:
            annotations[_CONDITIONS] = json.dumps(conditions, separators=(",", ":"))
    if annotations:
        out.setdefault("metadata", {})["annotations"] = annotations
    return out


def _hpa_v1_to_v2(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v2"
    spec = out.get("spec") or {}
    meta = out.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    metrics: list[dict[str, Any]] = []
    cpu = spec.pop("targetCPUUtilizationPercentage", None)
    if cpu is not None:
        metrics.append(
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": cpu},
                },
            }
        )
    if _METRICS in annotations:
        metrics.extend(_loads(annotations.pop(_METRICS)))
    if metrics:
        spec["metrics"] = metrics
    if _BEHAVIOR in annotations:
        behavior = _loads(annotations.pop(_BEHAVIOR))
        if behavior:
            spec["behavior"] = behavior
    status = out.get("status")
    current: list[dict[str, Any]] = []
    if isinstance(status, dict):
        cur_cpu = status.pop("currentCPUUtilizationPercentage", None)
        if cur_cpu is not None:
            current.append(
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "current": {"averageUtilization": cur_cpu}},
                }
            )
    if _CURRENT in annotations:
        current.extend(_loads(annotations.pop(_CURRENT)))
    if current:
        out.setdefault("status", {})["currentMetrics"] = current
    if _CONDITIONS in annotations:
        conditions = _loads(annotations.pop(_CONDITIONS))
        if conditions:
            out.setdefault("status", {})["conditions"] = conditions
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return out


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return []
