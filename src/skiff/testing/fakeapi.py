"""An in-memory fake Kubernetes API server for client tests, served over real loopback HTTP.

Use it for fault injection only (failures with Retry-After, dropped and expired watches, compacted
history, server restarts, request logs); everything else runs against the real API server
in-process (`skiff.testing.apiserver`). Selectors are parsed and matched with the API server's own
code (`skiff.api.selector`), merge patches with `skiff.api.patch.merge_patch`.

`FakeApiState` holds objects of any registry resource under one global resourceVersion counter and
keeps a bounded window of change events (older watches get 410 Expired, like the apiserver watch
cache). `fake_api_app` exposes it with the standard REST layout (get/list with label/field selectors
and ``limit``/``continue``, watch with bookmarks and ``timeoutSeconds``, create, update, merge
patch, delete with preconditions, deletecollection, ``status`` subresource, pod ``binding``).
`FakeApiServer` runs that app with uvicorn on 127.0.0.1 in the test's event loop; it can be stopped
and started again on the same port with the same state (a server restart).

Test controls: `FakeApiState.compact` (drop the event window so old resourceVersions expire),
`FakeApiState.drop_watches` (end every open watch, optionally with an ERROR 410 event),
`FakeApiState.send_bookmarks`, `FakeApiState.fail_next` (answer the next requests with an error
and ``Retry-After``), `FakeApiState.requests` (a log of what the clients asked) and
`FakeApiState.accepts` (the ``Accept`` header of each request).

Metadata-only requests are answered as the API server answers client-go's metadata client: an
``Accept`` of ``application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`` on a list gets a
``PartialObjectMetadataList``, ``...;as=PartialObjectMetadata;...`` on a get or a watch gets each
object as a ``PartialObjectMetadata`` (``FakeApiState.ignore_metadata_accept`` turns this off, to
play a server that does not know the parameters and sends whole objects).

Not implemented on purpose: strategic-merge, JSON and apply patches (415), graceful deletion,
finalizers, generation bookkeeping, admission; the real server covers those.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import socket
import ssl
import uuid
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from skiff.api import resources
from skiff.api.patch import merge_patch
from skiff.api.resources import ResourceInfo
from skiff.api.selector import (
    SelectorError,
    object_fields,
    parse_label_selector,
    validate_field_selector,
)
from skiff.util.clock import format_epoch_time

__all__ = [
    "ApiFailure",
    "FakeApiServer",
    "FakeApiState",
    "fake_api_app",
    "status_body",
]

Obj = dict[str, Any]


class ApiFailure(Exception):
    """Raised by state operations; becomes a ``Status`` response."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message

    def status(self) -> Obj:
        return status_body(self.code, self.reason, self.message)


def status_body(code: int, reason: str, message: str) -> Obj:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


@dataclass(frozen=True)
class _Event:
    rv: int
    resource: ResourceInfo
    namespace: str
    type: str
    object: Obj
    previous: Obj | None


