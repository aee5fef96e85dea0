"""Table printers for the non-core kinds: apps, batch, autoscaling, networking, policy, rbac, ...

Built-in kinds follow kubernetes/kubernetes ``pkg/printers/internalversion/printers.go`` at v1.32.
The VerticalPodAutoscaler is a custom resource upstream, so its columns are the
``additionalPrinterColumns`` of the VPA CRD (kubernetes/autoscaler ``vertical-pod-autoscaler``),
rendered the way apiextensions' table convertor does (missing values are ``null``; the ``date``
column holds a human duration).
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
    int_or_string,
    list_with_more,
    lst,
    name_col,
    name_of,
    opt_int,
    quantity_string,
    s,
    time_of,
    wide_template_cols,
)
from skiff.api.duration import age, human_duration
from skiff.api.selector import (
    SelectorError,
    format_label_selector,
    format_labels,
    selector_to_string,
)

__all__ = ["COLUMNS", "ROWS", "format_hpa_metrics"]


def _selector_obj(obj: Any, *path: str) -> Mapping[str, Any] | None:
    value = get(obj, *path)
    return value if isinstance(value, Mapping) else None


def _template_containers(obj: Any, *path: str) -> tuple[str, str]:
    return container_cells(lst(obj, *path, "spec", "containers"))


# --- apps ---------------------------------------------------------------------------------------

_DEPLOYMENT_COLUMNS = [
    name_col(),
    col("Ready", description="Number of the pod with ready state"),
    col(
        "Up-to-date",
        description="Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    ),
    col(
        "Available",
        description="Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    age_col(),
    *wide_template_cols(
        selector="Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment."
    ),
]


def _deployment_row(d: Mapping[str, Any], now: datetime) -> Cells:
    names, images = _template_containers(d, "spec", "template")
    try:
        selector = selector_to_string(_selector_obj(d, "spec", "selector"))
    except SelectorError:
        selector = "<invalid>"
    return [
        name_of(d),
        f"{i(d, 'status', 'readyReplicas')}/{i(d, 'spec', 'replicas')}",
        i(d, "status", "updatedReplicas"),
        i(d, "status", "availableReplicas"),
        age_of(d, now),
        names,
        images,
        selector,
    ]


_REPLICASET_COLUMNS = [
    name_col(),
    col("Desired", "integer", "Replicas is the number of desired pods."),
    col(
        "Current",
        "integer",
        "Replicas is the most recently observed number of non-terminating pods.",
    ),
    col(
        "Ready",
        "integer",
        "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
    ),
    age_col(),
    *wide_template_cols(
        selector="Selector is a label query over pods that should match the replica count."
    ),
]


def _replicaset_row(rs: Mapping[str, Any], now: datetime) -> Cells:
    names, images = _template_containers(rs, "spec", "template")
    return [
        name_of(rs),
        i(rs, "spec", "replicas"),
        i(rs, "status", "replicas"),
        i(rs, "status", "readyReplicas"),
        age_of(rs, now),
        names,
        images,
        format_label_selector(_selector_obj(rs, "spec", "selector")),
    ]


_DAEMONSET_COLUMNS = [
    name_col(),
    col(
        "Desired",
        "integer",
        "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).",
    ),
    col(
        "Current",
        "integer",
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
    ),
    col(
        "Ready",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.",
    ),
    col("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
    col(
        "Available",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)",
    ),
    col(
        "Node Selector",
        description="NodeSelector is a selector which must be true for the pod to fit on a node.",
    ),
    age_col(),
    *wide_template_cols(selector="A label query over pods that are managed by the daemon set."),
]


def _daemonset_row(ds: Mapping[str, Any], now: datetime) -> Cells:
    names, images = _template_containers(ds, "spec", "template")
    node_selector = {
        k: v
        for k, v in dct(ds, "spec", "template", "spec", "nodeSelector").items()
        if isinstance(v, str)
    }
    return [
        name_of(ds),
        i(ds, "status", "desiredNumberScheduled"),
        i(ds, "status", "currentNumberScheduled"),
        i(ds, "status", "numberReady"),
        i(ds, "status", "updatedNumberScheduled"),
        i(ds, "status", "numberAvailable"),
        format_labels(node_selector),
        age_of(ds, now),
        names,
        images,
        format_label_selector(_selector_obj(ds, "spec", "selector")),
    ]


_STATEFULSET_COLUMNS = [
    name_col(),
    col("Ready", description="Number of the pod with ready state"),
    age_col(),
    *wide_template_cols(selector=None),
]


def _statefulset_row(sts: Mapping[str, Any], now: datetime) -> Cells:
    names, images = _template_containers(sts, "spec", "template")
    return [
        name_of(sts),
        f"{i(sts, 'status', 'readyReplicas')}/{i(sts, 'spec', 'replicas')}",
        age_of(sts, now),
        names,
        images,
    ]


_CONTROLLERREVISION_COLUMNS = [
    name_col(),
    col("Controller", description="Controller of the object"),
    col(
        "Revision", description="Revision indicates the revision of the state represented by Data."
    ),
    age_col(),
]


def _controller_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for ref in lst(obj, "metadata", "ownerReferences"):
        if isinstance(ref, Mapping) and ref.get("controller") is True:
            return ref
    return None


def _controllerrevision_row(cr: Mapping[str, Any], now: datetime) -> Cells:
    controller = "<none>"
    ref = _controller_of(cr)
    if ref is not None:
        group = s(ref, "apiVersion").rpartition("/")[0]
        kind = s(ref, "kind")
        group_kind = f"{kind}.{group}" if group else kind
        # formatResourceName: a GroupKind that is empty leaves the bare name.
        controller = f"{group_kind.lower()}/{s(ref, 'name')}" if kind or group else s(ref, "name")
    return [name_of(cr), controller, i(cr, "revision"), age_of(cr, now)]


# --- batch --------------------------------------------------------------------------------------

_JOB_COLUMNS = [
    name_col(),
    col("Status", description="Status of the job."),
    col("Completions", description="The number of pods which reached phase Succeeded."),
    col("Duration", description="Time required to complete the job."),
    age_col(),
    *wide_template_cols(selector="A label query over pods that should match the pod count."),
]


def _job_condition(conditions: list[Any], type_: str) -> bool:
    """``hasJobCondition``: the first condition of that type decides."""
    for cond in conditions:
        if s(cond, "type") == type_:
            return s(cond, "status") == "True"
    return False


def _job_status(job: Mapping[str, Any]) -> str:
    conditions = lst(job, "status", "conditions")
    if _job_condition(conditions, "Complete"):
        return "Complete"
    if _job_condition(conditions, "Failed"):
        return "Failed"
    if s(job, "metadata", "deletionTimestamp"):
        return "Terminating"
    if _job_condition(conditions, "Suspended"):
        return "Suspended"
    if _job_condition(conditions, "FailureTarget"):
        return "FailureTarget"
    if _job_condition(conditions, "SuccessCriteriaMet"):
        return "SuccessCriteriaMet"
    return "Running"


def _job_row(job: Mapping[str, Any], now: datetime) -> Cells:
    succeeded = i(job, "status", "succeeded")
    completions = opt_int(job, "spec", "completions")
    if completions is not None:
        completions_cell = f"{succeeded}/{completions}"
    else:
        parallelism = i(job, "spec", "parallelism")
        completions_cell = (
            f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"
        )
    start = time_of(job, "status", "startTime")
    end = time_of(job, "status", "completionTime")
    duration = ""
    if start is not None:
        duration = human_duration((end or now) - start)
    names, images = _template_containers(job, "spec", "template")
    return [
        name_of(job),
        _job_status(job),
        completions_cell,
        duration,
        age_of(job, now),
        names,
        images,
        format_label_selector(_selector_obj(job, "spec", "selector")),
    ]


_CRONJOB_COLUMNS = [
    name_col(),
    col(
        "Schedule",
        description="The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
    ),
    col(
        "Timezone",
        description="The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.",
    ),
    col(
        "Suspend",
        "boolean",
        "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.",
    ),
    col("Active", "integer", "A list of pointers to currently running jobs."),
    col(
        "Last Schedule",
        description="Information when was the last time the job was successfully scheduled.",
    ),
    age_col(),
    *wide_template_cols(selector="A label query over pods that should match the pod count."),
]


def _bool_ptr(value: Any) -> str:
    """``printBoolPtr``: ``True``/``False``, ``<unset>`` when absent."""
    if isinstance(value, bool):
        return "True" if value else "False"
    return "<unset>"


def _cronjob_row(cj: Mapping[str, Any], now: datetime) -> Cells:
    last = s(cj, "status", "lastScheduleTime")
    timezone = get(cj, "spec", "timeZone")
    names, images = _template_containers(cj, "spec", "jobTemplate", "spec", "template")
    return [
        name_of(cj),
        s(cj, "spec", "schedule"),
        timezone if isinstance(timezone, str) else "<none>",
        _bool_ptr(get(cj, "spec", "suspend")),
        len(lst(cj, "status", "active")),
        age(last, now) if last else "<none>",
        age_of(cj, now),
        names,
        images,
        format_label_selector(_selector_obj(cj, "spec", "jobTemplate", "spec", "selector")),
    ]


# --- autoscaling --------------------------------------------------------------------------------

_HPA_COLUMNS = [
    name_col(),
    col(
        "Reference",
        description="scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.",
    ),
    col(
        "Targets",
        description="metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).",
    ),
    col(
        "MinPods",
        description="minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.",
    ),
    col(
        "MaxPods",
        description="maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.",
    ),
    col(
        "Replicas",
        description="currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.",
    ),
    age_col(),
]

_METRIC_SOURCE_KEY = {
    "External": "external",
    "Pods": "pods",
    "Object": "object",
    "Resource": "resource",
    "ContainerResource": "containerResource",
}


def _metric_text(spec: Mapping[str, Any], status: Any) -> str:
    """One entry of ``formatHPAMetrics``; ``status`` is the status entry at the same index."""
    kind = s(spec, "type")
    key = _METRIC_SOURCE_KEY.get(kind)
    if key is None:
        return "<unknown type>"
    target = dct(spec, key, "target")
    source = get(status, key)
    current = dct(source, "current") if isinstance(source, Mapping) else None
    if kind in ("External", "Object"):
        if target.get("averageValue") is not None:
            cur = "<unknown>"
            if current is not None and current.get("averageValue") is not None:
                cur = quantity_string(current["averageValue"])
            return f"{cur}/{quantity_string(target['averageValue'])} (avg)"
        cur = quantity_string(current.get("value")) if current is not None else "<unknown>"
        return f"{cur}/{quantity_string(target.get('value'))}"
    if kind == "Pods":
        cur = quantity_string(current.get("averageValue")) if current is not None else "<unknown>"
        return f"{cur}/{quantity_string(target.get('averageValue'))}"
    name = s(spec, key, "name")
    if target.get("averageValue") is not None:
        cur = quantity_string(current.get("averageValue")) if current is not None else "<unknown>"
        return f"{name}: {cur}/{quantity_string(target['averageValue'])}"
    cur = "<unknown>"
    utilization = opt_int(current, "averageUtilization") if current is not None else None
    if utilization is not None:
        cur = f"{utilization}%"
    util = opt_int(target, "averageUtilization")
    return f"{name}: {cur}/{f'{util}%' if util is not None else '<auto>'}"


def _v1_metrics(hpa: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
    """autoscaling/v1 objects carry one CPU target; present it as the v2 resource metric."""
    target = opt_int(hpa, "spec", "targetCPUUtilizationPercentage")
    if target is None:
        return [], []
    spec = {
        "type": "Resource",
        "resource": {
            "name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": target},
        },
    }
    current = opt_int(hpa, "status", "currentCPUUtilizationPercentage")
    statuses: list[Any] = []
    if current is not None:
        statuses.append(
            {
                "type": "Resource",
                "resource": {"name": "cpu", "current": {"averageUtilization": current}},
            }
        )
    return [spec], statuses


def format_hpa_metrics(hpa: Mapping[str, Any]) -> str:
    """``formatHPAMetrics``: up to two ``current/target`` entries, then `` + N more...``."""
    specs = lst(hpa, "spec", "metrics")
    statuses = lst(hpa, "status", "currentMetrics")
    if not specs and get(hpa, "spec", "targetCPUUtilizationPercentage") is not None:
        specs, statuses = _v1_metrics(hpa)
    if not specs:
        return "<none>"
    items = [
        _metric_text(
            spec if isinstance(spec, Mapping) else {}, statuses[n] if n < len(statuses) else None
        )
        for n, spec in enumerate(specs)
    ]
    maximum = 2
    text = ", ".join(items[:maximum])
    if len(items) > maximum:
        return f"{text} + {len(items) - maximum} more..."
    return text


def _hpa_row(hpa: Mapping[str, Any], now: datetime) -> Cells:
    min_replicas = opt_int(hpa, "spec", "minReplicas")
    return [
        name_of(hpa),
        f"{s(hpa, 'spec', 'scaleTargetRef', 'kind')}/{s(hpa, 'spec', 'scaleTargetRef', 'name')}",
        format_hpa_metrics(hpa),
        str(min_replicas) if min_replicas is not None else "<unset>",
        i(hpa, "spec", "maxReplicas"),
        i(hpa, "status", "currentReplicas"),
        age_of(hpa, now),
    ]


# The VPA CRD's additionalPrinterColumns (name, type, JSONPath).
_VPA_PATHS = [
    ("Mode", "string", ".spec.updatePolicy.updateMode"),
    ("CPU", "string", ".status.recommendation.containerRecommendations[0].target.cpu"),
    ("Mem", "string", ".status.recommendation.containerRecommendations[0].target.memory"),
    ("Provided", "string", ".status.conditions[?(@.type=='RecommendationProvided')].status"),
    ("Age", "date", ".metadata.creationTimestamp"),
]
_VPA_COLUMNS = [name_col()] + [
    col(name, type_, f"Custom resource definition column (in JSONPath format): {path}")
    for name, type_, path in _VPA_PATHS
]


def _json_string(value: Any) -> str | None:
    """apiextensions' ``cellForJSONValue`` for a ``string`` column."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _vpa_row(vpa: Mapping[str, Any], now: datetime) -> Cells:
    provided: str | None = None
    for cond in lst(vpa, "status", "conditions"):
        if s(cond, "type") == "RecommendationProvided":
            provided = _json_string(get(cond, "status"))
            break
    # A "date" column holds the human age; an unparsable timestamp prints "<invalid>".
    created = s(vpa, "metadata", "creationTimestamp")
    age_cell: str | None = None
    if created:
        age_cell = (
            age(created, now) if time_of(vpa, "metadata", "creationTimestamp") else "<invalid>"
        )
    target = ("status", "recommendation", "containerRecommendations", 0, "target")
    return [
        name_of(vpa),
        _json_string(get(vpa, "spec", "updatePolicy", "updateMode")),
        _json_string(get(vpa, *target, "cpu")),
        _json_string(get(vpa, *target, "memory")),
        provided,
        age_cell,
    ]


