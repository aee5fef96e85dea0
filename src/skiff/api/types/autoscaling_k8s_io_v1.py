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
    duration: str | None = Field(None, alias="duration")
    factor: int | None = Field(None, alias="factor")
    quantity: Quantity | None = Field(None, alias="quantity")
    type: str = Field(alias="type")


class StartupBoost(KubeModel):
    cpu: GenericStartupBoost | None = Field(None, alias="cpu")


class ContainerResourcePolicy(KubeModel):
    container_name: str | None = Field(None, alias="containerName")
    controlled_resources: list[str] | None = Field(
        None, alias="controlledResources", json_schema_extra=patch_strategy("merge")
    )
    controlled_values: str | None = Field(None, alias="controlledValues")
    max_allowed: dict[str, Quantity] | None = Field(None, alias="maxAllowed")
    min_allowed: dict[str, Quantity] | None = Field(None, alias="minAllowed")
    mode: str | None = Field(None, alias="mode")
    oom_bump_up_ratio: Quantity | None = Field(None, alias="oomBumpUpRatio")
    oom_min_bump_up: Quantity | None = Field(None, alias="oomMinBumpUp")
    startup_boost: StartupBoost | None = Field(None, alias="startupBoost")


class EvictionRequirement(KubeModel):
    change_requirement: str = Field(alias="changeRequirement")
    resources: list[str] = Field(alias="resources")


class PodResourcePolicy(KubeModel):
    container_policies: list[ContainerResourcePolicy] | None = Field(
        None,
        alias="containerPolicies",
        json_schema_extra=merge_list("containerName", list_type=None),
    )


class PodUpdatePolicy(KubeModel):
    eviction_requirements: list[EvictionRequirement] | None = Field(
        None, alias="evictionRequirements"
    )
    min_replicas: int | None = Field(None, alias="minReplicas")
    update_mode: str | None = Field(None, alias="updateMode")


class RecommendedContainerResources(KubeModel):
    container_name: str | None = Field(None, alias="containerName")
    lower_bound: dict[str, Quantity] | None = Field(None, alias="lowerBound")
    target: dict[str, Quantity] = Field(alias="target")
    uncapped_target: dict[str, Quantity] | None = Field(None, alias="uncappedTarget")
    upper_bound: dict[str, Quantity] | None = Field(None, alias="upperBound")


class RecommendedPodResources(KubeModel):
    container_recommendations: list[RecommendedContainerResources] | None = Field(
        None, alias="containerRecommendations"
    )


class VerticalPodAutoscalerRecommenderSelector(KubeModel):
    name: str = Field(alias="name")


class VerticalPodAutoscalerSpec(KubeModel):
    recommenders: list[VerticalPodAutoscalerRecommenderSelector] | None = Field(
        None, alias="recommenders"
    )
    resource_policy: PodResourcePolicy | None = Field(None, alias="resourcePolicy")
    startup_boost: StartupBoost | None = Field(None, alias="startupBoost")
    target_ref: CrossVersionObjectReference = Field(alias="targetRef")
    update_policy: PodUpdatePolicy | None = Field(None, alias="updatePolicy")


class VerticalPodAutoscalerCondition(KubeModel):
    last_transition_time: Time | None = Field(None, alias="lastTransitionTime")
    message: str | None = Field(None, alias="message")
    reason: str | None = Field(None, alias="reason")
    status: str = Field(alias="status")
    type: str = Field(alias="type")


class VerticalPodAutoscalerStatus(KubeModel):
    conditions: list[VerticalPodAutoscalerCondition] | None = Field(
        None, alias="conditions", json_schema_extra=merge_list("type", list_type=None)
    )
    recommendation: RecommendedPodResources | None = Field(None, alias="recommendation")


class VerticalPodAutoscaler(KubeModel):
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
    spec: VerticalPodAutoscalerSpec = Field(alias="spec")
    status: VerticalPodAutoscalerStatus | None = Field(None, alias="status")


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
