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
    """Matches a failure by container exit codes."""

    container_name: str | None = Field(
        None,
        alias="containerName",
        description="Only check this container; all containers when unset.",
    )
    operator: str = Field(alias="operator", description="In or NotIn.")
    values: list[int] = Field(
        alias="values",
        description="Exit codes (at most 255, 0 not allowed with In).",
        json_schema_extra=set_list(),
    )


class PodFailurePolicyOnPodConditionsPattern(KubeModel):
    """Matches a failure by a pod condition."""

    status: str = Field(
        alias="status", description="Required status of the condition; default True."
    )
    type: str = Field(alias="type", description="Condition type, e.g. DisruptionTarget.")


class PodFailurePolicyRule(KubeModel):
    """One rule: an action and what it matches (exit codes or pod conditions)."""

    action: str = Field(
        alias="action",
        description="FailJob, FailIndex, Ignore (do not count) or Count (count against the backoff limit).",
    )
    on_exit_codes: PodFailurePolicyOnExitCodesRequirement | None = Field(
        None, alias="onExitCodes", description="Match on container exit codes."
    )
    on_pod_conditions: list[PodFailurePolicyOnPodConditionsPattern] | None = Field(
        None,
        alias="onPodConditions",
        description="Match on pod conditions.",
        json_schema_extra=atomic_list(),
    )


class PodFailurePolicy(KubeModel):
    """Rules deciding what a pod failure means for a Job."""

    rules: list[PodFailurePolicyRule] = Field(
        alias="rules",
        description="Rules evaluated in order; the first match decides.",
        json_schema_extra=atomic_list(),
    )


class SuccessPolicyRule(KubeModel):
    """One success rule."""

    succeeded_count: int | None = Field(
        None,
        alias="succeededCount",
        description="Minimum successful indexes (within succeededIndexes if set).",
    )
    succeeded_indexes: str | None = Field(
        None,
        alias="succeededIndexes",
        description="Indexes that must succeed, as a range list such as 0,2-4.",
    )


class SuccessPolicy(KubeModel):
    """Rules declaring an Indexed Job successful early."""

    rules: list[SuccessPolicyRule] = Field(
        alias="rules",
        description="Rules; any match makes the Job succeed.",
        json_schema_extra=atomic_list(),
    )


class JobSpec(KubeModel):
    """Desired behaviour of a Job."""

    active_deadline_seconds: int | None = Field(
        None,
        alias="activeDeadlineSeconds",
        description="Seconds the Job may run (from its start) before it is failed and its pods killed.",
    )
    backoff_limit: int | None = Field(
        None,
        alias="backoffLimit",
        description="Retries before the Job is marked failed; default 6.",
    )
    backoff_limit_per_index: int | None = Field(
        None,
        alias="backoffLimitPerIndex",
        description="For Indexed Jobs: retries allowed per index.",
    )
    completion_mode: str | None = Field(
        None,
        alias="completionMode",
        description="NonIndexed (the default) or Indexed (each pod gets a completion index).",
    )
    completions: int | None = Field(
        None,
        alias="completions",
        description="Successful pods needed; unset means any one success completes the Job.",
    )
    managed_by: str | None = Field(
        None,
        alias="managedBy",
        description="Controller that manages the Job; defaults to the built-in controller. Immutable.",
    )
    manual_selector: bool | None = Field(
        None,
        alias="manualSelector",
        description="Let the user set the selector instead of generating one; default false.",
    )
    max_failed_indexes: int | None = Field(
        None,
        alias="maxFailedIndexes",
        description="For Indexed Jobs with backoffLimitPerIndex: failed indexes allowed before the Job fails.",
    )
    parallelism: int | None = Field(
        None, alias="parallelism", description="Maximum pods running at once; default 1."
    )
    pod_failure_policy: PodFailurePolicy | None = Field(
        None,
        alias="podFailurePolicy",
        description="Rules for handling pod failures by exit code or condition.",
    )
    pod_replacement_policy: str | None = Field(
        None,
        alias="podReplacementPolicy",
        description="TerminatingOrFailed or Failed: when to create replacement pods.",
    )
    selector: LabelSelector | None = Field(
        None, alias="selector", description="Labels of the Job's pods; generated by default."
    )
    success_policy: SuccessPolicy | None = Field(
        None,
        alias="successPolicy",
        description="Rules declaring the Job successful before all indexes finish.",
    )
    suspend: bool | None = Field(
        None,
        alias="suspend",
        description="While true no pods are created and running ones are stopped; default false.",
    )
    template: PodTemplateSpec = Field(
        alias="template",
        description="Template of the pods; restartPolicy must be Never or OnFailure.",
    )
    ttl_seconds_after_finished: int | None = Field(
        None,
        alias="ttlSecondsAfterFinished",
        description="Seconds after finishing before the Job is deleted automatically.",
    )


class JobTemplateSpec(KubeModel):
    """Template of the Jobs a CronJob creates."""

    metadata: ObjectMeta | None = Field(
        None, alias="metadata", description="Metadata given to created Jobs."
    )
    spec: JobSpec | None = Field(None, alias="spec", description="Spec of created Jobs.")


