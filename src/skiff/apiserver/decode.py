"""Request body decoding: JSON, YAML and protobuf in; a plain dict (or list) out.

Malformed bodies become 400 ``BadRequest`` with the parser's own words; an unsupported media type
is 415. Bodies over ``MAX_BODY`` are refused with 413 before they are parsed (the limit is checked
by the HTTP layer while reading, this module checks again for callers that pass bytes).
"""

from __future__ import annotations

from typing import Any

import orjson
import yaml

from skiff.apiserver.errors import ApiError, bad_request

__all__ = [
    "MAX_BODY",
    "decode_body",
    "media_type",
    "too_large",
    "unsupported",
]

MAX_BODY = 3 * 1024 * 1024

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header, lower-cased (``""`` when absent)."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def too_large() -> ApiError:
    return ApiError(
        413,
        "RequestEntityTooLarge",
        f"the request body is larger than the server's limit of {MAX_BODY} bytes; "
        "split the object or shrink its data",
    )


def _yaml_load(body: bytes) -> Any:
    try:
        docs = [d for d in yaml.load_all(body, Loader=yaml.CSafeLoader) if d is not None]
    except yaml.YAMLError as e:
        raise bad_request(f"error decoding YAML: {e}") from None
    except UnicodeDecodeError as e:
        raise bad_request(f"error decoding YAML: {e}") from None
    if len(docs) > 1:
        raise bad_request("the request body holds more than one YAML document; send one object")
    return docs[0] if docs else None


def decode_body(body: bytes, content_type: str | None, *, allow_yaml: bool = True) -> Any:
    """Parse a request body by its Content-Type (JSON when none is given)."""
    if len(body) > MAX_BODY:
        raise too_large()
    mt = media_type(content_type)
    if not body.strip():
        raise bad_request("the request body is empty; send the object as JSON or YAML")
    if mt in ("", JSON, JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, "*/*", "text/plain"):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as e:
            if mt in ("", "text/plain") and allow_yaml:
                return _yaml_load(body)
            raise bad_request(f"error decoding JSON body: {e}") from None
    if mt in (YAML, "application/x-yaml", "text/yaml", APPLY_PATCH):
        if not allow_yaml and mt != APPLY_PATCH:
            raise unsupported(mt)
        return _yaml_load(body)
    if mt == PROTOBUF:
        from skiff.api.protobuf import ProtobufError, decode

        try:
            return decode(body)
        except ProtobufError as e:
            raise bad_request(f"error decoding protobuf body: {e}") from None
    raise unsupported(mt)


def unsupported(mt: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{JSON}, {YAML}, {PROTOBUF} (got {mt!r})",
    )
