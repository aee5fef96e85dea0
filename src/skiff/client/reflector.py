"""`Reflector`: keep a sink in step with the server by list-then-watch, forever.

The loop mirrors client-go ``tools/cache/reflector.go`` ``ListAndWatch``:

1. LIST (paged, ``limit=500``) and hand the full set to ``sink.replace(items, rv)``;
   (``metadata_only``: both ask for ``PartialObjectMetadata``)
2. WATCH from the list's resourceVersion with ``allowWatchBookmarks`` and a ``timeoutSeconds``
   drawn from ``[min_watch_timeout, 2*min_watch_timeout)`` so many clients do not reconnect in step;
   each event goes to ``sink.apply(event)``;
3. when the server ends the watch normally, watch again from the last resourceVersion seen
   (events or bookmarks) without relisting — after a back-off if the watch ended at once with
   nothing in it (a "very short watch");
4. on 410 Expired relist at once; on any other failure (connection refused or dropped, 5xx) wait
   a jittered exponential back-off (`skiff.util.backoff.Backoff`) and relist.

Cancellation stops it; it never ends on its own.
"""

from __future__ import annotations

import logging
import random
from typing import Any, Protocol

from skiff.api.resources import ResourceInfo
from skiff.client._client import Client, WatchEvent, WatchEventType
from skiff.client.errors import ApiError, Expired, TransportError
from skiff.util.backoff import Backoff
from skiff.util.clock import Clock, SystemClock

__all__ = ["Reflector", "ReflectorSink"]

log = logging.getLogger(__name__)


class ReflectorSink(Protocol):
    """Where a reflector delivers state; both calls are synchronous and must not block."""

    def replace(self, items: list[dict[str, Any]], resource_version: str) -> None:
        """The complete current set of objects (after a list)."""
        ...

    def apply(self, event: WatchEvent) -> None:
        """One ADDED / MODIFIED / DELETED watch event (bookmarks are not delivered)."""
        ...


class Reflector:
    """List-and-watch one resource (optionally one namespace / selector) into a sink."""

    def __init__(
        self,
        client: Client,
        resource: ResourceInfo,
        sink: ReflectorSink,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        clock: Clock | None = None,
        min_watch_timeout: float = 300.0,
        page_size: int = 500,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        metadata_only: bool = False,
    ) -> None:
        self.client = client
        self.resource = resource
        self.sink = sink
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.metadata_only = metadata_only
        self.clock: Clock = clock or SystemClock()
        self.min_watch_timeout = min_watch_timeout
        self.page_size = page_size
        self.backoff = backoff or Backoff(clock=self.clock)
        self._rng = rng or random.Random()
        self.last_sync_resource_version = ""
        """The resourceVersion of the last list or of the last event/bookmark seen."""
        self.relists = 0

    def _watch_timeout(self) -> int:
        return max(1, int(self.min_watch_timeout * (1 + self._rng.random())))

    async def run(self) -> None:
        """List and watch until cancelled."""
        while True:
            try:
                await self._list_and_watch()
            except Expired as exc:
                log.info("%s: watch expired (%s); relisting", self.resource.group_resource, exc)
            except (TransportError, ApiError) as exc:
                delay = self.backoff.next_delay()
                log.warning(
                    "%s: list/watch failed (%s); retrying in %.2fs",
                    self.resource.group_resource,
                    exc,
                    delay,
                )
                await self.clock.sleep(delay)

    async def _list_and_watch(self) -> None:
        listing = await self.client.list_all(
            self.resource,
            namespace=self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            page_size=self.page_size,
            metadata_only=self.metadata_only,
        )
        rv = str((listing.get("metadata") or {}).get("resourceVersion") or "")
        self.relists += 1
        self.sink.replace(list(listing.get("items") or []), rv)
        self.last_sync_resource_version = rv
        while True:
            started = self.clock.monotonic()
            received = 0
            async with self.client.watch(
                self.resource,
                namespace=self.namespace,
                label_selector=self.label_selector,
                field_selector=self.field_selector,
                resource_version=self.last_sync_resource_version or None,
                timeout_seconds=self._watch_timeout(),
                resume=False,
                yield_bookmarks=True,
                metadata_only=self.metadata_only,
            ) as watch:
                async for event in watch:
                    received += 1
                    if event.type is not WatchEventType.BOOKMARK:
                        self.sink.apply(event)
                    if watch.resource_version:
                        self.last_sync_resource_version = watch.resource_version
                if watch.resource_version:
                    self.last_sync_resource_version = watch.resource_version
            if received == 0 and self.clock.monotonic() - started < 1.0:
                # A watch closed at once with nothing in it is a sick server, not a timeout
                # (client-go "very short watch"): back off instead of reconnecting in a hot loop.
                delay = self.backoff.next_delay()
                log.warning(
                    "%s: very short watch; re-watching in %.2fs",
                    self.resource.group_resource,
                    delay,
                )
                await self.clock.sleep(delay)
            else:
                # A watch that ran its course is healthy: forget earlier failures.
                self.backoff.reset()
