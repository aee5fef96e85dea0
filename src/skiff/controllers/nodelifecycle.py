"""The node lifecycle controller: node health from Leases, taints by condition, taint-based eviction
and Kubernetes' zone rule for mass outages.

Kubernetes 1.32's ``pkg/controller/nodelifecycle/node_lifecycle_controller.go`` (``monitorNodeHealth``,
``tryUpdateNodeHealth``, ``processTaintBaseEviction``, ``doNoScheduleTaintingPass``,
``doNoExecuteTaintingPass``, ``handleDisruption``, ``ComputeZoneState``) and
``pkg/controller/tainteviction/taint_eviction.go`` (the taint eviction controller, run here inside
the same controller):

- **health.** Every ``node_monitor_period`` each node's Lease (``kube-node-lease/<node>``) and its
  Ready condition's ``lastHeartbeatTime`` are compared with what was seen before; a change is
  "heard from the node" at *this controller's* clock (so clock skew between machines does not
  matter). A node not heard from for ``node_monitor_grace_period`` (``node_startup_grace_period``
  while it never posted a Ready condition) has Ready, MemoryPressure, DiskPressure and PIDPressure
  set to ``Unknown`` (reason ``NodeStatusUnknown``, "Kubelet stopped posting node status."; a
  missing condition is added with ``NodeStatusNeverUpdated``) through ``nodes/status``.
- **pods of a node that is not Ready** get their Ready condition set to False at once
  (``MarkPodsNotReady``: pods/status; a ``NodeNotReady`` Event "Node is not ready" on each), so
  endpoints stop sending them traffic; the node gets a ``NodeNotReady`` Event when it turns.
- **NoSchedule taints by condition** (``TaintNodesByCondition``): ``not-ready`` (Ready False),
  ``unreachable`` (Ready Unknown), ``memory-pressure``, ``disk-pressure``, ``pid-pressure``,
  ``network-unavailable`` (condition True) and ``unschedulable`` (``spec.unschedulable``), all
  ``node.kubernetes.io/``; kept exactly in line with the node on every node change.
- **NoExecute taints** ``not-ready`` / ``unreachable`` are added to not-Ready nodes through a
  per-zone rate-limited queue (one token bucket per zone, burst 1, as ``RateLimitedTimedQueue``):
  this is where the eviction rate applies. A Ready node loses both at once.
- **zones** (label ``topology.kubernetes.io/zone``; none: zone ``""``): ``compute_zone_state``;
  a Normal or FullDisruption zone taints at ``node_eviction_rate`` nodes/s, a PartialDisruption
  zone at ``secondary_node_eviction_rate`` (0 when the zone has no more than
  ``large_cluster_size_threshold`` nodes). When *every* zone is FullDisruption (typically this
  controller being cut off from the nodes, not the nodes dying) it enters "master disruption mode":
  the NoExecute taints are removed from every node and no node is tainted until some node is Ready
  again; on leaving, every node's grace period starts afresh.
- **taint-based eviction**: a pod on a node with NoExecute taints is deleted at once unless it
  tolerates all of them; if it does, it is deleted when the shortest ``tolerationSeconds`` of the
  tolerations used runs out (counted from when the taint was first seen on its node; a toleration
  without ``tolerationSeconds`` tolerates forever). Before the delete the pod gets the
  ``DisruptionTarget`` condition (True, ``DeletionByTaintManager``) through pods/status and a
  ``TaintManagerEviction`` Event "Marking for deletion Pod ns/name"; a pending eviction whose taint
  goes away is cancelled ("Cancelling deletion of Pod ns/name").

The decisions (`compute_zone_state`, `condition_taints`, `eviction_delay`, `zone_eviction_rate`,
`TokenBucket`, `health_after`) are pure functions over plain objects and the injected clock.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from skiff.api.duration import parse_time
from skiff.api.nodeaffinity import tolerates
from skiff.client import (
    Conflict,
    FrozenDict,
    NotFound,
    Preconditions,
    WorkQueue,
    object_key,
    resolve,
    thaw,
)
from skiff.controllers.base import ControllerContext, ControllerOptions, meta_of, run_workers
from skiff.util.clock import Clock, format_epoch_time

__all__ = [
    "DISRUPTION_TARGET",
    "NODE_LEASE_NAMESPACE",
    "NO_EXECUTE_KEYS",
    "NodeHealth",
    "NodeLifecycleController",
    "TokenBucket",
    "ZoneQueue",
    "ZoneState",
    "compute_zone_state",
    "condition_taints",
    "eviction_delay",
    "health_after",
    "no_execute_taints",
    "node_condition",
    "ready_status",
    "tolerates",
    "unknown_conditions",
    "zone_eviction_rate",
    "zone_key",
]

log = logging.getLogger("skiff.controllers.nodelifecycle")

T = TypeVar("T")

NODES = resolve(("v1", "Node"))
PODS = resolve(("v1", "Pod"))
LEASES = resolve(("coordination.k8s.io/v1", "Lease"))

NODE_LEASE_NAMESPACE = "kube-node-lease"
ZONE_LABEL = "topology.kubernetes.io/zone"
LEGACY_ZONE_LABEL = "failure-domain.beta.kubernetes.io/zone"
EXCLUDE_DISRUPTION_LABEL = "node.kubernetes.io/exclude-disruption"
"""Nodes with this label do not count in their zone's state (``isNodeExcludedFromDisruptionChecks``)."""

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
PID_PRESSURE = "node.kubernetes.io/pid-pressure"
NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"

