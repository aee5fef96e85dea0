"""PersistentVolumes and PersistentVolumeClaims: born ``Pending``.

Kubernetes: pkg/registry/core/persistentvolume/strategy.go (``PrepareForCreate`` resets status
to phase Pending with ``lastPhaseTransitionTime`` now; the status strategy stamps that time
again whenever a write changes the phase without setting it) and
pkg/registry/core/persistentvolumeclaim/strategy.go (status reset on create; reading the object
back defaults the phase to Pending). Binding and provisioning are controllers' work, not done yet.
"""

from __future__ import annotations

from typing import Any

from skiff.apiserver import objects
from skiff.apiserver.strategies._base import DefaultStrategy

__all__ = ["PersistentVolumeClaimStrategy", "PersistentVolumeStrategy"]


def _status(obj: dict[str, Any]) -> dict[str, Any]:
    status = obj.get("status")
    if not isinstance(status, dict):
        status = obj["status"] = {}
    return status


class PersistentVolumeStrategy(DefaultStrategy):
    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"phase": "Pending", "lastPhaseTransitionTime": objects.now_rfc3339()}

    def prepare_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        super().prepare_status_update(new, old)
        status, old_status = _status(new), old.get("status") or {}
        stamp = status.get("lastPhaseTransitionTime")
        if status.get("phase") != old_status.get("phase") and (
            stamp is None or stamp == old_status.get("lastPhaseTransitionTime")
        ):
            status["lastPhaseTransitionTime"] = objects.now_rfc3339()


class PersistentVolumeClaimStrategy(DefaultStrategy):
    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"phase": "Pending"}
