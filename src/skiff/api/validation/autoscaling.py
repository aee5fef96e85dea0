"""Validation for autoscaling: HorizontalPodAutoscaler v1 and v2, VerticalPodAutoscaler.

HPA rules follow ``pkg/apis/autoscaling/validation``; the VPA is a CRD upstream, so its rules are
those of its OpenAPI schema plus the checks its admission webhook performs.
"""

from __future__ import annotations

from typing import Any

from skiff.api.field import FieldError

from ._meta import validate_label_selector
from ._util import QUANTITY_FORMAT, ErrorList, as_dict, as_list, is_int, parse_quantity
from .names import is_path_segment_name

__all__ = [
    "validate_hpa_v1",
    "validate_hpa_v2",
    "validate_vpa",
]

_MAX_STABILIZATION = 3600
_MAX_PERIOD = 1800


def _validate_scale_target_ref(ref: Any, path: str) -> ErrorList:
    if ref is None:
        return [FieldError.required(path)]
    ref = as_dict(ref)
    errs: ErrorList = []
    for key in ("kind", "name"):
        value = ref.get(key) or ""
        if not value:
            errs.append(FieldError.required(f"{path}.{key}"))
        else:
            errs += [
                FieldError.invalid(f"{path}.{key}", value, m) for m in is_path_segment_name(value)
            ]
    return errs


def _validate_replicas(spec: dict[str, Any]) -> ErrorList:
    errs: ErrorList = []
    min_replicas = spec.get("minReplicas")
    max_replicas = spec.get("maxReplicas")
    if is_int(min_replicas) and min_replicas < 1:
        errs.append(
            FieldError.invalid(
                "spec.minReplicas", min_replicas, "must be greater than or equal to 1"
            )
        )
    if not is_int(max_replicas) or max_replicas < 1:
        errs.append(FieldError.invalid("spec.maxReplicas", max_replicas, "must be greater than 0"))
    elif is_int(min_replicas) and max_replicas < min_replicas:
        errs.append(
            FieldError.invalid(
                "spec.maxReplicas", max_replicas, "must be greater than or equal to `minReplicas`"
            )
        )
    return errs


def validate_hpa_v1(obj: dict[str, Any]) -> ErrorList:
    spec = as_dict(obj.get("spec"))
    errs = _validate_replicas(spec)
    errs += _validate_scale_target_ref(spec.get("scaleTargetRef"), "spec.scaleTargetRef")
    target = spec.get("targetCPUUtilizationPercentage")
    if target is not None and (not is_int(target) or target < 1):
        errs.append(
            FieldError.invalid(
                "spec.targetCPUUtilizationPercentage", target, "must be greater than 0"
            )
        )
    return errs


def _quantity_positive(value: Any, path: str) -> ErrorList:
    q = parse_quantity(value)
    if q is None:
        return [FieldError.invalid(path, value, QUANTITY_FORMAT)]
    if q <= 0:
        return [FieldError.invalid(path, value, "must be positive")]
    return []


def _validate_target(target: Any, path: str, *, allow_utilization: bool) -> ErrorList:
    if target is None:
        return [FieldError.required(path)]
    target = as_dict(target)
    errs: ErrorList = []
    ttype = target.get("type")
    supported = ["AverageValue", "Utilization", "Value"]
    if ttype not in supported:
        errs.append(FieldError.not_supported(f"{path}.type", ttype, supported))
    if ttype == "Utilization":
        if not allow_utilization:
            errs.append(FieldError.not_supported(f"{path}.type", ttype, ["AverageValue", "Value"]))
        util = target.get("averageUtilization")
        if util is None:
            errs.append(FieldError.required(f"{path}.averageUtilization"))
        elif not is_int(util) or util < 1:
            errs.append(
                FieldError.invalid(f"{path}.averageUtilization", util, "must be greater than 0")
            )
    elif ttype == "Value":
        if target.get("value") is None:
            errs.append(FieldError.required(f"{path}.value", "must be set when type is Value"))
        else:
            errs += _quantity_positive(target["value"], f"{path}.value")
    elif ttype == "AverageValue":
        if target.get("averageValue") is None:
            errs.append(
                FieldError.required(f"{path}.averageValue", "must be set when type is AverageValue")
            )
        else:
            errs += _quantity_positive(target["averageValue"], f"{path}.averageValue")
    return errs


