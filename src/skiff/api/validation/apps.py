"""Validation for replicated workloads: ReplicationController (core/v1) and the apps/v1 kinds
Deployment, ReplicaSet, DaemonSet, StatefulSet, ControllerRevision
(``pkg/apis/apps/validation``, ``ValidateReplicationController`` in core).
"""

from __future__ import annotations

from typing import Any

from skiff.api.field import FieldError

from ._meta import (
    selector_is_empty,
    selector_matches,
    validate_label_selector,
    validate_labels,
)
from ._util import (
    ErrorList,
    as_dict,
    as_list,
    immutable,
    int_or_percent_value,
    is_int,
    nonnegative,
    not_more_than_100_percent,
    positive_int_or_percent,
    semantic_equal,
)
from .pod import validate_pod_template

__all__ = [
    "validate_controller_revision",
    "validate_controller_revision_update",
    "validate_daemon_set",
    "validate_deployment",
    "validate_replica_set",
    "validate_replication_controller",
    "validate_selector_update",
    "validate_stateful_set",
    "validate_stateful_set_update",
]

_SELECTOR_MISMATCH = "`selector` does not match template `labels`"


def _template_for_replicas(
    template: Any, selector: Any, path: str, *, owner: str, matches: bool
) -> ErrorList:
    """``ValidatePodTemplateSpecForReplicaSet``-style checks shared by every replicated kind."""
    template = as_dict(template)
    errs: ErrorList = []
    if not template:
        return [FieldError.required(path)]
    labels = as_dict(template.get("metadata")).get("labels")
    if not matches:
        errs.append(FieldError.invalid(f"{path}.metadata.labels", labels or {}, _SELECTOR_MISMATCH))
    errs += validate_pod_template(template, path)
    spec = as_dict(template.get("spec"))
    policy = spec.get("restartPolicy")
    if policy != "Always":
        errs.append(FieldError.not_supported(f"{path}.spec.restartPolicy", policy, ["Always"]))
    if spec.get("activeDeadlineSeconds") is not None:
        errs.append(
            FieldError.forbidden(
                f"{path}.spec.activeDeadlineSeconds",
                f"activeDeadlineSeconds in {owner} is not Supported",
            )
        )
    return errs


def _validate_selector(spec: dict[str, Any], kind_word: str) -> tuple[ErrorList, bool]:
    """Selector required, non-empty and well formed; returns (errors, template-labels-match)."""
    selector = spec.get("selector")
    template_labels = as_dict(as_dict(spec.get("template")).get("metadata")).get("labels")
    if selector is None:
        return [FieldError.required("spec.selector")], True
    errs = validate_label_selector(selector, "spec.selector")
    if selector_is_empty(selector):
        errs.append(
            FieldError.invalid(
                "spec.selector", selector, f"empty selector is invalid for {kind_word}"
            )
        )
        return errs, True
    return errs, selector_matches(selector, template_labels)


def validate_replication_controller(obj: dict[str, Any]) -> ErrorList:
    spec = as_dict(obj.get("spec"))
    errs = nonnegative(spec.get("replicas"), "spec.replicas")
    errs += nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    selector = as_dict(spec.get("selector"))
    if not selector:
        errs.append(FieldError.required("spec.selector"))
    errs += validate_labels(selector, "spec.selector")
    template = spec.get("template")
    if template is None:
        errs.append(FieldError.required("spec.template"))
        return errs
    labels = as_dict(as_dict(as_dict(template).get("metadata")).get("labels"))
    matches = all(labels.get(k) == v for k, v in selector.items())
    errs += _template_for_replicas(
        template, selector, "spec.template", owner="ReplicationController", matches=matches
    )
    return errs


def validate_replica_set(obj: dict[str, Any]) -> ErrorList:
    spec = as_dict(obj.get("spec"))
    errs = nonnegative(spec.get("replicas"), "spec.replicas")
    errs += nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    # Upstream's ReplicaSet message also says "deployment" (shared helper wording).
    serrs, matches = _validate_selector(spec, "deployment")
    errs += serrs
    errs += _template_for_replicas(
        spec.get("template"),
        spec.get("selector"),
        "spec.template",
        owner="ReplicaSet",
        matches=matches,
    )
    return errs


