"""The OpenAPI v2 document derived from the v3 ones, and its protobuf encoding.

Covers: what kube-openapi's v2 parser (kubectl's client-side validation and ``explain``) needs
to hold: every reference resolves, no OpenAPI 3 keyword is left, arrays have items, types are
Swagger types, the int-or-string scalars read as strings, group-version-kinds merged across
group/versions; PATCH operations keeping ``fieldValidation``, Namespace's included (kubectl's
probe for an unknown kind then lists CRDs, as against Kubernetes); the protobuf bytes decoded field by field against gnostic's
``openapi_v2.Document`` numbering; Accept negotiation. The HTTP route is covered in
test_compat_kinds.py, kubectl in tests/integration/test_clients_compat_kinds.py.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest

from skiff.api.protobuf._wire import LEN, iter_fields
from skiff.apiserver.openapi_v2 import (
    PROTOBUF_CONTENT_TYPE,
    PROTOBUF_MEDIA_TYPES,
    build_openapi_v2,
    encode_document,
    negotiate_openapi_v2,
    openapi_v2,
    openapi_v2_dict,
)

_TYPES = {"object", "array", "string", "integer", "number", "boolean"}


def _walk(node: Any, seen: list[dict[str, Any]]) -> None:
    if isinstance(node, dict):
        seen.append(node)
        for key in ("properties",):
            for child in (node.get(key) or {}).values():
                _walk(child, seen)
        for key in ("items", "additionalProperties", "schema"):
            if isinstance(node.get(key), dict):
                _walk(node[key], seen)


def _schemas(doc: dict[str, Any]) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for schema in doc["definitions"].values():
        _walk(schema, seen)
    for item in doc["paths"].values():
        for op in item.values():
            for where in (op if isinstance(op, list) else op.get("parameters", [])) or []:
                _walk(where.get("schema"), seen)
            if isinstance(op, dict):
                for response in op.get("responses", {}).values():
                    _walk(response.get("schema"), seen)
    return seen


def test_every_reference_resolves_and_only_swagger_keywords_remain() -> None:
    doc = openapi_v2_dict()
    schemas = _schemas(doc)
    assert len(schemas) > 1000
    for s in schemas:
        ref = s.get("$ref")
        if ref is not None:
            assert ref.startswith("#/definitions/")
            assert ref.removeprefix("#/definitions/") in doc["definitions"], ref
        assert not {"allOf", "oneOf", "anyOf", "nullable"} & set(s), s
        if "type" in s:
            assert s["type"] in _TYPES, s
        if s.get("type") == "array":
            assert isinstance(s.get("items"), dict), s


def test_fields_refer_by_ref_with_their_description() -> None:
    claim = openapi_v2_dict()["definitions"]["io.k8s.api.core.v1.PersistentVolumeClaim"]
    spec = claim["properties"]["spec"]
    assert spec["$ref"] == "#/definitions/io.k8s.api.core.v1.PersistentVolumeClaimSpec"
    assert spec["description"] and "default" not in spec
    assert claim["x-kubernetes-group-version-kind"] == [
        {"group": "", "kind": "PersistentVolumeClaim", "version": "v1"}
    ]
    quantity = openapi_v2_dict()["definitions"]["io.k8s.apimachinery.pkg.api.resource.Quantity"]
    assert quantity["type"] == "string"


def test_group_version_kinds_are_merged_across_group_versions() -> None:
    def v3(group: str) -> dict[str, Any]:
        gvk = {"group": group, "kind": "DeleteOptions", "version": "v1"}
        schema = {"type": "object", "x-kubernetes-group-version-kind": [gvk]}
        return {"components": {"schemas": {"meta.DeleteOptions": schema}}, "paths": {}}

    merged = build_openapi_v2([v3(""), v3("apps"), v3("apps")])["definitions"]
    kinds = merged["meta.DeleteOptions"]["x-kubernetes-group-version-kind"]
    assert [k["group"] for k in kinds] == ["", "apps"]


def _patch_params(kind_path: str) -> set[str]:
    op = openapi_v2_dict()["paths"][kind_path]["patch"]
    return {p["name"] for p in op["parameters"] if p.get("in") == "query"}


def test_patch_operations_keep_field_validation_namespace_included() -> None:
    # as Kubernetes: kubectl's probe for a kind it does not know lists the CRDs, which skiff
    # serves (tests/integration/test_crd_kubectl.py checks the mistyped kind end to end)
    assert "fieldValidation" in _patch_params("/api/v1/namespaces/{name}")
    assert "dryRun" in _patch_params("/api/v1/namespaces/{name}")
    assert "fieldValidation" in _patch_params(
        "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"
    )


def test_operations_take_body_parameters_and_answer_schemas() -> None:
    op = openapi_v2_dict()["paths"]["/api/v1/namespaces/{namespace}/configmaps"]["post"]
    body = op["parameters"][0]
    assert body == {
        "in": "body",
        "name": "body",
        "schema": {"$ref": "#/definitions/io.k8s.api.core.v1.ConfigMap"},
        "required": True,
    }
    query = {p["name"]: p for p in op["parameters"][1:]}
    assert query["fieldManager"]["type"] == "string" and "schema" not in query["fieldManager"]
    assert op["responses"]["201"]["schema"] == {
        "$ref": "#/definitions/io.k8s.api.core.v1.ConfigMap"
    }
    assert op["x-kubernetes-group-version-kind"] == {
        "group": "",
        "kind": "ConfigMap",
        "version": "v1",
    }


# ------------------------------------------------------------------------------- protobuf


def _fields(data: bytes) -> list[tuple[int, Any]]:
    return [(number, value) for number, _, value in iter_fields(data)]


def _one(data: bytes, number: int) -> Any:
    found = [v for n, v in _fields(data) if n == number]
    assert len(found) == 1, (number, found)
    return found[0]


def _named(data: bytes, number: int) -> dict[str, bytes]:
    """``repeated Named*{name = 1; value = 2}`` at ``number`` as a dict."""
    out = {}
    for n, entry in _fields(data):
        if n == number:
            out[_one(entry, 1).decode()] = _one(entry, 2)
    return out


def test_protobuf_follows_gnostic_numbering() -> None:
    doc = openapi_v2_dict()
    data = openapi_v2().protobuf
    assert _one(data, 1) == b"2.0"
    info = _one(data, 2)
    assert _one(info, 1) == b"Kubernetes" and _one(info, 2).startswith(b"v1.32")
    definitions = _named(_one(data, 9), 1)
    assert set(definitions) == set(doc["definitions"])
    claim = definitions["io.k8s.api.core.v1.PersistentVolumeClaim"]
    assert (
        _one(claim, 4).decode()
        == doc["definitions"]["io.k8s.api.core.v1.PersistentVolumeClaim"]["description"]
    )
    assert _one(_one(claim, 22), 1) == b"object"  # TypeItem
    properties = _named(_one(claim, 25), 1)
    assert set(properties) == {"apiVersion", "kind", "metadata", "spec", "status"}
    assert (
        _one(properties["spec"], 1) == b"#/definitions/io.k8s.api.core.v1.PersistentVolumeClaimSpec"
    )
    extensions = _named(claim, 31)
    yaml_text = _one(extensions["x-kubernetes-group-version-kind"], 2)  # Any.yaml
    assert json.loads(yaml_text) == [
        {"group": "", "kind": "PersistentVolumeClaim", "version": "v1"}
    ]
    # an array: items is ItemsItem{repeated Schema schema = 1}
    modes = _named(_one(definitions["io.k8s.api.core.v1.PersistentVolumeClaimSpec"], 25), 1)[
        "accessModes"
    ]
    assert _one(_one(modes, 23), 1) and _one(_one(modes, 22), 1) == b"array"

    paths = _named(_one(data, 8), 2)
    item = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    patch = _one(item, 8)
    assert _one(patch, 5) == b"patchAppsV1NamespacedDeployment"
    names = set()
    for number, parameter in _fields(patch):
        if number != 8:
            continue
        non_body = [v for n, v in _fields(_one(parameter, 1)) if n == 2]
        if non_body:
            query = _one(non_body[0], 3)  # QueryParameterSubSchema
            names.add(_one(query, 4).decode())
            assert _one(query, 2) == b"query" and _one(query, 6) in (b"string", b"boolean")
    assert {"dryRun", "fieldManager", "fieldValidation", "force"} <= names
    codes = _named(_one(patch, 9), 1)
    response = _one(codes["200"], 1)  # ResponseValue.response
    assert _one(response, 1) == b"OK"
    assert _one(_one(_one(response, 2), 1), 1) == b"#/definitions/io.k8s.api.apps.v1.Deployment"


def test_encoder_writes_scalars_and_skips_proto3_defaults() -> None:
    doc = build_openapi_v2(
        [
            {
                "components": {
                    "schemas": {
                        "x.T": {
                            "type": "object",
                            "properties": {
                                "n": {"type": "integer", "minimum": 0, "maximum": 10},
                                "m": {"type": "object", "additionalProperties": True},
                                "e": {"type": "string", "enum": ["A", "B"], "default": "A"},
                            },
                            "required": ["n"],
                        }
                    }
                },
                "paths": {},
            }
        ]
    )
    schema = _named(_one(encode_document(doc), 9), 1)["x.T"]
    assert [v for n, v in _fields(schema) if n == 19] == [b"n"]
    props = _named(_one(schema, 25), 1)
    numbers = dict(_fields(props["n"]))
    assert 9 not in numbers  # minimum 0 is proto3's default: not written
    assert numbers[7] == struct.pack("<d", 10.0)  # maximum: a double
    assert _one(_one(props["m"], 21), 2) == 1  # AdditionalPropertiesItem.boolean
    enum = [json.loads(_one(v, 2)) for n, v in _fields(props["e"]) if n == 20]
    assert enum == ["A", "B"] and json.loads(_one(_one(props["e"], 5), 2)) == "A"
    wire_types = {n: t for n, t, _ in iter_fields(props["e"])}
    assert wire_types[20] == LEN


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (PROTOBUF_MEDIA_TYPES[0], PROTOBUF_CONTENT_TYPE),
        (f"{PROTOBUF_MEDIA_TYPES[1]}, application/json", PROTOBUF_CONTENT_TYPE),
        ("application/yaml, application/json;q=0.9", "application/json"),
        ("text/html", None),
    ],
)
def test_negotiation(accept: str | None, expected: str | None) -> None:
    assert negotiate_openapi_v2(accept) == expected
