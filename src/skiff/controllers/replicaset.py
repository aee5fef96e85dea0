"""ReplicaSet and ReplicationController: keep exactly ``spec.replicas`` pods of the template.

Kubernetes 1.32's ``pkg/controller/replicaset`` (the ReplicationController is the same controller
over a map selector, as upstream adapts it):

- **claiming**: the controller's pods are the active pods of its namespace whose controller
  reference is this object; an orphan whose labels match the selector is *adopted* (a controller
  ownerReference is added, after a live GET confirms the owner still exists and is not being
  deleted), an owned pod whose labels no longer match is *released* (its reference removed);
- **expectations** (`skiff.controllers.expectations`): after creating or deleting N pods the key
  waits until its informer has seen those N events before counting again, so a burst of events
  never creates the same pods twice;
- **scaling up** creates pods in slow-start batches of 1, 2, 4, ... (``slowStartBatch``), at most
  `BURST_REPLICAS` per sync; a failing batch stops the rest (a quota or admission refusal costs
  one request, not hundreds) and sets the ``ReplicaFailure`` condition;
- **scaling down** deletes the least valuable pods first (`podutil.deletion_rank`: unscheduled,
  pending, not ready, on crowded nodes, recently ready, restarting, newest);
- **status**: replicas, fullyLabeledReplicas (pods carrying all template labels), readyReplicas,
  availableReplicas (ready for ``minReadySeconds``; the key is looked at again when the next pod
  would become available), observedGeneration and the ``ReplicaFailure`` condition.

Events: ``SuccessfulCreate`` / ``SuccessfulDelete`` (``Created pod: x``), ``FailedCreate``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from skiff.api.selector import LabelSelector, SelectorError, label_selector_from_object
from skiff.client import ApiError, FrozenDict, NotFound, WorkQueue, object_key, resolve, thaw
from skiff.controllers.base import (
    ControllerContext,
    meta_of,
    run_workers,
    split_key,
    time_stamp,
)
from skiff.controllers.expectations import Expectations
from skiff.controllers.podutil import (
    controller_ref,
    is_pod_active,
    owner_reference,
    pod_ready,
    pod_ready_since,
    pods_to_delete,
)

__all__ = [
    "BURST_REPLICAS",
    "ReplicaSetController",
    "ReplicationManager",
    "calculate_status",
    "orphan_index_value",
    "slow_start_batches",
]

log = logging.getLogger("skiff.controllers.replicaset")

PODS = resolve(("v1", "Pod"))
CONTROLLER_INDEX = "controller-uid"
"""Pods by their controller's uid; pods without a controller under ``orphan_index_value(ns)``."""


def orphan_index_value(namespace: str) -> str:
    """The `CONTROLLER_INDEX` value of a namespace's pods without a controller reference."""
    return f"orphan:{namespace}"  # a uid never contains ':'


def _controller_index(pod: Any) -> list[str]:
    ref = controller_ref(pod)
    if ref is None:
        return [orphan_index_value(str(meta_of(pod).get("namespace") or ""))]
    uid = ref.get("uid")
    return [str(uid)] if uid else []


BURST_REPLICAS = 500
"""Most pods created or deleted by one sync (Kubernetes' ``BurstReplicas``)."""
STATUS_COALESCE = 0.25
"""Seconds a pod change that only moves the owner's status counts (bound, Ready, a container
restart) waits before the owner is synced, so a burst of them is one sync over the owner's pods
instead of one each (a ReplicaSet of 10,000 pods took ~0.1 s a sync). Changes that decide what to
create or delete (a pod created, deleted, finished, relabelled or re-owned) sync at once."""


def slow_start_batches(count: int, initial: int = 1) -> list[int]:
    """Batch sizes for creating ``count`` pods: 1, 2, 4, ... (the last one what remains)."""
    out: list[int] = []
    size = max(1, initial)
    remaining = count
    while remaining > 0:
        batch = min(size, remaining)
        out.append(batch)
        remaining -= batch
        size *= 2
    return out


