"""The StatefulSet controller: pods with stable names, created and deleted in ordinal order.

Kubernetes 1.32's ``pkg/controller/statefulset`` (``updateStatefulSet`` in
``stateful_set_control.go``, ``newVersionedStatefulSetPod``, ``updateStatefulSetStatus``):

- Pods are ``<set>-<ordinal>`` (ordinals from ``spec.ordinals.start``, default 0) with hostname
  the pod name and subdomain ``spec.serviceName``, and the labels
  ``statefulset.kubernetes.io/pod-name``, ``apps.kubernetes.io/pod-index`` and
  ``controller-revision-hash``. Each ``volumeClaimTemplates`` entry becomes a claim
  ``<template>-<set>-<ordinal>`` (created once, kept) mounted as that volume.
- ``OrderedReady`` (default): a pod is created only when every lower ordinal is Running and Ready,
  and pods beyond ``replicas`` are deleted from the highest, one at a time, each gone before the
  next. ``Parallel`` creates and deletes them all at once. Failed pods are deleted and made again.
- Templates are tracked by ControllerRevisions (`skiff.controllers.history`): ``currentRevision``
  is what the pods ran when the update began, ``updateRevision`` the template now. RollingUpdate
  replaces outdated pods from the highest ordinal down to ``partition``, one at a time, each Ready
  before the next; pods below the partition keep (and are recreated at) the current revision.
  OnDelete only gives the update revision to pods the user deleted.
- Status: replicas, readyReplicas, currentReplicas, updatedReplicas, availableReplicas,
  currentRevision, updateRevision (current becomes update once every pod runs it),
  observedGeneration, collisionCount - what `kubectl rollout status statefulset` reads.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from skiff.api.selector import SelectorError, label_selector_from_object
from skiff.client import (
    AlreadyExists,
    ApiError,
    FrozenDict,
    NotFound,
    WorkQueue,
    object_key,
    resolve,
    thaw,
)
from skiff.controllers.base import ControllerContext, meta_of, run_workers, split_key
from skiff.controllers.history import REVISION_HASH_LABEL, RevisionHistory, hash_of
from skiff.controllers.podutil import (
    controller_ref,
    is_pod_available,
    owner_reference,
    pod_ready,
)

__all__ = ["StatefulSetController", "ordinal_of", "plan"]

log = logging.getLogger("skiff.controllers.statefulset")

STATEFULSETS = resolve(("apps/v1", "StatefulSet"))
PODS = resolve(("v1", "Pod"))
PVCS = resolve(("v1", "PersistentVolumeClaim"))
REVISIONS = resolve(("apps/v1", "ControllerRevision"))

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def ordinal_of(set_name: str, pod_name: str) -> int | None:
    """The ordinal of ``<set>-<n>``, or None for a name that is not one of the set's."""
    m = re.fullmatch(re.escape(set_name) + r"-(\d+)", pod_name)
    return int(m.group(1)) if m else None


def _healthy(pod: Mapping[str, Any]) -> bool:
    return (
        (pod.get("status") or {}).get("phase") == "Running"
        and pod_ready(pod)
        and not (meta_of(pod).get("deletionTimestamp"))
    )


def _revision_of(pod: Mapping[str, Any]) -> str:
    return str((meta_of(pod).get("labels") or {}).get(REVISION_HASH_LABEL) or "")


def plan(
    *,
    replicas: int,
    start: int,
    pods: Mapping[int, Mapping[str, Any]],
    parallel: bool,
    rolling: bool,
    partition: int,
    update_hash: str,
) -> tuple[list[int], list[int]]:
    """One step of ``updateStatefulSet``: (ordinals to create, ordinals to delete)."""
    wanted = range(start, start + replicas)
    create: list[int] = []
    delete: list[int] = []
    for ordinal in wanted:
        pod = pods.get(ordinal)
        if pod is None:
            create.append(ordinal)
            if not parallel:
                return create, delete
            continue
        if (pod.get("status") or {}).get("phase") == "Failed" and not meta_of(pod).get(
            "deletionTimestamp"
        ):
            delete.append(ordinal)
            if not parallel:
                return create, delete
            continue
        if not parallel and not _healthy(pod):
            return create, delete  # wait for this one before going further
    condemned = sorted((o for o in pods if o not in wanted), reverse=True)
    for ordinal in condemned:
        pod = pods[ordinal]
        if meta_of(pod).get("deletionTimestamp"):
            if not parallel:
                return create, delete
            continue
        delete.append(ordinal)
        if not parallel:
            return create, delete
    if create or delete or not rolling:
        return create, delete
    # rolling update: every pod must be healthy, then the highest outdated one goes
    if any(not _healthy(pods[o]) for o in wanted if o in pods):
        return create, delete
    for ordinal in sorted(wanted, reverse=True):
        if ordinal < start + partition:
            break
        if _revision_of(pods[ordinal]) != update_hash:
            delete.append(ordinal)
            break
    return create, delete


