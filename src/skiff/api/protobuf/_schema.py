"""Schema tables for the protobuf decoder: what each field number of each message means.

The tables are transcribed from the upstream ``generated.proto`` files (k8s.io/api and
k8s.io/apimachinery); field numbers and names are wire facts. They are written in a compact text
form, one message per line (indented lines continue the previous message)::

    Container: name=1 image=2 command=3:[]str resources=8:ResourceRequirements

A field is ``jsonName=number[:type]``; the type defaults to ``str``. Types:

* scalars ``str i32 i64 bool f64 bytes``; a trailing ``*`` marks a Go *pointer* field
  (``*int32``, ``*bool``, ``*string``...), whose presence is kept even for a zero value;
* builtins ``Time MicroTime Duration Quantity IntOrString RawExtension FieldsV1 StringList``;
* any other name is a message, looked up in the same package first, then core ``v1``, then
  ``meta/v1``;
* ``[]T`` is a repeated field, ``{}`` a ``map<string,string>``, ``{T}`` a ``map<string,T>``;
* a leading ``^`` marks an embedded Go struct with ``json:",inline"``: its fields are merged
  into the parent object (e.g. ``Volume.volumeSource``, ``Probe.handler``);
* a trailing ``!`` marks a Go field *without* ``omitempty`` (``json:"containerPort"``): a zero
  scalar is kept and an absent list or map is ``null``, as encoding/json prints them.

Lines starting with ``@group/version`` switch the package (used by modules holding several small
groups). JSON names equal the proto names in every Kubernetes generated.proto, so one name serves
both. :func:`build` parses all tables once and checks every reference, so a typo fails at import.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

__all__ = ["Field", "Kind", "Message", "SchemaError", "build"]

CORE = "v1"
META = "meta/v1"


class Kind(enum.Enum):
    """The value type of a field."""

    STRING = "str"
    INT32 = "i32"
    INT64 = "i64"
    BOOL = "bool"
    DOUBLE = "f64"
    BYTES = "bytes"
    MESSAGE = "message"
    TIME = "Time"
    MICRO_TIME = "MicroTime"
    DURATION = "Duration"
    QUANTITY = "Quantity"
    INT_OR_STRING = "IntOrString"
    RAW_EXTENSION = "RawExtension"
    FIELDS_V1 = "FieldsV1"
    STRING_LIST = "StringList"

    @property
    def scalar(self) -> bool:
        return self in _SCALARS


_SCALARS = frozenset({Kind.STRING, Kind.INT32, Kind.INT64, Kind.BOOL, Kind.DOUBLE, Kind.BYTES})
_BY_NAME = {k.value: k for k in Kind if k is not Kind.MESSAGE}


class SchemaError(Exception):
    """A schema table is inconsistent (a programming error caught at import time)."""


@dataclass(frozen=True)
class Field:
    """One field of a message."""

    name: str
    number: int
    kind: Kind
    message: tuple[str, str] | None = None  # (package, name) when kind is MESSAGE
    repeated: bool = False
    map: bool = False  # map<string, kind>
    pointer: bool = False  # Go pointer scalar: a zero value on the wire is still "set"
    inline: bool = False  # embedded struct whose JSON fields are flattened into the parent
    always: bool = False  # Go field without omitempty: zero scalars stay, absent lists are null


@dataclass(frozen=True)
class Message:
    """A message type: its fields in declaration (= Go struct = JSON) order."""

    package: str
    name: str
    fields: tuple[Field, ...]
    by_number: dict[int, Field] = field(compare=False, repr=False)

    @property
    def qualified_name(self) -> str:
        return f"{self.package}.{self.name}"


_FIELD_RE = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z0-9]*)=(?P<number>[1-9][0-9]*)(?::(?P<type>[^\s!]+))?(?P<always>!)?$"
)
_TYPE_RE = re.compile(
    r"^(?P<inline>\^)?(?P<rep>\[\])?(?:\{(?P<map>[A-Za-z0-9]*)\}|(?P<base>[A-Za-z0-9]+))(?P<ptr>\*)?$"
)


@dataclass
class _RawField:
    name: str
    number: int
    base: str
    repeated: bool
    map: bool
    pointer: bool
    inline: bool
    always: bool


def _parse_field(token: str, where: str) -> _RawField:
    m = _FIELD_RE.match(token)
    if m is None:
        raise SchemaError(f"{where}: cannot parse field {token!r}")
    type_text = m.group("type") or "str"
    t = _TYPE_RE.match(type_text)
    if t is None:
        raise SchemaError(f"{where}: cannot parse type {type_text!r}")
    is_map = t.group("map") is not None
    base = (t.group("map") or "str") if is_map else t.group("base")
    return _RawField(
        name=m.group("name"),
        number=int(m.group("number")),
        base=base,
        repeated=t.group("rep") is not None,
        map=is_map,
        pointer=t.group("ptr") is not None,
        inline=t.group("inline") is not None,
        always=m.group("always") is not None,
    )


def _parse(package: str, text: str) -> dict[tuple[str, str], list[_RawField]]:
    messages: dict[tuple[str, str], list[_RawField]] = {}
    current: list[_RawField] | None = None
    where = package
    for raw_line in text.splitlines():
        line = raw_line.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("@"):
            package = line[1:].strip()
            current = None
            continue
        if line[0].isspace():
            if current is None:
                raise SchemaError(f"{package}: continuation line without a message: {line!r}")
            tokens = line.split()
        else:
            name, sep, rest = line.partition(":")
            if not sep or not name.isidentifier():
                raise SchemaError(f"{package}: cannot parse message line {line!r}")
            key = (package, name)
            if key in messages:
                raise SchemaError(f"{package}.{name} is defined twice")
            current = messages[key] = []
            where = f"{package}.{name}"
            tokens = rest.split()
        current.extend(_parse_field(tok, where) for tok in tokens)
    return messages


def _resolve(name: str, package: str, known: set[tuple[str, str]]) -> tuple[str, str] | None:
    for pkg in (package, CORE, META):
        if (pkg, name) in known:
            return (pkg, name)
    return None


def build(tables: list[tuple[str, str]]) -> dict[tuple[str, str], Message]:
    """Parse ``(package, text)`` tables into messages keyed by ``(package, name)``."""
    raw: dict[tuple[str, str], list[_RawField]] = {}
    for package, text in tables:
        for key, parsed in _parse(package, text).items():
            if key in raw:
                raise SchemaError(f"{key[0]}.{key[1]} is defined twice")
            raw[key] = parsed
    known = set(raw)
    messages: dict[tuple[str, str], Message] = {}
    for (package, name), raw_fields in raw.items():
        where = f"{package}.{name}"
        fields: list[Field] = []
        for rf in raw_fields:
            kind = _BY_NAME.get(rf.base, Kind.MESSAGE)
            ref = None
            if kind is Kind.MESSAGE:
                ref = _resolve(rf.base, package, known)
                if ref is None:
                    raise SchemaError(f"{where}.{rf.name}: unknown type {rf.base!r}")
            if rf.pointer and not kind.scalar:
                raise SchemaError(f"{where}.{rf.name}: only scalars are marked as pointers")
            if rf.pointer and (rf.repeated or rf.map):
                raise SchemaError(f"{where}.{rf.name}: a list or map cannot be a pointer")
            if rf.inline and (kind is not Kind.MESSAGE or rf.repeated or rf.map):
                raise SchemaError(f"{where}.{rf.name}: only a singular message can be inlined")
            if rf.always and (rf.pointer or (kind is Kind.MESSAGE and not rf.repeated)):
                raise SchemaError(f"{where}.{rf.name}: '!' applies to plain scalars and lists")
            if rf.repeated and rf.map:
                raise SchemaError(f"{where}.{rf.name}: a field cannot be both list and map")
            fields.append(
                Field(
                    name=rf.name,
                    number=rf.number,
                    kind=kind,
                    message=ref,
                    repeated=rf.repeated,
                    map=rf.map,
                    pointer=rf.pointer,
                    inline=rf.inline,
                    always=rf.always,
                )
            )
        by_number: dict[int, Field] = {}
        names: set[str] = set()
        for f in fields:
            if f.number in by_number:
                raise SchemaError(f"{where}: field number {f.number} is used twice")
            if f.name in names:
                raise SchemaError(f"{where}: field name {f.name!r} is used twice")
            by_number[f.number] = f
            names.add(f.name)
        messages[(package, name)] = Message(package, name, tuple(fields), by_number)
    return messages
