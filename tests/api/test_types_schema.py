"""JSON schema of ``skiff.api.types`` models: it builds for every kind and carries patch metadata.

Covers: ``model_json_schema(by_alias=True)`` succeeds for every top-level kind; the
``x-kubernetes-*`` extensions sit on the properties Kubernetes 1.32 puts them on (the merge keys
kubectl's strategic merge patch relies on, kubectl-wire.md §4.1); struct-level extensions
(atomic structs, group-version-kind); descriptions are present where ``kubectl explain`` needs them.
Excludes the OpenAPI document itself (built elsewhere from these schemas).
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from skiff.api.resources import RESOURCES
from skiff.api.types import model_for
from skiff.api.types._base import KubeModel
from skiff.api.types._fields import (
    LIST_MAP_KEYS,
    LIST_TYPE,
    MAP_TYPE,
    PATCH_MERGE_KEY,
    PATCH_STRATEGY,
)

TOP_LEVEL = [(r.group, r.version, r.kind) for r in RESOURCES] + [
    ("", "v1", "Binding"),
    ("policy", "v1", "Eviction"),
    ("autoscaling", "v1", "Scale"),
    ("", "v1", "Status"),
    ("", "v1", "DeleteOptions"),
]


def _kind(group: str, version: str, kind: str) -> type[KubeModel]:
    model = model_for(group, version, kind)
    assert model is not None
    return model


@pytest.mark.parametrize("gvk", TOP_LEVEL, ids=[f"{g or 'core'}/{v}/{k}" for g, v, k in TOP_LEVEL])
def test_json_schema_builds(gvk: tuple[str, str, str]) -> None:
    schema = _kind(*gvk).model_json_schema(by_alias=True)
    assert schema["type"] == "object"
    expected = {"apiVersion", "kind"} | ({"metadata"} if gvk[2] != "DeleteOptions" else set())
    assert expected <= set(schema["properties"])
    assert schema.get("required", []) == [] or "metadata" not in schema["required"]


def _prop(module: str, model: str, field: str) -> dict[str, Any]:
    cls = getattr(importlib.import_module(f"skiff.api.types.{module}"), model)
    schema: dict[str, Any] = cls.model_json_schema(by_alias=True)
    prop: dict[str, Any] = schema["properties"][field]
    return prop


def _ext(prop: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in prop.items() if k.startswith("x-kubernetes-")}


def _merge(key: str, *map_keys: str, strategy: str = "merge") -> dict[str, Any]:
    return {
        PATCH_STRATEGY: strategy,
        PATCH_MERGE_KEY: key,
        LIST_TYPE: "map",
        LIST_MAP_KEYS: list(map_keys or (key,)),
    }


EXPECTED = [
    ("core_v1", "PodSpec", "containers", _merge("name")),
    ("core_v1", "PodSpec", "initContainers", _merge("name")),
    ("core_v1", "PodSpec", "ephemeralContainers", _merge("name")),
    ("core_v1", "PodSpec", "volumes", _merge("name", strategy="merge,retainKeys")),
    ("core_v1", "PodSpec", "imagePullSecrets", _merge("name")),
    ("core_v1", "PodSpec", "schedulingGates", _merge("name")),
    ("core_v1", "PodSpec", "hostAliases", _merge("ip")),
    ("core_v1", "PodSpec", "tolerations", {LIST_TYPE: "atomic"}),
    ("core_v1", "PodSpec", "nodeSelector", {MAP_TYPE: "atomic"}),
    (
        "core_v1",
        "PodSpec",
        "topologySpreadConstraints",
        _merge("topologyKey", "topologyKey", "whenUnsatisfiable"),
    ),
    ("core_v1", "Container", "ports", _merge("containerPort", "containerPort", "protocol")),
    ("core_v1", "Container", "env", _merge("name")),
    ("core_v1", "Container", "volumeMounts", _merge("mountPath")),
    ("core_v1", "Container", "volumeDevices", _merge("devicePath")),
    ("core_v1", "Container", "args", {LIST_TYPE: "atomic"}),
    ("core_v1", "Container", "command", {LIST_TYPE: "atomic"}),
    ("core_v1", "ServiceSpec", "ports", _merge("port", "port", "protocol")),
    ("core_v1", "ServiceSpec", "selector", {MAP_TYPE: "atomic"}),
    ("core_v1", "PodStatus", "conditions", _merge("type")),
    ("core_v1", "PodStatus", "podIPs", _merge("ip")),
    (
        "core_v1",
        "PodStatus",
        "hostIPs",
        {PATCH_STRATEGY: "merge", PATCH_MERGE_KEY: "ip", LIST_TYPE: "atomic"},
    ),
    ("core_v1", "NodeStatus", "addresses", _merge("type")),
    ("core_v1", "NodeSpec", "podCIDRs", {LIST_TYPE: "set", PATCH_STRATEGY: "merge"}),
    ("core_v1", "ServiceAccount", "secrets", _merge("name")),
    ("meta_v1", "ObjectMeta", "finalizers", {LIST_TYPE: "set", PATCH_STRATEGY: "merge"}),
    ("meta_v1", "ObjectMeta", "ownerReferences", _merge("uid")),
    ("meta_v1", "ObjectMeta", "labels", {}),
    ("apps_v1", "DeploymentSpec", "strategy", {PATCH_STRATEGY: "retainKeys"}),
    ("apps_v1", "DeploymentStatus", "conditions", _merge("type")),
    # An atomic list that strategic merge patch still merges by key: no list-map-keys.
    (
        "batch_v1",
        "JobStatus",
        "conditions",
        {PATCH_STRATEGY: "merge", PATCH_MERGE_KEY: "type", LIST_TYPE: "atomic"},
    ),
    ("policy_v1", "PodDisruptionBudgetSpec", "selector", {PATCH_STRATEGY: "replace"}),
    (
        "autoscaling_k8s_io_v1",
        "PodResourcePolicy",
        "containerPolicies",
        {PATCH_STRATEGY: "merge", PATCH_MERGE_KEY: "containerName"},
    ),
]


@pytest.mark.parametrize(
    ("module", "model", "field", "expected"),
    EXPECTED,
    ids=[f"{m}.{c}.{f}" for m, c, f, _ in EXPECTED],
)
def test_patch_metadata_on_property(
    module: str, model: str, field: str, expected: dict[str, Any]
) -> None:
    assert _ext(_prop(module, model, field)) == expected


def test_extensions_survive_in_nested_definitions() -> None:
    schema = _kind("apps", "v1", "Deployment").model_json_schema(by_alias=True)
    containers = schema["$defs"]["PodSpec"]["properties"]["containers"]
    assert containers[PATCH_MERGE_KEY] == "name"
    assert containers[LIST_MAP_KEYS] == ["name"]
    ports = schema["$defs"]["Container"]["properties"]["ports"]
    assert ports[LIST_MAP_KEYS] == ["containerPort", "protocol"]


@pytest.mark.parametrize(
    ("module", "model", "extension", "value"),
    [
        ("meta_v1", "LabelSelector", MAP_TYPE, "atomic"),
        ("meta_v1", "OwnerReference", MAP_TYPE, "atomic"),
        ("core_v1", "ObjectReference", MAP_TYPE, "atomic"),
        ("core_v1", "LocalObjectReference", MAP_TYPE, "atomic"),
        (
            "apps_v1",
            "Deployment",
            "x-kubernetes-group-version-kind",
            [{"group": "apps", "version": "v1", "kind": "Deployment"}],
        ),
        (
            "core_v1",
            "Pod",
            "x-kubernetes-group-version-kind",
            [{"group": "", "version": "v1", "kind": "Pod"}],
        ),
    ],
    ids=[
        "labelselector",
        "ownerreference",
        "objectreference",
        "localobjectreference",
        "deployment-gvk",
        "pod-gvk",
    ],
)
def test_struct_level_extensions(module: str, model: str, extension: str, value: Any) -> None:
    cls = getattr(importlib.import_module(f"skiff.api.types.{module}"), model)
    assert cls.model_json_schema(by_alias=True)[extension] == value


def test_scalar_wire_formats_in_schema() -> None:
    container = _prop("core_v1", "ResourceRequirements", "limits")
    assert container["anyOf"][0]["additionalProperties"]["format"] == "quantity"
    port = _prop("core_v1", "ServicePort", "targetPort")
    assert port["anyOf"][0]["x-kubernetes-int-or-string"] is True
    created = _prop("meta_v1", "ObjectMeta", "creationTimestamp")
    assert created["anyOf"][0]["format"] == "date-time"


MODULES = [
    "meta_v1",
    "core_v1",
    "apps_v1",
    "batch_v1",
    "autoscaling_v1",
    "autoscaling_v2",
    "autoscaling_k8s_io_v1",
    "coordination_v1",
    "discovery_v1",
    "networking_v1",
    "policy_v1",
    "scheduling_v1",
    "rbac_v1",
]


@pytest.mark.parametrize("module", MODULES)
def test_every_model_and_field_is_described(module: str) -> None:
    # These descriptions are what `kubectl explain` prints.
    mod = importlib.import_module(f"skiff.api.types.{module}")
    missing = []
    for name in mod.__all__:
        cls = getattr(mod, name)
        if not cls.__doc__:
            missing.append(name)
        missing.extend(
            f"{name}.{field.alias}" for field in cls.model_fields.values() if not field.description
        )
    assert missing == []
