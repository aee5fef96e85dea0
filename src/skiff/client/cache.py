"""The informer cache: an `Indexer` of immutable objects keyed ``"namespace/name"``, with indexes.

Objects are stored as `skiff.client.frozen.FrozenDict` (recursively read-only; plain mappings
given to `Indexer.upsert` are frozen) or as the frozen views an informer's transform builds
(`skiff.client.view`), so every reader can share them; callers wanting to change one take a
mutable copy with `thaw`. Keys come only from `skiff.client.resource.object_key` (client-go
``MetaNamespaceKeyFunc``); index functions and selectors read metadata through
`skiff.client.view.object_meta`, so they work on both.

Concurrency: every method is synchronous and never awaits, so within one asyncio event loop each
call is atomic with respect to other tasks — the asyncio analogue of client-go's
``threadSafeMap`` lock. Do not share an `Indexer` across threads.

Indexes (client-go ``cache.Indexers``): the ``namespace`` index is always present; add label-based
ones with `label_index_func` / `labels_index_func`, or any ``IndexFunc`` returning the index values
of an object.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from skiff.client.frozen import FrozenDict, freeze
from skiff.client.resource import object_key
from skiff.client.view import object_meta

__all__ = [
    "LABELS_INDEX",
    "NAMESPACE_INDEX",
    "IndexFunc",
    "Indexer",
    "label_index_func",
    "labels_index_func",
    "namespace_index_func",
    "stored_form",
]

T = TypeVar("T")

IndexFunc = Callable[[Any], Iterable[str]]
"""Returns the values under which a cached object (mapping or view) is indexed (possibly none)."""

NAMESPACE_INDEX = "namespace"
LABELS_INDEX = "labels"


def namespace_index_func(obj: Any) -> list[str]:
    """client-go ``MetaNamespaceIndexFunc``: the object's namespace (``""`` if cluster-scoped)."""
    return [str(object_meta(obj).get("namespace") or "")]


def labels_index_func(obj: Any) -> list[str]:
    """Every ``"key=value"`` label pair, so ``by_index(LABELS_INDEX, "app=web")`` finds objects."""
    meta = object_meta(obj)
    labels: Mapping[str, Any] = meta.get("labels") or {}
    return [f"{k}={v}" for k, v in labels.items()]


def label_index_func(key: str) -> IndexFunc:
    """An index on the value of label ``key`` (objects without the label are not indexed)."""

    def index(obj: Any) -> list[str]:
        meta = object_meta(obj)
        labels: Mapping[str, Any] = meta.get("labels") or {}
        return [str(labels[key])] if key in labels else []

    return index


def stored_form(obj: Any) -> Any:
    """What the cache keeps: mappings frozen (shared if already frozen), views as they are."""
    if isinstance(obj, Mapping) and not isinstance(obj, FrozenDict):
        return freeze(obj)
    return obj


class Indexer(Generic[T]):
    """A keyed store of immutable objects (``T``: `FrozenDict` or a view) plus secondary indexes."""

    def __init__(self, indexers: Mapping[str, IndexFunc] | None = None) -> None:
        self._items: dict[str, T] = {}
        self._index_funcs: dict[str, IndexFunc] = {NAMESPACE_INDEX: namespace_index_func}
        # index name -> index value -> keys
        self._indices: dict[str, dict[str, set[str]]] = {NAMESPACE_INDEX: {}}
        self.resource_version = ""
        if indexers:
            self.add_indexers(indexers)

    # -- configuration --------------------------------------------------------------------

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        """Add indexes (existing objects are indexed right away); names must be new."""
        for name, func in indexers.items():
            if name in self._index_funcs:
                raise ValueError(f"indexer {name!r} already exists")
            self._index_funcs[name] = func
            self._indices[name] = {}
            for key, obj in self._items.items():
                self._index_one(name, key, obj)

    # -- writes (the informer's) ----------------------------------------------------------

    def upsert(self, obj: T | Mapping[str, Any]) -> tuple[T | None, T]:
        """Insert or replace ``obj`` (a plain mapping is frozen); returns ``(previous, stored)``."""
        stored: T = stored_form(obj)
        key = object_key(stored)
        previous = self._items.get(key)
        if previous is not None:
            self._unindex(key, previous)
        self._items[key] = stored
        for name in self._index_funcs:
            self._index_one(name, key, stored)
        return previous, stored

    def delete(self, obj_or_key: T | Mapping[str, Any] | str) -> T | None:
        """Remove an object (by object or key); returns what was stored, if anything."""
        key = obj_or_key if isinstance(obj_or_key, str) else object_key(obj_or_key)
        previous = self._items.pop(key, None)
        if previous is not None:
            self._unindex(key, previous)
        return previous

    def replace(
        self, objects: Iterable[T | Mapping[str, Any]], resource_version: str
    ) -> tuple[
        builtins.list[T],
        builtins.list[tuple[T, T]],
        builtins.list[T],
    ]:
        """Make the store hold exactly ``objects`` (a relist); returns ``(added, updated
        (old, new) pairs whose resourceVersion changed, deleted)``."""
        fresh: dict[str, T] = {}
        for o in objects:
            fresh[object_key(o)] = stored_form(o)
        deleted = [self._items[k] for k in self._items.keys() - fresh.keys()]
        for obj in deleted:
            self.delete(obj)
        added: builtins.list[T] = []
        updated: builtins.list[tuple[T, T]] = []
        for obj in fresh.values():
            previous, stored = self.upsert(obj)
            if previous is None:
                added.append(stored)
            elif _rv(previous) != _rv(stored) or previous != stored:
                updated.append((previous, stored))
        self.resource_version = resource_version
        return added, updated, deleted

    # -- reads ----------------------------------------------------------------------------

    def get(self, obj: T | Mapping[str, Any]) -> T | None:
        """The stored version of the object with ``obj``'s key."""
        return self._items.get(object_key(obj))

    def get_by_key(self, key: str) -> T | None:
        return self._items.get(key)

    def list(self) -> builtins.list[T]:
        return list(self._items.values())

    def list_keys(self) -> builtins.list[str]:
        return list(self._items)

    def by_index(self, index_name: str, value: str) -> builtins.list[T]:
        """Objects whose ``index_name`` values include ``value``."""
        return [self._items[k] for k in sorted(self.index_keys(index_name, value))]

    def index_keys(self, index_name: str, value: str) -> builtins.list[str]:
        try:
            index = self._indices[index_name]
        except KeyError:
            raise KeyError(f"no indexer named {index_name!r}") from None
        return sorted(index.get(value, ()))

    def list_index_values(self, index_name: str) -> builtins.list[str]:
        return sorted(self._indices[index_name])

    def index(self, index_name: str, obj: T | Mapping[str, Any]) -> builtins.list[T]:
        """Objects sharing any ``index_name`` value with ``obj`` (client-go ``Index``)."""
        func = self._index_funcs[index_name]
        keys: set[str] = set()
        for value in func(stored_form(obj)):
            keys |= self._indices[index_name].get(value, set())
        return [self._items[k] for k in sorted(keys)]

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    # -- internals ------------------------------------------------------------------------

    def _index_one(self, name: str, key: str, obj: T) -> None:
        index = self._indices[name]
        for value in self._index_funcs[name](obj):
            index.setdefault(value, set()).add(key)

    def _unindex(self, key: str, obj: T) -> None:
        for name, func in self._index_funcs.items():
            index = self._indices[name]
            for value in func(obj):
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]


def _rv(obj: Any) -> str:
    return str(object_meta(obj).get("resourceVersion") or "")
