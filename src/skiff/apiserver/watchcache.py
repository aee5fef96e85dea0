"""The API server's watch cache: current objects and recent events in memory, in front of a Store.

Like the apiserver's ``cacher``/``watchCache`` (``k8s.io/apiserver/pkg/storage/cacher``):

* **One feed.** ``start()`` lists the whole store, then one watch from the list's revision keeps
  ``key -> KeyValue`` and a bounded window of the latest events (``window`` events, default 10,000)
  up to date. If that watch is dropped or compacted, the cache relists, starts a fresh window and
  drops its own watchers (they relist too, as after a ``410``).
* **Reads from memory.** ``get`` and ``list`` at ``revision=0`` (or exactly the cache's revision) are
  served from memory, with ``limit``/``continue_after`` paging over a sorted key index. Other
  revisions (e.g. the next page of a paginated list, whose token carries the first page's
  revision) go to the store, which keeps history until compaction.
* **Watches from the window.** A watch from revision ``R`` replays the window's events after ``R``
  and then follows live ones; ``R`` older than the window raises :class:`Compacted` (the API server
  answers ``410 Expired``, ``too old resource version: R (oldest)``). Fan-out goes through a
  :class:`Broadcaster`, one filter per distinct prefix per batch; a watcher that falls more than
  ``watch_queue_size`` events behind is dropped with :class:`WatchDropped`.
* **Read-your-writes.** Writes go straight to the store; before returning, each write waits until
  the cache has applied its revision (``wait_for_revision``), so a ``list``/``get`` at revision 0
  right after a write sees it. A failed compare waits for the revision it was decided at, so a retry
  that rereads from the cache does not spin on a stale value.

The cache satisfies the :class:`~skiff.store.Store` protocol itself. ``close()`` stops the cache
only; the underlying store belongs to whoever opened it. It imports only ``skiff.store`` (bytes and
keys, no API types).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import heapq
import itertools
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from skiff.store import (
    Broadcaster,
    BroadcasterStatistics,
    Compacted,
    DeleteResult,
    Event,
    EventType,
    FutureRevision,
    KeyValue,
    ListResult,
    Revision,
    Store,
    StoreClosed,
    StoreError,
    UpdateResult,
    WatchDropped,
    WatchStream,
    prefix_end,
)

__all__ = ["WatchCache", "WatchCacheStatistics"]

_log = logging.getLogger(__name__)

_RELIST_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class WatchCacheStatistics:
    """Counters of a WatchCache (trio-style ``statistics()``)."""

    revision: Revision
    oldest_revision: Revision
    """Watches from this revision or newer are served; older ones get Compacted."""
    objects: int
    window_events: int
    relists: int
    watch: BroadcasterStatistics


class WatchCache:
    """A Store wrapper serving reads and watches from memory; see the module docstring.

    Construct, then ``await cache.start()`` (or ``async with WatchCache(store) as cache``), and
    ``await cache.close()`` when done. ``sleep`` is the back-off between retries after store errors.
    """

    def __init__(
        self,
        store: Store,
        *,
        window: int = 10_000,
        watch_queue_size: int = 10_000,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if window <= 0:
            raise ValueError("window must be positive")
        self._store = store
        self._window_size = window
        self._sleep = sleep
        self._broadcaster = Broadcaster(queue_size=watch_queue_size)
        self._objects: dict[str, KeyValue] = {}
        self._keys: list[str] = []
        self._window: deque[Event] = deque()
        self._revision = Revision(0)
        # The window holds every event with a revision above ``_floor``.
        self._floor = Revision(0)
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._waiter_ids = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._started = False
        self._closed = False
        self._relists = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """List the store and start following it. Errors of the initial list propagate."""
        if self._started:
            raise RuntimeError("watch cache already started")
        self._started = True
        try:
            await self._relist()
        except BaseException:
            self._closed = True
            raise
        self._watching = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(
            self._feed(), name="skiff-watchcache-feed"
        )
        # Wait until the feed's watch is open: a store watch from revision 0 means "from now",
        # so a write made before the watch opened would otherwise never reach the cache.
        watching = asyncio.ensure_future(self._watching.wait())
        await asyncio.wait({watching, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not watching.done():
            watching.cancel()

    async def close(self) -> None:
        """Stop following the store and end every watch. Does not close the underlying store."""
        if self._closed and self._task is None:
            return
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
        self._shut(None)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _shut(self, error: StoreError | None) -> None:
        self._closed = True
        self._broadcaster.close(error)
        self._wake(everyone=True)

    def _check_open(self) -> None:
        if self._closed or not self._started:
            raise StoreClosed("watch cache is not running")

    # -- feeding -----------------------------------------------------------------------------

    async def _relist(self) -> None:
        page = await self._store.list("", limit=_RELIST_PAGE)
        revision = page.revision
        items = list(page.items)
        while page.more and page.last_key is not None:
            page = await self._store.list(
                "", revision=revision, limit=_RELIST_PAGE, continue_after=page.last_key
            )
            items.extend(page.items)
        self._objects = {kv.key: kv for kv in items}
        self._keys = [kv.key for kv in items]  # the store lists in key order
        self._window.clear()
        self._floor = revision
        self._revision = revision
        self._relists += 1
        # Our window no longer continues the one our watchers were fed from: they must relist.
        self._broadcaster.drop_all(WatchDropped("watch cache relisted; relist and watch again"))
        self._wake()

    async def _feed(self) -> None:
        delay = 0.05
        try:
            while True:
                relist = False
                try:
                    async with self._store.watch("", revision=self._revision) as events:
                        self._watching.set()
                        while batch := await events.next_batch():
                            self._apply(batch)
                            delay = 0.05
                    return  # the stream ended: the store was closed
                except (WatchDropped, Compacted) as exc:
                    _log.info("watch cache relisting: %s", exc)
                    relist = True
                except StoreClosed:
                    return
                except StoreError:
                    _log.exception("watch cache feed failed; retrying in %.2fs", delay)
                    await self._sleep(delay)
                    delay = min(delay * 2, 2.0)
                while relist:
                    try:
                        await self._relist()
                        relist = False
                    except StoreClosed:
                        return
                    except StoreError:
                        _log.exception("watch cache relist failed; retrying in %.2fs", delay)
                        await self._sleep(delay)
                        delay = min(delay * 2, 2.0)
        finally:
            if not self._closed:
                self._shut(StoreClosed("the store under the watch cache closed"))

    def _apply(self, batch: Sequence[Event]) -> None:
        objects, keys, window = self._objects, self._keys, self._window
        for event in batch:
            key = event.kv.key
            if event.type is EventType.DELETE:
                if objects.pop(key, None) is not None:
                    del keys[bisect.bisect_left(keys, key)]
            else:
                if key not in objects:
                    bisect.insort(keys, key)
                objects[key] = event.kv
            if len(window) >= self._window_size:
                self._floor = window.popleft().kv.mod_revision
            window.append(event)
        self._revision = batch[-1].kv.mod_revision
        self._broadcaster.publish(batch)
        self._wake()

    def _wake(self, *, everyone: bool = False) -> None:
        waiters = self._waiters
        while waiters and (everyone or waiters[0][0] <= self._revision):
            future = heapq.heappop(waiters)[2]
            if not future.done():
                future.set_result(None)

    async def wait_for_revision(
        self,
        revision: Revision,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - expiry becomes FutureRevision
    ) -> None:
        """Wait until the cache has applied ``revision``.

        The timeout is a parameter rather than the caller's ``asyncio.timeout`` because expiry is
        not a plain timeout: it means "too large resource version" and carries the cache's revision.

        Raises :class:`FutureRevision` after ``timeout`` seconds (None: wait indefinitely), and
        :class:`StoreClosed` if the cache stops first.
        """
        if revision <= self._revision:
            return
        self._check_open()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (revision, next(self._waiter_ids), future))
        try:
            async with asyncio.timeout(timeout):
                await future
        except TimeoutError:
            raise FutureRevision(revision, current=self._revision) from None
        finally:
            future.cancel()
        if self._revision < revision:
            raise StoreClosed("watch cache stopped")

    async def _catch_up(self, revision: Revision) -> None:
        # After a successful write: wait for the cache, but a closing cache must not turn the
        # (durable) write into an error.
        with contextlib.suppress(StoreClosed):
            await self.wait_for_revision(revision)

    # -- Store: writes go to the store -------------------------------------------------------

    async def create(self, key: str, value: bytes) -> Revision:
        self._check_open()
        revision = await self._store.create(key, value)
        await self._catch_up(revision)
        return revision

    async def update(self, key: str, value: bytes, *, expected_revision: Revision) -> UpdateResult:
        self._check_open()
        result = await self._store.update(key, value, expected_revision=expected_revision)
        await self._catch_up(result.revision)
        return result

    async def delete(self, key: str, *, expected_revision: Revision = Revision(0)) -> DeleteResult:
        self._check_open()
        result = await self._store.delete(key, expected_revision=expected_revision)
        await self._catch_up(result.revision)
        return result

    async def compact(self, revision: Revision) -> None:
        """Compact the store, and forget window events at or below ``revision`` too."""
        self._check_open()
        await self._store.compact(revision)
        window = self._window
        while window and window[0].kv.mod_revision <= revision:
            window.popleft()
        self._floor = max(self._floor, revision)

    # -- Store: reads from memory ------------------------------------------------------------

    async def get(self, key: str, *, revision: Revision = Revision(0)) -> KeyValue | None:
        self._check_open()
        if revision and revision != self._revision:
            return await self._store.get(key, revision=revision)
        return self._objects.get(key)

    async def list(
        self,
        prefix: str,
        *,
        revision: Revision = Revision(0),
        limit: int = 0,
        continue_after: str | None = None,
    ) -> ListResult:
        self._check_open()
        if revision and revision != self._revision:
            return await self._store.list(
                prefix, revision=revision, limit=limit, continue_after=continue_after
            )
        keys, objects = self._keys, self._objects
        if continue_after is not None and continue_after >= prefix:
            i = bisect.bisect_right(keys, continue_after)
        else:
            i = bisect.bisect_left(keys, prefix)
        items: list[KeyValue] = []
        more = False
        for j in range(i, len(keys)):
            key = keys[j]
            if not key.startswith(prefix):
                break
            if limit > 0 and len(items) == limit:
                more = True
                break
            items.append(objects[key])
        return ListResult(tuple(items), self._revision, more)

    def count_after(self, prefix: str, after: str) -> int:
        """How many current keys under ``prefix`` sort after ``after`` (a list's
        ``remainingItemCount``), from memory."""
        keys = self._keys
        start = (
            bisect.bisect_right(keys, after)
            if after >= prefix
            else bisect.bisect_left(keys, prefix)
        )
        upper = prefix_end(prefix)
        end = bisect.bisect_left(keys, upper) if upper is not None else len(keys)
        return max(0, end - start)

    @asynccontextmanager
    async def watch(
        self, prefix: str, *, revision: Revision = Revision(0)
    ) -> AsyncIterator[WatchStream]:
        self._check_open()
        if revision < 0:
            raise ValueError("revision must not be negative")
        if revision and revision < self._floor:
            raise Compacted(revision, compacted=self._floor, current=self._revision)
        after = revision or self._revision
        backlog: list[Event] = []
        for event in reversed(self._window):
            if event.kv.mod_revision <= after:
                break
            if event.kv.key.startswith(prefix):
                backlog.append(event)
        backlog.reverse()
        sub = self._broadcaster.subscribe(prefix, after=after, backlog=backlog)
        try:
            yield sub
        finally:
            sub.close()

    def current_revision(self) -> Revision:
        """The newest revision the cache has applied (what a list at revision 0 reflects)."""
        return self._revision

    def statistics(self) -> WatchCacheStatistics:
        """Current counters."""
        return WatchCacheStatistics(
            revision=self._revision,
            oldest_revision=self._floor,
            objects=len(self._objects),
            window_events=len(self._window),
            relists=self._relists,
            watch=self._broadcaster.statistics(),
        )


def _satisfies_store(cache: WatchCache) -> Store:
    """Static check (mypy): a WatchCache can stand wherever a Store is expected."""
    return cache
