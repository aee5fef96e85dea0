"""Garbage collection by ownerReferences, run inside the API server for now.

Kubernetes' garbage collector in miniature, fed by one watch on the watch cache:

- **Background** (the default): when an owner is gone, its dependents are deleted, unless another
  of their owners still exists, in which case only the dangling reference is removed.
- **Foreground**: an owner being deleted with the ``foregroundDeletion`` finalizer has its
  dependents deleted first; the finalizer is removed (and the owner goes) once none is left.
- **Orphan**: an owner being deleted with the ``orphan`` finalizer has its reference removed from
  every dependent, then the finalizer is removed.

An index (owner uid -> dependent keys) is built from one list of the cache and kept current from
the watch; every ``resync`` seconds all owners are checked again (level-triggered), so work lost to
a conflict or a restart is picked up. It moves to the controller-manager with the controllers.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from skiff.api import resources as kinds
from skiff.api.resources import ResourceInfo
from skiff.apiserver.auth import UserInfo
from skiff.apiserver.errors import AlreadyExistsError, ApiError, ConflictError, NotFoundError
from skiff.apiserver.objects import ROOT, parse_key
from skiff.apiserver.registry import Registry, RequestContext
from skiff.store import Event, EventType, Revision

__all__ = ["GarbageCollector"]

log = logging.getLogger("skiff.gc")

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"


class GarbageCollector:
    def __init__(self, registry: Registry, *, resync: float = 30.0) -> None:
        self.registry = registry
        self.resync = resync
        self.uid_key: dict[str, str] = {}
        self.key_uid: dict[str, str] = {}
        self.refs: dict[str, list[str]] = {}  # dependent key -> owner uids
        self.dependents: dict[str, set[str]] = {}  # owner uid -> dependent keys
        self.deleting: dict[str, list[str]] = {}  # key -> finalizers, for objects being deleted
        self.ctx = RequestContext(
            user=UserInfo("system:serviceaccount:kube-system:generic-garbage-collector"),
            field_manager="skiff-garbage-collector",
        )

    # ------------------------------------------------------------------ index

    def _forget(self, key: str) -> None:
        uid = self.key_uid.pop(key, None)
        if uid is not None and self.uid_key.get(uid) == key:
            del self.uid_key[uid]
        for owner in self.refs.pop(key, []):
            deps = self.dependents.get(owner)
            if deps is not None:
                deps.discard(key)
                if not deps:
                    del self.dependents[owner]
        self.deleting.pop(key, None)

    def _index(self, key: str, obj: dict[str, Any]) -> None:
        self._forget(key)
        meta = obj.get("metadata") or {}
        uid = str(meta.get("uid") or "")
        if uid:
            self.uid_key[uid] = key
            self.key_uid[key] = uid
        # only owners of served kinds count: a reference to a kind this server does not know
        # (a custom resource, say) must never get its dependent collected
        owners = [
            str(r.get("uid"))
            for r in meta.get("ownerReferences") or []
            if r.get("uid")
            and kinds.lookup(str(r.get("apiVersion") or ""), str(r.get("kind") or ""))
        ]
        if owners:
            self.refs[key] = owners
            for owner in owners:
                self.dependents.setdefault(owner, set()).add(key)
        if meta.get("deletionTimestamp"):
            self.deleting[key] = list(meta.get("finalizers") or [])

    # ------------------------------------------------------------------ loop

    async def run(self) -> None:
        while True:
            try:
                result = await self.registry.cache.list(ROOT)
                for kv in result.items:
                    if parse_key(kv.key) is not None:
                        self._index(kv.key, self.registry.decode(kv))
                await self.sweep()
                await self._follow(result.revision)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("garbage collector failed; starting over")
                await asyncio.sleep(1)

    async def _follow(self, revision: Revision) -> None:
        loop = asyncio.get_running_loop()
        async with self.registry.cache.watch(ROOT, revision=revision) as events:
            next_sweep = loop.time() + self.resync
            timer = loop.call_at(next_sweep, events.poke)
            try:
                while True:
                    batch = await events.next_batch()
                    if not batch and events.closed:
                        return
                    for event in batch:
                        await self._on_event(event)
                    if loop.time() >= next_sweep:
                        await self.sweep()
                        next_sweep = loop.time() + self.resync
                        timer.cancel()
                        timer = loop.call_at(next_sweep, events.poke)
            finally:
                timer.cancel()

    async def _on_event(self, event: Event) -> None:
        key = event.kv.key
        if parse_key(key) is None:
            return
        if event.type is EventType.DELETE:
            uid = self.key_uid.get(key)
            owners = self.refs.get(key, [])
            self._forget(key)
            if uid is not None:
                await self._owner_gone(uid)
            for owner in owners:
                await self._check_foreground(owner)
            return
        value = event.kv.value
        if (
            key not in self.refs
            and key not in self.deleting
            and self.registry.transformer.passthrough(key)
            and b'"ownerReferences"' not in value
            and b'"deletionTimestamp"' not in value
            and value.count(b'"uid":"') == 1
        ):
            # the common case (no owners, not being deleted): only the uid matters, and when
            # "uid" occurs once (no owner references, no label or data key named uid) it is the
            # object's own
            start = value.find(b'"uid":"') + 7
            uid = value[start : value.find(b'"', start)].decode()
            self._forget(key)
            self.uid_key[uid] = key
            self.key_uid[key] = uid
            return
        obj = self.registry.decode(event.kv)
        self._index(key, obj)
        uid = self.key_uid.get(key)
        if uid is not None and key in self.deleting:
            await self._handle_deleting(key, uid)
        for owner in self.refs.get(key, []):
            if owner not in self.uid_key:
                await self._dependent_of_missing(key)
                break

    async def sweep(self) -> None:
        """Level-triggered pass over everything the index says needs work."""
        for key in list(self.deleting):
            uid = self.key_uid.get(key)
            if uid is not None:
                await self._handle_deleting(key, uid)
        for key, owners in list(self.refs.items()):
            if any(owner not in self.uid_key for owner in owners):
                await self._dependent_of_missing(key)

    # ------------------------------------------------------------------ actions

    async def _handle_deleting(self, key: str, uid: str) -> None:
        finalizers = self.deleting.get(key, [])
        if ORPHAN in finalizers:
            for dep in sorted(self.dependents.get(uid, ())):
                await self._drop_refs(dep, {uid})
            await self._remove_finalizer(key, ORPHAN)
        elif FOREGROUND in finalizers:
            deps = sorted(self.dependents.get(uid, ()))
            for dep in deps:
                if dep not in self.deleting:
                    await self._delete(dep)
            await self._check_foreground(uid)

    async def _check_foreground(self, owner_uid: str) -> None:
        key = self.uid_key.get(owner_uid)
        if key is None or FOREGROUND not in self.deleting.get(key, []):
            return
        if not self.dependents.get(owner_uid):
            await self._remove_finalizer(key, FOREGROUND)

    async def _owner_gone(self, uid: str) -> None:
        for dep in sorted(self.dependents.get(uid, ())):
            await self._dependent_of_missing(dep)
        self.dependents.pop(uid, None)

    async def _dependent_of_missing(self, key: str) -> None:
        owners = self.refs.get(key, [])
        missing = {o for o in owners if o not in self.uid_key}
        if not missing:
            return
        if len(missing) == len(owners):
            await self._delete(key)
        else:
            await self._drop_refs(key, missing)

    async def _delete(self, key: str) -> None:
        where = parse_key(key)
        if where is None:
            return
        info, namespace, name = where
        try:
            await self.registry.delete(info, namespace, name, self.ctx, propagation="Background")
        except (NotFoundError, ConflictError, AlreadyExistsError):
            pass
        except ApiError as e:
            log.warning("garbage collector: deleting %s: %s", key, e.message)

    async def _drop_refs(self, key: str, uids: set[str]) -> None:
        where = parse_key(key)
        if where is None:
            return
        info, namespace, name = where

        def mutate(obj: dict[str, Any]) -> dict[str, Any]:
            meta = obj.setdefault("metadata", {})
            refs = [r for r in meta.get("ownerReferences") or [] if r.get("uid") not in uids]
            if refs:
                meta["ownerReferences"] = refs
            else:
                meta.pop("ownerReferences", None)
            return obj

        await self._update(info, namespace, name, mutate, key)

    async def _remove_finalizer(self, key: str, finalizer: str) -> None:
        where = parse_key(key)
        if where is None:
            return
        info, namespace, name = where

        def mutate(obj: dict[str, Any]) -> dict[str, Any]:
            meta = obj.setdefault("metadata", {})
            meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != finalizer]
            if not meta["finalizers"]:
                del meta["finalizers"]
            return obj

        await self._update(info, namespace, name, mutate, key)

    async def _update(
        self, info: ResourceInfo, namespace: str, name: str, mutate: Any, key: str
    ) -> None:
        try:
            await self.registry.guaranteed_update(info, namespace, name, mutate, self.ctx)
        except (NotFoundError, ConflictError, AlreadyExistsError):
            pass
        except ApiError as e:
            log.warning("garbage collector: updating %s: %s", key, e.message)
