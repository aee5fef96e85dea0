"""Node-pressure eviction: thresholds, node conditions, which pod goes first, and the loop.

Mirrors kubelet's ``pkg/kubelet/eviction`` in small:

- Thresholds are written as kubelet's ``--eviction-hard`` flag (``memory.available<100Mi,
  nodefs.available<10%``); `parse_thresholds` reads them. Signals: ``memory.available``,
  ``nodefs.available``, ``nodefs.inodesFree``, ``imagefs.available`` (images live under the data
  dir, so it is the nodefs figure), ``pid.available``.
- `observe` measures the node: ``MemAvailable`` from /proc/meminfo (kubelet subtracts the root
  cgroup's working set from capacity instead; MemAvailable is the kernel's own estimate of the same
  thing and needs no cgroup walk), ``statvfs`` of the agent's data dir, and the thread count against
  ``pid_max``.
- `thresholds_met` and `node_conditions` decide MemoryPressure / DiskPressure / PIDPressure.
- `rank_for_eviction` orders pods as kubelet's ``rankMemoryPressure`` (and its disk and pid
  twins): pods using more than they requested first, then lower ``spec.priority``, then the largest
  usage above request. A pod without usage figures ranks first, as in kubelet.
- `eviction_message` is kubelet's Evicted status message ("The node was low on resource:
  memory. Threshold quantity: ..., available: .... Container x was using ..., request is ...,
  has larger consumption of memory. ").
- `EvictionManager` runs them every ``interval``: keeps conditions true for a transition period
  after the pressure ends (``--eviction-pressure-transition-period``), evicts at most one pod per
  round through the injected ``evict(pod, message)`` callback, and never evicts critical pods
  (priority >= 2000000000, kubelet's system-critical floor).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from skiff.api.quantity import Format, Quantity, QuantityError, parse_quantity
from skiff.util.clock import Clock

__all__ = [
    "CONDITIONS",
    "DEFAULT_EVICTION_HARD",
    "SIGNALS",
    "EvictionManager",
    "Observation",
    "PodUsage",
    "Threshold",
    "eviction_message",
    "node_conditions",
    "observe",
    "parse_thresholds",
    "pod_request",
    "rank_for_eviction",
    "thresholds_met",
]

log = logging.getLogger(__name__)

# signal -> (node condition, resource reclaimed by evicting pods)
SIGNALS: dict[str, tuple[str, str]] = {
    "memory.available": ("MemoryPressure", "memory"),
    "nodefs.available": ("DiskPressure", "ephemeral-storage"),
    "nodefs.inodesFree": ("DiskPressure", "inodes"),
    "imagefs.available": ("DiskPressure", "ephemeral-storage"),
    "pid.available": ("PIDPressure", "pids"),
}
CONDITIONS = ("MemoryPressure", "DiskPressure", "PIDPressure")
# kubelet's Linux defaults for --eviction-hard
DEFAULT_EVICTION_HARD = (
    "memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%"
)
_CRITICAL_PRIORITY = 2_000_000_000
_THRESHOLD = re.compile(r"^([a-zA-Z.]+)(<)(.+)$")

# pod uid -> container name -> resource ("memory", "ephemeral-storage", "pids") -> amount
PodUsage = Mapping[str, Mapping[str, Mapping[str, int]]]


@dataclass(frozen=True)
class Threshold:
    """``<signal> < quantity`` or ``<signal> < percentage`` of capacity."""

    signal: str
    quantity: int | None = None
    percentage: Fraction | None = None  # 0 < p <= 1

    def amount(self, capacity: int) -> int:
        """The threshold in the signal's unit for a node with this capacity."""
        if self.quantity is not None:
            return self.quantity
        assert self.percentage is not None
        return int(self.percentage * capacity)

    def __str__(self) -> str:
        if self.percentage is not None:
            return f"{self.signal}<{float(self.percentage * 100):g}%"
        return f"{self.signal}<{self.quantity}"


def parse_thresholds(flag: str | Sequence[str]) -> list[Threshold]:
    """Parse ``--eviction-hard`` style text (comma-separated, or a list of items).

    Raises ValueError naming the bad item."""
    items = flag.split(",") if isinstance(flag, str) else list(flag)
    out: dict[str, Threshold] = {}
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        m = _THRESHOLD.match(item)
        if m is None:
            raise ValueError(
                f"invalid eviction threshold syntax {item!r}, expected <signal><value>"
            )
        signal, _, value = m.groups()
        if signal not in SIGNALS:
            raise ValueError(f"unsupported eviction signal {signal!r}")
        if signal in out:
            raise ValueError(f"found duplicate eviction threshold for signal {signal!r}")
        if value.endswith("%"):
            try:
                pct = Fraction(value[:-1]) / 100
            except ValueError:
                raise ValueError(f"invalid percentage {value!r} for {signal}") from None
            if not 0 < pct <= 1:
                raise ValueError(f"eviction percentage threshold {signal} must be > 0% and <= 100%")
            out[signal] = Threshold(signal, percentage=pct)
        else:
            try:
                quantity = parse_quantity(value)
            except QuantityError as err:
                raise ValueError(f"invalid quantity {value!r} for {signal}: {err}") from None
            if quantity.sign() < 0:
                raise ValueError(f"eviction threshold {signal} must be positive")
            out[signal] = Threshold(signal, quantity=quantity.value())
    return list(out.values())


