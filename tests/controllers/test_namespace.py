"""The namespace controller (skiff.controllers.namespace) against an in-process API server.

Covers: deleting a namespace deletes every kind in it and then the namespace; a pod bound to a
node keeps the namespace Terminating (rechecked, and reported in the namespace's deletion
conditions) until it is gone; another finalizer keeps the
namespace after the controller released ``kubernetes``; new content is refused while terminating.
Excludes: the /finalize subresource's own rules (tests/apiserver).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from skiff.client import Client
from skiff.testing.cluster import wait_for_service_account

pytestmark = pytest.mark.usefixtures("controller_manager")

MERGE = {"Content-Type": "application/merge-patch+json"}


async def _until(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return False


def _ns(name: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    if spec:
        body["spec"] = spec
    return body


async def _gone(api: httpx.AsyncClient, path: str) -> bool:
    async def check() -> bool:
        return (await api.get(path)).status_code == 404

    return await _until(check)


async def test_everything_in_it_goes_then_the_namespace(
    api: httpx.AsyncClient, client: Client
) -> None:
    assert (await api.post("/api/v1/namespaces", json=_ns("doomed"))).status_code == 201
    await wait_for_service_account(client, "doomed")
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inside"}}
    assert (await api.post("/api/v1/namespaces/doomed/configmaps", json=cm)).status_code == 201
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"}}
    r = await api.post("/apis/rbac.authorization.k8s.io/v1/namespaces/doomed/roles", json=role)
    assert r.status_code == 201, r.text
    r = await api.delete("/api/v1/namespaces/doomed")
    assert r.status_code == 202 and r.json()["status"]["phase"] == "Terminating"
    late = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}}
    r = await api.post("/api/v1/namespaces/doomed/configmaps", json=late)
    assert r.status_code in (403, 404)
    assert await _gone(api, "/api/v1/namespaces/doomed")
    for path in (
        "/api/v1/namespaces/doomed/configmaps/inside",
        "/api/v1/namespaces/doomed/serviceaccounts/default",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/doomed/roles/r",
    ):
        assert (await api.get(path)).status_code == 404, path


async def test_a_pod_waiting_for_its_agent_keeps_the_namespace_terminating(
    api: httpx.AsyncClient, client: Client
) -> None:
    assert (await api.post("/api/v1/namespaces", json=_ns("slow"))).status_code == 201
    await wait_for_service_account(client, "slow")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "bound"},
        "spec": {"nodeName": "node-a", "containers": [{"name": "c", "image": "busybox"}]},
    }
    r = await api.post("/api/v1/namespaces/slow/pods", json=pod)
    assert r.status_code == 201, r.text
    await api.delete("/api/v1/namespaces/slow")

    async def pod_deleting() -> bool:
        got = (await api.get("/api/v1/namespaces/slow/pods/bound")).json()
        return bool(got["metadata"].get("deletionTimestamp"))

    assert await _until(pod_deleting)  # graceful: it waits for its (absent) agent

    async def reported() -> bool:
        got = (await api.get("/api/v1/namespaces/slow")).json()
        conds = {c["type"]: c for c in got["status"].get("conditions") or []}
        return "NamespaceContentRemaining" in conds

    assert await _until(reported)  # what is left is reported, as kubectl describe shows it
    ns = (await api.get("/api/v1/namespaces/slow")).json()
    assert ns["status"]["phase"] == "Terminating"
    assert ns["spec"]["finalizers"] == ["kubernetes"]
    conds = {c["type"]: c for c in ns["status"]["conditions"]}
    remaining = conds["NamespaceContentRemaining"]
    assert (remaining["status"], remaining["reason"]) == ("True", "SomeResourcesRemain")
    assert remaining["message"] == "Some resources are remaining: pods has 1 resource instances"
    assert conds["NamespaceFinalizersRemaining"]["status"] == "False"
    assert conds["NamespaceDeletionContentFailure"]["reason"] == "ContentDeleted"
    # the agent confirms (a forced delete); the controller's recheck then finishes the namespace
    r = await api.request(
        "DELETE", "/api/v1/namespaces/slow/pods/bound", json={"gracePeriodSeconds": 0}
    )
    assert r.status_code == 200
    assert await _gone(api, "/api/v1/namespaces/slow")


async def test_other_finalizers_keep_the_namespace(api: httpx.AsyncClient) -> None:
    body = _ns("held", finalizers=["kubernetes", "example.com/hold"])
    assert (await api.post("/api/v1/namespaces", json=body)).status_code == 201
    await api.delete("/api/v1/namespaces/held")

    async def released() -> bool:
        got = (await api.get("/api/v1/namespaces/held")).json()
        return bool(got["spec"]["finalizers"] == ["example.com/hold"])

    assert await _until(released)
    held = (await api.get("/api/v1/namespaces/held")).json()
    held["spec"]["finalizers"] = []
    r = await api.put("/api/v1/namespaces/held/finalize", json=held)
    assert r.status_code == 200, r.text
    assert await _gone(api, "/api/v1/namespaces/held")
