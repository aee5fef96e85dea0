"""The HTTP face of the API server: an ASGI app speaking the Kubernetes REST API.

A plain ASGI entry (``_App``: starlette requests and responses, without its router) parses
``/api/v1/...`` and ``/apis/<group>/<version>/...`` paths itself (resources, namespaces, names
and subresources), authenticates the bearer token, authorizes, and
dispatches to the generic registry. Every failure leaves as a ``Status`` body with the right code;
an unexpected exception is logged and becomes a 500 Status without a traceback on the wire.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from skiff import KUBERNETES_VERSION
from skiff.api import resources as kinds
from skiff.api.resources import ResourceInfo
from skiff.api.selector import SelectorError, parse_label_selector, validate_field_selector
from skiff.apiserver import decode as decoding
from skiff.apiserver import discovery, openapi, subresources
from skiff.apiserver.audit import AuditLog
from skiff.apiserver.auth import AlwaysAllow, Attributes, Authorizer, TokenAuthenticator, UserInfo
from skiff.apiserver.encryption import DecryptError
from skiff.apiserver.errors import ApiError, bad_request, method_not_allowed, status_success
from skiff.apiserver.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from skiff.apiserver.metrics import ApiMetrics
from skiff.apiserver.negotiation import negotiate_as
from skiff.apiserver.registry import ListOptions, PatchType, Registry, RequestContext
from skiff.apiserver.reviews import answer_review
from skiff.apiserver.watch import WatchParams, watch_stream
from skiff.store import StoreError

__all__ = [
    "ApiServerApp",
    "Target",
    "build_app",
    "parse_resource_path",
]

log = logging.getLogger("skiff.apiserver")

JSON_CT = "application/json"
TABLE_CT = "application/json;as=Table;v=v1;g=meta.k8s.io"

PATCH_TYPES: dict[str, PatchType] = {
    decoding.JSON_PATCH: "json",
    decoding.MERGE_PATCH: "merge",
    decoding.STRATEGIC_PATCH: "strategic",
    decoding.APPLY_PATCH: "apply",
}

_TRUE = {"true", "1", "yes"}


def _bool(value: str | None) -> bool:
    return value is not None and value.strip().lower() in _TRUE


def _json(
    body: Any,
    status: int = 200,
    *,
    headers: dict[str, str] | None = None,
    content_type: str = JSON_CT,
) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type=content_type, headers=headers
    )


def _error(e: ApiError) -> Response:
    return _json(e.to_status(), e.code, headers=e.headers or None)


@dataclass
class Target:
    """What a resource path names."""

    info: ResourceInfo
    namespace: str
    name: str
    subresource: str


def _not_found_path(path: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        "the server could not find the requested resource",
        details={
            "causes": [
                {"reason": "UnexpectedServerResponse", "message": f"404 page not found: {path}"}
            ]
        },
    )


def parse_resource_path(path: str) -> tuple[str, str, Target | None]:
    """``(group, version, target)`` for a resource path; target None for ``/api/v1`` itself."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        raise _not_found_path(path)
    if parts[0] == "api":
        if len(parts) < 2:
            raise _not_found_path(path)
        group, version, rest = "", parts[1], parts[2:]
    else:
        if len(parts) < 3:
            raise _not_found_path(path)
        group, version, rest = parts[1], parts[2], parts[3:]
    if not rest:
        return group, version, None
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        info = kinds.by_resource(group, version, rest[2])
        if info is not None and info.namespaced:
            namespace, rest = rest[1], rest[2:]
    info = kinds.by_resource(group, version, rest[0])
    if info is None or len(rest) > 3:
        raise ApiError(
            404,
            "NotFound",
            "the server could not find the requested resource",
            details={
                "causes": [
                    {
                        "reason": "UnexpectedServerResponse",
                        "message": f"no resource {rest[0]!r} in {group or 'core'}/{version}",
                    }
                ]
            },
        )
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if sub and info.subresource(sub) is None:
        raise _not_found_path(path)
    return group, version, Target(info, namespace, name, sub)


