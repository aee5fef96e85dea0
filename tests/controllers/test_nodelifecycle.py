"""The node lifecycle controller (skiff.controllers.nodelifecycle).

Covers the pure decisions - the zone rule (``compute_zone_state``, the eviction rate per zone
state and size), the NoSchedule taints a node's conditions call for, toleration matching and the
eviction delay a pod's tolerations give, the token bucket on a FakeClock, node health from Lease
renewals and heartbeats on a FakeClock - and, against an in-process API server with Node and Lease
objects the test renews itself (no agent): a node whose Lease stops being renewed turns Unknown
(NodeStatusUnknown), its pods turn Ready=False, it gets the ``unreachable`` NoSchedule and
NoExecute taints; an intolerant pod is evicted at once with the DisruptionTarget condition and a
TaintManagerEviction Event, one tolerating for 1 s after about 1 s, one tolerating forever stays;
the Lease renewed again (and Ready posted) removes the taints; a live node reporting Ready=False,
memory pressure and cordoned gets the matching taints, removed when healthy again. The flags of
``skiff controller-manager`` and their pass-through by ``skiff server``. The zone rule end to
end: 3 of 5
nodes of a zone dying taint them at the secondary rate; every zone dying ("master disruption")
removes the NoExecute taints and evicts nothing until a node is Ready again. With real agents
(skiff.agent, fake runtime, in-process): live agents keep their nodes Ready and untainted; a
stopped agent's node turns Unknown, is tainted and its pod evicted; the agent back makes the node
Ready and untainted and finishes the evicted pod.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
import pytest

from skiff.controllers import ControllerManager, ControllerOptions
from skiff.controllers.nodelifecycle import (
    NodeLifecycleController,
    TokenBucket,
    ZoneQueue,
    ZoneState,
    compute_zone_state,
    condition_taints,
    eviction_delay,
    health_after,
    tolerates,
    zone_eviction_rate,
)
from skiff.testing.clock import FakeClock
from skiff.testing.cluster import running_controller_manager
from skiff.testing.wait import eventually
from skiff.util.clock import format_epoch_micro_time, format_epoch_time

NODES = "/api/v1/nodes"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
PODS = "/api/v1/namespaces/default/pods"
EVENTS = "/api/v1/namespaces/default/events"
MERGE = {"Content-Type": "application/merge-patch+json"}
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"


# ---------------------------------------------------------------------- pure decisions


@pytest.mark.parametrize(
    ("ready", "state"),
    [
        (["True"] * 5, ZoneState.NORMAL),
        (["True", "True", "Unknown", "False"], ZoneState.NORMAL),  # 2 not ready: never partial
        (["True", "True", "Unknown", "False", None], ZoneState.PARTIAL_DISRUPTION),  # 3/5 >= .55
        (["True"] * 3 + ["Unknown"] * 3, ZoneState.NORMAL),  # 3/6 = 0.5 < 0.55
        (["Unknown"], ZoneState.FULL_DISRUPTION),
        (["False", None, "Unknown"], ZoneState.FULL_DISRUPTION),
        ([], ZoneState.NORMAL),
    ],
)
def test_compute_zone_state(ready: list[str | None], state: ZoneState) -> None:
    unhealthy, got = compute_zone_state(ready, 0.55)
    assert got is state
    assert unhealthy == sum(1 for r in ready if r != "True")


def test_zone_eviction_rate() -> None:
    opts = ControllerOptions(
        node_eviction_rate=10, secondary_node_eviction_rate=1, large_cluster_size_threshold=50
    )
    assert zone_eviction_rate(ZoneState.NORMAL, 5, opts) == 10
    assert zone_eviction_rate(ZoneState.FULL_DISRUPTION, 5, opts) == 10  # HealthyQPSFunc
    assert zone_eviction_rate(ZoneState.PARTIAL_DISRUPTION, 51, opts) == 1
    assert zone_eviction_rate(ZoneState.PARTIAL_DISRUPTION, 50, opts) == 0  # small zone: stop


def test_healthy_zones_evict_at_full_speed_by_default() -> None:
    """Issue 9: a healthy zone evicts at full speed; only PartialDisruption slows down."""
    opts = ControllerOptions()
    assert math.isinf(opts.node_eviction_rate)
    assert math.isinf(zone_eviction_rate(ZoneState.NORMAL, 1000, opts))
    assert zone_eviction_rate(ZoneState.PARTIAL_DISRUPTION, 1000, opts) == 1.0
    clock = FakeClock()
    queue = ZoneQueue(opts.node_eviction_rate, clock)
    for i in range(500):
        queue.add(f"n{i}")
    assert len(queue.take()) == 500  # every queued node at once
    stopped = ZoneQueue(0.0, clock)
    stopped.add("n")
    clock.advance(100)
    assert stopped.take() == []


def test_zone_queue_keeps_rates_above_the_pass_frequency() -> None:
    """Passes run every 0.1 s: at 100 nodes/s a pass takes 10, not 1 (a burst of 1 capped every
    rate at 10 nodes/s)."""
    clock = FakeClock()
    queue = ZoneQueue(100.0, clock)
    for i in range(100):
        queue.add(f"n{i}")
    taken = len(queue.take())
    for _ in range(9):
        clock.advance(0.1)
        taken += len(queue.take())
    assert 90 <= taken <= 100
    slow = ZoneQueue(1.0, clock)
    for i in range(5):
        slow.add(f"s{i}")
    assert len(slow.take()) == 1  # the first at once
    clock.advance(0.5)
    assert slow.take() == []
    clock.advance(0.5)
    assert len(slow.take()) == 1


def _node(
    ready: str | None = "True", *, unschedulable: bool = False, **conditions: str
) -> dict[str, Any]:
    conds = [{"type": t, "status": s} for t, s in conditions.items()]
    if ready is not None:
        conds.append({"type": "Ready", "status": ready})
    return {
        "metadata": {"name": "n"},
        "spec": {"unschedulable": unschedulable},
        "status": {"conditions": conds},
    }


def _keys(taints: Iterable[dict[str, Any]]) -> list[str]:
    return [t["key"].removeprefix("node.kubernetes.io/") for t in taints]


def test_condition_taints() -> None:
    assert condition_taints(_node("True")) == []
    assert _keys(condition_taints(_node("False"))) == ["not-ready"]
    assert _keys(condition_taints(_node("Unknown"))) == ["unreachable"]
    assert condition_taints(_node(None)) == []
    got = condition_taints(
        _node(
            "True",
            unschedulable=True,
            MemoryPressure="True",
            DiskPressure="True",
            PIDPressure="True",
            NetworkUnavailable="False",
        )
    )
    assert _keys(got) == ["memory-pressure", "disk-pressure", "pid-pressure", "unschedulable"]
    assert {t["effect"] for t in got} == {"NoSchedule"}
    # Unknown pressure conditions (a silent node) taint nothing but unreachable
    assert _keys(condition_taints(_node("Unknown", MemoryPressure="Unknown"))) == ["unreachable"]


TAINT = {"key": UNREACHABLE, "effect": "NoExecute"}


@pytest.mark.parametrize(
    ("toleration", "ok"),
    [
        ({"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}, True),
        ({"key": UNREACHABLE, "operator": "Exists"}, True),  # no effect: every effect
        ({"key": UNREACHABLE, "operator": "Exists", "effect": "NoSchedule"}, False),
        ({"operator": "Exists"}, True),  # no key with Exists: every taint
        ({"operator": "Equal"}, False),
        ({"key": NOT_READY, "operator": "Exists"}, False),
        ({"key": UNREACHABLE, "value": ""}, True),  # Equal is the default, both values empty
        ({"key": UNREACHABLE, "operator": "Equal", "value": "x"}, False),
    ],
)
def test_tolerates(toleration: dict[str, Any], ok: bool) -> None:
    assert tolerates(toleration, TAINT) is ok


def test_eviction_delay() -> None:
    other = {"key": "example.com/maintenance", "effect": "NoExecute"}
    forever = {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}
    five = {**forever, "tolerationSeconds": 5}
    three = {"operator": "Exists", "tolerationSeconds": 3}
    assert eviction_delay([five], []) is None  # no taint: nothing to do
    assert eviction_delay([], [TAINT]) == 0  # not tolerated: at once
    assert eviction_delay([five], [TAINT, other]) == 0  # one taint not tolerated: at once
    assert eviction_delay([forever], [TAINT]) is None  # tolerated forever
    assert eviction_delay([five], [TAINT]) == 5
    assert eviction_delay([five, three], [TAINT]) == 3  # the shortest toleration used
    assert eviction_delay([forever, three], [TAINT, other]) == 3
    assert eviction_delay([{**forever, "tolerationSeconds": -1}], [TAINT]) == 0


def test_token_bucket_on_a_fake_clock() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2.0, clock)
    assert bucket.try_accept()  # burst of 1
    assert not bucket.try_accept()
    clock.advance(0.4)
    assert not bucket.try_accept()
    clock.advance(0.1)
    assert bucket.try_accept()
    clock.advance(10)  # tokens never exceed the burst
    assert bucket.try_accept()
    assert not bucket.try_accept()
    stopped = TokenBucket(0.0, clock)
    clock.advance(100)
    assert not stopped.try_accept()


def test_health_from_leases_and_heartbeats() -> None:
    clock = FakeClock()
    node = {
        "metadata": {"name": "n"},
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True", "lastHeartbeatTime": "2025-01-01T00:00:00Z"}
            ]
        },
    }

    def lease(t: float) -> dict[str, Any]:
        return {"spec": {"renewTime": format_epoch_micro_time(t)}}

    h = health_after(None, node, lease(100.0), clock.monotonic())
    assert h.probe == 1000.0
    clock.advance(5)
    h = health_after(h, node, lease(100.0), clock.monotonic())
    assert h.probe == 1000.0  # nothing new heard
    h = health_after(h, node, lease(99.0), clock.monotonic())
    assert h.probe == 1000.0  # an older renewal is not news
    h = health_after(h, node, lease(100.5), clock.monotonic())
    assert h.probe == 1005.0  # renewed
    clock.advance(3)
    beat = {
        "metadata": {"name": "n"},
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True", "lastHeartbeatTime": "2025-01-01T00:00:09Z"}
            ]
        },
    }
    h = health_after(h, beat, None, clock.monotonic())
    assert h.probe == 1008.0  # a new heartbeat, no lease at all


def test_flags_reach_the_options_and_skiff_server_passes_them_on() -> None:
    import argparse

    from skiff.cmd.controllermanager import add_controller_manager_flags, timing_argv
    from skiff.cmd.main import _apiserver_argv

    parser = argparse.ArgumentParser()
    add_controller_manager_flags(parser, standalone=False)
    args = parser.parse_args(["--node-monitor-grace-period", "3", "--node-eviction-rate=0.5"])
    assert args.node_monitor_grace_period == 3.0
    assert args.large_cluster_size_threshold == ControllerOptions().large_cluster_size_threshold
    argv = timing_argv(args)
    assert "--node-monitor-grace-period=3.0" in argv
    assert "--node-eviction-rate=0.5" in argv
    assert "--terminated-pod-gc-threshold=12500" in argv
    # skiff server keeps them away from the API server
    assert _apiserver_argv(["--node-monitor-grace-period", "3", "--pod-gc-period=1", "-v"]) == [
        "-v"
    ]


# ---------------------------------------------------------------------- against an API server


def fast_options(**over: Any) -> ControllerOptions:
    base: dict[str, Any] = dict(
        namespace_recheck=0.2,
        root_ca="test-ca",
        node_monitor_period=0.05,
        node_monitor_grace_period=0.8,
        node_startup_grace_period=0.8,
        node_eviction_rate=100.0,
        secondary_node_eviction_rate=0.5,
        large_cluster_size_threshold=2,
    )
    base.update(over)
    return ControllerOptions(**base)


class FakeAgents:
    """Stands in for node agents: registers Nodes (Ready) and renews their Leases every 0.1 s."""

    def __init__(self, api: httpx.AsyncClient) -> None:
        self.api = api
        self.alive: set[str] = set()
        self.beats = 0
        self._round = asyncio.Lock()

    async def add(self, name: str, zone: str | None = None) -> None:
        labels = {"topology.kubernetes.io/zone": zone} if zone is not None else {}
        r = await self.api.post(
            NODES,
            json={"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}},
        )
        assert r.status_code == 201, r.text
        await self.post_ready(name)
        r = await self.api.post(
            LEASES,
            json={
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": name},
                "spec": {"holderIdentity": name, "leaseDurationSeconds": 1},
            },
        )
        assert r.status_code == 201, r.text
        self.alive.add(name)

    async def post_ready(self, name: str) -> None:
        self.beats += 1
        now = format_epoch_time(1_700_000_000 + self.beats)
        cond = {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        }
        r = await self.api.patch(
            f"{NODES}/{name}/status", json={"status": {"conditions": [cond]}}, headers=MERGE
        )
        assert r.status_code == 200, r.text

    async def renew(self) -> None:
        import time

        # one round renews every live node at once, so nodes that die together (`stop`) had
        # their last renewal observed together; sequential renewals under a loaded machine
        # spread over most of the grace period and the nodes were seen dead passes apart
        async def one(name: str, stamp: str) -> None:
            r = await self.api.patch(
                f"{LEASES}/{name}", json={"spec": {"renewTime": stamp}}, headers=MERGE
            )
            assert r.status_code == 200, r.text

        async with self._round:
            stamp = format_epoch_micro_time(time.time())
            await asyncio.gather(*(one(name, stamp) for name in sorted(self.alive)))

    async def stop(self, names: list[str]) -> None:
        """The agents of ``names`` die together, between two renewal rounds."""
        async with self._round:
            self.alive.difference_update(names)

    async def run(self) -> None:
        while True:
            await self.renew()
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def agents(api: httpx.AsyncClient) -> AsyncIterator[FakeAgents]:
    fake = FakeAgents(api)
    task = asyncio.create_task(fake.run())
    try:
        yield fake
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def lifecycle(
    url: str, token: str, options: ControllerOptions
) -> AsyncIterator[NodeLifecycleController]:
    async with running_controller_manager(
        url,
        token,
        controllers=("serviceaccount-controller", "node-lifecycle-controller"),
        options=options,
    ) as manager:
        yield _controller(manager)


def _controller(manager: ControllerManager) -> NodeLifecycleController:
    found = [c for c in manager.controllers if isinstance(c, NodeLifecycleController)]
    assert found
    return found[0]


async def _pod(
    api: httpx.AsyncClient, name: str, node: str, tolerations: list[dict[str, Any]] | None = None
) -> None:
    spec: dict[str, Any] = {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]}
    if tolerations is not None:
        spec["tolerations"] = tolerations
    r = await api.post(
        PODS, json={"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}
    )
    assert r.status_code == 201, r.text
    ready = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    r = await api.patch(f"{PODS}/{name}/status", json=ready, headers=MERGE)
    assert r.status_code == 200, r.text


async def _get(api: httpx.AsyncClient, path: str) -> dict[str, Any]:
    r = await api.get(path)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _cond(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c.get("type") == kind:
            return dict(c)
    return {}


def _taints(node: dict[str, Any]) -> set[tuple[str, str]]:
    return {(t["key"], t["effect"]) for t in (node.get("spec") or {}).get("taints") or ()}


async def _deleting(api: httpx.AsyncClient, name: str) -> bool:
    r = await api.get(f"{PODS}/{name}")
    return r.status_code == 404 or bool(r.json()["metadata"].get("deletionTimestamp"))


async def test_dead_node_is_tainted_and_its_pods_evicted(
    url: str, token: str, api: httpx.AsyncClient
) -> None:
    loop = asyncio.get_running_loop()
    tol = {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}
    async with agents(api) as fake, lifecycle(url, token, fast_options()) as ctl:
        for name in ("n1", "n2", "n3"):
            await fake.add(name)
        await _pod(api, "intolerant", "n1", [{**tol, "tolerationSeconds": 0}])
        await _pod(api, "one-second", "n1", [{**tol, "tolerationSeconds": 1}])
        await _pod(api, "forever", "n1", [tol])
        await _pod(api, "elsewhere", "n2")
        await eventually(lambda: ctl.passes > 3 and len(ctl.health) == 3, what="nodes seen")
        node = await _get(api, f"{NODES}/n1")
        assert _cond(node, "Ready")["status"] == "True"
        assert not _taints(node)

        fake.alive.discard("n1")  # the agent of n1 dies
        killed = loop.time()

        async def unknown() -> bool:
            return _cond(await _get(api, f"{NODES}/n1"), "Ready").get("status") == "Unknown"

        await eventually(unknown, within=10, what="n1 Unknown")
        assert (
            loop.time() - killed >= 0.6
        )  # not before the grace period (0.8 s after the last renewal)
        node = await _get(api, f"{NODES}/n1")
        ready = _cond(node, "Ready")
        assert (ready["reason"], ready["message"]) == (
            "NodeStatusUnknown",
            "Kubelet stopped posting node status.",
        )
        for kind in ("MemoryPressure", "DiskPressure", "PIDPressure"):
            assert _cond(node, kind)["reason"] == "NodeStatusNeverUpdated"

        async def tainted() -> bool:
            taints = _taints(await _get(api, f"{NODES}/n1"))
            return {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")} <= taints

        await eventually(tainted, within=10, what="n1 tainted")
        tainted_at = loop.time()

        async def intolerant_gone() -> bool:
            return await _deleting(api, "intolerant")

        await eventually(intolerant_gone, within=10, what="intolerant pod evicted")
        pod = await _get(api, f"{PODS}/intolerant")  # no agent: it stays Terminating
        target = _cond(pod, "DisruptionTarget")
        assert (target["status"], target["reason"]) == ("True", "DeletionByTaintManager")

        async def one_second_gone() -> bool:
            return await _deleting(api, "one-second")

        await eventually(one_second_gone, within=10, what="tolerating pod evicted")
        assert loop.time() - tainted_at >= 0.7  # after its toleration ran out
        pod = await _get(api, f"{PODS}/one-second")
        assert _cond(pod, "DisruptionTarget")["reason"] == "DeletionByTaintManager"

        # every pod of n1 was marked not ready; the pod of healthy n2 was not
        assert _cond(await _get(api, f"{PODS}/forever"), "Ready")["status"] == "False"
        assert _cond(await _get(api, f"{PODS}/elsewhere"), "Ready")["status"] == "True"
        assert not _taints(await _get(api, f"{NODES}/n2"))

        wanted = {
            ("TaintManagerEviction", "intolerant", "Marking for deletion Pod default/intolerant"),
            ("NodeNotReady", "forever", "Node is not ready"),
            ("NodeNotReady", "n1", "Node n1 status is now: NodeNotReady"),
            ("RegisteredNode", "n1", "Node n1 event: Registered Node n1 in Controller"),
        }

        async def events() -> set[tuple[str, str, str]]:
            items = (await _get(api, EVENTS))["items"]
            seen = {(e["reason"], e["involvedObject"]["name"], e["message"]) for e in items}
            return wanted - seen

        await eventually(lambda: _empty(events()), what="events recorded")

        # the agent comes back: Lease renewed, Ready posted -> taints removed, "forever" stays
        fake.alive.add("n1")
        await fake.post_ready("n1")

        async def untainted() -> bool:
            node = await _get(api, f"{NODES}/n1")
            return _cond(node, "Ready")["status"] == "True" and not _taints(node)

        await eventually(untainted, within=10, what="n1 untainted")
        passes = ctl.passes
        await eventually(lambda: ctl.passes >= passes + 3, what="more monitor passes")
        assert _cond(await _get(api, f"{NODES}/n1"), "Ready")["status"] == "True"
        assert not await _deleting(api, "forever")


async def _empty(missing: Any) -> bool:
    return not await missing


async def _no_execute_tainted(api: httpx.AsyncClient, names: Iterable[str]) -> set[str]:
    out = set()
    for name in names:
        node = await _get(api, f"{NODES}/{name}")
        if any(e == "NoExecute" for _, e in _taints(node)):
            out.add(name)
    return out


async def test_partial_disruption_slows_tainting(
    url: str, token: str, api: httpx.AsyncClient
) -> None:
    """3 of 5 nodes of a zone die (>= 55 %): their NoExecute taints come at the secondary rate,
    1 node/s, i.e. the last two at least ~1 s apart (not at the normal 100/s)."""
    loop = asyncio.get_running_loop()
    names = [f"z{i}" for i in range(5)]
    options = fast_options(secondary_node_eviction_rate=1.0)
    async with agents(api) as fake, lifecycle(url, token, options) as ctl:
        for name in names:
            await fake.add(name, zone="a")
        await eventually(lambda: ctl.zone_states.get("a") is ZoneState.NORMAL, what="zone seen")
        dead = names[:3]
        await fake.stop(dead)
        times: dict[int, float] = {}

        async def all_tainted() -> bool:
            got = await _no_execute_tainted(api, dead)
            times.setdefault(len(got), loop.time())
            return len(got) == 3

        await eventually(all_tainted, within=10, interval=0.02, what="3 nodes tainted")
        assert ctl.zone_states["a"] is ZoneState.PARTIAL_DISRUPTION
        first = min(t for n, t in times.items() if n >= 1)
        assert times[3] - first >= 0.8, times  # the last two at least 1/rate apart
        assert not await _no_execute_tainted(api, names[3:])


async def test_master_disruption_stops_evictions(
    url: str, token: str, api: httpx.AsyncClient
) -> None:
    """One zone dying alone is tainted and evicted at the normal rate; when every zone is dead
    the controller assumes it is cut off: NoExecute taints are removed and nothing is evicted
    until a node is Ready again."""
    tol = {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}
    async with agents(api) as fake, lifecycle(url, token, fast_options()) as ctl:
        await fake.add("a1", zone="a")
        await fake.add("a2", zone="a")
        await fake.add("b1", zone="b")
        await _pod(api, "on-a1", "a1", [{**tol, "tolerationSeconds": 1}])
        await eventually(lambda: len(ctl.zone_states) == 2, what="zones seen")

        fake.alive.discard("b1")  # zone b is FullDisruption, zone a Normal: b1 is tainted

        async def b1_tainted() -> bool:
            return await _no_execute_tainted(api, ["b1"]) == {"b1"}

        await eventually(b1_tainted, within=10, what="b1 tainted")
        assert ctl.zone_states["b"] is ZoneState.FULL_DISRUPTION
        assert not ctl.master_disruption

        fake.alive.discard("a1")
        fake.alive.discard("a2")
        await eventually(lambda: ctl.master_disruption, within=10, what="master disruption mode")

        async def none_tainted() -> bool:
            return not await _no_execute_tainted(api, ["a1", "a2", "b1"])

        await eventually(none_tainted, within=10, what="NoExecute taints removed")
        passes = ctl.passes
        await eventually(lambda: ctl.passes >= passes + 30, within=20, what="monitor passes")
        # 30 passes (>= 1.5 s) later: still no NoExecute taint, the 1 s pod not evicted
        assert not await _no_execute_tainted(api, ["a1", "a2", "b1"])
        assert not await _deleting(api, "on-a1")
        node = await _get(api, f"{NODES}/a1")
        assert (UNREACHABLE, "NoSchedule") in _taints(node)  # NoSchedule taints stay
        assert _cond(await _get(api, f"{PODS}/on-a1"), "Ready")["status"] == "False"

        # a2 comes back: master disruption ends, the grace period starts afresh, then a1 and b1
        # are tainted again and the pod goes
        fake.alive.add("a2")
        await fake.post_ready("a2")
        await eventually(lambda: not ctl.master_disruption, within=10, what="normal mode")

        async def retainted() -> bool:
            return await _no_execute_tainted(api, ["a1", "a2", "b1"]) == {"a1", "b1"}

        await eventually(retainted, within=10, what="a1 and b1 tainted again")

        async def evicted() -> bool:
            return await _deleting(api, "on-a1")

        await eventually(evicted, within=10, what="pod on a1 evicted")


async def test_node_reporting_not_ready_and_pressure(
    url: str, token: str, api: httpx.AsyncClient
) -> None:
    """An agent that is alive but reports Ready=False gets the ``not-ready`` taints (NoSchedule
    and NoExecute) and its pods Ready=False; memory pressure and cordoning add their NoSchedule
    taints; all go when the node is healthy again."""
    async with agents(api) as fake, lifecycle(url, token, fast_options()) as ctl:
        for name in ("n1", "n2", "n3"):
            await fake.add(name)
        await _pod(api, "p", "n1")
        await eventually(lambda: len(ctl.health) == 3, what="nodes seen")
        cond = {"type": "Ready", "status": "False", "reason": "KubeletNotReady"}
        pressure = {"type": "MemoryPressure", "status": "True"}
        r = await api.patch(
            f"{NODES}/n1/status", json={"status": {"conditions": [cond, pressure]}}, headers=MERGE
        )
        assert r.status_code == 200, r.text
        r = await api.patch(f"{NODES}/n1", json={"spec": {"unschedulable": True}}, headers=MERGE)
        assert r.status_code == 200, r.text
        want = {
            (NOT_READY, "NoSchedule"),
            (NOT_READY, "NoExecute"),
            ("node.kubernetes.io/memory-pressure", "NoSchedule"),
            ("node.kubernetes.io/unschedulable", "NoSchedule"),
        }

        async def tainted() -> bool:
            return _taints(await _get(api, f"{NODES}/n1")) == want

        await eventually(tainted, within=10, what="n1 tainted by its conditions")

        async def pod_not_ready() -> bool:
            return _cond(await _get(api, f"{PODS}/p"), "Ready").get("status") == "False"

        await eventually(pod_not_ready, within=10, what="pod not ready")
        await fake.post_ready("n1")  # Ready True, MemoryPressure gone
        r = await api.patch(f"{NODES}/n1", json={"spec": {"unschedulable": False}}, headers=MERGE)
        assert r.status_code == 200, r.text

        async def clean() -> bool:
            return not _taints(await _get(api, f"{NODES}/n1"))

        await eventually(clean, within=10, what="taints removed")


async def test_with_real_agents(url: str, token: str, api: httpx.AsyncClient) -> None:
    """Agents of skiff.agent (fake runtime, in-process) renew their Leases and post status: their
    nodes stay Ready; one agent stopped -> Unknown, tainted, its pod (1 s toleration) evicted and
    Terminating; the agent back -> Ready, untainted, and the evicted pod finished by the agent."""
    from skiff.client import Config
    from skiff.testing.agent import pod_manifest, running_agent

    config = Config(server=url, token=token)
    options = fast_options(node_monitor_grace_period=1.5)
    tol = {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 1}
    async with (
        lifecycle(url, token, options) as ctl,
        running_agent(config, "node-a", lease_period=0.25),
        running_agent(config, "node-b", lease_period=0.25),
    ):
        for name, node in (("web-a", "node-a"), ("web-b", "node-b")):
            body = pod_manifest(name, node)
            body["spec"]["tolerations"] = [tol]
            r = await api.post(PODS, json=body)
            assert r.status_code == 201, r.text

        async def running() -> bool:
            pods = [await _get(api, f"{PODS}/{n}") for n in ("web-a", "web-b")]
            return all(_cond(p, "Ready").get("status") == "True" for p in pods)

        await eventually(running, within=15, what="pods Ready on their agents")
        passes = ctl.passes
        await eventually(lambda: ctl.passes >= passes + 40, within=20, what="2 s of passes")
        for node in ("node-a", "node-b"):  # live agents: healthy, untainted
            got = await _get(api, f"{NODES}/{node}")
            assert _cond(got, "Ready")["status"] == "True"
            assert not any(e == "NoExecute" for _, e in _taints(got))

        async with running_agent(config, "node-c", lease_period=0.25):
            body = pod_manifest("web-c", "node-c")
            body["spec"]["tolerations"] = [tol]
            r = await api.post(PODS, json=body)
            assert r.status_code == 201, r.text

            async def c_running() -> bool:
                pod = await _get(api, f"{PODS}/web-c")
                return _cond(pod, "Ready").get("status") == "True"

            await eventually(c_running, within=15, what="web-c Ready")
        # node-c's agent is gone

        async def c_evicted() -> bool:
            node = await _get(api, f"{NODES}/node-c")
            pod = await _get(api, f"{PODS}/web-c")
            return (
                _cond(node, "Ready").get("status") == "Unknown"
                and (UNREACHABLE, "NoExecute") in _taints(node)
                and bool(pod["metadata"].get("deletionTimestamp"))
            )

        await eventually(c_evicted, within=15, what="node-c Unknown, tainted, web-c evicted")
        pod = await _get(api, f"{PODS}/web-c")
        assert _cond(pod, "Ready")["status"] == "False"
        assert _cond(pod, "DisruptionTarget")["reason"] == "DeletionByTaintManager"
        assert _cond(await _get(api, f"{NODES}/node-a"), "Ready")["status"] == "True"
        assert not await _deleting(api, "web-a")

        async with running_agent(config, "node-c", lease_period=0.25):  # back

            async def c_back() -> bool:
                node = await _get(api, f"{NODES}/node-c")
                gone = (await api.get(f"{PODS}/web-c")).status_code == 404
                return _cond(node, "Ready").get("status") == "True" and not _taints(node) and gone

            await eventually(c_back, within=15, what="node-c Ready, untainted, web-c finished")
