"""Running a `Scheduler` under leader election (Lease ``kube-system/kube-scheduler``).

`SchedulerRunner.run` competes for the Lease and runs the scheduler only while it holds it, so
several schedulers can run and exactly one acts; losing the Lease stops the scheduler and ends
`run` with `LeadershipLost` (the process exits and its supervisor starts it again as a
candidate), as kube-scheduler does. ``ready`` is set once the scheduler runs with synced
informers (leader) or another leader has been observed (standby). The leader-election part is
`skiff.client.LeaderElectedComponent`, shared with the controller-manager.
"""

from __future__ import annotations

import asyncio
from typing import Unpack

from skiff.client import Client, LeaderElectedComponent, LeaderElection, LeadershipLost
from skiff.scheduler.config import SchedulerConfig
from skiff.scheduler.metrics import SchedulerMetrics
from skiff.scheduler.scheduler import Scheduler

__all__ = ["LEASE_NAME", "LEASE_NAMESPACE", "LeadershipLost", "SchedulerRunner"]

LEASE_NAME = "kube-scheduler"
LEASE_NAMESPACE = "kube-system"


class SchedulerRunner(LeaderElectedComponent):
    lease_name = LEASE_NAME
    lease_namespace = LEASE_NAMESPACE
    component = "scheduler"

    def __init__(
        self,
        client: Client,
        *,
        config: SchedulerConfig | None = None,
        metrics: SchedulerMetrics | None = None,
        bind_concurrency: int = 128,
        **election: Unpack[LeaderElection],
    ) -> None:
        super().__init__(client, **election)
        self.config = config
        self.metrics = metrics or SchedulerMetrics()
        self.scheduler: Scheduler | None = None
        self.bind_concurrency = bind_concurrency

    async def lead(self) -> None:
        await self.run_scheduler()

    async def run_scheduler(self) -> None:
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
                self.set_ready()
            await task
        finally:
            waiter.cancel()
            task.cancel()
            await asyncio.gather(task, waiter, return_exceptions=True)
