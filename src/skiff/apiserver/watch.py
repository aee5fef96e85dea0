"""Watch streams: newline-framed JSON events from the watch cache, filtered per client.

One store watch feeds the watch cache; each client watch here is a subscription to it. Events
are framed ``{"type":...,"object":...}\\n``. The cache hands out each event once decoded for all
(:class:`~skiff.apiserver.cachedobject.CachedEvent`): labels and selectable fields of the object and
of its previous version are computed once per event, not once per watcher, and every watcher that
renders an event the same way shares one framed line (``CachedEvent.memo``). Without conversion or
a Table the object bytes are the stored bytes with the resourceVersion spliced in (no JSON encode
at all). A field selector naming an indexed field (``spec.nodeName`` of pods) subscribes through
the cache's index, so such a watcher is not even woken for other nodes' pods.

With label or field selectors an object moving into or out of the selection becomes ADDED or
DELETED, as the Kubernetes cacher does; the DELETED of an object leaving the selection carries its
previous content with the event's resourceVersion (``CachedEvent.deleted_object``). Bookmarks carry
the revision of the last event seen from the cache, which never runs ahead of undelivered events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import orjson

from skiff.api import resources as kinds
from skiff.api.conversion import convert
from skiff.api.resources import ResourceInfo
from skiff.api.selector import object_fields, parse_field_selector, parse_label_selector
from skiff.apiserver import objects
from skiff.apiserver.cachedobject import CachedEvent, CachedObject, ObjectCodec, selector_match
from skiff.apiserver.registry import Registry, _conversion
from skiff.apiserver.strategies import GroupKind, ResourceStrategy, strategy_for
from skiff.store import (
    Compacted,
    Event,
    EventType,
    KeyValue,
    Revision,
    WatchDropped,
)

__all__ = ["NODE_NAME", "WatchParams", "cache_codec", "strategy_fields", "watch_stream"]

NODE_NAME = "spec.nodeName"
"""The pod field the watch cache indexes (kube's pod ``NodeNameTriggerFunc``/``IndexerFuncs``)."""


def _labels(obj: Any) -> Mapping[str, str]:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return labels if isinstance(labels, dict) else {}


def _fields(key: str, obj: Any) -> Mapping[str, str]:
    parsed = objects.parse_key(key)
    return object_fields(parsed[0].kind if parsed is not None else "", obj)


def strategy_fields(
    strategies: Mapping[GroupKind, ResourceStrategy],
) -> Callable[[str, Any], Mapping[str, str]]:
    """``fields(key, object)`` from the selectable fields of the key's kind's strategy."""

    def fields(key: str, obj: Any) -> Mapping[str, str]:
        parsed = objects.parse_key(key)
        if parsed is None:
            return object_fields("", obj)
        info = parsed[0]
        strategy = strategies.get(GroupKind.of(info)) or strategy_for(info)
        return strategy.selectable_fields(obj)

    return fields


def cache_codec(
    transformer: objects.ValueTransformer | None = None,
    *,
    fields: Callable[[str, Any], Mapping[str, str]] = _fields,
) -> ObjectCodec:
    """The :class:`ObjectCodec` of the API server's watch cache.

    Values decode through ``transformer`` (so encrypted Secrets work), labels come from
    ``metadata.labels``, selectable fields from ``fields(key, object)`` (the API server passes
    :func:`strategy_fields` of its strategies; the default reads the kind from the key and uses
    its ``object_fields``), and pods are indexed by ``spec.nodeName``.
    """
    chosen = transformer or objects.IdentityTransformer()

    def decode(kv: KeyValue) -> Any:
        return objects.decode_kv(kv, chosen)

    pods = kinds.by_gvk("", "v1", "Pod")
    indexes = {}
    if pods is not None:
        indexes[objects.collection_prefix(pods, None)] = frozenset({NODE_NAME})
    return ObjectCodec(decode=decode, labels=_labels, fields=fields, indexes=indexes)


class WatchParams:
    def __init__(
        self,
        *,
        resource_version: str,
        label_selector: str,
        field_selector: str,
        bookmarks: bool,
        timeout: float,
        table: Callable[[dict[str, Any]], dict[str, Any]] | None,
        bookmark_interval: float = 5.0,
    ) -> None:
        self.resource_version = resource_version
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.bookmarks = bookmarks
        self.timeout = timeout
        self.table = table
        self.bookmark_interval = bookmark_interval


def _line(event_type: str, obj_bytes: bytes) -> bytes:
    return b'{"type":"' + event_type.encode() + b'","object":' + obj_bytes + b"}\n"


def _expired_line(message: str) -> bytes:
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "Expired",
        "code": 410,
    }
    return _line("ERROR", orjson.dumps(status))


