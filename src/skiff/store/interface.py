"""The Store protocol and its value types: a revisioned key/value store with watch.

Shape (etcd v3 / kine ``pkg/server/types.go``): string keys, ``bytes`` values, one global revision
that every write increments by exactly one. Each key remembers the revision that created it
(``create_revision``) and the one that last modified it (``mod_revision``, the object's
``resourceVersion``). Reads may be taken at a past revision until it is compacted away.

Sync vs async: every method that may touch the disk is a coroutine, because the API server runs on
one asyncio loop and SQLite I/O must never block it. ``current_revision()`` and ``watch()`` only
touch memory and are plain methods (trio's rule: async-coloured iff it may block); the watch
context manager's ``__aenter__`` is where history is read.

Conformance is checked statically: backends are registered in ``skiff.store.backend.BACKENDS``,
typed to return ``Store``, so mypy rejects a backend that drifts from this protocol.
"""

from __future__ import annotations

import enum
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import NewType, Protocol, Self

__all__ = [
    "DeleteResult",
    "Event",
    "EventType",
    "KeyValue",
    "ListResult",
    "Revision",
    "Store",
    "UpdateResult",
    "WatchStream",
    "prefix_end",
]

Revision = NewType("Revision", int)
"""A global store revision; the API server's ``resourceVersion``. 0 means "latest" in reads."""


@dataclass(frozen=True, slots=True)
class KeyValue:
    """One version of one key.

    ``create_revision`` is the revision of the create that started this incarnation of the key (a
    delete followed by a create starts a new one); ``mod_revision`` is the revision of the write that
    produced this version.
    """

    key: str
    value: bytes
    create_revision: Revision
    mod_revision: Revision


class EventType(enum.Enum):
    """Kind of change carried by an :class:`Event` (etcd's ``mvccpb.Event_EventType``)."""

    PUT = "PUT"
    """The key was created (``Event.create`` is true) or updated."""
    DELETE = "DELETE"
    """The key was deleted."""


@dataclass(frozen=True, slots=True)
class Event:
    """One change, as delivered to watchers.

    For ``PUT``, ``kv`` is the new version. For ``DELETE``, ``kv`` is the last value with
    ``mod_revision`` set to the revision of the delete (what the API server sends as the ``DELETED``
    object, carrying the new ``resourceVersion``). ``prev_kv`` is the version the change replaced,
    ``None`` for creates; it is always present for updates and deletes (kine keeps ``old_value`` in
    each row for exactly this).
    """

    type: EventType
    kv: KeyValue
    prev_kv: KeyValue | None
    create: bool = False

    @property
    def revision(self) -> Revision:
        """The revision of the write that produced this event."""
        return self.kv.mod_revision


@dataclass(frozen=True, slots=True)
class ListResult:
    """A page of a list.

    ``items`` are sorted by key. ``revision`` is the revision the list was taken at; pass it back as
    ``revision=`` together with ``continue_after=items[-1].key`` to read the next page of the same
    snapshot. ``more`` is true when items beyond this page exist.
    """

    items: tuple[KeyValue, ...]
    revision: Revision
    more: bool

    @property
    def last_key(self) -> str | None:
        """Key of the last item, from which a continue token is built; ``None`` for an empty page."""
        return self.items[-1].key if self.items else None


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """Outcome of a compare-and-swap update.

    On success ``kv`` is the new version and ``revision`` its ``mod_revision``. On a failed compare
    ``kv`` is the current version (``None`` if the key does not exist) and ``revision`` the store's
    revision when the compare was made, so a cache can be waited on before retrying.
    """

    succeeded: bool
    revision: Revision
    kv: KeyValue | None


@dataclass(frozen=True, slots=True)
class DeleteResult:
    """Outcome of a (conditional) delete.

    On success ``kv`` is the deleted version (its last value and ``mod_revision``) and ``revision`` the
    revision of the delete. On failure ``kv`` is the current version, or ``None`` when the key does not
    exist, and ``revision`` the store's revision when the compare was made.
    """

    succeeded: bool
    revision: Revision
    kv: KeyValue | None


