"""`skiff.agent.eviction`: node-pressure thresholds, conditions, ranking and the eviction loop.

Covers parsing ``--eviction-hard`` style flags (quantities, percentages, errors), observing the
node (real /proc and statvfs, and a prepared /proc tree for exact figures), deciding
MemoryPressure / DiskPressure / PIDPressure, ranking pods (no stats, over request, priority, usage
above request), kubelet's Evicted message, and EvictionManager on a FakeClock: one eviction per
round, critical and terminal pods spared, the pressure transition period, and the run loop.
Producing real memory pressure is out of scope.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from skiff.agent.eviction import (
    DEFAULT_EVICTION_HARD,
    EvictionManager,
    Observation,
    Threshold,
    eviction_message,
    node_conditions,
    observe,
    parse_thresholds,
    pod_request,
    rank_for_eviction,
    thresholds_met,
)
from skiff.testing.clock import FakeClock

MI = 1024 * 1024


def test_parse_thresholds() -> None:
    got = parse_thresholds("memory.available<100Mi, nodefs.available<10%,pid.available<1k")
    assert got == [
        Threshold("memory.available", quantity=100 * MI),
        Threshold("nodefs.available", percentage=Fraction(1, 10)),
        Threshold("pid.available", quantity=1000),
    ]
    assert [t.signal for t in parse_thresholds(DEFAULT_EVICTION_HARD)] == [
        "memory.available",
        "nodefs.available",
        "nodefs.inodesFree",
        "imagefs.available",
    ]
    assert parse_thresholds(["memory.available<1Gi"]) == [
        Threshold("memory.available", quantity=1024 * MI)
    ]
    assert parse_thresholds("") == []


@pytest.mark.parametrize(
    ("flag", "error"),
    [
        ("memory.available>1Gi", "invalid eviction threshold syntax"),
        ("cpu.available<1", "unsupported eviction signal 'cpu.available'"),
        ("memory.available<lots", "invalid quantity"),
        ("nodefs.available<0%", "must be > 0%"),
        ("nodefs.available<150%", "must be > 0%"),
        ("memory.available<1Mi,memory.available<2Mi", "duplicate"),
    ],
)
def test_parse_threshold_errors(flag: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_thresholds(flag)


def _obs(memory: int = 4096 * MI, disk: int = 50, pids: int = 30000) -> Observation:
    return Observation(
        available={
            "memory.available": memory,
            "nodefs.available": disk,
            "nodefs.inodesFree": 500,
            "imagefs.available": disk,
            "pid.available": pids,
        },
        capacity={
            "memory.available": 8192 * MI,
            "nodefs.available": 100,
            "nodefs.inodesFree": 1000,
            "imagefs.available": 100,
            "pid.available": 32768,
        },
    )


@pytest.mark.parametrize(
    ("observation", "pressure"),
    [
        (_obs(), set()),
        (_obs(memory=99 * MI), {"MemoryPressure"}),
        (_obs(memory=100 * MI), set()),  # strictly below
        (_obs(disk=9), {"DiskPressure"}),
        (_obs(pids=999), {"PIDPressure"}),
        (_obs(memory=1, disk=1, pids=1), {"MemoryPressure", "DiskPressure", "PIDPressure"}),
    ],
    ids=["fine", "memory", "memory-equal", "disk", "pids", "all"],
)
def test_conditions(observation: Observation, pressure: set[str]) -> None:
    thresholds = parse_thresholds("memory.available<100Mi,nodefs.available<10%,pid.available<1k")
    conditions = node_conditions(thresholds_met(thresholds, observation))
    assert {c for c, on in conditions.items() if on} == pressure
    assert set(conditions) == {"MemoryPressure", "DiskPressure", "PIDPressure"}


def test_observe_real_node(tmp_path: Path) -> None:
    obs = observe(tmp_path)
    for signal in ("memory.available", "nodefs.available", "pid.available"):
        assert 0 < obs.available[signal] <= obs.capacity[signal], signal


def test_observe_parses_proc(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    (proc / "sys/kernel").mkdir(parents=True)
    (proc / "meminfo").write_text(
        "MemTotal:        2048000 kB\nMemFree:          10000 kB\nMemAvailable:     512000 kB\n"
    )
    (proc / "sys/kernel/pid_max").write_text("4194304\n")
    (proc / "loadavg").write_text("0.10 0.20 0.30 2/345 6789\n")
    obs = observe(tmp_path, proc=proc)
    assert obs.available["memory.available"] == 512000 * 1024
    assert obs.capacity["memory.available"] == 2048000 * 1024
    assert obs.available["pid.available"] == 4194304 - 345


def _pod(
    uid: str, *, request: str | None = None, priority: int | None = None, **extra: Any
) -> dict[str, Any]:
    resources = {"requests": {"memory": request}} if request else {}
    spec: dict[str, Any] = {"containers": [{"name": "main", "resources": resources}]}
    if priority is not None:
        spec["priority"] = priority
    return {"metadata": {"uid": uid, "name": uid, "namespace": "default"}, "spec": spec, **extra}


def test_rank_for_eviction() -> None:
    over_low = _pod("over-low", request="100Mi", priority=0)  # 300Mi used: 200Mi above
    over_big = _pod("over-big", request="100Mi", priority=0)  # 600Mi used: 500Mi above
    over_high = _pod("over-high", request="100Mi", priority=1000)  # 900Mi used
    under = _pod("under", request="1Gi", priority=-5)  # 500Mi used, within request
    best_effort = _pod("best-effort")  # no request: any use is over
    no_stats = _pod("no-stats", request="1Gi", priority=1000)
    usage = {
        "over-low": 300 * MI,
        "over-big": 600 * MI,
        "over-high": 900 * MI,
        "under": 500 * MI,
        "best-effort": 50 * MI,
    }
    ranked = rank_for_eviction(
        [under, over_high, over_low, no_stats, best_effort, over_big], usage, "memory"
    )
    assert [p["metadata"]["uid"] for p in ranked] == [
        "no-stats",
        "over-big",
        "over-low",
        "best-effort",
        "over-high",
        "under",
    ]


def test_pod_request_counts_init_and_sidecars() -> None:
    pod = _pod("p", request="100Mi")
    pod["spec"]["initContainers"] = [
        {"name": "setup", "resources": {"requests": {"memory": "500Mi"}}},
        {"name": "side", "restartPolicy": "Always", "resources": {"requests": {"memory": "50Mi"}}},
    ]
    assert pod_request(pod, "memory") == 500 * MI
    pod["spec"]["initContainers"][0]["resources"]["requests"]["memory"] = "10Mi"
    assert pod_request(pod, "memory") == 150 * MI


def test_eviction_message() -> None:
    pod = _pod("p", request="100Mi")
    pod["spec"]["containers"].append({"name": "quiet", "resources": {}})
    message = eviction_message(
        "memory",
        pod,
        container_usage={"main": {"memory": 300 * MI}, "quiet": {"memory": 0}},
        threshold=Threshold("memory.available", quantity=100 * MI),
        observation=_obs(memory=80 * MI),
    )
    assert message == (
        "The node was low on resource: memory. Threshold quantity: 100Mi, available: 80Mi. "
        "Container main was using 300Mi, request is 100Mi, has larger consumption of memory. "
    )


class Node:
    def __init__(self) -> None:
        self.observation = _obs()
        self.pods: list[dict[str, Any]] = []
        self.usage: dict[str, dict[str, dict[str, int]]] = {}
        self.evicted: list[tuple[str, str]] = []
        self.changes = 0

    async def get_usage(self) -> Mapping[str, Mapping[str, Mapping[str, int]]]:
        return self.usage

    async def evict(self, pod: Mapping[str, Any], message: str) -> None:
        self.evicted.append((pod["metadata"]["uid"], message))

    def manager(self, clock: FakeClock) -> EvictionManager:
        def changed() -> None:
            self.changes += 1

        return EvictionManager(
            parse_thresholds("memory.available<100Mi"),
            observe=lambda: self.observation,
            pods=lambda: self.pods,
            usage=self.get_usage,
            evict=self.evict,
            clock=clock,
            interval=10,
            transition_period=30,
            on_change=changed,
        )


async def test_manager_evicts_one_per_round_and_spares_critical() -> None:
    clock = FakeClock()
    node = Node()
    node.pods = [
        _pod("critical", priority=2_000_000_000),
        _pod("small", request="100Mi"),
        _pod("hog", request="100Mi"),
        _pod("done", status={"phase": "Succeeded"}),
    ]
    node.usage = {
        "critical": {"main": {"memory": 4000 * MI}},
        "small": {"main": {"memory": 150 * MI}},
        "hog": {"main": {"memory": 900 * MI}},
    }
    manager = node.manager(clock)
    assert await manager.synchronize() is None
    assert manager.conditions()["MemoryPressure"] is False

    node.observation = _obs(memory=50 * MI)
    victim = await manager.synchronize()
    assert victim is not None and victim["metadata"]["uid"] == "hog"
    assert manager.conditions()["MemoryPressure"] is True
    assert node.changes == 1
    assert node.evicted[0][1].startswith("The node was low on resource: memory. ")
    assert "Container main was using 900Mi, request is 100Mi" in node.evicted[0][1]
    # still listed (being stopped): not evicted twice
    await manager.synchronize()
    assert [uid for uid, _ in node.evicted] == ["hog", "small"]
    assert await manager.synchronize() is None  # only the critical pod is left


async def test_manager_transition_period_and_run_loop() -> None:
    clock = FakeClock()
    node = Node()
    node.observation = _obs(memory=50 * MI)
    node.pods = [_pod("a", request="10Mi")]
    node.usage = {"a": {"main": {"memory": 60 * MI}}}
    manager = node.manager(clock)
    task = asyncio.create_task(manager.run())
    try:
        await clock.wait_sleepers(1)
        assert [uid for uid, _ in node.evicted] == ["a"]
        assert manager.conditions()["MemoryPressure"] is True
        node.observation = _obs()
        for _ in range(2):  # 20 s after the last pressure: still within the 30 s period
            clock.advance(10)
            await clock.wait_sleepers(1)
        assert manager.conditions()["MemoryPressure"] is True
        clock.advance(10)
        await clock.wait_sleepers(1)
        assert manager.conditions()["MemoryPressure"] is False
        assert node.changes == 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