class FakeApiState:
    """Objects, the global resourceVersion and the event window. All mutations are synchronous."""

    def __init__(self, *, window: int = 1000, clock_time: float = 1_750_000_000.0) -> None:
        self.rv = 0
        self.objects: dict[tuple[ResourceInfo, str, str], Obj] = {}
        self.events: deque[_Event] = deque(maxlen=window)
        # Events with rv > floor are still known; watching from an rv < floor means 410.
        self.floor = 0
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.accepts: list[str] = []
        self.ignore_metadata_accept = False
        self._failures: deque[tuple[int, float | None]] = deque()
        self._changed = asyncio.Event()
        self._watch_epoch = 0
        self._expire_epoch = False
        self._bookmark_epoch = 0
        self._time = clock_time
        # False while the server is shutting down: requests on kept-alive connections are refused
        # and watches end, as when a real server process goes away.
        self.serving = True
        self.active_watches = 0
        self.required_token: str | None = None
        """When set, requests without ``Authorization: Bearer <token>`` get 401."""
        """Watch streams currently open (tests wait on it before dropping watches)."""

    # -- plumbing ---------------------------------------------------------------------------

    def _now(self) -> str:
        self._time += 1
        return format_epoch_time(self._time)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _record(self, resource: ResourceInfo, etype: str, obj: Obj, previous: Obj | None) -> None:
        if len(self.events) == self.events.maxlen and self.events:
            self.floor = self.events[0].rv
        ns = str(obj["metadata"].get("namespace") or "")
        self.events.append(_Event(self.rv, resource, ns, etype, copy.deepcopy(obj), previous))
        self._notify()

    def _bump(self, obj: Obj) -> None:
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)

    def fail_next(self, code: int, *, count: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``count`` requests with HTTP ``code`` (and ``Retry-After``)."""
        for _ in range(count):
            self._failures.append((code, retry_after))

    def take_failure(self) -> tuple[int, float | None] | None:
        return self._failures.popleft() if self._failures else None

    def compact(self) -> None:
        """Forget all past events: any watch from an older resourceVersion now gets 410."""
        self.events.clear()
        self.floor = self.rv

    def drop_watches(self, *, expire: bool = False) -> None:
        """End every open watch stream; with ``expire`` each first gets an ERROR 410 event."""
        self._watch_epoch += 1
        self._expire_epoch = expire
        self._notify()

    def send_bookmarks(self) -> None:
        """Make every open watch that asked for bookmarks send one at the current resourceVersion."""
        self._bookmark_epoch += 1
        self._notify()

    # -- verbs ------------------------------------------------------------------------------

    def get(self, resource: ResourceInfo, namespace: str, name: str) -> Obj:
        obj = self.objects.get((resource, namespace, name))
        if obj is None:
            raise ApiFailure(404, "NotFound", f'{resource.group_resource} "{name}" not found')
        return copy.deepcopy(obj)

    def list(
        self,
        resource: ResourceInfo,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[Obj]:
        matches = _matcher(resource, label_selector, field_selector)
        out = [
            copy.deepcopy(obj)
            for (res, ns, _), obj in sorted(self.objects.items(), key=lambda kv: kv[0][1:])
            if res == resource and (namespace is None or ns == namespace) and matches(obj)
        ]
        return out

    def create(self, resource: ResourceInfo, obj: Obj, namespace: str | None = None) -> Obj:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if resource.namespaced:
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        if not meta.get("name"):
            if meta.get("generateName"):
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
            else:
                raise ApiFailure(422, "Invalid", "metadata.name: Required value")
        ns = str(meta.get("namespace") or "")
        key = (resource, ns, meta["name"])
        if key in self.objects:
            raise ApiFailure(
                409, "AlreadyExists", f'{resource.group_resource} "{meta["name"]}" already exists'
            )
        obj["apiVersion"] = resource.api_version
        obj["kind"] = resource.kind
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self._now()
        meta.setdefault("generation", 1)
        self._bump(obj)
        self.objects[key] = obj
        self._record(resource, "ADDED", obj, None)
        return copy.deepcopy(obj)

    def update(self, resource: ResourceInfo, obj: Obj, *, subresource: str | None = None) -> Obj:
        meta = obj.get("metadata") or {}
        ns = str(meta.get("namespace") or "") if resource.namespaced else ""
        key = (resource, ns, str(meta.get("name") or ""))
        current = self.objects.get(key)
        if current is None:
            raise ApiFailure(404, "NotFound", f'{resource.group_resource} "{key[2]}" not found')
        given_rv = meta.get("resourceVersion")
        if given_rv and given_rv != current["metadata"]["resourceVersion"]:
            raise ApiFailure(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {resource.group_resource} "{key[2]}": '
                "the object has been modified; please apply your changes to the latest version "
                "and try again",
            )
        previous = copy.deepcopy(current)
        if subresource == "status":
            new = copy.deepcopy(current)
            new["status"] = copy.deepcopy(obj.get("status"))
        else:
            new = copy.deepcopy(obj)
            if resource.has_status:
                new["status"] = copy.deepcopy(current.get("status"))
            for field in ("uid", "creationTimestamp", "namespace", "generation"):
                if field in current["metadata"]:
                    new["metadata"][field] = current["metadata"][field]
        new["apiVersion"] = resource.api_version
        new["kind"] = resource.kind
        if _without_rv(new) == _without_rv(current):
            return copy.deepcopy(current)  # no-op updates do not bump the resourceVersion
        self._bump(new)
        self.objects[key] = new
        self._record(resource, "MODIFIED", new, previous)
        return copy.deepcopy(new)

    def patch(
        self,
        resource: ResourceInfo,
        namespace: str,
        name: str,
        patch: Any,
        *,
        subresource: str | None = None,
    ) -> Obj:
        current = self.get(resource, namespace, name)
        patched = merge_patch(current, patch)
        if not isinstance(patched, dict):
            raise ApiFailure(422, "Invalid", "patch must produce an object")
        patched.setdefault("metadata", {})
        patched["metadata"]["name"] = name
        if resource.namespaced:
            patched["metadata"]["namespace"] = namespace
        if "resourceVersion" not in (patch.get("metadata") or {}):
            patched["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return self.update(resource, patched, subresource=subresource)

    def delete(
        self,
        resource: ResourceInfo,
        namespace: str,
        name: str,
        *,
        preconditions: Mapping[str, Any] | None = None,
    ) -> Obj:
        key = (resource, namespace, name)
        current = self.objects.get(key)
        if current is None:
            raise ApiFailure(404, "NotFound", f'{resource.group_resource} "{name}" not found')
        pre = preconditions or {}
        if pre.get("uid") and pre["uid"] != current["metadata"].get("uid"):
            raise ApiFailure(409, "Conflict", "Precondition failed: UID in precondition")
        if pre.get("resourceVersion") and pre["resourceVersion"] != current["metadata"].get(
            "resourceVersion"
        ):
            raise ApiFailure(
                409, "Conflict", "Precondition failed: ResourceVersion in precondition"
            )
        del self.objects[key]
        final = copy.deepcopy(current)
        self._bump(final)
        self._record(resource, "DELETED", final, current)
        return copy.deepcopy(final)

    # -- watch ------------------------------------------------------------------------------

    async def watch(
        self,
        resource: ResourceInfo,
        namespace: str | None,
        *,
        resource_version: str | None,
        label_selector: str | None,
        field_selector: str | None,
        bookmarks: bool,
        timeout_seconds: float | None,
    ) -> AsyncIterator[Obj]:
        self.active_watches += 1
        events = self._watch_events(
            resource,
            namespace,
            resource_version=resource_version,
            label_selector=label_selector,
            field_selector=field_selector,
            bookmarks=bookmarks,
            timeout_seconds=timeout_seconds,
        )
        try:
            async with contextlib.aclosing(events):
                async for event in events:
                    yield event
        finally:
            self.active_watches -= 1

    async def _watch_events(
        self,
        resource: ResourceInfo,
        namespace: str | None,
        *,
        resource_version: str | None,
        label_selector: str | None,
        field_selector: str | None,
        bookmarks: bool,
        timeout_seconds: float | None,
    ) -> AsyncGenerator[Obj, None]:
        matches = _matcher(resource, label_selector, field_selector)

        def visible(obj: Obj | None) -> bool:
            return obj is not None and matches(obj)

        epoch = self._watch_epoch
        bookmark_epoch = self._bookmark_epoch
        if not resource_version or resource_version == "0":
            for obj in self.list(
                resource, namespace, label_selector=label_selector, field_selector=field_selector
            ):
                yield {"type": "ADDED", "object": obj}
            last = self.rv
        else:
            last = int(resource_version)
            if last < self.floor:
                yield {
                    "type": "ERROR",
                    "object": status_body(
                        410, "Expired", f"too old resource version: {last} ({self.rv})"
                    ),
                }
                return
        loop = asyncio.get_running_loop()
        deadline = None if timeout_seconds is None else loop.time() + timeout_seconds
        while True:
            for event in list(self.events):
                if event.rv <= last:
                    continue
                last = event.rv
                if event.resource != resource or (
                    namespace is not None and event.namespace != namespace
                ):
                    continue
                now_visible = event.type != "DELETED" and visible(event.object)
                was_visible = visible(event.previous)
                if event.type == "DELETED":
                    if was_visible:
                        yield {"type": "DELETED", "object": copy.deepcopy(event.object)}
                elif now_visible:
                    etype = "MODIFIED" if was_visible else "ADDED"
                    yield {"type": etype, "object": copy.deepcopy(event.object)}
                elif was_visible:
                    yield {"type": "DELETED", "object": copy.deepcopy(event.object)}
            last = max(last, self.rv)
            if self._watch_epoch != epoch or not self.serving:
                if self._expire_epoch:
                    yield {
                        "type": "ERROR",
                        "object": status_body(410, "Expired", "watch expired by test"),
                    }
                return
            if bookmarks and self._bookmark_epoch != bookmark_epoch:
                bookmark_epoch = self._bookmark_epoch
                yield _bookmark(resource, last)
            changed = self._changed
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                if bookmarks:
                    yield _bookmark(resource, last)
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)


def _matcher(
    resource: ResourceInfo, label_selector: str | None, field_selector: str | None
) -> Callable[[Obj], bool]:
    """A predicate for objects matching both selectors, parsed by the API server's own parser
    (``skiff.api.selector``); a bad selector is a 400 as on the real server."""
    try:
        labels = parse_label_selector(label_selector or "")
        fields = validate_field_selector(resource.kind, field_selector or "")
    except SelectorError as exc:
        raise ApiFailure(400, "BadRequest", str(exc)) from exc

    def matches(obj: Obj) -> bool:
        meta = obj.get("metadata") or {}
        if not labels.matches(meta.get("labels") or {}):
            return False
        return fields.empty or fields.matches(object_fields(resource.kind, obj))

    return matches


def _without_rv(obj: Obj) -> Obj:
    out = dict(obj)
    out["metadata"] = {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}
    return out


def _bookmark(resource: ResourceInfo, rv: int) -> Obj:
    return {
        "type": "BOOKMARK",
        "object": {
            "kind": resource.kind,
            "apiVersion": resource.api_version,
            "metadata": {"resourceVersion": str(rv)},
        },
    }


# -- HTTP -----------------------------------------------------------------------------------


def _json(body: Any, code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=code, media_type="application/json")


def _parse_path(path: str) -> tuple[ResourceInfo, str | None, str | None, str | None]:
    """(resource, namespace, name, subresource) for a REST path; raises 404 if not served."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise ApiFailure(
            404, "NotFound", f"the server could not find the requested resource ({path})"
        )
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        candidate = resources.by_resource(group, version, rest[2])
        if candidate is not None and candidate.namespaced:
            namespace, rest = rest[1], rest[2:]
    if not rest:
        raise ApiFailure(404, "NotFound", "the server could not find the requested resource")
    info = resources.by_resource(group, version, rest[0])
    if info is None:
        raise ApiFailure(
            404, "NotFound", f"the server could not find the requested resource ({path})"
        )
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if len(rest) > 3 or (sub is not None and info.subresource(sub) is None):
        raise ApiFailure(404, "NotFound", "the server could not find the requested resource")
    return info, namespace, name, sub


