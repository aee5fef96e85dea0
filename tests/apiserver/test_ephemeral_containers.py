"""``pods/ephemeralcontainers`` against an in-process API server: a strategic merge patch and a
PUT of the subresource add an ephemeral container (as ``kubectl debug`` does) and change nothing
else of the pod; existing ephemeral containers can be neither changed nor removed (422); a write
of the pod itself keeps them; the subresource is in discovery.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from skiff.apiserver.server import ApiServer
from skiff.testing.apiserver import in_process_apiserver

PODS = "/api/v1/namespaces/default/pods"
SMP = {"Content-Type": "application/strategic-merge-patch+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
async def apiserver() -> Any:
    async with in_process_apiserver(default_service_account=True) as server:
        yield server


def _debugger(name: str, image: str = "busybox:1.36") -> dict[str, Any]:
    return {"name": name, "image": image, "command": ["sh"], "stdin": True, "tty": True}


async def test_add_ephemeral_containers(api: httpx.AsyncClient, apiserver: ApiServer) -> None:
    del apiserver
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "web:1"}]},
    }
    assert (await api.post(PODS, json=pod)).status_code == 201
    patch = {"spec": {"ephemeralContainers": [_debugger("dbg")]}}
    r = await api.patch(f"{PODS}/web/ephemeralcontainers", json=patch, headers=SMP)
    assert r.status_code == 200, r.text
    got = r.json()
    assert [c["name"] for c in got["spec"]["ephemeralContainers"]] == ["dbg"]
    assert got["spec"]["containers"][0]["image"] == "web:1"
    # other fields of the body are ignored by the subresource
    body = got
    body["metadata"]["labels"] = {"app": "changed"}
    body["spec"]["ephemeralContainers"].append(_debugger("dbg2"))
    r = await api.put(f"{PODS}/web/ephemeralcontainers", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    assert [c["name"] for c in got["spec"]["ephemeralContainers"]] == ["dbg", "dbg2"]
    assert got["metadata"]["labels"] == {"app": "web"}
    managers = {(e["manager"], e.get("subresource", "")) for e in got["metadata"]["managedFields"]}
    assert any(sub == "ephemeralcontainers" for _, sub in managers)
    # the GET of the subresource is the pod
    r = await api.get(f"{PODS}/web/ephemeralcontainers")
    assert r.status_code == 200 and r.json()["kind"] == "Pod"

    # changing or removing one is refused
    body = got
    body["spec"]["ephemeralContainers"][0]["image"] = "other:1"
    r = await api.put(f"{PODS}/web/ephemeralcontainers", json=body)
    assert r.status_code == 422, r.text
    assert "may not be changed" in r.json()["message"]
    body["spec"]["ephemeralContainers"] = []
    r = await api.put(f"{PODS}/web/ephemeralcontainers", json=body)
    assert r.status_code == 422
    assert "may not be removed" in r.json()["message"]

    # a write of the pod itself keeps them (and cannot add any)
    r = await api.patch(
        f"{PODS}/web",
        json={"metadata": {"labels": {"x": "1"}}, "spec": {"ephemeralContainers": None}},
        headers=MERGE,
    )
    assert r.status_code == 200, r.text
    assert [c["name"] for c in r.json()["spec"]["ephemeralContainers"]] == ["dbg", "dbg2"]


async def test_discovery_lists_the_subresource(api: httpx.AsyncClient) -> None:
    names = {r["name"] for r in (await api.get("/api/v1")).json()["resources"]}
    assert "pods/ephemeralcontainers" in names
