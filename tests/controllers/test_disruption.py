"""PodDisruptionBudget status (skiff.controllers.disruption) and the eviction subresource that
reads it, against an in-process API server.

Covers: the pure decisions (IntOrString scaling, healthy counting with recent disruptions,
``disruptedPods`` pruning); status for an integer ``minAvailable`` over bare pods, for
``maxUnavailable`` over a ReplicaSet's pods (expectedPods from its replicas, also through a
Deployment), for unmanaged pods (expectedPods 0, nothing allowed), and the fail-safe when a pod's
controller is missing; eviction spending disruptions (decrement + ``disruptedPods``), refusing with
429 once none is left and while the status is behind the budget's generation; an unready pod
evicted while the budget is otherwise met (``unhealthyPodEvictionPolicy: IfHealthyBudget``); the
expiry of a recorded disruption after two minutes, on a FakeClock. Excludes: the
``DisruptionTarget`` pod condition (not built).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from skiff.controllers.disruption import (
    DELETION_TIMEOUT,
    SyncError,
    count_healthy,
    disrupted_pod_map,
    scaled_value,
)
from skiff.testing.clock import FakeClock
from skiff.testing.cluster import running_controller_manager
from skiff.testing.kubelet import ready_status

PODS = "/api/v1/namespaces/default/pods"
PDBS = "/apis/policy/v1/namespaces/default/poddisruptionbudgets"
MERGE = {"Content-Type": "application/merge-patch+json"}
T0 = 1_750_000_000.0
STAMP = "2025-06-15T15:03:20Z"  # T0 - 200 s


@pytest.mark.parametrize(
    ("value", "total", "up", "expected"),
    [(3, 10, True, 3), ("50%", 5, True, 3), ("50%", 5, False, 2), ("0%", 7, True, 0)],
    ids=["int", "pct-up", "pct-down", "zero"],
)
def test_scaled_value(value: Any, total: int, up: bool, expected: int) -> None:
    assert scaled_value(value, total, round_up=up) == expected


def test_scaled_value_rejects_a_plain_string() -> None:
    with pytest.raises(SyncError, match="not a percentage"):
        scaled_value("3", 10, round_up=True)


def _p(name: str, *, ready: bool = True, deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if deleting:
        meta["deletionTimestamp"] = STAMP
    status = {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    return {"metadata": meta, "status": status}


def test_healthy_counting_and_disrupted_pods() -> None:
    pods = [_p("a"), _p("b"), _p("c", ready=False), _p("d", deleting=True), _p("e")]
    recent = "2025-06-15T15:06:30Z"  # T0 - 10 s
    recorded = {"b": recent, "d": recent, "gone": recent, "e": STAMP}
    kept, recheck = disrupted_pod_map(recorded, pods, T0)
    # d is being deleted, "gone" no longer exists: dropped; e's entry is only 200 s old but
    # DELETION_TIMEOUT is 120 s: dropped too
    assert kept == {"b": recent}
    assert recheck == pytest.approx(T0 - 10 + DELETION_TIMEOUT)
    assert count_healthy(pods, kept, T0) == 2  # a and e (b disrupted, c unready, d deleting)


async def _until(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return False


async def _pod(
    api: httpx.AsyncClient, name: str, app: str, *, owner: dict[str, Any] | None = None
) -> None:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    if owner is not None:
        body["metadata"]["ownerReferences"] = [
            {
                "apiVersion": owner["apiVersion"],
                "kind": owner["kind"],
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
            }
        ]
    r = await api.post(PODS, json=body)
    assert r.status_code == 201, r.text
    r = await api.patch(f"{PODS}/{name}/status", json=ready_status(), headers=MERGE)
    assert r.status_code == 200, r.text


async def _replicaset(api: httpx.AsyncClient, name: str, replicas: int) -> dict[str, Any]:
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    r = await api.post("/apis/apps/v1/namespaces/default/replicasets", json=rs)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _budget(api: httpx.AsyncClient, name: str, app: str, **spec: Any) -> None:
    body = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": app}}, **spec},
    }
    r = await api.post(PDBS, json=body)
    assert r.status_code == 201, r.text


async def _status(api: httpx.AsyncClient, name: str, **want: Any) -> dict[str, Any]:
    """Wait until the budget's status is current and has ``want``; return it."""
    got: dict[str, Any] = {}

    async def check() -> bool:
        nonlocal got
        pdb = (await api.get(f"{PDBS}/{name}")).json()
        got = pdb.get("status") or {}
        if got.get("observedGeneration") != pdb["metadata"]["generation"]:
            return False
        return all(got.get(k) == v for k, v in want.items())

    assert await _until(check), (want, got)
    return got


