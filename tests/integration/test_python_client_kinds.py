"""The official ``kubernetes`` Python client (v32) against a real skiff API server: the other groups.

Covers the typed clients for batch/v1 (Job, CronJob), autoscaling v1 and v2 (one
HorizontalPodAutoscaler seen through both versions), policy/v1 (PodDisruptionBudget and the pod
``eviction`` subresource, refused with 429 while the budget forbids it), coordination.k8s.io/v1
(Lease with MicroTime fields), rbac.authorization.k8s.io/v1 (Role, RoleBinding),
scheduling.k8s.io/v1 (PriorityClass and the Priority admission plugin on Pods),
discovery.k8s.io/v1 (EndpointSlice) and networking.k8s.io/v1 (Ingress, NetworkPolicy): create and
read with the defaults the real API server fills, plus one validation error each where the kind
has a characteristic rule. No controllers run next to the API server here.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiClient
from kubernetes.client.rest import ApiException
from pyclient import status_of


def cause_fields(body: dict[str, Any]) -> set[str]:
    return {c["field"] for c in body["details"]["causes"]}


def pod_template(labels: dict[str, str], restart_policy: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "busybox:1.36"}]}
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    return {"metadata": {"labels": labels}, "spec": spec}


def unique(prefix: str) -> str:
    """A name for a cluster-scoped object; the server lives for the whole module."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- batch/v1 ------------------------------------------------------------------------------------


def test_job_create_read_defaults(api: ApiClient, ns: str) -> None:
    batch = client.BatchV1Api(api)
    created = batch.create_namespaced_job(
        ns,
        {
            "metadata": {"name": "pi"},
            "spec": {"template": pod_template({"app": "pi"}, restart_policy="Never")},
        },
    )
    uid = created.metadata.uid
    spec = created.spec
    assert spec.completions == 1
    assert spec.parallelism == 1
    assert spec.backoff_limit == 6
    assert spec.completion_mode == "NonIndexed"
    assert spec.suspend is False
    assert spec.manual_selector is None
    # The selector is generated from the Job's uid, and the template carries matching labels.
    assert spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": uid}
    labels = spec.template.metadata.labels
    assert labels["batch.kubernetes.io/controller-uid"] == uid
    assert labels["batch.kubernetes.io/job-name"] == "pi"
    assert labels["controller-uid"] == uid
    assert labels["job-name"] == "pi"
    assert labels["app"] == "pi"

    got = batch.read_namespaced_job("pi", ns)
    assert got.metadata.uid == uid
    assert got.spec.selector.match_labels == spec.selector.match_labels
    assert [j.metadata.name for j in batch.list_namespaced_job(ns).items] == ["pi"]

    with pytest.raises(ApiException) as exc:
        batch.create_namespaced_job(
            ns,
            {
                "metadata": {"name": "always"},
                "spec": {"template": pod_template({"app": "x"}, restart_policy="Always")},
            },
        )
    body = status_of(exc.value, 422, "Invalid")
    assert "spec.template.spec.restartPolicy" in cause_fields(body)


def test_cronjob_create_read_defaults(api: ApiClient, ns: str) -> None:
    batch = client.BatchV1Api(api)
    created = batch.create_namespaced_cron_job(
        ns,
        {
            "metadata": {"name": "nightly"},
            "spec": {
                "schedule": "0 3 * * *",
                "jobTemplate": {
                    "spec": {"template": pod_template({"app": "n"}, restart_policy="OnFailure")}
                },
            },
        },
    )
    spec = created.spec
    assert spec.schedule == "0 3 * * *"
    assert spec.concurrency_policy == "Allow"
    assert spec.suspend is False
    assert spec.successful_jobs_history_limit == 3
    assert spec.failed_jobs_history_limit == 1
    assert spec.job_template.spec.template.spec.restart_policy == "OnFailure"

    got = batch.read_namespaced_cron_job("nightly", ns)
    assert got.metadata.uid == created.metadata.uid
    patched = batch.patch_namespaced_cron_job("nightly", ns, {"spec": {"suspend": True}})
    assert patched.spec.suspend is True

    with pytest.raises(ApiException) as exc:
        batch.create_namespaced_cron_job(
            ns,
            {
                "metadata": {"name": "bad"},
                "spec": {
                    "schedule": "every day",
                    "jobTemplate": {
                        "spec": {"template": pod_template({"app": "b"}, restart_policy="Never")}
                    },
                },
            },
        )
    body = status_of(exc.value, 422, "Invalid")
    assert "spec.schedule" in cause_fields(body)


