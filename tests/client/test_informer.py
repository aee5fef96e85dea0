"""Informer, reflector, shared factory and lister over loopback.

Against the real API server in-process: convergence of the cache and of handler-derived state to
the server under churn, final state on delete, label-selector informers (objects leaving the
selector are deletes, LabelSelector objects with matchExpressions), late handlers, failing
handlers, immutable indexed cache, resync with a fake clock, factory sharing, transforms (the
default drops managedFields; typed views). Against the fake API server, which injects the faults:
a server restart, a forced 410 (compacted history while disconnected, and an ERROR 410 event),
resuming without relist after a normal end of stream, very short watches, metadata-only informers
(until the real server answers the PartialObjectMetadata Accept types).
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from skiff.client import (
    Client,
    FrozenDict,
    Informer,
    SharedInformerFactory,
    label_index_func,
    object_key,
    resolve,
)
from skiff.testing.clock import FakeClock
from skiff.testing.fakeapi import FakeApiServer
from skiff.testing.wait import eventually
from skiff.util.backoff import Backoff

CONFIGMAPS = resolve("configmaps")


def fast_backoff() -> Backoff:
    return Backoff(initial=0.01, cap=0.05, jitter=0.1)


def server_view(api: FakeApiServer, namespace: str | None = None) -> dict[str, str]:
    return {
        object_key(o): o["metadata"]["resourceVersion"]
        for o in api.state.list(CONFIGMAPS, namespace)
    }


async def live_view(client: Client, namespace: str | None = None) -> dict[str, str]:
    """What the real server holds: key -> resourceVersion."""
    listing = await client.list_all(CONFIGMAPS, namespace=namespace)
    return {object_key(o): o["metadata"]["resourceVersion"] for o in listing["items"]}


async def make_namespaces(client: Client, *names: str) -> None:
    for name in names:
        await client.create("namespaces", {"metadata": {"name": name}})


class Model:
    """State rebuilt only from handler calls; must equal the server's."""

    def __init__(self) -> None:
        self.objects: dict[str, str] = {}
        self.deleted_final: dict[str, FrozenDict] = {}
        self.calls: list[tuple[str, str]] = []

    def on_add(self, obj: FrozenDict) -> None:
        key = object_key(obj)
        assert key not in self.objects, f"add for known object {key}"
        self.objects[key] = obj["metadata"]["resourceVersion"]
        self.calls.append(("add", key))

    def on_update(self, old: FrozenDict, new: FrozenDict) -> None:
        key = object_key(new)
        assert key in self.objects, f"update for unknown object {key}"
        assert object_key(old) == key
        self.objects[key] = new["metadata"]["resourceVersion"]
        self.calls.append(("update", key))

    def on_delete(self, obj: FrozenDict) -> None:
        key = object_key(obj)
        self.objects.pop(key, None)
        self.deleted_final[key] = obj
        self.calls.append(("delete", key))


def cache_view(informer: Informer) -> dict[str, str]:
    return {object_key(o): o["metadata"]["resourceVersion"] for o in informer.indexer.list()}


async def churn(client: Client, rng: random.Random, steps: int, names: list[str]) -> None:
    from skiff.client import AlreadyExists, Conflict, NotFound

    for _ in range(steps):
        name = rng.choice(names)
        ns = rng.choice(["a", "b"])
        op = rng.random()
        try:
            if op < 0.4:
                await client.create(
                    CONFIGMAPS,
                    {"metadata": {"name": name, "namespace": ns}, "data": {"v": "0"}},
                )
            elif op < 0.8:
                await client.patch(
                    CONFIGMAPS, name, {"data": {"v": str(rng.random())}}, namespace=ns
                )
            else:
                await client.delete(CONFIGMAPS, name, namespace=ns)
        except (AlreadyExists, NotFound, Conflict):
            pass


async def test_informer_converges_under_churn(client: Client) -> None:
    await make_namespaces(client, "a", "b")
    for i in range(5):
        await client.create(CONFIGMAPS, {"metadata": {"name": f"pre{i}", "namespace": "a"}})
    model = Model()
    async with SharedInformerFactory(client, backoff_factory=fast_backoff) as factory:
        informer = factory.informer(CONFIGMAPS)
        informer.add_handler(model)
        synced_before_start = informer.has_synced
        factory.start()
        assert await factory.wait_for_sync(timeout=5)
        assert (synced_before_start, informer.has_synced) == (False, True)
        assert cache_view(informer) == await live_view(client)
        rng = random.Random(7)
        await churn(client, rng, 300, [f"cm{i}" for i in range(12)])
        expected = await live_view(client)  # churn is over: the server's state is final
        await eventually(lambda: cache_view(informer) == expected)
        await eventually(lambda: model.objects == expected)
    assert any(kind == "delete" for kind, _ in model.calls)
    assert any(kind == "update" for kind, _ in model.calls)


