"""Structural decoding of objects through their models, honouring ``fieldValidation``.

An incoming object is validated against its pydantic model in strict mode (Kubernetes does not
turn ``"3"`` into ``3``) and re-serialised, so what is stored has exactly the schema's fields.
Unknown fields are errors under ``Strict``, warnings under ``Warn`` and silently dropped under
``Ignore`` (Kubernetes' ``fieldValidation`` semantics). Wrong types and missing required fields are
422 ``Invalid`` with one cause per field.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError

from skiff.api.field import FieldError
from skiff.api.resources import ResourceInfo
from skiff.api.types import model_for

__all__ = ["FIELD_VALIDATION", "StructuralResult", "structural_decode"]

FIELD_VALIDATION = ("Strict", "Warn", "Ignore")


class StructuralResult:
    __slots__ = ("errors", "obj", "warnings")

    def __init__(self, obj: dict[str, Any], warnings: list[str], errors: list[FieldError]) -> None:
        self.obj = obj
        self.warnings = warnings
        self.errors = errors


def _model(group: str, version: str, kind: str) -> Any:
    return model_for(group, version, kind)


def _path(obj: Any, loc: tuple[int | str, ...]) -> tuple[str, list[int | str]]:
    """Kubernetes field path for a pydantic error location, skipping union branch tags."""
    text = ""
    real: list[int | str] = []
    cur = obj
    for seg in loc:
        if isinstance(cur, dict) and isinstance(seg, str) and seg in cur:
            if real and isinstance(real[-1], str) and _is_map_position(real):
                text += f"[{seg}]"
            else:
                text = f"{text}.{seg}" if text else seg
            real.append(seg)
            cur = cur[seg]
        elif isinstance(cur, list) and isinstance(seg, int) and 0 <= seg < len(cur):
            text += f"[{seg}]"
            real.append(seg)
            cur = cur[seg]
        elif isinstance(cur, dict) and isinstance(seg, str) and not real:
            text = seg
            real.append(seg)
            cur = None
        elif isinstance(cur, dict) and isinstance(seg, str) and seg.isidentifier():
            # a missing required field or an unknown one: the name is the last segment
            text = f"{text}.{seg}" if text else seg
            real.append(seg)
            cur = None
        # else: a union branch tag such as "int" / "str" / "function-after[...]": skip
    return text, real


_MAP_FIELDS = {
    "labels",
    "annotations",
    "data",
    "stringData",
    "binaryData",
    "nodeSelector",
    "matchLabels",
    "selector",
    "limits",
    "requests",
    "capacity",
    "allocatable",
}


def _is_map_position(real: list[int | str]) -> bool:
    return isinstance(real[-1], str) and real[-1] in _MAP_FIELDS


def _drop(obj: dict[str, Any], real: list[int | str]) -> None:
    cur: Any = obj
    for seg in real[:-1]:
        cur = cur[seg]
    if isinstance(cur, dict):
        cur.pop(real[-1], None)


def structural_decode(
    info: ResourceInfo, obj: dict[str, Any], *, field_validation: str = "Strict"
) -> StructuralResult:
    """Validate ``obj`` against the model of ``info`` and return it normalised."""
    model = _model(info.group, info.version, info.kind)
    if model is None:
        return StructuralResult(obj, [], [])
    warnings: list[str] = []
    work = obj
    for _attempt in range(3):
        try:
            validated = model.model_validate(work, strict=True)
        except ValidationError as exc:
            errors: list[FieldError] = []
            unknown: list[tuple[str, list[int | str]]] = []
            seen: set[str] = set()
            for err in exc.errors(include_url=False):
                path, real = _path(work, tuple(err["loc"]))
                if err["type"] == "extra_forbidden":
                    unknown.append((path, real))
                    continue
                if path in seen:
                    continue
                seen.add(path)
                if err["type"] == "missing":
                    errors.append(FieldError.required(path))
                else:
                    errors.append(
                        FieldError(
                            "FieldValueTypeInvalid",
                            path,
                            err["msg"],
                            err.get("input"),
                            "input" in err and not isinstance(err.get("input"), dict | list),
                        )
                    )
            if unknown and field_validation == "Strict":
                errors.extend(
                    FieldError("FieldValueInvalid", p, f'unknown field "{p}"') for p, _ in unknown
                )
            if errors:
                return StructuralResult(obj, warnings, errors)
            # Warn / Ignore: drop the unknown fields and validate again
            if work is obj:
                work = copy.deepcopy(obj)
            for path, real in unknown:
                if field_validation == "Warn":
                    warnings.append(f'unknown field "{path}"')
                _drop(work, real)
            continue
        return StructuralResult(validated.to_wire(), warnings, [])
    return StructuralResult(obj, warnings, [FieldError("InternalError", "", "could not normalise")])