def _encode_continue(key: tuple[str, str], rv: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([key[0], key[1], rv])).decode()


def _decode_continue(token: str) -> tuple[tuple[str, str], int]:
    try:
        ns, name, rv = orjson.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise ApiFailure(400, "BadRequest", "invalid continue token") from exc
    return (str(ns), str(name)), int(rv)


def fake_api_app(state: FakeApiState) -> Starlette:
    """The starlette app serving ``state``."""

    async def handle(request: Request) -> Response:
        query = dict(request.query_params)
        if not state.serving:
            body = status_body(503, "ServiceUnavailable", "server is shutting down")
            return Response(
                orjson.dumps(body),
                status_code=503,
                headers={"Connection": "close"},
                media_type="application/json",
            )
        if state.required_token is not None and (
            request.headers.get("authorization") != f"Bearer {state.required_token}"
        ):
            return _json(status_body(401, "Unauthorized", "Unauthorized"), 401)
        state.requests.append((request.method, request.url.path, query))
        state.accepts.append(request.headers.get("accept", ""))
        failure = state.take_failure()
        if failure is not None:
            code, retry_after = failure
            headers = {} if retry_after is None else {"Retry-After": str(int(retry_after))}
            body = status_body(
                code, "TooManyRequests" if code == 429 else "InternalError", "injected"
            )
            return Response(
                orjson.dumps(body), status_code=code, headers=headers, media_type="application/json"
            )
        try:
            return await _dispatch(state, request, query)
        except ApiFailure as exc:
            return _json(exc.status(), exc.code)

    return Starlette(
        routes=[Route("/{path:path}", handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])]
    )


