"""Crash back-off for restarting containers (kubelet ``pkg/kubelet/kuberuntime`` ``doBackOff``
over client-go ``util/flowcontrol.Backoff``), with skiff's shorter defaults.

Per key (pod uid, container name): the first crash restarts at once, as kubelet does; each later
crash waits twice as long as the one before, from ``initial`` (1 s) up to ``maximum`` (60 s)
(Kubernetes: 10 s up to 300 s). A container that ran cleanly for ``reset_after`` (10 minutes)
before it crashed starts over: its next crash restarts at once again. Time is the injected clock's
monotonic time.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass
class _Entry:
    next_delay: float  # what the next crash will wait
    last_wait: float  # what the most recent crash was given
    until: float  # monotonic time before which a restart must wait


class Backoff:
    """Restart back-off per key; pure bookkeeping, no tasks."""

    def __init__(
        self, *, initial: float = 1.0, maximum: float = 60.0, reset_after: float = 600.0
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.reset_after = reset_after
        self._entries: dict[tuple[str, str], _Entry] = {}

    def crashed(self, key: tuple[str, str], now: float, *, ran_for: float) -> float:
        """Record a crash observed at ``now`` of a container that had run ``ran_for`` seconds;
        returns how long its restart must wait (0.0 for a first crash)."""
        entry = self._entries.get(key)
        if entry is None or ran_for >= self.reset_after:
            self._entries[key] = _Entry(next_delay=self.initial, last_wait=0.0, until=now)
            return 0.0
        wait = entry.next_delay
        entry.last_wait = wait
        entry.until = now + wait
        entry.next_delay = min(wait * 2, self.maximum)
        return wait

    def failed(self, key: tuple[str, str], now: float) -> float:
        """Record a failure that always waits (image pulls): ``initial``, doubling to
        ``maximum``; returns the wait."""
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry(next_delay=self.initial, last_wait=0.0, until=now)
        wait = entry.next_delay
        entry.last_wait = wait
        entry.until = now + wait
        entry.next_delay = min(wait * 2, self.maximum)
        return wait

    def remaining(self, key: tuple[str, str], now: float) -> float:
        """Seconds the restart of ``key`` still has to wait (0.0: go)."""
        entry = self._entries.get(key)
        return 0.0 if entry is None else max(0.0, entry.until - now)

    def last_wait(self, key: tuple[str, str]) -> float:
        """The wait the most recent crash was given (for the CrashLoopBackOff message)."""
        entry = self._entries.get(key)
        return 0.0 if entry is None else entry.last_wait

    def forget(self, key: tuple[str, str]) -> None:
        self._entries.pop(key, None)

    def forget_pod(self, pod_uid: str) -> None:
        for key in [k for k in self._entries if k[0] == pod_uid]:
            del self._entries[key]
