"""Update, patch and server-side apply for the generic registry, over ``guaranteed_update``.

Kubernetes: k8s.io/apiserver ``pkg/registry/generic/registry/store.go`` ``Update`` and
``pkg/storage/etcd3/store.go`` ``GuaranteedUpdate``; ``pkg/registry/rest/update.go``
(``BeforeUpdate``: prepare, validate) and ``endpoints/handlers/patch.go`` (patches are applied
to the current object inside the retry loop, so a lost compare re-applies them to the new one).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import orjson

from skiff.api import patch as patching
from skiff.api.conversion import convert
from skiff.api.resources import ResourceInfo
from skiff.apiserver import objects
from skiff.apiserver._common import MAX_RETRIES, patch_schema
from skiff.apiserver._common import conversion as _conversion
from skiff.apiserver._common import ensure_meta as _meta
from skiff.apiserver.admission import AdmissionRequest
from skiff.apiserver.context import RequestContext
from skiff.apiserver.errors import (
    STALE,
    AlreadyExistsError,
    ApiError,
    ConflictError,
    InvalidError,
    api_error,
    bad_request,
    cannot_decode,
    conflict,
    invalid,
    not_found,
    patch_invalid,
)
from skiff.apiserver.schema import StructuralResult, go_format, structural_decode

if TYPE_CHECKING:
    from skiff.apiserver.registry import Registry

__all__ = [
    "PLAIN_UPDATE",
    "DecodeFailure",
    "ManagedFieldsFunc",
    "Mutate",
    "PatchType",
    "UpdateSpec",
    "apply",
    "guaranteed_update",
    "json_copy",
    "patch",
    "update",
]

PatchType = Literal["json", "merge", "strategic", "apply"]
"""JSON patch, JSON merge patch, strategic merge patch, server-side apply."""

Mutate = Callable[[dict[str, Any]], dict[str, Any]]
DecodeFailure = Callable[[dict[str, Any], StructuralResult], ApiError]
"""The error a write answers when its result does not decode (the object, the decode result)."""
ManagedFieldsFunc = Callable[[dict[str, Any] | None, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class UpdateSpec:
    """How ``guaranteed_update`` treats one update, besides its ``mutate`` function."""

    # "" for the main resource, "status" (or another subresource) for a subresource write
    subresource: str = ""
    # the resourceVersion the client pinned: a mismatch or a lost compare-and-swap answers 409
    # instead of rereading and retrying
    precondition_rv: str = ""
    # the body a PUT creates when the object is missing (kinds that allow create on update)
    create_body: dict[str, Any] | None = None
    # run the mutated object through structural decoding again (patches produce raw JSON)
    structural: bool = False
    # computes managedFields itself (server-side apply) instead of the update's tracking
    operation_manager: ManagedFieldsFunc | None = None
    # what a result that does not decode answers (None: 400 "cannot be handled as a ..."); a
    # patch answers 422 on field "patch", as Kubernetes' patch handler does
    decode_failure: DecodeFailure | None = None
    # the subresource a write of the main resource is recorded under in managedFields: "scale"
    # (Kubernetes' scale storage updates the parent, and its field manager records the entry
    # with ``subresource: scale`` and the parent's apiVersion)
    fields_subresource: str = ""
    # ``mutate`` ignores (and never changes) the stored object it is given: a plain PUT
    replaces: bool = False


PLAIN_UPDATE = UpdateSpec()


def json_copy(obj: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON-shaped object through orjson (several times cheaper than
    ``copy.deepcopy``); anything orjson cannot encode falls back to ``copy.deepcopy``."""
    try:
        out: dict[str, Any] = orjson.loads(orjson.dumps(obj))
    except TypeError:
        return copy.deepcopy(obj)
    return out


async def update(
    reg: Registry,
    info: ResourceInfo,
    namespace: str,
    name: str,
    body: Any,
    ctx: RequestContext,
    *,
    subresource: str = "",
) -> tuple[dict[str, Any], bool]:
    """PUT: replace the object. Returns (object, created)."""
    body = reg._check_type(info, body)
    meta = body.get("metadata") or {}
    if meta.get("name") and meta["name"] != name:
        raise bad_request(
            f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
        )
    if info.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
        raise bad_request(
            "the namespace of the provided object does not match the namespace sent on the "
            f"request ({meta['namespace']} != {namespace})"
        )
    obj = reg._structural(info, body, ctx)
    want_rv = str((obj.get("metadata") or {}).get("resourceVersion") or "")

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        return json_copy(obj)

    creates = reg.strategy(info).allow_create_on_update and not subresource
    return await guaranteed_update(
        reg,
        info,
        namespace,
        name,
        mutate,
        ctx,
        UpdateSpec(
            subresource=subresource,
            precondition_rv=want_rv,
            create_body=obj if creates else None,
            replaces=True,
        ),
    )


