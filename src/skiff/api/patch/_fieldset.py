"""Field sets: which fields of an object a manager owns, in Kubernetes' ``fieldsV1`` form.

A field set is a trie of path elements, spelled as in ``metadata.managedFields[].fieldsV1``
(``sigs.k8s.io/structured-merge-diff/v4/fieldpath``):

- ``f:<name>``: a struct field or map key;
- ``k:{"name":"nginx"}``: the item of a ``map`` list with those key values (compact JSON,
  keys sorted);
- ``v:"foo"``: the item of a ``set`` list with that value;
- ``i:3``: a list item by index (only read, never produced);
- ``.``: the node itself is a member (in ``fieldsV1`` a member without children is ``{}``).

:class:`FieldSet` is immutable; set operations return new sets that may share subtrees.
Paths are tuples of element strings; :func:`path_string` renders them the way conflict messages
do (``.spec.containers[name="nginx"].image``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from skiff.api.patch._json import canonical_json
from skiff.api.patch.errors import InvalidPatchError

__all__ = ["FieldPath", "FieldSet", "insert", "path_string"]

FieldPath = tuple[str, ...]
"""A path of field-set elements, e.g. ``("f:spec", "f:replicas")``."""

_Node = dict[str, Any]  # element -> child node; "." -> {} marks membership
_MEMBER = "."
_PREFIXES = ("f:", "k:", "v:", "i:")


class FieldSet:
    """An immutable set of field paths."""

    __slots__ = ("_root",)

    def __init__(self, root: _Node | None = None) -> None:
        # The root node is trusted to be canonical and is never mutated afterwards.
        self._root: _Node = root if root is not None else {}

    # --- construction and serialization -------------------------------------------------------

    @classmethod
    def from_paths(cls, paths: Iterable[Sequence[str]]) -> FieldSet:
        """A set holding ``paths``; a bare name ``"spec"`` means ``"f:spec"``."""
        root: _Node = {}
        for path in paths:
            elements = tuple(e if e.startswith(_PREFIXES) else "f:" + e for e in path)
            if elements:
                insert(root, elements)
        return cls(root)

    @classmethod
    def from_fields_v1(cls, fields_v1: Any) -> FieldSet:
        """Parse a ``fieldsV1`` object; raises :class:`InvalidPatchError` when malformed."""
        if not isinstance(fields_v1, dict):
            raise InvalidPatchError("fieldsV1 must be a JSON object")
        return cls(_parse_node(fields_v1, top=True))

    def to_fields_v1(self) -> dict[str, Any]:
        """The ``fieldsV1`` JSON object for this set."""
        return _render_node(self._root)

    # --- queries ------------------------------------------------------------------------------

    @property
    def root(self) -> _Node:
        """The trie (read-only by contract): element -> child, ``"."`` marks members."""
        return self._root

    def empty(self) -> bool:
        """Whether the set has no members."""
        return not self._root

    def __bool__(self) -> bool:
        return bool(self._root)

    def __len__(self) -> int:
        return sum(1 for _ in self.paths())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldSet) and self._root == other._root

    def __hash__(self) -> int:
        return hash(canonical_json(self._root))

    def __repr__(self) -> str:
        return f"FieldSet({canonical_json(self.to_fields_v1())})"

    def has(self, path: Sequence[str]) -> bool:
        """Whether ``path`` is a member."""
        node = self._root
        for element in path:
            child = node.get(element)
            if child is None:
                return False
            node = child
        return bool(path) and _MEMBER in node

    def paths(self) -> Iterator[FieldPath]:
        """Member paths in structured-merge-diff order: a level's members, then its children."""
        yield from _iter_paths(self._root, ())

    # --- set algebra --------------------------------------------------------------------------

    def union(self, other: FieldSet) -> FieldSet:
        return FieldSet(_union(self._root, other._root))

    def difference(self, other: FieldSet) -> FieldSet:
        return FieldSet(_difference(self._root, other._root) or {})

    def intersection(self, other: FieldSet) -> FieldSet:
        return FieldSet(_intersection(self._root, other._root) or {})

    def without_prefixes(self, prefixes: FieldSet) -> FieldSet:
        """The members that are neither in ``prefixes`` nor below one of its members."""
        return FieldSet(_exclude_prefixes(self._root, prefixes._root) or {})

    __or__ = union
    __sub__ = difference
    __and__ = intersection


def insert(root: _Node, path: Sequence[str]) -> None:
    """Add ``path`` to a trie under construction (internal builders only)."""
    node = root
    for element in path:
        child = node.get(element)
        if child is None:
            child = node[element] = {}
        node = child
    node[_MEMBER] = {}


