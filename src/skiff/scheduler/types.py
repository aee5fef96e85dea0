"""What the scheduler knows about pods and nodes: `PodInfo`, `NodeInfo` and resource vectors.

A pod's scheduling-relevant facts are parsed once, when the pod first reaches the scheduler
(kube-scheduler ``framework.PodInfo``): its resource requests as a vector, the host ports it asks
for, its tolerations, affinity and spread constraints. Requests follow Kubernetes'
``resourcehelper.PodRequests`` (``k8s.io/component-helpers/resource``): the sum of the regular
containers, the maximum with every init container (each plus the sidecars - init containers with
``restartPolicy: Always`` - started before it), the sidecars added to the sum, then the pod's
``overhead``. Scoring uses the "non-zero" requests, where a container without a cpu or memory
request counts as 100m / 200Mi (``schedutil.GetNonzeroRequests``), so empty pods still spread.

The resource vector has a fixed column per standard resource (`RESOURCES`: cpu in millicores,
memory and ephemeral-storage in bytes, pods as a count); extended resources
(``example.com/gpu``) live in a small dict beside it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from skiff.api.quantity import QuantityError, parse_quantity

__all__ = [
    "CPU",
    "EPHEMERAL",
    "MEMORY",
    "PODS",
    "RESOURCES",
    "HostPort",
    "NodeInfo",
    "PodInfo",
    "ResourceVector",
    "node_allocatable",
    "node_info",
    "pod_info",
    "pod_requests",
]

RESOURCES = ("cpu", "memory", "ephemeral-storage", "pods")
CPU, MEMORY, EPHEMERAL, PODS = 0, 1, 2, 3
NRES = len(RESOURCES)
DEFAULT_MILLI_CPU = 100  # schedutil.DefaultMilliCPURequest
DEFAULT_MEMORY = 200 * 1024 * 1024  # schedutil.DefaultMemoryRequest

ResourceVector = npt.NDArray[np.int64]

_STANDARD = {"cpu", "memory", "ephemeral-storage", "pods", "storage"}


def _amount(name: str, value: object) -> int:
    if not isinstance(value, (str, int, float)):
        value = str(value)
    return _parse_amount(name == "cpu", value)


@functools.lru_cache(maxsize=4096)
def _parse_amount(milli: bool, value: str | int | float) -> int:
    # the same few quantity strings recur across thousands of pods: parse each once
    try:
        q = parse_quantity(value)
    except (QuantityError, ValueError):
        return 0
    return q.milli_value() if milli else q.value()


def _is_extended(name: str) -> bool:
    return name not in _STANDARD and not name.startswith("hugepages-") and "/" in name


def _requests(container: Mapping[str, Any]) -> dict[str, int]:
    resources = container.get("resources") or {}
    out: dict[str, int] = {}
    for name, value in (resources.get("requests") or {}).items():
        out[str(name)] = _amount(str(name), value)
    # a limit without a request means request == limit (API defaulting does this too)
    for name, value in (resources.get("limits") or {}).items():
        if str(name) not in out and (str(name) in ("cpu", "memory") or _is_extended(str(name))):
            out[str(name)] = _amount(str(name), value)
    return out


def _add(into: dict[str, int], other: Mapping[str, int]) -> None:
    for k, v in other.items():
        into[k] = into.get(k, 0) + v


def _max(into: dict[str, int], other: Mapping[str, int]) -> None:
    for k, v in other.items():
        if v > into.get(k, 0):
            into[k] = v


def pod_requests(spec: Mapping[str, Any], *, non_zero: bool = False) -> dict[str, int]:
    """The pod's effective requests (resourcehelper.PodRequests), by resource name."""

    def reqs(c: Mapping[str, Any]) -> dict[str, int]:
        r = _requests(c)
        if non_zero:
            r.setdefault("cpu", 0)
            r.setdefault("memory", 0)
            if r["cpu"] == 0:
                r["cpu"] = DEFAULT_MILLI_CPU
            if r["memory"] == 0:
                r["memory"] = DEFAULT_MEMORY
        return r

    total: dict[str, int] = {}
    for c in spec.get("containers") or ():
        _add(total, reqs(c))
    sidecars: dict[str, int] = {}
    init_max: dict[str, int] = {}
    for c in spec.get("initContainers") or ():
        r = reqs(c)
        if c.get("restartPolicy") == "Always":
            _add(total, r)
            _add(sidecars, r)
            cur = dict(sidecars)
        else:
            cur = dict(r)
            _add(cur, sidecars)
        _max(init_max, cur)
    _max(total, init_max)
    for name, value in (spec.get("overhead") or {}).items():
        total[str(name)] = total.get(str(name), 0) + _amount(str(name), value)
    return total


def _vector(requests: Mapping[str, int], pods: int) -> tuple[ResourceVector, dict[str, int]]:
    vec = np.zeros(NRES, dtype=np.int64)
    extended: dict[str, int] = {}
    for name, amount in requests.items():
        if name in RESOURCES:
            vec[RESOURCES.index(name)] = amount
        elif _is_extended(name) and amount > 0:
            extended[name] = amount
    vec[PODS] = pods
    return vec, extended


def node_allocatable(allocatable: Mapping[str, Any]) -> tuple[ResourceVector, dict[str, int]]:
    """A node's ``status.allocatable`` as a vector plus its extended resources."""
    parsed = {str(k): _amount(str(k), v) for k, v in allocatable.items()}
    vec, extended = _vector(parsed, 0)
    vec[PODS] = parsed.get("pods", 0)
    return vec, extended


@dataclass(frozen=True, slots=True)
class HostPort:
    ip: str
    protocol: str
    port: int