# --- coordination, discovery, networking, policy, scheduling, rbac ------------------------------

_LEASE_COLUMNS = [
    name_col(),
    col(
        "Holder",
        description="holderIdentity contains the identity of the holder of a current lease.",
    ),
    age_col(),
]


def _lease_row(lease: Mapping[str, Any], now: datetime) -> Cells:
    return [name_of(lease), s(lease, "spec", "holderIdentity"), age_of(lease, now)]


_ENDPOINTSLICE_COLUMNS = [
    name_col(),
    col(
        "AddressType",
        description="addressType specifies the type of address carried by this EndpointSlice.",
    ),
    col(
        "Ports",
        description="ports specifies the list of network ports exposed by each endpoint in this slice.",
    ),
    col("Endpoints", description="endpoints is a list of unique endpoints in this slice."),
    age_col(),
]


def _endpointslice_row(es: Mapping[str, Any], now: datetime) -> Cells:
    ports: list[str] = []
    port_list = lst(es, "ports")
    for p in port_list[:3]:
        number = opt_int(p, "port")
        name = get(p, "name")
        ports.append(str(number) if number is not None else name if isinstance(name, str) else "*")
    addresses = [
        a for ep in lst(es, "endpoints") for a in lst(ep, "addresses") if isinstance(a, str)
    ]
    return [
        name_of(es),
        s(es, "addressType"),
        list_with_more(ports, len(port_list), 3, empty="<unset>"),
        list_with_more(addresses[:3], len(addresses), 3, empty="<unset>"),
        age_of(es, now),
    ]


