"""The ``autoscaling.k8s.io/v1`` group: VerticalPodAutoscaler.

Upstream this kind is a CRD (kubernetes/autoscaler); skiff serves it as a built-in kind, so
its lists carry strategic-merge keys taken from the Go struct tags.
"""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, Quantity, Time
from skiff.api.types._fields import merge_list, patch_strategy, struct_extensions
from skiff.api.types.autoscaling_v1 import CrossVersionObjectReference
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = [
    "ContainerResourcePolicy",
    "EvictionRequirement",
    "GenericStartupBoost",
    "PodResourcePolicy",
    "PodUpdatePolicy",
    "RecommendedContainerResources",
    "RecommendedPodResources",
    "StartupBoost",
    "VerticalPodAutoscaler",
    "VerticalPodAutoscalerCondition",
    "VerticalPodAutoscalerList",
    "VerticalPodAutoscalerRecommenderSelector",
    "VerticalPodAutoscalerSpec",
    "VerticalPodAutoscalerStatus",
]


class GenericStartupBoost(KubeModel):
    """How much extra of a resource a starting pod gets."""

    duration: str | None = Field(
        None,
        alias="duration",
        description="How long the boost lasts after the pod becomes ready, e.g. 30s; default 0s.",
    )
    factor: int | None = Field(
        None, alias="factor", description="Multiplier of the request, with type Factor."
    )
    quantity: Quantity | None = Field(
        None, alias="quantity", description="Absolute amount, with type Quantity."
    )
    type: str = Field(alias="type", description="Factor or Quantity.")


class StartupBoost(KubeModel):
    """Extra resources granted while pods start."""

    cpu: GenericStartupBoost | None = Field(None, alias="cpu", description="CPU boost.")


class ContainerResourcePolicy(KubeModel):
    """Limits on the recommendations for one container (or all containers with name *)."""

    container_name: str | None = Field(
        None,
        alias="containerName",
        description="Container name, or * for containers without a policy of their own.",
    )
    controlled_resources: list[str] | None = Field(
        None,
        alias="controlledResources",
        description="Resources to recommend for; default cpu and memory.",
        json_schema_extra=patch_strategy("merge"),
    )
    controlled_values: str | None = Field(
        None,
        alias="controlledValues",
        description="RequestsAndLimits (the default; limits scale proportionally) or RequestsOnly.",
    )
    max_allowed: dict[str, Quantity] | None = Field(
        None,
        alias="maxAllowed",
        description="Upper bound of the recommendation per resource; default none.",
    )
    min_allowed: dict[str, Quantity] | None = Field(
        None,
        alias="minAllowed",
        description="Lower bound of the recommendation per resource; default none.",
    )
    mode: str | None = Field(None, alias="mode", description="Auto (the default) or Off.")
    oom_bump_up_ratio: Quantity | None = Field(
        None,
        alias="oomBumpUpRatio",
        description="Factor by which memory grows after an out-of-memory kill.",
    )
    oom_min_bump_up: Quantity | None = Field(
        None,
        alias="oomMinBumpUp",
        description="Minimum memory increase after an out-of-memory kill.",
    )
    startup_boost: StartupBoost | None = Field(
        None,
        alias="startupBoost",
        description="Extra resources while this container starts; overrides the pod-level boost.",
    )


class EvictionRequirement(KubeModel):
    """A condition that must hold for a pod to be evicted to apply a recommendation."""

    change_requirement: str = Field(
        alias="changeRequirement",
        description="TargetHigherThanRequests or TargetLowerThanRequests.",
    )
    resources: list[str] = Field(
        alias="resources",
        description="Resources the condition applies to; any one matching is enough.",
    )


class PodResourcePolicy(KubeModel):
    """Per-container constraints on recommendations."""

    container_policies: list[ContainerResourcePolicy] | None = Field(
        None,
        alias="containerPolicies",
        description="Policies by container name; at most one per name plus one *.",
        json_schema_extra=merge_list("containerName", list_type=None),
    )


