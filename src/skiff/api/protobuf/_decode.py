"""Schema-driven decoding of Kubernetes protobuf into the JSON form of the same object.

The result is the dict kubectl would have sent as JSON: camelCase keys in Go struct order,
``omitempty`` semantics, special types in their JSON spelling. How presence maps to JSON:

* **Scalars** (string, ints, bool, bytes). gogo (proto2) marshals every non-pointer scalar, even
  ``""``/``0``/``false``, so the wire cannot tell "unset" from "zero". A zero non-pointer scalar
  is therefore dropped, as ``json:",omitempty"`` does. A field that Go declares as a pointer
  (``*int32 replicas``, ``*bool suspend``, ``*string runtimeClassName``; marked ``*`` in the
  tables) is only on the wire when set, so it is kept even when zero: ``replicas: 0`` survives.
  (The few non-pointer scalars Go encodes without ``omitempty``, such as
  ``containerPort``, are dropped when zero too; Go treats zero and absent alike for them.)
* **Messages**. gogo marshals non-pointer struct fields unconditionally and encoding/json never
  omits a struct, so "on the wire" is exactly "in the JSON": ``strategy: {}``, ``status: {}``
  and ``resources: {}`` appear as kubectl prints them. A zero ``Time``/``MicroTime`` (empty
  payload) becomes ``null``, as in ``"creationTimestamp": null``.
* **Lists and maps** appear when they have at least one element.

Special types: ``Time`` -> RFC 3339 seconds (``2025-01-01T00:00:00Z``); ``MicroTime`` -> RFC 3339
with microseconds; ``Duration`` -> Go duration string (``1h0m0s``); ``IntOrString`` -> int or str;
``Quantity`` -> its string; ``RawExtension``/``FieldsV1`` -> parsed JSON (a nested ``k8s\\x00``
envelope inside a RawExtension is decoded recursively); ``bytes`` -> base64 (``Secret.data``).
Unknown field numbers are skipped, as Go's generated ``Unmarshal`` does.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import struct
from dataclasses import dataclass
from typing import Any

from skiff.api.protobuf._schema import Field, Kind, Message
from skiff.api.protobuf._wire import (
    FIXED64,
    LEN,
    VARINT,
    ProtobufError,
    iter_fields,
    iter_packed_varints,
    wire_name,
)

__all__ = ["MAGIC", "Schema", "decode_envelope", "decode_message", "go_duration"]

MAGIC = b"k8s\x00"

# Nesting bound: the schema itself is finite, but RawExtension may wrap further envelopes.
_MAX_DEPTH = 100

_INT_KINDS = frozenset({Kind.INT32, Kind.INT64, Kind.BOOL})
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ZERO: dict[Kind, Any] = {
    Kind.STRING: "",
    Kind.BYTES: "",
    Kind.INT32: 0,
    Kind.INT64: 0,
    Kind.BOOL: False,
    Kind.DOUBLE: 0.0,
}


@dataclass(frozen=True)
class Schema:
    """All message tables plus the top-level kinds an envelope may carry."""

    messages: dict[tuple[str, str], Message]
    # (apiVersion, kind) of an envelope -> key of the message in ``messages``
    kinds: dict[tuple[str, str], tuple[str, str]]


def _expected_wire(kind: Kind) -> int:
    if kind in _INT_KINDS:
        return VARINT
    if kind is Kind.DOUBLE:
        return FIXED64
    return LEN


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _scalar(kind: Kind, wire_type: int, raw: int | bytes, where: str) -> Any:
    expected = _expected_wire(kind)
    if wire_type != expected:
        raise ProtobufError(f"{where}: got {wire_name(wire_type)}, want {wire_name(expected)}")
    if kind is Kind.STRING:
        assert isinstance(raw, bytes)
        # Go does not validate UTF-8 in proto2 strings; its JSON encoder replaces bad bytes.
        return raw.decode("utf-8", errors="replace")
    if kind is Kind.BYTES:
        assert isinstance(raw, bytes)
        return base64.b64encode(raw).decode("ascii")
    if kind is Kind.DOUBLE:
        assert isinstance(raw, bytes)
        return struct.unpack("<d", raw)[0]
    assert isinstance(raw, int)
    if kind is Kind.BOOL:
        return raw != 0
    value = _signed64(raw)
    if kind is Kind.INT32:
        # int32 is sign-extended to 64 bits on the wire; keep the low 32 bits.
        value = ((value & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000
    return value


def _repeated_scalars(kind: Kind, wire_type: int, raw: int | bytes, where: str) -> list[Any]:
    # proto2 repeated numerics may arrive packed in one length-delimited field.
    if wire_type == LEN and kind in _INT_KINDS:
        assert isinstance(raw, bytes)
        return [_scalar(kind, VARINT, v, where) for v in iter_packed_varints(raw)]
    return [_scalar(kind, wire_type, raw, where)]


def _fields_of(data: bytes) -> dict[int, int]:
    """Small messages of the builtins: number -> varint value (other wire types rejected)."""
    out: dict[int, int] = {}
    for number, wire_type, value in iter_fields(data):
        if wire_type != VARINT:
            raise ProtobufError(f"field {number}: got {wire_name(wire_type)}, want varint")
        assert isinstance(value, int)
        out[number] = _signed64(value)
    return out


def _strings_of(data: bytes) -> dict[int, str]:
    out: dict[int, str] = {}
    for number, wire_type, value in iter_fields(data):
        if wire_type == LEN:
            assert isinstance(value, bytes)
            out[number] = value.decode("utf-8", errors="replace")
    return out


def _timestamp(data: bytes, *, micro: bool, where: str) -> str | None:
    # meta/v1 Time.Marshal writes nothing for the zero time; JSON says null.
    if not data:
        return None
    values = _fields_of(data)
    seconds, nanos = values.get(1, 0), values.get(2, 0)
    if not 0 <= nanos < 1_000_000_000:
        raise ProtobufError(f"{where}: nanos {nanos} out of range")
    try:
        moment = _EPOCH + dt.timedelta(seconds=seconds)
    except OverflowError as exc:
        raise ProtobufError(f"{where}: timestamp {seconds} out of range") from exc
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if micro:
        text += f".{nanos // 1000:06d}"
    return text + "Z"


def _frac(value: int, digits: int) -> str:
    """``value / 10**digits`` in Go's duration style: no trailing zeros in the fraction."""
    whole, rest = divmod(value, 10**digits)
    if rest == 0:
        return str(whole)
    return f"{whole}.{rest:0{digits}d}".rstrip("0")


