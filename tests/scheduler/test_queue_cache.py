"""The scheduling queue and the scheduler cache on a FakeClock: priority order, exponential
per-pod back-off, unschedulable pods moved back only by events a rejecting plugin cares about,
the move-request rule, gated pods, and the cache's assume/confirm/forget with expiry and its
numpy rows (no over-commit from assumed pods)."""

from __future__ import annotations

import asyncio

import pytest
from scheduler_helpers import make_node, make_pod

from skiff.scheduler.cache import SchedulerCache
from skiff.scheduler.framework import ClusterEvent, Code, Status
from skiff.scheduler.queue import SchedulingQueue
from skiff.scheduler.types import CPU, PodInfo, pod_info
from skiff.testing.clock import FakeClock


def pod(name: str, priority: int = 0, **kw: object) -> PodInfo:
    raw = make_pod(name, priority=priority, **kw)  # type: ignore[arg-type]
    raw["metadata"].update({"namespace": "default", "uid": name})
    return pod_info(raw)


def interest(event: ClusterEvent) -> frozenset[str]:
    return {
        ClusterEvent.NODE_ADD: frozenset({"NodeResourcesFit", "TaintToleration"}),
        ClusterEvent.NODE_TAINT: frozenset({"TaintToleration"}),
        ClusterEvent.POD_DELETE: frozenset({"NodeResourcesFit"}),
    }.get(event, frozenset())


def gates(p: PodInfo) -> Status:
    return (
        Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ("gated",), "SchedulingGates")
        if p.gates
        else Status()
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(clock: FakeClock) -> SchedulingQueue:
    return SchedulingQueue(clock=clock, pre_enqueue=gates, interested=interest)


async def test_priority_order_then_fifo(queue: SchedulingQueue, clock: FakeClock) -> None:
    for name, prio in (("low", 1), ("high", 100), ("mid", 50)):
        queue.add(pod(name, prio))
        clock.advance(0.001)
    queue.add(pod("high2", 100))
    order = [(await queue.pop()).pod.name for _ in range(4)]
    assert order == ["high", "high2", "mid", "low"]


async def test_backoff_doubles_per_attempt_and_caps(
    queue: SchedulingQueue, clock: FakeClock
) -> None:
    queue.add(pod("p"))
    waits = []
    for _ in range(6):
        qp = await queue.pop()
        queue.add_backoff(qp)
        assert queue.where("p") == "backoff"
        start = clock.monotonic()
        while queue.where("p") != "active":
            clock.advance(0.25)
            queue.flush()
        waits.append(clock.monotonic() - start)
    assert waits == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


async def test_unschedulable_moves_only_on_relevant_events(
    queue: SchedulingQueue, clock: FakeClock
) -> None:
    queue.add(pod("taint"))
    queue.add(pod("cpu"))
    a = await queue.pop()
    b = await queue.pop()
    queue.add_unschedulable(a, {"TaintToleration"})
    queue.add_unschedulable(b, {"NodeResourcesFit"})
    assert queue.pending()["unschedulable"] == 2
    # an event neither rejecting plugin registered for moves nobody (no hot loop)
    assert queue.move_for_event(ClusterEvent.NODE_LABEL) == 0
    # freed resources help only the cpu-bound pod; it is still backing off, so backoffQ
    assert queue.move_for_event(ClusterEvent.POD_DELETE) == 1
    assert queue.where("cpu") == "backoff" and queue.where("taint") == "unschedulable"
    clock.advance(1.0)
    queue.flush()
    assert queue.where("cpu") == "active"
    # after its back-off, a taint change sends the other pod straight to activeQ
    assert queue.move_for_event(ClusterEvent.NODE_TAINT) == 1
    assert queue.where("taint") == "active"


async def test_event_during_cycle_sends_failure_to_backoff(queue: SchedulingQueue) -> None:
    queue.add(pod("p"))
    qp = await queue.pop()
    queue.move_for_event(ClusterEvent.NODE_ADD)  # arrives while p is being scheduled
    queue.add_unschedulable(qp, {"NodeResourcesFit"})
    assert queue.where("p") == "backoff"


