"""OpenAPI v2 (Swagger 2.0) at ``/openapi/v2``, in JSON or as a protobuf ``openapi_v2.Document``.

kubectl still reads v2 where v3 does not answer (kubectl-wire.md §4.1): client-side validation
of a kind that is not in the v3 paths, ``kubectl explain --output=plaintext-openapiv2``, and the
v2 query-parameter check. For a mistyped kind that check (cli-runtime ``QueryParamVerifier``)
finds no operation for the kind, sees that Namespace PATCH takes ``fieldValidation`` and so
lists the CustomResourceDefinitions to look for one of that kind; skiff serves CRDs, so the
list answers, holds none, and kubectl ends in ``no matches for kind`` as it does against
Kubernetes. The document therefore keeps every parameter, Namespace PATCH included (an earlier
skiff without CRDs had to hide that one, or the CRD list would have been a 404). It
asks with ``Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`` and parses the
body with gnostic's ``openapi_v2.Document`` (client-go ``discovery.OpenAPISchema``); other
clients ask for JSON.

The document is derived from the v3 documents (``skiff.apiserver.openapi``), so both describe
the same schemas: every group/version's ``components.schemas`` merged into ``definitions``
(``x-kubernetes-group-version-kind`` lists unioned), references rewritten to
``#/definitions/...``, ``allOf: [{$ref}]`` wrappers (an OpenAPI 3.0 workaround) turned back
into a plain ``$ref`` with its description, the int-or-string scalars written as Kubernetes'
v2 spec writes them (``type: string``, ``format: int-or-string``), and v3-only keywords dropped.
Operations get v2 parameters (the request body becomes an ``in: body`` parameter) and
``consumes``/``produces``.

The protobuf form is encoded here by hand, field numbers transcribed from gnostic-models'
``openapiv2/OpenAPIv2.proto`` (Apache-2.0; the same approach as the request decoder in
``skiff.api.protobuf``, ADR 0004): skiff depends on no protobuf runtime, and only the few
messages below are ever written. Vendor extensions and defaults are ``Any`` values carrying
YAML text; JSON is YAML, so they carry the value's JSON. Both forms and their ETag (uppercase
hex SHA-512 of the JSON, as kube-openapi's handler computes it) are built once.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from skiff.api.resources import ResourceInfo
from skiff.apiserver.openapi import KUBERNETES_VERSION, openapi_v3_documents

__all__ = [
    "JSON_MEDIA_TYPES",
    "PROTOBUF_CONTENT_TYPE",
    "PROTOBUF_MEDIA_TYPES",
    "OpenAPIV2",
    "build_openapi_v2",
    "encode_document",
    "negotiate_openapi_v2",
    "openapi_v2",
    "openapi_v2_dict",
]

# kube-openapi's handler accepts both spellings; the answer always names the second, since Go's
# mime.ParseMediaType (client-go reading the reply) rejects the "@" of the first
PROTOBUF_MEDIA_TYPES = (
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
)
PROTOBUF_CONTENT_TYPE = PROTOBUF_MEDIA_TYPES[1]
JSON_MEDIA_TYPES = ("application/json",)

_V3_REF = "#/components/schemas/"
_V2_REF = "#/definitions/"
_GVK = "x-kubernetes-group-version-kind"
_PRODUCES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
# schema keywords Swagger 2.0 has (everything else of v3, e.g. oneOf, nullable, is dropped)
_SCHEMA_KEYS = (
    "$ref",
    "format",
    "title",
    "description",
    "default",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "required",
    "enum",
    "additionalProperties",
    "type",
    "items",
    "properties",
)


@dataclass(frozen=True)
class OpenAPIV2:
    """The served document: JSON and protobuf bodies and their ETag (without quotes)."""

    json: bytes
    protobuf: bytes
    etag: str


def negotiate_openapi_v2(accept: str | None) -> str | None:
    """The media type to answer ``accept`` with (``PROTOBUF_CONTENT_TYPE`` or JSON),
    or None when nothing acceptable is offered (406). No header, ``*/*`` and ``application/*``
    get JSON."""
    if not accept:
        return JSON_MEDIA_TYPES[0]
    for clause in accept.split(","):
        media = clause.split(";", 1)[0].strip().lower()
        if media in PROTOBUF_MEDIA_TYPES:
            return PROTOBUF_CONTENT_TYPE
        if media in (*JSON_MEDIA_TYPES, "*/*", "application/*"):
            return JSON_MEDIA_TYPES[0]
    return None


# ---------------------------------------------------------------------------------------------
# v3 -> v2


def _ref(ref: str) -> str:
    return _V2_REF + ref.removeprefix(_V3_REF)


def _schema(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and "$ref" in all_of[0]:
        # an OpenAPI 3.0 wrapper that only exists so a $ref may carry a description
        node = {k: v for k, v in node.items() if k not in ("allOf", "default")}
        node["$ref"] = all_of[0]["$ref"]
    if "$ref" in node:
        node = {k: v for k, v in node.items() if k != "default"}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-"):
            out[key] = value
        elif key not in _SCHEMA_KEYS:
            continue
        elif key == "$ref":
            out[key] = _ref(value)
        elif key == "properties":
            out[key] = {name: _schema(v) for name, v in value.items()}
        elif key == "items":
            out[key] = _schema(value)
        elif key == "additionalProperties":
            out[key] = _schema(value) if isinstance(value, dict) else value
        else:
            out[key] = value
    if "type" not in out and "$ref" not in out and out.get("x-kubernetes-int-or-string"):
        # IntOrString and Quantity, as Kubernetes' swagger.json writes them
        out["type"] = "string"
    if out.get("type") == "array" and "items" not in out:
        out["items"] = {}
    return out


def _parameter(param: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in param.items() if k != "schema"}
    schema = param.get("schema")
    if isinstance(schema, dict):
        out.update(schema)
    return out


def _operation(op: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"description": op.get("description", "")}
    body = op.get("requestBody")
    if isinstance(body, dict):
        content = body.get("content") or {}
        out["consumes"] = list(content)
    out["operationId"] = op.get("operationId", "")
    parameters = [_parameter(p) for p in op.get("parameters") or []]
    if isinstance(body, dict):
        media: dict[str, Any] = next(iter((body.get("content") or {}).values()), {})
        schema = media.get("schema", {})
        entry: dict[str, Any] = {"in": "body", "name": "body", "schema": _schema(schema)}
        if body.get("required"):
            entry["required"] = True
        parameters.insert(0, entry)
    if parameters:
        out["parameters"] = parameters
    out["produces"] = list(_PRODUCES)
    responses: dict[str, Any] = {}
    for code, response in (op.get("responses") or {}).items():
        item: dict[str, Any] = {"description": response.get("description", "")}
        content = response.get("content") or {}
        if content:
            item["schema"] = _schema(next(iter(content.values())).get("schema", {}))
        responses[code] = item
    out["responses"] = responses
    out["schemes"] = ["https"]
    for key, value in op.items():
        if key in ("tags", "x-kubernetes-action", _GVK):
            out[key] = value
    return out


def _merge_definition(definitions: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    seen = definitions.get(name)
    if seen is None:
        definitions[name] = schema
        return
    kinds = list(seen.get(_GVK) or [])
    for gvk in schema.get(_GVK) or []:
        if gvk not in kinds:
            kinds.append(gvk)
    if kinds:
        seen[_GVK] = kinds


def build_openapi_v2(v3_documents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The Swagger 2.0 document covering every given v3 group/version document."""
    definitions: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for doc in v3_documents:
        for name, schema in ((doc.get("components") or {}).get("schemas") or {}).items():
            _merge_definition(definitions, name, _schema(schema))
        for path, item in (doc.get("paths") or {}).items():
            converted: dict[str, Any] = {}
            for method, op in item.items():
                if method == "parameters":
                    converted[method] = [_parameter(p) for p in op]
                else:
                    converted[method] = _operation(op)
            paths[path] = converted
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "paths": dict(sorted(paths.items())),
        "definitions": dict(sorted(definitions.items())),
    }


# ---------------------------------------------------------------------------------------------
# protobuf encoding of openapi_v2.Document (gnostic-models openapiv2/OpenAPIv2.proto)


def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _len(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _str(number: int, value: Any) -> bytes:
    return _len(number, str(value).encode()) if value not in (None, "") else b""


def _bool(number: int, value: Any) -> bytes:
    return _varint(number << 3) + b"\x01" if value is True else b""


def _int(number: int, value: Any) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        return b""
    return _varint(number << 3) + _varint(value)


def _double(number: int, value: Any) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int | float) or value == 0:
        return b""
    return _varint(number << 3 | 1) + struct.pack("<d", float(value))


def _strings(number: int, values: Any) -> bytes:
    return b"".join(_len(number, str(v).encode()) for v in values or [])


def _any(value: Any) -> bytes:
    # Any{yaml = 2}: JSON text is valid YAML
    return _str(2, orjson.dumps(value).decode())


def _named_any(name: str, value: Any) -> bytes:
    return _str(1, name) + _len(2, _any(value))


def _extensions(number: int, node: Mapping[str, Any]) -> bytes:
    return b"".join(_len(number, _named_any(k, v)) for k, v in node.items() if k.startswith("x-"))


def _encode_schema(s: Mapping[str, Any]) -> bytes:
    out = [
        _str(1, s.get("$ref")),
        _str(2, s.get("format")),
        _str(3, s.get("title")),
        _str(4, s.get("description")),
    ]
    if "default" in s:
        out.append(_len(5, _any(s["default"])))
    out += [
        _double(6, s.get("multipleOf")),
        _double(7, s.get("maximum")),
        _bool(8, s.get("exclusiveMaximum")),
        _double(9, s.get("minimum")),
        _bool(10, s.get("exclusiveMinimum")),
        _int(11, s.get("maxLength")),
        _int(12, s.get("minLength")),
        _str(13, s.get("pattern")),
        _int(14, s.get("maxItems")),
        _int(15, s.get("minItems")),
        _bool(16, s.get("uniqueItems")),
        _int(17, s.get("maxProperties")),
        _int(18, s.get("minProperties")),
        _strings(19, s.get("required")),
    ]
    out += [_len(20, _any(v)) for v in s.get("enum") or []]
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        out.append(_len(21, _len(1, _encode_schema(extra))))
    elif extra is True:
        out.append(_len(21, _bool(2, True)))
    kind = s.get("type")
    if kind:
        out.append(_len(22, _strings(1, kind if isinstance(kind, list) else [kind])))
    items = s.get("items")
    if isinstance(items, dict):
        out.append(_len(23, _len(1, _encode_schema(items))))
    properties = s.get("properties")
    if isinstance(properties, dict):
        named = b"".join(
            _len(1, _str(1, k) + _len(2, _encode_schema(v))) for k, v in properties.items()
        )
        out.append(_len(25, named))
    out.append(_extensions(31, s))
    return b"".join(out)


def _encode_parameter(p: Mapping[str, Any]) -> bytes:
    """A ParametersItem: Parameter{body_parameter | non_body_parameter{query|path|header}}."""
    if p.get("in") == "body":
        body = (
            _str(1, p.get("description"))
            + _str(2, p.get("name"))
            + _str(3, "body")
            + _bool(4, p.get("required"))
            + _len(5, _encode_schema(p.get("schema") or {}))
        )
        return _len(1, _len(1, body))
    where = p.get("in")
    # QueryParameterSubSchema puts allow_empty_value at 5 and shifts the rest by one
    shift = 1 if where == "query" else 0
    sub = (
        _bool(1, p.get("required"))
        + _str(2, where)
        + _str(3, p.get("description"))
        + _str(4, p.get("name"))
        + _str(5 + shift, p.get("type"))
        + _str(6 + shift, p.get("format"))
        + _bool(19 + shift, p.get("uniqueItems"))
    )
    choice = {"header": 1, "query": 3, "path": 4}.get(str(where), 3)
    return _len(1, _len(2, _len(choice, sub)))


def _encode_operation(op: Mapping[str, Any]) -> bytes:
    out = [
        _strings(1, op.get("tags")),
        _str(3, op.get("description")),
        _str(5, op.get("operationId")),
        _strings(6, op.get("produces")),
        _strings(7, op.get("consumes")),
    ]
    out += [_len(8, _encode_parameter(p)) for p in op.get("parameters") or []]
    codes = b""
    for code, response in (op.get("responses") or {}).items():
        body = _str(1, response.get("description"))
        if isinstance(response.get("schema"), dict):
            body += _len(2, _len(1, _encode_schema(response["schema"])))
        codes += _len(1, _str(1, code) + _len(2, _len(1, body)))
    out.append(_len(9, codes))
    out.append(_strings(10, op.get("schemes")))
    out.append(_extensions(13, op))
    return b"".join(out)


_METHOD_FIELDS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def _encode_path_item(item: Mapping[str, Any]) -> bytes:
    out = []
    for method, number in _METHOD_FIELDS.items():
        if isinstance(item.get(method), dict):
            out.append(_len(number, _encode_operation(item[method])))
    out += [_len(9, _encode_parameter(p)) for p in item.get("parameters") or []]
    return b"".join(out)


def encode_document(doc: Mapping[str, Any]) -> bytes:
    """``doc`` (Swagger 2.0 as built here) as a serialized ``openapi_v2.Document``."""
    info = doc.get("info") or {}
    paths = b"".join(
        _len(2, _str(1, path) + _len(2, _encode_path_item(item)))
        for path, item in (doc.get("paths") or {}).items()
    )
    definitions = b"".join(
        _len(1, _str(1, name) + _len(2, _encode_schema(schema)))
        for name, schema in (doc.get("definitions") or {}).items()
    )
    return (
        _str(1, doc.get("swagger"))
        + _len(2, _str(1, info.get("title")) + _str(2, info.get("version")))
        + _len(8, paths)
        + _len(9, definitions)
    )


# ---------------------------------------------------------------------------------------------
# the served document


@lru_cache(maxsize=8)
def openapi_v2_dict(*, extra: tuple[ResourceInfo, ...] = ()) -> dict[str, Any]:
    """The Swagger 2.0 document of everything served (shared: callers must not mutate it)."""
    return build_openapi_v2(
        orjson.loads(body) for body, _ in openapi_v3_documents(extra=extra).values()
    )


@lru_cache(maxsize=8)
def openapi_v2(*, extra: tuple[ResourceInfo, ...] = ()) -> OpenAPIV2:
    """The document in both encodings, with its ETag; built once."""
    doc = openapi_v2_dict(extra=extra)
    body = orjson.dumps(doc)
    return OpenAPIV2(
        json=body,
        protobuf=encode_document(doc),
        etag=hashlib.sha512(body).hexdigest().upper(),
    )
