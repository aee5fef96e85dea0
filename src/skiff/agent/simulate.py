"""``skiff agent --simulate N``: N fake nodes in one process (kwok's idea), for scale tests.

Nodes are ``<prefix>-0`` .. ``<prefix>-(N-1)``; each has its own Node object (capacity, labels and
taints from the flags), its own Lease, its own `FakeRuntime` and `FakeNetwork` (IPs from its
podCIDR), and runs its pods through the same `PodSyncer` as a real agent, so pods go through the
same status path. What is shared, so thousands of nodes stay cheap:

- one client (one connection pool, one credential) and ONE pod watch: all pods with
  ``spec.nodeName`` set, dispatched by node name;
- one pod-worker queue (keys are pod uids), one event recorder, one status manager;
- one `LeaseRenewer` loop renewing every node's Lease, each started at its own moment of the
  period (a sliding window of ``lease_concurrency`` requests, not batches waiting for their slowest
  member) over a client of its own: a busy pod status path must not delay Leases (each real
  kubelet has its own connection; 900 nodes queueing behind one pool were declared dead);
- one node-status loop (a node's status is written when it changed or once per report period);
- one PLEG loop: fake runtimes announce containers that end by themselves, and only those nodes
  are relisted; every node is relisted every ``relist_period`` as a backstop;
- one `FakeTimers` task for every fake container's timed exit.

No task exists per node.

Measured (2-core machine shared with other work, 6 December 2026; ``skiff agent --simulate N
--lease-period 10`` against a ``skiff apiserver`` process with ``--cluster-cidr 10.64.0.0/10``):
1,000 nodes registered in 12.7 s, then 2.1 % of a core for the simulator and 6.0 % for the API
server; 5,000 nodes in 55 s (bound by the API server's podCIDR allocation, which answers
concurrent allocations with Conflict), then 9.1 % / 29.4 % of a core at 500 Lease writes/s,
160 MiB RSS for the simulator. The default 2 s lease period multiplies the write rate by five:
scale runs pass a longer one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from skiff.agent.backoff import Backoff
from skiff.agent.kuberuntime import PodSyncer
from skiff.agent.node import HostFacts, LeaseRenewer, NodeOptions, NodeRegistration, host_facts
from skiff.agent.parts import fallback_parts
from skiff.agent.pleg import Pleg
from skiff.agent.podworkers import PodWorkers
from skiff.agent.status import StatusManager
from skiff.client import ApiError, Client, EventRecorder, SharedInformerFactory, TransportError
from skiff.network.base import NetworkConfig
from skiff.network.fake import FakeNetwork
from skiff.runtime.fake import FakeImages, FakeRuntime, FakeTimers
from skiff.util.clock import Clock, SystemClock, wait_event

__all__ = ["SimulateOptions", "SimulatedNode", "Simulator"]

log = logging.getLogger(__name__)

# podCIDRs for nodes the API server gave none (a cluster CIDR too small for N nodes): fake IPs
# from the shared address space, one /24 per node, so pods still get addresses
_FALLBACK_SPACE = ipaddress.ip_network("100.64.0.0/10")


@dataclass
class SimulateOptions:
    count: int
    prefix: str
    node: NodeOptions  # template: name ignored; capacity, labels, taints, periods
    data_dir: Path | None = None  # <data-dir>/agent: per-node fake state beneath it
    relist_period: float = 10.0
    concurrency: int = 32  # requests in flight for node status updates
    lease_concurrency: int = 64  # Lease renewals in flight (over their own connections)
    register_concurrency: int = 32
    pod_cidr_timeout: float = 5.0
    cluster_cidr: str = "10.42.0.0/16"
    service_cidr: str = "10.43.0.0/16"
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    # Normal events (Pulled, Created, Started...) cost three writes per pod; fake nodes send
    # only Warnings unless asked (kwok sends none)
    normal_events: bool = False


@dataclass
class SimulatedNode:
    name: str
    index: int
    registration: NodeRegistration
    runtime: FakeRuntime
    network: FakeNetwork
    syncer: PodSyncer
    pleg: Pleg
    pods: set[str] = field(default_factory=set)


async def _watch_task(task: asyncio.Task[None]) -> None:
    """Wait for ``task`` (started earlier), so its failure ends the task group it joins."""
    await asyncio.shield(task)


class _PacedLeaseRenewer(LeaseRenewer):
    """Every Lease once a period, renewal ``i`` of ``n`` started at ``i/n`` of 80 % of the period,
    at most ``concurrency`` in flight; a slow request delays only its own Lease."""

    async def renew_all(self, *, spread: bool = True) -> None:
        nodes = list(self._leases)
        if not nodes:
            return
        spacing = self.period * 0.8 / len(nodes) if spread else 0.0
        window = asyncio.Semaphore(self.concurrency)
        tasks: list[asyncio.Task[None]] = []

        async def one(node: str) -> None:
            try:
                if node in self._leases:
                    await self.renew(node)
            finally:
                window.release()

        start = self.clock.monotonic()
        for i, node in enumerate(nodes):
            delay = start + i * spacing - self.clock.monotonic()
            if delay > 0.005:
                await self.clock.sleep(delay)
            await window.acquire()
            tasks.append(asyncio.create_task(one(node)))
        await asyncio.gather(*tasks)


class Simulator:
    def __init__(
        self,
        client: Client,
        options: SimulateOptions,
        *,
        clock: Clock | None = None,
        facts: HostFacts | None = None,
    ) -> None:
        self.client = client
        self.options = options
        self.clock: Clock = clock or SystemClock()
        self.facts = facts or host_facts(options.data_dir)
        self.timers = FakeTimers(self.clock)
        self.recorder = EventRecorder(client, "kubelet", options.prefix)
        self.status = StatusManager(client)
        self.workers = PodWorkers(self._sync, clock=self.clock, name="simulated-pods")
        self._lease_client = Client(
            client.config,
            clock=client.clock,
            max_connections=options.lease_concurrency,
            timeout=max(2.0, options.node.lease_period * 2),
            max_retries=1,
            user_agent="skiff-agent-simulate/leases",
        )
        self.leases = _PacedLeaseRenewer(
            self._lease_client,
            period=options.node.lease_period,
            clock=self.clock,
            concurrency=options.lease_concurrency,
        )
        self.images = FakeImages()
        self.nodes: dict[str, SimulatedNode] = {}
        self.owner: dict[str, SimulatedNode] = {}
        self._dirty: set[str] = set()
        self._kick = asyncio.Event()
        self.ready = asyncio.Event()
        for i in range(options.count):
            self._build(i)

    def _build(self, index: int) -> None:
        opts = self.options
        name = f"{opts.prefix}-{index}"
        node_opts = replace(
            opts.node,
            name=name,
            labels=dict(opts.node.labels),
            taints=[dict(t) for t in opts.node.taints],
            runtime_version=FakeRuntime.version,
        )
        state = None if opts.data_dir is None else opts.data_dir / name / "state"
        runtime = FakeRuntime(
            None if state is None else state / "fake", clock=self.clock, timers=self.timers
        )
        runtime.add_listener(lambda: self._mark_dirty(name))
        network = FakeNetwork(None if state is None else state / "network")
        syncer = PodSyncer(
            node_name=name,
            node_ip=node_opts.node_ip,
            runtime=runtime,
            network=network,
            images=self.images,
            parts=fallback_parts(runtime, clock=self.clock, pods_dir=None),
            status=self.status,
            events=self._event,
            clock=self.clock,
            logs_dir=None,
            lookup=None,
            backoff=Backoff(initial=opts.backoff_initial, maximum=opts.backoff_max),
            image_backoff=Backoff(initial=opts.backoff_initial, maximum=opts.backoff_max),
            resolve_env=False,
        )
        pleg = Pleg(runtime, self.workers.enqueue, clock=self.clock, period=opts.relist_period)
        self.nodes[name] = SimulatedNode(
            name=name,
            index=index,
            registration=NodeRegistration(self.client, node_opts, self.facts, clock=self.clock),
            runtime=runtime,
            network=network,
            syncer=syncer,
            pleg=pleg,
        )

    def _event(self, obj: Mapping[str, Any], type: str, reason: str, message: str) -> None:
        if type != "Normal" or self.options.normal_events:
            self.recorder.event(obj, type, reason, message)

    def _mark_dirty(self, name: str) -> None:
        self._dirty.add(name)
        self._kick.set()

    # --- pods ---

    def _node_of(self, pod: Mapping[str, Any]) -> SimulatedNode | None:
        return self.nodes.get(str((pod.get("spec") or {}).get("nodeName") or ""))

    def _on_pod(self, pod: Mapping[str, Any]) -> None:
        node = self._node_of(pod)
        if node is None:
            return
        uid = node.syncer.upsert(pod)
        self.owner[uid] = node
        self.workers.enqueue(uid)

    def _on_update(self, _old: Mapping[str, Any], pod: Mapping[str, Any]) -> None:
        self._on_pod(pod)

    def _on_delete(self, pod: Mapping[str, Any]) -> None:
        node = self._node_of(pod)
        if node is None:
            return
        uid = node.syncer.mark_deleted(pod)
        self.owner[uid] = node
        self.workers.enqueue(uid)

    async def _sync(self, uid: str) -> float | None:
        node = self.owner.get(uid)
        if node is None:
            return None
        delay = await node.syncer.sync(uid)
        if uid not in node.syncer.pods:
            self.owner.pop(uid, None)
        return delay

    # --- loops ---

    async def _batched(
        self,
        items: list[SimulatedNode],
        fn: Callable[[SimulatedNode], Awaitable[None]],
        size: int | None = None,
    ) -> None:
        """``fn`` over ``items`` with at most ``size`` in flight, from one task (a sliding
        window, so one slow request does not hold a whole batch)."""
        limit = size or self.options.concurrency
        pending: set[asyncio.Future[None]] = set()
        for node in items:
            if len(pending) >= limit:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for d in done:
                    d.result()
            pending.add(asyncio.ensure_future(fn(node)))
        if pending:
            await asyncio.gather(*pending)

    async def _register(self, node: SimulatedNode) -> None:
        reg = node.registration
        for attempt in range(5):
            try:
                await reg.register()
                break
            except (ApiError, TransportError) as e:
                log.warning("node %s: registration failed (%s); retrying", node.name, e)
                await self.clock.sleep(0.5 * (attempt + 1))
        else:
            await reg.register()
        cidr = reg.pod_cidr
        if not cidr and self.options.pod_cidr_timeout > 0:
            cidr = await reg.wait_for_pod_cidr(timeout=self.options.pod_cidr_timeout)
        if not cidr:
            base = int(_FALLBACK_SPACE.network_address) + (node.index % 16384) * 256
            cidr = f"{ipaddress.IPv4Address(base)}/24"
            log.warning("node %s has no podCIDR; pods get fake addresses from %s", node.name, cidr)
        await node.runtime.start()
        await node.network.setup_node(
            NetworkConfig(
                pod_cidr=cidr,
                cluster_cidr=self.options.cluster_cidr,
                service_cidr=self.options.service_cidr,
                node_ip=reg.opts.node_ip,
            )
        )
        self.leases.add(node.name, reg.uid, duration=reg.opts.lease_duration)
        # its first Lease now, not after every other node registered (registering thousands
        # takes longer than the node monitor's grace period)
        await self.leases.renew(node.name)

    async def _pleg_loop(self) -> None:
        last_full = self.clock.monotonic()
        while True:
            await wait_event(self.clock, self._kick, self.options.relist_period)
            self._kick.clear()
            if self.clock.monotonic() - last_full >= self.options.relist_period:
                names = list(self.nodes)
                last_full = self.clock.monotonic()
            else:
                names = list(self._dirty)
            self._dirty.clear()
            for name in names:
                await self.nodes[name].pleg.relist()

    async def _status_loop(self) -> None:
        period = self.options.node.status_update_period

        async def one(node: SimulatedNode) -> None:
            try:
                await node.registration.update_status()
            except (ApiError, TransportError) as e:
                log.warning("node %s: status update failed: %s", node.name, e)

        while True:
            await self.clock.sleep(period)
            await self._batched(list(self.nodes.values()), one)

    async def run(self) -> None:
        leases: asyncio.Task[None] | None = None
        async with self._lease_client, self.recorder:
            try:
                started = self.clock.monotonic()
                await self._batched(
                    list(self.nodes.values()), self._register, self.options.register_concurrency
                )
                log.info(
                    "simulate: %d nodes registered in %.1f s",
                    len(self.nodes),
                    self.clock.monotonic() - started,
                )
                # Leases from now on, not after the pod cache synced
                leases = asyncio.create_task(self.leases.run(), name="leases")
                async with SharedInformerFactory(self.client) as factory:
                    pods = factory.informer("pods", field_selector="spec.nodeName!=")
                    factory.start()
                    await factory.wait_for_sync()
                    pods.add_handler(
                        on_add=self._on_pod, on_update=self._on_update, on_delete=self._on_delete
                    )
                    for node in self.nodes.values():
                        for uid in await node.syncer.adopt():
                            self.owner[uid] = node
                            self.workers.enqueue(uid)
                    self.ready.set()
                    async with asyncio.TaskGroup() as tg:
                        tg.create_task(self.workers.run(), name="pod-workers")
                        tg.create_task(self._pleg_loop(), name="pleg")
                        tg.create_task(_watch_task(leases), name="leases")
                        tg.create_task(self._status_loop(), name="node-status")
            finally:
                if leases is not None:
                    leases.cancel()
                    await asyncio.gather(leases, return_exceptions=True)
                await self.workers.close()
                await self.timers.close()