async def test_unschedulable_retried_after_five_minutes(
    queue: SchedulingQueue, clock: FakeClock
) -> None:
    queue.add(pod("p"))
    queue.add_unschedulable(await queue.pop(), {"NodeResourcesFit"})
    clock.advance(299)
    queue.flush()
    assert queue.where("p") == "unschedulable"
    clock.advance(2)
    queue.flush()
    assert queue.where("p") == "active"


async def test_gated_pods_wait_until_updated(queue: SchedulingQueue) -> None:
    queue.add(pod("g", schedulingGates=[{"name": "x"}]))
    assert queue.pending() == {"active": 0, "backoff": 0, "unschedulable": 0, "gated": 1}
    queue.update(pod("g"))
    assert queue.where("g") == "active"
    assert (await queue.pop()).pod.name == "g"


async def test_pop_waits_and_delete_drops(queue: SchedulingQueue) -> None:
    waiter = asyncio.create_task(queue.pop())
    await asyncio.sleep(0)
    assert not waiter.done()
    queue.add(pod("gone"))
    queue.delete("gone")
    queue.add(pod("p"))
    assert (await asyncio.wait_for(waiter, 1)).pod.name == "p"


# -- cache -----------------------------------------------------------------------------------------


def test_assume_counts_at_once_and_forget_releases(clock: FakeClock) -> None:
    cache = SchedulerCache(clock=clock, assume_ttl=30)
    node = cache.add_node(make_node("n", cpu="1"))
    p = pod("p", cpu="600m")
    cache.assume(p, "n")
    assert cache.requested[node.index][CPU] == 600 and node.requested[CPU] == 600
    cache.forget("p")
    assert cache.requested[node.index][CPU] == 0 and "p" not in cache.pods


def test_assumed_then_confirmed_then_expiry_only_when_unconfirmed(clock: FakeClock) -> None:
    cache = SchedulerCache(clock=clock, assume_ttl=30)
    cache.add_node(make_node("n", cpu="2"))
    a, b = pod("a", cpu="1"), pod("b", cpu="1")
    cache.assume(a, "n")
    cache.assume(b, "n")
    cache.finish_binding("a")
    cache.finish_binding("b")
    raw = dict(a.raw)
    raw["spec"] = {**a.raw["spec"], "nodeName": "n"}
    cache.add_pod(raw)  # the informer confirms a
    assert not cache.is_assumed("a") and cache.is_assumed("b")
    clock.advance(31)
    assert cache.cleanup_expired() == ["b"]
    assert set(cache.pods) == {"a"}
    assert cache.by_name["n"].requested[CPU] == 1000


def test_rows_grow_and_reuse(clock: FakeClock) -> None:
    cache = SchedulerCache(clock=clock)
    for i in range(40):  # past the first capacity of 16 rows
        cache.add_node(make_node(f"n{i}", cpu="1"))
    cache.assume(pod("p", cpu="500m"), "n3")
    n3 = cache.by_name["n3"]
    assert n3.requested is not None and cache.requested[n3.index][CPU] == 500
    cache.remove_node("n5")
    assert cache.node_count == 39 and not cache.valid[5]
    again = cache.add_node(make_node("n99", cpu="1"))
    assert again.index == 5 and cache.valid[5] and cache.requested[5][CPU] == 0


def test_node_update_reports_what_changed(clock: FakeClock) -> None:
    cache = SchedulerCache(clock=clock)
    cache.add_node(make_node("n", cpu="1"))
    tainted = make_node("n", cpu="2", taints=[{"key": "k", "value": "", "effect": "NoSchedule"}])
    events = cache.update_node(tainted)
    assert events == {ClusterEvent.NODE_TAINT, ClusterEvent.NODE_ALLOCATABLE}
    assert cache.tainted[cache.by_name["n"].index]


async def test_status_only_update_leaves_an_unschedulable_pod_alone(queue: SchedulingQueue) -> None:
    queue.add(pod("p"))
    queue.add_unschedulable(await queue.pop(), {"NodeResourcesFit"})
    rewritten = pod("p")  # the scheduler's own condition write comes back as an update
    queue.update(rewritten)
    assert queue.where("p") == "unschedulable"
    relabelled = pod("p", labels={"tier": "web"})
    queue.update(relabelled)
    assert queue.where("p") == "backoff"  # changed: retried once its back-off ends
