"""Schema-aware walks over objects for server-side apply (structured-merge-diff semantics).

- :func:`fieldset_from_object` — the fields an object (an applied configuration) sets
  (``typed.TypedValue.ToFieldSet``): leaves, map entries, list items (``.``), atomic lists and
  maps as single leaves;
- :func:`merge` — an applied configuration merged into a live object (``typed.Merge``): maps
  merge, ``map``/``set`` lists merge item by item keeping structured-merge-diff's order, atomic
  values are replaced;
- :func:`compare` — which paths were added, modified and removed between two objects
  (``typed.Compare``); a new or removed map or list item counts as a path of its own, which is
  why a client-side update owns ``f:labels: {".": {}}``;
- :func:`remove_paths` and :func:`ensure_named_fields_are_members` — what apply needs to drop
  fields a manager stopped applying (``merge.Updater.prune``).

How a position is walked depends on the schema and, where the schema says ``unknown``, on the
value itself (structured-merge-diff's deduced schema: maps granular, lists atomic).
"""

from __future__ import annotations

from typing import Any, Final

from skiff.api.patch._fieldset import FieldPath, FieldSet, insert
from skiff.api.patch._json import canonical_json, copy_json_without_nulls, json_equal
from skiff.api.patch._schema import PatchSchema, SchemaKind
from skiff.api.patch.errors import PatchError

__all__ = [
    "Comparison",
    "compare",
    "ensure_named_fields_are_members",
    "fieldset_from_object",
    "item_element",
    "merge",
    "remove_paths",
]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Final = _Missing()

_MAP, _LIST, _LEAF = 0, 1, 2


def _shape(schema: PatchSchema, value: Any) -> int:
    kind = schema.kind
    if isinstance(value, dict):
        if kind is SchemaKind.UNKNOWN or (
            kind in (SchemaKind.OBJECT, SchemaKind.MAP) and schema.map_type != "atomic"
        ):
            return _MAP
        return _LEAF
    if isinstance(value, list) and kind is SchemaKind.LIST and not _atomic_list(schema):
        return _LIST
    return _LEAF


def _atomic_list(schema: PatchSchema) -> bool:
    if schema.list_type == "set":
        return False
    return not (schema.list_type == "map" and schema.list_map_keys)


def item_element(item: Any, schema: PatchSchema) -> str:
    """The path element of ``item`` in the granular list described by ``schema``."""
    if schema.list_type == "set":
        return "v:" + canonical_json(item)
    if not isinstance(item, dict):
        raise PatchError(f"{schema.name or 'list'}: associative list element is not an object")
    keys: dict[str, Any] = {}
    for key in schema.list_map_keys:
        value = item.get(key)
        if value is None:
            if key not in schema.list_map_key_defaults:
                raise PatchError(
                    f"{schema.name or 'list'}: associative list with keys has an element that "
                    f'omits key field "{key}" (and doesn\'t have default value)'
                )
            value = schema.list_map_key_defaults[key]
        keys[key] = value
    return "k:" + canonical_json(keys)


def _index_items(items: list[Any], schema: PatchSchema) -> tuple[list[str], dict[str, Any]]:
    elements = [item_element(item, schema) for item in items]
    observed: dict[str, Any] = {}
    for element, item in zip(elements, items, strict=True):
        observed.setdefault(element, item)
    return elements, observed


# --- ToFieldSet -------------------------------------------------------------------------------


def fieldset_from_object(obj: Any, schema: PatchSchema) -> FieldSet:
    """The set of fields ``obj`` sets, following list and map types from ``schema``."""
    root: dict[str, Any] = {}
    _collect(obj, schema, root)
    return FieldSet(root)


def _collect(value: Any, schema: PatchSchema, node: dict[str, Any]) -> None:
    shape = _shape(schema, value)
    if shape == _MAP:
        for key, child_value in value.items():
            child_schema = schema.field(key)
            child: dict[str, Any] = {}
            _collect(child_value, child_schema, child)
            if (
                child_value is None
                or (isinstance(child_value, dict) and not child_value)
                or not schema.has_field(key)
                or _shape(child_schema, child_value) == _LEAF
            ):
                child["."] = {}
            if child:
                node["f:" + key] = child
    elif shape == _LIST:
        for item in value:
            element = item_element(item, schema)
            child = node.setdefault(element, {})
            _collect(item, schema.item, child)
            child["."] = {}


# --- Merge ------------------------------------------------------------------------------------


def merge(live: Any, config: Any, schema: PatchSchema) -> Any:
    """Merge ``config`` into ``live``; ``live`` must be owned by the caller (it is reused).

    ``null`` in ``config`` removes the field; values taken from ``config`` are copied.
    """
    return _merge(live, config, schema)


def _merge(lhs: Any, rhs: Any, schema: PatchSchema) -> Any:
    shape = _shape(schema, rhs)
    if lhs is _MISSING or shape == _LEAF or _shape(schema, lhs) != shape:
        return copy_json_without_nulls(rhs)
    if shape == _MAP:
        for key, value in rhs.items():
            if value is None:
                lhs.pop(key, None)
            else:
                lhs[key] = _merge(lhs.get(key, _MISSING), value, schema.field(key))
        return lhs
    return _merge_list(lhs, rhs, schema)


