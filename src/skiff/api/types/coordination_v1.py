"""The ``coordination.k8s.io/v1`` group: Lease."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, MicroTime
from skiff.api.types._fields import struct_extensions
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = ["Lease", "LeaseList", "LeaseSpec"]


class LeaseSpec(KubeModel):
    """Holder and timing of a lease."""

    acquire_time: MicroTime | None = Field(
        None, alias="acquireTime", description="When the current holder acquired the lease."
    )
    holder_identity: str | None = Field(
        None, alias="holderIdentity", description="Identity of the current holder."
    )
    lease_duration_seconds: int | None = Field(
        None,
        alias="leaseDurationSeconds",
        description="Seconds candidates wait after renewTime before taking the lease over.",
    )
    lease_transitions: int | None = Field(
        None, alias="leaseTransitions", description="How many times the lease changed holder."
    )
    preferred_holder: str | None = Field(
        None,
        alias="preferredHolder",
        description="Holder that should take the lease next (coordinated election).",
    )
    renew_time: MicroTime | None = Field(
        None, alias="renewTime", description="When the holder last renewed the lease."
    )
    strategy: str | None = Field(
        None, alias="strategy", description="Election strategy for coordinated leader election."
    )


class Lease(KubeModel):
    """A lease record used for leader election and node heartbeats."""

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
    spec: LeaseSpec | None = Field(
        None, alias="spec", description="Holder and timing of the lease."
    )


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
