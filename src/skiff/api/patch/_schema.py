"""The schema seam: what the patch algorithms need to know about a position in an object.

A :class:`PatchSchema` describes one position (the whole object, a field, a list item, a map
value): its kind (object/map/list/scalar/unknown), and for lists and maps the metadata that
Kubernetes publishes as OpenAPI extensions — strategic-merge-patch strategy and merge key, and
server-side-apply list type, list-map keys and map type.

:func:`schema_for_model` builds one from a pydantic model following the conventions of
``skiff.api.types._base`` (aliases for wire names, ``json_schema_extra`` with the
``x-kubernetes-*`` extensions on fields or on the model). Field schemas are resolved lazily, so
recursive models work and unused branches cost nothing; results are cached per model class.

Defaults follow ``k8s.io/kube-openapi/pkg/schemaconv``: a list with patch strategy ``merge`` and a
merge key is a ``map`` list keyed by it, ``merge`` without a key is a ``set``, any other list is
``atomic``; maps and structs are ``granular`` unless marked ``atomic``. Positions the schema does
not describe (free-form ``dict[str, Any]``, ``RawExtension``, undeclared keys) are ``unknown``:
strategic merge treats them like JSON merge patch, server-side apply like structured-merge-diff's
deduced schema (maps granular, lists atomic).
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

__all__ = ["UNKNOWN", "PatchSchema", "SchemaKind", "schema_for_model"]


class SchemaKind(enum.StrEnum):
    """What sits at a position."""

    OBJECT = "object"
    """A struct with declared fields (a model)."""
    MAP = "map"
    """A string-keyed map whose values all share :attr:`PatchSchema.item` (labels, limits)."""
    LIST = "list"
    """A list whose items share :attr:`PatchSchema.item`."""
    SCALAR = "scalar"
    """A string, number, boolean, or int-or-string."""
    UNKNOWN = "unknown"
    """Anything: the algorithms look at the value itself."""


class PatchSchema:
    """Patch metadata for one position; immutable once built.

    ``fields`` (object kind) maps wire names to child schemas; pass a callable to resolve them on
    first use. ``item`` is the schema of list items or map values (also lazily resolvable).
    ``patch_strategy`` is the raw ``x-kubernetes-patch-strategy`` value (``"merge"``,
    ``"merge,retainKeys"``, ``"replace"``, ``"retainKeys"``). ``list_map_key_defaults`` gives the
    value structured-merge-diff assumes for a missing list-map key (``protocol: TCP``).
    """

    __slots__ = (
        "_fields",
        "_fields_source",
        "_item",
        "_item_source",
        "kind",
        "list_map_key_defaults",
        "list_map_keys",
        "list_type",
        "map_type",
        "merge_key",
        "name",
        "patch_strategies",
        "patch_strategy",
    )

    def __init__(
        self,
        kind: SchemaKind,
        *,
        fields: Mapping[str, PatchSchema] | Callable[[], Mapping[str, PatchSchema]] | None = None,
        item: PatchSchema | Callable[[], PatchSchema] | None = None,
        patch_strategy: str | None = None,
        merge_key: str | None = None,
        list_type: str | None = None,
        list_map_keys: tuple[str, ...] = (),
        map_type: str | None = None,
        list_map_key_defaults: Mapping[str, Any] | None = None,
        name: str = "",
    ) -> None:
        self.kind = kind
        self.name = name
        self.patch_strategy = patch_strategy
        self.patch_strategies = frozenset(
            s.strip() for s in (patch_strategy or "").split(",") if s.strip()
        )
        self.merge_key = merge_key
        if kind is SchemaKind.LIST and list_type is None:
            # kube-openapi schemaconv: patch metadata implies the SSA list type.
            if "merge" in self.patch_strategies:
                list_type = "map" if merge_key else "set"
            else:
                list_type = "atomic"
        self.list_type = list_type
        if list_type == "map" and not list_map_keys and merge_key:
            list_map_keys = (merge_key,)
        self.list_map_keys = tuple(list_map_keys)
        self.list_map_key_defaults: Mapping[str, Any] = dict(list_map_key_defaults or {})
        self.map_type = map_type or (
            "granular" if kind in (SchemaKind.OBJECT, SchemaKind.MAP) else None
        )
        self._fields: Mapping[str, PatchSchema] | None = None
        self._fields_source = fields
        self._item: PatchSchema | None = None
        self._item_source = item

    @property
    def fields(self) -> Mapping[str, PatchSchema]:
        """Declared child fields by wire name (empty unless this is an object)."""
        if self._fields is None:
            source = self._fields_source
            self._fields = dict(source() if callable(source) else (source or {}))
            self._fields_source = None
        return self._fields

    @property
    def item(self) -> PatchSchema:
        """Schema of list items or map values; :data:`UNKNOWN` when not described."""
        if self._item is None:
            source = self._item_source
            self._item = (source() if callable(source) else source) or UNKNOWN
            self._item_source = None
        return self._item

    def field(self, name: str) -> PatchSchema:
        """Schema of child ``name`` of an object, the value schema of a map, else :data:`UNKNOWN`."""
        if self.kind is SchemaKind.OBJECT:
            return self.fields.get(name, UNKNOWN)
        if self.kind is SchemaKind.MAP:
            return self.item
        return UNKNOWN

    def has_field(self, name: str) -> bool:
        """Whether ``name`` is a declared (named) field of this object."""
        return self.kind is SchemaKind.OBJECT and name in self.fields

    @property
    def atomic(self) -> bool:
        """Whether server-side apply treats the value here as one leaf."""
        if self.kind is SchemaKind.LIST:
            return self.list_type not in ("map", "set")
        if self.kind in (SchemaKind.OBJECT, SchemaKind.MAP):
            return self.map_type == "atomic"
        return self.kind is SchemaKind.SCALAR

    def __repr__(self) -> str:
        label = f" {self.name}" if self.name else ""
        return f"<PatchSchema {self.kind.value}{label}>"


UNKNOWN = PatchSchema(SchemaKind.UNKNOWN, name="unknown")
"""The schema of any position nothing is known about."""

_SCALAR = PatchSchema(SchemaKind.SCALAR, name="scalar")

_PATCH_STRATEGY = "x-kubernetes-patch-strategy"
_PATCH_MERGE_KEY = "x-kubernetes-patch-merge-key"
_LIST_TYPE = "x-kubernetes-list-type"
_LIST_MAP_KEYS = "x-kubernetes-list-map-keys"
_MAP_TYPE = "x-kubernetes-map-type"

# Kubernetes' OpenAPI gives ``protocol`` (the second list-map key of every ports list) a default of
# "TCP", and structured-merge-diff uses that default when an applied port omits it. Our models
# leave defaulting to the defaulting code, so the schema supplies it for list-map keys.
_LIST_MAP_KEY_FALLBACK_DEFAULTS: Mapping[str, Any] = {"protocol": "TCP"}

_model_cache: dict[type[BaseModel], PatchSchema] = {}


def schema_for_model(model_cls: type[BaseModel]) -> PatchSchema:
    """The (cached) object schema of a pydantic model class."""
    cached = _model_cache.get(model_cls)
    if cached is not None:
        return cached
    extra = model_cls.model_config.get("json_schema_extra")
    map_type = extra.get(_MAP_TYPE) if isinstance(extra, dict) else None
    schema = PatchSchema(
        SchemaKind.OBJECT,
        fields=lambda: _model_fields(model_cls),
        map_type=map_type if isinstance(map_type, str) else None,
        name=model_cls.__name__,
    )
    _model_cache[model_cls] = schema
    return schema


def _model_fields(model_cls: type[BaseModel]) -> dict[str, PatchSchema]:
    if not model_cls.__pydantic_complete__:
        model_cls.model_rebuild()
    fields: dict[str, PatchSchema] = {}
    for attr, info in model_cls.model_fields.items():
        wire = info.serialization_alias or info.alias or attr
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        fields[wire] = _schema_for_annotation(info.annotation, extra, name=wire)
    return fields


def _strip(annotation: Any) -> Any:
    """``Annotated[X, ...]`` -> X and ``X | None`` -> X, repeatedly."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
            return tuple(members)
        return annotation


