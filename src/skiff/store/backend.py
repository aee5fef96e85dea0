"""Store backends by URL scheme: the typed registry ``skiff.cmd`` opens its datastore through.

``BACKENDS`` maps a scheme to an opener (kine registers drivers by scheme, ``pkg/drivers/registry.go``).
It is typed to return :class:`Store`, so mypy rejects a backend that does not satisfy the protocol
(the Python analogue of kine's ``var _ server.Backend = &Memory{}``). URLs:

* ``memory://`` - :class:`MemoryStore`; nothing is kept across restarts.
* ``sqlite:///abs/path/state.db`` or ``sqlite://relative/state.db`` - :class:`SQLiteStore`.

Options go in the query string and are passed as keyword arguments, e.g.
``sqlite:///var/lib/skiff/server/db/state.db?max_batch=500&readers=2``. The ``etcd://`` backend
comes in a later change.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable

from skiff.store._sqlite import SQLiteStore
from skiff.store.interface import Store
from skiff.store.memory import MemoryStore

__all__ = ["BACKENDS", "Opener", "open_store"]

Opener = Callable[[urllib.parse.SplitResult, dict[str, int]], Awaitable[Store]]
"""Opens a store from a parsed URL and its integer options."""

_SQLITE_OPTIONS = frozenset({"readers", "max_batch", "watch_queue_size", "compact_chunk"})
_MEMORY_OPTIONS = frozenset({"watch_queue_size"})


async def _open_memory(url: urllib.parse.SplitResult, options: dict[str, int]) -> Store:
    _check_options(url, options, _MEMORY_OPTIONS)
    return MemoryStore(**options)


async def _open_sqlite(url: urllib.parse.SplitResult, options: dict[str, int]) -> Store:
    _check_options(url, options, _SQLITE_OPTIONS)
    path = url.netloc + url.path
    if not path or path == "/":
        raise ValueError(f"sqlite URL needs a file path: {url.geturl()!r}")
    return await SQLiteStore.open(path, **options)


def _check_options(
    url: urllib.parse.SplitResult, options: dict[str, int], allowed: frozenset[str]
) -> None:
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for {url.scheme!r} store")


BACKENDS: dict[str, Opener] = {
    "memory": _open_memory,
    "sqlite": _open_sqlite,
}


async def open_store(url: str) -> Store:
    """Open the store named by ``url``; the caller owns it and must ``await store.close()``."""
    parts = urllib.parse.urlsplit(url)
    opener = BACKENDS.get(parts.scheme)
    if opener is None:
        raise ValueError(
            f"unknown store scheme {parts.scheme!r} in {url!r}; known: {sorted(BACKENDS)}"
        )
    options: dict[str, int] = {}
    for name, value in urllib.parse.parse_qsl(parts.query, strict_parsing=bool(parts.query)):
        try:
            options[name] = int(value)
        except ValueError:
            raise ValueError(f"store option {name}={value!r} is not an integer") from None
    return await opener(parts, options)
