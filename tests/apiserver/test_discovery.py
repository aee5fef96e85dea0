"""Tests for ``skiff.apiserver.discovery``: legacy and aggregated discovery bodies, negotiation.

The bodies are checked against the registry and against the shapes in kubectl-wire.md §2.3 (what
client-go parses). The real kubectl reading them over HTTP is exercised in test_openapi.py
(``test_kubectl_*``), which serves discovery and OpenAPI together.
"""

from __future__ import annotations

from typing import Any

import pytest

from skiff.api.resources import RESOURCES, GroupVersion, ResourceInfo
from skiff.apiserver import discovery
from skiff.apiserver.discovery import (
    METRICS_RESOURCES,
    aggregated_discovery,
    api_group_list,
    api_resource_list,
    api_versions,
    discovery_content_type,
    negotiate_discovery,
    served_group_versions,
)
from skiff.apiserver.negotiation import parse_media_type

KUBECTL_132 = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)
KUBECTL_129 = (
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)


def _by_name(items: list[dict[str, Any]], key: str = "name") -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


# ---------------------------------------------------------------------------------------------
# legacy


def test_api_versions() -> None:
    assert api_versions("127.0.0.1:6443") == {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}
        ],
    }


def test_api_group_list_lists_every_named_group_once_with_preferred_first() -> None:
    body = api_group_list()
    assert body["kind"] == "APIGroupList"
    assert body["apiVersion"] == "v1"
    groups = _by_name(body["groups"])
    registry_groups = {r.group for r in RESOURCES if r.group}
    assert set(groups) == registry_groups
    assert len(body["groups"]) == len(registry_groups)
    assert "" not in groups
    apps = groups["apps"]
    assert apps["versions"] == [{"groupVersion": "apps/v1", "version": "v1"}]
    assert apps["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    autoscaling = groups["autoscaling"]
    assert [v["version"] for v in autoscaling["versions"]] == ["v2", "v1"]
    assert autoscaling["preferredVersion"] == {"groupVersion": "autoscaling/v2", "version": "v2"}
    assert "metrics.k8s.io" not in groups


def test_api_group_list_with_extra_read_only_group() -> None:
    groups = _by_name(api_group_list(extra=METRICS_RESOURCES)["groups"])
    assert groups["metrics.k8s.io"]["preferredVersion"] == {
        "groupVersion": "metrics.k8s.io/v1beta1",
        "version": "v1beta1",
    }
    # The default (no extra) document is cached separately and still has no metrics group.
    assert "metrics.k8s.io" not in _by_name(api_group_list()["groups"])


def test_core_resource_list() -> None:
    body = api_resource_list("", "v1")
    assert body is not None
    assert body["kind"] == "APIResourceList"
    assert body["apiVersion"] == "v1"
    assert body["groupVersion"] == "v1"
    res = _by_name(body["resources"])
    pods = res["pods"]
    assert pods["singularName"] == "pod"
    assert pods["namespaced"] is True
    assert pods["kind"] == "Pod"
    assert pods["shortNames"] == ["po"]
    assert pods["categories"] == ["all"]
    assert pods["verbs"] == [
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ]
    assert isinstance(pods["storageVersionHash"], str) and pods["storageVersionHash"]
    assert res["pods/status"] == {
        "name": "pods/status",
        "singularName": "",
        "namespaced": True,
        "kind": "Pod",
        "verbs": ["get", "patch", "update"],
    }
    # kubectl drain looks for exactly this entry (kubectl-wire.md §2.3).
    assert res["pods/eviction"] == {
        "name": "pods/eviction",
        "singularName": "",
        "namespaced": True,
        "group": "policy",
        "version": "v1",
        "kind": "Eviction",
        "verbs": ["create"],
    }
    assert res["pods/binding"]["kind"] == "Binding"
    assert "group" not in res["pods/binding"]
    assert res["namespaces/finalize"]["verbs"] == ["update"]
    assert res["namespaces"]["namespaced"] is False
    assert "categories" not in res["namespaces"]
    # Every subresource follows its resource.
    names = [r["name"] for r in body["resources"]]
    assert names.index("pods") < names.index("pods/status") < names.index("pods/eviction")


def test_apps_resource_list_matches_wire_doc() -> None:
    body = api_resource_list("apps", "v1")
    assert body is not None
    assert body["groupVersion"] == "apps/v1"
    res = _by_name(body["resources"])
    assert res["deployments/scale"] == {
        "name": "deployments/scale",
        "singularName": "",
        "namespaced": True,
        "group": "autoscaling",
        "version": "v1",
        "kind": "Scale",
        "verbs": ["get", "patch", "update"],
    }
    assert res["deployments"]["shortNames"] == ["deploy"]
    assert {r["name"] for r in body["resources"] if "/" not in r["name"]} == {
        r.plural for r in RESOURCES if r.gv == GroupVersion("apps", "v1")
    }


def test_storage_version_hash_follows_storage_version() -> None:
    v1 = api_resource_list("autoscaling", "v1")
    v2 = api_resource_list("autoscaling", "v2")
    assert v1 is not None and v2 is not None
    h1 = _by_name(v1["resources"])["horizontalpodautoscalers"]["storageVersionHash"]
    h2 = _by_name(v2["resources"])["horizontalpodautoscalers"]["storageVersionHash"]
    # Both versions are stored as v2: clients comparing hashes see the same storage.
    assert h1 == h2
    deploy = _by_name(api_resource_list("apps", "v1")["resources"])  # type: ignore[index]
    assert deploy["deployments"]["storageVersionHash"] != h1


@pytest.mark.parametrize(
    ("group", "version"),
    [("apps", "v2"), ("nope", "v1"), ("", "v2"), ("metrics.k8s.io", "v1beta1")],
)
def test_unserved_resource_list_is_none(group: str, version: str) -> None:
    assert api_resource_list(group, version) is None


def test_metrics_resource_list_is_read_only() -> None:
    body = api_resource_list("metrics.k8s.io", "v1beta1", extra=METRICS_RESOURCES)
    assert body is not None
    res = _by_name(body["resources"])
    assert res["nodes"]["kind"] == "NodeMetrics"
    assert res["nodes"]["namespaced"] is False
    assert res["pods"]["kind"] == "PodMetrics"
    assert res["pods"]["verbs"] == ["get", "list"]
    assert "storageVersionHash" not in res["pods"]


def test_served_group_versions_order() -> None:
    gvs = served_group_versions()
    assert gvs[0] == GroupVersion("", "v1")
    assert gvs.index(GroupVersion("autoscaling", "v2")) < gvs.index(
        GroupVersion("autoscaling", "v1")
    )
    assert len(gvs) == len(set(gvs))
    assert GroupVersion("metrics.k8s.io", "v1beta1") in served_group_versions(METRICS_RESOURCES)


def test_documents_are_cached() -> None:
    assert api_group_list() is api_group_list()
    assert api_resource_list("apps", "v1") is api_resource_list("apps", "v1")
    assert aggregated_discovery(False, "v2") is aggregated_discovery(False, "v2")


# ---------------------------------------------------------------------------------------------
# aggregated


@pytest.mark.parametrize("version", ["v2", "v2beta1"])
def test_aggregated_core(version: discovery.DiscoveryVersion) -> None:
    body = aggregated_discovery(True, version)
    assert body["kind"] == "APIGroupDiscoveryList"
    assert body["apiVersion"] == f"apidiscovery.k8s.io/{version}"
    assert body["metadata"] == {}
    [core] = body["items"]
    assert core["metadata"] == {"name": ""}
    [v1] = core["versions"]
    assert v1["version"] == "v1"
    assert v1["freshness"] == "Current"
    res = _by_name(v1["resources"], "resource")
    assert set(res) == {r.plural for r in RESOURCES if r.group == ""}
    pods = res["pods"]
    assert pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert pods["scope"] == "Namespaced"
    assert pods["singularResource"] == "pod"
    assert pods["shortNames"] == ["po"]
    assert pods["categories"] == ["all"]
    subs = _by_name(pods["subresources"], "subresource")
    assert subs["eviction"] == {
        "subresource": "eviction",
        "responseKind": {"group": "policy", "version": "v1", "kind": "Eviction"},
        "verbs": ["create"],
    }
    assert subs["status"]["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert res["namespaces"]["scope"] == "Cluster"
    assert "subresources" not in res["configmaps"]


def test_aggregated_groups() -> None:
    body = aggregated_discovery(False, "v2")
    items = _by_name([{"name": i["metadata"]["name"], **i} for i in body["items"]])
    assert "" not in items
    assert set(items) == {r.group for r in RESOURCES if r.group}
    assert [v["version"] for v in items["autoscaling"]["versions"]] == ["v2", "v1"]
    [apps_v1] = items["apps"]["versions"]
    deploy = _by_name(apps_v1["resources"], "resource")["deployments"]
    assert deploy == {
        "resource": "deployments",
        "responseKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "scope": "Namespaced",
        "singularResource": "deployment",
        "verbs": [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ],
        "shortNames": ["deploy"],
        "categories": ["all"],
        "subresources": [
            {
                "subresource": "status",
                "responseKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                "verbs": ["get", "patch", "update"],
            },
            {
                "subresource": "scale",
                "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                "verbs": ["get", "patch", "update"],
            },
        ],
    }
    for item in body["items"]:
        for version in item["versions"]:
            assert version["freshness"] == "Current"
            for resource in version["resources"]:
                # client-go drops resources without a responseKind.
                assert resource["responseKind"]["kind"]
                assert resource["scope"] in ("Namespaced", "Cluster")


def test_aggregated_extra_group() -> None:
    extra = (
        ResourceInfo(
            group="example.io",
            version="v1alpha1",
            kind="Widget",
            plural="widgets",
            namespaced=True,
            verbs=("get", "list"),
        ),
    )
    body = aggregated_discovery(False, "v2", extra=extra)
    names = [i["metadata"]["name"] for i in body["items"]]
    assert names[-1] == "example.io"
    assert "example.io" not in [
        i["metadata"]["name"] for i in aggregated_discovery(False, "v2")["items"]
    ]
    assert aggregated_discovery(True, "v2", extra=extra)["items"][0]["metadata"]["name"] == ""


# ---------------------------------------------------------------------------------------------
# negotiation


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (KUBECTL_132, "v2"),
        (KUBECTL_129, "v2beta1"),
        ("application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io", "v2"),
        ("application/json", None),
        ("*/*", None),
        (None, None),
        (
            "application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
            "v2",
        ),
        (
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0.5,"
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
            "v2beta1",
        ),
        ("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList", None),
        ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json", None),
        ("application/com.github.proto-openapi.spec.v2@v1.0+protobuf", None),
    ],
    ids=[
        "kubectl-1.32",
        "kubectl-1.29",
        "param-order",
        "python-client",
        "star",
        "absent",
        # Parameters make an entry more specific, so it is preferred over plain JSON of equal q.
        "specific-first",
        "q-values",
        "unknown-version",
        "table",
        "protobuf",
    ],
)
def test_negotiate_discovery(accept: str | None, expected: str | None) -> None:
    assert negotiate_discovery(accept) == expected


@pytest.mark.parametrize("version", ["v2", "v2beta1"])
def test_content_type_round_trips(version: discovery.DiscoveryVersion) -> None:
    content_type = discovery_content_type(version)
    assert content_type == (
        f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
    )
    # The content type we send is itself an Accept entry that negotiates to the same version.
    assert negotiate_discovery(content_type) == version
    mt = parse_media_type(content_type)
    assert mt is not None and mt.as_kind == "APIGroupDiscoveryList"
