"""The namespace controller: empty a terminating namespace, then release its ``kubernetes`` finalizer.

Kubernetes' ``pkg/controller/namespace`` (``NamespacedResourcesDeleter``): when a namespace has a
``deletionTimestamp`` and still carries the ``kubernetes`` entry in ``spec.finalizers``, every
namespaced kind in it is deleted (DELETE collection, so pods bound to a node get their graceful
deletion and wait for their agent) and listed again. Once nothing is left the controller PUTs
``/api/v1/namespaces/{name}/finalize`` without ``kubernetes``; the API server deletes the
namespace when no finalizer remains. While objects remain (pods waiting for their agents,
finalizers of other controllers) the namespace is looked at again every ``namespace_recheck``
seconds.

Handlers enqueue namespace names that are terminating; ``sync(name)`` reads the namespace from the
informer cache and does the rest with live requests (a cache could miss an object created just
before the namespace started terminating).
"""

from __future__ import annotations

import contextlib
import logging

from skiff.api import resources
from skiff.api.resources import ResourceInfo
from skiff.client import FrozenDict, NotFound, WorkQueue, resolve, thaw
from skiff.controllers.base import ControllerContext, meta_of, run_workers

__all__ = ["NamespaceController", "namespaced_resources"]

log = logging.getLogger("skiff.controllers.namespace")

NAMESPACES = resolve(("v1", "Namespace"))
FINALIZER = "kubernetes"


def namespaced_resources() -> list[ResourceInfo]:
    """Every namespaced kind a namespace's deletion must empty (Events included)."""
    return [
        info
        for info in resources.RESOURCES
        if info.namespaced
        and info.stored
        and not info.storage_version
        and {"list", "delete"} <= set(info.verbs)
    ]


class NamespaceController:
    name = "namespace-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.workers = ctx.options.workers
        self.recheck = ctx.options.namespace_recheck
        self.queue: WorkQueue[str] = WorkQueue(name="namespace", clock=ctx.clock)
        self.namespaces = ctx.factory.informer(NAMESPACES)
        self.namespaces.add_handler(on_add=self._enqueue, on_update=lambda _o, n: self._enqueue(n))
        self.resources = namespaced_resources()

    def _enqueue(self, ns: FrozenDict) -> None:
        meta = meta_of(ns)
        if meta.get("deletionTimestamp") and meta.get("name"):
            self.queue.add(str(meta["name"]))

    async def run(self) -> None:
        try:
            await run_workers(self.queue, self.sync, self.workers, name="namespace")
        finally:
            self.queue.shut_down()

    async def sync(self, name: str) -> None:
        ns = self.namespaces.lister.get(name)
        if ns is None or not meta_of(ns).get("deletionTimestamp"):
            return
        if FINALIZER not in ((ns.get("spec") or {}).get("finalizers") or ()):
            return  # our part is done; other finalizers' owners finish the namespace
        if await self.delete_content(name):
            self.queue.add_after(name, self.recheck)
            return
        try:
            live = await self.client.get(NAMESPACES, name)
        except NotFound:
            return
        spec = live.setdefault("spec", {})
        spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != FINALIZER]
        with contextlib.suppress(NotFound):
            await self.client.update_subresource(NAMESPACES, thaw(live), "finalize")
        log.info("namespace %s is empty; released its %r finalizer", name, FINALIZER)

    async def delete_content(self, namespace: str) -> int:
        """Delete everything in ``namespace``; returns how many kinds still hold objects."""
        remaining = 0
        for info in self.resources:
            if "deletecollection" in info.verbs:
                await self.client.delete_collection(info, namespace=namespace)
            else:
                listing = await self.client.list_all(info, namespace=namespace)
                for item in listing.get("items") or []:
                    with contextlib.suppress(NotFound):
                        await self.client.delete(
                            info, str(meta_of(item).get("name")), namespace=namespace
                        )
            left = await self.client.list(info, namespace=namespace, limit=1)
            if left.get("items"):
                remaining += 1
        return remaining
