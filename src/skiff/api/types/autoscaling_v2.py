"""The ``autoscaling/v2`` group: HorizontalPodAutoscaler with metrics and scaling behavior
(the stored version of HPAs).
"""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, Quantity, Time
from skiff.api.types._fields import atomic_list, merge_list, struct_extensions
from skiff.api.types.meta_v1 import LabelSelector, ListMeta, ObjectMeta

__all__ = [
    "ContainerResourceMetricSource",
    "ContainerResourceMetricStatus",
    "CrossVersionObjectReference",
    "ExternalMetricSource",
    "ExternalMetricStatus",
    "HPAScalingPolicy",
    "HPAScalingRules",
    "HorizontalPodAutoscaler",
    "HorizontalPodAutoscalerBehavior",
    "HorizontalPodAutoscalerCondition",
    "HorizontalPodAutoscalerList",
    "HorizontalPodAutoscalerSpec",
    "HorizontalPodAutoscalerStatus",
    "MetricIdentifier",
    "MetricSpec",
    "MetricStatus",
    "MetricTarget",
    "MetricValueStatus",
    "ObjectMetricSource",
    "ObjectMetricStatus",
    "PodsMetricSource",
    "PodsMetricStatus",
    "ResourceMetricSource",
    "ResourceMetricStatus",
]


class MetricTarget(KubeModel):
    average_utilization: int | None = Field(None, alias="averageUtilization")
    average_value: Quantity | None = Field(None, alias="averageValue")
    type: str = Field(alias="type")
    value: Quantity | None = Field(None, alias="value")


class ContainerResourceMetricSource(KubeModel):
    container: str = Field(alias="container")
    name: str = Field(alias="name")
    target: MetricTarget = Field(alias="target")


class MetricValueStatus(KubeModel):
    average_utilization: int | None = Field(None, alias="averageUtilization")
    average_value: Quantity | None = Field(None, alias="averageValue")
    value: Quantity | None = Field(None, alias="value")


class ContainerResourceMetricStatus(KubeModel):
    container: str = Field(alias="container")
    current: MetricValueStatus = Field(alias="current")
    name: str = Field(alias="name")


class CrossVersionObjectReference(KubeModel):
    api_version: str | None = Field(None, alias="apiVersion")
    kind: str = Field(alias="kind")
    name: str = Field(alias="name")


class MetricIdentifier(KubeModel):
    name: str = Field(alias="name")
    selector: LabelSelector | None = Field(None, alias="selector")


class ExternalMetricSource(KubeModel):
    metric: MetricIdentifier = Field(alias="metric")
    target: MetricTarget = Field(alias="target")


class ExternalMetricStatus(KubeModel):
    current: MetricValueStatus = Field(alias="current")
    metric: MetricIdentifier = Field(alias="metric")


class HPAScalingPolicy(KubeModel):
    period_seconds: int = Field(alias="periodSeconds")
    type: str = Field(alias="type")
    value: int = Field(alias="value")


class HPAScalingRules(KubeModel):
    policies: list[HPAScalingPolicy] | None = Field(
        None, alias="policies", json_schema_extra=atomic_list()
    )
    select_policy: str | None = Field(None, alias="selectPolicy")
    stabilization_window_seconds: int | None = Field(None, alias="stabilizationWindowSeconds")


class HorizontalPodAutoscalerBehavior(KubeModel):
    scale_down: HPAScalingRules | None = Field(None, alias="scaleDown")
    scale_up: HPAScalingRules | None = Field(None, alias="scaleUp")


class ObjectMetricSource(KubeModel):
    described_object: CrossVersionObjectReference = Field(alias="describedObject")
    metric: MetricIdentifier = Field(alias="metric")
    target: MetricTarget = Field(alias="target")


class PodsMetricSource(KubeModel):
    metric: MetricIdentifier = Field(alias="metric")
    target: MetricTarget = Field(alias="target")


class ResourceMetricSource(KubeModel):
    name: str = Field(alias="name")
    target: MetricTarget = Field(alias="target")


class MetricSpec(KubeModel):
    container_resource: ContainerResourceMetricSource | None = Field(
        None, alias="containerResource"
    )
    external: ExternalMetricSource | None = Field(None, alias="external")
    object: ObjectMetricSource | None = Field(None, alias="object")
    pods: PodsMetricSource | None = Field(None, alias="pods")
    resource: ResourceMetricSource | None = Field(None, alias="resource")
    type: str = Field(alias="type")


class HorizontalPodAutoscalerSpec(KubeModel):
    behavior: HorizontalPodAutoscalerBehavior | None = Field(None, alias="behavior")
    max_replicas: int = Field(alias="maxReplicas")
    metrics: list[MetricSpec] | None = Field(None, alias="metrics", json_schema_extra=atomic_list())
    min_replicas: int | None = Field(None, alias="minReplicas")
    scale_target_ref: CrossVersionObjectReference = Field(alias="scaleTargetRef")


class HorizontalPodAutoscalerCondition(KubeModel):
    last_transition_time: Time | None = Field(None, alias="lastTransitionTime")
    message: str | None = Field(None, alias="message")
    reason: str | None = Field(None, alias="reason")
    status: str = Field(alias="status")
    type: str = Field(alias="type")


class ObjectMetricStatus(KubeModel):
    current: MetricValueStatus = Field(alias="current")
    described_object: CrossVersionObjectReference = Field(alias="describedObject")
    metric: MetricIdentifier = Field(alias="metric")


class PodsMetricStatus(KubeModel):
    current: MetricValueStatus = Field(alias="current")
    metric: MetricIdentifier = Field(alias="metric")


class ResourceMetricStatus(KubeModel):
    current: MetricValueStatus = Field(alias="current")
    name: str = Field(alias="name")


class MetricStatus(KubeModel):
    container_resource: ContainerResourceMetricStatus | None = Field(
        None, alias="containerResource"
    )
    external: ExternalMetricStatus | None = Field(None, alias="external")
    object: ObjectMetricStatus | None = Field(None, alias="object")
    pods: PodsMetricStatus | None = Field(None, alias="pods")
    resource: ResourceMetricStatus | None = Field(None, alias="resource")
    type: str = Field(alias="type")


class HorizontalPodAutoscalerStatus(KubeModel):
    conditions: list[HorizontalPodAutoscalerCondition] | None = Field(
        None, alias="conditions", json_schema_extra=merge_list("type")
    )
    current_metrics: list[MetricStatus] | None = Field(
        None, alias="currentMetrics", json_schema_extra=atomic_list()
    )
    current_replicas: int | None = Field(None, alias="currentReplicas")
    desired_replicas: int = Field(alias="desiredReplicas")
    last_scale_time: Time | None = Field(None, alias="lastScaleTime")
    observed_generation: int | None = Field(None, alias="observedGeneration")


class HorizontalPodAutoscaler(KubeModel):
    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("autoscaling", "v2", "HorizontalPodAutoscaler"))
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
    spec: HorizontalPodAutoscalerSpec | None = Field(None, alias="spec")
    status: HorizontalPodAutoscalerStatus | None = Field(None, alias="status")


class HorizontalPodAutoscalerList(KubeModel):
    """A list of HorizontalPodAutoscaler objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(
            gvk=("autoscaling", "v2", "HorizontalPodAutoscalerList")
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
    items: list[HorizontalPodAutoscaler] = Field(
        alias="items", description="The HorizontalPodAutoscaler objects."
    )
