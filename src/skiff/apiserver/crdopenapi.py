"""OpenAPI v3 (and v2) documents of custom resources, from their CRDs' schemas.

As apiextensions-apiserver's ``pkg/controller/openapi`` builder does: one document per served
group/version, the paths as for a built-in kind (so kubectl sees ``fieldValidation`` and asks
the server to validate), and the kind's schema being the version's ``openAPIV3Schema`` with
``apiVersion``, ``kind`` and ``metadata`` (ObjectMeta) filled in and
``x-kubernetes-group-version-kind`` set; ``kubectl explain <kind>.spec`` reads it. Documents are
cached by the CRDs' resourceVersions.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from typing import Any

import orjson

from skiff.api.resources import GroupVersion, ResourceInfo
from skiff.api.types import model_for
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta
from skiff.apiserver import openapi, openapi_v2
from skiff.apiserver.crd import CustomKind

__all__ = ["custom_openapi_v2", "custom_openapi_v3_documents"]

_GVK = "x-kubernetes-group-version-kind"
_SMP = "application/strategic-merge-patch+json"
_META = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1."
_Key = tuple[tuple[str, str, str], ...]
_v3_cache: dict[_Key, dict[str, tuple[bytes, str]]] = {}
_v2_cache: dict[_Key, openapi_v2.OpenAPIV2] = {}


def _key(infos: Sequence[ResourceInfo]) -> _Key:
    return tuple(
        (i.group, i.version, i.custom.revision if isinstance(i.custom, CustomKind) else "")
        for i in infos
    )


def _lookup(custom: set[tuple[str, str, str]]) -> openapi.ModelLookup:
    def lookup(group: str, version: str, kind: str) -> Any:
        if (group, version, kind) in custom:
            return None
        if kind in ("Status", "DeleteOptions"):
            return model_for(group, version, kind)
        return None

    return lookup


def _kind_schema(info: ResourceInfo, ck: CustomKind) -> dict[str, Any]:
    schema = copy.deepcopy(ck.version(info.version).schema) or {"type": "object"}
    props = schema.setdefault("properties", {})
    props["apiVersion"] = {
        "description": "APIVersion defines the versioned schema of this representation of an "
        "object.",
        "type": "string",
    }
    props["kind"] = {
        "description": "Kind is a string value representing the REST resource this object "
        "represents.",
        "type": "string",
    }
    props["metadata"] = {
        "allOf": [{"$ref": _META + "ObjectMeta"}],
        "description": "Standard object's metadata.",
    }
    schema.setdefault("type", "object")
    schema[_GVK] = [{"group": info.group, "kind": info.kind, "version": info.version}]
    return schema


def _list_schema(info: ResourceInfo, ck: CustomKind, item_ref: str) -> dict[str, Any]:
    return {
        "description": f"{ck.list_kind} is a list of {info.kind}",
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string"},
            "items": {"type": "array", "items": {"$ref": item_ref}},
            "kind": {"type": "string"},
            "metadata": {"allOf": [{"$ref": _META + "ListMeta"}]},
        },
        _GVK: [{"group": info.group, "kind": ck.list_kind, "version": info.version}],
    }


def _document(gv: GroupVersion, infos: Sequence[ResourceInfo]) -> dict[str, Any]:
    custom: set[tuple[str, str, str]] = set()
    for info in infos:
        custom.update(
            {(info.group, info.version, info.kind), (info.group, info.version, info.list_kind)}
        )
    doc = openapi.build_openapi_v3_document(gv, infos, model_lookup=_lookup(custom))
    schemas: dict[str, Any] = doc["components"]["schemas"]
    by_gvk: dict[tuple[str, str], str] = {}
    for name, schema in schemas.items():
        for gvk in schema.get(_GVK) or []:
            by_gvk[(gvk.get("version", ""), gvk.get("kind", ""))] = name
    for info in infos:
        ck = info.custom
        assert isinstance(ck, CustomKind)
        kind_name = by_gvk.get((info.version, info.kind))
        if kind_name is not None:
            schemas[kind_name] = _kind_schema(info, ck)
            list_name = by_gvk.get((info.version, info.list_kind))
            if list_name is not None:
                ref = f"#/components/schemas/{kind_name}"
                schemas[list_name] = _list_schema(info, ck, ref)
    for meta_name, meta in openapi.component_schemas([ObjectMeta, ListMeta]).items():
        schemas.setdefault(meta_name, meta)
    doc["components"]["schemas"] = dict(sorted(schemas.items()))
    # custom resources take no strategic merge patch: kubectl reads the PATCH operation's
    # media types to choose its patch (and then sends a merge patch, as for upstream CRDs)
    for item in doc["paths"].values():
        content = ((item.get("patch") or {}).get("requestBody") or {}).get("content")
        if isinstance(content, dict):
            content.pop(_SMP, None)
    return doc


def custom_openapi_v3_documents(
    infos: Sequence[ResourceInfo],
) -> dict[str, tuple[bytes, str]]:
    """The serialized v3 document and hash of each custom group/version, by index path."""
    key = _key(infos)
    found = _v3_cache.get(key)
    if found is not None:
        return found
    by_gv: dict[GroupVersion, list[ResourceInfo]] = {}
    for info in infos:
        by_gv.setdefault(info.gv, []).append(info)
    out: dict[str, tuple[bytes, str]] = {}
    for gv, mine in by_gv.items():
        body = orjson.dumps(_document(gv, mine), option=orjson.OPT_SORT_KEYS)
        out[openapi.openapi_v3_path(gv)] = (body, hashlib.sha512(body).hexdigest().upper())
    if len(_v3_cache) > 16:
        _v3_cache.clear()
    _v3_cache[key] = out
    return out


def custom_openapi_v2(infos: Sequence[ResourceInfo]) -> openapi_v2.OpenAPIV2:
    """The Swagger 2.0 document of the built-in and the custom resources."""
    key = _key(infos)
    found = _v2_cache.get(key)
    if found is not None:
        return found
    bodies = [body for body, _ in openapi.openapi_v3_documents().values()]
    bodies += [body for body, _ in custom_openapi_v3_documents(infos).values()]
    doc = openapi_v2.build_openapi_v2(orjson.loads(b) for b in bodies)
    body = orjson.dumps(doc)
    found = openapi_v2.OpenAPIV2(
        json=body,
        protobuf=openapi_v2.encode_document(doc),
        etag=hashlib.sha512(body).hexdigest().upper(),
    )
    if len(_v2_cache) > 16:
        _v2_cache.clear()
    _v2_cache[key] = found
    return found
