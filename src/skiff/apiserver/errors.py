"""API errors and their ``Status`` bodies.

Every failure a client can cause ends as an ``ApiError`` carrying the HTTP code, the Kubernetes
``reason`` and a message that says what to fix; the HTTP layer writes it with ``to_bytes``
(``to_status`` in Kubernetes' field order, compact, with a trailing newline, as kube-apiserver
writes a Status: the Python client's own tests compare these bodies as text).
Store errors are translated here at the boundary (house style: each layer raises its own errors).
Callers tell errors apart by class (``except NotFoundError``), never by comparing reasons; the
constructor functions below (``not_found``, ``conflict``, ...) return the matching subclass, and
``api_error`` picks it from a reason (for errors relayed from other layers).

    ApiError                            any other code/reason (e.g. 500 InternalError)
    ├── BadRequestError                 400 BadRequest
    ├── UnauthorizedError               401 Unauthorized
    ├── ForbiddenError                  403 Forbidden
    ├── NotFoundError                   404 NotFound
    ├── MethodNotAllowedError           405 MethodNotAllowed
    ├── NotAcceptableError              406 NotAcceptable
    ├── AlreadyExistsError              409 AlreadyExists
    ├── ConflictError                   409 Conflict
    ├── ExpiredError                    410 Expired (Gone)
    ├── RequestEntityTooLargeError      413 RequestEntityTooLarge
    ├── UnsupportedMediaTypeError       415 UnsupportedMediaType
    ├── InvalidError                    422 Invalid
    ├── TooManyRequestsError            429 TooManyRequests
    ├── ServiceUnavailableError         503 ServiceUnavailable
    └── GatewayTimeoutError             504 Timeout
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from skiff.api.field import FieldError
from skiff.api.resources import ResourceInfo

__all__ = [
    "AlreadyExistsError",
    "ApiError",
    "BadRequestError",
    "ConflictError",
    "ExpiredError",
    "ForbiddenError",
    "GatewayTimeoutError",
    "InvalidError",
    "MethodNotAllowedError",
    "NotAcceptableError",
    "NotFoundError",
    "RequestEntityTooLargeError",
    "ServiceUnavailableError",
    "TooManyRequestsError",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
    "already_exists",
    "api_error",
    "bad_request",
    "cannot_decode",
    "conflict",
    "expired",
    "forbidden",
    "invalid",
    "method_not_allowed",
    "not_found",
    "patch_invalid",
    "status_success",
]


class ApiError(Exception):
    """An error that becomes a ``Status`` response."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def to_status(self) -> dict[str, Any]:
        """The ``Status`` body, keys in the order Kubernetes encodes them (the field order of
        apimachinery's ``metav1.Status``, ``StatusDetails`` and ``StatusCause``)."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
        }
        if self.message:
            body["message"] = self.message
        if self.reason:
            body["reason"] = self.reason
        if self.details:
            body["details"] = _ordered_details(self.details)
        body["code"] = self.code
        return body

    def to_bytes(self) -> bytes:
        """The ``Status`` as Kubernetes writes it: compact JSON and a trailing newline."""
        return orjson.dumps(self.to_status()) + b"\n"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.reason!r}, {self.message!r})"


# metav1.StatusDetails and metav1.StatusCause field order
_DETAILS_ORDER = ("name", "group", "kind", "uid", "causes", "retryAfterSeconds")
_CAUSE_ORDER = ("reason", "message", "field")


def _ordered(d: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """``d`` in ``order`` (other keys after), without empty values (all of these fields are
    ``omitempty`` in Go)."""
    out = {k: d[k] for k in order if k in d}
    out.update((k, v) for k, v in d.items() if k not in out)
    return {k: v for k, v in out.items() if v not in ("", 0, None, [], {})}


def _ordered_details(details: dict[str, Any]) -> dict[str, Any]:
    out = _ordered(details, _DETAILS_ORDER)
    causes = out.get("causes")
    if isinstance(causes, list):
        out["causes"] = [_ordered(c, _CAUSE_ORDER) if isinstance(c, dict) else c for c in causes]
    return out


class _Fixed(ApiError):
    """An ``ApiError`` whose code and reason come from its class."""

    CODE: ClassVar[int] = 500
    REASON: ClassVar[str] = "InternalError"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(self.CODE, self.REASON, message, details=details, headers=headers)


class BadRequestError(_Fixed):
    """400: the request itself is malformed (body, query, path)."""

    CODE, REASON = 400, "BadRequest"


class UnauthorizedError(_Fixed):
    """401: no or unknown credentials."""

    CODE, REASON = 401, "Unauthorized"


class ForbiddenError(_Fixed):
    """403: the authorizer or an admission plugin refused the request."""

    CODE, REASON = 403, "Forbidden"


class NotFoundError(_Fixed):
    """404: the object (or the namespace it would live in) does not exist."""

    CODE, REASON = 404, "NotFound"


class MethodNotAllowedError(_Fixed):
    """405: the resource does not support the verb."""

    CODE, REASON = 405, "MethodNotAllowed"


class NotAcceptableError(_Fixed):
    """406: no representation the client accepts."""

    CODE, REASON = 406, "NotAcceptable"


class AlreadyExistsError(_Fixed):
    """409 AlreadyExists: a create found the name taken."""

    CODE, REASON = 409, "AlreadyExists"


class ConflictError(_Fixed):
    """409 Conflict: a stale resourceVersion, a failed precondition, or lost retries."""

    CODE, REASON = 409, "Conflict"


class ExpiredError(_Fixed):
    """410 Expired (Gone): a resourceVersion or continue token older than the history kept."""

    CODE, REASON = 410, "Expired"


class RequestEntityTooLargeError(_Fixed):
    """413: the request body is over the limit."""

    CODE, REASON = 413, "RequestEntityTooLarge"


class UnsupportedMediaTypeError(_Fixed):
    """415: a body or patch type the server does not decode."""

    CODE, REASON = 415, "UnsupportedMediaType"


class InvalidError(_Fixed):
    """422 Invalid: the object fails validation; ``details.causes`` has one cause per field."""

    CODE, REASON = 422, "Invalid"


class TooManyRequestsError(_Fixed):
    """429: over the in-flight limit, or an eviction a disruption budget forbids."""

    CODE, REASON = 429, "TooManyRequests"


class ServiceUnavailableError(_Fixed):
    """503: the server cannot answer now (store closing, a range exhausted); retry."""

    CODE, REASON = 503, "ServiceUnavailable"


class GatewayTimeoutError(_Fixed):
    """504 Timeout: the server gave up waiting (e.g. a resourceVersion newer than the store)."""

    CODE, REASON = 504, "Timeout"


_BY_REASON: dict[str, type[_Fixed]] = {
    cls.REASON: cls
    for cls in (
        BadRequestError,
        UnauthorizedError,
        ForbiddenError,
        NotFoundError,
        MethodNotAllowedError,
        NotAcceptableError,
        AlreadyExistsError,
        ConflictError,
        ExpiredError,
        RequestEntityTooLargeError,
        UnsupportedMediaTypeError,
        InvalidError,
        TooManyRequestsError,
        ServiceUnavailableError,
        GatewayTimeoutError,
    )
}


def api_error(
    code: int,
    reason: str,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> ApiError:
    """The ``ApiError`` subclass for ``reason`` when it has one at ``code``, else a plain one."""
    cls = _BY_REASON.get(reason)
    if cls is not None and code == cls.CODE:
        return cls(message, details=details, headers=headers)
    return ApiError(code, reason, message, details=details, headers=headers)


def status_success(
    info: ResourceInfo | None = None, name: str = "", uid: str = "", *, code: int = 0
) -> dict[str, Any]:
    """A Success Status. ``code`` is set where Kubernetes' handler sets it: a create answered
    with a Status (binding, eviction) carries 201; the generic store's delete Status has none."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
    }
    if info is not None:
        details: dict[str, Any] = {"name": name, "group": info.group, "kind": info.plural}
        if uid:
            details["uid"] = uid
        body["details"] = _ordered_details(details)
    if code:
        body["code"] = code
    return body