async def _evict(api: httpx.AsyncClient, name: str) -> httpx.Response:
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}
    return await api.post(f"{PODS}/{name}/eviction", json=body)


@pytest.mark.usefixtures("controller_manager")
async def test_min_available_over_bare_pods_and_eviction(api: httpx.AsyncClient) -> None:
    for name in ("db-0", "db-1", "db-2"):
        await _pod(api, name, "db")
    await _budget(api, "db", "db", minAvailable=2)
    status = await _status(api, "db", disruptionsAllowed=1)
    assert (status["currentHealthy"], status["desiredHealthy"], status["expectedPods"]) == (3, 2, 3)
    cond = status["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == (
        "DisruptionAllowed",
        "True",
        "SufficientPods",
    )
    assert (await _evict(api, "db-0")).status_code == 201
    # the eviction spent the disruption itself: the next one is refused at once
    r = await _evict(api, "db-1")
    assert r.status_code == 429, r.text
    body = r.json()
    assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert body["details"]["causes"][0]["reason"] == "DisruptionBudget"
    status = await _status(api, "db", disruptionsAllowed=0, currentHealthy=2)
    assert status["conditions"][0]["reason"] == "InsufficientPods"


@pytest.mark.usefixtures("controller_manager")
async def test_eviction_records_the_pod_in_disrupted_pods(api: httpx.AsyncClient) -> None:
    for name in ("w-0", "w-1"):
        await _pod(api, name, "w")
    # a finalizer keeps the evicted pod around, so the budget must remember the disruption
    r = await api.patch(
        f"{PODS}/w-0", json={"metadata": {"finalizers": ["example.com/hold"]}}, headers=MERGE
    )
    assert r.status_code == 200
    await _budget(api, "w", "w", minAvailable=1)
    await _status(api, "w", disruptionsAllowed=1)
    assert (await _evict(api, "w-0")).status_code == 201
    pdb = (await api.get(f"{PDBS}/w")).json()
    assert "w-0" in pdb["status"]["disruptedPods"]
    assert pdb["status"]["disruptionsAllowed"] == 0
    await api.patch(f"{PODS}/w-0", json={"metadata": {"finalizers": None}}, headers=MERGE)


@pytest.mark.usefixtures("controller_manager")
async def test_max_unavailable_counts_the_controllers_replicas(api: httpx.AsyncClient) -> None:
    rs = await _replicaset(api, "rs", 4)
    for name in ("r1", "r2"):  # only two of the four replicas exist so far
        await _pod(api, name, "rs", owner=rs)
    await _budget(api, "rs", "rs", maxUnavailable=1)
    status = await _status(api, "rs", expectedPods=4)
    assert (status["desiredHealthy"], status["currentHealthy"]) == (3, 2)
    assert status["disruptionsAllowed"] == 0
    r = await _evict(api, "r1")
    assert r.status_code == 429
    assert "needs 3 healthy pods and has 2 currently" in r.text


@pytest.mark.usefixtures("controller_manager")
async def test_replicaset_of_a_deployment_counts_as_the_deployment(
    api: httpx.AsyncClient,
) -> None:
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    r = await api.post("/apis/apps/v1/namespaces/default/deployments", json=dep)
    assert r.status_code == 201, r.text
    deployment = r.json()
    rs = await _replicaset(api, "web-abc", 1)  # its own replicas must not count
    patch = {
        "metadata": {
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "web",
                    "uid": deployment["metadata"]["uid"],
                    "controller": True,
                }
            ]
        }
    }
    r = await api.patch(
        "/apis/apps/v1/namespaces/default/replicasets/web-abc", json=patch, headers=MERGE
    )
    assert r.status_code == 200, r.text
    await _pod(api, "web-1", "web", owner=rs)
    await _budget(api, "web", "web", minAvailable="50%")
    status = await _status(api, "web", expectedPods=3)
    assert status["desiredHealthy"] == 2  # 50 % of 3, rounded up


@pytest.mark.usefixtures("controller_manager")
async def test_unmanaged_pods_are_not_expected(api: httpx.AsyncClient) -> None:
    for name in ("u1", "u2"):
        await _pod(api, name, "u")
    await _budget(api, "u", "u", maxUnavailable=1)
    status = await _status(api, "u", expectedPods=0)
    assert status["disruptionsAllowed"] == 0  # nothing to base maxUnavailable on


