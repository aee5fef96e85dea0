"""Garbage collection by ownerReferences, on informers and a work queue.

Kubernetes' garbage collector (``pkg/controller/garbagecollector``) in miniature:

- **Background** (the default): an object all of whose owners are gone is deleted; if some owner
  still exists, only the references to the missing owners are removed.
- **Foreground**: an owner being deleted with the ``foregroundDeletion`` finalizer gets its
  dependents deleted first; the finalizer is removed (and the owner goes) once no dependent with
  ``blockOwnerDeletion: true`` is left. A dependent whose only owners wait for their dependents is
  itself deleted (in the foreground if it has dependents of its own).
- **Orphan**: an owner being deleted with the ``orphan`` finalizer has its reference removed from
  every dependent, then the finalizer is removed.
- References to kinds this cluster does not serve (a custom resource whose definition is gone,
  say), and references from a cluster-scoped object to a namespaced kind, are unresolvable and
  left alone: such a dependent is never collected on their account. A namespaced owner is looked
  for in its dependent's namespace only (elsewhere it counts as absent).

It follows every kind the server serves except Events (Kubernetes ignores them too:
``garbagecollector.DefaultIgnoredResources``): the built-in kinds of ``skiff.api.resources`` from
the start (their informers come from the shared factory, synced before ``run``), and whatever else
discovery reports (custom resources), as Kubernetes' graph builder resyncs its monitors
(``GraphBuilder.syncMonitors``, run by ``GarbageCollector.Sync``): discovery is asked again every
``gc_discovery_period`` seconds and at once whenever a CustomResourceDefinition is added, changed
or deleted (the collector follows CRDs anyway), so a newly established kind is followed within
about a second. A kind that appears gets its own metadata-only informer (owned by the collector,
not the shared factory, so it can be stopped) and, once that informer synced, every object is
looked at again (a reference to that kind may now be resolved); a custom kind that disappears
from discovery has its informer stopped and its keys dropped.

Only ``metadata`` is read from cached objects (informers from
`skiff.controllers.base.metadata_informer`), so Secrets and pods are never cached whole. Two
indexes on each informer answer the graph's questions: owner uid -> dependents, and uid -> object.

Keys are `ObjectRef` (resource, namespace, name, uid): an object deleted and created again under
the same name is a different item. Handlers only enqueue: an object with owners or a deletion
finalizer, the dependents of an object that went away, and the foreground-deleting owners of an
object that changed. ``sync`` is level-triggered; every ``gc_resync`` seconds everything with owners
is enqueued again, so work lost to a conflict or a restart is picked up.

A cache may lag: an owner missing from its informer is looked up with a live GET before its
dependents are judged (Kubernetes' "virtual node" check), so a dependent created right after its
owner is never collected by mistake.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from skiff.api import resources
from skiff.api.resources import ResourceInfo
from skiff.client import (
    ApiError,
    Conflict,
    FrozenDict,
    Informer,
    NotFound,
    Preconditions,
    TransportError,
    WorkQueue,
    server_preferred_resources,
)
from skiff.controllers.base import (
    ControllerContext,
    meta_of,
    metadata_informer,
    run_workers,
)
from skiff.util.clock import wait_event

__all__ = ["GarbageCollector", "ObjectRef", "followed_resources"]

log = logging.getLogger("skiff.controllers.garbagecollector")

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
OWNER_INDEX = "gc-owner-uid"
UID_INDEX = "gc-uid"
IGNORED = frozenset({("", "events")})
CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")
# after a CRD changed, discovery is asked again this often until it shows every CRD's kind (the
# server may serve a just-established kind a moment after the CRD event reaches us)
REDISCOVER_RETRY = 0.5
REDISCOVER_TRIES = 20

Propagation = Literal["Orphan", "Background", "Foreground"]


@dataclass(frozen=True)
class ObjectRef:
    """A work-queue key: one object, by resource (group, plural), namespace, name and uid."""

    group: str
    plural: str
    namespace: str
    name: str
    uid: str

    @property
    def cache_key(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def _followable(info: ResourceInfo) -> bool:
    return {"list", "watch", "delete"} <= set(info.verbs) and (
        info.group,
        info.plural,
    ) not in IGNORED


def followed_resources() -> list[ResourceInfo]:
    """Every stored, listable, watchable and deletable built-in kind, once (preferred version),
    minus the ignored ones (custom kinds come from discovery at run time)."""
    out: list[ResourceInfo] = []
    for info in resources.RESOURCES:
        if not info.persisted or not info.is_storage_version:
            continue  # reviews are not stored; HPA v1 is the same objects as v2
        if _followable(info):
            out.append(info)
    return out


def _group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def _owner_uids(obj: FrozenDict) -> list[str]:
    return [
        str(r.get("uid"))
        for r in meta_of(obj).get("ownerReferences") or ()
        if isinstance(r, Mapping) and r.get("uid")
    ]


def _uid(obj: FrozenDict) -> list[str]:
    uid = meta_of(obj).get("uid")
    return [str(uid)] if uid else []


_INDEXERS = {OWNER_INDEX: _owner_uids, UID_INDEX: _uid}


def _finalizers(meta: Mapping[str, Any]) -> list[str]:
    return [str(f) for f in meta.get("finalizers") or ()]


def _deleting(meta: Mapping[str, Any]) -> bool:
    return bool(meta.get("deletionTimestamp"))


@dataclass(frozen=True)
class _Owner:
    ref: Mapping[str, Any]
    info: ResourceInfo
    state: Literal["solid", "dangling", "waiting"]


class GarbageCollector:
    name = "garbage-collector-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.clock = ctx.clock
        self.workers = ctx.options.gc_workers
        self.resync = ctx.options.gc_resync
        self.queue: WorkQueue[ObjectRef] = WorkQueue(name="garbagecollector", clock=ctx.clock)
        self.discovery_period = ctx.options.gc_discovery_period
        self.factory = ctx.factory
        self.informers: dict[tuple[str, str], Informer[FrozenDict]] = {}
        self.infos: dict[tuple[str, str], ResourceInfo] = {}
        self._by_kind: dict[tuple[str, str], ResourceInfo] = {}
        # informers of kinds found through discovery (custom resources): ours to start and stop
        self._dynamic: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._rediscover = asyncio.Event()
        self._tg: asyncio.TaskGroup | None = None
        for info in followed_resources():
            self._follow(info, metadata_informer(ctx.factory, info, indexers=_INDEXERS))
        crds = self.informers.get(CRD_KEY)
        if crds is not None:
            crds.add_handler(
                on_add=lambda _o: self._rediscover.set(),
                on_update=lambda _o, _n: self._rediscover.set(),
                on_delete=lambda _o: self._rediscover.set(),
            )

    def _follow(self, info: ResourceInfo, informer: Informer[FrozenDict]) -> None:
        key = (info.group, info.plural)
        self.informers[key] = informer
        self.infos[key] = info
        self._by_kind[(info.group, info.kind)] = info
        self._add_handlers(informer, info)

    def _add_handlers(self, informer: Informer[FrozenDict], info: ResourceInfo) -> None:
        def on_add(obj: FrozenDict) -> None:
            self._observe(info, obj)

        def on_update(old: FrozenDict, new: FrozenDict) -> None:
            self._changed(info, old, new)

        def on_delete(obj: FrozenDict) -> None:
            self._gone(info, obj)

        informer.add_handler(on_add=on_add, on_update=on_update, on_delete=on_delete)

    # ------------------------------------------------------------------ handlers (enqueue only)

    def _ref(self, info: ResourceInfo, obj: Mapping[str, Any]) -> ObjectRef | None:
        meta = meta_of(obj)
        name, uid = meta.get("name"), meta.get("uid")
        if not name or not uid:
            return None
        return ObjectRef(info.group, info.plural, str(meta.get("namespace") or ""), name, str(uid))

    def _enqueue(self, info: ResourceInfo, obj: Mapping[str, Any]) -> None:
        ref = self._ref(info, obj)
        if ref is not None:
            self.queue.add(ref)

    def _needs_work(self, obj: Mapping[str, Any]) -> bool:
        meta = meta_of(obj)
        if meta.get("ownerReferences"):
            return True
        return _deleting(meta) and bool({ORPHAN, FOREGROUND} & set(_finalizers(meta)))

    def _observe(self, info: ResourceInfo, obj: FrozenDict) -> None:
        if self._needs_work(obj):
            self._enqueue(info, obj)

    def _changed(self, info: ResourceInfo, old: FrozenDict, new: FrozenDict) -> None:
        self._observe(info, new)
        if old is not new:
            # an owner waiting for its dependents looks again when one of them changes
            self._enqueue_waiting_owners(new, set(_owner_uids(old)) | set(_owner_uids(new)))

    def _gone(self, info: ResourceInfo, obj: FrozenDict) -> None:
        meta = meta_of(obj)
        uid = str(meta.get("uid") or "")
        if uid:
            for dep_info, dep in self._dependents(uid, info, str(meta.get("namespace") or "")):
                self._enqueue(dep_info, dep)
        self._enqueue_waiting_owners(obj, set(_owner_uids(obj)))

    def _enqueue_waiting_owners(self, obj: Mapping[str, Any], uids: set[str]) -> None:
        if not uids:
            return
        for ref in meta_of(obj).get("ownerReferences") or ():
            if str(ref.get("uid")) not in uids:
                continue
            info = self._owner_info(ref)
            if info is None:
                continue
            owner = self._cached_by_uid(info, str(ref.get("uid")))
            if owner is not None and FOREGROUND in _finalizers(meta_of(owner)):
                self._enqueue(info, owner)

    # ------------------------------------------------------------------ cache queries

    def _owner_info(self, ref: Mapping[str, Any]) -> ResourceInfo | None:
        """The followed resource an ownerReference names (by group and kind: any served version
        names the same objects); None for kinds not served here."""
        group = _group_of(str(ref.get("apiVersion") or ""))
        return self._by_kind.get((group, str(ref.get("kind") or "")))

    def _cached_by_uid(self, info: ResourceInfo, uid: str) -> FrozenDict | None:
        informer = self.informers.get((info.group, info.plural))
        if informer is None:
            return None
        found = informer.indexer.by_index(UID_INDEX, uid)
        return found[0] if found else None

    def _dependents(
        self, uid: str, owner_info: ResourceInfo | None, namespace: str
    ) -> list[tuple[ResourceInfo, FrozenDict]]:
        """Cached objects naming ``uid`` as an owner (in the owner's namespace when it has one)."""
        out: list[tuple[ResourceInfo, FrozenDict]] = []
        for key, informer in self.informers.items():
            for dep in informer.indexer.by_index(OWNER_INDEX, uid):
                dep_namespace = str(meta_of(dep).get("namespace") or "")
                if owner_info is not None and owner_info.namespaced and dep_namespace != namespace:
                    continue
                out.append((self.infos[key], dep))
        return out

    def _blocks(self, dep: Mapping[str, Any], owner_uid: str) -> bool:
        return any(
            str(r.get("uid")) == owner_uid and bool(r.get("blockOwnerDeletion"))
            for r in meta_of(dep).get("ownerReferences") or ()
        )

    # ------------------------------------------------------------------ running

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            self._tg = tg
            tg.create_task(self._resync_loop(), name="garbagecollector-resync")
            tg.create_task(self._monitor_loop(), name="garbagecollector-monitors")
            try:
                await run_workers(self.queue, self.sync, self.workers, name="garbagecollector")
            finally:
                self.queue.shut_down()
                for task in self._dynamic.values():
                    task.cancel()

    # ------------------------------------------------------------------ monitors (discovery)

    async def _monitor_loop(self) -> None:
        """Follow what discovery reports: every ``discovery_period`` seconds, and soon after any
        CRD changes (retried briefly until every CRD's kind is served)."""
        tries = 0
        while True:
            try:
                complete = await self.sync_monitors()
            except (ApiError, TransportError) as exc:
                log.warning("garbage collector: discovery failed (%s); trying again later", exc)
                complete = False
            tries = 0 if complete else tries + 1
            if not complete and tries <= REDISCOVER_TRIES:
                await self.clock.sleep(REDISCOVER_RETRY)
                continue
            changed = await wait_event(self.clock, self._rediscover, self.discovery_period)
            self._rediscover.clear()
            # a CRD changed: retry until its kind is served; the periodic look does not retry
            # (a CRD refused its names is never served)
            tries = 0 if changed else REDISCOVER_TRIES

    async def sync_monitors(self) -> bool:
        """Start informers for newly served kinds and stop those of kinds no longer served;
        returns whether every CustomResourceDefinition the collector knows of was served."""
        discovered = await server_preferred_resources(self.client)
        served = {(i.group, i.plural): i for i in discovered.resources if _followable(i)}
        added: list[Informer[FrozenDict]] = []
        for key, info in served.items():
            if key in self._dynamic and self.infos[key].version != info.version:
                self._stop_dynamic(key)  # another version is preferred now (a CRD changed)
            if key not in self.informers:
                added.append(self._start_dynamic(info))
        for key in [k for k in self._dynamic if k not in served]:
            if any(gv.startswith(f"{key[0]}/") for gv in discovered.failed):
                continue  # not known to be gone: its group failed discovery
            self._stop_dynamic(key)
        if added:
            for informer in added:
                await informer.wait_for_sync(timeout=10)
            # references to the new kinds can be resolved now
            self.enqueue_all()
        return self._crds_served(served)

    def _crds_served(self, served: Mapping[tuple[str, str], ResourceInfo]) -> bool:
        crds = self.informers.get(CRD_KEY)
        if crds is None:
            return True
        names = {f"{plural}.{group}" for group, plural in served}
        for crd in crds.indexer.list():
            meta = meta_of(crd)
            if not _deleting(meta) and str(meta.get("name") or "") not in names:
                return False  # not established yet (or refused its names)
        return True

    def _start_dynamic(self, info: ResourceInfo) -> Informer[FrozenDict]:
        informer: Informer[FrozenDict] = Informer(
            self.client,
            info,
            clock=self.factory.clock,
            min_watch_timeout=self.factory.min_watch_timeout,
            metadata_only=True,
            indexers=_INDEXERS,
        )
        self._follow(info, informer)
        assert self._tg is not None
        key = (info.group, info.plural)
        self._dynamic[key] = self._tg.create_task(
            informer.run(), name=f"garbagecollector-monitor-{info.plural}.{info.group}"
        )
        log.info("garbage collector: following %s", info.group_resource)
        return informer

    def _stop_dynamic(self, key: tuple[str, str]) -> None:
        self._dynamic.pop(key).cancel()
        self.informers.pop(key, None)
        info = self.infos.pop(key, None)
        if info is not None:
            self._by_kind.pop((info.group, info.kind), None)
            log.info("garbage collector: no longer following %s", info.group_resource)

    async def _resync_loop(self) -> None:
        while True:
            await self.clock.sleep(self.resync)
            self.enqueue_all()

    def enqueue_all(self) -> None:
        """Enqueue every cached object with owners or a deletion finalizer (level-triggered)."""
        for key, informer in self.informers.items():
            info = self.infos[key]
            for obj in informer.indexer.list():
                self._observe(info, obj)

    # ------------------------------------------------------------------ sync

    async def sync(self, ref: ObjectRef) -> None:
        info = self.infos.get((ref.group, ref.plural))
        informer = self.informers.get((ref.group, ref.plural))
        if info is None or informer is None:
            return  # a kind no longer served
        obj = informer.indexer.get_by_key(ref.cache_key)
        if obj is None or str(meta_of(obj).get("uid") or "") != ref.uid:
            return  # gone (its dependents were enqueued when it went)
        meta = meta_of(obj)
        if _deleting(meta):
            finalizers = _finalizers(meta)
            if ORPHAN in finalizers:
                await self._orphan_dependents(info, ref, obj)
            elif FOREGROUND in finalizers:
                await self._delete_dependents_first(info, ref, obj)
            return
        await self._attempt_to_delete(info, ref, obj)

    async def _orphan_dependents(self, info: ResourceInfo, ref: ObjectRef, obj: FrozenDict) -> None:
        for dep_info, dep in self._dependents(ref.uid, info, ref.namespace):
            await self._drop_refs(dep_info, dep, {ref.uid})
        await self._remove_finalizer(info, obj, ORPHAN)

    async def _delete_dependents_first(
        self, info: ResourceInfo, ref: ObjectRef, obj: FrozenDict
    ) -> None:
        blocking = 0
        for dep_info, dep in self._dependents(ref.uid, info, ref.namespace):
            if self._blocks(dep, ref.uid):
                blocking += 1
            if not _deleting(meta_of(dep)):
                dep_uid = str(meta_of(dep).get("uid") or "")
                has_own = bool(self._dependents(dep_uid, dep_info, ref.namespace))
                await self._delete(dep_info, dep, "Foreground" if has_own else "Background")
        if not blocking:
            await self._remove_finalizer(info, obj, FOREGROUND)

    async def _attempt_to_delete(self, info: ResourceInfo, ref: ObjectRef, obj: FrozenDict) -> None:
        owners = [o async for o in self._classify(ref, meta_of(obj).get("ownerReferences") or ())]
        if not owners:
            return  # only owners of kinds not served here: not ours to judge
        solid = [o for o in owners if o.state == "solid"]
        if solid:
            gone = {str(o.ref.get("uid")) for o in owners if o.state != "solid"}
            if gone:
                await self._drop_refs(info, obj, gone)
            return
        waiting = any(o.state == "waiting" for o in owners)
        has_own = bool(self._dependents(ref.uid, info, ref.namespace))
        await self._delete(info, obj, "Foreground" if waiting and has_own else "Background")

    async def _classify(self, ref: ObjectRef, owner_refs: Iterable[Any]) -> AsyncIterator[_Owner]:
        for owner_ref in owner_refs:
            if not isinstance(owner_ref, Mapping) or not owner_ref.get("uid"):
                continue
            info = self._owner_info(owner_ref)
            if info is None or (info.namespaced and not ref.namespace):
                # a kind not served here, or a namespaced owner of a cluster-scoped object: an
                # unresolvable reference, never a reason to collect (Kubernetes 1.20+)
                continue
            yield _Owner(owner_ref, info, await self._owner_state(ref, info, owner_ref))

    async def _owner_state(
        self, ref: ObjectRef, info: ResourceInfo, owner_ref: Mapping[str, Any]
    ) -> Literal["solid", "dangling", "waiting"]:
        uid = str(owner_ref.get("uid"))
        meta: Mapping[str, Any] | None = None
        cached = self._cached_by_uid(info, uid)
        if cached is not None:
            cached_ns = str(meta_of(cached).get("namespace") or "")
            if not info.namespaced or cached_ns == ref.namespace:
                meta = meta_of(cached)
        if meta is None:
            # not (yet) in the cache: ask the server before calling it gone
            try:
                live = await self.client.get(
                    info,
                    str(owner_ref.get("name") or ""),
                    namespace=ref.namespace if info.namespaced else None,
                )
            except NotFound:
                return "dangling"
            meta = meta_of(live)
            if str(meta.get("uid") or "") != uid:
                return "dangling"
        if _deleting(meta) and FOREGROUND in _finalizers(meta):
            return "waiting"
        return "solid"

    # ------------------------------------------------------------------ writes

    async def _delete(
        self, info: ResourceInfo, obj: Mapping[str, Any], policy: Propagation
    ) -> None:
        meta = meta_of(obj)
        # NotFound: already gone; Conflict: replaced by a namesake we must not touch
        with contextlib.suppress(NotFound, Conflict):
            await self.client.delete(
                info,
                str(meta.get("name")),
                namespace=str(meta.get("namespace") or "") or None,
                propagation_policy=policy,
                preconditions=Preconditions(uid=str(meta.get("uid"))),
            )

    async def _drop_refs(self, info: ResourceInfo, obj: Mapping[str, Any], uids: set[str]) -> None:
        meta = meta_of(obj)
        refs = [r for r in meta.get("ownerReferences") or () if str(r.get("uid")) not in uids]
        await self._patch_meta(info, meta, {"ownerReferences": refs or None})

    async def _remove_finalizer(
        self, info: ResourceInfo, obj: Mapping[str, Any], finalizer: str
    ) -> None:
        meta = meta_of(obj)
        left = [f for f in _finalizers(meta) if f != finalizer]
        await self._patch_meta(info, meta, {"finalizers": left or None})

    async def _patch_meta(
        self, info: ResourceInfo, meta: Mapping[str, Any], changes: dict[str, Any]
    ) -> None:
        """A merge patch of ``metadata`` pinned to the resourceVersion read (409 if it moved on,
        and the key is retried against the newer state)."""
        patch = {"metadata": {"resourceVersion": str(meta.get("resourceVersion") or ""), **changes}}
        with contextlib.suppress(NotFound):
            await self.client.patch(
                info,
                str(meta.get("name")),
                patch,
                namespace=str(meta.get("namespace") or "") or None,
                patch_type="merge",
            )
