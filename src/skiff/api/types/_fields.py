"""Helpers that spell Kubernetes' patch metadata for a field in one short call.

Each helper returns a fresh ``json_schema_extra`` dict with the upstream OpenAPI extension names,
so a field declaration stays on one line::

    containers: list[Container] = Field(alias="containers", json_schema_extra=merge_list("name"))

The values mirror the ``patchStrategy``/``patchMergeKey`` struct tags and the ``+listType``,
``+listMapKey`` and ``+mapType`` markers of ``k8s.io/api`` 1.32, as published in its OpenAPI. The
strategic-merge-patch engine and the OpenAPI generator read them back from the model's JSON schema
or from ``FieldInfo.json_schema_extra``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import JsonValue, WithJsonSchema

__all__ = [
    "LIST_MAP_KEYS",
    "LIST_TYPE",
    "MAP_TYPE",
    "PATCH_MERGE_KEY",
    "PATCH_STRATEGY",
    "FieldsV1",
    "JsonDict",
    "atomic_list",
    "atomic_map",
    "granular_map",
    "map_list",
    "merge_list",
    "patch_strategy",
    "set_list",
    "struct_extensions",
]

JsonDict = dict[str, JsonValue]

PATCH_STRATEGY = "x-kubernetes-patch-strategy"
PATCH_MERGE_KEY = "x-kubernetes-patch-merge-key"
LIST_TYPE = "x-kubernetes-list-type"
LIST_MAP_KEYS = "x-kubernetes-list-map-keys"
MAP_TYPE = "x-kubernetes-map-type"

FieldsV1 = Annotated[dict[str, Any], WithJsonSchema({"type": "object"})]
"""The managed-fields trie (``f:``/``k:``/``v:``/``i:`` keys) stored as free-form JSON."""


def merge_list(
    key: str,
    *,
    map_keys: tuple[str, ...] | None = None,
    strategy: str = "merge",
    list_type: str | None = "map",
) -> JsonDict:
    """A list merged by ``key`` in strategic merge patch.

    ``map_keys`` defaults to ``(key,)`` when the list is a ``map`` list (the usual case); pass
    ``list_type="atomic"`` or ``None`` for the few lists whose server-side-apply type differs.
    """
    extra: JsonDict = {PATCH_STRATEGY: strategy, PATCH_MERGE_KEY: key}
    if list_type is not None:
        extra[LIST_TYPE] = list_type
    if list_type == "map":
        extra[LIST_MAP_KEYS] = list(map_keys or (key,))
    return extra


def map_list(*keys: str) -> JsonDict:
    """A server-side-apply ``map`` list keyed by ``keys`` with no strategic-merge key."""
    return {LIST_TYPE: "map", LIST_MAP_KEYS: list(keys)}


def atomic_list() -> JsonDict:
    """A list replaced as a whole by every kind of patch."""
    return {LIST_TYPE: "atomic"}


def set_list(*, strategy: str | None = None) -> JsonDict:
    """A list of unique scalars; ``strategy="merge"`` makes strategic merge patch union it."""
    extra: JsonDict = {LIST_TYPE: "set"}
    if strategy is not None:
        extra[PATCH_STRATEGY] = strategy
    return extra


def patch_strategy(strategy: str) -> JsonDict:
    """Only a strategic-merge-patch strategy (``replace``, ``retainKeys``, ``merge``)."""
    return {PATCH_STRATEGY: strategy}


def atomic_map() -> JsonDict:
    """A map (or struct) replaced as a whole by server-side apply."""
    return {MAP_TYPE: "atomic"}


def granular_map() -> JsonDict:
    """A map whose keys server-side apply owns one by one (the default, stated explicitly)."""
    return {MAP_TYPE: "granular"}


def struct_extensions(
    *,
    map_type: str | None = None,
    gvk: tuple[str, str, str] | None = None,
    unions: list[JsonValue] | None = None,
) -> JsonDict:
    """Extensions that sit on a whole model's schema rather than on one of its fields.

    ``map_type="atomic"`` marks a struct that server-side apply replaces as a unit;
    ``gvk=(group, version, kind)`` adds ``x-kubernetes-group-version-kind`` for top-level kinds.
    """
    extra: JsonDict = {}
    if map_type is not None:
        extra[MAP_TYPE] = map_type
    if gvk is not None:
        group, version, kind = gvk
        extra["x-kubernetes-group-version-kind"] = [
            {"group": group, "version": version, "kind": kind}
        ]
    if unions is not None:
        extra["x-kubernetes-unions"] = unions
    return extra
