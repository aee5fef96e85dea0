"""Prometheus metrics of one API server (``GET /metrics``, bearer token required).

Names follow the Kubernetes API server where one exists, so existing dashboards and alerts
apply: ``apiserver_request_total{verb,group,resource,subresource,code}``,
``apiserver_request_duration_seconds{verb,group,resource,subresource}`` (watches excluded, they
are long-running), ``apiserver_longrunning_requests{verb="WATCH"}``. Storage figures come from
the store and the watch cache at scrape time (``skiff_store_revision``,
``skiff_watch_cache_objects``, ``skiff_watch_cache_watchers``, ...).

Each server has its own registry, so several servers in one process (tests) do not mix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "ApiMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Kubernetes exposes no ``*_created`` series; neither do we (keeps scrapes small)
disable_created_metrics()  # type: ignore[no-untyped-call]
_LABELS = ("verb", "group", "resource", "subresource")
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class _StorageCollector(Collector):
    def __init__(self, stats: Callable[[], dict[str, float]]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, value in self._stats().items():
            yield GaugeMetricFamily(name, _HELP.get(name, name), value=value)


_HELP = {
    "skiff_store_revision": "Newest revision acknowledged by the store.",
    "skiff_watch_cache_revision": "Newest revision applied to the watch cache.",
    "skiff_watch_cache_oldest_revision": "Oldest revision a watch can resume from.",
    "skiff_watch_cache_objects": "Objects held by the watch cache.",
    "skiff_watch_cache_watchers": "Watches fed by the watch cache.",
    "skiff_watch_cache_dropped_watchers": "Watches dropped for falling behind, since start.",
    "skiff_watch_cache_relists": "Times the watch cache relisted the store, since start.",
}


class ApiMetrics:
    def __init__(self, storage_stats: Callable[[], dict[str, float]] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "apiserver_request_total",
            "Requests by verb, resource and HTTP code.",
            (*_LABELS, "code"),
            registry=self.registry,
        )
        self.duration = Histogram(
            "apiserver_request_duration_seconds",
            "Request latency by verb and resource (watches excluded).",
            _LABELS,
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.longrunning = Gauge(
            "apiserver_longrunning_requests",
            "Long-running requests (watches) in flight.",
            ("verb",),
            registry=self.registry,
        )
        if storage_stats is not None:
            self.registry.register(_StorageCollector(storage_stats))

    def observe(self, scope: MutableMapping[str, Any], code: int, seconds: float) -> None:
        labels = (
            str(scope.get("skiff.verb") or scope.get("method", "")),
            str(scope.get("skiff.group", "")),
            str(scope.get("skiff.resource", "")),
            str(scope.get("skiff.subresource", "")),
        )
        self.requests.labels(*labels, str(code)).inc()
        if labels[0] != "WATCH":
            self.duration.labels(*labels).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