async def _dispatch(state: FakeApiState, request: Request, query: dict[str, str]) -> Response:
    info, namespace, name, sub = _parse_path(request.url.path)
    method = request.method
    body: Any = None
    raw = await request.body()
    if raw:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ApiFailure(400, "BadRequest", f"invalid JSON body: {exc}") from exc
    ns = namespace or ""
    accept = "" if state.ignore_metadata_accept else request.headers.get("accept", "")
    if name is None:
        if method == "GET" and query.get("watch") in ("true", "1", "True"):
            metadata = "as=PartialObjectMetadata;" in accept
            return _watch_response(state, info, namespace, query, metadata_only=metadata)
        if method == "GET":
            listing = _list(state, info, namespace, query)
            if "as=PartialObjectMetadataList;" in accept:
                listing = _partial_list(listing)
            return _json(listing)
        if method == "POST":
            if not isinstance(body, dict):
                raise ApiFailure(400, "BadRequest", "body must be an object")
            return _json(state.create(info, body, namespace), 201)
        if method == "DELETE":
            items = state.list(
                info,
                namespace,
                label_selector=query.get("labelSelector"),
                field_selector=query.get("fieldSelector"),
            )
            deleted = [
                state.delete(info, str(o["metadata"].get("namespace") or ""), o["metadata"]["name"])
                for o in items
            ]
            return _json(
                {
                    "kind": info.list_kind,
                    "apiVersion": info.api_version,
                    "metadata": {"resourceVersion": str(state.rv)},
                    "items": deleted,
                }
            )
        raise ApiFailure(405, "MethodNotAllowed", f"{method} not allowed on a collection")
    if sub == "binding" and method == "POST":
        pod = state.get(info, ns, name)
        target = ((body or {}).get("target") or {}).get("name")
        if pod.get("spec", {}).get("nodeName"):
            raise ApiFailure(409, "Conflict", f"pod {name} is already assigned to a node")
        return _json(state.patch(info, ns, name, {"spec": {"nodeName": target}}), 201)
    if sub == "eviction" and method == "POST":
        state.delete(info, ns, name)
        return _json(status_body(201, "", "evicted") | {"status": "Success"}, 201)
    if method == "GET":
        obj = state.get(info, ns, name)
        return _json(_partial(obj) if "as=PartialObjectMetadata;" in accept else obj)
    if method == "PUT":
        if not isinstance(body, dict):
            raise ApiFailure(400, "BadRequest", "body must be an object")
        meta = body.setdefault("metadata", {})
        if meta.get("name") != name:
            raise ApiFailure(400, "BadRequest", "the name of the object does not match the URL")
        if info.namespaced:
            meta["namespace"] = ns
        return _json(state.update(info, body, subresource=sub))
    if method == "PATCH":
        ctype = request.headers.get("content-type", "")
        if not ctype.startswith("application/merge-patch+json"):
            raise ApiFailure(
                415, "UnsupportedMediaType", f"the fake API only does merge patch, not {ctype}"
            )
        if not isinstance(body, dict):
            raise ApiFailure(400, "BadRequest", "merge patch must be an object")
        return _json(state.patch(info, ns, name, body, subresource=sub))
    if method == "DELETE":
        pre = (body or {}).get("preconditions") if isinstance(body, dict) else None
        return _json(state.delete(info, ns, name, preconditions=pre))
    raise ApiFailure(405, "MethodNotAllowed", f"{method} not allowed")


