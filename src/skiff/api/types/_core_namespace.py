"""core/v1 Namespace."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, Time
from skiff.api.types._fields import atomic_list, merge_list, struct_extensions
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = ["Namespace", "NamespaceCondition", "NamespaceList", "NamespaceSpec", "NamespaceStatus"]


class NamespaceSpec(KubeModel):
    finalizers: list[str] | None = Field(None, alias="finalizers", json_schema_extra=atomic_list())


class NamespaceCondition(KubeModel):
    last_transition_time: Time | None = Field(None, alias="lastTransitionTime")
    message: str | None = Field(None, alias="message")
    reason: str | None = Field(None, alias="reason")
    status: str = Field(alias="status")
    type: str = Field(alias="type")


class NamespaceStatus(KubeModel):
    conditions: list[NamespaceCondition] | None = Field(
        None, alias="conditions", json_schema_extra=merge_list("type")
    )
    phase: str | None = Field(None, alias="phase")


class Namespace(KubeModel):
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
    spec: NamespaceSpec | None = Field(None, alias="spec")
    status: NamespaceStatus | None = Field(None, alias="status")


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