# --- autoscaling ---------------------------------------------------------------------------------


def test_hpa_v1_target_cpu_is_a_v2_resource_metric(api: ApiClient, ns: str) -> None:
    v1 = client.AutoscalingV1Api(api)
    v2 = client.AutoscalingV2Api(api)
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    created = v1.create_namespaced_horizontal_pod_autoscaler(
        ns,
        {
            "metadata": {"name": "web"},
            "spec": {
                "scaleTargetRef": target,
                "maxReplicas": 5,
                "targetCPUUtilizationPercentage": 50,
            },
        },
    )
    assert isinstance(created, client.V1HorizontalPodAutoscaler)
    assert created.spec.min_replicas == 1
    assert created.spec.target_cpu_utilization_percentage == 50

    seen = v2.read_namespaced_horizontal_pod_autoscaler("web", ns)
    assert isinstance(seen, client.V2HorizontalPodAutoscaler)
    assert seen.api_version == "autoscaling/v2"
    assert seen.metadata.uid == created.metadata.uid
    assert seen.spec.min_replicas == 1
    assert seen.spec.max_replicas == 5
    assert seen.spec.scale_target_ref.name == "web"
    assert len(seen.spec.metrics) == 1
    metric = seen.spec.metrics[0]
    assert metric.type == "Resource"
    assert metric.resource.name == "cpu"
    assert metric.resource.target.type == "Utilization"
    assert metric.resource.target.average_utilization == 50

    # A v2 change is visible through v1 too.
    v2.patch_namespaced_horizontal_pod_autoscaler(
        "web",
        ns,
        {
            "spec": {
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 70},
                        },
                    }
                ]
            }
        },
    )
    assert (
        v1.read_namespaced_horizontal_pod_autoscaler(
            "web", ns
        ).spec.target_cpu_utilization_percentage
        == 70
    )

    with pytest.raises(ApiException) as exc:
        v2.create_namespaced_horizontal_pod_autoscaler(
            ns,
            {
                "metadata": {"name": "bad"},
                "spec": {"scaleTargetRef": target, "minReplicas": 3, "maxReplicas": 2},
            },
        )
    body = status_of(exc.value, 422, "Invalid")
    assert "spec.maxReplicas" in cause_fields(body)


def test_hpa_v2_defaults_cpu_metric(api: ApiClient, ns: str) -> None:
    v2 = client.AutoscalingV2Api(api)
    created = v2.create_namespaced_horizontal_pod_autoscaler(
        ns,
        {
            "metadata": {"name": "plain"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "x"},
                "maxReplicas": 3,
            },
        },
    )
    assert created.spec.min_replicas == 1
    [metric] = created.spec.metrics
    assert (metric.type, metric.resource.name, metric.resource.target.average_utilization) == (
        "Resource",
        "cpu",
        80,
    )
    assert created.spec.behavior is None


# --- policy/v1 -----------------------------------------------------------------------------------


def _ready_pod(core: client.CoreV1Api, ns: str, name: str) -> None:
    template = pod_template({"app": "db"})
    template["metadata"]["name"] = name
    core.create_namespaced_pod(ns, template)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    core.patch_namespaced_pod_status(
        name,
        ns,
        {
            "status": {
                "phase": "Running",
                "conditions": [
                    {"type": "Ready", "status": "True", "lastTransitionTime": now.isoformat()}
                ],
            }
        },
    )


def _evict(core: client.CoreV1Api, ns: str, name: str) -> Any:
    return core.create_namespaced_pod_eviction(
        name,
        ns,
        {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": name, "namespace": ns},
        },
    )


def _budget_current(policy: client.PolicyV1Api, ns: str, name: str) -> None:
    """Wait until the disruption controller has computed the budget's status for its current
    generation (the eviction subresource answers 429 until then, as in Kubernetes)."""
    deadline = time.monotonic() + 15
    while True:
        pdb = policy.read_namespaced_pod_disruption_budget(name, ns)
        if pdb.status is not None and pdb.status.observed_generation == pdb.metadata.generation:
            return
        assert time.monotonic() < deadline, f"budget {name} status never caught up"
        time.sleep(0.05)


