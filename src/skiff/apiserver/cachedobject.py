"""What the watch cache hands out: objects decoded once, with their labels and selectable fields.

The watch cache (:mod:`skiff.apiserver.watchcache`) keeps bytes, as the store does; given an
:class:`ObjectCodec` (the API server's decode, labels and fields, injected so neither module
imports the API types) it wraps every version of a key in a :class:`CachedObject`, which decodes
lazily, at most once while in use, and computes its labels and fields once. Watchers receive
:class:`CachedEvent` s carrying the new and the previous version, so N filtered watchers of an
event cost one decode, not 2N: the apiserver cacher's ``watchCacheEvent`` (``Object``,
``ObjLabels``, ``ObjFields``, ``PrevObject``...) for the same reason:
https://github.com/kubernetes/kubernetes/blob/04d6b4f11d533e92dc999e981f73f7b44dacd591/staging/src/k8s.io/apiserver/pkg/storage/cacher/watch_cache.go

Decoded objects are shared and read-only; an :class:`ObjectDecoder` keeps only the last few
thousand of them, while labels and fields (small) stay with their version.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from skiff.store import Event, EventType, KeyValue

__all__ = [
    "CachedEvent",
    "CachedObject",
    "Matcher",
    "ObjectCodec",
    "ObjectDecoder",
    "selector_match",
]

_log = logging.getLogger(__name__)

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ObjectCodec:
    """How the cache reads the objects behind stored values; supplied by the API server.

    The cache never parses a value itself: it calls these, lazily, at most once per version of a
    key while that version is in use. They must not block and must not change what they return.
    """

    decode: Callable[[KeyValue], Any]
    """Stored value -> object (through the value transformer, so encrypted values decode too)."""
    labels: Callable[[Any], Mapping[str, str]]
    """Object -> its labels."""
    fields: Callable[[str, Any], Mapping[str, str]]
    """(key, object) -> its selectable fields (``metadata.name``, ``spec.nodeName``, ...)."""
    indexes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Key prefix -> the fields indexed for objects under it (pods -> ``spec.nodeName``)."""


class ObjectDecoder:
    """Runs the codec and keeps the last ``keep`` decoded objects, so a burst of watchers rendering
    the same event shares one decode without the cache holding every object decoded."""

    __slots__ = ("_keep", "_kept", "codec", "decodes", "failures")

    def __init__(self, codec: ObjectCodec | None, keep: int) -> None:
        self.codec = codec
        self._keep = keep
        self._kept: deque[CachedObject] = deque()
        self.decodes = 0
        self.failures = 0

    def decode(self, entry: CachedObject) -> Any:
        codec = self.codec
        if codec is None:
            raise RuntimeError("this watch cache has no ObjectCodec: it cannot decode values")
        obj = codec.decode(entry.kv)
        self.decodes += 1
        if self._keep:
            entry._object = obj
            kept = self._kept
            kept.append(entry)
            if len(kept) > self._keep:
                kept.popleft()._object = None
        return obj

    def attrs(self, entry: CachedObject) -> tuple[Mapping[str, str], Mapping[str, str]]:
        codec = self.codec
        if codec is None:
            return _EMPTY, _EMPTY
        try:
            obj = entry.object
            return codec.labels(obj), codec.fields(entry.kv.key, obj)
        except Exception:
            # A value that cannot be decoded (e.g. encrypted with a key we no longer have) must not
            # stop the feed: it matches no selector that needs a label or field.
            self.failures += 1
            _log.warning(
                "watch cache: cannot decode %s at revision %d",
                entry.kv.key,
                entry.kv.mod_revision,
                exc_info=True,
            )
            return _EMPTY, _EMPTY


