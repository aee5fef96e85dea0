"""core/v1 ReplicationController."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, Time
from skiff.api.types._core_pod import PodTemplateSpec
from skiff.api.types._fields import atomic_map, merge_list, struct_extensions
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = [
    "ReplicationController",
    "ReplicationControllerCondition",
    "ReplicationControllerList",
    "ReplicationControllerSpec",
    "ReplicationControllerStatus",
]


class ReplicationControllerSpec(KubeModel):
    min_ready_seconds: int | None = Field(None, alias="minReadySeconds")
    replicas: int | None = Field(None, alias="replicas")
    selector: dict[str, str] | None = Field(None, alias="selector", json_schema_extra=atomic_map())
    template: PodTemplateSpec | None = Field(None, alias="template")


class ReplicationControllerCondition(KubeModel):
    last_transition_time: Time | None = Field(None, alias="lastTransitionTime")
    message: str | None = Field(None, alias="message")
    reason: str | None = Field(None, alias="reason")
    status: str = Field(alias="status")
    type: str = Field(alias="type")


class ReplicationControllerStatus(KubeModel):
    available_replicas: int | None = Field(None, alias="availableReplicas")
    conditions: list[ReplicationControllerCondition] | None = Field(
        None, alias="conditions", json_schema_extra=merge_list("type")
    )
    fully_labeled_replicas: int | None = Field(None, alias="fullyLabeledReplicas")
    observed_generation: int | None = Field(None, alias="observedGeneration")
    ready_replicas: int | None = Field(None, alias="readyReplicas")
    replicas: int = Field(alias="replicas")


class ReplicationController(KubeModel):
    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("", "v1", "ReplicationController"))
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
    spec: ReplicationControllerSpec | None = Field(None, alias="spec")
    status: ReplicationControllerStatus | None = Field(None, alias="status")


class ReplicationControllerList(KubeModel):
    """A list of ReplicationController objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("", "v1", "ReplicationControllerList"))
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
    items: list[ReplicationController] = Field(
        alias="items", description="The ReplicationController objects."
    )
