"""The generic registry: create, get, list, update, patch and delete for every served kind.

This is Kubernetes' ``genericregistry.Store`` in Python. Each verb runs the same pipeline:
decode structurally (schema), default, prepare (strategy), admit (mutating), validate, admit
(validating), then a compare-and-swap write. Updates and patches retry on a lost compare unless
the client pinned a resourceVersion, in which case the client gets 409 Conflict.

The registry knows no kind: every per-kind decision is a call on the kind's ``ResourceStrategy``
(``skiff.apiserver.strategies``; the call order is in docs/apiserver.md "Adding a kind"). Create,
get and list live here; update, patch and apply in ``_update``, delete in ``_delete``.

Reads are served from the watch cache; writes go to the store underneath it. A list or get
without a resourceVersion waits until the cache has seen every write acknowledged so far, so a
client always reads its own writes (Kubernetes 1.31's consistent reads from cache).
"""

from __future__ import annotations

import base64
import binascii
import builtins
import copy
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from skiff.api import resources as kinds
from skiff.api.conversion import convert
from skiff.api.defaults import apply_defaults
from skiff.api.field import FieldError
from skiff.api.patch import FieldSet, update_managed_fields
from skiff.api.resources import ResourceInfo
from skiff.api.selector import (
    FieldSelector,
    LabelSelector,
    parse_field_selector,
    parse_label_selector,
)
from skiff.apiserver import _delete, _update, crdschema, objects
from skiff.apiserver._common import conversion, patch_schema
from skiff.apiserver._common import ensure_meta as _meta
from skiff.apiserver._update import DecodeFailure, Mutate, PatchType, UpdateSpec
from skiff.apiserver.admission import AdmissionChain, AdmissionRequest
from skiff.apiserver.cachedobject import selector_match
from skiff.apiserver.context import RequestContext
from skiff.apiserver.errors import (
    AlreadyExistsError,
    GatewayTimeoutError,
    already_exists,
    bad_request,
    cannot_decode,
    expired,
    invalid,
    not_found,
)
from skiff.apiserver.schema import metadata_decode_error, structural_decode
from skiff.apiserver.strategies import GroupKind, ResourceStrategy, build_strategies, strategy_for
from skiff.apiserver.watchcache import CountingStore, WatchCache
from skiff.store import Compacted, FutureRevision, KeyExists, KeyValue, Revision, Store

__all__ = [
    "NAME_GENERATION_ATTEMPTS",
    "ListOptions",
    "PatchType",
    "Registry",
    "RequestContext",
    "UpdateSpec",
    "parse_resource_version",
    "patch_schema",
]

# the name watch.py imports
_conversion = conversion
# creates tried with a freshly generated name when ``generateName``'s pick is taken (Kubernetes'
# maxNameGenerationCreateAttempts: 1 + 7 retries)
NAME_GENERATION_ATTEMPTS = 8
# how long a read with a resourceVersion ahead of the store waits for it (then 504)
_TOO_LARGE_RV_WAIT = 3.0