def go_duration(nanoseconds: int) -> str:
    """Format nanoseconds like Go's ``time.Duration.String`` (``1h2m3.5s``, ``250ms``, ``0s``)."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    u = abs(nanoseconds)
    if u < 1_000:
        return f"{sign}{u}ns"
    if u < 1_000_000:
        return f"{sign}{_frac(u, 3)}µs"
    if u < 1_000_000_000:
        return f"{sign}{_frac(u, 6)}ms"
    total_seconds, sub = divmod(u, 1_000_000_000)
    minutes, seconds = divmod(total_seconds, 60)
    hours, minutes = divmod(minutes, 60)
    text = _frac(seconds * 1_000_000_000 + sub, 9) + "s"
    if minutes or hours:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return sign + text


def _json_payload(raw: bytes, schema: Schema, depth: int, where: str) -> Any:
    if not raw:
        return None
    if raw.startswith(MAGIC):
        return decode_envelope(raw, schema, depth=depth + 1)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtobufError(f"{where}: embedded raw data is not JSON: {exc}") from exc


def _special(field: Field, data: bytes, schema: Schema, depth: int, where: str) -> Any:
    """Decode one length-delimited value of a non-scalar field into its JSON form."""
    kind = field.kind
    if kind is Kind.MESSAGE:
        assert field.message is not None
        return decode_message(schema.messages[field.message], data, schema, depth=depth + 1)
    if kind is Kind.TIME:
        return _timestamp(data, micro=False, where=where)
    if kind is Kind.MICRO_TIME:
        return _timestamp(data, micro=True, where=where)
    if kind is Kind.DURATION:
        return go_duration(_fields_of(data).get(1, 0))
    if kind is Kind.QUANTITY:
        # A zero Quantity serializes as "0" in JSON.
        return _strings_of(data).get(1) or "0"
    if kind is Kind.INT_OR_STRING:
        ints = {n: v for n, wt, v in iter_fields(data) if wt == VARINT}
        if ints.get(1, 0) == 1:
            return _strings_of(data).get(3, "")
        value = ints.get(2, 0)
        assert isinstance(value, int)
        return _scalar(Kind.INT32, VARINT, value, where)
    if kind in (Kind.RAW_EXTENSION, Kind.FIELDS_V1):
        raw = b""
        for number, wire_type, value in iter_fields(data):
            if number == 1 and wire_type == LEN:
                assert isinstance(value, bytes)
                raw = value
        return _json_payload(raw, schema, depth, where)
    if kind is Kind.STRING_LIST:
        return [
            v.decode("utf-8", errors="replace")
            for n, wt, v in iter_fields(data)
            if n == 1 and wt == LEN and isinstance(v, bytes)
        ]
    raise AssertionError(f"unhandled kind {kind}")  # pragma: no cover - schema guarantees


def _map_entry(
    field: Field, data: bytes, schema: Schema, depth: int, where: str
) -> tuple[str, Any]:
    key = ""
    value_raw: tuple[int, int | bytes] | None = None
    for number, wire_type, value in iter_fields(data):
        if number == 1:
            key = _scalar(Kind.STRING, wire_type, value, f"{where} key")
        elif number == 2:
            value_raw = (wire_type, value)
    where = f"{where}[{key!r}]"
    if field.kind.scalar:
        if value_raw is None:
            return key, _ZERO[field.kind]
        return key, _scalar(field.kind, value_raw[0], value_raw[1], where)
    payload = b""
    if value_raw is not None:
        if value_raw[0] != LEN:
            raise ProtobufError(f"{where}: got {wire_name(value_raw[0])}, want length-delimited")
        assert isinstance(value_raw[1], bytes)
        payload = value_raw[1]
    return key, _special(field, payload, schema, depth, where)


def decode_message(
    message: Message, data: bytes, schema: Schema, *, depth: int = 0
) -> dict[str, Any]:
    """Decode one message's bytes into its JSON-form dict (see the module docstring)."""
    if depth > _MAX_DEPTH:
        raise ProtobufError("object nested too deeply")
    seen: dict[int, list[tuple[int, int | bytes]]] = {}
    for number, wire_type, value in iter_fields(data):
        if number in message.by_number:
            seen.setdefault(number, []).append((wire_type, value))
    out: dict[str, Any] = {}
    for field in message.fields:
        occurrences = seen.get(field.number)
        if occurrences is None:
            if field.always:
                # proto2 absent == Go zero value, which encoding/json prints without omitempty.
                out[field.name] = None if field.repeated or field.map else _ZERO[field.kind]
            continue
        where = f"{message.name}.{field.name}"
        if field.map:
            entries: dict[str, Any] = {}
            for wire_type, value in occurrences:
                if wire_type != LEN or not isinstance(value, bytes):
                    raise ProtobufError(f"{where}: map entry is not length-delimited")
                key, item = _map_entry(field, value, schema, depth, where)
                entries[key] = item
            out[field.name] = entries
        elif field.repeated:
            items: list[Any] = []
            for wire_type, value in occurrences:
                if field.kind.scalar:
                    items.extend(_repeated_scalars(field.kind, wire_type, value, where))
                else:
                    if wire_type != LEN or not isinstance(value, bytes):
                        raise ProtobufError(
                            f"{where}: got {wire_name(wire_type)}, want length-delimited"
                        )
                    items.append(_special(field, value, schema, depth, where))
            out[field.name] = items
        elif field.kind.scalar:
            # proto2: the last occurrence of a singular scalar wins.
            wire_type, value = occurrences[-1]
            decoded = _scalar(field.kind, wire_type, value, where)
            if field.pointer or field.always or decoded not in ("", 0, False):
                out[field.name] = decoded
        else:
            # Repeated occurrences of a singular message merge, which for the wire format is
            # the same as decoding their concatenation.
            chunks: list[bytes] = []
            for wire_type, value in occurrences:
                if wire_type != LEN or not isinstance(value, bytes):
                    raise ProtobufError(
                        f"{where}: got {wire_name(wire_type)}, want length-delimited"
                    )
                chunks.append(value)
            decoded = _special(field, b"".join(chunks), schema, depth, where)
            if field.inline:
                assert isinstance(decoded, dict)
                out.update(decoded)
            else:
                out[field.name] = decoded
    return out


