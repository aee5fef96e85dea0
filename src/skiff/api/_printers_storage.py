"""Table printers for storage: PersistentVolume, PersistentVolumeClaim and StorageClass.

Columns and cells follow kubernetes/kubernetes ``pkg/printers/internalversion/printers.go`` at
v1.32 (``printPersistentVolume``, ``printPersistentVolumeClaim``, ``printStorageClass``); the
column descriptions are ours (kubectl never prints them).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from skiff.api._printers_common import (
    Cells,
    Column,
    RowFunc,
    age_col,
    age_of,
    col,
    get,
    lst,
    name_col,
    name_of,
    quantity_string,
    s,
)

__all__ = ["COLUMNS", "ROWS", "access_modes_string"]

# the annotation that named a class before spec.storageClassName existed; it still wins
_BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
_DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
_UNSET = "<unset>"
# access modes in the order kubectl prints them (helper.GetAccessModesAsString)
_MODE_ABBREVIATIONS = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)


def access_modes_string(modes: list[Any]) -> str:
    """``RWO,ROX``: the abbreviations of the modes present, in a fixed order, without repeats."""
    return ",".join(short for mode, short in _MODE_ABBREVIATIONS if mode in modes)


def _class_of(obj: Mapping[str, Any]) -> str:
    annotation = get(obj, "metadata", "annotations", _BETA_CLASS_ANNOTATION)
    if isinstance(annotation, str):
        return annotation
    return s(obj, "spec", "storageClassName")


def _phase(obj: Mapping[str, Any]) -> str:
    if get(obj, "metadata", "deletionTimestamp"):
        return "Terminating"
    return s(obj, "status", "phase")


def _or_unset(obj: Mapping[str, Any], *path: str) -> str:
    value = get(obj, *path)
    return value if isinstance(value, str) else _UNSET


_PV_COLUMNS = [
    name_col(),
    col("Capacity", description="The volume's storage capacity."),
    col("Access Modes", description="The ways the volume can be mounted."),
    col("Reclaim Policy", description="What happens to the volume when its claim is released."),
    col("Status", description="The volume's phase."),
    col("Claim", description="The claim bound to the volume, as namespace/name."),
    col("StorageClass", description="StorageClass of the pv"),
    col("VolumeAttributesClass", description="VolumeAttributesClass of the pv"),
    col("Reason", description="Why the volume is in its phase."),
    age_col(),
    col("VolumeMode", description="Filesystem or Block.", priority=1),
]


def _pv_row(pv: Mapping[str, Any], now: datetime) -> Cells:
    claim = ""
    ref = get(pv, "spec", "claimRef")
    if isinstance(ref, Mapping):
        claim = f"{s(ref, 'namespace')}/{s(ref, 'name')}"
    storage = get(pv, "spec", "capacity", "storage")
    return [
        name_of(pv),
        quantity_string(storage if storage is not None else "0"),
        access_modes_string(lst(pv, "spec", "accessModes")),
        s(pv, "spec", "persistentVolumeReclaimPolicy"),
        _phase(pv),
        claim,
        _class_of(pv),
        _or_unset(pv, "spec", "volumeAttributesClassName"),
        s(pv, "status", "reason"),
        age_of(pv, now),
        _or_unset(pv, "spec", "volumeMode"),
    ]


_PVC_COLUMNS = [
    name_col(),
    col("Status", description="The claim's phase."),
    col("Volume", description="The volume bound to the claim."),
    col("Capacity", description="The bound volume's capacity."),
    col("Access Modes", description="The bound volume's access modes."),
    col("StorageClass", description="StorageClass of the pvc"),
    col("VolumeAttributesClass", description="VolumeAttributesClass of the pvc"),
    age_col(),
    col("VolumeMode", description="Filesystem or Block.", priority=1),
]


def _pvc_row(pvc: Mapping[str, Any], now: datetime) -> Cells:
    capacity = modes = ""
    if s(pvc, "spec", "volumeName"):
        # capacity and modes are the bound volume's, as the claim's status reports them
        modes = access_modes_string(lst(pvc, "status", "accessModes"))
        storage = get(pvc, "status", "capacity", "storage")
        capacity = quantity_string(storage if storage is not None else "0")
    return [
        name_of(pvc),
        _phase(pvc),
        s(pvc, "spec", "volumeName"),
        capacity,
        modes,
        _class_of(pvc),
        _or_unset(pvc, "spec", "volumeAttributesClassName"),
        age_of(pvc, now),
        _or_unset(pvc, "spec", "volumeMode"),
    ]


_STORAGECLASS_COLUMNS = [
    name_col(),
    col("Provisioner", description="The volume plugin that provisions volumes of this class."),
    col("ReclaimPolicy", description="Reclaim policy of the volumes provisioned."),
    col("VolumeBindingMode", description="When claims are bound and provisioned."),
    col("AllowVolumeExpansion", description="Whether claims of this class may grow."),
    age_col(),
]


def _storageclass_row(sc: Mapping[str, Any], now: datetime) -> Cells:
    name = name_of(sc)
    if any(get(sc, "metadata", "annotations", a) == "true" for a in _DEFAULT_CLASS_ANNOTATIONS):
        name += " (default)"
    return [
        name,
        s(sc, "provisioner"),
        s(sc, "reclaimPolicy") or "Delete",
        s(sc, "volumeBindingMode") or "Immediate",
        get(sc, "allowVolumeExpansion") is True,
        age_of(sc, now),
    ]


COLUMNS: dict[str, list[Column]] = {
    "PersistentVolume": _PV_COLUMNS,
    "PersistentVolumeClaim": _PVC_COLUMNS,
    "StorageClass": _STORAGECLASS_COLUMNS,
}

ROWS: dict[str, RowFunc] = {
    "PersistentVolume": _pv_row,
    "PersistentVolumeClaim": _pvc_row,
    "StorageClass": _storageclass_row,
}
