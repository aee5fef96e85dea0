"""Strategic merge patch, the ``application/strategic-merge-patch+json`` of built-in kinds.

Semantics follow ``k8s.io/apimachinery/pkg/util/strategicpatch`` (``StrategicMergePatch``, i.e.
``mergeMap`` with ``MergeParallelList`` and ``IgnoreUnmatchedNulls``):

- maps merge recursively and ``null`` deletes a key (a ``null`` for a missing key is ignored);
  a map field with patch strategy ``replace`` is replaced;
- lists whose patch strategy contains ``merge`` merge by their merge key (``containers`` by
  ``name``), or as sets when they hold primitives (``finalizers``); other lists are replaced;
- directives: ``$patch: replace|delete`` on a map; ``{"$patch": "delete", <key>: ...}`` items
  and a ``{"$patch": "replace"}`` item in merged lists; ``$setElementOrder/<list>`` fixing the
  final order; ``$retainKeys`` clearing the map keys it does not list;
  ``$deleteFromPrimitiveList/<list>`` removing primitives. No directive survives in the result;
- merged lists keep the order Kubernetes produces: patched items in patch order, interleaved
  with server-only items in their original order (``normalizeElementOrder``).

One deliberate leniency: ``$patch: merge`` on a map is accepted as "merge as usual" where
Kubernetes rejects it.
"""

from __future__ import annotations

from typing import Any

from skiff.api.patch._json import canonical_json, copy_json, json_equal
from skiff.api.patch._schema import PatchSchema, SchemaKind
from skiff.api.patch.errors import InvalidPatchError, PatchError

__all__ = ["strategic_merge_patch"]

_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_SET_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVES = "$deleteFromPrimitiveList/"


def strategic_merge_patch(doc: Any, patch: Any, schema: PatchSchema) -> dict[str, Any]:
    """Apply the strategic merge patch ``patch`` to the object ``doc`` described by ``schema``.

    Neither argument is modified and the result shares no containers with them.
    """
    if not isinstance(patch, dict):
        raise InvalidPatchError("a strategic merge patch must be a JSON object")
    original = copy_json(doc) if isinstance(doc, dict) else {}
    return _merge_map(original, patch, schema)


def _merge_map(
    original: dict[str, Any], patch: dict[str, Any], schema: PatchSchema
) -> dict[str, Any]:
    """Merge ``patch`` into ``original`` (owned by us, mutated) and return the result."""
    if _DIRECTIVE in patch:
        directive = patch[_DIRECTIVE]
        if directive == "replace":
            rest = {k: v for k, v in patch.items() if k != _DIRECTIVE}
            return _merge_map({}, rest, schema)
        if directive == "delete":
            return {}
        if directive != "merge":
            raise InvalidPatchError(f"unknown patch type: {directive!r} in map: {_brief(patch)}")
    if _RETAIN_KEYS in patch:
        _retain_keys(original, patch)

    handled: set[str] = set()
    for key, order in patch.items():
        if key.startswith(_SET_ORDER):
            field = key[len(_SET_ORDER) :]
            if _set_element_order(original, patch, field, order, schema.field(field)):
                handled.add(field)

    for key, value in patch.items():
        if key.startswith("$"):
            if key.startswith(_DELETE_PRIMITIVES):
                _delete_from_primitive_list(original, key[len(_DELETE_PRIMITIVES) :], value)
            if key in (_DIRECTIVE, _RETAIN_KEYS) or key.startswith(
                (_SET_ORDER, _DELETE_PRIMITIVES)
            ):
                continue
        if key in handled:
            continue
        if value is None:
            original.pop(key, None)
            continue
        child = schema.field(key)
        if key not in original:
            original[key] = _new_value(value, child)
            continue
        current = original[key]
        if isinstance(current, dict) and isinstance(value, dict):
            if "replace" in child.patch_strategies:
                original[key] = _new_value(value, child)
            else:
                original[key] = _merge_map(current, value, child)
        elif isinstance(current, list) and isinstance(value, list):
            original[key] = _merge_list_field(current, value, child)
        else:
            original[key] = _new_value(value, child)
    return original


