"""The pod garbage collector (skiff.controllers.podgc).

Covers the pure decisions - which terminated pods go over a threshold (evicted first, then oldest),
which nodes pods are orphaned on, the quarantine of missing nodes on a FakeClock - and, against an
in-process API server: pods bound to a node that was deleted (and to one that never existed) are
marked Failed with the DisruptionTarget condition (DeletionByPodGC) and force deleted once the
quarantine is over, while pods of a live node stay; terminated pods over a threshold of 2 are
deleted oldest first; terminating pods of a not-Ready node tainted ``out-of-service`` are force
deleted. Excludes: unscheduled terminating pods (only reachable with finalizers; the
code path is the same force delete).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from skiff.controllers import ControllerOptions
from skiff.controllers.podgc import (
    QuarantineSet,
    is_out_of_service,
    orphaned_nodes,
    terminated_to_delete,
)
from skiff.testing.clock import FakeClock
from skiff.testing.cluster import running_controller_manager
from skiff.testing.wait import eventually

NODES = "/api/v1/nodes"
PODS = "/api/v1/namespaces/default/pods"
MERGE = {"Content-Type": "application/merge-patch+json"}
HOLD = "skiff.test/hold"


def _p(
    name: str, phase: str = "Running", *, created: str = "", node: str = "", reason: str = ""
) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase}
    if reason:
        status["reason"] = reason
    return {
        "metadata": {"name": name, "namespace": "d", "creationTimestamp": created},
        "spec": {"nodeName": node},
        "status": status,
    }


def test_terminated_to_delete() -> None:
    pods = [
        _p("new", "Succeeded", created="2025-01-03T00:00:00Z"),
        _p("running", "Running", created="2025-01-01T00:00:00Z"),
        _p("old", "Failed", created="2025-01-01T00:00:00Z"),
        _p("mid", "Succeeded", created="2025-01-02T00:00:00Z"),
        _p("evicted", "Failed", created="2025-01-04T00:00:00Z", reason="Evicted"),
    ]
    names = [p["metadata"]["name"] for p in terminated_to_delete(pods, 2)]
    assert names == ["evicted", "old"]  # 4 terminated, 2 kept; evicted first, then the oldest
    assert terminated_to_delete(pods, 4) == []
    assert terminated_to_delete(pods, 0) == []  # 0: off


def test_orphaned_nodes() -> None:
    pods = [_p("a", node="n1"), _p("b", node="gone"), _p("c"), _p("d", node="gone2")]
    assert orphaned_nodes(pods, {"n1"}) == {"gone", "gone2"}


def test_quarantine_on_a_fake_clock() -> None:
    clock = FakeClock()
    q = QuarantineSet(40.0, clock)
    q.observe({"gone"})
    assert q.due() == [] and q.next_due() == 40.0
    clock.advance(30)
    q.observe({"gone", "later"})
    assert q.due() == []
    assert q.next_due() == 10.0
    clock.advance(10)
    assert q.due() == ["gone"]
    q.observe({"later"})  # "gone" came back (or its pods went): forgotten
    clock.advance(40)
    assert q.due() == ["later"]
    q.discard("later")
    assert q.next_due() is None


@contextlib.asynccontextmanager
async def podgc(url: str, token: str, **over: Any) -> AsyncIterator[None]:
    options = ControllerOptions(
        namespace_recheck=0.2,
        root_ca="test-ca",
        pod_gc_period=0.1,
        pod_gc_quarantine=0.5,
        **over,
    )
    async with running_controller_manager(
        url,
        token,
        controllers=("serviceaccount-controller", "pod-garbage-collector-controller"),
        options=options,
    ):
        yield


async def _node(api: httpx.AsyncClient, name: str) -> None:
    r = await api.post(NODES, json={"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
    assert r.status_code == 201, r.text


async def _pod(
    api: httpx.AsyncClient, name: str, node: str, *, phase: str = "Running", hold: bool = False
) -> None:
    meta: dict[str, Any] = {"name": name}
    if hold:
        meta["finalizers"] = [HOLD]
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]},
    }
    r = await api.post(PODS, json=body)
    assert r.status_code == 201, r.text
    r = await api.patch(f"{PODS}/{name}/status", json={"status": {"phase": phase}}, headers=MERGE)
    assert r.status_code == 200, r.text


async def _exists(api: httpx.AsyncClient, name: str) -> bool:
    r = await api.get(f"{PODS}/{name}")
    assert r.status_code in (200, 404), r.text
    return r.status_code == 200


async def _release(api: httpx.AsyncClient, name: str) -> None:
    await api.patch(f"{PODS}/{name}", json={"metadata": {"finalizers": None}}, headers=MERGE)


@pytest.mark.parametrize("ever_existed", [True, False], ids=["deleted-node", "never-existed"])
async def test_pods_of_missing_nodes_are_collected(
    url: str, token: str, api: httpx.AsyncClient, ever_existed: bool
) -> None:
    await _node(api, "alive")
    if ever_existed:
        await _node(api, "doomed")
    async with podgc(url, token):
        await _pod(api, "stays", "alive")
        await _pod(api, "orphan", "doomed")
        await _pod(api, "held", "doomed", hold=True)  # a finalizer keeps it to be looked at
        try:
            if ever_existed:
                r = await api.delete(f"{NODES}/doomed")
                assert r.status_code == 200, r.text

            async def orphan_gone() -> bool:
                return not await _exists(api, "orphan")

            await eventually(orphan_gone, within=10, what="orphan collected")

            async def held_marked() -> bool:
                pod = (await api.get(f"{PODS}/held")).json()
                return bool(pod["metadata"].get("deletionTimestamp"))

            await eventually(held_marked, within=5, what="held pod deleted")
            pod = (await api.get(f"{PODS}/held")).json()
            assert pod["metadata"]["deletionGracePeriodSeconds"] == 0  # a force delete
            assert pod["status"]["phase"] == "Failed"
            target = next(c for c in pod["status"]["conditions"] if c["type"] == "DisruptionTarget")
            assert (target["status"], target["reason"], target["message"]) == (
                "True",
                "DeletionByPodGC",
                "PodGC: node no longer exists",
            )
            assert await _exists(api, "stays")
        finally:
            await _release(api, "held")


async def test_terminated_pods_over_the_threshold(
    url: str, token: str, api: httpx.AsyncClient
) -> None:
    await _node(api, "n1")
    async with podgc(url, token, terminated_pod_gc_threshold=2):
        await _pod(api, "running", "n1")
        for i in range(4):
            await _pod(api, f"t{i}", "n1", phase="Succeeded" if i % 2 else "Failed")

        async def two_left() -> list[str]:
            items = (await api.get(PODS)).json()["items"]
            names = sorted(p["metadata"]["name"] for p in items)
            return names if names == ["running", "t2", "t3"] else []

        await eventually(two_left, within=10, what="two oldest terminated pods deleted")


def test_is_out_of_service() -> None:
    taint = {"key": "node.kubernetes.io/out-of-service", "effect": "NoExecute"}

    def node(ready: str | None, taints: list[dict[str, str]]) -> dict[str, Any]:
        conds = [] if ready is None else [{"type": "Ready", "status": ready}]
        return {"spec": {"taints": taints}, "status": {"conditions": conds}}

    assert is_out_of_service(node("False", [taint]))
    assert is_out_of_service(node("Unknown", [taint]))
    assert is_out_of_service(node(None, [taint]))
    assert not is_out_of_service(node("True", [taint]))  # a Ready node is not out of service
    assert not is_out_of_service(node("False", []))


async def test_terminating_pods_of_out_of_service_nodes(
    url: str, token: str, api: httpx.AsyncClient
) -> None:
    taint = {"key": "node.kubernetes.io/out-of-service", "effect": "NoExecute"}
    for name, ready in (("down", "False"), ("up", "True")):
        await _node(api, name)
        r = await api.patch(
            f"{NODES}/{name}/status",
            json={"status": {"conditions": [{"type": "Ready", "status": ready}]}},
            headers=MERGE,
        )
        assert r.status_code == 200, r.text
        r = await api.patch(f"{NODES}/{name}", json={"spec": {"taints": [taint]}}, headers=MERGE)
        assert r.status_code == 200, r.text
    async with podgc(url, token):
        for name, node in (("stuck", "down"), ("running", "down"), ("fine", "up")):
            await _pod(api, name, node)
        for name in ("stuck", "fine"):
            r = await api.delete(f"{PODS}/{name}")  # graceful: waits for an agent that is gone
            assert r.status_code == 202, r.text

        async def stuck_gone() -> bool:
            return not await _exists(api, "stuck")

        await eventually(stuck_gone, within=10, what="terminating pod of the down node deleted")
        assert await _exists(api, "running")  # not terminating: left alone
        assert await _exists(api, "fine")  # its node is Ready: its agent finishes it