def _schema_for_annotation(
    annotation: Any, extra: Mapping[str, Any], *, name: str = ""
) -> PatchSchema:
    annotation = _strip(annotation)
    if isinstance(annotation, tuple):
        # A union such as int | str (IntOrString): a scalar if every member is one.
        kinds = {_schema_for_annotation(a, {}).kind for a in annotation}
        return _SCALAR if kinds == {SchemaKind.SCALAR} else UNKNOWN
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    strategy = extra.get(_PATCH_STRATEGY)
    merge_key = extra.get(_PATCH_MERGE_KEY)
    map_type = extra.get(_MAP_TYPE)
    if origin in (list, tuple, set, frozenset) or (
        origin is not None and _is_subclass(origin, Sequence)
    ):
        item_annotation = args[0] if args else Any
        keys = tuple(extra.get(_LIST_MAP_KEYS) or ())
        return PatchSchema(
            SchemaKind.LIST,
            item=lambda: _schema_for_annotation(item_annotation, {}),
            patch_strategy=strategy if isinstance(strategy, str) else None,
            merge_key=merge_key if isinstance(merge_key, str) else None,
            list_type=extra.get(_LIST_TYPE),
            list_map_keys=keys,
            list_map_key_defaults=_key_defaults(item_annotation, keys or (merge_key,)),
            name=name,
        )
    if origin is dict or (origin is not None and _is_subclass(origin, Mapping)):
        value_annotation = args[1] if len(args) == 2 else Any
        return PatchSchema(
            SchemaKind.MAP,
            item=lambda: _schema_for_annotation(value_annotation, {}),
            patch_strategy=strategy if isinstance(strategy, str) else None,
            map_type=map_type if isinstance(map_type, str) else None,
            name=name,
        )
    if annotation is dict:
        return PatchSchema(SchemaKind.MAP, item=UNKNOWN, name=name)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        base = schema_for_model(annotation)
        if strategy is None and map_type is None:
            return base
        # Field-level metadata (``patchStrategy:"retainKeys"``, ``+mapType=atomic``) wraps the
        # shared model schema without copying its fields.
        return PatchSchema(
            SchemaKind.OBJECT,
            fields=lambda: base.fields,
            patch_strategy=strategy if isinstance(strategy, str) else None,
            map_type=map_type if isinstance(map_type, str) else base.map_type,
            name=base.name,
        )
    if annotation in (str, int, float, bool, bytes) or origin is typing.Literal:
        return _SCALAR
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum | str | int | float):
        return _SCALAR
    return UNKNOWN


def _is_subclass(cls: Any, parent: type) -> bool:
    try:
        return isinstance(cls, type) and issubclass(cls, parent)
    except TypeError:
        return False


def _key_defaults(item_annotation: Any, keys: tuple[str | None, ...]) -> dict[str, Any]:
    item = _strip(item_annotation)
    if not (isinstance(item, type) and issubclass(item, BaseModel)):
        return {}
    defaults: dict[str, Any] = {}
    by_wire = {(i.serialization_alias or i.alias or a): i for a, i in item.model_fields.items()}
    for key in keys:
        if key is None or key not in by_wire:
            continue
        info = by_wire[key]
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("default") is not None:
            defaults[key] = extra["default"]
        elif info.default is not None and not info.is_required():
            defaults[key] = info.default
        elif key in _LIST_MAP_KEY_FALLBACK_DEFAULTS:
            defaults[key] = _LIST_MAP_KEY_FALLBACK_DEFAULTS[key]
    return defaults