def _merge_list(lhs: list[Any], rhs: list[Any], schema: PatchSchema) -> list[Any]:
    # The interleaving of sigs.k8s.io/structured-merge-diff typed/merge.go visitListItems: walk
    # both lists, keep live-only items where they are, and place applied items in applied order.
    lhs_elements, observed_lhs = _index_items(lhs, schema)
    rhs_elements, observed_rhs = _index_items(rhs, schema)
    shared = [e for e in rhs_elements if e in observed_lhs]
    shared_at = 0
    next_shared = shared[0] if shared else None
    merged_rhs: set[str] = set()
    item_schema = schema.item
    out: list[Any] = []

    def merged_item(element: str) -> Any:
        return _merge(observed_lhs.get(element, _MISSING), observed_rhs[element], item_schema)

    li = ri = 0
    while li < len(lhs_elements) or ri < len(rhs_elements):
        if li < len(lhs_elements) and ri < len(rhs_elements):
            element = lhs_elements[li]
            if element == rhs_elements[ri]:
                merged_rhs.add(element)
                out.append(merged_item(element))
                li += 1
                ri += 1
                shared_at += 1
                next_shared = shared[shared_at] if shared_at < len(shared) else None
                continue
            if element in observed_rhs and next_shared is not None and next_shared != element:
                li += 1
                continue
        if li < len(lhs_elements):
            element = lhs_elements[li]
            if element not in observed_rhs:
                out.append(lhs[li])
                li += 1
                continue
            if element in merged_rhs:
                li += 1
                continue
        if ri < len(rhs_elements):
            element = rhs_elements[ri]
            merged_rhs.add(element)
            out.append(merged_item(element))
            ri += 1
            if next_shared is not None and next_shared == element:
                shared_at += 1
                next_shared = shared[shared_at] if shared_at < len(shared) else None
    return out


# --- Compare ----------------------------------------------------------------------------------


class Comparison:
    """Paths added, modified and removed going from one object to another."""

    __slots__ = ("added", "modified", "removed")

    def __init__(self, added: FieldSet, modified: FieldSet, removed: FieldSet) -> None:
        self.added = added
        self.modified = modified
        self.removed = removed

    @property
    def changed(self) -> FieldSet:
        """Added or modified paths: what a write sets."""
        return self.added.union(self.modified)


def compare(old: Any, new: Any, schema: PatchSchema) -> Comparison:
    """Compare two objects (``None`` for an absent object); neither is modified."""
    tries: tuple[dict[str, Any], dict[str, Any], dict[str, Any]] = ({}, {}, {})
    _compare(old if old is not None else {}, new if new is not None else {}, schema, (), tries)
    return Comparison(FieldSet(tries[0]), FieldSet(tries[1]), FieldSet(tries[2]))


def _compare(
    old: Any,
    new: Any,
    schema: PatchSchema,
    path: FieldPath,
    tries: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
) -> None:
    added, modified, removed = tries
    old_shape = _LEAF if old is _MISSING else _shape(schema, old)
    new_shape = _LEAF if new is _MISSING else _shape(schema, new)
    if old is _MISSING:
        shape = new_shape
    elif new is _MISSING:
        shape = old_shape
    else:
        shape = old_shape if old_shape == new_shape else _LEAF
    if shape == _LEAF:
        if old is _MISSING:
            insert(added, path)
        elif new is _MISSING:
            insert(removed, path)
        elif not json_equal(old, new):
            insert(modified, path)
        return
    if shape == _MAP:
        old_map = old if old is not _MISSING else {}
        new_map = new if new is not _MISSING else {}
        for key, value in old_map.items():
            _compare(
                value, new_map.get(key, _MISSING), schema.field(key), (*path, "f:" + key), tries
            )
        for key, value in new_map.items():
            if key not in old_map:
                _compare(_MISSING, value, schema.field(key), (*path, "f:" + key), tries)
    else:
        _, old_items = _index_items(old if old is not _MISSING else [], schema)
        _, new_items = _index_items(new if new is not _MISSING else [], schema)
        item_schema = schema.item
        for element, value in old_items.items():
            _compare(value, new_items.get(element, _MISSING), item_schema, (*path, element), tries)
        for element, value in new_items.items():
            if element not in old_items:
                _compare(_MISSING, value, item_schema, (*path, element), tries)
    if path:
        if old is _MISSING:
            insert(added, path)
        elif new is _MISSING:
            insert(removed, path)


# --- Prune helpers ----------------------------------------------------------------------------


def remove_paths(obj: Any, fields: FieldSet, schema: PatchSchema) -> None:
    """Remove, in place, every member of ``fields`` (with everything below it) from ``obj``."""
    if fields:
        _remove(obj, fields.root, schema)


def _remove(value: Any, node: dict[str, Any], schema: PatchSchema) -> None:
    shape = _shape(schema, value)
    if shape == _MAP:
        for element, child in node.items():
            if not element.startswith("f:"):
                continue
            key = element[2:]
            if key not in value:
                continue
            if "." in child:
                del value[key]
            else:
                _remove(value[key], child, schema.field(key))
    elif shape == _LIST:
        kept = []
        item_schema = schema.item
        for item in value:
            child = node.get(item_element(item, schema))
            if child is None:
                kept.append(item)
            elif "." not in child:
                _remove(item, child, item_schema)
                kept.append(item)
        value[:] = kept


def ensure_named_fields_are_members(fields: FieldSet, schema: PatchSchema) -> FieldSet:
    """Also make every declared struct field on the way to a member a member itself.

    structured-merge-diff's ``EnsureNamedFieldsAreMembers``: pruning then removes a struct field
    nobody owns anything under, instead of leaving an empty ``{}`` behind.
    """
    return FieldSet(_ensure(fields.root, schema))


def _ensure(node: dict[str, Any], schema: PatchSchema) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for element, child in node.items():
        if element == ".":
            out["."] = {}
            continue
        if element.startswith("f:"):
            name = element[2:]
            new_child = _ensure(child, schema.field(name))
            if schema.has_field(name):
                new_child["."] = {}
        else:
            new_child = _ensure(child, schema.item)
        out[element] = new_child
    return out
