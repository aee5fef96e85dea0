"""The Kubernetes CEL libraries CRD rules use, for cel-python.

cel-python implements standard CEL; Kubernetes adds cel-go's string extensions and its own list,
regex, URL and quantity libraries (k8s.io/apiserver ``pkg/cel/library``). The commonly used
functions are provided here as receiver-style functions (``self.lowerAscii()`` is
``lowerAscii(self)``); the rest are not, and a rule calling one of them is skipped rather than
failing every object (``skiff.apiserver.crdcel``).
"""

from __future__ import annotations

import itertools
import re
from typing import Any
from urllib.parse import urlsplit

from celpy import celtypes

from skiff.api.quantity import QuantityError, validate_quantity

__all__ = ["KUBERNETES_FUNCTIONS"]


def _str(value: Any) -> str:
    return str(value)


def _char_at(s: Any, i: Any) -> Any:
    text, n = _str(s), int(i)
    if n == len(text):
        return celtypes.StringType("")
    return celtypes.StringType(text[n])


def _index_of(target: Any, item: Any, offset: Any = 0) -> Any:
    if isinstance(target, celtypes.ListType | list):
        for i, x in enumerate(target):
            if x == item:
                return celtypes.IntType(i)
        return celtypes.IntType(-1)
    return celtypes.IntType(_str(target).find(_str(item), int(offset)))


def _last_index_of(target: Any, item: Any) -> Any:
    if isinstance(target, celtypes.ListType | list):
        for i in range(len(target) - 1, -1, -1):
            if target[i] == item:
                return celtypes.IntType(i)
        return celtypes.IntType(-1)
    return celtypes.IntType(_str(target).rfind(_str(item)))


def _replace(s: Any, old: Any, new: Any, n: Any = -1) -> Any:
    return celtypes.StringType(_str(s).replace(_str(old), _str(new), int(n)))


def _split(s: Any, sep: Any, n: Any = -1) -> Any:
    limit = int(n)
    if limit == 0:
        return celtypes.ListType([])
    parts = _str(s).split(_str(sep), limit - 1 if limit > 0 else -1)
    return celtypes.ListType([celtypes.StringType(p) for p in parts])


def _substring(s: Any, start: Any, end: Any = None) -> Any:
    text = _str(s)
    return celtypes.StringType(text[int(start) : len(text) if end is None else int(end)])


def _join(items: Any, sep: Any = "") -> Any:
    return celtypes.StringType(_str(sep).join(_str(x) for x in items))


def _is_sorted(items: Any) -> Any:
    values = list(items)
    return celtypes.BoolType(all(a <= b for a, b in itertools.pairwise(values)))


def _sum(items: Any) -> Any:
    values = list(items)
    if not values:
        return celtypes.IntType(0)
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total


def _min(items: Any) -> Any:
    return min(items)


def _max(items: Any) -> Any:
    return max(items)


def _find(s: Any, pattern: Any) -> Any:
    m = re.search(_str(pattern), _str(s))
    return celtypes.StringType(m.group(0) if m else "")


def _find_all(s: Any, pattern: Any, n: Any = -1) -> Any:
    found = [m.group(0) for m in re.finditer(_str(pattern), _str(s))]
    if int(n) >= 0:
        found = found[: int(n)]
    return celtypes.ListType([celtypes.StringType(f) for f in found])


def _is_url(s: Any) -> Any:
    try:
        parts = urlsplit(_str(s))
    except ValueError:
        return celtypes.BoolType(False)
    return celtypes.BoolType(bool(parts.scheme) and (bool(parts.netloc) or bool(parts.path)))


def _is_quantity(s: Any) -> Any:
    try:
        validate_quantity(_str(s))
    except (QuantityError, ValueError):
        return celtypes.BoolType(False)
    return celtypes.BoolType(True)


KUBERNETES_FUNCTIONS: dict[str, Any] = {
    "charAt": _char_at,
    "indexOf": _index_of,
    "lastIndexOf": _last_index_of,
    "lowerAscii": lambda s: celtypes.StringType(_str(s).lower()),
    "upperAscii": lambda s: celtypes.StringType(_str(s).upper()),
    "replace": _replace,
    "split": _split,
    "substring": _substring,
    "trim": lambda s: celtypes.StringType(_str(s).strip()),
    "join": _join,
    "isSorted": _is_sorted,
    "sum": _sum,
    "min": _min,
    "max": _max,
    "find": _find,
    "findAll": _find_all,
    "isURL": _is_url,
    "isQuantity": _is_quantity,
}
"""Functions by name, for ``celpy.Environment.program(..., functions=...)``."""
