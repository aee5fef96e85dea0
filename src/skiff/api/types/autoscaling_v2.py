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
    """Target value of a metric."""

    average_utilization: int | None = Field(
        None,
        alias="averageUtilization",
        description="Target average use as a percentage of requests (Resource metrics).",
    )
    average_value: Quantity | None = Field(
        None, alias="averageValue", description="Target per-pod average value."
    )
    type: str = Field(alias="type", description="Utilization, Value or AverageValue.")
    value: Quantity | None = Field(None, alias="value", description="Target total value.")


class ContainerResourceMetricSource(KubeModel):
    """A resource metric (cpu, memory) of one container across the target's pods."""

    container: str = Field(alias="container", description="Name of the container.")
    name: str = Field(alias="name", description="Name of the resource.")
    target: MetricTarget = Field(alias="target", description="Target value.")


class MetricValueStatus(KubeModel):
    """Current value of a metric."""

    average_utilization: int | None = Field(
        None, alias="averageUtilization", description="Average use as a percentage of requests."
    )
    average_value: Quantity | None = Field(
        None, alias="averageValue", description="Per-pod average value."
    )
    value: Quantity | None = Field(None, alias="value", description="Total value.")


class ContainerResourceMetricStatus(KubeModel):
    """Current value of a container resource metric."""

    container: str = Field(alias="container", description="Name of the container.")
    current: MetricValueStatus = Field(alias="current", description="Current value.")
    name: str = Field(alias="name", description="Name of the resource.")


class CrossVersionObjectReference(KubeModel):
    """Identifies the scaled object by API version, kind and name."""

    api_version: str | None = Field(
        None, alias="apiVersion", description="API version of the target, e.g. apps/v1."
    )
    kind: str = Field(alias="kind", description="Kind of the target, e.g. Deployment.")
    name: str = Field(alias="name", description="Name of the target in the autoscaler's namespace.")


class MetricIdentifier(KubeModel):
    """Names a metric."""

    name: str = Field(alias="name", description="Name of the metric.")
    selector: LabelSelector | None = Field(
        None,
        alias="selector",
        description="Label selector narrowing the metric; unset uses the name alone.",
    )


class ExternalMetricSource(KubeModel):
    """A metric from outside the cluster."""

    metric: MetricIdentifier = Field(alias="metric", description="Which metric.")
    target: MetricTarget = Field(alias="target", description="Target value.")


class ExternalMetricStatus(KubeModel):
    """Current value of an external metric."""

    current: MetricValueStatus = Field(alias="current", description="Current value.")
    metric: MetricIdentifier = Field(alias="metric", description="Which metric.")


class HPAScalingPolicy(KubeModel):
    """One limit on how fast the replica count may change."""

    period_seconds: int = Field(
        alias="periodSeconds", description="Window (1-1800 seconds) the limit applies to."
    )
    type: str = Field(alias="type", description="Pods (absolute count) or Percent.")
    value: int = Field(alias="value", description="Amount allowed per period; must be positive.")


class HPAScalingRules(KubeModel):
    """Rate limits for one scaling direction."""

    policies: list[HPAScalingPolicy] | None = Field(
        None,
        alias="policies",
        description="Limits; selectPolicy picks which applies.",
        json_schema_extra=atomic_list(),
    )
    select_policy: str | None = Field(
        None, alias="selectPolicy", description="Max (the default), Min or Disabled."
    )
    stabilization_window_seconds: int | None = Field(
        None,
        alias="stabilizationWindowSeconds",
        description="Seconds of past recommendations considered to avoid flapping (0-3600); defaults to 0 up, 300 down.",
    )


class HorizontalPodAutoscalerBehavior(KubeModel):
    """Scaling rate limits per direction."""

    scale_down: HPAScalingRules | None = Field(
        None,
        alias="scaleDown",
        description="Rules for scaling down; default allows removing all surplus pods after a 300s window.",
    )
    scale_up: HPAScalingRules | None = Field(
        None,
        alias="scaleUp",
        description="Rules for scaling up; default allows doubling or adding 4 pods per 15s.",
    )


class ObjectMetricSource(KubeModel):
    """A metric describing one object, e.g. requests per second of an Ingress."""

    described_object: CrossVersionObjectReference = Field(
        alias="describedObject", description="The object."
    )
    metric: MetricIdentifier = Field(alias="metric", description="Which metric.")
    target: MetricTarget = Field(alias="target", description="Target value.")


class PodsMetricSource(KubeModel):
    """A custom metric averaged over the target's pods."""

    metric: MetricIdentifier = Field(alias="metric", description="Which metric.")
    target: MetricTarget = Field(
        alias="target", description="Target value; only AverageValue is allowed."
    )


class ResourceMetricSource(KubeModel):
    """A resource (cpu, memory) of the target's pods, summed over containers."""

    name: str = Field(alias="name", description="Name of the resource.")
    target: MetricTarget = Field(alias="target", description="Target value.")