async def test_delete_handler_gets_final_state(client: Client) -> None:
    await make_namespaces(client, "a")
    model = Model()
    async with SharedInformerFactory(client, backoff_factory=fast_backoff) as factory:
        informer = factory.informer(CONFIGMAPS, namespace="a")
        informer.add_handler(model)
        factory.start()
        await factory.wait_for_sync(timeout=5)
        await client.create(CONFIGMAPS, {"metadata": {"name": "x", "namespace": "a"}})
        await client.patch(CONFIGMAPS, "x", {"data": {"last": "state"}}, namespace="a")
        await client.delete(CONFIGMAPS, "x", namespace="a")
        await eventually(lambda: "a/x" in model.deleted_final)
    assert model.deleted_final["a/x"]["data"] == {"last": "state"}
    assert [k for k, key in model.calls if key == "a/x"] == ["add", "update", "delete"]


async def test_informer_survives_server_restart(api: FakeApiServer, fake_client: Client) -> None:
    await fake_client.create(CONFIGMAPS, {"metadata": {"name": "keep", "namespace": "a"}})
    await fake_client.create(CONFIGMAPS, {"metadata": {"name": "gone", "namespace": "a"}})
    model = Model()
    async with SharedInformerFactory(fake_client, backoff_factory=fast_backoff) as factory:
        informer = factory.informer(CONFIGMAPS)
        informer.add_handler(model)
        factory.start()
        await factory.wait_for_sync(timeout=5)
        relists = informer.reflector.relists
        failures = informer.reflector.backoff.attempts
        await api.stop()
        # Changes while the server is down (as if other API servers accepted them).
        api.state.delete(CONFIGMAPS, "a", "gone")
        api.state.create(CONFIGMAPS, {"metadata": {"name": "new", "namespace": "b"}})
        keep = api.state.get(CONFIGMAPS, "a", "keep")
        keep["data"] = {"changed": "yes"}
        api.state.update(CONFIGMAPS, keep)
        # The reflector is failing and backing off now.
        await eventually(lambda: informer.reflector.backoff.attempts > failures)
        await api.start()
        await eventually(lambda: cache_view(informer) == server_view(api))
        await eventually(lambda: model.objects == server_view(api))
        assert informer.reflector.relists > relists
        keep_cached = informer.lister.get("keep", namespace="a")
        assert keep_cached is not None and keep_cached["data"] == {"changed": "yes"}
        assert "a/gone" in model.deleted_final


async def test_relist_after_compacted_history(api: FakeApiServer, fake_client: Client) -> None:
    """Watch resumes from an RV older than the server's window -> 410 -> relist -> converge."""
    await fake_client.create(CONFIGMAPS, {"metadata": {"name": "one", "namespace": "a"}})
    model = Model()
    async with SharedInformerFactory(fake_client, backoff_factory=fast_backoff) as factory:
        informer = factory.informer(CONFIGMAPS)
        informer.add_handler(model)
        factory.start()
        await factory.wait_for_sync(timeout=5)
        relists = informer.reflector.relists
        await api.stop()
        api.state.create(CONFIGMAPS, {"metadata": {"name": "two", "namespace": "a"}})
        api.state.delete(CONFIGMAPS, "a", "one")
        api.state.compact()
        await api.start()
        await eventually(lambda: cache_view(informer) == server_view(api))
        await eventually(lambda: model.objects == server_view(api))
        assert informer.reflector.relists == relists + 1
        expired = [
            q for m, p, q in api.state.requests if q.get("watch") and q.get("resourceVersion")
        ]
        assert expired, "the informer should have tried to resume its watch"


