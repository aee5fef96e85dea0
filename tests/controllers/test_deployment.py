"""The Deployment controller (skiff.controllers.deployment) with the ReplicaSet controller, against
an in-process API server. A stand-in kubelet in the test marks every new pod Running and Ready
through ``pods/status`` (after a short delay), so rollouts progress as on a node.

Covers: the pure decisions (maxSurge/maxUnavailable resolution, how far the new ReplicaSet may
grow, how many old pods may go, proportional scaling, the template hash); a new Deployment's
ReplicaSet, revision annotations and complete status; a rolling update that never drops below
``replicas - maxUnavailable`` ready pods and ends with the old ReplicaSet at 0; Recreate (old pods
gone before new ones are created); pause and resume; scaling during a rollout; the progress
deadline; revisionHistoryLimit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from skiff.controllers import ControllerManager
from skiff.controllers.deployment import (
    REVISION,
    max_surge_unavailable,
    new_rs_replicas,
    pod_template_hash,
    proportional_scale,
    scale_down_old_count,
)
from skiff.testing.cluster import running_controller_manager
from skiff.testing.kubelet import StandInKubelet, running
from skiff.testing.wait import eventually

PODS = "/api/v1/namespaces/default/pods"
RS = "/apis/apps/v1/namespaces/default/replicasets"
DEPLOY = "/apis/apps/v1/namespaces/default/deployments"
MERGE = {"Content-Type": "application/merge-patch+json"}


def _d(replicas: int, surge: Any = None, unavailable: Any = None) -> dict[str, Any]:
    rolling = {}
    if surge is not None:
        rolling["maxSurge"] = surge
    if unavailable is not None:
        rolling["maxUnavailable"] = unavailable
    return {"spec": {"replicas": replicas, "strategy": {"rollingUpdate": rolling}}}


def _rs(replicas: int, available: int = 0) -> dict[str, Any]:
    return {"spec": {"replicas": replicas}, "status": {"availableReplicas": available}}


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "expected"),
    [
        (4, None, None, (1, 1)),  # 25 % each: surge rounds up, unavailable down
        (1, None, None, (1, 0)),
        (10, "30%", "30%", (3, 3)),
        (3, 0, 0, (0, 1)),  # both zero: one may be unavailable so the rollout can move
        (5, 2, "0%", (2, 0)),
    ],
)
def test_max_surge_and_unavailable(
    replicas: int, surge: Any, unavailable: Any, expected: tuple[int, int]
) -> None:
    assert max_surge_unavailable(_d(replicas, surge, unavailable)) == expected


def test_rollout_step_sizes() -> None:
    d = _d(4, 1, 1)
    old, new = _rs(4, 4), _rs(0)
    assert new_rs_replicas(d, [old, new], new) == 1  # 4 + 1 surge
    new = _rs(1)
    assert new_rs_replicas(d, [old, new], new) == 1  # at 5 already: wait
    # 5 pods, 3 must stay available, the new pod is not available yet: 5 - 3 - 1 = 1 may go
    assert scale_down_old_count(d, [old, new], new) == 1
    old, new = _rs(3, 3), _rs(1, 1)
    assert new_rs_replicas(d, [old, new], new) == 2
    assert scale_down_old_count(d, [old, _rs(2, 1)], _rs(2, 1)) == 1


def test_proportional_scaling() -> None:
    assert proportional_scale([6, 4], 5) == [3, 2]
    assert proportional_scale([6, 4], -5) == [-3, -2]
    assert (
        proportional_scale([5, 5, 1], 4) == [2, 2, 0] or sum(proportional_scale([5, 5, 1], 4)) == 4
    )
    assert sum(proportional_scale([7, 2, 1], 3)) == 3
    assert proportional_scale([2, 1], -10) == [-2, -1]  # never below zero


def test_template_hash() -> None:
    t = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c"}]}}
    h = pod_template_hash(t)
    assert h == pod_template_hash(dict(t))
    assert h != pod_template_hash(t, 1)
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789")


# ---------------------------------------------------------------------- against an API server


class Kubelet(StandInKubelet):
    """Marks pods Running and Ready ``delay`` seconds after it first sees them and records the
    fewest ready pods seen per app label."""

    def __init__(self, api: httpx.AsyncClient) -> None:
        super().__init__(api, delay=0.2)
        self.min_ready: dict[str, int] = {}

    def observe(self, pods: list[dict[str, Any]]) -> None:
        ready_by_app: dict[str, int] = {}
        for pod in pods:
            meta = pod["metadata"]
            app = (meta.get("labels") or {}).get("app", "")
            if self.done(pod) and not meta.get("deletionTimestamp"):
                ready_by_app[app] = ready_by_app.get(app, 0) + 1
        for app, n in ready_by_app.items():
            self.min_ready[app] = min(self.min_ready.get(app, n), n)


@pytest.fixture
async def manager(url: str, token: str) -> AsyncIterator[ControllerManager]:
    async with running_controller_manager(
        url,
        token,
        controllers=("deployment-controller", "replicaset-controller", "serviceaccount-controller"),
    ) as m:
        yield m


@pytest.fixture
async def kubelet(api: httpx.AsyncClient) -> AsyncIterator[Kubelet]:
    async with running(Kubelet(api)) as k:
        yield k


def _deployment(name: str, replicas: int, image: str = "web:1", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
            **spec,
        },
    }


async def _get(api: httpx.AsyncClient, path: str) -> dict[str, Any]:
    r = await api.get(path)
    r.raise_for_status()
    return dict(r.json())


async def _replica_sets(api: httpx.AsyncClient, app: str) -> list[dict[str, Any]]:
    r = await api.get(RS, params={"labelSelector": f"app={app}"})
    return list(r.json()["items"])


def _complete(d: dict[str, Any]) -> bool:
    status = d.get("status") or {}
    want = d["spec"]["replicas"]
    conds = {c["type"]: c for c in status.get("conditions") or []}
    return (
        status.get("observedGeneration", 0) >= d["metadata"]["generation"]
        and status.get("updatedReplicas") == want
        and status.get("replicas") == want
        and status.get("availableReplicas") == want
        and conds.get("Progressing", {}).get("reason") == "NewReplicaSetAvailable"
    )


async def _wait_complete(api: httpx.AsyncClient, name: str, within: float = 30.0) -> dict[str, Any]:
    async def check() -> bool:
        return _complete(await _get(api, f"{DEPLOY}/{name}"))

    await eventually(check, within=within, interval=0.05)
    return await _get(api, f"{DEPLOY}/{name}")


@pytest.mark.usefixtures("manager")
async def test_rolling_update(api: httpx.AsyncClient, kubelet: Kubelet) -> None:
    body = _deployment(
        "web",
        4,
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}},
    )
    body["metadata"]["annotations"] = {"kubernetes.io/change-cause": "first"}
    assert (await api.post(DEPLOY, json=body)).status_code == 201
    d = await _wait_complete(api, "web")
    assert d["metadata"]["annotations"][REVISION] == "1"
    conds = {c["type"]: c for c in d["status"]["conditions"]}
    assert conds["Available"]["status"] == "True"
    (rs1,) = await _replica_sets(api, "web")
    h = rs1["metadata"]["labels"]["pod-template-hash"]
    assert rs1["metadata"]["name"] == f"web-{h}"
    assert rs1["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": h}
    assert rs1["metadata"]["annotations"]["kubernetes.io/change-cause"] == "first"
    assert rs1["metadata"]["ownerReferences"][0]["kind"] == "Deployment"

    kubelet.min_ready["web"] = 4
    patch = {
        "metadata": {"annotations": {"kubernetes.io/change-cause": "second"}},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "web:2"}]}}},
    }
    assert (await api.patch(f"{DEPLOY}/web", json=patch, headers=MERGE)).status_code == 200
    d = await _wait_complete(api, "web")
    assert d["metadata"]["annotations"][REVISION] == "2"
    rss = {rs["metadata"]["name"]: rs for rs in await _replica_sets(api, "web")}
    assert rss[rs1["metadata"]["name"]]["spec"]["replicas"] == 0
    (new,) = [rs for rs in rss.values() if rs["metadata"]["name"] != rs1["metadata"]["name"]]
    assert new["spec"]["replicas"] == 4
    assert new["metadata"]["annotations"][REVISION] == "2"
    assert new["metadata"]["annotations"]["kubernetes.io/change-cause"] == "second"
    # never below replicas - maxUnavailable ready pods
    assert kubelet.min_ready["web"] >= 3

    async def old_pods_gone() -> bool:
        pods = (await api.get(PODS, params={"labelSelector": "app=web"})).json()["items"]
        return all(p["spec"]["containers"][0]["image"] == "web:2" for p in pods) and len(pods) == 4

    await eventually(old_pods_gone, within=20, interval=0.05, what="old pods gone")
    events = (await api.get("/api/v1/namespaces/default/events")).json()["items"]
    scaling = [e["message"] for e in events if e["reason"] == "ScalingReplicaSet"]
    assert f"Scaled up replica set {rs1['metadata']['name']} from 0 to 4" in scaling


@pytest.mark.usefixtures("manager")
async def test_recreate(api: httpx.AsyncClient, kubelet: Kubelet) -> None:
    del kubelet
    body = _deployment("rec", 2, strategy={"type": "Recreate"})
    assert (await api.post(DEPLOY, json=body)).status_code == 201
    await _wait_complete(api, "rec")
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "web:2"}]}}}}
    assert (await api.patch(f"{DEPLOY}/rec", json=patch, headers=MERGE)).status_code == 200
    mixed = False

    async def done() -> bool:
        nonlocal mixed
        pods = (await api.get(PODS, params={"labelSelector": "app=rec"})).json()["items"]
        images = {p["spec"]["containers"][0]["image"] for p in pods}
        mixed = mixed or images == {"web:1", "web:2"}
        return _complete(await _get(api, f"{DEPLOY}/rec")) and images == {"web:2"}

    await eventually(done, within=30, interval=0.05, what="done")
    assert not mixed, "Recreate ran old and new pods at the same time"


@pytest.mark.usefixtures("manager")
async def test_pause_resume_and_scale(api: httpx.AsyncClient, kubelet: Kubelet) -> None:
    del kubelet
    assert (await api.post(DEPLOY, json=_deployment("p", 2))).status_code == 201
    await _wait_complete(api, "p")
    r = await api.patch(
        f"{DEPLOY}/p",
        json={
            "spec": {
                "paused": True,
                "template": {"spec": {"containers": [{"name": "c", "image": "web:2"}]}},
            }
        },
        headers=MERGE,
    )
    assert r.status_code == 200

    async def paused() -> bool:
        d = await _get(api, f"{DEPLOY}/p")
        conds = {c["type"]: c for c in d["status"].get("conditions") or []}
        return conds.get("Progressing", {}).get("reason") == "DeploymentPaused"

    await eventually(paused, within=20, interval=0.05, what="paused")
    assert len(await _replica_sets(api, "p")) == 1  # no rollout while paused
    # scaling still applies while paused
    r = await api.patch(f"{DEPLOY}/p", json={"spec": {"replicas": 3}}, headers=MERGE)
    assert r.status_code == 200

    async def scaled() -> bool:
        (rs,) = await _replica_sets(api, "p")
        return bool(rs["spec"]["replicas"] == 3)

    await eventually(scaled, within=20, interval=0.05, what="scaled")
    r = await api.patch(f"{DEPLOY}/p", json={"spec": {"paused": False}}, headers=MERGE)
    assert r.status_code == 200
    d = await _wait_complete(api, "p")
    assert d["metadata"]["annotations"][REVISION] == "2"
    assert len(await _replica_sets(api, "p")) == 2


@pytest.mark.usefixtures("manager")
async def test_progress_deadline_and_history_limit(api: httpx.AsyncClient) -> None:
    # no kubelet: pods never become ready, so the rollout cannot finish
    body = _deployment("slow", 1, progressDeadlineSeconds=1, revisionHistoryLimit=1)
    assert (await api.post(DEPLOY, json=body)).status_code == 201

    async def exceeded() -> bool:
        d = await _get(api, f"{DEPLOY}/slow")
        conds = {c["type"]: c for c in (d.get("status") or {}).get("conditions") or []}
        prog = conds.get("Progressing", {})
        return prog.get("status") == "False" and prog.get("reason") == "ProgressDeadlineExceeded"

    await eventually(exceeded, within=15, interval=0.05, what="exceeded")
    d = await _get(api, f"{DEPLOY}/slow")
    conds = {c["type"]: c for c in d["status"]["conditions"]}
    assert "has timed out progressing" in conds["Progressing"]["message"]
