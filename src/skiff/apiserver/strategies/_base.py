"""The strategy protocol the generic registry calls, and the default every kind starts from.

Shaped after kube-apiserver's generic ``Store`` composing per-resource strategies
(k8s.io/apiserver ``pkg/registry/generic/registry/store.go`` ``CreateStrategy``,
``UpdateStrategy``, ``DeleteStrategy``, ``ReturnDeletedObject``, ``ShouldDeleteDuringUpdate``,
``TableConvertor``; ``pkg/registry/rest/create.go``, ``update.go``, ``delete.go``). Objects are
the registry's plain dicts, always in the version of the request (``apiVersion`` is set).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from skiff.api.defaults import fill_zero_status
from skiff.api.field import FieldError
from skiff.api.printers import column_definitions, row_cells, row_conditions
from skiff.api.resources import ResourceInfo
from skiff.api.selector import object_fields
from skiff.api.validation import validate
from skiff.apiserver.context import RequestContext

__all__ = [
    "Allocation",
    "DefaultStrategy",
    "GroupKind",
    "NoAllocation",
    "ResourceStrategy",
    "spec_changed",
    "table",
]

# metadata fields a status write may not change (Kubernetes' ResetObjectMetaForStatus)
_STATUS_LOCKED_META = (
    "deletionTimestamp",
    "generation",
    "labels",
    "annotations",
    "finalizers",
    "ownerReferences",
)
_TOP_META = ("metadata", "status", "apiVersion", "kind")


def table(
    definitions: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    items: list[dict[str, Any]],
    *,
    include: str,
    version: str,
) -> dict[str, Any]:
    """A ``meta.k8s.io`` Table of ``rows`` (one per object of ``items``, in order), each row
    carrying its object as ``includeObject`` asks: whole (``Object``), as
    PartialObjectMetadata (``Metadata``, the default) or not at all (``None``)."""
    for row, obj in zip(rows, items, strict=True):
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj.get("metadata") or {},
            }
    return {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": {},
        "columnDefinitions": definitions,
        "rows": rows,
    }


@dataclass(frozen=True, order=True)
class GroupKind:
    """A kind in its API group (``""`` is the core group): the key of the strategy table."""

    group: str
    kind: str

    @classmethod
    def of(cls, info: ResourceInfo) -> GroupKind:
        return cls(info.group, info.kind)


class ResourceStrategy(Protocol):
    """What the generic registry asks of a kind; the registry itself knows no kind.

    Called in this order by each verb (see docs/apiserver.md "Adding a kind"):

    - create: decode, default, ``prepare_for_create``, mutating admission, ``validate``,
      validating admission, ``before_write`` (not on dry run), compare-and-swap create.
    - update/patch/apply (``guaranteed_update``, once per compare-and-swap attempt): decode,
      default, ``prepare_for_update`` (or ``prepare_status_update`` for ``/status``), mutating
      admission, ``validate_update``, validating admission, ``before_write`` (main resource
      only, not on dry run), then ``should_delete_during_update`` decides between writing the
      object and removing it (then ``after_delete``). A PUT on a missing object creates it when
      ``allow_create_on_update``.
    - delete: mutating then validating admission, ``delete_grace_seconds`` and
      ``finalizers_pending`` decide between marking (``deletionTimestamp``; the marked copy goes
      through ``prepare_for_delete``) and removing at once (then ``after_delete``). The HTTP
      layer answers an immediate delete with the object when ``return_deleted_object``, else a
      Success Status.
    - list/watch: ``selectable_fields`` for field selectors; ``convert_to_table`` for
      ``as=Table``.

    ``prepare_*`` mutate their first argument in place and never raise; ``validate*`` return
    field errors (the registry raises 422). Hooks may be called again for the same request when
    a compare-and-swap is lost, so they must be idempotent for the same input.
    """

    @property
    def group_kind(self) -> GroupKind:
        """The kind this strategy serves."""
        ...

    @property
    def allow_create_on_update(self) -> bool:
        """Whether a PUT of a missing object creates it (``rest.RESTUpdateStrategy``)."""
        ...

    @property
    def return_deleted_object(self) -> bool:
        """Whether an immediate DELETE answers with the deleted object instead of a Status."""
        ...

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        """Reset what a client may not set on create (status), fill what creation decides
        (generation 1, selectors). ``metadata.uid``/``name`` are already set."""
        ...

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        """A write to the main resource: keep what it may not change (status) from ``old``,
        bump ``metadata.generation`` when the spec changed."""
        ...

    def prepare_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        """A write to ``/status``: everything but status (and unlocked metadata) from ``old``."""
        ...

    def prepare_subresource_update(
        self, subresource: str, new: dict[str, Any], old: dict[str, Any]
    ) -> None:
        """A write to another stored subresource (``pods/ephemeralcontainers``): only what it
        owns comes from ``new``, the rest from ``old``."""
        ...

    def validate(self, obj: dict[str, Any]) -> list[FieldError]:
        """Field errors of a new object (after mutating admission)."""
        ...

    def validate_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
        """Field errors of an update of ``old`` to ``new`` (main resource and subresources)."""
        ...

    def delete_grace_seconds(self, obj: dict[str, Any], requested: int | None) -> int:
        """Seconds a DELETE waits before the object goes (0: at once); ``requested`` is the
        client's ``gracePeriodSeconds`` or None."""
        ...

    def finalizers_pending(self, obj: dict[str, Any]) -> bool:
        """Whether finalizers still hold ``obj`` (``metadata.finalizers`` by default)."""
        ...

    def prepare_for_delete(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        """Called on the copy a DELETE marks (``deletionTimestamp`` already set in ``new``)."""
        ...

    def should_delete_during_update(self, new: dict[str, Any], old: dict[str, Any]) -> bool:
        """Whether an update leaves ``new`` deletable now (being deleted, grace over, no
        finalizers pending): the registry then removes it instead of writing it."""
        ...

    def selectable_fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        """Field-selector values of ``obj`` (``metadata.name``, ``metadata.namespace``, ...)."""
        ...

    async def before_write(
        self, obj: dict[str, Any], old: dict[str, Any] | None, ctx: RequestContext
    ) -> None:
        """Last step before a create (``old`` None) or main-resource update is written:
        allocation of ranges (ClusterIPs, NodePorts, pod CIDRs). May mutate ``obj`` and raise
        ``ApiError``. Never called on a dry run."""
        ...

    async def after_delete(self, obj: dict[str, Any]) -> None:
        """Called once the object is really removed from the store (DELETE, or an update that
        removed the last finalizer); frees what ``before_write`` took. Not on dry run."""
        ...

    def convert_to_table(
        self, items: list[dict[str, Any]], *, include: str, version: str = "v1"
    ) -> dict[str, Any]:
        """A ``meta.k8s.io`` Table of ``items``; ``include`` is ``includeObject`` (None,
        Metadata, Object)."""
        ...


class Allocation(Protocol):
    """Range allocation a strategy delegates to (ClusterIPs and NodePorts, pod CIDRs)."""

    async def before_write(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        """Fill or check the allocated fields of ``obj`` (``old`` None on create)."""
        ...

    async def after_delete(self, obj: dict[str, Any]) -> None:
        """Free what ``obj`` held."""
        ...


class NoAllocation:
    """An ``Allocation`` that allocates nothing (registries built without a server)."""

    async def before_write(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        return None

    async def after_delete(self, obj: dict[str, Any]) -> None:
        return None


def spec_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether anything besides metadata and status differs (what bumps ``generation``)."""
    keys = (set(old) | set(new)) - set(_TOP_META)
    return any(old.get(k) != new.get(k) for k in keys)


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    return meta


class DefaultStrategy:
    """The rules every kind gets, derived from its ``ResourceInfo``.

    Kinds with a spec/status split (``has_status``) have status reset on create and kept on
    update, and ``metadata.generation`` bumped on spec changes; everything else is stored as
    given. Deletes are immediate unless finalizers hold the object.
    """

    def __init__(
        self,
        info: ResourceInfo,
        *,
        allow_create_on_update: bool = False,
        return_deleted_object: bool = False,
    ) -> None:
        self.info = info
        self.has_status = info.has_status
        self._group_kind = GroupKind.of(info)
        self._allow_create_on_update = allow_create_on_update
        self._return_deleted_object = return_deleted_object

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._group_kind.group!r}, {self._group_kind.kind!r})"

    @property
    def group_kind(self) -> GroupKind:
        return self._group_kind

    @property
    def allow_create_on_update(self) -> bool:
        return self._allow_create_on_update

    @property
    def return_deleted_object(self) -> bool:
        return self._return_deleted_object

    # -- create / update -------------------------------------------------------------------

    def _zero_status(self, obj: dict[str, Any]) -> None:
        # a status nothing wrote reads as Kubernetes' zero status ({} for a Deployment,
        # {"loadBalancer": {}} for a Service, the counters of a ReplicaSet...)
        fill_zero_status(self._group_kind.group, self._group_kind.kind, obj)

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        if self.has_status:
            obj.pop("status", None)
            _meta(obj)["generation"] = 1
            self._zero_status(obj)

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        if not self.has_status:
            return
        if "status" in old:
            new["status"] = copy.deepcopy(old["status"])
        else:
            new.pop("status", None)
        self._zero_status(new)
        gen = int((old.get("metadata") or {}).get("generation") or 1)
        if spec_changed(old, new):
            gen += 1
        _meta(new)["generation"] = gen

    def prepare_subresource_update(
        self, subresource: str, new: dict[str, Any], old: dict[str, Any]
    ) -> None:
        # no kind but pods has a stored subresource besides status; keep everything
        for k in list(new):
            if k not in ("metadata", "apiVersion", "kind"):
                del new[k]
        for k, v in old.items():
            if k not in _TOP_META:
                new[k] = copy.deepcopy(v)
        if "status" in old:
            new["status"] = copy.deepcopy(old["status"])

    def prepare_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        for k in list(new):
            if k not in _TOP_META:
                del new[k]
        for k, v in old.items():
            if k not in _TOP_META:
                new[k] = copy.deepcopy(v)
        meta, old_meta = _meta(new), old.get("metadata") or {}
        for k in _STATUS_LOCKED_META:
            if k in old_meta:
                meta[k] = copy.deepcopy(old_meta[k])
            else:
                meta.pop(k, None)
        if self.has_status:
            self._zero_status(new)

    def _version(self, obj: Mapping[str, Any]) -> str:
        api_version = obj.get("apiVersion")
        if isinstance(api_version, str) and api_version:
            return api_version.rpartition("/")[2]
        return self.info.version

    def validate(self, obj: dict[str, Any]) -> list[FieldError]:
        gk = self._group_kind
        return validate(gk.group, self._version(obj), gk.kind, obj, None)

    def validate_update(self, new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
        gk = self._group_kind
        return validate(gk.group, self._version(new), gk.kind, new, old)

    # -- delete ----------------------------------------------------------------------------

    def delete_grace_seconds(self, obj: dict[str, Any], requested: int | None) -> int:
        return 0

    def finalizers_pending(self, obj: dict[str, Any]) -> bool:
        return bool((obj.get("metadata") or {}).get("finalizers"))

    def prepare_for_delete(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        meta = _meta(new)
        if self.has_status and not (old.get("metadata") or {}).get("deletionTimestamp"):
            # marking for deletion is a change of desired state (Kubernetes bumps generation)
            meta["generation"] = int(meta.get("generation") or 1) + 1

    def should_delete_during_update(self, new: dict[str, Any], old: dict[str, Any]) -> bool:
        meta = new.get("metadata") or {}
        return (
            bool(meta.get("deletionTimestamp"))
            and not self.finalizers_pending(new)
            and int(meta.get("deletionGracePeriodSeconds") or 0) == 0
        )

    # -- reads -----------------------------------------------------------------------------

    def selectable_fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        return object_fields(self._group_kind.kind, obj)

    def convert_to_table(
        self, items: list[dict[str, Any]], *, include: str, version: str = "v1"
    ) -> dict[str, Any]:
        kind = self._group_kind.kind
        now = dt.datetime.now(dt.UTC)
        rows = []
        for obj in items:
            row: dict[str, Any] = {"cells": row_cells(kind, obj, now=now)}
            conditions = row_conditions(kind, obj)
            if conditions:
                row["conditions"] = conditions
            rows.append(row)
        return table(column_definitions(kind), rows, items, include=include, version=version)

    # -- hooks -----------------------------------------------------------------------------

    async def before_write(
        self, obj: dict[str, Any], old: dict[str, Any] | None, ctx: RequestContext
    ) -> None:
        return None

    async def after_delete(self, obj: dict[str, Any]) -> None:
        return None
