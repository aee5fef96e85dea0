"""Fan-out of store events to many watchers, with bounded per-watcher buffers.

One producer (a backend's commit path, or the watch cache's feed) calls :meth:`Broadcaster.publish`
with each batch of events in revision order; every :class:`Subscription` whose prefix matches gets
them. A subscriber that lets more than ``queue_size`` events pile up is dropped: its buffer is freed
and its iterator raises :class:`WatchDropped`, so it relists instead of memory growing without bound
(kine's broadcaster drops slow subscribers the same way; the apiserver's cacher closes watchers
whose channel is full).

Efficiency: subscriptions are grouped by prefix, so a batch is filtered once per distinct prefix and
then appended to each subscriber's deque with one C-level ``extend``; 1,000 watchers of one prefix
cost one filter plus 1,000 appends per batch, not 1,000 filters per event. Everything here runs on
the event loop thread and never awaits while publishing.

Indexed subscribers: a subscriber may also name an ``index`` ``(name, value)`` (e.g.
``("spec.nodeName", "node-7")``). It then gets only the events for which the broadcaster's
``index_values(event, name)`` callback returns ``value`` among its values, so an event costs a
dictionary lookup per value instead of one append per subscriber of the prefix. This is the
apiserver cacher's trigger index (``IndexerFuncs``/``TriggerFunc``, ``watchersToStop`` aside):
https://github.com/kubernetes/kubernetes/blob/04d6b4f11d533e92dc999e981f73f7b44dacd591/staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go
The callback is the producer's business (the watch cache computes the values from the decoded
object and its previous version); the broadcaster only sees strings.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Self

from skiff.store.errors import StoreError, WatchDropped
from skiff.store.interface import Event, Revision

__all__ = ["Broadcaster", "BroadcasterStatistics", "IndexValues", "Subscription"]


@dataclass(frozen=True, slots=True)
class BroadcasterStatistics:
    """Counters of a broadcaster (trio-style ``statistics()``)."""

    subscribers: int
    prefixes: int
    published_events: int
    dropped_subscribers: int
    max_pending: int
    indexed_subscribers: int = 0
    """Subscribers that receive only the events of one index value."""


class Subscription:
    """One watcher's stream: a backlog, then live events above ``after``; a :class:`WatchStream`.

    Created by :meth:`Broadcaster.subscribe`; call :meth:`close` (or leave the owning context) to
    unsubscribe. Events at or below the last delivered revision are skipped, which makes it safe to
    subscribe first and replay history afterwards (the two may overlap).
    """

    __slots__ = (
        "_broadcaster",
        "_buffer",
        "_closed",
        "_error",
        "_limit",
        "_poked",
        "_waiter",
        "after",
        "index",
        "prefix",
    )

    def __init__(
        self,
        broadcaster: Broadcaster,
        prefix: str,
        *,
        after: Revision,
        limit: int,
        index: tuple[str, str] | None = None,
    ) -> None:
        self._broadcaster = broadcaster
        self.prefix = prefix
        self.index = index
        """``(name, value)``: only events whose index values include ``value``; None: all."""
        self.after = after
        """Revision of the last event delivered (or the watch's start revision)."""
        self._limit = limit
        self._buffer: deque[Event] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._error: StoreError | None = None
        self._poked = False

    @property
    def closed(self) -> bool:
        """Whether the stream has ended (closed, dropped or the store closed)."""
        return self._closed

    def poke(self) -> None:
        """Make a pending (or the next) ``next_batch`` return even without events."""
        self._poked = True
        self._wake()

    @property
    def pending(self) -> int:
        """Events buffered and not yet consumed."""
        return len(self._buffer)

    @property
    def progress_revision(self) -> Revision:
        """Every event of this watch up to this revision has been delivered.

        With nothing buffered that is the newest revision published to anyone (events of other
        prefixes included), so an API server can send it as a ``BOOKMARK`` without running ahead of
        undelivered events; otherwise the last delivered revision.
        """
        if self._buffer:
            return self.after
        return max(self.after, self._broadcaster.revision)

    # -- producer side (called by the broadcaster / the backend) ------------------------------

    def prepend(self, events: Iterable[Event]) -> None:
        """Put history in front of the live events; not subject to the buffer bound."""
        self._buffer.extendleft(reversed(list(events)))
        self._wake()

    def _push(self, events: Sequence[Event]) -> bool:
        """Append live events; return False (and fail the subscription) when over the bound."""
        if len(self._buffer) + len(events) > self._limit:
            self._buffer.clear()
            self._finish(WatchDropped())
            return False
        self._buffer.extend(events)
        self._wake()
        return True

    def _finish(self, error: StoreError | None) -> None:
        if self._closed:
            return
        self._closed = True
        self._error = error
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- consumer side -----------------------------------------------------------------------

    def close(self) -> None:
        """Stop receiving events; buffered events are discarded. Idempotent."""
        self._broadcaster._unsubscribe(self)
        self._buffer.clear()
        self._finish(None)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event:
        batch = await self.next_batch(limit=1)
        if not batch:
            raise StopAsyncIteration
        return batch[0]

    async def next_batch(self, *, limit: int = 0) -> list[Event]:
        """Wait for events and return all ready ones (at most ``limit`` if > 0); [] at the end.

        Cancellation-safe: events are taken from the buffer only after the wait, so cancelling a
        pending call (e.g. ``asyncio.wait_for(stream.next_batch(), timeout)`` for bookmarks or
        keep-alives) loses nothing.
        """
        while True:
            out: list[Event] = []
            buffer = self._buffer
            after = self.after
            while buffer and (limit <= 0 or len(out) < limit):
                event = buffer.popleft()
                revision = event.kv.mod_revision
                if revision > after:
                    out.append(event)
                    after = revision
            self.after = after
            if out:
                self._poked = False
                return out
            if self._closed:
                if self._error is not None:
                    raise self._error
                return []
            if self._poked:
                self._poked = False
                return []
            loop = asyncio.get_running_loop()
            self._waiter = loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None


IndexValues = Callable[[Event, str], Collection[str]]
"""``(event, index name) -> values``: the index values an event concerns (e.g. the nodeName of the
object and of its previous version). Called only for events under a prefix that has subscribers
indexed by that name."""


class _Group:
    """The subscribers of one prefix: those that take every event, and the indexed ones."""

    __slots__ = ("all", "indexed")

    def __init__(self) -> None:
        self.all: dict[Subscription, None] = {}
        # index name -> index value -> subscribers
        self.indexed: dict[str, dict[str, dict[Subscription, None]]] = {}

    def add(self, sub: Subscription) -> None:
        if sub.index is None:
            self.all[sub] = None
        else:
            name, value = sub.index
            self.indexed.setdefault(name, {}).setdefault(value, {})[sub] = None

    def remove(self, sub: Subscription) -> None:
        if sub.index is None:
            self.all.pop(sub, None)
            return
        name, value = sub.index
        by_value = self.indexed.get(name)
        if by_value is None:
            return
        subs = by_value.get(value)
        if subs is None:
            return
        subs.pop(sub, None)
        if not subs:
            del by_value[value]
            if not by_value:
                del self.indexed[name]

    def __bool__(self) -> bool:
        return bool(self.all or self.indexed)

    def members(self) -> Iterable[Subscription]:
        yield from self.all
        for by_value in self.indexed.values():
            for subs in by_value.values():
                yield from subs


def _no_index_values(event: Event, name: str) -> Collection[str]:
    return ()


class Broadcaster:
    """Delivers published event batches to subscribers grouped by key prefix (and index value)."""

    def __init__(
        self, *, queue_size: int = 10_000, index_values: IndexValues | None = None
    ) -> None:
        if queue_size <= 0:
            raise ValueError("queue_size must be positive")
        self._queue_size = queue_size
        self._index_values = index_values or _no_index_values
        self._by_prefix: dict[str, _Group] = {}
        self._closed_error: StoreError | None = None
        self._closed = False
        self._published = 0
        self._dropped = 0
        self.revision = Revision(0)
        """Revision of the newest event published."""

    def subscribe(
        self,
        prefix: str,
        *,
        after: Revision,
        backlog: Sequence[Event] = (),
        queue_size: int = 0,
        index: tuple[str, str] | None = None,
    ) -> Subscription:
        """Register a subscriber for events under ``prefix`` with revisions above ``after``.

        ``backlog`` (already filtered by prefix, and by ``index`` if given, in revision order) is
        delivered first. With ``index=(name, value)`` only events whose ``index_values(event,
        name)`` include ``value`` are delivered. After :meth:`close` the subscription is born
        finished.
        """
        sub = Subscription(
            self, prefix, after=after, limit=queue_size or self._queue_size, index=index
        )
        if backlog:
            sub.prepend(backlog)
        if self._closed:
            sub._finish(self._closed_error)
        else:
            group = self._by_prefix.get(prefix)
            if group is None:
                group = self._by_prefix[prefix] = _Group()
            group.add(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        group = self._by_prefix.get(sub.prefix)
        if group is not None:
            group.remove(sub)
            if not group:
                del self._by_prefix[sub.prefix]

    def publish(self, events: Sequence[Event]) -> None:
        """Deliver a batch (in revision order) to every matching subscriber; drop the slow ones."""
        if not events or self._closed:
            return
        self.revision = events[-1].kv.mod_revision
        self._published += len(events)
        dropped: list[Subscription] = []
        for prefix, group in self._by_prefix.items():
            if prefix:
                matched: Sequence[Event] = [e for e in events if e.kv.key.startswith(prefix)]
                if not matched:
                    continue
            else:
                matched = events
            for sub in group.all:
                if not sub._push(matched):
                    dropped.append(sub)
            for name, by_value in group.indexed.items():
                for sub, routed in self._route(matched, name, by_value).items():
                    if not sub._push(routed):
                        dropped.append(sub)
        for sub in dropped:
            self._dropped += 1
            self._unsubscribe(sub)

    def _route(
        self,
        events: Sequence[Event],
        name: str,
        by_value: dict[str, dict[Subscription, None]],
    ) -> dict[Subscription, list[Event]]:
        # One lookup per distinct index value of each event; a subscriber has one value, so it
        # meets each event at most once.
        routed: dict[Subscription, list[Event]] = {}
        index_values = self._index_values
        for event in events:
            for value in index_values(event, name):
                subs = by_value.get(value)
                if not subs:
                    continue
                for sub in subs:
                    pending = routed.get(sub)
                    if pending is None:
                        routed[sub] = [event]
                    else:
                        pending.append(event)
        return routed

    def drop_all(self, error: StoreError) -> None:
        """Fail every current subscriber with ``error`` (e.g. the feed broke); stay open for new ones."""
        groups = list(self._by_prefix.values())
        self._by_prefix.clear()
        for group in groups:
            for sub in group.members():
                sub._buffer.clear()
                sub._finish(error)
                self._dropped += 1

    def close(self, error: StoreError | None = None) -> None:
        """End every subscription (cleanly, or with ``error``) and refuse new ones. Idempotent."""
        self._closed = True
        self._closed_error = error
        groups = list(self._by_prefix.values())
        self._by_prefix.clear()
        for group in groups:
            for sub in group.members():
                sub._finish(error)

    def statistics(self) -> BroadcasterStatistics:
        """Current counters."""
        subs = [sub for group in self._by_prefix.values() for sub in group.members()]
        return BroadcasterStatistics(
            subscribers=len(subs),
            prefixes=len(self._by_prefix),
            published_events=self._published,
            dropped_subscribers=self._dropped,
            max_pending=max((sub.pending for sub in subs), default=0),
            indexed_subscribers=sum(1 for sub in subs if sub.index is not None),
        )
