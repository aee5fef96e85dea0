"""Structural parity of ``skiff.api.types`` with the official Kubernetes Python client (v32).

For every model that the client also has, the wire field names must be the same, and each field
must have the same shape, recursively: lists, string-keyed maps, nested models and scalars
(``str``/``int``/``bool``/``float``; ``datetime`` for Time/MicroTime; ``object`` only for our
IntOrString, Quantity, RawExtension and FieldsV1). The client is a test dependency only.

Not covered here: patch metadata and descriptions (see ``test_types_schema.py``), and the
VerticalPodAutoscaler, which the client does not ship.
"""

from __future__ import annotations

import importlib
import re
import typing
from functools import cache
from types import ModuleType, UnionType
from typing import Any

import pytest
from kubernetes import client as k8s  # type: ignore[import-untyped]
from pydantic import Field

from skiff.api.types import _base, _fields
from skiff.api.types._base import KubeModel

MODULES = {
    "meta_v1": ("Meta", "V1"),
    "core_v1": ("Core", "V1"),
    "apps_v1": ("Apps", "V1"),
    "batch_v1": ("Batch", "V1"),
    "autoscaling_v1": ("Autoscaling", "V1"),
    "autoscaling_v2": ("Autoscaling", "V2"),
    "coordination_v1": ("Coordination", "V1"),
    "discovery_v1": ("Discovery", "V1"),
    "networking_v1": ("Networking", "V1"),
    "policy_v1": ("Policy", "V1"),
    "scheduling_v1": ("Scheduling", "V1"),
    "rbac_v1": ("Rbac", "V1"),
    "authorization_v1": ("Authorization", "V1"),
    "authentication_v1": ("Authentication", "V1"),
    "storage_v1": ("Storage", "V1"),
    "apiregistration_v1": ("Apiregistration", "V1"),
}
NO_CLIENT_MODULES = ("autoscaling_k8s_io_v1",)


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"skiff.api.types.{name}")


def _models(module: ModuleType) -> list[type[KubeModel]]:
    found = [getattr(module, name) for name in module.__all__]
    return [m for m in found if isinstance(m, type) and issubclass(m, KubeModel)]


def client_class(module: str, name: str) -> type | None:
    """``core_v1.Pod`` -> ``V1Pod``; ``CoreV1EndpointPort`` where the client disambiguates."""
    group, version = MODULES[module]
    for candidate in (f"{group}{version}{name}", f"{version}{name}"):
        found = getattr(k8s, candidate, None)
        if isinstance(found, type) and hasattr(found, "openapi_types"):
            return found
    return None


PAIRS = [
    (module, model, cls)
    for module in MODULES
    for model in _models(_module(module))
    if (cls := client_class(module, model.__name__)) is not None
]

# Our scalar annotations and the client type names each may stand for.
_SCALARS: list[tuple[Any, set[str]]] = [
    (_base.Quantity, {"str", "object"}),
    (_base.IntOrString, {"object"}),
    (_base.RawExtension, {"object"}),
    (_fields.FieldsV1, {"object"}),
    (_base.Time, {"datetime"}),
    (_base.MicroTime, {"datetime"}),
    (str, {"str"}),
    (int, {"int"}),
    (bool, {"bool"}),
    (float, {"float"}),
]