def _list(
    state: FakeApiState, info: ResourceInfo, namespace: str | None, query: dict[str, str]
) -> Obj:
    items = state.list(
        info,
        namespace,
        label_selector=query.get("labelSelector"),
        field_selector=query.get("fieldSelector"),
    )
    rv = state.rv
    meta: Obj = {"resourceVersion": str(rv)}
    token = query.get("continue")
    if token:
        after, token_rv = _decode_continue(token)
        if token_rv < state.floor:
            raise ApiFailure(410, "Expired", "The provided continue parameter is too old")
        items = [
            o
            for o in items
            if (str(o["metadata"].get("namespace") or ""), o["metadata"]["name"]) > after
        ]
    limit = int(query.get("limit") or 0)
    if limit and len(items) > limit:
        items = items[:limit]
        last = items[-1]["metadata"]
        meta["continue"] = _encode_continue((str(last.get("namespace") or ""), last["name"]), rv)
    return {
        "kind": info.list_kind,
        "apiVersion": info.api_version,
        "metadata": meta,
        "items": items,
    }


def _partial(obj: Obj) -> Obj:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata") or {},
    }


def _partial_list(listing: Obj) -> Obj:
    return {
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": listing["metadata"],
        "items": [_partial(o) for o in listing["items"]],
    }


