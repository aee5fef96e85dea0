"""Validation for rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding and
ClusterRoleBinding (``pkg/apis/rbac/validation``)."""

from __future__ import annotations

from typing import Any

from skiff.api.field import FieldError

from ._meta import validate_label_selector
from ._util import ErrorList, as_dict, as_list
from .names import is_dns1123_subdomain, is_path_segment_name

__all__ = [
    "RBAC_GROUP",
    "validate_binding_update",
    "validate_cluster_role",
    "validate_cluster_role_binding",
    "validate_role",
    "validate_role_binding",
]

RBAC_GROUP = "rbac.authorization.k8s.io"


def _validate_rules(rules: Any, *, namespaced: bool) -> ErrorList:
    errs: ErrorList = []
    for i, rule in enumerate(as_list(rules)):
        rule = as_dict(rule)
        p = f"rules[{i}]"
        if not as_list(rule.get("verbs")):
            errs.append(FieldError.required(f"{p}.verbs", "verbs must contain at least one value"))
        urls = as_list(rule.get("nonResourceURLs"))
        if urls:
            if namespaced:
                errs.append(
                    FieldError.invalid(
                        f"{p}.nonResourceURLs",
                        urls,
                        "namespaced rules cannot apply to non-resource URLs",
                    )
                )
            if as_list(rule.get("apiGroups")) or as_list(rule.get("resources")):
                errs.append(
                    FieldError.invalid(
                        f"{p}.nonResourceURLs",
                        urls,
                        "rules with nonResourceURLs cannot also have apiGroups or resources",
                    )
                )
            continue
        if not as_list(rule.get("apiGroups")):
            errs.append(
                FieldError.required(
                    f"{p}.apiGroups", "resource rules must supply at least one api group"
                )
            )
        if not as_list(rule.get("resources")):
            errs.append(
                FieldError.required(
                    f"{p}.resources", "resource rules must supply at least one resource"
                )
            )
    return errs


def validate_role(obj: dict[str, Any]) -> ErrorList:
    return _validate_rules(obj.get("rules"), namespaced=True)


def validate_cluster_role(obj: dict[str, Any]) -> ErrorList:
    errs = _validate_rules(obj.get("rules"), namespaced=False)
    aggregation = obj.get("aggregationRule")
    if aggregation is not None:
        selectors = as_list(as_dict(aggregation).get("clusterRoleSelectors"))
        if not selectors:
            errs.append(
                FieldError.required(
                    "aggregationRule.clusterRoleSelectors",
                    "at least one clusterRoleSelector required if aggregationRule is non-nil",
                )
            )
        for i, selector in enumerate(selectors):
            errs += validate_label_selector(selector, f"aggregationRule.clusterRoleSelectors[{i}]")
    return errs


def _validate_subjects(subjects: Any, *, namespaced: bool) -> ErrorList:
    errs: ErrorList = []
    for i, subject in enumerate(as_list(subjects)):
        subject = as_dict(subject)
        p = f"subjects[{i}]"
        name = subject.get("name") or ""
        if not name:
            errs.append(FieldError.required(f"{p}.name"))
        kind = subject.get("kind")
        group = subject.get("apiGroup") or ""
        if kind == "ServiceAccount":
            if name:
                errs += [
                    FieldError.invalid(f"{p}.name", name, m) for m in is_dns1123_subdomain(name)
                ]
            if group:
                errs.append(FieldError.not_supported(f"{p}.apiGroup", group, [""]))
            if not namespaced and not subject.get("namespace"):
                errs.append(FieldError.required(f"{p}.namespace"))
        elif kind in ("User", "Group"):
            if group != RBAC_GROUP:
                errs.append(FieldError.not_supported(f"{p}.apiGroup", group, [RBAC_GROUP]))
        else:
            errs.append(
                FieldError.not_supported(f"{p}.kind", kind, ["ServiceAccount", "User", "Group"])
            )
    return errs


def _validate_role_ref(ref: Any, kinds: list[str]) -> ErrorList:
    ref = as_dict(ref)
    errs: ErrorList = []
    if ref.get("apiGroup") != RBAC_GROUP:
        errs.append(
            FieldError.not_supported("roleRef.apiGroup", ref.get("apiGroup") or "", [RBAC_GROUP])
        )
    if ref.get("kind") not in kinds:
        errs.append(FieldError.not_supported("roleRef.kind", ref.get("kind") or "", kinds))
    name = ref.get("name") or ""
    if not name:
        errs.append(FieldError.required("roleRef.name"))
    else:
        errs += [FieldError.invalid("roleRef.name", name, m) for m in is_path_segment_name(name)]
    return errs


def validate_role_binding(obj: dict[str, Any]) -> ErrorList:
    errs = _validate_role_ref(obj.get("roleRef"), ["Role", "ClusterRole"])
    return errs + _validate_subjects(obj.get("subjects"), namespaced=True)


def validate_cluster_role_binding(obj: dict[str, Any]) -> ErrorList:
    errs = _validate_role_ref(obj.get("roleRef"), ["ClusterRole"])
    return errs + _validate_subjects(obj.get("subjects"), namespaced=False)


def validate_binding_update(new: dict[str, Any], old: dict[str, Any]) -> ErrorList:
    if as_dict(new.get("roleRef")) != as_dict(old.get("roleRef")):
        return [FieldError.invalid("roleRef", new.get("roleRef"), "cannot change roleRef")]
    return []
