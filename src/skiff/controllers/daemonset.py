"""The DaemonSet controller: one pod on every eligible node, rolled out node by node.

Kubernetes 1.32's ``pkg/controller/daemon`` (``manage``, ``NodeShouldRunDaemonPod``,
``rollingUpdate``, ``updateDaemonSetStatus``) and ``daemon/util``:

- A node is eligible when the template's ``nodeSelector`` and required node affinity match it and
  it has no NoSchedule/NoExecute taint the pod does not tolerate; a pod already there keeps
  running unless an untolerated NoExecute taint or the selector says otherwise.
- Daemon pods get the tolerations Kubernetes adds (not-ready and unreachable NoExecute without
  ``tolerationSeconds``, so node trouble never evicts them; disk-, memory-, pid-pressure and
  unschedulable NoSchedule; network-unavailable for host-network pods) and are pinned to their
  node by a required node affinity ``matchFields metadata.name In [node]``, which the scheduler
  honours - the controller never sets ``nodeName`` itself.
- Eligible nodes without a pod get one; pods on ineligible nodes, extra pods on one node and
  failed pods are deleted (a failed pod is replaced on the next sync).
- Templates are tracked by ControllerRevisions (`skiff.controllers.history`); pods carry the
  revision's ``controller-revision-hash``. RollingUpdate deletes outdated pods while at most
  ``maxUnavailable`` (default 1) nodes lack an available daemon pod, unavailable old pods first;
  OnDelete replaces a pod only when the user deleted it.
- Status: desiredNumberScheduled, currentNumberScheduled, numberMisscheduled, numberReady,
  updatedNumberScheduled, numberAvailable, numberUnavailable, observedGeneration.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from skiff.api.nodeaffinity import find_untolerated_taint, pod_matches_node
from skiff.api.selector import SelectorError, label_selector_from_object
from skiff.client import ApiError, FrozenDict, NotFound, WorkQueue, object_key, resolve, thaw
from skiff.controllers.base import ControllerContext, meta_of, run_workers, split_key
from skiff.controllers.expectations import Expectations
from skiff.controllers.history import REVISION_HASH_LABEL, RevisionHistory, hash_of
from skiff.controllers.podutil import (
    controller_ref,
    is_pod_available,
    owner_reference,
    pod_ready,
)

__all__ = [
    "DAEMON_TOLERATIONS",
    "DaemonSetController",
    "daemon_pod_spec",
    "node_should_run",
    "rolling_update_victims",
]

log = logging.getLogger("skiff.controllers.daemonset")

DAEMONSETS = resolve(("apps/v1", "DaemonSet"))
NODES = resolve(("v1", "Node"))
PODS = resolve(("v1", "Pod"))
REVISIONS = resolve(("apps/v1", "ControllerRevision"))

DAEMON_TOLERATIONS: tuple[dict[str, str], ...] = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
_NETWORK_UNAVAILABLE = {
    "key": "node.kubernetes.io/network-unavailable",
    "operator": "Exists",
    "effect": "NoSchedule",
}


def _with_tolerations(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    tolerations = [thaw(t) for t in spec.get("tolerations") or ()]
    extra = list(DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        extra.append(_NETWORK_UNAVAILABLE)
    for tol in extra:
        if not any(
            t.get("key") == tol["key"] and t.get("effect") == tol["effect"] for t in tolerations
        ):
            tolerations.append(dict(tol))
    return tolerations


def node_should_run(template_spec: Mapping[str, Any], node: Mapping[str, Any]) -> tuple[bool, bool]:
    """(should run a new pod there, may keep a running one) - ``NodeShouldRunDaemonPod``."""
    if not pod_matches_node(template_spec, node):
        return False, False
    taints = (node.get("spec") or {}).get("taints") or ()
    tolerations = _with_tolerations(template_spec)
    if find_untolerated_taint(taints, tolerations, ("NoExecute",)) is not None:
        return False, False
    if find_untolerated_taint(taints, tolerations, ("NoSchedule",)) is not None:
        return False, True
    return True, True


def daemon_pod_spec(template_spec: Mapping[str, Any], node_name: str) -> dict[str, Any]:
    """The template's pod spec pinned to ``node_name`` with the daemon tolerations."""
    spec: dict[str, Any] = thaw(template_spec)
    spec["tolerations"] = _with_tolerations(template_spec)
    affinity = spec.setdefault("affinity", {})
    node_affinity = affinity.setdefault("nodeAffinity", {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
        "nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}
        ]
    }
    return spec


