"""Event expiry: delete Events that last happened more than ``--event-ttl`` ago.

Kubernetes gives every Event an etcd lease (``--event-ttl``, 1 h), so the store forgets it. skiff's
store has no TTLs, so this is a periodic, paged sweep in the controller-manager instead: every
``event_sweep_interval`` seconds it lists Events across all namespaces, 500 at a time, and deletes
those whose last occurrence (``lastTimestamp``, else ``series.lastObservedTime``, ``eventTime``,
``creationTimestamp``) is older than the TTL. Each delete carries the resourceVersion that was
read as a precondition, so an Event that is being aggregated (``count + 1``) right now survives.

There is no work queue: the sweep is time-driven, not keyed; it waits on the injected clock.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from skiff.client import (
    ApiError,
    Conflict,
    Expired,
    NotFound,
    Preconditions,
    TransportError,
    resolve,
)
from skiff.controllers.base import ControllerContext, epoch_of, meta_of

__all__ = ["EventTTLController", "last_occurrence"]

log = logging.getLogger("skiff.controllers.eventttl")

EVENTS = resolve(("v1", "Event"))
PAGE = 500


def last_occurrence(event: Mapping[str, Any]) -> float | None:
    """When the Event last happened (Unix seconds), or None if it carries no readable time."""
    meta = meta_of(event)
    last = (
        event.get("lastTimestamp")
        or (event.get("series") or {}).get("lastObservedTime")
        or event.get("eventTime")
        or meta.get("creationTimestamp")
    )
    return epoch_of(last)


class EventTTLController:
    name = "event-ttl-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.clock = ctx.clock
        self.ttl = ctx.options.event_ttl
        self.interval = ctx.options.event_sweep_interval

    async def run(self) -> None:
        while True:
            await self.clock.sleep(self.interval)
            try:
                expired = await self.sweep()
            except (ApiError, TransportError) as exc:
                log.warning("expiring events failed (%s); trying again later", exc)
            else:
                if expired:
                    log.info("deleted %d expired events", expired)

    async def sweep(self) -> int:
        """One pass over every Event; returns how many were deleted."""
        cutoff = self.clock.time() - self.ttl
        expired = 0
        token: str | None = None
        while True:
            try:
                page = await self.client.list(EVENTS, limit=PAGE, continue_=token)
            except Expired:
                return expired  # the snapshot was compacted away; the next pass starts over
            for event in page.get("items") or ():
                when = last_occurrence(event)
                if when is None or when >= cutoff:
                    continue
                meta = meta_of(event)
                try:
                    await self.client.delete(
                        EVENTS,
                        str(meta.get("name")),
                        namespace=str(meta.get("namespace") or ""),
                        preconditions=Preconditions(
                            resource_version=str(meta.get("resourceVersion") or "") or None
                        ),
                    )
                    expired += 1
                except (NotFound, Conflict):
                    pass  # gone already, or touched again since we read it
            token = str(meta_of(page).get("continue") or "") or None
            if token is None:
                return expired
