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
    """Requests the graceful eviction of a pod, honouring PodDisruptionBudgets; the body of POST pods/{name}/eviction."""

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
    delete_options: DeleteOptions | None = Field(
        None, alias="deleteOptions", description="Options for the deletion of the pod."
    )


class PodDisruptionBudgetSpec(KubeModel):
    """Desired disruption budget."""

    max_unavailable: IntOrString | None = Field(
        None,
        alias="maxUnavailable",
        description="Pods (count or percentage) that may be unavailable after an eviction; exclusive with minAvailable.",
    )
    min_available: IntOrString | None = Field(
        None,
        alias="minAvailable",
        description="Pods (count or percentage) that must stay available after an eviction.",
    )
    selector: LabelSelector | None = Field(
        None,
        alias="selector",
        description="Pods covered; empty selects all pods in the namespace.",
        json_schema_extra=patch_strategy("replace"),
    )
    unhealthy_pod_eviction_policy: str | None = Field(
        None,
        alias="unhealthyPodEvictionPolicy",
        description="IfHealthyBudget (the default) or AlwaysAllow: when unhealthy pods may be evicted.",
    )


class PodDisruptionBudgetStatus(KubeModel):
    """Observed disruption budget."""

    conditions: list[Condition] | None = Field(
        None,
        alias="conditions",
        description="Current conditions, e.g. DisruptionAllowed.",
        json_schema_extra=merge_list("type"),
    )
    current_healthy: int = Field(alias="currentHealthy", description="Healthy pods now.")
    desired_healthy: int = Field(alias="desiredHealthy", description="Healthy pods required.")
    disrupted_pods: dict[str, Time] | None = Field(
        None,
        alias="disruptedPods",
        description="Pods evicted but not yet gone, with the eviction time.",
    )
    disruptions_allowed: int = Field(
        alias="disruptionsAllowed", description="Evictions currently allowed."
    )
    expected_pods: int = Field(alias="expectedPods", description="Pods counted by the budget.")
    observed_generation: int | None = Field(
        None, alias="observedGeneration", description="The generation most recently acted on."
    )


class PodDisruptionBudget(KubeModel):
    """Limits how many pods of an application voluntary disruptions (evictions) may take down at once."""

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
    spec: PodDisruptionBudgetSpec | None = Field(
        None, alias="spec", description="Selected pods and the allowed disruption."
    )
    status: PodDisruptionBudgetStatus | None = Field(
        None, alias="status", description="Current disruption budget; read-only."
    )


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
