"""The generic registry: create, get, list, update, patch and delete for every served kind.

This is Kubernetes' ``genericregistry.Store`` in Python. Each verb runs the same pipeline:
decode structurally (schema), default, prepare (strategy), admit (mutating), validate, admit
(validating), then a compare-and-swap write. Updates and patches retry on a lost compare unless
the client pinned a resourceVersion, in which case the client gets 409 Conflict.

Reads are served from the watch cache; writes go to the store underneath it. A list or get
without a resourceVersion waits until the cache has seen every write acknowledged so far, so a
client always reads its own writes (Kubernetes 1.31's consistent reads from cache).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import builtins
import copy
import datetime as dt
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from skiff.api import patch as patching
from skiff.api import resources as kinds
from skiff.api.conversion import convert
from skiff.api.defaults import apply_defaults
from skiff.api.duration import format_time
from skiff.api.field import FieldError
from skiff.api.patch import FieldSet, schema_for_model, update_managed_fields
from skiff.api.resources import ResourceInfo
from skiff.api.selector import (
    FieldSelector,
    LabelSelector,
    object_fields,
    parse_field_selector,
    parse_label_selector,
)
from skiff.api.types import model_for
from skiff.api.validation import validate
from skiff.apiserver import objects, strategy
from skiff.apiserver.admission import AdmissionChain, AdmissionRequest
from skiff.apiserver.auth import UserInfo
from skiff.apiserver.cachedobject import selector_match
from skiff.apiserver.errors import (
    STALE,
    ApiError,
    already_exists,
    bad_request,
    conflict,
    expired,
    invalid,
    not_found,
)
from skiff.apiserver.schema import structural_decode
from skiff.apiserver.watchcache import CountingStore, SelectingStore
from skiff.store import Compacted, KeyExists, KeyValue, Revision, Store

__all__ = [
    "ListOptions",
    "Registry",
    "RequestContext",
    "parse_resource_version",
    "patch_schema",
]

_MAX_RETRIES = 16


@dataclass
class RequestContext:
    """Per-request facts every verb needs."""

    user: UserInfo
    dry_run: bool = False
    field_manager: str = ""
    field_validation: str = "Strict"
    warnings: list[str] = field(default_factory=list)
    # whether the client named its field manager (server-side apply requires it)
    field_manager_given: bool = False


@dataclass
class ListOptions:
    label_selector: str = ""
    field_selector: str = ""
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    resource_version_match: str = ""


def _conversion(info: ResourceInfo) -> tuple[ResourceInfo, bool]:
    """The resource objects of ``info`` are stored as, and whether conversion is needed."""
    if info.storage_version and info.storage_version != info.version:
        stored = kinds.by_gvk(info.group, info.storage_version, info.kind)
        assert stored is not None
        return stored, True
    return info, False


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    return meta


def _encode_continue(revision: int, key: str) -> str:
    raw = orjson.dumps({"v": "skiff/1", "rv": revision, "start": key})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
        return int(data["rv"]), str(data["start"])
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise bad_request(
            "continue key is not valid: pass back the metadata.continue value of the previous "
            "list response unchanged"
        ) from None


def parse_resource_version(rv: str) -> int:
    if rv == "":
        return 0
    try:
        value = int(rv)
    except ValueError:
        raise bad_request(
            f'invalid resource version "{rv}": must be a non-negative integer'
        ) from None
    if value < 0:
        raise bad_request(f'invalid resource version "{rv}": must be a non-negative integer')
    return value


class Registry:
    """All verbs over one store (normally a WatchCache in front of the real store)."""

    def __init__(
        self,
        cache: Store,
        *,
        admission: AdmissionChain,
        transformer: objects.ValueTransformer | None = None,
        store: Store | None = None,
        wait_fresh: Callable[[int], Any] | None = None,
    ) -> None:
        # reads and writes go through the watch cache (writes pass through to the store and
        # wait until the cache has seen them); ``store`` is the store underneath, for revisions
        # and reads older than the cache's window
        self.cache = cache
        self.store = store or cache
        self.admission = admission
        self.transformer = transformer or objects.IdentityTransformer()
        self._wait_fresh = wait_fresh
        # per-kind hooks run after validation, before the write (allocation of pod CIDRs,
        # ClusterIPs, NodePorts); skipped for dry runs, which must not persist anything
        self.before_write: dict[
            str, Callable[[dict[str, Any], dict[str, Any] | None], Awaitable[None]]
        ] = {}
        # framed watch lines of recent events by revision, shared by fast-path watchers
        self.watch_lines: OrderedDict[int, bytes] = OrderedDict()

    # ---------------------------------------------------------------- helpers

    def decode(self, kv: KeyValue) -> dict[str, Any]:
        return objects.decode_kv(kv, self.transformer)

    def _out(self, info: ResourceInfo, obj: dict[str, Any], converted: bool) -> dict[str, Any]:
        return convert(obj, info.api_version) if converted else obj

    async def fresh(self) -> None:
        """Wait until the cache has every write acknowledged so far (read-your-writes)."""
        if self._wait_fresh is not None:
            await self._wait_fresh(int(self.store.current_revision()))

    async def get_object(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """Admission lookups: the stored object of ``kind`` (preferred version) or None."""
        info = _info_for_kind(kind)
        kv = await self.cache.get(objects.object_key(info, namespace, name))
        return self.decode(kv) if kv is not None else None

    async def list_objects(self, kind: str, namespace: str) -> list[dict[str, Any]]:
        info = _info_for_kind(kind)
        result = await self.cache.list(objects.collection_prefix(info, namespace))
        return [self.decode(kv) for kv in result.items]

    # ---------------------------------------------------------------- decode + validate

    def _check_type(self, info: ResourceInfo, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request(
                f"the request body must be a JSON or YAML object (a {info.kind}), not "
                f"{type(body).__name__}"
            )
        api_version = body.get("apiVersion")
        kind = body.get("kind")
        if api_version is None and kind is None:
            filled: dict[str, Any] = dict(body)
            filled["apiVersion"], filled["kind"] = info.api_version, info.kind
            return filled
        if api_version != info.api_version:
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({info.api_version})"
            )
        if kind != info.kind:
            raise bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({info.kind}) "
                f"for {info.group_resource}"
            )
        checked: dict[str, Any] = body
        return checked

    def _structural(
        self, info: ResourceInfo, body: dict[str, Any], ctx: RequestContext
    ) -> dict[str, Any]:
        result = structural_decode(info, body, field_validation=ctx.field_validation)
        ctx.warnings.extend(result.warnings)
        if result.errors:
            name = str((body.get("metadata") or {}).get("name") or "")
            raise invalid(info, info.kind, name, result.errors)
        return result.obj

    def _validate(
        self, info: ResourceInfo, obj: dict[str, Any], old: dict[str, Any] | None
    ) -> None:
        errors: list[FieldError] = validate(info.group, info.version, info.kind, obj, old)
        meta = obj.get("metadata") or {}
        if old is not None:
            old_meta = old.get("metadata") or {}
            if old_meta.get("deletionTimestamp"):
                added = set(meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
                if added:
                    errors.append(
                        FieldError.forbidden(
                            "metadata.finalizers",
                            "no new finalizers can be added if the object is being deleted, "
                            f"found new finalizers {sorted(added)!r}",
                        )
                    )
            for k in ("name", "namespace", "uid", "creationTimestamp"):
                if meta.get(k) != old_meta.get(k):
                    errors.append(
                        FieldError.invalid(f"metadata.{k}", meta.get(k), "field is immutable")
                    )
        if errors:
            raise invalid(info, info.kind, str(meta.get("name") or ""), errors)

    def _defaults(self, info: ResourceInfo, obj: dict[str, Any]) -> None:
        apply_defaults(info.group, info.version, info.kind, obj)

    def _managed(
        self,
        info: ResourceInfo,
        old: dict[str, Any] | None,
        new: dict[str, Any],
        ctx: RequestContext,
        *,
        subresource: str = "",
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if subresource == "status":
            # a status write owns status fields only; everything else is reset from the old object
            kwargs["subresource"] = "status"
            kwargs["ignored"] = FieldSet.from_paths(
                [(k,) for k in new if k not in ("status", "metadata", "apiVersion", "kind")]
                + [("metadata",)]
            )
        return update_managed_fields(
            old,
            new,
            manager=ctx.field_manager or "unknown",
            schema=patch_schema(info),
            api_version=info.api_version,
            now=objects.now_rfc3339(),
            **kwargs,
        )

    # ---------------------------------------------------------------- create

    async def create(
        self,
        info: ResourceInfo,
        namespace: str,
        body: Any,
        ctx: RequestContext,
        *,
        skip_structural: bool = False,
        track_update: bool = True,
    ) -> dict[str, Any]:
        """Create an object. ``track_update=False`` keeps the managedFields the caller computed
        (server-side apply creating the object owns only what it applied)."""
        body = self._check_type(info, body)
        meta = body.get("metadata")
        if meta is not None and not isinstance(meta, dict):
            raise invalid(
                info,
                info.kind,
                "",
                [FieldError.type_invalid("metadata", meta, "must be an object")],
            )
        if info.namespaced:
            body_ns = (meta or {}).get("namespace")
            if body_ns and namespace and body_ns != namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    f"the request ({body_ns} != {namespace})"
                )
        obj = body if skip_structural else self._structural(info, body, ctx)
        obj = copy.deepcopy(obj) if obj is body else obj
        meta = _meta(obj)
        if info.namespaced:
            meta["namespace"] = namespace or meta.get("namespace") or "default"
            namespace = meta["namespace"]
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = objects.generate_name(str(meta["generateName"]))
        for k in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "resourceVersion",
            "generation",
            "selfLink",
        ):
            meta.pop(k, None)
        self._defaults(info, obj)
        meta["uid"] = objects.new_uid()
        meta["creationTimestamp"] = objects.now_rfc3339()
        strategy.prepare_for_create(info, obj)
        name = str(meta.get("name") or "")
        req = AdmissionRequest(
            info, "CREATE", namespace, name, obj, None, ctx.user, dry_run=ctx.dry_run
        )
        await self.admission.mutate(req, self)
        self._validate(info, obj, None)
        await self.admission.validate(req, self)
        hook = self.before_write.get(info.kind)
        if hook is not None and not ctx.dry_run:
            await hook(obj, None)
        if track_update:
            obj = self._managed(info, None, obj, ctx)
        stored_info, converted = _conversion(info)
        stored = convert(obj, stored_info.api_version) if converted else obj
        key = objects.object_key(info, namespace, name)
        if ctx.dry_run:
            if await self.cache.get(key) is not None:
                raise already_exists(info, name)
            return obj
        data = self.transformer.to_storage(key, objects.encode(stored))
        try:
            rev = await self.cache.create(key, data)
        except KeyExists:
            raise already_exists(info, name) from None
        _meta(obj)["resourceVersion"] = str(rev)
        return obj

    # ---------------------------------------------------------------- get / list

    async def get(
        self, info: ResourceInfo, namespace: str, name: str, *, resource_version: str = ""
    ) -> dict[str, Any]:
        key = objects.object_key(info, namespace, name)
        rv = parse_resource_version(resource_version)
        if resource_version == "":
            await self.fresh()
            kv = await self.cache.get(key)
        elif rv == 0:
            kv = await self.cache.get(key)
        else:
            # "not older than rv" (Kubernetes' semantics for a get with a resourceVersion): the
            # cache answers once it has caught up to rv
            if rv > int(self.cache.current_revision()):
                await self._wait_revision(rv)
            kv = await self.cache.get(key)
        if kv is None:
            raise not_found(info, name)
        _, converted = _conversion(info)
        return self._out(info, self.decode(kv), converted)

    async def _wait_revision(self, rv: int) -> None:
        deadline = asyncio.get_running_loop().time() + 3
        while int(self.store.current_revision()) < rv:
            if asyncio.get_running_loop().time() > deadline:
                raise ApiError(
                    504,
                    "Timeout",
                    f"Too large resource version: {rv}, current: {self.store.current_revision()}",
                    details={
                        "causes": [
                            {
                                "reason": "ResourceVersionTooLarge",
                                "message": "Too large resource version",
                            }
                        ],
                        "retryAfterSeconds": 1,
                    },
                )
            await asyncio.sleep(0.05)
        await self.fresh()

    async def list(
        self, info: ResourceInfo, namespace: str, opts: ListOptions
    ) -> tuple[list[dict[str, Any]], int, str]:
        """Objects matching ``opts``: (items, list resourceVersion, continue token)."""
        items, rev, token, _remaining = await self.list_page(info, namespace, opts)
        return items, rev, token

    async def list_page(
        self, info: ResourceInfo, namespace: str, opts: ListOptions
    ) -> tuple[builtins.list[dict[str, Any]], int, str, int | None]:
        """Like ``list``, plus ``remainingItemCount`` when it is known (a limited list without
        selectors served from the watch cache), else None."""
        label_sel = parse_label_selector(opts.label_selector) if opts.label_selector else None
        field_sel = parse_field_selector(opts.field_selector) if opts.field_selector else None
        prefix = objects.collection_prefix(info, namespace)
        revision = 0
        start: str | None = None
        if opts.continue_token:
            revision, start = _decode_continue(opts.continue_token)
        rv = parse_resource_version(opts.resource_version)
        source = self.cache
        if not opts.continue_token:
            if opts.resource_version == "":
                await self.fresh()
            elif opts.resource_version_match == "Exact" and rv > 0:
                revision, source = rv, self.store
            elif rv > int(self.cache.current_revision()):
                await self._wait_revision(rv)
        else:
            source = self.store
        _, converted = _conversion(info)
        limit = opts.limit if opts.limit > 0 else 0
        cached = self._list_cached(
            info, prefix, revision, start, limit, label_sel, field_sel, converted
        )
        if cached is not None:
            return cached
        # a revision the watch cache no longer (or does not yet) hold: scan the store
        items: list[dict[str, Any]] = []
        token = ""
        list_rev = revision
        while True:
            page = max(limit - len(items), 0) if limit else 0
            if page and (label_sel or field_sel):
                page = max(page, 100)
            try:
                result = await source.list(
                    prefix, revision=Revision(revision), limit=page, continue_after=start
                )
            except Compacted as e:
                raise expired(
                    f"The provided continue parameter is too old to display a consistent list "
                    f"result. You can start a new list without the continue parameter, or use "
                    f"the continue token in this response to retrieve the remainder of the "
                    f"results. too old resource version: {revision} ({e.current})"
                ) from None
            list_rev = int(result.revision)
            revision = list_rev
            last_key = None
            for kv in result.items:
                last_key = kv.key
                obj = self.decode(kv)
                if label_sel is not None and not label_sel.matches(
                    (obj.get("metadata") or {}).get("labels") or {}
                ):
                    continue
                if field_sel is not None and not field_sel.matches(object_fields(info.kind, obj)):
                    continue
                items.append(self._out(info, obj, converted) if converted else obj)
                if limit and len(items) >= limit:
                    break
            if limit and len(items) >= limit:
                more = result.more or (last_key is not None and last_key != result.last_key)
                if more and last_key is not None:
                    token = _encode_continue(list_rev, last_key)
                break
            if not result.more:
                break
            start = result.last_key
        remaining: int | None = None
        if token and isinstance(source, CountingStore) and not (label_sel or field_sel) and items:
            last = objects.object_key(
                info,
                str(items[-1]["metadata"].get("namespace") or ""),
                str(items[-1]["metadata"]["name"]),
            )
            remaining = source.count_after(prefix, last)
        return items, list_rev, token, remaining

    def _list_cached(
        self,
        info: ResourceInfo,
        prefix: str,
        revision: int,
        start: str | None,
        limit: int,
        label_sel: LabelSelector | None,
        field_sel: FieldSelector | None,
        converted: bool,
    ) -> tuple[builtins.list[dict[str, Any]], int, str, int | None] | None:
        """A list page from the watch cache's memory, or None when it cannot answer (a plain
        store, or a ``revision`` other than the cache's current one).

        Selectors are evaluated on the cache's labels and fields, computed once per version of an
        object rather than once per request, and a field selector on an indexed field (pods'
        ``spec.nodeName``) reads only that value's objects. Only the items returned are decoded,
        each into a fresh dict the caller owns. Paging is the store scan's: the continue token
        names the last item returned, and is given whenever any key sorts after it.
        """
        cache = self.cache
        if not isinstance(cache, SelectingStore):
            return None
        if revision and revision != int(cache.current_revision()):
            return None
        index: tuple[str, str] | None = None
        if field_sel is not None:
            for name in sorted(cache.indexed_fields(prefix)):
                value = field_sel.requires_exact_match(name)
                if value is not None:
                    index = (name, value)
                    break
        selection = cache.select(
            prefix,
            match=selector_match(label_sel, field_sel),
            index=index,
            limit=limit,
            continue_after=start,
        )
        items = [self._out(info, self.decode(entry.kv), converted) for entry in selection.items]
        list_rev = int(selection.revision)
        token = ""
        remaining: int | None = None
        if selection.more:
            last = selection.items[-1].kv.key
            token = _encode_continue(list_rev, last)
            if label_sel is None and field_sel is None and isinstance(cache, CountingStore):
                remaining = cache.count_after(prefix, last)
        return items, list_rev, token, remaining

    # ---------------------------------------------------------------- update

    async def update(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        body: Any,
        ctx: RequestContext,
        *,
        subresource: str = "",
    ) -> tuple[dict[str, Any], bool]:
        """PUT: replace the object. Returns (object, created)."""
        body = self._check_type(info, body)
        meta = body.get("metadata") or {}
        if meta.get("name") and meta["name"] != name:
            raise bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({name})"
            )
        if info.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the "
                f"request ({meta['namespace']} != {namespace})"
            )
        obj = self._structural(info, body, ctx)
        want_rv = str((obj.get("metadata") or {}).get("resourceVersion") or "")

        def mutate(current: dict[str, Any]) -> dict[str, Any]:
            new = copy.deepcopy(obj)
            return new

        return await self.guaranteed_update(
            info,
            namespace,
            name,
            mutate,
            ctx,
            subresource=subresource,
            precondition_rv=want_rv,
            create_body=obj if _allow_create_on_update(info) and not subresource else None,
        )

    async def guaranteed_update(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        mutate: Callable[[dict[str, Any]], dict[str, Any]],
        ctx: RequestContext,
        *,
        subresource: str = "",
        precondition_rv: str = "",
        create_body: dict[str, Any] | None = None,
        structural: bool = False,
        operation_manager: Callable[[dict[str, Any] | None, dict[str, Any]], dict[str, Any]]
        | None = None,
    ) -> tuple[dict[str, Any], bool]:
        key = objects.object_key(info, namespace, name)
        stored_info, converted = _conversion(info)
        for _attempt in range(_MAX_RETRIES):
            kv = await self.cache.get(key)
            if kv is None:
                if create_body is not None:
                    try:
                        return await self.create(info, namespace, create_body, ctx), True
                    except ApiError as e:
                        if e.reason == "AlreadyExists":
                            continue
                        raise
                raise not_found(info, name)
            current = self.decode(kv)
            if converted:
                current = convert(current, info.api_version)
            if precondition_rv and precondition_rv != str(kv.mod_revision):
                raise conflict(info, name, STALE)
            new = mutate(copy.deepcopy(current))
            if structural:
                new = self._structural(info, new, ctx)
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
            self._defaults(info, new)
            if subresource == "status":
                strategy.prepare_status_update(info, new, current)
            elif subresource == "":
                strategy.prepare_for_update(info, new, current)
                if "managedFields" not in nmeta and "managedFields" in cmeta:
                    nmeta["managedFields"] = cmeta["managedFields"]
            req = AdmissionRequest(
                info, "UPDATE", namespace, name, new, current, ctx.user, subresource, ctx.dry_run
            )
            await self.admission.mutate(req, self)
            self._validate(info, new, current)
            await self.admission.validate(req, self)
            hook = self.before_write.get(info.kind)
            if hook is not None and not subresource and not ctx.dry_run:
                await hook(new, current)
            if operation_manager is not None:
                new = operation_manager(current, new)
            else:
                new = self._managed(info, current, new, ctx, subresource=subresource)
            nmeta = _meta(new)
            current_cmp = {k: v for k, v in current.items()}
            current_cmp["metadata"] = {
                k: v for k, v in cmeta.items() if k not in ("resourceVersion",)
            }
            if _same(current_cmp, new):
                nmeta["resourceVersion"] = str(kv.mod_revision)
                return new, False
            if ctx.dry_run:
                nmeta["resourceVersion"] = str(kv.mod_revision)
                return new, False
            if (
                nmeta.get("deletionTimestamp")
                and not nmeta.get("finalizers")
                and not (
                    info.kind == "Pod" and int(nmeta.get("deletionGracePeriodSeconds") or 0) > 0
                )
                and not (info.kind == "Namespace" and (new.get("spec") or {}).get("finalizers"))
            ):
                # the last finalizer is gone from an object being deleted: remove it now
                result = await self.cache.delete(key, expected_revision=kv.mod_revision)
                if not result.succeeded:
                    continue
                nmeta["resourceVersion"] = str(result.revision)
                return new, False
            stored = convert(new, stored_info.api_version) if converted else new
            data = self.transformer.to_storage(key, objects.encode(stored))
            res = await self.cache.update(key, data, expected_revision=kv.mod_revision)
            if res.succeeded:
                nmeta["resourceVersion"] = str(res.revision)
                return new, False
            if precondition_rv:
                raise conflict(info, name, STALE)
        raise conflict(info, name, "too many concurrent writers; try again")

    # ---------------------------------------------------------------- patch

    async def patch(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        patch_type: str,
        patch: Any,
        ctx: RequestContext,
        *,
        subresource: str = "",
        force: bool = False,
    ) -> tuple[dict[str, Any], bool]:
        if patch_type == "apply":
            return await self._apply(
                info, namespace, name, patch, ctx, subresource=subresource, force=force
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
                raise ApiError(e.code, e.reason, e.message) from None
            if not isinstance(result, dict):
                raise bad_request("the patch must leave an object")
            if patch_type == "json":
                rv = (result.get("metadata") or {}).get("resourceVersion")
                cur_rv = (current.get("metadata") or {}).get("resourceVersion")
                if rv and rv != cur_rv:
                    raise conflict(info, name, STALE)
            return result

        return await self.guaranteed_update(
            info,
            namespace,
            name,
            mutate,
            ctx,
            subresource=subresource,
            precondition_rv=precondition,
            structural=True,
        )

    async def _apply(
        self,
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
            raise ApiError(
                422,
                "Invalid",
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
        applied = self._check_type(info, patch)
        ameta = applied.get("metadata") or {}
        if ameta.get("name") and ameta["name"] != name:
            raise bad_request(
                f"the name of the object ({ameta['name']}) does not match the name on the URL ({name})"
            )
        # the applied configuration must itself be structurally valid
        check = structural_decode(info, applied, field_validation=ctx.field_validation)
        ctx.warnings.extend(check.warnings)
        if check.errors:
            errs = [e for e in check.errors if e.reason != "FieldValueRequired"]
            if errs:
                raise invalid(info, info.kind, name, errs)
        schema = patch_schema(info)
        now = objects.now_rfc3339()
        key = objects.object_key(info, namespace, name)
        kv = await self.cache.get(key)
        if kv is None:
            obj = patching.apply(
                None,
                applied,
                manager=ctx.field_manager,
                schema=schema,
                force=force,
                api_version=info.api_version,
                now=now,
            )
            obj.setdefault("metadata", {})["name"] = name
            try:
                return await self.create(info, namespace, obj, ctx, track_update=False), True
            except ApiError as e:
                if e.reason != "AlreadyExists":
                    raise

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
                raise ApiError(409, "Conflict", message, details={"causes": causes}) from None

        def keep(_old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
            return new

        return await self.guaranteed_update(
            info,
            namespace,
            name,
            mutate,
            ctx,
            subresource=subresource,
            structural=True,
            operation_manager=keep,
        )

    # ---------------------------------------------------------------- delete

    async def delete(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        ctx: RequestContext,
        *,
        grace_period: int | None = None,
        propagation: str = "",
        preconditions: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Delete; returns (object, deleted_now). ``deleted_now`` is False for graceful deletes."""
        key = objects.object_key(info, namespace, name)
        _, converted = _conversion(info)
        if propagation and propagation not in ("Orphan", "Background", "Foreground"):
            raise bad_request(
                f'propagationPolicy "{propagation}" is not supported: use Orphan, Background or '
                "Foreground"
            )
        for _attempt in range(_MAX_RETRIES):
            kv = await self.cache.get(key)
            if kv is None:
                raise not_found(info, name)
            obj = self.decode(kv)
            meta = _meta(obj)
            if preconditions:
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
            req = AdmissionRequest(
                info, "DELETE", namespace, name, None, obj, ctx.user, dry_run=ctx.dry_run
            )
            await self.admission.validate(req, self)
            await self.admission.mutate(req, self)
            finalizers = list(meta.get("finalizers") or [])
            if propagation == "Orphan" and "orphan" not in finalizers:
                finalizers.append("orphan")
            elif propagation == "Foreground" and "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
            grace = strategy.delete_grace_seconds(info, obj, grace_period)
            if info.kind == "Namespace":
                spec_finalizers = (obj.get("spec") or {}).get("finalizers") or []
                if spec_finalizers:
                    finalizers_pending = True
                else:
                    finalizers_pending = bool(finalizers)
            else:
                finalizers_pending = bool(finalizers)
            if finalizers_pending or grace > 0:
                new = copy.deepcopy(obj)
                nmeta = _meta(new)
                already = nmeta.get("deletionTimestamp")
                when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=grace)
                if not already:
                    nmeta["deletionTimestamp"] = format_time(when)
                    nmeta["deletionGracePeriodSeconds"] = grace
                    if info.has_status:
                        nmeta["generation"] = int(nmeta.get("generation") or 1) + 1
                elif grace < int(nmeta.get("deletionGracePeriodSeconds") or 0):
                    # a shorter grace period may replace a longer one (kubectl delete --grace-period)
                    nmeta["deletionTimestamp"] = format_time(when)
                    nmeta["deletionGracePeriodSeconds"] = grace
                if finalizers:
                    nmeta["finalizers"] = finalizers
                if info.kind == "Namespace":
                    new.setdefault("status", {})["phase"] = "Terminating"
                if _same_meta(obj, new) and already:
                    return self._out(info, obj, converted), False
                else:
                    if ctx.dry_run:
                        return self._out(info, new, converted), False
                    nmeta.pop("resourceVersion", None)
                    data = self.transformer.to_storage(key, objects.encode(new))
                    res = await self.cache.update(key, data, expected_revision=kv.mod_revision)
                    if not res.succeeded:
                        continue
                    nmeta["resourceVersion"] = str(res.revision)
                    return self._out(info, new, converted), False
            if ctx.dry_run:
                return self._out(info, obj, converted), True
            result = await self.cache.delete(key, expected_revision=kv.mod_revision)
            if not result.succeeded:
                continue
            meta["resourceVersion"] = str(result.revision)
            return self._out(info, obj, converted), True
        raise conflict(info, name, "too many concurrent writers; try again")

    async def delete_collection(
        self,
        info: ResourceInfo,
        namespace: str,
        opts: ListOptions,
        ctx: RequestContext,
        *,
        grace_period: int | None = None,
        propagation: str = "",
    ) -> tuple[builtins.list[dict[str, Any]], int]:
        items, rev, _ = await self.list(info, namespace, opts)
        deleted: builtins.list[dict[str, Any]] = []
        for item in items:
            meta = item.get("metadata") or {}
            try:
                obj, _now = await self.delete(
                    info,
                    str(meta.get("namespace") or ""),
                    str(meta.get("name")),
                    ctx,
                    grace_period=grace_period,
                    propagation=propagation,
                )
            except ApiError as e:
                if e.code == 404:
                    continue
                raise
            deleted.append(obj)
        return deleted, rev


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


def _same_meta(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (a.get("metadata") or {}) == (b.get("metadata") or {})


_KIND_INFO: dict[str, ResourceInfo] = {}
for _r in kinds.RESOURCES:
    if not _r.storage_version:
        _KIND_INFO.setdefault(_r.kind, _r)


def patch_schema(info: ResourceInfo) -> Any:
    """The patch/apply schema of a kind, from its model (cached by the patch package)."""
    model = model_for(info.group, info.version, info.kind)
    if model is None:  # pragma: no cover - every served kind has a model
        raise ApiError(500, "InternalError", f"no schema for {info.kind}")
    return schema_for_model(model)


def _info_for_kind(kind: str) -> ResourceInfo:
    return _KIND_INFO[kind]


def _allow_create_on_update(info: ResourceInfo) -> bool:
    # Kubernetes lets PUT create these (AllowCreateOnUpdate): endpoints, leases, events, RBAC
    return info.kind in (
        "Endpoints",
        "Lease",
        "Event",
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "PriorityClass",
    )
