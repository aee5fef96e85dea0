"""API errors and their ``Status`` bodies.

Every failure a client can cause ends as an ``ApiError`` carrying the HTTP code, the Kubernetes
``reason`` and a message that says what to fix; the HTTP layer renders it with ``to_status``.
Store errors are translated here at the boundary (house style: each layer raises its own errors).

    ApiError
    ├── BadRequest (400), Unauthorized (401), Forbidden (403), NotFound (404),
    │   MethodNotAllowed (405), NotAcceptable (406), AlreadyExists (409), Conflict (409),
    │   Gone/Expired (410), RequestEntityTooLarge (413), UnsupportedMediaType (415),
    │   Invalid (422), TooManyRequests (429), InternalError (500), ServiceUnavailable (503),
    │   Timeout (504)
"""

from __future__ import annotations

from typing import Any

from skiff.api.field import FieldError
from skiff.api.resources import ResourceInfo

__all__ = [
    "ApiError",
    "already_exists",
    "bad_request",
    "conflict",
    "expired",
    "forbidden",
    "invalid",
    "method_not_allowed",
    "not_found",
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
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.reason!r}, {self.message!r})"


def status_success(
    info: ResourceInfo | None = None, name: str = "", uid: str = ""
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
    }
    if info is not None:
        details: dict[str, Any] = {"name": name, "kind": info.plural}
        if info.group:
            details["group"] = info.group
        if uid:
            details["uid"] = uid
        body["details"] = details
    return body


def _details(info: ResourceInfo | None, name: str) -> dict[str, Any]:
    d: dict[str, Any] = {"name": name}
    if info is not None:
        d["kind"] = info.plural
        if info.group:
            d["group"] = info.group
    return d


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(message: str, info: ResourceInfo | None = None, name: str = "") -> ApiError:
    return ApiError(403, "Forbidden", message, details=_details(info, name) if info else None)


def not_found(info: ResourceInfo, name: str) -> ApiError:
    return ApiError(
        404, "NotFound", f'{info.group_resource} "{name}" not found', details=_details(info, name)
    )


def method_not_allowed(message: str) -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def already_exists(info: ResourceInfo, name: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{info.group_resource} "{name}" already exists',
        details=_details(info, name),
    )


def conflict(info: ResourceInfo, name: str, why: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {info.group_resource} "{name}": {why}',
        details=_details(info, name),
    )


STALE = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def invalid(info: ResourceInfo | None, kind: str, name: str, errors: list[FieldError]) -> ApiError:
    """422 Invalid with one cause per bad field, worded like Kubernetes."""
    joined = errors[0].__str__() if len(errors) == 1 else "[" + ", ".join(map(str, errors)) + "]"
    details: dict[str, Any] = {"name": name, "kind": kind, "causes": [e.to_cause() for e in errors]}
    if info is not None and info.group:
        details["group"] = info.group
    return ApiError(422, "Invalid", f'{kind} "{name}" is invalid: {joined}', details=details)
