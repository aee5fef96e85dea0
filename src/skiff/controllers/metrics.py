"""The controller-manager's Prometheus metrics: client-go's work queue metrics by queue name
(``workqueue_depth``, ``workqueue_adds_total``, ``workqueue_retries_total``,
``workqueue_queue_duration_seconds``, ``workqueue_work_duration_seconds``), one queue per
controller, so each controller's backlog, latency and retries show on ``/metrics``.

`WorkQueueMetrics` is installed once per process (``skiff controller-manager`` does it) with
`skiff.client.workqueue.set_queue_observer_factory`, before the controllers make their queues.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["WorkQueueMetrics"]

_BUCKETS = (1e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60)


class _Observer:
    """One queue's series (the labelled children are looked up once)."""

    def __init__(self, metrics: WorkQueueMetrics, name: str) -> None:
        self._adds = metrics.adds.labels(name=name)
        self._retries = metrics.retries.labels(name=name)
        self._depth = metrics.depth.labels(name=name)
        self._wait = metrics.queue_duration.labels(name=name)
        self._work = metrics.work_duration.labels(name=name)

    def added(self) -> None:
        self._adds.inc()

    def retried(self) -> None:
        self._retries.inc()

    def depth(self, n: int) -> None:
        self._depth.set(n)

    def waited(self, seconds: float) -> None:
        self._wait.observe(seconds)

    def worked(self, seconds: float) -> None:
        self._work.observe(seconds)


class WorkQueueMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.depth = Gauge("workqueue_depth", "Current depth of workqueue", ["name"], registry=r)
        self.adds = Counter(
            "workqueue_adds", "Total number of adds handled by workqueue", ["name"], registry=r
        )
        self.retries = Counter(
            "workqueue_retries",
            "Total number of retries handled by workqueue",
            ["name"],
            registry=r,
        )
        self.queue_duration = Histogram(
            "workqueue_queue_duration_seconds",
            "How long in seconds an item stays in workqueue before being requested.",
            ["name"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.work_duration = Histogram(
            "workqueue_work_duration_seconds",
            "How long in seconds processing an item from workqueue takes.",
            ["name"],
            buckets=_BUCKETS,
            registry=r,
        )

    def observer(self, name: str) -> _Observer:
        """The factory for `set_queue_observer_factory`."""
        return _Observer(self, name or "unnamed")

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
