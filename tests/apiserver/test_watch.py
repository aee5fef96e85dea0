"""Watch streams and selector lists over the watch cache (skiff.apiserver.watch, the LIST path of
skiff.apiserver.registry), against an in-process API server on 127.0.0.1.

Covers: each event decoded once however many filtered watchers read it; ``spec.nodeName`` watches
routed through the cache's index (a pod's event reaches only its node's watcher, a pod bound from
"" to a node is DELETED for the unscheduled watcher and ADDED for the node's); label selector
transitions with the previous content on DELETED; bookmarks of an indexed watcher advancing past
other nodes' events; 410 for an indexed watch older than the window; pod LISTs by nodeName served
from the index with paging, and selector lists that do not decode again; watchers of two versions
(conversion) and a Table watcher each getting their own rendering of a shared event; Secrets
encrypted at rest through a filtered watch.
Excludes: the cache's own mechanics (``test_watchcache.py``), throughput (``bench/``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from skiff.apiserver.auth import UserInfo
from skiff.apiserver.encryption import AesGcmTransformer
from skiff.apiserver.server import ApiServer, ApiServerConfig
from skiff.store import MemoryStore

CM = "/api/v1/namespaces/default/configmaps"
PODS = "/api/v1/namespaces/default/pods"
SECRETS = "/api/v1/namespaces/default/secrets"
TOKEN = "encrypted-test-token"
MERGE = {"Content-Type": "application/merge-patch+json"}


def cm(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}}


def pod(name: str, node: str = "", **labels: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox:1.36"}]}
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
    }


class Watch:
    """One streaming watch read in the background; ``until(n)`` waits for its first n events."""

    def __init__(self, api: httpx.AsyncClient, path: str, **params: str) -> None:
        self._api = api
        self._path = path
        self._params = {"watch": "true", **params}
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        try:
            async with self._api.stream("GET", self._path, params=self._params) as resp:
                assert resp.status_code == 200, await resp.aread()
                async for line in resp.aiter_lines():
                    if line:
                        self.events.append(json.loads(line))
                        self._changed.set()
        finally:
            self._changed.set()

    async def until(self, n: int) -> list[dict[str, Any]]:
        async with asyncio.timeout(10):  # hang guard only
            while len(self.events) < n:
                assert self._task is not None
                if self._task.done():
                    self._task.result()  # raises what ended the stream
                    raise AssertionError(f"stream ended after {self.events}")
                self._changed.clear()
                await self._changed.wait()
        return self.events[:n]

    def summary(self, n: int | None = None) -> list[tuple[str, str]]:
        events = self.events if n is None else self.events[:n]
        return [(e["type"], e["object"]["metadata"].get("name", "")) for e in events]

    async def __aenter__(self) -> Watch:
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def list_rv(api: httpx.AsyncClient, path: str) -> str:
    r = await api.get(path)
    assert r.status_code == 200
    rv: str = r.json()["metadata"]["resourceVersion"]
    return rv


async def test_each_event_is_decoded_once_for_all_filtered_watchers(
    api: httpx.AsyncClient, apiserver: ApiServer
) -> None:
    rv = await list_rv(api, CM)
    async with contextlib.AsyncExitStack() as stack:
        watches = [
            await stack.enter_async_context(
                Watch(api, CM, resourceVersion=rv, labelSelector="app=x")
            )
            for _ in range(20)
        ]
        before = apiserver.cache.statistics().decodes
        assert (await api.post(CM, json=cm("d", app="x"))).status_code == 201
        r = await api.patch(f"{CM}/d", content=b'{"data":{"k":"v"}}', headers=MERGE)
        assert r.status_code == 200
        for w in watches:
            await w.until(2)
            assert w.summary() == [("ADDED", "d"), ("MODIFIED", "d")]
        # two versions, one decode each: not one per watcher, nor one per previous value
        assert apiserver.cache.statistics().decodes - before == 2
        lines = {json.dumps(w.events[1], sort_keys=True) for w in watches}
        assert len(lines) == 1
        assert watches[0].events[1]["object"]["data"] == {"k": "v"}
        assert (
            watches[0].events[1]["object"]["metadata"]["resourceVersion"]
            == (r.json()["metadata"]["resourceVersion"])
        )


async def test_node_name_watches_get_only_their_nodes_pods(
    api: httpx.AsyncClient, apiserver: ApiServer
) -> None:
    rv = await list_rv(api, PODS)
    async with (
        Watch(api, PODS, resourceVersion=rv, fieldSelector="spec.nodeName=node-a") as on_a,
        Watch(api, PODS, resourceVersion=rv, fieldSelector="spec.nodeName=node-b") as on_b,
        Watch(api, PODS, resourceVersion=rv, fieldSelector="spec.nodeName=") as unscheduled,
        # all namespaces, as an agent watches its node's pods
        Watch(
            api, "/api/v1/pods", resourceVersion=rv, fieldSelector="spec.nodeName=node-a"
        ) as everywhere_a,
    ):
        for body in (pod("p-a", "node-a"), pod("p-b", "node-b"), pod("p-u")):
            assert (await api.post(PODS, json=body)).status_code == 201
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": "p-u"},
            "target": {"apiVersion": "v1", "kind": "Node", "name": "node-a"},
        }
        r = await api.post(f"{PODS}/p-u/binding", json=binding)
        assert r.status_code == 201, r.text
        bound_rv = (await api.get(f"{PODS}/p-u")).json()["metadata"]["resourceVersion"]
        # fences: each watcher's last event proves it would have seen anything sent before it
        for body in (pod("fence-a", "node-a"), pod("fence-b", "node-b"), pod("fence-u")):
            assert (await api.post(PODS, json=body)).status_code == 201
        await on_a.until(3)
        await on_b.until(2)
        await unscheduled.until(3)
        await everywhere_a.until(3)
        assert on_a.summary() == [("ADDED", "p-a"), ("ADDED", "p-u"), ("ADDED", "fence-a")]
        assert everywhere_a.summary() == on_a.summary()
        assert on_b.summary() == [("ADDED", "p-b"), ("ADDED", "fence-b")]
        assert unscheduled.summary() == [
            ("ADDED", "p-u"),
            ("DELETED", "p-u"),
            ("ADDED", "fence-u"),
        ]
        # the node's watcher sees the bound pod; the unscheduled one its last unbound state,
        # at the binding's resourceVersion (Kubernetes' cacher does the same)
        assert on_a.events[1]["object"]["spec"]["nodeName"] == "node-a"
        left = unscheduled.events[1]["object"]
        assert "nodeName" not in left["spec"]
        assert left["metadata"]["resourceVersion"] == bound_rv
        assert apiserver.cache.statistics().watch.indexed_subscribers == 4


async def test_label_selector_transitions_carry_the_previous_content(
    api: httpx.AsyncClient,
) -> None:
    rv = await list_rv(api, CM)
    async with Watch(api, CM, resourceVersion=rv, labelSelector="app=x") as w:
        assert (await api.post(CM, json=cm("sel", app="x"))).status_code == 201
        await api.patch(f"{CM}/sel", content=b'{"data":{"a":"1"}}', headers=MERGE)
        moved = await api.patch(
            f"{CM}/sel", content=b'{"metadata":{"labels":{"app":"y"}}}', headers=MERGE
        )
        await api.patch(f"{CM}/sel", content=b'{"data":{"a":"2"}}', headers=MERGE)  # unseen
        await api.patch(f"{CM}/sel", content=b'{"metadata":{"labels":{"app":"x"}}}', headers=MERGE)
        await api.delete(f"{CM}/sel")
        events = await w.until(5)
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED", "ADDED", "DELETED"]
    gone = events[2]["object"]
    assert gone["metadata"]["labels"] == {"app": "x"}
    assert gone["metadata"]["resourceVersion"] == moved.json()["metadata"]["resourceVersion"]
    assert events[3]["object"]["data"] == {"a": "2"}
    assert events[4]["object"]["metadata"]["labels"] == {"app": "x"}


async def test_indexed_watch_bookmarks_pass_other_nodes_events(api: httpx.AsyncClient) -> None:
    rv = await list_rv(api, PODS)
    async with Watch(
        api,
        PODS,
        resourceVersion=rv,
        fieldSelector="spec.nodeName=node-a",
        allowWatchBookmarks="true",
    ) as w:
        created = (await api.post(PODS, json=pod("elsewhere", "node-b"))).json()
        target = int(created["metadata"]["resourceVersion"])
        async with asyncio.timeout(10):
            while True:
                await w.until(len(w.events) + 1)
                if int(w.events[-1]["object"]["metadata"]["resourceVersion"]) >= target:
                    break
    assert {e["type"] for e in w.events} == {"BOOKMARK"}
    assert w.events[-1]["object"]["kind"] == "Pod"


async def test_indexed_watch_older_than_the_window_is_410(
    api: httpx.AsyncClient, apiserver: ApiServer
) -> None:
    await api.post(PODS, json=pod("old", "node-a"))
    await apiserver.cache.compact(apiserver.cache.current_revision())
    async with Watch(api, PODS, resourceVersion="1", fieldSelector="spec.nodeName=node-a") as w:
        (event,) = await w.until(1)
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"


async def test_pod_lists_by_node_come_from_the_index(
    api: httpx.AsyncClient, apiserver: ApiServer
) -> None:
    for i in range(5):
        body = pod(f"p{i}", "node-a" if i % 2 == 0 else "node-b", parity=str(i % 2))
        assert (await api.post(PODS, json=body)).status_code == 201
    r = (await api.get(PODS, params={"fieldSelector": "spec.nodeName=node-a"})).json()
    assert [p["metadata"]["name"] for p in r["items"]] == ["p0", "p2", "p4"]
    assert apiserver.cache.statistics().indexes == 1
    # paging through the index, continue tokens at the same revision
    seen: list[str] = []
    params: dict[str, Any] = {"fieldSelector": "spec.nodeName=node-a", "limit": 2}
    while True:
        page = (await api.get(PODS, params=params)).json()
        assert "remainingItemCount" not in page["metadata"]  # not counted with selectors
        seen += [p["metadata"]["name"] for p in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
        params["continue"] = token
    assert seen == ["p0", "p2", "p4"]
    # repeated selector lists read the labels and fields computed once per version
    before = apiserver.cache.statistics().decodes
    for _ in range(3):
        odd = (await api.get(PODS, params={"labelSelector": "parity=1"})).json()
        assert [p["metadata"]["name"] for p in odd["items"]] == ["p1", "p3"]
        both = (
            await api.get(
                PODS, params={"labelSelector": "parity=0", "fieldSelector": "spec.nodeName=node-b"}
            )
        ).json()
        assert both["items"] == []
    assert apiserver.cache.statistics().decodes == before
    # the items are the caller's own: changing one changes nothing in the cache
    odd["items"][0]["metadata"]["labels"]["parity"] = "changed"
    again = (await api.get(PODS, params={"labelSelector": "parity=1"})).json()
    assert [p["metadata"]["name"] for p in again["items"]] == ["p1", "p3"]


async def test_watchers_of_two_versions_and_a_table_each_get_their_rendering(
    api: httpx.AsyncClient,
) -> None:
    v1 = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers"
    v2 = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"
    rv = await list_rv(api, v2)
    hpa = {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "w"},
            "maxReplicas": 5,
            "targetCPUUtilizationPercentage": 60,
        },
    }
    table = "application/json;as=Table;v=v1;g=meta.k8s.io"
    async with contextlib.AsyncExitStack() as stack:
        old = [await stack.enter_async_context(Watch(api, v1, resourceVersion=rv)) for _ in "ab"]
        new = [await stack.enter_async_context(Watch(api, v2, resourceVersion=rv)) for _ in "ab"]
        tables: list[dict[str, Any]] = []

        async def read_table() -> None:
            params = {"watch": "true", "resourceVersion": rv}
            headers = {"Accept": table}
            async with api.stream("GET", v1, params=params, headers=headers) as resp:
                async for line in resp.aiter_lines():
                    if line:
                        tables.append(json.loads(line))
                        return

        reader = asyncio.create_task(read_table())
        try:
            assert (await api.post(v1, json=hpa)).status_code == 201
            async with asyncio.timeout(10):
                await reader
        finally:
            reader.cancel()
        for w in old:
            (event,) = await w.until(1)
            assert event["object"]["apiVersion"] == "autoscaling/v1"
            assert event["object"]["spec"]["targetCPUUtilizationPercentage"] == 60
        for w in new:
            (event,) = await w.until(1)
            assert event["object"]["apiVersion"] == "autoscaling/v2"
            assert "targetCPUUtilizationPercentage" not in event["object"]["spec"]
    assert tables[0]["type"] == "ADDED"
    assert tables[0]["object"]["kind"] == "Table"
    assert tables[0]["object"]["rows"][0]["object"]["metadata"]["name"] == "h"


@pytest.fixture
async def encrypted_api() -> AsyncIterator[httpx.AsyncClient]:
    store = MemoryStore()
    server = ApiServer(
        store,
        ApiServerConfig(
            port=0,
            tokens={TOKEN: UserInfo("admin", ("system:masters",))},
            transformer=AesGcmTransformer(os.urandom(32)),
        ),
    )
    started = asyncio.Event()
    task = asyncio.create_task(server.run(started=started))
    try:
        await asyncio.wait_for(started.wait(), 15)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{server.bound_port}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=20,
        ) as client:
            yield client
    finally:
        server.stop()
        try:
            await asyncio.wait_for(task, 15)
        finally:
            await store.close()


async def test_filtered_watch_of_encrypted_secrets(encrypted_api: httpx.AsyncClient) -> None:
    api = encrypted_api
    rv = await list_rv(api, SECRETS)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "labels": {"app": "x"}},
        "data": {"k": base64.b64encode(b"value").decode()},
    }
    async with (
        Watch(api, SECRETS, resourceVersion=rv, labelSelector="app=x") as filtered,
        Watch(api, SECRETS, resourceVersion=rv) as everything,
    ):
        assert (await api.post(SECRETS, json=secret)).status_code == 201
        for w in (filtered, everything):
            (event,) = await w.until(1)
            assert event["type"] == "ADDED"
            assert base64.b64decode(event["object"]["data"]["k"]) == b"value"
    r = (await api.get(SECRETS, params={"labelSelector": "app=x"})).json()
    assert [s["metadata"]["name"] for s in r["items"]] == ["s"]