class ApiServerApp:
    """Request handling state: registry, authn/authz, discovery address."""

    def __init__(
        self,
        registry: Registry,
        *,
        authenticator: TokenAuthenticator | None,
        authorizer: Authorizer | None = None,
        server_address: str = "127.0.0.1:6443",
        bookmark_interval: float = 5.0,
        ready: Any = None,
        metrics: ApiMetrics | None = None,
        audit: AuditLog | None = None,
        max_readonly_inflight: int = 400,
        max_mutating_inflight: int = 200,
    ) -> None:
        self.registry = registry
        self.authenticator = authenticator
        self.authorizer = authorizer or AlwaysAllow()
        self.server_address = server_address
        self.bookmark_interval = bookmark_interval
        self._ready = ready
        self.metrics: ApiMetrics | None = metrics
        self.audit: AuditLog | None = audit
        # Kubernetes' --max-requests-inflight / --max-mutating-requests-inflight (0: no limit)
        self.max_readonly_inflight = max_readonly_inflight
        self.max_mutating_inflight = max_mutating_inflight
        self._inflight = {False: 0, True: 0}

    # ------------------------------------------------------------- entry

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        received = time.time()
        response = await self._handle(request)
        if self.audit is not None:
            user = request.scope.get("skiff.user")
            self.audit.record(
                request.scope,
                user=user.name if isinstance(user, UserInfo) else "system:anonymous",
                groups=user.groups if isinstance(user, UserInfo) else (),
                code=response.status_code,
                received=received,
                finished=time.time(),
            )
        if b"pretty" in request.scope.get("query_string", b"") and _bool(
            request.query_params.get("pretty")
        ):
            response = _pretty(response)
        if self.metrics is not None:
            self.metrics.observe(request.scope, response.status_code, time.perf_counter() - started)
        return response

    async def _handle(self, request: Request) -> Response:
        path = request.scope["path"]
        try:
            if path in ("/healthz", "/livez", "/readyz") or path.startswith(
                ("/healthz/", "/livez/", "/readyz/")
            ):
                return self._health(path)
            user = self._authenticate(request)
            request.scope["skiff.user"] = user
            is_watch = b"watch" in request.scope.get("query_string", b"") and _bool(
                request.query_params.get("watch")
            )
            if is_watch:
                # watches are long-running and not counted against the in-flight limits
                return await self._route(request, path, user)
            mutating = request.method not in ("GET", "HEAD", "OPTIONS")
            limit = self.max_mutating_inflight if mutating else self.max_readonly_inflight
            if limit and self._inflight[mutating] >= limit:
                raise ApiError(
                    429,
                    "TooManyRequests",
                    "too many requests in flight; the server is overloaded, retry shortly",
                    details={"retryAfterSeconds": 1},
                    headers={"Retry-After": "1"},
                )
            self._inflight[mutating] += 1
            try:
                return await self._route(request, path, user)
            finally:
                self._inflight[mutating] -= 1
        except ApiError as e:
            return _error(e)
        except StoreError as e:
            # the store is closing or unreachable: a server-side condition the client may retry
            log.warning("store unavailable serving %s %s: %s", request.method, path, e)
            return _error(
                ApiError(
                    503,
                    "ServiceUnavailable",
                    f"the storage is not available: {e}",
                    headers={"Retry-After": "1"},
                )
            )
        except DecryptError as e:
            log.error("cannot decrypt a stored value: %s", e)
            return _error(ApiError(500, "InternalError", f"Internal error occurred: {e}"))
        except Exception:
            log.exception("internal error serving %s %s", request.method, path)
            return _error(
                ApiError(
                    500,
                    "InternalError",
                    "an internal error occurred; the server log has the details",
                )
            )

    def _health(self, path: str) -> Response:
        if path.startswith("/readyz") and self._ready is not None and not self._ready():
            return Response(
                b"[-]store not ready\nreadyz check failed\n", 500, media_type="text/plain"
            )
        return Response(b"ok", 200, media_type="text/plain")

    def _authenticate(self, request: Request) -> UserInfo:
        if self.authenticator is None:
            return UserInfo("system:anonymous", ("system:unauthenticated",))
        user = self.authenticator.authenticate(request.headers.get("authorization"))
        if user is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        return user

    async def _route(self, request: Request, path: str, user: UserInfo) -> Response:
        method = request.method
        if path in ("/version", "/version/"):
            return _json(_version())
        if path == "/metrics" and self.metrics is not None:
            return Response(self.metrics.render(), 200, media_type=METRICS_CONTENT_TYPE)
        if path in ("/api", "/api/"):
            return self._discovery(request, core=True)
        if path in ("/apis", "/apis/"):
            return self._discovery(request, core=False)
        if path.startswith("/openapi/"):
            return self._openapi(request, path)
        if path.startswith(("/api/", "/apis/")):
            parts = [p for p in path.split("/") if p]
            if parts[0] == "apis" and len(parts) == 2:
                return self._group(parts[1])
            group, version, target = parse_resource_path(path)
            if target is None:
                if method != "GET":
                    raise method_not_allowed(f"{method} is not supported on {path}")
                doc = discovery.api_resource_list(group, version)
                if doc is None:
                    raise _not_found_path(path)
                return _json(doc)
            return await self._resource(request, target, user)
        raise _not_found_path(path)

    # ------------------------------------------------------------- discovery

    def _discovery(self, request: Request, *, core: bool) -> Response:
        want = discovery.negotiate_discovery(request.headers.get("accept"))
        if want is not None:
            return _json(
                discovery.aggregated_discovery(core=core, version=want),
                content_type=discovery.discovery_content_type(want),
            )
        if core:
            return _json(discovery.api_versions(self.server_address))
        return _json(discovery.api_group_list())

    def _group(self, group: str) -> Response:
        doc = discovery.api_group_list()
        for g in doc["groups"]:
            if g["name"] == group:
                return _json({"kind": "APIGroup", "apiVersion": "v1", **g})
        raise _not_found_path(f"/apis/{group}")

    def _openapi(self, request: Request, path: str) -> Response:
        if path in ("/openapi/v3", "/openapi/v3/"):
            return _json(openapi.openapi_v3_index())
        if path.startswith("/openapi/v3/"):
            doc = openapi.openapi_v3_document(path[len("/openapi/v3/") :])
            if doc is None:
                raise _not_found_path(path)
            body, digest = doc
            headers = {"Etag": f'"{digest}"'}
            if request.query_params.get("hash") == digest:
                headers["Cache-Control"] = "public, immutable"
            return Response(body, 200, media_type=JSON_CT, headers=headers)
        # OpenAPI v2 is not served: kubectl falls back to v3 for everything it needs
        raise _not_found_path(path)

    # ------------------------------------------------------------- resources

    def _context(self, request: Request, user: UserInfo) -> RequestContext:
        q = request.query_params
        dry = q.getlist("dryRun")
        for d in dry:
            if d != "All":
                raise bad_request(f'invalid dry run value "{d}": the only supported value is "All"')
        fv = q.get("fieldValidation") or "Warn"
        if fv not in ("Strict", "Warn", "Ignore"):
            raise bad_request(
                f'fieldValidation "{fv}" is not supported: use Strict, Warn or Ignore'
            )
        manager = q.get("fieldManager") or _manager_from_agent(request.headers.get("user-agent"))
        if len(manager) > 128:
            raise bad_request("fieldManager may not be longer than 128 characters")
        return RequestContext(
            field_manager_given=bool(q.get("fieldManager")),
            user=user,
            dry_run=bool(dry),
            field_manager=manager,
            field_validation=fv,
        )

    def _authorize(self, request: Request, user: UserInfo, verb: str, t: Target) -> None:
        path = request.scope["path"]
        self._label(request.scope, verb, t)
        attrs = Attributes(
            user=user,
            verb=verb,
            api_group=t.info.group,
            api_version=t.info.version,
            resource=t.info.plural,
            subresource=t.subresource,
            namespace=t.namespace,
            name=t.name,
            path=path,
        )
        allowed, reason = self.authorizer.authorize(attrs)
        if not allowed:
            what = t.info.group_resource + (f"/{t.subresource}" if t.subresource else "")
            scope = f' in the namespace "{t.namespace}"' if t.namespace else " at the cluster scope"
            raise ApiError(
                403,
                "Forbidden",
                f'{what} is forbidden: User "{user.name}" cannot {verb} resource '
                f'"{t.info.plural}" in API group "{t.info.group}"{scope}'
                + (f": {reason}" if reason else ""),
            )

    async def _body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > decoding.MAX_BODY:
            raise decoding.too_large()
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > decoding.MAX_BODY:
                raise decoding.too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _label(scope: Scope, verb: str, t: Target) -> None:
        """Remember what the request is, for the metrics (read after the response)."""
        scope["skiff.verb"] = verb.upper()
        scope["skiff.group"] = t.info.group
        scope["skiff.resource"] = t.info.plural
        scope["skiff.subresource"] = t.subresource
        scope["skiff.namespace"] = t.namespace
        scope["skiff.name"] = t.name

    async def _resource(self, request: Request, t: Target, user: UserInfo) -> Response:
        method = request.method
        info = t.info
        if info.namespaced and t.name and not t.namespace:
            raise _not_found_path(request.scope["path"])
        if not info.namespaced and t.namespace:
            raise _not_found_path(request.scope["path"])
        if t.subresource:
            return await self._subresource(request, t, user)
        q = request.query_params
        if not info.stored:
            if method != "POST" or t.name:
                raise method_not_allowed(
                    f"{info.plural} only supports create: POST a {info.kind} to ask the question"
                )
            self._authorize(request, user, "create", t)
            body = decoding.decode_body(
                await self._body(request), request.headers.get("content-type")
            )
            review = answer_review(info, t.namespace, body, user, self.authorizer)
            return _json(review, 201)
        if not t.name:
            if method == "GET":
                watch = _bool(q.get("watch"))
                self._authorize(request, user, "watch" if watch else "list", t)
                if watch:
                    return self._watch(request, t)
                return await self._list(request, t)
            if method == "POST":
                self._authorize(request, user, "create", t)
                if info.namespaced and not t.namespace:
                    raise method_not_allowed(
                        f"create {info.plural} needs a namespace: POST to "
                        f"{info.gv.path_prefix}/namespaces/<namespace>/{info.plural}"
                    )
                ctx = self._context(request, user)
                body = decoding.decode_body(
                    await self._body(request), request.headers.get("content-type")
                )
                obj = await self.registry.create(info, t.namespace, body, ctx)
                return self._object_response(request, info, obj, 201, ctx)
            if method == "DELETE":
                self._authorize(request, user, "deletecollection", t)
                if "deletecollection" not in info.verbs:
                    raise method_not_allowed(f"deletecollection is not supported on {info.plural}")
                ctx = self._context(request, user)
                grace, propagation, _pre = await self._delete_options(request, ctx)
                opts = self._list_options(request)
                items, rev = await self.registry.delete_collection(
                    info, t.namespace, opts, ctx, grace_period=grace, propagation=propagation
                )
                return _json(
                    {
                        "kind": info.list_kind,
                        "apiVersion": info.api_version,
                        "metadata": {"resourceVersion": str(rev)},
                        "items": items,
                    }
                )
            raise method_not_allowed(f"{method} is not supported on a collection")
        # a named object
        if method == "GET":
            self._authorize(request, user, "get", t)
            obj = await self.registry.get(
                info, t.namespace, t.name, resource_version=q.get("resourceVersion", "")
            )
            return self._object_response(request, info, obj, 200, None)
        if method == "PUT":
            self._authorize(request, user, "update", t)
            ctx = self._context(request, user)
            body = decoding.decode_body(
                await self._body(request), request.headers.get("content-type")
            )
            obj, created = await self.registry.update(info, t.namespace, t.name, body, ctx)
            return self._object_response(request, info, obj, 201 if created else 200, ctx)
        if method == "PATCH":
            self._authorize(request, user, "patch", t)
            return await self._patch(request, t, user, "")
        if method == "DELETE":
            self._authorize(request, user, "delete", t)
            ctx = self._context(request, user)
            grace, propagation, pre = await self._delete_options(request, ctx)
            obj, now = await self.registry.delete(
                info,
                t.namespace,
                t.name,
                ctx,
                grace_period=grace,
                propagation=propagation,
                preconditions=pre,
            )
            if now and not self.registry.strategy(info).return_deleted_object:
                # Kubernetes' generic store answers an immediate delete with a Success Status
                uid = str((obj.get("metadata") or {}).get("uid") or "")
                return _json(status_success(info, t.name, uid))
            return self._object_response(request, info, obj, 200 if now else 202, ctx)
        raise method_not_allowed(f"{method} is not supported on {info.plural}/{t.name}")

    async def _patch(self, request: Request, t: Target, user: UserInfo, sub: str) -> Response:
        ctx = self._context(request, user)
        mt = decoding.media_type(request.headers.get("content-type"))
        patch_type = PATCH_TYPES.get(mt)
        if patch_type is None:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types "
                f"include: {', '.join(PATCH_TYPES)}",
            )
        force = _bool(request.query_params.get("force"))
        if force and patch_type != "apply":
            raise bad_request(
                "force may only be used with server-side apply "
                "(Content-Type: application/apply-patch+yaml)"
            )
        body = decoding.decode_body(await self._body(request), mt)
        obj, created = await self.registry.patch(
            t.info, t.namespace, t.name, patch_type, body, ctx, subresource=sub, force=force
        )
        return self._object_response(request, t.info, obj, 201 if created else 200, ctx)

    async def _delete_options(
        self, request: Request, ctx: RequestContext
    ) -> tuple[int | None, str, dict[str, Any] | None]:
        q = request.query_params
        grace: int | None = None
        propagation = q.get("propagationPolicy") or ""
        pre: dict[str, Any] | None = None
        raw = await self._body(request)
        if raw.strip():
            opts = decoding.decode_body(raw, request.headers.get("content-type"))
            if not isinstance(opts, dict):
                raise bad_request("the body of a DELETE must be a DeleteOptions object")
            if opts.get("gracePeriodSeconds") is not None:
                grace = _int(opts["gracePeriodSeconds"], "gracePeriodSeconds")
            propagation = opts.get("propagationPolicy") or propagation
            if opts.get("orphanDependents") is True and not propagation:
                propagation = "Orphan"
            pre = opts.get("preconditions") or None
            if opts.get("dryRun"):
                ctx.dry_run = True
        if q.get("gracePeriodSeconds") is not None:
            grace = _int(q["gracePeriodSeconds"], "gracePeriodSeconds")
        if _bool(q.get("orphanDependents")) and not propagation:
            propagation = "Orphan"
        return grace, propagation, pre

    def _list_options(self, request: Request) -> ListOptions:
        q = request.query_params
        limit = 0
        if q.get("limit"):
            limit = _int(q["limit"], "limit")
        opts = ListOptions(
            label_selector=q.get("labelSelector", ""),
            field_selector=q.get("fieldSelector", ""),
            limit=max(0, limit),
            continue_token=q.get("continue", ""),
            resource_version=q.get("resourceVersion", ""),
            resource_version_match=q.get("resourceVersionMatch", ""),
        )
        if opts.label_selector:
            try:
                parse_label_selector(opts.label_selector)
            except SelectorError as e:
                raise bad_request(str(e)) from None
        return opts

    async def _list(self, request: Request, t: Target) -> Response:
        opts = self._list_options(request)
        if opts.field_selector:
            try:
                validate_field_selector(t.info.kind, opts.field_selector)
            except SelectorError as e:
                raise bad_request(str(e)) from None
        items, rev, token, remaining = await self.registry.list_page(t.info, t.namespace, opts)
        table = negotiate_as(
            request.headers.get("accept"),
            group="meta.k8s.io",
            kind="Table",
            versions=("v1", "v1beta1"),
        )
        meta: dict[str, Any] = {"resourceVersion": str(rev)}
        if token:
            meta["continue"] = token
        if remaining is not None:
            meta["remainingItemCount"] = remaining
        if table:
            include = request.query_params.get("includeObject", "Metadata")
            body = self.registry.strategy(t.info).convert_to_table(
                items, include=include, version=table
            )
            body["metadata"] = meta
            return _json(body, content_type=f"application/json;as=Table;v={table};g=meta.k8s.io")
        # list items carry apiVersion/kind like the real server's typed lists
        return Response(
            orjson.dumps(
                {
                    "kind": t.info.list_kind,
                    "apiVersion": t.info.api_version,
                    "metadata": meta,
                    "items": items,
                }
            ),
            200,
            media_type=JSON_CT,
        )

    def _watch(self, request: Request, t: Target) -> Response:
        q = request.query_params
        try:
            if q.get("labelSelector"):
                parse_label_selector(q["labelSelector"])
            if q.get("fieldSelector"):
                validate_field_selector(t.info.kind, q["fieldSelector"])
        except SelectorError as e:
            raise bad_request(str(e)) from None
        timeout = 1800.0
        if q.get("timeoutSeconds"):
            timeout = float(_int(q["timeoutSeconds"], "timeoutSeconds"))
        table_version = negotiate_as(
            request.headers.get("accept"),
            group="meta.k8s.io",
            kind="Table",
            versions=("v1", "v1beta1"),
        )
        include = q.get("includeObject", "Metadata")
        table_fn = None
        if table_version:

            def table_fn(obj: dict[str, Any]) -> dict[str, Any]:
                return self.registry.strategy(t.info).convert_to_table(
                    [obj], include=include, version=table_version
                )

        params = WatchParams(
            resource_version=q.get("resourceVersion", ""),
            label_selector=q.get("labelSelector", ""),
            field_selector=q.get("fieldSelector", ""),
            bookmarks=_bool(q.get("allowWatchBookmarks")),
            timeout=timeout,
            table=table_fn,
            bookmark_interval=self.bookmark_interval,
        )
        ct = (
            f"application/json;as=Table;v={table_version};g=meta.k8s.io"
            if table_version
            else JSON_CT
        )

        gauge = self.metrics.longrunning.labels("WATCH") if self.metrics is not None else None

        async def body() -> AsyncIterator[bytes]:
            if gauge is not None:
                gauge.inc()
            try:
                async for chunk in watch_stream(self.registry, t.info, t.namespace, params):
                    yield chunk
            finally:
                if gauge is not None:
                    gauge.dec()

        return StreamingResponse(
            body(), 200, media_type=ct, headers={"Cache-Control": "no-cache, private"}
        )

    def _object_response(
        self,
        request: Request,
        info: ResourceInfo,
        obj: dict[str, Any],
        status: int,
        ctx: RequestContext | None,
    ) -> Response:
        headers: dict[str, str] = {}
        table = negotiate_as(
            request.headers.get("accept"),
            group="meta.k8s.io",
            kind="Table",
            versions=("v1", "v1beta1"),
        )
        if table and obj.get("kind") == info.kind:
            include = request.query_params.get("includeObject", "Metadata")
            body = self.registry.strategy(info).convert_to_table(
                [obj], include=include, version=table
            )
            resp = _json(
                body,
                status,
                headers=headers,
                content_type=f"application/json;as=Table;v={table};g=meta.k8s.io",
            )
        else:
            resp = _json(obj, status, headers=headers)
        if ctx is not None:
            for w in ctx.warnings:
                resp.raw_headers.append((b"warning", _warning(w).encode("latin-1", "replace")))
        return resp

    async def _subresource(self, request: Request, t: Target, user: UserInfo) -> Response:
        info, sub, method = t.info, t.subresource, request.method
        if sub in ("status", "finalize"):
            if method == "GET" and sub == "status":
                self._authorize(request, user, "get", t)
                obj = await self.registry.get(info, t.namespace, t.name)
                return self._object_response(request, info, obj, 200, None)
            if method == "PUT":
                self._authorize(request, user, "update", t)
                ctx = self._context(request, user)
                body = decoding.decode_body(
                    await self._body(request), request.headers.get("content-type")
                )
                if sub == "finalize":
                    obj = await subresources.finalize_namespace(self.registry, t.name, body, ctx)
                    return self._object_response(request, info, obj, 200, ctx)
                obj, _ = await self.registry.update(
                    info, t.namespace, t.name, body, ctx, subresource="status"
                )
                return self._object_response(request, info, obj, 200, ctx)
            if method == "PATCH" and sub == "status":
                self._authorize(request, user, "patch", t)
                return await self._patch(request, t, user, "status")
        elif sub == "scale":
            ctx = self._context(request, user)
            if method == "GET":
                self._authorize(request, user, "get", t)
                return _json(await subresources.get_scale(self.registry, info, t.namespace, t.name))
            if method in ("PUT", "PATCH"):
                self._authorize(request, user, "update" if method == "PUT" else "patch", t)
                raw = await self._body(request)
                ct = request.headers.get("content-type")
                body = decoding.decode_body(raw, ct)
                if method == "PUT":
                    scale = await subresources.update_scale(
                        self.registry, info, t.namespace, t.name, body, ctx
                    )
                else:
                    patch_type = PATCH_TYPES.get(decoding.media_type(ct))
                    if patch_type is None or patch_type == "apply":
                        raise ApiError(
                            415,
                            "UnsupportedMediaType",
                            "scale accepts json, merge and strategic merge patches",
                        )
                    scale = await subresources.patch_scale(
                        self.registry, info, t.namespace, t.name, patch_type, body, ctx
                    )
                return _json(scale)
        elif sub == "binding" and method == "POST":
            self._authorize(request, user, "create", t)
            ctx = self._context(request, user)
            body = decoding.decode_body(
                await self._body(request), request.headers.get("content-type")
            )
            await subresources.bind(self.registry, t.namespace, t.name, body, ctx)
            return _json(status_success(), 201)
        elif sub == "eviction" and method == "POST":
            self._authorize(request, user, "create", t)
            ctx = self._context(request, user)
            body = decoding.decode_body(
                await self._body(request), request.headers.get("content-type")
            )
            await subresources.evict(self.registry, t.namespace, t.name, body, ctx)
            return _json(status_success(), 201)
        raise method_not_allowed(f"{method} is not supported on {info.plural}/{sub}")


