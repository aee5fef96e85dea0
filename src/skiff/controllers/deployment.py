"""The Deployment controller: ReplicaSets per template revision, rolling updates, Recreate, pause,
revision history and the status `kubectl rollout status` reads.

Kubernetes 1.32's ``pkg/controller/deployment`` (``syncDeployment``, ``rolloutRolling``,
``rolloutRecreate``, ``sync``/``scale``, ``getAllReplicaSetsAndSyncRevision``, ``syncRolloutStatus``)
and ``deployment/util``:

- The Deployment owns ReplicaSets (claimed like pods by a ReplicaSet: adopted when their labels
  match, released when not). The *new* ReplicaSet is the one whose pod template equals the
  Deployment's (ignoring the ``pod-template-hash`` label); it is named ``<deployment>-<hash>``
  where the hash covers the template and ``status.collisionCount``. Every other one is *old*.
- Revisions: the new ReplicaSet carries ``deployment.kubernetes.io/revision`` = 1 + the highest old
  revision, and the Deployment carries the same annotation; ``kubernetes.io/change-cause`` and
  the Deployment's other annotations are copied to it. ``revisionHistoryLimit`` old ReplicaSets
  with no replicas are kept (oldest deleted first). ``kubectl rollout undo`` works client-side
  (it copies an old ReplicaSet's template back), which makes that ReplicaSet new again.
- RollingUpdate: the new ReplicaSet grows while the total stays within ``replicas + maxSurge``
  (percentages rounded up); old ones shrink while at least ``replicas - maxUnavailable`` pods
  (rounded down) stay available, unhealthy old pods first. Recreate: old ReplicaSets go to 0 and
  their pods must be gone before the new one is scaled up.
- A change of ``spec.replicas`` during a rollout is spread over the active ReplicaSets in
  proportion to their size (``deployment.kubernetes.io/desired-replicas`` and ``max-replicas``
  annotations record what each was sized for).
- Paused: no rollout step, scaling still applies; Progressing is ``Unknown/DeploymentPaused``.
- Status: replicas, updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas,
  observedGeneration, collisionCount and the conditions Available and Progressing
  (NewReplicaSetCreated, FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable,
  ProgressDeadlineExceeded, DeploymentPaused, DeploymentResumed); ReplicaFailure is copied from the
  ReplicaSets. The key is looked at again when the progress deadline would pass.

Events: ``ScalingReplicaSet`` ("Scaled up replica set web-5d4f8 from 0 to 3"), and the
``DeploymentRollback``-free set Kubernetes 1.32 emits.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from skiff.api.selector import LabelSelector, SelectorError, label_selector_from_object
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
from skiff.controllers.base import (
    ControllerContext,
    epoch_of,
    meta_of,
    run_workers,
    split_key,
    time_stamp,
)
from skiff.controllers.podutil import controller_ref, owner_reference

__all__ = [
    "DESIRED_REPLICAS",
    "MAX_REPLICAS",
    "REVISION",
    "DeploymentController",
    "max_surge_unavailable",
    "new_rs_replicas",
    "pod_template_hash",
    "proportional_scale",
    "scale_down_old_count",
]

log = logging.getLogger("skiff.controllers.deployment")

DEPLOYMENTS = resolve(("apps/v1", "Deployment"))
REPLICASETS = resolve(("apps/v1", "ReplicaSet"))
PODS = resolve(("v1", "Pod"))

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"
_NOT_COPIED = {
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "kubectl.kubernetes.io/last-applied-configuration",
}
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


# ---------------------------------------------------------------------- pure decisions


def _fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def pod_template_hash(template: Mapping[str, Any], collision_count: int = 0) -> str:
    """The ``pod-template-hash`` of a template (FNV-32a over its canonical JSON and the collision
    count, written in Kubernetes' vowel-free alphabet so it never spells a word)."""
    data = json.dumps(thaw(template), sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    return "".join(_SAFE_ALPHABET[int(d) % len(_SAFE_ALPHABET)] for d in str(_fnv32a(data)))


def _int_or_percent(value: Any, total: int, *, round_up: bool, default: str) -> int:
    if value is None:
        value = default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.endswith("%"):
        try:
            pct = int(text[:-1])
        except ValueError:
            return 0
        exact = pct * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    try:
        return int(text)
    except ValueError:
        return 0


def _replicas(obj: Mapping[str, Any]) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return int(value) if isinstance(value, int) else 1


def max_surge_unavailable(deployment: Mapping[str, Any]) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as pod counts (``ResolveFenceposts``): surge rounds up,
    unavailable down, and both 0 becomes unavailable 1 so a rollout can move."""
    spec = deployment.get("spec") or {}
    rolling = ((spec.get("strategy") or {}).get("rollingUpdate")) or {}
    replicas = _replicas(deployment)
    surge = _int_or_percent(rolling.get("maxSurge"), replicas, round_up=True, default="25%")
    unavailable = _int_or_percent(
        rolling.get("maxUnavailable"), replicas, round_up=False, default="25%"
    )
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _rs_replicas(rs: Mapping[str, Any]) -> int:
    value = (rs.get("spec") or {}).get("replicas")
    return int(value) if isinstance(value, int) else 0


def _status_int(rs: Mapping[str, Any], field: str) -> int:
    return int((rs.get("status") or {}).get(field) or 0)


def new_rs_replicas(
    deployment: Mapping[str, Any], all_rss: Sequence[Mapping[str, Any]], new_rs: Mapping[str, Any]
) -> int:
    """How big the new ReplicaSet may be now (``NewRSNewReplicas``, RollingUpdate)."""
    replicas = _replicas(deployment)
    current_new = _rs_replicas(new_rs)
    surge, _ = max_surge_unavailable(deployment)
    current_total = sum(_rs_replicas(rs) for rs in all_rss)
    max_total = replicas + surge
    if current_total >= max_total:
        return current_new
    scale_up = min(max_total - current_total, replicas - current_new)
    return current_new + max(0, scale_up)


def scale_down_old_count(
    deployment: Mapping[str, Any],
    all_rss: Sequence[Mapping[str, Any]],
    new_rs: Mapping[str, Any] | None,
) -> int:
    """How many old pods may go now while ``replicas - maxUnavailable`` stay available."""
    replicas = _replicas(deployment)
    _, unavailable = max_surge_unavailable(deployment)
    min_available = replicas - unavailable
    all_pods = sum(_rs_replicas(rs) for rs in all_rss)
    new_unavailable = 0
    if new_rs is not None:
        new_unavailable = max(0, _rs_replicas(new_rs) - _status_int(new_rs, "availableReplicas"))
    return all_pods - min_available - new_unavailable


def proportional_scale(
    sizes: Sequence[int], to_add: int, *, newest_first_ties: bool = True
) -> list[int]:
    """Spread ``to_add`` (may be negative) over ReplicaSets of ``sizes`` in proportion to their
    size; the rounding leftover goes to the largest (``scale`` in ``sync.go``)."""
    total = sum(sizes)
    if total == 0 or to_add == 0:
        out = [0] * len(sizes)
        if out and to_add:
            out[0] = to_add
        return out
    deltas = [int(size * to_add / total) for size in sizes]
    leftover = to_add - sum(deltas)
    if leftover and sizes:
        largest = max(range(len(sizes)), key=lambda i: (sizes[i], -i if newest_first_ties else i))
        deltas[largest] += leftover
    return [max(d, -s) for d, s in zip(deltas, sizes, strict=True)]


def _revision(obj: Mapping[str, Any]) -> int:
    try:
        return int((meta_of(obj).get("annotations") or {}).get(REVISION) or 0)
    except ValueError:
        return 0


def _template_without_hash(template: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = thaw(template)
    labels = (out.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
        if not labels:
            out["metadata"].pop("labels")
    if isinstance(out.get("metadata"), dict) and not out["metadata"]:
        out.pop("metadata")
    return out


def _created(obj: Mapping[str, Any]) -> tuple[float, str]:
    stamp = meta_of(obj).get("creationTimestamp")
    return epoch_of(stamp) or 0.0, str(meta_of(obj).get("name") or "")


def _condition(
    conditions: list[dict[str, Any]],
    type_: str,
    status: str,
    reason: str,
    message: str,
    now: float,
) -> list[dict[str, Any]]:
    """Set a Deployment condition: lastUpdateTime always moves when anything changes,
    lastTransitionTime only when the status does (``SetDeploymentCondition``)."""
    old = next((c for c in conditions if c.get("type") == type_), None)
    if (
        old is not None
        and old.get("status") == status
        and old.get("reason") == reason
        and old.get("message") == message
    ):
        return conditions
    stamp = time_stamp(now)
    transition = stamp
    if old is not None and old.get("status") == status and old.get("lastTransitionTime"):
        transition = str(old["lastTransitionTime"])
    cond = {
        "type": type_,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": transition,
        "reason": reason,
        "message": message,
    }
    return [c for c in conditions if c.get("type") != type_] + [cond]


# ---------------------------------------------------------------------- the controller


class DeploymentController:
    name = "deployment-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.clock = ctx.clock
        self.recorder = ctx.recorder
        self.workers = ctx.options.workers
        self.queue: WorkQueue[str] = WorkQueue(name="deployment", clock=ctx.clock)
        self.deployments = ctx.factory.informer(DEPLOYMENTS)
        self.replicasets = ctx.factory.informer(REPLICASETS)
        self.pods = ctx.factory.informer(PODS)
        self.deployments.add_handler(
            on_add=self._enqueue,
            on_update=lambda _o, n: self._enqueue(n),
            on_delete=self._enqueue,
        )
        self.replicasets.add_handler(
            on_add=self._rs_changed,
            on_update=self._rs_updated,
            on_delete=self._rs_changed,
        )
        self.pods.add_handler(on_delete=self._pod_deleted)

    async def run(self) -> None:
        try:
            await run_workers(self.queue, self.sync, self.workers, name=self.name)
        finally:
            self.queue.shut_down()

    # ------------------------------------------------------------------ handlers

    def _enqueue(self, obj: Mapping[str, Any]) -> None:
        self.queue.add(object_key(obj))

    def _owner_key(self, rs: Mapping[str, Any]) -> str | None:
        ref = controller_ref(rs)
        if ref is None or ref.get("kind") != "Deployment":
            return None
        namespace = str(meta_of(rs).get("namespace") or "")
        owner = self.deployments.lister.get(str(ref.get("name") or ""), namespace=namespace)
        if owner is None or meta_of(owner).get("uid") != ref.get("uid"):
            return None
        return object_key(owner)

    def _matching(self, rs: Mapping[str, Any]) -> list[str]:
        meta = meta_of(rs)
        labels = meta.get("labels") or {}
        out = []
        for d in self.deployments.lister.list(namespace=str(meta.get("namespace") or "")):
            try:
                sel = label_selector_from_object((d.get("spec") or {}).get("selector"))
            except SelectorError:
                continue
            if not sel.empty and sel.matches(labels):
                out.append(object_key(d))
        return out

    def _rs_changed(self, rs: FrozenDict) -> None:
        key = self._owner_key(rs)
        if key is not None:
            self.queue.add(key)
        elif controller_ref(rs) is None:
            for k in self._matching(rs):
                self.queue.add(k)

    def _rs_updated(self, old: FrozenDict, new: FrozenDict) -> None:
        if old is new:
            return
        old_key = self._owner_key(old)
        if old_key is not None and old_key != self._owner_key(new):
            self.queue.add(old_key)
        self._rs_changed(new)

    def _pod_deleted(self, pod: FrozenDict) -> None:
        # Recreate waits for old pods to be gone: look again when one goes
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        namespace = str(meta_of(pod).get("namespace") or "")
        rs = self.replicasets.lister.get(str(ref.get("name") or ""), namespace=namespace)
        if rs is not None:
            key = self._owner_key(rs)
            if key is not None:
                self.queue.add(key)

    # ------------------------------------------------------------------ sync

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        cached = self.deployments.lister.get(name, namespace=namespace)
        if cached is None:
            return
        d = thaw(cached)
        spec = d.get("spec") or {}
        try:
            selector = label_selector_from_object(spec.get("selector"))
        except SelectorError as e:
            log.warning("deployment %s: invalid selector: %s", key, e)
            return
        if selector.empty:
            self.recorder.event(
                d,
                "Warning",
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            )
            return
        rss = await self._claim_replica_sets(d, selector)
        if meta_of(d).get("deletionTimestamp"):
            await self._sync_status(d, rss, None)
            return
        if spec.get("paused"):
            await self._sync(d, rss)
            return
        if self._is_scaling_event(d, [rs for rs in rss if _rs_replicas(rs) > 0]):
            await self._sync(d, rss)
            return
        strategy = (spec.get("strategy") or {}).get("type") or "RollingUpdate"
        if strategy == "Recreate":
            await self._rollout_recreate(d, rss)
        else:
            await self._rollout_rolling(d, rss)

    # -- claiming

    async def _claim_replica_sets(
        self, d: dict[str, Any], selector: LabelSelector
    ) -> list[dict[str, Any]]:
        meta = meta_of(d)
        namespace = str(meta.get("namespace") or "")
        uid = meta.get("uid")
        deleting = bool(meta.get("deletionTimestamp"))
        out: list[dict[str, Any]] = []
        for rs in self.replicasets.lister.list(namespace=namespace):
            ref = controller_ref(rs)
            labels = meta_of(rs).get("labels") or {}
            if ref is not None:
                if ref.get("uid") != uid:
                    continue
                if selector.matches(labels) or deleting:
                    out.append(thaw(rs))
                else:
                    await self._patch_owner(rs, {"$patch": "delete", "uid": uid})
                continue
            if deleting or meta_of(rs).get("deletionTimestamp") or not selector.matches(labels):
                continue
            ref_body = owner_reference(d, api_version="apps/v1", kind="Deployment")
            if await self._patch_owner(rs, ref_body):
                out.append(thaw(rs))
        return out

    async def _patch_owner(self, rs: Mapping[str, Any], ref: Mapping[str, Any]) -> bool:
        meta = meta_of(rs)
        patch = {"metadata": {"ownerReferences": [dict(ref)], "uid": meta.get("uid")}}
        try:
            await self.client.patch(
                REPLICASETS,
                str(meta.get("name")),
                patch,
                namespace=str(meta.get("namespace") or ""),
                patch_type="strategic",
            )
        except (NotFound, ApiError) as e:
            log.info("deployment: cannot change the owner of %s: %s", meta.get("name"), e)
            return False
        return True

    # -- new and old ReplicaSets

    def _split(
        self, d: Mapping[str, Any], rss: Sequence[dict[str, Any]]
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        template = _template_without_hash((d.get("spec") or {}).get("template") or {})
        matches = sorted(
            (
                rs
                for rs in rss
                if _template_without_hash((rs.get("spec") or {}).get("template") or {}) == template
            ),
            key=_created,
        )
        new_rs = matches[0] if matches else None
        old = [rs for rs in rss if rs is not new_rs]
        return new_rs, old

    def _is_scaling_event(self, d: Mapping[str, Any], active: Sequence[Mapping[str, Any]]) -> bool:
        replicas = _replicas(d)
        for rs in active:
            desired = (meta_of(rs).get("annotations") or {}).get(DESIRED_REPLICAS)
            if desired is None:
                continue
            try:
                if int(desired) != replicas:
                    return True
            except ValueError:
                continue
        return False

    async def _new_replica_set(
        self,
        d: dict[str, Any],
        rss: list[dict[str, Any]],
        *,
        create: bool,
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """``getAllReplicaSetsAndSyncRevision``: the new ReplicaSet (created when asked and
        missing) with its revision brought up to date, and the old ones."""
        new_rs, old_rss = self._split(d, rss)
        max_old = max((_revision(rs) for rs in old_rss), default=0)
        revision = max_old + 1
        meta = meta_of(d)
        namespace = str(meta.get("namespace") or "")
        surge, _ = max_surge_unavailable(d)
        if new_rs is not None:
            annotations = dict(meta_of(new_rs).get("annotations") or {})
            wanted = self._rs_annotations(d, annotations, revision, surge)
            if wanted != annotations:
                body = thaw(new_rs)
                body["metadata"]["annotations"] = wanted
                new_rs = await self.client.update(REPLICASETS, body, namespace=namespace)
            await self._set_deployment_revision(d, _revision(new_rs))
            return new_rs, old_rss
        if not create:
            return None, old_rss
        spec = d.get("spec") or {}
        collisions = int((d.get("status") or {}).get("collisionCount") or 0)
        template = thaw(spec.get("template") or {})
        tmpl_hash = pod_template_hash(template, collisions)
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = tmpl_hash
        selector = thaw(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = tmpl_hash
        all_rss = rss
        strategy = (spec.get("strategy") or {}).get("type") or "RollingUpdate"
        fresh: dict[str, Any] = {"spec": {"replicas": 0}}
        replicas = new_rs_replicas(d, all_rss, fresh) if strategy != "Recreate" else _replicas(d)
        body = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{meta.get('name')}-{tmpl_hash}",
                "namespace": namespace,
                "labels": dict(template["metadata"]["labels"]),
                "annotations": self._rs_annotations(d, {}, revision, surge),
                "ownerReferences": [owner_reference(d, api_version="apps/v1", kind="Deployment")],
            },
            "spec": {
                "replicas": replicas,
                "minReadySeconds": int(spec.get("minReadySeconds") or 0),
                "selector": selector,
                "template": template,
            },
        }
        try:
            created = await self.client.create(REPLICASETS, body, namespace=namespace)
        except AlreadyExists:
            existing = await self.client.get(
                REPLICASETS, body["metadata"]["name"], namespace=namespace
            )
            ref = controller_ref(existing)
            same = _template_without_hash(existing["spec"]["template"]) == _template_without_hash(
                template
            )
            if ref is not None and ref.get("uid") == meta.get("uid") and same:
                return existing, old_rss  # our informer lags; next sync sees it
            # a hash collision: bump collisionCount so the next name differs
            status = thaw(d.get("status") or {})
            status["collisionCount"] = collisions + 1
            body_d = thaw(d)
            body_d["status"] = status
            await self.client.update_status(DEPLOYMENTS, body_d, namespace=namespace)
            raise
        if replicas > 0:
            self._scaled_event(d, created, "up", 0, replicas)
        await self._set_deployment_revision(d, revision)
        d.setdefault("status", {})["conditions"] = _condition(
            list((d.get("status") or {}).get("conditions") or []),
            "Progressing",
            "True",
            "NewReplicaSetCreated",
            f'Created new replica set "{created["metadata"]["name"]}"',
            self.clock.time(),
        )
        return created, old_rss

    def _rs_annotations(
        self, d: Mapping[str, Any], current: Mapping[str, str], revision: int, surge: int
    ) -> dict[str, str]:
        out = dict(current)
        for k, v in (meta_of(d).get("annotations") or {}).items():
            if k not in _NOT_COPIED:
                out[k] = str(v)
        old_revision = _revision({"metadata": {"annotations": current}})
        if old_revision < revision:
            out[REVISION] = str(revision)
            if old_revision:
                history = [h for h in (current.get(REVISION_HISTORY) or "").split(",") if h]
                out[REVISION_HISTORY] = ",".join([*history, str(old_revision)])
        out[DESIRED_REPLICAS] = str(_replicas(d))
        out[MAX_REPLICAS] = str(_replicas(d) + surge)
        return out

    async def _set_deployment_revision(self, d: dict[str, Any], revision: int) -> None:
        annotations = dict(meta_of(d).get("annotations") or {})
        if annotations.get(REVISION) == str(revision):
            return
        annotations[REVISION] = str(revision)
        updated = await self.client.patch(
            DEPLOYMENTS,
            str(meta_of(d).get("name")),
            {"metadata": {"annotations": {REVISION: str(revision)}}},
            namespace=str(meta_of(d).get("namespace") or ""),
        )
        d["metadata"] = updated.get("metadata") or d["metadata"]

    # -- scaling

    async def _scale_rs(
        self, d: Mapping[str, Any], rs: dict[str, Any], replicas: int, *, event: bool = True
    ) -> bool:
        """Set a ReplicaSet's size and its desired/max annotations; True when it changed."""
        surge, _ = max_surge_unavailable(d)
        annotations = dict(meta_of(rs).get("annotations") or {})
        wanted = dict(annotations)
        wanted[DESIRED_REPLICAS] = str(_replicas(d))
        wanted[MAX_REPLICAS] = str(_replicas(d) + surge)
        old = _rs_replicas(rs)
        if old == replicas and wanted == annotations:
            return False
        body = thaw(rs)
        body["spec"]["replicas"] = replicas
        body["metadata"]["annotations"] = wanted
        updated = await self.client.update(
            REPLICASETS, body, namespace=str(meta_of(rs).get("namespace") or "")
        )
        rs.clear()
        rs.update(updated)
        if event and old != replicas:
            self._scaled_event(d, rs, "up" if replicas > old else "down", old, replicas)
        return old != replicas

    def _scaled_event(
        self, d: Mapping[str, Any], rs: Mapping[str, Any], way: str, old: int, new: int
    ) -> None:
        self.recorder.event(
            d,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {way} replica set {meta_of(rs).get('name')} from {old} to {new}",
        )

    async def _sync(self, d: dict[str, Any], rss: list[dict[str, Any]]) -> None:
        """Scaling (and paused deployments): resize without a rollout step."""
        new_rs, old_rss = await self._new_replica_set(d, rss, create=False)
        await self._scale(d, new_rs, old_rss)
        if (d.get("spec") or {}).get("paused"):
            await self._cleanup(d, old_rss)
        await self._sync_status(d, [*([new_rs] if new_rs else []), *old_rss], new_rs)

    async def _scale(
        self, d: dict[str, Any], new_rs: dict[str, Any] | None, old_rss: list[dict[str, Any]]
    ) -> None:
        replicas = _replicas(d)
        active = [rs for rs in [*([new_rs] if new_rs else []), *old_rss] if _rs_replicas(rs) > 0]
        if len(active) <= 1:
            target = active[0] if active else new_rs
            if target is None and old_rss:
                target = max(old_rss, key=_created)
            if target is not None:
                await self._scale_rs(d, target, replicas)
            return
        if (
            new_rs is not None
            and _rs_replicas(new_rs) == replicas
            and _status_int(new_rs, "availableReplicas") >= replicas
        ):
            for rs in old_rss:
                if _rs_replicas(rs) > 0:
                    await self._scale_rs(d, rs, 0)
            return
        strategy = ((d.get("spec") or {}).get("strategy") or {}).get("type") or "RollingUpdate"
        if strategy != "RollingUpdate":
            return
        surge, _ = max_surge_unavailable(d)
        allowed = replicas + surge
        current = sum(_rs_replicas(rs) for rs in active)
        to_add = allowed - current
        # larger ReplicaSets first; newest first among equals when growing, oldest when shrinking
        ordered = sorted(active, key=_created, reverse=to_add > 0)
        ordered.sort(key=_rs_replicas, reverse=True)
        deltas = proportional_scale([_rs_replicas(rs) for rs in ordered], to_add)
        for rs, delta in zip(ordered, deltas, strict=True):
            await self._scale_rs(d, rs, _rs_replicas(rs) + delta)

    # -- RollingUpdate

    async def _rollout_rolling(self, d: dict[str, Any], rss: list[dict[str, Any]]) -> None:
        new_rs, old_rss = await self._new_replica_set(d, rss, create=True)
        assert new_rs is not None
        all_rss = [new_rs, *old_rss]
        replicas = _replicas(d)
        current_new = _rs_replicas(new_rs)
        if current_new > replicas:
            scaled = await self._scale_rs(d, new_rs, replicas)
        elif current_new < replicas:
            scaled = await self._scale_rs(d, new_rs, new_rs_replicas(d, all_rss, new_rs))
        else:
            scaled = False
        if scaled:
            await self._sync_status(d, all_rss, new_rs)
            return
        if await self._reconcile_old(d, all_rss, old_rss, new_rs):
            await self._sync_status(d, all_rss, new_rs)
            return
        if self._complete(d, new_rs, all_rss):
            await self._cleanup(d, old_rss)
        await self._sync_status(d, all_rss, new_rs)

    async def _reconcile_old(
        self,
        d: dict[str, Any],
        all_rss: list[dict[str, Any]],
        old_rss: list[dict[str, Any]],
        new_rs: dict[str, Any],
    ) -> bool:
        if sum(_rs_replicas(rs) for rs in old_rss) == 0:
            return False
        budget = scale_down_old_count(d, all_rss, new_rs)
        if budget <= 0:
            return False
        scaled = False
        # unhealthy old pods first: they cost no availability
        for rs in sorted(old_rss, key=_created):
            if budget <= 0:
                break
            size = _rs_replicas(rs)
            unhealthy = size - _status_int(rs, "availableReplicas")
            if size == 0 or unhealthy <= 0:
                continue
            cut = min(budget, unhealthy)
            await self._scale_rs(d, rs, size - cut)
            budget -= cut
            scaled = True
        # then available ones, as long as minAvailable stays available
        _, unavailable = max_surge_unavailable(d)
        min_available = _replicas(d) - unavailable
        available = sum(_status_int(rs, "availableReplicas") for rs in all_rss)
        to_scale = available - min_available
        for rs in sorted(old_rss, key=_created):
            if to_scale <= 0:
                break
            size = _rs_replicas(rs)
            if size == 0:
                continue
            cut = min(size, to_scale)
            await self._scale_rs(d, rs, size - cut)
            to_scale -= cut
            scaled = True
        return scaled

    # -- Recreate

    async def _rollout_recreate(self, d: dict[str, Any], rss: list[dict[str, Any]]) -> None:
        new_rs, old_rss = await self._new_replica_set(d, rss, create=False)
        all_rss = [*([new_rs] if new_rs else []), *old_rss]
        scaled = False
        for rs in old_rss:
            if _rs_replicas(rs) > 0:
                scaled = await self._scale_rs(d, rs, 0) or scaled
        if scaled:
            await self._sync_status(d, all_rss, new_rs)
            return
        if self._old_pods_running(old_rss):
            await self._sync_status(d, all_rss, new_rs)
            return
        if new_rs is None:
            new_rs, old_rss = await self._new_replica_set(d, rss, create=True)
            assert new_rs is not None
            all_rss = [new_rs, *old_rss]
        await self._scale_rs(d, new_rs, _replicas(d))
        if self._complete(d, new_rs, all_rss):
            await self._cleanup(d, old_rss)
        await self._sync_status(d, all_rss, new_rs)

    def _old_pods_running(self, old_rss: Sequence[Mapping[str, Any]]) -> bool:
        uids = {meta_of(rs).get("uid") for rs in old_rss}
        if not uids:
            return False
        namespace = str(meta_of(old_rss[0]).get("namespace") or "")
        for pod in self.pods.lister.list(namespace=namespace):
            ref = controller_ref(pod)
            if ref is None or ref.get("uid") not in uids:
                continue
            phase = (pod.get("status") or {}).get("phase")
            if phase not in ("Succeeded", "Failed"):
                return True
        return False

    # -- history and status

    def _complete(
        self, d: Mapping[str, Any], new_rs: Mapping[str, Any], all_rss: Sequence[Mapping[str, Any]]
    ) -> bool:
        replicas = _replicas(d)
        return (
            _status_int(new_rs, "replicas") == replicas
            and _status_int(new_rs, "availableReplicas") == replicas
            and sum(_status_int(rs, "replicas") for rs in all_rss) == replicas
        )

    async def _cleanup(self, d: Mapping[str, Any], old_rss: Sequence[Mapping[str, Any]]) -> None:
        limit = (d.get("spec") or {}).get("revisionHistoryLimit")
        limit = int(limit) if isinstance(limit, int) else 10
        idle = [
            rs
            for rs in old_rss
            if _rs_replicas(rs) == 0
            and _status_int(rs, "replicas") == 0
            and not meta_of(rs).get("deletionTimestamp")
        ]
        excess = len(idle) - limit
        if excess <= 0:
            return
        idle.sort(key=lambda rs: (_revision(rs), _created(rs)))
        for rs in idle[:excess]:
            meta = meta_of(rs)
            with contextlib.suppress(NotFound):
                await self.client.delete(
                    REPLICASETS, str(meta.get("name")), namespace=str(meta.get("namespace") or "")
                )

    async def _sync_status(
        self,
        d: dict[str, Any],
        all_rss: Sequence[Mapping[str, Any]],
        new_rs: Mapping[str, Any] | None,
    ) -> None:
        namespace, name = str(meta_of(d).get("namespace") or ""), str(meta_of(d).get("name"))
        now = self.clock.time()
        status = self._calculate_status(d, all_rss, new_rs, now)
        old = d.get("status") or {}
        if thaw(old) != status:
            body = thaw(d)
            body["status"] = status
            try:
                await self.client.update_status(DEPLOYMENTS, body, namespace=namespace)
            except NotFound:
                return
        deadline = (d.get("spec") or {}).get("progressDeadlineSeconds")
        progressing = next(
            (c for c in status.get("conditions") or [] if c.get("type") == "Progressing"), None
        )
        if (
            isinstance(deadline, int)
            and progressing is not None
            and progressing.get("reason")
            in ("ReplicaSetUpdated", "NewReplicaSetCreated", "FoundNewReplicaSet")
        ):
            updated = epoch_of(progressing.get("lastUpdateTime"))
            if updated is None:
                updated = now
            self.queue.add_after(f"{namespace}/{name}", max(0.5, updated + deadline - now + 0.5))

    def _calculate_status(
        self,
        d: Mapping[str, Any],
        all_rss: Sequence[Mapping[str, Any]],
        new_rs: Mapping[str, Any] | None,
        now: float,
    ) -> dict[str, Any]:
        old = d.get("status") or {}
        replicas = _replicas(d)
        available = sum(_status_int(rs, "availableReplicas") for rs in all_rss)
        status: dict[str, Any] = {
            "observedGeneration": int(meta_of(d).get("generation") or 0),
            "replicas": sum(_status_int(rs, "replicas") for rs in all_rss),
            "updatedReplicas": _status_int(new_rs, "replicas") if new_rs else 0,
            "readyReplicas": sum(_status_int(rs, "readyReplicas") for rs in all_rss),
            "availableReplicas": available,
            "unavailableReplicas": max(0, replicas - available),
        }
        if old.get("collisionCount") is not None:
            status["collisionCount"] = old["collisionCount"]
        conditions = [thaw(c) for c in old.get("conditions") or []]
        _, unavailable = max_surge_unavailable(d)
        if available >= replicas - unavailable:
            conditions = _condition(
                conditions,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                now,
            )
        else:
            conditions = _condition(
                conditions,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                now,
            )
        conditions = self._progressing(d, conditions, new_rs, status, now)
        failures = [
            c
            for rs in all_rss
            for c in (rs.get("status") or {}).get("conditions") or ()
            if c.get("type") == "ReplicaFailure" and c.get("status") == "True"
        ]
        if failures:
            f = failures[0]
            conditions = _condition(
                conditions,
                "ReplicaFailure",
                "True",
                str(f.get("reason") or "FailedCreate"),
                str(f.get("message") or ""),
                now,
            )
        else:
            conditions = [c for c in conditions if c.get("type") != "ReplicaFailure"]
        if conditions:
            status["conditions"] = conditions
        return status

    def _progressing(
        self,
        d: Mapping[str, Any],
        conditions: list[dict[str, Any]],
        new_rs: Mapping[str, Any] | None,
        status: Mapping[str, Any],
        now: float,
    ) -> list[dict[str, Any]]:
        spec = d.get("spec") or {}
        current = next((c for c in conditions if c.get("type") == "Progressing"), None)
        if spec.get("paused"):
            return _condition(
                conditions,
                "Progressing",
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused",
                now,
            )
        if current is not None and current.get("reason") == "DeploymentPaused":
            conditions = _condition(
                conditions,
                "Progressing",
                "Unknown",
                "DeploymentResumed",
                "Deployment is resumed",
                now,
            )
            current = next((c for c in conditions if c.get("type") == "Progressing"), None)
        deadline = spec.get("progressDeadlineSeconds")
        if not isinstance(deadline, int) or new_rs is None:
            return conditions
        rs_name = meta_of(new_rs).get("name")
        replicas = _replicas(d)
        complete = (
            status["updatedReplicas"] == replicas
            and status["replicas"] == replicas
            and status["availableReplicas"] == replicas
            and int(status["observedGeneration"]) >= int(meta_of(d).get("generation") or 0)
        )
        if complete:
            return _condition(
                conditions,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
                now,
            )
        old = d.get("status") or {}
        moved = any(
            int(old.get(k) or 0) != int(status.get(k) or 0)
            for k in ("updatedReplicas", "availableReplicas", "readyReplicas", "replicas")
        ) or int(old.get("observedGeneration") or 0) != int(status["observedGeneration"])
        if current is None or moved or current.get("reason") == "DeploymentResumed":
            reason, message = "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.'
            if (
                current is not None
                and current.get("reason") == "NewReplicaSetCreated"
                and not moved
            ):
                return conditions
            if current is None:
                reason, message = "FoundNewReplicaSet", f'Found new replica set "{rs_name}"'
            if (
                current is not None
                and current.get("status") == "True"
                and current.get("reason") == reason
                and current.get("message") == message
            ):
                # refresh lastUpdateTime: progress was made
                conditions = [c for c in conditions if c.get("type") != "Progressing"]
                stamp = time_stamp(now)
                return [
                    *conditions,
                    {
                        **current,
                        "lastUpdateTime": stamp,
                    },
                ]
            return _condition(conditions, "Progressing", "True", reason, message, now)
        # no progress: has the deadline passed since the last update?
        last = epoch_of(current.get("lastUpdateTime"))
        if last is None:
            return conditions
        if current.get("status") == "True" and last + deadline < now:
            return _condition(
                conditions,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs_name}" has timed out progressing.',
                now,
            )
        return conditions
