"""The ``apps/v1`` group: Deployment, ReplicaSet, DaemonSet, StatefulSet and
ControllerRevision.
"""

from pydantic import ConfigDict, Field

from skiff.api.types._base import IntOrString, KubeModel, RawExtension, Time
from skiff.api.types._fields import atomic_list, merge_list, patch_strategy, struct_extensions
from skiff.api.types.core_v1 import PersistentVolumeClaim, PodTemplateSpec
from skiff.api.types.meta_v1 import LabelSelector, ListMeta, ObjectMeta

__all__ = [
    "ControllerRevision",
    "ControllerRevisionList",
    "DaemonSet",
    "DaemonSetCondition",
    "DaemonSetList",
    "DaemonSetSpec",
    "DaemonSetStatus",
    "DaemonSetUpdateStrategy",
    "Deployment",
    "DeploymentCondition",
    "DeploymentList",
    "DeploymentSpec",
    "DeploymentStatus",
    "DeploymentStrategy",
    "ReplicaSet",
    "ReplicaSetCondition",
    "ReplicaSetList",
    "ReplicaSetSpec",
    "ReplicaSetStatus",
    "RollingUpdateDaemonSet",
    "RollingUpdateDeployment",
    "RollingUpdateStatefulSetStrategy",
    "StatefulSet",
    "StatefulSetCondition",
    "StatefulSetList",
    "StatefulSetOrdinals",
    "StatefulSetPersistentVolumeClaimRetentionPolicy",
    "StatefulSetSpec",
    "StatefulSetStatus",
    "StatefulSetUpdateStrategy",
]


class ControllerRevision(KubeModel):
    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("apps", "v1", "ControllerRevision"))
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
    data: RawExtension | None = Field(None, alias="data")
    revision: int = Field(alias="revision")


class ControllerRevisionList(KubeModel):
    """A list of ControllerRevision objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("apps", "v1", "ControllerRevisionList"))
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
    items: list[ControllerRevision] = Field(
        alias="items", description="The ControllerRevision objects."
    )


class RollingUpdateDaemonSet(KubeModel):
    max_surge: IntOrString | None = Field(None, alias="maxSurge")
    max_unavailable: IntOrString | None = Field(None, alias="maxUnavailable")


class DaemonSetUpdateStrategy(KubeModel):
    rolling_update: RollingUpdateDaemonSet | None = Field(None, alias="rollingUpdate")
    type: str | None = Field(None, alias="type")


class DaemonSetSpec(KubeModel):
    min_ready_seconds: int | None = Field(None, alias="minReadySeconds")
    revision_history_limit: int | None = Field(None, alias="revisionHistoryLimit")
    selector: LabelSelector = Field(alias="selector")
    template: PodTemplateSpec = Field(alias="template")
    update_strategy: DaemonSetUpdateStrategy | None = Field(None, alias="updateStrategy")


class DaemonSetCondition(KubeModel):
    last_transition_time: Time | None = Field(None, alias="lastTransitionTime")
    message: str | None = Field(None, alias="message")
    reason: str | None = Field(None, alias="reason")
    status: str = Field(alias="status")
    type: str = Field(alias="type")


class DaemonSetStatus(KubeModel):
    collision_count: int | None = Field(None, alias="collisionCount")
    conditions: list[DaemonSetCondition] | None = Field(
        None, alias="conditions", json_schema_extra=merge_list("type")
    )
    current_number_scheduled: int = Field(alias="currentNumberScheduled")
    desired_number_scheduled: int = Field(alias="desiredNumberScheduled")
    number_available: int | None = Field(None, alias="numberAvailable")
    number_misscheduled: int = Field(alias="numberMisscheduled")
    number_ready: int = Field(alias="numberReady")
    number_unavailable: int | None = Field(None, alias="numberUnavailable")
    observed_generation: int | None = Field(None, alias="observedGeneration")
    updated_number_scheduled: int | None = Field(None, alias="updatedNumberScheduled")


class DaemonSet(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("apps", "v1", "DaemonSet")))
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
    spec: DaemonSetSpec | None = Field(None, alias="spec")
    status: DaemonSetStatus | None = Field(None, alias="status")


class DaemonSetList(KubeModel):
    """A list of DaemonSet objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("apps", "v1", "DaemonSetList"))
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
    items: list[DaemonSet] = Field(alias="items", description="The DaemonSet objects.")


