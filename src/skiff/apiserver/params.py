"""What a request says besides its path: options read from the query and the body.

Pure parsing with Kubernetes' messages for bad values (400 Status errors): the dry-run, field
validation and field manager of a write, DeleteOptions, list options, bounded bodies.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from skiff.api.selector import SelectorError, parse_label_selector
from skiff.apiserver import decode as decoding
from skiff.apiserver.auth import UserInfo
from skiff.apiserver.errors import bad_request
from skiff.apiserver.registry import ListOptions, RequestContext

__all__ = [
    "delete_options",
    "flag",
    "integer",
    "list_options",
    "manager_from_agent",
    "read_body",
    "read_decoded_body",
    "request_context",
    "warning_header",
]

_TRUE = {"true", "1", "yes"}


def flag(value: str | None) -> bool:
    return value is not None and value.strip().lower() in _TRUE


def integer(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"{name} must be an integer, got {value!r}") from None


def warning_header(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'


def manager_from_agent(agent: str | None) -> str:
    """Kubernetes' default field manager: the user agent up to its first '/'."""
    if not agent:
        return "unknown"
    return agent.split("/", 1)[0][:128] or "unknown"


def request_context(request: Request, user: UserInfo) -> RequestContext:
    q = request.query_params
    dry = q.getlist("dryRun")
    for d in dry:
        if d != "All":
            raise bad_request(f'invalid dry run value "{d}": the only supported value is "All"')
    fv = q.get("fieldValidation") or "Warn"
    if fv not in ("Strict", "Warn", "Ignore"):
        raise bad_request(f'fieldValidation "{fv}" is not supported: use Strict, Warn or Ignore')
    manager = q.get("fieldManager") or manager_from_agent(request.headers.get("user-agent"))
    if len(manager) > 128:
        raise bad_request("fieldManager may not be longer than 128 characters")
    return RequestContext(
        field_manager_given=bool(q.get("fieldManager")),
        user=user,
        dry_run=bool(dry),
        field_manager=manager,
        field_validation=fv,
    )


async def read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > decoding.MAX_BODY:
        raise decoding.too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > decoding.MAX_BODY:
            raise decoding.too_large()
        chunks.append(chunk)
    return b"".join(chunks)


async def read_decoded_body(request: Request) -> Any:
    """The request body (at most ``MAX_BODY``), decoded by its Content-Type."""
    return decoding.decode_body(await read_body(request), request.headers.get("content-type"))


async def delete_options(
    request: Request, ctx: RequestContext
) -> tuple[int | None, str, dict[str, Any] | None]:
    q = request.query_params
    grace: int | None = None
    propagation = q.get("propagationPolicy") or ""
    pre: dict[str, Any] | None = None
    raw = await read_body(request)
    if raw.strip():
        opts = decoding.decode_body(raw, request.headers.get("content-type"))
        if not isinstance(opts, dict):
            raise bad_request("the body of a DELETE must be a DeleteOptions object")
        if opts.get("gracePeriodSeconds") is not None:
            grace = integer(opts["gracePeriodSeconds"], "gracePeriodSeconds")
        propagation = opts.get("propagationPolicy") or propagation
        if opts.get("orphanDependents") is True and not propagation:
            propagation = "Orphan"
        pre = opts.get("preconditions") or None
        if opts.get("dryRun"):
            ctx.dry_run = True
    if q.get("gracePeriodSeconds") is not None:
        grace = integer(q["gracePeriodSeconds"], "gracePeriodSeconds")
    if flag(q.get("orphanDependents")) and not propagation:
        propagation = "Orphan"
    return grace, propagation, pre


def list_options(request: Request) -> ListOptions:
    q = request.query_params
    limit = 0
    if q.get("limit"):
        limit = integer(q["limit"], "limit")
    opts = ListOptions(
        label_selector=q.get("labelSelector", ""),
        field_selector=q.get("fieldSelector", ""),
        limit=max(0, limit),
        continue_token=q.get("continue", ""),
        resource_version=q.get("resourceVersion", ""),
        resource_version_match=q.get("resourceVersionMatch", ""),
    )
    if opts.label_selector:
        try:
            parse_label_selector(opts.label_selector)
        except SelectorError as e:
            raise bad_request(str(e)) from None
    return opts
