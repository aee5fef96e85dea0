"""Informer transforms and typed, frozen views of cached objects (client-go ``SetTransform``).

An informer applies its ``transform`` to every object it receives (list items and watch events,
deletions included) before the object enters the cache, so only the transformed form is kept and
handed to handlers and listers (client-go ``SharedIndexInformer.SetTransform``,
``tools/cache/shared_informer.go``). The transform gets the freshly decoded ``dict``, which nobody
else holds, and may change it in place.

* `drop_managed_fields` (the informers' default): removes ``metadata.managedFields``, the
  server-side-apply bookkeeping no controller reads, which is often the largest part of an object;
* `keep_everything`: the object as the server sent it (the old behaviour);

Both adopt the decoded dict (`skiff.client.frozen.adopt`): nothing is copied, nested values are
frozen when first read.
* `pod_view`, `node_view`, `endpoint_slice_view`: typed frozen views (`PodView`, `NodeView`,
  `EndpointSliceView`) for the scheduler, controllers and the agent: the fields they read on every
  cycle as typed attributes, computed once, and the whole object (without managedFields) as
  ``raw``, a `FrozenDict`, for everything else.

Why views and not the pydantic models of ``skiff.api.types``: validating a Pod into the models costs
several times the CPU of freezing it and more memory per cached pod (docs/client.md has the
figures), the models are mutable below the top level unless every nested class is frozen, and a
view keeps the wire form at hand for `thaw` and for writing back. The cache needs of a stored
object only what `object_meta` reads: a mapping with ``metadata``, or an object whose ``raw`` is
one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from skiff.client.frozen import FrozenDict, FrozenList, adopt

__all__ = [
    "EndpointSliceView",
    "NodeView",
    "ObjectView",
    "PodView",
    "Transform",
    "drop_managed_fields",
    "endpoint_slice_view",
    "keep_everything",
    "node_view",
    "object_meta",
    "pod_view",
]

T = TypeVar("T")

Transform = Callable[[dict[str, Any]], T]
"""What an informer applies to each decoded object before caching it."""

_EMPTY = FrozenDict()
_EMPTY_LIST = FrozenList()


def _frozen(obj: dict[str, Any]) -> FrozenDict:
    # The transform's input was just decoded and is ours: adopt it instead of copying.
    out = adopt(obj)
    assert isinstance(out, FrozenDict)
    return out


def drop_managed_fields(obj: dict[str, Any]) -> FrozenDict:
    """The object without ``metadata.managedFields``, frozen (the informers' default transform)."""
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    return _frozen(obj)


def keep_everything(obj: dict[str, Any]) -> FrozenDict:
    """The object exactly as received, frozen."""
    return _frozen(obj)


def object_meta(obj: Any) -> Mapping[str, Any]:
    """``metadata`` of a cached object: a mapping's ``["metadata"]`` or a view's
    ``raw["metadata"]`` (``{}`` when absent)."""
    source = obj if isinstance(obj, Mapping) else getattr(obj, "raw", None)
    if not isinstance(source, Mapping):
        raise TypeError(f"{type(obj).__name__} is neither a mapping nor a view with .raw")
    meta = source.get("metadata")
    return meta if isinstance(meta, Mapping) else _EMPTY


@dataclass(frozen=True, slots=True)
class ObjectView:
    """Object metadata every controller reads, plus the whole object as ``raw``."""

    raw: FrozenDict
    name: str
    namespace: str
    uid: str
    resource_version: str
    labels: FrozenDict

    @property
    def metadata(self) -> FrozenDict:
        meta = self.raw.get("metadata")
        return meta if isinstance(meta, FrozenDict) else _EMPTY

    @property
    def annotations(self) -> FrozenDict:
        value = self.metadata.get("annotations")
        return value if isinstance(value, FrozenDict) else _EMPTY

    @property
    def owner_references(self) -> FrozenList:
        value = self.metadata.get("ownerReferences")
        return value if isinstance(value, FrozenList) else _EMPTY_LIST

    @property
    def deletion_timestamp(self) -> str | None:
        value = self.metadata.get("deletionTimestamp")
        return str(value) if value else None

    @property
    def spec(self) -> FrozenDict:
        value = self.raw.get("spec")
        return value if isinstance(value, FrozenDict) else _EMPTY

    @property
    def status(self) -> FrozenDict:
        value = self.raw.get("status")
        return value if isinstance(value, FrozenDict) else _EMPTY


def _meta_fields(raw: FrozenDict) -> dict[str, Any]:
    meta = raw.get("metadata") or _EMPTY
    labels = meta.get("labels")
    return {
        "raw": raw,
        "name": str(meta.get("name") or ""),
        "namespace": str(meta.get("namespace") or ""),
        "uid": str(meta.get("uid") or ""),
        "resource_version": str(meta.get("resourceVersion") or ""),
        "labels": labels if isinstance(labels, FrozenDict) else _EMPTY,
    }


@dataclass(frozen=True, slots=True)
class PodView(ObjectView):
    """A Pod as the scheduler and the agent read it."""

    node_name: str
    scheduler_name: str
    phase: str
    priority: int

    @property
    def containers(self) -> FrozenList:
        value = self.spec.get("containers")
        return value if isinstance(value, FrozenList) else _EMPTY_LIST


def pod_view(obj: dict[str, Any]) -> PodView:
    """Transform: a `PodView` (managedFields dropped)."""
    raw = drop_managed_fields(obj)
    spec = raw.get("spec") or _EMPTY
    status = raw.get("status") or _EMPTY
    priority = spec.get("priority")
    return PodView(
        **_meta_fields(raw),
        node_name=str(spec.get("nodeName") or ""),
        scheduler_name=str(spec.get("schedulerName") or "default-scheduler"),
        phase=str(status.get("phase") or ""),
        priority=priority if isinstance(priority, int) else 0,
    )


@dataclass(frozen=True, slots=True)
class NodeView(ObjectView):
    """A Node as the scheduler and the node lifecycle controller read it."""

    unschedulable: bool
    allocatable: FrozenDict
    taints: FrozenList

    @property
    def conditions(self) -> FrozenList:
        value = self.status.get("conditions")
        return value if isinstance(value, FrozenList) else _EMPTY_LIST

    def condition(self, type_: str) -> FrozenDict | None:
        """The status condition of ``type_`` (``Ready``, ...), if reported."""
        for cond in self.conditions:
            if isinstance(cond, FrozenDict) and cond.get("type") == type_:
                return cond
        return None


def node_view(obj: dict[str, Any]) -> NodeView:
    """Transform: a `NodeView` (managedFields dropped)."""
    raw = drop_managed_fields(obj)
    spec = raw.get("spec") or _EMPTY
    status = raw.get("status") or _EMPTY
    allocatable = status.get("allocatable")
    taints = spec.get("taints")
    return NodeView(
        **_meta_fields(raw),
        unschedulable=spec.get("unschedulable") is True,
        allocatable=allocatable if isinstance(allocatable, FrozenDict) else _EMPTY,
        taints=taints if isinstance(taints, FrozenList) else _EMPTY_LIST,
    )


@dataclass(frozen=True, slots=True)
class EndpointSliceView(ObjectView):
    """An EndpointSlice as the service proxy and the endpoints controller read it."""

    service_name: str
    address_type: str
    endpoints: FrozenList
    ports: FrozenList


def endpoint_slice_view(obj: dict[str, Any]) -> EndpointSliceView:
    """Transform: an `EndpointSliceView` (managedFields dropped)."""
    raw = drop_managed_fields(obj)
    fields = _meta_fields(raw)
    endpoints = raw.get("endpoints")
    ports = raw.get("ports")
    return EndpointSliceView(
        **fields,
        service_name=str(fields["labels"].get("kubernetes.io/service-name") or ""),
        address_type=str(raw.get("addressType") or ""),
        endpoints=endpoints if isinstance(endpoints, FrozenList) else _EMPTY_LIST,
        ports=ports if isinstance(ports, FrozenList) else _EMPTY_LIST,
    )