_METRIC_SOURCES = {
    "Object": "object",
    "Pods": "pods",
    "Resource": "resource",
    "ContainerResource": "containerResource",
    "External": "external",
}


def _validate_metric(metric: dict[str, Any], path: str) -> ErrorList:
    mtype = metric.get("type")
    if mtype not in _METRIC_SOURCES:
        return [
            FieldError.not_supported(
                f"{path}.type",
                mtype,
                ["ContainerResource", "External", "Object", "Pods", "Resource"],
            )
        ]
    key = _METRIC_SOURCES[mtype]
    errs: ErrorList = []
    for other_key in _METRIC_SOURCES.values():
        if other_key != key and metric.get(other_key) is not None:
            errs.append(
                FieldError.forbidden(
                    f"{path}.{other_key}", f"must populate the given metric source only: {mtype}"
                )
            )
    source = metric.get(key)
    sp = f"{path}.{key}"
    if source is None:
        errs.append(
            FieldError.required(sp, "must populate information for the given metric source")
        )
        return errs
    source = as_dict(source)
    if mtype in ("Resource", "ContainerResource"):
        if not source.get("name"):
            errs.append(FieldError.required(f"{sp}.name"))
        if mtype == "ContainerResource" and not source.get("container"):
            errs.append(FieldError.required(f"{sp}.container"))
        errs += _validate_target(source.get("target"), f"{sp}.target", allow_utilization=True)
    else:
        metric_id = as_dict(source.get("metric"))
        if not metric_id.get("name"):
            errs.append(FieldError.required(f"{sp}.metric.name", "must specify a metric name"))
        if metric_id.get("selector") is not None:
            errs += validate_label_selector(metric_id["selector"], f"{sp}.metric.selector")
        if mtype == "Object":
            errs += _validate_scale_target_ref(
                source.get("describedObject"), f"{sp}.describedObject"
            )
        errs += _validate_target(source.get("target"), f"{sp}.target", allow_utilization=False)
    return errs


def _validate_scaling_rules(rules: Any, path: str) -> ErrorList:
    if rules is None:
        return []
    rules = as_dict(rules)
    errs: ErrorList = []
    window = rules.get("stabilizationWindowSeconds")
    if is_int(window):
        if window < 0:
            errs.append(
                FieldError.invalid(
                    f"{path}.stabilizationWindowSeconds",
                    window,
                    "must be greater than or equal to zero",
                )
            )
        elif window > _MAX_STABILIZATION:
            errs.append(
                FieldError.invalid(
                    f"{path}.stabilizationWindowSeconds",
                    window,
                    f"must be less than or equal to {_MAX_STABILIZATION}",
                )
            )
    select = rules.get("selectPolicy")
    if select is not None and select not in ("Max", "Min", "Disabled"):
        errs.append(
            FieldError.not_supported(f"{path}.selectPolicy", select, ["Disabled", "Max", "Min"])
        )
    policies = rules.get("policies")
    if policies is not None and not as_list(policies):
        errs.append(FieldError.required(f"{path}.policies", "must specify at least one Policy"))
    for i, policy in enumerate(as_list(policies)):
        policy = as_dict(policy)
        pp = f"{path}.policies[{i}]"
        ptype = policy.get("type")
        if ptype not in ("Pods", "Percent"):
            errs.append(FieldError.not_supported(f"{pp}.type", ptype, ["Percent", "Pods"]))
        value = policy.get("value")
        if not is_int(value) or value <= 0:
            errs.append(FieldError.invalid(f"{pp}.value", value, "must be greater than zero"))
        period = policy.get("periodSeconds")
        if not is_int(period) or period <= 0:
            errs.append(
                FieldError.invalid(f"{pp}.periodSeconds", period, "must be greater than zero")
            )
        elif period > _MAX_PERIOD:
            errs.append(
                FieldError.invalid(
                    f"{pp}.periodSeconds", period, f"must be less than or equal to {_MAX_PERIOD}"
                )
            )
    return errs


