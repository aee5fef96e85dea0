"""The route table: compiled once from skiff.api.resources, methods that follow the storages,
405 decided in one place (with the allowed methods), 404 for paths no route has, proxy path
tails, and discovery listing every subresource a route serves (and only those).

Unit tests on the compiled table plus a few requests over the loopback server; excludes what the
handlers do (test_api.py, test_connect.py).
"""

from __future__ import annotations

import httpx
import pytest

from skiff.api.resources import RESOURCES
from skiff.apiserver.routes import Route, RouteTable
from skiff.apiserver.server import ApiServer, ApiServerConfig
from skiff.store import MemoryStore

_VERB_METHOD = {
    "get": "GET",
    "update": "PUT",
    "patch": "PATCH",
    "create": "POST",
    "delete": "DELETE",
}


@pytest.fixture(scope="module")
def table() -> RouteTable:
    return ApiServer(MemoryStore(), ApiServerConfig(port=0)).api.routes


def _route(table: RouteTable, path: str) -> Route:
    route, _ = table.match(path)
    return route


def test_subresource_methods_are_the_discovery_verbs(table: RouteTable) -> None:
    for info in RESOURCES:
        base = info.gv.path_prefix + ("/namespaces/ns" if info.namespaced else "")
        for sub in info.subresources:
            route = _route(table, f"{base}/{info.plural}/x/{sub.name}")
            served = {m for m in route.methods if m not in ("HEAD", "OPTIONS")}
            assert served == {_VERB_METHOD[v] for v in sub.verbs}, (info.plural, sub.name)
            assert (route.websocket is not None) == sub.connect


def test_collections_and_objects_follow_the_verbs(table: RouteTable) -> None:
    ns = _route(table, "/api/v1/namespaces")
    assert "DELETE" not in ns.methods  # namespaces have no deletecollection
    assert set(_route(table, "/api/v1/namespaces/default/pods").methods) == {
        "GET",
        "POST",
        "DELETE",
    }
    assert set(_route(table, "/api/v1/pods").methods) == {"GET", "DELETE"}
    assert set(_route(table, "/api/v1/namespaces/default/pods/x").methods) == {
        "GET",
        "PUT",
        "PATCH",
        "DELETE",
    }
    review = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    assert set(_route(table, review).methods) == {"POST"}
    assert _route(table, f"{review}/x").methods == {}


@pytest.mark.parametrize(
    ("path", "tail"),
    [
        ("/api/v1/namespaces/ns/pods/web:80/proxy", ""),
        ("/api/v1/namespaces/ns/pods/web:80/proxy/", "/"),
        ("/api/v1/namespaces/ns/pods/web/proxy/a/b/", "/a/b/"),
        ("/api/v1/nodes/n1/proxy/metrics/cadvisor", "/metrics/cadvisor"),
    ],
)
def test_proxy_paths_keep_their_tail(table: RouteTable, path: str, tail: str) -> None:
    route, target = table.match(path)
    assert target is not None and route.tail
    assert target.tail == tail
    assert target.subresource == "proxy"


@pytest.mark.parametrize(
    ("method", "path", "allowed", "message"),
    [
        ("DELETE", "/api/v1/namespaces/default/pods/x/status", "GET, PATCH, PUT", "pods/status"),
        ("GET", "/api/v1/namespaces/x/finalize", "PUT", "namespaces/finalize"),
        ("PUT", "/api/v1/namespaces/default/pods/x/eviction", "POST", "pods/eviction"),
        ("PUT", "/api/v1/namespaces/default/pods/x/log", "GET", "pods/log"),
        ("POST", "/api/v1/pods", "DELETE, GET", "create pods needs a namespace"),
        ("DELETE", "/api/v1/namespaces", "GET, POST", "deletecollection is not supported"),
        ("PUT", "/api/v1/namespaces/default/configmaps", "DELETE, GET, POST", "on a collection"),
        ("POST", "/api/v1/namespaces/default/configmaps/x", "DELETE, GET, PATCH, PUT", "x"),
        ("PUT", "/api/v1", "GET", "discovery document"),
        (
            "GET",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            "POST",
            "only supports create",
        ),
    ],
)
async def test_405_names_the_allowed_methods(
    api: httpx.AsyncClient, method: str, path: str, allowed: str, message: str
) -> None:
    r = await api.request(method, path)
    assert r.status_code == 405, r.text
    assert r.headers["allow"] == allowed
    status = r.json()
    assert status["reason"] == "MethodNotAllowed"
    assert message in status["message"]
    assert status["message"].endswith(f"(allowed: {allowed})")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/namespaces/default/configmaps/x/status",  # configmaps have no status
        "/api/v1/pods/x",  # a namespaced object outside a namespace
        "/api/v1/namespaces/default/nodes",  # a cluster-scoped resource inside one
        "/api/v1/nodes/x/exec",
        "/api/v1/namespaces/default/configmaps/a/b/c/d",
        "/api/v1/namespaces/default/nothings",
        "/api/v9",
    ],
)
async def test_paths_without_a_route_are_404(api: httpx.AsyncClient, path: str) -> None:
    r = await api.get(path)
    assert r.status_code == 404, r.text
    assert r.json()["reason"] == "NotFound"


async def test_discovery_lists_the_connect_subresources(api: httpx.AsyncClient) -> None:
    doc = (await api.get("/api/v1")).json()
    by_name = {r["name"]: r for r in doc["resources"]}
    assert by_name["pods/exec"]["kind"] == "PodExecOptions"
    assert by_name["pods/exec"]["verbs"] == ["create", "get"]
    assert by_name["pods/log"]["kind"] == "Pod"
    assert by_name["pods/log"]["verbs"] == ["get"]
    assert by_name["pods/portforward"]["kind"] == "PodPortForwardOptions"
    assert by_name["pods/attach"]["kind"] == "PodAttachOptions"
    assert by_name["pods/proxy"]["verbs"] == ["create", "delete", "get", "patch", "update"]
    assert by_name["nodes/proxy"]["kind"] == "NodeProxyOptions"