class RollingUpdateDeployment(KubeModel):
    max_surge: IntOrString | None = Field(None, alias="maxSurge")
    max_unavailable: IntOrString | None = Field(None, alias="maxUnavailable")


class DeploymentStrategy(KubeModel):
    rolling_update: RollingUpdateDeployment | None = Field(None, alias="rollingUpdate")
    type: str | None = Field(None, alias="type")


class DeploymentSpec(KubeModel):
    min_ready_seconds: int | None = Field(None, alias="minReadySeconds")
    paused: bool | None = Field(None, alias="paused")
    progress_deadline_seconds: int | None = Field(None, alias="progressDeadlineSeconds")
    replicas: int | None = Field(None, alias="replicas")
    revision_history_limit: int | None = Field(None, alias="revisionHistoryLimit")
    selector: LabelSelector = Field(alias="selector")
    strategy: DeploymentStrategy | None = Field(
        None, alias="strategy", json_schema_extra=patch_strategy("retainKeys")
    )
    template: PodTemplateSpec = Field(alias="template")


class DeploymentCondition(KubeModel):
    last_transition_time: Time | None = Field(None, alias="lastTransitionTime")
    last_update_time: Time | None = Field(None, alias="lastUpdateTime")
    message: str | None = Field(None, alias="message")
    reason: str | None = Field(None, alias="reason")
    status: str = Field(alias="status")
    type: str = Field(alias="type")


class DeploymentStatus(KubeModel):
    available_replicas: int | None = Field(None, alias="availableReplicas")
    collision_count: int | None = Field(None, alias="collisionCount")
    conditions: list[DeploymentCondition] | None = Field(
        None, alias="conditions", json_schema_extra=merge_list("type")
    )
    observed_generation: int | None = Field(None, alias="observedGeneration")
    ready_replicas: int | None = Field(None, alias="readyReplicas")
    replicas: int | None = Field(None, alias="replicas")
    unavailable_replicas: int | None = Field(None, alias="unavailableReplicas")
    updated_replicas: int | None = Field(None, alias="updatedReplicas")


class Deployment(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("apps", "v1", "Deployment")))
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
    spec: DeploymentSpec | None = Field(None, alias="spec")
    status: DeploymentStatus | None = Field(None, alias="status")


class DeploymentList(KubeModel):
    """A list of Deployment objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("apps", "v1", "DeploymentList"))
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
    items: list[Deployment] = Field(alias="items", description="The Deployment objects.")


class ReplicaSetSpec(KubeModel):
    min_ready_seconds: int | None = Field(None, alias="minReadySeconds")
    replicas: int | None = Field(None, alias="replicas")
    selector: LabelSelector = Field(alias="selector")
    template: PodTemplateSpec | None = Field(None, alias="template")


class ReplicaSetCondition(KubeModel):
    last_transition_time: Time | None = Field(None, alias="lastTransitionTime")
    message: str | None = Field(None, alias="message")
    reason: str | None = Field(None, alias="reason")
    status: str = Field(alias="status")
    type: str = Field(alias="type")


class ReplicaSetStatus(KubeModel):
    available_replicas: int | None = Field(None, alias="availableReplicas")
    conditions: list[ReplicaSetCondition] | None = Field(
        None, alias="conditions", json_schema_extra=merge_list("type")
    )
    fully_labeled_replicas: int | None = Field(None, alias="fullyLabeledReplicas")
    observed_generation: int | None = Field(None, alias="observedGeneration")
    ready_replicas: int | None = Field(None, alias="readyReplicas")
    replicas: int = Field(alias="replicas")


class ReplicaSet(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("apps", "v1", "ReplicaSet")))
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
    spec: ReplicaSetSpec | None = Field(None, alias="spec")
    status: ReplicaSetStatus | None = Field(None, alias="status")


class ReplicaSetList(KubeModel):
    """A list of ReplicaSet objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("apps", "v1", "ReplicaSetList"))
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
    items: list[ReplicaSet] = Field(alias="items", description="The ReplicaSet objects.")


