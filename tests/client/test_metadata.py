"""Metadata-only lists, gets, watches and informers (client-go's metadata client): the exact
``Accept`` types sent, ``PartialObjectMetadata``/``PartialObjectMetadataList`` handed out, the
client stripping whole objects itself when a server ignores the Accept parameters, and
metadata-only informers as a separate shared informer whose cache holds no object contents.
Against the fake API server (which answers those Accept types) and the real one in-process."""

from __future__ import annotations

from skiff.apiserver.server import ApiServer
from skiff.client import Client, FrozenDict, SharedInformerFactory, WatchEventType
from skiff.testing.apiserver import admin_config
from skiff.testing.fakeapi import FakeApiServer
from skiff.testing.wait import eventually
from skiff.util.backoff import Backoff

LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
OBJECT_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"


def secret(name: str, **labels: str) -> dict[str, object]:
    return {
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "data": {"password": "c2VjcmV0"},
    }


def is_partial(obj: object) -> bool:
    assert isinstance(obj, dict | FrozenDict)
    return (
        obj["kind"] == "PartialObjectMetadata"
        and obj["apiVersion"] == "meta.k8s.io/v1"
        and set(obj) == {"kind", "apiVersion", "metadata"}
    )


async def test_list_get_watch_send_the_metadata_accept_types(
    api: FakeApiServer, fake_client: Client
) -> None:
    await fake_client.create("secrets", secret("s1", app="web"))
    listing = await fake_client.list("secrets", namespace="default", metadata_only=True)
    assert api.state.accepts[-1] == LIST_ACCEPT
    assert listing["kind"] == "PartialObjectMetadataList"
    assert listing["apiVersion"] == "meta.k8s.io/v1"
    assert listing["metadata"]["resourceVersion"]
    (item,) = listing["items"]
    assert is_partial(item) and item["metadata"]["labels"] == {"app": "web"}
    got = await fake_client.get("secrets", "s1", namespace="default", metadata_only=True)
    assert api.state.accepts[-1] == OBJECT_ACCEPT and is_partial(got)
    everything = await fake_client.list_all("secrets", metadata_only=True, page_size=1)
    assert [is_partial(o) for o in everything["items"]] == [True]
    async with fake_client.watch(
        "secrets", namespace="default", resource_version="0", metadata_only=True
    ) as w:
        event = await anext(w)
        assert event.type is WatchEventType.ADDED and is_partial(event.object)
        assert api.state.accepts[-1] == OBJECT_ACCEPT
        await fake_client.delete("secrets", "s1", namespace="default")
        event = await anext(w)
        assert event.type is WatchEventType.DELETED and is_partial(event.object)
    # Plain requests keep asking for plain JSON.
    await fake_client.list("secrets")
    assert api.state.accepts[-1] == "application/json"


async def test_server_ignoring_the_accept_type_still_yields_metadata(
    api: FakeApiServer, fake_client: Client
) -> None:
    api.state.ignore_metadata_accept = True
    await fake_client.create("secrets", secret("s1"))
    listing = await fake_client.list("secrets", metadata_only=True)
    assert listing["kind"] == "PartialObjectMetadataList"
    assert all(is_partial(o) for o in listing["items"])
    async with fake_client.watch("secrets", resource_version="0", metadata_only=True) as w:
        assert is_partial((await anext(w)).object)


async def test_metadata_only_informer_is_separate_and_holds_no_contents(
    api: FakeApiServer, fake_client: Client
) -> None:
    await fake_client.create("secrets", secret("s1", app="web"))
    deleted: list[FrozenDict] = []
    async with SharedInformerFactory(
        fake_client, backoff_factory=lambda: Backoff(initial=0.01, cap=0.05)
    ) as factory:
        meta = factory.informer("secrets", metadata_only=True)
        full = factory.informer("secrets")
        assert meta is not full and factory.informer("secrets", metadata_only=True) is meta
        meta.add_handler(on_delete=deleted.append)
        factory.start()
        assert await factory.wait_for_sync(timeout=5)
        cached = meta.lister.get("s1", namespace="default")
        assert cached is not None and is_partial(cached)
        assert "data" not in cached
        assert full.lister.get("s1", namespace="default")["data"]  # type: ignore[index]
        assert [o["metadata"]["name"] for o in meta.lister.list(label_selector="app=web")] == ["s1"]
        await fake_client.create("secrets", secret("s2"))
        await eventually(lambda: "default/s2" in meta.indexer)
        await fake_client.delete("secrets", "s1", namespace="default")
        await eventually(lambda: len(deleted) == 1)
        assert is_partial(deleted[0]) and deleted[0]["metadata"]["name"] == "s1"
    watches = [
        a
        for (m, p, q), a in zip(api.state.requests, api.state.accepts, strict=True)
        if q.get("watch") == "true"
    ]
    assert OBJECT_ACCEPT in watches and "application/json" in watches


async def test_metadata_only_against_the_real_server(server: ApiServer) -> None:
    async with Client(admin_config(server)) as client:
        await client.create("secrets", secret("s1", app="web"))
        listing = await client.list("secrets", namespace="default", metadata_only=True)
        assert listing["kind"] == "PartialObjectMetadataList"
        (item,) = listing["items"]
        assert is_partial(item) and item["metadata"]["name"] == "s1"
        async with SharedInformerFactory(client) as factory:
            meta = factory.informer("secrets", namespace="default", metadata_only=True)
            factory.start()
            assert await factory.wait_for_sync(timeout=5)
            cached = meta.lister.get("s1", namespace="default")
            assert cached is not None and is_partial(cached)
