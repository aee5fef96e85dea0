"""The ``coordination.k8s.io/v1`` group: Lease."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, MicroTime
from skiff.api.types._fields import struct_extensions
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = ["Lease", "LeaseList", "LeaseSpec"]


class LeaseSpec(KubeModel):
    acquire_time: MicroTime | None = Field(None, alias="acquireTime")
    holder_identity: str | None = Field(None, alias="holderIdentity")
    lease_duration_seconds: int | None = Field(None, alias="leaseDurationSeconds")
    lease_transitions: int | None = Field(None, alias="leaseTransitions")
    preferred_holder: str | None = Field(None, alias="preferredHolder")
    renew_time: MicroTime | None = Field(None, alias="renewTime")
    strategy: str | None = Field(None, alias="strategy")


class Lease(KubeModel):
    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("coordination.k8s.io", "v1", "Lease"))
    )
    api_version: str | None = Field(
        None,
        alias="apiVersion",
        description="Versioned schema of this object, e.g. ``v1`` or ``apps/v1``; set by the server.",
    )
    kind: str | None = Field(
        None,
        alias="kind",
        description="The object's type name in CamelCase, e.g. ``Pod``; set by the server.",
    )
    metadata: ObjectMeta | None = Field(
        None,
        alias="metadata",
        description="Standard object metadata: name, namespace, labels, annotations and the fields the server maintains.",
    )
    spec: LeaseSpec | None = Field(None, alias="spec")


class LeaseList(KubeModel):
    """A list of Lease objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("coordination.k8s.io", "v1", "LeaseList"))
    )
    api_version: str | None = Field(
        None,
        alias="apiVersion",
        description="Versioned schema of this object, e.g. ``v1`` or ``apps/v1``; set by the server.",
    )
    kind: str | None = Field(
        None,
        alias="kind",
        description="The object's type name in CamelCase, e.g. ``Pod``; set by the server.",
    )
    metadata: ListMeta | None = Field(
        None,
        alias="metadata",
        description="List metadata: the resourceVersion of the list and the continue token.",
    )
    items: list[Lease] = Field(alias="items", description="The Lease objects.")
