"""Validation of every served kind: valid examples pass, invalid ones fail with Kubernetes' texts.

Covers ``skiff.api.validation.validate`` on create and update (``old``), run after
``apply_defaults`` as the API server does. Name/label format checks in isolation live in
``test_validation_names.py``; cron parsing in ``test_validation_cron.py``. Excludes the API
server's generic metadata-update rules (name/uid immutability), which are not validate()'s job.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from skiff.api.defaults import apply_defaults
from skiff.api.resources import RESOURCES
from skiff.api.validation import validate

Obj = dict[str, Any]

_POD_SPEC: Obj = {"containers": [{"name": "web", "image": "nginx:1.27"}]}
_LABELS = {"app": "web"}
_TEMPLATE: Obj = {"metadata": {"labels": _LABELS}, "spec": _POD_SPEC}
_JOB_TEMPLATE: Obj = {
    "metadata": {"labels": _LABELS},
    "spec": {"restartPolicy": "Never", **_POD_SPEC},
}


def _meta(name: str = "web", namespace: str | None = "default") -> Obj:
    meta: Obj = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


# One valid object per served (group, version, kind); the test below checks the table is complete.
PV = ("", "v1", "PersistentVolume")
PVC = ("", "v1", "PersistentVolumeClaim")
SC = ("storage.k8s.io", "v1", "StorageClass")
APISVC = ("apiregistration.k8s.io", "v1", "APIService")

VALID: dict[tuple[str, str, str], Obj] = {
    ("", "v1", "Namespace"): {"metadata": _meta("team-a", None)},
    ("", "v1", "Node"): {
        "metadata": _meta("node-1", None),
        "spec": {"podCIDR": "10.42.1.0/24", "podCIDRs": ["10.42.1.0/24"]},
        "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}},
    },
    ("", "v1", "Pod"): {
        "metadata": {**_meta("web-0"), "labels": _LABELS, "annotations": {"a.io/b": "c"}},
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "nginx",
                    "ports": [{"name": "http", "containerPort": 80}],
                    "env": [
                        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
                    ],
                    "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}},
                    "livenessProbe": {"httpGet": {"port": "http"}},
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data"}, {"name": "cfg", "configMap": {"name": "cfg"}}],
        },
    },
    ("", "v1", "Service"): {
        "metadata": _meta(),
        "spec": {
            "selector": _LABELS,
            "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}],
        },
    },
    ("", "v1", "Endpoints"): {
        "metadata": _meta(),
        "subsets": [{"addresses": [{"ip": "10.42.0.5"}], "ports": [{"port": 80}]}],
    },
    ("", "v1", "ConfigMap"): {"metadata": _meta(), "data": {"app.conf": "x=1", "KEY_2": "v"}},
    ("", "v1", "Secret"): {"metadata": _meta(), "data": {"password": "c2VjcmV0"}},
    ("", "v1", "Event"): {
        "metadata": _meta("web-0.17a"),
        "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": "default"},
        "reason": "Started",
        "type": "Normal",
    },
    ("", "v1", "ServiceAccount"): {"metadata": _meta("builder")},
    ("", "v1", "ReplicationController"): {
        "metadata": _meta(),
        "spec": {"replicas": 2, "template": _TEMPLATE},
    },
    ("apps", "v1", "Deployment"): {
        "metadata": _meta(),
        "spec": {"replicas": 3, "selector": {"matchLabels": _LABELS}, "template": _TEMPLATE},
    },
    ("apps", "v1", "ReplicaSet"): {
        "metadata": _meta(),
        "spec": {
            "selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
            "template": _TEMPLATE,
        },
    },
    ("apps", "v1", "DaemonSet"): {
        "metadata": _meta(),
        "spec": {"selector": {"matchLabels": _LABELS}, "template": _TEMPLATE},
    },
    ("apps", "v1", "StatefulSet"): {
        "metadata": _meta(),
        "spec": {
            "serviceName": "web",
            "selector": {"matchLabels": _LABELS},
            "template": _TEMPLATE,
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
        },
    },
    ("apps", "v1", "ControllerRevision"): {
        "metadata": _meta("web-5d8f"),
        "data": {"spec": {}},
        "revision": 1,
    },
    ("batch", "v1", "Job"): {
        "metadata": _meta("pi"),
        "spec": {
            "selector": {"matchLabels": _LABELS},
            "template": _JOB_TEMPLATE,
        },
    },
    ("batch", "v1", "CronJob"): {
        "metadata": _meta("nightly"),
        "spec": {
            "schedule": "*/5 * * * *",
            "timeZone": "Europe/Berlin",
            "jobTemplate": {"spec": {"template": _JOB_TEMPLATE}},
        },
    },
    ("autoscaling", "v2", "HorizontalPodAutoscaler"): {
        "metadata": _meta(),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "maxReplicas": 5,
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 30}},
        },
    },
    ("autoscaling", "v1", "HorizontalPodAutoscaler"): {
        "metadata": _meta(),
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "maxReplicas": 5,
            "targetCPUUtilizationPercentage": 70,
        },
    },
    ("autoscaling.k8s.io", "v1", "VerticalPodAutoscaler"): {
        "metadata": _meta(),
        "spec": {
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "resourcePolicy": {
                "containerPolicies": [
                    {"containerName": "*", "minAllowed": {"cpu": "100m"}, "maxAllowed": {"cpu": 2}}
                ]
            },
        },
    },
    ("coordination.k8s.io", "v1", "Lease"): {
        "metadata": _meta("node-1", "kube-node-lease"),
        "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40},
    },
    ("discovery.k8s.io", "v1", "EndpointSlice"): {
        "metadata": _meta("web-abc12"),
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.42.0.5"], "conditions": {"ready": True}}],
        "ports": [{"name": "http", "port": 80}],
    },
    ("networking.k8s.io", "v1", "Ingress"): {
        "metadata": _meta(),
        "spec": {
            "rules": [
                {
                    "host": "*.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        },
    },
    ("networking.k8s.io", "v1", "NetworkPolicy"): {
        "metadata": _meta(),
        "spec": {
            "podSelector": {"matchLabels": _LABELS},
            "ingress": [
                {
                    "from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                    "ports": [{"port": 80}],
                }
            ],
            "egress": [{"to": [{"namespaceSelector": {}}]}],
        },
    },
    ("policy", "v1", "PodDisruptionBudget"): {
        "metadata": _meta(),
        "spec": {"minAvailable": "50%", "selector": {"matchLabels": _LABELS}},
    },
    ("scheduling.k8s.io", "v1", "PriorityClass"): {
        "metadata": _meta("high", None),
        "value": 1000000,
    },
    PV: {
        "metadata": _meta("pv-1", None),
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/data/pv-1"},
        },
    },
    PVC: {
        "metadata": _meta("data"),
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    },
    SC: {"metadata": _meta("fast", None), "provisioner": "example.com/fast"},
    APISVC: {
        "metadata": _meta("v1beta1.metrics.k8s.io", None),
        "spec": {
            "group": "metrics.k8s.io",
            "version": "v1beta1",
            "groupPriorityMinimum": 100,
            "versionPriority": 100,
            "service": {"namespace": "kube-system", "name": "metrics-server"},
        },
    },
    # the CRD's own rules are in skiff.apiserver.crd (tests/apiserver/test_crd.py)
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"): {
        "metadata": _meta("widgets.example.com", None),
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                }
            ],
        },
    },
    ("rbac.authorization.k8s.io", "v1", "Role"): {
        "metadata": _meta("reader"),
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
    },
    ("rbac.authorization.k8s.io", "v1", "ClusterRole"): {
        "metadata": _meta("system:reader", None),
        "rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}],
    },
    ("rbac.authorization.k8s.io", "v1", "RoleBinding"): {
        "metadata": _meta("read-pods"),
        "roleRef": {"kind": "Role", "name": "reader"},
        "subjects": [
            {"kind": "User", "name": "jane"},
            {"kind": "ServiceAccount", "name": "builder", "namespace": "default"},
        ],
    },
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"): {
        "metadata": _meta("read-all", None),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "x"},
        "subjects": [{"kind": "Group", "name": "system:authenticated"}],
    },
}


def _valid(group: str, version: str, kind: str) -> Obj:
    obj = copy.deepcopy(VALID[(group, version, kind)])
    apply_defaults(group, version, kind, obj)
    return obj


def _messages(group: str, version: str, kind: str, obj: Obj, old: Obj | None = None) -> list[str]:
    return [str(e) for e in validate(group, version, kind, obj, old)]


def test_every_served_kind_has_a_valid_example() -> None:
    # reviews are validated where they are answered (skiff.apiserver.reviews), not here
    served = {(r.group, r.version, r.kind) for r in RESOURCES if r.persisted}
    assert served == set(VALID)


@pytest.mark.parametrize("gvk", sorted(VALID), ids=lambda g: f"{g[1]}-{g[2]}")
def test_valid_example_passes_after_defaulting(gvk: tuple[str, str, str]) -> None:
    obj = _valid(*gvk)
    assert _messages(*gvk, obj) == []
    # An unchanged update is always allowed.
    assert _messages(*gvk, obj, copy.deepcopy(obj)) == []


def test_defaulting_is_required_before_validation() -> None:
    # Fields defaulting always fills are Required for the validator, as upstream.
    obj = copy.deepcopy(VALID[("", "v1", "Pod")])
    msgs = _messages("", "v1", "Pod", obj)
    assert "spec.restartPolicy: Required value" in msgs
    assert "spec.containers[0].imagePullPolicy: Required value" in msgs


Mutator = Callable[[Obj], None]

POD = ("", "v1", "Pod")
SVC = ("", "v1", "Service")
DEPLOY = ("apps", "v1", "Deployment")


def _set(path: str, value: Any) -> Mutator:
    """A mutator setting a dotted path (``[n]`` indexes lists); ``...`` deletes the key."""

    def apply(obj: Obj) -> None:
        parts = path.replace("]", "").replace("[", ".").split(".")
        target: Any = obj
        for part in parts[:-1]:
            target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
        last = parts[-1]
        if value is ...:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return apply


def _both(*mutators: Mutator) -> Mutator:
    def apply(obj: Obj) -> None:
        for m in mutators:
            m(obj)

    return apply


_RFC1123_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)

# (id, gvk, mutator applied after defaulting, expected message prefix "path: Reason...")
INVALID: list[tuple[str, tuple[str, str, str], Mutator, str]] = [
    # ObjectMeta
    (
        "name-format",
        POD,
        _set("metadata.name", "Web_1"),
        f'metadata.name: Invalid value: "Web_1": {_RFC1123_SUBDOMAIN}',
    ),
    (
        "name-missing",
        POD,
        _set("metadata.name", ...),
        "metadata.name: Required value: name or generateName is required",
    ),
    (
        "generate-name-ok-name-missing",
        POD,
        _both(_set("metadata.name", ...), _set("metadata.generateName", "Bad_")),
        'metadata.generateName: Invalid value: "Bad_": a lowercase RFC 1123 subdomain',
    ),
    (
        "namespace-missing",
        POD,
        _set("metadata.namespace", ...),
        "metadata.namespace: Required value",
    ),
    (
        "namespace-on-cluster-scoped",
        ("", "v1", "Namespace"),
        _set("metadata.namespace", "default"),
        "metadata.namespace: Forbidden: not allowed on this type",
    ),
    (
        "namespace-name-label",
        ("", "v1", "Namespace"),
        _set("metadata.name", "a.b"),
        'metadata.name: Invalid value: "a.b": must not contain dots',
    ),
    (
        "service-name-1035",
        SVC,
        _set("metadata.name", "1web"),
        "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character",
    ),
    (
        "label-key",
        POD,
        _set("metadata.labels", {"bad key": "x"}),
        'metadata.labels: Invalid value: "bad key": name part must consist of alphanumeric characters',
    ),
    (
        "label-value",
        POD,
        _set("metadata.labels", {"app": "-x"}),
        'metadata.labels: Invalid value: "-x": a valid label must be an empty string or consist of',
    ),
    (
        "label-value-too-long",
        POD,
        _set("metadata.labels", {"app": "x" * 64}),
        'metadata.labels: Invalid value: "' + "x" * 64 + '": must be no more than 63 characters',
    ),
    (
        "annotations-too-big",
        POD,
        _set("metadata.annotations", {"big": "x" * (256 * 1024)}),
        "metadata.annotations: Too long: may not be more than 262144 bytes",
    ),
    (
        "finalizer-name",
        POD,
        _set("metadata.finalizers", ["a/b/c"]),
        'metadata.finalizers: Invalid value: "a/b/c": a qualified name must consist of',
    ),
    (
        "owner-ref-uid",
        POD,
        _set(
            "metadata.ownerReferences",
            [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web"}],
        ),
        'metadata.ownerReferences.uid: Invalid value: "": uid must not be empty',
    ),
    # Pod
    ("no-containers", POD, _set("spec.containers", []), "spec.containers: Required value"),
    (
        "container-name",
        POD,
        _set("spec.containers[0].name", "Web"),
        'spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of',
    ),
    (
        "container-dup",
        POD,
        lambda o: o["spec"]["containers"].append(copy.deepcopy(o["spec"]["containers"][0])),
        'spec.containers[1].name: Duplicate value: "web"',
    ),
    (
        "image-missing",
        POD,
        _set("spec.containers[0].image", ...),
        "spec.containers[0].image: Required value",
    ),
    (
        "port-range",
        POD,
        _set("spec.containers[0].ports[0].containerPort", 70000),
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
    ),
    (
        "port-protocol",
        POD,
        _set("spec.containers[0].ports[0].protocol", "HTTP"),
        'spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ),
    (
        "port-name",
        POD,
        _set("spec.containers[0].ports[0].name", "http--x"),
        'spec.containers[0].ports[0].name: Invalid value: "http--x": must not contain consecutive hyphens',
    ),
    (
        "restart-policy",
        POD,
        _set("spec.restartPolicy", "Sometimes"),
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ),
    (
        "dns-policy",
        POD,
        _set("spec.dnsPolicy", "Custom"),
        'spec.dnsPolicy: Unsupported value: "Custom"',
    ),
    (
        "grace-negative",
        POD,
        _set("spec.terminationGracePeriodSeconds", -1),
        "spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "requests-over-limits",
        POD,
        _set("spec.containers[0].resources.requests.cpu", "1"),
        'spec.containers[0].resources.requests: Invalid value: "1": must be less than or equal to cpu limit of 500m',
    ),
    (
        "quantity-format",
        POD,
        _set("spec.containers[0].resources.limits.memory", "12XB"),
        'spec.containers[0].resources.limits[memory]: Invalid value: "12XB": quantities must match the regular expression',
    ),
    (
        "resource-name",
        POD,
        _set("spec.containers[0].resources.limits.gpu", "1"),
        'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers',
    ),
    (
        "env-name",
        POD,
        _set("spec.containers[0].env[0].name", "A=B"),
        "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
    ),
    (
        "env-fieldref-path",
        POD,
        _set("spec.containers[0].env[0].valueFrom.fieldRef.fieldPath", "spec.bogus"),
        'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.bogus"',
    ),
    (
        "volume-dup",
        POD,
        _set("spec.volumes[1].name", "data"),
        'spec.volumes[1].name: Duplicate value: "data"',
    ),
    (
        "volume-two-sources",
        POD,
        _set("spec.volumes[1].secret", {"secretName": "s"}),
        "spec.volumes[1].configMap: Forbidden: may not specify more than 1 volume type",
    ),
    (
        "volume-no-source",
        POD,
        _set("spec.volumes[1].configMap", ...),
        "spec.volumes[1]: Required value: must specify a volume type",
    ),
    (
        "mount-unknown-volume",
        POD,
        _set("spec.containers[0].volumeMounts[0].name", "nope"),
        'spec.containers[0].volumeMounts[0].name: Not found: "nope"',
    ),
    (
        "probe-two-handlers",
        POD,
        _set("spec.containers[0].livenessProbe.tcpSocket", {"port": 80}),
        "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
    ),
    (
        "probe-no-handler",
        POD,
        _set("spec.containers[0].livenessProbe.httpGet", ...),
        "spec.containers[0].livenessProbe: Required value: must specify a handler type",
    ),
    (
        "liveness-success-threshold",
        POD,
        _set("spec.containers[0].livenessProbe.successThreshold", 2),
        "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
    ),
    # Workloads
    (
        "selector-mismatch",
        DEPLOY,
        _set("spec.template.metadata.labels", {"app": "db"}),
        'spec.template.metadata.labels: Invalid value: {"app":"db"}: `selector` does not match template `labels`',
    ),
    ("selector-missing", DEPLOY, _set("spec.selector", ...), "spec.selector: Required value"),
    (
        "selector-empty",
        DEPLOY,
        _set("spec.selector", {}),
        "spec.selector: Invalid value: {}: empty selector is invalid for deployment",
    ),
    (
        "selector-operator",
        ("apps", "v1", "ReplicaSet"),
        _set("spec.selector.matchExpressions[0].operator", "Has"),
        'spec.selector.matchExpressions[0].operator: Invalid value: "Has": not a valid selector operator',
    ),
    (
        "replicas-negative",
        DEPLOY,
        _set("spec.replicas", -1),
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "surge-and-unavailable-zero",
        DEPLOY,
        _set("spec.strategy.rollingUpdate", {"maxSurge": 0, "maxUnavailable": "0%"}),
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0',
    ),
    (
        "percent-format",
        DEPLOY,
        _set("spec.strategy.rollingUpdate.maxSurge", "25"),
        "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"25\": a valid percent string must be a numeric string followed by an ending '%'",
    ),
    (
        "unavailable-over-100",
        DEPLOY,
        _set("spec.strategy.rollingUpdate.maxUnavailable", "150%"),
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%',
    ),
    (
        "recreate-with-rolling",
        DEPLOY,
        _set("spec.strategy.type", "Recreate"),
        "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
    ),
    (
        "revision-history-negative",
        DEPLOY,
        _set("spec.revisionHistoryLimit", -2),
        "spec.revisionHistoryLimit: Invalid value: -2: must be greater than or equal to 0",
    ),
    (
        "progress-deadline",
        DEPLOY,
        _set("spec.minReadySeconds", 600),
        "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds",
    ),
    (
        "template-restart-policy",
        DEPLOY,
        _set("spec.template.spec.restartPolicy", "Never"),
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ),
    (
        "rc-selector-mismatch",
        ("", "v1", "ReplicationController"),
        _set("spec.selector", {"app": "db"}),
        'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
    ),
    (
        "ds-selector-empty",
        ("apps", "v1", "DaemonSet"),
        _set("spec.selector", {}),
        "spec.selector: Invalid value: {}: empty selector is invalid for daemonset",
    ),
    (
        "sts-pod-management",
        ("apps", "v1", "StatefulSet"),
        _set("spec.podManagementPolicy", "Random"),
        'spec.podManagementPolicy: Unsupported value: "Random": supported values: "OrderedReady", "Parallel"',
    ),
    (
        "sts-partition",
        ("apps", "v1", "StatefulSet"),
        _set("spec.updateStrategy.rollingUpdate.partition", -1),
        "spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "controller-revision-negative",
        ("apps", "v1", "ControllerRevision"),
        _set("revision", -1),
        "revision: Invalid value: -1: must be greater than or equal to 0",
    ),
    # Batch
    (
        "job-restart-always",
        ("batch", "v1", "Job"),
        _set("spec.template.spec.restartPolicy", "Always"),
        'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    ),
    (
        "job-backoff-negative",
        ("batch", "v1", "Job"),
        _set("spec.backoffLimit", -1),
        "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "job-parallelism-negative",
        ("batch", "v1", "Job"),
        _set("spec.parallelism", -1),
        "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "job-selector-missing",
        ("batch", "v1", "Job"),
        _set("spec.selector", ...),
        "spec.selector: Required value",
    ),
    (
        "cron-schedule-missing",
        ("batch", "v1", "CronJob"),
        _set("spec.schedule", ""),
        "spec.schedule: Required value",
    ),
    (
        "cron-schedule-fields",
        ("batch", "v1", "CronJob"),
        _set("spec.schedule", "* * * *"),
        'spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]',
    ),
    (
        "cron-schedule-range",
        ("batch", "v1", "CronJob"),
        _set("spec.schedule", "61 * * * *"),
        'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
    ),
    (
        "cron-descriptor",
        ("batch", "v1", "CronJob"),
        _set("spec.schedule", "@fortnightly"),
        'spec.schedule: Invalid value: "@fortnightly": unrecognized descriptor: @fortnightly',
    ),
    (
        "cron-timezone",
        ("batch", "v1", "CronJob"),
        _set("spec.timeZone", "Mars/Olympus"),
        'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
    ),
    (
        "cron-timezone-local",
        ("batch", "v1", "CronJob"),
        _set("spec.timeZone", "Local"),
        'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone',
    ),
    (
        "cron-name-length",
        ("batch", "v1", "CronJob"),
        _set("metadata.name", "n" * 53),
        'metadata.name: Invalid value: "' + "n" * 53 + '": must be no more than 52 characters',
    ),
    (
        "cron-concurrency",
        ("batch", "v1", "CronJob"),
        _set("spec.concurrencyPolicy", "Sometimes"),
        'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
    ),
    (
        "cron-job-template-restart",
        ("batch", "v1", "CronJob"),
        _set("spec.jobTemplate.spec.template.spec.restartPolicy", "Always"),
        'spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: "Always"',
    ),
    # Service
    ("svc-ports-required", SVC, _set("spec.ports", []), "spec.ports: Required value"),
    (
        "svc-port-name-required",
        SVC,
        _set("spec.ports[1].name", ...),
        "spec.ports[1].name: Required value",
    ),
    (
        "svc-port-name-dup",
        SVC,
        _set("spec.ports[1].name", "http"),
        'spec.ports[1].name: Duplicate value: "http"',
    ),
    (
        "svc-port-range",
        SVC,
        _set("spec.ports[0].port", 0),
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
    ),
    (
        "svc-type",
        SVC,
        _set("spec.type", "Magic"),
        'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ),
    (
        "svc-nodeport-on-clusterip",
        SVC,
        _set("spec.ports[0].nodePort", 30080),
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    ),
    (
        "svc-nodeport-range",
        SVC,
        _both(
            _set("spec.type", "NodePort"),
            _set("spec.externalTrafficPolicy", "Cluster"),
            _set("spec.ports[0].nodePort", 80),
        ),
        "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767",
    ),
    (
        "svc-selector-label",
        SVC,
        _set("spec.selector", {"app": "a b"}),
        'spec.selector: Invalid value: "a b": a valid label must be',
    ),
    (
        "svc-cluster-ip",
        SVC,
        _set("spec.clusterIP", "10.43.0.300"),
        'spec.clusterIPs[0]: Invalid value: "10.43.0.300": must be a valid IP address',
    ),
    (
        "svc-headless-no-ports",
        SVC,
        _both(
            _set("spec.clusterIP", "None"),
            _set("spec.clusterIPs", ["None"]),
            _set("spec.ports", [{"name": "x", "port": 0, "protocol": "TCP"}]),
        ),
        "spec.ports[0].port: Invalid value: 0",
    ),
    (
        "svc-etp-on-clusterip",
        SVC,
        _set("spec.externalTrafficPolicy", "Local"),
        "spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set when `type` is 'NodePort' or 'LoadBalancer'",
    ),
    # ConfigMap / Secret
    (
        "cm-key",
        ("", "v1", "ConfigMap"),
        _set("data", {"a/b": "x"}),
        "data[a/b]: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    ),
    (
        "cm-key-dotdot",
        ("", "v1", "ConfigMap"),
        _set("data", {"..x": "y"}),
        "data[..x]: Invalid value: \"..x\": must not start with '..'",
    ),
    (
        "cm-too-big",
        ("", "v1", "ConfigMap"),
        _set("data", {"big": "x" * (1024 * 1024 + 1)}),
        "[]: Too long: may not be more than 1048576 bytes",
    ),
    (
        "secret-tls-keys",
        ("", "v1", "Secret"),
        _set("type", "kubernetes.io/tls"),
        "data[tls.key]: Required value",
    ),
    (
        "secret-bad-base64",
        ("", "v1", "Secret"),
        _set("data.password", "not base64!"),
        'data[password]: Invalid value: "<secret contents redacted>": illegal base64 data',
    ),
    # Other kinds
    (
        "event-namespace",
        ("", "v1", "Event"),
        _set("involvedObject.namespace", "other"),
        'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
    ),
    (
        "node-taint-effect",
        ("", "v1", "Node"),
        _set("spec.taints", [{"key": "k", "effect": "Sometimes"}]),
        'spec.taints[0].effect: Unsupported value: "Sometimes"',
    ),
    (
        "node-cidr",
        ("", "v1", "Node"),
        _both(_set("spec.podCIDR", "10.42.1.0"), _set("spec.podCIDRs", ["10.42.1.0"])),
        'spec.podCIDRs[0]: Invalid value: "10.42.1.0": must be a valid CIDR value',
    ),
    (
        "lease-duration",
        ("coordination.k8s.io", "v1", "Lease"),
        _set("spec.leaseDurationSeconds", 0),
        "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
    ),
    (
        "slice-address-type",
        ("discovery.k8s.io", "v1", "EndpointSlice"),
        _set("addressType", "IPv5"),
        'addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"',
    ),
    (
        "slice-address",
        ("discovery.k8s.io", "v1", "EndpointSlice"),
        _set("endpoints[0].addresses", ["::1"]),
        'endpoints[0].addresses[0]: Invalid value: "::1": must be a valid IPv4 address',
    ),
    (
        "ingress-path-type",
        ("networking.k8s.io", "v1", "Ingress"),
        _set("spec.rules[0].http.paths[0].pathType", ...),
        "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
    ),
    (
        "ingress-relative-path",
        ("networking.k8s.io", "v1", "Ingress"),
        _set("spec.rules[0].http.paths[0].path", "api"),
        'spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path',
    ),
    (
        "ingress-backend",
        ("networking.k8s.io", "v1", "Ingress"),
        _set("spec.rules[0].http.paths[0].backend", {}),
        'spec.rules[0].http.paths[0].backend: Invalid value: "": resource or service backend is required',
    ),
    (
        "ingress-host-ip",
        ("networking.k8s.io", "v1", "Ingress"),
        _set("spec.rules[0].host", "1.2.3.4"),
        'spec.rules[0].host: Invalid value: "1.2.3.4": must be a DNS name, not an IP address',
    ),
    (
        "netpol-except",
        ("networking.k8s.io", "v1", "NetworkPolicy"),
        _set("spec.ingress[0].from[0].ipBlock.except", ["192.168.0.0/16"]),
        'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "192.168.0.0/16": must be a strict subset of `cidr`',
    ),
    (
        "netpol-peer",
        ("networking.k8s.io", "v1", "NetworkPolicy"),
        _set("spec.ingress[0].from[0].podSelector", {}),
        "spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer",
    ),
    (
        "netpol-policy-type",
        ("networking.k8s.io", "v1", "NetworkPolicy"),
        _set("spec.policyTypes", ["Sideways"]),
        'spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Egress", "Ingress"',
    ),
    (
        "pdb-both",
        ("policy", "v1", "PodDisruptionBudget"),
        _set("spec.maxUnavailable", 1),
        "spec: Invalid value: ",
    ),
    (
        "pdb-percent",
        ("policy", "v1", "PodDisruptionBudget"),
        _set("spec.minAvailable", "120%"),
        'spec.minAvailable: Invalid value: "120%": must not be greater than 100%',
    ),
    (
        "pc-value",
        ("scheduling.k8s.io", "v1", "PriorityClass"),
        _set("value", 2_000_000_000),
        "value: Forbidden: maximum allowed value of a user defined priority is 1000000000",
    ),
    (
        "pc-system-name",
        ("scheduling.k8s.io", "v1", "PriorityClass"),
        _set("metadata.name", "system-high"),
        "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-high is not a known system priority class",
    ),
    (
        "pc-preemption",
        ("scheduling.k8s.io", "v1", "PriorityClass"),
        _set("preemptionPolicy", "Always"),
        'preemptionPolicy: Unsupported value: "Always"',
    ),
    (
        "rbac-verbs",
        ("rbac.authorization.k8s.io", "v1", "Role"),
        _set("rules[0].verbs", []),
        "rules[0].verbs: Required value: verbs must contain at least one value",
    ),
    (
        "rbac-namespaced-url",
        ("rbac.authorization.k8s.io", "v1", "Role"),
        _set("rules[0].nonResourceURLs", ["/x"]),
        'rules[0].nonResourceURLs: Invalid value: ["/x"]: namespaced rules cannot apply to non-resource URLs',
    ),
    (
        "rbac-role-name",
        ("rbac.authorization.k8s.io", "v1", "Role"),
        _set("metadata.name", "a/b"),
        "metadata.name: Invalid value: \"a/b\": may not contain '/'",
    ),
    (
        "rbac-roleref-kind",
        ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"),
        _set("roleRef.kind", "Role"),
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
    ),
    (
        "rbac-subject-kind",
        ("rbac.authorization.k8s.io", "v1", "RoleBinding"),
        _set("subjects[0].kind", "Robot"),
        'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    ),
    (
        "hpa-max-below-min",
        ("autoscaling", "v2", "HorizontalPodAutoscaler"),
        _set("spec.minReplicas", 10),
        "spec.maxReplicas: Invalid value: 5: must be greater than or equal to `minReplicas`",
    ),
    (
        "hpa-target-kind",
        ("autoscaling", "v2", "HorizontalPodAutoscaler"),
        _set("spec.scaleTargetRef.kind", ""),
        "spec.scaleTargetRef.kind: Required value",
    ),
    (
        "hpa-policy-period",
        ("autoscaling", "v2", "HorizontalPodAutoscaler"),
        _set("spec.behavior.scaleUp.policies[0].periodSeconds", 0),
        "spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 0: must be greater than zero",
    ),
    (
        "hpa-v1-min",
        ("autoscaling", "v1", "HorizontalPodAutoscaler"),
        _set("spec.minReplicas", 0),
        "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
    ),
    (
        "vpa-target",
        ("autoscaling.k8s.io", "v1", "VerticalPodAutoscaler"),
        _set("spec.targetRef", ...),
        "spec.targetRef: Required value",
    ),
    (
        "vpa-mode",
        ("autoscaling.k8s.io", "v1", "VerticalPodAutoscaler"),
        _set("spec.updatePolicy.updateMode", "Sometimes"),
        'spec.updatePolicy.updateMode: Unsupported value: "Sometimes"',
    ),
    ("pv-modes", PV, _set("spec.accessModes", []), "spec.accessModes: Required value"),
    (
        "pv-mode-unknown",
        PV,
        _set("spec.accessModes", ["ReadAlot"]),
        'spec.accessModes: Unsupported value: "ReadAlot": supported values: "ReadOnlyMany", '
        '"ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
    ),
    (
        "pv-rwop-alone",
        PV,
        _set("spec.accessModes", ["ReadWriteOncePod", "ReadOnlyMany"]),
        "spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes",
    ),
    ("pv-capacity", PV, _set("spec.capacity", ...), "spec.capacity: Required value"),
    (
        "pv-capacity-zero",
        PV,
        _set("spec.capacity.storage", "0"),
        'spec.capacity[storage]: Invalid value: "0": must be greater than zero',
    ),
    (
        "pv-no-source",
        PV,
        _set("spec.hostPath", ...),
        "spec: Required value: must specify a volume type",
    ),
    (
        "pv-two-sources",
        PV,
        _set("spec.nfs", {"server": "nfs.local", "path": "/x"}),
        "spec.nfs: Forbidden: may not specify more than 1 volume type",
    ),
    (
        "pv-reclaim",
        PV,
        _set("spec.persistentVolumeReclaimPolicy", "Shred"),
        'spec.persistentVolumeReclaimPolicy: Unsupported value: "Shred": supported values: '
        '"Delete", "Recycle", "Retain"',
    ),
    (
        "pv-local-affinity",
        PV,
        _both(_set("spec.hostPath", ...), _set("spec.local", {"path": "/mnt/disk"})),
        "spec.nodeAffinity: Required value: Local volume requires node affinity",
    ),
    (
        "pv-class-name",
        PV,
        _set("spec.storageClassName", "Fast_Disks"),
        'spec.storageClassName: Invalid value: "Fast_Disks": a lowercase RFC 1123 subdomain',
    ),
    (
        "pvc-modes",
        PVC,
        _set("spec.accessModes", ...),
        "spec.accessModes: Required value: at least 1 access mode is required",
    ),
    (
        "pvc-storage",
        PVC,
        _set("spec.resources", ...),
        "spec.resources[storage]: Required value",
    ),
    (
        "pvc-storage-negative",
        PVC,
        _set("spec.resources.requests.storage", "-1Gi"),
        'spec.resources[storage]: Invalid value: "-1Gi": must be greater than zero',
    ),
    (
        "pvc-volume-mode",
        PVC,
        _set("spec.volumeMode", "Raw"),
        'spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"',
    ),
    ("sc-provisioner", SC, _set("provisioner", ...), "provisioner: Required value"),
    (
        "sc-reclaim",
        SC,
        _set("reclaimPolicy", "Recycle"),
        'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
    ),
    (
        "sc-binding-mode",
        SC,
        _set("volumeBindingMode", "Later"),
        'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", '
        '"WaitForFirstConsumer"',
    ),
    (
        "sc-topology",
        SC,
        _set("allowedTopologies", [{"matchLabelExpressions": [{"key": "zone", "values": []}]}]),
        "allowedTopologies[0].matchLabelExpressions[0].values: Required value",
    ),
    (
        "apisvc-name",
        APISVC,
        _set("metadata.name", "metrics"),
        'metadata.name: Invalid value: "metrics": must be `spec.version+"."+spec.group`: '
        '"v1beta1.metrics.k8s.io"',
    ),
    (
        "apisvc-priority",
        APISVC,
        _set("spec.groupPriorityMinimum", 0),
        "spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000",
    ),
    (
        "apisvc-service-name",
        APISVC,
        _set("spec.service.name", ...),
        "spec.service.name: Required value",
    ),
    (
        "apisvc-local-ca",
        APISVC,
        _both(_set("spec.service", ...), _set("spec.caBundle", "QUJD")),
        'spec.caBundle: Invalid value: "3 bytes": local APIServices may not have a caBundle',
    ),
]


@pytest.mark.parametrize(
    ("gvk", "mutate", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_object_reports_kubernetes_error(
    gvk: tuple[str, str, str], mutate: Mutator, expected: str
) -> None:
    obj = _valid(*gvk)
    mutate(obj)
    msgs = _messages(*gvk, obj)
    assert any(m.startswith(expected) for m in msgs), msgs
    # every error names its field (Kubernetes says "[]" for the whole object, never "")
    assert all(e.field for e in validate(*gvk, obj, None)), msgs


# (id, gvk, mutator turning the stored object into the update, expected message prefix or None)
UPDATES: list[tuple[str, tuple[str, str, str], Mutator, str | None]] = [
    ("pod-image-ok", POD, _set("spec.containers[0].image", "nginx:1.28"), None),
    (
        "pod-add-toleration-ok",
        POD,
        _set("spec.tolerations", [{"key": "k", "operator": "Exists"}]),
        None,
    ),
    ("pod-deadline-ok", POD, _set("spec.activeDeadlineSeconds", 30), None),
    (
        "pod-spec-change",
        POD,
        _set("spec.restartPolicy", "Never"),
        "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)",
    ),
    (
        "pod-add-gate",
        POD,
        _set("spec.schedulingGates", [{"name": "example.com/wait"}]),
        "spec.schedulingGates: Forbidden: only deletion is allowed, but found new scheduling gate 'example.com/wait'",
    ),
    (
        "deploy-selector",
        DEPLOY,
        _both(
            _set("spec.selector.matchLabels", {"app": "db"}),
            _set("spec.template.metadata.labels", {"app": "db"}),
        ),
        'spec.selector: Invalid value: {"matchLabels":{"app":"db"}}: field is immutable',
    ),
    ("deploy-scale-ok", DEPLOY, _set("spec.replicas", 10), None),
    (
        "rs-selector",
        ("apps", "v1", "ReplicaSet"),
        _set("spec.selector.matchExpressions[0].values", ["web", "api"]),
        "spec.selector: Invalid value: ",
    ),
    (
        "ds-selector",
        ("apps", "v1", "DaemonSet"),
        _both(
            _set("spec.selector.matchLabels.tier", "x"),
            _set("spec.template.metadata.labels.tier", "x"),
        ),
        "spec.selector: Invalid value: ",
    ),
    (
        "sts-service-name",
        ("apps", "v1", "StatefulSet"),
        _set("spec.serviceName", "other"),
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template'",
    ),
    (
        "sts-template-ok",
        ("apps", "v1", "StatefulSet"),
        _set("spec.template.spec.containers[0].image", "nginx:2"),
        None,
    ),
    (
        "job-template",
        ("batch", "v1", "Job"),
        _set("spec.template.spec.containers[0].image", "busybox"),
        "spec.template: Invalid value: ",
    ),
    (
        "job-selector",
        ("batch", "v1", "Job"),
        _both(
            _set("spec.selector.matchLabels.x", "y"), _set("spec.template.metadata.labels.x", "y")
        ),
        "spec.selector: Invalid value: ",
    ),
    (
        "svc-cluster-ip-change",
        SVC,
        _set("spec.clusterIP", "10.43.0.20"),
        'spec.clusterIPs[0]: Invalid value: "10.43.0.20": may not change once set',
    ),
    (
        "cm-immutable",
        ("", "v1", "ConfigMap"),
        _set("data.x", "y"),
        "data: Forbidden: field is immutable when `immutable` is set",
    ),
    (
        "secret-type",
        ("", "v1", "Secret"),
        _set("type", "example.com/other"),
        'type: Invalid value: "example.com/other": field is immutable',
    ),
    (
        "rolebinding-roleref",
        ("rbac.authorization.k8s.io", "v1", "RoleBinding"),
        _set("roleRef.name", "writer"),
        "roleRef: Invalid value: ",
    ),
    (
        "pc-value",
        ("scheduling.k8s.io", "v1", "PriorityClass"),
        _set("value", 5),
        "value: Forbidden: may not be changed in an update.",
    ),
    (
        "revision-data",
        ("apps", "v1", "ControllerRevision"),
        _set("data", {"spec": {"x": 1}}),
        'data: Invalid value: {"spec":{"x":1}}: field is immutable',
    ),
    (
        "slice-address-type",
        ("discovery.k8s.io", "v1", "EndpointSlice"),
        _both(_set("addressType", "IPv6"), _set("endpoints[0].addresses", ["fd00::5"])),
        'addressType: Invalid value: "IPv6": field is immutable',
    ),
    (
        "pv-source",
        PV,
        _set("spec.hostPath.path", "/data/other"),
        "spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable",
    ),
    ("pv-claim-ref-ok", PV, _set("spec.claimRef", {"namespace": "default", "name": "data"}), None),
    ("pvc-volume-name-once-ok", PVC, _set("spec.volumeName", "pv-1"), None),
    (
        "pvc-spec",
        PVC,
        _set("spec.accessModes", ["ReadWriteMany"]),
        "spec: Forbidden: spec is immutable after creation except resources.requests",
    ),
    (
        "pvc-shrink",
        PVC,
        _set("spec.resources.requests.storage", "512Mi"),
        "spec.resources.requests.storage: Forbidden: field can not be less than previous value",
    ),
    (
        "sc-parameters",
        SC,
        _set("parameters", {"type": "ssd"}),
        "parameters: Forbidden: updates to parameters are forbidden.",
    ),
    (
        "sc-provisioner-update",
        SC,
        _set("provisioner", "example.com/slow"),
        "provisioner: Forbidden: updates to provisioner are forbidden.",
    ),
    ("sc-expansion-ok", SC, _set("allowVolumeExpansion", True), None),
    (
        "node-pod-cidr",
        ("", "v1", "Node"),
        _both(_set("spec.podCIDR", "10.42.2.0/24"), _set("spec.podCIDRs", ["10.42.2.0/24"])),
        'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
    ),
]


def _stored(gvk: tuple[str, str, str]) -> Obj:
    obj = _valid(*gvk)
    if gvk == SVC:
        obj["spec"]["clusterIP"] = "10.43.0.10"
        obj["spec"]["clusterIPs"] = ["10.43.0.10"]
    if gvk == ("", "v1", "ConfigMap"):
        obj["immutable"] = True
    return obj


@pytest.mark.parametrize(
    ("gvk", "mutate", "expected"), [c[1:] for c in UPDATES], ids=[c[0] for c in UPDATES]
)
def test_update_rules(gvk: tuple[str, str, str], mutate: Mutator, expected: str | None) -> None:
    old = _stored(gvk)
    new = copy.deepcopy(old)
    mutate(new)
    msgs = _messages(*gvk, new, old)
    if expected is None:
        assert msgs == []
    else:
        assert any(m.startswith(expected) for m in msgs), msgs
        # The same object is fine on create: the error comes from the update rules.
        assert not any(m.startswith(expected) for m in _messages(*gvk, new)), msgs


def test_service_cluster_ip_may_be_set_once() -> None:
    old = _valid(*SVC)
    new = copy.deepcopy(old)
    new["spec"]["clusterIP"] = "10.43.0.10"
    assert _messages(*SVC, new, old) == []


def test_unknown_kind_gets_meta_checks_only() -> None:
    obj = {"metadata": {"name": "Bad_Name", "namespace": "default"}, "spec": {"x": 1}}
    msgs = _messages("example.com", "v1", "Widget", obj)
    assert len(msgs) == 1 and msgs[0].startswith('metadata.name: Invalid value: "Bad_Name"')


def test_malformed_shapes_do_not_crash() -> None:
    # pydantic rejects these upstream of us, but validate must never raise on odd input.
    specs: list[Any] = [
        None,
        [],
        "x",
        {"template": None, "selector": None, "ports": None},
        {"containers": [None, "x", {"ports": ["x"], "env": [None]}], "volumes": [1]},
        {"template": {"spec": {"containers": [{"resources": {"limits": None}}]}}},
    ]
    for gvk in VALID:
        for spec in specs:
            obj: Obj = {"metadata": None, "spec": spec, "data": spec, "rules": spec}
            assert isinstance(validate(*gvk, obj), list)
            apply_defaults(*gvk, copy.deepcopy(obj))
