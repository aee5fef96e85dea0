"""Client verbs and watches: CRUD, typed errors, paging, selectors, subresources and watches
against the real API server in-process over loopback; Retry-After retries (bounded, on an injected
clock), resume after a normal end of stream and 410 (as ERROR event and as HTTP 410) against the
fake API server, which injects those faults; request shapes (paths, query parameters, patch
content types, DeleteOptions) via httpx.MockTransport."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest

from skiff.client import (
    AlreadyExists,
    ApiError,
    Client,
    Config,
    Conflict,
    Expired,
    FrozenDict,
    Invalid,
    NotFound,
    Preconditions,
    ServerError,
    TooManyRequests,
    TransportError,
    UnsupportedMediaType,
    WatchEventType,
    error_from_status,
    freeze,
    resolve,
    resource_path,
)
from skiff.testing.fakeapi import FakeApiServer
from skiff.testing.wait import eventually

CM = resolve("configmaps")


class SleepRecorder:
    """A clock whose sleeps return at once and are recorded."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return 0.0

    def time(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def cm(name: str, ns: str = "default", **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": data,
    }


async def test_crud_roundtrip(client: Client) -> None:
    await client.create("namespaces", {"metadata": {"name": "ns1"}})
    created = await client.create(CM, cm("a", "ns1", k="v"))
    assert created["metadata"]["resourceVersion"]
    got = await client.get("configmaps", "a", namespace="ns1")
    assert got == created
    got["data"]["k"] = "w"
    updated = await client.update(CM, got)
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    patched = await client.patch(CM, "a", {"data": {"x": "y"}}, namespace="ns1")
    assert patched["data"] == {"k": "w", "x": "y"}
    listed = await client.list(CM, namespace="ns1")
    assert [o["metadata"]["name"] for o in listed["items"]] == ["a"]
    assert listed["metadata"]["resourceVersion"] == patched["metadata"]["resourceVersion"]
    deleted = await client.delete(CM, "a", namespace="ns1")
    # A ConfigMap is gone at once; the server answers Status Success naming it (as Kubernetes).
    assert deleted["kind"] == "Status" and deleted["status"] == "Success"
    assert deleted["details"]["name"] == "a"
    with pytest.raises(NotFound) as info:
        await client.get(CM, "a", namespace="ns1")
    assert info.value.code == 404 and info.value.reason == "NotFound"
    assert info.value.status["kind"] == "Status"


async def test_frozen_objects_are_accepted_as_bodies(client: Client) -> None:
    frozen = freeze(cm("f", k="v"))
    assert isinstance(frozen, FrozenDict)
    created = await client.create(CM, frozen)
    assert created["data"] == {"k": "v"}


async def test_errors_are_typed(client: Client) -> None:
    await client.create(CM, cm("a"))
    with pytest.raises(AlreadyExists):
        await client.create(CM, cm("a"))
    stale = await client.get(CM, "a")
    await client.patch(CM, "a", {"data": {"n": "1"}})
    with pytest.raises(Conflict) as conflict:
        await client.update(CM, stale)
    assert not isinstance(conflict.value, AlreadyExists)
    with pytest.raises(Invalid):
        await client.create(CM, {"metadata": {}})
    with pytest.raises(UnsupportedMediaType):
        await client.request(
            "PATCH",
            resource_path(CM, namespace="default", name="a"),
            body={},
            content_type="text/plain",
        )
    with pytest.raises(Conflict):
        await client.delete(CM, "a", preconditions=Preconditions(uid="not-the-uid"))
    with pytest.raises(NotFound):
        await client.get_raw("/nope")


async def test_list_all_pages_and_selectors(client: Client) -> None:
    for i in range(7):
        await client.create(CM, {"metadata": {"name": f"c{i}", "labels": {"i": str(i % 2)}}})
    page = await client.list(CM, limit=3)
    assert len(page["items"]) == 3 and page["metadata"]["continue"]
    everything = await client.list_all(CM, page_size=3)
    assert [o["metadata"]["name"] for o in everything["items"]] == [f"c{i}" for i in range(7)]
    assert "continue" not in everything["metadata"]
    odd = await client.list_all(CM, label_selector="i=1", page_size=2)
    assert len(odd["items"]) == 3
    named = await client.list(CM, field_selector="metadata.name=c4")
    assert [o["metadata"]["name"] for o in named["items"]] == ["c4"]
    removed = await client.delete_collection(CM, namespace="default", label_selector="i=0")
    assert len(removed["items"]) == 4
    assert len((await client.list(CM))["items"]) == 3


async def test_status_subresource_and_binding(client: Client) -> None:
    pods = resolve("pods")
    await client.create(
        pods,
        {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    )
    pod = await client.get(pods, "p")
    pod["status"] = {"phase": "Running"}
    pod["spec"]["nodeName"] = "ignored-by-status-update"
    updated = await client.update_status(pods, pod)
    assert updated["status"] == {"phase": "Running"}
    assert "nodeName" not in updated["spec"]
    patched = await client.patch_status(pods, "p", {"status": {"podIP": "10.0.0.1"}})
    assert patched["status"] == {"phase": "Running", "podIP": "10.0.0.1"}
    await client.create_subresource(
        pods,
        "p",
        "binding",
        {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": "p"},
            "target": {"kind": "Node", "name": "n1"},
        },
    )
    assert (await client.get(pods, "p"))["spec"]["nodeName"] == "n1"
    assert (await client.get_subresource(pods, "p", "status"))["status"]["phase"] == "Running"


async def test_retry_after_is_honoured_and_bounded(api: FakeApiServer) -> None:
    clock = SleepRecorder()
    async with Client(Config(server=api.url), clock=clock, max_retries=3, max_retry_wait=2) as c:
        api.state.fail_next(429, count=2, retry_after=1)
        await c.create(CM, cm("a"))
        assert clock.sleeps == [1, 1]
        api.state.fail_next(503, count=1, retry_after=30)
        await c.get(CM, "a")
        assert clock.sleeps[-1] == 2  # capped
        api.state.fail_next(429, count=4, retry_after=1)  # 1 try + 3 retries
        with pytest.raises(TooManyRequests):
            await c.get(CM, "a")
        assert len(clock.sleeps) == 3 + 3
        # 5xx without Retry-After is not retried
        api.state.fail_next(500)
        with pytest.raises(ServerError):
            await c.get(CM, "a")
        assert len(clock.sleeps) == 6


async def test_connection_failure_is_transport_error() -> None:
    async with Client(Config(server="http://127.0.0.1:9"), timeout=1) as c:
        with pytest.raises(TransportError):
            await c.get(CM, "x")


def test_error_mapping_by_reason_then_code() -> None:
    assert type(error_from_status({"reason": "AlreadyExists", "code": 409})) is AlreadyExists
    assert type(error_from_status({"reason": "Conflict", "code": 409})) is Conflict
    assert type(error_from_status({"code": 409})) is Conflict
    assert type(error_from_status({"reason": "Expired", "code": 410})) is Expired
    assert type(error_from_status({"reason": "Gone"})) is Expired
    assert type(error_from_status({}, 404)) is NotFound
    assert isinstance(error_from_status({}, 502), ServerError)
    assert type(error_from_status({}, 418)) is ApiError
    invalid = error_from_status(
        {"reason": "Invalid", "code": 422, "details": {"causes": [{"field": "spec.x"}]}}
    )
    assert isinstance(invalid, Invalid) and invalid.causes == [{"field": "spec.x"}]


async def test_request_shapes_via_mock_transport() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"kind": "X", "metadata": {"name": "n"}})

    config = Config(server="https://example.invalid", token="s3cret", namespace="team")
    async with Client(config, transport=httpx.MockTransport(handler)) as c:
        await c.get("deploy", "web")
        await c.patch(
            ("apps/v1", "Deployment"), "web", {"spec": {}}, patch_type="strategic", namespace="x"
        )
        await c.patch(
            "deployments.apps",
            "web",
            {"spec": {}},
            patch_type="apply",
            field_manager="me",
            force=True,
        )
        await c.patch("deployments", "web", [{"op": "remove", "path": "/a"}], patch_type="json")
        await c.delete(
            "pods",
            "p",
            grace_period_seconds=0,
            propagation_policy="Foreground",
            preconditions=Preconditions(uid="u", resource_version="5"),
        )
        await c.get("nodes", "n1")
        await c.list("pods", label_selector="a=b", limit=10, continue_="tok", resource_version="0")
        await c.update_subresource(
            "deployments", {"metadata": {"name": "web"}, "spec": {"replicas": 2}}, "scale"
        )
        await c.create_subresource("pods", "p", "eviction", {"kind": "Eviction"})
        await c.get_raw("/version")
    paths = [(r.method, r.url.path) for r in seen]
    assert paths == [
        ("GET", "/apis/apps/v1/namespaces/team/deployments/web"),
        ("PATCH", "/apis/apps/v1/namespaces/x/deployments/web"),
        ("PATCH", "/apis/apps/v1/namespaces/team/deployments/web"),
        ("PATCH", "/apis/apps/v1/namespaces/team/deployments/web"),
        ("DELETE", "/api/v1/namespaces/team/pods/p"),
        ("GET", "/api/v1/nodes/n1"),
        ("GET", "/api/v1/pods"),
        ("PUT", "/apis/apps/v1/namespaces/team/deployments/web/scale"),
        ("POST", "/api/v1/namespaces/team/pods/p/eviction"),
        ("GET", "/version"),
    ]
    assert all(r.headers["Authorization"] == "Bearer s3cret" for r in seen)
    assert seen[1].headers["Content-Type"] == "application/strategic-merge-patch+json"
    assert seen[2].headers["Content-Type"] == "application/apply-patch+yaml"
    assert dict(seen[2].url.params) == {"fieldManager": "me", "force": "true"}
    assert seen[3].headers["Content-Type"] == "application/json-patch+json"
    assert orjson.loads(seen[4].content) == {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "gracePeriodSeconds": 0,
        "propagationPolicy": "Foreground",
        "preconditions": {"uid": "u", "resourceVersion": "5"},
    }
    assert dict(seen[6].url.params) == {
        "labelSelector": "a=b",
        "limit": "10",
        "continue": "tok",
        "resourceVersion": "0",
    }


