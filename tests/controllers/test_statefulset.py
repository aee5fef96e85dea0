"""The StatefulSet controller (skiff.controllers.statefulset) against an in-process API server,
with a stand-in kubelet that marks pods Running and Ready (a short delay after it sees them) and
confirms deletions.

Covers: the pure step (`plan`: ordered creation waiting for readiness, failed pods replaced,
scale-down from the highest ordinal one at a time, Parallel, the rolling update from the top down
to the partition); stable names, hostname/subdomain and labels; creation strictly in order;
scale-down in reverse order; a rolling update with a partition, then without; claims from
volumeClaimTemplates; status revisions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from skiff.controllers import ControllerManager
from skiff.controllers.statefulset import ordinal_of, plan
from skiff.testing.cluster import running_controller_manager
from skiff.testing.kubelet import StandInKubelet, running
from skiff.testing.wait import eventually

PODS = "/api/v1/namespaces/default/pods"
PVCS = "/api/v1/namespaces/default/persistentvolumeclaims"
STS = "/apis/apps/v1/namespaces/default/statefulsets"
MERGE = {"Content-Type": "application/merge-patch+json"}


def _pod(
    h: str = "v1", *, ready: bool = True, phase: str = "Running", deleting: bool = False
) -> dict[str, Any]:
    meta: dict[str, Any] = {"labels": {"controller-revision-hash": h}}
    if deleting:
        meta["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    return {
        "metadata": meta,
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def _plan(pods: dict[int, Any], replicas: int = 3, **kw: Any) -> tuple[list[int], list[int]]:
    args: dict[str, Any] = {
        "replicas": replicas,
        "start": 0,
        "pods": pods,
        "parallel": False,
        "rolling": True,
        "partition": 0,
        "update_hash": "v1",
    }
    args.update(kw)
    return plan(**args)


def test_plan() -> None:
    assert ordinal_of("web", "web-12") == 12 and ordinal_of("web", "web-x") is None
    assert _plan({}) == ([0], [])
    assert _plan({0: _pod(ready=False)}) == ([], [])  # wait for web-0
    assert _plan({0: _pod()}) == ([1], [])
    assert _plan({}, parallel=True) == ([0, 1, 2], [])
    assert _plan({0: _pod(), 1: _pod(phase="Failed")}) == ([], [1])
    # scale down: the highest first, one at a time
    pods = {i: _pod() for i in range(5)}
    assert _plan(pods) == ([], [4])
    pods[4] = _pod(deleting=True)
    assert _plan(pods) == ([], [])
    assert _plan({i: _pod() for i in range(5)}, parallel=True) == ([], [4, 3])
    # rolling update from the top, down to the partition
    old = {i: _pod("v0") for i in range(3)}
    assert _plan(old) == ([], [2])
    assert _plan(old, partition=2) == ([], [2])
    assert _plan({0: _pod("v0"), 1: _pod("v0"), 2: _pod()}, partition=2) == ([], [])
    assert _plan({0: _pod("v0"), 1: _pod("v0"), 2: _pod()}) == ([], [1])
    # an unhealthy pod stops the rollout
    assert _plan({0: _pod("v0"), 1: _pod("v0"), 2: _pod(ready=False)}) == ([], [])
    assert _plan(old, rolling=False) == ([], [])  # OnDelete


# ---------------------------------------------------------------------- against an API server


@pytest.fixture
async def manager(url: str, token: str) -> AsyncIterator[ControllerManager]:
    async with running_controller_manager(
        url, token, controllers=("statefulset-controller", "serviceaccount-controller")
    ) as m:
        yield m


class Kubelet(StandInKubelet):
    """Marks pods Running and Ready and confirms deletions; records the order pods were created
    and deleted in."""

    def __init__(self, api: httpx.AsyncClient) -> None:
        super().__init__(api, delay=0.15, interval=0.03)
        self.created: list[str] = []
        self.deleted: list[str] = []
        self.present: set[str] = set()
        self.names: dict[str, str] = {}
        self.known: set[str] = set()

    def observe(self, pods: list[dict[str, Any]]) -> None:
        # unbound pods are deleted at once (no grace): notice them going away
        uids = {p["metadata"]["uid"]: p["metadata"]["name"] for p in pods}
        # pods gone in the same poll are recorded highest ordinal first: the poll cannot
        # tell their order apart, and the controller only deletes downwards
        gone = [self.names.pop(uid) for uid in self.present - set(uids)]
        self.deleted.extend(sorted(gone, key=lambda n: -int(n.rsplit("-", 1)[1])))
        self.present = set(uids)
        self.names.update(uids)
        for pod in pods:
            meta = pod["metadata"]
            if not meta.get("deletionTimestamp") and meta["uid"] not in self.known:
                self.known.add(meta["uid"])
                self.created.append(meta["name"])


@pytest.fixture
async def kubelet(api: httpx.AsyncClient) -> AsyncIterator[Kubelet]:
    async with running(Kubelet(api)) as k:
        yield k


async def _pods(api: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    items = (await api.get(PODS, params={"labelSelector": "app=db"})).json()["items"]
    return {p["metadata"]["name"]: p for p in items if not p["metadata"].get("deletionTimestamp")}


async def _status(api: httpx.AsyncClient) -> dict[str, Any]:
    return dict((await api.get(f"{STS}/db")).json().get("status") or {})


@pytest.mark.usefixtures("manager")
async def test_ordered_pods_scale_and_rolling_update(
    api: httpx.AsyncClient, kubelet: Kubelet
) -> None:
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 3,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "c", "image": "db:1"}]},
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
        },
    }
    assert (await api.post(STS, json=sts)).status_code == 201

    async def three_ready() -> bool:
        st = await _status(api)
        return st.get("readyReplicas") == 3 and st.get("replicas") == 3

    await eventually(three_ready, within=20, interval=0.05, what="three ready")
    assert kubelet.created == ["db-0", "db-1", "db-2"]  # strictly in order
    pods = await _pods(api)
    p1 = pods["db-1"]
    assert p1["spec"]["hostname"] == "db-1" and p1["spec"]["subdomain"] == "db"
    assert p1["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "db-1"
    assert p1["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "1"
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-1"}} in p1["spec"][
        "volumes"
    ]
    claims = {c["metadata"]["name"] for c in (await api.get(PVCS)).json()["items"]}
    assert claims == {"data-db-0", "data-db-1", "data-db-2"}
    st = await _status(api)
    assert st["currentRevision"] == st["updateRevision"]

    # rolling update with a partition: only ordinals >= 1 move
    patch = {
        "spec": {
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
            "template": {"spec": {"containers": [{"name": "c", "image": "db:2"}]}},
        }
    }
    kubelet.deleted.clear()
    kubelet.created.clear()
    assert (await api.patch(f"{STS}/db", json=patch, headers=MERGE)).status_code == 200

    async def partitioned() -> bool:
        st = await _status(api)
        return st.get("updatedReplicas") == 2 and st.get("readyReplicas") == 3

    await eventually(partitioned, within=20, interval=0.05, what="partitioned")
    images = {n: p["spec"]["containers"][0]["image"] for n, p in (await _pods(api)).items()}
    assert images == {"db-0": "db:1", "db-1": "db:2", "db-2": "db:2"}
    assert kubelet.deleted == ["db-2", "db-1"]  # from the top
    assert kubelet.created == ["db-2", "db-1"]
    st = await _status(api)
    assert st["currentRevision"] != st["updateRevision"]

    patch = {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}}
    assert (await api.patch(f"{STS}/db", json=patch, headers=MERGE)).status_code == 200

    async def rolled() -> bool:
        st = await _status(api)
        return (
            st.get("updatedReplicas") == 3
            and st.get("readyReplicas") == 3
            and st.get("currentRevision") == st.get("updateRevision")
        )

    await eventually(rolled, within=20, interval=0.05, what="rolled")

    # scale down: highest first
    kubelet.deleted.clear()
    assert (
        await api.patch(f"{STS}/db", json={"spec": {"replicas": 1}}, headers=MERGE)
    ).status_code == 200

    async def one_left() -> bool:
        return sorted(await _pods(api)) == ["db-0"]

    await eventually(one_left, within=20, interval=0.05, what="one left")

    async def kubelet_saw_both_go() -> bool:  # its poll may lag the list above by one interval
        return len(kubelet.deleted) >= 2

    await eventually(kubelet_saw_both_go, within=5, interval=0.03, what="deletions observed")
    assert kubelet.deleted == ["db-2", "db-1"]
