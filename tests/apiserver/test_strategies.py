"""Per-kind strategies (skiff.apiserver.strategies), called directly as the registry calls them:
the default's status reset and generation bumps, status-update resets, delete decisions
(grace, finalizers, should-delete-during-update), Pod QoS/status/grace, Namespace phase and
spec.finalizers, Service allocated values and allocation hooks, Secret stringData, Job
selectors, Node status on create, create-on-update kinds, selectable fields and tables, and the
strategy table itself.

The registry's use of them over a store is in test_registry.py.
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from skiff.api import resources
from skiff.api.resources import ResourceInfo
from skiff.apiserver.auth import UserInfo
from skiff.apiserver.registry import RequestContext
from skiff.apiserver.strategies import (
    DefaultStrategy,
    GroupKind,
    JobStrategy,
    NamespaceStrategy,
    NodeStrategy,
    PodStrategy,
    ResourceStrategy,
    SecretStrategy,
    ServiceStrategy,
    build_strategies,
    qos_class,
)

CTX = RequestContext(user=UserInfo("tester"))


def _info(group: str, version: str, plural: str) -> ResourceInfo:
    info = resources.by_resource(group, version, plural)
    assert info is not None
    return info


PODS = _info("", "v1", "pods")
DEPLOYMENTS = _info("apps", "v1", "deployments")
CONFIGMAPS = _info("", "v1", "configmaps")


def meta(name: str = "x", **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "default", "uid": "u1", **extra}


def deployment(replicas: int = 1, **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(generation=1, labels={"a": "1"}),
        "spec": {"replicas": replicas},
        "status": dict(status),
    }


# ---------------------------------------------------------------- the default strategy


def test_default_resets_status_and_starts_generation_on_create() -> None:
    obj = deployment(replicas=2, replicas_ready=3)
    DefaultStrategy(DEPLOYMENTS).prepare_for_create(obj)
    # the client's status is dropped; what is left is Kubernetes' zero DeploymentStatus
    assert obj["status"] == {} and obj["metadata"]["generation"] == 1


@pytest.mark.parametrize(
    ("group", "version", "plural", "zero"),
    [
        ("apps", "v1", "deployments", {}),
        ("apps", "v1", "replicasets", {"replicas": 0}),
        ("apps", "v1", "statefulsets", {"replicas": 0, "availableReplicas": 0}),
        (
            "apps",
            "v1",
            "daemonsets",
            {
                "currentNumberScheduled": 0,
                "numberMisscheduled": 0,
                "desiredNumberScheduled": 0,
                "numberReady": 0,
            },
        ),
        ("", "v1", "replicationcontrollers", {"replicas": 0}),
        ("", "v1", "services", {"loadBalancer": {}}),
        ("batch", "v1", "jobs", {}),
        ("batch", "v1", "cronjobs", {}),
        (
            "autoscaling",
            "v2",
            "horizontalpodautoscalers",
            {"currentReplicas": 0, "desiredReplicas": 0},
        ),
        ("networking.k8s.io", "v1", "ingresses", {"loadBalancer": {}}),
        (
            "policy",
            "v1",
            "poddisruptionbudgets",
            {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0},
        ),
    ],
)
def test_a_new_object_has_the_zero_status_of_its_go_type(
    group: str, version: str, plural: str, zero: dict[str, Any]
) -> None:
    info = _info(group, version, plural)
    strategy = build_strategies()[GroupKind.of(info)]
    obj: dict[str, Any] = {"metadata": meta(), "spec": {}, "status": {"bogus": 1}}
    strategy.prepare_for_create(obj)
    assert obj["status"] == zero
    # an object stored before (without status) gets it on its next write, and a status write
    # that leaves fields out has them as zero values
    old = {"metadata": meta(generation=1), "spec": {}}
    new = copy.deepcopy(old)
    strategy.prepare_for_update(new, old)
    assert new["status"] == zero
    new = {"metadata": meta(), "status": {"observedGeneration": 1}}
    strategy.prepare_status_update(new, old)
    assert new["status"] == {"observedGeneration": 1, **zero}


def test_a_kind_without_a_go_struct_status_gets_none() -> None:
    # VerticalPodAutoscaler is a custom resource upstream: nothing fills its status
    vpa = _info("autoscaling.k8s.io", "v1", "verticalpodautoscalers")
    obj: dict[str, Any] = {"metadata": meta(), "spec": {}}
    DefaultStrategy(vpa).prepare_for_create(obj)
    assert "status" not in obj


def test_default_without_status_stores_what_it_gets() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(), "data": {"a": "b"}}
    before = copy.deepcopy(obj)
    DefaultStrategy(CONFIGMAPS).prepare_for_create(obj)
    assert obj == before
    new = copy.deepcopy(obj)
    new["data"] = {"a": "c"}
    DefaultStrategy(CONFIGMAPS).prepare_for_update(new, obj)
    assert "generation" not in new["metadata"]


@pytest.mark.parametrize(
    ("change", "generation"),
    [
        pytest.param({"spec": {"replicas": 5}}, 2, id="spec-change-bumps"),
        pytest.param({"metadata": meta(generation=1, labels={"a": "2"})}, 1, id="labels-do-not"),
        pytest.param({"status": {"replicas": 7}}, 1, id="status-ignored"),
    ],
)
def test_default_update_keeps_status_and_bumps_generation_on_spec_change(
    change: dict[str, Any], generation: int
) -> None:
    old = deployment(replicas=1, replicas_seen=1)
    new = copy.deepcopy(old)
    new.update(copy.deepcopy(change))
    DefaultStrategy(DEPLOYMENTS).prepare_for_update(new, old)
    assert new["status"] == old["status"]
    assert new["metadata"]["generation"] == generation


def test_status_update_resets_everything_but_status() -> None:
    old = deployment(replicas=1, observedGeneration=1)
    old["metadata"]["finalizers"] = ["keep"]
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 9
    new["extra"] = True
    new["metadata"]["labels"] = {"changed": "yes"}
    new["metadata"]["generation"] = 5
    new["metadata"].pop("finalizers")
    new["status"] = {"replicas": 4}
    DefaultStrategy(DEPLOYMENTS).prepare_status_update(new, old)
    assert new["spec"] == old["spec"] and "extra" not in new
    assert new["metadata"]["labels"] == {"a": "1"} and new["metadata"]["generation"] == 1
    assert new["metadata"]["finalizers"] == ["keep"]
    assert new["status"] == {"replicas": 4}


def test_default_validate_uses_the_kinds_rules() -> None:
    strategy = DefaultStrategy(CONFIGMAPS)
    good = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(), "data": {"k": "v"}}
    assert strategy.validate(good) == []
    bad = copy.deepcopy(good)
    bad["data"] = {"not a key!": "v"}
    assert [e.field for e in strategy.validate(bad)] == ["data[not a key!]"]
    assert strategy.validate_update(bad, good)


def test_default_delete_decisions() -> None:
    strategy = DefaultStrategy(CONFIGMAPS)
    obj: dict[str, Any] = {"metadata": meta()}
    assert strategy.delete_grace_seconds(obj, 30) == 0
    assert not strategy.finalizers_pending(obj)
    assert not strategy.should_delete_during_update(obj, obj)  # not being deleted
    deleting = {"metadata": meta(deletionTimestamp="2026-01-01T00:00:00Z")}
    assert strategy.should_delete_during_update(deleting, deleting)
    held = {"metadata": meta(deletionTimestamp="2026-01-01T00:00:00Z", finalizers=["f"])}
    assert strategy.finalizers_pending(held)
    assert not strategy.should_delete_during_update(held, held)


def test_marking_for_deletion_bumps_generation_once() -> None:
    strategy = DefaultStrategy(DEPLOYMENTS)
    old = deployment()
    new = copy.deepcopy(old)
    new["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    strategy.prepare_for_delete(new, old)
    assert new["metadata"]["generation"] == 2
    again = copy.deepcopy(new)
    strategy.prepare_for_delete(again, new)
    assert again["metadata"]["generation"] == 2


@pytest.mark.parametrize(
    ("group", "kind", "creates"),
    [
        ("", "Endpoints", True),
        ("", "Event", True),
        ("coordination.k8s.io", "Lease", True),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding", True),
        ("scheduling.k8s.io", "PriorityClass", True),
        ("", "ConfigMap", False),
        ("", "Pod", False),
        ("apps", "Deployment", False),
    ],
)
def test_allow_create_on_update(group: str, kind: str, creates: bool) -> None:
    assert build_strategies()[GroupKind(group, kind)].allow_create_on_update is creates


@pytest.mark.parametrize(
    ("kind", "returns"),
    [("Pod", True), ("Service", True), ("Namespace", True), ("Node", True), ("ConfigMap", False)],
)
def test_return_deleted_object(kind: str, returns: bool) -> None:
    assert build_strategies()[GroupKind("", kind)].return_deleted_object is returns


def test_table_covers_every_served_kind_once() -> None:
    table = build_strategies()
    served = {GroupKind.of(info) for info in resources.RESOURCES}
    assert set(table) == served
    assert all(s.group_kind == gk for gk, s in table.items())
    # the typed table only holds ResourceStrategy implementations (checked statically too)
    strategy: ResourceStrategy = table[GroupKind("", "Pod")]
    assert isinstance(strategy, PodStrategy)


# ---------------------------------------------------------------- Pod


def _container(requests: dict[str, str] | None, limits: dict[str, str] | None) -> dict[str, Any]:
    resources_: dict[str, Any] = {}
    if requests:
        resources_["requests"] = requests
    if limits:
        resources_["limits"] = limits
    return {"name": "c", "image": "i", "resources": resources_}


@pytest.mark.parametrize(
    ("containers", "qos"),
    [
        pytest.param([_container(None, None)], "BestEffort", id="nothing-set"),
        pytest.param([_container({"cpu": "1"}, None)], "Burstable", id="requests-only"),
        pytest.param(
            [_container(None, {"cpu": "1", "memory": "1Gi"})], "Guaranteed", id="limits-only"
        ),
        pytest.param(
            [_container({"cpu": "1", "memory": "1Gi"}, {"cpu": "1", "memory": "1Gi"})],
            "Guaranteed",
            id="equal",
        ),
        pytest.param(
            [_container({"cpu": "1"}, {"cpu": "2", "memory": "1Gi"})], "Burstable", id="unequal"
        ),
        pytest.param(
            [_container(None, {"cpu": "1", "memory": "1Gi"}), _container(None, None)],
            "Burstable",
            id="one-best-effort",
        ),
    ],
)
def test_pod_qos_class(containers: list[dict[str, Any]], qos: str) -> None:
    assert qos_class({"containers": containers}) == qos


def test_pod_create_is_pending_with_its_qos_class() -> None:
    pod = {
        "metadata": meta(),
        "spec": {"containers": [_container({"cpu": "1"}, None)]},
        "status": {"phase": "Running", "podIP": "1.2.3.4"},
    }
    PodStrategy(PODS).prepare_for_create(pod)
    assert pod["status"] == {"phase": "Pending", "qosClass": "Burstable"}
    assert pod["metadata"]["generation"] == 1


@pytest.mark.parametrize(
    ("spec", "phase", "requested", "grace"),
    [
        pytest.param({}, None, None, 0, id="unbound"),
        pytest.param({"nodeName": "n"}, None, None, 30, id="bound-default"),
        pytest.param(
            {"nodeName": "n", "terminationGracePeriodSeconds": 7}, None, None, 7, id="spec"
        ),
        pytest.param({"nodeName": "n"}, None, 3, 3, id="requested"),
        pytest.param({"nodeName": "n"}, None, -1, 0, id="negative-is-zero"),
        pytest.param({"nodeName": "n"}, "Succeeded", None, 0, id="finished"),
        pytest.param({"nodeName": "n"}, "Failed", 10, 0, id="failed"),
    ],
)
def test_pod_delete_grace(
    spec: dict[str, Any], phase: str | None, requested: int | None, grace: int
) -> None:
    pod = {"metadata": meta(), "spec": spec, "status": {"phase": phase} if phase else {}}
    assert PodStrategy(PODS).delete_grace_seconds(pod, requested) == grace


def test_pod_in_its_grace_period_is_not_deleted_by_an_update() -> None:
    pod = {
        "metadata": meta(deletionTimestamp="2026-01-01T00:00:00Z", deletionGracePeriodSeconds=30)
    }
    strategy = PodStrategy(PODS)
    assert not strategy.should_delete_during_update(pod, pod)
    pod["metadata"]["deletionGracePeriodSeconds"] = 0
    assert strategy.should_delete_during_update(pod, pod)


def test_pod_selectable_fields_and_table() -> None:
    strategy = PodStrategy(PODS)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta("web", creationTimestamp="2026-01-01T00:00:00Z"),
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": "Running"},
    }
    fields = strategy.selectable_fields(pod)
    assert fields["spec.nodeName"] == "n1" and fields["status.phase"] == "Running"
    assert fields["metadata.name"] == "web"
    table = strategy.convert_to_table([pod], include="None")
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"]][:3] == ["Name", "Ready", "Status"]
    (row,) = table["rows"]
    assert row["cells"][0] == "web" and "object" not in row
    meta_row = strategy.convert_to_table([pod], include="Metadata", version="v1beta1")
    assert meta_row["apiVersion"] == "meta.k8s.io/v1beta1"
    assert meta_row["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert strategy.convert_to_table([pod], include="Object")["rows"][0]["object"] is pod


# ---------------------------------------------------------------- Namespace


def _ns_strategy() -> NamespaceStrategy:
    return NamespaceStrategy(_info("", "v1", "namespaces"))


def test_namespace_is_born_active_with_the_kubernetes_finalizer() -> None:
    ns: dict[str, Any] = {"metadata": {"name": "a"}, "status": {"phase": "Terminating"}}
    _ns_strategy().prepare_for_create(ns)
    assert ns["status"] == {"phase": "Active"} and ns["spec"]["finalizers"] == ["kubernetes"]


def test_namespace_update_keeps_spec_finalizers_and_phase() -> None:
    old = {
        "metadata": {"name": "a", "generation": 1},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Terminating"},
    }
    new: dict[str, Any] = {"metadata": {"name": "a"}, "spec": {}, "status": {"phase": "Active"}}
    _ns_strategy().prepare_for_update(new, old)
    assert new["spec"] == {"finalizers": ["kubernetes"]}
    assert new["status"] == {"phase": "Terminating"}
    emptied = {"metadata": {"name": "a"}, "spec": {"finalizers": ["other"]}}
    _ns_strategy().prepare_for_update(emptied, {"metadata": {"name": "a"}, "spec": {}})
    assert emptied["spec"] == {} and emptied["status"] == {"phase": "Active"}


def test_namespace_delete_is_terminating_while_spec_finalizers_remain() -> None:
    strategy = _ns_strategy()
    old: dict[str, Any] = {
        "metadata": {"name": "a", "generation": 1},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }
    assert strategy.finalizers_pending(old)
    new = copy.deepcopy(old)
    new["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    strategy.prepare_for_delete(new, old)
    assert new["status"]["phase"] == "Terminating" and new["metadata"]["generation"] == 2
    assert not strategy.should_delete_during_update(new, old)
    new["spec"]["finalizers"] = []
    assert strategy.should_delete_during_update(new, old)


# ---------------------------------------------------------------- Service


@dataclass
class Recorder:
    calls: list[tuple[str, Any]] = field(default_factory=list)

    async def before_write(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        self.calls.append(("before_write", old is None))

    async def after_delete(self, obj: dict[str, Any]) -> None:
        self.calls.append(("after_delete", obj["metadata"]["name"]))


def _svc(spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": meta("svc"), "spec": spec}


def test_service_update_keeps_allocated_values() -> None:
    strategy = ServiceStrategy(_info("", "v1", "services"))
    old = _svc(
        {
            "type": "NodePort",
            "clusterIP": "10.43.0.9",
            "clusterIPs": ["10.43.0.9"],
            "ports": [
                {"port": 80, "protocol": "TCP", "nodePort": 30080},
                {"port": 53, "protocol": "UDP", "nodePort": 30053},
            ],
        }
    )
    new = _svc(
        {
            "type": "NodePort",
            "ports": [
                {"port": 80, "protocol": "TCP"},
                {"port": 53, "protocol": "UDP", "nodePort": 31000},
                {"port": 443, "protocol": "TCP"},
            ],
        }
    )
    strategy.prepare_for_update(new, old)
    assert new["spec"]["clusterIP"] == "10.43.0.9" and new["spec"]["clusterIPs"] == ["10.43.0.9"]
    assert [p.get("nodePort") for p in new["spec"]["ports"]] == [30080, 31000, None]
    cluster_ip = _svc({"type": "ClusterIP", "ports": [{"port": 80}]})
    strategy.prepare_for_update(cluster_ip, old)
    assert "nodePort" not in cluster_ip["spec"]["ports"][0]


async def test_service_and_node_delegate_to_their_allocation() -> None:
    recorder = Recorder()
    svc = ServiceStrategy(_info("", "v1", "services"), recorder)
    node = NodeStrategy(_info("", "v1", "nodes"), recorder)
    obj = _svc({})
    await svc.before_write(obj, None, CTX)
    await node.before_write(obj, obj, CTX)
    await svc.after_delete(obj)
    await node.after_delete(obj)
    assert recorder.calls == [
        ("before_write", True),
        ("before_write", False),
        ("after_delete", "svc"),
        ("after_delete", "svc"),
    ]
    strategies = build_strategies(service_allocation=recorder, node_allocation=recorder)
    await strategies[GroupKind("", "Service")].before_write(obj, None, CTX)
    await strategies[GroupKind("", "Node")].after_delete(obj)
    await strategies[GroupKind("", "ConfigMap")].before_write(obj, None, CTX)
    assert recorder.calls[4:] == [("before_write", True), ("after_delete", "svc")]


# ---------------------------------------------------------------- Secret, Job, Node


def test_secret_string_data_is_folded_into_data() -> None:
    strategy = SecretStrategy(_info("", "v1", "secrets"))
    secret: dict[str, Any] = {
        "metadata": meta(),
        "data": {"a": base64.b64encode(b"old").decode()},
        "stringData": {"b": "two", "a": "one"},
    }
    strategy.prepare_for_create(secret)
    assert "stringData" not in secret
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {
        "a": "one",
        "b": "two",
    }
    new = {"metadata": meta(), "stringData": {"c": "3"}}
    strategy.prepare_for_update(new, secret)
    assert new == {"metadata": meta(), "data": {"c": base64.b64encode(b"3").decode()}}


def test_job_selector_is_generated_unless_manual() -> None:
    strategy = JobStrategy(_info("batch", "v1", "jobs"))
    job: dict[str, Any] = {"metadata": meta("pi"), "spec": {"template": {"spec": {}}}}
    strategy.prepare_for_create(job)
    uid_label = "batch.kubernetes.io/controller-uid"
    assert job["spec"]["selector"] == {"matchLabels": {uid_label: "u1"}}
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels[uid_label] == "u1" and labels["batch.kubernetes.io/job-name"] == "pi"
    assert job["metadata"]["generation"] == 1 and job["status"] == {}
    manual = {
        "metadata": meta("pi"),
        "spec": {"manualSelector": True, "selector": {"matchLabels": {"x": "y"}}},
    }
    strategy.prepare_for_create(manual)
    assert manual["spec"]["selector"] == {"matchLabels": {"x": "y"}}


def test_node_keeps_its_status_on_create() -> None:
    node: dict[str, Any] = {"metadata": {"name": "n1"}, "status": {"capacity": {"cpu": "2"}}}
    NodeStrategy(_info("", "v1", "nodes")).prepare_for_create(node)
    assert node["status"]["capacity"] == {"cpu": "2"}
    # what the agent left out reads as Kubernetes' zero NodeStatus
    assert node["status"]["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 0}}
    assert node["status"]["nodeInfo"]["kubeletVersion"] == ""
    assert node["metadata"]["generation"] == 1
