"""The controller-manager: which controllers exist, which run, and leader election around them.

`CONTROLLERS` names every controller (Kubernetes' 1.32 names, with their older short names as
`ALIASES`). `enabled_controllers` reads a ``--controllers`` list as kube-controller-manager does:
``*`` turns on every controller that is on by default, ``foo`` turns one on, ``-foo`` turns one
off; the first entry naming a controller decides; an unknown name is an error.

`ControllerManager.run` either runs the controllers directly (``leader_elect=False``) or competes
for the Lease ``kube-system/kube-controller-manager`` and runs them only while it leads, so several
controller-managers can run and exactly one acts. Losing the lease stops the controllers and ends
`run` with `LeadershipLost` (the process exits, as kube-controller-manager does, and its supervisor
starts it again as a candidate). That part is `skiff.client.LeaderElectedComponent`, shared with
the scheduler.

Running the controllers: one `SharedInformerFactory` and one `EventRecorder` are shared by all;
each controller's factory requests its informers; the factory starts and syncs; then every
controller's ``run`` is a task of one TaskGroup. `ControllerManager.ready` is set once the
controllers run (leader) or another leader has been seen (standby).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Sequence
from typing import Unpack

from skiff.client import (
    Client,
    EventRecorder,
    LeaderElectedComponent,
    LeaderElection,
    LeadershipLost,
    SharedInformerFactory,
    default_identity,
)
from skiff.controllers.base import Controller, ControllerContext, ControllerOptions
from skiff.controllers.cronjob import CronJobController
from skiff.controllers.daemonset import DaemonSetController
from skiff.controllers.deployment import DeploymentController
from skiff.controllers.disruption import DisruptionController
from skiff.controllers.eventttl import EventTTLController
from skiff.controllers.garbagecollector import GarbageCollector
from skiff.controllers.job import JobController
from skiff.controllers.namespace import NamespaceController
from skiff.controllers.nodelifecycle import NodeLifecycleController
from skiff.controllers.podgc import PodGarbageCollector
from skiff.controllers.replicaset import ReplicaSetController, ReplicationManager
from skiff.controllers.rootcacert import RootCACertPublisher
from skiff.controllers.serviceaccount import ServiceAccountsController
from skiff.controllers.statefulset import StatefulSetController
from skiff.controllers.ttlafterfinished import TTLAfterFinishedController

__all__ = [
    "ALIASES",
    "CONTROLLERS",
    "ControllerManager",
    "LeadershipLost",
    "default_identity",
    "enabled_controllers",
]

log = logging.getLogger("skiff.controllers.manager")

ControllerFactory = Callable[[ControllerContext], Controller]

CONTROLLERS: dict[str, ControllerFactory] = {
    "serviceaccount-controller": ServiceAccountsController,
    "root-ca-certificate-publisher-controller": RootCACertPublisher,
    "namespace-controller": NamespaceController,
    "garbage-collector-controller": GarbageCollector,
    "disruption-controller": DisruptionController,
    "event-ttl-controller": EventTTLController,
    "replicaset-controller": ReplicaSetController,
    "replicationcontroller-controller": ReplicationManager,
    "deployment-controller": DeploymentController,
    "daemonset-controller": DaemonSetController,
    "statefulset-controller": StatefulSetController,
    "job-controller": JobController,
    "cronjob-controller": CronJobController,
    "ttl-after-finished-controller": TTLAfterFinishedController,
    "node-lifecycle-controller": NodeLifecycleController,
    "pod-garbage-collector-controller": PodGarbageCollector,
}
"""Every controller by name, in start order."""

ALIASES: dict[str, str] = {
    "serviceaccount": "serviceaccount-controller",
    "root-ca-cert-publisher": "root-ca-certificate-publisher-controller",
    "namespace": "namespace-controller",
    "garbagecollector": "garbage-collector-controller",
    "disruption": "disruption-controller",
    "eventttl": "event-ttl-controller",
    "replicaset": "replicaset-controller",
    "replicationcontroller": "replicationcontroller-controller",
    "deployment": "deployment-controller",
    "daemonset": "daemonset-controller",
    "statefulset": "statefulset-controller",
    "job": "job-controller",
    "cronjob": "cronjob-controller",
    "ttl-after-finished": "ttl-after-finished-controller",
    "nodelifecycle": "node-lifecycle-controller",
    "podgc": "pod-garbage-collector-controller",
}
"""kube-controller-manager's names from before 1.28, still accepted."""

DISABLED_BY_DEFAULT: frozenset[str] = frozenset()

LEASE_NAME = "kube-controller-manager"
LEASE_NAMESPACE = "kube-system"


def enabled_controllers(spec: Sequence[str]) -> list[str]:
    """The controllers a ``--controllers`` list turns on, in start order.

    Raises ``ValueError`` naming the first unknown controller.
    """
    entries: list[str] = []
    for raw in spec:
        entry = raw.strip()
        if not entry:
            continue
        if entry == "*":
            entries.append(entry)
            continue
        negated = entry.startswith("-")
        name = entry[1:] if negated else entry
        name = ALIASES.get(name, name)
        if name not in CONTROLLERS:
            raise ValueError(
                f'"{name}" is not in the list of known controllers: {", ".join(sorted(CONTROLLERS))}'
            )
        entries.append(f"-{name}" if negated else name)
    return [name for name in CONTROLLERS if _enabled(name, entries)]


def _enabled(name: str, entries: list[str]) -> bool:
    star = False
    for entry in entries:
        if entry == name:
            return True
        if entry == f"-{name}":
            return False
        star = star or entry == "*"
    return star and name not in DISABLED_BY_DEFAULT


class ControllerManager(LeaderElectedComponent):
    """Runs the enabled controllers against one API server, optionally under leader election."""

    lease_name = LEASE_NAME
    lease_namespace = LEASE_NAMESPACE
    component = "controller-manager"

    def __init__(
        self,
        client: Client,
        *,
        controllers: Sequence[str] = ("*",),
        options: ControllerOptions | None = None,
        **election: Unpack[LeaderElection],
    ) -> None:
        super().__init__(client, **election)
        self.names = enabled_controllers(controllers)
        self.options = options or ControllerOptions()
        self.controllers: list[Controller] = []

    async def lead(self) -> None:
        await self.run_controllers()

    async def run_controllers(self) -> None:
        """Build the enabled controllers, sync their informers, run them until cancelled."""
        async with (
            EventRecorder(self.client, "controller-manager", socket.gethostname()) as recorder,
            SharedInformerFactory(self.client, clock=self.clock) as factory,
        ):
            ctx = ControllerContext(self.client, factory, recorder, self.clock, self.options)
            self.controllers = [CONTROLLERS[name](ctx) for name in self.names]
            factory.start()
            await factory.wait_for_sync()
            log.info(
                "controller-manager %s (pid %d) running: %s",
                self.identity,
                os.getpid(),
                ", ".join(self.names) or "no controllers",
            )
            self.set_ready()
            async with asyncio.TaskGroup() as tg:
                for controller in self.controllers:
                    tg.create_task(controller.run(), name=controller.name)
