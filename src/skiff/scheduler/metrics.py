"""The scheduler's Prometheus metrics, with kube-scheduler's names.

- ``scheduler_schedule_attempts_total{result, profile}``: result ``scheduled``, ``unschedulable``
  or ``error``;
- ``scheduler_scheduling_attempt_duration_seconds{result, profile}``: the scheduling cycle alone
  (the algorithm: filter, score, reserve), not the binding;
- ``scheduler_pending_pods{queue}``: ``active``, ``backoff``, ``unschedulable``, ``gated``;
- ``scheduler_preemption_attempts_total``, ``scheduler_preemption_victims`` (histogram);
- ``scheduler_binding_duration_seconds``: the binding API call, measured in the scheduler;
- ``scheduler_pod_scheduling_attempts``: attempts a pod needed until it was scheduled.

Each `SchedulerMetrics` has its own registry, so several schedulers in one test process do not
collide. ``skiff scheduler`` serves `SchedulerMetrics.render` with `skiff.util.metricsserver`
(``serve_metrics`` is re-exported here), as ``skiff controller-manager`` serves its work queues'.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from skiff.util.metricsserver import serve_metrics

__all__ = ["SchedulerMetrics", "serve_metrics"]

_BUCKETS = (0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5)


class SchedulerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.attempts = Counter(
            "scheduler_schedule_attempts",
            "Number of attempts to schedule pods, by the result.",
            ["result", "profile"],
            registry=r,
        )
        self.attempt_duration = Histogram(
            "scheduler_scheduling_attempt_duration_seconds",
            "Scheduling attempt latency in seconds (scheduling algorithm + binding excluded).",
            ["result", "profile"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.pending = Gauge(
            "scheduler_pending_pods",
            "Number of pending pods, by the queue type.",
            ["queue"],
            registry=r,
        )
        self.preemption_attempts = Counter(
            "scheduler_preemption_attempts", "Total preemption attempts in the cluster.", registry=r
        )
        self.preemption_victims = Histogram(
            "scheduler_preemption_victims",
            "Number of selected preemption victims.",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=r,
        )
        self.binding_duration = Histogram(
            "scheduler_binding_duration_seconds",
            "Binding latency in seconds (the API call).",
            buckets=_BUCKETS,
            registry=r,
        )
        self.pod_attempts = Histogram(
            "scheduler_pod_scheduling_attempts",
            "Number of attempts to successfully schedule a pod.",
            buckets=(1, 2, 4, 8, 16),
            registry=r,
        )

    def set_pending(self, sizes: dict[str, int]) -> None:
        for queue, n in sizes.items():
            self.pending.labels(queue=queue).set(n)

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
