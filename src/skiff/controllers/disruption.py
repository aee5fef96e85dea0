"""The disruption controller: the status of every PodDisruptionBudget.

Kubernetes 1.32's ``pkg/controller/disruption`` (``trySync``, ``getExpectedPodCount``,
``getExpectedScale``, ``countHealthyPods``, ``buildDisruptedPodMap``, ``updatePdbStatus``):

- the budget's pods are those of its namespace matching ``spec.selector`` (a missing selector
  matches nothing, an empty one everything);
- **expectedPods**: with ``maxUnavailable`` or a percentage ``minAvailable``, the sum of the scale
  (``spec.replicas``) of the pods' controllers - a ReplicaSet owned by a Deployment counts as the
  Deployment, other kinds through their ``scale`` subresource; pods without a controller are
  *unmanaged*, counted nowhere, and reported with an ``UnmanagedPods`` warning Event. With an
  integer ``minAvailable``: the number of matching pods;
- **desiredHealthy**: ``minAvailable`` (percentages of expectedPods, rounded up), or expectedPods
  minus ``maxUnavailable`` (rounded up), never below 0;
- **currentHealthy**: matching pods that are Ready, not being deleted, and not in
  ``disruptedPods`` (pods the eviction subresource let go within the last two minutes and that
  are not deleted yet; older entries are dropped);
- **disruptionsAllowed** = currentHealthy - desiredHealthy, and 0 when that is negative or
  expectedPods is 0; ``observedGeneration`` = the budget's generation; condition
  ``DisruptionAllowed`` (``SufficientPods`` / ``InsufficientPods``).

When the expected count cannot be computed (a pod's controller is missing, or its kind has no
scale) the budget *fails safe*: disruptionsAllowed 0 and ``DisruptionAllowed=False`` with reason
``SyncFailed``. The eviction subresource reads this status; it refuses while
``observedGeneration`` is behind the budget's generation.

Handlers enqueue budget keys: a budget's own changes, the budgets selecting a pod that changed,
and every budget of a namespace whose ReplicaSets, Deployments, StatefulSets or
ReplicationControllers changed scale.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from skiff.api import resources
from skiff.api.selector import SelectorError, label_selector_from_object
from skiff.client import FrozenDict, NotFound, WorkQueue, object_key, resolve, thaw
from skiff.controllers.base import (
    ControllerContext,
    epoch_of,
    meta_of,
    run_workers,
    split_key,
    time_stamp,
)

__all__ = [
    "DELETION_TIMEOUT",
    "BudgetStatus",
    "DisruptionController",
    "SyncError",
    "count_healthy",
    "disrupted_pod_map",
    "pod_ready",
    "scaled_value",
]

log = logging.getLogger("skiff.controllers.disruption")

PDBS = resolve(("policy/v1", "PodDisruptionBudget"))
PODS = resolve(("v1", "Pod"))
REPLICASETS = resolve(("apps/v1", "ReplicaSet"))
DEPLOYMENTS = resolve(("apps/v1", "Deployment"))
STATEFULSETS = resolve(("apps/v1", "StatefulSet"))
REPLICATION_CONTROLLERS = resolve(("v1", "ReplicationController"))

DELETION_TIMEOUT = 120.0
"""Seconds an evicted pod may take to be deleted before the budget counts it again (Kubernetes'
``DeletionTimeout``, 2 minutes)."""


class SyncError(Exception):
    """The budget's expected pod count cannot be computed; the budget fails safe."""


# ---------------------------------------------------------------------- pure decisions