async def test_patch_argument_checks(client: Client) -> None:
    with pytest.raises(ValueError):
        await client.patch(CM, "a", {}, patch_type="apply")
    with pytest.raises(ValueError):
        await client.patch(CM, "a", {}, force=True)


def test_resource_paths() -> None:
    assert resource_path(CM, namespace="a") == "/api/v1/namespaces/a/configmaps"
    assert resource_path(CM) == "/api/v1/configmaps"
    ns = resolve("namespaces")
    assert resource_path(ns, namespace="ignored", name="kube-system", subresource="status") == (
        "/api/v1/namespaces/kube-system/status"
    )
    with pytest.raises(LookupError):
        resolve("nosuchthings")
    with pytest.raises(ValueError):
        resource_path(CM, subresource="status")


# -- watch ----------------------------------------------------------------------------------


async def test_watch_from_zero_then_live_events(client: Client) -> None:
    await client.create(CM, cm("a"))
    got: list[tuple[str, str]] = []
    async with client.watch(CM, namespace="default", resource_version="0") as w:
        async for ev in w:
            got.append((ev.type, ev.object["metadata"]["name"]))
            if len(got) == 1:
                await client.create(CM, cm("b"))
                await client.delete(CM, "a")
            if len(got) == 3:
                break
    assert got == [("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a")]


