"""Table printers for core/v1 kinds (Pod, Service, Node, Event, ...).

Columns and cell rules follow kubernetes/kubernetes ``pkg/printers/internalversion/printers.go``
at v1.32 (``printPod``, ``printService``, ``printNode``, ``printEvent``, ...). The API server always
prints the wide cells too (``GenerateOptions{Wide: true}``); kubectl hides ``priority 1`` columns
unless ``-o wide``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from skiff.api._printers_common import (
    Cells,
    Column,
    RowFunc,
    age_col,
    age_of,
    col,
    container_cells,
    dct,
    get,
    i,
    join_host_port,
    lst,
    name_col,
    name_of,
    s,
    time_of,
    wide_template_cols,
)
from skiff.api.duration import age, human_duration
from skiff.api.selector import format_labels

__all__ = ["COLUMNS", "ROWS", "node_roles", "pod_conditions"]


# --- Pod ----------------------------------------------------------------------------------------

_POD_COLUMNS = [
    name_col(),
    col("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
    col("Status", description="The aggregate status of the containers in this pod."),
    col(
        "Restarts",
        description=(
            "The number of times the containers in this pod have been restarted and when the "
            "last container in this pod has restarted."
        ),
    ),
    age_col(),
    col("IP", description="IP address allocated to the pod.", priority=1),
    col(
        "Node",
        description="NodeName is a request to schedule this pod onto a specific node.",
        priority=1,
    ),
    col(
        "Nominated Node",
        description="nominatedNodeName is set only when this pod preempts other pods on the node.",
        priority=1,
    ),
    col(
        "Readiness Gates",
        description="If specified, all readiness gates will be evaluated for pod readiness.",
        priority=1,
    ),
]

# Pod.Status.Reason the node lifecycle controller sets on pods of an unreachable node.
_NODE_UNREACHABLE_REASON = "NodeLost"


def _restartable(container: Any) -> bool:
    """A sidecar: an init container with ``restartPolicy: Always``."""
    return s(container, "restartPolicy") == "Always"


def _has_condition(conditions: list[Any], type_: str) -> bool:
    return any(s(c, "type") == type_ and s(c, "status") == "True" for c in conditions)


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    if current is None or current < candidate:
        return candidate
    return current


def _terminated_reason(term: Mapping[str, Any], prefix: str) -> str:
    if s(term, "reason"):
        return prefix + s(term, "reason")
    if i(term, "signal"):
        return f"{prefix}Signal:{i(term, 'signal')}"
    return f"{prefix}ExitCode:{i(term, 'exitCode')}"


def _pod_row(pod: Mapping[str, Any], now: datetime) -> Cells:
    spec = dct(pod, "spec")
    status = dct(pod, "status")
    conditions = lst(status, "conditions")
    init_specs = lst(spec, "initContainers")

    restarts = 0
    sidecar_restarts = 0
    total = len(lst(spec, "containers"))
    ready = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None

    phase = s(status, "phase")
    reason = s(status, "reason") or phase
    for cond in conditions:
        if s(cond, "type") == "PodScheduled" and s(cond, "reason") == "SchedulingGated":
            reason = "SchedulingGated"

    by_name: dict[str, Any] = {}
    for c in init_specs:
        by_name[s(c, "name")] = c
        if _restartable(c):
            total += 1

    initializing = False
    for idx, cs in enumerate(lst(status, "initContainerStatuses")):
        sidecar = _restartable(by_name.get(s(cs, "name")))
        restarts += i(cs, "restartCount")
        finished = time_of(cs, "lastState", "terminated", "finishedAt")
        last_restart = _later(last_restart, finished)
        if sidecar:
            sidecar_restarts += i(cs, "restartCount")
            last_sidecar_restart = _later(last_sidecar_restart, finished)
        term = get(cs, "state", "terminated")
        waiting = get(cs, "state", "waiting")
        if isinstance(term, Mapping) and i(term, "exitCode") == 0:
            continue
        if sidecar and get(cs, "started") is True:
            if get(cs, "ready") is True:
                ready += 1
            continue
        if isinstance(term, Mapping):
            reason = _terminated_reason(term, "Init:")
        elif (
            isinstance(waiting, Mapping)
            and s(waiting, "reason")
            and s(waiting, "reason") != "PodInitializing"
        ):
            reason = "Init:" + s(waiting, "reason")
        else:
            reason = f"Init:{idx}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _has_condition(conditions, "Initialized"):
        # Once initialised, only sidecar restarts count alongside the app containers'.
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cs in reversed(lst(status, "containerStatuses")):
            restarts += i(cs, "restartCount")
            last_restart = _later(
                last_restart, time_of(cs, "lastState", "terminated", "finishedAt")
            )
            term = get(cs, "state", "terminated")
            waiting = get(cs, "state", "waiting")
            if isinstance(waiting, Mapping) and s(waiting, "reason"):
                reason = s(waiting, "reason")
            elif isinstance(term, Mapping):
                reason = _terminated_reason(term, "")
            elif get(cs, "ready") is True and isinstance(get(cs, "state", "running"), Mapping):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _has_condition(conditions, "Ready") else "NotReady"

    deleting = bool(s(pod, "metadata", "deletionTimestamp"))
    if deleting and s(status, "reason") == _NODE_UNREACHABLE_REASON:
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts and last_restart is not None:
        restarts_cell = f"{restarts} ({human_duration(now - last_restart)} ago)"

    pod_ip = s(status, "podIPs", 0, "ip") or "<none>"
    gates = lst(spec, "readinessGates")
    gates_cell = "<none>"
    if gates:
        true_count = 0
        for gate in gates:
            for cond in conditions:
                if s(cond, "type") == s(gate, "conditionType"):
                    true_count += s(cond, "status") == "True"
                    break
        gates_cell = f"{true_count}/{len(gates)}"
    return [
        name_of(pod),
        f"{ready}/{total}",
        reason,
        restarts_cell,
        age_of(pod, now),
        pod_ip,
        s(spec, "nodeName") or "<none>",
        s(status, "nominatedNodeName") or "<none>",
        gates_cell,
    ]


def pod_conditions(pod: Mapping[str, Any]) -> list[dict[str, str]]:
    """Row conditions of a pod row: ``Completed`` for Succeeded/Failed pods (``podSuccessConditions``)."""
    phase = s(pod, "status", "phase")
    if phase == "Succeeded":
        message = "The pod has completed successfully."
    elif phase == "Failed":
        message = "The pod failed."
    else:
        return []
    return [{"type": "Completed", "status": "True", "reason": phase, "message": message}]


# --- Service, Endpoints -------------------------------------------------------------------------

_SERVICE_COLUMNS = [
    name_col(),
    col("Type", description="type determines how the Service is exposed."),
    col("Cluster-IP", description="clusterIP is the IP address of the service."),
    col(
        "External-IP",
        description="externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
    ),
    col("Port(s)", description="The list of ports that are exposed by this service."),
    age_col(),
    col(
        "Selector",
        description="Route service traffic to pods with label keys and values matching this selector.",
        priority=1,
    ),
]


def _lb_ingress(status: Mapping[str, Any]) -> list[str]:
    """IPs (else hostnames) of ``status.loadBalancer.ingress``, de-duplicated."""
    out: list[str] = []
    for ing in lst(status, "loadBalancer", "ingress"):
        value = s(ing, "ip") or s(ing, "hostname")
        if value and value not in out:
            out.append(value)
    return out


def _service_external_ip(svc: Mapping[str, Any]) -> str:
    """``getServiceExternalIP`` (wide, so load-balancer addresses are not clipped)."""
    spec = dct(svc, "spec")
    external = [x for x in lst(spec, "externalIPs") if isinstance(x, str)]
    svc_type = s(spec, "type")
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if svc_type == "LoadBalancer":
        lb = _lb_ingress(dct(svc, "status"))
        if external:
            return ",".join(lb + external)
        return ",".join(lb) if lb else "<pending>"
    if svc_type == "ExternalName":
        return s(spec, "externalName")
    return "<unknown>"


def _service_ports(ports: list[Any]) -> str:
    """``makePortString``: ``80/TCP`` or ``443:30443/TCP`` joined by commas."""
    pieces = []
    for p in ports:
        proto = s(p, "protocol") or "TCP"  # defaulted by the server; partial objects lack it
        node_port = i(p, "nodePort")
        if node_port > 0:
            pieces.append(f"{i(p, 'port')}:{node_port}/{proto}")
        else:
            pieces.append(f"{i(p, 'port')}/{proto}")
    return ",".join(pieces)


def _service_row(svc: Mapping[str, Any], now: datetime) -> Cells:
    spec = dct(svc, "spec")
    cluster_ip = s(spec, "clusterIPs", 0) or s(spec, "clusterIP") or "<none>"
    selector = {k: v for k, v in dct(spec, "selector").items() if isinstance(v, str)}
    return [
        name_of(svc),
        s(spec, "type"),
        cluster_ip,
        _service_external_ip(svc),
        _service_ports(lst(spec, "ports")) or "<none>",
        age_of(svc, now),
        format_labels(selector),
    ]


_ENDPOINTS_COLUMNS = [
    name_col(),
    col("Endpoints", description="The set of all endpoints is the union of all subsets."),
    age_col(),
]


def _format_endpoints(subsets: list[Any]) -> str:
    """``formatEndpoints`` with all ports: up to three ``ip:port``, then `` + N more...``."""
    if not subsets:
        return "<none>"
    items: list[str] = []
    maximum = 3
    more = False
    count = 0
    for ss in subsets:
        addresses = lst(ss, "addresses")
        ports = lst(ss, "ports")
        if not ports:
            # Headless services may have no ports: list bare IPs.
            count += len(addresses)
            for a in addresses:
                if len(items) == maximum:
                    more = True
                    break
                items.append(s(a, "ip"))
            continue
        for p in ports:
            count += len(addresses)
            for a in addresses:
                if len(items) == maximum:
                    more = True
                    break
                items.append(join_host_port(s(a, "ip"), i(p, "port")))
    text = ",".join(items)
    return f"{text} + {count - maximum} more..." if more else text


def _endpoints_row(ep: Mapping[str, Any], now: datetime) -> Cells:
    return [name_of(ep), _format_endpoints(lst(ep, "subsets")), age_of(ep, now)]


# --- Node, Namespace ----------------------------------------------------------------------------

_NODE_COLUMNS = [
    name_col(),
    col("Status", description="The status of the node"),
    col("Roles", description="The roles of the node"),
    age_col(),
    col("Version", description="Kubelet Version reported by the node."),
    col("Internal-IP", description="List of addresses reachable to the node.", priority=1),
    col("External-IP", description="List of addresses reachable to the node.", priority=1),
    col(
        "OS-Image",
        description="OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
        priority=1,
    ),
    col(
        "Kernel-Version",
        description="Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        priority=1,
    ),
    col(
        "Container-Runtime",
        description="ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
        priority=1,
    ),
]

_ROLE_PREFIX = "node-role.kubernetes.io/"
_ROLE_LABEL = "kubernetes.io/role"


def node_roles(labels: Mapping[str, Any]) -> list[str]:
    """``findNodeRoles``: ``node-role.kubernetes.io/<role>`` keys and ``kubernetes.io/role`` values."""
    roles: set[str] = set()
    for key, value in labels.items():
        if key.startswith(_ROLE_PREFIX) and key[len(_ROLE_PREFIX) :]:
            roles.add(key[len(_ROLE_PREFIX) :])
        elif key == _ROLE_LABEL and isinstance(value, str) and value:
            roles.add(value)
    # Go returns a set in random order; sorting keeps the column stable.
    return sorted(roles)


def _node_address(node: Mapping[str, Any], type_: str) -> str:
    for a in lst(node, "status", "addresses"):
        if s(a, "type") == type_:
            return s(a, "address")
    return "<none>"


def _node_row(node: Mapping[str, Any], now: datetime) -> Cells:
    status: list[str] = []
    # Only the Ready condition makes it into the column (NodeAllConditions = [Ready]); the last
    # condition of a type wins, as Go fills a map while iterating.
    ready_status: str | None = None
    for cond in lst(node, "status", "conditions"):
        if s(cond, "type") == "Ready":
            ready_status = s(cond, "status")
    if ready_status is not None:
        status.append("Ready" if ready_status == "True" else "NotReady")
    else:
        status.append("Unknown")
    if get(node, "spec", "unschedulable") is True:
        status.append("SchedulingDisabled")
    info = dct(node, "status", "nodeInfo")
    return [
        name_of(node),
        ",".join(status),
        ",".join(node_roles(dct(node, "metadata", "labels"))) or "<none>",
        age_of(node, now),
        s(info, "kubeletVersion"),
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        s(info, "osImage") or "<unknown>",
        s(info, "kernelVersion") or "<unknown>",
        s(info, "containerRuntimeVersion") or "<unknown>",
    ]


_NAMESPACE_COLUMNS = [
    name_col(),
    col("Status", description="The status of the namespace"),
    age_col(),
]


def _namespace_row(ns: Mapping[str, Any], now: datetime) -> Cells:
    return [name_of(ns), s(ns, "status", "phase"), age_of(ns, now)]


# --- ConfigMap, Secret, ServiceAccount ----------------------------------------------------------

_CONFIGMAP_COLUMNS = [
    name_col(),
    col("Data", description="Data contains the configuration data."),
    age_col(),
]


def _configmap_row(cm: Mapping[str, Any], now: datetime) -> Cells:
    return [name_of(cm), len(dct(cm, "data")) + len(dct(cm, "binaryData")), age_of(cm, now)]


_SECRET_COLUMNS = [
    name_col(),
    col("Type", description="Used to facilitate programmatic handling of secret data."),
    col("Data", description="Data contains the secret data."),
    age_col(),
]


def _secret_row(secret: Mapping[str, Any], now: datetime) -> Cells:
    return [name_of(secret), s(secret, "type"), len(dct(secret, "data")), age_of(secret, now)]


_SERVICEACCOUNT_COLUMNS = [
    name_col(),
    col(
        "Secrets",
        description="Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
    ),
    age_col(),
]


def _serviceaccount_row(sa: Mapping[str, Any], now: datetime) -> Cells:
    return [name_of(sa), len(lst(sa, "secrets")), age_of(sa, now)]


# --- Event --------------------------------------------------------------------------------------

_EVENT_COLUMNS = [
    col(
        "Last Seen",
        description="The time at which the most recent occurrence of this event was recorded.",
    ),
    col(
        "Type",
        description="Type of this event (Normal, Warning), new types could be added in the future",
    ),
    col(
        "Reason",
        description="This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col("Object", description="The object that this event is about."),
    col(
        "Subobject",
        description="If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
        priority=1,
    ),
    col(
        "Source",
        description="The component reporting this event. Should be a short machine understandable string.",
        priority=1,
    ),
    col("Message", description="A human-readable description of the status of this operation."),
    col(
        "First Seen",
        description="The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
        priority=1,
    ),
    col("Count", description="The number of times this event has occurred.", priority=1),
    col("Name", description=_POD_COLUMNS[0]["description"], priority=1, fmt="name"),
]


def _event_row(ev: Mapping[str, Any], now: datetime) -> Cells:
    first = age(s(ev, "firstTimestamp") or None, now)
    if not s(ev, "firstTimestamp"):
        first = age(s(ev, "eventTime") or None, now)
    last = age(s(ev, "lastTimestamp"), now) if s(ev, "lastTimestamp") else first
    count = i(ev, "count")
    series = get(ev, "series")
    if isinstance(series, Mapping):
        last = age(s(series, "lastObservedTime") or None, now)
        count = i(series, "count")
    elif count == 0:
        count = 1  # singleton events of the new API carry no count
    kind = s(ev, "involvedObject", "kind").lower()
    target = (
        f"{kind}/{s(ev, 'involvedObject', 'name')}" if s(ev, "involvedObject", "name") else kind
    )
    component = s(ev, "source", "component") or s(ev, "reportingComponent")
    instance = s(ev, "source", "host") or s(ev, "reportingInstance")
    source = f"{component}, {instance}" if instance else component
    return [
        last,
        s(ev, "type"),
        s(ev, "reason"),
        target,
        s(ev, "involvedObject", "fieldPath"),
        source,
        s(ev, "message").strip(),
        first,
        count,
        name_of(ev),
    ]


# --- ReplicationController ----------------------------------------------------------------------

_RC_COLUMNS = [
    name_col(),
    col("Desired", "integer", "Replicas is the number of desired replicas."),
    col("Current", "integer", "Replicas is the most recently observed number of replicas."),
    col("Ready", "integer", "The number of ready replicas for this replication controller."),
    age_col(),
    *wide_template_cols(
        selector="Selector is a label query over pods that should match the Replicas count."
    ),
]


def _rc_row(rc: Mapping[str, Any], now: datetime) -> Cells:
    names, images = container_cells(lst(rc, "spec", "template", "spec", "containers"))
    selector = {k: v for k, v in dct(rc, "spec", "selector").items() if isinstance(v, str)}
    return [
        name_of(rc),
        i(rc, "spec", "replicas"),
        i(rc, "status", "replicas"),
        i(rc, "status", "readyReplicas"),
        age_of(rc, now),
        names,
        images,
        format_labels(selector),
    ]


COLUMNS: dict[str, list[Column]] = {
    "Pod": _POD_COLUMNS,
    "Service": _SERVICE_COLUMNS,
    "Endpoints": _ENDPOINTS_COLUMNS,
    "Node": _NODE_COLUMNS,
    "Namespace": _NAMESPACE_COLUMNS,
    "ConfigMap": _CONFIGMAP_COLUMNS,
    "Secret": _SECRET_COLUMNS,
    "ServiceAccount": _SERVICEACCOUNT_COLUMNS,
    "Event": _EVENT_COLUMNS,
    "ReplicationController": _RC_COLUMNS,
}

ROWS: dict[str, RowFunc] = {
    "Pod": _pod_row,
    "Service": _service_row,
    "Endpoints": _endpoints_row,
    "Node": _node_row,
    "Namespace": _namespace_row,
    "ConfigMap": _configmap_row,
    "Secret": _secret_row,
    "ServiceAccount": _serviceaccount_row,
    "Event": _event_row,
    "ReplicationController": _rc_row,
}
