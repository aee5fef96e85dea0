"""Authentication (who is asking) and the authorizer seam (may they).

Authentication turns a request's bearer token into a ``UserInfo``; a request without valid
credentials gets 401. Static tokens (the admin's) are looked up; node agents' tokens
(``NodeTokenAuthenticator``) are HMAC-signed and self-describing, so any API server holding the
signing key (kept in the store, see ``skiff.apiserver.nodejoin``) verifies them without a lookup.
Authorization is a Protocol so RBAC and node restriction can plug in later;
today ``AlwaysAllow`` admits every authenticated user, which matches the single-admin bootstrap.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import orjson

__all__ = [
    "NODE_GROUPS",
    "AlwaysAllow",
    "Attributes",
    "Authorizer",
    "NodeTokenAuthenticator",
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


NODE_GROUPS = ("system:nodes", "system:authenticated")
"""The groups of a node agent's user ``system:node:<name>``."""
_NODE_TOKEN_PREFIX = "skiff-node."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class NodeTokenAuthenticator:
    """Node agents' bearer tokens: ``skiff-node.<payload>.<hmac>``, both parts base64url.

    The payload is JSON ``{"node": name, "iat": issued, "exp": expires}`` (Unix seconds); the MAC is
    HMAC-SHA256 over the payload part with ``key``. A token authenticates as
    ``system:node:<name>`` (groups `NODE_GROUPS`) until ``exp``; afterwards, or with a bad MAC, it
    authenticates nobody (401). Until `set_key` is called (the API server reads the key from the
    store at bootstrap) no node token is accepted.
    """

    def __init__(self, key: bytes | None = None, *, now: Callable[[], float] = time.time) -> None:
        self._key = key
        self._now = now

    @property
    def ready(self) -> bool:
        return self._key is not None

    def set_key(self, key: bytes) -> None:
        self._key = key

    def issue(self, node: str, lifetime: float) -> tuple[str, float, float]:
        """A token for ``node`` valid ``lifetime`` seconds: (token, issued at, expires at)."""
        if self._key is None:
            raise RuntimeError("the node token signing key is not loaded yet")
        issued = self._now()
        expires = issued + lifetime
        payload = _b64(orjson.dumps({"node": node, "iat": issued, "exp": expires}))
        mac = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return f"{_NODE_TOKEN_PREFIX}{payload}.{_b64(mac)}", issued, expires

    def verify(self, token: str) -> UserInfo | None:
        """The node user of a valid, unexpired token; None otherwise."""
        if self._key is None or not token.startswith(_NODE_TOKEN_PREFIX):
            return None
        payload, _, mac = token[len(_NODE_TOKEN_PREFIX) :].partition(".")
        try:
            given = _unb64(mac)
            want = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(given, want):
                return None
            claims = orjson.loads(_unb64(payload))
        except (binascii.Error, ValueError, orjson.JSONDecodeError):
            return None
        if not isinstance(claims, dict):
            return None
        node, expires = claims.get("node"), claims.get("exp")
        if not isinstance(node, str) or not node or not isinstance(expires, int | float):
            return None
        if self._now() >= expires:
            return None
        return UserInfo(f"system:node:{node}", NODE_GROUPS)


@dataclass
class TokenAuthenticator:
    """Static bearer tokens (the admin's), then node agents' signed tokens when ``nodes`` is set
    (service-account tokens join later)."""

    tokens: dict[str, UserInfo] = field(default_factory=dict)
    nodes: NodeTokenAuthenticator | None = None

    def add(self, token: str, user: UserInfo) -> None:
        self.tokens[token] = user

    def authenticate(self, authorization: str | None) -> UserInfo | None:
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        token = token.strip()
        if self.nodes is not None and token.startswith(_NODE_TOKEN_PREFIX):
            return self.nodes.verify(token)
        for known, user in self.tokens.items():
            # constant-time comparison so response timing does not leak token prefixes
            if hmac.compare_digest(known.encode(), token.encode()):
                return user
        return None
