"""SQLite Store: kine's log-structured table, one writer thread with group commit, pooled readers.

Threads and the event loop:

* **One writer thread** owns the only write connection. Callers on the loop put operations on a
  thread-safe queue and await a future. The writer takes everything queued (up to ``max_batch``),
  runs it in one ``BEGIN IMMEDIATE`` transaction, ``COMMIT``s (with ``synchronous=FULL`` that is one
  fsync of the WAL for the whole batch: group commit), and only then hands the batch back to the loop
  in a single ``call_soon_threadsafe``. There the events are published to watchers and the futures
  resolved, so a write is acknowledged only once durable, and watchers never see an uncommitted
  write. One writer also means compare-and-swap is decided in Python against the key's newest row:
  a failed compare inserts nothing, so it consumes no revision, and the revision sequence has no
  holes (a failed COMMIT rolls back the whole batch, ids included).
* **The writer's index.** The writer keeps each key's newest row in memory (revision, create
  revision, tombstone or not, and the value once written: the same bytes object the watch cache
  holds), read from the table at open and updated only after a COMMIT succeeds. A batch is then
  decided without reading SQLite and appended with one multi-row ``INSERT``: four calls into SQLite
  per batch instead of two per write. That matters because each call releases the GIL and must win
  it back from a busy event loop, which takes up to a switch interval; with a write's ``SELECT`` and
  ``INSERT`` on their own, a loop kept busy with 0.5 ms steps let 40-50 writes/s through with a 1.1-
  1.6 s median, and 820-900 writes/s with a 51-61 ms median after (``bench`` notes, December 2026).
* **Reads** run on a small thread pool, each thread with its own read connection. WAL lets them run
  concurrently with the writer and gives each read one consistent snapshot (``BEGIN`` ... ``COMMIT``
  around the queries). A thread hop costs tens of microseconds, far less than a blocked loop; the API
  server's hot reads are served by the watch cache from memory anyway.
* **Watches** need no polling: this process is the only writer (a lock file enforces it), so the
  commit path itself is the notify loop feeding the broadcaster. A watch from a past revision
  subscribes first, then replays history from the table in one snapshot; the subscription skips
  what the replay already delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import fcntl
import os
import queue
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from skiff.store import _dialect as sql
from skiff.store.broadcaster import Broadcaster, BroadcasterStatistics
from skiff.store.errors import Compacted, FutureRevision, KeyExists, StoreClosed, StoreError
from skiff.store.interface import (
    DeleteResult,
    Event,
    EventType,
    KeyValue,
    ListResult,
    Revision,
    UpdateResult,
    WatchStream,
    prefix_end,
)

__all__ = ["SQLiteStatistics", "SQLiteStore"]

_T = TypeVar("_T")

# The writer's index entry of a key's newest row: (revision, create revision, deleted, value), the
# value None when it was not written since the store opened (read on demand) or is a tombstone.
_Latest = tuple[int, int, bool, bytes | None]

# Rows per multi-row INSERT statement: few distinct statements for sqlite3's statement cache, and
# far below SQLite's limit of 32,766 parameters.
_INSERT_CHUNK = 64

# Rows of ``kine`` as selected with ``ROW_COLUMNS``.
_Row = tuple[int, str, int, int, int, int, bytes, bytes | None]


class _Kind(enum.Enum):
    CREATE = enum.auto()
    UPDATE = enum.auto()
    DELETE = enum.auto()
    COMPACT = enum.auto()


class _Op:
    """One queued write; ``outcome`` is filled in by the writer thread."""

    __slots__ = ("expected", "future", "key", "kind", "value")

    def __init__(
        self,
        kind: _Kind,
        future: asyncio.Future[Any],
        key: str = "",
        value: bytes = b"",
        expected: int = 0,
    ) -> None:
        self.kind = kind
        self.future = future
        self.key = key
        self.value = value
        self.expected = expected


@dataclass(frozen=True, slots=True)
class SQLiteStatistics:
    """Counters of a SQLiteStore (trio-style ``statistics()``).

    ``transactions`` below ``writes`` is group commit at work: ``writes / transactions`` operations
    shared each fsync.
    """

    revision: Revision
    compact_revision: Revision
    writes: int
    transactions: int
    failed_transactions: int
    max_batch: int
    watch: BroadcasterStatistics


def _kv(row: _Row) -> KeyValue:
    return KeyValue(row[1], row[6], Revision(row[4]), Revision(row[0]))


def _event(row: _Row) -> Event:
    rid, name, created, deleted, create_rev, prev_rev, value, old_value = row
    kv = KeyValue(name, value, Revision(create_rev), Revision(rid))
    if created:
        return Event(EventType.PUT, kv, None, True)
    prev = KeyValue(name, old_value or b"", Revision(create_rev), Revision(prev_rev))
    return Event(EventType.DELETE if deleted else EventType.PUT, kv, prev)


class SQLiteStore:
    """The kine-shaped SQLite backend. Open with ``await SQLiteStore.open(path)``; ``close()`` it.

    Options: ``readers`` (read threads), ``max_batch`` (most writes per transaction),
    ``watch_queue_size`` (per-watcher buffer bound before the watcher is dropped),
    ``compact_chunk`` (revisions compacted per transaction, so compaction never holds the write lock
    for long).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        readers: int = 4,
        max_batch: int = 1000,
        watch_queue_size: int = 10_000,
        compact_chunk: int = 1000,
    ) -> None:
        self._path = str(path)
        self._max_batch = max_batch
        self._compact_chunk = compact_chunk
        self._broadcaster = Broadcaster(queue_size=watch_queue_size)
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="skiff-sqlite-r")
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._writer_conn: sqlite3.Connection | None = None
        self._writer_done: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock_fd: int | None = None
        self._compact_lock = asyncio.Lock()
        self._opened = False
        self._closed = False
        # Loop-side view: the newest revision published to watchers and acknowledged to writers.
        self._revision = Revision(0)
        self._compact_revision = Revision(0)
        # Writer-side counters (only the writer thread mutates them).
        self._writes = 0
        self._transactions = 0
        self._failed = 0
        self._max_seen_batch = 0
        # Writer-side state: the newest revision written and the newest row of every key, so a
        # write is decided without reading SQLite (only the writer thread touches them once open).
        self._writer_revision = 0
        self._latest: dict[str, _Latest] = {}
        self._tombstones: set[str] = set()
        """Keys of ``_latest`` whose newest row is a tombstone (what compaction may remove)."""

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        readers: int = 4,
        max_batch: int = 1000,
        watch_queue_size: int = 10_000,
        compact_chunk: int = 1000,
    ) -> SQLiteStore:
        """Open (creating if needed) the database at ``path`` and start the writer thread.

        Raises :class:`StoreError` if another process holds the database.
        """
        store = cls(
            path,
            readers=readers,
            max_batch=max_batch,
            watch_queue_size=watch_queue_size,
            compact_chunk=compact_chunk,
        )
        await store._open()
        return store

    async def __aenter__(self) -> Self:
        if not self._opened:
            await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _open(self) -> None:
        if self._opened:
            raise RuntimeError("store already opened")
        self._opened = True
        self._loop = asyncio.get_running_loop()
        try:
            revision, compact = await self._loop.run_in_executor(self._readers, self._setup)
        except BaseException:
            self._closed = True
            self._readers.shutdown(wait=False)
            self._release_lock()
            raise
        self._revision = Revision(revision)
        self._compact_revision = Revision(compact)
        self._writer_done = self._loop.create_future()
        self._writer = threading.Thread(
            target=self._writer_main, name="skiff-sqlite-writer", daemon=True
        )
        self._writer.start()

    def _setup(self) -> tuple[int, int]:
        """Take the process lock, create the schema, return (revision, compact revision)."""
        Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"database {self._path} is in use by another process") from exc
        self._lock_fd = fd
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            sql.configure(conn)
            for statement in sql.SCHEMA:
                conn.execute(statement)
            revision = _scalar(conn, sql.SELECT_CURRENT_REVISION)
            compact = _scalar(conn, sql.SELECT_COMPACT_REVISION)
            self._writer_revision = revision
            self._latest = {
                name: (rid, create_rev, bool(deleted), None)
                for name, rid, create_rev, deleted in conn.execute(sql.SELECT_LATEST_ROWS)
            }
            self._tombstones = {name for name, latest in self._latest.items() if latest[2]}
        except BaseException:
            conn.close()
            raise
        self._writer_conn = conn
        return revision, compact

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    # -- the writer thread -------------------------------------------------------------------

    def _writer_main(self) -> None:
        conn = self._writer_conn
        assert conn is not None and self._loop is not None
        try:
            stop = False
            while not stop:
                op = self._queue.get()
                if op is None:
                    break
                batch = [op]
                while len(batch) < self._max_batch:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stop = True
                        break
                    batch.append(nxt)
                self._commit(conn, batch)
        finally:
            conn.close()
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                self._loop.call_soon_threadsafe(_set_done, self._writer_done)

    def _commit(self, conn: sqlite3.Connection, batch: list[_Op]) -> None:
        """One transaction for ``batch``: decide each compare against the writer's index, append
        every row with one multi-row ``INSERT`` (per chunk), ``COMMIT``, then hand the outcomes
        to the loop.

        Each call into SQLite releases the GIL and must win it back, which costs up to a switch
        interval (5 ms) while the loop thread is busy: a ``SELECT`` and an ``INSERT`` per write
        made a batch of 50 writes wait for the GIL a hundred times, and under load every write
        waited behind that. A batch now makes four calls, whatever its size.
        """
        assert self._loop is not None
        outcomes: list[object] = []
        events: list[Event] = []
        rows: list[tuple[object, ...]] = []
        staged: dict[str, _Latest] = {}
        compact_to = 0
        revision = self._writer_revision
        try:
            conn.execute("BEGIN IMMEDIATE")
            for op in batch:
                if op.kind is _Kind.COMPACT:
                    self._insert(conn, rows)
                    compact_to = max(compact_to, self._compact(conn, op.expected))
                    outcomes.append(None)
                    continue
                outcome, event = self._apply(conn, op, revision, staged, rows)
                if event is not None:
                    revision = event.kv.mod_revision
                    events.append(event)
                outcomes.append(outcome)
            self._insert(conn, rows)
            conn.execute("COMMIT")
        except Exception as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            self._failed += 1
            error = StoreError(f"transaction failed: {exc}")
            error.__cause__ = exc
            outcomes = [error] * len(batch)
            events = []
            compact_to = 0
        else:
            self._writer_revision = revision
            self._latest.update(staged)
            for key, latest in staged.items():
                if latest[2]:
                    self._tombstones.add(key)
                else:
                    self._tombstones.discard(key)
            if compact_to:
                # the compacted tombstones are gone from the table: a key created again starts
                # with no previous row, as a SELECT would have found (only tombstones are looked
                # at, not every key: compaction runs in chunks, each a transaction of its own)
                for key in [k for k in self._tombstones if self._latest[k][0] <= compact_to]:
                    del self._latest[key]
                    self._tombstones.discard(key)
        self._transactions += 1
        self._writes += len(batch)
        self._max_seen_batch = max(self._max_seen_batch, len(batch))
        with contextlib.suppress(RuntimeError):  # loop closed: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._deliver, batch, outcomes, events, compact_to)

    @staticmethod
    def _insert(conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
        """Append ``rows`` (and empty the list): one statement per ``_INSERT_CHUNK`` rows."""
        for start in range(0, len(rows), _INSERT_CHUNK):
            chunk = rows[start : start + _INSERT_CHUNK]
            conn.execute(sql.insert_rows(len(chunk)), [v for row in chunk for v in row])
        rows.clear()

    def _apply(
        self,
        conn: sqlite3.Connection,
        op: _Op,
        revision: int,
        staged: dict[str, _Latest],
        rows: list[tuple[object, ...]],
    ) -> tuple[object, Event | None]:
        """Compare one write against the key's newest row (the index, with this transaction's
        earlier writes staged over it); if it wins, queue its row; return (outcome for the
        caller, event if written)."""
        key = op.key
        latest = staged.get(key) or self._latest.get(key)
        live = latest is not None and not latest[2]
        new = Revision(revision + 1)
        if op.kind is _Kind.CREATE:
            if live:
                return KeyExists(key), None
            prev = latest[0] if latest is not None else 0
            rows.append((new, key, 1, 0, new, prev, op.value, None))
            staged[key] = (new, new, False, op.value)
            return new, Event(EventType.PUT, KeyValue(key, op.value, new, new), None, True)
        if latest is None or not live:
            failed = Revision(revision)
            if op.kind is _Kind.UPDATE:
                return UpdateResult(False, failed, None), None
            return DeleteResult(False, failed, None), None
        mod_rev, create_rev, _, value = latest
        if value is None:  # not written since the store opened: read it once
            value = self._value(conn, key, mod_rev)
        current = KeyValue(key, value, Revision(create_rev), Revision(mod_rev))
        if op.expected and mod_rev != op.expected:
            failed = Revision(revision)
            if op.kind is _Kind.UPDATE:
                return UpdateResult(False, failed, current), None
            return DeleteResult(False, failed, current), None
        if op.kind is _Kind.UPDATE:
            rows.append((new, key, 0, 0, create_rev, mod_rev, op.value, value))
            staged[key] = (new, create_rev, False, op.value)
            kv = KeyValue(key, op.value, Revision(create_rev), new)
            return UpdateResult(True, new, kv), Event(EventType.PUT, kv, current)
        rows.append((new, key, 0, 1, create_rev, mod_rev, value, value))
        staged[key] = (new, create_rev, True, None)
        tombstone = KeyValue(key, value, Revision(create_rev), new)
        return DeleteResult(True, new, current), Event(EventType.DELETE, tombstone, current)

    @staticmethod
    def _value(conn: sqlite3.Connection, key: str, mod_rev: int) -> bytes:
        """The stored value of ``key`` at ``mod_rev`` (a row of an earlier transaction: rows of
        this one carry their value in the index)."""
        row = conn.execute(sql.SELECT_VALUE, (mod_rev,)).fetchone()
        if row is None:
            raise StoreError(f"the index names revision {mod_rev} of {key}, which is missing")
        return bytes(row[0])

    def _compact(self, conn: sqlite3.Connection, upto: int) -> int:
        done = _scalar(conn, sql.SELECT_COMPACT_REVISION)
        if upto <= done:
            return done
        conn.execute(sql.COMPACT_DELETE_SUPERSEDED, (done, upto))
        conn.execute(sql.COMPACT_DELETE_TOMBSTONES, (done, upto))
        conn.execute(sql.SET_COMPACT_REVISION, (upto,))
        return upto

    # -- back on the loop --------------------------------------------------------------------

    def _deliver(
        self, batch: list[_Op], outcomes: list[object], events: list[Event], compact_to: int
    ) -> None:
        if events:
            self._revision = events[-1].kv.mod_revision
            self._broadcaster.publish(events)
        if compact_to > self._compact_revision:
            self._compact_revision = Revision(compact_to)
        for op, outcome in zip(batch, outcomes, strict=True):
            future = op.future
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    async def _submit(self, op: _Op) -> Any:
        if self._closed or not self._opened:
            op.future.cancel()
            raise StoreClosed()
        self._queue.put(op)
        return await op.future

    def _new_future(self) -> asyncio.Future[Any]:
        if self._loop is None:
            raise StoreClosed("store is not open")
        return self._loop.create_future()

    # -- reads -------------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            sql.configure(conn)
            self._local.conn = conn
            with self._reader_lock:
                self._reader_conns.append(conn)
        return conn

    def _snapshot(self, body: Callable[[sqlite3.Connection, int, int], _T]) -> _T:
        """Run ``body(conn, current, compact)`` inside one read transaction (one snapshot)."""
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            current = _scalar(conn, sql.SELECT_CURRENT_REVISION)
            compact = _scalar(conn, sql.SELECT_COMPACT_REVISION)
            return body(conn, current, compact)
        finally:
            conn.execute("COMMIT")

    async def _read(self, body: Callable[[sqlite3.Connection, int, int], _T]) -> _T:
        if self._closed or self._loop is None:
            raise StoreClosed()
        return await self._loop.run_in_executor(self._readers, self._snapshot, body)

    @staticmethod
    def _check_revision(revision: int, current: int, compact: int) -> None:
        if revision < 0:
            raise ValueError("revision must not be negative")
        if revision > current:
            raise FutureRevision(revision, current=current)
        if revision and revision < compact:
            raise Compacted(revision, compacted=compact, current=current)

    # -- Store -------------------------------------------------------------------------------

    async def create(self, key: str, value: bytes) -> Revision:
        revision: Revision = await self._submit(
            _Op(_Kind.CREATE, self._new_future(), key, bytes(value))
        )
        return revision

    async def update(self, key: str, value: bytes, *, expected_revision: Revision) -> UpdateResult:
        result: UpdateResult = await self._submit(
            _Op(_Kind.UPDATE, self._new_future(), key, bytes(value), expected_revision)
        )
        return result

    async def delete(self, key: str, *, expected_revision: Revision = Revision(0)) -> DeleteResult:
        result: DeleteResult = await self._submit(
            _Op(_Kind.DELETE, self._new_future(), key, b"", expected_revision)
        )
        return result

    async def get(self, key: str, *, revision: Revision = Revision(0)) -> KeyValue | None:
        def body(conn: sqlite3.Connection, current: int, compact: int) -> KeyValue | None:
            self._check_revision(revision, current, compact)
            row: _Row | None = conn.execute(
                sql.SELECT_LATEST_AT, (key, revision or current)
            ).fetchone()
            return None if row is None or row[3] else _kv(row)

        return await self._read(body)

    async def list(
        self,
        prefix: str,
        *,
        revision: Revision = Revision(0),
        limit: int = 0,
        continue_after: str | None = None,
    ) -> ListResult:
        end = prefix_end(prefix)
        if continue_after is not None and continue_after >= prefix:
            lower, after = continue_after, True
        else:
            lower, after = prefix, False
        query = sql.list_query(bounded=end is not None, after=after, limit=limit > 0)

        def body(conn: sqlite3.Connection, current: int, compact: int) -> ListResult:
            self._check_revision(revision, current, compact)
            at = revision or current
            params: list[object] = [lower]
            if end is not None:
                params.append(end)
            params.append(at)
            if limit > 0:
                params.append(limit + 1)
            rows: list[_Row] = conn.execute(query, params).fetchall()
            more = limit > 0 and len(rows) > limit
            if more:
                rows = rows[:limit]
            return ListResult(tuple(_kv(r) for r in rows), Revision(at), more)

        return await self._read(body)

    @asynccontextmanager
    async def watch(
        self, prefix: str, *, revision: Revision = Revision(0)
    ) -> AsyncIterator[WatchStream]:
        if self._closed or not self._opened:
            raise StoreClosed()
        if revision < 0:
            raise ValueError("revision must not be negative")
        # Subscribe first so nothing published while history is read can be missed.
        sub = self._broadcaster.subscribe(prefix, after=revision or self._revision)
        try:
            if revision:

                def history(conn: sqlite3.Connection, current: int, compact: int) -> list[Event]:
                    if revision < compact:
                        raise Compacted(revision, compacted=compact, current=current)
                    out: list[Event] = []
                    after: int = revision
                    while True:
                        rows: list[_Row] = conn.execute(sql.SELECT_AFTER, (after, 5000)).fetchall()
                        out.extend(_event(r) for r in rows if r[1].startswith(prefix))
                        if len(rows) < 5000:
                            return out
                        after = rows[-1][0]

                sub.prepend(await self._read(history))
            yield sub
        finally:
            sub.close()

    async def compact(self, revision: Revision) -> None:
        if revision > self._revision:
            raise FutureRevision(revision, current=self._revision)
        async with self._compact_lock:
            lo = self._compact_revision
            while lo < revision:
                hi = min(lo + self._compact_chunk, revision)
                await self._submit(_Op(_Kind.COMPACT, self._new_future(), expected=hi))
                lo = Revision(hi)

    def current_revision(self) -> Revision:
        return self._revision

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._writer is not None and self._writer_done is not None:
            self._queue.put(None)
            await self._writer_done
            self._writer.join()
        self._broadcaster.close()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._readers.shutdown, True)
        with self._reader_lock:
            for conn in self._reader_conns:
                conn.close()
            self._reader_conns.clear()
        self._release_lock()

    def statistics(self) -> SQLiteStatistics:
        """Current counters (writer counters are read without locking; they only grow)."""
        return SQLiteStatistics(
            revision=self._revision,
            compact_revision=self._compact_revision,
            writes=self._writes,
            transactions=self._transactions,
            failed_transactions=self._failed,
            max_batch=self._max_seen_batch,
            watch=self._broadcaster.statistics(),
        )


def _scalar(conn: sqlite3.Connection, query: str) -> int:
    row = conn.execute(query).fetchone()
    return int(row[0]) if row is not None else 0


def _set_done(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)
