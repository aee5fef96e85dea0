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
    """Identifies the scaled object by API version, kind and name."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    api_version: str | None = Field(
        None, alias="apiVersion", description="API version of the target, e.g. apps/v1."
    )
    kind: str = Field(alias="kind", description="Kind of the target, e.g. Deployment.")
    name: str = Field(alias="name", description="Name of the target in the autoscaler's namespace.")


class HorizontalPodAutoscalerSpec(KubeModel):
    """Desired behaviour of a v1 autoscaler."""

    max_replicas: int = Field(alias="maxReplicas", description="Upper bound of the replica count.")
    min_replicas: int | None = Field(
        None, alias="minReplicas", description="Lower bound of the replica count; default 1."
    )
    scale_target_ref: CrossVersionObjectReference = Field(
        alias="scaleTargetRef", description="The object whose scale subresource is adjusted."
    )
    target_cpu_utilization_percentage: int | None = Field(
        None,
        alias="targetCPUUtilizationPercentage",
        description="Target average CPU use as a percentage of requests; defaults to a system policy (80).",
    )


class HorizontalPodAutoscalerStatus(KubeModel):
    """Observed state of a v1 autoscaler."""

    current_cpu_utilization_percentage: int | None = Field(
        None,
        alias="currentCPUUtilizationPercentage",
        description="Current average CPU use as a percentage of requests.",
    )
    current_replicas: int = Field(alias="currentReplicas", description="Replica count last seen.")
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
    """Scales a workload's replica count to keep average CPU utilization near a target (v1 API)."""

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
    spec: HorizontalPodAutoscalerSpec | None = Field(
        None, alias="spec", description="Target object, replica bounds and CPU target."
    )
    status: HorizontalPodAutoscalerStatus | None = Field(
        None, alias="status", description="Most recently observed state; read-only."
    )


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
    """Desired scale."""

    replicas: int | None = Field(None, alias="replicas", description="Desired number of replicas.")


class ScaleStatus(KubeModel):
    """Observed scale."""

    replicas: int = Field(alias="replicas", description="Number of replicas observed.")
    selector: str | None = Field(
        None,
        alias="selector",
        description="Label selector of the pods, in query string form (e.g. app=web).",
    )


class Scale(KubeModel):
    """The body of a scale subresource: desired and observed replica counts of a workload."""

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
    spec: ScaleSpec | None = Field(None, alias="spec", description="Desired replica count.")
    status: ScaleStatus | None = Field(
        None, alias="status", description="Observed replica count and pod selector; read-only."
    )
