"""Pod status: computed from runtime state (`compute_pod_status`) and written by `StatusManager`.

The shape follows kubelet's ``generateAPIPodStatus`` / ``convertToAPIContainerStatuses`` and the
phase ``getPhase`` (``pkg/kubelet/kubelet_pods.go``, 1.32): a pod is Pending until its init
containers are done and no app container is still waiting for its first start; Running while an
app container runs or will be restarted; Succeeded / Failed once every app container has ended
and none will be restarted. Conditions: PodReadyToStartContainers, Initialized, ContainersReady,
Ready (and PodScheduled, kept when the scheduler wrote it, else True). A transition keeps its
``lastTransitionTime`` while the condition's status does not change.

`StatusManager` writes ``pods/status`` (a merge patch of the whole status) only when the computed
status differs from what the API server last showed or what this agent last wrote, and confirms a
pod's deletion with a delete of grace 0 (uid precondition) once its containers are stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from skiff.client import ApiError, Client, Conflict, FrozenList, NotFound, Preconditions, thaw
from skiff.runtime.types import ContainerState, ContainerStatus
from skiff.util.clock import format_epoch_time

__all__ = ["PodRuntimeView", "StatusManager", "compute_pod_status", "container_kinds"]

log = logging.getLogger(__name__)


def container_kinds(pod: Mapping[str, Any]) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """(regular init containers, sidecars, app containers, ephemeral containers)."""
    spec = pod.get("spec") or {}
    inits = list(spec.get("initContainers") or ())
    sidecars = [c for c in inits if c.get("restartPolicy") == "Always"]
    regular = [c for c in inits if c.get("restartPolicy") != "Always"]
    return (
        regular,
        sidecars,
        list(spec.get("containers") or ()),
        list(spec.get("ephemeralContainers") or ()),
    )


@dataclass
class PodRuntimeView:
    """What the agent knows about one pod right now (input of `compute_pod_status`)."""

    runtime_name: str
    node_ip: str
    pod_ip: str = ""
    sandbox_ready: bool = False
    containers: Sequence[ContainerStatus] = ()
    # container name -> (reason, message) for a container waiting to (re)start
    waiting: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    initialized: bool = False
    # ("Succeeded" | "Failed", reason, message) once the agent decided the pod is done
    terminal: tuple[str, str, str] | None = None
    start_time: float = 0.0
    # container id -> termination message
    messages: Mapping[str, str] = field(default_factory=dict)
    ready: Mapping[str, bool] = field(default_factory=dict)
    started: Mapping[str, bool] = field(default_factory=dict)


def _history(view: PodRuntimeView) -> dict[str, list[ContainerStatus]]:
    out: dict[str, list[ContainerStatus]] = {}
    for c in view.containers:
        out.setdefault(c.name, []).append(c)
    for items in out.values():
        items.sort(key=lambda c: (c.attempt, c.created_at), reverse=True)
    return out


def _terminated(c: ContainerStatus, view: PodRuntimeView) -> dict[str, Any]:
    out: dict[str, Any] = {
        "exitCode": c.exit_code,
        "reason": c.reason or ("Completed" if c.exit_code == 0 else "Error"),
        "startedAt": format_epoch_time(c.started_at) if c.started_at else None,
        "finishedAt": format_epoch_time(c.finished_at) if c.finished_at else None,
        "containerID": f"{view.runtime_name}://{c.id}",
    }
    message = view.messages.get(c.id) or c.message
    if message:
        out["message"] = message
    return out


def _container_status(
    spec: Mapping[str, Any], view: PodRuntimeView, hist: list[ContainerStatus], default_wait: str
) -> dict[str, Any]:
    name = str(spec["name"])
    latest = hist[0] if hist else None
    prev = hist[1] if len(hist) > 1 else None
    waiting = view.waiting.get(name)
    status: dict[str, Any] = {
        "name": name,
        "image": spec.get("image", ""),
        "imageID": (latest.image_id if latest else "") or "",
        "restartCount": latest.attempt if latest else 0,
        "started": False,
        "ready": False,
        "lastState": {},
        "state": {},
    }
    if latest is not None:
        status["containerID"] = f"{view.runtime_name}://{latest.id}"
    if latest is not None and latest.state is ContainerState.RUNNING:
        status["state"] = {"running": {"startedAt": format_epoch_time(latest.started_at)}}
        status["started"] = bool(view.started.get(name, True))
        status["ready"] = bool(view.ready.get(name, False))
        if prev is not None and prev.state is ContainerState.EXITED:
            status["lastState"] = {"terminated": _terminated(prev, view)}
    elif latest is not None and latest.state is ContainerState.EXITED:
        if waiting is not None:
            status["state"] = {"waiting": {"reason": waiting[0], "message": waiting[1]}}
            status["lastState"] = {"terminated": _terminated(latest, view)}
        else:
            status["state"] = {"terminated": _terminated(latest, view)}
            if prev is not None and prev.state is ContainerState.EXITED:
                status["lastState"] = {"terminated": _terminated(prev, view)}
    else:
        reason, message = waiting if waiting is not None else (default_wait, "")
        wait: dict[str, Any] = {"reason": reason}
        if message:
            wait["message"] = message
        status["state"] = {"waiting": wait}
    if not status["state"].get("waiting", {}).get("message", True):
        del status["state"]["waiting"]["message"]
    return status


def _phase(app: list[dict[str, Any]], view: PodRuntimeView, restart_policy: str) -> str:
    if view.terminal is not None:
        return view.terminal[0]
    if not view.initialized:
        return "Pending"
    running = waiting = stopped = succeeded = 0
    for s in app:
        state = s["state"]
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            if state["terminated"]["exitCode"] == 0:
                succeeded += 1
        elif "waiting" in state:
            if s["lastState"].get("terminated"):
                stopped += 1
            else:
                waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        if restart_policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Running" if restart_policy == "OnFailure" else "Failed"
    return "Pending"


def _condition(
    ctype: str,
    ok: bool,
    old: Mapping[str, Mapping[str, Any]],
    now: str,
    reason: str = "",
    message: str = "",
) -> dict[str, Any]:
    status = "True" if ok else "False"
    prev = old.get(ctype)
    when = (
        prev.get("lastTransitionTime")
        if prev is not None and prev.get("status") == status and prev.get("lastTransitionTime")
        else now
    )
    cond: dict[str, Any] = {
        "type": ctype,
        "status": status,
        "lastProbeTime": None,
        "lastTransitionTime": when,
    }
    if not ok and reason:
        cond["reason"] = reason
    if not ok and message:
        cond["message"] = message
    return cond


def compute_pod_status(pod: Mapping[str, Any], view: PodRuntimeView, now: float) -> dict[str, Any]:
    """The pod's status as the agent reports it (see the module doc)."""
    spec = pod.get("spec") or {}
    current = pod.get("status") or {}
    _regular, sidecars, app_specs, ephemeral = container_kinds(pod)
    hist = _history(view)
    init_specs = list(spec.get("initContainers") or ())
    init = [
        _container_status(c, view, hist.get(c["name"], []), "PodInitializing") for c in init_specs
    ]
    app_wait = "ContainerCreating" if view.initialized else "PodInitializing"
    app = [_container_status(c, view, hist.get(c["name"], []), app_wait) for c in app_specs]
    eph = [
        _container_status(c, view, hist.get(c["name"], []), "ContainerCreating") for c in ephemeral
    ]
    policy = str(spec.get("restartPolicy") or "Always")
    phase = _phase(app, view, policy)
    stamp = format_epoch_time(now)
    old = {str(c.get("type")): c for c in current.get("conditions") or ()}
    terminal = phase in ("Succeeded", "Failed")
    not_ready = [s["name"] for s in app if not s["ready"]]
    sidecars_not_ready = [
        s["name"] for s in init if s["name"] in {c["name"] for c in sidecars} and not s["ready"]
    ]
    unready = not_ready + sidecars_not_ready
    incomplete = [] if view.initialized else [c["name"] for c in init_specs]
    if terminal:
        reason, ready_msg = "PodCompleted", ""
    else:
        reason = "ContainersNotReady"
        ready_msg = f"containers with unready status: [{' '.join(unready)}]"
    ready_ok = not unready and not terminal
    conditions = [
        _condition("PodReadyToStartContainers", view.sandbox_ready, old, stamp),
        _condition(
            "Initialized",
            view.initialized,
            old,
            stamp,
            "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(incomplete)}]",
        ),
        _condition("Ready", ready_ok, old, stamp, reason, ready_msg),
        _condition("ContainersReady", ready_ok, old, stamp, reason, ready_msg),
    ]
    scheduled = old.get("PodScheduled")
    conditions.append(
        thaw(scheduled) if scheduled is not None else _condition("PodScheduled", True, old, stamp)
    )
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": conditions,
        "hostIP": view.node_ip,
        "hostIPs": [{"ip": view.node_ip}],
        "initContainerStatuses": init,
        "containerStatuses": app,
    }
    if ephemeral:
        status["ephemeralContainerStatuses"] = eph
    if view.pod_ip:
        status["podIP"] = view.pod_ip
        status["podIPs"] = [{"ip": view.pod_ip}]
    start = current.get("startTime") or (
        format_epoch_time(view.start_time) if view.start_time else None
    )
    if start:
        status["startTime"] = start
    if current.get("qosClass"):
        status["qosClass"] = current["qosClass"]
    if view.terminal is not None and view.terminal[1]:
        status["reason"] = view.terminal[1]
        status["message"] = view.terminal[2]
    if not init:
        del status["initContainerStatuses"]
    return status


