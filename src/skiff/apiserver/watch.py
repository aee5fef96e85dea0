"""Watch streams: newline-framed JSON events from the watch cache, filtered per client.

One store watch feeds the watch cache; each client watch here is a subscription to it. Events
are framed ``{"type":...,"object":...}\\n``. Without selectors or conversion the object bytes are
the stored bytes with the resourceVersion spliced in (no JSON parse per watcher). With label or
field selectors an object moving into or out of the selection becomes ADDED or DELETED, as the
Kubernetes cacher does. Bookmarks carry the revision of the last event seen from the cache, which
never runs ahead of undelivered events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from skiff.api.conversion import convert
from skiff.api.resources import ResourceInfo
from skiff.api.selector import object_fields, parse_field_selector, parse_label_selector
from skiff.apiserver import objects
from skiff.apiserver.registry import Registry, _conversion
from skiff.store import Compacted, Event, EventType, Revision, WatchDropped

__all__ = ["WatchParams", "watch_stream"]


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
    _, converted = _conversion(info)
    transformer = registry.transformer
    prefix = objects.collection_prefix(info, namespace)
    fast = (
        label_sel is None
        and field_sel is None
        and not converted
        and params.table is None
        and transformer.passthrough(prefix)
    )

    def matches(obj: dict[str, Any]) -> bool:
        if label_sel is not None and not label_sel.matches(
            (obj.get("metadata") or {}).get("labels") or {}
        ):
            return False
        return field_sel is None or field_sel.matches(object_fields(info.kind, obj))

    def render(obj: dict[str, Any]) -> bytes:
        if converted:
            obj = convert(obj, info.api_version)
        if params.table is not None:
            return orjson.dumps(params.table(obj))
        return orjson.dumps(obj)

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
        result = await registry.cache.list(prefix)
        last_rev = int(result.revision)
        for kv in result.items:
            if fast:
                yield _line("ADDED", objects.wire_bytes(kv.value, kv.mod_revision))
                continue
            obj = registry.decode(kv)
            if matches(obj):
                yield _line("ADDED", render(obj))
    try:
        async with registry.cache.watch(prefix, revision=Revision(last_rev)) as events:
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
                        last_rev = int(event.revision)
                        line = _event_line(event, fast, registry, matches, render)
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


# How many framed event lines a registry keeps for its fast-path watchers to share.
_FAST_LINES_MAX = 4096


def _bookmark(info: ResourceInfo, revision: int) -> bytes:
    return orjson.dumps(
        {
            "kind": info.kind,
            "apiVersion": info.api_version,
            "metadata": {"resourceVersion": str(revision), "creationTimestamp": None},
        }
    )


def _event_line(
    event: Event,
    fast: bool,
    registry: Registry,
    matches: Callable[[dict[str, Any]], bool],
    render: Callable[[dict[str, Any]], bytes],
) -> bytes | None:
    kv = event.kv
    if fast:
        # every watcher of the fast path sends the same bytes for an event: frame it once
        cache = registry.watch_lines
        line = cache.get(kv.mod_revision)
        if line is None:
            if event.type is EventType.DELETE:
                etype = "DELETED"
            else:
                etype = "ADDED" if event.create else "MODIFIED"
            line = _line(etype, objects.wire_bytes(kv.value, kv.mod_revision))
            cache[kv.mod_revision] = line
            if len(cache) > _FAST_LINES_MAX:
                cache.popitem(last=False)
        return line
    obj = registry.decode(kv)
    if event.type is EventType.DELETE:
        return _line("DELETED", render(obj)) if matches(obj) else None
    now_match = matches(obj)
    if event.create or event.prev_kv is None:
        return _line("ADDED", render(obj)) if now_match else None
    before = matches(registry.decode(event.prev_kv))
    if now_match and before:
        return _line("MODIFIED", render(obj))
    if now_match:
        return _line("ADDED", render(obj))
    if before:
        return _line("DELETED", render(obj))
    return None
