"""The DaemonSet controller (skiff.controllers.daemonset) against an in-process API server. A
stand-in for the scheduler and the node agent binds each daemon pod to the node its affinity pins
(``pods/binding``) and marks it Ready.

Covers: the pure decisions (node eligibility by selector, affinity and taints; the daemon
tolerations and the pin; which outdated pods a rolling update deletes); one pod per eligible node
and none on a tainted one; a node added gets a pod, a deleted node's pod goes; a rolling update of
the image replaces pods without two nodes unavailable at once; ControllerRevisions and status.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from skiff.controllers import ControllerManager
from skiff.controllers.daemonset import daemon_pod_spec, node_should_run, rolling_update_victims
from skiff.testing.cluster import running_controller_manager
from skiff.testing.kubelet import StandInKubelet, running
from skiff.testing.wait import eventually

PODS = "/api/v1/namespaces/default/pods"
NODES = "/api/v1/nodes"
DS = "/apis/apps/v1/namespaces/default/daemonsets"
REVISIONS = "/apis/apps/v1/namespaces/default/controllerrevisions"
MERGE = {"Content-Type": "application/merge-patch+json"}


def _node(name: str, *, labels: dict[str, str] | None = None, taints: Any = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"taints": taints or []},
    }


def test_eligibility() -> None:
    spec: dict[str, Any] = {"nodeSelector": {"role": "edge"}}
    assert node_should_run(spec, _node("a", labels={"role": "edge"})) == (True, True)
    assert node_should_run(spec, _node("b")) == (False, False)
    tainted = _node("c", labels={"role": "edge"}, taints=[{"key": "x", "effect": "NoSchedule"}])
    assert node_should_run(spec, tainted) == (False, True)  # a running pod may stay
    evicting = _node("d", labels={"role": "edge"}, taints=[{"key": "x", "effect": "NoExecute"}])
    assert node_should_run(spec, evicting) == (False, False)
    tolerating = {**spec, "tolerations": [{"key": "x", "operator": "Exists"}]}
    assert node_should_run(tolerating, evicting) == (True, True)
    # node trouble never keeps a daemon pod away
    unreachable = _node(
        "e",
        labels={"role": "edge"},
        taints=[
            {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
            {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
        ],
    )
    assert node_should_run(spec, unreachable) == (True, True)


def test_daemon_pod_spec_pins_the_node() -> None:
    spec = daemon_pod_spec({"containers": [{"name": "c"}], "hostNetwork": True}, "n1")
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms == {
        "nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
        ]
    }
    keys = {(t["key"], t["effect"]) for t in spec["tolerations"]}
    assert ("node.kubernetes.io/unreachable", "NoExecute") in keys
    assert ("node.kubernetes.io/network-unavailable", "NoSchedule") in keys
    assert not any("tolerationSeconds" in t for t in spec["tolerations"])


def _p(name: str, h: str, ready: bool) -> dict[str, Any]:
    status: dict[str, Any] = {}
    if ready:
        status["conditions"] = [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z"}
        ]
    return {"metadata": {"name": name, "labels": {"controller-revision-hash": h}}, "status": status}


def test_rolling_update_victims() -> None:
    now = 1_800_000_000.0
    nodes = {
        "a": [_p("a1", "old", True)],
        "b": [_p("b1", "old", False)],  # unavailable: goes for free
        "c": [_p("c1", "new", True)],
        "d": [_p("d1", "old", True)],
    }
    victims = [p["metadata"]["name"] for p in rolling_update_victims(nodes, "new", 2, 0, now)]
    # b is already unavailable, so one more may go with maxUnavailable 2
    assert victims == ["b1", "a1"]
    victims = [p["metadata"]["name"] for p in rolling_update_victims(nodes, "new", 1, 0, now)]
    assert victims == ["b1"]


# ---------------------------------------------------------------------- against an API server


@pytest.fixture
async def manager(url: str, token: str) -> AsyncIterator[ControllerManager]:
    async with running_controller_manager(
        url, token, controllers=("daemonset-controller", "serviceaccount-controller")
    ) as m:
        yield m


class Binder(StandInKubelet):
    """Binds daemon pods to their pinned node, marks them Ready after ``delay``, confirms
    deletions; records the most nodes seen without a ready pod during a rollout."""

    def __init__(self, api: httpx.AsyncClient) -> None:
        super().__init__(api, delay=0.2)
        self.max_unready = 0
        self.nodes: set[str] = set()

    def observe(self, pods: list[dict[str, Any]]) -> None:
        ready_nodes = {
            pod["spec"]["nodeName"]
            for pod in pods
            if not pod["metadata"].get("deletionTimestamp")
            and pod["spec"].get("nodeName")
            and self.done(pod)
        }
        if self.nodes:
            self.max_unready = max(self.max_unready, len(self.nodes - ready_nodes))


@pytest.fixture
async def binder(api: httpx.AsyncClient) -> AsyncIterator[Binder]:
    async with running(Binder(api)) as b:
        yield b


async def _pods_by_node(api: httpx.AsyncClient) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for pod in (await api.get(PODS, params={"labelSelector": "app=agent"})).json()["items"]:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        out.setdefault(pod["spec"].get("nodeName") or "", []).append(pod)
    return out


@pytest.mark.usefixtures("manager")
async def test_one_pod_per_eligible_node_and_rolling_update(
    api: httpx.AsyncClient, binder: Binder
) -> None:
    for name in ("n1", "n2", "n3"):
        assert (await api.post(NODES, json=_node(name))).status_code == 201
    tainted = _node("n4", taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}])
    assert (await api.post(NODES, json=tainted)).status_code == 201
    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "c", "image": "agent:1"}]},
            },
        },
    }
    assert (await api.post(DS, json=ds)).status_code == 201

    async def on_three() -> bool:
        by_node = await _pods_by_node(api)
        return sorted(by_node) == ["n1", "n2", "n3"] and all(len(p) == 1 for p in by_node.values())

    await eventually(on_three, within=20, interval=0.05, what="on three")

    async def status_ready() -> bool:
        st = (await api.get(f"{DS}/agent")).json().get("status") or {}
        return (
            st.get("desiredNumberScheduled") == 3
            and st.get("numberReady") == 3
            and st.get("numberAvailable") == 3
            and st.get("updatedNumberScheduled") == 3
        )

    await eventually(status_ready, within=20, interval=0.05, what="status ready")
    revs = (await api.get(REVISIONS)).json()["items"]
    assert [r["revision"] for r in revs] == [1]
    assert revs[0]["data"]["spec"]["template"]["$patch"] == "replace"

    # a new node gets a pod; a deleted node's pod goes
    assert (await api.post(NODES, json=_node("n5"))).status_code == 201
    assert (await api.delete(f"{NODES}/n1")).status_code == 200

    async def moved() -> bool:
        return sorted(await _pods_by_node(api)) == ["n2", "n3", "n5"]

    await eventually(moved, within=20, interval=0.05, what="moved")
    await eventually(status_ready, within=20, interval=0.05, what="status ready")

    # rolling update: one node at a time (maxUnavailable 1)
    binder.nodes = {"n2", "n3", "n5"}
    binder.max_unready = 0
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "agent:2"}]}}}}
    assert (await api.patch(f"{DS}/agent", json=patch, headers=MERGE)).status_code == 200

    async def updated() -> bool:
        by_node = await _pods_by_node(api)
        images = {p["spec"]["containers"][0]["image"] for ps in by_node.values() for p in ps}
        st = (await api.get(f"{DS}/agent")).json().get("status") or {}
        return images == {"agent:2"} and st.get("numberAvailable") == 3

    await eventually(updated, within=30, interval=0.05, what="updated")
    assert binder.max_unready <= 1
    revs = (await api.get(REVISIONS)).json()["items"]
    assert sorted(r["revision"] for r in revs) == [1, 2]
