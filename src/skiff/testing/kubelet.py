"""A stand-in kubelet for tests that run controllers without a node agent.

`StandInKubelet` polls one namespace's pods through the API (an ``httpx.AsyncClient`` with a base
URL and credentials) and does what an agent would, cheaply: it confirms deletions (grace 0),
binds a pod whose required node affinity pins one node by ``metadata.name`` (a DaemonSet pod;
the scheduler's job, stood in for), and once ``delay`` seconds have passed since it first saw a
pod, writes its status through ``pods/status``: Running and Ready (``outcome="ready"``), or
Succeeded with every container exited 0 (``outcome="succeeded"``). A subclass may override
`observe` to record what it sees in each poll.

``running(kubelet)`` runs one in the test's event loop; ``kubelet_thread(...)`` runs one in a
thread of its own (for synchronous tests against a `ServerProcess`). Both stop it when the block
ends, even on failure. ``ready_status`` and ``succeeded_status`` are the ``pods/status`` bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx

__all__ = [
    "StandInKubelet",
    "kubelet_thread",
    "pinned_node",
    "ready_status",
    "running",
    "succeeded_status",
]

Obj = dict[str, Any]
MERGE = {"Content-Type": "application/merge-patch+json"}
K = TypeVar("K", bound="StandInKubelet")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ready_status(ready: bool = True, *, now: str | None = None) -> Obj:
    """The ``pods/status`` merge patch of a Running pod whose Ready condition is ``ready``."""
    cond: Obj = {"type": "Ready", "status": "True" if ready else "False"}
    if now is not None:
        cond["lastTransitionTime"] = now
    return {"status": {"phase": "Running", "conditions": [cond]}}


def succeeded_status(pod: Obj) -> Obj:
    """The ``pods/status`` merge patch of ``pod`` run to success: every container exited 0."""
    return {
        "status": {
            "phase": "Succeeded",
            "containerStatuses": [
                {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
                }
                for c in pod["spec"].get("containers", [])
            ],
        }
    }


def pinned_node(pod: Obj) -> str:
    """The node a pod's required node affinity pins with one ``metadata.name In [node]`` field
    requirement (how the DaemonSet controller places its pods), or ``""``."""
    affinity = (pod.get("spec") or {}).get("affinity") or {}
    required = (affinity.get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in required.get("nodeSelectorTerms") or []:
        for req in term.get("matchFields") or []:
            values = req.get("values") or []
            if (
                req.get("key") == "metadata.name"
                and req.get("operator") == "In"
                and len(values) == 1
            ):
                return str(values[0])
    return ""


def _ready(pod: Obj) -> bool:
    conds = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


class StandInKubelet:
    """Does a node agent's part for the pods of ``namespace`` (see the module docstring)."""

    def __init__(
        self,
        api: httpx.AsyncClient,
        *,
        namespace: str = "default",
        delay: float = 0.2,
        interval: float = 0.05,
        outcome: Literal["ready", "succeeded"] = "ready",
    ) -> None:
        self.api = api
        self.pods_path = f"/api/v1/namespaces/{namespace}/pods"
        self.delay = delay
        self.interval = interval
        self.outcome = outcome
        self.seen: dict[str, float] = {}

    def observe(self, pods: list[Obj]) -> None:
        """Called with every poll's listing before the kubelet acts on it; records nothing."""

    def done(self, pod: Obj) -> bool:
        """Whether ``pod`` needs nothing more from the kubelet."""
        if self.outcome == "succeeded":
            return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
        return _ready(pod)

    async def sync_once(self) -> None:
        """One poll: list the pods and act on each."""
        r = await self.api.get(self.pods_path)
        if r.status_code != 200:
            return
        pods: list[Obj] = r.json()["items"]
        self.observe(pods)
        now = asyncio.get_running_loop().time()
        for pod in pods:
            meta = pod["metadata"]
            path = f"{self.pods_path}/{meta['name']}"
            if meta.get("deletionTimestamp"):
                # confirm the deletion as an agent would
                await self.api.delete(path, params={"gracePeriodSeconds": "0"})
                continue
            if not pod["spec"].get("nodeName"):
                target = pinned_node(pod)
                if target:
                    binding = {
                        "apiVersion": "v1",
                        "kind": "Binding",
                        "metadata": {"name": meta["name"]},
                        "target": {"kind": "Node", "name": target},
                    }
                    await self.api.post(f"{path}/binding", json=binding)
                    continue
            if self.done(pod):
                continue
            first = self.seen.setdefault(meta["uid"], now)
            if now - first < self.delay:
                continue
            if self.outcome == "succeeded":
                body = succeeded_status(pod)
            else:
                body = ready_status(now=_now())
            await self.api.patch(f"{path}/status", json=body, headers=MERGE)

    async def run(self) -> None:
        """Poll every ``interval`` seconds until cancelled."""
        while True:
            await self.sync_once()
            await asyncio.sleep(self.interval)


@contextlib.asynccontextmanager
async def running(kubelet: K) -> AsyncIterator[K]:
    """Run ``kubelet`` in this event loop for the block; cancel it afterwards."""
    task = asyncio.create_task(kubelet.run())
    try:
        yield kubelet
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.contextmanager
def kubelet_thread(
    url: str,
    token: str,
    *,
    namespace: str,
    ca_file: Path | None = None,
    delay: float = 0.0,
    interval: float = 0.1,
    outcome: Literal["ready", "succeeded"] = "ready",
) -> Iterator[None]:
    """Run a `StandInKubelet` against the server at ``url`` (bearer ``token``, TLS verified
    against ``ca_file`` when given) in a thread with its own event loop for the block; stop and
    join it afterwards, even on failure. Failed requests are retried at the next poll."""
    stop = threading.Event()
    verify: ssl.SSLContext | bool = (
        ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
    )

    async def main() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            base_url=url, headers=headers, verify=verify, timeout=10
        ) as api:
            kubelet = StandInKubelet(
                api, namespace=namespace, delay=delay, interval=interval, outcome=outcome
            )
            while not stop.is_set():
                with contextlib.suppress(httpx.HTTPError):
                    await kubelet.sync_once()
                await asyncio.sleep(interval)

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)
