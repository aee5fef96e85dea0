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
    """Desired state of a replication controller."""

    min_ready_seconds: int | None = Field(
        None,
        alias="minReadySeconds",
        description="Seconds a new pod must be ready without crashing to count as available; default 0.",
    )
    replicas: int | None = Field(
        None, alias="replicas", description="Desired number of pods; default 1."
    )
    selector: dict[str, str] | None = Field(
        None,
        alias="selector",
        description="Labels of the pods the controller manages; defaults to the template's labels.",
        json_schema_extra=atomic_map(),
    )
    template: PodTemplateSpec | None = Field(
        None, alias="template", description="Template for the pods the controller creates."
    )


class ReplicationControllerCondition(KubeModel):
    """One condition of a replication controller, e.g. ReplicaFailure."""

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


class ReplicationControllerStatus(KubeModel):
    """Observed state of a replication controller."""

    available_replicas: int | None = Field(
        None,
        alias="availableReplicas",
        description="Pods that have been ready for at least minReadySeconds.",
    )
    conditions: list[ReplicationControllerCondition] | None = Field(
        None,
        alias="conditions",
        description="Current conditions of the controller.",
        json_schema_extra=merge_list("type"),
    )
    fully_labeled_replicas: int | None = Field(
        None,
        alias="fullyLabeledReplicas",
        description="Pods whose labels match the template's labels.",
    )
    observed_generation: int | None = Field(
        None, alias="observedGeneration", description="The generation most recently acted on."
    )
    ready_replicas: int | None = Field(
        None, alias="readyReplicas", description="Pods that are ready."
    )
    replicas: int = Field(alias="replicas", description="Pods currently existing.")


class ReplicationController(KubeModel):
    """The original controller keeping a number of pod replicas running; superseded by ReplicaSet and Deployment."""

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
    spec: ReplicationControllerSpec | None = Field(
        None, alias="spec", description="Desired number of replicas, selector and pod template."
    )
    status: ReplicationControllerStatus | None = Field(
        None, alias="status", description="Most recently observed state; read-only."
    )


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
