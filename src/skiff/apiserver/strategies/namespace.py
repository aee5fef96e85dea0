"""Namespaces: born Active with the ``kubernetes`` finalizer; a delete makes them Terminating
until ``spec.finalizers`` is empty (the namespace lifecycle empties it through ``/finalize``).

Kubernetes: pkg/registry/core/namespace/strategy.go (``PrepareForCreate``, ``PrepareForUpdate``
keeps ``spec.finalizers`` and status) and namespace/storage/storage.go (``Delete`` sets phase
Terminating and keeps the namespace while spec.finalizers is not empty).
"""

from __future__ import annotations

import copy
from typing import Any

from skiff.api.defaults import prepare_namespace_create
from skiff.api.resources import ResourceInfo
from skiff.apiserver.strategies._base import DefaultStrategy

__all__ = ["NamespaceStrategy"]


def _spec_finalizers(obj: dict[str, Any]) -> list[Any]:
    spec = obj.get("spec")
    return list((spec.get("finalizers") or []) if isinstance(spec, dict) else [])


class NamespaceStrategy(DefaultStrategy):
    def __init__(self, info: ResourceInfo) -> None:
        super().__init__(info, return_deleted_object=True)

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"phase": "Active"}
        # every namespace carries the finalizer the namespace lifecycle removes when empty
        prepare_namespace_create(obj)

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        # spec.finalizers change only through /finalize (what the namespace lifecycle uses), so
        # an edit cannot skip emptying the namespace
        old_finalizers = _spec_finalizers(old)
        spec = new.setdefault("spec", {})
        if old_finalizers:
            spec["finalizers"] = old_finalizers
        else:
            spec.pop("finalizers", None)
        super().prepare_for_update(new, old)
        # a namespace's phase follows its deletion, not the client
        new["status"] = copy.deepcopy(old.get("status") or {"phase": "Active"})

    def finalizers_pending(self, obj: dict[str, Any]) -> bool:
        return bool(_spec_finalizers(obj)) or super().finalizers_pending(obj)

    def prepare_for_delete(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        super().prepare_for_delete(new, old)
        new.setdefault("status", {})["phase"] = "Terminating"
