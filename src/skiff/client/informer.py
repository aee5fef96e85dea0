"""`Informer` and `SharedInformerFactory`: a cache kept current by a reflector, plus event handlers.

An `Informer` owns an `Indexer` (immutable objects, see `skiff.client.cache`) filled by a
`Reflector`. Each change is applied to the cache first and then dispatched to the registered
handlers in order (client-go ``sharedIndexInformer.HandleDeltas``):

* ``on_add(obj)``: new object (also for every cached object when a handler is added late);
* ``on_update(old, new)``: changed object; on periodic resync ``old is new``;
* ``on_delete(obj)``: the object's final state (from the DELETED event; for deletions noticed by a
  relist, the last cached state — client-go's ``DeletedFinalStateUnknown`` case).

Handlers are plain synchronous callables and must be quick (typically ``queue.add(key)``); an
exception in one is logged and does not stop the informer or the other handlers. A transform that
raises on an object is logged too, and that object is left as it was in the cache. On a relist only
added, changed (resourceVersion differs) and vanished objects produce calls.

Every object passes through the informer's ``transform`` before it is cached (client-go
``SetTransform``); the default, `skiff.client.view.drop_managed_fields`, drops
``metadata.managedFields`` and freezes the rest; `skiff.client.view.pod_view` and its siblings build
typed frozen views, and the informer is then an ``Informer[PodView]`` whose handlers and lister
see views. ``metadata_only=True`` lists and watches ``PartialObjectMetadata`` only (what the garbage
collector and the namespace controller need of every kind, Secrets included, without caching
their contents).

`SharedInformerFactory` hands out one informer per (resource, namespace, selectors, metadata-only,
transform) so many controllers share one watch, and owns their tasks:
``async with factory: factory.start()``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar, overload

from skiff.api.resources import ResourceInfo
from skiff.api.selector import FieldSelector, LabelSelectorLike
from skiff.client._client import (
    Client,
    WatchEvent,
    WatchEventType,
    field_selector_param,
    label_selector_param,
)
from skiff.client.cache import Indexer, IndexFunc, stored_form
from skiff.client.frozen import FrozenDict
from skiff.client.lister import Lister
from skiff.client.reflector import Reflector
from skiff.client.resource import ResourceRef, object_key, resolve
from skiff.client.view import drop_managed_fields
from skiff.util.backoff import Backoff
from skiff.util.clock import Clock, SystemClock, wait_event

__all__ = [
    "HandlerRegistration",
    "Informer",
    "ResourceEventHandler",
    "SharedInformerFactory",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class ResourceEventHandler(Protocol[T_contra]):
    """An object with all three callbacks (client-go ``ResourceEventHandler``)."""

    def on_add(self, obj: T_contra) -> None: ...

    def on_update(self, old: T_contra, new: T_contra) -> None: ...

    def on_delete(self, obj: T_contra) -> None: ...


@dataclass
class _Handler(Generic[T]):
    on_add: Callable[[T], None] | None
    on_update: Callable[[T, T], None] | None
    on_delete: Callable[[T], None] | None


class HandlerRegistration:
    """Returned by `Informer.add_handler`; `remove` unregisters the handler."""

    def __init__(self, informer: Informer[Any], handler: _Handler[Any]) -> None:
        self._informer = informer
        self._handler = handler

    def remove(self) -> None:
        self._informer._remove_handler(self._handler)


class Informer(Generic[T]):
    """A watched, indexed cache of one resource with event handlers. Run with `run` (until
    cancelled), usually via `SharedInformerFactory`.

    ``T`` is what ``transform`` returns: `FrozenDict` by default, a view with `pod_view` & co.
    """

    @overload
    def __init__(
        self: Informer[FrozenDict],
        client: Client,
        resource: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: str | FieldSelector | None = None,
        indexers: Mapping[str, IndexFunc] | None = None,
        resync_period: float | None = None,
        clock: Clock | None = None,
        min_watch_timeout: float = 300.0,
        backoff: Backoff | None = None,
        metadata_only: bool = False,
        transform: None = None,
    ) -> None: ...

    @overload
    def __init__(
        self: Informer[T],
        client: Client,
        resource: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: str | FieldSelector | None = None,
        indexers: Mapping[str, IndexFunc] | None = None,
        resync_period: float | None = None,
        clock: Clock | None = None,
        min_watch_timeout: float = 300.0,
        backoff: Backoff | None = None,
        metadata_only: bool = False,
        transform: Callable[[dict[str, Any]], T],
    ) -> None: ...

    def __init__(
        self,
        client: Client,
        resource: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: str | FieldSelector | None = None,
        indexers: Mapping[str, IndexFunc] | None = None,
        resync_period: float | None = None,
        clock: Clock | None = None,
        min_watch_timeout: float = 300.0,
        backoff: Backoff | None = None,
        metadata_only: bool = False,
        transform: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        self.resource: ResourceInfo = resolve(resource)
        self.clock: Clock = clock or SystemClock()
        self.metadata_only = metadata_only
        self.transform: Callable[[dict[str, Any]], Any] = transform or drop_managed_fields
        self.indexer: Indexer[T] = Indexer(indexers)
        kind = "PartialObjectMetadata" if metadata_only else self.resource.kind
        self.lister: Lister[T] = Lister(self.indexer, kind=kind)
        self.resync_period = resync_period
        self.reflector = Reflector(
            client,
            self.resource,
            self,
            namespace=namespace,
            label_selector=label_selector_param(label_selector),
            field_selector=field_selector_param(field_selector),
            clock=self.clock,
            min_watch_timeout=min_watch_timeout,
            backoff=backoff,
            metadata_only=metadata_only,
        )
        self._handlers: list[_Handler[T]] = []
        self._synced = asyncio.Event()

    # -- handlers -------------------------------------------------------------------------

    def add_handler(
        self,
        handler: ResourceEventHandler[T] | None = None,
        *,
        on_add: Callable[[T], None] | None = None,
        on_update: Callable[[T, T], None] | None = None,
        on_delete: Callable[[T], None] | None = None,
    ) -> HandlerRegistration:
        """Register callbacks (an object with all three, or any of the keyword functions).

        A handler added after objects are cached first gets ``on_add`` for each of them, as
        client-go replays the cache to late listeners.
        """
        if handler is not None:
            if on_add or on_update or on_delete:
                raise TypeError("pass a handler object or callbacks, not both")
            entry: _Handler[T] = _Handler(handler.on_add, handler.on_update, handler.on_delete)
        else:
            entry = _Handler(on_add, on_update, on_delete)
        self._handlers.append(entry)
        if entry.on_add is not None:
            for obj in self.indexer.list():
                self._call(entry.on_add, obj)
        return HandlerRegistration(self, entry)

    def _remove_handler(self, handler: _Handler[T]) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)

    def _call(self, func: Callable[..., None], *args: Any) -> None:
        try:
            func(*args)
        except Exception:
            log.exception("%s: event handler %r failed", self.resource.group_resource, func)

    def _dispatch_add(self, obj: T) -> None:
        for h in list(self._handlers):
            if h.on_add is not None:
                self._call(h.on_add, obj)

    def _dispatch_update(self, old: T, new: T) -> None:
        for h in list(self._handlers):
            if h.on_update is not None:
                self._call(h.on_update, old, new)

    def _dispatch_delete(self, obj: T) -> None:
        for h in list(self._handlers):
            if h.on_delete is not None:
                self._call(h.on_delete, obj)

    # -- sync state -----------------------------------------------------------------------

    @property
    def has_synced(self) -> bool:
        """Whether the first list has been applied to the cache and dispatched."""
        return self._synced.is_set()

    async def wait_for_sync(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 - clock time
        """Wait until `has_synced` (``timeout`` in seconds of the informer's clock)."""
        return await wait_event(self.clock, self._synced, timeout)

    # -- the reflector's sink -------------------------------------------------------------

    def _transformed(self, obj: dict[str, Any]) -> T | None:
        """The cached form of ``obj``; ``None`` (logged) if the transform fails on it, so one bad
        object or transform bug does not stop the informer."""
        try:
            stored: T = stored_form(self.transform(obj))
        except Exception:
            log.exception(
                "%s: transform %r failed; object not cached",
                self.resource.group_resource,
                self.transform,
            )
            return None
        return stored

    def _cached(self, obj: dict[str, Any]) -> T | None:
        try:
            return self.indexer.get_by_key(object_key(obj))
        except ValueError:  # no metadata.name
            return None

    def replace(self, items: list[dict[str, Any]], resource_version: str) -> None:
        transformed: list[T] = []
        for item in items:
            stored = self._transformed(item)
            if stored is None:
                stored = self._cached(item)  # keep what we had rather than report a delete
            if stored is not None:
                transformed.append(stored)
        added, updated, deleted = self.indexer.replace(transformed, resource_version)
        for obj in deleted:
            self._dispatch_delete(obj)
        for obj in added:
            self._dispatch_add(obj)
        for old, new in updated:
            self._dispatch_update(old, new)
        self._synced.set()

    def apply(self, event: WatchEvent) -> None:
        rv = event.resource_version
        if event.type in (WatchEventType.ADDED, WatchEventType.MODIFIED):
            stored = self._transformed(event.object)
            if stored is not None:
                previous, stored = self.indexer.upsert(stored)
                if previous is None:
                    self._dispatch_add(stored)
                else:
                    self._dispatch_update(previous, stored)
        elif event.type is WatchEventType.DELETED:
            final = self._transformed(event.object)
            if final is None:
                final = self._cached(event.object)
            if final is not None:
                self.indexer.delete(final)
                self._dispatch_delete(final)
        if rv:
            self.indexer.resource_version = rv

    # -- running --------------------------------------------------------------------------

    async def run(self) -> None:
        """Run the reflector (and the resync timer) until cancelled."""
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.reflector.run())
            if self.resync_period:
                tg.create_task(self._resync_loop(self.resync_period))

    async def _resync_loop(self, period: float) -> None:
        await self._synced.wait()
        while True:
            await self.clock.sleep(period)
            for obj in self.indexer.list():
                self._dispatch_update(obj, obj)


