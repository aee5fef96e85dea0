"""Field errors: one bad field of an object, as Kubernetes reports it in a 422 ``Invalid`` Status.

``FieldError(reason, field, detail)`` maps to a Status cause
``{"reason": reason, "field": field, "message": message}`` where ``message`` is
``"<Prefix>: <detail>"`` (e.g. ``Required value: name or generateName is required``), the same text
``k8s.io/apimachinery/pkg/util/validation/field`` produces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["FieldError", "Path"]

_PREFIX = {
    "FieldValueRequired": "Required value",
    "FieldValueInvalid": "Invalid value",
    "FieldValueNotSupported": "Unsupported value",
    "FieldValueDuplicate": "Duplicate value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueTooLong": "Too long",
    "FieldValueTooMany": "Too many",
    "FieldValueTypeInvalid": "Invalid value",
    "FieldValueNotFound": "Not found",
    "InternalError": "Internal error",
}


@dataclass(frozen=True)
class FieldError:
    """One invalid field.

    ``reason`` is a Kubernetes cause type (``FieldValueRequired``, ``FieldValueInvalid``,
    ``FieldValueNotSupported``, ``FieldValueDuplicate``, ``FieldValueForbidden``,
    ``FieldValueTooLong``, ``FieldValueTypeInvalid``, ...); ``field`` is the JSON path in
    Kubernetes' form (``spec.containers[0].image``, ``metadata.labels[app]``); ``detail`` explains
    what to fix. For ``FieldValueInvalid`` and ``FieldValueNotSupported`` the offending ``value``
    is quoted in the message like Kubernetes does.
    """

    reason: str
    field: str
    detail: str = ""
    value: Any = None
    has_value: bool = False

    @classmethod
    def required(cls, field: str, detail: str = "") -> FieldError:
        return cls("FieldValueRequired", field, detail)

    @classmethod
    def invalid(cls, field: str, value: Any, detail: str) -> FieldError:
        return cls("FieldValueInvalid", field, detail, value, True)

    @classmethod
    def not_supported(cls, field: str, value: Any, supported: list[str]) -> FieldError:
        detail = "supported values: " + ", ".join(json.dumps(s) for s in supported)
        return cls("FieldValueNotSupported", field, detail, value, True)

    @classmethod
    def forbidden(cls, field: str, detail: str) -> FieldError:
        return cls("FieldValueForbidden", field, detail)

    @classmethod
    def duplicate(cls, field: str, value: Any) -> FieldError:
        return cls("FieldValueDuplicate", field, "", value, True)

    @classmethod
    def too_long(cls, field: str, value: Any, limit: int) -> FieldError:
        return cls("FieldValueTooLong", field, f"may not be more than {limit} bytes", value, False)

    @classmethod
    def type_invalid(cls, field: str, value: Any, detail: str) -> FieldError:
        return cls("FieldValueTypeInvalid", field, detail, value, True)

    @property
    def message(self) -> str:
        """The cause message, e.g. ``Invalid value: "Foo": a lowercase RFC 1123 ...``."""
        prefix = _PREFIX.get(self.reason, self.reason)
        parts = [prefix]
        if self.has_value:
            parts.append(_render(self.value))
        if self.detail:
            parts.append(self.detail)
        return ": ".join(parts)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

    def to_cause(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "field": self.field}


def _render(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


class Path:
    """Builds Kubernetes field paths: ``Path("spec").child("containers").index(0).child("image")``."""

    __slots__ = ("_text",)

    def __init__(self, text: str = "") -> None:
        self._text = text

    def child(self, name: str) -> Path:
        return Path(f"{self._text}.{name}" if self._text else name)

    def index(self, i: int) -> Path:
        return Path(f"{self._text}[{i}]")

    def key(self, k: str) -> Path:
        return Path(f"{self._text}[{k}]")

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Path({self._text!r})"
