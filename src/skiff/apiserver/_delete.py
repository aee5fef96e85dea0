"""Delete and delete-collection for the generic registry.

Kubernetes: k8s.io/apiserver ``pkg/registry/generic/registry/store.go`` ``Delete`` (graceful
deletion and finalizers: ``updateForGracefulDeletionAndFinalizers``) and
``pkg/registry/rest/delete.go`` ``BeforeDelete``. What a delete does to an object of one kind
(grace, pending finalizers, phase) is its strategy's; this module only sequences it.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import TYPE_CHECKING, Any

from skiff.api.duration import format_time
from skiff.api.resources import ResourceInfo
from skiff.apiserver import objects
from skiff.apiserver._common import MAX_RETRIES
from skiff.apiserver._common import conversion as _conversion
from skiff.apiserver._common import ensure_meta as _meta
from skiff.apiserver.admission import AdmissionRequest
from skiff.apiserver.context import RequestContext
from skiff.apiserver.errors import NotFoundError, bad_request, conflict, not_found
from skiff.store import KeyValue

if TYPE_CHECKING:
    from skiff.apiserver.registry import ListOptions, Registry

__all__ = ["delete", "delete_collection"]


async def delete(
    reg: Registry,
    info: ResourceInfo,
    namespace: str,
    name: str,
    ctx: RequestContext,
    *,
    grace_period: int | None = None,
    propagation: str = "",
    preconditions: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], bool]:
    """Delete; returns (object, deleted_now). ``deleted_now`` is False when the object is
    only marked (a grace period, or finalizers still pending)."""
    key = objects.object_key(info, namespace, name)
    _, converted = _conversion(info)
    strategy = reg.strategy(info)
    if propagation and propagation not in ("Orphan", "Background", "Foreground"):
        raise bad_request(
            f'propagationPolicy "{propagation}" is not supported: use Orphan, Background or '
            "Foreground"
        )
    for _attempt in range(MAX_RETRIES):
        kv = await reg.cache.get(key)
        if kv is None:
            raise not_found(info, name)
        obj = reg.decode(kv)
        meta = _meta(obj)
        if preconditions:
            _check_delete_preconditions(info, name, preconditions, meta, kv)
        req = AdmissionRequest(
            info, "DELETE", namespace, name, None, obj, ctx.user, dry_run=ctx.dry_run
        )
        # mutating admission runs before validating admission, as for every other verb
        await reg.admission.mutate(req, reg)
        await reg.admission.validate(req, reg)
        new = copy.deepcopy(obj)
        nmeta = _meta(new)
        finalizers = list(meta.get("finalizers") or [])
        if propagation == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        elif propagation == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if finalizers:
            nmeta["finalizers"] = finalizers
        grace = strategy.delete_grace_seconds(obj, grace_period)
        if strategy.finalizers_pending(new) or grace > 0:
            already = nmeta.get("deletionTimestamp")
            when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=grace)
            if not already or grace < int(nmeta.get("deletionGracePeriodSeconds") or 0):
                # a shorter grace period may replace a longer one (kubectl delete
                # --grace-period)
                nmeta["deletionTimestamp"] = format_time(when)
                nmeta["deletionGracePeriodSeconds"] = grace
            strategy.prepare_for_delete(new, obj)
            if _same_meta(obj, new) and already:
                return reg._out(info, obj, converted), False
            if ctx.dry_run:
                return reg._out(info, new, converted), False
            nmeta.pop("resourceVersion", None)
            data = reg.transformer.to_storage(key, objects.encode(new))
            res = await reg.cache.update(key, data, expected_revision=kv.mod_revision)
            if not res.succeeded:
                continue
            nmeta["resourceVersion"] = str(res.revision)
            return reg._out(info, new, converted), False
        if ctx.dry_run:
            return reg._out(info, obj, converted), True
        result = await reg.cache.delete(key, expected_revision=kv.mod_revision)
        if not result.succeeded:
            continue
        meta["resourceVersion"] = str(result.revision)
        await strategy.after_delete(obj)
        return reg._out(info, obj, converted), True
    raise conflict(info, name, "too many concurrent writers; try again")


async def delete_collection(
    reg: Registry,
    info: ResourceInfo,
    namespace: str,
    opts: ListOptions,
    ctx: RequestContext,
    *,
    grace_period: int | None = None,
    propagation: str = "",
) -> tuple[list[dict[str, Any]], int]:
    items, rev, _ = await reg.list(info, namespace, opts)
    deleted: list[dict[str, Any]] = []
    for item in items:
        meta = item.get("metadata") or {}
        try:
            obj, _now = await delete(
                reg,
                info,
                str(meta.get("namespace") or ""),
                str(meta.get("name")),
                ctx,
                grace_period=grace_period,
                propagation=propagation,
            )
        except NotFoundError:
            continue
        deleted.append(obj)
    return deleted, rev


def _check_delete_preconditions(
    info: ResourceInfo,
    name: str,
    preconditions: dict[str, Any],
    meta: dict[str, Any],
    kv: KeyValue,
) -> None:
    uid = preconditions.get("uid")
    if uid and uid != meta.get("uid"):
        raise conflict(
            info,
            name,
            f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
            f"{meta.get('uid')}",
        )
    prv = preconditions.get("resourceVersion")
    if prv and str(prv) != str(kv.mod_revision):
        raise conflict(
            info,
            name,
            f"Precondition failed: ResourceVersion in precondition: {prv}, "
            f"ResourceVersion in object meta: {kv.mod_revision}",
        )


def _same_meta(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (a.get("metadata") or {}) == (b.get("metadata") or {})
