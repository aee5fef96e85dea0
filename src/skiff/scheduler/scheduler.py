"""The scheduler: informers feeding the cache and the queue, the scheduling loop, binding.

`Scheduler.run` starts informers for pods, nodes, PersistentVolumeClaims, PersistentVolumes and
PodDisruptionBudgets; assigned pods and nodes go into the `SchedulerCache`, pending pods whose
``spec.schedulerName`` names one of its profiles into the `SchedulingQueue` (pods for other
schedulers are left alone). Then one loop takes pods from the queue one at a time
(``scheduleOne``):

1. the scheduling cycle, synchronous on the event loop so it sees one consistent cache: PreFilter,
   Filter over every node (vectorised where the plugins allow, stopping at
   ``percentageOfNodesToScore``), PreScore/Score/NormalizeScore, pick the best node, *assume* the
   pod there in the cache, Reserve, Permit;
2. the binding cycle, a task of its own so the next pod is scheduled while this one's binding is
   on the wire: wait for Permit, Bind (``pods/binding``), then a ``Scheduled`` event. A failed
   binding forgets the assumption and the pod goes to backoffQ.

A pod that fits nowhere runs PostFilter (preemption), gets ``PodScheduled=False`` with reason
``Unschedulable`` and Kubernetes' message, a ``FailedScheduling`` event, and waits in the
unschedulable pool until a cluster event that could help (see `SchedulingQueue`). The pod's status
is only written when the message or nominated node changed, so retries do not rewrite it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import Mapping
from typing import Any

from skiff.client import (
    Client,
    ClientError,
    Conflict,
    EventRecorder,
    NotFound,
    SharedInformerFactory,
)
from skiff.client.view import drop_managed_fields
from skiff.scheduler.cache import SchedulerCache
from skiff.scheduler.config import SchedulerConfig, default_config
from skiff.scheduler.framework import (
    ClusterEvent,
    Code,
    CycleState,
    Diagnosis,
    FitError,
    Framework,
    Handle,
    Status,
)
from skiff.scheduler.metrics import SchedulerMetrics
from skiff.scheduler.profile import build_framework
from skiff.scheduler.queue import QueuedPod, SchedulingQueue
from skiff.scheduler.types import PodInfo, pod_info
from skiff.util.clock import Clock, SystemClock

__all__ = ["Scheduler", "pod_info_transform"]

log = logging.getLogger("skiff.scheduler")

_TERMINAL = ("Succeeded", "Failed")
GATED_MESSAGE = "Scheduling is blocked due to non-empty scheduling gates"


def pod_info_transform(obj: dict[str, Any]) -> PodInfo:
    """Informer transform: the pod parsed once into a `PodInfo` (managedFields dropped).

    The fields are read from the freshly decoded plain dict (several times cheaper than reading
    through `FrozenDict`'s lazy wrapping: a third of the scheduler's CPU per pod went there), and
    ``raw`` is then the adopted, frozen object itself - no copy.
    """
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    info = pod_info(obj)
    info.raw = drop_managed_fields(obj)
    return info


def _event_target(pod: PodInfo) -> dict[str, Any]:
    meta = pod.raw.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod.name,
            "namespace": pod.namespace,
            "uid": pod.uid,
            "resourceVersion": meta.get("resourceVersion"),
        },
    }


def _scheduled_condition(pod: PodInfo) -> Mapping[str, Any] | None:
    for cond in (pod.raw.get("status") or {}).get("conditions") or ():
        if isinstance(cond, Mapping) and cond.get("type") == "PodScheduled":
            return cond
    return None


class Scheduler:
    """One scheduler (all its profiles) against one API server."""

    def __init__(
        self,
        client: Client,
        *,
        config: SchedulerConfig | None = None,
        clock: Clock | None = None,
        metrics: SchedulerMetrics | None = None,
        rng: random.Random | None = None,
        bind_concurrency: int = 128,
    ) -> None:
        self.client = client
        self.config = config or default_config()
        self.clock: Clock = clock or SystemClock()
        self.metrics = metrics or SchedulerMetrics()
        self.rng = rng or random.Random()
        self.cache = SchedulerCache(clock=self.clock)
        self.recorder: EventRecorder | None = None
        self.profiles: dict[str, Framework] = {}
        self.handles: list[Handle] = []
        for profile in self.config.profiles:
            handle = Handle(cache=self.cache, client=client, rng=self.rng)
            self.handles.append(handle)
            self.profiles[profile.scheduler_name] = build_framework(
                profile,
                handle,
                percentage_of_nodes_to_score=self.config.percentage_of_nodes_to_score,
            )
        # the framework's own readiness check answers to node additions and condition changes
        self._interest: dict[ClusterEvent, frozenset[str]] = {
            ClusterEvent.NODE_ADD: frozenset({"NodeReady"}),
            ClusterEvent.NODE_CONDITION: frozenset({"NodeReady"}),
        }
        for fw in self.profiles.values():
            for plugin in fw.plugins.values():
                for event in getattr(plugin, "events", ()):
                    self._interest[event] = self._interest.get(event, frozenset()) | {plugin.name}
        self.queue = SchedulingQueue(
            clock=self.clock,
            initial_backoff=self.config.pod_initial_backoff,
            max_backoff=self.config.pod_max_backoff,
            pre_enqueue=self._pre_enqueue,
            interested=lambda e: self._interest.get(e, frozenset()),
        )
        self._bind_slots = asyncio.Semaphore(bind_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self.ready = asyncio.Event()
        self.scheduled = 0
        self.bind_errors = 0
        self.cycle_seconds = 0.0  # time inside scheduling cycles
        self.bind_seconds = 0.0  # time waiting on binding calls (summed over concurrent ones)

    # -- queue hooks -------------------------------------------------------------------------

    def _pre_enqueue(self, pod: PodInfo) -> Status:
        fw = self.profiles.get(pod.scheduler_name)
        if fw is None:
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ("no profile",))
        st = fw.run_pre_enqueue(pod)
        if not st.ok and pod.gates:
            cond = _scheduled_condition(pod)
            if cond is None or cond.get("reason") != "SchedulingGated":
                self._spawn(self._write_condition(pod, "SchedulingGated", GATED_MESSAGE, None))
        return st

    def _move(self, event: ClusterEvent) -> None:
        self.queue.move_for_event(event)

    # -- informer handlers -------------------------------------------------------------------

    def _responsible(self, pod: PodInfo) -> bool:
        return pod.scheduler_name in self.profiles

    def _on_pod_add(self, pod: PodInfo) -> None:
        if pod.node_name:
            if pod.phase in _TERMINAL:
                return
            self.cache.add_pod(pod)
            self.queue.delete(pod.uid)
            self._move(ClusterEvent.POD_ADD)
        elif self._responsible(pod) and not pod.terminating:
            if pod.nominated_node:  # e.g. nominated by a previous leader
                self.cache.nominate(pod, pod.nominated_node)
            self.queue.add(pod)

    def _on_pod_update(self, old: PodInfo, new: PodInfo) -> None:
        if new.node_name:
            if new.phase in _TERMINAL:
                if self.cache.remove_pod(new.uid) is not None:
                    self._move(ClusterEvent.POD_DELETE)
                return
            if not old.node_name:
                self.queue.delete(new.uid)
                self.cache.add_pod(new)
                self._move(ClusterEvent.POD_ADD)
                return
            self.cache.update_pod(new)
            if dict(old.labels) != dict(new.labels):
                self._move(ClusterEvent.POD_LABEL)
            return
        if not self._responsible(new):
            return
        if new.terminating:
            self.queue.delete(new.uid)
            self.cache.nominate(new, "")
            return
        if new.nominated_node != old.nominated_node:
            self.cache.nominate(new, new.nominated_node)
        self.queue.update(new)

    def _on_pod_delete(self, pod: PodInfo) -> None:
        if self.cache.remove_pod(pod.uid) is not None:
            self._move(ClusterEvent.POD_DELETE)
        self.queue.delete(pod.uid)

    def _on_node_add(self, node: Mapping[str, Any]) -> None:
        self.cache.add_node(node)
        self._move(ClusterEvent.NODE_ADD)

    def _on_node_update(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        for event in self.cache.update_node(new):
            self._move(event)

    def _on_node_delete(self, node: Mapping[str, Any]) -> None:
        self.cache.remove_node(str((node.get("metadata") or {}).get("name") or ""))

    # -- running -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Watch, schedule and bind until cancelled."""
        async with (
            EventRecorder(self.client, "default-scheduler", socket.gethostname()) as recorder,
            SharedInformerFactory(self.client, clock=self.clock) as factory,
        ):
            self.recorder = recorder
            pods = factory.informer("pods", transform=pod_info_transform)
            pods.add_handler(
                on_add=self._on_pod_add,
                on_update=self._on_pod_update,
                on_delete=self._on_pod_delete,
            )
            nodes = factory.informer("nodes")
            nodes.add_handler(
                on_add=self._on_node_add,
                on_update=self._on_node_update,
                on_delete=self._on_node_delete,
            )
            pvcs = factory.informer("persistentvolumeclaims")
            pvs = factory.informer("persistentvolumes")
            pdbs = factory.informer("poddisruptionbudgets")
            for resource, event in (
                (pvcs, ClusterEvent.PVC_CHANGE),
                (pvs, ClusterEvent.PV_CHANGE),
                (pdbs, ClusterEvent.PDB_CHANGE),
            ):
                mover = _Mover(self, event)
                resource.add_handler(on_add=mover.added, on_update=mover.updated)
            for handle in self.handles:
                handle.recorder = recorder
                handle.pvcs = pvcs.lister
                handle.pvs = pvs.lister
                handle.pdbs = pdbs.lister
            factory.start()
            await factory.wait_for_sync()
            log.info(
                "scheduler running: %d nodes, %d pending pods, profiles %s",
                self.cache.node_count,
                sum(self.queue.pending().values()),
                ", ".join(self.profiles),
            )
            self.ready.set()
            try:
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(self._housekeeping(), name="scheduler-housekeeping")
                    tg.create_task(self._loop(), name="scheduler-loop")
            finally:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _housekeeping(self) -> None:
        while True:
            await self.clock.sleep(1.0)
            self.queue.flush()
            self.cache.cleanup_expired()
            self.metrics.set_pending(self.queue.pending())

    async def _loop(self) -> None:
        while True:
            qp = await self.queue.pop()
            try:
                await self.schedule_one(qp)
            except Exception:
                log.exception("scheduling %s failed", qp.pod.key)
                self.queue.add_backoff(qp)
            await asyncio.sleep(0)  # let informers and bindings run between pods

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- one pod -----------------------------------------------------------------------------

    async def schedule_one(self, qp: QueuedPod) -> None:
        pod = qp.pod
        fw = self.profiles.get(pod.scheduler_name)
        if fw is None or pod.terminating or pod.uid in self.cache.pods:
            self.queue.done(pod.uid)
            return
        start = self.clock.monotonic()
        state = CycleState()
        host, error = self._schedule_cycle(fw, state, pod)
        if host is None:
            assert error is not None
            elapsed = self.clock.monotonic() - start
            self.cycle_seconds += elapsed
            result = "unschedulable" if isinstance(error, FitError) else "error"
            self.metrics.attempts.labels(result=result, profile=fw.profile_name).inc()
            self.metrics.attempt_duration.labels(result=result, profile=fw.profile_name).observe(
                elapsed
            )
            self._handle_failure(fw, qp, error)
            return
        # assume, reserve, permit
        self.cache.assume(pod, host)
        st = fw.run_reserve(state, pod, host)
        permit, wait = (st, 0.0)
        if st.ok:
            permit, wait = fw.run_permit(state, pod, host)
        if not st.ok or not (permit.ok or permit.code == Code.WAIT):
            fw.run_unreserve(state, pod, host)
            self.cache.forget(pod.uid)
            bad = st if not st.ok else permit
            self._handle_failure(fw, qp, _status_error(pod, bad, self.cache.node_count))
            return
        elapsed = self.clock.monotonic() - start
        self.cycle_seconds += elapsed
        self.metrics.attempts.labels(result="scheduled", profile=fw.profile_name).inc()
        self.metrics.attempt_duration.labels(result="scheduled", profile=fw.profile_name).observe(
            elapsed
        )
        await self._bind_slots.acquire()
        self._spawn(self._binding_cycle(fw, state, qp, host, wait))

    def _schedule_cycle(
        self, fw: Framework, state: CycleState, pod: PodInfo
    ) -> tuple[str | None, Exception | None]:
        cache = self.cache
        if cache.node_count == 0:
            # (kube-scheduler's ErrNoNodesAvailable); a node's arrival wakes the pod
            return None, FitError(
                pod,
                0,
                Diagnosis(
                    pre_filter_msg="no nodes available to schedule pods",
                    unschedulable_plugins={"NodeReady"},
                ),
            )
        st = fw.run_pre_filter(state, pod)
        if not st.ok:
            if st.code == Code.ERROR:
                return None, RuntimeError(st.message)
            d = Diagnosis(pre_filter_msg=st.message, unschedulable_plugins={st.plugin})
            d.node_statuses = {
                n.name: Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, st.reasons, st.plugin)
                for n in cache.node_list()
            }
            return None, self._post_filter(fw, state, pod, d)
        rows, _ = fw.find_feasible(state, pod, cache)
        if len(rows) == 0:
            d = fw.diagnose(state, pod, cache)
            if not d.node_statuses:  # the fast path and the explanation disagree: retry later
                return None, RuntimeError("no feasible node found but none rejected the pod")
            return None, self._post_filter(fw, state, pod, d)
        if len(rows) == 1:
            node = cache.nodes[rows[0]]
            assert node is not None
            return node.name, None
        scores = fw.prioritize(state, pod, cache, rows)
        return fw.select_host(rows, scores, cache), None

    def _post_filter(
        self, fw: Framework, state: CycleState, pod: PodInfo, d: Diagnosis
    ) -> FitError:
        err = FitError(pod, self.cache.node_count, d)
        if not fw.post_filter:
            return err
        self.metrics.preemption_attempts.inc()
        result, st = fw.run_post_filter(state, pod, d.node_statuses)
        if st.ok and result is not None and result.nominated_node:
            err.nominated = result.nominated_node
        elif st.reasons:
            d.post_filter_msg = st.message
        return err

    def _handle_failure(self, fw: Framework, qp: QueuedPod, error: Exception) -> None:
        pod = qp.pod
        nominated = error.nominated if isinstance(error, FitError) else ""
        if isinstance(error, FitError):
            self.queue.add_unschedulable(qp, error.diagnosis.unschedulable_plugins)
            message = str(error)
        else:
            self.queue.add_backoff(qp)
            message = str(error)
        log.debug("unschedulable %s: %s", pod.key, message)
        if self.recorder is not None:
            self.recorder.event(_event_target(pod), "Warning", "FailedScheduling", message)
        cond = _scheduled_condition(pod)
        if (
            cond is not None
            and cond.get("reason") == "Unschedulable"
            and cond.get("message") == message
            and (not nominated or nominated == pod.nominated_node)
        ):
            return
        self._spawn(
            self._write_condition(
                pod,
                "Unschedulable" if isinstance(error, FitError) else "SchedulerError",
                message,
                nominated or None,
            )
        )

    async def _write_condition(
        self, pod: PodInfo, reason: str, message: str, nominated: str | None
    ) -> None:
        status: dict[str, Any] = {
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": reason,
                    "message": message,
                    "lastProbeTime": None,
                    "lastTransitionTime": _now(self.clock),
                }
            ]
        }
        if nominated:
            status["nominatedNodeName"] = nominated
        try:
            await self.client.patch_status(
                "pods",
                pod.name,
                {"metadata": {"uid": pod.uid}, "status": status},
                namespace=pod.namespace,
                patch_type="strategic",
            )
        except (NotFound, Conflict):
            pass
        except ClientError as e:
            log.warning("updating the status of %s: %s", pod.key, e)

    async def _binding_cycle(
        self, fw: Framework, state: CycleState, qp: QueuedPod, host: str, wait: float
    ) -> None:
        pod = qp.pod
        try:
            if wait > 0:
                st = await fw.wait_on_permit(pod, wait)
                if not st.ok:
                    self._binding_failed(fw, state, qp, host, st)
                    return
            t0 = self.clock.monotonic()
            st = await fw.run_bind(state, pod, host)
            took = self.clock.monotonic() - t0
            self.bind_seconds += took
            self.metrics.binding_duration.observe(took)
            if not st.ok:
                self._binding_failed(fw, state, qp, host, st)
                return
            self.cache.finish_binding(pod.uid)
            self.queue.done(pod.uid)
            self.scheduled += 1
            self.metrics.pod_attempts.observe(qp.attempts)
            if self.recorder is not None:
                self.recorder.event(
                    _event_target(pod),
                    "Normal",
                    "Scheduled",
                    f"Successfully assigned {pod.namespace}/{pod.name} to {host}",
                )
        finally:
            self._bind_slots.release()

    def _binding_failed(
        self, fw: Framework, state: CycleState, qp: QueuedPod, host: str, st: Status
    ) -> None:
        self.bind_errors += 1
        fw.run_unreserve(state, qp.pod, host)
        self.cache.forget(qp.pod.uid)
        self._move(ClusterEvent.POD_DELETE)  # what it held is free again
        log.info("binding %s to %s failed: %s", qp.pod.key, host, st.message)
        if "not found" in st.message or "already assigned" in st.message:
            self.queue.done(qp.pod.uid)
            return
        self.queue.add_backoff(qp)
        self.metrics.attempts.labels(result="error", profile=fw.profile_name).inc()


class _Mover:
    def __init__(self, scheduler: Scheduler, event: ClusterEvent) -> None:
        self.scheduler = scheduler
        self.event = event

    def added(self, obj: object) -> None:
        self.scheduler._move(self.event)

    def updated(self, old: object, new: object) -> None:
        self.scheduler._move(self.event)


def _status_error(pod: PodInfo, st: Status, nodes: int) -> Exception:
    if st.rejected:
        return FitError(
            pod, nodes, Diagnosis(pre_filter_msg=st.message, unschedulable_plugins={st.plugin})
        )
    return RuntimeError(st.message)


def _now(clock: Clock) -> str:
    from skiff.util.clock import format_epoch_time

    return format_epoch_time(clock.time())
