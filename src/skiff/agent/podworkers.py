"""Pod workers: every pod's syncs run one at a time, different pods' concurrently (kubelet
``pod_workers.go``).

A `WorkQueue` keyed by pod uid gives the serialisation (an item is not handed out again while it
is being synced; one re-added meanwhile is synced once more afterwards) and the delays (a sync
returns when it wants to run again; failures retry with the queue's per-item back-off). One
dispatcher task hands each key to its own short-lived task, so a pod waiting out a grace period
never holds up another pod; there is no task per idle pod.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from skiff.client import ApiError, ItemExponentialRateLimiter, ShutDown, TransportError, WorkQueue
from skiff.util.clock import Clock, SystemClock

__all__ = ["PodWorkers"]

log = logging.getLogger(__name__)

SyncFunc = Callable[[str], Awaitable[float | None]]


class PodWorkers:
    def __init__(
        self, sync: SyncFunc, *, clock: Clock | None = None, name: str = "pod-workers"
    ) -> None:
        self.sync = sync
        self.clock: Clock = clock or SystemClock()
        self.queue: WorkQueue[str] = WorkQueue(
            name=name,
            rate_limiter=ItemExponentialRateLimiter(0.05, 10.0),
            clock=self.clock,
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self.syncs = 0
        self.failures = 0

    def enqueue(self, uid: str) -> None:
        self.queue.add(uid)

    def enqueue_after(self, uid: str, delay: float) -> None:
        if delay <= 0:
            self.queue.add(uid)
        else:
            self.queue.add_after(uid, delay)

    @property
    def active(self) -> int:
        return len(self._tasks)

    async def run(self) -> None:
        try:
            while True:
                try:
                    uid = await self.queue.get()
                except ShutDown:
                    return
                task = asyncio.create_task(self._work(uid), name=f"pod-sync-{uid}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        finally:
            await self.close()

    async def _work(self, uid: str) -> None:
        delay: float | None = None
        failed = False
        try:
            delay = await self.sync(uid)
        except (ApiError, TransportError) as e:
            failed = True
            log.warning("sync of pod %s failed: %s", uid, e)
        except Exception:
            failed = True
            log.exception("sync of pod %s failed", uid)
        finally:
            self.syncs += 1
            if failed:
                self.failures += 1
                self.queue.add_rate_limited(uid)
            else:
                self.queue.forget(uid)
            self.queue.done(uid)
        if delay is not None and not failed:
            self.enqueue_after(uid, delay)

    async def close(self) -> None:
        self.queue.shut_down()
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
