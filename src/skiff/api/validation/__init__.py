"""Kubernetes validation for every served kind, on the plain JSON dict of an object.

``validate(group, version, kind, obj, old=None)`` returns the list of ``FieldError`` a real
1.32 API server would report for a create (``old is None``) or an update (``old`` is the stored
object); an empty list means the object may be persisted. Objects are expected to have been
defaulted (``skiff.api.defaults.apply_defaults``) first, exactly as the API server does: fields
that defaulting always fills (``restartPolicy``, port ``protocol``...) are ``Required`` here.

Layout: ``names`` holds the string-format checks (DNS names, label keys, ports), ``_meta`` the
ObjectMeta/label-selector rules, and one module per API group area holds the kind rules
(``pod``, ``core``, ``apps``, ``batch``, ``autoscaling``, ``networking``, ``policy``, ``rbac``,
``storage``, ``apiregistration``).
The API server's registry strategies call ``validate``; generic metadata rules that need the
request (name/namespace/uid immutability, resourceVersion) stay with the API server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from skiff.api.field import FieldError
from skiff.api.resources import by_gvk

from . import apiregistration, apps, autoscaling, batch, core, networking, policy, rbac, storage
from ._meta import NameFunc, validate_object_meta
from .names import (
    is_path_segment_name,
    name_is_dns1035_label,
    name_is_dns1123_label,
    name_is_dns1123_subdomain,
)
from .pod import validate_pod, validate_pod_update

__all__ = ["validate", "validate_object_meta"]

Validator = Callable[[dict[str, Any]], list[FieldError]]
UpdateValidator = Callable[[dict[str, Any], dict[str, Any]], list[FieldError]]


def _path_segment_name(name: str, prefix: bool) -> list[str]:
    del prefix  # path-segment names have no generateName special case upstream
    return is_path_segment_name(name)


@dataclass(frozen=True)
class _KindRules:
    validate: Validator | None = None
    update: UpdateValidator | None = None
    name: NameFunc = name_is_dns1123_subdomain


_RBAC = "rbac.authorization.k8s.io"

# Keyed by (group, kind, version or "" for every version of the group/kind).
_RULES: dict[tuple[str, str, str], _KindRules] = {
    ("", "Pod", ""): _KindRules(validate_pod, validate_pod_update),
    ("", "Namespace", ""): _KindRules(core.validate_namespace, name=name_is_dns1123_label),
    ("", "Node", ""): _KindRules(core.validate_node, core.validate_node_update),
    ("", "Service", ""): _KindRules(
        core.validate_service, core.validate_service_update, name=name_is_dns1035_label
    ),
    ("", "Endpoints", ""): _KindRules(core.validate_endpoints),
    ("", "ConfigMap", ""): _KindRules(core.validate_config_map, core.validate_config_map_update),
    ("", "Secret", ""): _KindRules(core.validate_secret, core.validate_secret_update),
    ("", "Event", ""): _KindRules(core.validate_event),
    ("", "ServiceAccount", ""): _KindRules(),
    ("", "ReplicationController", ""): _KindRules(apps.validate_replication_controller),
    ("", "PersistentVolume", ""): _KindRules(
        storage.validate_persistent_volume,
        storage.validate_persistent_volume_update,
        name=_path_segment_name,
    ),
    ("", "PersistentVolumeClaim", ""): _KindRules(
        storage.validate_persistent_volume_claim, storage.validate_persistent_volume_claim_update
    ),
    ("storage.k8s.io", "StorageClass", ""): _KindRules(
        storage.validate_storage_class, storage.validate_storage_class_update
    ),
    ("apiregistration.k8s.io", "APIService", ""): _KindRules(
        apiregistration.validate_api_service, name=apiregistration.api_service_name
    ),
    ("apps", "Deployment", ""): _KindRules(apps.validate_deployment, apps.validate_selector_update),
    ("apps", "ReplicaSet", ""): _KindRules(
        apps.validate_replica_set, apps.validate_selector_update
    ),
    ("apps", "DaemonSet", ""): _KindRules(apps.validate_daemon_set, apps.validate_selector_update),
    ("apps", "StatefulSet", ""): _KindRules(
        apps.validate_stateful_set, apps.validate_stateful_set_update
    ),
    ("apps", "ControllerRevision", ""): _KindRules(
        apps.validate_controller_revision, apps.validate_controller_revision_update
    ),
    ("batch", "Job", ""): _KindRules(batch.validate_job, batch.validate_job_update),
    ("batch", "CronJob", ""): _KindRules(batch.validate_cron_job),
    ("autoscaling", "HorizontalPodAutoscaler", "v1"): _KindRules(autoscaling.validate_hpa_v1),
    ("autoscaling", "HorizontalPodAutoscaler", "v2"): _KindRules(autoscaling.validate_hpa_v2),
    ("autoscaling.k8s.io", "VerticalPodAutoscaler", ""): _KindRules(autoscaling.validate_vpa),
    ("coordination.k8s.io", "Lease", ""): _KindRules(policy.validate_lease),
    ("discovery.k8s.io", "EndpointSlice", ""): _KindRules(
        networking.validate_endpoint_slice, networking.validate_endpoint_slice_update
    ),
    ("networking.k8s.io", "Ingress", ""): _KindRules(networking.validate_ingress),
    ("networking.k8s.io", "NetworkPolicy", ""): _KindRules(networking.validate_network_policy),
    ("policy", "PodDisruptionBudget", ""): _KindRules(policy.validate_pod_disruption_budget),
    ("scheduling.k8s.io", "PriorityClass", ""): _KindRules(
        policy.validate_priority_class, policy.validate_priority_class_update
    ),
    (_RBAC, "Role", ""): _KindRules(rbac.validate_role, name=_path_segment_name),
    (_RBAC, "ClusterRole", ""): _KindRules(rbac.validate_cluster_role, name=_path_segment_name),
    (_RBAC, "RoleBinding", ""): _KindRules(
        rbac.validate_role_binding, rbac.validate_binding_update, name=_path_segment_name
    ),
    (_RBAC, "ClusterRoleBinding", ""): _KindRules(
        rbac.validate_cluster_role_binding, rbac.validate_binding_update, name=_path_segment_name
    ),
}


def _rules_for(group: str, version: str, kind: str) -> _KindRules:
    return _RULES.get((group, kind, version)) or _RULES.get((group, kind, "")) or _KindRules()


def validate(
    group: str,
    version: str,
    kind: str,
    obj: dict[str, Any],
    old: dict[str, Any] | None = None,
) -> list[FieldError]:
    """All field errors of ``obj`` (a create when ``old`` is None, else an update of ``old``).

    Runs the ObjectMeta checks (scope from the registry; unknown kinds are checked as
    namespaced only if they carry a namespace), then the kind's own rules, then, for updates,
    the kind's immutability rules. Never raises for malformed input: odd shapes are reported or
    ignored, because pydantic has already rejected structurally wrong objects.
    """
    rules = _rules_for(group, version, kind)
    info = by_gvk(group, version, kind)
    meta = obj.get("metadata")
    namespaced = (
        info.namespaced
        if info is not None
        else bool(isinstance(meta, dict) and meta.get("namespace"))
    )
    errs = validate_object_meta(meta, namespaced=namespaced, name_func=rules.name)
    if rules.validate is not None:
        errs += rules.validate(obj)
    if old is not None and rules.update is not None:
        errs += rules.update(obj, old)
    return errs
