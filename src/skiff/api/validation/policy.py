"""Validation for policy/v1 PodDisruptionBudget, scheduling.k8s.io/v1 PriorityClass and
coordination.k8s.io/v1 Lease (``pkg/apis/{policy,scheduling,coordination}/validation``)."""

from __future__ import annotations

from typing import Any

from skiff.api.field import FieldError

from ._meta import validate_label_selector
from ._util import (
    ErrorList,
    as_dict,
    immutable,
    is_int,
    nonnegative,
    not_more_than_100_percent,
    positive_int_or_percent,
)

__all__ = [
    "HIGHEST_USER_DEFINABLE_PRIORITY",
    "SYSTEM_PRIORITY_CLASSES",
    "validate_lease",
    "validate_pod_disruption_budget",
    "validate_priority_class",
    "validate_priority_class_update",
]

HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
# The built-in classes the Priority admission plugin creates (scheduling/types.go).
SYSTEM_PRIORITY_CLASSES = {
    "system-node-critical": 2_000_001_000,
    "system-cluster-critical": 2_000_000_000,
}


def validate_pod_disruption_budget(obj: dict[str, Any]) -> ErrorList:
    spec = as_dict(obj.get("spec"))
    errs: ErrorList = []
    min_available = spec.get("minAvailable")
    max_unavailable = spec.get("maxUnavailable")
    if min_available is not None and max_unavailable is not None:
        errs.append(
            FieldError.invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set")
        )
    for key, value in (("minAvailable", min_available), ("maxUnavailable", max_unavailable)):
        if value is not None:
            errs += positive_int_or_percent(value, f"spec.{key}")
            errs += not_more_than_100_percent(value, f"spec.{key}")
    if spec.get("selector") is not None:
        errs += validate_label_selector(spec["selector"], "spec.selector")
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in ("IfHealthyBudget", "AlwaysAllow"):
        errs.append(
            FieldError.not_supported(
                "spec.unhealthyPodEvictionPolicy", policy, ["AlwaysAllow", "IfHealthyBudget"]
            )
        )
    return errs


def validate_priority_class(obj: dict[str, Any]) -> ErrorList:
    errs: ErrorList = []
    name = as_dict(obj.get("metadata")).get("name") or ""
    value = obj.get("value")
    if not is_int(value):
        errs.append(FieldError.required("value"))
    elif name.startswith("system-"):
        problem = ""
        if name not in SYSTEM_PRIORITY_CLASSES:
            problem = f"{name} is not a known system priority class"
        elif value != SYSTEM_PRIORITY_CLASSES[name]:
            problem = f"value of {name} PriorityClass must be {SYSTEM_PRIORITY_CLASSES[name]}"
        elif obj.get("globalDefault") is True:
            problem = f"globalDefault of {name} PriorityClass must be false"
        if problem:
            errs.append(
                FieldError.forbidden(
                    "metadata.name",
                    "priority class names with 'system-' prefix are reserved for system use only. "
                    f"error: {problem}",
                )
            )
    elif value > HIGHEST_USER_DEFINABLE_PRIORITY:
        errs.append(
            FieldError.forbidden(
                "value",
                f"maximum allowed value of a user defined priority is "
                f"{HIGHEST_USER_DEFINABLE_PRIORITY}",
            )
        )
    policy = obj.get("preemptionPolicy")
    if policy is not None:
        if policy == "":
            errs.append(FieldError.required("preemptionPolicy"))
        elif policy not in ("PreemptLowerPriority", "Never"):
            errs.append(
                FieldError.not_supported(
                    "preemptionPolicy", policy, ["Never", "PreemptLowerPriority"]
                )
            )
    return errs


def validate_priority_class_update(new: dict[str, Any], old: dict[str, Any]) -> ErrorList:
    errs: ErrorList = []
    if new.get("value") != old.get("value"):
        errs.append(FieldError.forbidden("value", "may not be changed in an update."))
    errs += immutable(new.get("preemptionPolicy"), old.get("preemptionPolicy"), "preemptionPolicy")
    return errs


def validate_lease(obj: dict[str, Any]) -> ErrorList:
    spec = as_dict(obj.get("spec"))
    errs: ErrorList = []
    duration = spec.get("leaseDurationSeconds")
    if duration is not None and (not is_int(duration) or duration <= 0):
        errs.append(
            FieldError.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0")
        )
    errs += nonnegative(spec.get("leaseTransitions"), "spec.leaseTransitions")
    strategy = spec.get("strategy")
    if strategy is not None and strategy != "OldestEmulationVersion":
        errs.append(FieldError.not_supported("spec.strategy", strategy, ["OldestEmulationVersion"]))
    return errs
