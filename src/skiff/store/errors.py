"""Errors raised by the store layer.

Each layer raises its own errors and the API server translates them at its boundary (kine's
``translateErr``, apiserver ``pkg/storage/errors.go``). A failed compare-and-swap is *not* an error:
``update`` and ``delete`` return a result with ``succeeded=False`` (kine ``LogStructured.Update``
returns ``(rev, kv, false, nil)``), and the API server's registry turns that into ``Conflict``.

Hierarchy::

    StoreError                      base of everything raised by skiff.store
    ├── KeyExists                   create() of a key that exists           -> 409 AlreadyExists
    ├── Compacted                   revision older than the compaction      -> 410 Expired
    │                               point or the watch cache's window
    ├── FutureRevision              revision newer than the store (or the   -> 504 Timeout
    │                               watch cache) has reached                   "Too large resource version"
    ├── WatchDropped                a watcher fell too far behind and was   -> watch ends, client relists
    │                               cut off instead of buffering without bound
    └── StoreClosed                 operation on a closed (or failed) store -> 503
"""

from __future__ import annotations

__all__ = [
    "Compacted",
    "FutureRevision",
    "KeyExists",
    "StoreClosed",
    "StoreError",
    "WatchDropped",
]


class StoreError(Exception):
    """Base class of every error raised by the store layer."""


class KeyExists(StoreError):
    """``create`` was called for a key that currently exists."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key already exists: {key!r}")
        self.key = key


class Compacted(StoreError):
    """The requested revision is no longer available.

    ``requested`` is the revision asked for, ``compacted`` the oldest revision that can still be served
    (everything at or below it has been compacted away, or has left the watch cache's window), and
    ``current`` the newest revision. The API server prints
    ``too old resource version: {requested} ({compacted})``, as the Kubernetes cacher does.
    """

    def __init__(self, requested: int, *, compacted: int, current: int) -> None:
        super().__init__(
            f"too old resource version: {requested} ({compacted}); current revision {current}"
        )
        self.requested = requested
        self.compacted = compacted
        self.current = current


class FutureRevision(StoreError):
    """The requested revision is newer than the store (or cache) has reached.

    Raised by reads at a revision above the current one, and by ``WatchCache.wait_for_revision`` when
    the cache does not catch up in time (the apiserver's "Too large resource version").
    """

    def __init__(self, requested: int, *, current: int) -> None:
        super().__init__(f"too large resource version: {requested}, current: {current}")
        self.requested = requested
        self.current = current


class WatchDropped(StoreError):
    """The watcher fell too far behind and was dropped; list again and watch from the list."""

    def __init__(
        self, message: str = "watcher fell too far behind; relist and watch again"
    ) -> None:
        super().__init__(message)


class StoreClosed(StoreError):
    """The store (or watch cache) is closed, or its background machinery has failed."""

    def __init__(self, message: str = "store is closed") -> None:
        super().__init__(message)
