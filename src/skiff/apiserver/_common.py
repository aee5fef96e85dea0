"""Helpers the generic registry and its verb modules (``_update``, ``_delete``) share."""

from __future__ import annotations

import dataclasses
from typing import Any

from skiff.api import resources as kinds
from skiff.api.patch import schema_for_model
from skiff.api.resources import ResourceInfo
from skiff.api.types import model_for
from skiff.apiserver.errors import ApiError

__all__ = ["MAX_RETRIES", "conversion", "ensure_meta", "patch_schema"]

# compare-and-swap attempts of one write before it gives up with 409 "too many concurrent writers"
MAX_RETRIES = 16


def conversion(info: ResourceInfo) -> tuple[ResourceInfo, bool]:
    """The resource objects of ``info`` are stored as, and whether conversion is needed."""
    if not info.is_storage_version:
        if info.custom is not None:  # a custom resource: its storage version's info
            return dataclasses.replace(info, version=info.storage_version, converts_to=""), True
        stored = kinds.by_gvk(info.group, info.storage_version, info.kind)
        assert stored is not None
        return stored, True
    return info, False


def ensure_meta(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj["metadata"]``, made a dict first if it is missing or not one."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    return meta


def patch_schema(info: ResourceInfo) -> Any:
    """The patch/apply schema of a kind, from its model (cached by the patch package); a
    custom resource's from its CRD's schema."""
    if info.custom is not None:
        return info.custom.patch_schema(info.version)
    model = model_for(info.group, info.version, info.kind)
    if model is None:  # pragma: no cover - every served kind has a model
        raise ApiError(500, "InternalError", f"no schema for {info.kind}")
    return schema_for_model(model)
