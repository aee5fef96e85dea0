"""`Agent`: one node's agent (kubelet's role), wiring the parts together; implements the
``PodLookup`` the agent's HTTPS endpoint (``skiff.agent.server``) reads pods and containers
through.

Start-up order (``run``): the runtime re-reads its state; the Node is registered and its podCIDR
awaited; the pod network is set up for it; the Lease renewal starts; the pod informer (field
selector ``spec.nodeName=<node>``) syncs; sandboxes found in the runtime are matched to pods
(re-adoption: nothing that runs is restarted; sandboxes of pods the API no longer has are
removed); then the pod workers, the PLEG relist and the node status loop run until cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skiff.agent.backoff import Backoff
from skiff.agent.kuberuntime import PodRecord, PodSyncer
from skiff.agent.node import HostFacts, LeaseRenewer, NodeOptions, NodeRegistration, host_facts
from skiff.agent.parts import PodParts, default_parts
from skiff.agent.pleg import Pleg
from skiff.agent.podworkers import PodWorkers
from skiff.agent.status import StatusManager
from skiff.client import (
    Client,
    EventRecorder,
    NotFound,
    ServerError,
    SharedInformerFactory,
    TransportError,
)
from skiff.network.base import NetworkConfig, PodNetwork
from skiff.runtime.base import Runtime
from skiff.runtime.images.base import ImageService
from skiff.runtime.types import ContainerRuntimeError, ContainerState, ContainerStatus
from skiff.util.clock import Clock, SystemClock, format_epoch_time

__all__ = ["Agent", "AgentOptions", "ClientSourceLookup"]

log = logging.getLogger(__name__)


@dataclass
class AgentOptions:
    node: NodeOptions
    # <data-dir>/agent/<node>: pods/, logs/, state/ beneath it; None keeps nothing on disk
    node_dir: Path | None = None
    cluster_cidr: str = "10.42.0.0/16"
    service_cidr: str = "10.43.0.0/16"
    relist_period: float = 1.0
    pod_cidr_timeout: float = 60.0
    resolve_env: bool = True
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    backoff_reset: float = 600.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pods_dir(self) -> Path | None:
        return None if self.node_dir is None else self.node_dir / "pods"

    @property
    def logs_dir(self) -> Path | None:
        return None if self.node_dir is None else self.node_dir / "logs"


class ClientSourceLookup:
    """ConfigMaps, Secrets and Services for env and volumes, read live through the client."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def config_map(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        try:
            return await self.client.get("configmaps", name, namespace=namespace)
        except NotFound:
            return None

    async def secret(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        try:
            return await self.client.get("secrets", name, namespace=namespace)
        except NotFound:
            return None

    async def services(self, namespace: str) -> list[Mapping[str, Any]]:
        listed = await self.client.list("services", namespace=namespace)
        return list(listed.get("items") or ())


class Agent:
    """The node agent for one node (see the module doc). Implements ``PodLookup``."""

    def __init__(
        self,
        client: Client,
        options: AgentOptions,
        *,
        runtime: Runtime,
        network: PodNetwork,
        images: ImageService,
        clock: Clock | None = None,
        parts: PodParts | None = None,
        facts: HostFacts | None = None,
        pressure: Callable[[], Mapping[str, bool]] | None = None,
    ) -> None:
        self.client = client
        self.options = options
        self.node_name = options.node.name
        self.clock: Clock = clock or SystemClock()
        self.runtime = runtime
        self.network = network
        self.images = images
        if not options.node.runtime_version:
            options.node.runtime_version = runtime.version
        self.facts = facts or host_facts(options.node_dir)
        # real time, whatever the clock: Event names derive from it (a fake clock would collide)
        self.recorder = EventRecorder(client, "kubelet", self.node_name)
        self.lookup = ClientSourceLookup(client)
        self.workers = PodWorkers(self._sync, clock=self.clock, name=f"pods-{self.node_name}")
        self.parts = parts or default_parts(
            runtime,
            clock=self.clock,
            pods_dir=options.pods_dir,
            lookup=self.lookup,
            node_name=self.node_name,
            on_change=self.workers.enqueue,
            on_event=self._event,
            node_ip=options.node.node_ip,
        )
        self.status = StatusManager(client)
        self.syncer = PodSyncer(
            node_name=self.node_name,
            node_ip=options.node.node_ip,
            runtime=runtime,
            network=network,
            images=images,
            parts=self.parts,
            status=self.status,
            events=self._event,
            clock=self.clock,
            logs_dir=options.logs_dir,
            lookup=self.lookup,
            backoff=Backoff(
                initial=options.backoff_initial,
                maximum=options.backoff_max,
                reset_after=options.backoff_reset,
            ),
            image_backoff=Backoff(initial=options.backoff_initial, maximum=options.backoff_max),
            resolve_env=options.resolve_env,
        )
        # pressure: MERGE - the eviction manager's MemoryPressure/DiskPressure/PIDPressure
        self.registration = NodeRegistration(
            client, options.node, self.facts, clock=self.clock, pressure=pressure
        )
        self.leases = LeaseRenewer(client, period=options.node.lease_period, clock=self.clock)
        self.pleg = Pleg(
            runtime, self.workers.enqueue, clock=self.clock, period=options.relist_period
        )
        self.ready = asyncio.Event()
        self.started_at = 0.0

    def _event(self, obj: Mapping[str, Any], type: str, reason: str, message: str) -> None:
        self.recorder.event(obj, type, reason, message)

    async def _sync(self, uid: str) -> float | None:
        return await self.syncer.sync(uid)

    # --- pods from the informer ---

    def _on_pod(self, pod: Mapping[str, Any]) -> None:
        self.workers.enqueue(self.syncer.upsert(pod))

    def _on_update(self, _old: Mapping[str, Any], pod: Mapping[str, Any]) -> None:
        self._on_pod(pod)

    def _on_delete(self, pod: Mapping[str, Any]) -> None:
        self.workers.enqueue(self.syncer.mark_deleted(pod))

    async def run(self) -> None:
        """Register, then run every loop until cancelled."""
        opts = self.options
        async with self.recorder:
            await self.runtime.start()
            try:
                self.started_at = self.clock.time()
                await self._register()
                cidr = await self.registration.wait_for_pod_cidr(timeout=opts.pod_cidr_timeout)
                await self.network.setup_node(
                    NetworkConfig(
                        pod_cidr=cidr,
                        cluster_cidr=opts.cluster_cidr,
                        service_cidr=opts.service_cidr,
                        node_ip=opts.node.node_ip,
                    )
                )
                self.leases.add(
                    self.node_name, self.registration.uid, duration=opts.node.lease_duration
                )
                await self.leases.renew(self.node_name)
                async with SharedInformerFactory(self.client) as factory:
                    pods = factory.informer(
                        "pods", field_selector=f"spec.nodeName={self.node_name}"
                    )
                    factory.start()
                    await factory.wait_for_sync()
                    # the cached pods first (queued; no worker runs yet), then the runtime's
                    # sandboxes, so running containers are found and never started again
                    pods.add_handler(
                        on_add=self._on_pod, on_update=self._on_update, on_delete=self._on_delete
                    )
                    adopted = await self.syncer.adopt()
                    for uid in adopted:
                        self.workers.enqueue(uid)
                    await self.pleg.relist()
                    self.ready.set()
                    log.info(
                        "agent %s ready: runtime %s, podCIDR %s, %d pods re-adopted",
                        self.node_name,
                        self.runtime.version,
                        cidr or "(none)",
                        len(adopted),
                    )
                    async with asyncio.TaskGroup() as tg:
                        tg.create_task(self.workers.run(), name="pod-workers")
                        tg.create_task(self.pleg.run(), name="pleg")
                        tg.create_task(self.leases.run(), name="lease")
                        tg.create_task(self.registration.run_status_loop(), name="node-status")
            finally:
                await self.workers.close()
                await self.parts.probes.close()
                await self.runtime.close()

    def evict(self, pod_uid: str, message: str) -> bool:
        """Evict a pod (the eviction manager calls this): stopped, reported Failed/Evicted."""
        if not self.syncer.evict(pod_uid, message):
            return False
        self.workers.enqueue(pod_uid)
        return True

    async def _register(self) -> None:
        """Register the Node, retrying (1 s doubling to 30 s) while the API server cannot be
        reached or answers with a server error, as kubelet keeps trying."""
        delay = 1.0
        while True:
            try:
                await self.registration.register()
                return
            except (TransportError, ServerError) as e:
                log.warning(
                    "node %s: cannot register yet (%s); retrying in %.0f s",
                    self.node_name,
                    e,
                    delay,
                )
            await self.clock.sleep(delay)
            delay = min(delay * 2, 30.0)

    # --- PodLookup (skiff.agent.server) ---

    def _record(self, namespace: str, name: str) -> PodRecord | None:
        for rec in self.syncer.pods.values():
            if rec.name == name and rec.namespace == namespace and not rec.deleted:
                return rec
        return None

    def _container(
        self, namespace: str, name: str, container: str, previous: bool
    ) -> ContainerStatus | None:
        rec = self._record(namespace, name)
        if rec is None:
            return None
        hist = rec.history(container)
        index = 1 if previous else 0
        return hist[index] if len(hist) > index else None

    def pods(self) -> list[Mapping[str, Any]]:
        """Every pod this agent runs (the ``/pods`` endpoint's items)."""
        return [rec.pod for rec in self.syncer.pods.values() if not rec.deleted]

    def list_pods(self) -> list[Mapping[str, Any]]:
        """`skiff.agent.server.PodLister`: the endpoint's ``/pods``."""
        return self.pods()

    def find_pod(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        rec = self._record(namespace, name)
        return None if rec is None else rec.pod

    def container_id(
        self, namespace: str, name: str, container: str, *, previous: bool = False
    ) -> str | None:
        c = self._container(namespace, name, container, previous)
        return None if c is None else c.id

    def log_path(
        self, namespace: str, name: str, container: str, *, previous: bool = False
    ) -> Path | None:
        c = self._container(namespace, name, container, previous)
        return Path(c.log_path) if c is not None and c.log_path else None

    def sandbox_id(self, namespace: str, name: str) -> str | None:
        rec = self._record(namespace, name)
        return rec.sandbox_id if rec is not None and rec.sandbox_id else None

    async def stats_summary(self) -> dict[str, Any]:
        """The ``/stats/summary`` body: node totals and per-pod, per-container CPU and memory."""
        now = format_epoch_time(self.clock.time())
        pods = []
        node_cpu = node_ws = node_usage = 0
        for rec in list(self.syncer.pods.values()):
            containers = []
            pod_cpu = pod_ws = pod_usage = 0
            for c in rec.containers:
                if c.state is not ContainerState.RUNNING:
                    continue
                try:
                    stats = await self.runtime.container_stats(c.id)
                except ContainerRuntimeError:
                    stats = None
                if stats is None:
                    continue
                pod_cpu += stats.cpu_usage_ns
                pod_ws += stats.memory_working_set_bytes
                pod_usage += stats.memory_usage_bytes
                containers.append(
                    {
                        "name": c.name,
                        "startTime": format_epoch_time(c.started_at),
                        "cpu": {"time": now, "usageCoreNanoSeconds": stats.cpu_usage_ns},
                        "memory": {
                            "time": now,
                            "usageBytes": stats.memory_usage_bytes,
                            "workingSetBytes": stats.memory_working_set_bytes,
                            "rssBytes": stats.memory_rss_bytes,
                        },
                    }
                )
            node_cpu += pod_cpu
            node_ws += pod_ws
            node_usage += pod_usage
            pods.append(
                {
                    "podRef": {"name": rec.name, "namespace": rec.namespace, "uid": rec.uid},
                    "startTime": format_epoch_time(rec.start_time or self.started_at),
                    "containers": containers,
                    "cpu": {"time": now, "usageCoreNanoSeconds": pod_cpu},
                    "memory": {"time": now, "usageBytes": pod_usage, "workingSetBytes": pod_ws},
                }
            )
        return {
            "node": {
                "nodeName": self.node_name,
                "startTime": format_epoch_time(self.started_at),
                "cpu": {"time": now, "usageCoreNanoSeconds": node_cpu},
                "memory": {"time": now, "usageBytes": node_usage, "workingSetBytes": node_ws},
            },
            "pods": pods,
        }
