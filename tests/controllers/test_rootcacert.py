"""The root CA publisher (skiff.controllers.rootcacert) against an in-process API server.

Covers: every namespace, old and new, gets ``kube-root-ca.crt`` with ``ca.crt`` = the cluster CA;
the ConfigMap is put back when its data is changed and recreated when deleted. Excludes: mounting
it into pods (the agent's job).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx

from skiff.controllers import ControllerOptions
from skiff.testing.cluster import running_controller_manager

CA = "-----BEGIN CERTIFICATE-----\nMIIB-test\n-----END CERTIFICATE-----\n"
PATH = "/api/v1/namespaces/{}/configmaps/kube-root-ca.crt"


async def _until(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return False


async def _published(api: httpx.AsyncClient, ns: str) -> bool:
    async def check() -> bool:
        r = await api.get(PATH.format(ns))
        return r.status_code == 200 and r.json().get("data") == {"ca.crt": CA}

    return await _until(check)


async def test_published_everywhere_and_kept(api: httpx.AsyncClient, url: str, token: str) -> None:
    options = ControllerOptions(root_ca=CA)
    async with running_controller_manager(
        url, token, controllers=["root-ca-cert-publisher"], options=options
    ):
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            assert await _published(api, name), name
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "newcomer"}}
        assert (await api.post("/api/v1/namespaces", json=ns)).status_code == 201
        assert await _published(api, "newcomer")
        cm = (await api.get(PATH.format("newcomer"))).json()
        assert cm["metadata"]["annotations"]["kubernetes.io/description"]
        r = await api.patch(
            PATH.format("newcomer"),
            json={"data": {"ca.crt": "tampered", "extra": "x"}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert r.status_code == 200
        assert await _published(api, "newcomer")  # changed back, extra key gone
        assert (await api.delete(PATH.format("newcomer"))).status_code == 200
        assert await _published(api, "newcomer")  # recreated