async def test_a_missing_controller_fails_safe(
    api: httpx.AsyncClient, url: str, token: str
) -> None:
    ghost = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "ghost", "uid": "00000000-0000-0000-0000-000000000000"},
    }
    # no garbage collector here: it would delete the pod of a missing owner
    async with running_controller_manager(url, token, controllers=["serviceaccount"]):
        await _pod(api, "orphan", "o", owner=ghost)
    await _budget(api, "o", "o", maxUnavailable="10%")

    async def failed_safe() -> bool:
        got = (await api.get(f"{PDBS}/o")).json().get("status") or {}
        conds = got.get("conditions") or []
        return bool(conds) and conds[0].get("reason") == "SyncFailed"

    async with running_controller_manager(url, token, controllers=["disruption"]):
        assert await _until(failed_safe)
    got = (await api.get(f"{PDBS}/o")).json()["status"]
    assert got["disruptionsAllowed"] == 0
    assert got["conditions"][0]["message"] == 'found no controllers for pod "orphan"'
    r = await _evict(api, "orphan")  # the status never caught up with the budget's generation
    assert r.status_code == 429
    assert r.headers["retry-after"] == "10"
    assert "is still being processed by the server" in r.text


async def test_eviction_waits_for_the_controller(
    api: httpx.AsyncClient, url: str, token: str
) -> None:
    async with running_controller_manager(url, token, controllers=["serviceaccount"]):
        await _pod(api, "s-0", "s")
        await _pod(api, "s-1", "s")
    await _budget(api, "s", "s", minAvailable=1)
    r = await _evict(api, "s-0")
    assert r.status_code == 429  # no disruption controller has looked at the budget yet
    assert r.json()["details"]["retryAfterSeconds"] == 10
    async with running_controller_manager(url, token, controllers=["disruption"]):
        await _status(api, "s", disruptionsAllowed=1)
        assert (await _evict(api, "s-0")).status_code == 201


async def test_a_disruption_expires_after_two_minutes_on_the_fake_clock(
    api: httpx.AsyncClient, url: str, token: str
) -> None:
    """An evicted pod that is not deleted within DELETION_TIMEOUT counts as healthy again: the
    controller rechecks the budget when the entry expires (time from the injected clock)."""
    async with running_controller_manager(url, token, controllers=["serviceaccount"]):
        await _pod(api, "x-0", "x")
        await _pod(api, "x-1", "x")
    await _budget(api, "x", "x", minAvailable=1)
    clock = FakeClock(wall_start=datetime.now(UTC).timestamp())

    async def ticking(check: Callable[[], Awaitable[bool]]) -> bool:
        # small steps of fake time let rate-limited retries (conflicts) through meanwhile
        for _ in range(500):
            if await check():
                return True
            clock.advance(0.01)
            await asyncio.sleep(0.02)
        return False

    async def allowed(n: int) -> bool:
        pdb = (await api.get(f"{PDBS}/x")).json()
        status = pdb.get("status") or {}
        return bool(
            status.get("observedGeneration") == pdb["metadata"]["generation"]
            and status.get("disruptionsAllowed") == n
        )

    async with running_controller_manager(url, token, controllers=["disruption"], clock=clock):
        assert await ticking(lambda: allowed(1))
        pdb = (await api.get(f"{PDBS}/x")).json()
        when = datetime.fromtimestamp(clock.time(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        pdb["status"]["disruptedPods"] = {"x-0": when}  # as an eviction records it
        pdb["status"]["disruptionsAllowed"] = 0
        r = await api.put(f"{PDBS}/x/status", json=pdb)
        assert r.status_code == 200, r.text
        assert await ticking(lambda: allowed(0))  # x-0 is counted as going away
        got = (await api.get(f"{PDBS}/x")).json()["status"]
        assert got["currentHealthy"] == 1 and "x-0" in got["disruptedPods"]
        clock.advance(DELETION_TIMEOUT + 1)  # x-0 was never deleted: the entry expires
        assert await ticking(lambda: allowed(1))
        got = (await api.get(f"{PDBS}/x")).json()["status"]
        assert got["currentHealthy"] == 2 and not got.get("disruptedPods")


@pytest.mark.usefixtures("controller_manager")
async def test_an_unready_pod_may_go_while_the_budget_is_met(api: httpx.AsyncClient) -> None:
    for name in ("h-0", "h-1", "sick"):
        await _pod(api, name, "h")
    unready = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    r = await api.patch(f"{PODS}/sick/status", json=unready, headers=MERGE)
    assert r.status_code == 200
    await _budget(api, "h", "h", minAvailable=2)
    status = await _status(api, "h", currentHealthy=2)
    assert (status["desiredHealthy"], status["disruptionsAllowed"]) == (2, 0)
    assert (await _evict(api, "sick")).status_code == 201  # IfHealthyBudget: it is not counted
    assert (await _evict(api, "h-0")).status_code == 429