class SharedInformerFactory:
    """One informer per (resource, namespace, selectors), shared; owns the informers' tasks.

    ::

        async with SharedInformerFactory(client) as factory:
            pods = factory.informer("pods")
            pods.add_handler(on_add=...)
            factory.start()
            await factory.wait_for_sync()
            ...
        # leaving the block cancels every informer
    """

    def __init__(
        self,
        client: Client,
        *,
        namespace: str | None = None,
        resync_period: float | None = None,
        clock: Clock | None = None,
        min_watch_timeout: float = 300.0,
        backoff_factory: Callable[[], Backoff] | None = None,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.resync_period = resync_period
        self.clock: Clock = clock or SystemClock()
        self.min_watch_timeout = min_watch_timeout
        self._backoff_factory = backoff_factory
        self._informers: dict[tuple[Any, ...], Informer[Any]] = {}
        self._started: set[int] = set()
        self._tg: asyncio.TaskGroup | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @overload
    def informer(
        self,
        resource: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: str | FieldSelector | None = None,
        indexers: Mapping[str, IndexFunc] | None = None,
        metadata_only: bool = False,
        transform: None = None,
    ) -> Informer[FrozenDict]: ...

    @overload
    def informer(
        self,
        resource: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: str | FieldSelector | None = None,
        indexers: Mapping[str, IndexFunc] | None = None,
        metadata_only: bool = False,
        transform: Callable[[dict[str, Any]], T],
    ) -> Informer[T]: ...

    def informer(
        self,
        resource: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: str | FieldSelector | None = None,
        indexers: Mapping[str, IndexFunc] | None = None,
        metadata_only: bool = False,
        transform: Callable[[dict[str, Any]], Any] | None = None,
    ) -> Informer[Any]:
        """The shared informer for this resource and filter (created on first request).

        Informers are shared per (resource, namespace, label selector, field selector,
        ``metadata_only``, ``transform``): a metadata-only informer never shares a cache with a
        full one. ``indexers`` are added to the shared informer's cache if not yet present.
        """
        info = resolve(resource)
        ns = namespace if namespace is not None else self.namespace
        labels = label_selector_param(label_selector)
        fields = field_selector_param(field_selector)
        transform = transform or drop_managed_fields
        key = (info, ns, labels, fields, metadata_only, transform)
        inf = self._informers.get(key)
        if inf is None:
            inf = Informer(
                self.client,
                info,
                namespace=ns,
                label_selector=labels,
                field_selector=fields,
                resync_period=self.resync_period,
                clock=self.clock,
                min_watch_timeout=self.min_watch_timeout,
                backoff=self._backoff_factory() if self._backoff_factory else None,
                metadata_only=metadata_only,
                transform=transform,
            )
            self._informers[key] = inf
        if indexers:
            missing = {n: f for n, f in indexers.items() if n not in inf.indexer._index_funcs}
            if missing:
                inf.indexer.add_indexers(missing)
        return inf

    def lister(self, resource: ResourceRef, **kwargs: Any) -> Lister[Any]:
        """The lister of `informer` (same arguments)."""
        informer: Informer[Any] = self.informer(resource, **kwargs)
        return informer.lister

    @property
    def informers(self) -> list[Informer[Any]]:
        return list(self._informers.values())

    async def __aenter__(self) -> Self:
        self._tg = asyncio.TaskGroup()
        await self._tg.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tg, self._tg = self._tg, None
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        if tg is not None:
            await tg.__aexit__(exc_type, exc, tb)

    def start(self) -> None:
        """Start every informer not yet running (call again after requesting new ones)."""
        if self._tg is None:
            raise RuntimeError("SharedInformerFactory.start() needs `async with factory:`")
        for inf in self._informers.values():
            if id(inf) not in self._started:
                self._started.add(id(inf))
                self._tasks.append(self._tg.create_task(inf.run()))

    async def wait_for_sync(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 - clock time
        """Wait until every started informer has synced; ``False`` on timeout."""

        async def all_synced() -> None:
            for inf in self._informers.values():
                if id(inf) in self._started:
                    await inf._synced.wait()

        done = asyncio.Event()

        async def waiter() -> None:
            await all_synced()
            done.set()

        task = asyncio.ensure_future(waiter())
        try:
            return await wait_event(self.clock, done, timeout)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
