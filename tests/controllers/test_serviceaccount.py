"""Default ServiceAccounts (skiff.controllers.serviceaccount) and the ServiceAccount admission
plugin that depends on them, against an in-process API server.

Covers: a pod in a brand-new namespace is refused (403, Kubernetes' message) while the namespace
has no ``default`` account, and admitted once the controller created it; every namespace gets
its ``default`` account, which comes back when deleted. Excludes: token volumes (not built).
"""

from __future__ import annotations

import asyncio

import httpx

from skiff.client import Client
from skiff.testing.cluster import running_controller_manager, wait_for_service_account


def _pod(name: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


async def test_pod_refused_until_the_default_account_exists(
    api: httpx.AsyncClient, client: Client, url: str, token: str
) -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fresh"}}
    assert (await api.post("/api/v1/namespaces", json=ns)).status_code == 201
    r = await api.post("/api/v1/namespaces/fresh/pods", json=_pod("early"))
    assert r.status_code == 403, r.text
    assert r.json()["reason"] == "Forbidden"
    assert r.json()["message"] == (
        'pods "early" is forbidden: error looking up service account fresh/default: '
        'serviceaccount "default" not found'
    )
    async with running_controller_manager(url, token, controllers=["serviceaccount"]):
        await wait_for_service_account(client, "fresh")
        r = await api.post("/api/v1/namespaces/fresh/pods", json=_pod("later"))
        assert r.status_code == 201, r.text
        assert r.json()["spec"]["serviceAccountName"] == "default"


async def test_every_namespace_gets_one_and_it_comes_back(
    api: httpx.AsyncClient, client: Client, url: str, token: str
) -> None:
    async with running_controller_manager(url, token, controllers=["serviceaccount"]):
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            await wait_for_service_account(client, name)
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
        assert (await api.post("/api/v1/namespaces", json=ns)).status_code == 201
        await wait_for_service_account(client, "team")
        before = (await api.get("/api/v1/namespaces/team/serviceaccounts/default")).json()
        assert (
            await api.delete("/api/v1/namespaces/team/serviceaccounts/default")
        ).status_code == 200
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            r = await api.get("/api/v1/namespaces/team/serviceaccounts/default")
            if r.status_code == 200 and r.json()["metadata"]["uid"] != before["metadata"]["uid"]:
                break
            assert asyncio.get_running_loop().time() < deadline, "default account not recreated"
            await asyncio.sleep(0.02)
