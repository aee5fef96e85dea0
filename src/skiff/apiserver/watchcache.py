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
* **Objects decoded once.** With an :class:`ObjectCodec` (the API server's decode, labels and
  selectable fields, injected so the cache stays API-agnostic) every version of a key is a
  :class:`CachedObject`: decoded at most once while it is in use, its labels and fields computed
  once and shared by every watcher and every selector list (the apiserver's ``watchCacheEvent``
  carries ``ObjLabels``/``ObjFields``/``PrevObject`` for the same reason). Watchers receive
  :class:`CachedEvent` s holding the object and its previous version.
* **Indexes.** Fields the codec names as indexed (``spec.nodeName`` of pods) route events to the
  watchers subscribed with ``index=(field, value)`` only (the cacher's ``IndexerFuncs`` and
  ``TriggerFunc``), and answer ``select(..., index=...)`` from a ``value -> keys`` map that is
  built on first use and kept up to date by the feed.
* **Read-your-writes.** Writes go straight to the store; before returning, each write waits until
  the cache has applied its revision (``wait_for_revision``), so a ``list``/``get`` at revision 0
  right after a write sees it. A failed compare waits for the revision it was decided at, so a retry
  that rereads from the cache does not spin on a stale value.

The cache satisfies the :class:`~skiff.store.Store` protocol itself. ``close()`` stops the cache
only; the underlying store belongs to whoever opened it. It imports only ``skiff.store`` and
:mod:`skiff.apiserver.cachedobject` (bytes, keys and injected callables, no API types).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import heapq
import itertools
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from skiff.apiserver.cachedobject import (
    CachedEvent,
    CachedObject,
    Matcher,
    ObjectCodec,
    ObjectDecoder,
    selector_match,
)
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

__all__ = [
    "CachedEvent",
    "CachedObject",
    "CountingStore",
    "Matcher",
    "ObjectCodec",
    "SelectingStore",
    "Selection",
    "WatchCache",
    "WatchCacheStatistics",
    "selector_match",
]

_log = logging.getLogger(__name__)

_RELIST_PAGE = 10_000


def _event_index_values(event: Event, name: str) -> tuple[str, ...]:
    return event.index_values(name) if isinstance(event, CachedEvent) else ()


@dataclass(frozen=True, slots=True)
class Selection:
    """Current objects chosen by :meth:`WatchCache.select`, in key order.

    ``more`` is true when the ``limit`` was reached and keys under the prefix sort after the last
    item (whether or not they match: a continued list may come back empty, as with a store scan).
    """

    items: tuple[CachedObject, ...]
    revision: Revision
    more: bool


class _Index:
    """``value -> keys`` of one field for the current objects under one prefix."""

    __slots__ = ("by_value", "field", "prefix", "value_of")

    def __init__(self, prefix: str, field: str) -> None:
        self.prefix = prefix
        self.field = field
        self.by_value: dict[str, set[str]] = {}
        self.value_of: dict[str, str] = {}

    def put(self, key: str, entry: CachedObject | None) -> None:
        old = self.value_of.pop(key, None)
        if old is not None:
            keys = self.by_value[old]
            keys.discard(key)
            if not keys:
                del self.by_value[old]
        if entry is not None:
            value = entry.fields.get(self.field)
            if value is not None:
                self.value_of[key] = value
                self.by_value.setdefault(value, set()).add(key)


@runtime_checkable
class CountingStore(Protocol):
    """A store that can count keys from memory (a list's ``remainingItemCount``)."""

    def count_after(self, prefix: str, after: str) -> int:
        """How many current keys under ``prefix`` sort after ``after``."""
        ...


