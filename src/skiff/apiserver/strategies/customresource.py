"""Strategies of CustomResourceDefinitions and of the custom resources they define.

CRDs (apiextensions-apiserver ``pkg/registry/customresourcedefinition/strategy.go``): validated
as upstream, the cleanup finalizer added on create, and ``status`` (accepted names,
NamesAccepted / Established) computed right before each create or spec update from the names
built-in resources and the other CRDs already hold.

Custom objects (``pkg/registry/customresource/strategy.go``): pruned and defaulted by their
version's structural schema, validated against it, ``metadata.generation`` bumped on any change
but metadata (and status, with the status subresource), field selectors on ``metadata.name``,
``metadata.namespace`` and the version's ``selectableFields``, Tables with the
``additionalPrinterColumns``.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from skiff.api.duration import age
from skiff.api.field import FieldError
from skiff.api.resources import ResourceInfo
from skiff.api.validation import validate_object_meta
from skiff.api.validation.names import name_is_dns1123_subdomain
from skiff.apiserver import crdschema, objects
from skiff.apiserver.context import RequestContext
from skiff.apiserver.crd import (
    CLEANUP_FINALIZER,
    CustomKind,
    names_status,
    validate_crd,
    validate_crd_update,
)
from skiff.apiserver.crdcel import validate_rules
from skiff.apiserver.errors import ApiError
from skiff.apiserver.strategies._base import DefaultStrategy, table

__all__ = ["CustomResourceDefinitionStrategy", "CustomResourceStrategy", "json_path_value"]

_TOP = ("apiVersion", "kind", "metadata")


class CustomResourceDefinitionStrategy(DefaultStrategy):
    """``apiextensions.k8s.io/v1`` CustomResourceDefinition."""

    def __init__(
        self, info: ResourceInfo, others: Callable[[], list[dict[str, Any]]] | None = None
    ) -> None:
        super().__init__(info)
        self._others = others or list

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {}
        meta = obj.setdefault("metadata", {})
        finalizers = list(meta.get("finalizers") or [])
        if CLEANUP_FINALIZER not in finalizers:
            finalizers.append(CLEANUP_FINALIZER)
        meta["finalizers"] = finalizers

    def validate(self, obj: dict[str, Any]) -> list[FieldError]:
        return super().validate(obj) + validate_crd(obj)

    def validate_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
        return super().validate_update(new, old) + validate_crd_update(new, old)

    async def before_write(
        self, obj: dict[str, Any], old: dict[str, Any] | None, ctx: RequestContext
    ) -> None:
        if (obj.get("metadata") or {}).get("deletionTimestamp"):
            return
        if old is not None and old.get("spec") == obj.get("spec"):
            return
        names_status(obj, self._others(), objects.now_rfc3339())


class CustomResourceStrategy(DefaultStrategy):
    """A custom resource (every version of one CRD's kind)."""

    def __init__(self, info: ResourceInfo) -> None:
        super().__init__(info)
        assert isinstance(info.custom, CustomKind)
        self.custom: CustomKind = info.custom

    def _schema(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        return self.custom.version(self._version(obj)).schema

    def _has_status(self, obj: Mapping[str, Any]) -> bool:
        return self.custom.version(self._version(obj)).status

    def _normalize(self, obj: dict[str, Any]) -> None:
        schema = self._schema(obj)
        crdschema.prune(schema, obj)
        crdschema.apply_defaults(schema, obj)

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        if self._has_status(obj):
            obj.pop("status", None)
        obj.setdefault("metadata", {})["generation"] = 1
        self._normalize(obj)

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        skip = set(_TOP)
        if self._has_status(new):
            skip.add("status")
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        self._normalize(new)
        gen = int((old.get("metadata") or {}).get("generation") or 1)
        keys = (set(old) | set(new)) - skip
        if any(old.get(k) != new.get(k) for k in keys):
            gen += 1
        new.setdefault("metadata", {})["generation"] = gen

    def prepare_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        super().prepare_status_update(new, old)
        self._normalize(new)

    def _errors(self, obj: dict[str, Any], old: dict[str, Any] | None) -> list[FieldError]:
        errors = validate_object_meta(
            obj.get("metadata"),
            namespaced=self.info.namespaced,
            name_func=name_is_dns1123_subdomain,
        )
        schema = self._schema(obj)
        errors += crdschema.validate_object(schema, obj, old)
        if not errors:  # CEL rules see well-typed values only (as upstream)
            errors += validate_rules(schema, obj, old)
        return errors

    def validate(self, obj: dict[str, Any]) -> list[FieldError]:
        return self._errors(obj, None)

    def validate_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
        return self._errors(new, old)

    def prepare_for_delete(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        # marking for deletion bumps generation (custom objects always carry one), as
        # upstream's rest.BeforeDelete does
        meta = new.setdefault("metadata", {})
        if not (old.get("metadata") or {}).get("deletionTimestamp"):
            meta["generation"] = int(meta.get("generation") or 1) + 1

    async def before_write(
        self, obj: dict[str, Any], old: dict[str, Any] | None, ctx: RequestContext
    ) -> None:
        if old is None and self.custom.terminating:
            raise ApiError(
                405,
                "MethodNotAllowed",
                "create not allowed while custom resource definition is terminating",
            )

    # -- reads -----------------------------------------------------------------------------

    def selectable_fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        meta = obj.get("metadata") or {}
        fields = {
            "metadata.name": str(meta.get("name") or ""),
            "metadata.namespace": str(meta.get("namespace") or ""),
        }
        for path in self.custom.version(self._version(obj)).selectable_fields:
            value = json_path_value(obj, path)
            fields[path.lstrip(".")] = "" if value is None else _scalar_text(value)
        return fields

    def convert_to_table(
        self, items: list[dict[str, Any]], *, include: str, version: str = "v1"
    ) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        sample = items[0] if items else {"apiVersion": self.info.api_version}
        columns = list(self.custom.version(self._version(sample)).printer_columns) or [
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
        ]
        definitions = [
            {
                "name": "Name",
                "type": "string",
                "format": "name",
                "description": "Name must be unique within a namespace. Is required when "
                "creating resources, although some resources may allow a client to request "
                "the generation of an appropriate name automatically. Name is primarily "
                "intended for creation idempotence and configuration definition. Cannot be "
                "updated. More info: "
                "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
                "priority": 0,
            }
        ]
        for c in columns:
            definitions.append(
                {
                    "name": c.get("name", ""),
                    "type": c.get("type", "string"),
                    "format": c.get("format", ""),
                    "description": c.get("description", ""),
                    "priority": int(c.get("priority") or 0),
                }
            )
        rows = []
        for obj in items:
            cells: list[Any] = [str((obj.get("metadata") or {}).get("name") or "")]
            for c in columns:
                cells.append(_cell(c, json_path_value(obj, str(c.get("jsonPath") or "")), now))
            rows.append({"cells": cells})
        return table(definitions, rows, items, include=include, version=version)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cell(column: Mapping[str, Any], value: Any, now: dt.datetime) -> Any:
    """apiextensions' tableconvertor ``cellForJSONValue``."""
    if value is None:
        return None
    typ = column.get("type")
    if typ == "date":
        return age(value, now) if isinstance(value, str) else None
    if typ == "integer":
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if typ == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if typ == "boolean":
        return value if isinstance(value, bool) else None
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, separators=(",", ":"))
    return _scalar_text(value)


def json_path_value(obj: Any, path: str) -> Any:
    """The value at a simple JSON path (``.spec.replicas``, ``.status.conditions[0].type``,
    ``{.spec.x}``), or None."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    cur = obj
    for part in _path_parts(path):
        if isinstance(part, int):
            if isinstance(cur, list) and -len(cur) <= part < len(cur):
                cur = cur[part]
            else:
                return None
        elif isinstance(cur, dict):
            cur = cur.get(part)
        else:
            return None
        if cur is None:
            return None
    return cur


def _path_parts(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for segment in path.strip(".").split("."):
        if not segment:
            continue
        name, _, rest = segment.partition("[")
        if name:
            parts.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            index = index.strip("'\"")
            parts.append(int(index) if index.lstrip("-").isdigit() else index)
            rest = rest.lstrip("[")
    return parts
