"""The garbage collector (skiff.controllers.garbagecollector) against an in-process API server.

Covers: background, foreground (blocking and non-blocking dependents) and orphan propagation,
several owners (only the dangling reference goes), owners missing from the start, owners of kinds
this cluster does not serve (left alone), a cluster-scoped owner across kinds, a dependent created
right after its owner (never collected by mistake). Every test runs twice: with the informers
as they are, and with informers that keep only ``metadata`` (what a PartialObjectMetadata watch
delivers), which shows the collector reads nothing else and the switch to metadata-only
informers in ``skiff.controllers.base.metadata_informer`` is safe.
Excludes: the metadata-only wire format itself (the API server's and client's tests).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx
import pytest

from skiff.api.resources import ResourceInfo
from skiff.client import IndexFunc, Informer, SharedInformerFactory, WatchEvent
from skiff.controllers import ControllerManager, base, garbagecollector
from skiff.testing.cluster import running_controller_manager

pytestmark = pytest.mark.usefixtures("controller_manager")


def _metadata_only(obj: Any) -> dict[str, Any]:
    return {
        "apiVersion": "meta.k8s.io/v1",
        "kind": "PartialObjectMetadata",
        "metadata": obj.get("metadata") or {},
    }


@pytest.fixture(params=["full-objects", "metadata-only"])
async def controller_manager(
    request: pytest.FixtureRequest, url: str, token: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ControllerManager]:
    """The garbage collector alone, on full-object or metadata-only informers."""
    if request.param == "metadata-only":
        original = base.metadata_informer

        def stripped(
            factory: SharedInformerFactory,
            info: ResourceInfo,
            *,
            indexers: Mapping[str, IndexFunc] | None = None,
        ) -> Informer:
            informer = original(factory, info, indexers=indexers)
            replace, apply = informer.replace, informer.apply

            def replace_meta(items: list[dict[str, Any]], rv: str) -> None:
                replace([_metadata_only(o) for o in items], rv)

            def apply_meta(event: WatchEvent) -> None:
                apply(WatchEvent(event.type, _metadata_only(event.object)))

            informer.replace = replace_meta  # type: ignore[method-assign,assignment]
            informer.apply = apply_meta  # type: ignore[method-assign]
            return informer

        monkeypatch.setattr(garbagecollector, "metadata_informer", stripped)
    async with running_controller_manager(url, token, controllers=["garbagecollector"]) as m:
        yield m


CM = "/api/v1/namespaces/default/configmaps"
GHOST_UID = "00000000-0000-0000-0000-000000000000"


async def _until(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return False


def _ref(owner: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": owner.get("apiVersion", "v1"),
        "kind": owner.get("kind", "ConfigMap"),
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        **extra,
    }


async def _make(api: httpx.AsyncClient, name: str, *owners: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    if owners:
        body["metadata"]["ownerReferences"] = [_ref(o, blockOwnerDeletion=True) for o in owners]
    r = await api.post(CM, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _gone(api: httpx.AsyncClient, name: str, *, within: float = 10.0) -> bool:
    async def check() -> bool:
        return (await api.get(f"{CM}/{name}")).status_code == 404

    return await _until(check, within=within)


async def _collector_caught_up(api: httpx.AsyncClient, name: str) -> None:
    """A negative check's proof that the collector ran: an object with a missing owner, created
    last, is collected (so everything enqueued before it was looked at)."""
    ghost = {"metadata": {"name": "ghost", "uid": GHOST_UID}}
    await _make(api, name, ghost)
    assert await _gone(api, name)


async def test_background_deletes_dependents(api: httpx.AsyncClient) -> None:
    owner = await _make(api, "owner")
    await _make(api, "dep1", owner)
    await _make(api, "dep2", owner)
    assert (await api.delete(f"{CM}/owner")).status_code == 200
    assert await _gone(api, "dep1") and await _gone(api, "dep2")


async def test_dependent_with_another_live_owner_keeps_living(api: httpx.AsyncClient) -> None:
    a, b = await _make(api, "a"), await _make(api, "b")
    await _make(api, "shared", a, b)
    await api.delete(f"{CM}/a")

    async def only_b() -> bool:
        refs = (await api.get(f"{CM}/shared")).json()["metadata"].get("ownerReferences", [])
        return [r["name"] for r in refs] == ["b"]

    assert await _until(only_b)


async def test_orphan_keeps_dependents_without_the_reference(api: httpx.AsyncClient) -> None:
    owner = await _make(api, "o-owner")
    await _make(api, "o-dep", owner)
    r = await api.request("DELETE", f"{CM}/o-owner", json={"propagationPolicy": "Orphan"})
    assert r.status_code == 202 and "orphan" in r.json()["metadata"]["finalizers"]
    assert await _gone(api, "o-owner")
    dep = (await api.get(f"{CM}/o-dep")).json()
    assert "ownerReferences" not in dep["metadata"]


async def test_foreground_deletes_dependents_first(api: httpx.AsyncClient) -> None:
    owner = await _make(api, "f-owner")
    await _make(api, "f-dep", owner)
    # the dependent holds a finalizer, so the owner must wait for it
    await api.patch(
        f"{CM}/f-dep",
        json={"metadata": {"finalizers": ["example.com/hold"]}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    r = await api.request("DELETE", f"{CM}/f-owner", json={"propagationPolicy": "Foreground"})
    assert r.status_code == 202

    async def dep_deleting() -> bool:
        return bool((await api.get(f"{CM}/f-dep")).json()["metadata"].get("deletionTimestamp"))

    assert await _until(dep_deleting)  # the collector deletes the dependent first
    held = (await api.get(f"{CM}/f-owner")).json()
    assert held["metadata"]["deletionTimestamp"]  # still waiting for its dependent
    assert held["metadata"]["finalizers"] == ["foregroundDeletion"]
    await api.patch(
        f"{CM}/f-dep",
        json={"metadata": {"finalizers": None}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert await _gone(api, "f-dep") and await _gone(api, "f-owner")


async def test_foreground_does_not_wait_for_non_blocking_dependents(
    api: httpx.AsyncClient,
) -> None:
    owner = await _make(api, "nb-owner")
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "nb-dep",
            "finalizers": ["example.com/hold"],
            "ownerReferences": [_ref(owner, blockOwnerDeletion=False)],
        },
    }
    assert (await api.post(CM, json=body)).status_code == 201
    await api.request("DELETE", f"{CM}/nb-owner", json={"propagationPolicy": "Foreground"})
    assert await _gone(api, "nb-owner")  # gone although its dependent is still held
    dep = (await api.get(f"{CM}/nb-dep")).json()
    assert dep["metadata"]["deletionTimestamp"]
    await api.patch(
        f"{CM}/nb-dep",
        json={"metadata": {"finalizers": None}},
        headers={"Content-Type": "application/merge-patch+json"},
    )


async def test_missing_and_unknown_owners(api: httpx.AsyncClient) -> None:
    ghost = {"metadata": {"name": "ghost", "uid": GHOST_UID}}
    await _make(api, "orphaned", ghost)
    assert await _gone(api, "orphaned")
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "custom-owned",
            "ownerReferences": [
                {
                    "apiVersion": "example.com/v1",
                    "kind": "Widget",
                    "name": "w",
                    "uid": "11111111-1111-1111-1111-111111111111",
                }
            ],
        },
    }
    assert (await api.post(CM, json=body)).status_code == 201
    await _collector_caught_up(api, "sentinel-unknown")
    assert (await api.get(f"{CM}/custom-owned")).status_code == 200  # unknown kinds are not judged


async def test_dependent_created_right_after_its_owner_survives(api: httpx.AsyncClient) -> None:
    for i in range(5):
        owner = await _make(api, f"quick-{i}")
        await _make(api, f"quick-dep-{i}", owner)
    await _collector_caught_up(api, "sentinel-quick")
    for i in range(5):
        assert (await api.get(f"{CM}/quick-dep-{i}")).status_code == 200


async def test_cluster_scoped_owner_of_another_kind(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/api/v1/nodes", json={"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gc-n"}}
    )
    assert r.status_code == 201, r.text
    node = r.json()
    await _make(api, "node-owned", node)
    await _collector_caught_up(api, "sentinel-node")
    assert (await api.get(f"{CM}/node-owned")).status_code == 200
    assert (await api.delete("/api/v1/nodes/gc-n")).status_code == 200
    assert await _gone(api, "node-owned")


async def test_label_named_uid_does_not_confuse_the_index(api: httpx.AsyncClient) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "tricky", "labels": {"uid": "not-the-uid"}},
        "data": {"uid": "also-not"},
    }
    owner = (await api.post(CM, json=body)).json()
    await _make(api, "tricky-dep", owner)
    await _collector_caught_up(api, "sentinel-tricky")
    assert (await api.get(f"{CM}/tricky-dep")).status_code == 200  # its owner is known
    await api.delete(f"{CM}/tricky")
    assert await _gone(api, "tricky-dep")
