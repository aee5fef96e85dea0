"""Event expiry (skiff.controllers.eventttl) on a FakeClock against an in-process API server.

Covers: the periodic sweep runs every ``event_sweep_interval`` of the injected clock, pages
through Events of every namespace, deletes those whose last occurrence is older than the TTL and
keeps the rest (including Events without a readable time); ``last_occurrence`` reads the fields
in Kubernetes' order. Excludes: the recorder that writes Events (tests/client).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx

from skiff.client import Client, EventRecorder, SharedInformerFactory
from skiff.controllers import ControllerContext, ControllerOptions, eventttl
from skiff.controllers.eventttl import EventTTLController, last_occurrence
from skiff.testing.clock import FakeClock


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(name: str, namespace: str, last: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": namespace},
        "reason": "Test",
        "message": "m",
        "type": "Normal",
        "count": 1,
    }
    if last is not None:
        body["firstTimestamp"] = body["lastTimestamp"] = last
    return body


def test_last_occurrence_order() -> None:
    assert last_occurrence({"lastTimestamp": "2025-01-01T00:00:10Z", "eventTime": "x"}) == (
        datetime(2025, 1, 1, 0, 0, 10, tzinfo=UTC).timestamp()
    )
    series = {"series": {"lastObservedTime": "2025-01-01T00:00:20.000000Z"}}
    assert last_occurrence(series) == datetime(2025, 1, 1, 0, 0, 20, tzinfo=UTC).timestamp()
    assert last_occurrence({"metadata": {}}) is None
    assert last_occurrence({"lastTimestamp": "yesterday"}) is None


async def test_sweep_on_the_fake_clock(
    api: httpx.AsyncClient, client: Client, monkeypatch: Any
) -> None:
    monkeypatch.setattr(eventttl, "PAGE", 2)  # several pages with few Events
    clock = FakeClock(wall_start=datetime.now(UTC).timestamp())
    now = clock.time()
    for ns in ("default", "kube-system"):
        for i in range(3):
            body = _event(f"old-{i}", ns, _stamp(now - 7200))
            assert (await api.post(f"/api/v1/namespaces/{ns}/events", json=body)).status_code == 201
        body = _event("fresh", ns, _stamp(now - 60))
        assert (await api.post(f"/api/v1/namespaces/{ns}/events", json=body)).status_code == 201
    options = ControllerOptions(event_ttl=3600, event_sweep_interval=60)
    async with EventRecorder(client, "t") as recorder:
        ctx = ControllerContext(client, SharedInformerFactory(client), recorder, clock, options)
        controller = EventTTLController(ctx)
        task = asyncio.create_task(controller.run())
        try:
            await clock.wait_sleepers(1)
            assert len((await api.get("/api/v1/events")).json()["items"]) == 8  # not yet
            clock.advance(60)

            async def swept() -> bool:
                items = (await api.get("/api/v1/events")).json()["items"]
                return len(items) == 2

            deadline = asyncio.get_running_loop().time() + 10
            while not await swept():
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.02)
            items = (await api.get("/api/v1/events")).json()["items"]
            assert sorted((e["metadata"]["namespace"], e["metadata"]["name"]) for e in items) == [
                ("default", "fresh"),
                ("kube-system", "fresh"),
            ]
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            # an hour later the fresh ones have expired too
            clock.advance(3600)
            assert await controller.sweep() == 2
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
