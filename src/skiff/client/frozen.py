"""Immutable JSON values for objects handed out by caches: `FrozenDict`, `FrozenList`, `freeze`, `thaw`.

Informer caches share one object between every reader (listers, handlers, other controllers), so a
reader that mutated it would corrupt everyone's view; client-go relies on DeepCopy discipline and a
``mutation_detector.go`` to catch that. Here the cached objects are recursively frozen instead:

* `FrozenDict` is a read-only ``Mapping`` and `FrozenList` a read-only ``Sequence``; they have no
  mutating methods, so ``obj["metadata"]["labels"]["a"] = "b"`` raises ``TypeError``.
* They compare equal to the plain ``dict``/``list`` with the same content and are hashable, so
  ``cached == fetched`` and sets of objects work.
* `thaw` returns a mutable deep copy (plain dicts and lists) to edit and send back to the server.

Two ways in. `freeze` copies (eagerly and recursively): the caller may keep and change its input.
`adopt` takes ownership of a freshly decoded JSON value nobody else holds (what an informer's
transform gets) and copies nothing: a nested dict or list is wrapped the first time it is read,
and the wrapper replaces it inside its private parent, so each node is wrapped at most once. That
is what makes caching cheap: bench ``informer_cache`` measured eager freezing at 650-875 µs of CPU
per 7 KB pod, most of it spent on parts of the object no controller reads (managedFields, probes,
env); adopting costs a few µs and keeps the decoded dict's own memory (docs/client.md).

Why not pydantic frozen models: the client serves every kind (including ones without a model) and
the wire form is the JSON dict; validating a pod into the models costs more CPU and memory than
freezing (docs/client.md). Typed access is what `skiff.client.view` adds on top.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

__all__ = ["FrozenDict", "FrozenList", "adopt", "freeze", "json_default", "thaw"]


_MISSING: Any = object()


class FrozenDict(Mapping[str, Any]):
    """A recursively immutable mapping (values read from it are frozen too)."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = {k: freeze(v) for k, v in (data or {}).items()}
        self._hash: int | None = None

    @classmethod
    def _of(cls, data: dict[str, Any]) -> FrozenDict:
        """Wrap ``data``, which the new object owns from now on (values frozen lazily)."""
        out = object.__new__(cls)
        out._data = data
        out._hash = None
        return out

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        t = type(value)
        if t is dict:
            value = self._data[key] = FrozenDict._of(value)
        elif t is list:
            value = self._data[key] = FrozenList._of(value)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        # Mapping.get goes through __getitem__ and a KeyError per miss: it was the largest self
        # time of the controller-manager and the simulated agents
        value = self._data.get(key, _MISSING)
        if value is _MISSING:
            return default
        t = type(value)
        if t is dict:
            value = self._data[key] = FrozenDict._of(value)
        elif t is list:
            value = self._data[key] = FrozenList._of(value)
        return value

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
            self._hash = hash(frozenset((k, self[k]) for k in self._data))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenDict({ {k: self[k] for k in self._data}!r})"

    def __or__(self, other: Mapping[str, Any]) -> FrozenDict:
        merged = {k: self[k] for k in self._data}
        merged.update((k, freeze(v)) for k, v in other.items())
        return FrozenDict._of(merged)

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
        self._items: list[Any] = [freeze(v) for v in (items or ())]

    @classmethod
    def _of(cls, items: list[Any]) -> FrozenList:
        """Wrap ``items``, which the new object owns from now on (items frozen lazily)."""
        out = object.__new__(cls)
        out._items = items
        return out

    def _frozen_at(self, i: int) -> Any:
        value = self._items[i]
        t = type(value)
        if t is dict:
            value = self._items[i] = FrozenDict._of(value)
        elif t is list:
            value = self._items[i] = FrozenList._of(value)
        return value

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> FrozenList: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return FrozenList._of([self._frozen_at(i) for i in range(len(self._items))][index])
        return self._frozen_at(index)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self._items)):
            yield self._frozen_at(i)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenList):
            return self._items == other._items
        if isinstance(other, list):
            return self._items == other
        if isinstance(other, tuple):
            return self._items == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"FrozenList({list(self)!r})"

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenList:
        return self

    def thaw(self) -> list[Any]:
        """A mutable deep copy."""
        return [thaw(v) for v in self._items]


_SCALARS = frozenset({str, int, float, bool, type(None)})


def adopt(value: Any) -> Any:
    """Freeze a freshly decoded JSON value *without copying it*: the result owns ``value``.

    Only for values nobody else holds or will change (an informer transform's input, just
    decoded); nested dicts and lists are wrapped lazily on first read. Anything that is not a
    plain dict or list goes through `freeze`.
    """
    t = type(value)
    if t is dict:
        return FrozenDict._of(value)
    if t is list:
        return FrozenList._of(value)
    return freeze(value)


def freeze(value: Any) -> Any:
    """Recursively copy dicts to `FrozenDict` and lists/tuples to `FrozenList`.

    Scalars (str, int, float, bool, None) are returned as they are; already frozen values are
    shared. The input is copied, so the caller may go on changing it.
    """
    t = type(value)
    if t in _SCALARS:
        return value
    if isinstance(value, FrozenDict | FrozenList):
        return value
    if isinstance(value, Mapping):
        return FrozenDict._of({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return FrozenList._of([freeze(v) for v in value])
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
        return value._items
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