def _selector(kind: str, spec: Mapping[str, Any]) -> LabelSelector:
    raw = spec.get("selector")
    if kind == "ReplicationController":
        # a map selector; an empty or missing one defaults to the template's labels (RC defaulting)
        labels: Mapping[str, Any] = raw if isinstance(raw, Mapping) and raw else {}
        if not labels:
            labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not labels:
            return label_selector_from_object(None)
        return label_selector_from_object({"matchLabels": dict(labels)})
    return label_selector_from_object(raw if isinstance(raw, Mapping) else None)


_EMPTY: Mapping[str, Any] = FrozenDict()


def calculate_status(
    owner: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]],
    *,
    now: float,
    failure: str | None,
    failure_reason: str = "FailedCreate",
) -> dict[str, Any]:
    """The status the controller writes for ``owner`` given its active ``pods``."""
    spec = owner.get("spec") or {}
    template_labels = tuple(
        (((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}).items()
    )
    min_ready = int(spec.get("minReadySeconds") or 0)
    # one pass, each pod's Ready condition looked up once (a sync of a 10,000-pod ReplicaSet
    # made three passes and parsed every lastTransitionTime)
    fully = ready = available = 0
    for p in pods:
        labels = (p.get("metadata") or _EMPTY).get("labels") or _EMPTY
        for k, v in template_labels:
            if labels.get(k) != v:
                break
        else:
            fully += 1
        if min_ready > 0:
            since = pod_ready_since(p)
            if since is not None:
                ready += 1
                if since + min_ready <= now:
                    available += 1
        elif pod_ready(p):
            ready += 1
            available += 1
    old = owner.get("status") or {}
    conditions = [thaw(c) for c in old.get("conditions") or () if c.get("type") != "ReplicaFailure"]
    if failure is not None:
        previous = next(
            (c for c in old.get("conditions") or () if c.get("type") == "ReplicaFailure"), None
        )
        stamp = time_stamp(now)
        if previous is not None and previous.get("status") == "True":
            stamp = str(previous.get("lastTransitionTime") or stamp)
        conditions.append(
            {
                "type": "ReplicaFailure",
                "status": "True",
                "lastTransitionTime": stamp,
                "reason": failure_reason,
                "message": failure,
            }
        )
    status: dict[str, Any] = {
        "replicas": len(pods),
        "fullyLabeledReplicas": fully,
        "readyReplicas": ready,
        "availableReplicas": available,
        "observedGeneration": int(meta_of(owner).get("generation") or 0),
    }
    if conditions:
        status["conditions"] = conditions
    return status


def _status_equal(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    keys = ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas")
    if any(int(old.get(k) or 0) != int(new.get(k) or 0) for k in keys):
        return False
    if int(old.get("observedGeneration") or 0) != int(new.get("observedGeneration") or 0):
        return False
    return bool(thaw(old.get("conditions") or []) == thaw(new.get("conditions") or []))


def _status_only_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether ``old`` -> ``new`` leaves what `_manage` and `_claim` decide unchanged: the pod
    stays active, keeps its labels and its controller reference."""
    if is_pod_active(old) != is_pod_active(new):
        return False
    old_meta, new_meta = meta_of(old), meta_of(new)
    return bool(
        old_meta.get("labels") == new_meta.get("labels")
        and controller_ref(old) == controller_ref(new)
    )


class ReplicaSetController:
    """One controller per kind: ``ReplicaSet`` (apps/v1) or ``ReplicationController`` (v1)."""

    def __init__(self, ctx: ControllerContext, *, kind: str = "ReplicaSet") -> None:
        self.kind = kind
        self.api_version = "v1" if kind == "ReplicationController" else "apps/v1"
        self.name = (
            "replicationcontroller-controller"
            if kind == "ReplicationController"
            else "replicaset-controller"
        )
        self.client = ctx.client
        self.clock = ctx.clock
        self.recorder = ctx.recorder
        self.workers = ctx.options.workers
        self.resource = resolve((self.api_version, kind))
        self.queue: WorkQueue[str] = WorkQueue(name=self.name, clock=ctx.clock)
        self.expectations = Expectations(ctx.clock)
        self.owners = ctx.factory.informer(self.resource)
        self.pods = ctx.factory.informer(PODS, indexers={CONTROLLER_INDEX: _controller_index})
        self.owners.add_handler(
            on_add=self._owner_changed,
            on_update=lambda _o, n: self._owner_changed(n),
            on_delete=self._owner_deleted,
        )
        self.pods.add_handler(
            on_add=self._pod_added, on_update=self._pod_updated, on_delete=self._pod_deleted
        )

    async def run(self) -> None:
        try:
            await run_workers(self.queue, self.sync, self.workers, name=self.name)
        finally:
            self.queue.shut_down()

    # ------------------------------------------------------------------ handlers

    def _owner_changed(self, owner: FrozenDict) -> None:
        self.queue.add(object_key(owner))

    def _owner_deleted(self, owner: FrozenDict) -> None:
        key = object_key(owner)
        self.expectations.forget(key)
        self.queue.add(key)

    def _owner_of(self, pod: Mapping[str, Any]) -> str | None:
        """The key of this kind's object controlling ``pod`` (uid checked), or None."""
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != self.kind:
            return None
        namespace = str(meta_of(pod).get("namespace") or "")
        owner = self.owners.lister.get(str(ref.get("name") or ""), namespace=namespace)
        if owner is None or meta_of(owner).get("uid") != ref.get("uid"):
            return None
        return object_key(owner)

    def _matching_owners(self, pod: Mapping[str, Any]) -> list[str]:
        meta = meta_of(pod)
        labels = meta.get("labels") or {}
        out = []
        for owner in self.owners.lister.list(namespace=str(meta.get("namespace") or "")):
            try:
                if _selector(self.kind, owner.get("spec") or {}).matches(labels):
                    out.append(object_key(owner))
            except SelectorError:
                continue
        return out

    def _pod_added(self, pod: FrozenDict) -> None:
        if meta_of(pod).get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        key = self._owner_of(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self._queue_observed(key)
        elif controller_ref(pod) is None:
            for owner_key in self._matching_owners(pod):
                self.queue.add(owner_key)

    def _pod_updated(self, old: FrozenDict, new: FrozenDict) -> None:
        if old is new:
            return
        if meta_of(new).get("deletionTimestamp") and not meta_of(old).get("deletionTimestamp"):
            # a graceful delete started: the pod no longer counts, act now
            self._pod_deleted(new)
        old_key = self._owner_of(old)
        new_key = self._owner_of(new)
        if old_key is not None and old_key != new_key:
            self.queue.add(old_key)
        if new_key is not None:
            if new_key == old_key and _status_only_change(old, new):
                self.queue.add_after(new_key, STATUS_COALESCE)
            else:
                self.queue.add(new_key)
            ns, name = split_key(new_key)
            owner = self.owners.lister.get(name, namespace=ns)
            owner_spec = owner.get("spec") if owner is not None else None
            min_ready = int((owner_spec or {}).get("minReadySeconds") or 0)
            if min_ready > 0 and pod_ready(new) and not pod_ready(old):
                # look again when the pod has been ready long enough to count as available
                self.queue.add_after(new_key, min_ready + 1)
        elif controller_ref(new) is None and (
            meta_of(old).get("labels") != meta_of(new).get("labels") or controller_ref(old)
        ):
            for owner_key in self._matching_owners(new):
                self.queue.add(owner_key)

    def _pod_deleted(self, pod: FrozenDict) -> None:
        key = self._owner_of(pod)
        if key is None:
            return
        self.expectations.deletion_observed(key, object_key(pod))
        self._queue_observed(key)

    def _queue_observed(self, key: str) -> None:
        """After an expected creation or deletion was observed: while more are awaited the sync
        could only recount the status, so it is coalesced like a status-only change; the event
        that satisfies the expectations syncs at once."""
        if self.expectations.satisfied(key):
            self.queue.add(key)
        else:
            self.queue.add_after(key, STATUS_COALESCE)

    # ------------------------------------------------------------------ sync

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        owner = self.owners.lister.get(name, namespace=namespace)
        if owner is None:
            self.expectations.forget(key)
            return
        spec = owner.get("spec") or {}
        try:
            selector = _selector(self.kind, spec)
        except SelectorError as e:
            log.warning("%s %s: invalid selector: %s", self.kind, key, e)
            return
        satisfied = self.expectations.satisfied(key)
        pods = await self._claim(owner, selector)
        active = [p for p in pods if is_pod_active(p)]
        failure: str | None = None
        if satisfied and not meta_of(owner).get("deletionTimestamp"):
            failure = await self._manage(owner, key, active)
        now = self.clock.time()
        status = calculate_status(owner, active, now=now, failure=failure)
        if not _status_equal(owner.get("status") or {}, status):
            body = thaw(owner)
            body["status"] = status
            try:
                await self.client.update_status(self.resource, body, namespace=namespace)
            except NotFound:
                return
        min_ready = int(spec.get("minReadySeconds") or 0)
        if min_ready > 0 and status["readyReplicas"] != status["availableReplicas"]:
            self.queue.add_after(key, self._next_available(active, min_ready, now))
        if failure is not None:
            raise _ManageFailed(failure)

    def _next_available(
        self, pods: Sequence[Mapping[str, Any]], min_ready: int, now: float
    ) -> float:
        waits = []
        for pod in pods:
            since = pod_ready_since(pod)
            if since is not None and since + min_ready > now:
                waits.append(since + min_ready - now)
        return max(0.1, min(waits)) if waits else float(min_ready)

    async def _claim(self, owner: Mapping[str, Any], selector: LabelSelector) -> list[FrozenDict]:
        """This owner's pods: owned ones still matching, plus adopted orphans; owned pods that
        stopped matching are released."""
        meta = meta_of(owner)
        namespace = str(meta.get("namespace") or "")
        uid = meta.get("uid")
        deleting = bool(meta.get("deletionTimestamp"))
        claimed: list[FrozenDict] = []
        can_adopt: bool | None = None
        # the index gives this owner's pods and the namespace's orphans, not every pod of the
        # namespace (pods controlled by something else are never claimed)
        index = self.pods.indexer
        owned = index.by_index(CONTROLLER_INDEX, str(uid)) if uid else []
        for pod in owned:
            pod_meta = meta_of(pod)
            if str(pod_meta.get("namespace") or "") != namespace:
                continue
            if deleting or selector.matches(pod_meta.get("labels") or {}):
                claimed.append(pod)
            else:
                await self._release(pod, str(uid))
        if deleting:
            return claimed
        for pod in index.by_index(CONTROLLER_INDEX, orphan_index_value(namespace)):
            pod_meta = meta_of(pod)
            if pod_meta.get("deletionTimestamp") or not selector.matches(
                pod_meta.get("labels") or {}
            ):
                continue
            if not is_pod_active(pod):
                continue
            if can_adopt is None:
                can_adopt = await self._can_adopt(owner)
            if can_adopt and await self._adopt(owner, pod):
                claimed.append(pod)
        return claimed

    async def _can_adopt(self, owner: Mapping[str, Any]) -> bool:
        """A live GET: adopt only for an owner that still exists (same uid), not being deleted."""
        meta = meta_of(owner)
        try:
            fresh = await self.client.get(
                self.resource, str(meta.get("name")), namespace=str(meta.get("namespace") or "")
            )
        except NotFound:
            return False
        fresh_meta = fresh.get("metadata") or {}
        return fresh_meta.get("uid") == meta.get("uid") and not fresh_meta.get("deletionTimestamp")

    async def _adopt(self, owner: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
        ref = owner_reference(owner, api_version=self.api_version, kind=self.kind)
        meta = meta_of(pod)
        patch = {"metadata": {"ownerReferences": [ref], "uid": meta.get("uid")}}
        try:
            await self.client.patch(
                PODS,
                str(meta.get("name")),
                patch,
                namespace=str(meta.get("namespace") or ""),
                patch_type="strategic",
            )
        except (NotFound, ApiError) as e:
            log.info("%s: cannot adopt pod %s: %s", self.name, meta.get("name"), e)
            return False
        return True

    async def _release(self, pod: Mapping[str, Any], owner_uid: str) -> None:
        meta = meta_of(pod)
        patch = {
            "metadata": {
                "ownerReferences": [{"$patch": "delete", "uid": owner_uid}],
                "uid": meta.get("uid"),
            }
        }
        with contextlib.suppress(NotFound):
            await self.client.patch(
                PODS,
                str(meta.get("name")),
                patch,
                namespace=str(meta.get("namespace") or ""),
                patch_type="strategic",
            )

    async def _manage(
        self, owner: Mapping[str, Any], key: str, active: list[FrozenDict]
    ) -> str | None:
        """Create or delete pods towards ``spec.replicas``; a failure message or None."""
        spec = owner.get("spec") or {}
        replicas = spec.get("replicas")
        wanted = int(replicas) if isinstance(replicas, int) else 1
        diff = len(active) - wanted
        if diff < 0:
            return await self._create(owner, key, min(-diff, BURST_REPLICAS))
        if diff > 0:
            await self._delete(owner, key, pods_to_delete(active, min(diff, BURST_REPLICAS)))
        return None

    def _pod_body(self, owner: Mapping[str, Any]) -> dict[str, Any]:
        meta = meta_of(owner)
        template = thaw((owner.get("spec") or {}).get("template") or {})
        tmeta = template.get("metadata") or {}
        body_meta: dict[str, Any] = {
            "generateName": f"{meta.get('name')}-",
            "namespace": meta.get("namespace"),
            "ownerReferences": [
                owner_reference(owner, api_version=self.api_version, kind=self.kind)
            ],
        }
        for field in ("labels", "annotations", "finalizers"):
            if tmeta.get(field):
                body_meta[field] = tmeta[field]
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": body_meta,
            "spec": template.get("spec") or {},
        }

    async def _create(self, owner: Mapping[str, Any], key: str, count: int) -> str | None:
        namespace = str(meta_of(owner).get("namespace") or "")
        self.expectations.expect_creations(key, count)
        remaining = count
        for batch in slow_start_batches(count):
            results = await asyncio.gather(
                *(
                    self.client.create(PODS, self._pod_body(owner), namespace=namespace)
                    for _ in range(batch)
                ),
                return_exceptions=True,
            )
            remaining -= batch
            errors = [r for r in results if isinstance(r, BaseException)]
            for r in results:
                if isinstance(r, dict):
                    name = (r.get("metadata") or {}).get("name")
                    self.recorder.event(owner, "Normal", "SuccessfulCreate", f"Created pod: {name}")
            if errors:
                self.expectations.creation_failed(key, len(errors) + remaining)
                for err in errors:
                    if isinstance(err, asyncio.CancelledError):
                        raise err
                message = str(errors[0])
                self.recorder.event(owner, "Warning", "FailedCreate", f"Error creating: {message}")
                return message
        return None

    async def _delete(self, owner: Mapping[str, Any], key: str, victims: list[Any]) -> None:
        namespace = str(meta_of(owner).get("namespace") or "")
        self.expectations.expect_deletions(key, [object_key(p) for p in victims])

        async def one(pod: Mapping[str, Any]) -> None:
            name = str(meta_of(pod).get("name"))
            try:
                await self.client.delete(PODS, name, namespace=namespace)
            except NotFound:
                self.expectations.deletion_observed(key, object_key(pod))
                return
            except ApiError as e:
                self.expectations.deletion_observed(key, object_key(pod))
                self.recorder.event(
                    owner, "Warning", "FailedDelete", f"Error deleting: {e.message}"
                )
                raise
            self.recorder.event(owner, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")

        results = await asyncio.gather(*(one(p) for p in victims), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r


class _ManageFailed(Exception):
    """Creating pods failed; the sync is retried with back-off (status already written)."""


def ReplicationManager(ctx: ControllerContext) -> ReplicaSetController:
    """The ReplicationController controller (Kubernetes' ``ReplicationManager``)."""
    return ReplicaSetController(ctx, kind="ReplicationController")
