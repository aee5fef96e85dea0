"""Validation and wire round trips of ``skiff.api.types`` models, and ``model_for`` lookups.

Covers: realistic manifests validate and ``to_wire()`` gives back the same JSON; unknown fields and
missing required fields raise ``ValidationError`` with the field location; quantities given as
numbers come out as strings; IntOrString keeps ints as ints; ``model_for``/``list_model_for``
cover every registered kind. Excludes defaulting and semantic validation (other modules).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from skiff.api.resources import RESOURCES
from skiff.api.types import list_model_for, model_for
from skiff.api.types.apps_v1 import Deployment
from skiff.api.types.autoscaling_k8s_io_v1 import VerticalPodAutoscaler
from skiff.api.types.autoscaling_v2 import HorizontalPodAutoscaler
from skiff.api.types.core_v1 import (
    ConfigMap,
    Container,
    Pod,
    ResourceRequirements,
    Secret,
    Service,
    ServicePort,
)
from skiff.api.types.meta_v1 import DeleteOptions, ObjectMeta, Status

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "web",
        "namespace": "default",
        "labels": {"app": "web"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}\n"},
        "uid": "3f1c1e1a-0000-4000-8000-000000000001",
        "resourceVersion": "42",
        "generation": 3,
        "creationTimestamp": "2025-01-01T00:00:00Z",
        "ownerReferences": [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "name": "owner",
                "uid": "3f1c1e1a-0000-4000-8000-000000000002",
                "controller": False,
                "blockOwnerDeletion": True,
            }
        ],
        "finalizers": ["example.com/cleanup"],
        "managedFields": [
            {
                "manager": "kubectl-client-side-apply",
                "operation": "Update",
                "apiVersion": "apps/v1",
                "time": "2025-01-01T00:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:replicas": {}}},
            }
        ],
    },
    "spec": {
        "replicas": 3,
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
        "selector": {
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}],
        },
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1},
        },
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "containers": [
                    {
                        "name": "nginx",
                        "image": "nginx:1.27",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["nginx"],
                        "args": ["-g", "daemon off;"],
                        "ports": [
                            {"name": "http", "containerPort": 80, "protocol": "TCP"},
                            {"containerPort": 53, "protocol": "UDP"},
                        ],
                        "env": [
                            {"name": "MODE", "value": "prod"},
                            {
                                "name": "POD_IP",
                                "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}},
                            },
                            {
                                "name": "TOKEN",
                                "valueFrom": {
                                    "secretKeyRef": {"name": "tok", "key": "t", "optional": True}
                                },
                            },
                        ],
                        "envFrom": [{"configMapRef": {"name": "settings"}}],
                        "resources": {
                            "limits": {"cpu": "500m", "memory": "256Mi"},
                            "requests": {"cpu": "100m", "memory": "64Mi"},
                        },
                        "livenessProbe": {
                            "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                            "initialDelaySeconds": 5,
                            "periodSeconds": 10,
                        },
                        "readinessProbe": {
                            "tcpSocket": {"port": 80},
                            "failureThreshold": 3,
                        },
                        "startupProbe": {"exec": {"command": ["cat", "/tmp/ready"]}},
                        "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
                        "securityContext": {
                            "runAsNonRoot": True,
                            "runAsUser": 101,
                            "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                            "readOnlyRootFilesystem": True,
                        },
                        "volumeMounts": [{"name": "cache", "mountPath": "/var/cache/nginx"}],
                    }
                ],
                "volumes": [{"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}}],
                "tolerations": [
                    {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"},
                ],
                "affinity": {
                    "podAntiAffinity": {
                        "preferredDuringSchedulingIgnoredDuringExecution": [
                            {
                                "weight": 100,
                                "podAffinityTerm": {
                                    "topologyKey": "kubernetes.io/hostname",
                                    "labelSelector": {"matchLabels": {"app": "web"}},
                                },
                            }
                        ]
                    }
                },
            },
        },
    },
    "status": {
        "observedGeneration": 3,
        "replicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "updatedReplicas": 3,
        "conditions": [
            {
                "type": "Available",
                "status": "True",
                "lastUpdateTime": "2025-01-01T00:00:10Z",
                "lastTransitionTime": "2025-01-01T00:00:10Z",
                "reason": "MinimumReplicasAvailable",
                "message": "Deployment has minimum availability.",
            }
        ],
    },
}

SERVICE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
        "type": "NodePort",
        "selector": {"app": "web"},
        "clusterIP": "10.96.0.10",
        "clusterIPs": ["10.96.0.10"],
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "sessionAffinity": "ClientIP",
        "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
        "ports": [
            {
                "name": "http",
                "port": 80,
                "targetPort": "http",
                "protocol": "TCP",
                "nodePort": 30080,
            },
            {"name": "dns", "port": 53, "targetPort": 53, "protocol": "UDP"},
        ],
    },
    "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1", "ipMode": "VIP"}]}},
}

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "vols", "namespace": "default"},
    "spec": {
        "nodeName": "node-1",
        "serviceAccountName": "default",
        "initContainers": [{"name": "init", "image": "busybox", "command": ["true"]}],
        "containers": [
            {
                "name": "app",
                "image": "busybox",
                "volumeMounts": [
                    {"name": "config", "mountPath": "/etc/app", "readOnly": True},
                    {"name": "data", "mountPath": "/data", "subPath": "app"},
                    {"name": "host", "mountPath": "/host", "mountPropagation": "HostToContainer"},
                ],
            }
        ],
        "volumes": [
            {
                "name": "config",
                "projected": {
                    "defaultMode": 420,
                    "sources": [
                        {"configMap": {"name": "cfg", "items": [{"key": "a", "path": "a.conf"}]}},
                        {"secret": {"name": "sec"}},
                        {
                            "downwardAPI": {
                                "items": [
                                    {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}
                                ]
                            }
                        },
                        {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
                    ],
                },
            },
            {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
            {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
            {
                "name": "scratch",
                "ephemeral": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        }
                    }
                },
            },
        ],
    },
    "status": {
        "phase": "Running",
        "podIP": "10.244.0.5",
        "podIPs": [{"ip": "10.244.0.5"}],
        "hostIP": "192.0.2.10",
        "startTime": "2025-01-01T00:00:00Z",
        "containerStatuses": [
            {
                "name": "app",
                "image": "busybox:latest",
                "imageID": "docker.io/library/busybox@sha256:abc",
                "ready": True,
                "restartCount": 0,
                "started": True,
                "state": {"running": {"startedAt": "2025-01-01T00:00:01Z"}},
            }
        ],
    },
}


@pytest.mark.parametrize(
    ("model", "manifest"),
    [(Deployment, DEPLOYMENT), (Service, SERVICE), (Pod, POD)],
    ids=["deployment", "service", "pod-with-volumes"],
)
def test_manifest_round_trips(
    model: type[Deployment | Service | Pod], manifest: dict[str, Any]
) -> None:
    original = copy.deepcopy(manifest)
    obj = model.model_validate(manifest)
    assert obj.to_wire() == original
    assert manifest == original  # validation does not mutate the input


def test_nested_values_are_models_with_snake_case_attributes() -> None:
    deployment = Deployment.model_validate(DEPLOYMENT)
    assert deployment.spec is not None
    container = deployment.spec.template.spec.containers[0]  # type: ignore[union-attr]
    assert isinstance(container, Container)
    assert container.image_pull_policy == "IfNotPresent"
    assert container.ports is not None and container.ports[0].container_port == 80
    assert deployment.metadata is not None and deployment.metadata.owner_references is not None
    assert deployment.metadata.owner_references[0].block_owner_deletion is True


def test_unknown_field_is_rejected_with_its_location() -> None:
    bad = copy.deepcopy(DEPLOYMENT)
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    with pytest.raises(ValidationError) as info:
        Deployment.model_validate(bad)
    errors = info.value.errors()
    assert [e["type"] for e in errors] == ["extra_forbidden"]
    assert errors[0]["loc"] == ("spec", "template", "spec", "containers", 0, "imagePullPolice")


def test_missing_required_field_is_reported_by_wire_name() -> None:
    with pytest.raises(ValidationError) as info:
        Service.model_validate({"spec": {"ports": [{"name": "http", "targetPort": 80}]}})
    errors = info.value.errors()
    assert [(e["type"], e["loc"]) for e in errors] == [("missing", ("spec", "ports", 0, "port"))]


def test_wrong_type_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        ConfigMap.model_validate({"data": {"a": {"nested": "x"}}})
    assert info.value.errors()[0]["loc"] == ("data", "a")


@pytest.mark.parametrize(
    ("given", "wire"),
    [(1, "1"), (0.5, "0.5"), (2.0, "2"), ("100m", "100m"), (1_500_000_000, "1500000000")],
    ids=["int", "fraction", "integral-float", "string", "large-int"],
)
def test_numeric_quantities_become_strings(given: object, wire: str) -> None:
    resources = ResourceRequirements.model_validate({"limits": {"cpu": given}})
    assert resources.to_wire() == {"limits": {"cpu": wire}}


@pytest.mark.parametrize(
    ("given", "expected"),
    [(8080, 8080), ("http", "http"), ("25%", "25%")],
    ids=["int", "name", "percent"],
)
def test_int_or_string_keeps_its_type(given: int | str, expected: int | str) -> None:
    port = ServicePort.model_validate({"port": 80, "targetPort": given})
    assert port.target_port == expected
    assert port.to_wire()["targetPort"] == expected
    assert type(port.to_wire()["targetPort"]) is type(expected)


def test_secret_and_config_maps_keep_string_maps() -> None:
    secret = Secret.model_validate({"data": {"k": "dmFsdWU="}, "stringData": {"p": "v"}})
    assert secret.to_wire() == {"data": {"k": "dmFsdWU="}, "stringData": {"p": "v"}}


def test_models_build_by_attribute_name() -> None:
    meta = ObjectMeta(name="x", namespace="default", resource_version="7")
    assert meta.to_wire() == {"name": "x", "namespace": "default", "resourceVersion": "7"}


def test_status_and_delete_options_round_trip() -> None:
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "reason": "Invalid",
        "code": 422,
        "message": 'ConfigMap "" is invalid',
        "details": {
            "kind": "ConfigMap",
            "causes": [
                {"reason": "FieldValueRequired", "message": "Required", "field": "metadata.name"}
            ],
        },
    }
    assert Status.model_validate(status).to_wire() == status
    options = {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "propagationPolicy": "Foreground",
        "preconditions": {"uid": "u", "resourceVersion": "5"},
        "dryRun": ["All"],
    }
    assert DeleteOptions.model_validate(options).to_wire() == options


def test_hpa_and_vpa_validate() -> None:
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 60},
                    },
                }
            ],
        },
    }
    assert HorizontalPodAutoscaler.model_validate(hpa).to_wire() == hpa
    vpa = {
        "apiVersion": "autoscaling.k8s.io/v1",
        "kind": "VerticalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "updatePolicy": {"updateMode": "Off"},
            "resourcePolicy": {
                "containerPolicies": [
                    {
                        "containerName": "*",
                        "minAllowed": {"cpu": "100m"},
                        "controlledResources": ["cpu"],
                    }
                ]
            },
        },
        "status": {
            "recommendation": {
                "containerRecommendations": [{"containerName": "nginx", "target": {"cpu": "250m"}}]
            }
        },
    }
    assert VerticalPodAutoscaler.model_validate(vpa).to_wire() == vpa


@pytest.mark.parametrize(
    "resource", RESOURCES, ids=[f"{r.group or 'core'}/{r.version}/{r.kind}" for r in RESOURCES]
)
def test_model_for_every_registered_kind(resource: Any) -> None:
    model = model_for(resource.group, resource.version, resource.kind)
    assert model is not None and model.__name__ == resource.kind
    assert {"apiVersion", "kind", "metadata"} <= {f.alias for f in model.model_fields.values()}
    listed = list_model_for(resource.group, resource.version, resource.kind)
    if not resource.persisted:  # reviews are answered, never listed
        assert listed is None
        return
    assert listed is not None and listed.__name__ == resource.kind + "List"
    assert listed.model_fields["items"].annotation == list[model]  # type: ignore[valid-type]


@pytest.mark.parametrize(
    ("group", "version", "kind", "name"),
    [
        ("", "v1", "Binding", "Binding"),
        ("policy", "v1", "Eviction", "Eviction"),
        ("autoscaling", "v1", "Scale", "Scale"),
        ("", "v1", "Status", "Status"),
        ("apps", "v1", "DeleteOptions", "DeleteOptions"),
        ("meta.k8s.io", "v1", "DeleteOptions", "DeleteOptions"),
    ],
    ids=["binding", "eviction", "scale", "status", "delete-options-apps", "delete-options-meta"],
)
def test_model_for_subresource_and_meta_kinds(
    group: str, version: str, kind: str, name: str
) -> None:
    model = model_for(group, version, kind)
    assert model is not None and model.__name__ == name


@pytest.mark.parametrize(
    ("group", "version", "kind"),
    [
        ("", "v1", "PodSpec"),
        ("apps", "v1", "Pod"),
        ("apps", "v2", "Deployment"),
        ("example.com", "v1", "Status"),
        ("", "v1", "Eviction"),
        ("", "v1", "PodList"),
    ],
    ids=[
        "nested-type",
        "wrong-group",
        "unknown-version",
        "status-unknown-group",
        "eviction-core",
        "list",
    ],
)
def test_model_for_unknown_is_none(group: str, version: str, kind: str) -> None:
    assert model_for(group, version, kind) is None


def test_list_model_for_unknown_is_none() -> None:
    assert list_model_for("", "v1", "Binding") is None
    assert list_model_for("apps", "v1", "Pod") is None
