"""`skiff.agent.prober.ProbeManager`: probe scheduling and results, on a FakeClock.

Covers initialDelaySeconds and periodSeconds, success/failure thresholds, readiness False until
the first success (and True without a probe), startup gating liveness and readiness, liveness and
startup failures reported once (then the worker holds until a new container id), Unhealthy events
in kubelet's wording, errored probes not counted, workers stopped when a container stops or the
pod is removed. Probes are exec probes answered by a scripted runtime double; no real waiting.
Single probe runs of every kind are in test_probes.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from skiff.agent.prober import ProbeManager
from skiff.runtime.types import ExecResult, NotFound
from skiff.testing.clock import FakeClock


class ScriptedRuntime:
    """exec_sync answers ``["probe", <name>]`` with the exit code set in ``exit[name]``."""

    name = "double"
    version = "double://0"

    def __init__(self) -> None:
        self.exit: dict[str, int | None] = {}  # None: the runtime fails (NotFound)
        self.calls: list[tuple[str, str]] = []

    async def exec_sync(
        self, container_id: str, argv: list[str], time_limit: float | None = None
    ) -> ExecResult:
        self.calls.append((container_id, argv[1]))
        code = self.exit.get(argv[1], 0)
        if code is None:
            raise NotFound(f"container {container_id} is gone")
        return ExecResult(exit_code=code, stdout=f"{argv[1]} says {code}".encode())


@dataclass
class Harness:
    clock: FakeClock
    runtime: ScriptedRuntime
    manager: ProbeManager
    changes: list[str] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)

    def calls(self, name: str) -> int:
        return sum(1 for _, n in self.runtime.calls if n == name)

    async def settle(self) -> None:
        """Let woken workers run until they block again (no real time passes)."""
        for _ in range(20):
            await asyncio.sleep(0)

    async def tick(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await self.settle()


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    clock = FakeClock()
    runtime = ScriptedRuntime()
    changes: list[str] = []
    events: list[tuple[str, str, str]] = []
    manager = ProbeManager(
        runtime,  # type: ignore[arg-type]
        clock=clock,
        on_change=changes.append,
        on_event=lambda pod, type_, reason, message: events.append((type_, reason, message)),
    )
    try:
        yield Harness(clock, runtime, manager, changes, events)
    finally:
        await manager.close()


def _probe(name: str, **kw: int) -> dict[str, Any]:
    return {"exec": {"command": ["probe", name]}, **kw}


def _pod(**probes: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "busybox", **probes}
    return {
        "metadata": {"name": "p", "namespace": "default", "uid": "u1"},
        "spec": {"containers": [container]},
    }


async def test_readiness_initial_delay_period_and_thresholds(h: Harness) -> None:
    pod = _pod(readinessProbe=_probe("ready", initialDelaySeconds=5, periodSeconds=2))
    h.manager.update(pod, {"app": ("c1", h.clock.time())}, "10.0.0.5")
    await h.settle()
    assert h.manager.started("u1", "app") is True
    assert h.manager.ready("u1", "app") is False
    await h.tick(4.9)
    assert h.calls("ready") == 0
    await h.tick(0.1)
    assert h.calls("ready") == 1
    assert h.manager.ready("u1", "app") is True
    assert h.changes == ["u1"]

    h.runtime.exit["ready"] = 1
    await h.tick(2)
    await h.tick(2)
    assert h.manager.ready("u1", "app") is True  # two failures < failureThreshold 3
    await h.tick(2)
    assert h.manager.ready("u1", "app") is False
    assert h.changes == ["u1", "u1"]
    assert h.events[-1] == ("Warning", "Unhealthy", "Readiness probe failed: ready says 1")
    assert len(h.events) == 3  # one event per failed run

    h.runtime.exit["ready"] = 0
    await h.tick(1.9)
    assert h.manager.ready("u1", "app") is False
    await h.tick(0.1)
    assert h.manager.ready("u1", "app") is True


async def test_success_threshold(h: Harness) -> None:
    pod = _pod(readinessProbe=_probe("ready", periodSeconds=1, successThreshold=3))
    h.manager.update(pod, {"app": ("c1", h.clock.time())}, "10.0.0.5")
    await h.settle()
    assert h.calls("ready") == 1
    await h.tick(1)
    assert h.manager.ready("u1", "app") is False
    await h.tick(1)
    assert h.calls("ready") == 3
    assert h.manager.ready("u1", "app") is True


async def test_no_probe_ready_once_running(h: Harness) -> None:
    pod = _pod()
    assert h.manager.ready("u1", "app") is False
    h.manager.update(pod, {"app": ("c1", h.clock.time())}, "10.0.0.5")
    assert h.manager.ready("u1", "app") is True
    assert h.manager.started("u1", "app") is True
    h.manager.update(pod, {}, "10.0.0.5")
    assert h.manager.ready("u1", "app") is False


async def test_liveness_failure_reported_once_then_new_container(h: Harness) -> None:
    pod = _pod(livenessProbe=_probe("live", periodSeconds=10, failureThreshold=2))
    h.runtime.exit["live"] = 1
    h.manager.update(pod, {"app": ("c1", h.clock.time())}, "10.0.0.5")
    await h.settle()
    assert h.manager.liveness_failed("u1", "app") is None
    await h.tick(10)
    assert h.manager.liveness_failed("u1", "app") == "Container app failed liveness probe"
    assert h.changes == ["u1"]
    assert h.events == [("Warning", "Unhealthy", "Liveness probe failed: live says 1")] * 2
    # on hold: no more runs for this container id
    await h.tick(30)
    assert h.calls("live") == 2
    # the restarted container gets a fresh worker and a clean result
    h.runtime.exit["live"] = 0
    h.manager.update(pod, {"app": ("c2", h.clock.time())}, "10.0.0.5")
    assert h.manager.liveness_failed("u1", "app") is None
    await h.settle()
    assert h.runtime.calls[-1] == ("c2", "live")
    await h.tick(10)
    assert h.manager.liveness_failed("u1", "app") is None


async def test_startup_gates_liveness_and_readiness(h: Harness) -> None:
    pod = _pod(
        startupProbe=_probe("startup", periodSeconds=1, failureThreshold=30),
        livenessProbe=_probe("live", periodSeconds=5),
        readinessProbe=_probe("ready", periodSeconds=5),
    )
    h.runtime.exit["startup"] = 1
    h.manager.update(pod, {"app": ("c1", h.clock.time())}, "10.0.0.5")
    await h.settle()
    for _ in range(3):
        await h.tick(1)
    assert h.calls("startup") == 4
    assert (h.calls("live"), h.calls("ready")) == (0, 0)
    assert h.manager.started("u1", "app") is False
    assert h.manager.ready("u1", "app") is False
    h.runtime.exit["startup"] = 0
    await h.tick(1)
    assert h.manager.started("u1", "app") is True
    assert (h.calls("live"), h.calls("ready")) == (1, 1)
    assert h.manager.ready("u1", "app") is True
    # the startup worker is done
    await h.tick(5)
    assert h.calls("startup") == 5
    assert (h.calls("live"), h.calls("ready")) == (2, 2)


async def test_startup_failure_kills(h: Harness) -> None:
    pod = _pod(
        startupProbe=_probe("startup", periodSeconds=1, failureThreshold=2),
        livenessProbe=_probe("live"),
    )
    h.runtime.exit["startup"] = 1
    h.manager.update(pod, {"app": ("c1", h.clock.time())}, "10.0.0.5")
    await h.settle()
    await h.tick(1)
    assert h.manager.liveness_failed("u1", "app") == "Container app failed startup probe"
    assert h.events[-1][2] == "Startup probe failed: startup says 1"
    assert h.calls("live") == 0


async def test_errored_probe_is_not_counted(h: Harness) -> None:
    pod = _pod(livenessProbe=_probe("live", periodSeconds=1, failureThreshold=1))
    h.runtime.exit["live"] = None
    h.manager.update(pod, {"app": ("c1", h.clock.time())}, "10.0.0.5")
    await h.settle()
    await h.tick(1)
    assert h.calls("live") == 2
    assert h.manager.liveness_failed("u1", "app") is None
    assert h.events[0][1] == "Unhealthy"
    assert h.events[0][2].startswith(
        "Liveness probe errored and resulted in unknown state: container c1 is gone"
    )


async def test_workers_stop_with_container_and_pod(h: Harness) -> None:
    pod = _pod(readinessProbe=_probe("ready", periodSeconds=1))
    pod["spec"]["initContainers"] = [
        {
            "name": "side",
            "restartPolicy": "Always",
            "readinessProbe": _probe("side", periodSeconds=1),
        },
        {"name": "init", "readinessProbe": _probe("init", periodSeconds=1)},
    ]
    running = {"app": ("c1", h.clock.time()), "side": ("s1", h.clock.time())}
    h.manager.update(pod, running, "10.0.0.5")
    await h.settle()
    assert (h.calls("ready"), h.calls("side"), h.calls("init")) == (1, 1, 0)
    assert h.clock.sleepers == 2
    h.manager.update(pod, {"side": ("s1", h.clock.time())}, "10.0.0.5")
    await h.settle()
    assert h.clock.sleepers == 1
    assert h.manager.ready("u1", "app") is False
    assert h.manager.ready("u1", "side") is True
    h.manager.remove_pod("u1")
    await h.settle()
    assert h.clock.sleepers == 0
    assert h.manager.ready("u1", "side") is False
    await h.tick(5)
    assert (h.calls("ready"), h.calls("side")) == (1, 1)