NO_SCHEDULE_KEYS = frozenset(
    {
        NOT_READY,
        UNREACHABLE,
        MEMORY_PRESSURE,
        DISK_PRESSURE,
        PID_PRESSURE,
        NETWORK_UNAVAILABLE,
        UNSCHEDULABLE,
    }
)
"""Keys of the NoSchedule taints this controller owns (``TaintNodesByCondition``)."""
NO_EXECUTE_KEYS = frozenset({NOT_READY, UNREACHABLE})
"""Keys of the NoExecute taints this controller owns."""

MONITORED_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
"""Conditions set to Unknown when the node stops posting status (``nodeConditionTypes``)."""

DISRUPTION_TARGET = "DisruptionTarget"
NODE_INDEX = "spec.nodeName"

WRITE_CONCURRENCY = 32
"""Status writes of one monitoring pass in flight at once."""
EVICTION_WORKERS = 128
"""Workers deleting pods from tainted nodes (the taint manager's ``UpdateWorkerSize``, 8 there;
each eviction is two writes waiting on the API server, so a node outage's 1,000 pods were
latency-bound: with 32 workers the last of 1,000 pods of 100 dead nodes was evicted 28-31 s after
the kill, with 128 at 20-22 s, on a server answering these writes in 100-150 ms)."""
NOT_READY_WORKERS = 4
"""Workers marking the pods of not-Ready nodes Ready=False, one node each at a time."""
NOT_READY_POD_CONCURRENCY = 8
"""Pod status writes in flight per not-Ready node."""
"""Workers deleting pods from tainted nodes (the taint manager's ``UpdateWorkerSize``)."""

TAINT_PASS_PERIOD = 0.1
"""Seconds between NoExecute tainting passes over the zone queues (``nodeEvictionPeriod``)."""


# ---------------------------------------------------------------------- pure decisions


class ZoneState(Enum):
    INITIAL = "Initial"
    NORMAL = "Normal"
    FULL_DISRUPTION = "FullDisruption"
    PARTIAL_DISRUPTION = "PartialDisruption"


