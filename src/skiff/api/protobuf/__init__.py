"""Decode kubectl's protobuf request bodies (``application/vnd.kubernetes.protobuf``) into JSON form.

client-go's typed clients (``kubectl create namespace|configmap|secret|deployment|...``,
``kubectl auth can-i``) POST bodies as ``k8s\\x00`` + a protobuf ``runtime.Unknown`` envelope
whose ``raw`` field holds the typed object (docs/kubectl-wire.md section 9.1). The server never
answers in protobuf; it only turns such a body into the dict kubectl would have sent as JSON and
then handles it like any JSON request.

Public API:

* :func:`decode` - envelope bytes -> JSON-form dict (``kind`` and ``apiVersion`` from the
  envelope's TypeMeta, then the object's fields), raising :class:`ProtobufError`;
* :func:`supported_kinds` - the ``(apiVersion, kind)`` pairs :func:`decode` accepts;
* :data:`MEDIA_TYPE`, :data:`MAGIC`.

Covered: every kind in :data:`skiff.api.resources.RESOURCES` except the CRD-style
``autoscaling.k8s.io/v1 VerticalPodAutoscaler`` (it has no protobuf form upstream either), their
subresource kinds (``v1 Binding``, ``autoscaling/v1 Scale``, ``policy/v1 Eviction``),
``DeleteOptions`` in every served group version and ``meta.k8s.io/v1``, and the
``authorization.k8s.io/v1`` access reviews. The presence rules (what becomes ``omitempty``,
what stays as an explicit zero) are described in :mod:`skiff.api.protobuf._decode`; the schema
tables and their text format in :mod:`skiff.api.protobuf._schema`.
"""

from __future__ import annotations

from typing import Any

from skiff.api.protobuf._decode import MAGIC, Schema, decode_envelope
from skiff.api.protobuf._schema import META, build
from skiff.api.protobuf._schema_apps import APPS, BATCH
from skiff.api.protobuf._schema_core import CORE
from skiff.api.protobuf._schema_groups import AUTOSCALING_V1, AUTOSCALING_V2, GROUPS
from skiff.api.protobuf._schema_meta import META as META_TABLE
from skiff.api.protobuf._wire import ProtobufError
from skiff.api.resources import RESOURCES, group_versions

__all__ = ["MAGIC", "MEDIA_TYPE", "ProtobufError", "decode", "supported_kinds"]

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"

# Kinds that may arrive at the top level without being a served resource of their own.
_EXTRA_KINDS = (
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"),
    ("authorization.k8s.io/v1", "SubjectAccessReview"),
    ("authorization.k8s.io/v1", "LocalSubjectAccessReview"),
    ("authentication.k8s.io/v1", "SelfSubjectReview"),
)


def _build_schema() -> Schema:
    messages = build([META_TABLE, CORE, APPS, BATCH, AUTOSCALING_V1, AUTOSCALING_V2, GROUPS])
    kinds: dict[tuple[str, str], tuple[str, str]] = {}
    for r in RESOURCES:
        if (r.api_version, r.kind) in messages:
            kinds[(r.api_version, r.kind)] = (r.api_version, r.kind)
        for sub in r.subresources:
            api_version = f"{sub.group}/{sub.version}".lstrip("/") if sub.version else r.api_version
            if (api_version, sub.kind) in messages:
                kinds[(api_version, sub.kind)] = (api_version, sub.kind)
    for key in _EXTRA_KINDS:
        kinds[key] = key
    # metav1.AddToGroupVersion registers DeleteOptions in every group version; a typed client
    # encodes it with its own group version.
    for api_version in [gv.api_version for gv in group_versions()] + ["meta.k8s.io/v1"]:
        kinds[(api_version, "DeleteOptions")] = (META, "DeleteOptions")
    return Schema(messages=messages, kinds=kinds)


_SCHEMA = _build_schema()


def supported_kinds() -> frozenset[tuple[str, str]]:
    """The ``(apiVersion, kind)`` pairs :func:`decode` accepts at the top level."""
    return frozenset(_SCHEMA.kinds)


def decode(body: bytes) -> dict[str, Any]:
    """Decode a ``k8s\\x00``-prefixed protobuf request body into the object's JSON form.

    The result starts with ``kind`` and ``apiVersion`` (from the envelope's TypeMeta) followed by
    the object's fields in Go struct order. Raises :class:`ProtobufError` (message fit for a 400
    Status) on a missing magic prefix, malformed wire data, an unsupported envelope encoding or
    a kind without a protobuf schema.
    """
    return decode_envelope(bytes(body), _SCHEMA)
