"""`Lister`: read-only, namespace-aware queries over an informer's `Indexer`.

What controllers use instead of GET/LIST against the server (client-go generated listers):
answers come from the cache, are immutable `FrozenDict`s, and may lag the server slightly.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping

from skiff.client.cache import NAMESPACE_INDEX, Indexer
from skiff.client.frozen import FrozenDict
from skiff.client.selector import LabelSelector, parse_label_selector

__all__ = ["Lister"]


def _selector(selector: str | Mapping[str, str] | LabelSelector | None) -> LabelSelector:
    if selector is None:
        return LabelSelector()
    if isinstance(selector, LabelSelector):
        return selector
    if isinstance(selector, str):
        return parse_label_selector(selector)
    return LabelSelector.from_match_labels(selector)


class Lister:
    """Queries over one resource's cache."""

    def __init__(self, indexer: Indexer) -> None:
        self.indexer = indexer

    def get(self, name: str, *, namespace: str | None = None) -> FrozenDict | None:
        """The cached object ``namespace/name`` (or ``name`` if cluster-scoped), or ``None``."""
        return self.indexer.get_by_key(f"{namespace}/{name}" if namespace else name)

    def list(
        self,
        *,
        namespace: str | None = None,
        label_selector: str | Mapping[str, str] | LabelSelector | None = None,
    ) -> builtins.list[FrozenDict]:
        """Cached objects, optionally in one namespace and matching a label selector (a selector
        string, a ``matchLabels`` mapping, or a parsed `LabelSelector`)."""
        selector = _selector(label_selector)
        if namespace is None:
            objects = self.indexer.list()
        else:
            objects = self.indexer.by_index(NAMESPACE_INDEX, namespace)
        return [o for o in objects if selector.matches_object(o)]

    def by_index(self, index_name: str, value: str) -> builtins.list[FrozenDict]:
        return self.indexer.by_index(index_name, value)
