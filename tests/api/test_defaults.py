"""Defaulting (``skiff.api.defaults.apply_defaults``) for every kind that has defaults.

Each case feeds a minimal object and checks the defaulted fields by path; every case is also
checked for idempotence (defaulting twice equals defaulting once) and for not touching what the
user set. Excludes validation (test_validation.py) and admission-time fields.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from skiff.api.defaults import (
    SKIFF_HPA_SCALE_DOWN_STABILIZATION_SECONDS,
    apply_defaults,
    generate_job_selector,
    prepare_namespace_create,
)

Obj = dict[str, Any]
_MISSING = object()


def _get(obj: Any, path: str) -> Any:
    for part in path.replace("]", "").replace("[", ".").split("."):
        if isinstance(obj, list):
            obj = obj[int(part)]
        elif isinstance(obj, dict) and part in obj:
            obj = obj[part]
        else:
            return _MISSING
    return obj


def _pod_spec() -> Obj:
    return {
        "containers": [
            {
                "name": "web",
                "image": "nginx",
                "ports": [{"containerPort": 80}],
                "env": [
                    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
                ],
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "100m"}},
                "livenessProbe": {"httpGet": {"port": 80}},
                "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 3},
                "startupProbe": {"grpc": {"port": 9000}},
                "lifecycle": {"preStop": {"httpGet": {"port": 80, "path": "/quit"}}},
            }
        ],
        "initContainers": [{"name": "init", "image": "busybox:1.36"}],
        "volumes": [
            {"name": "scratch"},
            {"name": "cfg", "configMap": {"name": "cfg"}},
            {"name": "sec", "secret": {"secretName": "s", "defaultMode": 256}},
            {"name": "host", "hostPath": {"path": "/var/log"}},
            {
                "name": "proj",
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"path": "token"}},
                        {
                            "downwardAPI": {
                                "items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]
                            }
                        },
                    ]
                },
            },
        ],
    }


_TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": _pod_spec()}

_POD_SPEC_EXPECTED = {
    "restartPolicy": "Always",
    "dnsPolicy": "ClusterFirst",
    "terminationGracePeriodSeconds": 30,
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "containers[0].imagePullPolicy": "Always",
    "containers[0].terminationMessagePath": "/dev/termination-log",
    "containers[0].terminationMessagePolicy": "File",
    "containers[0].ports[0].protocol": "TCP",
    "containers[0].env[0].valueFrom.fieldRef.apiVersion": "v1",
    "containers[0].livenessProbe.timeoutSeconds": 1,
    "containers[0].livenessProbe.periodSeconds": 10,
    "containers[0].livenessProbe.successThreshold": 1,
    "containers[0].livenessProbe.failureThreshold": 3,
    "containers[0].livenessProbe.httpGet.path": "/",
    "containers[0].livenessProbe.httpGet.scheme": "HTTP",
    "containers[0].readinessProbe.periodSeconds": 3,
    "containers[0].startupProbe.grpc.service": "",
    "containers[0].lifecycle.preStop.httpGet.path": "/quit",
    "containers[0].lifecycle.preStop.httpGet.scheme": "HTTP",
    "initContainers[0].imagePullPolicy": "IfNotPresent",
    "volumes[0].emptyDir": {},
    "volumes[1].configMap.defaultMode": 420,
    "volumes[2].secret.defaultMode": 256,
    "volumes[3].hostPath.type": "",
    "volumes[4].projected.defaultMode": 420,
    "volumes[4].projected.sources[0].serviceAccountToken.expirationSeconds": 3600,
    "volumes[4].projected.sources[1].downwardAPI.items[0].fieldRef.apiVersion": "v1",
}


def _prefixed(prefix: str, expected: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}.{k}": v for k, v in expected.items()}


# (id, group, version, kind, input, {path: expected value, or _MISSING for "left unset"})
CASES: list[tuple[str, str, str, str, Obj, dict[str, Any]]] = [
    (
        "pod",
        "",
        "v1",
        "Pod",
        {"metadata": {"name": "p"}, "spec": _pod_spec()},
        {
            **_prefixed("spec", _POD_SPEC_EXPECTED),
            "spec.enableServiceLinks": True,
            # Requests default to limits only where a request is missing.
            "spec.containers[0].resources.requests": {"cpu": "100m", "memory": "1Gi"},
            "spec.serviceAccountName": _MISSING,
            "spec.preemptionPolicy": _MISSING,
        },
    ),
    (
        "pod-host-network",
        "",
        "v1",
        "Pod",
        {
            "spec": {
                "hostNetwork": True,
                "containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 53}]}],
            }
        },
        {"spec.containers[0].ports[0].hostPort": 53},
    ),
    (
        "deployment",
        "apps",
        "v1",
        "Deployment",
        {
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": copy.deepcopy(_TEMPLATE),
            }
        },
        {
            "spec.replicas": 1,
            "spec.strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
            },
            "spec.revisionHistoryLimit": 10,
            "spec.progressDeadlineSeconds": 600,
            **_prefixed("spec.template.spec", _POD_SPEC_EXPECTED),
            # Pod-only defaults stay out of templates.
            "spec.template.spec.enableServiceLinks": _MISSING,
            "spec.template.spec.containers[0].resources.requests": {"cpu": "100m"},
        },
    ),
    (
        "deployment-recreate",
        "apps",
        "v1",
        "Deployment",
        {"spec": {"replicas": 0, "strategy": {"type": "Recreate"}}},
        {"spec.replicas": 0, "spec.strategy": {"type": "Recreate"}},
    ),
    (
        "deployment-partial-rolling",
        "apps",
        "v1",
        "Deployment",
        {"spec": {"strategy": {"rollingUpdate": {"maxSurge": 1}}}},
        {"spec.strategy.rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
    ),
    (
        "replicaset",
        "apps",
        "v1",
        "ReplicaSet",
        {"spec": {"template": copy.deepcopy(_TEMPLATE)}},
        {"spec.replicas": 1, "spec.template.spec.restartPolicy": "Always"},
    ),
    (
        "replication-controller",
        "",
        "v1",
        "ReplicationController",
        {"metadata": {"name": "rc"}, "spec": {"template": copy.deepcopy(_TEMPLATE)}},
        {
            "spec.replicas": 1,
            "spec.selector": {"app": "web"},
            "metadata.labels": {"app": "web"},
            "spec.template.spec.dnsPolicy": "ClusterFirst",
        },
    ),
    (
        "replication-controller-keeps-selector",
        "",
        "v1",
        "ReplicationController",
        {
            "metadata": {"labels": {"team": "a"}},
            "spec": {"selector": {"app": "x"}, "template": copy.deepcopy(_TEMPLATE)},
        },
        {"spec.selector": {"app": "x"}, "metadata.labels": {"team": "a"}},
    ),
    (
        "daemonset",
        "apps",
        "v1",
        "DaemonSet",
        {"spec": {"template": copy.deepcopy(_TEMPLATE)}},
        {
            "spec.updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
            },
            "spec.revisionHistoryLimit": 10,
            "spec.template.spec.schedulerName": "default-scheduler",
        },
    ),
    (
        "daemonset-on-delete",
        "apps",
        "v1",
        "DaemonSet",
        {"spec": {"updateStrategy": {"type": "OnDelete"}}},
        {"spec.updateStrategy": {"type": "OnDelete"}},
    ),
    (
        "statefulset",
        "apps",
        "v1",
        "StatefulSet",
        {
            "spec": {
                "template": copy.deepcopy(_TEMPLATE),
                "volumeClaimTemplates": [
                    {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
                ],
            }
        },
        {
            "spec.replicas": 1,
            "spec.podManagementPolicy": "OrderedReady",
            "spec.updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "spec.revisionHistoryLimit": 10,
            "spec.persistentVolumeClaimRetentionPolicy": {
                "whenDeleted": "Retain",
                "whenScaled": "Retain",
            },
            "spec.volumeClaimTemplates[0].spec.volumeMode": "Filesystem",
            "spec.volumeClaimTemplates[0].status.phase": "Pending",
            "spec.template.spec.terminationGracePeriodSeconds": 30,
        },
    ),
    (
        "job",
        "batch",
        "v1",
        "Job",
        {
            "spec": {
                "template": {
                    "metadata": {"labels": {"app": "pi"}},
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "pi", "image": "perl:5"}],
                    },
                }
            }
        },
        {
            "spec.completions": 1,
            "spec.parallelism": 1,
            "spec.backoffLimit": 6,
            "spec.completionMode": "NonIndexed",
            "spec.suspend": False,
            "spec.podReplacementPolicy": "TerminatingOrFailed",
            "spec.manualSelector": _MISSING,
            "metadata.labels": {"app": "pi"},
            "spec.template.spec.restartPolicy": "Never",
            "spec.template.spec.containers[0].imagePullPolicy": "IfNotPresent",
        },
    ),
    (
        "job-parallel",
        "batch",
        "v1",
        "Job",
        {
            "spec": {
                "parallelism": 4,
                "backoffLimitPerIndex": 1,
                "completionMode": "Indexed",
                "podFailurePolicy": {
                    "rules": [
                        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}
                    ]
                },
            }
        },
        {
            "spec.parallelism": 4,
            "spec.completions": _MISSING,
            "spec.backoffLimit": 2**31 - 1,
            "spec.completionMode": "Indexed",
            "spec.podReplacementPolicy": "Failed",
            "spec.podFailurePolicy.rules[0].onPodConditions[0].status": "True",
        },
    ),
    (
        "cronjob",
        "batch",
        "v1",
        "CronJob",
        {
            "spec": {
                "schedule": "@hourly",
                "jobTemplate": {"spec": {"template": copy.deepcopy(_TEMPLATE)}},
            }
        },
        {
            "spec.concurrencyPolicy": "Allow",
            "spec.suspend": False,
            "spec.successfulJobsHistoryLimit": 3,
            "spec.failedJobsHistoryLimit": 1,
            "spec.jobTemplate.spec.template.spec.dnsPolicy": "ClusterFirst",
            # Job-level defaults are applied when the Job is created, not in the template.
            "spec.jobTemplate.spec.backoffLimit": _MISSING,
        },
    ),
    (
        "service",
        "",
        "v1",
        "Service",
        {
            "spec": {
                "ports": [{"port": 80}, {"port": 443, "targetPort": "https", "protocol": "TCP"}]
            }
        },
        {
            "spec.type": "ClusterIP",
            "spec.sessionAffinity": "None",
            "spec.ports[0].protocol": "TCP",
            "spec.ports[0].targetPort": 80,
            "spec.ports[1].targetPort": "https",
            "spec.internalTrafficPolicy": "Cluster",
            "spec.ipFamilyPolicy": "SingleStack",
            "spec.ipFamilies": ["IPv4"],
            "spec.externalTrafficPolicy": _MISSING,
            "spec.clusterIP": _MISSING,
        },
    ),
    (
        "service-nodeport",
        "",
        "v1",
        "Service",
        {
            "spec": {
                "type": "NodePort",
                "clusterIP": "10.43.0.7",
                "sessionAffinity": "ClientIP",
                "ports": [{"port": 80}],
            }
        },
        {
            "spec.externalTrafficPolicy": "Cluster",
            "spec.sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
            "spec.clusterIPs": ["10.43.0.7"],
        },
    ),
    (
        "service-loadbalancer",
        "",
        "v1",
        "Service",
        {"spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}},
        {"spec.allocateLoadBalancerNodePorts": True, "spec.externalTrafficPolicy": "Cluster"},
    ),
    (
        "service-external-name",
        "",
        "v1",
        "Service",
        {"spec": {"type": "ExternalName", "externalName": "db.example.com"}},
        {
            "spec.internalTrafficPolicy": _MISSING,
            "spec.ipFamilies": _MISSING,
            "spec.ipFamilyPolicy": _MISSING,
        },
    ),
    ("secret", "", "v1", "Secret", {"data": {}}, {"type": "Opaque"}),
    (
        "secret-typed",
        "",
        "v1",
        "Secret",
        {"type": "kubernetes.io/tls"},
        {"type": "kubernetes.io/tls"},
    ),
    (
        "namespace",
        "",
        "v1",
        "Namespace",
        {"metadata": {"name": "team-a", "labels": {"x": "y"}}},
        {
            "status.phase": "Active",
            "metadata.labels": {"x": "y", "kubernetes.io/metadata.name": "team-a"},
            "spec.finalizers": _MISSING,
        },
    ),
    (
        "node",
        "",
        "v1",
        "Node",
        {"status": {"capacity": {"cpu": "4", "pods": "110"}}},
        {"status.allocatable": {"cpu": "4", "pods": "110"}, "status.phase": _MISSING},
    ),
    (
        "endpoints",
        "",
        "v1",
        "Endpoints",
        {"subsets": [{"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}]},
        {"subsets[0].ports[0].protocol": "TCP", "subsets[0].ports[1].protocol": "UDP"},
    ),
    (
        "endpointslice",
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        {"addressType": "IPv4", "ports": [{"port": 80}]},
        {"ports[0].protocol": "TCP", "ports[0].name": ""},
    ),
    (
        "hpa-v2",
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        {"spec": {"maxReplicas": 4}},
        {
            "spec.minReplicas": 1,
            "spec.metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 80},
                    },
                }
            ],
            "spec.behavior": _MISSING,
        },
    ),
    (
        "hpa-v2-behavior",
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        {
            "spec": {
                "minReplicas": 2,
                "metrics": [{"type": "Pods"}],
                "behavior": {"scaleUp": {"selectPolicy": "Min"}},
            }
        },
        {
            "spec.minReplicas": 2,
            "spec.metrics": [{"type": "Pods"}],
            "spec.behavior.scaleUp": {
                "selectPolicy": "Min",
                "stabilizationWindowSeconds": 0,
                "policies": [
                    {"type": "Pods", "value": 4, "periodSeconds": 15},
                    {"type": "Percent", "value": 100, "periodSeconds": 15},
                ],
            },
            "spec.behavior.scaleDown": {
                "selectPolicy": "Max",
                "stabilizationWindowSeconds": SKIFF_HPA_SCALE_DOWN_STABILIZATION_SECONDS,
                "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
            },
        },
    ),
    (
        "hpa-v1",
        "autoscaling",
        "v1",
        "HorizontalPodAutoscaler",
        {"spec": {"maxReplicas": 4}},
        {
            "spec.minReplicas": 1,
            "spec.metrics": _MISSING,
            "spec.targetCPUUtilizationPercentage": _MISSING,
        },
    ),
    (
        "vpa",
        "autoscaling.k8s.io",
        "v1",
        "VerticalPodAutoscaler",
        {"spec": {"targetRef": {"kind": "Deployment", "name": "web"}}},
        {"spec.updatePolicy.updateMode": "Auto"},
    ),
    (
        "networkpolicy-ingress-only",
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        {"spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]}},
        {"spec.policyTypes": ["Ingress"], "spec.ingress[0].ports[0].protocol": "TCP"},
    ),
    (
        "networkpolicy-egress",
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        {"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}},
        {"spec.policyTypes": ["Ingress", "Egress"], "spec.egress[0].ports[0].protocol": "UDP"},
    ),
    (
        "priorityclass",
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        {"value": 10},
        {"preemptionPolicy": "PreemptLowerPriority"},
    ),
    (
        "rolebinding",
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        {
            "roleRef": {"kind": "Role", "name": "r"},
            "subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "sa"}],
        },
        {
            "roleRef.apiGroup": "rbac.authorization.k8s.io",
            "subjects[0].apiGroup": "rbac.authorization.k8s.io",
            "subjects[1].apiGroup": "",
        },
    ),
    (
        "ingress-untouched",
        "networking.k8s.io",
        "v1",
        "Ingress",
        {"spec": {"rules": [{"http": {"paths": [{"path": "/"}]}}]}},
        {"spec.rules[0].http.paths[0].pathType": _MISSING},
    ),
]


@pytest.mark.parametrize(
    ("group", "version", "kind", "obj", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_defaults(group: str, version: str, kind: str, obj: Obj, expected: dict[str, Any]) -> None:
    obj = copy.deepcopy(obj)
    apply_defaults(group, version, kind, obj)
    for path, value in expected.items():
        assert _get(obj, path) == value, path


@pytest.mark.parametrize(
    ("group", "version", "kind", "obj"), [c[1:5] for c in CASES], ids=[c[0] for c in CASES]
)
def test_defaults_are_idempotent(group: str, version: str, kind: str, obj: Obj) -> None:
    once = copy.deepcopy(obj)
    apply_defaults(group, version, kind, once)
    twice = copy.deepcopy(once)
    apply_defaults(group, version, kind, twice)
    assert twice == once


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("localhost:5000/app", "Always"),
        ("localhost:5000/app:v2", "IfNotPresent"),
        ("registry.example.com/team/app@sha256:" + "a" * 64, "IfNotPresent"),
        ("app:latest@sha256:" + "a" * 64, "Always"),
        ("Nginx", "IfNotPresent"),
        ("", "IfNotPresent"),
    ],
)
def test_image_pull_policy(image: str, policy: str) -> None:
    pod: Obj = {"spec": {"containers": [{"name": "c", "image": image}]}}
    apply_defaults("", "v1", "Pod", pod)
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_user_values_are_kept() -> None:
    pod: Obj = {
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "enableServiceLinks": False,
            "containers": [{"name": "c", "image": "nginx", "imagePullPolicy": "Never"}],
        }
    }
    apply_defaults("", "v1", "Pod", pod)
    spec = pod["spec"]
    assert (spec["restartPolicy"], spec["terminationGracePeriodSeconds"]) == ("Never", 0)
    assert spec["enableServiceLinks"] is False
    assert spec["containers"][0]["imagePullPolicy"] == "Never"


def test_unknown_kind_is_untouched() -> None:
    obj: Obj = {"spec": {"x": 1}}
    apply_defaults("example.com", "v1", "Widget", obj)
    assert obj == {"spec": {"x": 1}}


def test_prepare_namespace_create_adds_finalizer_once() -> None:
    ns: Obj = {"metadata": {"name": "a"}}
    prepare_namespace_create(ns)
    prepare_namespace_create(ns)
    assert ns["spec"]["finalizers"] == ["kubernetes"]
    ns = {"metadata": {"name": "a"}, "spec": {"finalizers": ["example.com/x"]}}
    prepare_namespace_create(ns)
    assert ns["spec"]["finalizers"] == ["example.com/x", "kubernetes"]


def test_generate_job_selector() -> None:
    job: Obj = {
        "metadata": {"name": "pi", "uid": "1234"},
        "spec": {"template": {"metadata": {"labels": {"app": "pi"}}}},
    }
    generate_job_selector(job)
    assert job["spec"]["selector"] == {
        "matchLabels": {"batch.kubernetes.io/controller-uid": "1234"}
    }
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels["app"] == "pi"
    assert labels["batch.kubernetes.io/job-name"] == labels["job-name"] == "pi"
    assert labels["controller-uid"] == "1234"
    manual: Obj = {"spec": {"manualSelector": True, "selector": {"matchLabels": {"a": "b"}}}}
    generate_job_selector(manual)
    assert manual["spec"]["selector"] == {"matchLabels": {"a": "b"}}
