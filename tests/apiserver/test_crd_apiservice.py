"""APIServices of CRD group/versions (skiff.apiserver.crdapiservice) against an in-process API
server.

Covers: ``v1.<group>`` created once a CRD serving it is established (label ``automanaged:
"true"``, priorities 1000/100, ``Available``/``Local``), one per served version, and deleted with
the last CRD serving it; a version no longer served by an updated CRD losing its APIService; an
APIService a user stored under a CRD group/version name (not automanaged) left alone; the
built-in ones untouched.
Excludes: ``kubectl get apiservices`` (tests/integration/test_crd_gc.py).
"""

from __future__ import annotations

from typing import Any

import httpx

from skiff.testing.wait import eventually

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
APISVC = "/apis/apiregistration.k8s.io/v1/apiservices"
GROUP = "reg.skiff.test"


def _crd(plural: str, kind: str, versions: tuple[str, ...] = ("v1",)) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Cluster",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [
                {
                    "name": v,
                    "served": True,
                    "storage": i == 0,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                }
                for i, v in enumerate(versions)
            ],
        },
    }


async def _status(api: httpx.AsyncClient, name: str) -> int:
    return (await api.get(f"{APISVC}/{name}")).status_code


async def test_apiservices_follow_crd_group_versions(api: httpx.AsyncClient) -> None:
    r = await api.post(CRDS, json=_crd("bolts", "Bolt", ("v1", "v2beta1")))
    assert r.status_code == 201, r.text

    async def both() -> bool:
        return all([await _status(api, f"{v}.{GROUP}") == 200 for v in ("v1", "v2beta1")])

    await eventually(both, within=10, interval=0.02)
    svc = (await api.get(f"{APISVC}/v1.{GROUP}")).json()
    assert svc["metadata"]["labels"] == {"kube-aggregator.kubernetes.io/automanaged": "true"}
    assert svc["spec"] == {
        "group": GROUP,
        "version": "v1",
        "groupPriorityMinimum": 1000,
        "versionPriority": 100,
    }
    [available] = svc["status"]["conditions"]
    assert (available["type"], available["status"], available["reason"]) == (
        "Available",
        "True",
        "Local",
    )

    # v2beta1 no longer served: its APIService goes, v1's stays
    crd = (await api.get(f"{CRDS}/bolts.{GROUP}")).json()
    crd["spec"]["versions"][1]["served"] = False
    assert (await api.put(f"{CRDS}/bolts.{GROUP}", json=crd)).status_code == 200

    async def v2_gone() -> bool:
        return await _status(api, f"v2beta1.{GROUP}") == 404

    await eventually(v2_gone, within=10, interval=0.02)
    assert await _status(api, f"v1.{GROUP}") == 200

    assert (await api.delete(f"{CRDS}/bolts.{GROUP}")).status_code in (200, 202)

    async def v1_gone() -> bool:
        return await _status(api, f"v1.{GROUP}") == 404

    await eventually(v1_gone, within=10, interval=0.02)
    assert await _status(api, "v1.apps") == 200
    assert await _status(api, "v1.autoscaling.k8s.io") == 200  # built in, labelled "true"

    # an APIService a user stored under the name (not automanaged) is not ours to replace or delete
    user = {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": f"v1.{GROUP}"},
        "spec": {
            "group": GROUP,
            "version": "v1",
            "groupPriorityMinimum": 10,
            "versionPriority": 10,
        },
    }
    assert (await api.post(APISVC, json=user)).status_code == 201
    assert (await api.post(CRDS, json=_crd("nuts", "Nut", ("v1", "v2")))).status_code == 201

    async def v2_there() -> bool:
        return await _status(api, f"v2.{GROUP}") == 200

    await eventually(v2_there, within=10, interval=0.02)
    assert (await api.delete(f"{CRDS}/nuts.{GROUP}")).status_code in (200, 202)

    async def v2_gone_too() -> bool:  # the same pass that would have deleted v1
        return await _status(api, f"v2.{GROUP}") == 404

    await eventually(v2_gone_too, within=10, interval=0.02)
    kept = (await api.get(f"{APISVC}/v1.{GROUP}")).json()
    assert "labels" not in kept["metadata"] and kept["spec"]["groupPriorityMinimum"] == 10
