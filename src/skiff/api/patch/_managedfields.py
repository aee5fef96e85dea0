"""Server-side apply and field ownership (``metadata.managedFields``).

Mirrors ``k8s.io/apimachinery/pkg/util/managedfields`` over
``sigs.k8s.io/structured-merge-diff/v4/merge.Updater``:

- :func:`apply` merges an applied configuration into the live object, prunes the fields the
  manager applied last time but no longer applies (unless another manager owns them), reports
  conflicts with other managers whose fields would change, or takes them over with ``force``;
- :func:`update_managed_fields` records a plain write (create, update, patch): the fields it
  added or changed go to the writing manager and are taken away from everybody else, removed
  fields are dropped from every set. Failures there never fail the write: like Kubernetes'
  ``UpdateNoErrors`` the object then simply loses its ``managedFields``.

Managers are identified like Kubernetes does (``BuildManagerIdentifier``): manager name,
operation, subresource, and for ``Update`` also the apiVersion; there is one entry per identity.
Entries are sorted by operation, time, manager, apiVersion and subresource.

Not tracked, as in ``stripmeta.go``: ``apiVersion``, ``kind``, the ``metadata`` node itself and
``metadata.{name,namespace,creationTimestamp,selfLink,uid,clusterName,generation,managedFields,
resourceVersion}``. ``ignored`` (the reset fields of the strategy; ``.status`` for a main
resource) is dropped from applied configurations and never owned.

Known simplifications: no version conversion (all apiVersions of a kind share a layout), no cap
on the number of ``Update`` entries (Kubernetes folds the oldest beyond 10), and no special-casing
of ``kubectl.kubernetes.io/last-applied-configuration`` when upgrading from client-side apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from skiff.api.patch._fieldset import FieldSet, path_string
from skiff.api.patch._json import copy_json, json_equal
from skiff.api.patch._schema import PatchSchema
from skiff.api.patch._structured import (
    compare,
    ensure_named_fields_are_members,
    fieldset_from_object,
    merge,
    remove_paths,
)
from skiff.api.patch.errors import ApplyConflict, FieldConflict, InvalidPatchError, PatchError

__all__ = [
    "MAIN_RESOURCE_IGNORED",
    "ManagedFieldsEntry",
    "apply",
    "decode_managed_fields",
    "encode_managed_fields",
    "update_managed_fields",
]

MAIN_RESOURCE_IGNORED = FieldSet.from_paths([("status",)])
"""Fields a write to the main resource neither changes nor owns: the whole ``.status``."""

_STRIPPED = FieldSet.from_paths(
    [
        ("apiVersion",),
        ("kind",),
        ("metadata",),
        *(
            ("metadata", name)
            for name in (
                "name",
                "namespace",
                "creationTimestamp",
                "selfLink",
                "uid",
                "clusterName",
                "generation",
                "managedFields",
                "resourceVersion",
            )
        ),
    ]
)

# Server-owned metadata an applied configuration cannot set; dropped before merging (the API
# server checks a resourceVersion precondition itself before calling apply).
_SERVER_METADATA = frozenset(
    {
        "managedFields",
        "resourceVersion",
        "generation",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    }
)
_NEVER_TRACKED = FieldSet.from_paths([("metadata", "managedFields")])


@dataclass(frozen=True)
class ManagedFieldsEntry:
    """One ``metadata.managedFields`` entry with its field set parsed."""

    manager: str
    operation: str
    api_version: str
    fields: FieldSet
    time: str | None = None
    subresource: str = ""

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """Entries with the same identity are one manager (``BuildManagerIdentifier``)."""
        version = self.api_version if self.operation == "Update" else ""
        return (self.manager, self.operation, version, self.subresource)

    def to_wire(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
        }
        if self.time is not None:
            entry["time"] = self.time
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = self.fields.to_fields_v1()
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry


def decode_managed_fields(obj: dict[str, Any] | None) -> list[ManagedFieldsEntry]:
    """The entries of ``obj["metadata"]["managedFields"]``; raises :class:`InvalidPatchError`."""
    if not obj:
        return []
    metadata = obj.get("metadata")
    raw = metadata.get("managedFields") if isinstance(metadata, dict) else None
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidPatchError("metadata.managedFields must be a list")
    entries = []
    for item in raw:
        if not isinstance(item, dict):
            raise InvalidPatchError("metadata.managedFields entries must be objects")
        fields_type = item.get("fieldsType", "FieldsV1")
        if fields_type != "FieldsV1":
            raise InvalidPatchError(
                f"metadata.managedFields: unsupported fieldsType {fields_type!r}"
            )
        operation = item.get("operation")
        if operation not in ("Apply", "Update"):
            raise InvalidPatchError(f"metadata.managedFields: invalid operation {operation!r}")
        entries.append(
            ManagedFieldsEntry(
                manager=str(item.get("manager", "")),
                operation=operation,
                api_version=str(item.get("apiVersion", "")),
                fields=FieldSet.from_fields_v1(item.get("fieldsV1") or {}),
                time=item.get("time"),
                subresource=str(item.get("subresource") or ""),
            )
        )
    return entries


def encode_managed_fields(entries: list[ManagedFieldsEntry]) -> list[dict[str, Any]]:
    """Wire form of ``entries``, empty sets dropped, in Kubernetes' order."""
    kept = [e for e in entries if e.fields]
    kept.sort(key=lambda e: (e.operation, e.time or "", e.manager, e.api_version, e.subresource))
    return [e.to_wire() for e in kept]