_INGRESS_COLUMNS = [
    name_col(),
    col(
        "Class",
        description="The name of the IngressClass resource that should be used for additional configuration",
    ),
    col(
        "Hosts",
        description="Hosts that incoming requests are matched against before the ingress rule",
    ),
    col("Address", description="Address is a list containing ingress points for the load-balancer"),
    col("Ports", description="Ports of TLS configurations that open"),
    age_col(),
]


def _ingress_hosts(rules: list[Any]) -> str:
    """``formatHosts``: up to three hosts, ``*`` when none is set."""
    hosts = [s(r, "host") for r in rules[:3] if s(r, "host")]
    if not hosts:
        return "*"
    text = ",".join(hosts)
    return f"{text} + {len(rules) - 3} more..." if len(rules) > 3 else text


def _ingress_row(ing: Mapping[str, Any], now: datetime) -> Cells:
    class_name = get(ing, "spec", "ingressClassName")
    addresses: list[str] = []
    for lb in lst(ing, "status", "loadBalancer", "ingress"):
        value = s(lb, "ip") or s(lb, "hostname")
        if value and value not in addresses:
            addresses.append(value)
    return [
        name_of(ing),
        class_name if isinstance(class_name, str) else "<none>",
        _ingress_hosts(lst(ing, "spec", "rules")),
        ",".join(addresses),
        "80, 443" if lst(ing, "spec", "tls") else "80",
        age_of(ing, now),
    ]