def _new_value(value: Any, schema: PatchSchema) -> Any:
    """A patch value placed where the original has nothing: directives applied, nulls dropped."""
    if isinstance(value, dict):
        return _merge_map({}, value, schema)
    if isinstance(value, list):
        return _merge_list_field([], value, schema)
    return value


def _merge_list_field(original: list[Any], patch: list[Any], schema: PatchSchema) -> list[Any]:
    if schema.kind is SchemaKind.LIST and "merge" in schema.patch_strategies:
        return _merge_list(original, patch, schema)
    # Replaced lists: items are new values; a stray {"$patch": "replace"} marker is dropped.
    item = schema.item if schema.kind is SchemaKind.LIST else schema
    return [
        _new_value(v, item)
        for v in patch
        if not (isinstance(v, dict) and v.get(_DIRECTIVE) == "replace" and len(v) == 1)
    ]


def _merge_list(original: list[Any], patch: list[Any], schema: PatchSchema) -> list[Any]:
    """``mergeSlice``: merge a ``merge``-strategy list by merge key, or as a set of primitives."""
    if not original and not patch:
        return original
    merge_key = schema.merge_key
    item_schema = schema.item
    plain: list[Any] = []
    replace = False
    for item in patch:
        if isinstance(item, dict) and _DIRECTIVE in item:
            directive = item[_DIRECTIVE]
            if directive == "replace":
                replace = True
            elif directive == "delete":
                if merge_key is None or merge_key not in item:
                    raise InvalidPatchError("delete patch type with no merge key defined")
                original = [o for o in original if not _key_matches(o, merge_key, item[merge_key])]
            elif directive == "merge":
                raise InvalidPatchError("merging lists cannot yet be specified in the patch")
            else:
                raise InvalidPatchError(f"unknown patch type: {directive!r} in map: {_brief(item)}")
        else:
            plain.append(item)
    if replace:
        return [_new_value(v, item_schema) for v in plain]

    maps = any(isinstance(v, dict) for v in plain) or any(isinstance(v, dict) for v in original)
    if not maps:
        merged = _dedupe(original + [copy_json(v) for v in plain])
        return _normalize_order(merged, plain, original, None)
    if not merge_key:
        raise PatchError(f"cannot merge lists without merge key for {schema.name or 'list'}")
    server_order = list(original)
    merged = list(original)
    for item in plain:
        if not isinstance(item, dict):
            raise PatchError(f"cannot merge a list mixing maps and primitives: {_brief(item)}")
        if merge_key not in item:
            raise PatchError(
                f"map: {_brief(item)} does not contain declared merge key: {merge_key}"
            )
        for i, existing in enumerate(merged):
            if _key_matches(existing, merge_key, item[merge_key]):
                merged[i] = _merge_map(existing, item, item_schema)
                break
        else:
            merged.append(_new_value(item, item_schema))
    return _normalize_order(merged, plain, server_order, merge_key)


def _key_matches(item: Any, merge_key: str, value: Any) -> bool:
    return isinstance(item, dict) and merge_key in item and json_equal(item[merge_key], value)