async def test_watch_resumes_after_stream_end_from_bookmark(
    api: FakeApiServer, fake_client: Client
) -> None:
    await fake_client.create(CM, cm("a"))
    other = await fake_client.create(resolve("secrets"), {"metadata": {"name": "s"}})
    start_rv = str(int(other["metadata"]["resourceVersion"]) - 1)
    events = []
    async with fake_client.watch(CM, resource_version=start_rv, yield_bookmarks=True) as w:

        def watch_requests() -> int:
            return len([q for m, p, q in api.state.requests if q.get("watch")])

        async def drive() -> None:
            await eventually(lambda: api.state.active_watches == 1, what="the watch is open")
            api.state.send_bookmarks()
            await eventually(lambda: events, what="the bookmark arrived")
            api.state.drop_watches()  # server ends the stream normally
            await eventually(lambda: watch_requests() == 2, what="the watch resumed")
            await fake_client.create(CM, cm("b"))

        driver = asyncio.create_task(drive())
        async for ev in w:
            events.append(ev)
            if ev.type is WatchEventType.ADDED:
                break
        await driver
    assert events[0].type is WatchEventType.BOOKMARK
    assert events[0].resource_version == other["metadata"]["resourceVersion"]
    assert events[-1].object["metadata"]["name"] == "b"
    watches = [q for m, p, q in api.state.requests if q.get("watch")]
    assert [q["resourceVersion"] for q in watches] == [
        start_rv,
        other["metadata"]["resourceVersion"],
    ]
    assert all(q["allowWatchBookmarks"] == "true" for q in watches)


async def test_watch_410_as_http_and_as_event(api: FakeApiServer, fake_client: Client) -> None:
    await fake_client.create(CM, cm("a"))
    await fake_client.create(CM, cm("b"))
    api.state.compact()
    with pytest.raises(Expired):
        async with fake_client.watch(CM, resource_version="1") as w:
            async for _ in w:
                pass
    async with fake_client.watch(CM, resource_version="0") as w:
        with pytest.raises(Expired):
            async for ev in w:
                if ev.object["metadata"]["name"] == "b":
                    api.state.drop_watches(expire=True)


async def test_watch_without_resume_ends(client: Client) -> None:
    async with client.watch(CM, timeout_seconds=1, resume=False) as w:
        events = [ev async for ev in w]
    assert events == []


async def test_request_returns_an_httpx_response(client: Client) -> None:
    resp = await client.request("GET", "/version")
    resp.raise_for_status()  # a complete httpx.Response, request included
    assert resp.status_code == 200 and resp.json()["major"]
    assert resp.request.url.path == "/version"
    assert await client.get_raw("/version") == resp.content
