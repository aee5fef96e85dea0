"""The controller base: the worker loop, the controller seam and the helpers every controller uses.

The worker loop is client-go sample-controller's ``processNextWorkItem``
(https://github.com/kubernetes/sample-controller/blob/8ab9f14766821df256ea5234629493d2b66ab89d/controller.go#L181)
made reusable as `run_workers`:

* informer handlers only *enqueue keys* (``queue.add(key)``); they never call the API server;
* ``sync(key)`` is level-triggered and idempotent: it reads the current state (the informer caches,
  a live GET where a cache may lag) and makes the world match, whatever events led there;
* success -> ``queue.forget(key)`` (the key's back-off is reset); an exception -> logged and
  ``queue.add_rate_limited(key)`` (retried later, with per-key exponential back-off);
  ``queue.done(key)`` always runs, in a ``finally``; ``CancelledError`` is never swallowed.

A `Controller` is built by a factory from a `ControllerContext` (which holds the client, the shared
informer factory, the event recorder, the clock and the options). Its constructor requests the
informers it needs and registers handlers; `Controller.run` is called once every informer of the
factory has synced and runs the workers until cancelled.

The garbage collector and the namespace controller follow *every* kind. They get their informers
only through `metadata_informer`, and read only ``metadata`` from what it caches, so the switch to
metadata-only watches (``PartialObjectMetadataList``) is one line there.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from skiff.api.duration import format_time, parse_time
from skiff.api.resources import ResourceInfo
from skiff.client import (
    ApiError,
    Client,
    Conflict,
    EventRecorder,
    FrozenDict,
    IndexFunc,
    Informer,
    NotFound,
    SharedInformerFactory,
    ShutDown,
    TransportError,
    WorkQueue,
)
from skiff.util.clock import Clock

__all__ = [
    "Controller",
    "ControllerContext",
    "ControllerOptions",
    "epoch_of",
    "meta_of",
    "metadata_informer",
    "process_next_work_item",
    "run_workers",
    "split_key",
    "time_stamp",
]

log = logging.getLogger("skiff.controllers")

K = TypeVar("K", bound=Hashable)


async def process_next_work_item(
    queue: WorkQueue[K], sync: Callable[[K], Awaitable[None]], *, name: str = ""
) -> bool:
    """Take one key from ``queue`` and sync it; ``False`` once the queue is shut down and empty."""
    try:
        key = await queue.get()
    except ShutDown:
        return False
    try:
        await sync(key)
    except (ApiError, TransportError) as exc:
        # expected trouble (a conflict with another writer, the server restarting): no traceback
        level = logging.DEBUG if isinstance(exc, Conflict | NotFound) else logging.WARNING
        log.log(level, "%s: syncing %r failed (%s); retrying", name or queue.name, key, exc)
        queue.add_rate_limited(key)
    except Exception:
        log.exception("%s: syncing %r failed; retrying", name or queue.name, key)
        queue.add_rate_limited(key)
    else:
        queue.forget(key)
    finally:
        queue.done(key)
    return True


async def run_workers(
    queue: WorkQueue[K], sync: Callable[[K], Awaitable[None]], n: int, *, name: str = ""
) -> None:
    """Run ``n`` workers pulling keys from ``queue`` into ``sync`` until the queue is shut down
    (and drained) or the caller is cancelled. A failing ``sync`` never stops a worker."""
    if n < 1:
        raise ValueError("a controller needs at least one worker")
    label = name or queue.name

    async def worker() -> None:
        while await process_next_work_item(queue, sync, name=label):
            pass

    async with asyncio.TaskGroup() as tg:
        for i in range(n):
            tg.create_task(worker(), name=f"{label}-worker-{i}")


def split_key(key: str) -> tuple[str, str]:
    """``"namespace/name"`` -> ``(namespace, name)``; ``"name"`` -> ``("", name)`` (the inverse of
    `skiff.client.object_key`)."""
    namespace, _, name = key.rpartition("/")
    return namespace, name


@dataclass
class ControllerOptions:
    """Knobs of the controllers (the ``skiff controller-manager`` flags)."""

    workers: int = 2
    """Workers per controller (``--concurrent-syncs``)."""
    gc_workers: int = 8
    """Workers of the garbage collector (``--concurrent-gc-syncs``; Kubernetes: 20)."""
    gc_resync: float = 30.0
    """Every this many seconds the garbage collector looks at every object with owners again."""
    gc_discovery_period: float = 30.0
    """Every this many seconds the garbage collector asks discovery which kinds are served (and
    at once when a CustomResourceDefinition changes); Kubernetes resyncs its monitors every 30 s."""
    namespace_recheck: float = 2.0
    """A terminating namespace that still holds objects is looked at again after this long."""
    root_ca: str = ""
    """PEM of the cluster CA published as ``kube-root-ca.crt`` (empty: that controller idles)."""
    event_ttl: float = 3600.0
    """Events are deleted this long after they last happened (``--event-ttl``)."""
    event_sweep_interval: float = 60.0
    """How often Events are swept for expiry."""
    node_monitor_period: float = 0.5
    """Seconds between looks at every node's Lease and status (``--node-monitor-period``;
    Kubernetes: 5)."""
    node_monitor_grace_period: float = 8.0
    """A node whose Lease is not renewed for this long becomes Unknown
    (``--node-monitor-grace-period``; Kubernetes: 40)."""
    node_startup_grace_period: float = 20.0
    """The same for a node that never posted a Ready condition (``--node-startup-grace-period``;
    Kubernetes: 60)."""
    node_eviction_rate: float = math.inf
    """Nodes per second NoExecute-tainted (so evicted) in a healthy zone
    (``--node-eviction-rate``; Kubernetes: 0.1); ``inf``, the default: at full speed, every
    not-Ready node as soon as it is seen (only a PartialDisruption zone is slowed down)."""
    secondary_node_eviction_rate: float = 1.0
    """The same in a zone where too many nodes are not Ready
    (``--secondary-node-eviction-rate``; Kubernetes: 0.01)."""
    unhealthy_zone_threshold: float = 0.55
    """Share of not-Ready nodes (at least 3) from which a zone is PartialDisruption
    (``--unhealthy-zone-threshold``)."""
    large_cluster_size_threshold: int = 50
    """Zones of at most this many nodes stop evicting in PartialDisruption instead of slowing
    down (``--large-cluster-size-threshold``)."""
    terminated_pod_gc_threshold: int = 12500
    """Terminated pods kept before the oldest are deleted; 0 keeps all
    (``--terminated-pod-gc-threshold``)."""
    pod_gc_period: float = 20.0
    """Seconds between pod garbage collection passes (``--pod-gc-period``; Kubernetes' 20 s
    ``gcCheckPeriod``)."""
    pod_gc_quarantine: float = 40.0
    """Seconds a node must stay missing before its pods are deleted (``--pod-gc-quarantine``;
    Kubernetes' 40 s ``quarantineTime``)."""


@dataclass
class ControllerContext:
    """What a controller factory gets: one client, one informer factory, one recorder, one clock."""

    client: Client
    factory: SharedInformerFactory
    recorder: EventRecorder
    clock: Clock
    options: ControllerOptions = field(default_factory=ControllerOptions)


class Controller(Protocol):
    """One control loop. Built by its factory (which requests informers and adds handlers); then
    `run` is awaited after the informers synced, until cancelled."""

    name: str

    async def run(self) -> None:
        """Process keys until cancelled (normally `run_workers` on the controller's queue)."""
        ...


def metadata_informer(
    factory: SharedInformerFactory,
    info: ResourceInfo,
    *,
    indexers: Mapping[str, IndexFunc] | None = None,
) -> Informer[FrozenDict]:
    """The informer the garbage collector (and anyone following every kind) uses for ``info``.

    Metadata-only (``Accept: ...;as=PartialObjectMetadataList``, as Kubernetes' garbage collector
    uses client-go's metadata informers): it caches ``PartialObjectMetadata`` objects, so following
    every kind, Secrets included, costs only their metadata. Callers read only
    ``obj["metadata"]``.
    """
    return factory.informer(info, metadata_only=True, indexers=indexers)


def epoch_of(value: Any) -> float | None:
    """A ``metav1.Time`` (RFC 3339) as Unix seconds; None when it is missing or unreadable."""
    if not value:
        return None
    return _parse_epoch(str(value))


@functools.lru_cache(maxsize=4096)
def _parse_epoch(value: str) -> float | None:
    # cached: the pods of one controller share a handful of timestamps (created and made ready
    # within the same seconds), and a ReplicaSet sync over 10,000 pods parsed each one again
    try:
        return parse_time(value).timestamp()
    except ValueError:
        return None


def time_stamp(seconds: float) -> str:
    """Unix seconds as a ``metav1.Time`` (``2025-01-01T00:00:00Z``)."""
    return format_time(datetime.fromtimestamp(seconds, UTC))


def meta_of(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """``obj["metadata"]`` or an empty mapping."""
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}
