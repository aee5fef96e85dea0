"""ttl-after-finished: delete a finished Job ``ttlSecondsAfterFinished`` after it finished.

Kubernetes 1.32's ``pkg/controller/ttlafterfinished``: a Job with ``spec.ttlSecondsAfterFinished``
and a ``Complete`` or ``Failed`` condition expires at its finish time (``completionTime``, else the
terminal condition's ``lastTransitionTime``) plus the TTL. Until then the key is looked at again
when it expires (on the injected clock). When it has expired, a live GET confirms it (the TTL may
have been changed since the cache saw it) and the Job is deleted with foreground propagation and
a uid precondition, so its pods go first (the garbage collector deletes them) and a new Job of the
same name is never hit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from skiff.client import FrozenDict, NotFound, Preconditions, WorkQueue, object_key, resolve
from skiff.controllers.base import ControllerContext, epoch_of, meta_of, run_workers, split_key

__all__ = ["TTLAfterFinishedController", "expires_at"]

log = logging.getLogger("skiff.controllers.ttlafterfinished")

JOBS = resolve(("batch/v1", "Job"))


def _finish_time(job: Mapping[str, Any]) -> float | None:
    status = job.get("status") or {}
    for cond in status.get("conditions") or ():
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            return epoch_of(status.get("completionTime") or cond.get("lastTransitionTime"))
    return None


def expires_at(job: Mapping[str, Any]) -> float | None:
    """When ``job`` is due for deletion (epoch seconds), or None (no TTL, or not finished)."""
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    if not isinstance(ttl, int) or meta_of(job).get("deletionTimestamp"):
        return None
    finished = _finish_time(job)
    return None if finished is None else finished + ttl


class TTLAfterFinishedController:
    name = "ttl-after-finished-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.clock = ctx.clock
        self.workers = ctx.options.workers
        self.queue: WorkQueue[str] = WorkQueue(name=self.name, clock=ctx.clock)
        self.jobs = ctx.factory.informer(JOBS)
        self.jobs.add_handler(
            on_add=self._changed, on_update=lambda _o, n: self._changed(n), on_delete=None
        )

    def _changed(self, job: FrozenDict) -> None:
        if expires_at(job) is not None:
            self.queue.add(object_key(job))

    async def run(self) -> None:
        try:
            await run_workers(self.queue, self.sync, self.workers, name=self.name)
        finally:
            self.queue.shut_down()

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        job = self.jobs.lister.get(name, namespace=namespace)
        if job is None:
            return
        due = expires_at(job)
        if due is None:
            return
        now = self.clock.time()
        if due > now:
            self.queue.add_after(key, due - now)
            return
        try:
            fresh = await self.client.get(JOBS, name, namespace=namespace)
        except NotFound:
            return
        due = expires_at(fresh)
        if due is None:
            return
        if due > now:
            self.queue.add_after(key, due - now)
            return
        uid = str(meta_of(fresh).get("uid") or "")
        log.info("%s: deleting Job %s, finished and past its TTL", self.name, key)
        try:
            await self.client.delete(
                JOBS,
                name,
                namespace=namespace,
                propagation_policy="Foreground",
                preconditions=Preconditions(uid=uid),
            )
        except NotFound:
            return
