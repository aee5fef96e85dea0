"""Patch algorithms: JSON patch, merge patch, strategic merge patch, server-side apply.

Pure functions over JSON-like data (``dict``/``list``/``str``/numbers/``bool``/``None``); no I/O.
None of them modifies its arguments. The API server picks one per ``Content-Type``:

- ``application/json-patch+json`` -> :func:`json_patch` (RFC 6902);
- ``application/merge-patch+json`` -> :func:`merge_patch` (RFC 7386);
- ``application/strategic-merge-patch+json`` -> :func:`strategic_merge_patch`;
- ``application/apply-patch+yaml`` -> :func:`apply` (server-side apply).

Every other write (create, update, the three patch types) then calls
:func:`update_managed_fields` so field ownership stays current. The schema seam is
:class:`PatchSchema`, built from the API models by :func:`schema_for_model`. Errors live in
:mod:`skiff.api.patch.errors`, each with the HTTP ``code`` and ``reason`` to answer with.
"""

from skiff.api.patch._fieldset import FieldPath, FieldSet, path_string
from skiff.api.patch._jsonpatch import json_patch, parse_pointer
from skiff.api.patch._managedfields import (
    MAIN_RESOURCE_IGNORED,
    ManagedFieldsEntry,
    apply,
    decode_managed_fields,
    encode_managed_fields,
    update_managed_fields,
)
from skiff.api.patch._mergepatch import merge_patch
from skiff.api.patch._schema import UNKNOWN, PatchSchema, SchemaKind, schema_for_model
from skiff.api.patch._strategic import strategic_merge_patch
from skiff.api.patch._structured import Comparison, compare, fieldset_from_object
from skiff.api.patch.errors import (
    ApplyConflict,
    FieldConflict,
    InvalidPatchError,
    PatchError,
    PatchTestFailedError,
    conflict_status,
)

__all__ = [
    "MAIN_RESOURCE_IGNORED",
    "UNKNOWN",
    "ApplyConflict",
    "Comparison",
    "FieldConflict",
    "FieldPath",
    "FieldSet",
    "InvalidPatchError",
    "ManagedFieldsEntry",
    "PatchError",
    "PatchSchema",
    "PatchTestFailedError",
    "SchemaKind",
    "apply",
    "compare",
    "conflict_status",
    "decode_managed_fields",
    "encode_managed_fields",
    "fieldset_from_object",
    "json_patch",
    "merge_patch",
    "parse_pointer",
    "path_string",
    "schema_for_model",
    "strategic_merge_patch",
    "update_managed_fields",
]
