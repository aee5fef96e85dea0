"""`Lister`: read-only, namespace-aware queries over an informer's `Indexer`.

What controllers use instead of GET/LIST against the server (client-go generated listers):
answers come from the cache, are immutable (`FrozenDict`s, or the views an informer's transform
built), and may lag the server slightly.

Selectors are the API server's own (`skiff.api.selector`): a label selector may be a string
(``"app=web,tier in (fe)"``), a ``metav1.LabelSelector`` object with ``matchLabels`` and
``matchExpressions`` (a ReplicaSet's ``spec.selector`` as it is), a plain ``matchLabels`` map (a
Service's ``spec.selector``) or a parsed `LabelSelector`; a field selector is matched against the
kind's selectable fields (`skiff.api.selector.object_fields`), as the server matches it.
"""

from __future__ import annotations

import builtins
from typing import Any, Generic, TypeVar

from skiff.api.selector import (
    FieldSelector,
    LabelSelectorLike,
    as_label_selector,
    object_fields,
    validate_field_selector,
)
from skiff.client.cache import NAMESPACE_INDEX, Indexer
from skiff.client.view import object_meta

__all__ = ["Lister"]

T = TypeVar("T")


class Lister(Generic[T]):
    """Queries over one resource's cache; ``kind`` enables field selectors."""

    def __init__(self, indexer: Indexer[T], *, kind: str | None = None) -> None:
        self.indexer = indexer
        self.kind = kind

    def get(self, name: str, *, namespace: str | None = None) -> T | None:
        """The cached object ``namespace/name`` (or ``name`` if cluster-scoped), or ``None``."""
        return self.indexer.get_by_key(f"{namespace}/{name}" if namespace else name)

    def list(
        self,
        *,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: str | FieldSelector | None = None,
    ) -> builtins.list[T]:
        """Cached objects, optionally in one namespace, matching a label selector (see the module
        docstring for its forms; ``None`` matches everything, so a controller whose object has a
        ``null`` selector passes ``label_selector_from_object(None)``, which matches nothing) and
        a field selector. A bad selector raises `skiff.api.selector.SelectorError` (a
        ``ValueError``)."""
        labels = as_label_selector(label_selector)
        fields = self._field_selector(field_selector)
        if namespace is None:
            objects = self.indexer.list()
        else:
            objects = self.indexer.by_index(NAMESPACE_INDEX, namespace)
        if labels.match_nothing:
            return []
        out: builtins.list[T] = []
        for obj in objects:
            if not labels.empty and not labels.matches(object_meta(obj).get("labels") or {}):
                continue
            if fields is not None and not fields.matches(self._fields(obj)):
                continue
            out.append(obj)
        return out

    def by_index(self, index_name: str, value: str) -> builtins.list[T]:
        return self.indexer.by_index(index_name, value)

    def _field_selector(self, sel: str | FieldSelector | None) -> FieldSelector | None:
        if sel is None or sel == "":
            return None
        if self.kind is None:
            raise ValueError("field selectors need a Lister built with kind=")
        parsed = validate_field_selector(self.kind, sel)
        return None if parsed.empty else parsed

    def _fields(self, obj: Any) -> dict[str, str]:
        assert self.kind is not None
        source = obj if not hasattr(obj, "raw") else obj.raw
        return object_fields(self.kind, source)
