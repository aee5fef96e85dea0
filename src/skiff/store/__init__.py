"""Revisioned key/value store with watch, kine-shaped. Knows bytes and keys, never API types.

Guarantees: one global revision, incremented by exactly one per successful write (no holes); writes
acknowledged only once durable (SQLite: WAL + ``synchronous=FULL`` with group commit); reads at past
revisions until compaction (then :class:`Compacted`); compare-and-swap as a result, never an
exception; watches deliver every change after a revision, in order, and drop watchers that fall too
far behind (:class:`WatchDropped`) instead of buffering without bound.

Layout: ``interface`` (the :class:`Store` protocol and value types), ``errors``, ``broadcaster``
(watch fan-out), ``memory`` (:class:`MemoryStore`), ``_sqlite``/``_dialect`` (:class:`SQLiteStore`),
``compactor``, ``backend`` (``open_store(url)`` and the typed ``BACKENDS`` registry). The next stage
is the API server's watch cache (``skiff.apiserver.watchcache``), which wraps any Store.
"""

from skiff.store._sqlite import SQLiteStatistics, SQLiteStore
from skiff.store.backend import BACKENDS, open_store
from skiff.store.broadcaster import Broadcaster, BroadcasterStatistics, Subscription
from skiff.store.compactor import Compactor, CompactorStatistics
from skiff.store.errors import (
    Compacted,
    FutureRevision,
    KeyExists,
    StoreClosed,
    StoreError,
    WatchDropped,
)
from skiff.store.interface import (
    DeleteResult,
    Event,
    EventType,
    KeyValue,
    ListResult,
    Revision,
    Store,
    UpdateResult,
    WatchStream,
    prefix_end,
)
from skiff.store.memory import MemoryStore, MemoryStoreStatistics

__all__ = [
    "BACKENDS",
    "Broadcaster",
    "BroadcasterStatistics",
    "Compacted",
    "Compactor",
    "CompactorStatistics",
    "DeleteResult",
    "Event",
    "EventType",
    "FutureRevision",
    "KeyExists",
    "KeyValue",
    "ListResult",
    "MemoryStore",
    "MemoryStoreStatistics",
    "Revision",
    "SQLiteStatistics",
    "SQLiteStore",
    "Store",
    "StoreClosed",
    "StoreError",
    "Subscription",
    "UpdateResult",
    "WatchDropped",
    "WatchStream",
    "open_store",
    "prefix_end",
]
