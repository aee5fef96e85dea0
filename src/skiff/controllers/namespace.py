"""The namespace controller: empty a terminating namespace, then release its ``kubernetes`` finalizer.

Kubernetes' ``pkg/controller/namespace`` (``NamespacedResourcesDeleter``): when a namespace has a
``deletionTimestamp`` and still carries the ``kubernetes`` entry in ``spec.finalizers``, every
namespaced kind the server serves - asked of discovery on each pass, as Kubernetes'
``deleteAllContent`` calls ``ServerPreferredNamespacedResources``, so custom resources of a CRD
created a moment ago are included - is deleted (DELETE collection, so pods bound to a node get
their graceful deletion and wait for their agent; list and delete one by one where there is no
``deletecollection``) and listed again. A kind answering 404 or 405 (a CRD deleted meanwhile)
holds nothing. What remains (per resource, and the finalizers holding it) is reported in the
namespace's status conditions (``NamespaceContentRemaining``, ``NamespaceFinalizersRemaining``),
and so are failures: group/versions discovery could not read
(``NamespaceDeletionDiscoveryFailure``; the built-in kinds are still emptied when discovery fails
altogether) and kinds whose deletion or listing failed (``NamespaceDeletionContentFailure``:
"Failed to delete all resource types, N remaining: ..."). Once nothing is left and nothing failed
the controller PUTs ``/api/v1/namespaces/{name}/finalize`` without ``kubernetes``; the API server
deletes the namespace when no finalizer remains. Otherwise the namespace is looked at again every
``namespace_recheck`` seconds.

Handlers enqueue namespace names that are terminating; ``sync(name)`` reads the namespace from the
informer cache and does the rest with live requests (a cache could miss an object created just
before the namespace started terminating).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from skiff.api import resources
from skiff.api.duration import format_time
from skiff.api.resources import ResourceInfo
from skiff.client import (
    ApiError,
    Conflict,
    FrozenDict,
    MethodNotAllowed,
    NotFound,
    TransportError,
    WorkQueue,
    resolve,
    server_preferred_resources,
    thaw,
)
from skiff.controllers.base import ControllerContext, meta_of, run_workers

__all__ = ["NamespaceController", "Remaining", "namespaced_resources"]

log = logging.getLogger("skiff.controllers.namespace")

NAMESPACES = resolve(("v1", "Namespace"))
FINALIZER = "kubernetes"
PAGE = 500


def namespaced_resources() -> list[ResourceInfo]:
    """Every namespaced built-in kind a namespace's deletion must empty (Events included): what
    is emptied when discovery fails altogether."""
    return [
        info
        for info in resources.RESOURCES
        if info.namespaced
        and info.persisted
        and info.is_storage_version
        and {"list", "delete"} <= set(info.verbs)
    ]


class NamespaceController:
    name = "namespace-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.clock = ctx.clock
        self.workers = ctx.options.workers
        self.recheck = ctx.options.namespace_recheck
        self.queue: WorkQueue[str] = WorkQueue(name="namespace", clock=ctx.clock)
        self.namespaces = ctx.factory.informer(NAMESPACES)
        self.namespaces.add_handler(on_add=self._enqueue, on_update=lambda _o, n: self._enqueue(n))

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
        left = await self.delete_content(name)
        await self._report(name, left)
        if left.objects or left.errors or left.discovery_failures:
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

    async def resources(self, left: Remaining) -> list[ResourceInfo]:
        """The namespaced, deletable kinds served now (discovery failures noted in ``left``)."""
        try:
            found = await server_preferred_resources(self.client)
        except (ApiError, TransportError) as exc:
            left.discovery_failures[""] = f"discovery failed: {exc}"
            return namespaced_resources()
        left.discovery_failures.update(found.failed)
        return found.deletable(namespaced=True)

    async def delete_content(self, namespace: str) -> Remaining:
        """Delete everything in ``namespace``; returns what is still there afterwards."""
        left = Remaining()
        for info in await self.resources(left):
            try:
                await self._delete_all(info, namespace, left)
            except (NotFound, MethodNotAllowed):
                continue  # no longer served (a CRD deleted meanwhile): nothing of it is left
            except (ApiError, TransportError) as exc:
                left.errors.append(f"{info.group_resource}: {exc}")
        return left

    async def _delete_all(self, info: ResourceInfo, namespace: str, left: Remaining) -> None:
        if "deletecollection" in info.verbs:
            await self.client.delete_collection(info, namespace=namespace)
        else:
            listing = await self.client.list_all(info, namespace=namespace)
            for item in listing.get("items") or []:
                with contextlib.suppress(NotFound):
                    await self.client.delete(
                        info, str(meta_of(item).get("name")), namespace=namespace
                    )
        page = await self.client.list(info, namespace=namespace, limit=PAGE)
        items = page.get("items") or []
        count = len(items) + int(meta_of(page).get("remainingItemCount") or 0)
        if count:
            left.objects[info.group_resource] = count
        for item in items:
            for finalizer in meta_of(item).get("finalizers") or ():
                left.finalizers[str(finalizer)] = left.finalizers.get(str(finalizer), 0) + 1

    async def _report(self, name: str, left: Remaining) -> None:
        """Set the deletion conditions on the namespace's status, as Kubernetes' namespace
        controller does (``kubectl describe namespace`` shows them)."""
        try:
            live = await self.client.get(NAMESPACES, name)
        except NotFound:
            return
        status = live.setdefault("status", {})
        previous = list(status.get("conditions") or [])
        conditions = _conditions(previous, left, self.clock.time())
        if _strip(conditions) == _strip(previous):
            return
        status["conditions"] = conditions
        with contextlib.suppress(NotFound, Conflict):  # a later sync reports again
            await self.client.update_status(NAMESPACES, live)


@dataclass
class Remaining:
    """What a namespace still holds (objects per resource, and their finalizers) and what went
    wrong emptying it (kinds that failed, group/versions discovery could not read)."""

    objects: dict[str, int] = field(default_factory=dict)
    finalizers: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    discovery_failures: dict[str, str] = field(default_factory=dict)


def _conditions(previous: list[Any], left: Remaining, now: float) -> list[dict[str, Any]]:
    """The namespace's five deletion conditions (Kubernetes' ``deletion/status_condition_utils``
    types and reasons); a condition's transition time moves only when its status does."""
    content = ", ".join(
        f"{gr} has {n} resource instances" for gr, n in sorted(left.objects.items())
    )
    finalizers = ", ".join(
        f"{f} in {n} resource instances" for f, n in sorted(left.finalizers.items())
    )
    failures = left.discovery_failures
    if "" in failures:  # nothing could be discovered
        discovery = failures[""]
    else:
        failing = ", ".join(f"{gv}: {why}" for gv, why in sorted(failures.items()))
        discovery = (
            f"Discovery failed for some groups, {len(failures)} failing: unable to retrieve the "
            f"complete list of server APIs: {failing}"
        )
    errors = ", ".join(sorted(left.errors))
    wanted = [
        (
            "NamespaceDeletionDiscoveryFailure",
            "True",
            "DiscoveryFailed",
            discovery,
        )
        if left.discovery_failures
        else (
            "NamespaceDeletionDiscoveryFailure",
            "False",
            "ResourcesDiscovered",
            "All resources successfully discovered",
        ),
        (
            "NamespaceDeletionGroupVersionParsingFailure",
            "False",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
        (
            "NamespaceDeletionContentFailure",
            "True",
            "ContentDeletionFailed",
            f"Failed to delete all resource types, {len(left.errors)} remaining: {errors}",
        )
        if left.errors
        else (
            "NamespaceDeletionContentFailure",
            "False",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        ),
        (
            "NamespaceContentRemaining",
            "True" if content else "False",
            "SomeResourcesRemain" if content else "ContentRemoved",
            f"Some resources are remaining: {content}"
            if content
            else "All content successfully removed",
        ),
        (
            "NamespaceFinalizersRemaining",
            "True" if finalizers else "False",
            "SomeFinalizersRemain" if finalizers else "ContentHasNoFinalizers",
            f"Some content in the namespace has finalizers remaining: {finalizers}"
            if finalizers
            else "All content-preserving finalizers finished",
        ),
    ]
    old = {c.get("type"): c for c in previous}
    stamp = format_time(datetime.fromtimestamp(now, UTC))
    out = []
    for kind, status, reason, message in wanted:
        before = old.get(kind) or {}
        since = before.get("lastTransitionTime") if before.get("status") == status else None
        out.append(
            {
                "type": kind,
                "status": status,
                "lastTransitionTime": since or stamp,
                "reason": reason,
                "message": message,
            }
        )
    return out


def _strip(conditions: list[Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in conditions]
