"""Running a `Scheduler` under leader election (Lease ``kube-system/kube-scheduler``).

`SchedulerRunner.run` competes for the Lease and runs the scheduler only while it holds it, so
several schedulers can run and exactly one acts; losing the Lease stops the scheduler and ends
`run` with `LeadershipLost` (the process exits and its supervisor starts it again as a
candidate), as kube-scheduler does. ``ready`` is set once the scheduler runs with synced
informers (leader) or another leader has been observed (standby).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Callable

from skiff.client import Client, LeaderElector
from skiff.scheduler.config import SchedulerConfig
from skiff.scheduler.metrics import SchedulerMetrics
from skiff.scheduler.scheduler import Scheduler
from skiff.util.clock import Clock, SystemClock

__all__ = ["LEASE_NAME", "LEASE_NAMESPACE", "LeadershipLost", "SchedulerRunner"]

log = logging.getLogger("skiff.scheduler.runner")

LEASE_NAME = "kube-scheduler"
LEASE_NAMESPACE = "kube-system"


class LeadershipLost(Exception):
    """This scheduler led and stopped leading."""


class SchedulerRunner:
    def __init__(
        self,
        client: Client,
        *,
        config: SchedulerConfig | None = None,
        clock: Clock | None = None,
        metrics: SchedulerMetrics | None = None,
        leader_elect: bool = True,
        identity: str | None = None,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        on_ready: Callable[[], None] | None = None,
        bind_concurrency: int = 128,
    ) -> None:
        self.client = client
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.metrics = metrics or SchedulerMetrics()
        self.leader_elect = leader_elect
        self.identity = identity or f"{socket.gethostname()}_{uuid.uuid4()}"
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.ready = asyncio.Event()
        self.leading = asyncio.Event()
        self.scheduler: Scheduler | None = None
        self._on_ready = on_ready
        self.bind_concurrency = bind_concurrency

    def _set_ready(self) -> None:
        if not self.ready.is_set():
            self.ready.set()
            if self._on_ready is not None:
                self._on_ready()

    async def run(self) -> None:
        if not self.leader_elect:
            await self.run_scheduler()
            return
        elector = LeaderElector(
            self.client,
            name=LEASE_NAME,
            namespace=LEASE_NAMESPACE,
            identity=self.identity,
            lease_duration=self.lease_duration,
            renew_deadline=self.renew_deadline,
            retry_period=self.retry_period,
            clock=self.clock,
        )

        def on_new_leader(holder: str) -> None:
            if holder != self.identity:
                log.info("scheduler %s is the leader; standing by", holder)
                self._set_ready()

        await elector.run(self.run_scheduler, on_new_leader=on_new_leader)
        raise LeadershipLost(f"{self.identity} lost the lease {LEASE_NAMESPACE}/{LEASE_NAME}")

    async def run_scheduler(self) -> None:
        self.leading.set()
        try:
            scheduler = Scheduler(
                self.client,
                config=self.config,
                clock=self.clock,
                metrics=self.metrics,
                bind_concurrency=self.bind_concurrency,
            )
            self.scheduler = scheduler
            task = asyncio.create_task(scheduler.run(), name="scheduler")
            waiter = asyncio.create_task(scheduler.ready.wait())
            try:
                await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if scheduler.ready.is_set():
                    self._set_ready()
                await task
            finally:
                waiter.cancel()
                task.cancel()
                await asyncio.gather(task, waiter, return_exceptions=True)
        finally:
            self.leading.clear()
