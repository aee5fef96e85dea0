"""Label and field selectors: parse the query-string syntax and match objects client-side.

Listers filter cached objects with the same selector syntax the API server accepts
(``apimachinery/pkg/labels/selector.go``): ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``,
``k notin (a,b)``, ``k`` (exists) and ``!k`` (does not exist), comma-separated and ANDed.
Field selectors support ``=``, ``==`` and ``!=`` on dotted paths (``metadata.name``,
``spec.nodeName``); a missing field compares as the empty string, as the server does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FieldSelector",
    "LabelSelector",
    "Requirement",
    "format_label_selector",
    "parse_field_selector",
    "parse_label_selector",
]

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")


@dataclass(frozen=True)
class Requirement:
    """One label requirement; ``operator`` is one of ``= != in notin exists !``."""

    key: str
    operator: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, Any]) -> bool:
        present = self.key in labels
        value = str(labels[self.key]) if present else None
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "in"):
            return present and value in self.values
        # != and notin also match objects without the label (selector.go Matches).
        return not present or value not in self.values


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of requirements; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, Any] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def matches_object(self, obj: Mapping[str, Any]) -> bool:
        meta = obj.get("metadata") or {}
        return self.matches(meta.get("labels") or {})

    @classmethod
    def from_match_labels(cls, match_labels: Mapping[str, str]) -> LabelSelector:
        return cls(
            tuple(Requirement(k, "=", frozenset([v])) for k, v in sorted(match_labels.items()))
        )


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside ``( )``."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in (p.strip() for p in parts) if p]


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse a label selector string; raises ``ValueError`` on bad syntax."""
    if not text or not text.strip():
        return LabelSelector()
    reqs: list[Requirement] = []
    for part in _split_top_level(text):
        for op in ("!=", "==", "="):
            if op in part and " in " not in part and " notin " not in part:
                key, _, value = part.partition(op)
                key, value = key.strip(), value.strip()
                if not key:
                    raise ValueError(f"invalid label selector term {part!r}")
                reqs.append(Requirement(key, "!=" if op == "!=" else "=", frozenset([value])))
                break
        else:
            m = _SET_RE.match(part)
            if m is None:
                raise ValueError(f"invalid label selector term {part!r}")
            bang, key, op, values = m.groups()
            if op:
                if bang:
                    raise ValueError(f"invalid label selector term {part!r}")
                vals = frozenset(v.strip() for v in values.split(",") if v.strip())
                reqs.append(Requirement(key, op, vals))
            else:
                reqs.append(Requirement(key, "!" if bang else "exists"))
    return LabelSelector(tuple(reqs))


def format_label_selector(match_labels: Mapping[str, str]) -> str:
    """``{"app": "web", "tier": "fe"}`` -> ``"app=web,tier=fe"`` (sorted, stable)."""
    return ",".join(f"{k}={v}" for k, v in sorted(match_labels.items()))


@dataclass(frozen=True)
class FieldSelector:
    """A conjunction of ``path=value`` / ``path!=value`` terms."""

    terms: tuple[tuple[str, bool, str], ...] = ()  # (dotted path, equal?, value)

    def matches_object(self, obj: Mapping[str, Any]) -> bool:
        for path, equal, value in self.terms:
            current: Any = obj
            for part in path.split("."):
                current = current.get(part) if isinstance(current, Mapping) else None
            actual = "" if current is None else str(current)
            if (actual == value) != equal:
                return False
        return True


def parse_field_selector(text: str | None) -> FieldSelector:
    if not text or not text.strip():
        return FieldSelector()
    terms: list[tuple[str, bool, str]] = []
    for part in _split_top_level(text):
        for op, equal in (("!=", False), ("==", True), ("=", True)):
            if op in part:
                path, _, value = part.partition(op)
                if not path.strip():
                    raise ValueError(f"invalid field selector term {part!r}")
                terms.append((path.strip(), equal, value.strip()))
                break
        else:
            raise ValueError(f"invalid field selector term {part!r}")
    return FieldSelector(tuple(terms))