def _watch_response(
    state: FakeApiState,
    info: ResourceInfo,
    namespace: str | None,
    query: dict[str, str],
    *,
    metadata_only: bool = False,
) -> Response:
    rv = query.get("resourceVersion")
    if rv and rv != "0" and int(rv) < state.floor:
        # Some servers answer 410 on the request itself rather than in the stream.
        raise ApiFailure(410, "Expired", f"too old resource version: {rv} ({state.rv})")
    timeout = float(query["timeoutSeconds"]) if query.get("timeoutSeconds") else None
    _matcher(info, query.get("labelSelector"), query.get("fieldSelector"))  # 400 before streaming

    async def lines() -> AsyncIterator[bytes]:
        async for event in state.watch(
            info,
            namespace,
            resource_version=rv,
            label_selector=query.get("labelSelector"),
            field_selector=query.get("fieldSelector"),
            bookmarks=query.get("allowWatchBookmarks") in ("true", "1"),
            timeout_seconds=timeout,
        ):
            if metadata_only and event["type"] != "ERROR":
                event = {"type": event["type"], "object": _partial(event["object"])}
            yield orjson.dumps(event) + b"\n"

    return StreamingResponse(lines(), media_type="application/json")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The test process owns signal handling; an in-loop test server must not take it over.
        yield


class FakeApiServer:
    """Serves a `FakeApiState` on ``http://127.0.0.1:<port>``; `stop` and `start` keep the port.

    Use ``async with FakeApiServer() as server:``; ``server.url`` is the base URL.
    """

    def __init__(
        self,
        state: FakeApiState | None = None,
        *,
        certfile: str | None = None,
        keyfile: str | None = None,
        client_ca_file: str | None = None,
    ) -> None:
        """``certfile``/``keyfile`` serve HTTPS; ``client_ca_file`` also requires a client
        certificate signed by that CA (mutual TLS)."""
        self.state = state or FakeApiState()
        self.port = 0
        self._tls = (certfile, keyfile, client_ca_file)
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self._tls[0] else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    async def __aenter__(self) -> FakeApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit this; without it uvicorn's separate header/body writes meet
        # the client's delayed ACK and every request takes ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            fake_api_app(self.state),
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
            access_log=False,
            ssl_certfile=self._tls[0],
            ssl_keyfile=self._tls[1],
            ssl_ca_certs=self._tls[2],
            ssl_cert_reqs=ssl.CERT_REQUIRED if self._tls[2] else ssl.CERT_NONE,
        )
        self._server = _Server(config)
        self.state.serving = True
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                await self._task
                raise RuntimeError("fake API server failed to start")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        """Stop serving: open watches end, connections close; objects and resourceVersion stay."""
        if self._task is None or self._server is None:
            return
        self.state.serving = False
        self.state.drop_watches()
        self._server.should_exit = True
        try:
            await self._task
        finally:
            self._task = None
            self._server = None
