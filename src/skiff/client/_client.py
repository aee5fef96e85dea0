"""The async REST client: typed verbs on any served resource, retries, and resumable watches.

`Client` speaks the Kubernetes REST API with JSON bodies through two ``httpx.AsyncClient``s, one
for requests (a bounded pool, ``max_connections``) and one for watches (its own pool, unbounded by
default), so long-running watches of many informers can never take the connections requests need
(client-go gives watches a separate transport for the same reason). Both run over `LeanTransport`,
a small HTTP/1.1 transport that costs less than half of httpx's default per request
(docs/client.md has the figures); ``transport="httpx"`` selects httpx's own. Objects go in as any ``Mapping`` (frozen cache objects
included) and come back as fresh ``dict``s the caller owns. Failure responses become the
``skiff.client.errors`` tree; requests answered with 429/5xx *and* a ``Retry-After`` header are
retried a bounded number of times, as client-go ``rest.Request`` does (``checkWait``). A
``token_file`` is read through a `CachedTokenFile` (re-read once a minute, off the event loop).

``metadata_only=True`` on `Client.list`/`Client.watch`/`Client.get` asks for
``PartialObjectMetadata`` (client-go's metadata client): objects come back as
``{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": {...}}`` in a
``PartialObjectMetadataList``; a server that ignores the ``Accept`` parameters and sends whole
objects is answered the same way, as the client strips them itself.

`Watch` is an async iterator of `WatchEvent`s. It requests bookmarks, remembers the last
resourceVersion it saw (events and bookmarks) and, when ``resume`` is on, re-watches from there when
the server ends the stream; an ``ERROR`` event or HTTP failure is raised (410 as `Expired`, so a
reflector relists).
"""

from __future__ import annotations

import enum
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import quote, urlencode, urlsplit

import httpx
import orjson

from skiff.api.resources import ResourceInfo
from skiff.api.selector import FieldSelector, LabelSelectorLike, as_label_selector
from skiff.client._transport import LeanTransport, Origin, RawResponse, encode_head
from skiff.client.config import CachedTokenFile, Config
from skiff.client.errors import ApiError, Expired, TransportError, error_from_status
from skiff.client.frozen import json_default
from skiff.client.resource import ResourceRef, resolve, resource_path
from skiff.util.clock import Clock, SystemClock

__all__ = [
    "METADATA_API_VERSION",
    "Client",
    "PatchType",
    "Preconditions",
    "TransportChoice",
    "Watch",
    "WatchEvent",
    "WatchEventType",
    "field_selector_param",
    "label_selector_param",
    "partial_object_metadata",
]

log = logging.getLogger(__name__)

PatchType = Literal["json", "merge", "strategic", "apply"]

_PATCH_CONTENT_TYPES: dict[str, str] = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}

_JSON = "application/json"
METADATA_API_VERSION = "meta.k8s.io/v1"
# client-go metadata client (k8s.io/client-go/metadata/metadata.go): the list asks for a
# PartialObjectMetadataList, a get or watch for PartialObjectMetadata per object.
_ACCEPT_METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
_ACCEPT_METADATA = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"


class WatchEventType(enum.StrEnum):
    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"
    BOOKMARK = "BOOKMARK"
    ERROR = "ERROR"


@dataclass(frozen=True)
class WatchEvent:
    """One watch event; ``object`` is the decoded object (for DELETED: its last state)."""

    type: WatchEventType
    object: dict[str, Any]

    @property
    def resource_version(self) -> str | None:
        meta = self.object.get("metadata") or {}
        rv = meta.get("resourceVersion")
        return str(rv) if rv else None


