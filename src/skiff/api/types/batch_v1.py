"""The ``batch/v1`` group: Job and CronJob."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, Time
from skiff.api.types._fields import atomic_list, merge_list, set_list, struct_extensions
from skiff.api.types.core_v1 import ObjectReference, PodTemplateSpec
from skiff.api.types.meta_v1 import LabelSelector, ListMeta, ObjectMeta

__all__ = [
    "CronJob",
    "CronJobList",
    "CronJobSpec",
    "CronJobStatus",
    "Job",
    "JobCondition",
    "JobList",
    "JobSpec",
    "JobStatus",
    "JobTemplateSpec",
    "PodFailurePolicy",
    "PodFailurePolicyOnExitCodesRequirement",
    "PodFailurePolicyOnPodConditionsPattern",
    "PodFailurePolicyRule",
    "SuccessPolicy",
    "SuccessPolicyRule",
    "UncountedTerminatedPods",
]


class PodFailurePolicyOnExitCodesRequirement(KubeModel):
    container_name: str | None = Field(None, alias="containerName")
    operator: str = Field(alias="operator")
    values: list[int] = Field(alias="values", json_schema_extra=set_list())


class PodFailurePolicyOnPodConditionsPattern(KubeModel):
    status: str = Field(alias="status")
    type: str = Field(alias="type")


class PodFailurePolicyRule(KubeModel):
    action: str = Field(alias="action")
    on_exit_codes: PodFailurePolicyOnExitCodesRequirement | None = Field(None, alias="onExitCodes")
    on_pod_conditions: list[PodFailurePolicyOnPodConditionsPattern] | None = Field(
        None, alias="onPodConditions", json_schema_extra=atomic_list()
    )


class PodFailurePolicy(KubeModel):
    rules: list[PodFailurePolicyRule] = Field(alias="rules", json_schema_extra=atomic_list())


class SuccessPolicyRule(KubeModel):
    succeeded_count: int | None = Field(None, alias="succeededCount")
    succeeded_indexes: str | None = Field(None, alias="succeededIndexes")


class SuccessPolicy(KubeModel):
    rules: list[SuccessPolicyRule] = Field(alias="rules", json_schema_extra=atomic_list())


class JobSpec(KubeModel):
    active_deadline_seconds: int | None = Field(None, alias="activeDeadlineSeconds")
    backoff_limit: int | None = Field(None, alias="backoffLimit")
    backoff_limit_per_index: int | None = Field(None, alias="backoffLimitPerIndex")
    completion_mode: str | None = Field(None, alias="completionMode")
    completions: int | None = Field(None, alias="completions")
    managed_by: str | None = Field(None, alias="managedBy")
    manual_selector: bool | None = Field(None, alias="manualSelector")
    max_failed_indexes: int | None = Field(None, alias="maxFailedIndexes")
    parallelism: int | None = Field(None, alias="parallelism")
    pod_failure_policy: PodFailurePolicy | None = Field(None, alias="podFailurePolicy")
    pod_replacement_policy: str | None = Field(None, alias="podReplacementPolicy")
    selector: LabelSelector | None = Field(None, alias="selector")
    success_policy: SuccessPolicy | None = Field(None, alias="successPolicy")
    suspend: bool | None = Field(None, alias="suspend")
    template: PodTemplateSpec = Field(alias="template")
    ttl_seconds_after_finished: int | None = Field(None, alias="ttlSecondsAfterFinished")


class JobTemplateSpec(KubeModel):
    metadata: ObjectMeta | None = Field(None, alias="metadata")
    spec: JobSpec | None = Field(None, alias="spec")


class CronJobSpec(KubeModel):
    concurrency_policy: str | None = Field(None, alias="concurrencyPolicy")
    failed_jobs_history_limit: int | None = Field(None, alias="failedJobsHistoryLimit")
    job_template: JobTemplateSpec = Field(alias="jobTemplate")
    schedule: str = Field(alias="schedule")
    starting_deadline_seconds: int | None = Field(None, alias="startingDeadlineSeconds")
    successful_jobs_history_limit: int | None = Field(None, alias="successfulJobsHistoryLimit")
    suspend: bool | None = Field(None, alias="suspend")
    time_zone: str | None = Field(None, alias="timeZone")


class CronJobStatus(KubeModel):
    active: list[ObjectReference] | None = Field(
        None, alias="active", json_schema_extra=atomic_list()
    )
    last_schedule_time: Time | None = Field(None, alias="lastScheduleTime")
    last_successful_time: Time | None = Field(None, alias="lastSuccessfulTime")


class CronJob(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("batch", "v1", "CronJob")))
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
    spec: CronJobSpec | None = Field(None, alias="spec")
    status: CronJobStatus | None = Field(None, alias="status")


class CronJobList(KubeModel):
    """A list of CronJob objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("batch", "v1", "CronJobList"))
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
    items: list[CronJob] = Field(alias="items", description="The CronJob objects.")


class JobCondition(KubeModel):
    last_probe_time: Time | None = Field(None, alias="lastProbeTime")
    last_transition_time: Time | None = Field(None, alias="lastTransitionTime")
    message: str | None = Field(None, alias="message")
    reason: str | None = Field(None, alias="reason")
    status: str = Field(alias="status")
    type: str = Field(alias="type")


class UncountedTerminatedPods(KubeModel):
    failed: list[str] | None = Field(None, alias="failed", json_schema_extra=set_list())
    succeeded: list[str] | None = Field(None, alias="succeeded", json_schema_extra=set_list())


class JobStatus(KubeModel):
    active: int | None = Field(None, alias="active")
    completed_indexes: str | None = Field(None, alias="completedIndexes")
    completion_time: Time | None = Field(None, alias="completionTime")
    conditions: list[JobCondition] | None = Field(
        None, alias="conditions", json_schema_extra=merge_list("type", list_type="atomic")
    )
    failed: int | None = Field(None, alias="failed")
    failed_indexes: str | None = Field(None, alias="failedIndexes")
    ready: int | None = Field(None, alias="ready")
    start_time: Time | None = Field(None, alias="startTime")
    succeeded: int | None = Field(None, alias="succeeded")
    terminating: int | None = Field(None, alias="terminating")
    uncounted_terminated_pods: UncountedTerminatedPods | None = Field(
        None, alias="uncountedTerminatedPods"
    )


class Job(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("batch", "v1", "Job")))
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
    spec: JobSpec | None = Field(None, alias="spec")
    status: JobStatus | None = Field(None, alias="status")


class JobList(KubeModel):
    """A list of Job objects, as returned by the list endpoint."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("batch", "v1", "JobList")))
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
    items: list[Job] = Field(alias="items", description="The Job objects.")
