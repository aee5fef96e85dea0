"""Authentication (who is asking) and the authorizer seam (may they).

Authentication turns a request's bearer token into a ``UserInfo``; a request without valid
credentials gets 401. Authorization is a Protocol so RBAC and node restriction can plug in later;
today ``AlwaysAllow`` admits every authenticated user, which matches the single-admin bootstrap.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "AlwaysAllow",
    "Attributes",
    "Authorizer",
    "TokenAuthenticator",
    "UserInfo",
]


@dataclass(frozen=True)
class UserInfo:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""


@dataclass(frozen=True)
class Attributes:
    """What a request does, in Kubernetes' authorizer vocabulary."""

    user: UserInfo
    verb: str
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""
    resource_request: bool = True


class Authorizer(Protocol):
    def authorize(self, attrs: Attributes) -> tuple[bool, str]:
        """Decide a request: (allowed, reason shown in a 403 when denied). Must not block."""
        ...


class AlwaysAllow:
    def authorize(self, attrs: Attributes) -> tuple[bool, str]:
        return True, ""


@dataclass
class TokenAuthenticator:
    """Static bearer tokens (admin today; node and service-account tokens join later)."""

    tokens: dict[str, UserInfo] = field(default_factory=dict)

    def add(self, token: str, user: UserInfo) -> None:
        self.tokens[token] = user

    def authenticate(self, authorization: str | None) -> UserInfo | None:
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        token = token.strip()
        for known, user in self.tokens.items():
            # constant-time comparison so response timing does not leak token prefixes
            if hmac.compare_digest(known.encode(), token.encode()):
                return user
        return None