@pytest.mark.usefixtures("default_service_account")
def test_pdb_and_eviction(api: ApiClient, core: client.CoreV1Api, ns: str) -> None:
    policy = client.PolicyV1Api(api)
    for name in ("db-0", "db-1"):
        _ready_pod(core, ns, name)
    pdb = policy.create_namespaced_pod_disruption_budget(
        ns,
        {
            "metadata": {"name": "db"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}},
        },
    )
    assert pdb.spec.min_available == 2
    assert policy.read_namespaced_pod_disruption_budget("db", ns).metadata.uid == pdb.metadata.uid
    _budget_current(policy, ns, "db")

    # Two healthy pods and two required: evicting one would violate the budget.
    with pytest.raises(ApiException) as exc:
        _evict(core, ns, "db-0")
    body = status_of(exc.value, 429, "TooManyRequests")
    assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    causes = body["details"]["causes"]
    assert [c["reason"] for c in causes] == ["DisruptionBudget"]
    assert causes[0]["message"].startswith("The disruption budget db ")
    assert core.read_namespaced_pod("db-0", ns).metadata.deletion_timestamp is None

    # Relax the budget: one disruption is allowed now, and the eviction deletes the pod.
    policy.patch_namespaced_pod_disruption_budget("db", ns, {"spec": {"minAvailable": 1}})
    _budget_current(policy, ns, "db")
    _evict(core, ns, "db-0")
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod("db-0", ns)
    status_of(exc.value, 404, "NotFound")

    # Evicting a pod that does not exist is a 404.
    with pytest.raises(ApiException) as exc:
        _evict(core, ns, "db-9")
    status_of(exc.value, 404, "NotFound")

    with pytest.raises(ApiException) as exc:
        policy.create_namespaced_pod_disruption_budget(
            ns,
            {
                "metadata": {"name": "both"},
                "spec": {
                    "minAvailable": 1,
                    "maxUnavailable": 1,
                    "selector": {"matchLabels": {"app": "db"}},
                },
            },
        )
    status_of(exc.value, 422, "Invalid")


@pytest.mark.usefixtures("default_service_account")
def test_eviction_refusal_names_the_pod_counts(
    api: ApiClient, core: client.CoreV1Api, ns: str
) -> None:
    policy = client.PolicyV1Api(api)
    for name in ("db-0", "db-1"):
        _ready_pod(core, ns, name)
    policy.create_namespaced_pod_disruption_budget(
        ns,
        {
            "metadata": {"name": "db"},
            # an integer minAvailable counts bare pods (maxUnavailable counts only the replicas
            # of the pods' controllers, as in Kubernetes 1.32)
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}},
        },
    )
    _budget_current(policy, ns, "db")
    with pytest.raises(ApiException) as exc:
        _evict(core, ns, "db-1")
    body = status_of(exc.value, 429, "TooManyRequests")
    [cause] = body["details"]["causes"]
    assert cause == {
        "reason": "DisruptionBudget",
        "message": "The disruption budget db needs 2 healthy pods and has 2 currently",
    }


# --- coordination.k8s.io/v1 ----------------------------------------------------------------------


def test_lease_micro_time_round_trip(api: ApiClient, ns: str) -> None:
    coordination = client.CoordinationV1Api(api)
    acquired = dt.datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
    created = coordination.create_namespaced_lease(
        ns,
        client.V1Lease(
            metadata=client.V1ObjectMeta(name="leader"),
            spec=client.V1LeaseSpec(
                holder_identity="node-a",
                lease_duration_seconds=15,
                acquire_time=acquired,
                renew_time=acquired,
                lease_transitions=0,
            ),
        ),
    )
    assert created.spec.holder_identity == "node-a"
    assert created.spec.acquire_time == acquired  # MicroTime keeps the microseconds

    renewed = acquired + dt.timedelta(seconds=10)
    created.spec.renew_time = renewed
    created.spec.holder_identity = "node-b"
    created.spec.lease_transitions = 1
    replaced = coordination.replace_namespaced_lease("leader", ns, created)
    assert replaced.spec.renew_time == renewed
    assert replaced.spec.holder_identity == "node-b"
    assert replaced.spec.lease_transitions == 1

    # A stale renewal loses: this is what leader election relies on.
    created.spec.holder_identity = "node-c"
    with pytest.raises(ApiException) as exc:
        coordination.replace_namespaced_lease("leader", ns, created)
    status_of(exc.value, 409, "Conflict")


