"""JSON merge patch (RFC 7386), as used by ``application/merge-patch+json``.

Maps merge recursively, ``null`` deletes a key, and anything else (lists included) replaces the
target value. Used for custom resources and for ``kubectl label``/``annotate``/``patch --type=merge``.
"""

from __future__ import annotations

from typing import Any

from skiff.api.patch._json import copy_json, copy_json_without_nulls

__all__ = ["merge_patch"]


def merge_patch(doc: Any, patch: Any) -> Any:
    """Apply the RFC 7386 merge patch ``patch`` to ``doc`` and return the new document.

    Neither argument is modified and the result shares no containers with them.
    """
    if not isinstance(patch, dict):
        return copy_json(patch)
    target = copy_json(doc) if isinstance(doc, dict) else {}
    _merge_into(target, patch)
    return target


def _merge_into(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            if isinstance(current, dict):
                _merge_into(current, value)
            else:
                # RFC 7386 MergePatch({}, value): nested nulls vanish.
                target[key] = copy_json_without_nulls(value)
        else:
            target[key] = copy_json(value)
