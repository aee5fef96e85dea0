"""The agent's Node: registration, status, and the heartbeat Lease.

As kubelet does (``pkg/kubelet/kubelet_node_status.go``, ``nodelease``): the Node is created
with its status (capacity, allocatable after reservations, addresses, nodeInfo, daemonEndpoints,
well-known labels, conditions); an existing Node of the same name is taken over (labels and
status refreshed). The agent then waits for the podCIDR the API server allocates. Status is
written again when it changes (checked every ``status_update_period``, 10 s) and at least every
``status_report_period`` (60 s, kubelet: 5 min) to refresh the conditions' heartbeat times; the
Lease ``kube-node-lease/<node>`` is renewed every ``lease_period`` (2 s; kubelet 10 s), owned by
the Node so it goes with it.

`LeaseRenewer` renews many nodes' Leases from one loop (``--simulate``): renewals are spread evenly
over the period with a bounded number in flight, not one task per node.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import random
import shutil
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skiff.api.quantity import Quantity, parse_quantity
from skiff.client import AlreadyExists, ApiError, Client, Conflict, NotFound, TransportError
from skiff.util.clock import Clock, SystemClock, format_epoch_micro_time, format_epoch_time

__all__ = [
    "KUBELET_VERSION",
    "HostFacts",
    "LeaseRenewer",
    "NodeOptions",
    "NodeRegistration",
    "allocatable",
    "build_node",
    "capacity",
    "host_facts",
    "node_labels",
    "node_status",
]

log = logging.getLogger(__name__)

KUBELET_VERSION = "v1.32.0-skiff"
LEASE_NAMESPACE = "kube-node-lease"
# type -> (reason, message) when fine, (reason, message) under pressure
_PRESSURE = {
    "MemoryPressure": (
        ("KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
    ),
    "DiskPressure": (
        ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("KubeletHasDiskPressure", "kubelet has disk pressure"),
    ),
    "PIDPressure": (
        ("KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
    ),
}


@dataclass(frozen=True)
class HostFacts:
    """What the host says about itself (read once; simulated nodes share it)."""

    hostname: str
    cpu: int
    memory_bytes: int
    ephemeral_storage_bytes: int
    boot_id: str
    machine_id: str
    kernel: str
    os_image: str
    operating_system: str
    architecture: str


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def host_facts(data_dir: Path | None = None) -> HostFacts:
    mem = 0
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) * 1024
    try:
        disk = shutil.disk_usage(data_dir if data_dir and data_dir.exists() else "/").total
    except OSError:
        disk = 0
    pretty = ""
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            pretty = line.split("=", 1)[1].strip('"')
    machine = platform.machine()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)
    return HostFacts(
        hostname=socket.gethostname(),
        cpu=os.cpu_count() or 1,
        memory_bytes=mem,
        ephemeral_storage_bytes=disk,
        boot_id=_read("/proc/sys/kernel/random/boot_id"),
        machine_id=_read("/etc/machine-id"),
        kernel=os.uname().release,
        os_image=pretty or "Linux",
        operating_system="linux",
        architecture=arch,
    )


@dataclass
class NodeOptions:
    name: str
    node_ip: str = "127.0.0.1"
    agent_port: int = 10250
    runtime_version: str = ""
    max_pods: int = 110
    # overrides of the host's capacity ("cpu": "32", "memory": "256Gi", ...)
    capacity: dict[str, str] = field(default_factory=dict)
    # system + kube reservations subtracted from capacity for allocatable
    reserved: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[dict[str, Any]] = field(default_factory=list)
    lease_period: float = 2.0
    status_update_period: float = 10.0
    status_report_period: float = 60.0

    @property
    def lease_duration(self) -> int:
        """Seconds a Lease is valid: four renewal periods (kubelet 40 s for 10 s)."""
        return max(1, round(self.lease_period * 4))


def capacity(opts: NodeOptions, facts: HostFacts) -> dict[str, str]:
    cap = {
        "cpu": str(facts.cpu),
        "memory": f"{facts.memory_bytes // 1024}Ki",
        "ephemeral-storage": f"{facts.ephemeral_storage_bytes // 1024}Ki",
        "pods": str(opts.max_pods),
        "hugepages-2Mi": "0",
    }
    cap.update({k: str(parse_quantity(v)) for k, v in opts.capacity.items()})
    return cap


def allocatable(cap: Mapping[str, str], reserved: Mapping[str, str]) -> dict[str, str]:
    """Capacity minus reservations, never below zero (kubelet ``GetNodeAllocatableReservation``)."""
    out: dict[str, str] = {}
    for key, value in cap.items():
        q = parse_quantity(value)
        if key in reserved:
            q = q - parse_quantity(reserved[key])
            if q.sign() < 0:
                q = Quantity(0, q.format)
        out[key] = str(q)
    return out


def _conditions(
    now: float,
    previous: Sequence[Mapping[str, Any]] = (),
    pressure: Mapping[str, bool] | None = None,
) -> list[dict[str, Any]]:
    old = {c.get("type"): c for c in previous}
    stamp = format_epoch_time(now)
    rows = []
    for ctype, (fine, bad) in _PRESSURE.items():
        under = bool((pressure or {}).get(ctype))
        reason, message = bad if under else fine
        rows.append((ctype, "True" if under else "False", reason, message))
    rows.append(("Ready", "True", "KubeletReady", "kubelet is posting ready status"))
    out = []
    for ctype, status, reason, message in rows:
        prev = old.get(ctype)
        transition = (
            prev.get("lastTransitionTime")
            if prev is not None and prev.get("status") == status and prev.get("lastTransitionTime")
            else stamp
        )
        out.append(
            {
                "type": ctype,
                "status": status,
                "lastHeartbeatTime": stamp,
                "lastTransitionTime": transition,
                "reason": reason,
                "message": message,
            }
        )
    return out


def node_labels(opts: NodeOptions, facts: HostFacts) -> dict[str, str]:
    return {
        "kubernetes.io/hostname": opts.name,
        "kubernetes.io/os": facts.operating_system,
        "kubernetes.io/arch": facts.architecture,
        "beta.kubernetes.io/os": facts.operating_system,
        "beta.kubernetes.io/arch": facts.architecture,
        **opts.labels,
    }


def node_status(
    opts: NodeOptions,
    facts: HostFacts,
    now: float,
    previous: Sequence[Mapping[str, Any]] = (),
    pressure: Mapping[str, bool] | None = None,
) -> dict[str, Any]:
    cap = capacity(opts, facts)
    return {
        "capacity": cap,
        "allocatable": allocatable(cap, opts.reserved),
        "conditions": _conditions(now, previous, pressure),
        "addresses": [
            {"type": "InternalIP", "address": opts.node_ip},
            {"type": "Hostname", "address": opts.name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": opts.agent_port}},
        "nodeInfo": {
            "machineID": facts.machine_id,
            "systemUUID": facts.machine_id,
            "bootID": facts.boot_id,
            "kernelVersion": facts.kernel,
            "osImage": facts.os_image,
            "containerRuntimeVersion": opts.runtime_version,
            "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": "",
            "operatingSystem": facts.operating_system,
            "architecture": facts.architecture,
        },
    }


def build_node(opts: NodeOptions, facts: HostFacts, now: float) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if opts.taints:
        spec["taints"] = [dict(t) for t in opts.taints]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": opts.name, "labels": node_labels(opts, facts)},
        "spec": spec,
        "status": node_status(opts, facts, now),
    }


def _without_heartbeats(status: Mapping[str, Any]) -> Any:
    conds = [
        {k: v for k, v in c.items() if k != "lastHeartbeatTime"}
        for c in status.get("conditions", ())
    ]
    return {**status, "conditions": conds}


class NodeRegistration:
    """One Node object: register, wait for the podCIDR, keep its status fresh."""

    def __init__(
        self,
        client: Client,
        opts: NodeOptions,
        facts: HostFacts,
        *,
        clock: Clock | None = None,
        extra_status: Callable[[], Mapping[str, Any]] | None = None,
        pressure: Callable[[], Mapping[str, bool]] | None = None,
    ) -> None:
        self.client = client
        self.opts = opts
        self.facts = facts
        self.clock: Clock = clock or SystemClock()
        self.extra_status = extra_status
        # {"MemoryPressure": bool, "DiskPressure": bool, "PIDPressure": bool}; MERGE: the
        # eviction manager (skiff.agent.eviction) answers this
        self.pressure = pressure
        self.node: dict[str, Any] = {}
        self._last_status: dict[str, Any] = {}
        self._last_report = 0.0

    @property
    def uid(self) -> str:
        return str(self.node.get("metadata", {}).get("uid", ""))

    @property
    def pod_cidr(self) -> str:
        return str(self.node.get("spec", {}).get("podCIDR") or "")

    async def register(self) -> dict[str, Any]:
        """Create the Node, or take over an existing one of this name."""
        body = build_node(self.opts, self.facts, self.clock.time())
        try:
            self.node = await self._create(body)
            # created together with its status (the API server keeps it)
            self._last_status = body["status"]
            self._last_report = self.clock.monotonic()
            if self.node.get("status", {}).get("nodeInfo"):
                log.debug("node %s registered (uid %s)", self.opts.name, self.uid)
                return self.node
        except AlreadyExists:
            existing = await self.client.get("nodes", self.opts.name)
            labels = {
                **(existing.get("metadata", {}).get("labels") or {}),
                **body["metadata"]["labels"],
            }
            patch: dict[str, Any] = {"metadata": {"labels": labels}}
            if self.opts.taints:
                patch["spec"] = {"taints": body["spec"]["taints"]}
            self.node = await self.client.patch("nodes", self.opts.name, patch)
        await self.update_status(force=True)
        log.debug("node %s registered (uid %s)", self.opts.name, self.uid)
        return self.node

    async def _create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST the Node; a Conflict (the API server's podCIDR allocator answers "too many
        concurrent allocations; retry" when many nodes register at once) is retried after a
        short, jittered, growing pause."""
        delay = 0.05
        for _ in range(30):
            try:
                return await self.client.create("nodes", body)
            except Conflict:
                await self.clock.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)
        return await self.client.create("nodes", body)

    async def wait_for_pod_cidr(self, *, timeout: float = 60.0, interval: float = 0.5) -> str:  # noqa: ASYNC109 - clock time
        """The node's podCIDR, once the API server has allocated it ("" after ``timeout``)."""
        deadline = self.clock.monotonic() + timeout
        while not self.pod_cidr:
            if self.clock.monotonic() >= deadline:
                log.warning("node %s: no podCIDR after %.0f s", self.opts.name, timeout)
                return ""
            await self.clock.sleep(interval)
            self.node = await self.client.get("nodes", self.opts.name)
        return self.pod_cidr

    def desired_status(self) -> dict[str, Any]:
        previous = self._last_status.get("conditions") or self.node.get("status", {}).get(
            "conditions", ()
        )
        pressure = self.pressure() if self.pressure is not None else None
        status = node_status(self.opts, self.facts, self.clock.time(), previous, pressure)
        if self.extra_status is not None:
            status.update(self.extra_status())
        return status

    async def update_status(self, *, force: bool = False) -> bool:
        """Write status when it changed or the report period passed; True when written."""
        status = self.desired_status()
        now = self.clock.monotonic()
        changed = _without_heartbeats(status) != _without_heartbeats(self._last_status)
        if not (force or changed or now - self._last_report >= self.opts.status_report_period):
            return False
        self.node = await self.client.patch_status(
            "nodes", self.opts.name, {"status": status}, patch_type="merge"
        )
        self._last_status = status
        self._last_report = now
        return True

    async def server_disagrees(self) -> bool:
        """Whether the Node as stored says something else about a condition than this agent
        would write (kubelet compares with the stored Node too): the node lifecycle controller
        marks a node Unknown when heartbeats stop, and a recovered agent must set it back at its
        next check, not only after the report period."""
        node = await self.client.get("nodes", self.opts.name)
        stored = {
            c.get("type"): c.get("status")
            for c in (node.get("status") or {}).get("conditions") or []
        }
        desired = {c["type"]: c["status"] for c in self.desired_status().get("conditions") or []}
        return any(stored.get(t) != status for t, status in desired.items())

    async def run_status_loop(self) -> None:
        while True:
            await self.clock.sleep(self.opts.status_update_period)
            try:
                if not await self.update_status() and await self.server_disagrees():
                    await self.update_status(force=True)
            except NotFound:
                log.warning("node %s was deleted; registering it again", self.opts.name)
                try:
                    await self.register()
                except (ApiError, TransportError) as e:
                    log.warning("node %s: registration failed: %s", self.opts.name, e)
            except (ApiError, TransportError) as e:
                log.warning("node %s: status update failed: %s", self.opts.name, e)