def _validate_rolling_update(
    rolling: dict[str, Any], path: str, *, max_unavailable_le_100: bool = True
) -> ErrorList:
    errs: ErrorList = []
    max_unavailable = rolling.get("maxUnavailable")
    max_surge = rolling.get("maxSurge")
    errs += positive_int_or_percent(max_unavailable, f"{path}.maxUnavailable")
    errs += positive_int_or_percent(max_surge, f"{path}.maxSurge")
    if int_or_percent_value(max_unavailable) == 0 and int_or_percent_value(max_surge) == 0:
        errs.append(
            FieldError.invalid(
                f"{path}.maxUnavailable", max_unavailable, "may not be 0 when `maxSurge` is 0"
            )
        )
    if max_unavailable_le_100:
        errs += not_more_than_100_percent(max_unavailable, f"{path}.maxUnavailable")
    return errs


def validate_deployment(obj: dict[str, Any]) -> ErrorList:
    spec = as_dict(obj.get("spec"))
    errs = nonnegative(spec.get("replicas"), "spec.replicas")
    serrs, matches = _validate_selector(spec, "deployment")
    errs += serrs
    errs += _template_for_replicas(
        spec.get("template"),
        spec.get("selector"),
        "spec.template",
        owner="ReplicaSet",
        matches=matches,
    )
    strategy = as_dict(spec.get("strategy"))
    stype = strategy.get("type")
    if stype == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            errs.append(
                FieldError.forbidden(
                    "spec.strategy.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                )
            )
    elif stype == "RollingUpdate":
        if strategy.get("rollingUpdate") is None:
            errs.append(
                FieldError.required(
                    "spec.strategy.rollingUpdate", "this should be defaulted and never be nil"
                )
            )
        else:
            errs += _validate_rolling_update(
                as_dict(strategy["rollingUpdate"]), "spec.strategy.rollingUpdate"
            )
    else:
        errs.append(
            FieldError.not_supported("spec.strategy.type", stype, ["Recreate", "RollingUpdate"])
        )
    errs += nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    errs += nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    deadline = spec.get("progressDeadlineSeconds")
    errs += nonnegative(deadline, "spec.progressDeadlineSeconds")
    min_ready = spec.get("minReadySeconds") or 0
    if is_int(deadline) and is_int(min_ready) and deadline <= min_ready:
        errs.append(
            FieldError.invalid(
                "spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"
            )
        )
    rollback = as_dict(spec.get("rollbackTo"))
    errs += nonnegative(rollback.get("revision"), "spec.rollbackTo.revision")
    return errs


def validate_daemon_set(obj: dict[str, Any]) -> ErrorList:
    spec = as_dict(obj.get("spec"))
    serrs, matches = _validate_selector(spec, "daemonset")
    errs = serrs
    errs += _template_for_replicas(
        spec.get("template"),
        spec.get("selector"),
        "spec.template",
        owner="DaemonSet",
        matches=matches,
    )
    errs += nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    errs += nonnegative(spec.get("templateGeneration"), "spec.templateGeneration")
    errs += nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    strategy = as_dict(spec.get("updateStrategy"))
    stype = strategy.get("type")
    if stype == "RollingUpdate":
        if strategy.get("rollingUpdate") is None:
            errs.append(FieldError.required("spec.updateStrategy.rollingUpdate"))
        else:
            errs += _validate_rolling_update(
                as_dict(strategy["rollingUpdate"]), "spec.updateStrategy.rollingUpdate"
            )
    elif stype != "OnDelete":
        errs.append(
            FieldError.not_supported(
                "spec.updateStrategy.type", stype, ["OnDelete", "RollingUpdate"]
            )
        )
    return errs


def validate_stateful_set(obj: dict[str, Any]) -> ErrorList:
    spec = as_dict(obj.get("spec"))
    errs: ErrorList = []
    policy = spec.get("podManagementPolicy")
    if policy in (None, ""):
        errs.append(FieldError.required("spec.podManagementPolicy"))
    elif policy not in ("OrderedReady", "Parallel"):
        errs.append(
            FieldError.not_supported(
                "spec.podManagementPolicy", policy, ["OrderedReady", "Parallel"]
            )
        )
    strategy = as_dict(spec.get("updateStrategy"))
    stype = strategy.get("type")
    if stype == "OnDelete":
        if strategy.get("rollingUpdate") is not None:
            errs.append(
                FieldError.invalid(
                    "spec.updateStrategy.rollingUpdate",
                    strategy["rollingUpdate"],
                    "only allowed for updateStrategy 'RollingUpdate'",
                )
            )
    elif stype == "RollingUpdate":
        rolling = as_dict(strategy.get("rollingUpdate"))
        errs += nonnegative(rolling.get("partition"), "spec.updateStrategy.rollingUpdate.partition")
        if rolling.get("maxUnavailable") is not None:
            value = rolling["maxUnavailable"]
            p = "spec.updateStrategy.rollingUpdate.maxUnavailable"
            errs += positive_int_or_percent(value, p)
            if int_or_percent_value(value) == 0:
                errs.append(FieldError.invalid(p, value, "must be greater than 0"))
            errs += not_more_than_100_percent(value, p)
    elif stype in (None, ""):
        errs.append(FieldError.required("spec.updateStrategy"))
    else:
        errs.append(
            FieldError.not_supported(
                "spec.updateStrategy.type", stype, ["OnDelete", "RollingUpdate"]
            )
        )
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    if retention is not None:
        for key in ("whenDeleted", "whenScaled"):
            value = as_dict(retention).get(key)
            if value not in ("Retain", "Delete"):
                errs.append(
                    FieldError.not_supported(
                        f"spec.persistentVolumeClaimRetentionPolicy.{key}",
                        value,
                        ["Retain", "Delete"],
                    )
                )
    errs += nonnegative(spec.get("replicas"), "spec.replicas")
    errs += nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    errs += nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    ordinals = as_dict(spec.get("ordinals"))
    errs += nonnegative(ordinals.get("start"), "spec.ordinals.start")
    serrs, matches = _validate_selector(spec, "statefulset")
    errs += serrs
    errs += _template_for_replicas(
        spec.get("template"),
        spec.get("selector"),
        "spec.template",
        owner="StatefulSet",
        matches=matches,
    )
    for i, claim in enumerate(as_list(spec.get("volumeClaimTemplates"))):
        name = as_dict(as_dict(claim).get("metadata")).get("name")
        if not name:
            errs.append(FieldError.required(f"spec.volumeClaimTemplates[{i}].metadata.name"))
    return errs


# Fields of a StatefulSet spec that an update may change (ValidateStatefulSetUpdate).
_STS_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)