def validate_hpa_v2(obj: dict[str, Any]) -> ErrorList:
    spec = as_dict(obj.get("spec"))
    errs = _validate_replicas(spec)
    errs += _validate_scale_target_ref(spec.get("scaleTargetRef"), "spec.scaleTargetRef")
    for i, metric in enumerate(as_list(spec.get("metrics"))):
        errs += _validate_metric(as_dict(metric), f"spec.metrics[{i}]")
    behavior = as_dict(spec.get("behavior"))
    errs += _validate_scaling_rules(behavior.get("scaleUp"), "spec.behavior.scaleUp")
    errs += _validate_scaling_rules(behavior.get("scaleDown"), "spec.behavior.scaleDown")
    return errs


_VPA_UPDATE_MODES = ["Auto", "Initial", "Off", "Recreate"]


def validate_vpa(obj: dict[str, Any]) -> ErrorList:
    spec = as_dict(obj.get("spec"))
    errs: ErrorList = []
    ref = spec.get("targetRef")
    if ref is None:
        errs.append(FieldError.required("spec.targetRef"))
    else:
        errs += _validate_scale_target_ref(ref, "spec.targetRef")
    mode = as_dict(spec.get("updatePolicy")).get("updateMode")
    if mode is not None and mode not in _VPA_UPDATE_MODES:
        errs.append(
            FieldError.not_supported("spec.updatePolicy.updateMode", mode, _VPA_UPDATE_MODES)
        )
    min_replicas = as_dict(spec.get("updatePolicy")).get("minReplicas")
    if min_replicas is not None and (not is_int(min_replicas) or min_replicas < 1):
        errs.append(
            FieldError.invalid(
                "spec.updatePolicy.minReplicas", min_replicas, "must be greater than 0"
            )
        )
    policies = as_list(as_dict(spec.get("resourcePolicy")).get("containerPolicies"))
    for i, policy in enumerate(policies):
        policy = as_dict(policy)
        pp = f"spec.resourcePolicy.containerPolicies[{i}]"
        if not policy.get("containerName"):
            errs.append(FieldError.required(f"{pp}.containerName"))
        cmode = policy.get("mode")
        if cmode is not None and cmode not in ("Auto", "Off"):
            errs.append(FieldError.not_supported(f"{pp}.mode", cmode, ["Auto", "Off"]))
        low = as_dict(policy.get("minAllowed"))
        high = as_dict(policy.get("maxAllowed"))
        for bound, values in (("minAllowed", low), ("maxAllowed", high)):
            for name, value in values.items():
                if parse_quantity(value) is None:
                    errs.append(FieldError.invalid(f"{pp}.{bound}[{name}]", value, QUANTITY_FORMAT))
        for name, value in low.items():
            lo, hi = parse_quantity(value), parse_quantity(high.get(name))
            if lo is not None and hi is not None and lo > hi:
                errs.append(
                    FieldError.invalid(
                        f"{pp}.minAllowed[{name}]",
                        value,
                        f"must be less than or equal to maxAllowed {high[name]}",
                    )
                )
        controlled = policy.get("controlledValues")
        if controlled is not None and controlled not in ("RequestsAndLimits", "RequestsOnly"):
            errs.append(
                FieldError.not_supported(
                    f"{pp}.controlledValues", controlled, ["RequestsAndLimits", "RequestsOnly"]
                )
            )
    return errs
