"""How a response body is represented: the conversions a client asks for with ``Accept``.

Kubernetes answers a request as the resource itself, or converted on request
(``application/json;as=<kind>;g=meta.k8s.io;v=<version>``): a ``Table`` for ``kubectl get``
(server-side printing), ``PartialObjectMetadata``/``PartialObjectMetadataList`` for client-go's
metadata client (the garbage collector and the namespace controller follow every kind this way
without caching whole objects; Secrets' data never leaves in these answers). A request asking
only for conversions it does not offer gets 406, as kube's ``NegotiateOutputMediaType``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import HTTPConnection
from starlette.responses import Response, StreamingResponse

from skiff.apiserver.errors import ApiError
from skiff.apiserver.negotiation import (
    META_GROUP,
    Conversion,
    NotAcceptableError,
    negotiate_conversion,
)

__all__ = [
    "LIST_CONVERSIONS",
    "OBJECT_CONVERSIONS",
    "metadata_bookmark",
    "negotiate",
    "partial_object_metadata",
    "pretty",
    "table_content_type",
]

_META_VERSIONS = ("v1", "v1beta1")
# what an object (a get, a write's answer, each watch event) may be converted to
OBJECT_CONVERSIONS: Mapping[str, tuple[str, ...]] = {
    "Table": _META_VERSIONS,
    "PartialObjectMetadata": _META_VERSIONS,
}
# what a list may be converted to
LIST_CONVERSIONS: Mapping[str, tuple[str, ...]] = {
    "Table": _META_VERSIONS,
    "PartialObjectMetadataList": _META_VERSIONS,
}


def table_content_type(version: str) -> str:
    return f"application/json;as=Table;v={version};g=meta.k8s.io"


def negotiate(request: HTTPConnection, offered: Mapping[str, tuple[str, ...]]) -> Conversion | None:
    """The conversion the ``Accept`` header asks for among ``offered``; 406 if only others."""
    try:
        return negotiate_conversion(request.headers.get("accept"), offered)
    except NotAcceptableError as e:
        raise ApiError(406, "NotAcceptable", str(e)) from None


def partial_object_metadata(obj: dict[str, Any], version: str = "v1") -> dict[str, Any]:
    """``meta.k8s.io`` PartialObjectMetadata of an object: its metadata only (no spec, status,
    data), as client-go's metadata client and the garbage collector read objects."""
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"{META_GROUP}/{version}",
        "metadata": obj.get("metadata") or {},
    }


def metadata_bookmark(line: bytes, conversion: Conversion) -> bytes:
    event = orjson.loads(line)
    obj = event.get("object") or {}
    event["object"] = partial_object_metadata(obj, conversion.version)
    return orjson.dumps(event) + b"\n"


def pretty(response: Response) -> Response:
    """``?pretty=true``: the same JSON, indented (not for streams)."""
    if isinstance(response, StreamingResponse) or not (response.media_type or "").startswith(
        "application/json"
    ):
        return response
    body = orjson.dumps(orjson.loads(response.body), option=orjson.OPT_INDENT_2) + b"\n"
    pretty = Response(body, response.status_code, media_type=response.media_type)
    for name, value in response.raw_headers:
        if name.lower() not in (b"content-length", b"content-type"):
            pretty.raw_headers.append((name, value))
    return pretty
