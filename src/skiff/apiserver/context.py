"""Per-request facts every registry verb (and every strategy hook) needs.

Lives apart from ``registry`` so strategies can name it without importing the registry that
composes them; ``skiff.apiserver.registry`` re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skiff.apiserver.auth import UserInfo

__all__ = ["RequestContext"]


@dataclass
class RequestContext:
    """Per-request facts every verb needs."""

    user: UserInfo
    dry_run: bool = False
    field_manager: str = ""
    field_validation: str = "Strict"
    warnings: list[str] = field(default_factory=list)
    # whether the client named its field manager (server-side apply requires it)
    field_manager_given: bool = False
