"""Small helpers over JSON-like values shared by the patch algorithms.

JSON values here are what ``json.loads`` produces: ``dict`` (string keys), ``list``, ``str``,
``int``, ``float``, ``bool`` and ``None``. Every algorithm copies its input once with
:func:`copy_json` and then works on its own copy, so results never share containers with inputs.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["canonical_json", "copy_json", "copy_json_without_nulls", "json_equal"]


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value; much faster than ``copy.deepcopy`` for plain data."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


def copy_json_without_nulls(value: Any) -> Any:
    """A deep copy that drops ``null`` map values at every level (Go's typed decode does the same)."""
    if isinstance(value, dict):
        return {k: copy_json_without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [copy_json_without_nulls(v) for v in value]
    return value


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: ``1 == 1.0`` but ``true != 1``, maps unordered, lists ordered."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        if not isinstance(b, dict) or len(a) != len(b):
            return False
        return all(key in b and json_equal(value, b[key]) for key, value in a.items())
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return False
        return all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if type(a) is not type(b):
        return False
    return bool(a == b)


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys, the form used inside ``k:``/``v:`` field-set keys."""
    # Fast paths: list-map keys and set items are almost always strings or integers, and this
    # runs for every list item on every write.
    if isinstance(value, str):
        return _encode_string(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        inner = ",".join(_encode_string(k) + ":" + canonical_json(value[k]) for k in sorted(value))
        return "{" + inner + "}"
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_encode_string = json.encoder.encode_basestring
