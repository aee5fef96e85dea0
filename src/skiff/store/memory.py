"""In-memory Store: same semantics as the SQLite backend, nothing durable.

For tests and for ``memory://`` servers. History is kept per key (so reads at past revisions and
compaction behave exactly like the log-structured backends) plus one event log for watches. Every
method runs to completion without awaiting, so each operation is atomic on the event loop.
"""

from __future__ import annotations

import bisect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from skiff.store.broadcaster import Broadcaster, BroadcasterStatistics
from skiff.store.errors import Compacted, FutureRevision, KeyExists, StoreClosed
from skiff.store.interface import (
    DeleteResult,
    Event,
    EventType,
    KeyValue,
    ListResult,
    Revision,
    UpdateResult,
    WatchStream,
)

__all__ = ["MemoryStore", "MemoryStoreStatistics"]


@dataclass(frozen=True, slots=True)
class MemoryStoreStatistics:
    """Counters of a MemoryStore."""

    revision: Revision
    compact_revision: Revision
    keys: int
    events: int
    watch: BroadcasterStatistics


class MemoryStore:
    """A Store held in memory. ``watch_queue_size`` bounds each watcher's buffer."""

    def __init__(self, *, watch_queue_size: int = 10_000) -> None:
        self._revision = Revision(0)
        self._compact_revision = Revision(0)
        self._current: dict[str, KeyValue] = {}
        # Per key, its events in revision order (PUTs and DELETEs), trimmed by compaction.
        self._history: dict[str, list[Event]] = {}
        self._log: list[Event] = []
        self._broadcaster = Broadcaster(queue_size=watch_queue_size)
        self._closed = False

    # -- helpers -------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed()

    def _check_read_revision(self, revision: Revision) -> None:
        if revision < 0:
            raise ValueError("revision must not be negative")
        if revision > self._revision:
            raise FutureRevision(revision, current=self._revision)
        if revision and revision < self._compact_revision:
            raise Compacted(revision, compacted=self._compact_revision, current=self._revision)

    def _append(self, event: Event) -> None:
        self._revision = event.kv.mod_revision
        self._log.append(event)
        self._history.setdefault(event.kv.key, []).append(event)
        if event.type is EventType.DELETE:
            del self._current[event.kv.key]
        else:
            self._current[event.kv.key] = event.kv
        self._broadcaster.publish((event,))

    def _at(self, key: str, revision: Revision) -> KeyValue | None:
        if not revision:
            return self._current.get(key)
        events = self._history.get(key)
        if not events:
            return None
        i = bisect.bisect_right(events, revision, key=lambda e: e.kv.mod_revision)
        if i == 0:
            return None
        event = events[i - 1]
        return None if event.type is EventType.DELETE else event.kv

    # -- Store ---------------------------------------------------------------------------------

    async def create(self, key: str, value: bytes) -> Revision:
        self._check_open()
        if key in self._current:
            raise KeyExists(key)
        revision = Revision(self._revision + 1)
        self._append(Event(EventType.PUT, KeyValue(key, value, revision, revision), None, True))
        return revision

    async def get(self, key: str, *, revision: Revision = Revision(0)) -> KeyValue | None:
        self._check_open()
        self._check_read_revision(revision)
        return self._at(key, revision)

    async def list(
        self,
        prefix: str,
        *,
        revision: Revision = Revision(0),
        limit: int = 0,
        continue_after: str | None = None,
    ) -> ListResult:
        self._check_open()
        self._check_read_revision(revision)
        source = self._current if not revision else self._history
        keys = sorted(
            k
            for k in source
            if k.startswith(prefix) and (continue_after is None or k > continue_after)
        )
        items: list[KeyValue] = []
        more = False
        for k in keys:
            kv = self._at(k, revision)
            if kv is None:
                continue
            if limit > 0 and len(items) == limit:
                more = True
                break
            items.append(kv)
        return ListResult(tuple(items), revision or self._revision, more)

    async def update(self, key: str, value: bytes, *, expected_revision: Revision) -> UpdateResult:
        self._check_open()
        current = self._current.get(key)
        if current is None or (expected_revision and current.mod_revision != expected_revision):
            return UpdateResult(False, self._revision, current)
        revision = Revision(self._revision + 1)
        kv = KeyValue(key, value, current.create_revision, revision)
        self._append(Event(EventType.PUT, kv, current))
        return UpdateResult(True, revision, kv)

    async def delete(self, key: str, *, expected_revision: Revision = Revision(0)) -> DeleteResult:
        self._check_open()
        current = self._current.get(key)
        if current is None or (expected_revision and current.mod_revision != expected_revision):
            return DeleteResult(False, self._revision, current)
        revision = Revision(self._revision + 1)
        tombstone = KeyValue(key, current.value, current.create_revision, revision)
        self._append(Event(EventType.DELETE, tombstone, current))
        return DeleteResult(True, revision, current)

    @asynccontextmanager
    async def watch(
        self, prefix: str, *, revision: Revision = Revision(0)
    ) -> AsyncIterator[WatchStream]:
        self._check_open()
        if revision < 0:
            raise ValueError("revision must not be negative")
        if revision and revision < self._compact_revision:
            raise Compacted(revision, compacted=self._compact_revision, current=self._revision)
        after = revision or self._revision
        start = bisect.bisect_right(self._log, after, key=lambda e: e.kv.mod_revision)
        backlog = [e for e in self._log[start:] if e.kv.key.startswith(prefix)]
        sub = self._broadcaster.subscribe(prefix, after=after, backlog=backlog)
        try:
            yield sub
        finally:
            sub.close()

    async def compact(self, revision: Revision) -> None:
        self._check_open()
        if revision > self._revision:
            raise FutureRevision(revision, current=self._revision)
        if revision <= self._compact_revision:
            return
        cut = bisect.bisect_right(self._log, revision, key=lambda e: e.kv.mod_revision)
        touched = {e.kv.key for e in self._log[:cut]}
        del self._log[:cut]
        for key in touched:
            events = self._history[key]
            i = bisect.bisect_right(events, revision, key=lambda e: e.kv.mod_revision)
            # Keep the newest version as of ``revision`` unless it is a tombstone.
            keep_from = i - 1 if events[i - 1].type is EventType.PUT else i
            del events[:keep_from]
            if not events:
                del self._history[key]
        self._compact_revision = revision

    def current_revision(self) -> Revision:
        return self._revision

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._broadcaster.close()

    def statistics(self) -> MemoryStoreStatistics:
        """Current counters."""
        return MemoryStoreStatistics(
            revision=self._revision,
            compact_revision=self._compact_revision,
            keys=len(self._current),
            events=len(self._log),
            watch=self._broadcaster.statistics(),
        )
