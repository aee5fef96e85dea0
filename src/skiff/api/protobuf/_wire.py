"""Protobuf wire-format primitives: varints, tags and the field iterator.

Only what Kubernetes' gogo-generated (proto2) messages put on the wire is accepted: varint (0),
fixed64 (1), length-delimited (2) and fixed32 (5). Group wire types (3, 4) are never produced by
Kubernetes and are rejected. Every malformed input raises :class:`ProtobufError`, whose message is
meant to be shown to the client in a 400 Status.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = [
    "FIXED32",
    "FIXED64",
    "LEN",
    "VARINT",
    "ProtobufError",
    "iter_fields",
    "iter_packed_varints",
    "read_varint",
    "wire_name",
]

VARINT = 0
FIXED64 = 1
LEN = 2
FIXED32 = 5

_WIRE_NAMES = {VARINT: "varint", FIXED64: "fixed64", LEN: "length-delimited", FIXED32: "fixed32"}

# A varint carries at most 64 bits, i.e. 10 bytes of 7 bits each.
_MAX_VARINT_BYTES = 10


class ProtobufError(ValueError):
    """A request body is not a protobuf object this server can decode.

    Raised for truncated or malformed wire data, wrong wire types, an unknown kind, or an
    unsupported envelope. The message is suitable for a 400 BadRequest Status.
    """


def wire_name(wire_type: int) -> str:
    """Human name of a wire type, for error messages."""
    return _WIRE_NAMES.get(wire_type, f"wire type {wire_type}")


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """Decode the unsigned varint at ``pos``; return ``(value, next_pos)``."""
    result = 0
    shift = 0
    for i in range(_MAX_VARINT_BYTES):
        if pos + i >= len(data):
            raise ProtobufError("unexpected end of data inside a varint")
        byte = data[pos + i]
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            if result >= 1 << 64:
                raise ProtobufError("varint overflows 64 bits")
            return result, pos + i + 1
        shift += 7
    raise ProtobufError("varint longer than 10 bytes")


def iter_fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field_number, wire_type, value)`` for each field of one message.

    ``value`` is an ``int`` for varints and the raw bytes for the other wire types (8 bytes for
    fixed64, 4 for fixed32, the payload for length-delimited fields).
    """
    pos = 0
    end = len(data)
    while pos < end:
        key, pos = read_varint(data, pos)
        number, wire_type = key >> 3, key & 0x7
        if number == 0:
            raise ProtobufError("invalid field number 0")
        if wire_type == VARINT:
            value, pos = read_varint(data, pos)
            yield number, wire_type, value
        elif wire_type in (FIXED64, FIXED32):
            size = 8 if wire_type == FIXED64 else 4
            if pos + size > end:
                raise ProtobufError(f"unexpected end of data in field {number}")
            yield number, wire_type, data[pos : pos + size]
            pos += size
        elif wire_type == LEN:
            length, pos = read_varint(data, pos)
            if length > end - pos:
                raise ProtobufError(f"field {number} is longer than the remaining data")
            yield number, wire_type, data[pos : pos + length]
            pos += length
        else:
            raise ProtobufError(f"unsupported wire type {wire_type} in field {number}")


def iter_packed_varints(data: bytes) -> Iterator[int]:
    """Yield the varints of a packed repeated numeric field."""
    pos = 0
    while pos < len(data):
        value, pos = read_varint(data, pos)
        yield value
