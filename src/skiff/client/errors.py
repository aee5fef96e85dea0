"""Errors raised by the client layer, translated from HTTP responses at the transport boundary.

::

    ClientError
    ├── ConfigError                 kubeconfig / in-cluster configuration is unusable
    ├── TransportError              no HTTP answer (connection refused/reset, TLS, timeout)
    ├── ApiError                    the server answered with a failure ``Status``
    │   ├── BadRequest              400
    │   ├── Unauthorized            401
    │   ├── Forbidden               403
    │   ├── NotFound                404
    │   ├── MethodNotAllowed        405
    │   ├── AlreadyExists           409 reason AlreadyExists
    │   ├── Conflict                409 (optimistic concurrency: stale resourceVersion)
    │   ├── Expired                 410 (resourceVersion too old: relist)
    │   ├── UnsupportedMediaType    415
    │   ├── Invalid                 422 (``details.causes`` lists the bad fields)
    │   ├── TooManyRequests         429
    │   └── ServerError             5xx
    │       ├── InternalError       500
    │       ├── ServiceUnavailable  503
    │       └── ServerTimeout       504
    ├── ShutDown                    the work queue is shut down
    └── WouldBlock                  a ``*_nowait`` call found nothing to return

`AlreadyExists` and `Conflict` share HTTP 409 but are siblings: retry-on-conflict loops must not
treat "it exists" as "re-read and retry". The mapping mirrors apimachinery
``k8s.io/apimachinery/pkg/api/errors`` (``IsNotFound``, ``IsConflict``, ``IsResourceExpired``...),
which decides by ``reason`` first and by HTTP code when the reason is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "AlreadyExists",
    "ApiError",
    "BadRequest",
    "ClientError",
    "ConfigError",
    "Conflict",
    "Expired",
    "Forbidden",
    "InternalError",
    "Invalid",
    "MethodNotAllowed",
    "NotFound",
    "ServerError",
    "ServerTimeout",
    "ServiceUnavailable",
    "ShutDown",
    "TooManyRequests",
    "TransportError",
    "Unauthorized",
    "UnsupportedMediaType",
    "WouldBlock",
    "error_from_status",
]


class ClientError(Exception):
    """Base of every error raised by ``skiff.client``."""


class ConfigError(ClientError):
    """The client configuration (kubeconfig, in-cluster files) is missing or malformed."""


class TransportError(ClientError):
    """The request got no HTTP response (connection, TLS, protocol or timeout failure)."""


class ShutDown(ClientError):
    """The work queue was shut down and has nothing left to hand out."""


class WouldBlock(ClientError):
    """A non-blocking call (``get_nowait``) would have had to wait."""


class ApiError(ClientError):
    """The server answered with a failure; ``status`` is its ``Status`` object (synthesized if the
    body was not one)."""

    def __init__(self, status: Mapping[str, Any]) -> None:
        self.status: dict[str, Any] = dict(status)
        super().__init__(self.message)

    @property
    def code(self) -> int:
        return int(self.status.get("code") or 0)

    @property
    def reason(self) -> str:
        return str(self.status.get("reason") or "")

    @property
    def message(self) -> str:
        return str(self.status.get("message") or "")

    @property
    def details(self) -> dict[str, Any]:
        details = self.status.get("details")
        return dict(details) if isinstance(details, Mapping) else {}

    @property
    def retry_after_seconds(self) -> int | None:
        value = self.details.get("retryAfterSeconds")
        return int(value) if isinstance(value, int) else None

    def __str__(self) -> str:
        return f"({self.reason or self.code}) {self.message}"


class BadRequest(ApiError):
    """400: the request is malformed."""


class Unauthorized(ApiError):
    """401: no or invalid credentials."""


class Forbidden(ApiError):
    """403: authenticated but not allowed."""


class NotFound(ApiError):
    """404: the object (or resource) does not exist."""


class MethodNotAllowed(ApiError):
    """405: the verb is not served for this resource."""


class AlreadyExists(ApiError):
    """409 AlreadyExists: create of a name that is taken."""


class Conflict(ApiError):
    """409 Conflict: the resourceVersion precondition failed; re-read and retry."""


class Expired(ApiError):
    """410 Expired/Gone: the requested resourceVersion is older than the server keeps; relist."""


class UnsupportedMediaType(ApiError):
    """415: the patch or body content type is not supported."""


class Invalid(ApiError):
    """422 Invalid: validation failed; ``details["causes"]`` lists fields."""

    @property
    def causes(self) -> list[dict[str, Any]]:
        causes = self.details.get("causes")
        return [dict(c) for c in causes] if isinstance(causes, list) else []


class TooManyRequests(ApiError):
    """429: throttled; honour ``Retry-After``."""


class ServerError(ApiError):
    """5xx: the server failed."""


class InternalError(ServerError):
    """500."""


class ServiceUnavailable(ServerError):
    """503."""


class ServerTimeout(ServerError):
    """504 (or reason Timeout/ServerTimeout)."""


_BY_REASON: dict[str, type[ApiError]] = {
    "BadRequest": BadRequest,
    "Unauthorized": Unauthorized,
    "Forbidden": Forbidden,
    "NotFound": NotFound,
    "MethodNotAllowed": MethodNotAllowed,
    "AlreadyExists": AlreadyExists,
    "Conflict": Conflict,
    "Expired": Expired,
    "Gone": Expired,
    "UnsupportedMediaType": UnsupportedMediaType,
    "Invalid": Invalid,
    "TooManyRequests": TooManyRequests,
    "InternalError": InternalError,
    "ServiceUnavailable": ServiceUnavailable,
    "Timeout": ServerTimeout,
    "ServerTimeout": ServerTimeout,
}

_BY_CODE: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    410: Expired,
    415: UnsupportedMediaType,
    422: Invalid,
    429: TooManyRequests,
    500: InternalError,
    503: ServiceUnavailable,
    504: ServerTimeout,
}


def error_from_status(status: Mapping[str, Any], http_code: int | None = None) -> ApiError:
    """The `ApiError` subclass for a failure ``Status`` (reason first, then code).

    ``http_code`` fills in ``status["code"]`` when the body did not carry one.
    """
    body = dict(status)
    if not body.get("code") and http_code:
        body["code"] = http_code
    code = int(body.get("code") or 0)
    cls = _BY_REASON.get(str(body.get("reason") or ""))
    if cls is None:
        cls = _BY_CODE.get(code)
    if cls is None:
        cls = ServerError if code >= 500 else ApiError
    return cls(body)
