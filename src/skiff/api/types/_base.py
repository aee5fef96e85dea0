"""Base model and shared scalar types for every API model.

Conventions every model in ``skiff.api.types`` follows (the patch engine, the OpenAPI generator and
the model-parity test rely on them):

- Python attribute names are snake_case; the wire name is the ``alias`` (camelCase, exactly as in
  Kubernetes). ``populate_by_name`` lets code build models by attribute name.
- Every optional field defaults to ``None`` and is omitted on output (``to_wire`` drops ``None``),
  like Go's ``omitempty``. Fields Kubernetes marks required have no default.
- List and map fields carry Kubernetes' patch metadata in ``json_schema_extra`` with the upstream
  extension names, so they show up in OpenAPI verbatim:
  ``x-kubernetes-patch-strategy`` (``merge``, ``replace``, ``retainKeys``, ``merge,retainKeys``),
  ``x-kubernetes-patch-merge-key`` (e.g. ``name``), ``x-kubernetes-list-type`` (``atomic``,
  ``set``, ``map``), ``x-kubernetes-list-map-keys`` (e.g. ``["containerPort", "protocol"]``) and
  ``x-kubernetes-map-type`` (``atomic`` or ``granular``).
- Scalars with Kubernetes-specific wire forms use the annotated types below: ``Quantity``,
  ``IntOrString``, ``Time`` / ``MicroTime`` (RFC 3339 strings), ``RawExtension`` (any JSON object).
"""

from __future__ import annotations

import functools
import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

from skiff.api.duration import parse_time

__all__ = [
    "IntOrString",
    "KubeModel",
    "MicroTime",
    "Quantity",
    "RawExtension",
    "Time",
    "field_shape",
]


class KubeModel(BaseModel):
    """Base of every API model: camelCase aliases, unknown fields rejected, ``None`` omitted."""

    model_config = ConfigDict(
        populate_by_name=True,
        extra="forbid",
        validate_assignment=False,
        use_enum_values=True,
        protected_namespaces=(),
    )

    def to_wire(self) -> dict[str, Any]:
        """The object as Kubernetes JSON: camelCase keys, unset fields left out.

        Like Go's ``omitempty``, empty maps and lists of optional fields are left out too
        (``labels: {}`` reads back as no labels); empty structs such as ``emptyDir: {}`` stay.
        """
        data = self.model_dump(by_alias=True, exclude_none=True, mode="json")
        _drop_empty(type(self), data)
        return data


# per model: (alias, drop-when-empty, nested model, container kind) for fields worth visiting
_Plan = tuple[tuple[str, bool, "type[KubeModel] | None", str], ...]
_PLANS: dict[type[BaseModel], _Plan] = {}


def field_shape(annotation: Any) -> tuple[str, type[KubeModel] | None]:
    """("list" | "map" | "model" | "", the KubeModel inside) for a field annotation, looking
    through ``X | None`` and ``Annotated``."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union) and len(args) == 1:
        return field_shape(args[0])
    if origin is typing.Annotated:
        return field_shape(args[0])
    if origin is list:
        inner = field_shape(args[0])[1] if args else None
        return "list", inner if isinstance(inner, type) else None
    if origin is dict:
        inner = field_shape(args[1])[1] if len(args) == 2 else None
        return "map", inner if isinstance(inner, type) else None
    if isinstance(annotation, type) and issubclass(annotation, KubeModel):
        return "model", annotation
    return "", None


def _plan(model: type[BaseModel]) -> _Plan:
    plan = _PLANS.get(model)
    if plan is None:
        entries = []
        for name, info in model.model_fields.items():
            container, inner = field_shape(info.annotation)
            if not container:
                continue
            drop = container in ("list", "map") and not info.is_required()
            if drop or inner is not None:
                entries.append((info.alias or name, drop, inner, container))
        plan = tuple(entries)
        _PLANS[model] = plan
    return plan


def _drop_empty(model: type[BaseModel], data: dict[str, Any]) -> None:
    for alias, drop, inner, container in _plan(model):
        value = data.get(alias)
        if value is None:
            continue
        if inner is not None:
            if container == "model" and isinstance(value, dict):
                _drop_empty(inner, value)
            elif container == "list" and isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        _drop_empty(inner, item)
            elif container == "map" and isinstance(value, dict):
                for item in value.values():
                    if isinstance(item, dict):
                        _drop_empty(inner, item)
        if drop and not value:
            del data[alias]


def _quantity(value: object) -> object:
    # Kubernetes accepts numbers for quantities (``cpu: 1``, ``memory: 1.5e9``) and keeps them as
    # strings on output; booleans are not numbers here.
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


Quantity = Annotated[
    str,
    BeforeValidator(_quantity),
    WithJsonSchema({"type": "string", "x-kubernetes-int-or-string": True, "format": "quantity"}),
]
"""A resource quantity such as ``100m``, ``1Gi`` or ``2``; numbers on input become strings."""

IntOrString = Annotated[
    int | str,
    WithJsonSchema({"x-kubernetes-int-or-string": True, "format": "int-or-string"}),
]
"""An integer or a string (ports by number or name, ``maxSurge: 25%``)."""


def _time(value: object) -> object:
    # Kubernetes keeps Time in UTC with second precision, whatever offset the client sent;
    # non-strings are left for pydantic to reject with its own message
    return _normal_time(value, "%Y-%m-%dT%H:%M:%SZ") if isinstance(value, str) else value


def _micro_time(value: object) -> object:
    return _normal_time(value, "%Y-%m-%dT%H:%M:%S.%fZ") if isinstance(value, str) else value


@functools.lru_cache(maxsize=8192)
def _normal_time(value: str, layout: str) -> str:
    """``value`` parsed and written back in ``layout``, remembered: most timestamps an update
    carries (creation, conditions, managedFields) are the ones the object had, and parsing one
    took ~5 us, ~10 % of a Lease renewal's validation. ``ValueError`` (not remembered) when
    ``value`` is not RFC 3339."""
    return parse_time(value).strftime(layout)


Time = Annotated[
    str, BeforeValidator(_time), WithJsonSchema({"type": "string", "format": "date-time"})
]
"""An RFC 3339 timestamp, kept in UTC with second precision, e.g. ``2025-01-01T00:00:00Z``."""

MicroTime = Annotated[
    str, BeforeValidator(_micro_time), WithJsonSchema({"type": "string", "format": "date-time"})
]
"""An RFC 3339 timestamp, kept in UTC with microsecond precision."""

RawExtension = Annotated[
    dict[str, Any],
    WithJsonSchema({"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
]
"""An embedded object of any shape."""