_NETWORKPOLICY_COLUMNS = [
    name_col(),
    col(
        "Pod-Selector",
        description="podSelector selects the pods to which this NetworkPolicy object applies.",
    ),
    age_col(),
]


def _networkpolicy_row(np: Mapping[str, Any], now: datetime) -> Cells:
    # podSelector is a struct, not a pointer, in Go: absent means "select all pods".
    return [
        name_of(np),
        format_label_selector(_selector_obj(np, "spec", "podSelector") or {}),
        age_of(np, now),
    ]


_PDB_COLUMNS = [
    name_col(),
    col("Min Available", description="The minimum number of pods that must be available."),
    col("Max Unavailable", description="The maximum number of pods that may be unavailable."),
    col(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    age_col(),
]


def _pdb_row(pdb: Mapping[str, Any], now: datetime) -> Cells:
    min_available = get(pdb, "spec", "minAvailable")
    max_unavailable = get(pdb, "spec", "maxUnavailable")
    return [
        name_of(pdb),
        int_or_string(min_available) if min_available is not None else "N/A",
        int_or_string(max_unavailable) if max_unavailable is not None else "N/A",
        i(pdb, "status", "disruptionsAllowed"),
        age_of(pdb, now),
    ]


_PRIORITYCLASS_COLUMNS = [
    name_col(),
    col("Value", "integer", "value represents the integer value of this priority class."),
    col(
        "Global-Default",
        "boolean",
        "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.",
    ),
    age_col(),
    col(
        "PreemptionPolicy",
        description="preemptionPolicy is the Policy for preempting pods with lower priority.",
    ),
]


def _priorityclass_row(pc: Mapping[str, Any], now: datetime) -> Cells:
    return [
        name_of(pc),
        i(pc, "value"),
        get(pc, "globalDefault") is True,
        age_of(pc, now),
        s(pc, "preemptionPolicy"),
    ]


def _binding_columns(what: str) -> list[Column]:
    return [
        name_col(),
        col(
            "Role",
            description="RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
        ),
        age_col(),
        col("Users", description=f"Users in the {what}", priority=1),
        col("Groups", description=f"Groups in the {what}", priority=1),
        col("ServiceAccounts", description=f"ServiceAccounts in the {what}", priority=1),
    ]


def _binding_row(rb: Mapping[str, Any], now: datetime) -> Cells:
    users: list[str] = []
    groups: list[str] = []
    sas: list[str] = []
    for subject in lst(rb, "subjects"):
        kind = s(subject, "kind")
        if kind == "ServiceAccount":
            sas.append(f"{s(subject, 'namespace')}/{s(subject, 'name')}")
        elif kind == "User":
            users.append(s(subject, "name"))
        elif kind == "Group":
            groups.append(s(subject, "name"))
    return [
        name_of(rb),
        f"{s(rb, 'roleRef', 'kind')}/{s(rb, 'roleRef', 'name')}",
        age_of(rb, now),
        ", ".join(users),
        ", ".join(groups),
        ", ".join(sas),
    ]


_APISERVICE_COLUMNS = [
    name_col(),
    col("Service", description="The Service that serves this API, or Local."),
    col("Available", description="Whether the API is available."),
    age_col(),
]


def _apiservice_row(svc: Mapping[str, Any], now: datetime) -> Cells:
    # kube-aggregator's table convertor (pkg/registry/apiservice/etcd): Local for the groups the
    # API server serves itself; the Available condition, with its reason unless it is True
    service = "Local"
    ref = get(svc, "spec", "service")
    if isinstance(ref, Mapping):
        service = f"{s(ref, 'namespace')}/{s(ref, 'name')}"
    available = "Unknown"
    for condition in lst(svc, "status", "conditions"):
        if s(condition, "type") == "Available":
            status, reason = s(condition, "status"), s(condition, "reason")
            available = f"{status} ({reason})" if status != "True" and reason else status
            break
    return [name_of(svc), service, available, age_of(svc, now)]


COLUMNS: dict[str, list[Column]] = {
    "APIService": _APISERVICE_COLUMNS,
    "Deployment": _DEPLOYMENT_COLUMNS,
    "ReplicaSet": _REPLICASET_COLUMNS,
    "DaemonSet": _DAEMONSET_COLUMNS,
    "StatefulSet": _STATEFULSET_COLUMNS,
    "ControllerRevision": _CONTROLLERREVISION_COLUMNS,
    "Job": _JOB_COLUMNS,
    "CronJob": _CRONJOB_COLUMNS,
    "HorizontalPodAutoscaler": _HPA_COLUMNS,
    "VerticalPodAutoscaler": _VPA_COLUMNS,
    "Lease": _LEASE_COLUMNS,
    "EndpointSlice": _ENDPOINTSLICE_COLUMNS,
    "Ingress": _INGRESS_COLUMNS,
    "NetworkPolicy": _NETWORKPOLICY_COLUMNS,
    "PodDisruptionBudget": _PDB_COLUMNS,
    "PriorityClass": _PRIORITYCLASS_COLUMNS,
    "RoleBinding": _binding_columns("roleBinding"),
    "ClusterRoleBinding": _binding_columns("clusterRoleBinding"),
}

ROWS: dict[str, RowFunc] = {
    "APIService": _apiservice_row,
    "Deployment": _deployment_row,
    "ReplicaSet": _replicaset_row,
    "DaemonSet": _daemonset_row,
    "StatefulSet": _statefulset_row,
    "ControllerRevision": _controllerrevision_row,
    "Job": _job_row,
    "CronJob": _cronjob_row,
    "HorizontalPodAutoscaler": _hpa_row,
    "VerticalPodAutoscaler": _vpa_row,
    "Lease": _lease_row,
    "EndpointSlice": _endpointslice_row,
    "Ingress": _ingress_row,
    "NetworkPolicy": _networkpolicy_row,
    "PodDisruptionBudget": _pdb_row,
    "PriorityClass": _priorityclass_row,
    "RoleBinding": _binding_row,
    "ClusterRoleBinding": _binding_row,
}
