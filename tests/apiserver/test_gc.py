"""Garbage collection by ownerReferences: background, foreground, orphan, several owners."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

CM = "/api/v1/namespaces/default/configmaps"


async def _make(api: httpx.AsyncClient, name: str, *owners: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    if owners:
        body["metadata"]["ownerReferences"] = [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "name": o["metadata"]["name"],
                "uid": o["metadata"]["uid"],
                "blockOwnerDeletion": True,
            }
            for o in owners
        ]
    r = await api.post(CM, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _gone(api: httpx.AsyncClient, name: str, *, within: float = 5.0) -> bool:
    for _ in range(int(within / 0.05)):
        if (await api.get(f"{CM}/{name}")).status_code == 404:
            return True
        await asyncio.sleep(0.05)
    return False


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
    for _ in range(100):
        refs = (await api.get(f"{CM}/shared")).json()["metadata"].get("ownerReferences", [])
        if [r["name"] for r in refs] == ["b"]:
            break
        await asyncio.sleep(0.05)
    assert [r["name"] for r in refs] == ["b"]


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
    dep = await _make(api, "f-dep", owner)
    # the dependent holds a finalizer, so the owner must wait for it
    await api.patch(
        f"{CM}/f-dep",
        json={"metadata": {"finalizers": ["example.com/hold"]}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    r = await api.request("DELETE", f"{CM}/f-owner", json={"propagationPolicy": "Foreground"})
    assert r.status_code == 202
    for _ in range(100):  # the collector deletes the dependent first
        if (await api.get(f"{CM}/f-dep")).json()["metadata"].get("deletionTimestamp"):
            break
        await asyncio.sleep(0.05)
    assert (await api.get(f"{CM}/f-dep")).json()["metadata"]["deletionTimestamp"]
    held = (await api.get(f"{CM}/f-owner")).json()
    assert held["metadata"]["deletionTimestamp"]  # still waiting for its dependent
    await api.patch(
        f"{CM}/f-dep",
        json={"metadata": {"finalizers": None}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert await _gone(api, "f-dep") and await _gone(api, "f-owner")
    assert dep["metadata"]["uid"]


async def test_missing_and_unknown_owners(api: httpx.AsyncClient) -> None:
    ghost = {"metadata": {"name": "ghost", "uid": "00000000-0000-0000-0000-000000000000"}}
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
    await asyncio.sleep(0.5)
    assert (await api.get(f"{CM}/custom-owned")).status_code == 200  # unknown kinds are not judged


async def test_label_named_uid_does_not_confuse_the_index(api: httpx.AsyncClient) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "tricky", "labels": {"uid": "not-the-uid"}},
        "data": {"uid": "also-not"},
    }
    owner = (await api.post(CM, json=body)).json()
    await _make(api, "tricky-dep", owner)
    await asyncio.sleep(0.3)
    assert (await api.get(f"{CM}/tricky-dep")).status_code == 200  # its owner is known
    await api.delete(f"{CM}/tricky")
    assert await _gone(api, "tricky-dep")
