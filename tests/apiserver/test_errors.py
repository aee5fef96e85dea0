"""API error classes (skiff.apiserver.errors): the constructor helpers return the subclass of
their reason with the right code, ``api_error`` maps a relayed code/reason to its class, every
class is drawn in the module's docstring tree, and ``to_status`` renders a Kubernetes Status.
"""

from __future__ import annotations

import inspect

import pytest

from skiff.api import resources
from skiff.api.field import FieldError
from skiff.apiserver import errors
from skiff.apiserver.errors import (
    AlreadyExistsError,
    ApiError,
    BadRequestError,
    ConflictError,
    ExpiredError,
    ForbiddenError,
    InvalidError,
    MethodNotAllowedError,
    NotFoundError,
    api_error,
)

PODS = resources.by_resource("", "v1", "pods")
assert PODS is not None


@pytest.mark.parametrize(
    ("error", "cls", "code", "reason"),
    [
        pytest.param(errors.bad_request("x"), BadRequestError, 400, "BadRequest", id="400"),
        pytest.param(errors.forbidden("x"), ForbiddenError, 403, "Forbidden", id="403"),
        pytest.param(errors.not_found(PODS, "p"), NotFoundError, 404, "NotFound", id="404"),
        pytest.param(
            errors.method_not_allowed("x"), MethodNotAllowedError, 405, "MethodNotAllowed", id="405"
        ),
        pytest.param(
            errors.already_exists(PODS, "p"), AlreadyExistsError, 409, "AlreadyExists", id="409a"
        ),
        pytest.param(errors.conflict(PODS, "p", "why"), ConflictError, 409, "Conflict", id="409c"),
        pytest.param(errors.expired("x"), ExpiredError, 410, "Expired", id="410"),
        pytest.param(
            errors.invalid(PODS, "Pod", "p", [FieldError.required("spec")]),
            InvalidError,
            422,
            "Invalid",
            id="422",
        ),
    ],
)
def test_helpers_return_the_class_of_their_reason(
    error: ApiError, cls: type[ApiError], code: int, reason: str
) -> None:
    assert type(error) is cls
    assert (error.code, error.reason) == (code, reason)
    status = error.to_status()
    assert status["kind"] == "Status" and status["status"] == "Failure"
    assert (status["code"], status["reason"]) == (code, reason)


def test_api_error_picks_the_class_by_reason_and_code() -> None:
    assert type(api_error(404, "NotFound", "gone")) is NotFoundError
    assert type(api_error(422, "Invalid", "bad", details={"causes": []})) is InvalidError
    # a reason at another code than its class's stays a plain ApiError
    odd = api_error(400, "NotFound", "odd")
    assert type(odd) is ApiError and odd.code == 400
    assert type(api_error(500, "InternalError", "boom")) is ApiError
    assert repr(NotFoundError("m")) == "NotFoundError(404, 'NotFound', 'm')"


def test_every_error_class_is_in_the_docstring_tree() -> None:
    doc = errors.__doc__ or ""
    classes = [
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, ApiError) and not name.startswith("_")
    ]
    assert len(classes) > 10
    assert [c for c in classes if c not in doc] == []
    assert sorted(classes) == sorted(n for n in errors.__all__ if n.endswith("Error"))


def test_status_bytes_are_kubernetes_field_order_with_a_newline() -> None:
    error = errors.invalid(
        resources.by_resource("apps", "v1", "deployments"),
        "Deployment",
        "web",
        [FieldError.required("spec.selector"), FieldError("FieldValueInvalid", "", "")],
    )
    assert error.to_bytes() == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        b'"message":"Deployment \\"web\\" is invalid: [spec.selector: Required value, : Invalid '
        b'value]","reason":"Invalid","details":{"name":"web","group":"apps","kind":"Deployment",'
        b'"causes":[{"reason":"FieldValueRequired","message":"Required value",'
        b'"field":"spec.selector"},{"reason":"FieldValueInvalid","message":"Invalid value"}]},'
        b'"code":422}\n'
    )
    # empty details fields are left out, as Go's omitempty does
    retry = ApiError(429, "TooManyRequests", "slow down", details={"retryAfterSeconds": 0})
    assert retry.to_bytes() == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        b'"message":"slow down","reason":"TooManyRequests","details":{},"code":429}\n'
    )
