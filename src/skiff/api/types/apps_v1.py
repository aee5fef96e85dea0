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
    """An immutable snapshot of a controller's pod template, used by DaemonSets and StatefulSets for rollout history and rollback."""

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
    data: RawExtension | None = Field(
        None,
        alias="data",
        description="The serialized state snapshot (a partial object of the owning controller).",
    )
    revision: int = Field(
        alias="revision", description="Revision number of this snapshot; higher is newer."
    )


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
    """Parameters of a DaemonSet rolling update."""

    max_surge: IntOrString | None = Field(
        None,
        alias="maxSurge",
        description="Nodes (count or percentage) that may run an extra new pod during the update; default 0.",
    )
    max_unavailable: IntOrString | None = Field(
        None,
        alias="maxUnavailable",
        description="Nodes (count or percentage) whose pod may be unavailable during the update; default 1.",
    )


class DaemonSetUpdateStrategy(KubeModel):
    """How a DaemonSet replaces its pods."""

    rolling_update: RollingUpdateDaemonSet | None = Field(
        None,
        alias="rollingUpdate",
        description="Rolling update parameters, with type RollingUpdate.",
    )
    type: str | None = Field(
        None,
        alias="type",
        description="RollingUpdate (the default) or OnDelete (replace only when pods are deleted by hand).",
    )


class DaemonSetSpec(KubeModel):
    """Desired state of a DaemonSet."""

    min_ready_seconds: int | None = Field(
        None,
        alias="minReadySeconds",
        description="Seconds a new pod must be ready without crashing to count as available; default 0.",
    )
    revision_history_limit: int | None = Field(
        None,
        alias="revisionHistoryLimit",
        description="Old ControllerRevisions to keep for rollback; default 10.",
    )
    selector: LabelSelector = Field(
        alias="selector",
        description="Labels of the pods the DaemonSet manages; must match the template's labels. Immutable.",
    )
    template: PodTemplateSpec = Field(
        alias="template",
        description="Template of the pod run on each node; its restartPolicy must be Always.",
    )
    update_strategy: DaemonSetUpdateStrategy | None = Field(
        None, alias="updateStrategy", description="How pods are replaced when the template changes."
    )


class DaemonSetCondition(KubeModel):
    """One condition of a DaemonSet."""

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


class DaemonSetStatus(KubeModel):
    """Observed state of a DaemonSet."""

    collision_count: int | None = Field(
        None,
        alias="collisionCount",
        description="Hash collisions seen when naming ControllerRevisions; used to make names unique.",
    )
    conditions: list[DaemonSetCondition] | None = Field(
        None,
        alias="conditions",
        description="Current conditions of the DaemonSet.",
        json_schema_extra=merge_list("type"),
    )
    current_number_scheduled: int = Field(
        alias="currentNumberScheduled",
        description="Nodes running at least one daemon pod that should run one.",
    )
    desired_number_scheduled: int = Field(
        alias="desiredNumberScheduled", description="Nodes that should run the daemon pod."
    )
    number_available: int | None = Field(
        None,
        alias="numberAvailable",
        description="Nodes whose daemon pod has been ready for at least minReadySeconds.",
    )
    number_misscheduled: int = Field(
        alias="numberMisscheduled",
        description="Nodes running a daemon pod that should not run one.",
    )
    number_ready: int = Field(alias="numberReady", description="Nodes whose daemon pod is ready.")
    number_unavailable: int | None = Field(
        None,
        alias="numberUnavailable",
        description="Nodes that should run the daemon pod but have none available.",
    )
    observed_generation: int | None = Field(
        None, alias="observedGeneration", description="The generation most recently acted on."
    )
    updated_number_scheduled: int | None = Field(
        None,
        alias="updatedNumberScheduled",
        description="Nodes running a daemon pod from the current template.",
    )


class DaemonSet(KubeModel):
    """Runs one copy of a pod on every eligible node."""

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
    spec: DaemonSetSpec | None = Field(
        None,
        alias="spec",
        description="Desired behaviour: selector, pod template and update strategy.",
    )
    status: DaemonSetStatus | None = Field(
        None, alias="status", description="Most recently observed state; read-only."
    )


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
    """Parameters of a Deployment rolling update."""

    max_surge: IntOrString | None = Field(
        None,
        alias="maxSurge",
        description="Pods (count or percentage, rounded up) allowed above the desired count during the update; default 25%.",
    )
    max_unavailable: IntOrString | None = Field(
        None,
        alias="maxUnavailable",
        description="Pods (count or percentage, rounded down) that may be unavailable during the update; default 25%.",
    )


class DeploymentStrategy(KubeModel):
    """How a Deployment replaces old pods."""

    rolling_update: RollingUpdateDeployment | None = Field(
        None,
        alias="rollingUpdate",
        description="Rolling update parameters, with type RollingUpdate.",
    )
    type: str | None = Field(
        None,
        alias="type",
        description="RollingUpdate (the default) or Recreate (delete all old pods first).",
    )


