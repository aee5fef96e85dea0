"""The patch/apply schema of a custom resource version, from its OpenAPI v3 schema.

Server-side apply and managedFields of custom objects follow the schema's
``x-kubernetes-list-type``, ``x-kubernetes-list-map-keys`` and ``x-kubernetes-map-type``
(structured-merge-diff's schema from a CRD, as apiextensions-apiserver builds it); positions
the schema leaves open (``x-kubernetes-preserve-unknown-fields``) are unknown: maps granular,
lists atomic.
"""

from __future__ import annotations

from typing import Any

from skiff.api.patch import UNKNOWN, PatchSchema, SchemaKind, schema_for_model
from skiff.api.types.meta_v1 import ObjectMeta

__all__ = ["patch_schema_from_openapi"]

_SCALAR = PatchSchema(SchemaKind.SCALAR, name="scalar")


def patch_schema_from_openapi(schema: Any) -> PatchSchema:
    """A ``PatchSchema`` for a custom object whose root schema is ``schema``."""
    return _node(schema, root=True)


def _node(node: Any, *, root: bool = False) -> PatchSchema:
    if not isinstance(node, dict):
        return UNKNOWN
    if node.get("x-kubernetes-int-or-string"):
        return _SCALAR
    typ = node.get("type")
    if typ == "array":
        items = node.get("items")
        list_type = node.get("x-kubernetes-list-type") or "atomic"
        keys = tuple(node.get("x-kubernetes-list-map-keys") or ())
        return PatchSchema(
            SchemaKind.LIST,
            item=lambda: _node(items),
            list_type=list_type,
            list_map_keys=keys,
        )
    if typ == "object" or (typ is None and ("properties" in node or root)):
        map_type = node.get("x-kubernetes-map-type")
        extra = node.get("additionalProperties")
        props = node.get("properties")
        if isinstance(extra, dict) and not props:
            return PatchSchema(SchemaKind.MAP, item=lambda: _node(extra), map_type=map_type)
        if node.get("x-kubernetes-preserve-unknown-fields") and not props:
            return UNKNOWN
        fields = props if isinstance(props, dict) else {}

        def resolve() -> dict[str, PatchSchema]:
            out = {name: _node(sub) for name, sub in fields.items()}
            if root:
                # metadata is ObjectMeta whatever the schema says of it
                out["metadata"] = schema_for_model(ObjectMeta)
                out["apiVersion"] = out["kind"] = _SCALAR
            return out

        return PatchSchema(SchemaKind.OBJECT, fields=resolve, map_type=map_type)
    if typ in ("string", "integer", "number", "boolean"):
        return _SCALAR
    return UNKNOWN
