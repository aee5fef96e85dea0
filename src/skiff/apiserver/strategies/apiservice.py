"""APIServices: the API server keeps their ``Available`` condition itself.

In Kubernetes the aggregator's autoregister controller stores one APIService per built-in
group/version at start (label ``kube-aggregator.kubernetes.io/automanaged: onstart``; CRD groups
get ``"true"``), and its availability controller writes ``Available``: ``True``/``Local`` for the
groups the server serves itself, and for aggregated ones what it found calling their Service
(k8s.io/kube-aggregator ``pkg/controllers/status``). skiff proxies no aggregated API, so the
condition follows from the object alone and is computed on every write, status writes
included: ``True``/``Local`` for a group/version skiff serves (built in, or a served version of
an established CRD), ``False`` otherwise (reason ``AggregationNotSupported`` for one with a
Service). Such a group/version is never listed in discovery (discovery comes from
``skiff.api.resources`` and the CRDs), so clients do not trip over it.

``local_api_services`` gives the built-in objects the server ensures at bootstrap: storing them
(rather than answering reads from a generated list) keeps get, list, watch, Tables and
resourceVersions on the generic registry, as upstream. ``api_service`` builds one; the CRD
groups' objects are kept by ``skiff.apiserver.crdapiservice``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from skiff.api.resources import RESOURCES, GroupVersion, ResourceInfo
from skiff.apiserver import objects
from skiff.apiserver.strategies._base import DefaultStrategy

__all__ = [
    "AUTOMANAGED_LABEL",
    "APIServiceStrategy",
    "api_service",
    "available_condition",
    "local_api_services",
    "served_group_versions",
]

AUTOMANAGED_LABEL = "kube-aggregator.kubernetes.io/automanaged"

# (groupPriorityMinimum, versionPriority) of the built-in group/versions, from kube-apiserver
# 1.32's table (pkg/controlplane/apiserver/aggregator.go ``APIVersionPriorities`` and
# ``DefaultGenericAPIServicePriorities``); a CRD group gets (1000, 100), as its
# crdregistration controller gives it (autoscaling.k8s.io is a CRD upstream).
_PRIORITIES: dict[tuple[str, str], tuple[int, int]] = {
    ("", "v1"): (18000, 1),
    ("apiregistration.k8s.io", "v1"): (18000, 15),
    ("apps", "v1"): (17800, 15),
    ("events.k8s.io", "v1"): (17750, 15),
    ("authentication.k8s.io", "v1"): (17700, 15),
    ("authorization.k8s.io", "v1"): (17600, 15),
    ("autoscaling", "v2"): (17500, 30),
    ("autoscaling", "v1"): (17500, 15),
    ("batch", "v1"): (17400, 15),
    ("certificates.k8s.io", "v1"): (17300, 15),
    ("networking.k8s.io", "v1"): (17200, 15),
    ("policy", "v1"): (17100, 15),
    ("rbac.authorization.k8s.io", "v1"): (17000, 15),
    ("storage.k8s.io", "v1"): (16800, 15),
    ("apiextensions.k8s.io", "v1"): (16700, 15),
    ("admissionregistration.k8s.io", "v1"): (16700, 15),
    ("scheduling.k8s.io", "v1"): (16600, 15),
    ("coordination.k8s.io", "v1"): (16500, 15),
    ("node.k8s.io", "v1"): (16300, 15),
    ("discovery.k8s.io", "v1"): (16200, 15),
}
_CRD_PRIORITY = (1000, 100)
_CRD_GROUPS = frozenset({"autoscaling.k8s.io"})
_LOCAL_MESSAGE = "Local APIServices are always available"


def served_group_versions() -> set[tuple[str, str]]:
    """The group/versions this server answers itself."""
    return {(r.group, r.version) for r in RESOURCES}


def _name(group: str, version: str) -> str:
    return f"{version}.{group}"


def api_service(group: str, version: str, *, crd: bool) -> dict[str, Any]:
    """The local APIService of one group/version: a built-in one (registered at start, label
    ``onstart``) or a CRD group's (label ``true``, priorities 1000/100 as kube-aggregator's
    crdregistration controller gives them)."""
    group_priority, version_priority = (
        _CRD_PRIORITY if crd else _PRIORITIES.get((group, version), _CRD_PRIORITY)
    )
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {
            "name": _name(group, version),
            "labels": {AUTOMANAGED_LABEL: "true" if crd else "onstart"},
        },
        "spec": {
            "group": group,
            "version": version,
            "groupPriorityMinimum": group_priority,
            "versionPriority": version_priority,
        },
    }


def local_api_services() -> list[dict[str, Any]]:
    """One APIService per served group/version, as kube-apiserver registers them at start."""
    out = []
    seen: set[GroupVersion] = set()
    for r in RESOURCES:
        if r.gv in seen:
            continue
        seen.add(r.gv)
        out.append(api_service(r.group, r.version, crd=r.group in _CRD_GROUPS))
    return out


def available_condition(
    obj: dict[str, Any], custom: Callable[[], tuple[ResourceInfo, ...]] | None = None
) -> dict[str, str]:
    """The ``Available`` condition of an APIService (without ``lastTransitionTime``);
    ``custom`` gives the served custom resources (CRD group/versions are served too)."""
    spec = obj.get("spec") or {}
    group, version = spec.get("group") or "", spec.get("version") or ""
    service = spec.get("service")
    if isinstance(service, dict):
        where = f'service/{service.get("name") or ""} in "{service.get("namespace") or ""}"'
        return {
            "type": "Available",
            "status": "False",
            "reason": "AggregationNotSupported",
            "message": f"skiff does not proxy aggregated APIs: requests for "
            f"{GroupVersion(group, version).api_version} are not sent to {where}",
        }
    served = served_group_versions()
    if custom is not None:
        served |= {(r.group, r.version) for r in custom()}
    if (group, version) in served:
        return {"type": "Available", "status": "True", "reason": "Local", "message": _LOCAL_MESSAGE}
    return {
        "type": "Available",
        "status": "False",
        "reason": "NotServed",
        "message": f"this server does not serve {GroupVersion(group, version).api_version}",
    }


class APIServiceStrategy(DefaultStrategy):
    """Status is the server's: recomputed on every write, whatever the client sent. ``custom``
    gives the served custom resources (None: only built-in group/versions are served)."""

    def __init__(
        self,
        info: ResourceInfo,
        custom: Callable[[], tuple[ResourceInfo, ...]] | None = None,
    ) -> None:
        super().__init__(info)
        self.custom = custom

    def _set_status(self, new: dict[str, Any], old: dict[str, Any] | None) -> None:
        condition: dict[str, str] = available_condition(new, self.custom)
        previous: dict[str, Any] = {}
        for c in ((old or {}).get("status") or {}).get("conditions") or []:
            if isinstance(c, dict) and c.get("type") == "Available":
                previous = c
        keep = previous.get("status") == condition["status"] and previous.get("lastTransitionTime")
        stamped = {
            "type": condition["type"],
            "status": condition["status"],
            "lastTransitionTime": keep or objects.now_rfc3339(),
            "reason": condition["reason"],
            "message": condition["message"],
        }
        new["status"] = {"conditions": [stamped]}

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        super().prepare_for_create(obj)
        self._set_status(obj, None)

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        super().prepare_for_update(new, old)
        self._set_status(new, old)

    def prepare_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        super().prepare_status_update(new, old)
        self._set_status(new, old)
