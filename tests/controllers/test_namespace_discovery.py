"""The namespace controller and the garbage collector following kinds from discovery, against an
in-process API server and controller-manager.

Covers: a namespace holding custom objects of a CRD created after the controller-manager started
is emptied and removed; a kind discovery lists but the server answers 404 for (a CRD deleted
meanwhile) does not hold the namespace; group/versions discovery could not read keep the namespace
Terminating with ``NamespaceDeletionDiscoveryFailure`` (and a discovery failing altogether still
empties the built-in kinds) until discovery succeeds; a kind whose deletion fails is reported in
``NamespaceDeletionContentFailure`` and retried; the garbage collector starting an informer for a
new CRD's kind within seconds (and collecting through it), moving it to a newly preferred version,
and stopping it once the CRD is gone.
Excludes: kubectl's cascade flags and APIServices (tests/integration/test_crd_gc.py).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from skiff.api.resources import ResourceInfo
from skiff.client import Client, Discovery, InternalError, ServiceUnavailable
from skiff.controllers import ControllerManager, namespace
from skiff.controllers.garbagecollector import GarbageCollector
from skiff.testing.cluster import wait_for_service_account
from skiff.testing.wait import eventually

GROUP = "nsd.skiff.test"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def _crd(plural: str, kind: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


async def _create(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await api.post(path, json=body)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def _establish(api: httpx.AsyncClient, plural: str, kind: str) -> None:
    await _create(api, CRDS, _crd(plural, kind))

    async def served() -> bool:
        r = await api.get(f"/apis/{GROUP}/v1/{plural}")
        return r.status_code == 200

    await eventually(served, within=10, interval=0.02)


async def _namespace(api: httpx.AsyncClient, client: Client, name: str) -> None:
    await _create(
        api,
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
    )
    await wait_for_service_account(client, name)


async def _gone(api: httpx.AsyncClient, path: str, within: float = 10) -> None:
    async def check() -> bool:
        return (await api.get(path)).status_code == 404

    await eventually(check, within=within, interval=0.02, what=f"{path} gone")


async def _conditions(api: httpx.AsyncClient, name: str) -> dict[str, dict[str, Any]]:
    got = (await api.get(f"/api/v1/namespaces/{name}")).json()
    return {c["type"]: c for c in (got.get("status") or {}).get("conditions") or []}


def _cm(name: str, **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta}}


@pytest.mark.usefixtures("controller_manager")
async def test_custom_objects_go_with_their_namespace(
    api: httpx.AsyncClient, client: Client
) -> None:
    await _establish(api, "gears", "Gear")
    await _namespace(api, client, "geared")
    gear = {"apiVersion": f"{GROUP}/v1", "kind": "Gear", "metadata": {"name": "g"}}
    await _create(api, f"/apis/{GROUP}/v1/namespaces/geared/gears", gear)
    assert (await api.delete("/api/v1/namespaces/geared")).status_code == 202
    await _gone(api, "/api/v1/namespaces/geared")
    assert (await api.get(f"/apis/{GROUP}/v1/namespaces/geared/gears")).json()["items"] == []


@pytest.mark.usefixtures("controller_manager")
async def test_discovery_and_content_failures_are_reported_and_retried(
    api: httpx.AsyncClient, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = namespace.server_preferred_resources
    ghost = ResourceInfo(
        group="gone.skiff.test", version="v1", kind="Ghost", plural="ghosts", namespaced=True
    )
    mode = {"discovery": "partial", "content": "fail"}

    async def discovery(c: Client) -> Discovery:
        if mode["discovery"] == "down":
            raise ServiceUnavailable(
                {"code": 503, "message": "the server is currently unable to handle the request"}
            )
        found = await real(c)
        failed = {"stale.skiff.test/v1": "stale"} if mode["discovery"] == "partial" else {}
        # a kind listed but answered with 404 (its CRD deleted meanwhile) holds nothing
        return Discovery((*found.resources, ghost), failed)

    original = Client.delete_collection

    async def delete_collection(self: Client, resource: Any, **kwargs: Any) -> dict[str, Any]:
        if mode["content"] == "fail" and getattr(resource, "plural", "") == "configmaps":
            raise InternalError(
                {"code": 500, "reason": "InternalError", "message": "etcd is on fire"}
            )
        return await original(self, resource, **kwargs)

    monkeypatch.setattr(namespace, "server_preferred_resources", discovery)
    monkeypatch.setattr(Client, "delete_collection", delete_collection)
    await _namespace(api, client, "troubled")
    await _create(api, "/api/v1/namespaces/troubled/configmaps", _cm("c"))
    await _create(
        api,
        "/api/v1/namespaces/troubled/secrets",
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}},
    )
    assert (await api.delete("/api/v1/namespaces/troubled")).status_code == 202

    async def reported() -> Any:
        conds = await _conditions(api, "troubled")
        return (
            conds.get("NamespaceDeletionDiscoveryFailure", {}).get("status") == "True"
            and conds.get("NamespaceDeletionContentFailure", {}).get("status") == "True"
        ) or conds

    await eventually(reported, within=10, interval=0.02)
    conds = await _conditions(api, "troubled")
    discovery_failure = conds["NamespaceDeletionDiscoveryFailure"]
    assert discovery_failure["reason"] == "DiscoveryFailed"
    assert discovery_failure["message"] == (
        "Discovery failed for some groups, 1 failing: unable to retrieve the complete list of "
        "server APIs: stale.skiff.test/v1: stale"
    )
    content = conds["NamespaceDeletionContentFailure"]
    assert content["reason"] == "ContentDeletionFailed"
    assert content["message"].startswith(
        "Failed to delete all resource types, 1 remaining: configmaps: "
    )
    assert "etcd is on fire" in content["message"]
    # the kind that failed is not counted (as upstream: its listing is skipped) and stays
    assert (await api.get("/api/v1/namespaces/troubled/configmaps/c")).status_code == 200
    # the other kinds were emptied regardless
    assert (await api.get("/api/v1/namespaces/troubled/secrets/s")).status_code == 404

    mode.update(discovery="down", content="ok")  # the built-in kinds are still emptied

    async def down_reported() -> Any:
        conds = await _conditions(api, "troubled")
        failure = conds.get("NamespaceDeletionDiscoveryFailure", {})
        return failure.get("message", "").startswith("discovery failed: ") or conds

    await eventually(down_reported, within=10, interval=0.02)
    await _gone(api, "/api/v1/namespaces/troubled/configmaps/c")
    assert (await api.get("/api/v1/namespaces/troubled")).json()["status"]["phase"] == "Terminating"

    mode.update(discovery="ok")
    await _gone(api, "/api/v1/namespaces/troubled")


@pytest.fixture
async def gc_manager(url: str, token: str) -> Any:
    from skiff.testing.cluster import running_controller_manager

    async with running_controller_manager(url, token, controllers=["garbagecollector"]) as m:
        yield m


async def test_garbage_collector_follows_crds(
    api: httpx.AsyncClient, gc_manager: ControllerManager
) -> None:
    [gc] = [c for c in gc_manager.controllers if isinstance(c, GarbageCollector)]
    key = (GROUP, "sprockets")
    assert key not in gc.informers
    await _establish(api, "sprockets", "Sprocket")
    await eventually(lambda: key in gc.informers, within=5, what="a sprockets informer")
    owner = await _create(api, "/api/v1/namespaces/default/configmaps", _cm("owner"))
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner["metadata"]["uid"],
    }
    sprocket = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Sprocket",
        "metadata": {"name": "s", "ownerReferences": [ref]},
    }
    path = f"/apis/{GROUP}/v1/namespaces/default/sprockets"
    await _create(api, path, sprocket)
    await api.delete("/api/v1/namespaces/default/configmaps/owner")
    await _gone(api, f"{path}/s")
    # a newly preferred version (v2 served beside v1) restarts the kind's informer on it
    crd = (await api.get(f"{CRDS}/sprockets.{GROUP}")).json()
    v2 = {**crd["spec"]["versions"][0], "name": "v2", "storage": False}
    crd["spec"]["versions"].append(v2)
    r = await api.put(f"{CRDS}/sprockets.{GROUP}", json=crd)
    assert r.status_code == 200, r.text
    await eventually(lambda: gc.infos[key].version == "v2", within=10, what="v2 followed")
    task = gc._dynamic[key]
    r = await api.delete(f"{CRDS}/sprockets.{GROUP}")
    assert r.status_code == 202, r.text  # its objects go first (customresourcecleanup)
    await eventually(lambda: key not in gc.informers, within=10, what="the informer stopped")
    await eventually(task.done, within=5)
    assert (GROUP, "Sprocket") not in gc._by_kind
