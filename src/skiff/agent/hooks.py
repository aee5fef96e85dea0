"""Lifecycle hooks (postStart, preStop): run one handler - exec, httpGet or sleep - and say what
went wrong.

Follows kubelet's ``pkg/kubelet/lifecycle/handlers.go``:
- exec runs the command in the container; a non-zero exit (or no exit within ``time_limit``) is an
  error carrying the command's output.
- httpGet sends one GET (host defaults to the pod IP, named ports resolved); only a failure to get
  a response is an error - kubelet does not look at the status code of a hook's answer.
- sleep waits ``seconds`` (the PodLifecycleSleepAction); cut short by ``time_limit`` (the grace
  period left), which is an error as in kubelet ("container terminated before sleep hook finished").
- tcpSocket is accepted by the API only for compatibility; kubelet never runs it, neither do we.

The caller (the agent core) turns an error into a FailedPostStartHook / FailedPreStopHook event
and, for postStart, kills the container.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from skiff.agent.probes import MAX_OUTPUT, http_get
from skiff.runtime.base import Runtime
from skiff.runtime.types import ContainerRuntimeError
from skiff.util.clock import Clock, SystemClock

__all__ = ["HOOK_USER_AGENT", "run_handler"]

HOOK_USER_AGENT = "kube-lifecycle/1.32"


async def run_handler(
    handler: Mapping[str, Any],
    *,
    runtime: Runtime,
    container_id: str,
    pod_ip: str,
    container_ports: Mapping[str, int],
    time_limit: float,
    clock: Clock | None = None,
) -> str | None:
    """Run a LifecycleHandler; return None on success, else the error message.

    ``time_limit`` bounds the whole handler (seconds). ``clock`` is only used by the sleep action
    (default: the system clock)."""
    limit = max(0.0, time_limit)
    if (action := handler.get("exec")) is not None:
        argv = [str(a) for a in action.get("command") or ()]
        if not argv:
            return "Exec lifecycle hook has no command"
        try:
            result = await runtime.exec_sync(container_id, argv, time_limit=limit)
        except ContainerRuntimeError as err:
            return f"Exec lifecycle hook ({argv}) failed - error: {err}"
        output = (result.stdout + result.stderr)[:MAX_OUTPUT].decode("utf-8", "replace")
        if result.timed_out:
            return (
                f"Exec lifecycle hook ({argv}) failed - error: command timed out after "
                f"{limit:g}s, message: {output!r}"
            )
        if result.exit_code != 0:
            return (
                f"Exec lifecycle hook ({argv}) failed - error: command exited with "
                f"{result.exit_code}, message: {output!r}"
            )
        return None
    if (action := handler.get("httpGet")) is not None:
        try:
            response, _ = await http_get(
                action,
                pod_ip=pod_ip,
                container_ports=container_ports,
                time_limit=max(limit, 0.001),
                user_agent=HOOK_USER_AGENT,
                follow_same_host=False,
            )
        except (httpx.HTTPError, ValueError, TimeoutError) as err:
            detail = str(err) or type(err).__name__
            return f"HTTP lifecycle hook ({action.get('path') or '/'}) failed - error: {detail}"
        await response.aclose()
        return None
    if (action := handler.get("sleep")) is not None:
        seconds = float(action.get("seconds") or 0)
        sleeper = clock or SystemClock()
        if seconds > limit:
            await sleeper.sleep(limit)
            return "container terminated before sleep hook finished"
        await sleeper.sleep(seconds)
        return None
    if handler.get("tcpSocket") is not None:
        return "TCPSocket lifecycle handlers are not supported (kubelet never runs them either)"
    return "lifecycle handler has no action (exec, httpGet or sleep)"
