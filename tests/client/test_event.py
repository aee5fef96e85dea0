"""EventRecorder against the real API server in-process: Event shape and naming, window expiry, a
deleted Event recreated, cluster-scoped objects' events in ``default``, distinct events stay
distinct, non-blocking bounded queue, clean shutdown writing queued events. Aggregation of repeats
into one Event with a growing count (PATCH, not create) runs against the fake API server, whose
request log shows the verbs."""

from __future__ import annotations

from typing import Any

from skiff.client import Client, EventRecorder, resolve
from skiff.testing.clock import FakeClock
from skiff.testing.fakeapi import FakeApiServer

EVENTS = resolve(("v1", "Event"))


async def events_in(client: Client, namespace: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await client.list(EVENTS, namespace=namespace))["items"]
    return items


async def make_prod(client: Client) -> None:
    await client.create("namespaces", {"metadata": {"name": "prod"}})


POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web-0", "namespace": "prod", "uid": "u-1", "resourceVersion": "7"},
}


async def test_event_shape_and_name(client: Client) -> None:
    await make_prod(client)
    clock = FakeClock(wall_start=1_700_000_000.5)
    async with EventRecorder(client, "scheduler", "node-1", clock=clock) as rec:
        rec.event(POD, "Normal", "Scheduled", "assigned prod/web-0 to node-1")
        await rec.flush()
    (event,) = await events_in(client, "prod")
    assert event["metadata"]["name"] == f"web-0.{int(1_700_000_000.5 * 1e9):x}"
    assert event["involvedObject"] == {
        "apiVersion": "v1",
        "kind": "Pod",
        "name": "web-0",
        "namespace": "prod",
        "uid": "u-1",
        "resourceVersion": "7",
    }
    assert event["source"] == {"component": "scheduler", "host": "node-1"}
    assert (event["type"], event["reason"], event["count"]) == ("Normal", "Scheduled", 1)
    assert event["firstTimestamp"] == event["lastTimestamp"] == "2023-11-14T22:13:20Z"


async def test_repeats_are_aggregated_by_patch(api: FakeApiServer, fake_client: Client) -> None:
    clock = FakeClock()
    async with EventRecorder(fake_client, "kubelet", "n1", clock=clock) as rec:
        for _ in range(3):
            rec.event(POD, "Warning", "BackOff", "Back-off restarting failed container")
            await rec.flush()
            clock.advance(5)
        rec.event(POD, "Warning", "BackOff", "a different message")
        await rec.flush()
        clock.advance(1)
        rec.event(POD, "Normal", "BackOff", "Back-off restarting failed container")
        await rec.flush()
        stats = rec.statistics()
    events = api.state.list(EVENTS, "prod")
    assert len(events) == 3
    backoff = next(e for e in events if e["count"] == 3)
    assert backoff["message"] == "Back-off restarting failed container"
    assert backoff["type"] == "Warning"
    assert backoff["lastTimestamp"] > backoff["firstTimestamp"]
    assert (stats.created, stats.aggregated, stats.failed) == (3, 2, 0)
    patches = [r for r in api.state.requests if r[0] == "PATCH"]
    posts = [r for r in api.state.requests if r[0] == "POST"]
    assert len(patches) == 2 and len(posts) == 3


async def test_repeat_after_window_creates_new_event(client: Client) -> None:
    await make_prod(client)
    clock = FakeClock()
    async with EventRecorder(client, "c", clock=clock, aggregation_window=60) as rec:
        rec.event(POD, "Normal", "Sync", "m")
        await rec.flush()
        clock.advance(61)
        rec.event(POD, "Normal", "Sync", "m")
        await rec.flush()
    assert sorted(e["count"] for e in await events_in(client, "prod")) == [1, 1]


async def test_deleted_event_is_recreated(client: Client) -> None:
    await make_prod(client)
    clock = FakeClock()
    async with EventRecorder(client, "c", clock=clock) as rec:
        rec.event(POD, "Normal", "Sync", "m")
        await rec.flush()
        (event,) = await events_in(client, "prod")
        await client.delete(EVENTS, event["metadata"]["name"], namespace="prod")
        clock.advance(1)
        rec.event(POD, "Normal", "Sync", "m")
        await rec.flush()
    (event,) = await events_in(client, "prod")
    assert event["count"] == 1


async def test_cluster_scoped_object_events_go_to_default(client: Client) -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "uid": "x"}}
    async with EventRecorder(client, "node-controller", clock=FakeClock()) as rec:
        rec.event(node, "Normal", "RegisteredNode", "registered")
    (event,) = await events_in(client, "default")
    assert event["involvedObject"]["kind"] == "Node"
    assert "namespace" not in event["involvedObject"]


async def test_bounded_queue_drops_instead_of_blocking(client: Client) -> None:
    await make_prod(client)
    async with EventRecorder(client, "c", clock=FakeClock(), queue_size=2) as rec:
        for i in range(5):  # no await in between: the writer cannot run
            rec.event(POD, "Normal", "R", f"m{i}")
        assert rec.statistics().dropped == 3
    # leaving the block wrote what was queued
    assert len(await events_in(client, "prod")) == 2


async def test_same_instant_events_get_distinct_names(client: Client) -> None:
    await make_prod(client)
    async with EventRecorder(client, "c", clock=FakeClock()) as rec:
        rec.event(POD, "Normal", "A", "one")
        rec.event(POD, "Normal", "B", "two")
    names = {e["metadata"]["name"] for e in await events_in(client, "prod")}
    assert len(names) == 2