class DeploymentSpec(KubeModel):
    """Desired state of a Deployment."""

    min_ready_seconds: int | None = Field(
        None,
        alias="minReadySeconds",
        description="Seconds a new pod must be ready without crashing to count as available; default 0.",
    )
    paused: bool | None = Field(
        None,
        alias="paused",
        description="Stop rolling out template changes while true; default false.",
    )
    progress_deadline_seconds: int | None = Field(
        None,
        alias="progressDeadlineSeconds",
        description="Seconds without progress before the rollout is reported as failed; default 600.",
    )
    replicas: int | None = Field(
        None, alias="replicas", description="Desired number of pods; default 1."
    )
    revision_history_limit: int | None = Field(
        None,
        alias="revisionHistoryLimit",
        description="Old ReplicaSets to keep for rollback; default 10.",
    )
    selector: LabelSelector = Field(
        alias="selector",
        description="Labels of the pods the Deployment manages; must match the template's labels. Immutable.",
    )
    strategy: DeploymentStrategy | None = Field(
        None,
        alias="strategy",
        description="How old pods are replaced by new ones.",
        json_schema_extra=patch_strategy("retainKeys"),
    )
    template: PodTemplateSpec = Field(
        alias="template", description="Template of the pods; changing it starts a rollout."
    )


class DeploymentCondition(KubeModel):
    """One condition of a Deployment: Available, Progressing or ReplicaFailure."""

    last_transition_time: Time | None = Field(
        None, alias="lastTransitionTime", description="When the status last changed."
    )
    last_update_time: Time | None = Field(
        None, alias="lastUpdateTime", description="When the condition was last updated."
    )
    message: str | None = Field(
        None, alias="message", description="Human-readable detail of the last transition."
    )
    reason: str | None = Field(
        None,
        alias="reason",
        description="CamelCase reason, e.g. NewReplicaSetAvailable or ProgressDeadlineExceeded.",
    )
    status: str = Field(alias="status", description="True, False or Unknown.")
    type: str = Field(alias="type", description="The condition's name.")


class DeploymentStatus(KubeModel):
    """Observed state of a Deployment's rollout."""

    available_replicas: int | None = Field(
        None, alias="availableReplicas", description="Pods ready for at least minReadySeconds."
    )
    collision_count: int | None = Field(
        None,
        alias="collisionCount",
        description="Hash collisions seen when naming ReplicaSets; used to make names unique.",
    )
    conditions: list[DeploymentCondition] | None = Field(
        None,
        alias="conditions",
        description="Current conditions of the Deployment.",
        json_schema_extra=merge_list("type"),
    )
    observed_generation: int | None = Field(
        None, alias="observedGeneration", description="The generation most recently acted on."
    )
    ready_replicas: int | None = Field(
        None, alias="readyReplicas", description="Pods that are ready."
    )
    replicas: int | None = Field(
        None,
        alias="replicas",
        description="Pods existing across all of the Deployment's ReplicaSets.",
    )
    unavailable_replicas: int | None = Field(
        None,
        alias="unavailableReplicas",
        description="Pods still needed to reach the desired available count.",
    )
    updated_replicas: int | None = Field(
        None, alias="updatedReplicas", description="Pods created from the current template."
    )


class Deployment(KubeModel):
    """Declarative updates for a replicated set of pods, rolled out through ReplicaSets."""

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
    spec: DeploymentSpec | None = Field(
        None,
        alias="spec",
        description="Desired state: replicas, selector, pod template and rollout strategy.",
    )
    status: DeploymentStatus | None = Field(
        None, alias="status", description="Most recently observed rollout state; read-only."
    )


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
    """Desired state of a ReplicaSet."""

    min_ready_seconds: int | None = Field(
        None,
        alias="minReadySeconds",
        description="Seconds a new pod must be ready without crashing to count as available; default 0.",
    )
    replicas: int | None = Field(
        None, alias="replicas", description="Desired number of pods; default 1."
    )
    selector: LabelSelector = Field(
        alias="selector",
        description="Labels of the pods the ReplicaSet manages; must match the template's labels.",
    )
    template: PodTemplateSpec | None = Field(
        None, alias="template", description="Template for the pods the ReplicaSet creates."
    )


class ReplicaSetCondition(KubeModel):
    """One condition of a ReplicaSet, e.g. ReplicaFailure."""

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


