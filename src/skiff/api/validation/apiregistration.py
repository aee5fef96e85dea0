"""APIService (``apiregistration.k8s.io/v1``) rules, as kube-aggregator's
``pkg/apis/apiregistration/validation`` at v1.32."""

from __future__ import annotations

from typing import Any

from skiff.api.field import FieldError

from ._util import ErrorList, as_dict, is_int
from .names import is_dns1035_label, is_dns1123_subdomain, is_path_segment_name, is_valid_port_num

__all__ = ["api_service_name", "validate_api_service"]


def api_service_name(name: str, prefix: bool) -> list[str]:
    """An APIService's name is a path segment (``<version>.<group>`` is checked with the spec)."""
    del prefix
    return is_path_segment_name(name)


def validate_api_service(obj: dict[str, Any]) -> ErrorList:
    """``ValidateAPIService``: the name is ``version.group``, priorities in range, and a
    Service (namespace, name, port) for an aggregated server; a local one has no TLS settings."""
    spec = as_dict(obj.get("spec"))
    group, version = spec.get("group") or "", spec.get("version") or ""
    name = as_dict(obj.get("metadata")).get("name")
    errs: ErrorList = []
    required = f"{version}.{group}"
    if isinstance(name, str) and name and not is_path_segment_name(name) and name != required:
        errs.append(
            FieldError.invalid(
                "metadata.name", name, f'must be `spec.version+"."+spec.group`: "{required}"'
            )
        )
    if not group and version != "v1":
        errs.append(
            FieldError.required(
                "spec.group", "only v1 may have an empty group and it better be legacy kube"
            )
        )
    if group:
        errs += [FieldError.invalid("spec.group", group, m) for m in is_dns1123_subdomain(group)]
    errs += [FieldError.invalid("spec.version", version, m) for m in is_dns1035_label(version)]
    group_priority = spec.get("groupPriorityMinimum")
    if is_int(group_priority) and not 0 < group_priority <= 20000:
        errs.append(
            FieldError.invalid(
                "spec.groupPriorityMinimum", group_priority, "must be positive and less than 20000"
            )
        )
    version_priority = spec.get("versionPriority")
    if is_int(version_priority) and not 0 < version_priority <= 1000:
        errs.append(
            FieldError.invalid(
                "spec.versionPriority", version_priority, "must be positive and less than 1000"
            )
        )
    skip_verify = spec.get("insecureSkipTLSVerify") is True
    ca_bundle = spec.get("caBundle") or ""
    service = spec.get("service")
    if service is None:
        if ca_bundle:
            errs.append(
                FieldError.invalid(
                    "spec.caBundle",
                    f"{len(ca_bundle) * 3 // 4} bytes",
                    "local APIServices may not have a caBundle",
                )
            )
        if skip_verify:
            errs.append(
                FieldError.invalid(
                    "spec.insecureSkipTLSVerify",
                    True,
                    "local APIServices may not have insecureSkipTLSVerify",
                )
            )
        return errs
    service = as_dict(service)
    if not service.get("namespace"):
        errs.append(FieldError.required("spec.service.namespace"))
    if not service.get("name"):
        errs.append(FieldError.required("spec.service.name"))
    port = service.get("port")
    if is_int(port):
        problems = is_valid_port_num(port)
        if problems:
            errs.append(
                FieldError.invalid(
                    "spec.service.port", port, "port is not valid: " + ", ".join(problems)
                )
            )
    if skip_verify and ca_bundle:
        errs.append(
            FieldError.invalid(
                "spec.insecureSkipTLSVerify", True, "may not be true if caBundle is present"
            )
        )
    return errs