def pod_ready(pod: Mapping[str, Any]) -> bool:
    """The pod's ``Ready`` condition is ``True``."""
    for cond in (pod.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True")
    return False


def scaled_value(value: Any, total: int, *, round_up: bool) -> int:
    """An IntOrString against ``total`` (apimachinery ``GetScaledValueFromIntOrPercent``)."""
    if isinstance(value, bool):
        raise SyncError(f"invalid value for IntOrString: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%"):
        raise SyncError(
            f'invalid value for IntOrString: invalid type: string is not a percentage: "{text}"'
        )
    try:
        pct = int(text[:-1])
    except ValueError:
        raise SyncError(f'invalid value "{text}": not a percentage') from None
    exact = pct * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def disrupted_pod_map(
    recorded: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], now: float
) -> tuple[dict[str, str], float | None]:
    """The ``disruptedPods`` entries still in force, and when the earliest of them expires.

    An entry stays while its pod exists, is not being deleted, and was recorded less than
    `DELETION_TIMEOUT` ago; entries of deleted pods and expired entries are dropped.
    """
    kept: dict[str, str] = {}
    recheck: float | None = None
    for pod in pods:
        meta = meta_of(pod)
        name = str(meta.get("name") or "")
        if meta.get("deletionTimestamp") or name not in recorded:
            continue
        when = epoch_of(recorded[name])
        if when is None:
            continue
        expires = when + DELETION_TIMEOUT
        if expires < now:
            log.info("pod %s was expected to be deleted after its eviction but it was not", name)
            continue
        kept[name] = str(recorded[name])
        recheck = expires if recheck is None else min(recheck, expires)
    return kept, recheck


def count_healthy(
    pods: Sequence[Mapping[str, Any]], disrupted: Mapping[str, str], now: float
) -> int:
    """Pods that are Ready, not being deleted and not disrupted within `DELETION_TIMEOUT`."""
    healthy = 0
    for pod in pods:
        meta = meta_of(pod)
        if meta.get("deletionTimestamp"):
            continue
        name = str(meta.get("name") or "")
        when = epoch_of(disrupted[name]) if name in disrupted else None
        if when is not None and when + DELETION_TIMEOUT > now:
            continue
        if pod_ready(pod):
            healthy += 1
    return healthy


@dataclass(frozen=True)
class BudgetStatus:
    expected_pods: int
    desired_healthy: int
    current_healthy: int
    disrupted_pods: dict[str, str]

    @property
    def disruptions_allowed(self) -> int:
        allowed = self.current_healthy - self.desired_healthy
        return 0 if self.expected_pods <= 0 or allowed <= 0 else allowed


def _condition(
    previous: list[Any], status: str, reason: str, message: str, now: float, generation: int = 0
) -> list[dict[str, Any]]:
    """Set the ``DisruptionAllowed`` condition (``meta.SetStatusCondition``: the transition
    time moves only when the status does)."""
    out = [thaw(c) for c in previous if c.get("type") != "DisruptionAllowed"]
    old = next((c for c in previous if c.get("type") == "DisruptionAllowed"), None)
    stamp = time_stamp(now)
    if old is not None and old.get("status") == status and old.get("lastTransitionTime"):
        stamp = str(old["lastTransitionTime"])
    cond: dict[str, Any] = {
        "type": "DisruptionAllowed",
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": stamp,
    }
    if generation:
        cond["observedGeneration"] = generation
    out.append(cond)
    return out


# ---------------------------------------------------------------------- the controller


