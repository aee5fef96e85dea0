"""Immutable JSON values for objects handed out by caches: `FrozenDict`, `FrozenList`, `freeze`, `thaw`.

Informer caches share one object between every reader (listers, handlers, other controllers), so a
reader that mutated it would corrupt everyone's view; client-go relies on DeepCopy discipline and a
``mutation_detector.go`` to catch that. Here the cached objects are recursively frozen instead:

* `FrozenDict` is a read-only ``Mapping`` and `FrozenList` a read-only ``Sequence``; they have no
  mutating methods, so ``obj["metadata"]["labels"]["a"] = "b"`` raises ``TypeError``.
* They compare equal to the plain ``dict``/``list`` with the same content and are hashable, so
  ``cached == fetched`` and sets of objects work.
* `thaw` returns a mutable deep copy (plain dicts and lists) to edit and send back to the server.

Why not pydantic frozen models: the API types are still being written, the client serves every kind
(including ones without a model) and the wire form is the JSON dict; freezing that dict costs one
walk per watch event and keeps ``obj["spec"]["replicas"]`` the same for cached and fetched objects.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

__all__ = ["FrozenDict", "FrozenList", "freeze", "json_default", "thaw"]


class FrozenDict(Mapping[str, Any]):
    """A recursively immutable mapping (values are frozen too)."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = {k: freeze(v) for k, v in (data or {}).items()}
        self._hash: int | None = None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenDict):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenDict({self._data!r})"

    def __or__(self, other: Mapping[str, Any]) -> FrozenDict:
        merged = dict(self._data)
        merged.update(other)
        return FrozenDict(merged)

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self

    def thaw(self) -> dict[str, Any]:
        """A mutable deep copy."""
        return {k: thaw(v) for k, v in self._data.items()}


class FrozenList(Sequence[Any]):
    """A recursively immutable list (compares equal to a list or tuple with the same items)."""

    __slots__ = ("_items",)

    def __init__(self, items: Sequence[Any] | None = None) -> None:
        self._items: tuple[Any, ...] = tuple(freeze(v) for v in (items or ()))

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> FrozenList: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            out = FrozenList()
            out._items = self._items[index]
            return out
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenList):
            return self._items == other._items
        if isinstance(other, list | tuple):
            return self._items == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"FrozenList({list(self._items)!r})"

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenList:
        return self

    def thaw(self) -> list[Any]:
        """A mutable deep copy."""
        return [thaw(v) for v in self._items]


def freeze(value: Any) -> Any:
    """Recursively convert dicts to `FrozenDict` and lists/tuples to `FrozenList`.

    Scalars (str, int, float, bool, None) are returned as they are; already frozen values are shared.
    """
    if isinstance(value, FrozenDict | FrozenList):
        return value
    if isinstance(value, Mapping):
        return FrozenDict(value)
    if isinstance(value, list | tuple):
        return FrozenList(value)
    return value


def thaw(value: Any) -> Any:
    """A mutable deep copy: frozen or plain mappings become dicts, sequences become lists."""
    if isinstance(value, FrozenDict):
        return value.thaw()
    if isinstance(value, FrozenList):
        return value.thaw()
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


def json_default(value: Any) -> Any:
    """``orjson.dumps(default=...)`` hook so frozen values serialize like their plain counterparts."""
    if isinstance(value, FrozenDict):
        return value._data
    if isinstance(value, FrozenList):
        return list(value._items)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