class PodUpdatePolicy(KubeModel):
    """How recommendations are applied to pods."""

    eviction_requirements: list[EvictionRequirement] | None = Field(
        None,
        alias="evictionRequirements",
        description="Conditions that must all hold before a pod is evicted.",
    )
    min_replicas: int | None = Field(
        None,
        alias="minReplicas",
        description="Live replicas needed before the updater may evict; overrides the global setting.",
    )
    update_mode: str | None = Field(
        None,
        alias="updateMode",
        description="Off, Initial, Recreate (the default), InPlaceOrRecreate or Auto (deprecated).",
    )


class RecommendedContainerResources(KubeModel):
    """The recommendation for one container."""

    container_name: str | None = Field(
        None, alias="containerName", description="Name of the container."
    )
    lower_bound: dict[str, Quantity] | None = Field(
        None, alias="lowerBound", description="Minimum recommended resources."
    )
    target: dict[str, Quantity] = Field(alias="target", description="Recommended resources.")
    uncapped_target: dict[str, Quantity] | None = Field(
        None,
        alias="uncappedTarget",
        description="Recommendation before the container policy's bounds were applied.",
    )
    upper_bound: dict[str, Quantity] | None = Field(
        None, alias="upperBound", description="Maximum recommended resources."
    )


class RecommendedPodResources(KubeModel):
    """The recommendation for a pod."""

    container_recommendations: list[RecommendedContainerResources] | None = Field(
        None, alias="containerRecommendations", description="One recommendation per container."
    )


class VerticalPodAutoscalerRecommenderSelector(KubeModel):
    """Names the recommender that computes the recommendation."""

    name: str = Field(alias="name", description="Name of the recommender.")


class VerticalPodAutoscalerSpec(KubeModel):
    """Desired behaviour of a VPA."""

    recommenders: list[VerticalPodAutoscalerRecommenderSelector] | None = Field(
        None,
        alias="recommenders",
        description="At most one recommender; empty uses the default one.",
    )
    resource_policy: PodResourcePolicy | None = Field(
        None, alias="resourcePolicy", description="Per-container constraints."
    )
    startup_boost: StartupBoost | None = Field(
        None, alias="startupBoost", description="Extra resources while pods start."
    )
    target_ref: CrossVersionObjectReference = Field(
        alias="targetRef", description="The workload whose pods are managed."
    )
    update_policy: PodUpdatePolicy | None = Field(
        None, alias="updatePolicy", description="How recommendations are applied."
    )


class VerticalPodAutoscalerCondition(KubeModel):
    """One condition of a VPA, e.g. RecommendationProvided."""

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


class VerticalPodAutoscalerStatus(KubeModel):
    """Observed state of a VPA."""

    conditions: list[VerticalPodAutoscalerCondition] | None = Field(
        None,
        alias="conditions",
        description="Current conditions.",
        json_schema_extra=merge_list("type", list_type=None),
    )
    recommendation: RecommendedPodResources | None = Field(
        None, alias="recommendation", description="Latest recommendation."
    )


class VerticalPodAutoscaler(KubeModel):
    """Recommends, and optionally applies, container resource requests from observed usage."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(
            gvk=("autoscaling.k8s.io", "v1", "VerticalPodAutoscaler")
        )
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
    spec: VerticalPodAutoscalerSpec = Field(
        alias="spec", description="Target workload and update and resource policies."
    )
    status: VerticalPodAutoscalerStatus | None = Field(
        None, alias="status", description="Latest recommendation and conditions; read-only."
    )


class VerticalPodAutoscalerList(KubeModel):
    """A list of VerticalPodAutoscaler objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(
            gvk=("autoscaling.k8s.io", "v1", "VerticalPodAutoscalerList")
        )
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
    items: list[VerticalPodAutoscaler] = Field(
        alias="items", description="The VerticalPodAutoscaler objects."
    )
