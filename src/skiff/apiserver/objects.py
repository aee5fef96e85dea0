"""Storage keys, the storage encoding of objects, and small object-metadata helpers.

Objects are stored as compact JSON without ``metadata.resourceVersion``: the store's
``mod_revision`` *is* the resourceVersion and is put back on the way out (as Kubernetes' etcd3
store does). The encoder writes ``apiVersion``, ``kind`` and ``metadata`` first, so the
resourceVersion can be spliced into the stored bytes without parsing them - the watch fan-out
sends most events without a single JSON parse.

Between the registry and the store sits a ``ValueTransformer`` (identity by default) so Secrets
can be encrypted at rest without either side knowing.
"""

from __future__ import annotations

import os
import secrets
import string
import time
import uuid
from typing import Any, Protocol

import orjson

from skiff.api import resources as kinds
from skiff.api.resources import ResourceInfo
from skiff.store import KeyValue

__all__ = [
    "ROOT",
    "IdentityTransformer",
    "ValueTransformer",
    "collection_prefix",
    "decode",
    "decode_kv",
    "encode",
    "generate_name",
    "new_uid",
    "now_rfc3339",
    "object_key",
    "parse_key",
    "wire_bytes",
]

ROOT = "/registry/"


class ValueTransformer(Protocol):
    """Transforms stored values (e.g. encryption at rest). Must be a bijection; may not block."""

    def to_storage(self, key: str, data: bytes) -> bytes: ...

    def from_storage(self, key: str, data: bytes) -> bytes: ...

    def passthrough(self, prefix: str) -> bool:
        """True when no value under ``prefix`` is transformed."""
        ...


class IdentityTransformer:
    def passthrough(self, prefix: str) -> bool:
        return True

    def to_storage(self, key: str, data: bytes) -> bytes:
        return data

    def from_storage(self, key: str, data: bytes) -> bytes:
        return data


def _group_dir(info: ResourceInfo) -> str:
    return info.group or "core"


def collection_prefix(info: ResourceInfo, namespace: str | None) -> str:
    """Key prefix of a collection: all namespaces when ``namespace`` is empty or None."""
    base = f"{ROOT}{_group_dir(info)}/{info.plural}/"
    if info.namespaced and namespace:
        return f"{base}{namespace}/"
    return base


def object_key(info: ResourceInfo, namespace: str | None, name: str) -> str:
    base = f"{ROOT}{_group_dir(info)}/{info.plural}/"
    if info.namespaced:
        return f"{base}{namespace}/{name}"
    return f"{base}{name}"


_BY_DIR: dict[tuple[str, str], ResourceInfo] = {}


def parse_key(key: str) -> tuple[ResourceInfo, str, str] | None:
    """(resource, namespace, name) of an object's storage key (the inverse of ``object_key``);
    None for keys that are not objects of a served resource (e.g. ``/registry/ranges/...``)."""
    if not _BY_DIR:
        for r in kinds.RESOURCES:
            if r.persisted and r.is_storage_version:
                _BY_DIR[(r.group or "core", r.plural)] = r
    parts = key[len(ROOT) :].split("/") if key.startswith(ROOT) else []
    if len(parts) < 3:
        return None
    info = _BY_DIR.get((parts[0], parts[1]))
    if info is None:
        return None
    if info.namespaced:
        return (info, parts[2], parts[3]) if len(parts) == 4 else None
    return (info, "", parts[2]) if len(parts) == 3 else None


def encode(obj: dict[str, Any]) -> bytes:
    """Storage bytes: apiVersion, kind, metadata first; no resourceVersion."""
    meta = dict(obj.get("metadata") or {})
    meta.pop("resourceVersion", None)
    meta.pop("selfLink", None)
    out: dict[str, Any] = {"apiVersion": obj.get("apiVersion", ""), "kind": obj.get("kind", "")}
    out["metadata"] = meta
    for k, v in obj.items():
        if k not in ("apiVersion", "kind", "metadata"):
            out[k] = v
    return orjson.dumps(out)


_META = b'"metadata":{'


def wire_bytes(data: bytes, revision: int) -> bytes:
    """Stored bytes with ``metadata.resourceVersion`` spliced in (no parse)."""
    i = data.find(_META)
    if i < 0:  # pragma: no cover - encode() always writes metadata
        obj = orjson.loads(data)
        obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
        return orjson.dumps(obj)
    j = i + len(_META)
    rv = b'"resourceVersion":"' + str(revision).encode() + b'"'
    if data[j : j + 1] != b"}":
        rv += b","
    return data[:j] + rv + data[j:]


def decode(data: bytes, revision: int) -> dict[str, Any]:
    obj: dict[str, Any] = orjson.loads(data)
    obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
    return obj


def decode_kv(kv: KeyValue, transformer: ValueTransformer) -> dict[str, Any]:
    return decode(transformer.from_storage(kv.key, kv.value), kv.mod_revision)


_now_cache: tuple[int, str] = (0, "")


def now_rfc3339() -> str:
    """The current time as RFC 3339 with second precision (formatted once per second)."""
    global _now_cache
    second = int(time.time())
    if _now_cache[0] != second:
        _now_cache = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
    return _now_cache[1]


_uid_pool: list[bytes] = []


def new_uid() -> str:
    """A random (version 4) UUID; randomness is drawn from the OS in batches of 256."""
    if not _uid_pool:
        raw = os.urandom(16 * 256)
        _uid_pool.extend(raw[i : i + 16] for i in range(0, len(raw), 16))
    return str(uuid.UUID(bytes=_uid_pool.pop(), version=4))


# Kubernetes' name generator: 5 characters from an alphabet without vowels or look-alikes
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
assert set(_ALPHABET) <= set(string.ascii_lowercase + string.digits)


def generate_name(base: str) -> str:
    base = base[: 63 - 5]
    return base + "".join(secrets.choice(_ALPHABET) for _ in range(5))