async def watch_stream(
    registry: Registry, info: ResourceInfo, namespace: str, params: WatchParams
) -> AsyncIterator[bytes]:
    """Yield framed event lines until the timeout, the client leaving or the cache dropping us."""
    label_sel = parse_label_selector(params.label_selector) if params.label_selector else None
    field_sel = parse_field_selector(params.field_selector) if params.field_selector else None
    match = selector_match(label_sel, field_sel)
    _, converted = _conversion(info)
    prefix = objects.collection_prefix(info, namespace)
    renderer = _Renderer(info, registry.transformer, prefix, converted, params.table)
    watch_cache = registry.cache
    index: tuple[str, str] | None = None
    if field_sel is not None:
        for name in sorted(watch_cache.indexed_fields(prefix)):
            value = field_sel.requires_exact_match(name)
            if value is not None:
                index = (name, value)
                break
    codec = cache_codec(registry.transformer)
    # the memo keys of an unfiltered watcher's ADDED, MODIFIED and DELETED lines
    shared_keys = renderer.shared_keys() if match is None else None

    def wrap(event: Event) -> CachedEvent:
        # events of a watch cache with a codec are CachedEvents already; others are decoded here
        return event if isinstance(event, CachedEvent) else CachedEvent.wrap(event, codec)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + params.timeout
    rv_text = params.resource_version
    try:
        start = int(rv_text) if rv_text else 0
    except ValueError:
        start = -1
    if start < 0:
        yield _expired_line(f'invalid resource version "{rv_text}"')
        return

    last_rev = start
    if start == 0:
        # "Start at most recent" (unset or "0"): synthetic ADDED events for the current state
        if rv_text == "":
            await registry.fresh()
        selection = watch_cache.select(prefix, match=match, index=index)
        last_rev = int(selection.revision)
        current: tuple[CachedObject, ...] = selection.items
        for entry in current:
            yield _line("ADDED", renderer.render(entry))
    try:
        async with watch_cache.watch(prefix, revision=Revision(last_rev), index=index) as events:
            # One timer per stream pokes it when a bookmark or the deadline is due; a timeout
            # around every wait would cost a timer per event per watcher.
            next_bookmark = loop.time() + params.bookmark_interval
            timer: asyncio.TimerHandle | None = None
            try:
                while True:
                    now = loop.time()
                    if now >= deadline:
                        return
                    if params.bookmarks and now >= next_bookmark:
                        next_bookmark = now + params.bookmark_interval
                        # everything up to progress_revision has been delivered to us
                        last_rev = max(last_rev, int(events.progress_revision))
                        yield _line("BOOKMARK", _bookmark(info, last_rev))
                    wake = min(deadline, next_bookmark) if params.bookmarks else deadline
                    if timer is None or timer.when() != wake:
                        if timer is not None:
                            timer.cancel()
                        timer = loop.call_at(wake, events.poke)
                    batch = await events.next_batch()
                    if not batch:
                        if events.closed:
                            return
                        continue  # poked: a bookmark or the deadline is due
                    out: list[bytes] = []
                    for event in batch:
                        last_rev = event.kv.mod_revision
                        if not isinstance(event, CachedEvent):
                            event = wrap(event)
                        if shared_keys is not None:
                            # unfiltered: the line every such watcher sends, framed by the first
                            key = shared_keys[
                                2 if event.type is _DELETE else 0 if event.create else 1
                            ]
                            line = event.memo.get(key)
                            if line is None:
                                line = _event_line(event, None, renderer)
                        else:
                            line = _event_line(event, match, renderer)
                        if line is not None:
                            out.append(line)
                    if out:
                        yield b"".join(out)
            finally:
                if timer is not None:
                    timer.cancel()
    except Compacted as e:
        yield _expired_line(f"too old resource version: {start} ({e.current})")
    except WatchDropped:
        # the client fell too far behind; ending the stream makes its reflector re-watch
        return