async def test_relist_on_error_410_event(api: FakeApiServer, fake_client: Client) -> None:
    model = Model()
    async with SharedInformerFactory(fake_client, backoff_factory=fast_backoff) as factory:
        informer = factory.informer(CONFIGMAPS)
        informer.add_handler(model)
        factory.start()
        await factory.wait_for_sync(timeout=5)
        relists = informer.reflector.relists
        api.state.drop_watches(expire=True)
        await eventually(lambda: informer.reflector.relists == relists + 1)
        await fake_client.create(CONFIGMAPS, {"metadata": {"name": "after", "namespace": "a"}})
        await eventually(lambda: model.objects == server_view(api))


async def test_watch_resumes_without_relist_when_stream_ends(
    api: FakeApiServer, fake_client: Client
) -> None:
    async with SharedInformerFactory(fake_client, backoff_factory=fast_backoff) as factory:
        informer = factory.informer(CONFIGMAPS)
        factory.start()
        await factory.wait_for_sync(timeout=5)
        await fake_client.create(CONFIGMAPS, {"metadata": {"name": "x", "namespace": "a"}})
        await eventually(lambda: "a/x" in informer.indexer)
        # Another resource moves the global resourceVersion; only a bookmark tells the
        # configmap watch about it.
        secret = await fake_client.create(resolve("secrets"), {"metadata": {"name": "s"}})
        secret_rv = secret["metadata"]["resourceVersion"]
        api.state.send_bookmarks()
        await eventually(lambda: informer.reflector.last_sync_resource_version == secret_rv)
        api.state.drop_watches()  # a normal end of stream, like timeoutSeconds

        def watch_requests() -> int:
            return len([q for m, p, q in api.state.requests if q.get("watch")])

        # The re-watch is under way before the next change, or the old stream could carry it.
        await eventually(lambda: watch_requests() == 2)
        await fake_client.create(CONFIGMAPS, {"metadata": {"name": "y", "namespace": "a"}})
        await eventually(lambda: "a/y" in informer.indexer)
        assert informer.reflector.relists == 1
        watches = [q for m, p, q in api.state.requests if q.get("watch")]
        assert len(watches) == 2
        assert watches[1]["resourceVersion"] == secret_rv
        assert all(q.get("allowWatchBookmarks") == "true" for q in watches)
        timeouts = [int(q["timeoutSeconds"]) for q in watches]
        assert all(300 <= t < 600 for t in timeouts)


async def test_label_selector_informer_sees_objects_leave(client: Client) -> None:
    await make_namespaces(client, "a")
    model = Model()
    async with SharedInformerFactory(client, backoff_factory=fast_backoff) as factory:
        informer = factory.informer(CONFIGMAPS, label_selector="app=web")
        informer.add_handler(model)
        # A ReplicaSet-style selector object: matchLabels plus matchExpressions, sent as a string
        # the server parses with the same code.
        by_object = factory.informer(
            CONFIGMAPS,
            label_selector={
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}],
            },
        )
        assert factory.informer(CONFIGMAPS, label_selector="app=web,tier notin (db)") is by_object
        factory.start()
        await factory.wait_for_sync(timeout=5)
        await client.create(
            CONFIGMAPS,
            {"metadata": {"name": "w", "namespace": "a", "labels": {"app": "web"}}},
        )
        await client.create(
            CONFIGMAPS, {"metadata": {"name": "o", "namespace": "a", "labels": {"app": "db"}}}
        )
        await client.create(
            CONFIGMAPS,
            {"metadata": {"name": "t", "namespace": "a", "labels": {"app": "web", "tier": "db"}}},
        )
        await eventually(lambda: "a/w" in model.objects and "a/t" in model.objects)
        await eventually(lambda: by_object.indexer.list_keys() == ["a/w"])
        await client.patch(CONFIGMAPS, "w", {"metadata": {"labels": {"app": "db"}}}, namespace="a")
        await eventually(lambda: "a/w" in model.deleted_final)
        assert "a/o" not in informer.indexer
        assert informer.indexer.list_keys() == ["a/t"]
        await eventually(lambda: len(by_object.indexer) == 0)


async def test_late_handler_gets_adds_and_factory_shares(client: Client) -> None:
    await make_namespaces(client, "a")
    await client.create(CONFIGMAPS, {"metadata": {"name": "x", "namespace": "a"}})
    async with SharedInformerFactory(client, backoff_factory=fast_backoff) as factory:
        informer = factory.informer(CONFIGMAPS)
        assert factory.informer("configmaps") is informer
        assert factory.informer(("v1", "ConfigMap")) is informer
        assert factory.informer(CONFIGMAPS, namespace="a") is not informer
        factory.start()
        await informer.wait_for_sync(timeout=5)
        late = Model()
        registration = informer.add_handler(late)
        assert late.objects == await live_view(client)
        assert late.objects["a/x"]
        registration.remove()
        await client.create(CONFIGMAPS, {"metadata": {"name": "y", "namespace": "a"}})
        await eventually(lambda: "a/y" in informer.indexer)
        assert "a/y" not in late.objects


