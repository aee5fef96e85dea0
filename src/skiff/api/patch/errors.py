"""Errors raised by the patch algorithms, each carrying the HTTP code the API server should reply with.

::

    PatchError                 a patch could not be applied (422 Invalid / UnprocessableEntity)
    ├── InvalidPatchError      the patch document itself is malformed (400 BadRequest)
    ├── PatchTestFailedError   a JSON-patch ``test`` operation did not match (422)
    └── ApplyConflict          server-side apply touched fields other managers own (409 Conflict)

The API server turns them into a ``Status`` at its boundary: ``code``, ``reason`` and ``message``
are ready to use, and :func:`conflict_status` (``message``, ``causes``) and :meth:`ApplyConflict.to_status` give the
conflict Status in Kubernetes' wording (``apimachinery/pkg/util/managedfields/internal/conflict.go``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "ApplyConflict",
    "FieldConflict",
    "InvalidPatchError",
    "PatchError",
    "PatchTestFailedError",
    "conflict_status",
]


class PatchError(Exception):
    """A patch could not be applied to the object; ``message`` is fit for a Status message."""

    code: int = 422
    reason: str = "Invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidPatchError(PatchError):
    """The patch document is malformed (unknown op, bad pointer, wrong directive value)."""

    code = 400
    reason = "BadRequest"


class PatchTestFailedError(PatchError):
    """A JSON-patch ``test`` operation found a different value."""


@dataclass(frozen=True)
class FieldConflict:
    """One field that another manager owns with a different value.

    ``field`` is the path in structured-merge-diff notation (``.spec.replicas``,
    ``.spec.containers[name="nginx"].image``); ``operation``, ``api_version`` and ``subresource``
    identify the other manager's ``managedFields`` entry, as Kubernetes prints them.
    """

    manager: str
    field: str
    operation: str = "Apply"
    api_version: str = ""
    subresource: str = ""

    @property
    def manager_text(self) -> str:
        """The manager as Kubernetes prints it: ``"kubectl"`` or ``"x" using apps/v1``."""
        text = _go_quote(self.manager)
        if self.subresource:
            text = f"{text} with subresource {_go_quote(self.subresource)}"
        if self.operation == "Update":
            text = f"{text} using {self.api_version}"
        return text


class ApplyConflict(PatchError):
    """Server-side apply would change fields owned by other managers and ``force`` was false."""

    code = 409
    reason = "Conflict"

    def __init__(self, conflicts: list[FieldConflict]) -> None:
        self.conflicts = list(conflicts)
        super().__init__(_conflict_message(self.conflicts))

    @property
    def causes(self) -> list[dict[str, str]]:
        """Status causes, one per conflicting field (``CauseTypeFieldManagerConflict``)."""
        return [
            {
                "reason": "FieldManagerConflict",
                "message": f"conflict with {c.manager_text}",
                "field": c.field,
            }
            for c in self.conflicts
        ]

    def to_status(self) -> dict[str, Any]:
        """The 409 ``Status`` body Kubernetes sends (``errors.NewApplyConflict``)."""
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": {"causes": self.causes},
            "code": self.code,
        }


def conflict_status(err: ApplyConflict) -> tuple[str, list[dict[str, str]]]:
    """The Status ``message`` and ``details.causes`` for a 409 apply conflict."""
    return err.message, err.causes


def _go_quote(text: str) -> str:
    # Go's %q: a double-quoted string with backslash escapes.
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _conflict_message(conflicts: list[FieldConflict]) -> str:
    # Mirrors getConflictMessage in apimachinery/pkg/util/managedfields/internal/conflict.go.
    if len(conflicts) == 1:
        only = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {only.manager_text}: {only.field}"
    by_manager: dict[str, list[FieldConflict]] = {}
    for conflict in conflicts:
        by_manager.setdefault(conflict.manager_text, []).append(conflict)
    lines: list[str] = []
    for manager_text in sorted(by_manager):
        lines.append(f"conflicts with {manager_text}:")
        lines.extend(f"- {c.field}" for c in by_manager[manager_text])
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
