"""HTTP ``Accept`` header parsing and the "as=Kind;g=group;v=version" negotiation Kubernetes uses.

Kubernetes clients ask for alternative representations of a response by adding parameters to the
JSON media type instead of inventing new media types:

- aggregated discovery: ``application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList``
- server-side printing: ``application/json;as=Table;v=v1;g=meta.k8s.io``
- metadata only (client-go's metadata client, used by the garbage collector and the namespace
  controller): ``application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`` on a list,
  ``as=PartialObjectMetadata`` on a get and on a watch (each event's object)

Each header lists the alternatives first and plain ``application/json`` last, so a server that does
not understand the parameters still answers. The rules here mirror the apiserver's
(``apiserver/pkg/endpoints/handlers/negotiation``, which sorts with ``munnerz/goautoneg``): entries
are ordered by ``q`` (highest first), then by specificity (no wildcard before wildcard, more
parameters before fewer), keeping the client's order among equals; ``q=0`` means "not acceptable".
Parameter order within one entry is free, and parameter names are case-insensitive.

Everything here is pure; the handlers decide what to send.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "META_GROUP",
    "Conversion",
    "MediaType",
    "NotAcceptableError",
    "negotiate_as",
    "negotiate_conversion",
    "parse_accept",
    "parse_media_type",
]


@dataclass(frozen=True)
class MediaType:
    """One entry of an ``Accept`` (or a ``Content-Type``) header.

    ``type``/``subtype`` are lower-cased; parameter names are lower-cased and values kept as sent
    (Kubernetes' ``as``, ``g`` and ``v`` are case-sensitive identifiers). ``q`` is the quality
    weight (1.0 when absent) and is not kept among ``params``.
    """

    type: str
    subtype: str
    params: Mapping[str, str] = field(default_factory=dict)
    q: float = 1.0

    @property
    def mime(self) -> str:
        """``type/subtype`` without parameters."""
        return f"{self.type}/{self.subtype}"

    @property
    def as_kind(self) -> str | None:
        """The ``as`` parameter: the kind the client wants the body converted to."""
        return self.params.get("as")

    @property
    def group(self) -> str | None:
        """The ``g`` parameter: the API group of ``as``."""
        return self.params.get("g")

    @property
    def version(self) -> str | None:
        """The ``v`` parameter: the API version of ``as``."""
        return self.params.get("v")

    @property
    def specificity(self) -> int:
        """0 for ``*/*``, 1 for ``type/*``, 2 for a concrete type."""
        if self.type == "*":
            return 0
        if self.subtype == "*":
            return 1
        return 2

    def accepts(self, mime: str) -> bool:
        """Whether ``mime`` (``type/subtype``) falls under this entry, wildcards included."""
        type_, _, subtype = mime.lower().partition("/")
        if self.type == "*":
            return True
        if self.type != type_:
            return False
        return self.subtype in ("*", subtype)


def parse_media_type(text: str) -> MediaType | None:
    """Parse one media range such as ``application/json;as=Table;v=v1;q=0.5``.

    Returns None for an entry that is not ``type/subtype`` (clients sometimes send junk; the
    apiserver skips such entries rather than failing the request). A bare ``*`` is read as ``*/*``,
    as Go's ``mime.ParseMediaType`` users in Kubernetes do.
    """
    parts = text.split(";")
    full = parts[0].strip().lower()
    if full == "*":
        full = "*/*"
    type_, slash, subtype = full.partition("/")
    if not slash or not type_ or not subtype or "/" in subtype:
        return None
    params: dict[str, str] = {}
    q = 1.0
    for raw in parts[1:]:
        name, eq, value = raw.partition("=")
        name = name.strip().lower()
        if not name or not eq:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
            q = min(max(q, 0.0), 1.0)
        else:
            params[name] = value
    return MediaType(type_, subtype, params, q)


def parse_accept(accept: str | None) -> list[MediaType]:
    """Parse an ``Accept`` header into entries in preference order.

    Order: higher ``q`` first; among equal ``q``, concrete types before ``type/*`` before ``*/*``,
    then entries with more parameters first; otherwise the client's order is kept (the sort is
    stable). Entries with ``q=0`` are dropped. A missing or empty header means ``*/*``.
    """
    if accept is None or not accept.strip():
        return [MediaType("*", "*")]
    entries = [mt for part in accept.split(",") if (mt := parse_media_type(part)) is not None]
    entries = [mt for mt in entries if mt.q > 0]
    return sorted(entries, key=lambda mt: (-mt.q, -mt.specificity, -len(mt.params)))


def negotiate_as(
    accept: str | None,
    *,
    group: str,
    kind: str,
    versions: Iterable[str],
    mime: str = "application/json",
) -> str | None:
    """Pick the version of an ``as=<kind>;g=<group>;v=<version>`` representation to send.

    Walks the parsed ``Accept`` entries in preference order. The first entry that names ``kind``
    and ``group`` with one of ``versions`` (and whose media type covers ``mime``) wins and its
    version is returned. The first entry without an ``as`` parameter that covers ``mime`` (plain
    ``application/json``, ``*/*``) means the client is content with the ordinary representation:
    None is returned. Entries asking for something else (another kind, an unknown version) are
    skipped. None is also returned when nothing matched at all; whether that is a 406 is the
    caller's decision.
    """
    wanted = tuple(versions)
    for mt in parse_accept(accept):
        if not mt.accepts(mime):
            continue
        if mt.as_kind is None:
            # Plain JSON (or a wildcard) ranked before any alternative the client offered.
            return None
        if mt.as_kind == kind and mt.group == group and mt.version in wanted:
            return mt.version
    return None


META_GROUP = "meta.k8s.io"


@dataclass(frozen=True)
class Conversion:
    """A representation the client asked for with ``as``/``g``/``v`` (``Table``, ...)."""

    kind: str
    group: str
    version: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def content_type(self) -> str:
        return f"application/json;as={self.kind};g={self.group};v={self.version}"


class NotAcceptableError(Exception):
    """The ``Accept`` header asks only for conversions this request does not offer (406)."""

    def __init__(self, asked: list[str], offered: Mapping[str, Iterable[str]]) -> None:
        self.asked = asked
        self.offered = {kind: tuple(versions) for kind, versions in offered.items()}
        kinds = ", ".join(f"{kind} ({'/'.join(v)})" for kind, v in sorted(self.offered.items()))
        super().__init__(
            f"the server cannot answer this request as {' or '.join(asked)}: it offers "
            f"{kinds or 'no conversion'} in group {META_GROUP}, or plain application/json"
        )


def negotiate_conversion(
    accept: str | None,
    offered: Mapping[str, Iterable[str]],
    *,
    group: str = META_GROUP,
    mime: str = "application/json",
) -> Conversion | None:
    """Pick the conversion (``as=<kind>;g=<group>;v=<version>``) to answer with, if any.

    ``offered`` maps each kind this request can be converted to (``Table``,
    ``PartialObjectMetadataList`` for a list; ``PartialObjectMetadata`` for a get or a watch) to
    its versions. Entries are walked in preference order: an entry naming an offered kind, the
    group and one of its versions wins; an entry without ``as`` covering ``mime`` (plain JSON,
    ``*/*``) means the plain representation (None). Entries asking for anything else are skipped;
    when nothing matched and some entry asked for a conversion, ``NotAcceptableError`` is raised
    (kube's ``NegotiateOutputMediaType`` answers 406 then). A header naming no JSON at all keeps
    the plain answer (None), as before conversions were negotiated.
    """
    asked: list[str] = []
    for mt in parse_accept(accept):
        if not mt.accepts(mime):
            continue
        if mt.as_kind is None:
            return None
        versions = tuple(offered.get(mt.as_kind, ()))
        if mt.group == group and mt.version in versions:
            return Conversion(mt.as_kind, group, str(mt.version))
        asked.append(f"{mt.as_kind};g={mt.group};v={mt.version}")
    if asked:
        raise NotAcceptableError(asked, offered)
    return None