class MetricSpec(KubeModel):
    """One metric to scale on; set the member matching type."""

    container_resource: ContainerResourceMetricSource | None = Field(
        None, alias="containerResource", description="A resource of one container of the pods."
    )
    external: ExternalMetricSource | None = Field(
        None, alias="external", description="A metric from outside the cluster."
    )
    object: ObjectMetricSource | None = Field(
        None, alias="object", description="A metric describing a single object."
    )
    pods: PodsMetricSource | None = Field(
        None, alias="pods", description="A metric averaged over the pods."
    )
    resource: ResourceMetricSource | None = Field(
        None, alias="resource", description="A resource (cpu, memory) of the pods."
    )
    type: str = Field(
        alias="type", description="ContainerResource, External, Object, Pods or Resource."
    )


class HorizontalPodAutoscalerSpec(KubeModel):
    """Desired behaviour of an autoscaler."""

    behavior: HorizontalPodAutoscalerBehavior | None = Field(
        None, alias="behavior", description="Scaling rate limits; defaults apply when unset."
    )
    max_replicas: int = Field(alias="maxReplicas", description="Upper bound of the replica count.")
    metrics: list[MetricSpec] | None = Field(
        None,
        alias="metrics",
        description="Metrics to track; the largest resulting replica count wins. Defaults to 80% average CPU.",
        json_schema_extra=atomic_list(),
    )
    min_replicas: int | None = Field(
        None, alias="minReplicas", description="Lower bound of the replica count; default 1."
    )
    scale_target_ref: CrossVersionObjectReference = Field(
        alias="scaleTargetRef", description="The object whose scale subresource is adjusted."
    )


class HorizontalPodAutoscalerCondition(KubeModel):
    """One condition of an autoscaler: AbleToScale, ScalingActive or ScalingLimited."""

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


class ObjectMetricStatus(KubeModel):
    """Current value of an object metric."""

    current: MetricValueStatus = Field(alias="current", description="Current value.")
    described_object: CrossVersionObjectReference = Field(
        alias="describedObject", description="The object."
    )
    metric: MetricIdentifier = Field(alias="metric", description="Which metric.")


class PodsMetricStatus(KubeModel):
    """Current value of a pods metric."""

    current: MetricValueStatus = Field(alias="current", description="Current value.")
    metric: MetricIdentifier = Field(alias="metric", description="Which metric.")


class ResourceMetricStatus(KubeModel):
    """Current value of a resource metric."""

    current: MetricValueStatus = Field(alias="current", description="Current value.")
    name: str = Field(alias="name", description="Name of the resource.")


class MetricStatus(KubeModel):
    """Current value of one metric; the member matching type is set."""

    container_resource: ContainerResourceMetricStatus | None = Field(
        None, alias="containerResource", description="A resource of one container of the pods."
    )
    external: ExternalMetricStatus | None = Field(
        None, alias="external", description="A metric from outside the cluster."
    )
    object: ObjectMetricStatus | None = Field(
        None, alias="object", description="A metric describing a single object."
    )
    pods: PodsMetricStatus | None = Field(
        None, alias="pods", description="A metric averaged over the pods."
    )
    resource: ResourceMetricStatus | None = Field(
        None, alias="resource", description="A resource of the pods."
    )
    type: str = Field(
        alias="type", description="ContainerResource, External, Object, Pods or Resource."
    )


class HorizontalPodAutoscalerStatus(KubeModel):
    """Observed state of an autoscaler."""

    conditions: list[HorizontalPodAutoscalerCondition] | None = Field(
        None,
        alias="conditions",
        description="Current conditions of the autoscaler.",
        json_schema_extra=merge_list("type"),
    )
    current_metrics: list[MetricStatus] | None = Field(
        None,
        alias="currentMetrics",
        description="Last observed value of each metric.",
        json_schema_extra=atomic_list(),
    )
    current_replicas: int | None = Field(
        None, alias="currentReplicas", description="Replica count last seen."
    )
    desired_replicas: int = Field(
        alias="desiredReplicas", description="Replica count the autoscaler last computed."
    )
    last_scale_time: Time | None = Field(
        None, alias="lastScaleTime", description="When the replica count was last changed."
    )
    observed_generation: int | None = Field(
        None, alias="observedGeneration", description="The generation most recently acted on."
    )


class HorizontalPodAutoscaler(KubeModel):
    """Scales a workload's replica count to keep metrics near their targets."""

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
    spec: HorizontalPodAutoscalerSpec | None = Field(
        None,
        alias="spec",
        description="Target object, replica bounds, metrics and scaling behaviour.",
    )
    status: HorizontalPodAutoscalerStatus | None = Field(
        None, alias="status", description="Most recently observed state; read-only."
    )


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