def _dedupe(items: list[Any]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for item in items:
        ident = canonical_json(item)
        if ident not in seen:
            seen.add(ident)
            out.append(item)
    return out


def _identity(item: Any, merge_key: str | None) -> str | None:
    if merge_key is None:
        return canonical_json(item)
    if isinstance(item, dict) and merge_key in item:
        return canonical_json(item[merge_key])
    return None


def _positions(order: list[Any], merge_key: str | None) -> dict[str, int]:
    positions: dict[str, int] = {}
    for i, item in enumerate(order):
        ident = _identity(item, merge_key)
        if ident is not None and ident not in positions:
            positions[ident] = i
    return positions


def _normalize_order(
    merged: list[Any], patch_order: list[Any], server_order: list[Any], merge_key: str | None
) -> list[Any]:
    """``normalizeElementOrder``: patch items in patch order, server-only items in server order,
    interleaved by the server order where both sides know an item."""
    patch_pos = _positions(patch_order, merge_key)
    server_pos = _positions(server_order, merge_key)
    patch_items: list[Any] = []
    server_only: list[Any] = []
    for item in merged:
        ident = _identity(item, merge_key)
        (patch_items if ident is not None and ident in patch_pos else server_only).append(item)

    def sort_by(items: list[Any], positions: dict[str, int]) -> list[Any]:
        big = len(positions)
        return sorted(items, key=lambda it: positions.get(_identity(it, merge_key) or "", big))

    left = sort_by(server_only, server_pos)
    right = sort_by(patch_items, patch_pos)
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if j >= len(right):
            out.append(left[i])
            i += 1
        elif i >= len(left):
            out.append(right[j])
            j += 1
        else:
            li = server_pos.get(_identity(left[i], merge_key) or "")
            ri = server_pos.get(_identity(right[j], merge_key) or "")
            if li is not None and ri is not None and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _set_element_order(
    original: dict[str, Any], patch: dict[str, Any], field: str, order: Any, schema: PatchSchema
) -> bool:
    """``mergePatchIntoOriginal`` for one ``$setElementOrder/<field>``; True if it set the field."""
    if not isinstance(order, list):
        raise InvalidPatchError(f"invalid patch format of {_SET_ORDER}{field}: must be a list")
    merge_key = schema.merge_key
    current = original.get(field)
    original_list = current if isinstance(current, list) else None
    patch_value = patch.get(field)
    if field in patch and not isinstance(patch_value, list):
        return False  # null or a scalar: the main loop deletes or replaces the field
    patch_list = patch_value if isinstance(patch_value, list) else None
    if patch_list is not None:
        _validate_order(patch_list, order, merge_key, field)
    if original_list is not None and patch_list is not None:
        merged = _merge_list_field(original_list, patch_list, schema)
    elif original_list is not None:
        merged = original_list
    elif patch_list is not None:
        merged = _new_value(patch_list, schema)
    else:
        return False
    to_delete = [
        _identity(o, merge_key)
        for o in order
        if merge_key and isinstance(o, dict) and o.get(_DIRECTIVE) == "delete"
    ]
    if to_delete:
        merged = [m for m in merged if _identity(m, merge_key) not in to_delete]
    server_order = original_list if original_list is not None else []
    original[field] = _normalize_order(merged, order, server_order, merge_key)
    return True


def _validate_order(
    patch_list: list[Any], order: list[Any], merge_key: str | None, field: str
) -> None:
    """``validatePatchWithSetOrderList``: patch items appear in the order list, in that order."""
    items = [p for p in patch_list if not (isinstance(p, dict) and _DIRECTIVE in p)]
    if not items or not order:
        return
    p = s = 0
    while p < len(items) and s < len(order):
        if _identity(items[p], merge_key) == _identity(order[s], merge_key):
            p += 1
        s += 1
    if p < len(items):
        raise PatchError(f"the order in patch list {field} doesn't match {_SET_ORDER}{field} list")


def _delete_from_primitive_list(original: dict[str, Any], field: str, value: Any) -> None:
    if not isinstance(value, list):
        raise InvalidPatchError(
            f"invalid patch format of {_DELETE_PRIMITIVES}{field}: must be a list"
        )
    current = original.get(field)
    if isinstance(current, list):
        doomed = {canonical_json(v) for v in value}
        original[field] = [v for v in current if canonical_json(v) not in doomed]


def _retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    keys = patch[_RETAIN_KEYS]
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise InvalidPatchError("invalid patch format of retainKeys: must be a list of strings")
    retained = set(keys)
    for key, value in patch.items():
        if value is None or key.startswith("$"):
            continue
        if key not in retained:
            raise InvalidPatchError(
                f"invalid patch format of retainKeys: {key!r} is in the patch but not in $retainKeys"
            )
    for key in [k for k in original if k not in retained]:
        del original[key]


def _brief(value: Any) -> str:
    text = canonical_json(value)
    return text if len(text) <= 200 else text[:197] + "..."
