"""`skiff.client.server_preferred_resources`: what a server serves, from discovery.

Covers: against the real API server, aggregated and legacy discovery giving the same resources,
built-in kinds returned as the static table's own `ResourceInfo`, one entry per resource in its
group's preferred version (HorizontalPodAutoscaler at autoscaling/v2), subresources left out,
``deletable`` filtering by verbs and scope, and a CRD's kind appearing once it is established
and going with the CRD; against a scripted server, a ``Stale`` aggregated group/version reported
as failed, the legacy fallback when the reply is not aggregated (a failing group/version noted,
the others kept; a resource only served in a non-preferred version added from it; entries
without a kind dropped; subresource names skipped).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from skiff.api import resources
from skiff.client import Client, Config, server_preferred_resources
from skiff.client.discovery import _legacy
from skiff.testing.wait import eventually

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "gizmos.disc.skiff.test"},
    "spec": {
        "group": "disc.skiff.test",
        "scope": "Namespaced",
        "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo", "shortNames": ["gz"]},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            }
        ],
    },
}


async def test_real_server_built_ins_and_a_crd(client: Client) -> None:
    found = await server_preferred_resources(client)
    assert not found.failed
    legacy = await _legacy(client)
    assert set(legacy.resources) == set(found.resources) and not legacy.failed
    pods = resources.by_resource("", "v1", "pods")
    assert any(r is pods for r in found.resources)
    hpas = [r for r in found.resources if r.plural == "horizontalpodautoscalers"]
    assert [(r.group, r.version) for r in hpas] == [("autoscaling", "v2")]
    assert not any("/" in r.plural for r in found.resources)
    namespaced = {r.plural for r in found.deletable(namespaced=True)}
    assert {"pods", "configmaps", "events"} <= namespaced and "nodes" not in namespaced
    assert "tokenreviews" not in {r.plural for r in found.deletable()}

    await client.create("customresourcedefinitions", CRD)

    async def gizmo() -> Any:
        now = await server_preferred_resources(client)
        return next((r for r in now.resources if r.plural == "gizmos"), None)

    await eventually(gizmo, within=10, interval=0.05)
    info = await gizmo()
    assert (info.group, info.version, info.kind, info.namespaced) == (
        "disc.skiff.test",
        "v1",
        "Gizmo",
        True,
    )
    assert info.short_names == ("gz",) and info.singular_name == "gizmo" and info.has_status
    assert {"list", "watch", "delete", "deletecollection"} <= set(info.verbs)
    assert info.custom is None  # built from discovery, not the server's table
    listed = await client.list(info, namespace="default")
    assert listed["items"] == []
    await client.delete("customresourcedefinitions", "gizmos.disc.skiff.test")

    async def gizmo_gone() -> bool:
        return await gizmo() is None

    await eventually(gizmo_gone, within=10, interval=0.05)


def _scripted(routes: dict[str, tuple[int, str, Any]]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        status, content_type, body = routes.get(request.url.path, (404, "application/json", {}))
        if status >= 400:
            body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": status}
        return httpx.Response(
            status, headers={"content-type": content_type}, content=json.dumps(body).encode()
        )

    return httpx.MockTransport(handler)


AGG = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


async def test_stale_aggregated_group_versions_are_failures() -> None:
    def thing(kind: str) -> dict[str, Any]:
        return {
            "resource": "things",
            "responseKind": {"group": "x.test", "version": "v1", "kind": kind},
            "scope": "Cluster",
            "verbs": ["list", "delete"],
        }

    routes: dict[str, tuple[int, str, Any]] = {
        "/api": (200, AGG, {"items": [{"metadata": {"name": ""}, "versions": []}]}),
        "/apis": (
            200,
            AGG,
            {
                "items": [
                    {
                        "metadata": {"name": "x.test"},
                        "versions": [
                            {"version": "v2", "freshness": "Stale", "resources": []},
                            {"version": "v1", "freshness": "Current", "resources": [thing("T")]},
                        ],
                    }
                ]
            },
        ),
    }
    async with Client(Config(server="https://k.invalid"), transport=_scripted(routes)) as c:
        found = await server_preferred_resources(c)
    assert dict(found.failed) == {"x.test/v2": "stale discovery information"}
    [info] = found.resources
    assert (info.group, info.version, info.kind, info.namespaced) == ("x.test", "v1", "T", False)
    assert found.deletable(namespaced=False) == [info] and found.deletable(namespaced=True) == []


async def test_legacy_fallback() -> None:
    plain = "application/json"
    routes: dict[str, tuple[int, str, Any]] = {
        "/api": (200, plain, {"versions": ["v1"]}),
        "/api/v1": (
            200,
            plain,
            {
                "resources": [
                    {"name": "pods", "namespaced": True, "kind": "Pod", "verbs": ["list"]},
                    {"name": "pods/status", "namespaced": True, "kind": "Pod", "verbs": ["get"]},
                ]
            },
        ),
        "/apis": (
            200,
            plain,
            {
                "groups": [
                    {
                        "name": "y.test",
                        "versions": [{"version": "v1"}, {"version": "v2"}],
                        "preferredVersion": {"version": "v2"},
                    },
                    {
                        "name": "broken.test",
                        "versions": [{"version": "v1"}],
                        "preferredVersion": {"version": "v1"},
                    },
                ]
            },
        ),
        "/apis/y.test/v2": (
            200,
            plain,
            {
                "resources": [
                    {"name": "as", "namespaced": True, "kind": "A", "verbs": ["list"]},
                    {"name": "nokind", "namespaced": True, "verbs": ["list"]},
                ]
            },
        ),
        "/apis/y.test/v1": (
            200,
            plain,
            {
                "resources": [
                    {"name": "as", "namespaced": True, "kind": "A", "verbs": ["list"]},
                    {"name": "bs", "namespaced": False, "kind": "B", "verbs": ["list"]},
                ]
            },
        ),
        "/apis/broken.test/v1": (503, plain, {}),
    }
    async with Client(
        Config(server="https://k.invalid"), transport=_scripted(routes), max_retries=0
    ) as c:
        found = await server_preferred_resources(c)
    assert list(found.failed) == ["broken.test/v1"]
    got = [(r.group, r.version, r.plural, r.namespaced) for r in found.resources]
    assert got == [
        ("", "v1", "pods", True),
        ("y.test", "v2", "as", True),
        ("y.test", "v1", "bs", False),
    ]
    assert found.resources[0] is resources.by_resource("", "v1", "pods")