@dataclass(frozen=True)
class Observation:
    """What the node has left (``available``) and in all (``capacity``), by signal."""

    available: Mapping[str, int]
    capacity: Mapping[str, int]


def _meminfo(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in path.read_text().splitlines():
        name, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            out[name] = int(fields[0]) * (1024 if fields[1:] == ["kB"] else 1)
    return out


def observe(data_dir: Path, *, proc: Path = Path("/proc")) -> Observation:
    """Measure the node now (blocking; cheap). See the module docstring for the sources."""
    mem = _meminfo(proc / "meminfo")
    vfs = os.statvfs(data_dir)
    disk_avail = vfs.f_bavail * vfs.f_frsize
    disk_cap = vfs.f_blocks * vfs.f_frsize
    pid_max = int((proc / "sys/kernel/pid_max").read_text().split()[0])
    threads = int((proc / "loadavg").read_text().split()[3].split("/")[1])
    available = {
        "memory.available": mem.get("MemAvailable", mem.get("MemFree", 0)),
        "nodefs.available": disk_avail,
        "nodefs.inodesFree": vfs.f_favail,
        "imagefs.available": disk_avail,
        "pid.available": max(0, pid_max - threads),
    }
    capacity = {
        "memory.available": mem.get("MemTotal", 0),
        "nodefs.available": disk_cap,
        "nodefs.inodesFree": vfs.f_files,
        "imagefs.available": disk_cap,
        "pid.available": pid_max,
    }
    return Observation(available, capacity)


def thresholds_met(thresholds: Sequence[Threshold], observation: Observation) -> list[Threshold]:
    """The thresholds the observation crosses (``available < threshold``); signals the
    observation lacks are not met."""
    met = []
    for t in thresholds:
        if t.signal not in observation.available:
            continue
        capacity = observation.capacity.get(t.signal, 0)
        if observation.available[t.signal] < t.amount(capacity):
            met.append(t)
    return met


def node_conditions(met: Sequence[Threshold]) -> dict[str, bool]:
    """MemoryPressure / DiskPressure / PIDPressure from the thresholds met."""
    hit = {SIGNALS[t.signal][0] for t in met}
    return {c: c in hit for c in CONDITIONS}


def _quantity(value: Any) -> int:
    try:
        return parse_quantity(value).value()
    except (QuantityError, TypeError):
        return 0


def pod_request(pod: Mapping[str, Any], resource: str) -> int:
    """The pod's request of ``resource`` (kubelet's PodRequests: the larger of the app
    containers' sum and the largest init container's)."""
    spec = pod.get("spec") or {}

    def req(c: Mapping[str, Any]) -> int:
        return _quantity(((c.get("resources") or {}).get("requests") or {}).get(resource, 0))

    app = sum(req(c) for c in spec.get("containers") or ())
    sidecars = sum(
        req(c) for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"
    )
    init = max((req(c) for c in spec.get("initContainers") or ()), default=0)
    return max(app + sidecars, init)


def _priority(pod: Mapping[str, Any]) -> int:
    value = (pod.get("spec") or {}).get("priority")
    return int(value) if isinstance(value, int) else 0


def _uid(pod: Mapping[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("uid") or "")


def rank_for_eviction(
    pods: list[Mapping[str, Any]], usage: Mapping[str, int], resource: str
) -> list[Mapping[str, Any]]:
    """Pods in the order they should be evicted to reclaim ``resource``.

    ``usage`` maps pod uids to their use of the resource (bytes, or processes for "pids").
    Order: pods without usage figures, then pods over their request, then lower priority, then
    the most usage above request (kubelet's ``orderedBy(exceedRequests, priority, usage)``)."""

    def key(pod: Mapping[str, Any]) -> tuple[int, int, int, int]:
        uid = _uid(pod)
        if uid not in usage:
            return (0, 0, _priority(pod), 0)
        used = usage[uid]
        above = used - pod_request(pod, resource)
        return (1, 0 if above > 0 else 1, _priority(pod), -above)

    return sorted(pods, key=key)


def _binary(n: int) -> str:
    return str(Quantity(n, Format.BINARY_SI))


def eviction_message(
    resource: str,
    pod: Mapping[str, Any],
    *,
    container_usage: Mapping[str, Mapping[str, int]] | None = None,
    threshold: Threshold | None = None,
    observation: Observation | None = None,
) -> str:
    """The Evicted status message, shaped as kubelet's: the resource, the threshold and what was
    available, then each container using more than it requested."""
    message = f"The node was low on resource: {resource}. "
    if threshold is not None and observation is not None:
        capacity = observation.capacity.get(threshold.signal, 0)
        available = observation.available.get(threshold.signal, 0)
        if threshold.quantity is not None:
            quantity = _binary(threshold.quantity)
        else:
            quantity = _binary(threshold.amount(capacity))
        message += f"Threshold quantity: {quantity}, available: {_binary(available)}. "
    for container in (pod.get("spec") or {}).get("containers") or ():
        name = str(container.get("name", ""))
        used = (container_usage or {}).get(name, {}).get(resource)
        if used is None:
            continue
        request = _quantity(
            ((container.get("resources") or {}).get("requests") or {}).get(resource, 0)
        )
        if used > request:
            message += (
                f"Container {name} was using {_binary(used)}, request is {_binary(request)}, "
                f"has larger consumption of {resource}. "
            )
    return message


def _evictable(pod: Mapping[str, Any]) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        return False
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return _priority(pod) < _CRITICAL_PRIORITY


class EvictionManager:
    """Watches node pressure and evicts pods, one per round, through ``evict``."""

    def __init__(
        self,
        thresholds: Sequence[Threshold],
        *,
        observe: Callable[[], Observation],
        pods: Callable[[], Sequence[Mapping[str, Any]]],
        usage: Callable[[], Awaitable[PodUsage]],
        evict: Callable[[Mapping[str, Any], str], Awaitable[None]],
        clock: Clock,
        interval: float = 10.0,
        transition_period: float = 30.0,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        """``observe`` measures the node (blocking, run in a thread); ``pods`` lists the active
        pods on the node; ``usage`` gives per-container usage; ``evict(pod, message)`` stops the
        pod and marks it Failed/Evicted; ``on_change`` is called when a condition flips."""
        self._thresholds = list(thresholds)
        self._observe = observe
        self._pods = pods
        self._usage = usage
        self._evict = evict
        self._clock = clock
        self._interval = interval
        self._transition = transition_period
        self._on_change = on_change
        self._last_met: dict[str, float] = {}
        self._conditions = dict.fromkeys(CONDITIONS, False)
        self._evicted: set[str] = set()

    def conditions(self) -> dict[str, bool]:
        """MemoryPressure / DiskPressure / PIDPressure as the Node should report them."""
        return dict(self._conditions)

    async def synchronize(self) -> Mapping[str, Any] | None:
        """One round: observe, update conditions, evict at most one pod (returned)."""
        observation = await asyncio.to_thread(self._observe)
        met = thresholds_met(self._thresholds, observation)
        now = self._clock.monotonic()
        for condition, active in node_conditions(met).items():
            if active:
                self._last_met[condition] = now
        conditions = {
            c: c in self._last_met and now - self._last_met[c] < self._transition
            for c in CONDITIONS
        }
        if conditions != self._conditions:
            self._conditions = conditions
            if self._on_change is not None:
                self._on_change()
        if not met:
            return None
        # memory first, then disk, then pids (kubelet reclaims the most urgent signal first)
        order = list(SIGNALS)
        threshold = min(met, key=lambda t: order.index(t.signal))
        resource = SIGNALS[threshold.signal][1]
        rank_resource = "ephemeral-storage" if resource == "inodes" else resource
        running = [p for p in self._pods() if _evictable(p)]
        current = {_uid(p) for p in running}
        self._evicted &= current
        candidates = [p for p in running if _uid(p) not in self._evicted]
        if not candidates:
            log.warning("node under %s pressure and no pod left to evict", resource)
            return None
        per_container = await self._usage()
        totals = {
            uid: sum(c.get(rank_resource, 0) for c in containers.values())
            for uid, containers in per_container.items()
        }
        victim = rank_for_eviction(candidates, totals, rank_resource)[0]
        message = eviction_message(
            rank_resource,
            victim,
            container_usage=per_container.get(_uid(victim)),
            threshold=threshold,
            observation=observation,
        )
        self._evicted.add(_uid(victim))
        await self._evict(victim, message)
        return victim

    async def run(self) -> None:
        """Synchronize every ``interval`` seconds until cancelled."""
        while True:
            try:
                await self.synchronize()
            except Exception:
                log.exception("eviction round failed")
            await self._clock.sleep(self._interval)