class RollingUpdateStatefulSetStrategy(KubeModel):
    max_unavailable: IntOrString | None = Field(None, alias="maxUnavailable")
    partition: int | None = Field(None, alias="partition")


class StatefulSetOrdinals(KubeModel):
    start: int | None = Field(None, alias="start")


class StatefulSetPersistentVolumeClaimRetentionPolicy(KubeModel):
    when_deleted: str | None = Field(None, alias="whenDeleted")
    when_scaled: str | None = Field(None, alias="whenScaled")


class StatefulSetUpdateStrategy(KubeModel):
    rolling_update: RollingUpdateStatefulSetStrategy | None = Field(None, alias="rollingUpdate")
    type: str | None = Field(None, alias="type")


class StatefulSetSpec(KubeModel):
    min_ready_seconds: int | None = Field(None, alias="minReadySeconds")
    ordinals: StatefulSetOrdinals | None = Field(None, alias="ordinals")
    persistent_volume_claim_retention_policy: (
        StatefulSetPersistentVolumeClaimRetentionPolicy | None
    ) = Field(None, alias="persistentVolumeClaimRetentionPolicy")
    pod_management_policy: str | None = Field(None, alias="podManagementPolicy")
    replicas: int | None = Field(None, alias="replicas")
    revision_history_limit: int | None = Field(None, alias="revisionHistoryLimit")
    selector: LabelSelector = Field(alias="selector")
    service_name: str = Field(alias="serviceName")
    template: PodTemplateSpec = Field(alias="template")
    update_strategy: StatefulSetUpdateStrategy | None = Field(None, alias="updateStrategy")
    volume_claim_templates: list[PersistentVolumeClaim] | None = Field(
        None, alias="volumeClaimTemplates", json_schema_extra=atomic_list()
    )


class StatefulSetCondition(KubeModel):
    last_transition_time: Time | None = Field(None, alias="lastTransitionTime")
    message: str | None = Field(None, alias="message")
    reason: str | None = Field(None, alias="reason")
    status: str = Field(alias="status")
    type: str = Field(alias="type")


class StatefulSetStatus(KubeModel):
    available_replicas: int | None = Field(None, alias="availableReplicas")
    collision_count: int | None = Field(None, alias="collisionCount")
    conditions: list[StatefulSetCondition] | None = Field(
        None, alias="conditions", json_schema_extra=merge_list("type")
    )
    current_replicas: int | None = Field(None, alias="currentReplicas")
    current_revision: str | None = Field(None, alias="currentRevision")
    observed_generation: int | None = Field(None, alias="observedGeneration")
    ready_replicas: int | None = Field(None, alias="readyReplicas")
    replicas: int = Field(alias="replicas")
    update_revision: str | None = Field(None, alias="updateRevision")
    updated_replicas: int | None = Field(None, alias="updatedReplicas")


class StatefulSet(KubeModel):
    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("apps", "v1", "StatefulSet"))
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
    spec: StatefulSetSpec | None = Field(None, alias="spec")
    status: StatefulSetStatus | None = Field(None, alias="status")


class StatefulSetList(KubeModel):
    """A list of StatefulSet objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("apps", "v1", "StatefulSetList"))
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
    items: list[StatefulSet] = Field(alias="items", description="The StatefulSet objects.")
