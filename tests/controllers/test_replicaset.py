"""ReplicaSet and ReplicationController (skiff.controllers.replicaset) against an in-process API
server, with pod readiness written through ``pods/status`` by the test (no node agent).

Covers: the pure decisions (slow-start batch sizes, which pods go first on scale-down, status
counting with minReadySeconds, expectations); creating the template's pods with a controller
reference; replacing a deleted pod; scaling down keeps ready pods; adopting a matching orphan and
releasing a pod whose labels changed; readyReplicas/availableReplicas; a ReplicationController;
a failing create recorded as ``ReplicaFailure`` and a ``FailedCreate`` event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from skiff.client import FrozenDict, freeze
from skiff.controllers import ControllerManager
from skiff.controllers.expectations import Expectations
from skiff.controllers.podutil import pods_to_delete
from skiff.controllers.replicaset import (
    _controller_index,
    _status_only_change,
    calculate_status,
    orphan_index_value,
    slow_start_batches,
)
from skiff.testing.clock import FakeClock
from skiff.testing.cluster import running_controller_manager
from skiff.testing.kubelet import ready_status
from skiff.testing.wait import eventually

PODS = "/api/v1/namespaces/default/pods"
RS = "/apis/apps/v1/namespaces/default/replicasets"
RC = "/api/v1/namespaces/default/replicationcontrollers"
MERGE = {"Content-Type": "application/merge-patch+json"}
T0 = 1_750_000_000.0


def test_slow_start_batches() -> None:
    assert slow_start_batches(0) == []
    assert slow_start_batches(1) == [1]
    assert slow_start_batches(10) == [1, 2, 4, 3]
    assert sum(slow_start_batches(500)) == 500


def _pod(
    name: str,
    *,
    node: str = "",
    phase: str = "Running",
    ready_since: str | None = None,
    restarts: int = 0,
    created: str = "2025-06-15T15:00:00Z",
) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase, "containerStatuses": [{"restartCount": restarts}]}
    if ready_since:
        status["conditions"] = [
            {"type": "Ready", "status": "True", "lastTransitionTime": ready_since}
        ]
    return {
        "metadata": {"name": name, "creationTimestamp": created, "labels": {"app": "x"}},
        "spec": {"nodeName": node},
        "status": status,
    }


def test_scale_down_deletes_the_least_valuable_pods_first() -> None:
    pods = [
        _pod("ready-old", node="n1", ready_since="2025-06-15T15:00:00Z"),
        _pod("unscheduled", phase="Pending"),
        _pod("pending", node="n1", phase="Pending"),
        _pod("unready", node="n2"),
        _pod("ready-new", node="n2", ready_since="2025-06-15T15:05:00Z"),
        _pod("restarting", node="n2", ready_since="2025-06-15T15:00:00Z", restarts=5),
    ]
    order = [p["metadata"]["name"] for p in pods_to_delete(pods, 6)]
    assert order[:3] == ["unscheduled", "pending", "unready"]
    # among the ready ones: the more crowded node (n2) first, recently ready first
    assert order[3:] == ["ready-new", "restarting", "ready-old"]
    assert [p["metadata"]["name"] for p in pods_to_delete(pods, 1)] == ["unscheduled"]


def test_status_counts_available_after_min_ready_seconds() -> None:
    owner = {
        "metadata": {"generation": 4},
        "spec": {"minReadySeconds": 30, "template": {"metadata": {"labels": {"app": "x"}}}},
    }
    ready_long = _pod("a", ready_since="2025-06-15T15:00:00Z")
    ready_now = _pod("b", ready_since="2025-06-15T15:06:30Z")  # T0 - 10 s
    unready = _pod("c")
    unready["metadata"]["labels"] = {"app": "x", "extra": "y"}
    partial = _pod("d")
    partial["metadata"]["labels"] = {}
    status = calculate_status(
        owner, [ready_long, ready_now, unready, partial], now=T0, failure=None
    )
    assert status == {
        "replicas": 4,
        "fullyLabeledReplicas": 3,
        "readyReplicas": 2,
        "availableReplicas": 1,
        "observedGeneration": 4,
    }
    failed = calculate_status(owner, [], now=T0, failure="quota exceeded")
    assert failed["conditions"][0]["type"] == "ReplicaFailure"
    assert failed["conditions"][0]["message"] == "quota exceeded"


def test_status_without_min_ready_counts_ready_as_available_on_frozen_pods() -> None:
    owner = freeze({"spec": {"template": {"metadata": {"labels": {"app": "x"}}}}})
    pods = [
        freeze(_pod("a", ready_since="bogus")),  # an unparsable time still counts as ready
        freeze(_pod("b", ready_since="2025-06-15T15:00:00Z")),
        freeze(_pod("c")),
    ]
    status = calculate_status(owner, pods, now=T0, failure=None)
    assert (status["readyReplicas"], status["availableReplicas"]) == (2, 2)
    assert status["fullyLabeledReplicas"] == 3


def test_controller_index_and_status_only_changes() -> None:
    owned = _pod("a")
    owned["metadata"]["namespace"] = "ns"
    owned["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "uid": "u1", "controller": True}]
    orphan = _pod("b")
    orphan["metadata"]["namespace"] = "ns"
    assert _controller_index(freeze(owned)) == ["u1"]
    assert _controller_index(freeze(orphan)) == [orphan_index_value("ns")]
    assert orphan_index_value("ns") != orphan_index_value("other")

    became_ready = _pod("a", ready_since="2025-06-15T15:00:00Z")
    became_ready["metadata"] = owned["metadata"]
    assert _status_only_change(freeze(owned), freeze(became_ready))
    finished = _pod("a", phase="Succeeded")
    finished["metadata"] = owned["metadata"]
    assert not _status_only_change(freeze(owned), freeze(finished))
    relabelled = freeze(owned) | {"metadata": {**owned["metadata"], "labels": {"app": "y"}}}
    assert not _status_only_change(freeze(owned), relabelled)
    released = freeze(owned) | {"metadata": {**owned["metadata"], "ownerReferences": []}}
    assert not _status_only_change(freeze(owned), released)
    assert isinstance(released, FrozenDict)


def test_expectations() -> None:
    clock = FakeClock(start=T0)
    exp = Expectations(clock, ttl=300)
    assert exp.satisfied("k")
    exp.expect_creations("k", 2)
    assert not exp.satisfied("k")
    exp.creation_observed("k")
    assert not exp.satisfied("k")
    exp.creation_observed("k")
    assert exp.satisfied("k")
    exp.expect_deletions("k", ["ns/a", "ns/b"])
    exp.deletion_observed("k", "ns/a")
    exp.deletion_observed("k", "ns/other")  # not one we deleted: ignored
    assert not exp.satisfied("k")
    clock.advance(301)  # the informer may have missed it: act again
    assert exp.satisfied("k")


# ---------------------------------------------------------------------- against an API server


@pytest.fixture
async def manager(url: str, token: str) -> AsyncIterator[ControllerManager]:
    async with running_controller_manager(
        url,
        token,
        controllers=(
            "replicaset-controller",
            "replicationcontroller-controller",
            "serviceaccount-controller",
        ),
    ) as m:
        yield m


def _rs(name: str, replicas: int, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
            },
            **spec,
        },
    }


async def _pods(api: httpx.AsyncClient, app: str) -> list[dict[str, Any]]:
    r = await api.get(PODS, params={"labelSelector": f"app={app}"})
    r.raise_for_status()
    return [p for p in r.json()["items"] if not p["metadata"].get("deletionTimestamp")]


async def _set_ready(api: httpx.AsyncClient, name: str, ready: bool = True) -> None:
    r = await api.patch(f"{PODS}/{name}/status", json=ready_status(ready), headers=MERGE)
    r.raise_for_status()


async def _count(api: httpx.AsyncClient, app: str, n: int) -> None:
    async def check() -> bool:
        return len(await _pods(api, app)) == n

    await eventually(check, within=10, interval=0.05)


@pytest.mark.usefixtures("manager")
async def test_replicaset_creates_replaces_and_scales(api: httpx.AsyncClient) -> None:
    r = await api.post(RS, json=_rs("web", 3))
    assert r.status_code == 201, r.text
    uid = r.json()["metadata"]["uid"]
    await _count(api, "web", 3)
    pods = await _pods(api, "web")
    for pod in pods:
        assert pod["metadata"]["name"].startswith("web-")
        (ref,) = pod["metadata"]["ownerReferences"]
        assert ref == {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "web",
            "uid": uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    # a deleted pod is replaced
    victim = pods[0]["metadata"]["name"]
    assert (await api.delete(f"{PODS}/{victim}")).status_code == 200
    await _count(api, "web", 3)
    assert victim not in {p["metadata"]["name"] for p in await _pods(api, "web")}

    # readiness is counted
    pods = await _pods(api, "web")
    keep = pods[0]["metadata"]["name"]
    await _set_ready(api, keep)

    async def ready_counted() -> bool:
        status = (await api.get(f"{RS}/web")).json().get("status") or {}
        return status.get("readyReplicas") == 1 and status.get("availableReplicas") == 1

    await eventually(ready_counted, within=10, interval=0.05, what="ready counted")
    # scaling down deletes the unready pods first
    r = await api.patch(f"{RS}/web", json={"spec": {"replicas": 1}}, headers=MERGE)
    assert r.status_code == 200
    await _count(api, "web", 1)
    assert [p["metadata"]["name"] for p in await _pods(api, "web")] == [keep]

    async def status_settled() -> bool:
        status = (await api.get(f"{RS}/web")).json().get("status") or {}
        return status.get("replicas") == 1 and status.get("observedGeneration") == 2

    await eventually(status_settled, within=10, interval=0.05, what="status settled")
    events = (await api.get("/api/v1/namespaces/default/events")).json()["items"]
    reasons = {e["reason"] for e in events if e["involvedObject"].get("name") == "web"}
    assert {"SuccessfulCreate", "SuccessfulDelete"} <= reasons


@pytest.mark.usefixtures("manager")
async def test_adopts_orphans_and_releases_pods_that_stop_matching(
    api: httpx.AsyncClient,
) -> None:
    orphan = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "orphan", "labels": {"app": "adopt"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }
    assert (await api.post(PODS, json=orphan)).status_code == 201
    r = await api.post(RS, json=_rs("adopt", 2))
    uid = r.json()["metadata"]["uid"]
    await _count(api, "adopt", 2)

    async def adopted() -> bool:
        pod = (await api.get(f"{PODS}/orphan")).json()
        refs = pod["metadata"].get("ownerReferences") or []
        return [ref["uid"] for ref in refs] == [uid]

    await eventually(adopted, within=10, interval=0.05, what="adopted")
    names = {p["metadata"]["name"] for p in await _pods(api, "adopt")}
    assert "orphan" in names  # only one new pod was created

    # relabel the orphan: released (no owner) and replaced
    r = await api.patch(
        f"{PODS}/orphan", json={"metadata": {"labels": {"app": "gone"}}}, headers=MERGE
    )
    assert r.status_code == 200

    async def released() -> bool:
        pod = (await api.get(f"{PODS}/orphan")).json()
        return not pod["metadata"].get("ownerReferences")

    await eventually(released, within=10, interval=0.05, what="released")
    await _count(api, "adopt", 2)


@pytest.mark.usefixtures("manager")
async def test_replication_controller(api: httpx.AsyncClient) -> None:
    rc = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "legacy"},
        "spec": {
            "replicas": 2,
            "selector": {"app": "legacy"},
            "template": {
                "metadata": {"labels": {"app": "legacy"}},
                "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
            },
        },
    }
    assert (await api.post(RC, json=rc)).status_code == 201
    await _count(api, "legacy", 2)
    pod = (await _pods(api, "legacy"))[0]
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "ReplicationController"

    async def counted() -> bool:
        status = (await api.get(f"{RC}/legacy")).json().get("status") or {}
        return status.get("replicas") == 2 and status.get("fullyLabeledReplicas") == 2

    await eventually(counted, within=10, interval=0.05, what="counted")


@pytest.mark.usefixtures("manager")
async def test_failing_creates_are_reported(api: httpx.AsyncClient) -> None:
    # pods naming a ServiceAccount that does not exist are refused by admission
    body = _rs("nosa", 2)
    body["spec"]["template"]["spec"]["serviceAccountName"] = "missing"
    assert (await api.post(RS, json=body)).status_code == 201

    async def failure_recorded() -> bool:
        status = (await api.get(f"{RS}/nosa")).json().get("status") or {}
        conds = {c["type"]: c for c in status.get("conditions") or []}
        return "ReplicaFailure" in conds and conds["ReplicaFailure"]["reason"] == "FailedCreate"

    await eventually(failure_recorded, within=20, interval=0.05, what="failure recorded")
    events = (await api.get("/api/v1/namespaces/default/events")).json()["items"]
    failed = [e for e in events if e["reason"] == "FailedCreate"]
    assert failed and "missing" in failed[0]["message"]
    assert await _pods(api, "nosa") == []


def _bare_controller() -> tuple[Any, FakeClock]:
    """A controller over informer caches filled by hand (no API server, nothing started)."""
    from skiff.client import SharedInformerFactory
    from skiff.controllers.base import ControllerContext
    from skiff.controllers.replicaset import ReplicaSetController

    clock = FakeClock(start=T0)
    factory = SharedInformerFactory(None, clock=clock)  # type: ignore[arg-type]
    ctx = ControllerContext(client=None, factory=factory, recorder=None, clock=clock)  # type: ignore[arg-type]
    ctl = ReplicaSetController(ctx)
    ctl.owners.indexer.upsert(
        freeze({"metadata": {"name": "rs", "namespace": "ns", "uid": "u1"}, "spec": {}})
    )
    return ctl, clock


def _owned(name: str, **kw: Any) -> FrozenDict:
    pod = _pod(name, **kw)
    pod["metadata"]["namespace"] = "ns"
    pod["metadata"]["ownerReferences"] = [
        {"kind": "ReplicaSet", "name": "rs", "uid": "u1", "controller": True}
    ]
    return freeze(pod)  # type: ignore[no-any-return]


def test_observed_creations_and_status_changes_are_coalesced() -> None:
    ctl, clock = _bare_controller()
    ctl.expectations.expect_creations("ns/rs", 2)
    ctl._pod_added(_owned("a"))  # one of two expected: only status could change, later
    assert len(ctl.queue) == 0 and ctl.queue.statistics().waiting == 1
    ctl._pod_added(_owned("b"))  # the expectations are met: at once
    assert len(ctl.queue) == 1 and ctl.queue.get_nowait() == "ns/rs"
    ctl.queue.done("ns/rs")
    ctl.queue.add("other")  # promotes due items on the next get; drain it
    clock.advance(1)
    assert {ctl.queue.get_nowait(), ctl.queue.get_nowait()} == {"other", "ns/rs"}
    ctl.queue.done("other")
    ctl.queue.done("ns/rs")
    # Ready is status only (later); a finished pod must be replaced (at once)
    ctl._pod_updated(_owned("a"), _owned("a", ready_since="2025-06-15T15:00:00Z"))
    assert len(ctl.queue) == 0
    ctl._pod_updated(_owned("a"), _owned("a", phase="Failed"))
    assert len(ctl.queue) == 1
    # the index gives the owner's pods only
    ctl.pods.indexer.upsert(_owned("a"))
    ctl.pods.indexer.upsert(freeze({**_pod("x"), "metadata": {"name": "x", "namespace": "ns"}}))
    assert [p["metadata"]["name"] for p in ctl.pods.indexer.by_index("controller-uid", "u1")] == [
        "a"
    ]
