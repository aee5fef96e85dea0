"""Routes compiled once: which handler answers which (path shape, method).

kube-apiserver's installer (``endpoints/installer.go``) registers, for every resource, the routes
its storage implements: a collection (list, watch, create, deletecollection), a named object
(get, update, patch, delete) and one route per subresource whose methods follow the interfaces the
subresource's storage satisfies (``rest.Getter`` → GET, ``rest.Updater`` → PUT, ``rest.Patcher``
→ PATCH, ``rest.Creater`` → POST, ``rest.Connecter`` → its ``ConnectMethods()``). starlette
compiles each route's path once (``routing.py`` ``compile_path``) and a route matching the path
but not the method yields a 405 from one place.

Here the table is a dict built once at startup: ``RouteTable.match`` splits a request path once,
looks its shape up and returns the ``Route`` with a ``Target`` (namespace, name, subresource and,
for proxies, the path tail); ``Route.handler(method)`` is the only place a 405 is decided. Which
methods a route has is the caller's declaration (``skiff.apiserver.app`` builds it from
``skiff.api.resources`` and the subresource storages in ``skiff.apiserver.subresources``); this
module only matches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skiff.api.resources import ResourceInfo
from skiff.apiserver.errors import ApiError

__all__ = [
    "Handler",
    "Route",
    "RouteTable",
    "Target",
    "WebSocketHandler",
    "not_found_path",
]


@dataclass
class Target:
    """What a resource path names."""

    info: ResourceInfo
    namespace: str
    name: str
    subresource: str
    # the rest of the path after a proxy subresource ("" when there is none, "/" for ".../proxy/")
    tail: str = ""


# Handlers are bound methods of the HTTP layer: (request, route, target, user) -> response, the
# target being None for a group/version's discovery route. They are typed loosely here so this
# module stays free of starlette and of the app.
Handler = Callable[[Any, "Route", Any, Any], Awaitable[Any]]
WebSocketHandler = Callable[[Any, "Route", Target, Any], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """One path shape of one resource and the handler of each method it serves.

    ``info`` is None for a group/version's discovery document (``/api/v1``, ``/apis/g/v``).
    ``methods`` maps an HTTP method to its handler; ``refusals`` gives a friendlier 405 message
    for a method the route does not serve (``{method}`` and ``{name}`` are filled in).
    ``websocket`` is the handler a WebSocket upgrade reaches (connect subresources only);
    ``storage`` is the subresource storage the handlers call; ``tail`` says a path may follow
    the subresource (proxies).
    """

    info: ResourceInfo | None
    subresource: str = ""
    named: bool = False
    # whether the path carries ``namespaces/{namespace}`` (namespaced resources have both forms
    # for collections: one namespace, and every namespace)
    namespaced: bool = False
    methods: Mapping[str, Handler] = field(default_factory=dict)
    refusals: Mapping[str, str] = field(default_factory=dict)
    default_refusal: str = ""
    websocket: WebSocketHandler | None = None
    storage: Any = None
    tail: bool = False

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(sorted(self.methods))

    def handler(self, method: str, target: Target | None = None) -> Handler:
        """The handler for ``method``; 405 with the allowed methods when there is none."""
        found = self.methods.get(method)
        if found is not None:
            return found
        template = self.refusals.get(method) or self.default_refusal or self._generic()
        name = target.name if target is not None else ""
        message = template.format(method=method, name=name)
        allowed = self.allowed
        if allowed:
            message += f" (allowed: {', '.join(allowed)})"
        headers = {"Allow": ", ".join(allowed)} if allowed else {}
        raise ApiError(405, "MethodNotAllowed", message, headers=headers)

    def _generic(self) -> str:
        if self.info is None:
            return "{method} is not supported on a group/version discovery document"
        if self.subresource:
            return f"{{method}} is not supported on {self.info.plural}/{self.subresource}"
        if self.named:
            return f"{{method}} is not supported on {self.info.plural}/{{name}}"
        return "{method} is not supported on a collection"


def not_found_path(path: str) -> ApiError:
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


def _no_resource(plural: str, group: str, version: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        "the server could not find the requested resource",
        details={
            "causes": [
                {
                    "reason": "UnexpectedServerResponse",
                    "message": f"no resource {plural!r} in {group or 'core'}/{version}",
                }
            ]
        },
    )


_Key = tuple[str, str, str, bool, bool, str]  # group, version, plural, named, namespaced, sub


class RouteTable:
    """Routes keyed by path shape, built once; ``match`` is a split and two dict lookups."""

    def __init__(self) -> None:
        self._routes: dict[_Key, Route] = {}
        self._group_versions: dict[tuple[str, str], Route] = {}
        self._resources: dict[tuple[str, str, str], ResourceInfo] = {}

    def add(self, route: Route) -> None:
        info = route.info
        if info is None:
            raise ValueError("resource routes need a ResourceInfo; use add_group_version")
        key = (
            info.group,
            info.version,
            info.plural,
            route.named,
            route.namespaced,
            route.subresource,
        )
        if key in self._routes:
            raise ValueError(f"duplicate route {key}")
        self._routes[key] = route
        self._resources[(info.group, info.version, info.plural)] = info

    def add_group_version(self, group: str, version: str, route: Route) -> None:
        self._group_versions[(group, version)] = route

    def has_group_version(self, group: str, version: str) -> bool:
        return (group, version) in self._group_versions

    def remove_resource(self, info: ResourceInfo) -> None:
        """Drop every route of ``info``'s resource (a custom resource that is no longer
        served), and its group/version's discovery route once nothing else is served there."""
        gvr = (info.group, info.version, info.plural)
        for key in [k for k in self._routes if k[:3] == gvr]:
            del self._routes[key]
        self._resources.pop(gvr, None)
        if not any(k[:2] == gvr[:2] for k in self._resources):
            self._group_versions.pop(gvr[:2], None)

    def routes(self) -> Iterable[Route]:
        return self._routes.values()

    def match(self, path: str) -> tuple[Route, Target | None]:
        """The route for a resource path, with what it names (None for a discovery document).

        Raises 404 (a Status) for a path no route has; never 405 (that is ``Route.handler``).
        """
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] not in ("api", "apis"):
            raise not_found_path(path)
        if parts[0] == "api":
            if len(parts) < 2:
                raise not_found_path(path)
            group, version, rest = "", parts[1], parts[2:]
        else:
            if len(parts) < 3:
                raise not_found_path(path)
            group, version, rest = parts[1], parts[2], parts[3:]
        if not rest:
            gv_route = self._group_versions.get((group, version))
            if gv_route is None:
                raise not_found_path(path)
            return gv_route, None
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            inner = self._resources.get((group, version, rest[2]))
            if inner is not None and inner.namespaced:
                namespace, rest = rest[1], rest[2:]
        info = self._resources.get((group, version, rest[0]))
        if info is None:
            raise _no_resource(rest[0], group, version)
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        key = (group, version, info.plural, bool(name), bool(namespace), sub)
        route = self._routes.get(key)
        if len(rest) > 3 and (route is None or not route.tail):
            raise _no_resource(rest[0], group, version)
        if route is None:
            # a named object of a namespaced resource outside a namespace, a subresource the
            # resource does not have
            raise not_found_path(path)
        tail = _tail(path, len(parts) - len(rest) + 3) if route.tail else ""
        return route, Target(info, namespace, name, sub, tail)


def _tail(path: str, head: int) -> str:
    """What follows the first ``head`` non-empty segments of ``path``, slashes kept as sent."""
    raw = path.split("/")
    seen = 0
    for i, segment in enumerate(raw):
        if segment:
            seen += 1
            if seen == head:
                rest = raw[i + 1 :]
                return "/" + "/".join(rest) if rest else ""
    return ""