def node_condition(node: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for cond in (node.get("status") or {}).get("conditions") or ():
        if isinstance(cond, Mapping) and cond.get("type") == kind:
            return cond
    return None


def ready_status(node: Mapping[str, Any]) -> str | None:
    """``True``/``False``/``Unknown`` of the node's Ready condition, None if it has none."""
    cond = node_condition(node, "Ready")
    return None if cond is None else str(cond.get("status") or "Unknown")


def zone_key(node: Mapping[str, Any]) -> str:
    """The node's zone: ``topology.kubernetes.io/zone`` (or the beta label); ``""`` without."""
    labels = meta_of(node).get("labels") or {}
    return str(labels.get(ZONE_LABEL) or labels.get(LEGACY_ZONE_LABEL) or "")


def compute_zone_state(
    ready: Sequence[str | None], unhealthy_threshold: float
) -> tuple[int, ZoneState]:
    """(not-ready nodes, state) of a zone whose nodes' Ready statuses are ``ready``
    (``ComputeZoneState``): FullDisruption when none is Ready; PartialDisruption when more than 2
    are not Ready and they are at least ``unhealthy_threshold`` of the zone; Normal otherwise."""
    ready_nodes = sum(1 for s in ready if s == "True")
    not_ready = len(ready) - ready_nodes
    if ready_nodes == 0 and not_ready > 0:
        return not_ready, ZoneState.FULL_DISRUPTION
    if not_ready > 2 and not_ready / len(ready) >= unhealthy_threshold:
        return not_ready, ZoneState.PARTIAL_DISRUPTION
    return not_ready, ZoneState.NORMAL


def zone_eviction_rate(state: ZoneState, zone_size: int, options: ControllerOptions) -> float:
    """Nodes per second a zone in ``state`` may be NoExecute-tainted (``setLimiterInZone``):
    the secondary rate in PartialDisruption (0 in zones of at most
    ``large_cluster_size_threshold`` nodes), the normal rate otherwise."""
    if state is ZoneState.PARTIAL_DISRUPTION:
        if zone_size <= options.large_cluster_size_threshold:
            return 0.0
        return options.secondary_node_eviction_rate
    return options.node_eviction_rate


def condition_taints(node: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The NoSchedule taints the node's conditions and ``spec.unschedulable`` call for
    (``doNoScheduleTaintingPass``), in a stable order."""
    keys: list[str] = []
    ready = ready_status(node)
    if ready == "False":
        keys.append(NOT_READY)
    elif ready == "Unknown":
        keys.append(UNREACHABLE)
    for kind, key in (
        ("MemoryPressure", MEMORY_PRESSURE),
        ("DiskPressure", DISK_PRESSURE),
        ("PIDPressure", PID_PRESSURE),
        ("NetworkUnavailable", NETWORK_UNAVAILABLE),
    ):
        cond = node_condition(node, kind)
        if cond is not None and cond.get("status") == "True":
            keys.append(key)
    if (node.get("spec") or {}).get("unschedulable"):
        keys.append(UNSCHEDULABLE)
    return [{"key": k, "effect": "NoSchedule"} for k in keys]


def no_execute_taints(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        t
        for t in (node.get("spec") or {}).get("taints") or ()
        if isinstance(t, Mapping) and t.get("effect") == "NoExecute"
    ]


def eviction_delay(
    tolerations: Iterable[Mapping[str, Any]], taints: Sequence[Mapping[str, Any]]
) -> float | None:
    """Seconds until a pod with ``tolerations`` must go from a node with NoExecute ``taints``
    (``processPodOnNode`` / ``getMinTolerationTime``): None when there is no taint or every taint
    is tolerated forever; 0 when some taint is not tolerated; else the shortest
    ``tolerationSeconds`` among the tolerations used (``<= 0`` meaning at once)."""
    if not taints:
        return None
    tolerations = [t for t in tolerations if isinstance(t, Mapping)]
    used: list[Mapping[str, Any]] = []
    for taint in taints:
        matching = [t for t in tolerations if tolerates(t, taint)]
        if not matching:
            return 0.0
        used.extend(matching)
    shortest: float | None = None
    for tol in used:
        seconds = tol.get("tolerationSeconds")
        if seconds is None:
            continue
        value = float(seconds)
        if value <= 0:
            return 0.0
        shortest = value if shortest is None else min(shortest, value)
    return shortest


class TokenBucket:
    """A token bucket on the injected clock (``flowcontrol.NewTokenBucketRateLimiter``): ``qps``
    tokens a second up to ``burst``; ``qps <= 0`` never accepts (the fake "always fail" limiter a
    zone gets when its evictions stop), ``qps = inf`` always accepts (no limit)."""

    def __init__(self, qps: float, clock: Clock, *, burst: int = 1) -> None:
        self.qps = qps
        self.burst = max(1, burst)
        self.clock = clock
        self._tokens = float(self.burst)
        self._last = clock.monotonic()

    def try_accept(self) -> bool:
        if self.qps <= 0:
            return False
        if math.isinf(self.qps):
            return True
        now = self.clock.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


def _burst(qps: float) -> int:
    """The bucket size that lets ``qps`` through a tainting pass every `TAINT_PASS_PERIOD` (a
    burst of 1 would cap every rate at 1 / `TAINT_PASS_PERIOD` nodes/s)."""
    if qps <= 0 or math.isinf(qps):
        return 1
    return max(1, math.ceil(qps * TAINT_PASS_PERIOD))


class ZoneQueue:
    """Nodes waiting to be NoExecute-tainted in one zone, in arrival order, behind the zone's
    token bucket (``RateLimitedTimedQueue`` with ``SwapLimiter``)."""

    def __init__(self, qps: float, clock: Clock) -> None:
        self.clock = clock
        self.limiter = TokenBucket(qps, clock, burst=_burst(qps))
        self._items: OrderedDict[str, None] = OrderedDict()

    def swap_limiter(self, qps: float) -> None:
        if qps != self.limiter.qps:
            self.limiter = TokenBucket(qps, self.clock, burst=_burst(qps))

    def add(self, name: str) -> bool:
        if name in self._items:
            return False
        self._items[name] = None
        return True

    def remove(self, name: str) -> None:
        self._items.pop(name, None)

    def take(self) -> list[str]:
        """The nodes the limiter lets through now, removed from the queue."""
        out: list[str] = []
        while self._items and self.limiter.try_accept():
            name, _ = self._items.popitem(last=False)
            out.append(name)
        return out

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class NodeHealth:
    """What was last heard from a node (``nodeHealthData``): ``probe`` is this controller's
    monotonic time of the last heartbeat or lease renewal it saw."""

    probe: float
    heartbeat: str | None = None
    transition: str | None = None
    renew: float | None = None
    ready: str | None = None
    seen: tuple[object, object] = field(default=(None, None), compare=False, repr=False)
    """The (node, Lease) cache objects this record was computed from (compared by identity)."""


def _epoch(value: Any) -> float | None:
    if not value:
        return None
    return _parse_epoch(str(value))


@functools.lru_cache(maxsize=8192)
def _parse_epoch(value: str) -> float | None:
    """Parsed once per distinct timestamp: a pass looks at every node's Lease twice a second."""
    try:
        return parse_time(value).timestamp()
    except ValueError:
        return None


def health_after(
    saved: NodeHealth | None, node: Mapping[str, Any], lease: Mapping[str, Any] | None, now: float
) -> NodeHealth:
    """The node's health record after looking at it at monotonic ``now``: heard from (``probe =
    now``) when first seen, when its Ready heartbeat changed, or when its Lease was renewed."""
    cond = node_condition(node, "Ready")
    heartbeat = None if cond is None else str(cond.get("lastHeartbeatTime") or "")
    transition = None if cond is None else str(cond.get("lastTransitionTime") or "")
    renew = _epoch(((lease or {}).get("spec") or {}).get("renewTime")) if lease else None
    if saved is None:
        health = NodeHealth(probe=now, heartbeat=heartbeat, transition=transition)
    else:
        health = NodeHealth(
            saved.probe, saved.heartbeat, saved.transition, saved.renew, saved.ready
        )
        if (saved.heartbeat is None) != (heartbeat is None) or saved.heartbeat != heartbeat:
            health.probe = now
            health.heartbeat, health.transition = heartbeat, transition
    if renew is not None and (health.renew is None or renew > health.renew):
        health.renew = renew
        health.probe = now
    return health


def unknown_conditions(node: Mapping[str, Any], stamp: str) -> list[dict[str, Any]] | None:
    """The node's conditions with the monitored ones set to Unknown (``tryUpdateNodeHealth``),
    or None when they already are."""
    conditions = [thaw(c) for c in (node.get("status") or {}).get("conditions") or ()]
    changed = False
    created = str(meta_of(node).get("creationTimestamp") or stamp)
    for kind in MONITORED_CONDITIONS:
        cond = next((c for c in conditions if c.get("type") == kind), None)
        if cond is None:
            conditions.append(
                {
                    "type": kind,
                    "status": "Unknown",
                    "reason": "NodeStatusNeverUpdated",
                    "message": "Kubelet never posted node status.",
                    "lastHeartbeatTime": created,
                    "lastTransitionTime": stamp,
                }
            )
            changed = True
        elif cond.get("status") != "Unknown":
            cond.update(
                status="Unknown",
                reason="NodeStatusUnknown",
                message="Kubelet stopped posting node status.",
                lastTransitionTime=stamp,
            )
            changed = True
    return conditions if changed else None


def _node_ref(node: Mapping[str, Any]) -> dict[str, Any]:
    meta = meta_of(node)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": meta.get("name"), "uid": meta.get("uid")},
    }


def _pod_ref(pod: Mapping[str, Any]) -> dict[str, Any]:
    meta = meta_of(pod)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
        },
    }