class ReplicaSetStatus(KubeModel):
    """Observed state of a ReplicaSet."""

    available_replicas: int | None = Field(
        None,
        alias="availableReplicas",
        description="Pods that have been ready for at least minReadySeconds.",
    )
    conditions: list[ReplicaSetCondition] | None = Field(
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


class ReplicaSet(KubeModel):
    """Keeps a given number of identical pods running; usually managed by a Deployment."""

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
    spec: ReplicaSetSpec | None = Field(
        None, alias="spec", description="Desired number of replicas, selector and pod template."
    )
    status: ReplicaSetStatus | None = Field(
        None, alias="status", description="Most recently observed state; read-only."
    )


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
    """Parameters of a StatefulSet rolling update."""

    max_unavailable: IntOrString | None = Field(
        None,
        alias="maxUnavailable",
        description="Pods (count or percentage) that may be unavailable at once; default 1. Alpha upstream.",
    )
    partition: int | None = Field(
        None,
        alias="partition",
        description="Only pods with an ordinal at or above this are updated; default 0.",
    )


class StatefulSetOrdinals(KubeModel):
    """Numbering of a StatefulSet's pods."""

    start: int | None = Field(
        None, alias="start", description="Ordinal of the first pod; default 0."
    )


class StatefulSetPersistentVolumeClaimRetentionPolicy(KubeModel):
    """What happens to claims created from volumeClaimTemplates."""

    when_deleted: str | None = Field(
        None,
        alias="whenDeleted",
        description="Retain (the default) or Delete the claims when the StatefulSet is deleted.",
    )
    when_scaled: str | None = Field(
        None,
        alias="whenScaled",
        description="Retain (the default) or Delete the claims of pods removed by scaling down.",
    )


class StatefulSetUpdateStrategy(KubeModel):
    """How a StatefulSet replaces its pods."""

    rolling_update: RollingUpdateStatefulSetStrategy | None = Field(
        None,
        alias="rollingUpdate",
        description="Rolling update parameters, with type RollingUpdate.",
    )
    type: str | None = Field(
        None, alias="type", description="RollingUpdate (the default) or OnDelete."
    )


class StatefulSetSpec(KubeModel):
    """Desired state of a StatefulSet."""

    min_ready_seconds: int | None = Field(
        None,
        alias="minReadySeconds",
        description="Seconds a new pod must be ready without crashing to count as available; default 0.",
    )
    ordinals: StatefulSetOrdinals | None = Field(
        None, alias="ordinals", description="Numbering of the pods."
    )
    persistent_volume_claim_retention_policy: (
        StatefulSetPersistentVolumeClaimRetentionPolicy | None
    ) = Field(
        None,
        alias="persistentVolumeClaimRetentionPolicy",
        description="Whether claims are kept when pods are scaled away or the set is deleted.",
    )
    pod_management_policy: str | None = Field(
        None,
        alias="podManagementPolicy",
        description="OrderedReady (the default; one at a time, in order) or Parallel.",
    )
    replicas: int | None = Field(
        None, alias="replicas", description="Desired number of pods; default 1."
    )
    revision_history_limit: int | None = Field(
        None,
        alias="revisionHistoryLimit",
        description="Old ControllerRevisions to keep; default 10.",
    )
    selector: LabelSelector = Field(
        alias="selector",
        description="Labels of the pods the StatefulSet manages; must match the template's labels.",
    )
    service_name: str = Field(
        alias="serviceName", description="Headless Service that gives the pods their DNS names."
    )
    template: PodTemplateSpec = Field(
        alias="template", description="Template for the pods; each gets the name <set>-<ordinal>."
    )
    update_strategy: StatefulSetUpdateStrategy | None = Field(
        None, alias="updateStrategy", description="How pods are replaced when the template changes."
    )
    volume_claim_templates: list[PersistentVolumeClaim] | None = Field(
        None,
        alias="volumeClaimTemplates",
        description="Claims created per pod, named <template>-<set>-<ordinal>, and mounted by name.",
        json_schema_extra=atomic_list(),
    )


class StatefulSetCondition(KubeModel):
    """One condition of a StatefulSet."""

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


class StatefulSetStatus(KubeModel):
    """Observed state of a StatefulSet."""

    available_replicas: int | None = Field(
        None, alias="availableReplicas", description="Pods ready for at least minReadySeconds."
    )
    collision_count: int | None = Field(
        None,
        alias="collisionCount",
        description="Hash collisions seen when naming ControllerRevisions.",
    )
    conditions: list[StatefulSetCondition] | None = Field(
        None,
        alias="conditions",
        description="Current conditions of the StatefulSet.",
        json_schema_extra=merge_list("type"),
    )
    current_replicas: int | None = Field(
        None, alias="currentReplicas", description="Pods created from the currentRevision."
    )
    current_revision: str | None = Field(
        None,
        alias="currentRevision",
        description="Revision of the pods below the update partition.",
    )
    observed_generation: int | None = Field(
        None, alias="observedGeneration", description="The generation most recently acted on."
    )
    ready_replicas: int | None = Field(
        None, alias="readyReplicas", description="Pods that are ready."
    )
    replicas: int = Field(alias="replicas", description="Pods existing.")
    update_revision: str | None = Field(
        None, alias="updateRevision", description="Revision of the current template."
    )
    updated_replicas: int | None = Field(
        None, alias="updatedReplicas", description="Pods created from the updateRevision."
    )


class StatefulSet(KubeModel):
    """Runs pods with stable names, network identities and per-pod storage, created and updated in order."""

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
    spec: StatefulSetSpec | None = Field(
        None,
        alias="spec",
        description="Desired state: replicas, pod template, claim templates and update strategy.",
    )
    status: StatefulSetStatus | None = Field(
        None, alias="status", description="Most recently observed state; read-only."
    )


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