def _details(info: ResourceInfo | None, name: str) -> dict[str, Any]:
    d: dict[str, Any] = {"name": name}
    if info is not None:
        d["group"] = info.group
        d["kind"] = info.plural
    return _ordered_details(d)


def bad_request(message: str) -> BadRequestError:
    return BadRequestError(message)


def cannot_decode(info: ResourceInfo, why: str) -> BadRequestError:
    """400 for a body Kubernetes' decoder refuses (a value of the wrong type, unknown fields
    under fieldValidation=Strict), worded as the API server words it."""
    return BadRequestError(
        f'{info.kind} in version "{info.version}" cannot be handled as a {info.kind}: {why}'
    )


def patch_invalid(patched: str, why: str) -> InvalidError:
    """422 for a patch whose result does not decode, as Kubernetes' patch handler words it: no
    kind or name, one cause on field ``patch`` carrying the patched object (or the patch)."""
    return invalid(None, "", "", [FieldError.invalid("patch", patched, why)])


def forbidden(message: str, info: ResourceInfo | None = None, name: str = "") -> ForbiddenError:
    return ForbiddenError(message, details=_details(info, name) if info else None)


def not_found(info: ResourceInfo, name: str) -> NotFoundError:
    return NotFoundError(f'{info.group_resource} "{name}" not found', details=_details(info, name))


def method_not_allowed(message: str) -> MethodNotAllowedError:
    return MethodNotAllowedError(message)


def already_exists(info: ResourceInfo, name: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        f'{info.group_resource} "{name}" already exists',
        details=_details(info, name),
    )


def conflict(info: ResourceInfo, name: str, why: str) -> ConflictError:
    return ConflictError(
        f'Operation cannot be fulfilled on {info.group_resource} "{name}": {why}',
        details=_details(info, name),
    )


STALE = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def expired(message: str) -> ExpiredError:
    return ExpiredError(message)


def invalid(
    info: ResourceInfo | None, kind: str, name: str, errors: list[FieldError]
) -> InvalidError:
    """422 Invalid with one cause per bad field, worded like Kubernetes."""
    joined = errors[0].__str__() if len(errors) == 1 else "[" + ", ".join(map(str, errors)) + "]"
    details: dict[str, Any] = {"name": name, "kind": kind, "causes": [e.to_cause() for e in errors]}
    if info is not None and info.group:
        details["group"] = info.group
    return InvalidError(f'{kind} "{name}" is invalid: {joined}', details=details)
