"""The route table, built once at startup from ``skiff.api.resources`` and the storages.

As kube-apiserver's ``endpoints/installer.go`` (``registerResourceHandlers``) does: a collection
answers list/watch (GET), create (POST) and deletecollection (DELETE) as the resource's verbs
allow, and a namespaced resource also has the all-namespaces collection (list and watch); a
named object answers get, update, patch and delete; create-only resources (the reviews) answer
POST. A subresource's methods follow the interfaces its storage implements
(``skiff.apiserver.subresources``: ``Getter`` GET, ``Updater`` PUT, ``Patcher`` PATCH, ``Creater``
POST; ``skiff.apiserver.connect.Connecter``: its ``connect_methods``, and WebSocket upgrades). A
subresource listed in discovery without a storage is a startup error, so discovery never
promises a route that is not there.
"""

from __future__ import annotations

from dataclasses import dataclass

from skiff.api import resources as kinds
from skiff.api.resources import ResourceInfo
from skiff.apiserver.connect import Connecter
from skiff.apiserver.nodeproxy import CONNECTERS
from skiff.apiserver.routes import Handler, Route, RouteTable, WebSocketHandler
from skiff.apiserver.subresources import (
    COLLECTION_STORAGE,
    STORAGE,
    Creater,
    Getter,
    Patcher,
    Updater,
)

__all__ = ["Handlers", "install_resource", "install_routes"]


@dataclass(frozen=True)
class Handlers:
    """The HTTP layer's handler for each kind of route."""

    group_version: Handler  # GET /api/v1, /apis/<group>/<version>
    review: Handler  # POST of a create-only resource
    list: Handler  # GET of a collection: list, or watch with ?watch
    create: Handler
    delete_collection: Handler
    get: Handler
    update: Handler
    patch: Handler
    delete: Handler
    sub_get: Handler  # the subresource handlers call ``route.storage``
    sub_update: Handler
    sub_patch: Handler
    sub_create: Handler
    connect: Handler
    websocket_connect: WebSocketHandler


def install_routes(
    handlers: Handlers, resources: tuple[ResourceInfo, ...] = kinds.RESOURCES
) -> RouteTable:
    """Every route of ``resources``, in one table."""
    table = RouteTable()
    seen: set[tuple[str, str]] = set()
    for info in resources:
        if (info.group, info.version) not in seen:
            seen.add((info.group, info.version))
            route = Route(None, methods={"GET": handlers.group_version})
            table.add_group_version(info.group, info.version, route)
        for route in _resource_routes(handlers, info):
            table.add(route)
    return table


def install_resource(
    table: RouteTable,
    handlers: Handlers,
    info: ResourceInfo,
    storages: dict[str, object] | None = None,
) -> None:
    """Add the routes of one resource to a built table (a custom resource coming to be
    served); ``storages`` overrides subresource storages by name (a custom resource's scale)."""
    if not table.has_group_version(info.group, info.version):
        route = Route(None, methods={"GET": handlers.group_version})
        table.add_group_version(info.group, info.version, route)
    for route in _resource_routes(handlers, info, storages or {}):
        table.add(route)


def _resource_routes(
    h: Handlers, info: ResourceInfo, storages: dict[str, object] | None = None
) -> list[Route]:
    if not info.persisted:
        refusal = f"{info.plural} only supports create: POST a {info.kind} to ask the question"
        review = {"POST": h.review}
        creater = COLLECTION_STORAGE.get((info.group, info.plural))
        if creater is not None:  # bindings: POST answered by a storage, in a namespace only
            refusal = f"{info.plural} only supports create: POST a {info.kind}"
            posting = Route(
                info,
                namespaced=True,
                methods={"POST": h.sub_create},
                default_refusal=refusal,
                storage=creater,
            )
            item = Route(info, named=True, namespaced=True, default_refusal=refusal)
            return [posting, Route(info, default_refusal=refusal), item]
        routes = [Route(info, methods=review, default_refusal=refusal)]
        if info.namespaced:
            routes.append(Route(info, namespaced=True, methods=review, default_refusal=refusal))
        routes.append(Route(info, named=True, default_refusal=refusal))
        return routes
    collection: dict[str, Handler] = {"GET": h.list, "POST": h.create}
    refusals: dict[str, str] = {}
    if "deletecollection" in info.verbs:
        collection["DELETE"] = h.delete_collection
    else:
        refusals["DELETE"] = f"deletecollection is not supported on {info.plural}"
    named: dict[str, Handler] = {
        "GET": h.get,
        "PUT": h.update,
        "PATCH": h.patch,
        "DELETE": h.delete,
    }
    scoped = info.namespaced
    routes = [Route(info, namespaced=scoped, methods=collection, refusals=refusals)]
    if info.namespaced:
        # the all-namespaces collection: list and watch (and deletecollection) only
        everywhere = {m: handler for m, handler in collection.items() if m != "POST"}
        needs_ns = (
            f"create {info.plural} needs a namespace: POST to "
            f"{info.gv.path_prefix}/namespaces/<namespace>/{info.plural}"
        )
        routes.append(Route(info, methods=everywhere, refusals={**refusals, "POST": needs_ns}))
    routes.append(Route(info, named=True, namespaced=scoped, methods=named))
    for sub in info.subresources:
        routes.append(_subresource_route(h, info, sub.name, scoped, storages or {}))
    return routes


def _subresource_route(
    h: Handlers, info: ResourceInfo, name: str, scoped: bool, storages: dict[str, object]
) -> Route:
    storage: object | None = (
        storages.get(name) or CONNECTERS.get((info.kind, name)) or STORAGE.get(name)
    )
    if storage is None:
        raise ValueError(f"{info.plural}/{name} is served in discovery but has no storage")
    if isinstance(storage, Connecter):
        return Route(
            info,
            subresource=name,
            named=True,
            namespaced=scoped,
            methods={method: h.connect for method in storage.connect_methods},
            websocket=h.websocket_connect,
            storage=storage,
            tail=storage.takes_path,
        )
    methods: dict[str, Handler] = {}
    if isinstance(storage, Getter):
        methods["GET"] = h.sub_get
    if isinstance(storage, Updater):
        methods["PUT"] = h.sub_update
    if isinstance(storage, Patcher):
        methods["PATCH"] = h.sub_patch
    if isinstance(storage, Creater):
        methods["POST"] = h.sub_create
    return Route(
        info, subresource=name, named=True, namespaced=scoped, methods=methods, storage=storage
    )
