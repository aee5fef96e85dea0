"""Table printers of the storage kinds and APIService (``kubectl get pv,pvc,sc,apiservices``).

Covers the column sets (kubectl 1.32's order, wide-only VolumeMode), access-mode abbreviations,
the claim and class cells, ``Terminating`` while deleting, the ``(default)`` StorageClass mark
and its defaults when fields are unset, and the APIService ``Local``/``Available`` cells with the
reason of an unavailable one. Partial objects are covered by test_printers.py's sweep.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from skiff.api._printers_storage import access_modes_string
from skiff.api.printers import column_definitions, row_cells

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
AGO = "2025-01-01T11:55:00Z"


def meta(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "creationTimestamp": AGO, **extra}


def columns(kind: str) -> list[tuple[str, int]]:
    return [(c["name"], c["priority"]) for c in column_definitions(kind)]


def test_columns_in_kubectl_order() -> None:
    assert [n for n, p in columns("PersistentVolume") if p == 0] == [
        "Name",
        "Capacity",
        "Access Modes",
        "Reclaim Policy",
        "Status",
        "Claim",
        "StorageClass",
        "VolumeAttributesClass",
        "Reason",
        "Age",
    ]
    assert columns("PersistentVolumeClaim")[-1] == ("VolumeMode", 1)
    assert [n for n, _ in columns("StorageClass")] == [
        "Name",
        "Provisioner",
        "ReclaimPolicy",
        "VolumeBindingMode",
        "AllowVolumeExpansion",
        "Age",
    ]
    assert [n for n, _ in columns("APIService")] == ["Name", "Service", "Available", "Age"]


@pytest.mark.parametrize(
    ("modes", "text"),
    [
        (["ReadWriteMany", "ReadWriteOnce"], "RWO,RWX"),
        (["ReadWriteOncePod", "ReadOnlyMany", "ReadOnlyMany"], "ROX,RWOP"),
        ([], ""),
    ],
)
def test_access_modes(modes: list[str], text: str) -> None:
    assert access_modes_string(modes) == text


def test_volume_row() -> None:
    pv = {
        "metadata": meta("pv-1", annotations={"volume.beta.kubernetes.io/storage-class": "old"}),
        "spec": {
            "capacity": {"storage": "2048Mi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": "ns", "name": "data"},
            "storageClassName": "new",
            "volumeMode": "Block",
        },
        "status": {"phase": "Bound"},
    }
    assert row_cells("PersistentVolume", pv, now=NOW) == [
        "pv-1",
        "2Gi",
        "RWO",
        "Retain",
        "Bound",
        "ns/data",
        "old",
        "<unset>",
        "",
        "5m",
        "Block",
    ]
    pv["metadata"]["deletionTimestamp"] = AGO
    del pv["spec"]["capacity"]
    cells = row_cells("PersistentVolume", pv, now=NOW)
    assert cells[1] == "0" and cells[4] == "Terminating"


def test_claim_row_shows_the_bound_volume_only_once_bound() -> None:
    pvc = {
        "metadata": meta("data"),
        "spec": {"storageClassName": "fast", "volumeMode": "Filesystem"},
        "status": {"phase": "Pending", "capacity": {"storage": "1Gi"}},
    }
    assert row_cells("PersistentVolumeClaim", pvc, now=NOW) == [
        "data",
        "Pending",
        "",
        "",
        "",
        "fast",
        "<unset>",
        "5m",
        "Filesystem",
    ]
    pvc["spec"]["volumeName"] = "pv-1"
    pvc["status"] = {
        "phase": "Bound",
        "capacity": {"storage": "1Gi"},
        "accessModes": ["ReadWriteMany"],
    }
    assert row_cells("PersistentVolumeClaim", pvc, now=NOW)[1:5] == ["Bound", "pv-1", "1Gi", "RWX"]


def test_storage_class_row() -> None:
    sc = {
        "metadata": meta(
            "fast", annotations={"storageclass.kubernetes.io/is-default-class": "true"}
        ),
        "provisioner": "example.com/fast",
    }
    assert row_cells("StorageClass", sc, now=NOW) == [
        "fast (default)",
        "example.com/fast",
        "Delete",
        "Immediate",
        False,
        "5m",
    ]


def test_apiservice_rows() -> None:
    local = {
        "metadata": meta("v1.apps"),
        "spec": {"group": "apps", "version": "v1"},
        "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local"}]},
    }
    assert row_cells("APIService", local, now=NOW) == ["v1.apps", "Local", "True", "5m"]
    remote = {
        "metadata": meta("v1beta1.metrics.k8s.io"),
        "spec": {"service": {"namespace": "kube-system", "name": "metrics-server"}},
        "status": {
            "conditions": [
                {"type": "Available", "status": "False", "reason": "AggregationNotSupported"}
            ]
        },
    }
    assert row_cells("APIService", remote, now=NOW)[1:3] == [
        "kube-system/metrics-server",
        "False (AggregationNotSupported)",
    ]
    assert row_cells("APIService", {"metadata": meta("v1.x")}, now=NOW)[2] == "Unknown"
