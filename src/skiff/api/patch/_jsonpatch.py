"""JSON patch (RFC 6902) and JSON pointers (RFC 6901), as used by ``application/json-patch+json``.

The operations run in order on a private copy of the document; if one fails the whole patch
fails and nothing is returned (RFC 6902 §5). Errors follow Kubernetes' split (``handlers/patch.go``
``applyJSPatch``): a malformed patch is :class:`InvalidPatchError` (400), an operation that does
not apply (missing path, failed ``test``) is a 422 :class:`PatchError`.
"""

from __future__ import annotations

from typing import Any

from skiff.api.patch._json import copy_json, json_equal
from skiff.api.patch.errors import InvalidPatchError, PatchError, PatchTestFailedError

__all__ = ["json_patch", "parse_pointer"]

_OPS = frozenset({"add", "remove", "replace", "move", "copy", "test"})


def parse_pointer(pointer: str) -> list[str]:
    """The reference tokens of a JSON pointer, with ``~1`` -> ``/`` and ``~0`` -> ``~`` undone."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise InvalidPatchError(f"JSON pointer {pointer!r} must be empty or start with '/'")
    tokens = []
    for raw in pointer[1:].split("/"):
        if "~" in raw:
            # Only ~0 and ~1 are escapes; anything else after '~' is malformed (RFC 6901 §3).
            rest = raw.replace("~0", "").replace("~1", "")
            if "~" in rest:
                raise InvalidPatchError(f"JSON pointer {pointer!r} has an invalid '~' escape")
            raw = raw.replace("~1", "/").replace("~0", "~")
        tokens.append(raw)
    return tokens


def json_patch(doc: Any, ops: Any) -> Any:
    """Apply the RFC 6902 operations ``ops`` to ``doc`` and return the new document.

    ``doc`` and ``ops`` are not modified and the result shares no containers with them.
    """
    if not isinstance(ops, list):
        raise InvalidPatchError("a JSON patch must be a list of operations")
    result = copy_json(doc)
    for index, op in enumerate(ops):
        result = _apply_op(result, op, index)
    return result


def _field(op: dict[str, Any], name: str, index: int) -> Any:
    if name not in op:
        raise InvalidPatchError(f"operation {index} ({op.get('op')}) is missing {name!r}")
    return op[name]


def _pointer_field(op: dict[str, Any], name: str, index: int) -> list[str]:
    value = _field(op, name, index)
    if not isinstance(value, str):
        raise InvalidPatchError(f"operation {index}: {name!r} must be a string")
    return parse_pointer(value)


def _apply_op(doc: Any, op: Any, index: int) -> Any:
    if not isinstance(op, dict):
        raise InvalidPatchError(f"operation {index} is not an object")
    kind = op.get("op")
    if kind not in _OPS:
        raise InvalidPatchError(f"operation {index}: unexpected op {kind!r}")
    path = _pointer_field(op, "path", index)
    if kind == "add":
        return _add(doc, path, copy_json(_field(op, "value", index)))
    if kind == "remove":
        doc, _ = _remove(doc, path)
        return doc
    if kind == "replace":
        value = copy_json(_field(op, "value", index))
        if not path:
            return value
        parent, key = _locate_parent(doc, path)
        if isinstance(parent, dict):
            if key not in parent:
                raise PatchError(
                    f"replace operation does not apply: doc is missing key: {_ptr(path)}"
                )
            parent[key] = value
        else:
            parent[_index(key, len(parent), path, allow_end=False)] = value
        return doc
    if kind == "move":
        source = _pointer_field(op, "from", index)
        if source == path:
            _get(doc, source)  # the source must still exist (RFC 6902 §4.4)
            return doc
        if path[: len(source)] == source:
            raise PatchError(
                f"move operation cannot move {_ptr(source)} into its own child {_ptr(path)}"
            )
        doc, value = _remove(doc, source)
        return _add(doc, path, value)
    if kind == "copy":
        source = _pointer_field(op, "from", index)
        return _add(doc, path, copy_json(_get(doc, source)))
    # test
    expected = _field(op, "value", index)
    actual = _get(doc, path)
    if not json_equal(actual, expected):
        raise PatchTestFailedError(f"testing value {_ptr(path)} failed: test failed")
    return doc


def _ptr(tokens: list[str]) -> str:
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)


def _index(token: str, length: int, path: list[str], *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return length
    if not token.isdigit() or (len(token) > 1 and token[0] == "0") or not token.isascii():
        raise PatchError(f"invalid array index {token!r} in {_ptr(path)}")
    i = int(token)
    limit = length if allow_end else length - 1
    if i > limit:
        raise PatchError(f"array index {i} out of bounds in {_ptr(path)}")
    return i


def _get(doc: Any, path: list[str]) -> Any:
    node = doc
    for depth, token in enumerate(path):
        if isinstance(node, dict):
            if token not in node:
                raise PatchError(f"doc is missing path: {_ptr(path[: depth + 1])}")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(token, len(node), path, allow_end=False)]
        else:
            raise PatchError(f"doc is missing path: {_ptr(path[: depth + 1])}")
    return node


def _locate_parent(doc: Any, path: list[str]) -> tuple[Any, str]:
    parent = _get(doc, path[:-1])
    if not isinstance(parent, dict | list):
        raise PatchError(f"doc is missing path: {_ptr(path)}: parent is not a container")
    return parent, path[-1]


def _add(doc: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent, key = _locate_parent(doc, path)
    if isinstance(parent, dict):
        parent[key] = value
    else:
        parent.insert(_index(key, len(parent), path, allow_end=True), value)
    return doc


def _remove(doc: Any, path: list[str]) -> tuple[Any, Any]:
    if not path:
        raise PatchError("remove operation cannot remove the whole document")
    parent, key = _locate_parent(doc, path)
    if isinstance(parent, dict):
        if key not in parent:
            raise PatchError(f"remove operation does not apply: doc is missing path: {_ptr(path)}")
        return doc, parent.pop(key)
    return doc, parent.pop(_index(key, len(parent), path, allow_end=False))
