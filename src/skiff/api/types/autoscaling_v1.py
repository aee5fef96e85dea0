"""The ``autoscaling/v1`` group: the CPU-only HorizontalPodAutoscaler and the
Scale subresource body.
"""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, Time
from skiff.api.types._fields import struct_extensions
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = [
    "CrossVersionObjectReference",
    "HorizontalPodAutoscaler",
    "HorizontalPodAutoscalerList",
    "HorizontalPodAutoscalerSpec",
    "HorizontalPodAutoscalerStatus",
    "Scale",
    "ScaleSpec",
    "ScaleStatus",
]


class CrossVersionObjectReference(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    api_version: str | None = Field(None, alias="apiVersion")
    kind: str = Field(alias="kind")
    name: str = Field(alias="name")


class HorizontalPodAutoscalerSpec(KubeModel):
    max_replicas: int = Field(alias="maxReplicas")
    min_replicas: int | None = Field(None, alias="minReplicas")
    scale_target_ref: CrossVersionObjectReference = Field(alias="scaleTargetRef")
    target_cpu_utilization_percentage: int | None = Field(
        None, alias="targetCPUUtilizationPercentage"
    )


class HorizontalPodAutoscalerStatus(KubeModel):
    current_cpu_utilization_percentage: int | None = Field(
        None, alias="currentCPUUtilizationPercentage"
    )
    current_replicas: int = Field(alias="currentReplicas")
    desired_replicas: int = Field(alias="desiredReplicas")
    last_scale_time: Time | None = Field(None, alias="lastScaleTime")
    observed_generation: int | None = Field(None, alias="observedGeneration")


class HorizontalPodAutoscaler(KubeModel):
    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("autoscaling", "v1", "HorizontalPodAutoscaler"))
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
            gvk=("autoscaling", "v1", "HorizontalPodAutoscalerList")
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


class ScaleSpec(KubeModel):
    replicas: int | None = Field(None, alias="replicas")


class ScaleStatus(KubeModel):
    replicas: int = Field(alias="replicas")
    selector: str | None = Field(None, alias="selector")


class Scale(KubeModel):
    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("autoscaling", "v1", "Scale"))
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
    spec: ScaleSpec | None = Field(None, alias="spec")
    status: ScaleStatus | None = Field(None, alias="status")
