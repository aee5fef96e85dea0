"""core/v1 Namespace."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, Time
from skiff.api.types._fields import atomic_list, merge_list, struct_extensions
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = ["Namespace", "NamespaceCondition", "NamespaceList", "NamespaceSpec", "NamespaceStatus"]


class NamespaceSpec(KubeModel):
    """Desired state of a namespace."""

    finalizers: list[str] | None = Field(
        None,
        alias="finalizers",
        description="Keys that must be removed (through the finalize subresource) before the namespace is deleted; kubernetes is added by default.",
        json_schema_extra=atomic_list(),
    )


class NamespaceCondition(KubeModel):
    """One condition of a namespace, e.g. NamespaceDeletionContentFailure."""

    last_transition_time: Time | None = Field(
        None, alias="lastTransitionTime", description="When the status last changed."
    )
    message: str | None = Field(
        None, alias="message", description="Human-readable detail of the last transition."
    )
    reason: str | None = Field(
        None, alias="reason", description="CamelCase reason for the last transition."
    )
    status: str = Field(alias="status", description="True, False or Unknown.")
    type: str = Field(alias="type", description="The condition's name.")


class NamespaceStatus(KubeModel):
    """Observed state of a namespace."""

    conditions: list[NamespaceCondition] | None = Field(
        None,
        alias="conditions",
        description="Current conditions, mostly about deletion progress.",
        json_schema_extra=merge_list("type"),
    )
    phase: str | None = Field(None, alias="phase", description="Active or Terminating.")


class Namespace(KubeModel):
    """A scope for names; most objects live in exactly one namespace."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "Namespace")))
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
    spec: NamespaceSpec | None = Field(
        None, alias="spec", description="Finalizers of the namespace."
    )
    status: NamespaceStatus | None = Field(
        None, alias="status", description="Phase and conditions of the namespace; read-only."
    )


class NamespaceList(KubeModel):
    """A list of Namespace objects, as returned by the list endpoint."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "NamespaceList")))
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
    items: list[Namespace] = Field(alias="items", description="The Namespace objects.")
