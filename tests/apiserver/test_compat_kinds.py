"""The kinds added for outside clients, over a real loopback connection to an in-process server.

Covers: the older ``bindings`` resource (binds like ``pods/binding``, create only, its errors and
its discovery entry); APIServices (the built-in ones stored at bootstrap as ``Local``/``True``, a
user's one stored ``False``/``AggregationNotSupported`` whatever the client writes to its status,
and kept out of discovery); PersistentVolumes and claims born ``Pending`` (the volume's phase
transition time stamped again when a status write changes the phase) and StorageClass
immutability; ``/openapi/v2`` negotiation, ETag and 304. kubectl and the Python client are in
tests/integration/test_clients_compat_kinds.py.
"""

from __future__ import annotations

from typing import Any

import httpx

from skiff.apiserver.openapi_v2 import PROTOBUF_CONTENT_TYPE, PROTOBUF_MEDIA_TYPES

PODS = "/api/v1/namespaces/default/pods"
BINDINGS = "/api/v1/namespaces/default/bindings"
APISERVICES = "/apis/apiregistration.k8s.io/v1/apiservices"
PVS = "/api/v1/persistentvolumes"
PVCS = "/api/v1/namespaces/default/persistentvolumeclaims"
SCS = "/apis/storage.k8s.io/v1/storageclasses"


def pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }


def binding(name: str, node: str = "node-a", **meta: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": name, **meta},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    }


def metrics_apiservice() -> dict[str, Any]:
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": "v1beta1.metrics.k8s.io"},
        "spec": {
            "group": "metrics.k8s.io",
            "version": "v1beta1",
            "groupPriorityMinimum": 100,
            "versionPriority": 100,
            "insecureSkipTLSVerify": True,
            "service": {"namespace": "kube-system", "name": "metrics-server"},
        },
    }


def available(obj: dict[str, Any]) -> dict[str, Any]:
    (condition,) = obj["status"]["conditions"]
    assert condition["type"] == "Available"
    return dict(condition)


# ------------------------------------------------------------------------------- bindings


async def test_bindings_binds_the_pod_it_names(api: httpx.AsyncClient) -> None:
    assert (await api.post(PODS, json=pod("legacy"))).status_code == 201
    r = await api.post(BINDINGS, json=binding("legacy"))
    assert r.status_code == 201, r.text
    assert r.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": 201,
    }
    got = (await api.get(f"{PODS}/legacy")).json()
    assert got["spec"]["nodeName"] == "node-a"
    scheduled = [c for c in got["status"]["conditions"] if c["type"] == "PodScheduled"]
    assert scheduled[0]["status"] == "True"
    r = await api.post(BINDINGS, json=binding("legacy", "node-b"))
    assert r.status_code == 409 and "already assigned" in r.json()["message"]


async def test_bindings_errors(api: httpx.AsyncClient) -> None:
    r = await api.post(BINDINGS, json=binding("ghost"))
    assert r.status_code == 404
    r = await api.post(BINDINGS, json={"kind": "Binding", "target": {"name": "n"}})
    assert r.status_code == 400 and r.json()["message"] == "Name parameter required."
    r = await api.post(BINDINGS, json=binding("x", namespace="other"))
    assert r.status_code == 400 and "does not match the namespace" in r.json()["message"]
    assert (await api.post(PODS, json=pod("untargeted"))).status_code == 201
    r = await api.post(BINDINGS, json={"kind": "Binding", "metadata": {"name": "untargeted"}})
    assert r.status_code == 422 and r.json()["details"]["causes"][0]["field"] == "target.name"
    for method, path in (("GET", BINDINGS), ("GET", f"{BINDINGS}/x"), ("DELETE", BINDINGS)):
        r = await api.request(method, path)
        assert r.status_code == 405, (method, path, r.text)
    r = await api.post("/api/v1/bindings", json=binding("x"))
    assert r.status_code == 405


async def test_bindings_in_discovery_as_kubernetes_lists_it(api: httpx.AsyncClient) -> None:
    resources = {r["name"]: r for r in (await api.get("/api/v1")).json()["resources"]}
    assert resources["bindings"] == {
        "name": "bindings",
        "singularName": "binding",
        "namespaced": True,
        "kind": "Binding",
        "verbs": ["create"],
    }


# ------------------------------------------------------------------------------- APIServices


async def test_builtin_apiservices_are_local_and_available(api: httpx.AsyncClient) -> None:
    items = {i["metadata"]["name"]: i for i in (await api.get(APISERVICES)).json()["items"]}
    assert {"v1.", "v1.apps", "v2.autoscaling", "v1.autoscaling", "v1.storage.k8s.io"} <= set(items)
    core = items["v1."]
    assert core["spec"] == {
        "group": "",
        "version": "v1",
        "groupPriorityMinimum": 18000,
        "versionPriority": 1,
    }
    assert core["metadata"]["labels"] == {"kube-aggregator.kubernetes.io/automanaged": "onstart"}
    assert items["v1.apps"]["spec"]["groupPriorityMinimum"] == 17800
    condition = available(items["v1.apps"])
    assert (condition["status"], condition["reason"]) == ("True", "Local")
    assert condition["message"] == "Local APIServices are always available"
    # the VerticalPodAutoscaler group is a CRD upstream
    vpa = items["v1.autoscaling.k8s.io"]
    assert vpa["metadata"]["labels"]["kube-aggregator.kubernetes.io/automanaged"] == "true"
    assert (vpa["spec"]["groupPriorityMinimum"], vpa["spec"]["versionPriority"]) == (1000, 100)


