"""Small helpers every validation module uses: safe dict access, common numeric checks, quantities.

Objects arrive as plain JSON dicts that pydantic has already checked for shape, but validation
must still not crash on a missing or ``null`` branch, so every accessor tolerates absence.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, TypeGuard

from skiff.api.field import FieldError

from .names import inclusive_range_error, is_valid_percent, is_valid_port_name, is_valid_port_num

__all__ = [
    "FIELD_IMMUTABLE",
    "IS_NEGATIVE",
    "QUANTITY_FORMAT",
    "ErrorList",
    "as_dict",
    "as_list",
    "immutable",
    "in_range",
    "int_or_percent_value",
    "is_int",
    "nonnegative",
    "not_found",
    "not_more_than_100_percent",
    "parse_quantity",
    "port_num_or_name",
    "positive_int_or_percent",
    "semantic_equal",
]

ErrorList = list[FieldError]

IS_NEGATIVE = "must be greater than or equal to 0"
FIELD_IMMUTABLE = "field is immutable"
QUANTITY_FORMAT = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def nonnegative(value: Any, path: str) -> ErrorList:
    if is_int(value) and value < 0:
        return [FieldError.invalid(path, value, IS_NEGATIVE)]
    return []


def not_found(path: str, value: Any) -> FieldError:
    return FieldError("FieldValueNotFound", path, "", value, True)


def semantic_equal(a: Any, b: Any) -> bool:
    """Go's ``apiequality.Semantic.DeepEqual`` treats nil and empty collections alike."""
    if a in (None, {}, []) and b in (None, {}, []):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        keys = set(a) | set(b)
        return all(semantic_equal(a.get(k), b.get(k)) for k in keys)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(semantic_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def immutable(new: Any, old: Any, path: str) -> ErrorList:
    if not semantic_equal(new, old):
        return [FieldError.invalid(path, new, FIELD_IMMUTABLE)]
    return []


def port_num_or_name(value: Any, path: str) -> ErrorList:
    """An IntOrString port: a number in 1..65535 or an IANA service name."""
    if is_int(value):
        return [FieldError.invalid(path, value, m) for m in is_valid_port_num(value)]
    if isinstance(value, str):
        if not value:
            return [FieldError.required(path)]
        return [FieldError.invalid(path, value, m) for m in is_valid_port_name(value)]
    return [FieldError.invalid(path, value, "must contain an int or string")]


def positive_int_or_percent(value: Any, path: str) -> ErrorList:
    """``ValidatePositiveIntOrPercent``: a non-negative int or ``N%``."""
    if isinstance(value, str):
        return [FieldError.invalid(path, value, m) for m in is_valid_percent(value)]
    if is_int(value):
        return nonnegative(value, path)
    return []


def int_or_percent_value(value: Any) -> int:
    """The number in an int-or-percent (``"25%"`` -> 25); 0 when absent or malformed."""
    if is_int(value):
        return int(value)
    if isinstance(value, str) and is_valid_percent(value) == []:
        return int(value[:-1])
    return 0


def not_more_than_100_percent(value: Any, path: str) -> ErrorList:
    if isinstance(value, str) and not is_valid_percent(value) and int(value[:-1]) > 100:
        return [FieldError.invalid(path, value, "must not be greater than 100%")]
    return []


def in_range(value: Any, lo: int, hi: int, path: str) -> ErrorList:
    if is_int(value) and not lo <= value <= hi:
        return [FieldError.invalid(path, value, inclusive_range_error(lo, hi))]
    return []


_QUANTITY_RE = re.compile(r"([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(value: Any) -> Decimal | None:
    """A resource quantity (``100m``, ``1Gi``, ``1.5e3``) as an exact decimal; None if malformed."""
    if is_int(value) or isinstance(value, float):
        return Decimal(str(value))
    if not isinstance(value, str):
        return None
    m = _QUANTITY_RE.fullmatch(value.strip())
    if m is None:
        return None
    number, suffix = m.groups()
    if number.count(".") > 1 or number.strip("+-") in ("", "."):
        return None
    try:
        base = Decimal(number)
    except InvalidOperation:
        return None
    if suffix in _BINARY:
        return base * (Decimal(1024) ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return base.scaleb(_DECIMAL[suffix])
    if suffix[:1] in ("e", "E") and re.fullmatch(r"[-+]?[0-9]+", suffix[1:]):
        return base.scaleb(int(suffix[1:]))
    return None
