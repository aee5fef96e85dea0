"""Pod and PodSpec validation (``pkg/apis/core/validation`` ``ValidatePod``/``ValidatePodSpec``).

The pod spec check is shared by every workload template; ``is_pod`` switches on the rules that
only apply to a real Pod (image whitespace, host ports under hostNetwork). ``validate_pod_update``
enforces the narrow set of fields a running pod may change.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from skiff.api.field import FieldError

from ._container import SUPPORTED_PORT_PROTOCOLS, enum, validate_container, validate_volumes
from ._meta import validate_labels, validate_pod_template_meta
from ._util import (
    ErrorList,
    as_dict,
    as_list,
    in_range,
    is_int,
    nonnegative,
    semantic_equal,
)
from .names import (
    inclusive_range_error,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
)

__all__ = [
    "SUPPORTED_PORT_PROTOCOLS",
    "validate_pod",
    "validate_pod_spec",
    "validate_pod_template",
    "validate_pod_update",
]

_MAX_INT32 = 2**31 - 1
_UPDATABLE_POD_SPEC_FIELDS = ",".join(
    [
        "`spec.containers[*].image`",
        "`spec.initContainers[*].image`",
        "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
        "negative)",
    ]
)


# --- pod spec --------------------------------------------------------------------------------


def _validate_tolerations(tolerations: Any, path: str) -> ErrorList:
    errs: ErrorList = []
    for i, tol in enumerate(as_list(tolerations)):
        tol = as_dict(tol)
        p = f"{path}[{i}]"
        key = tol.get("key") or ""
        operator = tol.get("operator") or "Equal"
        if key:
            errs += [FieldError.invalid(f"{p}.key", key, m) for m in is_qualified_name(key)]
        elif operator != "Exists":
            errs.append(
                FieldError.invalid(
                    f"{p}.operator",
                    operator,
                    'operator must be Exists when `key` is empty, which means "match all values '
                    'and all keys"',
                )
            )
        if tol.get("tolerationSeconds") is not None and tol.get("effect") != "NoExecute":
            errs.append(
                FieldError.invalid(
                    f"{p}.effect",
                    tol.get("effect") or "",
                    "effect must be 'NoExecute' when `tolerationSeconds` is set",
                )
            )
        value = tol.get("value") or ""
        if operator == "Equal":
            errs += [
                FieldError.invalid(f"{p}.operator", value, m) for m in is_valid_label_value(value)
            ]
        elif operator == "Exists":
            if value:
                errs.append(
                    FieldError.invalid(
                        f"{p}.operator", value, "value must be empty when `operator` is 'Exists'"
                    )
                )
        else:
            errs.append(FieldError.not_supported(f"{p}.operator", operator, ["Equal", "Exists"]))
        effect = tol.get("effect")
        if effect not in (None, "", "NoSchedule", "PreferNoSchedule", "NoExecute"):
            errs.append(
                FieldError.not_supported(
                    f"{p}.effect", effect, ["NoExecute", "NoSchedule", "PreferNoSchedule"]
                )
            )
    return errs


def validate_pod_spec(spec: Any, path: str, *, is_pod: bool) -> ErrorList:
    """``ValidatePodSpec``: containers, volumes, policies, scheduling fields."""
    spec = as_dict(spec)
    errs, volumes = validate_volumes(spec.get("volumes"), f"{path}.volumes")
    containers = as_list(spec.get("containers"))
    if not containers:
        errs.append(FieldError.required(f"{path}.containers"))
    names: set[str] = set()
    for kind in ("initContainers", "containers", "ephemeralContainers"):
        for i, ctr in enumerate(as_list(spec.get(kind))):
            ctr = as_dict(ctr)
            p = f"{path}.{kind}[{i}]"
            errs += validate_container(ctr, p, volumes, kind=kind, is_pod=is_pod)
            name = ctr.get("name")
            if name:
                if name in names:
                    errs.append(FieldError.duplicate(f"{p}.name", name))
                names.add(name)
            if is_pod and spec.get("hostNetwork") is True and kind != "ephemeralContainers":
                for j, port in enumerate(as_list(ctr.get("ports"))):
                    port = as_dict(port)
                    if port.get("hostPort") not in (None, 0, port.get("containerPort")):
                        errs.append(
                            FieldError.invalid(
                                f"{p}.ports[{j}].hostPort",
                                port.get("hostPort"),
                                "must match `containerPort` when `hostNetwork` is true",
                            )
                        )
    errs += enum(
        spec.get("restartPolicy"), f"{path}.restartPolicy", ["Always", "OnFailure", "Never"]
    )
    dns_policy = spec.get("dnsPolicy")
    errs += enum(
        dns_policy,
        f"{path}.dnsPolicy",
        ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
    )
    if dns_policy == "None" and not as_list(as_dict(spec.get("dnsConfig")).get("nameservers")):
        errs.append(
            FieldError.required(
                f"{path}.dnsConfig",
                "must provide at least one DNS nameserver when `dnsPolicy` is None",
            )
        )
    errs += nonnegative(
        spec.get("terminationGracePeriodSeconds"), f"{path}.terminationGracePeriodSeconds"
    )
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None:
        errs += in_range(deadline, 1, _MAX_INT32, f"{path}.activeDeadlineSeconds")
        if not is_int(deadline):
            errs.append(
                FieldError.invalid(
                    f"{path}.activeDeadlineSeconds", deadline, inclusive_range_error(1, _MAX_INT32)
                )
            )
    errs += validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector")
    for key, label in (("nodeName", "nodeName"), ("serviceAccountName", "serviceAccountName")):
        value = spec.get(key) or ""
        if value:
            errs += [
                FieldError.invalid(f"{path}.{label}", value, m) for m in is_dns1123_subdomain(value)
            ]
    for key in ("hostname", "subdomain"):
        value = spec.get(key) or ""
        if value:
            errs += [FieldError.invalid(f"{path}.{key}", value, m) for m in is_dns1123_label(value)]
    errs += _validate_tolerations(spec.get("tolerations"), f"{path}.tolerations")
    preemption = spec.get("preemptionPolicy")
    if preemption is not None and preemption not in ("PreemptLowerPriority", "Never"):
        errs.append(
            FieldError.not_supported(
                f"{path}.preemptionPolicy", preemption, ["Never", "PreemptLowerPriority"]
            )
        )
    for i, gate in enumerate(as_list(spec.get("schedulingGates"))):
        gname = str(as_dict(gate).get("name") or "")
        errs += [
            FieldError.invalid(f"{path}.schedulingGates[{i}].name", gname, m)
            for m in is_qualified_name(gname)
        ]
    return errs


def validate_pod_template(template: Any, path: str) -> ErrorList:
    """``ValidatePodTemplateSpec``: template labels/annotations and the spec (not a real Pod)."""
    template = as_dict(template)
    errs = validate_pod_template_meta(template.get("metadata"), f"{path}.metadata")
    errs += validate_pod_spec(template.get("spec"), f"{path}.spec", is_pod=False)
    return errs


def validate_pod(obj: dict[str, Any]) -> ErrorList:
    return validate_pod_spec(obj.get("spec"), "spec", is_pod=True)


def _tolerations_only_added(new: list[Any], old: list[Any]) -> bool:
    # Existing tolerations may only have their tolerationSeconds lowered; new ones may be added.
    remaining = list(new)
    for tol in old:
        tol = as_dict(tol)
        match = None
        for cand in remaining:
            cand = as_dict(cand)
            same = {k: v for k, v in cand.items() if k != "tolerationSeconds"} == {
                k: v for k, v in tol.items() if k != "tolerationSeconds"
            }
            if same:
                old_s, new_s = tol.get("tolerationSeconds"), cand.get("tolerationSeconds")
                if old_s is None or (new_s is not None and new_s <= old_s):
                    match = cand
                    break
        if match is None:
            return False
        remaining.remove(match)
    return True


def _diff(old: Any, new: Any, path: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            out += _diff(old.get(key), new.get(key), f"{path}.{key}" if path else key)
        return out
    if semantic_equal(old, new):
        return []
    render = json.dumps
    return [f"  {path}: {render(old, sort_keys=True)} -> {render(new, sort_keys=True)}"]


def validate_pod_update(new: dict[str, Any], old: dict[str, Any]) -> ErrorList:
    """``ValidatePodUpdate``: a pod's spec is immutable except for a short list of fields."""
    new_spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    errs: ErrorList = _validate_ephemeral_update(new_spec, old_spec)
    munged = copy.deepcopy(new_spec)
    _set_or_pop(munged, "ephemeralContainers", old_spec)
    for kind in ("containers", "initContainers"):
        new_ctrs, old_ctrs = as_list(munged.get(kind)), as_list(old_spec.get(kind))
        if len(new_ctrs) == len(old_ctrs):
            for n, o in zip(new_ctrs, old_ctrs, strict=True):
                if isinstance(n, dict) and isinstance(o, dict) and "image" in o:
                    n["image"] = o["image"]
    old_deadline, new_deadline = (
        old_spec.get("activeDeadlineSeconds"),
        new_spec.get("activeDeadlineSeconds"),
    )
    if old_deadline is not None:
        if new_deadline is None:
            errs.append(
                FieldError.invalid(
                    "spec.activeDeadlineSeconds",
                    None,
                    "must not update from a positive integer to nil value",
                )
            )
        elif is_int(new_deadline) and is_int(old_deadline) and new_deadline > old_deadline:
            errs.append(
                FieldError.invalid(
                    "spec.activeDeadlineSeconds",
                    new_deadline,
                    "must be less than or equal to previous value",
                )
            )
    _set_or_pop(munged, "activeDeadlineSeconds", old_spec)
    new_tols, old_tols = as_list(new_spec.get("tolerations")), as_list(old_spec.get("tolerations"))
    if _tolerations_only_added(new_tols, old_tols):
        _set_or_pop(munged, "tolerations", old_spec)
    old_grace = old_spec.get("terminationGracePeriodSeconds")
    if is_int(old_grace) and old_grace < 0 and new_spec.get("terminationGracePeriodSeconds") == 1:
        _set_or_pop(munged, "terminationGracePeriodSeconds", old_spec)
    new_gates = [as_dict(g).get("name") for g in as_list(new_spec.get("schedulingGates"))]
    old_gates = [as_dict(g).get("name") for g in as_list(old_spec.get("schedulingGates"))]
    for gate in new_gates:
        if gate not in old_gates:
            errs.append(
                FieldError.forbidden(
                    "spec.schedulingGates",
                    f"only deletion is allowed, but found new scheduling gate '{gate}'",
                )
            )
    if all(g in old_gates for g in new_gates):
        _set_or_pop(munged, "schedulingGates", old_spec)
    if not semantic_equal(munged, old_spec):
        diff = "\n".join(_diff(old_spec, munged))
        errs.append(
            FieldError.forbidden(
                "spec",
                f"pod updates may not change fields other than {_UPDATABLE_POD_SPEC_FIELDS}\n{diff}",
            )
        )
    return errs


def _validate_ephemeral_update(new_spec: dict[str, Any], old_spec: dict[str, Any]) -> ErrorList:
    """``ValidatePodEphemeralContainersUpdate``: ephemeral containers may be added, never changed
    or removed."""
    errs: ErrorList = []
    new_by_name = {as_dict(c).get("name"): c for c in as_list(new_spec.get("ephemeralContainers"))}
    for i, old_c in enumerate(as_list(old_spec.get("ephemeralContainers"))):
        name = as_dict(old_c).get("name")
        path = f"spec.ephemeralContainers[{i}]"
        if name not in new_by_name:
            errs.append(
                FieldError.forbidden(path, "existing ephemeral containers may not be removed")
            )
        elif not semantic_equal(new_by_name[name], old_c):
            errs.append(
                FieldError.forbidden(path, "existing ephemeral containers may not be changed")
            )
    return errs


def _set_or_pop(target: dict[str, Any], key: str, source: dict[str, Any]) -> None:
    if key in source:
        target[key] = copy.deepcopy(source[key])
    else:
        target.pop(key, None)
