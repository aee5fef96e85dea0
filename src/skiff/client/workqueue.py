"""`WorkQueue`: the rate-limited, de-duplicating queue controllers pull keys from.

Guarantees (client-go ``util/workqueue`` ``Type``, ``delaying_queue``, ``rate_limiting_queue``):

* **dedup**: an item added several times while queued is handed out once;
* **one worker per item**: an item being processed (between `get` and `done`) is not handed out
  again; if re-added meanwhile it is queued once more when `done` is called;
* **delays**: `add_after` makes an item eligible later (an earlier deadline wins when the same item
  is delayed twice); `add_rate_limited` delays by the rate limiter's answer (per-item exponential
  back-off and an overall token bucket by default); `forget` resets the item's back-off;
* **shutdown**: after `shut_down` adds are ignored, delayed items are dropped, already queued items
  are still handed out and then `get` raises `ShutDown`; `shut_down_with_drain` also waits for
  in-flight items to be `done`.

The worker contract (sample-controller ``processNextWorkItem``)::

    key = await queue.get()
    try:
        await sync(key)
        queue.forget(key)
    except Exception:
        queue.add_rate_limited(key)
    finally:
        queue.done(key)

No background task: `get` itself promotes due delayed items and sleeps on the injected clock until
the next deadline or an add, so nothing outlives the queue.

Metrics (client-go's ``workqueue.SetProvider``): a process that exports them sets a
`QueueObserver` factory once with `set_queue_observer_factory`; every queue created afterwards
reports adds, retries, depth, the time items waited in the queue and the time their processing
took (``workqueue_*`` in Prometheus, by queue name; `skiff.controllers.metrics`).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from skiff.client.errors import ShutDown, WouldBlock
from skiff.client.ratelimit import RateLimiter, default_controller_rate_limiter
from skiff.util.clock import Clock, SystemClock, wait_event

__all__ = ["QueueObserver", "QueueStatistics", "WorkQueue", "set_queue_observer_factory"]

T = TypeVar("T", bound=Hashable)


class QueueObserver(Protocol):
    """Receives one queue's events (metrics); every call must be cheap and must not raise."""

    def added(self) -> None: ...

    def retried(self) -> None: ...

    def depth(self, n: int) -> None: ...

    def waited(self, seconds: float) -> None:
        """An item was handed out ``seconds`` after it was queued."""
        ...

    def worked(self, seconds: float) -> None:
        """An item was `done` ``seconds`` after it was handed out."""
        ...


_observer_factory: Callable[[str], QueueObserver] | None = None


def set_queue_observer_factory(factory: Callable[[str], QueueObserver] | None) -> None:
    """Report every queue created from now on to ``factory(queue name)`` (None: stop)."""
    global _observer_factory
    _observer_factory = factory


@dataclass(frozen=True)
class QueueStatistics:
    name: str
    depth: int
    """Items queued and ready to be handed out."""
    processing: int
    """Items handed out and not yet `done`."""
    waiting: int
    """Items delayed by `add_after` / `add_rate_limited`."""
    adds: int
    retries: int
    shutting_down: bool


