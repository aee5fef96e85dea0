"""`EventRecorder`: write core/v1 Events about objects without blocking the caller.

``recorder.event(obj, "Warning", "FailedSync", "...")`` only enqueues (bounded; when full the event
is dropped and counted, as client-go's broadcaster drops rather than block a controller). A
background task owned by the recorder (``async with EventRecorder(...)``) writes them.

Repeats are aggregated as Kubernetes does (client-go ``tools/record/events_cache.go``
``EventCorrelator``/``eventLogger``): an event with the same involved object, type, reason, message
and source as one written within ``aggregation_window`` seconds is not created again; the existing
Event is PATCHed with ``count + 1`` and a new ``lastTimestamp``. New Events are named
``<object name>.<hex nanoseconds>`` (client-go ``makeEvent``) and live in the object's namespace
(``default`` for cluster-scoped objects).

Not implemented: the "similar events" message combining (10 events differing only in message within
10 minutes) and the spam filter's token bucket per source/object.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from skiff.client._client import Client
from skiff.client.errors import AlreadyExists, ApiError, NotFound, TransportError
from skiff.client.frozen import thaw
from skiff.client.resource import resolve
from skiff.util.clock import Clock, SystemClock, format_epoch_time

__all__ = ["EventRecorder", "EventRecorderStatistics"]

log = logging.getLogger(__name__)

EVENTS = resolve(("v1", "Event"))
_CACHE_SIZE = 4096  # client-go maxLruCacheEntries


@dataclass(frozen=True)
class EventRecorderStatistics:
    queued: int
    created: int
    aggregated: int
    dropped: int
    failed: int


@dataclass
class _Seen:
    name: str
    namespace: str
    count: int
    last_seen: float  # monotonic


_Key = tuple[str, ...]


class EventRecorder:
    """Records Events for one component (``source.component``) on one host."""

    def __init__(
        self,
        client: Client,
        component: str,
        host: str = "",
        *,
        clock: Clock | None = None,
        queue_size: int = 1000,
        aggregation_window: float = 600.0,
    ) -> None:
        self.client = client
        self.component = component
        self.host = host
        self.clock: Clock = clock or SystemClock()
        self.aggregation_window = aggregation_window
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=queue_size)
        self._seen: OrderedDict[_Key, _Seen] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._created = 0
        self._aggregated = 0
        self._dropped = 0
        self._failed = 0

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run(), name=f"event-recorder-{self.component}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        if exc_type is None:
            # Clean exit: write what is queued, then stop.
            await self._queue.put(None)
            await task
        else:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def event(self, obj: Mapping[str, Any], type: str, reason: str, message: str) -> None:
        """Record an event about ``obj`` (``type`` is ``Normal`` or ``Warning``); never blocks."""
        if self._task is None:
            raise RuntimeError("EventRecorder.event() needs `async with recorder:`")
        meta = obj.get("metadata") or {}
        ref = {
            "apiVersion": obj.get("apiVersion"),
            "kind": obj.get("kind"),
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        }
        item = {
            "involvedObject": {k: v for k, v in ref.items() if v},
            "type": type,
            "reason": reason,
            "message": message,
            "time": self.clock.time(),
        }
        try:
            self._queue.put_nowait(thaw(item))
        except asyncio.QueueFull:
            self._dropped += 1
            log.warning("event queue full, dropping event %s %s", reason, message)

    async def flush(self) -> None:
        """Wait until every event recorded so far has been written (or failed)."""
        await self._queue.join()

    def statistics(self) -> EventRecorderStatistics:
        return EventRecorderStatistics(
            queued=self._queue.qsize(),
            created=self._created,
            aggregated=self._aggregated,
            dropped=self._dropped,
            failed=self._failed,
        )

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if item is None:
                    return
                await self._write(item)
            except (ApiError, TransportError) as exc:
                self._failed += 1
                log.warning("writing event failed: %s", exc)
            finally:
                self._queue.task_done()

    def _key(self, item: Mapping[str, Any]) -> _Key:
        ref = item["involvedObject"]
        return (
            self.component,
            self.host,
            str(ref.get("apiVersion", "")),
            str(ref.get("kind", "")),
            str(ref.get("namespace", "")),
            str(ref.get("name", "")),
            str(ref.get("uid", "")),
            item["type"],
            item["reason"],
            item["message"],
        )

    async def _write(self, item: dict[str, Any]) -> None:
        key = self._key(item)
        now = self.clock.monotonic()
        timestamp = format_epoch_time(item["time"])
        seen = self._seen.get(key)
        if seen is not None and now - seen.last_seen <= self.aggregation_window:
            try:
                await self.client.patch(
                    EVENTS,
                    seen.name,
                    {"count": seen.count + 1, "lastTimestamp": timestamp},
                    namespace=seen.namespace,
                    patch_type="merge",
                )
            except NotFound:
                pass  # deleted meanwhile (TTL): create a fresh one below
            else:
                seen.count += 1
                seen.last_seen = now
                self._seen.move_to_end(key)
                self._aggregated += 1
                return
        ref = item["involvedObject"]
        namespace = str(ref.get("namespace") or "default")
        nanos = int(item["time"] * 1_000_000_000)
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{ref.get('name', 'unknown')}.{nanos:x}", "namespace": namespace},
            "involvedObject": ref,
            "reason": item["reason"],
            "message": item["message"],
            "type": item["type"],
            "source": {"component": self.component, **({"host": self.host} if self.host else {})},
            "firstTimestamp": timestamp,
            "lastTimestamp": timestamp,
            "count": 1,
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        }
        for _ in range(5):
            try:
                created = await self.client.create(EVENTS, body, namespace=namespace)
                break
            except AlreadyExists:
                # Same object, same nanosecond (a coarse or fake clock): take the next name.
                nanos += 1
                body["metadata"]["name"] = f"{ref.get('name', 'unknown')}.{nanos:x}"
        else:
            raise AlreadyExists(
                {"code": 409, "reason": "AlreadyExists", "message": "event name taken"}
            )
        self._created += 1
        self._seen[key] = _Seen(created["metadata"]["name"], namespace, 1, now)
        self._seen.move_to_end(key)
        while len(self._seen) > _CACHE_SIZE:
            self._seen.popitem(last=False)
