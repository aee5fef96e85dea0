"""Background compaction: keep the newest ``keep`` revisions of history, drop the rest.

Like the apiserver's compactor (``k8s.io/apiserver/pkg/storage/etcd3/compact.go``) and kine's
``compactor`` loop, it periodically compacts the store at ``current - keep``. The owner runs
:meth:`Compactor.run` inside its TaskGroup and cancels it at shutdown (structured concurrency: the
compactor starts no task of its own). ``sleep`` is injected so tests need not wait in real time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from skiff.store.errors import StoreClosed, StoreError
from skiff.store.interface import Revision, Store

__all__ = ["Compactor", "CompactorStatistics"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CompactorStatistics:
    """Counters of a Compactor."""

    runs: int
    failures: int
    last_compacted: Revision


class Compactor:
    """Compacts ``store`` every ``interval`` seconds, keeping the last ``keep`` revisions."""

    def __init__(
        self,
        store: Store,
        *,
        keep: int = 10_000,
        interval: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if keep < 0:
            raise ValueError("keep must not be negative")
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._store = store
        self._keep = keep
        self._interval = interval
        self._sleep = sleep
        self._runs = 0
        self._failures = 0
        self._last = Revision(0)

    async def compact_once(self) -> Revision | None:
        """Compact at ``current - keep`` if that moves the compaction point; return the target."""
        target = self._store.current_revision() - self._keep
        if target <= self._last or target <= 0:
            return None
        await self._store.compact(Revision(target))
        self._runs += 1
        self._last = Revision(target)
        return self._last

    async def run(self) -> None:
        """Compact forever; returns when the store closes. Errors are logged and retried next round."""
        while True:
            await self._sleep(self._interval)
            try:
                await self.compact_once()
            except StoreClosed:
                return
            except StoreError:
                self._failures += 1
                _log.exception("store compaction failed; retrying in %.0fs", self._interval)

    def statistics(self) -> CompactorStatistics:
        """Current counters."""
        return CompactorStatistics(
            runs=self._runs, failures=self._failures, last_compacted=self._last
        )