class WorkQueue(Generic[T]):
    """A de-duplicating, delaying, rate-limited work queue for one controller."""

    def __init__(
        self,
        *,
        name: str = "",
        rate_limiter: RateLimiter | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self.clock: Clock = clock or SystemClock()
        self.rate_limiter: RateLimiter = rate_limiter or default_controller_rate_limiter(
            clock=self.clock
        )
        self._queue: deque[T] = deque()
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        self._waiting: list[tuple[float, int, T]] = []
        self._waiting_at: dict[T, float] = {}
        self._seq = itertools.count()
        self._shutting_down = False
        self._wakeup = asyncio.Event()
        self._adds = 0
        self._retries = 0
        self._queued_at: dict[T, float] = {}
        self._started_at: dict[T, float] = {}
        self._observer = _observer_factory(name) if _observer_factory is not None else None

    # -- adding ---------------------------------------------------------------------------

    def add(self, item: T) -> None:
        """Queue ``item`` unless it is already queued (or being processed: then after `done`)."""
        if self._shutting_down or item in self._dirty:
            return
        self._adds += 1
        self._dirty.add(item)
        if self._observer is not None:
            self._observer.added()
            self._queued_at.setdefault(item, self.clock.monotonic())
        if item not in self._processing:
            self._queue.append(item)
            if self._observer is not None:
                self._observer.depth(len(self._queue))
            self._wake()

    def add_after(self, item: T, delay: float) -> None:
        """Queue ``item`` after ``delay`` seconds of the queue's clock."""
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(item)
            return
        ready_at = self.clock.monotonic() + delay
        current = self._waiting_at.get(item)
        if current is not None and current <= ready_at:
            return
        self._waiting_at[item] = ready_at
        heapq.heappush(self._waiting, (ready_at, next(self._seq), item))
        self._wake()

    def add_rate_limited(self, item: T) -> None:
        """Queue ``item`` once the rate limiter allows (a failed item's retry)."""
        if self._shutting_down:
            return
        self._retries += 1
        if self._observer is not None:
            self._observer.retried()
        self.add_after(item, self.rate_limiter.when(item))

    def forget(self, item: T) -> None:
        """The item succeeded: reset its back-off."""
        self.rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self.rate_limiter.num_requeues(item)

    # -- taking ---------------------------------------------------------------------------

    async def get(self) -> T:
        """The next item (waiting as needed); raises `ShutDown` once shut down and empty."""
        while True:
            try:
                return self.get_nowait()
            except WouldBlock:
                pass
            wakeup = self._wakeup
            timeout = None
            if self._waiting:
                timeout = max(0.0, self._waiting[0][0] - self.clock.monotonic())
            await wait_event(self.clock, wakeup, timeout)

    def get_nowait(self) -> T:
        """The next ready item; `WouldBlock` if none is ready, `ShutDown` if shut down and empty."""
        self._promote_due()
        if self._queue:
            item = self._queue.popleft()
            self._processing.add(item)
            self._dirty.discard(item)
            if self._observer is not None:
                now = self.clock.monotonic()
                self._observer.waited(now - self._queued_at.pop(item, now))
                self._started_at[item] = now
                self._observer.depth(len(self._queue))
            return item
        if self._shutting_down:
            raise ShutDown(f"work queue {self.name!r} is shut down")
        raise WouldBlock(f"work queue {self.name!r} is empty")

    def done(self, item: T) -> None:
        """Processing of ``item`` finished; if it was re-added meanwhile, queue it again."""
        self._processing.discard(item)
        if self._observer is not None:
            now = self.clock.monotonic()
            self._observer.worked(now - self._started_at.pop(item, now))
        if item in self._dirty:
            self._queue.append(item)
        if self._observer is not None:
            self._observer.depth(len(self._queue))
        self._wake()

    # -- lifecycle ------------------------------------------------------------------------

    def shut_down(self) -> None:
        """Stop accepting items, drop delayed ones; queued items are still handed out."""
        self._shutting_down = True
        self._waiting.clear()
        self._waiting_at.clear()
        self._wake()

    async def shut_down_with_drain(self) -> None:
        """`shut_down`, then wait until queued and in-flight items are all `done`."""
        self.shut_down()
        while self._queue or self._processing:
            wakeup = self._wakeup
            await wakeup.wait()

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def __len__(self) -> int:
        return len(self._queue)

    def statistics(self) -> QueueStatistics:
        return QueueStatistics(
            name=self.name,
            depth=len(self._queue),
            processing=len(self._processing),
            waiting=len(self._waiting_at),
            adds=self._adds,
            retries=self._retries,
            shutting_down=self._shutting_down,
        )

    # -- internals ------------------------------------------------------------------------

    def _promote_due(self) -> None:
        now = self.clock.monotonic()
        while self._waiting and self._waiting[0][0] <= now:
            ready_at, _, item = heapq.heappop(self._waiting)
            if self._waiting_at.get(item) != ready_at:
                continue  # superseded by an earlier deadline
            del self._waiting_at[item]
            self.add(item)

    def _wake(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()