class StatefulSetController:
    name = "statefulset-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.clock = ctx.clock
        self.recorder = ctx.recorder
        self.workers = ctx.options.workers
        self.queue: WorkQueue[str] = WorkQueue(name="statefulset", clock=ctx.clock)
        self.history = RevisionHistory(ctx.client, api_version="apps/v1", kind="StatefulSet")
        self.sets = ctx.factory.informer(STATEFULSETS)
        self.pods = ctx.factory.informer(PODS)
        self.revisions = ctx.factory.informer(REVISIONS)
        self.sets.add_handler(
            on_add=self._enqueue, on_update=lambda _o, n: self._enqueue(n), on_delete=self._enqueue
        )
        self.pods.add_handler(
            on_add=self._pod_changed,
            on_update=lambda o, n: self._pod_changed(n) if o is not n else None,
            on_delete=self._pod_changed,
        )

    async def run(self) -> None:
        try:
            await run_workers(self.queue, self.sync, self.workers, name=self.name)
        finally:
            self.queue.shut_down()

    def _enqueue(self, obj: Mapping[str, Any]) -> None:
        self.queue.add(object_key(obj))

    def _pod_changed(self, pod: FrozenDict) -> None:
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "StatefulSet":
            return
        namespace = str(meta_of(pod).get("namespace") or "")
        owner = self.sets.lister.get(str(ref.get("name") or ""), namespace=namespace)
        if owner is not None and meta_of(owner).get("uid") == ref.get("uid"):
            self.queue.add(object_key(owner))

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        cached = self.sets.lister.get(name, namespace=namespace)
        if cached is None:
            return
        sts = thaw(cached)
        spec = sts.get("spec") or {}
        try:
            selector = label_selector_from_object(spec.get("selector"))
        except SelectorError as e:
            log.warning("statefulset %s: invalid selector: %s", key, e)
            return
        status = sts.get("status") or {}
        owned = self.history.owned(sts, self.revisions.lister.list(namespace=namespace))
        update, owned = await self.history.ensure_current(
            sts, owned, collision_count=int(status.get("collisionCount") or 0)
        )
        update_hash = hash_of(update)
        by_name = {r["metadata"]["name"]: r for r in owned}
        current = by_name.get(str(status.get("currentRevision") or "")) or update
        current_hash = hash_of(current)
        uid = meta_of(sts).get("uid")
        pods: dict[int, FrozenDict] = {}
        for pod in self.pods.lister.list(namespace=namespace):
            ref = controller_ref(pod)
            if ref is None or ref.get("uid") != uid:
                continue
            ordinal = ordinal_of(name, str(meta_of(pod).get("name") or ""))
            if ordinal is not None and selector.matches(meta_of(pod).get("labels") or {}):
                pods[ordinal] = pod
        replicas = spec.get("replicas")
        replicas = int(replicas) if isinstance(replicas, int) else 1
        start = int(((spec.get("ordinals") or {}).get("start")) or 0)
        strategy = spec.get("updateStrategy") or {}
        rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate"
        partition = int(((strategy.get("rollingUpdate") or {}).get("partition")) or 0)
        if not meta_of(sts).get("deletionTimestamp"):
            create, delete = plan(
                replicas=replicas,
                start=start,
                pods=pods,
                parallel=spec.get("podManagementPolicy") == "Parallel",
                rolling=rolling,
                partition=partition,
                update_hash=update_hash,
            )
            for ordinal in create:
                revision = update
                if rolling and current_hash != update_hash and ordinal < start + partition:
                    revision = current
                await self._create_pod(sts, ordinal, revision)
            await asyncio.gather(*(self._delete_pod(sts, pods[o]) for o in delete))
        await self._update_status(
            sts, pods, update, current, replicas, by_name=by_name, owned=owned
        )

    def _template_of(self, revision: Mapping[str, Any]) -> dict[str, Any]:
        template = thaw(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
        template.pop("$patch", None)
        return dict(template)

    async def _create_pod(
        self, sts: Mapping[str, Any], ordinal: int, revision: Mapping[str, Any]
    ) -> None:
        meta = meta_of(sts)
        namespace = str(meta.get("namespace") or "")
        set_name = str(meta.get("name"))
        pod_name = f"{set_name}-{ordinal}"
        template = self._template_of(revision)
        tmeta = template.get("metadata") or {}
        spec = dict(template.get("spec") or {})
        spec["hostname"] = pod_name
        service = (sts.get("spec") or {}).get("serviceName")
        if service:
            spec["subdomain"] = service
        volumes = [v for v in spec.get("volumes") or []]
        for claim in (sts.get("spec") or {}).get("volumeClaimTemplates") or ():
            claim_name = f"{(claim.get('metadata') or {}).get('name')}-{pod_name}"
            await self._ensure_claim(sts, claim, claim_name)
            volumes = [v for v in volumes if v.get("name") != claim["metadata"]["name"]]
            volumes.append(
                {
                    "name": claim["metadata"]["name"],
                    "persistentVolumeClaim": {"claimName": claim_name},
                }
            )
        if volumes:
            spec["volumes"] = volumes
        labels = {
            **dict(tmeta.get("labels") or {}),
            POD_NAME_LABEL: pod_name,
            POD_INDEX_LABEL: str(ordinal),
            REVISION_HASH_LABEL: hash_of(revision),
        }
        body_meta: dict[str, Any] = {
            "name": pod_name,
            "labels": labels,
            "ownerReferences": [owner_reference(sts, api_version="apps/v1", kind="StatefulSet")],
        }
        if tmeta.get("annotations"):
            body_meta["annotations"] = dict(tmeta["annotations"])
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": body_meta, "spec": spec}
        try:
            await self.client.create(PODS, body, namespace=namespace)
        except AlreadyExists:
            return  # our informer lags behind; the next sync sees it
        except ApiError as e:
            self.recorder.event(
                sts,
                "Warning",
                "FailedCreate",
                f"create Pod {pod_name} in StatefulSet {set_name} failed error: {e.message}",
            )
            raise
        self.recorder.event(
            sts,
            "Normal",
            "SuccessfulCreate",
            f"create Pod {pod_name} in StatefulSet {set_name} successful",
        )

    async def _ensure_claim(
        self, sts: Mapping[str, Any], claim: Mapping[str, Any], claim_name: str
    ) -> None:
        namespace = str(meta_of(sts).get("namespace") or "")
        body = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {
                "name": claim_name,
                "labels": dict((claim.get("metadata") or {}).get("labels") or {}),
            },
            "spec": thaw(claim.get("spec") or {}),
        }
        try:
            await self.client.create(PVCS, body, namespace=namespace)
        except AlreadyExists:
            return
        self.recorder.event(
            sts,
            "Normal",
            "SuccessfulCreate",
            f"create Claim {claim_name} for StatefulSet {meta_of(sts).get('name')} success",
        )

    async def _delete_pod(self, sts: Mapping[str, Any], pod: Mapping[str, Any]) -> None:
        name = str(meta_of(pod).get("name"))
        try:
            await self.client.delete(PODS, name, namespace=str(meta_of(pod).get("namespace")))
        except NotFound:
            return
        self.recorder.event(
            sts,
            "Normal",
            "SuccessfulDelete",
            f"delete Pod {name} in StatefulSet {meta_of(sts).get('name')} successful",
        )

    async def _update_status(
        self,
        sts: dict[str, Any],
        pods: Mapping[int, Mapping[str, Any]],
        update: Mapping[str, Any],
        current: Mapping[str, Any],
        replicas: int,
        *,
        by_name: Mapping[str, Mapping[str, Any]],
        owned: Sequence[dict[str, Any]],
    ) -> None:
        now = self.clock.time()
        min_ready = int((sts.get("spec") or {}).get("minReadySeconds") or 0)
        live = [p for p in pods.values() if not meta_of(p).get("deletionTimestamp")]
        update_hash, current_hash = hash_of(update), hash_of(current)
        updated = sum(1 for p in live if _revision_of(p) == update_hash)
        ready = sum(1 for p in live if pod_ready(p))
        status: dict[str, Any] = {
            "observedGeneration": int(meta_of(sts).get("generation") or 0),
            "replicas": len(live),
            "readyReplicas": ready,
            "currentReplicas": sum(1 for p in live if _revision_of(p) == current_hash),
            "updatedReplicas": updated,
            "availableReplicas": sum(1 for p in live if is_pod_available(p, min_ready, now)),
            "currentRevision": current["metadata"]["name"],
            "updateRevision": update["metadata"]["name"],
        }
        old = sts.get("status") or {}
        if old.get("collisionCount") is not None:
            status["collisionCount"] = old["collisionCount"]
        if updated == replicas and ready == replicas and len(live) == replicas:
            status["currentRevision"] = status["updateRevision"]
            status["currentReplicas"] = updated
        if {k: old.get(k) for k in status} != status:
            body = thaw(sts)
            body["status"] = {**thaw(old), **status}
            try:
                await self.client.update_status(
                    STATEFULSETS, body, namespace=str(meta_of(sts).get("namespace") or "")
                )
            except NotFound:
                return
        in_use = {status["currentRevision"], status["updateRevision"]}
        in_use |= {
            name
            for name, rev in by_name.items()
            if any(_revision_of(p) == hash_of(rev) for p in live)
        }
        limit = (sts.get("spec") or {}).get("revisionHistoryLimit")
        await self.history.truncate(
            sts, list(owned), in_use, int(limit) if isinstance(limit, int) else 10
        )