def path_string(path: Sequence[str]) -> str:
    """``("f:spec", 'k:{"name":"a"}', "f:image")`` -> ``.spec[name="a"].image``."""
    parts = []
    for element in path:
        kind, text = element[:2], element[2:]
        if kind == "f:":
            parts.append("." + text)
        elif kind == "k:":
            keys = json.loads(text)
            inner = ",".join(f"{k}={canonical_json(v)}" for k, v in sorted(keys.items()))
            parts.append(f"[{inner}]")
        elif kind == "v:":
            parts.append(f"[={text}]")
        else:
            parts.append(f"[{text}]")
    return "".join(parts)


def _sort_key(element: str) -> tuple[int, str, int]:
    rank = _PREFIXES.index(element[:2]) if element[:2] in _PREFIXES else 4
    if rank == 3:
        return rank, "", int(element[2:])
    return rank, element[2:], 0


def _iter_paths(node: _Node, prefix: FieldPath) -> Iterator[FieldPath]:
    elements = sorted((e for e in node if e != _MEMBER), key=_sort_key)
    for element in elements:
        if _MEMBER in node[element]:
            yield (*prefix, element)
    for element in elements:
        child = node[element]
        if len(child) > 1 or _MEMBER not in child:
            yield from _iter_paths(child, (*prefix, element))


def _union(a: _Node, b: _Node) -> _Node:
    if not b:
        return a
    if not a:
        return b
    out = dict(a)
    for element, child in b.items():
        mine = out.get(element)
        out[element] = (
            child if mine is None else (mine if element == _MEMBER else _union(mine, child))
        )
    return out


def _difference(a: _Node, b: _Node) -> _Node | None:
    if not b:
        return a or None
    out: _Node = {}
    for element, child in a.items():
        other = b.get(element)
        if element == _MEMBER:
            if other is None:
                out[_MEMBER] = {}
            continue
        if other is None:
            out[element] = child
        else:
            rest = _difference(child, other)
            if rest:
                out[element] = rest
    return out or None


def _intersection(a: _Node, b: _Node) -> _Node | None:
    if len(b) < len(a):
        a, b = b, a
    out: _Node = {}
    for element, child in a.items():
        other = b.get(element)
        if other is None:
            continue
        if element == _MEMBER:
            out[_MEMBER] = {}
            continue
        both = _intersection(child, other)
        if both:
            out[element] = both
    return out or None


def _exclude_prefixes(a: _Node, prefixes: _Node) -> _Node | None:
    if not prefixes:
        return a or None
    out: _Node = {}
    for element, child in a.items():
        excluded = prefixes.get(element)
        if excluded is None or element == _MEMBER:
            out[element] = child
        elif _MEMBER not in excluded:
            rest = _exclude_prefixes(child, excluded)
            if rest:
                out[element] = rest
    return out or None


def _canonical_element(element: str) -> str:
    kind = element[:2]
    if kind not in _PREFIXES:
        raise InvalidPatchError(f"invalid fieldsV1 key {element!r}")
    if kind in ("k:", "v:"):
        try:
            value = json.loads(element[2:])
        except ValueError as exc:
            raise InvalidPatchError(f"invalid fieldsV1 key {element!r}: {exc}") from None
        if kind == "k:" and not isinstance(value, dict):
            raise InvalidPatchError(f"invalid fieldsV1 key {element!r}: keys must be an object")
        return kind + canonical_json(value)
    if kind == "i:" and not element[2:].isdigit():
        raise InvalidPatchError(f"invalid fieldsV1 key {element!r}")
    return element


def _parse_node(raw: dict[str, Any], *, top: bool = False) -> _Node:
    node: _Node = {}
    for element, child in raw.items():
        if not isinstance(child, dict):
            raise InvalidPatchError(f"invalid fieldsV1: value of {element!r} must be an object")
        if element == _MEMBER:
            if not top:
                node[_MEMBER] = {}
            continue
        parsed = _parse_node(child)
        if not parsed:
            parsed = {_MEMBER: {}}  # {} in fieldsV1 is a member without children
        node[_canonical_element(element)] = parsed
    return node


def _render_node(node: _Node) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for element in sorted((e for e in node if e != _MEMBER), key=_sort_key):
        child = node[element]
        if len(child) == 1 and _MEMBER in child:
            out[element] = {}
        else:
            rendered = _render_node(child)
            if _MEMBER in child:
                rendered = {_MEMBER: {}, **rendered}
            out[element] = rendered
    return out