def _view_without_managed_fields(obj: dict[str, Any] | None) -> dict[str, Any]:
    """A shallow view of ``obj`` without ``metadata.managedFields`` (read-only use)."""
    if not obj:
        return {}
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or "managedFields" not in metadata:
        return obj
    view = dict(obj)
    view["metadata"] = {k: v for k, v in metadata.items() if k != "managedFields"}
    return view


def _tracked(fields: FieldSet, ignored: FieldSet) -> FieldSet:
    return fields.without_prefixes(ignored).without_prefixes(_NEVER_TRACKED).difference(_STRIPPED)


def _with_managed_fields(obj: dict[str, Any], entries: list[ManagedFieldsEntry]) -> dict[str, Any]:
    """``obj`` (owned by us) with its managedFields replaced."""
    metadata = obj.get("metadata")
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    wire = encode_managed_fields(entries)
    if wire:
        metadata["managedFields"] = wire
    else:
        metadata.pop("managedFields", None)
    obj["metadata"] = metadata
    return obj


def apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    *,
    manager: str,
    schema: PatchSchema,
    force: bool,
    api_version: str,
    now: str,
    subresource: str = "",
    ignored: FieldSet | None = None,
) -> dict[str, Any]:
    """Server-side apply ``applied`` (the parsed apply-patch body) to ``live`` (None: create).

    Returns the new object with updated ``metadata.managedFields``; it shares nothing with the
    arguments. Raises :class:`ApplyConflict` (409) when fields owned by other managers would
    change and ``force`` is false, :class:`PatchError` when the configuration does not fit the
    schema (e.g. a list-map item without its key). ``ignored`` defaults to
    :data:`MAIN_RESOURCE_IGNORED`; pass the strategy's reset fields for subresources.
    """
    if not isinstance(applied, dict):
        raise InvalidPatchError("an apply configuration must be a JSON object")
    if not manager:
        raise InvalidPatchError("fieldManager is required for apply requests")
    ignored = MAIN_RESOURCE_IGNORED if ignored is None else ignored
    entries = decode_managed_fields(live)
    old_view = _view_without_managed_fields(live)

    config = copy_json(applied)
    metadata = config.get("metadata")
    if isinstance(metadata, dict):
        for name in _SERVER_METADATA.intersection(metadata):
            del metadata[name]
    remove_paths(config, ignored, schema)
    applied_set = fieldset_from_object(config, schema)

    merged = merge(copy_json(old_view), config, schema)
    identity = (manager, "Apply", "", subresource)
    last = next((e for e in entries if e.identity == identity), None)
    others = [e for e in entries if e.identity != identity]

    # Ensuring named fields is monotone, so when the previous set is within the new one nothing
    # can be stale and the (costly) prune is skipped: the common re-apply case.
    if last is not None and last.fields.difference(applied_set):
        # merge.Updater.prune: drop what this manager applied last time, does not apply now and
        # nobody else owns; named struct fields count as owned when anything below them is.
        owned = ensure_named_fields_are_members(applied_set, schema)
        for entry in others:
            owned = owned.union(ensure_named_fields_are_members(entry.fields, schema))
        stale = ensure_named_fields_are_members(last.fields, schema).difference(owned)
        stale = stale.without_prefixes(ignored).difference(_STRIPPED)
        remove_paths(merged, stale, schema)

    comparison = compare(old_view, merged, schema)
    changed = _tracked(comparison.changed, ignored)
    removed = _tracked(comparison.removed, ignored)

    conflicts: list[FieldConflict] = []
    for entry in others:
        for path in entry.fields.intersection(changed).paths():
            conflicts.append(
                FieldConflict(
                    manager=entry.manager,
                    field=path_string(path),
                    operation=entry.operation,
                    api_version=entry.api_version,
                    subresource=entry.subresource,
                )
            )
    if conflicts and not force:
        raise ApplyConflict(conflicts)

    new_entries = [_without(entry, changed.union(removed)) for entry in others]
    object_changed = not json_equal(old_view, merged)
    time = now if object_changed or last is None or last.time is None else last.time
    new_entries.append(
        ManagedFieldsEntry(
            manager=manager,
            operation="Apply",
            api_version=api_version,
            fields=_tracked(applied_set, ignored),
            time=time,
            subresource=subresource,
        )
    )
    return _with_managed_fields(merged, new_entries)