def validate_stateful_set_update(new: dict[str, Any], old: dict[str, Any]) -> ErrorList:
    new_spec = {k: v for k, v in as_dict(new.get("spec")).items() if k not in _STS_MUTABLE}
    old_spec = {k: v for k, v in as_dict(old.get("spec")).items() if k not in _STS_MUTABLE}
    if not semantic_equal(new_spec, old_spec):
        return [
            FieldError.forbidden(
                "spec",
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                "'template', 'updateStrategy', 'revisionHistoryLimit', "
                "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            )
        ]
    return []


def validate_selector_update(new: dict[str, Any], old: dict[str, Any]) -> ErrorList:
    """apps/v1 made ``spec.selector`` immutable for Deployment, ReplicaSet and DaemonSet."""
    return immutable(
        as_dict(new.get("spec")).get("selector"),
        as_dict(old.get("spec")).get("selector"),
        "spec.selector",
    )


def validate_controller_revision(obj: dict[str, Any]) -> ErrorList:
    errs: ErrorList = []
    if obj.get("data") is None:
        errs.append(FieldError.required("data", "data is mandatory"))
    errs += nonnegative(obj.get("revision"), "revision")
    return errs


def validate_controller_revision_update(new: dict[str, Any], old: dict[str, Any]) -> ErrorList:
    return immutable(new.get("data"), old.get("data"), "data")