@dataclass(slots=True, eq=False)
class PodInfo:
    """One pod as the scheduler reads it (parsed once)."""

    raw: Mapping[str, Any]
    uid: str
    namespace: str
    name: str
    labels: Mapping[str, str]
    node_name: str
    scheduler_name: str
    priority: int
    requests: ResourceVector
    non_zero: ResourceVector
    extended: dict[str, int]
    host_ports: tuple[HostPort, ...]
    tolerations: tuple[Mapping[str, Any], ...]
    node_selector: Mapping[str, str]
    affinity: Mapping[str, Any]
    spread: tuple[Mapping[str, Any], ...]
    gates: tuple[str, ...]
    pvcs: tuple[str, ...]
    owner_uid: str
    terminating: bool
    phase: str
    nominated_node: str
    has_required_anti_affinity: bool = False

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def spec(self) -> Mapping[str, Any]:
        return self.raw.get("spec") or {}


def pod_info(raw: Mapping[str, Any]) -> PodInfo:
    """Parse a pod (a mapping or a view's ``raw``)."""
    meta = raw.get("metadata") or {}
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    requests, extended = _vector(pod_requests(spec), 1)
    non_zero, _ = _vector(pod_requests(spec, non_zero=True), 1)
    ports: list[HostPort] = []
    for c in [*(spec.get("containers") or ()), *(spec.get("initContainers") or ())]:
        for p in c.get("ports") or ():
            hp = p.get("hostPort")
            if isinstance(hp, int) and hp > 0:
                ports.append(
                    HostPort(str(p.get("hostIP") or "0.0.0.0"), str(p.get("protocol") or "TCP"), hp)
                )
    owner = ""
    for ref in meta.get("ownerReferences") or ():
        if ref.get("controller"):
            owner = str(ref.get("uid") or "")
    pvcs = tuple(
        str(v["persistentVolumeClaim"].get("claimName"))
        for v in spec.get("volumes") or ()
        if isinstance(v.get("persistentVolumeClaim"), Mapping)
    )
    affinity = spec.get("affinity") or {}
    anti = (affinity.get("podAntiAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    priority = spec.get("priority")
    return PodInfo(
        raw=raw,
        uid=str(meta.get("uid") or ""),
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        labels=meta.get("labels") or {},
        node_name=str(spec.get("nodeName") or ""),
        scheduler_name=str(spec.get("schedulerName") or "default-scheduler"),
        priority=priority if isinstance(priority, int) else 0,
        requests=requests,
        non_zero=non_zero,
        extended=extended,
        host_ports=tuple(ports),
        tolerations=tuple(spec.get("tolerations") or ()),
        node_selector=spec.get("nodeSelector") or {},
        affinity=affinity,
        spread=tuple(spec.get("topologySpreadConstraints") or ()),
        gates=tuple(str(g.get("name")) for g in spec.get("schedulingGates") or ()),
        pvcs=pvcs,
        owner_uid=owner,
        terminating=bool(meta.get("deletionTimestamp")),
        phase=str(status.get("phase") or ""),
        nominated_node=str(status.get("nominatedNodeName") or ""),
        has_required_anti_affinity=bool(anti),
    )


@dataclass(slots=True, eq=False)
class NodeInfo:
    """One node and what the scheduler has placed on it (kube-scheduler ``framework.NodeInfo``).

    ``index`` is the node's row in the cache's resource arrays; ``requested`` and ``non_zero``
    are views of that row, so plugins reading a NodeInfo and the vectorised paths reading the
    arrays see the same numbers.
    """

    name: str
    raw: Mapping[str, Any]
    labels: Mapping[str, str]
    taints: tuple[Mapping[str, Any], ...]
    unschedulable: bool
    ready: bool
    allocatable: ResourceVector
    extended_allocatable: dict[str, int]
    index: int = -1
    requested: ResourceVector = field(default_factory=lambda: np.zeros(NRES, dtype=np.int64))
    non_zero: ResourceVector = field(default_factory=lambda: np.zeros(NRES, dtype=np.int64))
    extended_requested: dict[str, int] = field(default_factory=dict)
    pods: dict[str, PodInfo] = field(default_factory=dict)
    used_ports: dict[tuple[str, int], set[str]] = field(default_factory=dict)
    generation: int = 0

    def add_pod(self, pod: PodInfo) -> None:
        self.pods[pod.uid] = pod
        self.requested += pod.requests
        self.non_zero += pod.non_zero
        for k, v in pod.extended.items():
            self.extended_requested[k] = self.extended_requested.get(k, 0) + v
        for hp in pod.host_ports:
            self.used_ports.setdefault((hp.protocol, hp.port), set()).add(hp.ip)
        self.generation += 1

    def remove_pod(self, uid: str) -> PodInfo | None:
        pod = self.pods.pop(uid, None)
        if pod is None:
            return None
        self.requested -= pod.requests
        self.non_zero -= pod.non_zero
        for k, v in pod.extended.items():
            self.extended_requested[k] = self.extended_requested.get(k, 0) - v
        for hp in pod.host_ports:
            ips = self.used_ports.get((hp.protocol, hp.port))
            if ips is not None:
                ips.discard(hp.ip)
                if not ips:
                    del self.used_ports[(hp.protocol, hp.port)]
        self.generation += 1
        return pod


def node_info(raw: Mapping[str, Any]) -> NodeInfo:
    """Parse a node (a mapping or a view's ``raw``)."""
    meta = raw.get("metadata") or {}
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    alloc, extended = node_allocatable(status.get("allocatable") or {})
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or ()
    )
    return NodeInfo(
        name=str(meta.get("name") or ""),
        raw=raw,
        labels=meta.get("labels") or {},
        taints=tuple(spec.get("taints") or ()),
        unschedulable=spec.get("unschedulable") is True,
        ready=ready,
        allocatable=alloc,
        extended_allocatable=extended,
    )
