"""Structural decoding of objects through their models, honouring ``fieldValidation``.

An incoming object is validated against its pydantic model in strict mode (Kubernetes does not
turn ``"3"`` into ``3``) and re-serialised, so what is stored has exactly the schema's fields.
Unknown fields are errors under ``Strict``, warnings under ``Warn`` and silently dropped under
``Ignore`` (Kubernetes' ``fieldValidation`` semantics). Wrong types and unknown fields under
``Strict`` are decoding errors worded as Kubernetes' JSON decoding words them (400 BadRequest);
missing required fields are 422 ``Invalid`` with one cause per field. No pydantic wording
reaches a client.
"""

from __future__ import annotations

import copy
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from skiff.api.field import FieldError
from skiff.api.resources import ResourceInfo
from skiff.api.types import model_for
from skiff.api.types._base import IntOrString, MicroTime, Quantity, RawExtension, Time

__all__ = [
    "FIELD_VALIDATION",
    "StructuralResult",
    "go_format",
    "metadata_decode_error",
    "structural_decode",
]

FIELD_VALIDATION = ("Strict", "Warn", "Ignore")


class StructuralResult:
    """The decoded object, the warnings for the client, the field errors (422) and, when
    decoding itself failed as Kubernetes' would, its message (400)."""

    __slots__ = ("convert_error", "decode_error", "errors", "obj", "warnings")

    def __init__(
        self,
        obj: dict[str, Any],
        warnings: list[str],
        errors: list[FieldError],
        *,
        decode_error: str = "",
        convert_error: str = "",
    ) -> None:
        self.obj = obj
        self.warnings = warnings
        self.errors = errors
        # Go's JSON decoder's words, and the unstructured converter's for the same failure
        self.decode_error = decode_error
        self.convert_error = convert_error or decode_error


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
    """Validate ``obj`` against the model of ``info`` and return it normalised.

    What Kubernetes' JSON decoding refuses comes back as ``decode_error`` in its words (a value
    of the wrong type: ``json: cannot unmarshal string into Go struct field
    DeploymentSpec.spec.replicas of type int32``; under ``Strict``, unknown fields:
    ``strict decoding error: unknown field "spec.bogus", unknown field "spec.other"``), which the
    registry answers with 400 BadRequest as Kubernetes does; a missing required field is a field
    error (422 ``Required value``)."""
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
            wrong: list[tuple[list[int | str], str, str]] = []
            seen: set[str] = set()
            for err in exc.errors(include_url=False):
                path, real = _path(work, tuple(err["loc"]))
                if err["type"] == "extra_forbidden":
                    unknown.append((path, real))
                    continue
                if path in seen:
                    continue
                seen.add(path)
                if err["type"] == "missing" or err.get("input", ...) is None:
                    # JSON null decodes to the zero value in Go: for a required field that
                    # is the same as leaving it out
                    errors.append(FieldError.required(path))
                else:
                    loc = tuple(err["loc"])
                    wrong.append(
                        (
                            real,
                            _unmarshal_error(model, loc, err),
                            _convert_error(model, loc, err),
                        )
                    )
            if wrong:
                first = min(wrong, key=lambda w: _document_order(work, w[0]))
                return StructuralResult(
                    obj, warnings, [], decode_error=first[1], convert_error=first[2]
                )
            unknown.sort(key=lambda u: _document_order(work, u[1]))
            if unknown and field_validation == "Strict":
                return StructuralResult(
                    obj,
                    warnings,
                    errors,
                    decode_error="strict decoding error: "
                    + ", ".join(f'unknown field "{p}"' for p, _ in unknown),
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
    return StructuralResult(
        obj, warnings, [FieldError("InternalError", "[]", "could not normalise")]
    )


def metadata_decode_error(info: ResourceInfo, body: dict[str, Any]) -> str:
    """Go's decoding error for a ``metadata`` that is not an object ("" when it is one or is
    absent): checked before anything reads the name or namespace from it."""
    meta = body.get("metadata")
    if meta is None or isinstance(meta, dict):
        return ""
    return (
        f"json: cannot unmarshal {_json_kind(meta)} into Go struct field {info.kind}.metadata "
        "of type v1.ObjectMeta"
    )


def _document_order(obj: Any, real: list[int | str]) -> tuple[int, ...]:
    """Where ``real`` sits in ``obj`` as written (Go's decoder reports in document order)."""
    order: list[int] = []
    cur = obj
    for seg in real:
        if isinstance(cur, dict) and seg in cur:
            order.append(list(cur).index(seg))
            cur = cur[seg]
        elif isinstance(cur, list) and isinstance(seg, int) and 0 <= seg < len(cur):
            order.append(seg)
            cur = cur[seg]
        else:
            order.append(1 << 30)
            cur = None
    return tuple(order)


# --- Go's json.UnmarshalTypeError, worded from the models --------------------------------------

# int fields that are int64 in the Go types (every other integer field is an int32)
_INT64_FIELDS = frozenset(
    {
        "activeDeadlineSeconds",
        "deletionGracePeriodSeconds",
        "expirationSeconds",
        "fsGroup",
        "generation",
        "observedGeneration",
        "runAsGroup",
        "runAsUser",
        "startingDeadlineSeconds",
        "supplementalGroups",
        "terminationGracePeriodSeconds",
        "tolerationSeconds",
    }
)


_NAMED_SCALARS = (IntOrString, Quantity, Time, MicroTime, RawExtension)


def _json_kind(value: Any) -> str:
    """How Go's decoder names a JSON value in an UnmarshalTypeError."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "number"
    if isinstance(value, float):
        return f"number {value:g}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _strip_optional(args[0])
    return annotation


def _package(model: type[BaseModel]) -> str:
    """The Go package name of a model's type (``v1``, ``v2``): the module's version suffix."""
    suffix = model.__module__.rpartition("_")[2]
    return suffix if suffix[:1] == "v" and suffix[1:2].isdigit() else "v1"


def _go_type(annotation: Any, field: str) -> str:
    """The Go type Kubernetes declares for a field of this annotation, as ``reflect`` prints it."""
    annotation = _strip_optional(annotation)
    if annotation == IntOrString:
        return "intstr.IntOrString"
    if annotation == Quantity:
        return "resource.Quantity"
    if annotation in (Time, MicroTime):
        return "v1.Time" if annotation == Time else "v1.MicroTime"
    if annotation == RawExtension:
        return "runtime.RawExtension"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _go_type(args[0], field)
    if origin is list:
        return "[]" + (_go_type(args[0], field) if args else "interface {}")
    if origin is dict:
        return "map[string]" + (_go_type(args[1], field) if len(args) == 2 else "interface {}")
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"{_package(annotation)}.{annotation.__name__}"
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int64" if field in _INT64_FIELDS else "int32"
    if annotation is float:
        return "float64"
    if annotation is str:
        return "string"
    return "interface {}"


def _walk(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[str, list[str], Any, str]:
    """Follow a pydantic error location through the models: (the innermost struct holding the
    field, the JSON field names without indices or keys, the annotation at the bad value, that
    field's name)."""
    struct = model.__name__
    names: list[str] = []
    current: Any = model
    field = ""
    for seg in loc:
        current = _strip_optional(current)
        if any(current == named for named in _NAMED_SCALARS):
            break  # IntOrString, Quantity...: the type is the named one, whatever the branch
        origin = typing.get_origin(current)
        if origin is typing.Annotated:
            current = _strip_optional(typing.get_args(current)[0])
            origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(seg, str):
            found = next(
                (f for n, f in current.model_fields.items() if (f.alias or n) == seg), None
            )
            if found is None:
                break
            struct, field = current.__name__, seg
            names.append(seg)
            current = found.annotation
        elif origin is list and isinstance(seg, int):
            current = typing.get_args(current)[0]
        elif origin is dict and isinstance(seg, str):
            current = typing.get_args(current)[1]
        else:
            break
    return struct, names, _strip_optional(current), field


def _unmarshal_error(model: type[BaseModel], loc: tuple[int | str, ...], err: Any) -> str:
    """``json: cannot unmarshal <value> into Go struct field <Struct>.<path> of type <type>``
    (Go's json.UnmarshalTypeError) for a pydantic type error at ``loc``: the type is the one at
    the bad value (the element type inside a list or map)."""
    struct, names, current, field = _walk(model, loc)
    return (
        f"json: cannot unmarshal {_json_kind(err.get('input'))} into Go struct field "
        f"{struct}.{'.'.join(names)} of type {_go_type(current, field)}"
    )


def _go_kind(value: Any) -> str:
    """The reflect.Kind of a value decoded into ``map[string]interface{}``."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "slice" if isinstance(value, list) else "map"


def _convert_error(model: type[BaseModel], loc: tuple[int | str, ...], err: Any) -> str:
    """The same type error as apimachinery's unstructured converter words it (what a strategic
    merge patch's result goes through): ``cannot restore map from string``, ``cannot convert
    string to int32``..."""
    _, _, current, field = _walk(model, loc)
    value = err.get("input")
    kind = _go_kind(value)
    if current == Quantity:
        return (
            "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        )
    if any(current == named for named in _NAMED_SCALARS):
        # IntOrString and Time decode the value's JSON as a string
        return f"json: cannot unmarshal {_json_kind(value)} into Go value of type string"
    origin = typing.get_origin(current)
    if origin is typing.Annotated:
        current = _strip_optional(typing.get_args(current)[0])
        origin = typing.get_origin(current)
    if origin is dict:
        return f"cannot restore map from {kind}"
    if origin is list:
        return f"cannot restore slice from {kind}"
    if isinstance(current, type) and issubclass(current, BaseModel):
        return f"cannot restore struct from: {kind}"
    return f"cannot convert {kind} to {_go_type(current, field)}"


def go_format(value: Any) -> str:
    """``value`` as Go's ``fmt.Sprintf("%+v", ...)`` prints a decoded JSON value: ``map[a:1
    b:[x y]]`` with sorted keys, strings unquoted, ``<nil>`` for null."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_format(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)