def _int_or_percent(value: Any, total: int, *, round_up: bool, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.endswith("%"):
        try:
            exact = int(text[:-1]) * total / 100
        except ValueError:
            return default
        return math.ceil(exact) if round_up else math.floor(exact)
    try:
        return int(text)
    except ValueError:
        return default


def rolling_update_victims(
    node_pods: Mapping[str, Sequence[Mapping[str, Any]]],
    current_hash: str,
    max_unavailable: int,
    min_ready: int,
    now: float,
) -> list[Mapping[str, Any]]:
    """Outdated pods to delete now: every unavailable old pod (it costs nothing), then available
    old pods while fewer than ``max_unavailable`` nodes lack an available pod."""
    unavailable_nodes = 0
    old_available: list[Mapping[str, Any]] = []
    victims: list[Mapping[str, Any]] = []
    for _node, pods in sorted(node_pods.items()):
        available = [p for p in pods if is_pod_available(p, min_ready, now)]
        old = [
            p
            for p in pods
            if (meta_of(p).get("labels") or {}).get(REVISION_HASH_LABEL) != current_hash
        ]
        if not available:
            unavailable_nodes += 1
            victims.extend(old)
            continue
        new_available = [p for p in available if p not in old]
        if new_available:
            continue  # the node already runs the new revision
        old_available.extend(old[:1])
    budget = max(0, max_unavailable - unavailable_nodes)
    victims.extend(old_available[:budget])
    return victims


class DaemonSetController:
    name = "daemonset-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.clock = ctx.clock
        self.recorder = ctx.recorder
        self.workers = ctx.options.workers
        self.queue: WorkQueue[str] = WorkQueue(name="daemonset", clock=ctx.clock)
        self.expectations = Expectations(ctx.clock)
        self.history = RevisionHistory(ctx.client, api_version="apps/v1", kind="DaemonSet")
        self.daemonsets = ctx.factory.informer(DAEMONSETS)
        self.nodes = ctx.factory.informer(NODES)
        self.pods = ctx.factory.informer(PODS)
        self.revisions = ctx.factory.informer(REVISIONS)
        self.daemonsets.add_handler(
            on_add=self._enqueue,
            on_update=lambda _o, n: self._enqueue(n),
            on_delete=self._ds_deleted,
        )
        self.nodes.add_handler(
            on_add=lambda _n: self._enqueue_all(),
            on_update=self._node_updated,
            on_delete=lambda _n: self._enqueue_all(),
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

    def _enqueue(self, ds: Mapping[str, Any]) -> None:
        self.queue.add(object_key(ds))

    def _ds_deleted(self, ds: FrozenDict) -> None:
        self.expectations.forget(object_key(ds))

    def _enqueue_all(self) -> None:
        for ds in self.daemonsets.lister.list():
            self.queue.add(object_key(ds))

    def _node_updated(self, old: FrozenDict, new: FrozenDict) -> None:
        if old is new:
            return
        o_meta, n_meta = meta_of(old), meta_of(new)
        if (
            o_meta.get("labels") != n_meta.get("labels")
            or (old.get("spec") or {}).get("taints") != (new.get("spec") or {}).get("taints")
            or (old.get("spec") or {}).get("unschedulable")
            != (new.get("spec") or {}).get("unschedulable")
        ):
            self._enqueue_all()

    def _owner_key(self, pod: Mapping[str, Any]) -> str | None:
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "DaemonSet":
            return None
        namespace = str(meta_of(pod).get("namespace") or "")
        ds = self.daemonsets.lister.get(str(ref.get("name") or ""), namespace=namespace)
        if ds is None or meta_of(ds).get("uid") != ref.get("uid"):
            return None
        return object_key(ds)

    def _pod_added(self, pod: FrozenDict) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)

    def _pod_updated(self, old: FrozenDict, new: FrozenDict) -> None:
        if old is new:
            return
        key = self._owner_key(new)
        if key is None:
            return
        if meta_of(new).get("deletionTimestamp") and not meta_of(old).get("deletionTimestamp"):
            self.expectations.deletion_observed(key, object_key(new))
        self.queue.add(key)
        if pod_ready(new) and not pod_ready(old):
            ns, name = split_key(key)
            ds = self.daemonsets.lister.get(name, namespace=ns)
            ds_spec = ds.get("spec") if ds is not None else None
            min_ready = int((ds_spec or {}).get("minReadySeconds") or 0)
            if min_ready:
                self.queue.add_after(key, min_ready + 1)

    def _pod_deleted(self, pod: FrozenDict) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, object_key(pod))
            self.queue.add(key)

    # ------------------------------------------------------------------ sync

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        cached = self.daemonsets.lister.get(name, namespace=namespace)
        if cached is None:
            self.expectations.forget(key)
            return
        ds = thaw(cached)
        spec = ds.get("spec") or {}
        try:
            selector = label_selector_from_object(spec.get("selector"))
        except SelectorError as e:
            log.warning("daemonset %s: invalid selector: %s", key, e)
            return
        if selector.empty:
            return
        owned = self.history.owned(ds, self.revisions.lister.list(namespace=namespace))
        current, owned = await self.history.ensure_current(
            ds, owned, collision_count=int((ds.get("status") or {}).get("collisionCount") or 0)
        )
        current_hash = hash_of(current)
        uid = meta_of(ds).get("uid")
        node_pods: dict[str, list[FrozenDict]] = {}
        for pod in self.pods.lister.list(namespace=namespace):
            if (controller_ref(pod) or {}).get("uid") != uid:
                continue
            node = _pod_node(pod)
            if node:
                node_pods.setdefault(node, []).append(pod)
        template_spec = (spec.get("template") or {}).get("spec") or {}
        nodes = self.nodes.lister.list()
        deleting = bool(meta_of(ds).get("deletionTimestamp"))
        if not deleting and self.expectations.satisfied(key):
            await self._manage(ds, key, current_hash, template_spec, nodes, node_pods)
        await self._update_status(ds, current_hash, template_spec, nodes, node_pods)
        limit = spec.get("revisionHistoryLimit")
        in_use = {current["metadata"]["name"]}
        hashes = {
            (meta_of(p).get("labels") or {}).get(REVISION_HASH_LABEL)
            for pods in node_pods.values()
            for p in pods
        }
        in_use |= {r["metadata"]["name"] for r in owned if hash_of(r) in hashes}
        await self.history.truncate(ds, owned, in_use, int(limit) if isinstance(limit, int) else 10)

    async def _manage(
        self,
        ds: dict[str, Any],
        key: str,
        current_hash: str,
        template_spec: Mapping[str, Any],
        nodes: Sequence[Mapping[str, Any]],
        node_pods: dict[str, list[FrozenDict]],
    ) -> None:
        create_on: list[str] = []
        delete: list[Mapping[str, Any]] = []
        node_names = set()
        for node in nodes:
            node_name = str(meta_of(node).get("name") or "")
            node_names.add(node_name)
            should_run, may_continue = node_should_run(template_spec, node)
            pods = [
                p for p in node_pods.get(node_name, []) if not meta_of(p).get("deletionTimestamp")
            ]
            failed = [p for p in pods if (p.get("status") or {}).get("phase") == "Failed"]
            running = [p for p in pods if p not in failed]
            delete.extend(failed)
            if should_run and not running:
                create_on.append(node_name)
            elif not may_continue:
                delete.extend(running)
            elif len(running) > 1:
                # keep the oldest, delete the rest
                running.sort(key=lambda p: str(meta_of(p).get("creationTimestamp") or ""))
                delete.extend(running[1:])
        for node_name, pods in node_pods.items():
            if node_name not in node_names:
                delete.extend(p for p in pods if not meta_of(p).get("deletionTimestamp"))
        strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            wanted = {
                n: [
                    p
                    for p in node_pods.get(n, [])
                    if not meta_of(p).get("deletionTimestamp") and p not in delete
                ]
                for n in node_names
                if node_should_run(template_spec, _by_name(nodes, n))[1]
            }
            wanted = {n: pods for n, pods in wanted.items() if pods}
            rolling = strategy.get("rollingUpdate") or {}
            max_unavailable = _int_or_percent(
                rolling.get("maxUnavailable"), len(wanted), round_up=True, default=1
            )
            min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
            delete.extend(
                rolling_update_victims(
                    wanted, current_hash, max(1, max_unavailable), min_ready, self.clock.time()
                )
            )
        await self._apply(ds, key, current_hash, create_on, delete)

    async def _apply(
        self,
        ds: dict[str, Any],
        key: str,
        current_hash: str,
        create_on: list[str],
        delete: list[Mapping[str, Any]],
    ) -> None:
        namespace = str(meta_of(ds).get("namespace") or "")
        seen: set[str] = set()
        unique = []
        for pod in delete:
            k = object_key(pod)
            if k not in seen:
                seen.add(k)
                unique.append(pod)
        if create_on:
            self.expectations.expect_creations(key, len(create_on))
        elif unique:
            self.expectations.expect_deletions(key, [object_key(p) for p in unique])
        template = (ds.get("spec") or {}).get("template") or {}
        tmeta = template.get("metadata") or {}

        async def create(node_name: str) -> None:
            labels = {**dict(tmeta.get("labels") or {}), REVISION_HASH_LABEL: current_hash}
            body_meta: dict[str, Any] = {
                "generateName": f"{meta_of(ds).get('name')}-",
                "labels": labels,
                "ownerReferences": [owner_reference(ds, api_version="apps/v1", kind="DaemonSet")],
            }
            if tmeta.get("annotations"):
                body_meta["annotations"] = thaw(tmeta["annotations"])
            body = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": body_meta,
                "spec": daemon_pod_spec(template.get("spec") or {}, node_name),
            }
            try:
                created = await self.client.create(PODS, body, namespace=namespace)
            except ApiError as e:
                self.expectations.creation_failed(key)
                self.recorder.event(ds, "Warning", "FailedCreate", f"Error creating: {e.message}")
                raise
            self.recorder.event(
                ds,
                "Normal",
                "SuccessfulCreate",
                f"Created pod: {created['metadata']['name']}",
            )

        async def remove(pod: Mapping[str, Any]) -> None:
            name = str(meta_of(pod).get("name"))
            try:
                await self.client.delete(PODS, name, namespace=namespace)
            except NotFound:
                self.expectations.deletion_observed(key, object_key(pod))
                return
            self.recorder.event(ds, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")

        results = await asyncio.gather(
            *(create(n) for n in create_on),
            *(remove(p) for p in (unique if not create_on else [])),
            return_exceptions=True,
        )
        if create_on and unique:
            self.queue.add(key)  # deletions next round, once the creations are observed
        for r in results:
            if isinstance(r, BaseException):
                raise r

    async def _update_status(
        self,
        ds: dict[str, Any],
        current_hash: str,
        template_spec: Mapping[str, Any],
        nodes: Sequence[Mapping[str, Any]],
        node_pods: dict[str, list[FrozenDict]],
    ) -> None:
        now = self.clock.time()
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        desired = current = misscheduled = ready = updated = available = 0
        for node in nodes:
            node_name = str(meta_of(node).get("name") or "")
            should_run, may_continue = node_should_run(template_spec, node)
            pods = [
                p for p in node_pods.get(node_name, []) if not meta_of(p).get("deletionTimestamp")
            ]
            if should_run or (may_continue and pods):
                desired += 1
                if pods:
                    current += 1
                    pod = pods[0]
                    if pod_ready(pod):
                        ready += 1
                    if is_pod_available(pod, min_ready, now):
                        available += 1
                    if (meta_of(pod).get("labels") or {}).get(REVISION_HASH_LABEL) == current_hash:
                        updated += 1
            elif pods:
                misscheduled += 1
        status: dict[str, Any] = {
            "desiredNumberScheduled": desired,
            "currentNumberScheduled": current,
            "numberMisscheduled": misscheduled,
            "numberReady": ready,
            "updatedNumberScheduled": updated,
            "numberAvailable": available,
            "numberUnavailable": max(0, desired - available),
            "observedGeneration": int(meta_of(ds).get("generation") or 0),
        }
        old = ds.get("status") or {}
        if old.get("collisionCount") is not None:
            status["collisionCount"] = old["collisionCount"]
        if {k: old.get(k, 0) for k in status} == status:
            return
        body = thaw(ds)
        body["status"] = status
        try:
            await self.client.update_status(
                DAEMONSETS, body, namespace=str(meta_of(ds).get("namespace") or "")
            )
        except NotFound:
            return


def _pod_node(pod: Mapping[str, Any]) -> str:
    """The node a daemon pod is for: its ``nodeName``, else the node its affinity pins."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in required.get("nodeSelectorTerms") or ():
        for req in term.get("matchFields") or ():
            if req.get("key") == "metadata.name" and req.get("operator") == "In":
                values = list(req.get("values") or [])
                if len(values) == 1:
                    return str(values[0])
    return ""


def _by_name(nodes: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    for node in nodes:
        if meta_of(node).get("name") == name:
            return node
    return {}