def _pretty(response: Response) -> Response:
    """``?pretty=true``: the same JSON, indented (not for streams)."""
    if isinstance(response, StreamingResponse) or not (response.media_type or "").startswith(
        "application/json"
    ):
        return response
    body = orjson.dumps(orjson.loads(response.body), option=orjson.OPT_INDENT_2) + b"\n"
    pretty = Response(body, response.status_code, media_type=response.media_type)
    for name, value in response.raw_headers:
        if name.lower() not in (b"content-length", b"content-type"):
            pretty.raw_headers.append((name, value))
    return pretty


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"{name} must be an integer, got {value!r}") from None


def _warning(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'


def _manager_from_agent(agent: str | None) -> str:
    """Kubernetes' default field manager: the user agent up to its first '/'."""
    if not agent:
        return "unknown"
    return agent.split("/", 1)[0][:128] or "unknown"


def _version() -> dict[str, Any]:
    return {
        "major": "1",
        "minor": "32",
        "gitVersion": KUBERNETES_VERSION,
        "gitCommit": "skiff",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "python3.11",
        "compiler": "cpython",
        "platform": "linux/amd64",
    }


class _App:
    """The ASGI callable: every HTTP request goes to ``ApiServerApp.handle``.

    Starlette's router and middleware stack would only add work here: the API server parses
    its own paths and turns every error into a Status itself, so requests and responses are
    starlette objects without the routing layers around them.
    """

    def __init__(self, api: ApiServerApp) -> None:
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
            return
        response = await self.api.handle(Request(scope, receive))
        await response(scope, receive, send)


def build_app(api: ApiServerApp) -> ASGIApp:
    return _App(api)
