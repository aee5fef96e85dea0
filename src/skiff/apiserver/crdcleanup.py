"""The ``customresourcecleanup.apiextensions.k8s.io`` finalizer: a CRD being deleted first loses
every object of its kind, then the finalizer, then goes (apiextensions-apiserver
``pkg/controller/finalizer/crd_finalizer.go``). Run by the API server on each change of the
CRDs; a CRD whose objects are held by their own finalizers is checked again until they are
gone."""

from __future__ import annotations

import copy
import logging
from typing import Any

from skiff.api.resources import ResourceInfo
from skiff.apiserver.auth import UserInfo
from skiff.apiserver.context import RequestContext
from skiff.apiserver.crd import CLEANUP_FINALIZER, crd_info, custom_kind, names_status
from skiff.apiserver.errors import NotFoundError
from skiff.apiserver.objects import now_rfc3339
from skiff.apiserver.registry import ListOptions, Registry, UpdateSpec

__all__ = [
    "cleanup_terminating",
    "reconcile_names",
    "storage_info",
]

log = logging.getLogger(__name__)

_USER = UserInfo("system:apiserver", ("system:masters",))


def storage_info(crd: dict[str, Any]) -> ResourceInfo:
    """The resource a CRD's objects are stored under (its storage version)."""
    ck = custom_kind(crd)
    return ResourceInfo(
        group=ck.group,
        version=ck.storage_version,
        kind=ck.kind,
        plural=ck.plural,
        namespaced=ck.namespaced,
        custom=ck,
    )


async def cleanup_terminating(registry: Registry, crds: list[dict[str, Any]]) -> bool:
    """One pass over the CRDs marked for deletion that still have the cleanup finalizer:
    delete their objects and, once none is left, drop the finalizer (the CRD then goes).
    Returns whether some CRD still waits for its objects (call again shortly)."""
    pending = False
    for crd in crds:
        meta = crd.get("metadata") or {}
        if not meta.get("deletionTimestamp"):
            continue
        if CLEANUP_FINALIZER not in (meta.get("finalizers") or []):
            continue
        try:
            pending |= not await _cleanup(registry, crd)
        except NotFoundError:
            continue
        except Exception:
            log.exception("cleaning up CustomResourceDefinition %s failed", meta.get("name"))
            pending = True
    return pending


async def _cleanup(registry: Registry, crd: dict[str, Any]) -> bool:
    name = str((crd.get("metadata") or {}).get("name") or "")
    ctx = RequestContext(user=_USER, field_manager="skiff-apiserver")
    info = storage_info(crd)
    if not any(
        isinstance(c, dict) and c.get("type") == "Terminating"
        for c in (crd.get("status") or {}).get("conditions") or []
    ):

        def terminating(current: dict[str, Any]) -> dict[str, Any]:
            status = current.setdefault("status", {})
            conditions = [
                c for c in status.get("conditions") or [] if c.get("type") != "Terminating"
            ]
            conditions.append(
                {
                    "type": "Terminating",
                    "status": "True",
                    "lastTransitionTime": now_rfc3339(),
                    "reason": "InstanceDeletionInProgress",
                    "message": "CustomResource deletion is in progress",
                }
            )
            status["conditions"] = conditions
            return current

        spec = UpdateSpec(subresource="status")
        await registry.guaranteed_update(crd_info(), "", name, terminating, ctx, spec)
    if info.plural and info.version:
        await registry.delete_collection(info, "", ListOptions(), ctx)
        items, _, _ = await registry.list(info, "", ListOptions())
        if items:
            return False  # objects held by their own finalizers: check again

    def drop(current: dict[str, Any]) -> dict[str, Any]:
        meta = current.setdefault("metadata", {})
        meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != CLEANUP_FINALIZER]
        return current

    await registry.guaranteed_update(crd_info(), "", name, drop, ctx, UpdateSpec())
    return True


def _accepted(crd: dict[str, Any]) -> bool:
    return any(
        isinstance(c, dict) and c.get("type") == "NamesAccepted" and c.get("status") == "True"
        for c in (crd.get("status") or {}).get("conditions") or []
    )


async def reconcile_names(registry: Registry, crds: list[dict[str, Any]]) -> None:
    """Give a CRD whose names were refused its names once they are free (the CRD that held
    them went): the NamingConditionController's requeue of the other CRDs of a group."""
    ctx = RequestContext(user=_USER, field_manager="skiff-apiserver")
    for crd in crds:
        meta = crd.get("metadata") or {}
        if meta.get("deletionTimestamp") or _accepted(crd) or not crd.get("status"):
            continue
        trial = copy.deepcopy(crd)
        names_status(trial, crds, now_rfc3339())
        if not _accepted(trial):
            continue

        def accept(current: dict[str, Any]) -> dict[str, Any]:
            names_status(current, crds, now_rfc3339())
            return current

        try:
            await registry.guaranteed_update(
                crd_info(), "", str(meta.get("name")), accept, ctx, UpdateSpec(subresource="status")
            )
        except NotFoundError:
            continue
        except Exception:
            log.exception(
                "accepting the names of CustomResourceDefinition %s failed", meta.get("name")
            )