def test_lease_times_are_normalized_to_utc_z(api: ApiClient, ns: str) -> None:
    coordination = client.CoordinationV1Api(api)
    acquired = dt.datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
    offset = dt.datetime(2025, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    coordination.create_namespaced_lease(
        ns,
        client.V1Lease(
            metadata=client.V1ObjectMeta(name="fmt"),
            spec=client.V1LeaseSpec(holder_identity="a", acquire_time=acquired, renew_time=offset),
        ),
    )
    raw = json.loads(coordination.read_namespaced_lease("fmt", ns, _preload_content=False).data)
    assert raw["spec"]["acquireTime"] == "2025-01-02T03:04:05.123456Z"
    assert raw["spec"]["renewTime"] == "2025-01-02T03:04:05.000000Z"


# --- rbac.authorization.k8s.io/v1 ----------------------------------------------------------------


def test_role_and_role_binding(api: ApiClient, ns: str) -> None:
    rbac = client.RbacAuthorizationV1Api(api)
    role = rbac.create_namespaced_role(
        ns,
        {
            "metadata": {"name": "reader"},
            "rules": [
                {"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": ["get", "list"]}
            ],
        },
    )
    assert role.rules[0].resources == ["pods", "configmaps"]
    binding = rbac.create_namespaced_role_binding(
        ns,
        {
            "metadata": {"name": "reader-binding"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
            "subjects": [
                {"kind": "ServiceAccount", "name": "default", "namespace": ns},
                {"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"},
            ],
        },
    )
    assert binding.role_ref.name == "reader"
    assert [(s.kind, s.name) for s in binding.subjects] == [
        ("ServiceAccount", "default"),
        ("User", "alice"),
    ]
    assert rbac.read_namespaced_role("reader", ns).metadata.uid == role.metadata.uid
    got = rbac.read_namespaced_role_binding("reader-binding", ns)
    assert got.subjects[0].api_group in (None, "")

    # roleRef cannot change once set.
    got.role_ref.name = "writer"
    with pytest.raises(ApiException) as exc:
        rbac.replace_namespaced_role_binding("reader-binding", ns, got)
    body = status_of(exc.value, 422, "Invalid")
    assert "roleRef" in cause_fields(body)

    with pytest.raises(ApiException) as exc:
        rbac.create_namespaced_role(
            ns,
            {
                "metadata": {"name": "noverbs"},
                "rules": [{"apiGroups": [""], "resources": ["pods"]}],
            },
        )
    body = status_of(exc.value, 422, "Invalid")
    assert "rules[0].verbs" in cause_fields(body)


# --- scheduling.k8s.io/v1 ------------------------------------------------------------------------


@pytest.mark.usefixtures("default_service_account")
def test_priority_class_and_pod_priority(api: ApiClient, core: client.CoreV1Api, ns: str) -> None:
    scheduling = client.SchedulingV1Api(api)
    name = unique("high")
    created = scheduling.create_priority_class(
        {"metadata": {"name": name}, "value": 1000000, "description": "test"}
    )
    try:
        assert created.value == 1000000
        assert created.preemption_policy == "PreemptLowerPriority"
        assert created.global_default is None  # a false bool is omitted
        assert scheduling.read_priority_class(name).metadata.uid == created.metadata.uid
        system = scheduling.read_priority_class("system-cluster-critical")
        assert system.value == 2000000000

        pod = core.create_namespaced_pod(
            ns,
            {
                "metadata": {"name": "important"},
                "spec": {**pod_template({})["spec"], "priorityClassName": name},
            },
        )
        assert pod.spec.priority == 1000000
        assert pod.spec.preemption_policy == "PreemptLowerPriority"
        plain = core.create_namespaced_pod(
            ns, {"metadata": {"name": "plain"}, "spec": pod_template({})["spec"]}
        )
        assert plain.spec.priority == 0

        with pytest.raises(ApiException) as exc:
            core.create_namespaced_pod(
                ns,
                {
                    "metadata": {"name": "unknown"},
                    "spec": {**pod_template({})["spec"], "priorityClassName": unique("nope")},
                },
            )
        body = status_of(exc.value, 403, "Forbidden")
        assert "no PriorityClass with name" in body["message"]

        # The value of a PriorityClass is immutable.
        created.value = 5
        with pytest.raises(ApiException) as exc:
            scheduling.replace_priority_class(name, created)
        body = status_of(exc.value, 422, "Invalid")
        assert "value" in cause_fields(body)
    finally:
        scheduling.delete_priority_class(name)


# --- discovery.k8s.io/v1 -------------------------------------------------------------------------


def test_endpoint_slice(api: ApiClient, ns: str) -> None:
    discovery = client.DiscoveryV1Api(api)
    created = discovery.create_namespaced_endpoint_slice(
        ns,
        {
            "metadata": {"name": "web-abc", "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": ["10.244.1.5"], "conditions": {"ready": True}, "nodeName": "n1"},
                {"addresses": ["10.244.2.7"], "conditions": {"ready": False}},
            ],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        },
    )
    assert created.address_type == "IPv4"
    assert [e.addresses for e in created.endpoints] == [["10.244.1.5"], ["10.244.2.7"]]
    assert created.endpoints[0].conditions.ready is True
    assert created.ports[0].port == 8080

    listed = discovery.list_namespaced_endpoint_slice(
        ns, label_selector="kubernetes.io/service-name=web"
    ).items
    assert [s.metadata.name for s in listed] == ["web-abc"]
    got = discovery.read_namespaced_endpoint_slice("web-abc", ns)
    assert got.endpoints[0].node_name == "n1"

    with pytest.raises(ApiException) as exc:
        discovery.create_namespaced_endpoint_slice(
            ns,
            {
                "metadata": {"name": "bad"},
                "addressType": "IPv4",
                "endpoints": [{"addresses": ["not-an-ip"]}],
            },
        )
    body = status_of(exc.value, 422, "Invalid")
    assert "endpoints[0].addresses[0]" in cause_fields(body)


# --- networking.k8s.io/v1 ------------------------------------------------------------------------


def test_ingress(api: ApiClient, ns: str) -> None:
    networking = client.NetworkingV1Api(api)
    backend = {"service": {"name": "web", "port": {"number": 80}}}
    created = networking.create_namespaced_ingress(
        ns,
        {
            "metadata": {"name": "web"},
            "spec": {
                "rules": [
                    {
                        "host": "web.example.com",
                        "http": {
                            "paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]
                        },
                    }
                ]
            },
        },
    )
    path = created.spec.rules[0].http.paths[0]
    assert path.path_type == "Prefix"
    assert path.backend.service.name == "web"
    assert path.backend.service.port.number == 80
    got = networking.read_namespaced_ingress("web", ns)
    assert got.spec.rules[0].host == "web.example.com"

    with pytest.raises(ApiException) as exc:
        networking.create_namespaced_ingress(
            ns,
            {
                "metadata": {"name": "nopathtype"},
                "spec": {"rules": [{"http": {"paths": [{"path": "/", "backend": backend}]}}]},
            },
        )
    body = status_of(exc.value, 422, "Invalid")
    assert "spec.rules[0].http.paths[0].pathType" in cause_fields(body)


def test_network_policy_defaults_policy_types(api: ApiClient, ns: str) -> None:
    networking = client.NetworkingV1Api(api)
    ingress_only = networking.create_namespaced_network_policy(
        ns,
        {
            "metadata": {"name": "allow-web"},
            "spec": {
                "podSelector": {"matchLabels": {"app": "db"}},
                "ingress": [
                    {
                        "from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                        "ports": [{"port": 5432}],
                    }
                ],
            },
        },
    )
    assert ingress_only.spec.policy_types == ["Ingress"]
    assert ingress_only.spec.ingress[0].ports[0].protocol == "TCP"

    with_egress = networking.create_namespaced_network_policy(
        ns,
        {
            "metadata": {"name": "egress"},
            "spec": {
                "podSelector": {},
                "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}],
            },
        },
    )
    assert with_egress.spec.policy_types == ["Ingress", "Egress"]
    names = [p.metadata.name for p in networking.list_namespaced_network_policy(ns).items]
    assert sorted(names) == ["allow-web", "egress"]

    with pytest.raises(ApiException) as exc:
        networking.create_namespaced_network_policy(
            ns,
            {
                "metadata": {"name": "badcidr"},
                "spec": {"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "nope"}}]}]},
            },
        )
    body = status_of(exc.value, 422, "Invalid")
    assert "spec.egress[0].to[0].ipBlock.cidr" in cause_fields(body)