class CronJobSpec(KubeModel):
    """Desired behaviour of a CronJob."""

    concurrency_policy: str | None = Field(
        None,
        alias="concurrencyPolicy",
        description="Allow (the default), Forbid (skip a run while one is active) or Replace.",
    )
    failed_jobs_history_limit: int | None = Field(
        None, alias="failedJobsHistoryLimit", description="Failed Jobs to keep; default 1."
    )
    job_template: JobTemplateSpec = Field(
        alias="jobTemplate", description="Template of the Jobs to create."
    )
    schedule: str = Field(
        alias="schedule", description="Schedule in cron format, e.g. */5 * * * *."
    )
    starting_deadline_seconds: int | None = Field(
        None,
        alias="startingDeadlineSeconds",
        description="Seconds after a missed start time within which the Job may still start.",
    )
    successful_jobs_history_limit: int | None = Field(
        None, alias="successfulJobsHistoryLimit", description="Successful Jobs to keep; default 3."
    )
    suspend: bool | None = Field(
        None, alias="suspend", description="Skip future runs while true; default false."
    )
    time_zone: str | None = Field(
        None,
        alias="timeZone",
        description="IANA time zone of the schedule; defaults to the controller's local time zone.",
    )


class CronJobStatus(KubeModel):
    """Observed state of a CronJob."""

    active: list[ObjectReference] | None = Field(
        None, alias="active", description="Jobs currently running.", json_schema_extra=atomic_list()
    )
    last_schedule_time: Time | None = Field(
        None, alias="lastScheduleTime", description="When a Job was last scheduled."
    )
    last_successful_time: Time | None = Field(
        None, alias="lastSuccessfulTime", description="When a Job last completed successfully."
    )


class CronJob(KubeModel):
    """Creates Jobs on a repeating schedule."""

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
    spec: CronJobSpec | None = Field(None, alias="spec", description="Schedule and Job template.")
    status: CronJobStatus | None = Field(
        None, alias="status", description="Most recently observed state; read-only."
    )


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
    """One condition of a Job, e.g. Complete, Failed or Suspended."""

    last_probe_time: Time | None = Field(
        None, alias="lastProbeTime", description="When the condition was last checked."
    )
    last_transition_time: Time | None = Field(
        None, alias="lastTransitionTime", description="When the status last changed."
    )
    message: str | None = Field(
        None, alias="message", description="Human-readable detail of the last transition."
    )
    reason: str | None = Field(
        None, alias="reason", description="CamelCase reason, e.g. BackoffLimitExceeded."
    )
    status: str = Field(alias="status", description="True, False or Unknown.")
    type: str = Field(alias="type", description="The condition's name.")


class UncountedTerminatedPods(KubeModel):
    """UIDs of finished pods the Job controller has not counted yet."""

    failed: list[str] | None = Field(
        None, alias="failed", description="UIDs of failed pods.", json_schema_extra=set_list()
    )
    succeeded: list[str] | None = Field(
        None, alias="succeeded", description="UIDs of succeeded pods.", json_schema_extra=set_list()
    )


class JobStatus(KubeModel):
    """Observed state of a Job."""

    active: int | None = Field(
        None, alias="active", description="Pods currently pending or running."
    )
    completed_indexes: str | None = Field(
        None,
        alias="completedIndexes",
        description="Completed indexes of an Indexed Job, as a range list such as 1,3-5.",
    )
    completion_time: Time | None = Field(
        None, alias="completionTime", description="When the Job completed."
    )
    conditions: list[JobCondition] | None = Field(
        None,
        alias="conditions",
        description="Current conditions of the Job.",
        json_schema_extra=merge_list("type", list_type="atomic"),
    )
    failed: int | None = Field(None, alias="failed", description="Pods that failed.")
    failed_indexes: str | None = Field(
        None,
        alias="failedIndexes",
        description="Failed indexes of an Indexed Job with backoffLimitPerIndex.",
    )
    ready: int | None = Field(None, alias="ready", description="Active pods that are ready.")
    start_time: Time | None = Field(
        None, alias="startTime", description="When the Job controller started processing the Job."
    )
    succeeded: int | None = Field(None, alias="succeeded", description="Pods that succeeded.")
    terminating: int | None = Field(
        None, alias="terminating", description="Pods terminating (with a deletion timestamp)."
    )
    uncounted_terminated_pods: UncountedTerminatedPods | None = Field(
        None,
        alias="uncountedTerminatedPods",
        description="UIDs of finished pods not yet added to the counters.",
    )


class Job(KubeModel):
    """Runs pods until a number of them finish successfully."""

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
    spec: JobSpec | None = Field(
        None,
        alias="spec",
        description="Desired behaviour: template, completions, parallelism and failure handling.",
    )
    status: JobStatus | None = Field(
        None, alias="status", description="Most recently observed state; read-only."
    )


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