class DisruptionController:
    name = "disruption-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.clock = ctx.clock
        self.recorder = ctx.recorder
        self.workers = ctx.options.workers
        self.queue: WorkQueue[str] = WorkQueue(name="disruption", clock=ctx.clock)
        factory = ctx.factory
        self.pdbs = factory.informer(PDBS)
        self.pods = factory.informer(PODS)
        self.scaled = {
            ("v1", "ReplicationController"): factory.informer(REPLICATION_CONTROLLERS),
            ("apps", "ReplicaSet"): factory.informer(REPLICASETS),
            ("apps", "Deployment"): factory.informer(DEPLOYMENTS),
            ("apps", "StatefulSet"): factory.informer(STATEFULSETS),
        }
        self.pdbs.add_handler(
            on_add=self._enqueue,
            on_update=lambda _o, n: self._enqueue(n),
            on_delete=self._enqueue,
        )
        self.pods.add_handler(
            on_add=self._pod_changed,
            on_update=self._pod_updated,
            on_delete=self._pod_changed,
        )
        for informer in self.scaled.values():
            informer.add_handler(
                on_add=self._scale_changed,
                on_update=lambda o, n: self._scale_changed(n) if o is not n else None,
                on_delete=self._scale_changed,
            )

    # ------------------------------------------------------------------ handlers

    def _enqueue(self, pdb: FrozenDict) -> None:
        self.queue.add(object_key(pdb))

    def _budgets_for(self, pod: Mapping[str, Any]) -> list[FrozenDict]:
        meta = meta_of(pod)
        labels = meta.get("labels") or {}
        out = []
        for pdb in self.pdbs.lister.list(namespace=str(meta.get("namespace") or "")):
            try:
                selector = label_selector_from_object((pdb.get("spec") or {}).get("selector"))
            except SelectorError:
                continue
            if selector.matches(labels):
                out.append(pdb)
        return out

    def _pod_changed(self, pod: FrozenDict) -> None:
        for pdb in self._budgets_for(pod):
            self._enqueue(pdb)

    def _pod_updated(self, old: FrozenDict, new: FrozenDict) -> None:
        if old is new:
            return
        self._pod_changed(new)
        if meta_of(old).get("labels") != meta_of(new).get("labels"):
            self._pod_changed(old)

    def _scale_changed(self, obj: FrozenDict) -> None:
        for pdb in self.pdbs.lister.list(namespace=str(meta_of(obj).get("namespace") or "")):
            self._enqueue(pdb)

    # ------------------------------------------------------------------ running

    async def run(self) -> None:
        try:
            await run_workers(self.queue, self.sync, self.workers, name="disruption")
        finally:
            self.queue.shut_down()

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        pdb = self.pdbs.lister.get(name, namespace=namespace)
        if pdb is None:
            return
        now = self.clock.time()
        try:
            status, recheck = await self.compute(pdb, now)
        except SyncError as exc:
            self.recorder.event(
                pdb,
                "Warning",
                "CalculateExpectedPodCountFailed",
                f"Failed to calculate the number of expected pods: {exc}",
            )
            await self._fail_safe(pdb, str(exc), now)
            return
        await self._update_status(pdb, status, now)
        if recheck is not None:
            self.queue.add_after(key, max(0.0, recheck - now))

    async def compute(
        self, pdb: Mapping[str, Any], now: float
    ) -> tuple[BudgetStatus, float | None]:
        """The budget's status as of ``now`` (wall-clock seconds), and when to look again."""
        meta = meta_of(pdb)
        namespace = str(meta.get("namespace") or "")
        spec = pdb.get("spec") or {}
        try:
            selector = label_selector_from_object(spec.get("selector"))
        except SelectorError as exc:
            raise SyncError(str(exc)) from None
        pods = [
            p
            for p in self.pods.lister.list(namespace=namespace)
            if selector.matches(meta_of(p).get("labels") or {})
        ]
        expected, desired = await self._expected_count(pdb, pods)
        recorded = (pdb.get("status") or {}).get("disruptedPods") or {}
        disrupted, recheck = disrupted_pod_map(recorded, pods, now)
        healthy = count_healthy(pods, disrupted, now)
        return BudgetStatus(expected, desired, healthy, disrupted), recheck

    async def _expected_count(
        self, pdb: Mapping[str, Any], pods: list[FrozenDict]
    ) -> tuple[int, int]:
        spec = pdb.get("spec") or {}
        max_unavailable = spec.get("maxUnavailable")
        min_available = spec.get("minAvailable")
        unmanaged: list[str] = []
        if max_unavailable is not None:
            expected = await self._expected_scale(pods, unmanaged)
            desired = max(0, expected - scaled_value(max_unavailable, expected, round_up=True))
        elif min_available is not None and isinstance(min_available, int):
            expected, desired = len(pods), min_available
        elif min_available is not None:
            expected = await self._expected_scale(pods, unmanaged)
            desired = scaled_value(min_available, expected, round_up=True)
        else:
            expected, desired = 0, 0
        if unmanaged:
            self.recorder.event(
                pdb,
                "Warning",
                "UnmanagedPods",
                f"Pods {', '.join(sorted(unmanaged))} selected by this PodDisruptionBudget have "
                "no controller, so its expected pod count leaves them out; set an integer "
                ".spec.minAvailable to count them.",
            )
        return expected, desired

    async def _expected_scale(self, pods: list[FrozenDict], unmanaged: list[str]) -> int:
        scales: dict[str, int] = {}
        for pod in pods:
            meta = meta_of(pod)
            ref = next((r for r in meta.get("ownerReferences") or () if r.get("controller")), None)
            if ref is None:
                unmanaged.append(str(meta.get("name")))
                continue
            if str(ref.get("uid")) in scales:
                continue
            found = await self._controller_scale(ref, str(meta.get("namespace") or ""))
            if found is None:
                raise SyncError(f'found no controllers for pod "{meta.get("name")}"')
            uid, scale = found
            scales[uid] = scale
        return sum(scales.values())

    async def _controller_scale(
        self, ref: Mapping[str, Any], namespace: str
    ) -> tuple[str, int] | None:
        """(uid, replicas) of the controller ``ref`` names (for a ReplicaSet owned by a
        Deployment, the Deployment's), or None when it does not exist."""
        info = resources.lookup(str(ref.get("apiVersion") or ""), str(ref.get("kind") or ""))
        if info is None:
            raise SyncError(
                f'no matches for kind "{ref.get("kind")}" in version "{ref.get("apiVersion")}"'
            )
        informer = self.scaled.get((info.group or "v1", info.kind))
        name, uid = str(ref.get("name") or ""), str(ref.get("uid") or "")
        if informer is not None:
            obj = informer.lister.get(name, namespace=namespace)
            if obj is None or str(meta_of(obj).get("uid")) != uid:
                return None
            if info.kind == "ReplicaSet":
                top = next(
                    (
                        r
                        for r in meta_of(obj).get("ownerReferences") or ()
                        if r.get("controller") and r.get("kind") == "Deployment"
                    ),
                    None,
                )
                if top is not None:
                    return await self._controller_scale(top, namespace)
            return uid, _replicas(obj)
        if not any(s.name == "scale" for s in info.subresources):
            raise SyncError(f"{info.group_resource} does not implement the scale subresource")
        try:
            scale = await self.client.get_subresource(info, name, "scale", namespace=namespace)
        except NotFound:
            return None
        if str(meta_of(scale).get("uid")) != uid:
            return None
        return uid, int((scale.get("spec") or {}).get("replicas") or 0)

    # ------------------------------------------------------------------ writes

    async def _update_status(self, pdb: FrozenDict, status: BudgetStatus, now: float) -> None:
        generation = int(meta_of(pdb).get("generation") or 0)
        current = pdb.get("status") or {}
        allowed = status.disruptions_allowed
        wanted = {
            "disruptedPods": status.disrupted_pods,
            "disruptionsAllowed": allowed,
            "currentHealthy": status.current_healthy,
            "desiredHealthy": status.desired_healthy,
            "expectedPods": status.expected_pods,
            "observedGeneration": generation,
        }
        conditions = _condition(
            list(current.get("conditions") or ()),
            "True" if allowed > 0 else "False",
            "SufficientPods" if allowed > 0 else "InsufficientPods",
            "",
            now,
        )
        unchanged = all(
            (current.get(k) or ({} if k == "disruptedPods" else 0)) == v for k, v in wanted.items()
        )
        if unchanged and _same_conditions(current.get("conditions") or (), conditions):
            return
        body = thaw(pdb)
        body["status"] = {**wanted, "conditions": conditions}
        if not status.disrupted_pods:
            body["status"].pop("disruptedPods")
        await self.client.update_status(PDBS, body)

    async def _fail_safe(self, pdb: FrozenDict, message: str, now: float) -> None:
        body = thaw(pdb)
        st = body.setdefault("status", {})
        st["disruptionsAllowed"] = 0
        for counter in ("currentHealthy", "desiredHealthy", "expectedPods"):
            st.setdefault(counter, 0)  # int32 fields without omitempty in Kubernetes
        st["conditions"] = _condition(
            list(st.get("conditions") or ()),
            "False",
            "SyncFailed",
            message,
            now,
            int(st.get("observedGeneration") or 0),
        )
        if body.get("status") != (pdb.get("status") or {}):
            await self.client.update_status(PDBS, body)


def _replicas(obj: Mapping[str, Any]) -> int:
    replicas = (obj.get("spec") or {}).get("replicas")
    return 1 if replicas is None else int(replicas)


def _same_conditions(a: Any, b: list[dict[str, Any]]) -> bool:
    def strip(conds: Any) -> list[dict[str, Any]]:
        return [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in conds or ()]

    return strip(a) == strip(b)