def _strip_optional(annotation: Any) -> Any:
    if isinstance(annotation, UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def compare_shape(ours: Any, theirs: str, path: str, problems: list[str]) -> None:
    """Compare one of our annotations with a client type string such as ``list[V1Container]``."""
    ours = _strip_optional(ours)
    if match := re.fullmatch(r"list\[(.+)\]", theirs):
        if typing.get_origin(ours) is not list:
            problems.append(f"{path}: client has {theirs}, we have {ours}")
            return
        compare_shape(typing.get_args(ours)[0], match.group(1), f"{path}[]", problems)
        return
    if match := re.fullmatch(r"dict\(str, (.+)\)", theirs):
        if typing.get_origin(ours) is not dict or typing.get_args(ours)[0] is not str:
            problems.append(f"{path}: client has {theirs}, we have {ours}")
            return
        compare_shape(typing.get_args(ours)[1], match.group(1), f"{path}{{}}", problems)
        return
    if isinstance(ours, type) and issubclass(ours, KubeModel):
        their_cls = getattr(k8s, theirs, None)
        if their_cls is None:
            problems.append(f"{path}: client has {theirs}, we have model {ours.__name__}")
            return
        problems.extend(compare_models(ours, their_cls, path))
        return
    for scalar, names in _SCALARS:
        if ours == scalar and typing.get_origin(ours) == typing.get_origin(scalar):
            if theirs not in names:
                problems.append(f"{path}: client has {theirs}, we have {ours}")
            return
    problems.append(f"{path}: client has {theirs}, we have unexpected {ours}")


@cache
def _compare_cached(ours: type[KubeModel], theirs: type) -> tuple[str, ...]:
    problems: list[str] = []
    hints = typing.get_type_hints(ours, include_extras=True)
    our_fields = {f.alias or name: name for name, f in ours.model_fields.items()}
    their_fields = {wire: attr for attr, wire in theirs.attribute_map.items()}
    for wire in sorted(set(our_fields) ^ set(their_fields)):
        side = "only ours" if wire in our_fields else "only the client's"
        problems.append(f"{ours.__name__}.{wire}: field is {side}")
    for wire in sorted(set(our_fields) & set(their_fields)):
        compare_shape(
            hints[our_fields[wire]],
            theirs.openapi_types[their_fields[wire]],
            f"{ours.__name__}.{wire}",
            problems,
        )
    return tuple(problems)


def compare_models(ours: type[KubeModel], theirs: type, path: str = "") -> list[str]:
    """Every difference between our model and the client class, recursively (empty if none)."""
    problems = _compare_cached(ours, theirs)
    return [f"{path}: {p}" if path else p for p in problems]


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [(model, cls) for _, model, cls in PAIRS],
    ids=[f"{module}.{model.__name__}-{cls.__name__}" for module, model, cls in PAIRS],
)
def test_model_matches_client(ours: type[KubeModel], theirs: type) -> None:
    assert compare_models(ours, theirs) == []


def test_every_model_has_a_client_counterpart() -> None:
    # A model without a counterpart would silently escape the parity check; only the VPA
    # (a CRD the client does not ship) may lack one.
    missing = [
        f"{module}.{model.__name__}"
        for module in MODULES
        for model in _models(_module(module))
        if client_class(module, model.__name__) is None
    ]
    assert missing == []
    assert len(PAIRS) > 300
    assert all(_models(_module(m)) for m in NO_CLIENT_MODULES)


class _WrongPodSpec(KubeModel):
    """A deliberately broken PodSpec: a missing field, an extra one and wrong shapes."""

    containers: list[str] = Field(alias="containers")
    node_name: int | None = Field(None, alias="nodeName")
    bogus: str | None = Field(None, alias="bogus")


def test_checker_detects_wrong_pairs() -> None:
    core = _module("core_v1")
    # A model compared with the wrong client class differs.
    assert compare_models(core.Pod, k8s.V1Service) != []
    assert compare_models(core.ServicePort, k8s.V1ContainerPort) != []
    problems = compare_models(_WrongPodSpec, k8s.V1PodSpec)
    joined = "\n".join(problems)
    assert "_WrongPodSpec.bogus: field is only ours" in joined
    assert "_WrongPodSpec.volumes: field is only the client's" in joined
    assert "_WrongPodSpec.containers[]: client has V1Container" in joined
    assert "_WrongPodSpec.nodeName: client has str" in joined


def test_checker_detects_scalar_substitutions() -> None:
    problems: list[str] = []
    compare_shape(_base.Time, "str", "x", problems)
    compare_shape(str, "datetime", "y", problems)
    compare_shape(_base.IntOrString, "int", "z", problems)
    compare_shape(dict[str, str], "dict(str, list[str])", "w", problems)
    assert [p.split(":")[0] for p in problems] == ["x", "y", "z", "w{}"]
