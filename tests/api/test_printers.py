"""Server-side Table printers (``skiff.api.printers``).

Covers the column sets of the served kinds, row cells for representative objects (pod states,
service ports and external IPs, node statuses, events, workloads, HPA targets, the VPA CRD columns)
and the generic ``Name``/``Created At`` fallback; every served kind must print partial objects
without raising. Excludes building the ``Table`` response itself (apiserver tests).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from skiff.api.printers import (
    column_definitions,
    default_column_definitions,
    has_printer,
    printed_kinds,
    row_cells,
    row_conditions,
)
from skiff.api.resources import RESOURCES

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
FIVE_MIN_AGO = "2025-01-01T11:55:00Z"


def meta(name: str = "x", **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "default", "creationTimestamp": FIVE_MIN_AGO, **extra}


def names(kind: str) -> list[str]:
    return [c["name"] for c in column_definitions(kind)]


# --- columns ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "columns", "wide"),
    [
        pytest.param(
            "Pod",
            ["Name", "Ready", "Status", "Restarts", "Age"],
            ["IP", "Node", "Nominated Node", "Readiness Gates"],
            id="pod",
        ),
        pytest.param(
            "Deployment",
            ["Name", "Ready", "Up-to-date", "Available", "Age"],
            ["Containers", "Images", "Selector"],
            id="deployment",
        ),
        pytest.param(
            "ReplicaSet",
            ["Name", "Desired", "Current", "Ready", "Age"],
            ["Containers", "Images", "Selector"],
            id="replicaset",
        ),
        pytest.param(
            "StatefulSet", ["Name", "Ready", "Age"], ["Containers", "Images"], id="statefulset"
        ),
        pytest.param(
            "Service",
            ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"],
            ["Selector"],
            id="service",
        ),
        pytest.param(
            "Node",
            ["Name", "Status", "Roles", "Age", "Version"],
            ["Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"],
            id="node",
        ),
        pytest.param(
            "Event",
            ["Last Seen", "Type", "Reason", "Object", "Message"],
            ["Subobject", "Source", "First Seen", "Count", "Name"],
            id="event",
        ),
        pytest.param(
            "Job",
            ["Name", "Status", "Completions", "Duration", "Age"],
            ["Containers", "Images", "Selector"],
            id="job",
        ),
        pytest.param(
            "HorizontalPodAutoscaler",
            ["Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"],
            [],
            id="hpa",
        ),
        pytest.param(
            "RoleBinding",
            ["Name", "Role", "Age"],
            ["Users", "Groups", "ServiceAccounts"],
            id="rolebinding",
        ),
        pytest.param(
            "VerticalPodAutoscaler", ["Name", "Mode", "CPU", "Mem", "Provided", "Age"], [], id="vpa"
        ),
        pytest.param("Role", ["Name", "Created At"], [], id="role-fallback"),
        pytest.param("ClusterRole", ["Name", "Created At"], [], id="clusterrole-fallback"),
        pytest.param("Unheard", ["Name", "Created At"], [], id="unknown-kind-fallback"),
    ],
)
def test_columns(kind: str, columns: list[str], wide: list[str]) -> None:
    cols = column_definitions(kind)
    assert [c["name"] for c in cols if c["priority"] == 0] == columns
    assert [c["name"] for c in cols if c["priority"] == 1] == wide
    for c in cols:
        assert set(c) == {"name", "type", "format", "description", "priority"}
        assert c["type"] in {"string", "integer", "boolean", "date", "number"}
        assert c["description"]


@pytest.mark.parametrize(
    ("kind", "column", "type_"),
    [
        pytest.param("Pod", "Restarts", "string", id="pod-restarts-string"),
        pytest.param("ReplicaSet", "Desired", "integer", id="rs-desired"),
        pytest.param("CronJob", "Suspend", "boolean", id="cronjob-suspend"),
        pytest.param("PriorityClass", "Value", "integer", id="pc-value"),
        pytest.param("Role", "Created At", "date", id="fallback-date"),
        pytest.param("VerticalPodAutoscaler", "Age", "date", id="vpa-age-date"),
        pytest.param("Deployment", "Up-to-date", "string", id="deploy-up-to-date"),
    ],
)
def test_column_types(kind: str, column: str, type_: str) -> None:
    (col,) = [c for c in column_definitions(kind) if c["name"] == column]
    assert col["type"] == type_


def test_name_column_has_name_format() -> None:
    assert column_definitions("Pod")[0]["format"] == "name"
    assert default_column_definitions()[0]["format"] == "name"
    # Callers get copies they may mutate.
    column_definitions("Pod")[0]["name"] = "changed"
    assert column_definitions("Pod")[0]["name"] == "Name"


_PARTIALS: list[dict[str, Any]] = [
    {},
    {"metadata": None, "spec": 5, "status": []},
    {
        "metadata": {"name": "x"},
        "spec": {"containers": None, "ports": [None, 3]},
        "status": {"conditions": [1, None]},
    },
    {
        "metadata": {"creationTimestamp": "bogus"},
        "status": {"containerStatuses": [{}], "initContainerStatuses": [{}]},
    },
]


@pytest.mark.parametrize("kind", sorted({r.kind for r in RESOURCES}))
@pytest.mark.parametrize("obj", _PARTIALS, ids=["empty", "mistyped", "sparse", "odd-status"])
def test_every_served_kind_prints_partial_objects(kind: str, obj: dict[str, Any]) -> None:
    cells = row_cells(kind, obj, now=NOW)
    assert len(cells) == len(column_definitions(kind))
    for cell in cells:
        assert cell is None or isinstance(cell, str | int | bool)


def test_every_served_kind_has_a_table() -> None:
    served = {r.kind for r in RESOURCES if r.persisted}  # reviews are never listed or printed
    # upstream prints these with the default table (Name, Created At), as skiff does
    fallback = {"Role", "ClusterRole", "CustomResourceDefinition"}
    assert served - fallback <= set(printed_kinds())
    assert not any(has_printer(k) for k in fallback)


# --- pods ---------------------------------------------------------------------------------------


def pod(
    *,
    phase: str = "Running",
    containers: int = 1,
    statuses: list[dict[str, Any]] | None = None,
    init_specs: list[dict[str, Any]] | None = None,
    init_statuses: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    reason: str = "",
    deleting: bool = False,
    **spec_extra: Any,
) -> dict[str, Any]:
    m = meta("web-0")
    if deleting:
        m["deletionTimestamp"] = "2025-01-01T11:59:00Z"
    status: dict[str, Any] = {"phase": phase, "conditions": conditions or []}
    if statuses is not None:
        status["containerStatuses"] = statuses
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    if reason:
        status["reason"] = reason
    spec: dict[str, Any] = {
        "containers": [{"name": f"c{n}", "image": "img"} for n in range(containers)],
        **spec_extra,
    }
    if init_specs is not None:
        spec["initContainers"] = init_specs
    return {"metadata": m, "spec": spec, "status": status}


RUNNING = {"ready": True, "restartCount": 0, "state": {"running": {"startedAt": FIVE_MIN_AGO}}}


def waiting(reason: str, restarts: int = 0, finished: str = "") -> dict[str, Any]:
    cs: dict[str, Any] = {
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason}},
    }
    if finished:
        cs["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": finished}}
    return cs


def terminated(reason: str = "", exit_code: int = 0, signal: int = 0) -> dict[str, Any]:
    term: dict[str, Any] = {"exitCode": exit_code}
    if reason:
        term["reason"] = reason
    if signal:
        term["signal"] = signal
    return {"ready": False, "restartCount": 0, "state": {"terminated": term}}


READY = [{"type": "Ready", "status": "True"}]
INITIALIZED = {"type": "Initialized", "status": "True"}


@pytest.mark.parametrize(
    ("obj", "ready", "status", "restarts"),
    [
        pytest.param(
            pod(phase="Pending", statuses=None), "0/1", "Pending", "0", id="pending-unscheduled"
        ),
        pytest.param(
            pod(phase="Pending", statuses=[waiting("ContainerCreating")]),
            "0/1",
            "ContainerCreating",
            "0",
            id="container-creating",
        ),
        pytest.param(
            pod(statuses=[RUNNING], conditions=READY), "1/1", "Running", "0", id="running"
        ),
        pytest.param(
            pod(
                containers=2,
                statuses=[RUNNING, waiting("CrashLoopBackOff", 5, "2025-01-01T11:55:00Z")],
            ),
            "1/2",
            "CrashLoopBackOff",
            "5 (5m ago)",
            id="crashloop-with-last-restart",
        ),
        pytest.param(
            pod(statuses=[waiting("ImagePullBackOff", 2)]),
            "0/1",
            "ImagePullBackOff",
            "2",
            id="restarts-without-date",
        ),
        pytest.param(
            pod(phase="Succeeded", statuses=[terminated("Completed")]),
            "0/1",
            "Completed",
            "0",
            id="completed",
        ),
        pytest.param(
            pod(
                phase="Running",
                containers=2,
                statuses=[terminated("Completed"), RUNNING],
                conditions=READY,
            ),
            "1/2",
            "Running",
            "0",
            id="completed-but-one-running-and-ready",
        ),
        pytest.param(
            pod(phase="Running", containers=2, statuses=[terminated("Completed"), RUNNING]),
            "1/2",
            "NotReady",
            "0",
            id="completed-but-one-running-not-ready",
        ),
        pytest.param(
            pod(phase="Failed", statuses=[terminated(exit_code=3)]),
            "0/1",
            "ExitCode:3",
            "0",
            id="exit-code",
        ),
        pytest.param(
            pod(phase="Failed", statuses=[terminated(signal=9)]),
            "0/1",
            "Signal:9",
            "0",
            id="signal",
        ),
        pytest.param(
            pod(phase="Failed", reason="Evicted", statuses=[]),
            "0/1",
            "Evicted",
            "0",
            id="evicted-reason",
        ),
        pytest.param(
            pod(statuses=[RUNNING], conditions=READY, deleting=True),
            "1/1",
            "Terminating",
            "0",
            id="terminating",
        ),
        pytest.param(
            pod(phase="Succeeded", statuses=[terminated("Completed")], deleting=True),
            "0/1",
            "Completed",
            "0",
            id="terminal-pod-not-terminating",
        ),
        pytest.param(
            pod(reason="NodeLost", statuses=[RUNNING], deleting=True),
            "1/1",
            "Unknown",
            "0",
            id="node-lost",
        ),
        pytest.param(
            pod(
                phase="Pending",
                conditions=[
                    {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
                ],
            ),
            "0/1",
            "SchedulingGated",
            "0",
            id="scheduling-gated",
        ),
        pytest.param(
            pod(
                phase="Pending",
                init_specs=[{"name": "i0"}, {"name": "i1"}],
                init_statuses=[
                    terminated("Completed"),
                    {"restartCount": 0, "state": {"running": {}}},
                ],
                statuses=[waiting("PodInitializing")],
            ),
            "0/1",
            "Init:1/2",
            "0",
            id="init-progress",
        ),
        pytest.param(
            pod(
                phase="Pending",
                init_specs=[{"name": "i0"}],
                init_statuses=[waiting("CrashLoopBackOff", 3)],
                statuses=[waiting("PodInitializing")],
            ),
            "0/1",
            "Init:CrashLoopBackOff",
            "3",
            id="init-crashloop",
        ),
        pytest.param(
            pod(
                phase="Pending",
                init_specs=[{"name": "i0"}],
                init_statuses=[terminated(exit_code=2)],
            ),
            "0/1",
            "Init:ExitCode:2",
            "0",
            id="init-failed",
        ),
        pytest.param(
            pod(
                init_specs=[{"name": "sidecar", "restartPolicy": "Always"}],
                init_statuses=[
                    {
                        "name": "sidecar",
                        "started": True,
                        "ready": True,
                        "restartCount": 2,
                        "state": {"running": {}},
                        "lastState": {
                            "terminated": {"exitCode": 1, "finishedAt": "2025-01-01T11:58:00Z"}
                        },
                    }
                ],
                statuses=[{**RUNNING, "restartCount": 1}],
                conditions=[*READY, INITIALIZED],
            ),
            "2/2",
            "Running",
            "3 (2m ago)",
            id="sidecar-counts",
        ),
    ],
)
def test_pod_rows(obj: dict[str, Any], ready: str, status: str, restarts: str) -> None:
    cells = row_cells("Pod", obj, now=NOW)
    assert cells[:5] == ["web-0", ready, status, restarts, "5m"]


def test_pod_wide_cells() -> None:
    obj = pod(
        statuses=[RUNNING], conditions=[*READY, {"type": "example.com/gate", "status": "True"}]
    )
    obj["spec"]["nodeName"] = "node-1"
    obj["spec"]["readinessGates"] = [
        {"conditionType": "example.com/gate"},
        {"conditionType": "other"},
    ]
    obj["status"]["podIPs"] = [{"ip": "10.0.0.6"}, {"ip": "fd00::6"}]
    obj["status"]["nominatedNodeName"] = "node-2"
    assert row_cells("Pod", obj, now=NOW)[5:] == ["10.0.0.6", "node-1", "node-2", "1/2"]
    assert row_cells("Pod", pod(), now=NOW)[5:] == ["<none>", "<none>", "<none>", "<none>"]


def test_pod_row_conditions() -> None:
    assert row_conditions("Pod", pod(phase="Succeeded")) == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]
    assert row_conditions("Pod", pod(phase="Failed"))[0]["message"] == "The pod failed."
    assert row_conditions("Pod", pod()) == []
    assert row_conditions("Deployment", {}) == []


# --- services, endpoints ------------------------------------------------------------------------


def service(type_: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": meta("web"), "spec": {"type": type_, **spec}}


@pytest.mark.parametrize(
    ("obj", "cells"),
    [
        pytest.param(
            service(
                "ClusterIP",
                clusterIP="10.43.0.10",
                clusterIPs=["10.43.0.10"],
                ports=[{"port": 80, "protocol": "TCP"}],
                selector={"app": "web"},
            ),
            ["web", "ClusterIP", "10.43.0.10", "<none>", "80/TCP", "5m", "app=web"],
            id="clusterip",
        ),
        pytest.param(
            service(
                "NodePort",
                clusterIPs=["10.43.0.11"],
                ports=[
                    {"port": 80, "protocol": "TCP"},
                    {"port": 443, "nodePort": 30443, "protocol": "TCP"},
                ],
            ),
            ["web", "NodePort", "10.43.0.11", "<none>", "80/TCP,443:30443/TCP", "5m", "<none>"],
            id="nodeport",
        ),
        pytest.param(
            service("ClusterIP", clusterIPs=["None"], externalIPs=["1.2.3.4", "5.6.7.8"]),
            ["web", "ClusterIP", "None", "1.2.3.4,5.6.7.8", "<none>", "5m", "<none>"],
            id="headless-external-ips",
        ),
        pytest.param(
            service(
                "LoadBalancer",
                clusterIPs=["10.43.0.12"],
                ports=[{"port": 53, "nodePort": 31053, "protocol": "UDP"}],
            ),
            ["web", "LoadBalancer", "10.43.0.12", "<pending>", "53:31053/UDP", "5m", "<none>"],
            id="lb-pending",
        ),
        pytest.param(
            {
                **service("LoadBalancer", clusterIPs=["10.43.0.12"], externalIPs=["9.9.9.9"]),
                "status": {
                    "loadBalancer": {"ingress": [{"ip": "1.1.1.1"}, {"hostname": "lb.example.com"}]}
                },
            },
            [
                "web",
                "LoadBalancer",
                "10.43.0.12",
                "1.1.1.1,lb.example.com,9.9.9.9",
                "<none>",
                "5m",
                "<none>",
            ],
            id="lb-ingress",
        ),
        pytest.param(
            service("ExternalName", externalName="db.example.com"),
            ["web", "ExternalName", "<none>", "db.example.com", "<none>", "5m", "<none>"],
            id="external-name",
        ),
    ],
)
def test_service_rows(obj: dict[str, Any], cells: list[Any]) -> None:
    assert row_cells("Service", obj, now=NOW) == cells


@pytest.mark.parametrize(
    ("subsets", "expected"),
    [
        pytest.param([], "<none>", id="none"),
        pytest.param(
            [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}]}],
            "10.0.0.1:80,10.0.0.2:80",
            id="two",
        ),
        pytest.param(
            [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}], "[fd00::1]:80", id="ipv6"
        ),
        pytest.param([{"addresses": [{"ip": "10.0.0.1"}]}], "10.0.0.1", id="headless-no-ports"),
        pytest.param(
            [{"addresses": [{"ip": f"10.0.0.{n}"} for n in range(1, 6)], "ports": [{"port": 80}]}],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...",
            id="more",
        ),
    ],
)
def test_endpoints_rows(subsets: list[Any], expected: str) -> None:
    assert row_cells("Endpoints", {"metadata": meta("web"), "subsets": subsets}, now=NOW) == [
        "web",
        expected,
        "5m",
    ]


def test_endpointslice_row() -> None:
    es = {
        "metadata": meta("web-abc"),
        "addressType": "IPv4",
        "ports": [{"port": 80}, {"name": "https"}, {}, {"port": 9}],
        "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2"]}],
    }
    assert row_cells("EndpointSlice", es, now=NOW) == [
        "web-abc",
        "IPv4",
        "80,https,* + 1 more...",
        "10.0.0.1,10.0.0.2",
        "5m",
    ]


# --- nodes --------------------------------------------------------------------------------------


def node(
    ready: str | None, *, unschedulable: bool = False, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    conditions = [{"type": "MemoryPressure", "status": "False"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready})
    return {
        "metadata": {"name": "node-1", "creationTimestamp": FIVE_MIN_AGO, "labels": labels or {}},
        "spec": {"unschedulable": unschedulable},
        "status": {
            "conditions": conditions,
            "addresses": [
                {"type": "Hostname", "address": "node-1"},
                {"type": "InternalIP", "address": "192.168.1.5"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.32.4",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.1.0",
                "containerRuntimeVersion": "skiff://0.1.0",
            },
        },
    }


@pytest.mark.parametrize(
    ("obj", "status", "roles"),
    [
        pytest.param(node("True"), "Ready", "<none>", id="ready"),
        pytest.param(node("False"), "NotReady", "<none>", id="not-ready"),
        pytest.param(node("Unknown"), "NotReady", "<none>", id="unknown-status-is-not-ready"),
        pytest.param(node(None), "Unknown", "<none>", id="no-ready-condition"),
        pytest.param(
            node("True", unschedulable=True), "Ready,SchedulingDisabled", "<none>", id="cordoned"
        ),
        pytest.param(
            node(
                "True",
                labels={
                    "node-role.kubernetes.io/control-plane": "",
                    "node-role.kubernetes.io/worker": "x",
                },
            ),
            "Ready",
            "control-plane,worker",
            id="roles",
        ),
        pytest.param(
            node("True", labels={"kubernetes.io/role": "master"}),
            "Ready",
            "master",
            id="legacy-role-label",
        ),
        pytest.param(
            node("True", labels={"node-role.kubernetes.io/": ""}),
            "Ready",
            "<none>",
            id="empty-role",
        ),
    ],
)
def test_node_rows(obj: dict[str, Any], status: str, roles: str) -> None:
    assert row_cells("Node", obj, now=NOW) == [
        "node-1",
        status,
        roles,
        "5m",
        "v1.32.4",
        "192.168.1.5",
        "<none>",
        "Debian GNU/Linux 12 (bookworm)",
        "6.1.0",
        "skiff://0.1.0",
    ]


# --- events -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "cells"),
    [
        pytest.param(
            {
                "metadata": meta("web-0.17f"),
                "involvedObject": {
                    "kind": "Pod",
                    "name": "web-0",
                    "fieldPath": "spec.containers{web}",
                },
                "reason": "Pulled",
                "message": "Container image pulled\n",
                "source": {"component": "kubelet", "host": "node-1"},
                "firstTimestamp": "2025-01-01T11:50:00Z",
                "lastTimestamp": "2025-01-01T11:58:00Z",
                "count": 3,
                "type": "Normal",
            },
            [
                "2m",
                "Normal",
                "Pulled",
                "pod/web-0",
                "spec.containers{web}",
                "kubelet, node-1",
                "Container image pulled",
                "10m",
                3,
                "web-0.17f",
            ],
            id="classic",
        ),
        pytest.param(
            {
                "metadata": meta("e2"),
                "involvedObject": {"kind": "Node"},
                "reason": "Starting",
                "eventTime": "2025-01-01T11:59:30.000000Z",
                "reportingComponent": "skiff-agent",
                "reportingInstance": "node-1",
                "type": "Normal",
            },
            ["30s", "Normal", "Starting", "node", "", "skiff-agent, node-1", "", "30s", 1, "e2"],
            id="new-api-singleton",
        ),
        pytest.param(
            {
                "metadata": meta("e3"),
                "involvedObject": {"kind": "Deployment", "name": "web"},
                "reason": "ScalingReplicaSet",
                "eventTime": "2025-01-01T11:00:00.000000Z",
                "series": {"count": 7, "lastObservedTime": "2025-01-01T11:59:00.000000Z"},
                "reportingComponent": "deployment-controller",
                "type": "Warning",
            },
            [
                "60s",
                "Warning",
                "ScalingReplicaSet",
                "deployment/web",
                "",
                "deployment-controller",
                "",
                "60m",
                7,
                "e3",
            ],
            id="series",
        ),
    ],
)
def test_event_rows(event: dict[str, Any], cells: list[Any]) -> None:
    assert row_cells("Event", event, now=NOW) == cells


# --- workloads ----------------------------------------------------------------------------------

_TEMPLATE = {
    "spec": {
        "containers": [{"name": "web", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}]
    }
}


def test_deployment_row() -> None:
    d = {
        "metadata": meta("web"),
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": _TEMPLATE},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert row_cells("Deployment", d, now=NOW) == [
        "web",
        "2/3",
        3,
        2,
        "5m",
        "web,log",
        "nginx:1.27,busybox",
        "app=web",
    ]
    bad = {
        **d,
        "spec": {
            **d["spec"],
            "selector": {"matchExpressions": [{"key": "a", "operator": "Bogus"}]},
        },
    }
    assert row_cells("Deployment", bad, now=NOW)[7] == "<invalid>"


def test_replicaset_and_daemonset_and_statefulset_rows() -> None:
    rs = {
        "metadata": meta("web-5d4"),
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": _TEMPLATE},
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    assert row_cells("ReplicaSet", rs, now=NOW) == [
        "web-5d4",
        2,
        2,
        1,
        "5m",
        "web,log",
        "nginx:1.27,busybox",
        "app=web",
    ]
    ds = {
        "metadata": meta("agent"),
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"spec": {"nodeSelector": {"os": "linux"}, "containers": []}},
        },
        "status": {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
        },
    }
    assert row_cells("DaemonSet", ds, now=NOW) == [
        "agent",
        3,
        3,
        2,
        3,
        2,
        "os=linux",
        "5m",
        "",
        "",
        "app=agent",
    ]
    sts = {
        "metadata": meta("db"),
        "spec": {"replicas": 3, "template": _TEMPLATE},
        "status": {"readyReplicas": 1},
    }
    assert row_cells("StatefulSet", sts, now=NOW) == [
        "db",
        "1/3",
        "5m",
        "web,log",
        "nginx:1.27,busybox",
    ]
    rc = {
        "metadata": meta("old"),
        "spec": {"replicas": 2, "selector": {"app": "old"}, "template": _TEMPLATE},
        "status": {"replicas": 2, "readyReplicas": 2},
    }
    assert row_cells("ReplicationController", rc, now=NOW) == [
        "old",
        2,
        2,
        2,
        "5m",
        "web,log",
        "nginx:1.27,busybox",
        "app=old",
    ]


def test_controllerrevision_row() -> None:
    cr = {
        "metadata": meta(
            "web-7c9",
            ownerReferences=[
                {"apiVersion": "v1", "kind": "Pod", "name": "other"},
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": True},
            ],
        ),
        "revision": 4,
    }
    assert row_cells("ControllerRevision", cr, now=NOW) == [
        "web-7c9",
        "statefulset.apps/web",
        4,
        "5m",
    ]
    assert row_cells("ControllerRevision", {"metadata": meta("r")}, now=NOW)[1] == "<none>"


@pytest.mark.parametrize(
    ("spec", "status", "deleting", "expected"),
    [
        pytest.param(
            {"completions": 3},
            {"succeeded": 1, "startTime": "2025-01-01T11:57:00Z"},
            False,
            ["Running", "1/3", "3m"],
            id="running",
        ),
        pytest.param(
            {"completions": 1},
            {
                "succeeded": 1,
                "startTime": "2025-01-01T11:55:00Z",
                "completionTime": "2025-01-01T11:55:42Z",
                "conditions": [{"type": "Complete", "status": "True"}],
            },
            False,
            ["Complete", "1/1", "42s"],
            id="complete",
        ),
        pytest.param(
            {"parallelism": 4},
            {"succeeded": 0},
            False,
            ["Running", "0/1 of 4", ""],
            id="work-queue",
        ),
        pytest.param(
            {},
            {"conditions": [{"type": "Failed", "status": "True"}]},
            False,
            ["Failed", "0/1", ""],
            id="failed",
        ),
        pytest.param({}, {}, True, ["Terminating", "0/1", ""], id="terminating"),
        pytest.param(
            {},
            {"conditions": [{"type": "Suspended", "status": "True"}]},
            False,
            ["Suspended", "0/1", ""],
            id="suspended",
        ),
        pytest.param(
            {},
            {"conditions": [{"type": "Complete", "status": "False"}]},
            False,
            ["Running", "0/1", ""],
            id="false-condition",
        ),
    ],
)
def test_job_rows(
    spec: dict[str, Any], status: dict[str, Any], deleting: bool, expected: list[str]
) -> None:
    m = meta("job")
    if deleting:
        m["deletionTimestamp"] = FIVE_MIN_AGO
    job = {
        "metadata": m,
        "spec": {**spec, "template": _TEMPLATE, "selector": {"matchLabels": {"job-name": "job"}}},
        "status": status,
    }
    cells = row_cells("Job", job, now=NOW)
    assert cells[1:4] == expected
    assert cells[4:] == ["5m", "web,log", "nginx:1.27,busybox", "job-name=job"]


def test_cronjob_row() -> None:
    cj = {
        "metadata": meta("nightly"),
        "spec": {
            "schedule": "0 3 * * *",
            "suspend": False,
            "jobTemplate": {"spec": {"template": _TEMPLATE}},
        },
        "status": {"active": [{"name": "nightly-1"}], "lastScheduleTime": "2025-01-01T03:00:00Z"},
    }
    assert row_cells("CronJob", cj, now=NOW) == [
        "nightly",
        "0 3 * * *",
        "<none>",
        "False",
        1,
        "9h",
        "5m",
        "web,log",
        "nginx:1.27,busybox",
        "<none>",
    ]


# --- autoscalers --------------------------------------------------------------------------------


def hpa(metrics: list[Any], current: list[Any], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": meta("web"),
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "maxReplicas": 10,
            "metrics": metrics,
            **spec,
        },
        "status": {"currentReplicas": 2, "currentMetrics": current},
    }


_CPU50 = {
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
}


@pytest.mark.parametrize(
    ("obj", "targets"),
    [
        pytest.param(hpa([], []), "<none>", id="no-metrics"),
        pytest.param(hpa([_CPU50], []), "cpu: <unknown>/50%", id="cpu-unknown"),
        pytest.param(
            hpa(
                [_CPU50],
                [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "current": {"averageUtilization": 10}},
                    }
                ],
            ),
            "cpu: 10%/50%",
            id="cpu-current",
        ),
        pytest.param(
            hpa(
                [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "memory",
                            "target": {"type": "AverageValue", "averageValue": "1.5Gi"},
                        },
                    }
                ],
                [
                    {
                        "type": "Resource",
                        "resource": {"name": "memory", "current": {"averageValue": "1073741824"}},
                    }
                ],
            ),
            "memory: 1073741824/1536Mi",
            id="memory-average-value",
        ),
        pytest.param(
            hpa(
                [
                    {
                        "type": "Pods",
                        "pods": {
                            "metric": {"name": "qps"},
                            "target": {"type": "AverageValue", "averageValue": "1000m"},
                        },
                    }
                ],
                [],
            ),
            "<unknown>/1",
            id="pods",
        ),
        pytest.param(
            hpa(
                [
                    {
                        "type": "External",
                        "external": {
                            "metric": {"name": "q"},
                            "target": {"type": "AverageValue", "averageValue": "30"},
                        },
                    }
                ],
                [],
            ),
            "<unknown>/30 (avg)",
            id="external-avg",
        ),
        pytest.param(
            hpa([_CPU50, _CPU50, _CPU50], []),
            "cpu: <unknown>/50%, cpu: <unknown>/50% + 1 more...",
            id="more",
        ),
        pytest.param(
            {
                "metadata": meta("web"),
                "spec": {
                    "scaleTargetRef": {"kind": "Deployment", "name": "web"},
                    "maxReplicas": 10,
                    "targetCPUUtilizationPercentage": 80,
                },
                "status": {"currentReplicas": 2, "currentCPUUtilizationPercentage": 12},
            },
            "cpu: 12%/80%",
            id="autoscaling-v1-shape",
        ),
    ],
)
def test_hpa_targets(obj: dict[str, Any], targets: str) -> None:
    cells = row_cells("HorizontalPodAutoscaler", obj, now=NOW)
    assert cells == ["web", "Deployment/web", targets, "<unset>", 10, 2, "5m"]


def test_hpa_min_replicas() -> None:
    assert row_cells("HorizontalPodAutoscaler", hpa([], [], minReplicas=2), now=NOW)[3] == "2"


def test_vpa_row() -> None:
    vpa = {
        "metadata": meta("web"),
        "spec": {"updatePolicy": {"updateMode": "Auto"}},
        "status": {
            "recommendation": {
                "containerRecommendations": [
                    {"containerName": "web", "target": {"cpu": "25m", "memory": "262144k"}}
                ]
            },
            "conditions": [
                {"type": "LowConfidence", "status": "False"},
                {"type": "RecommendationProvided", "status": "True"},
            ],
        },
    }
    assert row_cells("VerticalPodAutoscaler", vpa, now=NOW) == [
        "web",
        "Auto",
        "25m",
        "262144k",
        "True",
        "5m",
    ]
    assert row_cells("VerticalPodAutoscaler", {"metadata": {"name": "v"}}, now=NOW) == [
        "v",
        None,
        None,
        None,
        None,
        None,
    ]


# --- networking, policy, rbac, misc -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "obj", "cells"),
    [
        pytest.param(
            "Namespace",
            {"metadata": meta("prod"), "status": {"phase": "Active"}},
            ["prod", "Active", "5m"],
            id="namespace",
        ),
        pytest.param(
            "ConfigMap",
            {"metadata": meta("cm"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}},
            ["cm", 3, "5m"],
            id="configmap",
        ),
        pytest.param(
            "Secret",
            {"metadata": meta("s"), "type": "Opaque", "data": {"a": "MQ=="}},
            ["s", "Opaque", 1, "5m"],
            id="secret",
        ),
        pytest.param(
            "ServiceAccount",
            {"metadata": meta("default"), "secrets": [{"name": "t"}]},
            ["default", 1, "5m"],
            id="serviceaccount",
        ),
        pytest.param(
            "Lease",
            {"metadata": meta("node-1"), "spec": {"holderIdentity": "node-1"}},
            ["node-1", "node-1", "5m"],
            id="lease",
        ),
        pytest.param(
            "Ingress",
            {
                "metadata": meta("web"),
                "spec": {
                    "ingressClassName": "nginx",
                    "rules": [{"host": "a.example.com"}, {}],
                    "tls": [{"hosts": ["a.example.com"]}],
                },
                "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}},
            },
            ["web", "nginx", "a.example.com", "10.0.0.1", "80, 443", "5m"],
            id="ingress",
        ),
        pytest.param(
            "Ingress",
            {"metadata": meta("web"), "spec": {"rules": [{}]}},
            ["web", "<none>", "*", "", "80", "5m"],
            id="ingress-defaults",
        ),
        pytest.param(
            "NetworkPolicy",
            {"metadata": meta("deny"), "spec": {"podSelector": {"matchLabels": {"app": "db"}}}},
            ["deny", "app=db", "5m"],
            id="networkpolicy",
        ),
        pytest.param(
            "NetworkPolicy",
            {"metadata": meta("all"), "spec": {"podSelector": {}}},
            ["all", "<none>", "5m"],
            id="networkpolicy-all",
        ),
        pytest.param(
            "PodDisruptionBudget",
            {
                "metadata": meta("pdb"),
                "spec": {"minAvailable": "50%"},
                "status": {"disruptionsAllowed": 1},
            },
            ["pdb", "50%", "N/A", 1, "5m"],
            id="pdb",
        ),
        pytest.param(
            "PodDisruptionBudget",
            {"metadata": meta("pdb"), "spec": {"maxUnavailable": 1}},
            ["pdb", "N/A", "1", 0, "5m"],
            id="pdb-max-unavailable",
        ),
        pytest.param(
            "PriorityClass",
            {
                "metadata": meta("high"),
                "value": 1000,
                "globalDefault": True,
                "preemptionPolicy": "Never",
            },
            ["high", 1000, True, "5m", "Never"],
            id="priorityclass",
        ),
        pytest.param(
            "RoleBinding",
            {
                "metadata": meta("rb"),
                "roleRef": {"kind": "ClusterRole", "name": "view"},
                "subjects": [
                    {"kind": "User", "name": "alice"},
                    {"kind": "Group", "name": "devs"},
                    {"kind": "ServiceAccount", "name": "bot", "namespace": "ci"},
                    {"kind": "User", "name": "bob"},
                ],
            },
            ["rb", "ClusterRole/view", "5m", "alice, bob", "devs", "ci/bot"],
            id="rolebinding",
        ),
    ],
)
def test_misc_rows(kind: str, obj: dict[str, Any], cells: list[Any]) -> None:
    assert row_cells(kind, obj, now=NOW) == cells


@pytest.mark.parametrize(
    ("kind", "obj", "cells"),
    [
        pytest.param("Role", {"metadata": meta("reader")}, ["reader", FIVE_MIN_AGO], id="role"),
        pytest.param(
            "ClusterRole",
            {"metadata": {"name": "admin", "creationTimestamp": "2024-06-01T10:00:00+02:00"}},
            ["admin", "2024-06-01T08:00:00Z"],
            id="normalised-to-utc",
        ),
        pytest.param(
            "Widget", {"metadata": {"name": "w"}}, ["w", "0001-01-01T00:00:00Z"], id="zero-time"
        ),
        pytest.param("Widget", {}, ["", "0001-01-01T00:00:00Z"], id="empty"),
    ],
)
def test_fallback_rows(kind: str, obj: dict[str, Any], cells: list[Any]) -> None:
    assert row_cells(kind, obj, now=NOW) == cells
    assert names(kind) == ["Name", "Created At"]