@dataclass
class _LeaseState:
    node: str
    node_uid: str
    duration: int
    resource_version: str = ""
    exists: bool = False
    renewals: int = 0


class LeaseRenewer:
    """Renews the Leases of one or many nodes every ``period`` from a single loop."""

    def __init__(
        self,
        client: Client,
        *,
        period: float = 2.0,
        clock: Clock | None = None,
        concurrency: int = 32,
    ) -> None:
        self.client = client
        self.period = period
        self.clock: Clock = clock or SystemClock()
        self.concurrency = concurrency
        self._leases: dict[str, _LeaseState] = {}
        self.failures = 0

    def add(self, node: str, node_uid: str, *, duration: int | None = None) -> None:
        self._leases[node] = _LeaseState(
            node, node_uid, duration if duration is not None else max(1, round(self.period * 4))
        )

    def remove(self, node: str) -> None:
        self._leases.pop(node, None)

    def renewals(self, node: str) -> int:
        state = self._leases.get(node)
        return 0 if state is None else state.renewals

    def _body(self, state: _LeaseState, now: float) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": state.node, "namespace": LEASE_NAMESPACE}
        if state.node_uid:
            meta["ownerReferences"] = [
                {"apiVersion": "v1", "kind": "Node", "name": state.node, "uid": state.node_uid}
            ]
        if state.resource_version:
            meta["resourceVersion"] = state.resource_version
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": meta,
            "spec": {
                "holderIdentity": state.node,
                "leaseDurationSeconds": state.duration,
                "renewTime": format_epoch_micro_time(now),
            },
        }

    async def renew(self, node: str) -> None:
        state = self._leases[node]
        now = self.clock.time()
        try:
            if state.exists:
                try:
                    lease = await self.client.update(
                        "leases", self._body(state, now), namespace=LEASE_NAMESPACE
                    )
                except (Conflict, NotFound):
                    state.exists = False
                    state.resource_version = ""
                    raise
            else:
                try:
                    lease = await self.client.create(
                        "leases", self._body(state, now), namespace=LEASE_NAMESPACE
                    )
                except AlreadyExists:
                    current = await self.client.get("leases", node, namespace=LEASE_NAMESPACE)
                    state.resource_version = current["metadata"]["resourceVersion"]
                    lease = await self.client.update(
                        "leases", self._body(state, now), namespace=LEASE_NAMESPACE
                    )
            state.exists = True
            state.resource_version = lease["metadata"]["resourceVersion"]
            state.renewals += 1
        except (ApiError, TransportError) as e:
            self.failures += 1
            log.warning("lease of node %s not renewed: %s", node, e)

    async def renew_all(self, *, spread: bool = True) -> None:
        """Renew every Lease once: in batches of ``concurrency``, the batches spread over most
        of one period (``spread``) so thousands of nodes do not all write at once."""
        nodes = list(self._leases)
        if not nodes:
            return
        batches = -(-len(nodes) // self.concurrency)
        spacing = self.period * 0.8 / batches if batches > 1 and spread else 0.0
        start = self.clock.monotonic()
        for b in range(batches):
            delay = start + b * spacing - self.clock.monotonic()
            if delay > 0:
                await self.clock.sleep(delay)
            batch = nodes[b * self.concurrency : (b + 1) * self.concurrency]
            await asyncio.gather(*(self.renew(n) for n in batch if n in self._leases))

    async def run(self) -> None:
        while True:
            started = self.clock.monotonic()
            await self.renew_all()
            elapsed = self.clock.monotonic() - started
            await self.clock.sleep(max(0.0, self.period - elapsed))
