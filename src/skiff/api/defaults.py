"""Kubernetes 1.32 defaulting for every served kind, applied in place to an object's JSON dict.

``apply_defaults(group, version, kind, obj)`` fills what the real API server fills between
decoding a request and validating it (``pkg/apis/<group>/v1/defaults.go`` plus the generated
``+default`` markers). It is idempotent: applying it to its own output changes nothing. Values
that other stages own are left alone: the ServiceAccount admission plugin sets
``serviceAccountName``, the Priority plugin sets ``priority``/``preemptionPolicy`` on Pods, the
Service registry's allocator fills ``clusterIP``/``nodePort``s, the Job strategy generates the
Job selector (it needs the uid). Pod-spec defaults live in ``_defaults_pod``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ._defaults_pod import default_pod, default_pod_spec, default_pvc, set_if_none, set_if_unset
from ._defaults_pod import subdict as _sub

__all__ = [
    "JOB_CONTROLLER_UID_LABEL",
    "JOB_NAME_LABEL",
    "SKIFF_HPA_SCALE_DOWN_STABILIZATION_SECONDS",
    "apply_defaults",
    "fill_zero_status",
    "generate_job_selector",
    "prepare_namespace_create",
    "zero_status",
]

# Kubernetes leaves the scale-down window unset so kube-controller-manager's flag (300 s) applies;
# skiff heals and scales faster (architecture.md "timing" table: 60 s), and writing the value
# into the object makes the effective window visible in `kubectl get hpa -o yaml`.
SKIFF_HPA_SCALE_DOWN_STABILIZATION_SECONDS = 60

Defaulter = Callable[[dict[str, Any]], None]


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _template_spec(holder: dict[str, Any] | None) -> None:
    """Pod-spec defaults for ``holder["template"]["spec"]`` when present."""
    template = _sub(holder, "template") if holder is not None else None
    spec = _sub(template, "spec") if template is not None else None
    if spec is not None:
        default_pod_spec(spec)


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    return spec


# --- core/v1 ---------------------------------------------------------------------------------


def _replication_controller(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    template = _sub(spec, "template")
    labels = _sub(_sub(template, "metadata") or {}, "labels") if template else None
    if labels is not None:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        meta = obj.setdefault("metadata", {})
        if isinstance(meta, dict) and not meta.get("labels"):
            meta["labels"] = dict(labels)
    set_if_none(spec, "replicas", 1)
    _template_spec(spec)


def _service(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    set_if_unset(spec, "sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        client_ip = _sub(_sub(spec, "sessionAffinityConfig") or {}, "clientIP") or {}
        if client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    set_if_unset(spec, "type", "ClusterIP")
    svc_type = spec["type"]
    for port in _dicts(spec.get("ports")):
        set_if_unset(port, "protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    if svc_type in ("NodePort", "LoadBalancer"):
        set_if_unset(spec, "externalTrafficPolicy", "Cluster")
    if svc_type in ("ClusterIP", "NodePort", "LoadBalancer"):
        set_if_none(spec, "internalTrafficPolicy", "Cluster")
    if svc_type == "LoadBalancer":
        set_if_none(spec, "allocateLoadBalancerNodePorts", True)
    if svc_type != "ExternalName":
        # Upstream the registry's IP-family logic fills these during create; skiff is
        # single-stack IPv4, so the outcome is always the same and belongs with the defaults.
        set_if_none(spec, "ipFamilies", ["IPv4"])
        if len(spec["ipFamilies"]) <= 1:
            set_if_none(spec, "ipFamilyPolicy", "SingleStack")
        cluster_ip = spec.get("clusterIP")
        if cluster_ip and not spec.get("clusterIPs"):
            spec["clusterIPs"] = [cluster_ip]


def _secret(obj: dict[str, Any]) -> None:
    set_if_unset(obj, "type", "Opaque")


def _namespace(obj: dict[str, Any]) -> None:
    meta = obj.setdefault("metadata", {})
    if isinstance(meta, dict) and meta.get("name"):
        labels = meta.get("labels")
        if not isinstance(labels, dict):
            labels = meta["labels"] = {}
        labels["kubernetes.io/metadata.name"] = meta["name"]
    # The "kubernetes" finalizer is not a default (see prepare_namespace_create): defaulting
    # also runs on updates and would re-add it after the namespace controller removed it.
    status = obj.setdefault("status", {})
    if isinstance(status, dict):
        set_if_unset(status, "phase", "Active")


def _node(obj: dict[str, Any]) -> None:
    status = _sub(obj, "status")
    if status is not None and status.get("allocatable") is None:
        capacity = _sub(status, "capacity")
        if capacity is not None:
            status["allocatable"] = dict(capacity)


def _endpoints(obj: dict[str, Any]) -> None:
    for subset in _dicts(obj.get("subsets")):
        for port in _dicts(subset.get("ports")):
            set_if_unset(port, "protocol", "TCP")


# --- apps/v1 ---------------------------------------------------------------------------------


def _replica_set(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    set_if_none(spec, "replicas", 1)
    _template_spec(spec)


def _deployment(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    set_if_none(spec, "replicas", 1)
    strategy = spec.get("strategy")
    if not isinstance(strategy, dict):
        strategy = spec["strategy"] = {}
    set_if_unset(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        set_if_none(strategy, "rollingUpdate", {})
        rolling = strategy["rollingUpdate"]
        set_if_none(rolling, "maxUnavailable", "25%")
        set_if_none(rolling, "maxSurge", "25%")
    set_if_none(spec, "revisionHistoryLimit", 10)
    set_if_none(spec, "progressDeadlineSeconds", 600)
    _template_spec(spec)


def _daemon_set(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    strategy = spec.get("updateStrategy")
    if not isinstance(strategy, dict):
        strategy = spec["updateStrategy"] = {}
    set_if_unset(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        set_if_none(strategy, "rollingUpdate", {})
        rolling = strategy["rollingUpdate"]
        set_if_none(rolling, "maxUnavailable", 1)
        set_if_none(rolling, "maxSurge", 0)
    set_if_none(spec, "revisionHistoryLimit", 10)
    _template_spec(spec)


def _stateful_set(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    set_if_unset(spec, "podManagementPolicy", "OrderedReady")
    strategy = spec.get("updateStrategy")
    if not isinstance(strategy, dict):
        strategy = spec["updateStrategy"] = {}
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
        set_if_none(strategy, "rollingUpdate", {})
    rolling = _sub(strategy, "rollingUpdate")
    if strategy["type"] == "RollingUpdate" and rolling is not None:
        set_if_none(rolling, "partition", 0)
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    if not isinstance(retention, dict):
        retention = spec["persistentVolumeClaimRetentionPolicy"] = {}
    set_if_unset(retention, "whenDeleted", "Retain")
    set_if_unset(retention, "whenScaled", "Retain")
    set_if_none(spec, "replicas", 1)
    set_if_none(spec, "revisionHistoryLimit", 10)
    for claim in _dicts(spec.get("volumeClaimTemplates")):
        default_pvc(claim, with_status=True)
    _template_spec(spec)


# --- batch/v1 --------------------------------------------------------------------------------


def _job(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    if spec.get("completions") is None and spec.get("parallelism") is None:
        # A non-parallel Job: one pod, one completion.
        spec["completions"] = 1
        spec["parallelism"] = 1
    set_if_none(spec, "parallelism", 1)
    if spec.get("backoffLimit") is None:
        # With a per-index limit the global one is effectively off (MaxInt32).
        spec["backoffLimit"] = 2**31 - 1 if spec.get("backoffLimitPerIndex") is not None else 6
    template = _sub(spec, "template")
    labels = _sub(_sub(template, "metadata") or {}, "labels") if template else None
    meta = obj.setdefault("metadata", {})
    if labels is not None and isinstance(meta, dict) and not meta.get("labels"):
        meta["labels"] = dict(labels)
    set_if_none(spec, "completionMode", "NonIndexed")
    set_if_none(spec, "suspend", False)
    failure_policy = _sub(spec, "podFailurePolicy")
    for rule in _dicts(failure_policy.get("rules") if failure_policy else None):
        for condition in _dicts(rule.get("onPodConditions")):
            set_if_unset(condition, "status", "True")
    set_if_none(
        spec,
        "podReplacementPolicy",
        "Failed" if failure_policy is not None else "TerminatingOrFailed",
    )
    _template_spec(spec)


def _cron_job(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    set_if_unset(spec, "concurrencyPolicy", "Allow")
    set_if_none(spec, "suspend", False)
    set_if_none(spec, "successfulJobsHistoryLimit", 3)
    set_if_none(spec, "failedJobsHistoryLimit", 1)
    # Only the pod template inside the job template is defaulted (SetObjectDefaults_CronJob);
    # the Job-level defaults apply when the controller creates the Job.
    job_template = _sub(spec, "jobTemplate")
    _template_spec(_sub(job_template, "spec") if job_template else None)


# --- other groups ----------------------------------------------------------------------------


def _hpa_v1(obj: dict[str, Any]) -> None:
    set_if_none(_spec(obj), "minReplicas", 1)


def _scaling_rules(
    rules: Any, *, window: int | None, policies: list[dict[str, Any]]
) -> dict[str, Any]:
    out: dict[str, Any] = dict(rules) if isinstance(rules, dict) else {}
    if window is not None:
        set_if_none(out, "stabilizationWindowSeconds", window)
    set_if_none(out, "selectPolicy", "Max")
    set_if_none(out, "policies", policies)
    return out


def _hpa_v2(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    set_if_none(spec, "minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80},
                },
            }
        ]
    behavior = _sub(spec, "behavior")
    if behavior is not None:
        behavior["scaleUp"] = _scaling_rules(
            behavior.get("scaleUp"),
            window=0,
            policies=[
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ],
        )
        behavior["scaleDown"] = _scaling_rules(
            behavior.get("scaleDown"),
            window=SKIFF_HPA_SCALE_DOWN_STABILIZATION_SECONDS,
            policies=[{"type": "Percent", "value": 100, "periodSeconds": 15}],
        )


def _vpa(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    policy = spec.get("updatePolicy")
    if not isinstance(policy, dict):
        policy = spec["updatePolicy"] = {}
    set_if_unset(policy, "updateMode", "Auto")


def _endpoint_slice(obj: dict[str, Any]) -> None:
    for port in _dicts(obj.get("ports")):
        set_if_none(port, "name", "")
        set_if_none(port, "protocol", "TCP")


def _network_policy(obj: dict[str, Any]) -> None:
    spec = _spec(obj)
    for direction in ("ingress", "egress"):
        for rule in _dicts(spec.get(direction)):
            for port in _dicts(rule.get("ports")):
                set_if_none(port, "protocol", "TCP")
    if not spec.get("policyTypes"):
        # A policy always isolates ingress; it isolates egress only if it has egress rules.
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def _priority_class(obj: dict[str, Any]) -> None:
    set_if_none(obj, "preemptionPolicy", "PreemptLowerPriority")


_RBAC_GROUP = "rbac.authorization.k8s.io"


def _persistent_volume(obj: dict[str, Any]) -> None:
    # SetDefaults_PersistentVolume: a volume made by hand is kept when its claim goes
    spec = _spec(obj)
    set_if_unset(spec, "persistentVolumeReclaimPolicy", "Retain")
    set_if_none(spec, "volumeMode", "Filesystem")
    host_path = _sub(spec, "hostPath")
    if host_path is not None:
        set_if_none(host_path, "type", "")
    status = obj.setdefault("status", {})
    if isinstance(status, dict):
        set_if_unset(status, "phase", "Pending")


def _persistent_volume_claim(obj: dict[str, Any]) -> None:
    default_pvc(obj, with_status=True)


def _storage_class(obj: dict[str, Any]) -> None:
    set_if_none(obj, "reclaimPolicy", "Delete")
    set_if_none(obj, "volumeBindingMode", "Immediate")


def _api_service(obj: dict[str, Any]) -> None:
    service = _sub(_spec(obj), "service")
    if service is not None:
        set_if_none(service, "port", 443)


def _binding(obj: dict[str, Any]) -> None:
    role_ref = _sub(obj, "roleRef")
    if role_ref is not None:
        set_if_unset(role_ref, "apiGroup", _RBAC_GROUP)
    for subject in _dicts(obj.get("subjects")):
        if not subject.get("apiGroup"):
            if subject.get("kind") == "ServiceAccount":
                subject["apiGroup"] = ""
            elif subject.get("kind") in ("User", "Group"):
                subject["apiGroup"] = _RBAC_GROUP


_DEFAULTERS: dict[tuple[str, str], Defaulter] = {
    ("", "Pod"): default_pod,
    ("", "ReplicationController"): _replication_controller,
    ("", "Service"): _service,
    ("", "Secret"): _secret,
    ("", "Namespace"): _namespace,
    ("", "Node"): _node,
    ("", "Endpoints"): _endpoints,
    ("", "PersistentVolume"): _persistent_volume,
    ("", "PersistentVolumeClaim"): _persistent_volume_claim,
    ("storage.k8s.io", "StorageClass"): _storage_class,
    ("apiregistration.k8s.io", "APIService"): _api_service,
    ("apps", "Deployment"): _deployment,
    ("apps", "ReplicaSet"): _replica_set,
    ("apps", "DaemonSet"): _daemon_set,
    ("apps", "StatefulSet"): _stateful_set,
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _cron_job,
    ("autoscaling.k8s.io", "VerticalPodAutoscaler"): _vpa,
    ("discovery.k8s.io", "EndpointSlice"): _endpoint_slice,
    ("networking.k8s.io", "NetworkPolicy"): _network_policy,
    ("scheduling.k8s.io", "PriorityClass"): _priority_class,
    (_RBAC_GROUP, "RoleBinding"): _binding,
    (_RBAC_GROUP, "ClusterRoleBinding"): _binding,
}


def apply_defaults(group: str, version: str, kind: str, obj: dict[str, Any]) -> None:
    """Fill Kubernetes' defaults into ``obj`` in place (idempotent; unknown kinds untouched).

    ``version`` only matters where versions default differently (autoscaling v1 vs v2).
    """
    if (group, kind) == ("autoscaling", "HorizontalPodAutoscaler"):
        (_hpa_v1 if version == "v1" else _hpa_v2)(obj)
        return
    defaulter = _DEFAULTERS.get((group, kind))
    if defaulter is not None:
        defaulter(obj)


def prepare_namespace_create(obj: dict[str, Any]) -> None:
    """Create-only step of the namespace strategy: ensure the ``kubernetes`` finalizer.

    Upstream does this in ``PrepareForCreate``, not in defaulting, because the finalizer is
    removed during the namespace's life and an update must not bring it back.
    """
    spec = _spec(obj)
    finalizers = spec.get("finalizers")
    if not isinstance(finalizers, list):
        spec["finalizers"] = ["kubernetes"]
    elif "kubernetes" not in finalizers:
        finalizers.append("kubernetes")


JOB_CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


def generate_job_selector(obj: dict[str, Any]) -> None:
    """Create-only step of the Job strategy: select the Job's pods by its uid.

    Unless ``spec.manualSelector`` is true, the template gets the controller-uid and job-name
    labels (both the ``batch.kubernetes.io/`` and the legacy unprefixed keys) and the selector
    becomes ``matchLabels: {batch.kubernetes.io/controller-uid: <uid>}``. Needs ``metadata.uid``
    and ``metadata.name``, so it runs after the API server assigned them.
    """
    spec = _spec(obj)
    if spec.get("manualSelector") is True:
        return
    meta = _sub(obj, "metadata") or {}
    uid, name = str(meta.get("uid") or ""), str(meta.get("name") or "")
    template = spec.get("template")
    if not isinstance(template, dict):
        template = spec["template"] = {}
    tmeta = template.get("metadata")
    if not isinstance(tmeta, dict):
        tmeta = template["metadata"] = {}
    labels = tmeta.get("labels")
    if not isinstance(labels, dict):
        labels = tmeta["labels"] = {}
    labels.update(
        {
            "controller-uid": uid,
            JOB_CONTROLLER_UID_LABEL: uid,
            "job-name": name,
            JOB_NAME_LABEL: name,
        }
    )
    spec["selector"] = {"matchLabels": {JOB_CONTROLLER_UID_LABEL: uid}}


# --- the status of an object nothing has written status for -----------------------------------

# What Kubernetes serializes as ``status`` before any controller wrote it: the Go types' status
# fields are structs (not pointers), so they are never omitted, and the struct's fields without
# ``omitempty`` come out as zero values (k8s.io/api <group>/v1 types.go: e.g. ReplicaSetStatus'
# ``replicas``, DaemonSetStatus' four counters, ServiceStatus' ``loadBalancer`` struct). Kinds
# served from CustomResourceDefinitions upstream (VerticalPodAutoscaler) have no such status.
_ZERO_NODE_INFO = dict.fromkeys(
    (
        "machineID",
        "systemUUID",
        "bootID",
        "kernelVersion",
        "osImage",
        "containerRuntimeVersion",
        "kubeletVersion",
        "kubeProxyVersion",
        "operatingSystem",
        "architecture",
    ),
    "",
)
_ZERO_STATUS: dict[tuple[str, str], dict[str, Any]] = {
    ("", "Pod"): {},
    ("", "Namespace"): {},
    ("", "Node"): {
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
        "nodeInfo": _ZERO_NODE_INFO,
    },
    ("", "Service"): {"loadBalancer": {}},
    ("", "ReplicationController"): {"replicas": 0},
    ("apps", "Deployment"): {},
    ("apps", "ReplicaSet"): {"replicas": 0},
    ("apps", "StatefulSet"): {"replicas": 0, "availableReplicas": 0},
    ("apps", "DaemonSet"): {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
    },
    ("batch", "Job"): {},
    ("batch", "CronJob"): {},
    # v1 has both counters without omitempty, v2 only desiredReplicas; one table for the kind
    # (stored as v2, read in either), so a v1 read always has both
    ("autoscaling", "HorizontalPodAutoscaler"): {"currentReplicas": 0, "desiredReplicas": 0},
    ("networking.k8s.io", "Ingress"): {"loadBalancer": {}},
    ("policy", "PodDisruptionBudget"): {
        "disruptionsAllowed": 0,
        "currentHealthy": 0,
        "desiredHealthy": 0,
        "expectedPods": 0,
    },
}


def zero_status(group: str, kind: str) -> dict[str, Any] | None:
    """A fresh copy of the status Kubernetes shows for ``kind`` before anything wrote one, or
    None when the kind has no such status (no status field, or one that is omitted)."""
    zero = _ZERO_STATUS.get((group, kind))
    return copy.deepcopy(zero) if zero is not None else None


def fill_zero_status(group: str, kind: str, obj: dict[str, Any]) -> None:
    """Give ``obj`` the zero ``status`` of its kind, or add the zero fields its status lacks
    (what decoding into the Go type leaves there); kinds without one are untouched."""
    zero = zero_status(group, kind)
    if zero is None:
        return
    status = obj.get("status")
    if not isinstance(status, dict):
        obj["status"] = zero
        return
    for key, value in zero.items():
        status.setdefault(key, value)
