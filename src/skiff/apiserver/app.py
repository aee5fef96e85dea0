"""The HTTP face of the API server: an ASGI app speaking the Kubernetes REST API.

A plain ASGI entry (``_App``: starlette requests and responses, without its router) takes HTTP
requests and WebSocket upgrades, authenticates the bearer token (for a WebSocket also kubectl's
``base64url.bearer.authorization.k8s.io.<token>`` subprotocol), finds the route in a table built
once at startup (``skiff.apiserver.installer``: collections, objects, and subresources whose
methods follow what their storage implements; 405 is decided there), authorizes, and dispatches
to the generic registry, a subresource storage or a connecter (streams relayed to node agents,
``skiff.apiserver.connect``). A WebSocket reaches only connect subresources. Every failure leaves as a ``Status`` body with the
right code; an unexpected exception is logged and becomes a 500 Status without a traceback on the
wire.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from skiff import KUBERNETES_VERSION
from skiff.api.resources import ResourceInfo
from skiff.api.selector import (
    SelectorError,
    parse_field_selector,
    parse_label_selector,
    validate_field_selector,
)
from skiff.apiserver import (
    connect,
    crdopenapi,
    discovery,
    nodejoin,
    openapi,
    openapi_v2,
    params,
)
from skiff.apiserver import decode as decoding
from skiff.apiserver.audit import AuditLog
from skiff.apiserver.auth import AlwaysAllow, Attributes, Authorizer, TokenAuthenticator, UserInfo
from skiff.apiserver.connect import AgentTransport, Connecter
from skiff.apiserver.crd import CustomResources
from skiff.apiserver.crdscale import custom_storages
from skiff.apiserver.encryption import DecryptError
from skiff.apiserver.errors import ApiError, NotAcceptableError, bad_request, status_success
from skiff.apiserver.health import HEALTH_PATHS, HealthChecks
from skiff.apiserver.installer import Handlers, install_resource, install_routes
from skiff.apiserver.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from skiff.apiserver.metrics import ApiMetrics
from skiff.apiserver.registry import Registry, RequestContext
from skiff.apiserver.representation import (
    LIST_CONVERSIONS,
    OBJECT_CONVERSIONS,
    metadata_bookmark,
    negotiate,
    partial_object_metadata,
    pretty,
    table_content_type,
)
from skiff.apiserver.reviews import answer_review
from skiff.apiserver.routes import Route, Target, not_found_path
from skiff.apiserver.subresources import (
    PATCH_MEDIA_TYPES,
    Creater,
    Getter,
    Patcher,
    Updater,
)
from skiff.apiserver.watch import WatchParams, watch_stream
from skiff.store import StoreError

__all__ = [
    "ApiServerApp",
    "Target",
    "build_app",
    "partial_object_metadata",
]

log = logging.getLogger("skiff.apiserver")

_EXEMPT_PREFIXES = ("/apis/coordination.k8s.io/",)
"""Requests never refused by the in-flight limits (Leases)."""

JSON_CT = "application/json"
TABLE_CT = "application/json;as=Table;v=v1;g=meta.k8s.io"
_BOOKMARK_PREFIX = b'{"type":"BOOKMARK"'

PATCH_TYPES = PATCH_MEDIA_TYPES

# HTTP method -> authorization verb for connect subresources (kube's RequestInfoFactory)
_CONNECT_VERBS = {
    "GET": "get",
    "HEAD": "get",
    "OPTIONS": "get",
    "POST": "create",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}


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


def _openapi_v2(request: Request, custom: tuple[ResourceInfo, ...] = ()) -> Response:
    """``GET /openapi/v2``: protobuf or JSON as asked, 304 for a current ETag (kube-openapi's
    handler)."""
    media = openapi_v2.negotiate_openapi_v2(request.headers.get("accept"))
    if media is None:
        raise NotAcceptableError(
            "only application/json and "
            f"{openapi_v2.PROTOBUF_MEDIA_TYPES[0]} are served at /openapi/v2"
        )
    doc = crdopenapi.custom_openapi_v2(custom) if custom else openapi_v2.openapi_v2()
    etag = f'"{doc.etag}"'
    headers = {"Etag": etag, "Vary": "Accept"}
    if request.headers.get("if-none-match") == etag:
        return Response(b"", 304, headers=headers)
    body = doc.json if media == JSON_CT else doc.protobuf
    return Response(body, 200, media_type=media, headers=headers)


def _check_field_selector(info: ResourceInfo, text: str) -> None:
    """``field label not supported`` (SelectorError) for a label ``info`` cannot select on; a
    custom resource takes ``metadata.name``, ``metadata.namespace`` and its version's
    ``selectableFields``."""
    if info.custom is None:
        validate_field_selector(info.kind, text)
        return
    supported = {"metadata.name", "metadata.namespace"}
    supported.update(p.lstrip(".") for p in info.custom.version(info.version).selectable_fields)
    for r in parse_field_selector(text).requirements:
        if r.field not in supported:
            raise SelectorError(f"field label not supported: {r.field}")


def _deprecation_warning(info: ResourceInfo, response: Response) -> None:
    """The warning every request to a deprecated custom resource version gets (upstream's
    ``deprecationWarning``, or ``<group>/<version> <Kind> is deprecated``)."""
    version = info.custom.version(info.version)
    if not version.deprecated:
        return
    text = version.deprecation_warning or f"{info.api_version} {info.kind} is deprecated"
    header = params.warning_header(text).encode("latin-1", "replace")
    response.raw_headers.append((b"warning", header))


def _error(e: ApiError) -> Response:
    # Kubernetes' field order and trailing newline (clients compare Status bodies as text)
    return Response(e.to_bytes(), status_code=e.code, media_type=JSON_CT, headers=e.headers or None)


class ApiServerApp:
    """Request handling state: registry, authn/authz, discovery address, the route table.

    The ``kubelet_*`` options say how the API server reaches node agents for logs, exec, attach,
    port-forward and nodes/proxy (kube-apiserver's flags of the same names):
    ``kubelet_certificate_authority`` is the CA file agents' serving certificates are verified
    against (None: not verified, as kube-apiserver without the flag);
    ``kubelet_client_certificate``/``kubelet_client_key`` are the client certificate and key
    presented to agents (None: none). The node-agent work supplies them. ``node_join`` answers
    ``/cacerts`` and the node-credential endpoints before authentication (they check the join or
    node token themselves).
    """

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
        kubelet_certificate_authority: str | None = None,
        kubelet_client_certificate: str | None = None,
        kubelet_client_key: str | None = None,
        node_join: nodejoin.NodeJoin | None = None,
        custom: CustomResources | None = None,
    ) -> None:
        self.registry = registry
        # the served custom resources (CRDs): routes, discovery and OpenAPI follow it
        self.custom = custom if custom is not None else CustomResources()
        self.custom.set_on_change(self._custom_changed)
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
        # /cacerts and the node-credential endpoints, which authenticate on their own
        self.node_join = node_join
        self.agent_transport = AgentTransport(
            ca_file=kubelet_certificate_authority,
            cert_file=kubelet_client_certificate,
            key_file=kubelet_client_key,
        )
        self._handlers = Handlers(
            group_version=self._h_group_version,
            review=self._h_review,
            list=self._h_list,
            create=self._h_create,
            delete_collection=self._h_delete_collection,
            get=self._h_get,
            update=self._h_update,
            patch=self._h_patch,
            delete=self._h_delete,
            sub_get=self._h_sub_get,
            sub_update=self._h_sub_update,
            sub_patch=self._h_sub_patch,
            sub_create=self._h_sub_create,
            connect=self._h_connect,
            websocket_connect=self._ws_connect,
        )
        self.routes = install_routes(self._handlers)

    # ------------------------------------------------------------- entry

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        received = time.time()
        response = await self._handle(request)
        if b"pretty" in request.scope.get("query_string", b"") and params.flag(
            request.query_params.get("pretty")
        ):
            response = pretty(response)
        self._observe(request.scope, response.status_code, started, received)
        return response

    def _observe(self, scope: Scope, code: int, started: float, received: float) -> None:
        if self.audit is not None:
            user = scope.get("skiff.user")
            self.audit.record(
                scope,
                user=user.name if isinstance(user, UserInfo) else "system:anonymous",
                groups=user.groups if isinstance(user, UserInfo) else (),
                code=code,
                received=received,
                finished=time.time(),
            )
        if self.metrics is not None:
            self.metrics.observe(scope, code, time.perf_counter() - started)

    async def handle_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket upgrade: authenticated, routed through the same table, answered by a
        connect subresource (relayed to a node agent) or refused with a Status response."""
        started = time.perf_counter()
        received = time.time()
        ws = WebSocket(scope, receive, send)
        code = 101
        try:
            try:
                user = self._authenticate(ws)
                scope["skiff.user"] = user
                route, target = self.routes.match(scope["path"])
                if target is None or route.websocket is None:
                    raise bad_request(
                        f"{scope['path']} does not accept WebSocket upgrades: only the connect "
                        "subresources (pods/exec, pods/attach, pods/portforward, pods/log, "
                        "pods/proxy, nodes/proxy, services/proxy) do"
                    )
                await route.websocket(ws, route, target, user)
            except ApiError as e:
                code = e.code
                await connect.refuse_websocket(ws, e)
            except StoreError as e:
                log.warning("store unavailable serving a WebSocket to %s: %s", scope["path"], e)
                code = 503
                await connect.refuse_websocket(
                    ws, ApiError(503, "ServiceUnavailable", f"the storage is not available: {e}")
                )
        except Exception:
            log.exception("internal error serving a WebSocket to %s", scope["path"])
            code = 500
            await connect.refuse_websocket(
                ws,
                ApiError(
                    500,
                    "InternalError",
                    "an internal error occurred; the server log has the details",
                ),
            )
        finally:
            self._observe(scope, code, started, received)

    async def _handle(self, request: Request) -> Response:
        path = request.scope["path"]
        try:
            if path in HEALTH_PATHS or path.startswith(("/healthz/", "/livez/", "/readyz/")):
                return await self._health(request)
            if self.node_join is not None and path in nodejoin.PATHS:
                return await self.node_join.handle(request)
            user = self._authenticate(request)
            request.scope["skiff.user"] = user
            is_watch = b"watch" in request.scope.get("query_string", b"") and params.flag(
                request.query_params.get("watch")
            )
            if is_watch or path.startswith(_EXEMPT_PREFIXES):
                # watches are long-running and not counted against the in-flight limits; Leases
                # (node heartbeats, leader election) are exempt as APF's system levels shield
                # them: an overloaded server must not declare nodes dead or depose its leaders
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

    async def _health(self, request: Request) -> Response:
        # ``ready`` is the server's HealthChecks, or (older callers) a bare readiness callable
        checks = (
            self._ready
            if isinstance(self._ready, HealthChecks)
            else HealthChecks.from_ready(self._ready)
        )
        return await checks.respond(request.scope["path"], request.query_params)

    def _authenticate(self, conn: HTTPConnection) -> UserInfo:
        if self.authenticator is None:
            return UserInfo("system:anonymous", ("system:unauthenticated",))
        authorization = conn.headers.get("authorization")
        if authorization is None and conn.scope["type"] == "websocket":
            authorization = connect.bearer_from_subprotocols(conn.scope)
        user = self.authenticator.authenticate(authorization)
        if user is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        return user

    def _custom_changed(
        self, removed: tuple[ResourceInfo, ...], added: tuple[ResourceInfo, ...]
    ) -> None:
        """Routes and strategies follow the served custom resources (no restart)."""
        for info in removed:
            self.routes.remove_resource(info)
            self.registry.forget_kind(info.group, info.kind)
        for info in added:
            self.routes.remove_resource(info)
            install_resource(self.routes, self._handlers, info, custom_storages(info))
            self.registry.forget_kind(info.group, info.kind)

    async def sync_custom(self) -> None:
        """Bring the served custom resources up to the CRDs written so far (read-your-writes
        for discovery and for the first request after a CRD is established)."""
        await self.registry.fresh()
        await self.custom.sync(self.registry.cache, self.registry.decode)

    async def _route(self, request: Request, path: str, user: UserInfo) -> Response:
        method = request.method
        if path in ("/version", "/version/"):
            return _json(_version())
        if path == "/metrics" and self.metrics is not None:
            return Response(self.metrics.render(), 200, media_type=METRICS_CONTENT_TYPE)
        if path in ("/api", "/api/"):
            return self._discovery(request, core=True)
        if path in ("/apis", "/apis/"):
            await self.sync_custom()
            return self._discovery(request, core=False)
        if path.startswith("/openapi/"):
            await self.sync_custom()
            return self._openapi(request, path)
        if path.startswith(("/api/", "/apis/")):
            parts = [p for p in path.split("/") if p]
            if parts[0] == "apis" and len(parts) == 2:
                await self.sync_custom()
                return self._group(parts[1])
            try:
                route, target = self.routes.match(path)
            except ApiError as e:
                if e.code != 404 or parts[0] != "apis":
                    raise
                await self.sync_custom()  # a CRD written a moment ago may serve it
                route, target = self.routes.match(path)
            handler = route.handler(method, target)
            response: Response = await handler(request, route, target, user)
            if target is not None and target.info.custom is not None:
                _deprecation_warning(target.info, response)
            return response
        raise not_found_path(path)

    # ------------------------------------------------------------- discovery

    def _discovery(self, request: Request, *, core: bool) -> Response:
        want = discovery.negotiate_discovery(request.headers.get("accept"))
        if want is not None:
            return _json(
                discovery.aggregated_discovery(
                    core=core, version=want, extra=() if core else self.custom.resources()
                ),
                content_type=discovery.discovery_content_type(want),
            )
        if core:
            return _json(discovery.api_versions(self.server_address))
        return _json(discovery.api_group_list(extra=self.custom.resources()))

    def _group(self, group: str) -> Response:
        doc = discovery.api_group_list(extra=self.custom.resources())
        for g in doc["groups"]:
            if g["name"] == group:
                return _json({"kind": "APIGroup", "apiVersion": "v1", **g})
        raise not_found_path(f"/apis/{group}")

    def _openapi(self, request: Request, path: str) -> Response:
        custom = self.custom.resources()
        custom_docs = crdopenapi.custom_openapi_v3_documents(custom) if custom else {}
        if path in ("/openapi/v3", "/openapi/v3/"):
            index = openapi.openapi_v3_index()
            if custom_docs:
                index = {"paths": {**index["paths"]}}
                for key, (_, digest) in custom_docs.items():
                    url = f"/openapi/v3/{key}?hash={digest}"
                    index["paths"][key] = {"serverRelativeURL": url}
            return _json(index)
        if path.startswith("/openapi/v3/"):
            key = path[len("/openapi/v3/") :]
            doc = custom_docs.get(key.strip("/")) or openapi.openapi_v3_document(key)
            if doc is None:
                raise not_found_path(path)
            body, digest = doc
            headers = {"Etag": f'"{digest}"'}
            if request.query_params.get("hash") == digest:
                headers["Cache-Control"] = "public, immutable"
            return Response(body, 200, media_type=JSON_CT, headers=headers)
        if path in ("/openapi/v2", "/openapi/v2/"):
            return _openapi_v2(request, custom)
        raise not_found_path(path)

    # ------------------------------------------------------------- resources

    def _authorize(self, request: HTTPConnection, user: UserInfo, verb: str, t: Target) -> None:
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

    @staticmethod
    def _label(scope: Scope, verb: str, t: Target) -> None:
        """Remember what the request is, for the metrics (read after the response)."""
        scope["skiff.verb"] = verb.upper()
        scope["skiff.group"] = t.info.group
        scope["skiff.resource"] = t.info.plural
        scope["skiff.subresource"] = t.subresource
        scope["skiff.namespace"] = t.namespace
        scope["skiff.name"] = t.name

    # ------------------------------------------------------------- resources

    async def _h_group_version(
        self, request: Request, route: Route, t: Target | None, user: UserInfo
    ) -> Response:
        parts = [p for p in request.scope["path"].split("/") if p]
        group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
        doc = discovery.api_resource_list(
            group, version, extra=self.custom.resources() if group else ()
        )
        if doc is None:
            raise not_found_path(request.scope["path"])
        return _json(doc)

    async def _h_review(
        self, request: Request, route: Route, t: Target, user: UserInfo
    ) -> Response:
        self._authorize(request, user, "create", t)
        body = await params.read_decoded_body(request)
        review = answer_review(t.info, t.namespace, body, user, self.authorizer)
        return _json(review, 201)

    async def _h_list(self, request: Request, route: Route, t: Target, user: UserInfo) -> Response:
        watch = params.flag(request.query_params.get("watch"))
        self._authorize(request, user, "watch" if watch else "list", t)
        if watch:
            return self._watch(request, t)
        return await self._list(request, t)

    async def _h_create(
        self, request: Request, route: Route, t: Target, user: UserInfo
    ) -> Response:
        info = t.info
        self._authorize(request, user, "create", t)
        ctx = params.request_context(request, user)
        body = await params.read_decoded_body(request)
        obj = await self.registry.create(info, t.namespace, body, ctx)
        return self._object_response(request, info, obj, 201, ctx)

    async def _h_delete_collection(
        self, request: Request, route: Route, t: Target, user: UserInfo
    ) -> Response:
        info = t.info
        self._authorize(request, user, "deletecollection", t)
        ctx = params.request_context(request, user)
        grace, propagation, _pre = await params.delete_options(request, ctx)
        opts = params.list_options(request)
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

    async def _h_get(self, request: Request, route: Route, t: Target, user: UserInfo) -> Response:
        self._authorize(request, user, "get", t)
        obj = await self.registry.get(
            t.info,
            t.namespace,
            t.name,
            resource_version=request.query_params.get("resourceVersion", ""),
        )
        return self._object_response(request, t.info, obj, 200, None)

    async def _h_update(
        self, request: Request, route: Route, t: Target, user: UserInfo
    ) -> Response:
        info = t.info
        self._authorize(request, user, "update", t)
        ctx = params.request_context(request, user)
        body = await params.read_decoded_body(request)
        obj, created = await self.registry.update(info, t.namespace, t.name, body, ctx)
        return self._object_response(request, info, obj, 201 if created else 200, ctx)

    async def _h_patch(self, request: Request, route: Route, t: Target, user: UserInfo) -> Response:
        self._authorize(request, user, "patch", t)
        return await self._patch(request, t, user, None)

    async def _h_delete(
        self, request: Request, route: Route, t: Target, user: UserInfo
    ) -> Response:
        info = t.info
        self._authorize(request, user, "delete", t)
        ctx = params.request_context(request, user)
        grace, propagation, pre = await params.delete_options(request, ctx)
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

    # ------------------------------------------------------------- subresources

    async def _h_sub_get(
        self, request: Request, route: Route, t: Target, user: UserInfo
    ) -> Response:
        self._authorize(request, user, "get", t)
        storage: Getter = route.storage
        obj = await storage.get(self.registry, t)
        return self._object_response(request, t.info, obj, 200, None)

    async def _h_sub_update(
        self, request: Request, route: Route, t: Target, user: UserInfo
    ) -> Response:
        self._authorize(request, user, "update", t)
        ctx = params.request_context(request, user)
        body = await params.read_decoded_body(request)
        storage: Updater = route.storage
        obj = await storage.update(self.registry, t, body, ctx)
        return self._object_response(request, t.info, obj, 200, ctx)

    async def _h_sub_patch(
        self, request: Request, route: Route, t: Target, user: UserInfo
    ) -> Response:
        self._authorize(request, user, "patch", t)
        return await self._patch(request, t, user, route.storage)

    async def _h_sub_create(
        self, request: Request, route: Route, t: Target, user: UserInfo
    ) -> Response:
        self._authorize(request, user, "create", t)
        ctx = params.request_context(request, user)
        body = await params.read_decoded_body(request)
        storage: Creater = route.storage
        obj = await storage.create(self.registry, t, body, ctx)
        if obj is None:
            return _json(status_success(code=201), 201)
        return self._object_response(request, t.info, obj, 201, ctx)

    # ------------------------------------------------------------- connect

    async def _h_connect(
        self, request: Request, route: Route, t: Target, user: UserInfo
    ) -> Response:
        """A connect subresource over plain HTTP: relayed (logs, proxies) or refused (a SPDY
        upgrade, or exec/attach/portforward without any upgrade)."""
        self._authorize(request, user, _CONNECT_VERBS.get(request.method, "get"), t)
        connecter: Connecter = route.storage
        location = await connecter.connect(self.registry, t, connect.query_items(request))
        if connect.is_spdy_upgrade(request):
            # kubectl falls back to SPDY when a WebSocket upgrade failed; everything that could
            # fail was checked above, so what is left to say is how to reach the stream
            raise connect.spdy_not_supported()
        if connecter.upgrade:
            raise bad_request(
                f"{t.info.plural}/{t.subresource} needs an upgraded connection: "
                "connect with a WebSocket (Upgrade: websocket)"
            )
        body = await params.read_body(request) if request.method not in ("GET", "HEAD") else b""
        return await connect.proxy_http(request, location, self.agent_transport, body)

    async def _ws_connect(self, ws: WebSocket, route: Route, t: Target, user: UserInfo) -> None:
        """A connect subresource over a WebSocket: relayed to where the connecter says."""
        connecter: Connecter = route.storage
        # a WebSocket upgrade is a GET, but exec/attach/portforward act on the pod: they need
        # "create", as over SPDY's POST (Kubernetes 1.35 made this the rule, feature gate
        # AuthorizePodWebsocketUpgradeCreatePermission; 1.30-1.34 checked only "get")
        self._authorize(ws, user, "create" if connecter.upgrade else "get", t)
        location = await connecter.connect(self.registry, t, connect.query_items(ws))
        await connect.relay_websocket(
            ws, location, self.agent_transport, connect.offered_subprotocols(ws.scope)
        )

    async def _patch(
        self, request: Request, t: Target, user: UserInfo, storage: Patcher | None
    ) -> Response:
        """PATCH the object (``storage`` None) or a subresource through its Patcher."""
        ctx = params.request_context(request, user)
        mt = decoding.media_type(request.headers.get("content-type"))
        patch_type = PATCH_TYPES.get(mt)
        accepted = (
            PATCH_TYPES
            if storage is None
            else {m: p for m, p in PATCH_TYPES.items() if p in storage.patch_types}
        )
        if t.info.custom is not None and patch_type == "strategic":
            # custom resources take no strategic merge patch (kubectl falls back to merge)
            accepted = {m: p for m, p in accepted.items() if p != "strategic"}
        if patch_type is None or mt not in accepted:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types "
                f"include: {', '.join(accepted)}",
            )
        force = params.flag(request.query_params.get("force"))
        if force and patch_type != "apply":
            raise bad_request(
                "force may only be used with server-side apply "
                "(Content-Type: application/apply-patch+yaml)"
            )
        body = decoding.decode_body(await params.read_body(request), mt)
        if storage is not None:
            obj = await storage.patch(self.registry, t, patch_type, body, ctx, force=force)
            return self._object_response(request, t.info, obj, 200, ctx)
        obj, created = await self.registry.patch(
            t.info, t.namespace, t.name, patch_type, body, ctx, force=force
        )
        return self._object_response(request, t.info, obj, 201 if created else 200, ctx)

    async def _list(self, request: Request, t: Target) -> Response:
        opts = params.list_options(request)
        if opts.field_selector:
            try:
                _check_field_selector(t.info, opts.field_selector)
            except SelectorError as e:
                raise bad_request(str(e)) from None
        conversion = negotiate(request, LIST_CONVERSIONS)
        items, rev, token, remaining = await self.registry.list_page(t.info, t.namespace, opts)
        meta: dict[str, Any] = {"resourceVersion": str(rev)}
        if token:
            meta["continue"] = token
        if remaining is not None:
            meta["remainingItemCount"] = remaining
        if conversion is not None and conversion.kind == "Table":
            include = request.query_params.get("includeObject", "Metadata")
            body = self.registry.strategy(t.info).convert_to_table(
                items, include=include, version=conversion.version
            )
            body["metadata"] = meta
            return _json(body, content_type=table_content_type(conversion.version))
        if conversion is not None:
            # PartialObjectMetadataList: what client-go's metadata informers list
            return _json(
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": conversion.api_version,
                    "metadata": meta,
                    "items": [partial_object_metadata(o, conversion.version) for o in items],
                },
                content_type=conversion.content_type,
            )
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
                _check_field_selector(t.info, q["fieldSelector"])
        except SelectorError as e:
            raise bad_request(str(e)) from None
        timeout = 1800.0
        if q.get("timeoutSeconds"):
            timeout = float(params.integer(q["timeoutSeconds"], "timeoutSeconds"))
        conversion = negotiate(request, OBJECT_CONVERSIONS)
        include = q.get("includeObject", "Metadata")
        table_fn = None
        if conversion is not None and conversion.kind == "Table":
            table_version = conversion.version

            def table_fn(obj: dict[str, Any]) -> dict[str, Any]:
                return self.registry.strategy(t.info).convert_to_table(
                    [obj], include=include, version=table_version
                )

        elif conversion is not None:
            meta_version = conversion.version

            def table_fn(obj: dict[str, Any]) -> dict[str, Any]:
                return partial_object_metadata(obj, meta_version)

        watch_params = WatchParams(
            resource_version=q.get("resourceVersion", ""),
            label_selector=q.get("labelSelector", ""),
            field_selector=q.get("fieldSelector", ""),
            bookmarks=params.flag(q.get("allowWatchBookmarks")),
            timeout=timeout,
            table=table_fn,
            bookmark_interval=self.bookmark_interval,
        )
        if conversion is None:
            ct = JSON_CT
        elif conversion.kind == "Table":
            ct = table_content_type(conversion.version)
        else:
            ct = conversion.content_type
        metadata_only = conversion is not None and conversion.kind == "PartialObjectMetadata"

        gauge = self.metrics.longrunning.labels("WATCH") if self.metrics is not None else None

        async def body() -> AsyncIterator[bytes]:
            if gauge is not None:
                gauge.inc()
            try:
                async for chunk in watch_stream(self.registry, t.info, t.namespace, watch_params):
                    if (
                        conversion is not None
                        and metadata_only
                        and chunk.startswith(_BOOKMARK_PREFIX)
                    ):
                        # a bookmark is converted too, so a metadata informer can decode it
                        chunk = metadata_bookmark(chunk, conversion)
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
        conversion = negotiate(request, OBJECT_CONVERSIONS)
        if conversion is None or obj.get("kind") == "Status":
            resp = _json(obj, status, headers=headers)
        elif conversion.kind == "PartialObjectMetadata":
            resp = _json(
                partial_object_metadata(obj, conversion.version),
                status,
                headers=headers,
                content_type=conversion.content_type,
            )
        elif obj.get("kind") == info.kind:
            include = request.query_params.get("includeObject", "Metadata")
            body = self.registry.strategy(info).convert_to_table(
                [obj], include=include, version=conversion.version
            )
            resp = _json(
                body,
                status,
                headers=headers,
                content_type=table_content_type(conversion.version),
            )
        else:
            resp = _json(obj, status, headers=headers)
        if ctx is not None:
            for w in ctx.warnings:
                resp.raw_headers.append(
                    (b"warning", params.warning_header(w).encode("latin-1", "replace"))
                )
        return resp


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
    """The ASGI callable: HTTP requests go to ``ApiServerApp.handle``, WebSocket upgrades to
    ``ApiServerApp.handle_websocket``.

    Starlette's router and middleware stack would only add work here: the API server routes
    with its own table and turns every error into a Status itself, so requests and responses
    are starlette objects without the routing layers around them.
    """

    def __init__(self, api: ApiServerApp) -> None:
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            response = await self.api.handle(Request(scope, receive))
            await response(scope, receive, send)
        elif scope["type"] == "websocket":
            await self.api.handle_websocket(scope, receive, send)
        elif scope["type"] == "lifespan":
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})


def build_app(api: ApiServerApp) -> ASGIApp:
    return _App(api)