async def test_user_apiservice_is_stored_unavailable_and_not_discovered(
    api: httpx.AsyncClient,
) -> None:
    r = await api.post(APISERVICES, json=metrics_apiservice())
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["spec"]["service"]["port"] == 443  # defaulted
    condition = available(created)
    assert (condition["status"], condition["reason"]) == ("False", "AggregationNotSupported")
    assert "metrics.k8s.io/v1beta1" in condition["message"]
    assert 'service/metrics-server in "kube-system"' in condition["message"]
    # a client cannot claim it became available: the server keeps the condition
    claimed = {**created, "status": {"conditions": [{**condition, "status": "True"}]}}
    r = await api.put(f"{APISERVICES}/v1beta1.metrics.k8s.io/status", json=claimed)
    assert r.status_code == 200, r.text
    assert available(r.json()) == condition
    groups = [g["name"] for g in (await api.get("/apis")).json()["groups"]]
    assert "metrics.k8s.io" not in groups and "apiregistration.k8s.io" in groups
    assert (await api.get("/apis/metrics.k8s.io/v1beta1")).status_code == 404
    table = (
        await api.get(
            APISERVICES,
            headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"},
        )
    ).json()
    rows = {row["cells"][0]: row["cells"][1:3] for row in table["rows"]}
    assert rows["v1beta1.metrics.k8s.io"] == [
        "kube-system/metrics-server",
        "False (AggregationNotSupported)",
    ]
    assert rows["v1.apps"] == ["Local", "True"]


async def test_apiservice_validation(api: httpx.AsyncClient) -> None:
    bad = metrics_apiservice()
    bad["metadata"]["name"] = "metrics"
    r = await api.post(APISERVICES, json=bad)
    assert r.status_code == 422
    assert 'must be `spec.version+"."+spec.group`' in r.json()["message"]


# ------------------------------------------------------------------------------- storage


async def test_volume_and_claim_are_born_pending(api: httpx.AsyncClient) -> None:
    pv = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "pv-1"},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/data"},
        },
        "status": {"phase": "Bound"},
    }
    r = await api.post(PVS, json=pv)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"]["phase"] == "Pending"
    stamp = created["status"]["lastPhaseTransitionTime"]
    assert created["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert created["spec"]["volumeMode"] == "Filesystem"
    assert created["spec"]["hostPath"] == {"path": "/data", "type": ""}
    # a status write that changes the phase gets a fresh transition time
    created["status"] = {"phase": "Available", "lastPhaseTransitionTime": stamp}
    r = await api.put(f"{PVS}/pv-1/status", json=created)
    assert r.status_code == 200, r.text
    assert r.json()["status"]["phase"] == "Available"
    assert r.json()["status"]["lastPhaseTransitionTime"] >= stamp
    r = await api.patch(
        f"{PVS}/pv-1",
        json={"spec": {"hostPath": {"path": "/elsewhere"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 422
    assert "spec.persistentvolumesource is immutable" in r.json()["message"]

    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    r = await api.post(PVCS, json=claim)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == {"phase": "Pending"}
    del claim["spec"]["resources"]
    claim["metadata"]["name"] = "no-size"
    r = await api.post(PVCS, json=claim)
    assert r.status_code == 422
    assert r.json()["message"] == (
        'PersistentVolumeClaim "no-size" is invalid: spec.resources[storage]: Required value'
    )


async def test_storage_class_defaults_and_immutability(api: httpx.AsyncClient) -> None:
    sc = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "fast"},
        "provisioner": "example.com/fast",
        "parameters": {"type": "ssd"},
    }
    created = (await api.post(SCS, json=sc)).json()
    assert (created["reclaimPolicy"], created["volumeBindingMode"]) == ("Delete", "Immediate")
    r = await api.patch(
        f"{SCS}/fast",
        json={"parameters": {"type": "hdd"}, "allowVolumeExpansion": True},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 422
    assert "parameters: Forbidden: updates to parameters are forbidden." in r.json()["message"]
    r = await api.patch(
        f"{SCS}/fast",
        json={"allowVolumeExpansion": True},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200 and r.json()["allowVolumeExpansion"] is True


# ------------------------------------------------------------------------------- /openapi/v2


async def test_openapi_v2_negotiation_and_etag(api: httpx.AsyncClient) -> None:
    r = await api.get("/openapi/v2", headers={"Accept": PROTOBUF_MEDIA_TYPES[0]})
    assert r.status_code == 200
    assert r.headers["content-type"] == PROTOBUF_CONTENT_TYPE
    assert r.content[:5] == b"\x0a\x032.0"  # field 1 (swagger) = "2.0"
    etag = r.headers["etag"]
    assert etag.startswith('"') and len(etag) == 130
    r = await api.get("/openapi/v2", headers={"Accept": "application/json"})
    assert r.headers["content-type"] == "application/json"
    assert r.headers["etag"] == etag
    doc = r.json()
    assert doc["swagger"] == "2.0"
    assert "io.k8s.api.core.v1.PersistentVolumeClaim" in doc["definitions"]
    r = await api.get("/openapi/v2", headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    r = await api.get("/openapi/v2", headers={"Accept": "text/html"})
    assert r.status_code == 406 and r.json()["reason"] == "NotAcceptable"