def _unknown(body: bytes) -> tuple[str, str, bytes, str, str]:
    """Split a runtime.Unknown into (apiVersion, kind, raw, contentEncoding, contentType)."""
    api_version = kind = content_encoding = content_type = ""
    raw = b""
    for number, wire_type, value in iter_fields(body):
        if wire_type != LEN:
            continue
        assert isinstance(value, bytes)
        if number == 1:
            type_meta = _strings_of(value)
            api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
        elif number == 2:
            raw = value
        elif number == 3:
            content_encoding = value.decode("utf-8", errors="replace")
        elif number == 4:
            content_type = value.decode("utf-8", errors="replace")
    return api_version, kind, raw, content_encoding, content_type


def decode_envelope(body: bytes, schema: Schema, *, depth: int = 0) -> dict[str, Any]:
    """Decode ``k8s\\x00`` + runtime.Unknown into a JSON-form object with kind and apiVersion."""
    if not body.startswith(MAGIC):
        raise ProtobufError("protobuf body does not start with the k8s\\x00 magic prefix")
    api_version, kind, raw, content_encoding, content_type = _unknown(body[len(MAGIC) :])
    if not api_version or not kind:
        raise ProtobufError("protobuf envelope has no apiVersion/kind")
    if content_encoding:
        raise ProtobufError(f"unsupported protobuf content encoding {content_encoding!r}")
    if content_type and content_type != "application/vnd.kubernetes.protobuf":
        raise ProtobufError(f"unsupported content type {content_type!r} in protobuf envelope")
    key = schema.kinds.get((api_version, kind))
    message = schema.messages.get(key) if key is not None else None
    if message is None:
        raise ProtobufError(
            f"no protobuf decoder for kind {kind!r} in version {api_version!r}; send JSON instead"
        )
    obj: dict[str, Any] = {"kind": kind, "apiVersion": api_version}
    obj.update(decode_message(message, raw, schema, depth=depth))
    return obj