async def guaranteed_update(
    reg: Registry,
    info: ResourceInfo,
    namespace: str,
    name: str,
    mutate: Mutate,
    ctx: RequestContext,
    spec: UpdateSpec = PLAIN_UPDATE,
) -> tuple[dict[str, Any], bool]:
    """Read, ``mutate``, prepare, admit, validate and compare-and-swap until the write wins
    (Kubernetes' ``GuaranteedUpdate``). Returns (object, created). A lost compare rereads
    and retries up to ``MAX_RETRIES`` times (409 "too many concurrent writers" after),
    unless the client pinned a resourceVersion (409 at once)."""
    key = objects.object_key(info, namespace, name)
    stored_info, converted = _conversion(info)
    strategy = reg.strategy(info)
    for _attempt in range(MAX_RETRIES):
        kv = await reg.cache.get(key)
        if kv is None:
            if spec.create_body is not None:
                try:
                    return await reg.create(info, namespace, spec.create_body, ctx), True
                except AlreadyExistsError:
                    continue
            raise not_found(info, name)
        current = reg.decode(kv)
        if converted:
            current = convert(current, info.api_version)
        if spec.precondition_rv and spec.precondition_rv != str(kv.mod_revision):
            raise conflict(info, name, STALE)
        # a PUT's mutate ignores the stored object: no copy of it (a Lease renewal made two
        # deep copies, the largest share of its server CPU after the store)
        new = mutate(current if spec.replaces else json_copy(current))
        if spec.structural:
            new = reg._structural(info, new, ctx, decode_failure=spec.decode_failure)
        new["apiVersion"], new["kind"] = info.api_version, info.kind
        nmeta = _meta(new)
        cmeta = current.get("metadata") or {}
        # system fields always come from the stored object
        for k in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ):
            if k in cmeta:
                nmeta[k] = cmeta[k]
            else:
                nmeta.pop(k, None)
        nmeta.setdefault("name", name)
        if info.namespaced:
            nmeta.setdefault("namespace", namespace)
        nmeta.pop("resourceVersion", None)
        reg._defaults(info, new)
        if spec.subresource == "status":
            strategy.prepare_status_update(new, current)
        elif spec.subresource == "":
            strategy.prepare_for_update(new, current)
            if "managedFields" not in nmeta and "managedFields" in cmeta:
                nmeta["managedFields"] = cmeta["managedFields"]
        else:
            strategy.prepare_subresource_update(spec.subresource, new, current)
        req = AdmissionRequest(
            info,
            "UPDATE",
            namespace,
            name,
            new,
            current,
            ctx.user,
            spec.subresource,
            ctx.dry_run,
        )
        await reg.admission.mutate(req, reg)
        reg._validate(info, new, current)
        await reg.admission.validate(req, reg)
        if not spec.subresource and not ctx.dry_run:
            await strategy.before_write(new, current, ctx)
        if spec.operation_manager is not None:
            new = spec.operation_manager(current, new)
        else:
            new = reg._managed(
                info, current, new, ctx, subresource=spec.subresource or spec.fields_subresource
            )
        nmeta = _meta(new)
        current_cmp = {k: v for k, v in current.items()}
        current_cmp["metadata"] = {k: v for k, v in cmeta.items() if k not in ("resourceVersion",)}
        if _same(current_cmp, new):
            nmeta["resourceVersion"] = str(kv.mod_revision)
            return new, False
        if ctx.dry_run:
            nmeta["resourceVersion"] = str(kv.mod_revision)
            return new, False
        if strategy.should_delete_during_update(new, current):
            # the last finalizer is gone from an object being deleted: remove it now
            result = await reg.cache.delete(key, expected_revision=kv.mod_revision)
            if not result.succeeded:
                continue
            nmeta["resourceVersion"] = str(result.revision)
            await strategy.after_delete(new)
            return new, False
        stored = convert(new, stored_info.api_version) if converted else new
        data = reg.transformer.to_storage(key, objects.encode(stored))
        res = await reg.cache.update(key, data, expected_revision=kv.mod_revision)
        if res.succeeded:
            nmeta["resourceVersion"] = str(res.revision)
            return new, False
        if spec.precondition_rv:
            raise conflict(info, name, STALE)
    raise conflict(info, name, "too many concurrent writers; try again")


async def patch(
    reg: Registry,
    info: ResourceInfo,
    namespace: str,
    name: str,
    patch_type: PatchType,
    patch: Any,
    ctx: RequestContext,
    *,
    subresource: str = "",
    force: bool = False,
) -> tuple[dict[str, Any], bool]:
    if patch_type == "apply":
        return await apply(
            reg, info, namespace, name, patch, ctx, subresource=subresource, force=force
        )
    precondition = ""
    if isinstance(patch, dict):
        pm = patch.get("metadata")
        if isinstance(pm, dict) and pm.get("resourceVersion"):
            precondition = str(pm["resourceVersion"])

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        try:
            if patch_type == "json":
                if not isinstance(patch, list):
                    raise bad_request("a JSON patch must be a list of operations")
                result = patching.json_patch(current, patch)
            elif patch_type == "merge":
                result = patching.merge_patch(current, patch)
            elif patch_type == "strategic":
                if not isinstance(patch, dict):
                    raise bad_request("a strategic merge patch must be a JSON object")
                result = patching.strategic_merge_patch(current, patch, patch_schema(info))
            else:  # pragma: no cover - the HTTP layer checks the media type
                raise bad_request(f"unknown patch type {patch_type}")
        except patching.PatchError as e:
            raise api_error(e.code, e.reason, e.message) from None
        if not isinstance(result, dict):
            raise bad_request("the patch must leave an object")
        if patch_type == "json":
            meta = result.get("metadata")
            rv = meta.get("resourceVersion") if isinstance(meta, dict) else None
            cur_rv = (current.get("metadata") or {}).get("resourceVersion")
            if rv and rv != cur_rv:
                raise conflict(info, name, STALE)
        return result

    return await guaranteed_update(
        reg,
        info,
        namespace,
        name,
        mutate,
        ctx,
        UpdateSpec(
            subresource=subresource,
            precondition_rv=precondition,
            structural=True,
            decode_failure=_patch_failure(patch_type, patch),
        ),
    )


