"""Client mistakes never produce a 500: odd bodies, patches and parameters on every resource.

Each case sends something a confused or hostile client might send and requires a 4xx Status
(or success where the input is merely unusual): creates, replaces and applies of odd bodies on
every kind, odd patches and reads, and WebSocket and SPDY upgrade requests to connect
subresources of missing or unbound pods and to paths that take no upgrade, with and without
credentials. Excludes valid-input semantics (test_api.py).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from skiff.api.resources import RESOURCES, ResourceInfo

BODIES: list[Any] = [
    None,
    [],
    "text",
    42,
    {},
    {"metadata": "x"},
    {"metadata": {"name": 5}},
    {"metadata": {"name": "ok", "labels": {"a": 1}}},
    {"metadata": {"name": "ok", "labels": ["a"]}},
    {"metadata": {"name": "ok", "annotations": {"a": None}}},
    {"metadata": {"name": "ok", "finalizers": "x"}},
    {"metadata": {"name": "ok", "ownerReferences": [{}]}},
    {"metadata": {"name": "x" * 300}},
    {"metadata": {"name": "ok"}, "spec": []},
    {"metadata": {"name": "ok"}, "spec": {"replicas": "three"}},
    {"metadata": {"name": "ok"}, "spec": {"replicas": 10**30}},
    {"metadata": {"name": "ok"}, "spec": {"selector": "app=x"}},
    {"metadata": {"name": "ok"}, "spec": {"template": {"spec": {"containers": [{}]}}}},
    {"metadata": {"name": "ok"}, "data": {"k": {"nested": 1}}},
    {"metadata": {"name": "ok"}, "status": {"phase": 5}},
]


def _collection(info: ResourceInfo) -> str:
    base = info.gv.path_prefix
    if info.namespaced:
        return f"{base}/namespaces/default/{info.plural}"
    return f"{base}/{info.plural}"


def _with_type(info: ResourceInfo, body: Any) -> Any:
    if isinstance(body, dict):
        return {"apiVersion": info.api_version, "kind": info.kind, **body}
    return body


@pytest.mark.parametrize(
    "info", RESOURCES, ids=lambda r: f"{r.group or 'core'}/{r.version}/{r.plural}"
)
async def test_odd_creates_get_4xx_or_success(api: httpx.AsyncClient, info: ResourceInfo) -> None:
    for body in BODIES:
        r = await api.post(
            _collection(info),
            content=json.dumps(_with_type(info, body)),
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code < 500, (body, r.status_code, r.text)
        status = r.json()
        if r.status_code >= 400:
            assert status["kind"] == "Status" and status["message"], status


@pytest.mark.parametrize(
    ("content_type", "patch"),
    [
        ("application/json-patch+json", "{}"),
        ("application/json-patch+json", '[{"op":"explode","path":"/x"}]'),
        ("application/json-patch+json", '[{"op":"replace","path":"/metadata/name","value":"b"}]'),
        ("application/json-patch+json", '[{"op":"add","path":"/spec","value":[]}]'),
        ("application/json-patch+json", '[{"op":"remove","path":"/metadata"}]'),
        ("application/merge-patch+json", "[]"),
        ("application/merge-patch+json", '{"metadata":{"name":"other"}}'),
        ("application/merge-patch+json", '{"metadata":null}'),
        ("application/merge-patch+json", '{"data":{"k":[1]}}'),
        ("application/merge-patch+json", '{"apiVersion":"v2"}'),
        ("application/strategic-merge-patch+json", '{"data":{"$patch":"explode"}}'),
        ("application/strategic-merge-patch+json", '{"$setElementOrder/data":[1]}'),
        ("application/strategic-merge-patch+json", '"text"'),
        ("application/apply-patch+yaml", "kind: ConfigMap"),
        ("application/apply-patch+yaml", "- a\n- b"),
        ("application/apply-patch+yaml", "{bad yaml"),
        ("text/plain", "hello"),
    ],
)
async def test_odd_patches_get_4xx(api: httpx.AsyncClient, content_type: str, patch: str) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "target"}}
    await api.post("/api/v1/namespaces/default/configmaps", json=cm)
    r = await api.patch(
        "/api/v1/namespaces/default/configmaps/target?fieldManager=t",
        content=patch.encode(),
        headers={"Content-Type": content_type},
    )
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.json()["kind"] == "Status"
    got = (await api.get("/api/v1/namespaces/default/configmaps/target")).json()
    assert got["metadata"]["name"] == "target"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/namespaces/default/configmaps?limit=abc",
        "/api/v1/namespaces/default/configmaps?resourceVersion=-5",
        "/api/v1/namespaces/default/configmaps?resourceVersion=abc",
        "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=x",
        "/api/v1/namespaces/default/configmaps?labelSelector=%21%21",
        "/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3D%3D%3D",
        "/api/v1/namespaces/default/configmaps/x?resourceVersion=999999999",
        "/api/v1/namespaces/default/configmaps/x/status",
        "/api/v1/namespaces/default/pods/x/log",
        "/api/v1/namespaces/default/configmaps/a/b/c/d",
        "/apis/apps/v1/namespaces/default/deployments/x/scale",
        "/apis/apps",
        "/apis/nope",
        "/openapi/v3/apis/nope/v1",
        "/openapi/v2",
    ],
)
async def test_odd_reads_get_4xx(api: httpx.AsyncClient, path: str) -> None:
    r = await api.get(path)
    # a resourceVersion from the future is Kubernetes' 504 "Too large resource version"
    assert r.status_code < 500 or r.json()["reason"] == "Timeout", r.text


@pytest.mark.parametrize(
    "info",
    [r for r in RESOURCES if r.persisted],
    ids=lambda r: f"{r.group or 'core'}/{r.version}/{r.plural}",
)
async def test_odd_replaces_and_applies_get_4xx(api: httpx.AsyncClient, info: ResourceInfo) -> None:
    """A PUT or an apply of an odd body to a name, there or not (a metadata that is not an
    object used to fail before the lookup)."""
    for body in BODIES:
        typed = json.dumps(_with_type(info, body))
        for r in (
            await api.put(
                f"{_collection(info)}/ok",
                content=typed,
                headers={"Content-Type": "application/json"},
            ),
            await api.patch(
                f"{_collection(info)}/ok?fieldManager=t",
                content=typed,
                headers={"Content-Type": "application/apply-patch+yaml"},
            ),
        ):
            assert r.status_code < 500, (r.request.method, body, r.status_code, r.text)
            if r.status_code >= 400:
                assert r.json()["kind"] == "Status", r.text


_UPGRADE_PATHS = [
    "/api/v1/namespaces/default/pods/missing/exec?command=ls&stdout=true",
    "/api/v1/namespaces/default/pods/missing/attach?stdout=true",
    "/api/v1/namespaces/default/pods/missing/portforward?ports=80",
    "/api/v1/namespaces/default/pods/missing/log",
    "/api/v1/namespaces/default/pods/unbound/exec?command=ls&stdout=true",
    "/api/v1/namespaces/default/pods/unbound/portforward",
    "/api/v1/namespaces/default/pods/unbound/exec?container=nope&command=ls",
    "/api/v1/nodes/missing/proxy/metrics",
    "/api/v1/namespaces/default/services/missing/proxy/",
    "/api/v1/namespaces/default/configmaps",
    "/api/v1/namespaces/default/configmaps/x/status",
    "/apis/apps/v1/namespaces/default/deployments/x/scale",
    "/api/v1",
    "/healthz",
    "/nothing/at/all",
]


async def _unbound_pod(api: httpx.AsyncClient) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "unbound"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    r = await api.post("/api/v1/namespaces/default/pods", json=pod)
    assert r.status_code in (201, 409), r.text


@pytest.mark.parametrize("path", _UPGRADE_PATHS)
async def test_websocket_upgrades_get_4xx(api: httpx.AsyncClient, path: str) -> None:
    await _unbound_pod(api)
    url = str(api.base_url).replace("http://", "ws://") + path
    for headers in ({"Authorization": api.headers["Authorization"]}, {}):
        with pytest.raises(websockets.InvalidStatus) as exc:
            async with websockets.connect(
                url, additional_headers=headers, subprotocols=[Subprotocol("v5.channel.k8s.io")]
            ):
                pass
        response = exc.value.response
        assert 400 <= response.status_code < 500, (path, response.status_code, response.body)
        if response.body:
            assert json.loads(response.body)["kind"] == "Status", response.body


@pytest.mark.parametrize("path", _UPGRADE_PATHS)
async def test_spdy_upgrades_get_4xx(api: httpx.AsyncClient, path: str) -> None:
    """kubectl's fallback: a POST asking to upgrade to SPDY/3.1."""
    await _unbound_pod(api)
    r = await api.post(
        path,
        headers={
            "Connection": "Upgrade",
            "Upgrade": "SPDY/3.1",
            "X-Stream-Protocol-Version": "v4.channel.k8s.io",
        },
    )
    assert r.status_code < 500, (path, r.status_code, r.text)
    if path != "/healthz":  # health checks answer any method
        assert r.status_code >= 400 and r.json()["kind"] == "Status", r.text
