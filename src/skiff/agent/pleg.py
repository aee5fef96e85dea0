"""PLEG, the pod lifecycle event generator (kubelet ``pkg/kubelet/pleg/generic.go``).

`Pleg.relist` lists the runtime's sandboxes and containers, compares them with the previous
listing and calls ``on_pod(uid)`` for every pod with a container or sandbox that appeared,
disappeared or changed state (the pod workers then sync that pod). `Pleg.run` relists every
``period`` (1 s) and at once whenever the runtime says something changed: a runtime that offers
``add_listener(callback)`` (`ChangeNotifier`; the fake runtime does) is listened to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from skiff.runtime.base import Runtime
from skiff.runtime.types import ContainerRuntimeError
from skiff.util.clock import Clock, SystemClock, wait_event

__all__ = ["ChangeNotifier", "Pleg"]

log = logging.getLogger(__name__)

POD_UID_LABEL = "io.kubernetes.pod.uid"


@runtime_checkable
class ChangeNotifier(Protocol):
    def add_listener(self, callback: Callable[[], None]) -> None: ...


class Pleg:
    def __init__(
        self,
        runtime: Runtime,
        on_pod: Callable[[str], None],
        *,
        clock: Clock | None = None,
        period: float = 1.0,
    ) -> None:
        self.runtime = runtime
        self.on_pod = on_pod
        self.clock: Clock = clock or SystemClock()
        self.period = period
        self._seen: dict[str, tuple[str, str]] = {}  # id -> (pod uid, state)
        self._kick = asyncio.Event()
        self.relists = 0
        self.last_relist = 0.0
        if isinstance(runtime, ChangeNotifier):
            runtime.add_listener(self.notify)

    def notify(self) -> None:
        """Relist now (the runtime saw a change)."""
        self._kick.set()

    async def relist(self) -> set[str]:
        """One relist; returns the uids of the pods that changed (and reports them)."""
        sandboxes = await self.runtime.list_sandboxes()
        containers = await self.runtime.list_containers()
        owner = {s.id: s.labels.get(POD_UID_LABEL) or s.pod_uid for s in sandboxes}
        now: dict[str, tuple[str, str]] = {}
        for s in sandboxes:
            now["sandbox:" + s.id] = (owner[s.id], s.state.value)
        for c in containers:
            uid = c.labels.get(POD_UID_LABEL) or owner.get(c.sandbox_id, "")
            now[c.id] = (uid, c.state.value)
        changed: set[str] = set()
        for key, (uid, state) in now.items():
            if self._seen.get(key, ("", ""))[1] != state and uid:
                changed.add(uid)
        for key, (uid, _state) in self._seen.items():
            if key not in now and uid:
                changed.add(uid)
        self._seen = now
        self.relists += 1
        self.last_relist = self.clock.monotonic()
        for uid in changed:
            self.on_pod(uid)
        return changed

    def healthy(self, threshold: float = 180.0) -> bool:
        """False when no relist succeeded for ``threshold`` seconds (kubelet: 3 min)."""
        return self.clock.monotonic() - self.last_relist < threshold

    async def run(self) -> None:
        while True:
            self._kick.clear()
            try:
                await self.relist()
            except ContainerRuntimeError as e:
                log.warning("relist failed: %s", e)
            except Exception:  # a broken relist must not stop the agent; retried next period
                log.exception("relist failed")
            await wait_event(self.clock, self._kick, self.period)