def _patch_failure(patch_type: PatchType, patch: Any) -> DecodeFailure:
    """How Kubernetes' patch handler reports a patched object that does not decode: 422 on
    field ``patch`` with the patched object's JSON (JSON and merge patches) and the decoder's
    words, or with the patch as Go prints it and the unstructured converter's words (strategic
    merge patches): k8s.io/apiserver pkg/endpoints/handlers/patch.go."""

    def failure(new: dict[str, Any], result: StructuralResult) -> ApiError:
        if patch_type == "strategic":
            return patch_invalid(go_format(patch), result.convert_error)
        return patch_invalid(orjson.dumps(new).decode(), result.decode_error)

    return failure


async def apply(
    reg: Registry,
    info: ResourceInfo,
    namespace: str,
    name: str,
    patch: Any,
    ctx: RequestContext,
    *,
    subresource: str,
    force: bool,
) -> tuple[dict[str, Any], bool]:
    if not ctx.field_manager_given:
        raise InvalidError(
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is '
            "required for apply patch (add ?fieldManager=<your tool's name>)",
            details={
                "group": "meta.k8s.io",
                "kind": "PatchOptions",
                "causes": [
                    {
                        "reason": "FieldValueRequired",
                        "message": "Required value: is required for apply patch",
                        "field": "fieldManager",
                    }
                ],
            },
        )
    applied = reg._check_type(info, patch)
    ameta = applied.get("metadata") or {}
    if ameta.get("name") and ameta["name"] != name:
        raise bad_request(
            f"the name of the object ({ameta['name']}) does not match the name on the URL ({name})"
        )
    # the applied configuration must itself be structurally valid
    check = structural_decode(info, applied, field_validation=ctx.field_validation)
    ctx.warnings.extend(check.warnings)
    if check.decode_error:
        raise cannot_decode(info, check.decode_error)
    if check.errors:
        errs = [e for e in check.errors if e.reason != "FieldValueRequired"]
        if errs:
            raise invalid(info, info.kind, name, errs)
    schema = patch_schema(info)
    now = objects.now_rfc3339()
    key = objects.object_key(info, namespace, name)
    kv = await reg.cache.get(key)
    if kv is None:
        try:
            obj = patching.apply(
                None,
                applied,
                manager=ctx.field_manager,
                schema=schema,
                force=force,
                api_version=info.api_version,
                now=now,
            )
        except patching.PatchError as e:
            # e.g. a list-map item without its key: the configuration does not fit the schema
            raise api_error(e.code, e.reason, e.message) from None
        obj.setdefault("metadata", {})["name"] = name
        try:
            return await reg.create(info, namespace, obj, ctx, track_update=False), True
        except AlreadyExistsError:
            pass

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        try:
            return patching.apply(
                current,
                applied,
                manager=ctx.field_manager,
                schema=schema,
                force=force,
                api_version=info.api_version,
                now=now,
            )
        except patching.ApplyConflict as e:
            message, causes = patching.conflict_status(e)
            raise ConflictError(message, details={"causes": causes}) from None
        except patching.PatchError as e:
            raise api_error(e.code, e.reason, e.message) from None

    def keep(_old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
        return new

    return await guaranteed_update(
        reg,
        info,
        namespace,
        name,
        mutate,
        ctx,
        UpdateSpec(subresource=subresource, structural=True, operation_manager=keep),
    )


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal apart from managedFields timestamps and resourceVersion."""
    if set(a) != set(b):
        return False
    for k in a:
        if k == "metadata":
            am = {x: y for x, y in a[k].items() if x not in ("resourceVersion", "managedFields")}
            bm = {x: y for x, y in b[k].items() if x not in ("resourceVersion", "managedFields")}
            if am != bm:
                return False
            if _fields_only(a[k].get("managedFields")) != _fields_only(b[k].get("managedFields")):
                return False
        elif a[k] != b[k]:
            return False
    return True


def _fields_only(entries: Any) -> Any:
    if not isinstance(entries, list):
        return entries
    return [
        {k: v for k, v in e.items() if k != "time"} if isinstance(e, dict) else e for e in entries
    ]
