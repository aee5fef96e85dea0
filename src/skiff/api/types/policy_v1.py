"""The ``policy/v1`` group: PodDisruptionBudget and Eviction."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import IntOrString, KubeModel, Time
from skiff.api.types._fields import merge_list, patch_strategy, struct_extensions
from skiff.api.types.meta_v1 import Condition, DeleteOptions, LabelSelector, ListMeta, ObjectMeta

__all__ = [
    "Eviction",
    "PodDisruptionBudget",
    "PodDisruptionBudgetList",
    "PodDisruptionBudgetSpec",
    "PodDisruptionBudgetStatus",
]


class Eviction(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("policy", "v1", "Eviction")))
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
    delete_options: DeleteOptions | None = Field(None, alias="deleteOptions")


class PodDisruptionBudgetSpec(KubeModel):
    max_unavailable: IntOrString | None = Field(None, alias="maxUnavailable")
    min_available: IntOrString | None = Field(None, alias="minAvailable")
    selector: LabelSelector | None = Field(
        None, alias="selector", json_schema_extra=patch_strategy("replace")
    )
    unhealthy_pod_eviction_policy: str | None = Field(None, alias="unhealthyPodEvictionPolicy")


class PodDisruptionBudgetStatus(KubeModel):
    conditions: list[Condition] | None = Field(
        None, alias="conditions", json_schema_extra=merge_list("type")
    )
    current_healthy: int = Field(alias="currentHealthy")
    desired_healthy: int = Field(alias="desiredHealthy")
    disrupted_pods: dict[str, Time] | None = Field(None, alias="disruptedPods")
    disruptions_allowed: int = Field(alias="disruptionsAllowed")
    expected_pods: int = Field(alias="expectedPods")
    observed_generation: int | None = Field(None, alias="observedGeneration")


class PodDisruptionBudget(KubeModel):
    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("policy", "v1", "PodDisruptionBudget"))
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
    spec: PodDisruptionBudgetSpec | None = Field(None, alias="spec")
    status: PodDisruptionBudgetStatus | None = Field(None, alias="status")


class PodDisruptionBudgetList(KubeModel):
    """A list of PodDisruptionBudget objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("policy", "v1", "PodDisruptionBudgetList"))
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
    items: list[PodDisruptionBudget] = Field(
        alias="items", description="The PodDisruptionBudget objects."
    )
