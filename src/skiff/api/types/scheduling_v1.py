"""The ``scheduling.k8s.io/v1`` group: PriorityClass."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel
from skiff.api.types._fields import struct_extensions
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = ["PriorityClass", "PriorityClassList"]


class PriorityClass(KubeModel):
    """Maps a priority class name to an integer priority for pods."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("scheduling.k8s.io", "v1", "PriorityClass"))
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
    description: str | None = Field(
        None, alias="description", description="Free-form description of when to use the class."
    )
    global_default: bool | None = Field(
        None,
        alias="globalDefault",
        description="Use this class for pods without priorityClassName; only one class may set it.",
    )
    preemption_policy: str | None = Field(
        None, alias="preemptionPolicy", description="PreemptLowerPriority (the default) or Never."
    )
    value: int = Field(
        alias="value",
        description="The priority; larger is more important. User classes may use up to 1,000,000,000.",
    )


class PriorityClassList(KubeModel):
    """A list of PriorityClass objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("scheduling.k8s.io", "v1", "PriorityClassList"))
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
    items: list[PriorityClass] = Field(alias="items", description="The PriorityClass objects.")