def _bookmark(info: ResourceInfo, revision: int) -> bytes:
    return orjson.dumps(
        {
            "kind": info.kind,
            "apiVersion": info.api_version,
            "metadata": {"resourceVersion": str(revision), "creationTimestamp": None},
        }
    )


class _Renderer:
    """Turns cached objects into the bytes one watcher sends; shares lines between watchers.

    Watchers without a Table render an event identically (the same bytes for the same type and
    version), so the framed line is kept in the event's memo under that key and built once.
    """

    __slots__ = ("_api_version", "_converted", "_memo", "_passthrough", "_table", "_transformer")

    def __init__(
        self,
        info: ResourceInfo,
        transformer: objects.ValueTransformer,
        prefix: str,
        converted: bool,
        table: Callable[[dict[str, Any]], dict[str, Any]] | None,
    ) -> None:
        self._api_version = info.api_version
        self._converted = converted
        self._table = table
        self._transformer = transformer
        self._passthrough = transformer.passthrough(prefix)
        rendering = info.api_version if converted else ""
        # memo keys per event type, for the event's current object and for its deleted object;
        # strings, whose hash Python caches
        self._memo: dict[str, tuple[str, str]] | None = (
            None
            if table is not None
            else {
                etype: (f"{etype}:current:{rendering}", f"{etype}:deleted:{rendering}")
                for etype in ("ADDED", "MODIFIED", "DELETED")
            }
        )

    def shared_keys(self) -> tuple[str, str, str] | None:
        """The memo keys of the ADDED, MODIFIED and DELETED lines of an event's current object
        (None when this watcher's lines are its own, e.g. a Table)."""
        memo = self._memo
        if memo is None:
            return None
        return memo["ADDED"][0], memo["MODIFIED"][0], memo["DELETED"][0]

    def line(self, etype: str, event: CachedEvent, entry: CachedObject) -> bytes:
        memo = self._memo
        if memo is None:
            return _line(etype, self.render(entry))
        keys = memo[etype]
        key = keys[0] if entry is event.current else keys[1]
        line: bytes | None = event.memo.get(key)
        if line is None:
            line = _line(etype, self.render(entry))
            event.memo[key] = line
        return line

    def render(self, entry: CachedObject) -> bytes:
        """The object's JSON as this watcher sends it."""
        if not self._converted and self._table is None:
            # the stored bytes (decrypted if need be) with the resourceVersion spliced in
            kv = entry.kv
            data = (
                kv.value if self._passthrough else self._transformer.from_storage(kv.key, kv.value)
            )
            return objects.wire_bytes(data, kv.mod_revision)
        obj: dict[str, Any] = entry.object  # shared and read-only: convert and make_table copy
        if self._converted:
            obj = convert(obj, self._api_version)
        if self._table is not None:
            return orjson.dumps(self._table(obj))
        return orjson.dumps(obj)


_DELETE = EventType.DELETE


def _event_line(
    event: CachedEvent,
    match: Callable[[CachedObject], bool] | None,
    renderer: _Renderer,
) -> bytes | None:
    deleted = event.type is _DELETE
    if match is None:
        if deleted:
            return renderer.line("DELETED", event, event.deleted_object())
        return renderer.line("ADDED" if event.create else "MODIFIED", event, event.current)
    # Kubernetes' cacheWatcher.convertToWatchEvent: compare the new and the previous version
    previous = event.previous
    if deleted:
        if match(previous if previous is not None else event.current):
            return renderer.line("DELETED", event, event.deleted_object())
        return None
    before = previous is not None and match(previous)
    if match(event.current):
        return renderer.line("MODIFIED" if before else "ADDED", event, event.current)
    if before:
        return renderer.line("DELETED", event, event.deleted_object())
    return None
