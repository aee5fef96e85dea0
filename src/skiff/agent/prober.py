"""`ProbeManager`: a worker per probe of every running container, keeping the results the status
manager and the pod workers read.

Semantics follow kubelet's ``pkg/kubelet/prober`` (``worker.go``, ``prober_manager.go``):

- One asyncio worker per (pod, container, probe kind). A worker starts when `ProbeManager.update`
  first reports the container running under a container id, and ends when the container stops,
  gets a new id (restart) or the pod is removed.
- ``initialDelaySeconds`` counts from the container's start (``started_at``); then the probe runs
  every ``periodSeconds`` (default 10), each run bounded by ``timeoutSeconds`` (in `run_probe`).
- A result changes only after ``successThreshold`` consecutive successes or ``failureThreshold``
  consecutive failures (defaults 1 and 3), as kubelet's ``resultRun``.
- Startup gates the others: liveness and readiness do not run until the startup probe has
  succeeded; once it has, the startup worker stops.
- Readiness is False until the first success (kubelet's initial value); a container without a
  readiness probe is ready as soon as it has started.
- A liveness (or startup) failure reaching the threshold is reported once through
  `ProbeManager.liveness_failed` and ``on_change``; the worker then stops ("on hold" until a new
  container id), so the container is restarted once, not once per period.
- Each failed run is an ``Unhealthy`` Warning event (``"Liveness probe failed: <output>"``);
  a run that could not be made is ``"Liveness probe errored and resulted in unknown state:
  ..."`` and is not counted, as kubelet
  throws errored results away; a redirect warning is a ``ProbeWarning`` event.

Time comes from the injected `Clock`; tests drive it with ``FakeClock`` and a runtime double.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skiff.agent.probes import ProbeResult, run_probe
from skiff.runtime.base import Runtime
from skiff.util.clock import Clock

__all__ = ["ProbeManager", "probed_containers"]

log = logging.getLogger(__name__)

_FIELDS = {"startup": "startupProbe", "liveness": "livenessProbe", "readiness": "readinessProbe"}
_TITLES = {"startup": "Startup", "liveness": "Liveness", "readiness": "Readiness"}


def probed_containers(pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The containers probes apply to: app containers and sidecars (init containers with
    ``restartPolicy: Always``), as kubelet probes both."""
    spec = pod.get("spec") or {}
    sidecars = [c for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"]
    return [*sidecars, *(spec.get("containers") or ())]


def _container_ports(container: Mapping[str, Any]) -> dict[str, int]:
    return {
        str(p["name"]): int(p["containerPort"])
        for p in container.get("ports") or ()
        if p.get("name") and p.get("containerPort") is not None
    }


@dataclass
class _Container:
    """Probe state of one running container instance (one container id)."""

    uid: str
    name: str
    container_id: str
    started_at: float
    spec: Mapping[str, Any]
    pod_ip: str
    started: bool
    ready: bool = False
    liveness_failed: str | None = None
    started_event: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class ProbeManager:
    """Runs the probes of every running container and keeps their results."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        clock: Clock,
        on_change: Callable[[str], None],
        on_event: Callable[[Mapping[str, Any], str, str, str], None],
    ) -> None:
        self._runtime = runtime
        self._clock = clock
        self._on_change = on_change
        self._on_event = on_event
        self._pods: dict[str, Mapping[str, Any]] = {}
        self._containers: dict[str, dict[str, _Container]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    # ---- what the agent core calls

    def update(
        self, pod: Mapping[str, Any], running: Mapping[str, tuple[str, float]], pod_ip: str
    ) -> None:
        """Reconcile workers with the pod's running containers.

        ``running`` maps container names to (container id, started_at epoch seconds) for the
        containers running now. A new id for a name (a restart) drops the old results (readiness
        False, liveness failure cleared) and starts fresh workers. Must be called from the loop."""
        uid = str((pod.get("metadata") or {}).get("uid") or "")
        if self._closed or not uid:
            return
        self._pods[uid] = pod
        states = self._containers.setdefault(uid, {})
        wanted = {str(c["name"]): c for c in probed_containers(pod)}
        for name in list(states):
            state = states[name]
            current = running.get(name)
            if name not in wanted or current is None or current[0] != state.container_id:
                self._stop(state)
                del states[name]
        for name, spec in wanted.items():
            current = running.get(name)
            if current is None:
                continue
            existing = states.get(name)
            if existing is not None:
                existing.pod_ip = pod_ip
                continue
            container_id, started_at = current
            state = _Container(
                uid=uid,
                name=name,
                container_id=container_id,
                started_at=started_at,
                spec=spec,
                pod_ip=pod_ip,
                started=spec.get("startupProbe") is None,
            )
            if state.started:
                state.started_event.set()
            states[name] = state
            for kind, key in _FIELDS.items():
                probe = spec.get(key)
                if probe is not None:
                    self._spawn(state, kind, probe)

    def remove_pod(self, pod_uid: str) -> None:
        """Stop every worker of the pod and forget its results."""
        for state in (self._containers.pop(pod_uid, None) or {}).values():
            self._stop(state)
        self._pods.pop(pod_uid, None)

    def ready(self, pod_uid: str, container: str) -> bool:
        """Readiness of a running container: its readiness probe's result (False until the first
        success); without a readiness probe, whether it has started. False when not running."""
        state = self._containers.get(pod_uid, {}).get(container)
        if state is None or not state.started:
            return False
        if state.spec.get("readinessProbe") is None:
            return True
        return state.ready

    def started(self, pod_uid: str, container: str) -> bool:
        """Whether a running container's startup probe has succeeded (True without one).
        False for a container not reported running by `update`."""
        state = self._containers.get(pod_uid, {}).get(container)
        return state is not None and state.started

    def liveness_failed(self, pod_uid: str, container: str) -> str | None:
        """``"Container <name> failed liveness probe"`` (or ``startup probe``) once the failure
        threshold is reached for the current container id; None otherwise. kubelet's event then
        reads ``Killing: Container x failed liveness probe, will be restarted``."""
        state = self._containers.get(pod_uid, {}).get(container)
        return None if state is None else state.liveness_failed

    async def close(self) -> None:
        """Stop every worker and wait for them to end."""
        self._closed = True
        for uid in list(self._containers):
            self.remove_pod(uid)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ---- workers

    def _spawn(self, state: _Container, kind: str, probe: Mapping[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(
            self._worker(state, kind, probe), name=f"probe-{kind}-{state.uid}-{state.name}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        state.tasks.append(task)

    def _stop(self, state: _Container) -> None:
        for task in state.tasks:
            task.cancel()
        state.tasks.clear()

    async def _worker(self, state: _Container, kind: str, probe: Mapping[str, Any]) -> None:
        period = max(1, int(probe.get("periodSeconds") or 10))
        delay = max(0, int(probe.get("initialDelaySeconds") or 0))
        success_threshold = max(1, int(probe.get("successThreshold") or 1))
        failure_threshold = max(1, int(probe.get("failureThreshold") or 3))
        if kind != "startup":
            await state.started_event.wait()
        remaining = state.started_at + delay - self._clock.time()
        if remaining > 0:
            await self._clock.sleep(remaining)
        last: bool | None = None
        run = 0
        while True:
            result = await self._probe_once(state, kind, probe)
            if result.success is not None:
                if result.success == last:
                    run += 1
                else:
                    last, run = result.success, 1
                threshold = success_threshold if result.success else failure_threshold
                if run >= threshold and self._apply(state, kind, result.success):
                    return
            await self._clock.sleep(period)

    async def _probe_once(
        self, state: _Container, kind: str, probe: Mapping[str, Any]
    ) -> ProbeResult:
        try:
            result = await run_probe(
                probe,
                runtime=self._runtime,
                container_id=state.container_id,
                pod_ip=state.pod_ip,
                container_ports=_container_ports(state.spec),
            )
        except Exception as err:  # a bug or an unexpected runtime error must not end the worker
            log.exception("%s probe of %s/%s", kind, state.uid, state.name)
            result = ProbeResult(None, str(err) or type(err).__name__)
        title = _TITLES[kind]
        if result.success is None:
            self._event(
                state,
                "Unhealthy",
                f"{title} probe errored and resulted in unknown state: {result.message}",
            )
        elif not result.success:
            self._event(state, "Unhealthy", f"{title} probe failed: {result.message}")
        elif result.message:
            self._event(state, "ProbeWarning", f"{title} probe warning: {result.message}")
        return result

    def _event(self, state: _Container, reason: str, message: str) -> None:
        pod = self._pods.get(state.uid)
        if pod is None:
            return
        try:
            self._on_event(pod, "Warning", reason, message)
        except Exception:
            log.exception("probe event callback")

    def _changed(self, uid: str) -> None:
        try:
            self._on_change(uid)
        except Exception:
            log.exception("probe change callback")

    def _apply(self, state: _Container, kind: str, success: bool) -> bool:
        """Record a result that reached its threshold; True when the worker should end."""
        if kind == "readiness":
            if state.ready != success:
                state.ready = success
                self._changed(state.uid)
            return False
        if kind == "startup":
            if success:
                state.started = True
                state.started_event.set()
            else:
                state.liveness_failed = f"Container {state.name} failed startup probe"
            self._changed(state.uid)
            return True
        if success:
            return False
        state.liveness_failed = f"Container {state.name} failed liveness probe"
        self._changed(state.uid)
        return True