class CachedObject:
    """One version of one key: decoded at most once while in use, labels and fields computed once.

    The apiserver cacher's ``storeElement`` (object, labels, fields). ``object`` is shared by every
    reader, so it is read-only: copy it before changing anything.
    """

    __slots__ = ("_decoder", "_fields", "_labels", "_like", "_object", "kv")

    def __init__(
        self, kv: KeyValue, decoder: ObjectDecoder, *, like: CachedObject | None = None
    ) -> None:
        self.kv = kv
        self._decoder = decoder
        # an object known to have the same content (a delete's last value is its previous version)
        self._like = like
        self._object: Any = None
        self._labels: Mapping[str, str] | None = None
        self._fields: Mapping[str, str] | None = None

    @property
    def object(self) -> Any:
        """The decoded object (read-only, shared); decoded again only after a long while unused."""
        obj = self._object
        if obj is None:
            obj = self._decoder.decode(self)
        return obj

    @property
    def labels(self) -> Mapping[str, str]:
        labels = self._labels
        if labels is None:
            labels, self._fields = self._attrs()
            self._labels = labels
        return labels

    @property
    def fields(self) -> Mapping[str, str]:
        fields = self._fields
        if fields is None:
            self._labels, fields = self._attrs()
            self._fields = fields
        return fields

    def _attrs(self) -> tuple[Mapping[str, str], Mapping[str, str]]:
        like = self._like
        if like is not None:
            return like.labels, like.fields
        return self._decoder.attrs(self)


_GONE = object()


@dataclass(frozen=True, slots=True, eq=False)
class CachedEvent(Event):
    """An :class:`Event` as the watch cache delivers it, with its versions decoded once for all.

    ``current`` is the new version (for a ``DELETE``, the last value at the delete's revision, with
    the previous version's labels and fields); ``previous`` the version it replaced, None for a
    create. ``memo`` is for the API layer: what it renders once per event and shares between
    watchers (framed watch lines).
    """

    current: CachedObject = field(kw_only=True)
    previous: CachedObject | None = field(kw_only=True, default=None)
    memo: dict[Hashable, Any] = field(kw_only=True, default_factory=dict)

    def deleted_object(self) -> CachedObject:
        """What a ``DELETED`` watch event carries: the previous version's content at this event's
        revision. For an update that takes the object out of a watcher's selection, Kubernetes'
        cacher sends exactly that (``convertToWatchEvent``: "return a delete event with the
        previous object content, but with the event's resource version")
        https://github.com/kubernetes/kubernetes/blob/04d6b4f11d533e92dc999e981f73f7b44dacd591/staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go
        """
        previous = self.previous
        if self.type is EventType.DELETE or previous is None:
            return self.current
        gone: CachedObject | None = self.memo.get(_GONE)
        if gone is None:
            old = previous.kv
            kv = KeyValue(old.key, old.value, old.create_revision, self.kv.mod_revision)
            gone = CachedObject(kv, previous._decoder, like=previous)
            self.memo[_GONE] = gone
        return gone

    def index_values(self, name: str) -> tuple[str, ...]:
        """The values of field ``name`` this event concerns: the new version's and the previous
        one's (a pod moving from node A to B concerns the watchers of both)."""
        previous = self.previous
        before = previous.fields.get(name) if previous is not None else None
        if self.type is EventType.DELETE:
            return (before,) if before is not None else ()
        now = self.current.fields.get(name)
        if now is None:
            return (before,) if before is not None else ()
        if before is None or before == now:
            return (now,)
        return (now, before)

    @classmethod
    def wrap(cls, event: Event, codec: ObjectCodec | None, *, keep: int = 0) -> CachedEvent:
        """A CachedEvent for an event of a plain store (no watch cache in front of it)."""
        if isinstance(event, CachedEvent):
            return event
        decoder = ObjectDecoder(codec, keep)
        previous = CachedObject(event.prev_kv, decoder) if event.prev_kv is not None else None
        like = previous if event.type is EventType.DELETE else None
        return cls(
            event.type,
            event.kv,
            event.prev_kv,
            event.create,
            current=CachedObject(event.kv, decoder, like=like),
            previous=previous,
        )


class Matcher(Protocol):
    """A parsed label or field selector, as far as the cache needs it."""

    @property
    def empty(self) -> bool: ...

    def matches(self, values: Mapping[str, str], /) -> bool: ...


def selector_match(
    labels: Matcher | None, fields: Matcher | None
) -> Callable[[CachedObject], bool] | None:
    """A predicate over cached objects for a label and a field selector (None: no selector), or
    None when together they select everything."""
    if labels is not None and labels.empty:
        labels = None
    if fields is not None and fields.empty:
        fields = None
    if fields is None:
        if labels is None:
            return None
        by_labels = labels
        return lambda entry: by_labels.matches(entry.labels)
    by_fields = fields
    if labels is None:
        return lambda entry: by_fields.matches(entry.fields)
    by_both = labels
    return lambda entry: by_both.matches(entry.labels) and by_fields.matches(entry.fields)