class WatchStream(Protocol):
    """Events of one watch, in revision order, each revision exactly once.

    Iteration ends (``StopAsyncIteration``, or an empty batch) when the store is closed. It raises
    :class:`~skiff.store.errors.WatchDropped` when the watcher fell too far behind: the caller must
    list again and watch from the list's revision.
    """

    @property
    def progress_revision(self) -> Revision:
        """Revision up to which every event of this watch has been delivered (for bookmarks)."""
        ...

    def __aiter__(self) -> Self: ...

    async def __anext__(self) -> Event: ...

    async def next_batch(self, *, limit: int = 0) -> list[Event]:
        """Wait for at least one event and return every event ready now (at most ``limit`` if > 0).

        Returns ``[]`` once the stream has ended, or early after :meth:`poke` (check
        :attr:`closed` to tell the two apart). Lets a consumer pay one wake-up per burst.
        Cancelling a pending call loses no events (safe under ``asyncio.wait_for``).
        """
        ...

    def poke(self) -> None:
        """Make a pending (or the next) ``next_batch`` return, with ``[]`` if nothing is ready.

        Cheaper than a timeout around every wait: a consumer with periodic work (bookmarks, a
        deadline) arms one timer that pokes the stream. Must be called on the event loop.
        """
        ...

    @property
    def closed(self) -> bool:
        """Whether the stream has ended (no more events will come)."""
        ...


class Store(Protocol):
    """A revisioned key/value store with watch. Implementations: MemoryStore, SQLiteStore, WatchCache.

    Every successful write increments the global revision by exactly one (no holes), and is
    acknowledged only once it is durable for durable backends. Reads at ``revision=0`` see the latest
    state; reads at ``revision=R`` see the state right after revision ``R`` was written, raise
    :class:`Compacted` if ``R`` is below the compaction point and :class:`FutureRevision` if ``R`` is
    above the current revision. All methods may raise :class:`StoreClosed` after ``close()``.
    """

    async def create(self, key: str, value: bytes) -> Revision:
        """Create ``key``; return the revision of the write. Raises ``KeyExists`` if it exists."""
        ...

    async def get(self, key: str, *, revision: Revision = Revision(0)) -> KeyValue | None:
        """Return ``key`` as of ``revision`` (0: latest), or ``None`` if it does not exist then."""
        ...

    async def list(
        self,
        prefix: str,
        *,
        revision: Revision = Revision(0),
        limit: int = 0,
        continue_after: str | None = None,
    ) -> ListResult:
        """List the keys starting with ``prefix`` as of ``revision`` (0: latest), sorted by key.

        ``limit`` > 0 caps the page size; ``continue_after`` skips keys up to and including it (the
        last key of the previous page; pass that page's ``revision`` too, for a consistent snapshot).
        """
        ...

    async def update(self, key: str, value: bytes, *, expected_revision: Revision) -> UpdateResult:
        """Replace ``key``'s value if its ``mod_revision`` equals ``expected_revision``.

        ``expected_revision=0`` updates whatever version exists (an unconditional update). A missing
        key or a failed compare yields ``succeeded=False``; it never raises for that.
        """
        ...

    async def delete(self, key: str, *, expected_revision: Revision = Revision(0)) -> DeleteResult:
        """Delete ``key`` if its ``mod_revision`` equals ``expected_revision`` (0: unconditionally).

        A missing key or a failed compare yields ``succeeded=False``; it never raises for that.
        """
        ...

    def watch(
        self, prefix: str, *, revision: Revision = Revision(0)
    ) -> AbstractAsyncContextManager[WatchStream]:
        """Watch keys starting with ``prefix`` for every change with a revision above ``revision``.

        ``revision=0`` (or the current revision) delivers only changes made from now on. Used as
        ``async with store.watch(p, revision=r) as events: async for event in events: ...``;
        entering raises :class:`Compacted` if changes after ``revision`` are no longer available.
        """
        ...

    async def compact(self, revision: Revision) -> None:
        """Discard history at and below ``revision``, keeping each key's newest version as of it.

        Afterwards reads and watches below ``revision`` raise ``Compacted``. Compacting at or below the
        current compaction point does nothing; above the current revision raises ``FutureRevision``.
        """
        ...

    def current_revision(self) -> Revision:
        """The revision of the newest acknowledged write (0 for an empty store)."""
        ...

    async def close(self) -> None:
        """Release resources and end all watches. Writes already acknowledged stay durable."""
        ...


def prefix_end(prefix: str) -> str | None:
    """Smallest string greater than every string starting with ``prefix`` (None: no upper bound).

    Python compares ``str`` by code point and SQLite's BINARY collation compares UTF-8 bytes, which
    order identically, so this bound serves both backends.
    """
    for i in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[i])
        if code < 0x10FFFF:
            nxt = code + 1
            if 0xD800 <= nxt <= 0xDFFF:  # surrogates cannot be encoded; skip over them
                nxt = 0xE000
            return prefix[:i] + chr(nxt)
    return None