def _comparable(value: Any) -> Any:
    """A plain copy without null fields (the API server drops them, so compare without)."""
    if isinstance(value, Mapping):
        return {k: _comparable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple | FrozenList):
        return [_comparable(v) for v in value]
    return value


# status fields the agent owns and may drop (others, like nominatedNodeName, are left alone)
_AGENT_KEYS = (
    "reason",
    "message",
    "podIP",
    "podIPs",
    "initContainerStatuses",
    "ephemeralContainerStatuses",
)


class StatusManager:
    """Writes pod status and confirms deletions (kubelet ``status_manager``)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._written: dict[str, Any] = {}
        self.writes = 0

    async def set_status(self, pod: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
        """Write ``status`` unless the pod already shows it; True when written."""
        meta = pod.get("metadata") or {}
        uid = str(meta.get("uid", ""))
        new = _comparable(status)
        if new == self._written.get(uid):
            return False
        current = pod.get("status")
        if current is not None and _comparable(current) == new:
            self._written[uid] = new
            return False
        body = dict(new)
        for key in _AGENT_KEYS:  # a merge patch keeps what it does not mention: clear it
            if current is not None and key in current and key not in new:
                body[key] = None
        try:
            await self.client.patch_status(
                "pods",
                str(meta["name"]),
                {"status": body},
                namespace=str(meta.get("namespace") or "default"),
                patch_type="merge",
            )
        except NotFound:
            return False
        self._written[uid] = new
        self.writes += 1
        return True

    async def confirm_deletion(self, pod: Mapping[str, Any]) -> None:
        """Delete the pod with grace 0 (its containers are stopped); gone already is fine."""
        meta = pod.get("metadata") or {}
        try:
            await self.client.delete(
                "pods",
                str(meta["name"]),
                namespace=str(meta.get("namespace") or "default"),
                grace_period_seconds=0,
                preconditions=Preconditions(uid=str(meta.get("uid"))),
            )
        except (NotFound, Conflict):
            pass
        except ApiError as e:
            log.warning("confirming deletion of pod %s failed: %s", meta.get("name"), e)
            raise

    def forget(self, uid: str) -> None:
        self._written.pop(uid, None)
