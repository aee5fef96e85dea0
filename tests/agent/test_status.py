"""Pod status computation (kubelet's getPhase and container statuses) and the status manager:
waiting/running/terminated states with lastState and restartCount, phases per restartPolicy,
conditions keeping their transition times, writes only when the status changed."""

from __future__ import annotations

from typing import Any

from skiff.agent.status import PodRuntimeView, StatusManager, compute_pod_status
from skiff.client import Client
from skiff.runtime.types import ContainerState, ContainerStatus
from skiff.testing.agent import pod_manifest

T0 = 1_750_000_000.0


def _c(name: str, attempt: int, state: ContainerState, code: int = 0) -> ContainerStatus:
    exited = state is ContainerState.EXITED
    return ContainerStatus(
        id=f"{name}{attempt}",
        sandbox_id="s",
        name=name,
        attempt=attempt,
        state=state,
        image="img",
        image_id="sha256:abc",
        created_at=T0 + attempt,
        started_at=T0 + attempt,
        finished_at=T0 + attempt + 0.5 if exited else 0.0,
        exit_code=code,
        reason=("Completed" if code == 0 else "Error") if exited else "",
    )


def _pod(policy: str = "Always") -> dict[str, Any]:
    pod = pod_manifest("p", "n", restart_policy=policy)
    pod["metadata"]["uid"] = "u"
    return pod


def _view(**kw: Any) -> PodRuntimeView:
    base: dict[str, Any] = {
        "runtime_name": "fake",
        "node_ip": "10.0.0.1",
        "pod_ip": "10.42.0.5",
        "sandbox_ready": True,
        "initialized": True,
    }
    base.update(kw)
    return PodRuntimeView(**base)


def test_waiting_before_first_start_is_pending() -> None:
    status = compute_pod_status(_pod(), _view(containers=[]), T0)
    assert status["phase"] == "Pending"
    cs = status["containerStatuses"][0]
    assert cs["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert cs["restartCount"] == 0 and "containerID" not in cs


def test_crash_loop_shows_waiting_with_last_state() -> None:
    view = _view(
        containers=[
            _c("main", 0, ContainerState.EXITED, 1),
            _c("main", 1, ContainerState.EXITED, 1),
        ],
        waiting={"main": ("CrashLoopBackOff", "back-off 1s restarting failed container=main")},
    )
    status = compute_pod_status(_pod(), view, T0)
    cs = status["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert cs["lastState"]["terminated"]["containerID"] == "fake://main1"
    assert cs["restartCount"] == 1
    assert status["phase"] == "Running"


def test_running_after_restart_keeps_previous_as_last_state() -> None:
    view = _view(
        containers=[_c("main", 0, ContainerState.EXITED, 2), _c("main", 1, ContainerState.RUNNING)],
        ready={"main": True},
        started={"main": True},
    )
    status = compute_pod_status(_pod(), view, T0)
    cs = status["containerStatuses"][0]
    assert "running" in cs["state"] and cs["ready"] and cs["started"]
    assert cs["lastState"]["terminated"]["exitCode"] == 2
    conds = {c["type"]: c["status"] for c in status["conditions"]}
    assert conds["Ready"] == conds["ContainersReady"] == "True"


def test_phases_per_restart_policy() -> None:
    failed = [_c("main", 0, ContainerState.EXITED, 3)]
    ok = [_c("main", 0, ContainerState.EXITED, 0)]
    assert compute_pod_status(_pod("Never"), _view(containers=failed), T0)["phase"] == "Failed"
    assert compute_pod_status(_pod("Never"), _view(containers=ok), T0)["phase"] == "Succeeded"
    assert compute_pod_status(_pod("OnFailure"), _view(containers=ok), T0)["phase"] == "Succeeded"
    assert compute_pod_status(_pod("OnFailure"), _view(containers=failed), T0)["phase"] == "Running"
    assert compute_pod_status(_pod("Always"), _view(containers=ok), T0)["phase"] == "Running"
    deadline = _view(containers=failed, terminal=("Failed", "DeadlineExceeded", "too long"))
    status = compute_pod_status(_pod(), deadline, T0)
    assert (status["phase"], status["reason"]) == ("Failed", "DeadlineExceeded")


def test_condition_transition_time_kept_while_unchanged() -> None:
    pod = _pod()
    first = compute_pod_status(pod, _view(containers=[]), T0)
    pod["status"] = first
    later = compute_pod_status(pod, _view(containers=[]), T0 + 100)
    times = {c["type"]: c["lastTransitionTime"] for c in later["conditions"]}
    assert times == {c["type"]: c["lastTransitionTime"] for c in first["conditions"]}
    running = _view(containers=[_c("main", 0, ContainerState.RUNNING)], ready={"main": True})
    changed = compute_pod_status(pod, running, T0 + 100)
    ready = next(c for c in changed["conditions"] if c["type"] == "Ready")
    assert ready["lastTransitionTime"] != times["Ready"]


async def test_status_manager_writes_only_changes(client: Client) -> None:
    pod = await client.create("pods", pod_manifest("s", "n"), namespace="default")
    manager = StatusManager(client)
    status = compute_pod_status(pod, _view(containers=[]), T0)
    assert await manager.set_status(pod, status) is True
    assert await manager.set_status(pod, status) is False
    stored = await client.get("pods", "s", namespace="default")
    assert stored["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == (
        "ContainerCreating"
    )
    assert await StatusManager(client).set_status(stored, status) is False  # already shown
    assert manager.writes == 1


async def test_status_manager_clears_fields_it_no_longer_reports(client: Client) -> None:
    pod = await client.create("pods", pod_manifest("c", "n"), namespace="default")
    manager = StatusManager(client)
    failed = _view(containers=[], terminal=("Failed", "Evicted", "low on memory"))
    await manager.set_status(pod, compute_pod_status(pod, failed, T0))
    stored = await client.get("pods", "c", namespace="default")
    assert stored["status"]["reason"] == "Evicted"
    await manager.set_status(stored, compute_pod_status(stored, _view(containers=[]), T0))
    stored = await client.get("pods", "c", namespace="default")
    assert "reason" not in stored["status"] and "message" not in stored["status"]
