"""Informer transforms and typed frozen views: `adopt` (lazy freezing of a decoded object: same
values, immutability, memoized wrappers, JSON and thaw round trips), `drop_managed_fields` as the
informers' default, `keep_everything`, `pod_view`/`node_view`/`endpoint_slice_view` (typed fields,
the whole object as ``raw``, usable by the Indexer and Lister), and informers built with a
transform against the real API server in-process. Excludes performance (bench informer_cache)."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from skiff.client import (
    Client,
    EndpointSliceView,
    FrozenDict,
    FrozenList,
    Indexer,
    Lister,
    NodeView,
    PodView,
    SharedInformerFactory,
    adopt,
    drop_managed_fields,
    endpoint_slice_view,
    keep_everything,
    label_index_func,
    node_view,
    object_key,
    pod_view,
    thaw,
)
from skiff.client.frozen import json_default
from skiff.testing.wait import eventually
from skiff.util.backoff import Backoff


def pod(name: str = "p", node: str = "", **labels: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "resourceVersion": "7",
            "labels": labels,
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
        },
        "spec": spec,
        "status": {"phase": "Pending"},
    }


def test_adopt_is_lazy_but_indistinguishable_from_freeze() -> None:
    original = pod("x", app="web")
    adopted = adopt(copy.deepcopy(original))
    assert isinstance(adopted, FrozenDict)
    assert adopted == original and original == adopted
    containers = adopted["spec"]["containers"]
    assert isinstance(containers, FrozenList) and isinstance(containers[0], FrozenDict)
    assert adopted["spec"] is adopted["spec"]  # wrapped once, then memoized
    with pytest.raises(TypeError):
        adopted["spec"]["containers"][0]["image"] = "evil"  # type: ignore[index]
    # Partially materialized objects still serialize, compare, hash and thaw like plain JSON.
    assert orjson.loads(orjson.dumps(adopted, default=json_default)) == original
    assert hash(adopted) == hash(adopt(copy.deepcopy(original)))
    mutable = thaw(adopted)
    mutable["spec"]["containers"][0]["image"] = "other"
    assert adopted["spec"]["containers"][0]["image"] == "busybox"
    assert adopted["spec"]["containers"][:1] == [{"name": "c", "image": "busybox"}]


def test_default_transform_drops_managed_fields_only() -> None:
    dropped = drop_managed_fields(pod("x"))
    assert "managedFields" not in dropped["metadata"]
    expected = pod("x")
    del expected["metadata"]["managedFields"]
    assert dropped == expected
    assert keep_everything(pod("x")) == pod("x")


def test_pod_view_is_typed_frozen_and_cacheable() -> None:
    view = pod_view(pod("p", node="n1", app="web"))
    assert isinstance(view, PodView)
    assert (view.name, view.namespace, view.uid, view.resource_version) == (
        "p",
        "default",
        "uid-p",
        "7",
    )
    assert (view.node_name, view.phase, view.scheduler_name, view.priority) == (
        "n1",
        "Pending",
        "default-scheduler",
        0,
    )
    assert view.labels == {"app": "web"}
    assert view.containers[0]["image"] == "busybox"
    assert "managedFields" not in view.metadata
    with pytest.raises(AttributeError):
        view.node_name = "n2"  # type: ignore[misc]
    with pytest.raises(TypeError):
        view.spec["nodeName"] = "n2"  # type: ignore[index]
    assert object_key(view) == "default/p"
    idx: Indexer[PodView] = Indexer({"app": label_index_func("app")})
    idx.upsert(view)
    idx.upsert(pod_view(pod("q", node="n2", app="db")))
    assert [v.name for v in idx.by_index("app", "web")] == ["p"]
    lister = Lister(idx, kind="Pod")
    assert [v.name for v in lister.list(field_selector="spec.nodeName=n2")] == ["q"]
    assert [v.name for v in lister.list(label_selector={"matchLabels": {"app": "web"}})] == ["p"]
    assert lister.get("q", namespace="default") == pod_view(pod("q", node="n2", app="db"))


def test_node_and_endpoint_slice_views() -> None:
    node = node_view(
        {
            "metadata": {"name": "n1", "labels": {"zone": "a"}},
            "spec": {
                "unschedulable": True,
                "taints": [{"key": "k", "effect": "NoSchedule"}],
            },
            "status": {
                "allocatable": {"cpu": "2", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
    )
    assert isinstance(node, NodeView)
    assert node.unschedulable and node.allocatable["pods"] == "110"
    assert node.taints[0]["effect"] == "NoSchedule"
    ready = node.condition("Ready")
    assert ready is not None and ready["status"] == "True"
    assert node.condition("DiskPressure") is None
    assert object_key(node) == "n1"
    eps = endpoint_slice_view(
        {
            "metadata": {
                "name": "web-abc",
                "namespace": "default",
                "labels": {"kubernetes.io/service-name": "web"},
            },
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": True}}],
            "ports": [{"port": 80, "protocol": "TCP"}],
        }
    )
    assert isinstance(eps, EndpointSliceView)
    assert (eps.service_name, eps.address_type) == ("web", "IPv4")
    assert eps.endpoints[0]["addresses"] == ["10.0.0.1"] and eps.ports[0]["port"] == 80


def fast_backoff() -> Backoff:
    return Backoff(initial=0.01, cap=0.05, jitter=0.1)


async def test_informers_drop_managed_fields_and_build_views(client: Client) -> None:
    body = pod("web-1", app="web")
    del body["metadata"]["managedFields"], body["metadata"]["uid"]
    del body["metadata"]["resourceVersion"]
    created = await client.create("pods", body, field_manager="test")
    assert created["metadata"].get("managedFields"), "the server records managedFields"
    async with SharedInformerFactory(client, backoff_factory=fast_backoff) as factory:
        plain = factory.informer("pods")
        views = factory.informer("pods", transform=pod_view)
        everything = factory.informer("pods", transform=keep_everything)
        assert len({id(plain), id(views), id(everything)}) == 3  # one informer per transform
        assert factory.informer("pods", transform=pod_view) is views
        seen: list[PodView] = []
        views.add_handler(on_update=lambda old, new: seen.append(new))
        factory.start()
        assert await factory.wait_for_sync(timeout=5)
        cached = plain.lister.get("web-1", namespace="default")
        assert cached is not None and "managedFields" not in cached["metadata"]
        kept = everything.lister.get("web-1", namespace="default")
        assert kept is not None and kept["metadata"]["managedFields"]
        view = views.lister.get("web-1", namespace="default")
        assert isinstance(view, PodView) and view.node_name == "" and view.labels["app"] == "web"
        await client.create_subresource(
            "pods",
            "web-1",
            "binding",
            {
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": "web-1"},
                "target": {"kind": "Node", "name": "n1"},
            },
        )
        await eventually(lambda: any(v.node_name == "n1" for v in seen))
        bound = views.lister.list(field_selector="spec.nodeName=n1")
        assert [v.name for v in bound] == ["web-1"]


async def test_a_failing_transform_skips_the_object_not_the_informer(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    def picky(obj: dict[str, Any]) -> FrozenDict:
        if obj["metadata"]["name"].startswith("bad"):
            raise ValueError("cannot view this one")
        return drop_managed_fields(obj)

    await client.create("configmaps", {"metadata": {"name": "bad-1"}})
    await client.create("configmaps", {"metadata": {"name": "good-1"}})
    async with SharedInformerFactory(client, backoff_factory=fast_backoff) as factory:
        informer = factory.informer("configmaps", namespace="default", transform=picky)
        factory.start()
        assert await factory.wait_for_sync(timeout=5)
        assert informer.indexer.list_keys() == ["default/good-1"]
        await client.create("configmaps", {"metadata": {"name": "bad-2"}})
        await client.create("configmaps", {"metadata": {"name": "good-2"}})
        await eventually(lambda: "default/good-2" in informer.indexer)
        assert sorted(informer.indexer.list_keys()) == ["default/good-1", "default/good-2"]
    assert "transform" in caplog.text and "cannot view this one" in caplog.text