@runtime_checkable
class SelectingStore(Protocol):
    """A store that answers selector lists at its current revision from decoded objects."""

    def current_revision(self) -> Revision: ...

    def indexed_fields(self, prefix: str) -> frozenset[str]:
        """See :meth:`WatchCache.indexed_fields`."""
        ...

    def select(
        self,
        prefix: str,
        *,
        match: Callable[[CachedObject], bool] | None = None,
        index: tuple[str, str] | None = None,
        limit: int = 0,
        continue_after: str | None = None,
    ) -> Selection:
        """See :meth:`WatchCache.select`."""
        ...


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
    decodes: int = 0
    """Values decoded by the codec so far (each version once while in use, not once per reader)."""
    decode_failures: int = 0
    indexes: int = 0
    """``(prefix, field)`` indexes built for selects so far (built on first use)."""


class WatchCache:
    """A Store wrapper serving reads and watches from memory; see the module docstring.

    Construct, then ``await cache.start()`` (or ``async with WatchCache(store) as cache``), and
    ``await cache.close()`` when done. ``sleep`` is the back-off between retries after store errors.
    ``codec`` lets the cache decode values (labels, fields, indexes, shared decoded objects);
    without it the cache is a byte-level Store, selects see empty labels and fields and nothing is
    indexed. ``keep_decoded`` bounds how many decoded objects stay in memory at once.
    """

    def __init__(
        self,
        store: Store,
        *,
        window: int = 10_000,
        watch_queue_size: int = 10_000,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        codec: ObjectCodec | None = None,
        keep_decoded: int = 1024,
    ) -> None:
        if window <= 0:
            raise ValueError("window must be positive")
        self._store = store
        self._window_size = window
        self._sleep = sleep
        self._codec = codec
        self._decoder = ObjectDecoder(codec, keep_decoded)
        self._broadcaster = Broadcaster(
            queue_size=watch_queue_size, index_values=_event_index_values
        )
        self._objects: dict[str, CachedObject] = {}
        self._keys: list[str] = []
        self._window: deque[CachedEvent] = deque()
        # (prefix, field) -> index of the current objects, built on the first select using it
        self._indexes: dict[tuple[str, str], _Index] = {}
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
        decoder = self._decoder
        self._objects = {kv.key: CachedObject(kv, decoder) for kv in items}
        self._keys = [kv.key for kv in items]  # the store lists in key order
        self._indexes = {}
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
        decoder, indexes = self._decoder, self._indexes
        published: list[CachedEvent] = []
        for event in batch:
            kv, prev_kv = event.kv, event.prev_kv
            key = kv.key
            before = objects.get(key)
            previous: CachedObject | None = None
            if prev_kv is not None:
                # the version being replaced is normally the one we hold: its labels and fields
                # (computed when it was new) are reused instead of decoding prev_kv again
                if before is not None and before.kv.mod_revision == prev_kv.mod_revision:
                    previous = before
                else:
                    previous = CachedObject(prev_kv, decoder)
            current: CachedObject | None
            if event.type is EventType.DELETE:
                cached = CachedEvent(
                    event.type,
                    kv,
                    prev_kv,
                    event.create,
                    current=CachedObject(kv, decoder, like=previous),
                    previous=previous,
                )
                current = None
                if before is not None:
                    del objects[key]
                    del keys[bisect.bisect_left(keys, key)]
            else:
                current = CachedObject(kv, decoder)
                cached = CachedEvent(
                    event.type, kv, prev_kv, event.create, current=current, previous=previous
                )
                if before is None:
                    bisect.insort(keys, key)
                objects[key] = current
            for index in indexes.values():
                if key.startswith(index.prefix):
                    index.put(key, current)
            if len(window) >= self._window_size:
                self._floor = window.popleft().kv.mod_revision
            window.append(cached)
            published.append(cached)
        self._revision = batch[-1].kv.mod_revision
        self._broadcaster.publish(published)
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
        entry = self._objects.get(key)
        return entry.kv if entry is not None else None

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
            items.append(objects[key].kv)
        return ListResult(tuple(items), self._revision, more)

    def select(
        self,
        prefix: str,
        *,
        match: Callable[[CachedObject], bool] | None = None,
        index: tuple[str, str] | None = None,
        limit: int = 0,
        continue_after: str | None = None,
    ) -> Selection:
        """Current objects under ``prefix`` (after ``continue_after``) for which ``match`` holds,
        in key order, at most ``limit`` (0: all), at the cache's current revision.

        ``match`` sees :class:`CachedObject` s, whose labels and fields are computed once per
        version, not once per call. With ``index=(field, value)`` on an indexed field only the
        objects whose ``field`` equals ``value`` are considered (``match`` still applies); an
        index not configured for ``prefix`` is ignored (a full scan, same result).
        """
        self._check_open()
        objects = self._objects
        found = self._index(prefix, index[0]) if index is not None else None
        candidates: Iterable[str]
        if found is not None and index is not None:
            candidates = sorted(
                key
                for key in found.by_value.get(index[1], ())
                if key.startswith(prefix) and (continue_after is None or key > continue_after)
            )
        else:
            keys = self._keys
            start, end = self._key_range(prefix, continue_after)
            candidates = (keys[j] for j in range(start, end))
        items: list[CachedObject] = []
        for key in candidates:
            entry = objects[key]
            if match is None or match(entry):
                items.append(entry)
                if len(items) == limit:
                    break
        more = (
            bool(limit) and len(items) == limit and self.count_after(prefix, items[-1].kv.key) > 0
        )
        return Selection(tuple(items), self._revision, more)

    def _key_range(self, prefix: str, continue_after: str | None) -> tuple[int, int]:
        keys = self._keys
        if continue_after is not None and continue_after >= prefix:
            start = bisect.bisect_right(keys, continue_after)
        else:
            start = bisect.bisect_left(keys, prefix)
        upper = prefix_end(prefix)
        end = bisect.bisect_left(keys, upper) if upper is not None else len(keys)
        return start, max(start, end)

    def indexed_fields(self, prefix: str) -> frozenset[str]:
        """The fields indexed for objects under ``prefix`` (by the codec's ``indexes``)."""
        if self._codec is None:
            return frozenset()
        out: frozenset[str] = frozenset()
        for base, names in self._codec.indexes.items():
            if prefix.startswith(base):
                out |= names
        return out

    def _index(self, prefix: str, field_name: str) -> _Index | None:
        if self._codec is None:
            return None
        for base, names in self._codec.indexes.items():
            if field_name in names and prefix.startswith(base):
                index = self._indexes.get((base, field_name))
                if index is None:
                    index = _Index(base, field_name)
                    start, end = self._key_range(base, None)
                    for key in self._keys[start:end]:
                        index.put(key, self._objects[key])
                    self._indexes[(base, field_name)] = index
                return index
        return None

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
        self,
        prefix: str,
        *,
        revision: Revision = Revision(0),
        index: tuple[str, str] | None = None,
    ) -> AsyncIterator[WatchStream]:
        """Events under ``prefix`` after ``revision`` (each a :class:`CachedEvent`).

        With ``index=(field, value)`` on a field indexed for ``prefix``, only events whose object
        or previous version has ``field == value`` are delivered (the watcher still filters them:
        the index only spares it the others). An index not configured for ``prefix`` is ignored.
        """
        self._check_open()
        if revision < 0:
            raise ValueError("revision must not be negative")
        if revision and revision < self._floor:
            raise Compacted(revision, compacted=self._floor, current=self._revision)
        if index is not None and index[0] not in self.indexed_fields(prefix):
            index = None
        after = revision or self._revision
        backlog: list[Event] = []
        for event in reversed(self._window):
            if event.kv.mod_revision <= after:
                break
            if event.kv.key.startswith(prefix) and (
                index is None or index[1] in event.index_values(index[0])
            ):
                backlog.append(event)
        backlog.reverse()
        sub = self._broadcaster.subscribe(prefix, after=after, backlog=backlog, index=index)
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
            decodes=self._decoder.decodes,
            decode_failures=self._decoder.failures,
            indexes=len(self._indexes),
        )


def _satisfies_store(cache: WatchCache) -> tuple[Store, CountingStore, SelectingStore]:
    """Static check (mypy): a WatchCache can stand wherever these protocols are expected."""
    return cache, cache, cache
