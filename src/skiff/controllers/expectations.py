"""Controller expectations (``pkg/controller/controller_utils.go`` ``ControllerExpectations``).

A controller that creates or deletes N pods for a key records that it *expects* to see N adds or
deletes in its informer. Until they are observed (or the record is older than `EXPECTATIONS_TTL`,
when the informer may have missed them), the key's sync does not act on pod counts again, so a
burst of events never makes it create the same pods twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from skiff.util.clock import Clock

__all__ = ["EXPECTATIONS_TTL", "Expectations"]

EXPECTATIONS_TTL = 300.0


@dataclass
class _Record:
    add: int
    delete: int
    stamp: float
    deleting: set[str]


class Expectations:
    def __init__(self, clock: Clock, *, ttl: float = EXPECTATIONS_TTL) -> None:
        self.clock = clock
        self.ttl = ttl
        self._records: dict[str, _Record] = {}

    def satisfied(self, key: str) -> bool:
        rec = self._records.get(key)
        if rec is None:
            return True
        if rec.add <= 0 and rec.delete <= 0:
            return True
        return self.clock.monotonic() - rec.stamp > self.ttl

    def expect_creations(self, key: str, n: int) -> None:
        self._records[key] = _Record(n, 0, self.clock.monotonic(), set())

    def expect_deletions(self, key: str, pod_keys: list[str]) -> None:
        self._records[key] = _Record(0, len(pod_keys), self.clock.monotonic(), set(pod_keys))

    def creation_observed(self, key: str) -> None:
        rec = self._records.get(key)
        if rec is not None:
            rec.add -= 1

    def creation_failed(self, key: str, n: int = 1) -> None:
        """A create that was expected will never be observed (the request failed)."""
        rec = self._records.get(key)
        if rec is not None:
            rec.add -= n

    def deletion_observed(self, key: str, pod_key: str) -> None:
        rec = self._records.get(key)
        if rec is not None and pod_key in rec.deleting:
            rec.deleting.discard(pod_key)
            rec.delete -= 1

    def forget(self, key: str) -> None:
        self._records.pop(key, None)