async def _bounded(
    coros: Sequence[Coroutine[Any, Any, T]], limit: int = WRITE_CONCURRENCY
) -> list[T]:
    """Await ``coros`` concurrently, at most ``limit`` at a time, results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(coro: Coroutine[Any, Any, T]) -> T:
        async with gate:
            return await coro

    return list(await asyncio.gather(*(one(c) for c in coros)))


def _pod_ready(pod: Mapping[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or ()
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _pod_node(pod: Any) -> list[str]:
    node = (pod.get("spec") or {}).get("nodeName") if isinstance(pod, Mapping) else None
    return [str(node)] if node else []


# ---------------------------------------------------------------------- the controller


class NodeLifecycleController:
    name = "node-lifecycle-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.clock = ctx.clock
        self.recorder = ctx.recorder
        self.options = ctx.options
        self.nodes = ctx.factory.informer(NODES)
        self.pods = ctx.factory.informer(PODS, indexers={NODE_INDEX: _pod_node})
        self.leases = ctx.factory.informer(LEASES, namespace=NODE_LEASE_NAMESPACE)
        self.health: dict[str, NodeHealth] = {}
        self.zone_states: dict[str, ZoneState] = {}
        self.zone_queues: dict[str, ZoneQueue] = {}
        self.taint_queue: WorkQueue[str] = WorkQueue(name="node-taints", clock=ctx.clock)
        self.eviction_queue: WorkQueue[str] = WorkQueue(name="taint-eviction", clock=ctx.clock)
        self.not_ready_queue: WorkQueue[str] = WorkQueue(
            name="node-pods-not-ready", clock=ctx.clock
        )
        self._taint_seen: dict[str, float] = {}
        """pod key -> monotonic time its node's NoExecute taints were first seen for it."""
        self._known_nodes: set[str] = set()
        self._tainting: set[str] = set()
        """Nodes whose NoExecute taint is being written by the tainting pass."""
        self.master_disruption = False
        """Every zone is FullDisruption: no NoExecute taints, no evictions."""
        self.passes = 0
        """Completed health monitoring passes (tests wait on it)."""
        self.nodes.add_handler(
            on_add=self._node_added,
            on_update=self._node_updated,
            on_delete=self._node_deleted,
        )
        self.pods.add_handler(
            on_add=self._pod_changed,
            on_update=lambda _o, n: self._pod_changed(n),
            on_delete=self._pod_deleted,
        )

    # ------------------------------------------------------------------ handlers

    def _node_added(self, node: FrozenDict) -> None:
        self.taint_queue.add(object_key(node))
        self._enqueue_pods_of(node)

    def _node_updated(self, old: FrozenDict, new: FrozenDict) -> None:
        if old is new:
            return
        self.taint_queue.add(object_key(new))
        if no_execute_taints(old) != no_execute_taints(new):
            self._enqueue_pods_of(new)

    def _node_deleted(self, node: FrozenDict) -> None:
        name = str(meta_of(node).get("name") or "")
        self.health.pop(name, None)
        for queue in self.zone_queues.values():
            queue.remove(name)
        if name in self._known_nodes:
            self._known_nodes.discard(name)
            self.recorder.event(
                _node_ref(node),
                "Normal",
                "RemovingNode",
                f"Node {name} event: Removing Node {name} from Controller",
            )

    def _enqueue_pods_of(self, node: Mapping[str, Any]) -> None:
        name = str(meta_of(node).get("name") or "")
        for pod in self.pods.indexer.by_index(NODE_INDEX, name):
            self.eviction_queue.add(object_key(pod))

    def _pod_changed(self, pod: FrozenDict) -> None:
        if _pod_node(pod):
            self.eviction_queue.add(object_key(pod))

    def _pod_deleted(self, pod: FrozenDict) -> None:
        self._taint_seen.pop(object_key(pod), None)

    # ------------------------------------------------------------------ running

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._monitor_loop(), name="node-monitor")
                tg.create_task(self._taint_pass_loop(), name="node-no-execute-tainting")
                tg.create_task(
                    run_workers(
                        self.taint_queue,
                        self.sync_no_schedule,
                        self.options.workers,
                        name="node-taints",
                    )
                )
                tg.create_task(
                    run_workers(
                        self.not_ready_queue,
                        self.sync_pods_not_ready,
                        NOT_READY_WORKERS,
                        name="node-pods-not-ready",
                    )
                )
                tg.create_task(
                    run_workers(
                        self.eviction_queue,
                        self.sync_pod_eviction,
                        max(self.options.workers, EVICTION_WORKERS),
                        name="taint-eviction",
                    )
                )
        finally:
            self.taint_queue.shut_down()
            self.eviction_queue.shut_down()
            self.not_ready_queue.shut_down()

    async def _monitor_loop(self) -> None:
        while True:
            started = self.clock.monotonic()
            try:
                await self.monitor_node_health()
            except Exception:
                log.exception("monitoring node health failed")
            took = self.clock.monotonic() - started
            if took > self.options.node_monitor_grace_period / 2:  # health verdicts at risk
                log.warning("a node health pass over %d nodes took %.2fs", len(self.health), took)
            # passes start every period; a pass that waited for writes is not followed by a
            # whole period more before the next verdicts
            period = self.options.node_monitor_period
            await self.clock.sleep(max(period - took, period / 10))

    async def _taint_pass_loop(self) -> None:
        while True:
            try:
                await self.no_execute_tainting_pass()
            except Exception:
                log.exception("NoExecute tainting pass failed")
            await self.clock.sleep(TAINT_PASS_PERIOD)

    # ------------------------------------------------------------------ node health

    async def monitor_node_health(self) -> None:
        """One pass of ``monitorNodeHealth`` over every node in the cache: health first, then the
        zone states (so a node queued for its NoExecute taint meets its zone's current rate),
        then events, NoExecute queueing and pods marked not ready."""
        zones: dict[str, list[str | None]] = {}
        nodes = self.nodes.lister.list()
        looked: list[tuple[str, str, Mapping[str, Any]]] = []
        for node in nodes:
            name = str(meta_of(node).get("name") or "")
            zone = zone_key(node)
            if zone not in self.zone_queues:
                self.zone_queues[zone] = ZoneQueue(self.options.node_eviction_rate, self.clock)
                self.zone_states.setdefault(zone, ZoneState.INITIAL)
            if name not in self._known_nodes:
                self._known_nodes.add(name)
                self.recorder.event(
                    _node_ref(node),
                    "Normal",
                    "RegisteredNode",
                    f"Node {name} event: Registered Node {name} in Controller",
                )
            looked.append((name, zone, node))

        verdicts = [self._assess_health(node) for node in nodes]

        async def write(node: FrozenDict, body: dict[str, Any] | None) -> Mapping[str, Any]:
            if body is None:
                return node
            try:
                return await self._write_unknown(body)
            except (Conflict, NotFound):
                return node  # changed or gone meanwhile: the next pass looks again

        if any(verdict is not None for verdict in verdicts):
            currents = await _bounded([write(n, b) for n, b in zip(nodes, verdicts, strict=True)])
        else:
            currents = list(nodes)
        looked = [(n, z, c) for (n, z, _), c in zip(looked, currents, strict=True)]
        for node, (_, zone, current) in zip(nodes, looked, strict=True):
            if EXCLUDE_DISRUPTION_LABEL not in (meta_of(node).get("labels") or {}):
                zones.setdefault(zone, []).append(ready_status(current))
        await self._handle_disruption(zones, nodes)
        swaps: list[Coroutine[Any, Any, None]] = []
        for name, zone, current in looked:
            ready = ready_status(current)
            if ready is None:
                continue
            health = self.health.get(name)
            previous = health.ready if health else None
            if health is not None:
                health.ready = ready
            swap = self._process_taint_eviction(current, ready, zone)
            if swap is not None:
                swaps.append(swap)
            if ready != "True":
                if previous == "True":
                    self.recorder.event(
                        _node_ref(current),
                        "Normal",
                        "NodeNotReady",
                        f"Node {name} status is now: NodeNotReady",
                    )
                if self._has_ready_pods(name):
                    self.not_ready_queue.add(name)
        if swaps:
            await _bounded(swaps)
        self.passes += 1

    def _assess_health(self, node: FrozenDict) -> dict[str, Any] | None:
        """``tryUpdateNodeHealth``, the decision: record what was heard from the node; return the
        node with its monitored conditions set to Unknown if it has not been heard from within
        its grace period (and they are not Unknown already), else None."""
        name = str(meta_of(node).get("name") or "")
        now = self.clock.monotonic()
        lease = self.leases.lister.get(name, namespace=NODE_LEASE_NAMESPACE)
        health = self.health.get(name)
        # the cache hands out the same frozen objects until they change: an unchanged node and
        # Lease tell nothing new (most of 1,000 nodes on most passes), only the time moved on
        if health is None or health.seen[0] is not node or health.seen[1] is not lease:
            health = health_after(health, node, lease, now)
            health.seen = (node, lease)
            self.health[name] = health
        grace = (
            self.options.node_monitor_grace_period
            if node_condition(node, "Ready") is not None
            else self.options.node_startup_grace_period
        )
        if now <= health.probe + grace:
            return None
        conditions = unknown_conditions(node, format_epoch_time(self.clock.time()))
        if conditions is None:
            return None
        log.info(
            "node %s not heard from for %.1fs: marking its status Unknown", name, now - health.probe
        )
        body: dict[str, Any] = thaw(node)
        body.setdefault("status", {})["conditions"] = conditions
        return body

    async def _write_unknown(self, body: dict[str, Any]) -> Mapping[str, Any]:
        """``tryUpdateNodeHealth``, the write: PUT nodes/status; the heartbeat written is ours, not
        the node's, so it is remembered (a later look does not count it as "heard")."""
        updated = await self.client.update_status(NODES, body)
        health = self.health.get(str(meta_of(updated).get("name") or ""))
        cond = node_condition(updated, "Ready")
        if health is not None and cond is not None:
            health.heartbeat = str(cond.get("lastHeartbeatTime") or "")
            health.transition = str(cond.get("lastTransitionTime") or "")
        return updated

    def _has_ready_pods(self, node: str) -> bool:
        return any(_pod_ready(pod) for pod in self.pods.indexer.by_index(NODE_INDEX, node))

    async def sync_pods_not_ready(self, node: str) -> None:
        """``MarkPodsNotReady`` for one node that is not Ready: each of its pods whose Ready
        condition is True -> False (pods/status, concurrently). A worker of its own does it, so
        a pass over thousands of nodes does not wait for thousands of pod writes."""
        current = self.nodes.lister.get(node)
        if current is None or ready_status(current) in (None, "True"):
            return
        stamp = format_epoch_time(self.clock.time())

        async def mark(pod: FrozenDict) -> None:
            body = thaw(pod)
            for cond in body["status"]["conditions"]:
                if cond.get("type") == "Ready":
                    cond["status"] = "False"
                    cond["lastTransitionTime"] = stamp
            try:
                await self.client.update_status(PODS, body)
            except (Conflict, NotFound):
                return  # changed meanwhile: the next pass looks again
            self.recorder.event(_pod_ref(pod), "Warning", "NodeNotReady", "Node is not ready")

        todo = [
            mark(pod) for pod in self.pods.indexer.by_index(NODE_INDEX, node) if _pod_ready(pod)
        ]
        await _bounded(todo, NOT_READY_POD_CONCURRENCY)

    # ------------------------------------------------------------------ NoExecute taints

    def _process_taint_eviction(
        self, node: Mapping[str, Any], ready: str, zone: str
    ) -> Coroutine[Any, Any, None] | None:
        """``processTaintBaseEviction``: queue a not-Ready node for its NoExecute taint; return
        the write that swaps an existing opposite taint at once, or removes both from a Ready
        node (the pass runs those concurrently), else None."""
        name = str(meta_of(node).get("name") or "")
        keys = {str(t.get("key")) for t in no_execute_taints(node)}
        if ready == "True":
            self.zone_queues[zone].remove(name)
            if keys & NO_EXECUTE_KEYS:
                return self._swap_no_execute(name, add=None)
            return None
        if self.master_disruption:
            self.zone_queues[zone].add(name)  # waits behind a stopped limiter
            return None
        want, opposite = (NOT_READY, UNREACHABLE) if ready == "False" else (UNREACHABLE, NOT_READY)
        if want in keys and opposite not in keys:
            return None
        if opposite in keys:
            return self._swap_no_execute(name, add=want)
        if name in self._tainting:
            return None  # its taint is being written (the cache does not show it yet)
        if self.zone_queues[zone].add(name):
            log.info("node %s is %s: queued for the %s taint", name, ready, want)
        return None

    async def no_execute_tainting_pass(self) -> None:
        """``doNoExecuteTaintingPass``: taint the nodes each zone's limiter lets through (the
        writes run concurrently, at most `WRITE_CONCURRENCY` at a time)."""

        async def taint(zone: str, queue: ZoneQueue, name: str) -> None:
            node = self.nodes.lister.get(name)
            if node is None:
                return
            ready = ready_status(node)
            if ready not in ("False", "Unknown") or self.master_disruption:
                return  # Ready again (or every zone down): no taint
            want = NOT_READY if ready == "False" else UNREACHABLE
            self._tainting.add(name)
            try:
                await self._swap_no_execute(name, add=want)
            except Exception:
                log.warning("tainting node %s failed; queued again", name, exc_info=True)
                self.zone_queues.get(zone, queue).add(name)
            finally:
                self._tainting.discard(name)

        todo = [
            taint(zone, queue, name)
            for zone, queue in list(self.zone_queues.items())
            for name in queue.take()
        ]
        if todo:
            await _bounded(todo)

    async def _swap_no_execute(self, name: str, *, add: str | None) -> None:
        """Make the node's NoExecute taints of `NO_EXECUTE_KEYS` exactly ``add`` (or none),
        ``SwapNodeControllerTaint``; ``timeAdded`` is now for a new taint."""
        stamp = format_epoch_time(self.clock.time())

        def mutate(taints: list[dict[str, Any]]) -> list[dict[str, Any]]:
            kept = [
                t
                for t in taints
                if not (t.get("effect") == "NoExecute" and t.get("key") in NO_EXECUTE_KEYS)
                or t.get("key") == add
            ]
            if add is not None and not any(
                t.get("key") == add and t.get("effect") == "NoExecute" for t in kept
            ):
                kept.append({"key": add, "effect": "NoExecute", "timeAdded": stamp})
            return kept

        await self._update_taints(name, mutate)

    async def _update_taints(
        self, name: str, mutate: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
    ) -> None:
        """Read the node live, apply ``mutate`` to its taints, PUT if they changed; conflicts
        with the agent's or our own other writes are retried on a fresh read."""
        for _ in range(5):
            try:
                node = await self.client.get(NODES, name)
            except NotFound:
                return
            spec = node.setdefault("spec", {})
            taints = [dict(t) for t in spec.get("taints") or ()]
            new = mutate([dict(t) for t in taints])
            if new == taints:
                return
            if new:
                spec["taints"] = new
            else:
                spec.pop("taints", None)
            try:
                await self.client.update(NODES, node)
            except Conflict:
                continue
            return
        raise RuntimeError(f"node {name}: taints not updated after 5 conflicts")

    # ------------------------------------------------------------------ NoSchedule taints

    async def sync_no_schedule(self, name: str) -> None:
        """``doNoScheduleTaintingPass``: the node's NoSchedule taints of `NO_SCHEDULE_KEYS` are
        exactly those its conditions call for."""
        node = self.nodes.lister.get(name)
        if node is None:
            return
        wanted = condition_taints(node)
        current = _owned_no_schedule(thaw((node.get("spec") or {}).get("taints") or []))
        if sorted(t["key"] for t in current) == sorted(t["key"] for t in wanted):
            return

        def mutate(taints: list[dict[str, Any]]) -> list[dict[str, Any]]:
            current = {t.get("key"): t for t in _owned_no_schedule_full(taints)}
            others = [
                t
                for t in taints
                if not (t.get("effect") == "NoSchedule" and t.get("key") in NO_SCHEDULE_KEYS)
            ]
            return others + [dict(current.get(t["key"]) or t) for t in wanted]

        await self._update_taints(name, mutate)

    # ------------------------------------------------------------------ zones

    async def _handle_disruption(
        self, zones: Mapping[str, Sequence[str | None]], nodes: Sequence[FrozenDict]
    ) -> None:
        """``handleDisruption``: each zone's state and token bucket; master disruption mode."""
        threshold = self.options.unhealthy_zone_threshold
        new_states = {z: compute_zone_state(ready, threshold)[1] for z, ready in zones.items()}
        all_full = bool(new_states) and all(
            s is ZoneState.FULL_DISRUPTION for s in new_states.values()
        )
        for zone in list(self.zone_states):
            if zone not in zones:
                del self.zone_states[zone]
                self.zone_queues.pop(zone, None)
        for zone in zones:
            self.zone_states.setdefault(zone, ZoneState.INITIAL)
        all_was_full = bool(self.zone_states) and all(
            s is ZoneState.FULL_DISRUPTION for s in self.zone_states.values()
        )
        if all_full and all_was_full:
            if self.master_disruption:
                # level-triggered: a taint that raced with entering this mode goes too
                await self._untaint_all(nodes)
            return
        if all_full:
            log.warning(
                "every node is not Ready: entering master disruption mode (no NoExecute taints, "
                "no evictions)"
            )
            self.master_disruption = True
            for zone in self.zone_states:
                self.zone_queues[zone].swap_limiter(0.0)
                self.zone_states[zone] = ZoneState.FULL_DISRUPTION
            await self._untaint_all(nodes)
            return
        if all_was_full:
            log.warning("some nodes are Ready again: leaving master disruption mode")
            self.master_disruption = False
            now = self.clock.monotonic()
            for health in self.health.values():
                health.probe = now
            for zone in self.zone_states:
                self._set_zone(zone, len(zones[zone]), new_states[zone])
            return
        for zone, state in list(self.zone_states.items()):
            if state is not new_states[zone]:
                log.info("zone %r is now %s", zone, new_states[zone].value)
                self._set_zone(zone, len(zones[zone]), new_states[zone])

    async def _untaint_all(self, nodes: Sequence[FrozenDict]) -> None:
        """Master disruption: no node waits for or keeps a NoExecute taint (``markNodeAsReachable``
        on every node)."""
        for node in nodes:
            name = str(meta_of(node).get("name") or "")
            for queue in self.zone_queues.values():
                queue.remove(name)
            if {str(t.get("key")) for t in no_execute_taints(node)} & NO_EXECUTE_KEYS:
                try:
                    await self._swap_no_execute(name, add=None)
                except Exception:
                    log.warning("untainting node %s failed", name, exc_info=True)

    def _set_zone(self, zone: str, size: int, state: ZoneState) -> None:
        self.zone_states[zone] = state
        queue = self.zone_queues.get(zone)
        if queue is None:
            queue = self.zone_queues[zone] = ZoneQueue(0.0, self.clock)
        queue.swap_limiter(zone_eviction_rate(state, size, self.options))

    # ------------------------------------------------------------------ taint-based eviction

    async def sync_pod_eviction(self, key: str) -> None:
        """The taint eviction controller's ``processPodOnNode`` for one pod."""
        namespace, _, name = key.rpartition("/")
        pod = self.pods.lister.get(name, namespace=namespace)
        if pod is None:
            self._taint_seen.pop(key, None)
            return
        if meta_of(pod).get("deletionTimestamp"):
            self._taint_seen.pop(key, None)
            return
        node_name = str((pod.get("spec") or {}).get("nodeName") or "")
        node = self.nodes.lister.get(node_name) if node_name else None
        taints = no_execute_taints(node) if node is not None else []
        delay = eviction_delay((pod.get("spec") or {}).get("tolerations") or (), taints)
        now = self.clock.monotonic()
        if delay is None:
            if self._taint_seen.pop(key, None) is not None:
                self.recorder.event(
                    _pod_ref(pod),
                    "Normal",
                    "TaintManagerEviction",
                    f"Cancelling deletion of Pod {key}",
                )
            return
        started = self._taint_seen.setdefault(key, now)
        due = started + delay
        if now < due:
            self.eviction_queue.add_after(key, due - now)
            return
        await self._evict(pod, key)

    async def _evict(self, pod: FrozenDict, key: str) -> None:
        """``addConditionAndDeletePod``: DisruptionTarget through pods/status, then delete."""
        namespace = str(meta_of(pod).get("namespace") or "")
        name = str(meta_of(pod).get("name") or "")
        self.recorder.event(
            _pod_ref(pod), "Normal", "TaintManagerEviction", f"Marking for deletion Pod {key}"
        )
        body = thaw(pod)
        status = body.setdefault("status", {})
        conditions = [
            c for c in status.get("conditions") or () if c.get("type") != DISRUPTION_TARGET
        ]
        conditions.append(
            {
                "type": DISRUPTION_TARGET,
                "status": "True",
                "reason": "DeletionByTaintManager",
                "message": "Taint manager: deleting due to NoExecute taint",
                "lastTransitionTime": format_epoch_time(self.clock.time()),
            }
        )
        status["conditions"] = conditions
        try:
            await self.client.update_status(PODS, body)
            await self.client.delete(
                PODS,
                name,
                namespace=namespace,
                preconditions=Preconditions(uid=str(meta_of(pod).get("uid") or "")),
            )
        except NotFound:
            pass
        self._taint_seen.pop(key, None)


def _owned_no_schedule_full(taints: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [
        t for t in taints if t.get("effect") == "NoSchedule" and t.get("key") in NO_SCHEDULE_KEYS
    ]


def _owned_no_schedule(taints: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"key": t.get("key"), "effect": "NoSchedule"} for t in _owned_no_schedule_full(taints)]