@dataclass(frozen=True)
class Preconditions:
    """Delete preconditions: the object must still have this uid / resourceVersion."""

    uid: str | None = None
    resource_version: str | None = None

    def to_json(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.uid is not None:
            out["uid"] = self.uid
        if self.resource_version is not None:
            out["resourceVersion"] = self.resource_version
        return out


def label_selector_param(sel: LabelSelectorLike) -> str | None:
    """The ``labelSelector`` query value for any `LabelSelectorLike` (``None`` when it selects
    everything). A selector that matches nothing cannot be sent and raises ``ValueError``."""
    if sel is None or isinstance(sel, str):
        return sel or None
    parsed = as_label_selector(sel)
    if parsed.match_nothing:
        raise ValueError("a label selector that matches nothing cannot be sent to the server")
    return str(parsed) or None


def field_selector_param(sel: str | FieldSelector | None) -> str | None:
    """The ``fieldSelector`` query value (a string is sent as given; the server parses it)."""
    if sel is None or isinstance(sel, str):
        return sel or None
    return str(sel) or None


def partial_object_metadata(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` as a ``PartialObjectMetadata`` (its metadata only), as the metadata client sees it."""
    if obj.get("kind") == "PartialObjectMetadata" and obj.get("apiVersion") == METADATA_API_VERSION:
        return dict(obj)
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": METADATA_API_VERSION,
        "metadata": obj.get("metadata") or {},
    }


def _dumps(body: Any) -> bytes:
    return orjson.dumps(body, default=json_default)


def _meta(body: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = body.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _params(**kwargs: Any) -> dict[str, str]:
    """Query parameters with ``None`` dropped and Kubernetes spelling for booleans."""
    out: dict[str, str] = {}
    for key, value in kwargs.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


class Client:
    """An async Kubernetes API client. Use as ``async with Client(config) as client:``.

    ``transport`` is ``"lean"`` (`LeanTransport`, the default), ``"httpx"`` (httpx's own
    transport) or an ``httpx.AsyncBaseTransport`` instance (an ``httpx.MockTransport`` in unit
    tests), used for requests; ``watch_transport`` likewise for watches (an instance given as
    ``transport`` serves both unless ``watch_transport`` is given too). Requests share at most
    ``max_connections`` connections; watches have their own pool of at most
    ``max_watch_connections`` (``None``: unbounded, one connection per open watch).
    ``max_retries`` bounds retries of 429/5xx answers carrying ``Retry-After``; each wait is capped
    at ``max_retry_wait`` seconds of ``clock`` time. A ``config.token_file`` is re-read every
    ``token_reload_period`` seconds of ``clock`` time.
    """

    def __init__(
        self,
        config: Config,
        *,
        transport: TransportChoice = "lean",
        watch_transport: TransportChoice | None = None,
        clock: Clock | None = None,
        max_retries: int = 5,
        max_retry_wait: float = 10.0,
        timeout: float = 30.0,
        max_connections: int = 100,
        max_watch_connections: int | None = None,
        token_reload_period: float = 60.0,
        user_agent: str = "skiff-client/0.1",
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self._timeout = timeout
        self.token_file: CachedTokenFile | None = None
        if not config.token and config.token_file:
            self.token_file = CachedTokenFile(
                config.token_file, clock=self.clock, reload_period=token_reload_period
            )
        if watch_transport is None:
            watch_transport = transport
        ssl_context = config.ssl_context()
        shared = watch_transport is transport and not isinstance(transport, str)
        request_transport = _make_transport(transport, ssl_context, max_connections)
        stream_transport = (
            request_transport
            if shared
            else _make_transport(watch_transport, ssl_context, max_watch_connections)
        )
        headers = {"User-Agent": user_agent, "Accept": _JSON}
        self._direct = request_transport if isinstance(request_transport, LeanTransport) else None
        url = urlsplit(config.server)
        tls = url.scheme == "https"
        host = url.hostname or ""
        port = url.port or (443 if tls else 80)
        self._origin = Origin(tls=tls, host=host, port=port, sni=config.tls_server_name)
        bracketed = f"[{host}]" if ":" in host else host
        self._host_header = bracketed if url.port is None else f"{bracketed}:{port}"
        self._base_path = url.path.rstrip("/")
        self._fixed_headers = dict(headers)
        self._timeouts = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
        self._http = httpx.AsyncClient(
            base_url=config.server,
            transport=request_transport,
            timeout=httpx.Timeout(timeout),
            headers=headers,
        )
        self._watch_http = (
            self._http
            if shared
            else httpx.AsyncClient(
                base_url=config.server,
                transport=stream_transport,
                timeout=httpx.Timeout(timeout),
                headers=headers,
            )
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close both connection pools."""
        try:
            await self._http.aclose()
        finally:
            if self._watch_http is not self._http:
                await self._watch_http.aclose()

    # -- plumbing -------------------------------------------------------------------------------

    async def _headers(
        self, content_type: str | None = None, accept: str | None = None
    ) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        elif self.token_file is not None:
            token = await self.token_file.token()
            if token:
                headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        return headers

    def _extensions(self) -> dict[str, Any]:
        if self.config.tls_server_name:
            return {"sni_hostname": self.config.tls_server_name}
        return {}

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = _JSON,
        accept: str | None = None,
    ) -> httpx.Response:
        """Send one request (with bounded Retry-After retries); raise `ApiError` on failure."""
        raw = await self._request(method, path, params, body, content_type, accept)
        return httpx.Response(
            raw.status,
            headers=raw.headers,
            content=raw.content,
            extensions={"reason_phrase": raw.reason},
            request=self._http.build_request(method, path, params=params),
        )

    async def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Any,
        content_type: str,
        accept: str | None,
    ) -> RawResponse:
        content = None if body is None else _dumps(body)
        attempt = 0
        while True:
            headers = await self._headers(content_type if content is not None else None, accept)
            try:
                if self._direct is not None:
                    resp = await self._send_direct(method, path, params, content, headers)
                else:
                    answer = await self._http.request(
                        method,
                        path,
                        params=params,
                        content=content,
                        headers=headers,
                        extensions=self._extensions(),
                    )
                    resp = _raw(answer)
            except httpx.TransportError as exc:
                raise TransportError(f"{method} {path}: {exc!r}") from exc
            if resp.status < 400:
                return resp
            delay = _retry_after(resp)
            retryable = resp.status == 429 or resp.status >= 500
            if retryable and delay is not None and attempt < self.max_retries:
                attempt += 1
                log.debug("retrying %s %s after %ss (HTTP %s)", method, path, delay, resp.status)
                await self.clock.sleep(min(delay, self.max_retry_wait))
                continue
            raise _error(resp)

    async def _send_direct(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        content: bytes | None,
        headers: dict[str, str],
    ) -> RawResponse:
        """The lean path: the request head encoded at once and written by `LeanTransport.fetch`,
        no httpx request/response models (bench client_transport has the saving)."""
        assert self._direct is not None
        target = self._base_path + path
        if params:
            target += ("&" if "?" in path else "?") + urlencode(params, quote_via=quote)
        head_fields = {"Host": self._host_header, **self._fixed_headers, **headers}
        if content is not None:
            head_fields["Content-Length"] = str(len(content))
        head = encode_head(method, target, head_fields)
        return await self._direct.fetch(self._origin, head, content or b"", self._timeouts)

    async def _json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = _JSON,
        accept: str | None = None,
    ) -> dict[str, Any]:
        resp = await self._request(method, path, params, body, content_type, accept)
        try:
            data = orjson.loads(resp.content) if resp.content else {}
        except orjson.JSONDecodeError as exc:
            raise ApiError(
                {"code": resp.status, "message": f"response is not JSON: {exc}"}
            ) from exc
        if not isinstance(data, dict):
            raise ApiError({"code": resp.status, "message": "response is not a JSON object"})
        return data

    def _namespace(self, info: ResourceInfo, namespace: str | None, body: Any = None) -> str | None:
        """The namespace an object operation targets: explicit, else the body's, else the config's."""
        if not info.namespaced:
            return None
        if namespace:
            return namespace
        if isinstance(body, Mapping):
            ns = _meta(body).get("namespace")
            if ns:
                return str(ns)
        return self.config.namespace

    # -- verbs ----------------------------------------------------------------------------------

    async def get(
        self,
        resource: ResourceRef,
        name: str,
        *,
        namespace: str | None = None,
        resource_version: str | None = None,
        metadata_only: bool = False,
    ) -> dict[str, Any]:
        """GET one object (``metadata_only``: as a ``PartialObjectMetadata``)."""
        info = resolve(resource)
        path = resource_path(info, namespace=self._namespace(info, namespace), name=name)
        params = _params(resourceVersion=resource_version)
        if not metadata_only:
            return await self._json("GET", path, params=params)
        obj = await self._json("GET", path, params=params, accept=_ACCEPT_METADATA)
        return partial_object_metadata(obj)

    async def list(
        self,
        resource: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: str | FieldSelector | None = None,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
        resource_version_match: str | None = None,
        metadata_only: bool = False,
    ) -> dict[str, Any]:
        """One page of a list; ``namespace=None`` lists all namespaces. Returns the ``*List``
        (``metadata_only``: a ``PartialObjectMetadataList`` of ``PartialObjectMetadata``)."""
        info = resolve(resource)
        params = _params(
            labelSelector=label_selector_param(label_selector),
            fieldSelector=field_selector_param(field_selector),
            limit=limit,
            resourceVersion=resource_version,
            resourceVersionMatch=resource_version_match,
        )
        params.update(_params(**{"continue": continue_}))
        path = resource_path(info, namespace=namespace)
        if not metadata_only:
            return await self._json("GET", path, params=params)
        page = await self._json("GET", path, params=params, accept=_ACCEPT_METADATA_LIST)
        page["kind"] = "PartialObjectMetadataList"
        page["apiVersion"] = METADATA_API_VERSION
        page["items"] = [partial_object_metadata(o) for o in page.get("items") or []]
        return page

    async def list_all(
        self,
        resource: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: str | FieldSelector | None = None,
        page_size: int = 500,
        metadata_only: bool = False,
    ) -> dict[str, Any]:
        """All items, following ``continue`` tokens; one ``*List`` whose resourceVersion is the
        snapshot's. If a continue token expires mid-way (410), lists again in one request, as the
        client-go pager falls back to a full list."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            try:
                page = await self.list(
                    resource,
                    namespace=namespace,
                    label_selector=label_selector,
                    field_selector=field_selector,
                    limit=page_size,
                    continue_=token,
                    metadata_only=metadata_only,
                )
            except Expired:
                if token is None:
                    raise
                return await self.list(
                    resource,
                    namespace=namespace,
                    label_selector=label_selector,
                    field_selector=field_selector,
                    metadata_only=metadata_only,
                )
            items.extend(page.get("items") or [])
            token = _meta(page).get("continue") or None
            if not token:
                page["items"] = items
                page.setdefault("metadata", {}).pop("continue", None)
                return page

    async def create(
        self,
        resource: ResourceRef,
        body: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        info = resolve(resource)
        path = resource_path(info, namespace=self._namespace(info, namespace, body))
        params = _params(fieldManager=field_manager, dryRun="All" if dry_run else None)
        return await self._json("POST", path, params=params, body=body)

    async def update(
        self,
        resource: ResourceRef,
        body: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """PUT the whole object (named by ``body.metadata.name``); a stale resourceVersion in the
        body raises `Conflict`."""
        return await self._put(resource, body, None, namespace, field_manager, dry_run)

    async def update_subresource(
        self,
        resource: ResourceRef,
        body: Mapping[str, Any],
        subresource: str,
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """PUT a subresource (``status``, ``scale``) of the object named by ``body.metadata.name``."""
        return await self._put(resource, body, subresource, namespace, field_manager, dry_run)

    async def update_status(
        self,
        resource: ResourceRef,
        body: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        return await self._put(resource, body, "status", namespace, field_manager, False)

    async def _put(
        self,
        resource: ResourceRef,
        body: Mapping[str, Any],
        subresource: str | None,
        namespace: str | None,
        field_manager: str | None,
        dry_run: bool,
    ) -> dict[str, Any]:
        info = resolve(resource)
        name = str(_meta(body).get("name") or "")
        path = resource_path(
            info,
            namespace=self._namespace(info, namespace, body),
            name=name,
            subresource=subresource,
        )
        params = _params(fieldManager=field_manager, dryRun="All" if dry_run else None)
        return await self._json("PUT", path, params=params, body=body)

    async def patch(
        self,
        resource: ResourceRef,
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "merge",
        field_manager: str | None = None,
        force: bool | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """PATCH an object. ``patch`` is a dict (merge/strategic/apply) or a list of operations
        (json). ``apply`` is server-side apply and needs ``field_manager``."""
        return await self._patch(
            resource, name, None, patch, namespace, patch_type, field_manager, force, dry_run
        )

    async def patch_subresource(
        self,
        resource: ResourceRef,
        name: str,
        subresource: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "merge",
        field_manager: str | None = None,
        force: bool | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        return await self._patch(
            resource, name, subresource, patch, namespace, patch_type, field_manager, force, dry_run
        )

    async def patch_status(
        self,
        resource: ResourceRef,
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "merge",
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        return await self._patch(
            resource, name, "status", patch, namespace, patch_type, field_manager, None, False
        )

    async def _patch(
        self,
        resource: ResourceRef,
        name: str,
        subresource: str | None,
        patch: Any,
        namespace: str | None,
        patch_type: PatchType,
        field_manager: str | None,
        force: bool | None,
        dry_run: bool,
    ) -> dict[str, Any]:
        if patch_type not in _PATCH_CONTENT_TYPES:
            raise ValueError(f"unknown patch type {patch_type!r}")
        if patch_type == "apply" and not field_manager:
            raise ValueError("server-side apply needs a field_manager")
        if force is not None and patch_type != "apply":
            raise ValueError("force is only valid for apply patches")
        info = resolve(resource)
        path = resource_path(
            info,
            namespace=self._namespace(info, namespace, patch),
            name=name,
            subresource=subresource,
        )
        params = _params(fieldManager=field_manager, force=force, dryRun="All" if dry_run else None)
        return await self._json(
            "PATCH", path, params=params, body=patch, content_type=_PATCH_CONTENT_TYPES[patch_type]
        )

    async def delete(
        self,
        resource: ResourceRef,
        name: str,
        *,
        namespace: str | None = None,
        grace_period_seconds: int | None = None,
        propagation_policy: Literal["Orphan", "Background", "Foreground"] | None = None,
        preconditions: Preconditions | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """DELETE an object; returns what the server returns (the object, or a ``Status``)."""
        info = resolve(resource)
        path = resource_path(info, namespace=self._namespace(info, namespace), name=name)
        return await self._json(
            "DELETE",
            path,
            body=_delete_options(grace_period_seconds, propagation_policy, preconditions, dry_run),
        )

    async def delete_collection(
        self,
        resource: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: str | FieldSelector | None = None,
        grace_period_seconds: int | None = None,
        propagation_policy: Literal["Orphan", "Background", "Foreground"] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        info = resolve(resource)
        path = resource_path(info, namespace=self._namespace(info, namespace))
        params = _params(
            labelSelector=label_selector_param(label_selector),
            fieldSelector=field_selector_param(field_selector),
        )
        return await self._json(
            "DELETE",
            path,
            params=params,
            body=_delete_options(grace_period_seconds, propagation_policy, None, dry_run),
        )

    async def get_subresource(
        self, resource: ResourceRef, name: str, subresource: str, *, namespace: str | None = None
    ) -> dict[str, Any]:
        info = resolve(resource)
        path = resource_path(
            info, namespace=self._namespace(info, namespace), name=name, subresource=subresource
        )
        return await self._json("GET", path)

    async def create_subresource(
        self,
        resource: ResourceRef,
        name: str,
        subresource: str,
        body: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        """POST to a subresource (``binding``, ``eviction``) of object ``name``."""
        info = resolve(resource)
        path = resource_path(
            info,
            namespace=self._namespace(info, namespace, body),
            name=name,
            subresource=subresource,
        )
        return await self._json("POST", path, params=_params(fieldManager=field_manager), body=body)

    async def get_raw(self, path: str, *, params: Mapping[str, str] | None = None) -> bytes:
        """GET any path (``/version``, ``/apis``, ...) and return the raw body."""
        resp = await self._request("GET", path, params, None, _JSON, None)
        return resp.content

    def watch(
        self,
        resource: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: str | FieldSelector | None = None,
        resource_version: str | None = None,
        timeout_seconds: int | None = None,
        resume: bool = True,
        yield_bookmarks: bool = False,
        metadata_only: bool = False,
    ) -> Watch:
        """A watch of a collection from ``resource_version`` (``None``/``"0"``: synthetic ADDED
        events for current objects first). Use as ``async with client.watch(...) as w``.
        ``metadata_only``: each event's object is a ``PartialObjectMetadata``."""
        info = resolve(resource)
        return Watch(
            self,
            resource_path(info, namespace=namespace),
            label_selector=label_selector_param(label_selector),
            field_selector=field_selector_param(field_selector),
            resource_version=resource_version,
            timeout_seconds=timeout_seconds,
            resume=resume,
            yield_bookmarks=yield_bookmarks,
            metadata_only=metadata_only,
        )

    async def _stream(
        self,
        path: str,
        params: Mapping[str, str],
        read_timeout: float | None,
        accept: str | None = None,
    ) -> httpx.Response:
        """Open a streaming GET on the watch pool; the caller closes the response."""
        request = self._watch_http.build_request(
            "GET",
            path,
            params=params,
            headers=await self._headers(accept=accept),
            timeout=httpx.Timeout(self._timeout, read=read_timeout),
            extensions=self._extensions(),
        )
        return await self._watch_http.send(request, stream=True)


class Watch:
    """An async iterator of `WatchEvent`s over one or more watch requests.

    ``resource_version`` is the last version seen (from events and bookmarks); after the stream
    ends normally a resuming watch reconnects from it. Raises `Expired` on 410, another `ApiError`
    on an ``ERROR`` event or failed request, `TransportError` if the connection fails.
    """

    def __init__(
        self,
        client: Client,
        path: str,
        *,
        label_selector: str | None,
        field_selector: str | None,
        resource_version: str | None,
        timeout_seconds: int | None,
        resume: bool,
        yield_bookmarks: bool,
        metadata_only: bool = False,
    ) -> None:
        self._client = client
        self._metadata_only = metadata_only
        self._path = path
        self._label_selector = label_selector
        self._field_selector = field_selector
        self.resource_version = resource_version
        self._timeout_seconds = timeout_seconds
        self._resume = resume
        self._yield_bookmarks = yield_bookmarks
        self._gen: AsyncIterator[WatchEvent] | None = None
        self._closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> WatchEvent:
        if self._closed:
            raise StopAsyncIteration
        if self._gen is None:
            self._gen = self._events()
        return await anext(self._gen)

    async def aclose(self) -> None:
        """Close the underlying HTTP stream."""
        self._closed = True
        gen, self._gen = self._gen, None
        if gen is not None:
            await gen.aclose()  # type: ignore[attr-defined]

    async def _events(self) -> AsyncIterator[WatchEvent]:
        while True:
            params = _params(
                watch=True,
                allowWatchBookmarks=True,
                labelSelector=self._label_selector,
                fieldSelector=self._field_selector,
                resourceVersion=self.resource_version,
                timeoutSeconds=self._timeout_seconds,
            )
            read_timeout = None if self._timeout_seconds is None else self._timeout_seconds + 30.0
            accept = _ACCEPT_METADATA if self._metadata_only else None
            try:
                resp = await self._client._stream(self._path, params, read_timeout, accept)
                try:
                    if resp.status_code >= 400:
                        await resp.aread()
                        raise _error(_raw(resp))
                    async for line in resp.aiter_lines():
                        if not line.strip():
                            continue
                        event = _parse_event(line)
                        if event.type is WatchEventType.ERROR:
                            raise error_from_status(event.object)
                        if self._metadata_only:
                            event = WatchEvent(event.type, partial_object_metadata(event.object))
                        rv = event.resource_version
                        if rv:
                            self.resource_version = rv
                        if event.type is WatchEventType.BOOKMARK and not self._yield_bookmarks:
                            continue
                        yield event
                finally:
                    await resp.aclose()
            except httpx.TransportError as exc:
                raise TransportError(f"watch {self._path}: {exc!r}") from exc
            if not self._resume:
                return


TransportChoice = Literal["lean", "httpx"] | httpx.AsyncBaseTransport


def _make_transport(
    choice: TransportChoice, ssl_context: ssl.SSLContext | None, limit: int | None
) -> httpx.AsyncBaseTransport:
    if not isinstance(choice, str):
        return choice
    if choice == "lean":
        return LeanTransport(ssl_context=ssl_context, max_connections=limit)
    if choice == "httpx":
        return httpx.AsyncHTTPTransport(
            verify=ssl_context if ssl_context is not None else True,
            http1=True,
            http2=False,
            limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
            # httpx writes headers and body separately; without TCP_NODELAY Nagle's algorithm
            # plus the server's delayed ACK adds ~40 ms to every request with a body.
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )
    raise ValueError(f"unknown transport {choice!r}; use 'lean', 'httpx' or a transport")


def _parse_event(line: str) -> WatchEvent:
    try:
        raw = orjson.loads(line)
        etype = WatchEventType(raw["type"])
        obj = raw["object"]
    except (orjson.JSONDecodeError, KeyError, ValueError, TypeError) as exc:
        raise ApiError(
            {"code": 500, "reason": "InternalError", "message": f"bad watch event: {exc}"}
        ) from exc
    if not isinstance(obj, dict):
        raise ApiError(
            {"code": 500, "reason": "InternalError", "message": "watch object not a map"}
        )
    return WatchEvent(etype, obj)


def _delete_options(
    grace_period_seconds: int | None,
    propagation_policy: str | None,
    preconditions: Preconditions | None,
    dry_run: bool,
) -> dict[str, Any]:
    opts: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
    if grace_period_seconds is not None:
        opts["gracePeriodSeconds"] = grace_period_seconds
    if propagation_policy is not None:
        opts["propagationPolicy"] = propagation_policy
    if preconditions is not None:
        opts["preconditions"] = preconditions.to_json()
    if dry_run:
        opts["dryRun"] = ["All"]
    return opts


def _raw(resp: httpx.Response) -> RawResponse:
    return RawResponse(
        resp.status_code, resp.reason_phrase.encode("latin-1"), resp.headers.raw, resp.content
    )


def _retry_after(resp: RawResponse) -> float | None:
    value = resp.header("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _error(resp: RawResponse) -> ApiError:
    """Translate a failure response to the error tree (a ``Status`` body if there is one)."""
    status: dict[str, Any] = {}
    try:
        body = orjson.loads(resp.content) if resp.content else None
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict) and body.get("kind") == "Status":
        status = body
    else:
        text = resp.content.decode(errors="replace").strip() if resp.content else ""
        status = {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": text or resp.reason.decode("latin-1"),
            "code": resp.status,
        }
    return error_from_status(status, resp.status)