@dataclass
class ListOptions:
    label_selector: str = ""
    field_selector: str = ""
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    resource_version_match: str = ""


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
    """All verbs over the watch cache (in front of the real store), for every kind.

    Per-kind behaviour comes only from the kind's ``ResourceStrategy`` (``strategy(info)``);
    ``strategies`` is the table from ``skiff.apiserver.strategies.build_strategies`` (the
    default one allocates nothing).
    """

    def __init__(
        self,
        cache: WatchCache,
        *,
        admission: AdmissionChain,
        transformer: objects.ValueTransformer | None = None,
        store: Store | None = None,
        wait_fresh: Callable[[int], Awaitable[None]] | None = None,
        strategies: Mapping[GroupKind, ResourceStrategy] | None = None,
    ) -> None:
        # reads and writes go through the watch cache (writes pass through to the store and
        # wait until the cache has seen them); ``store`` is the store underneath, for revisions
        # and reads older than the cache's window
        self.cache = cache
        self.store = store or cache
        self.admission = admission
        self.transformer = transformer or objects.IdentityTransformer()
        self._wait_fresh = wait_fresh
        self._strategies: dict[GroupKind, ResourceStrategy] = dict(
            build_strategies() if strategies is None else strategies
        )
        # every version of a kind shares its strategy; looked up per request, so memoized
        self._by_info: dict[ResourceInfo, ResourceStrategy] = {}

    # ---------------------------------------------------------------- helpers

    def strategy(self, info: ResourceInfo) -> ResourceStrategy:
        """The strategy of ``info``'s kind (a default one for a kind not in the table)."""
        found = self._by_info.get(info)
        if found is None:
            gk = GroupKind.of(info)
            found = self._strategies.get(gk)
            if found is None:
                found = self._strategies[gk] = strategy_for(info)
            self._by_info[info] = found
        return found

    def forget_kind(self, group: str, kind: str) -> None:
        """Drop the memoized strategy of a kind whose definition changed (custom resources)."""
        gk = GroupKind(group, kind)
        self._strategies.pop(gk, None)
        for info in [i for i in self._by_info if GroupKind.of(i) == gk]:
            del self._by_info[info]

    def decode(self, kv: KeyValue) -> dict[str, Any]:
        return objects.decode_kv(kv, self.transformer)

    def _out(self, info: ResourceInfo, obj: dict[str, Any], converted: bool) -> dict[str, Any]:
        return convert(obj, info.api_version) if converted else obj

    async def fresh(self) -> None:
        """Wait until the cache has every write acknowledged so far (read-your-writes)."""
        revision = self.store.current_revision()
        if self._wait_fresh is not None:
            await self._wait_fresh(int(revision))
        else:
            await self.cache.wait_for_revision(revision, timeout=10)

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
            self.check_metadata(info, filled)
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
        self.check_metadata(info, checked)
        return checked

    def check_metadata(self, info: ResourceInfo, obj: dict[str, Any]) -> None:
        """400 in Go's words when ``obj["metadata"]`` is there but not an object."""
        why = metadata_decode_error(info, obj)
        if why:
            raise cannot_decode(info, why)

    def _structural(
        self,
        info: ResourceInfo,
        body: dict[str, Any],
        ctx: RequestContext,
        *,
        decode_failure: DecodeFailure | None = None,
    ) -> dict[str, Any]:
        """``body`` decoded through its kind's model. What the decoder refuses is 400 in
        Kubernetes' words, or what ``decode_failure`` makes of it (a patch's 422)."""
        if info.custom is not None:
            return self._custom_structural(info, body, ctx)
        result = structural_decode(info, body, field_validation=ctx.field_validation)
        ctx.warnings.extend(result.warnings)
        if result.decode_error:
            if decode_failure is not None:
                raise decode_failure(body, result)
            raise cannot_decode(info, result.decode_error)
        if result.errors:
            name = str((body.get("metadata") or {}).get("name") or "")
            raise invalid(info, info.kind, name, result.errors)
        return result.obj

    def _custom_structural(
        self, info: ResourceInfo, body: dict[str, Any], ctx: RequestContext
    ) -> dict[str, Any]:
        """A custom object's decoding: metadata as ObjectMeta, and the fields its schema does
        not know reported under ``fieldValidation`` (they are pruned)."""
        meta, why, unknown = crdschema.decode_metadata(body.get("metadata"))
        if why:
            raise cannot_decode(info, why)
        pruned = copy.deepcopy(body)
        unknown += crdschema.prune(info.custom.version(info.version).schema, pruned)
        if unknown and ctx.field_validation == "Strict":
            listed = ", ".join(f'unknown field "{u}"' for u in unknown)
            raise cannot_decode(info, f"strict decoding error: {listed}")
        if unknown and ctx.field_validation == "Warn":
            ctx.warnings.extend(f'unknown field "{u}"' for u in unknown)
        if meta is not None:
            pruned["metadata"] = meta
        return pruned

    def _validate(
        self, info: ResourceInfo, obj: dict[str, Any], old: dict[str, Any] | None
    ) -> None:
        strategy = self.strategy(info)
        errors: list[FieldError] = (
            strategy.validate(obj) if old is None else strategy.validate_update(obj, old)
        )
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
            name = str(meta.get("name") or "")
            err = invalid(info, info.kind, name, errors)
            if info.custom is not None:
                # a custom resource's kind is qualified by its group in the message, as
                # upstream words it (details keep the bare kind and the group)
                err.message = f"{info.kind}.{info.group}{err.message[len(info.kind) :]}"
            raise err

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
        kwargs: dict[str, Any] = {"subresource": subresource} if subresource else {}
        if subresource == "status":
            # a status write owns status fields only; everything else is reset from the old object
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
        (server-side apply creating the object owns only what it applied).

        A create that names its object by ``metadata.generateName`` and finds the generated
        name taken is tried again with a new name, up to ``NAME_GENERATION_ATTEMPTS`` times in
        all (Kubernetes 1.32's RetryGenerateName, KEP-4420: k8s.io/apiserver
        ``registry/generic/registry/store.go`` ``createWithGenerateNameRetry``)."""
        meta = body.get("metadata") if isinstance(body, dict) else None
        generates = (
            isinstance(meta, dict) and not meta.get("name") and bool(meta.get("generateName"))
        )
        attempts = NAME_GENERATION_ATTEMPTS if generates else 1
        warnings = len(ctx.warnings)
        for attempt in range(1, attempts + 1):
            try:
                return await self._create(
                    info,
                    namespace,
                    body,
                    ctx,
                    skip_structural=skip_structural,
                    track_update=track_update,
                )
            except AlreadyExistsError:
                if attempt == attempts:
                    raise
                del ctx.warnings[warnings:]  # the next attempt warns again
        raise AssertionError("unreachable")  # pragma: no cover

    async def _create(
        self,
        info: ResourceInfo,
        namespace: str,
        body: Any,
        ctx: RequestContext,
        *,
        skip_structural: bool,
        track_update: bool,
    ) -> dict[str, Any]:
        """One attempt of ``create``; ``body`` is not modified."""
        body = self._check_type(info, body)
        meta = body.get("metadata")
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
        strategy = self.strategy(info)
        strategy.prepare_for_create(obj)
        name = str(meta.get("name") or "")
        req = AdmissionRequest(
            info, "CREATE", namespace, name, obj, None, ctx.user, dry_run=ctx.dry_run
        )
        await self.admission.mutate(req, self)
        self._validate(info, obj, None)
        await self.admission.validate(req, self)
        if not ctx.dry_run:
            await strategy.before_write(obj, None, ctx)
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
        """Wait until the cache has revision ``rv`` ("not older than rv"); 504 after 3 s."""
        try:
            await self.cache.wait_for_revision(Revision(rv), timeout=_TOO_LARGE_RV_WAIT)
        except FutureRevision:
            raise GatewayTimeoutError(
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
            ) from None
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
        source: Store = self.cache
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
        cached = None
        if not (field_sel and info.custom is not None):
            # (the watch cache precomputes built-in kinds' fields only: a custom resource's
            # field selector is matched below, through its strategy)
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
                if field_sel is not None and not field_sel.matches(
                    self.strategy(info).selectable_fields(obj)
                ):
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
        """A list page from the watch cache's memory, or None when it cannot answer (a
        ``revision`` other than the cache's current one).

        Selectors are evaluated on the cache's labels and fields, computed once per version of an
        object rather than once per request, and a field selector on an indexed field (pods'
        ``spec.nodeName``) reads only that value's objects. Only the items returned are decoded,
        each into a fresh dict the caller owns. Paging is the store scan's: the continue token
        names the last item returned, and is given whenever any key sorts after it.
        """
        cache = self.cache
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

    # ---------------------------------------------------------------- update / patch / delete
    # (the verbs live in _update.py and _delete.py, one module per verb family as kine's server)

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
        return await _update.update(self, info, namespace, name, body, ctx, subresource=subresource)

    async def guaranteed_update(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        mutate: Mutate,
        ctx: RequestContext,
        spec: UpdateSpec = _update.PLAIN_UPDATE,
    ) -> tuple[dict[str, Any], bool]:
        """Read, ``mutate``, prepare, admit, validate and compare-and-swap until the write wins
        (Kubernetes' ``GuaranteedUpdate``); ``spec`` says how. Returns (object, created)."""
        return await _update.guaranteed_update(self, info, namespace, name, mutate, ctx, spec)

    async def patch(
        self,
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
        """PATCH of any ``PatchType`` (``force`` only for apply). Returns (object, created)."""
        return await _update.patch(
            self,
            info,
            namespace,
            name,
            patch_type,
            patch,
            ctx,
            subresource=subresource,
            force=force,
        )

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
        """Delete; returns (object, deleted_now). ``deleted_now`` is False when the object is
        only marked (a grace period, or finalizers still pending)."""
        return await _delete.delete(
            self,
            info,
            namespace,
            name,
            ctx,
            grace_period=grace_period,
            propagation=propagation,
            preconditions=preconditions,
        )

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
        """Delete every object ``opts`` lists; returns (deleted or marked objects, list rv)."""
        return await _delete.delete_collection(
            self, info, namespace, opts, ctx, grace_period=grace_period, propagation=propagation
        )


_KIND_INFO: dict[str, ResourceInfo] = {}
for _r in kinds.RESOURCES:
    if _r.is_storage_version:
        _KIND_INFO.setdefault(_r.kind, _r)


def _info_for_kind(kind: str) -> ResourceInfo:
    return _KIND_INFO[kind]