async def test_failing_handler_does_not_stop_others(client: Client) -> None:
    await make_namespaces(client, "a")
    seen: list[str] = []

    def boom(obj: FrozenDict) -> None:
        raise RuntimeError("handler bug")

    async with SharedInformerFactory(client, backoff_factory=fast_backoff) as factory:
        informer = factory.informer(CONFIGMAPS)
        informer.add_handler(on_add=boom)
        informer.add_handler(on_add=lambda o: seen.append(object_key(o)))
        factory.start()
        await factory.wait_for_sync(timeout=5)
        await client.create(CONFIGMAPS, {"metadata": {"name": "x", "namespace": "a"}})
        await eventually(lambda: seen == ["a/x"])


async def test_cached_objects_are_immutable_and_indexed(client: Client) -> None:
    await make_namespaces(client, "a")
    await client.create(
        CONFIGMAPS,
        {"metadata": {"name": "x", "namespace": "a", "labels": {"app": "web"}}, "data": {"k": "v"}},
    )
    async with SharedInformerFactory(client, backoff_factory=fast_backoff) as factory:
        lister = factory.lister(CONFIGMAPS)
        informer = factory.informer(CONFIGMAPS, indexers={"app": label_index_func("app")})
        factory.start()
        await factory.wait_for_sync(timeout=5)
        obj = lister.get("x", namespace="a")
        assert obj is not None
        with pytest.raises(TypeError):
            obj["data"]["k"] = "changed"
        assert [object_key(o) for o in informer.indexer.by_index("app", "web")] == ["a/x"]
        assert lister.list(namespace="a", label_selector={"app": "web"}) == [obj]
        assert lister.list(label_selector="app!=web") == []
        # Updating through the API with a thawed copy works.
        from skiff.client import thaw

        mutable: dict[str, Any] = thaw(obj)
        mutable["data"]["k"] = "changed"
        await client.update(CONFIGMAPS, mutable)

        def updated() -> bool:
            cached = lister.get("x", namespace="a")
            return cached is not None and cached["data"] == {"k": "changed"}

        await eventually(updated)


async def test_periodic_resync_with_fake_clock(client: Client) -> None:
    await make_namespaces(client, "a")
    await client.create(CONFIGMAPS, {"metadata": {"name": "x", "namespace": "a"}})
    clock = FakeClock()
    updates: list[tuple[FrozenDict, FrozenDict]] = []
    informer = Informer(client, CONFIGMAPS, resync_period=30, clock=clock)
    informer.add_handler(on_update=lambda old, new: updates.append((old, new)))
    task = asyncio.create_task(informer.run())
    try:
        await eventually(lambda: informer.has_synced)
        await clock.wait_sleepers(1)
        assert updates == []
        clock.advance(30)
        await eventually(lambda: len(updates) == 1)
        old, new = updates[0]
        assert old is new
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_very_short_watches_back_off(api: FakeApiServer, fake_client: Client) -> None:
    """A server that ends every watch at once must not be hammered in a hot loop."""
    clock = FakeClock()
    informer = Informer(
        fake_client,
        CONFIGMAPS,
        clock=clock,
        backoff=Backoff(initial=1, cap=10, jitter=0, clock=clock),
    )
    task = asyncio.create_task(informer.run())
    try:
        await eventually(lambda: informer.has_synced)
        for _ in range(3):
            await eventually(lambda: api.state.active_watches == 1)
            api.state.drop_watches()
            # The reflector sleeping on the fake clock proves it backs off instead of re-watching;
            # only advancing the clock lets it go on.
            await clock.wait_sleepers(1)
            watches = len([q for _, _, q in api.state.requests if q.get("watch")])
            deadline = clock.next_deadline()
            assert deadline is not None
            clock.set(deadline)

            def rewatched(before: int = watches) -> bool:
                return len([q for _, _, q in api.state.requests if q.get("watch")]) > before

            await eventually(rewatched)
        assert informer.reflector.relists == 1
        assert informer.reflector.backoff.attempts == 3
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