def _without(entry: ManagedFieldsEntry, fields: FieldSet) -> ManagedFieldsEntry:
    rest = entry.fields.difference(fields)
    if rest == entry.fields:
        return entry
    return ManagedFieldsEntry(
        entry.manager, entry.operation, entry.api_version, rest, entry.time, entry.subresource
    )


def update_managed_fields(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    schema: PatchSchema,
    api_version: str,
    now: str,
    operation: str = "Update",
    subresource: str = "",
    ignored: FieldSet | None = None,
) -> dict[str, Any]:
    """Record a non-apply write of ``new`` over ``old`` (None: create) by ``manager``.

    Returns ``new`` with a fresh ``metadata.managedFields``: a shallow copy of ``new`` and of its
    ``metadata``; every other container is shared with ``new``, which is not modified. If ``new``
    carries non-empty ``managedFields`` (a client editing them) they are taken as the starting
    point, ``[{}]`` clears them, otherwise the entries of ``old`` are used. A schema mismatch
    never fails the write: the result then has no ``managedFields``.
    """
    ignored = MAIN_RESOURCE_IGNORED if ignored is None else ignored
    result = dict(new)
    try:
        entries = _starting_entries(old, new, subresource)
        comparison = compare(
            _view_without_managed_fields(old), _view_without_managed_fields(new), schema
        )
        changed = _tracked(comparison.changed, ignored)
        removed = _tracked(comparison.removed, ignored)
        probe = ManagedFieldsEntry(manager, operation, api_version, FieldSet(), None, subresource)
        mine = next((e for e in entries if e.identity == probe.identity), None)
        new_entries = [
            _without(entry, changed.union(removed)) for entry in entries if entry is not mine
        ]
        if changed or mine is not None:
            previous = mine.fields.difference(removed) if mine is not None else FieldSet()
            time = now if changed else (mine.time if mine is not None else now)
            new_entries.append(
                ManagedFieldsEntry(
                    manager, operation, api_version, previous.union(changed), time, subresource
                )
            )
    except PatchError:
        new_entries = []
    return _with_managed_fields(result, new_entries)


def _starting_entries(
    old: dict[str, Any] | None, new: dict[str, Any], subresource: str
) -> list[ManagedFieldsEntry]:
    metadata = new.get("metadata")
    sent = metadata.get("managedFields") if isinstance(metadata, dict) else None
    if isinstance(sent, list) and sent and not subresource:
        if sent == [{}]:
            return []
        try:
            return decode_managed_fields(new)
        except InvalidPatchError:
            pass  # fall back to the stored entries, as Kubernetes does on a decode error
    return decode_managed_fields(old)
