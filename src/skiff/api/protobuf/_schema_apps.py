"""Schema tables for ``apps/v1`` and ``batch/v1`` workloads.

Transcribed from k8s.io/api/apps/v1 and k8s.io/api/batch/v1 generated.proto; the text format is
described in :mod:`skiff.api.protobuf._schema`.
"""

from __future__ import annotations

__all__ = ["APPS", "BATCH"]

APPS = (
    "apps/v1",
    """
ControllerRevision: metadata=1:ObjectMeta data=2:RawExtension revision=3:i64!
DaemonSet: metadata=1:ObjectMeta spec=2:DaemonSetSpec status=3:DaemonSetStatus
DaemonSetCondition: type=1! status=2! lastTransitionTime=3:Time reason=4 message=5
DaemonSetSpec: selector=1:LabelSelector template=2:PodTemplateSpec updateStrategy=3:DaemonSetUpdateStrategy
  minReadySeconds=4:i32 revisionHistoryLimit=6:i32*
DaemonSetStatus: currentNumberScheduled=1:i32! numberMisscheduled=2:i32! desiredNumberScheduled=3:i32!
  numberReady=4:i32! observedGeneration=5:i64 updatedNumberScheduled=6:i32 numberAvailable=7:i32
  numberUnavailable=8:i32 collisionCount=9:i32* conditions=10:[]DaemonSetCondition
DaemonSetUpdateStrategy: type=1 rollingUpdate=2:RollingUpdateDaemonSet
Deployment: metadata=1:ObjectMeta spec=2:DeploymentSpec status=3:DeploymentStatus
DeploymentCondition: type=1! status=2! lastUpdateTime=6:Time lastTransitionTime=7:Time reason=4 message=5
DeploymentSpec: replicas=1:i32* selector=2:LabelSelector template=3:PodTemplateSpec strategy=4:DeploymentStrategy
  minReadySeconds=5:i32 revisionHistoryLimit=6:i32* paused=7:bool progressDeadlineSeconds=9:i32*
DeploymentStatus: observedGeneration=1:i64 replicas=2:i32 updatedReplicas=3:i32 readyReplicas=7:i32
  availableReplicas=4:i32 unavailableReplicas=5:i32 terminatingReplicas=9:i32*
  conditions=6:[]DeploymentCondition collisionCount=8:i32*
DeploymentStrategy: type=1 rollingUpdate=2:RollingUpdateDeployment
ReplicaSet: metadata=1:ObjectMeta spec=2:ReplicaSetSpec status=3:ReplicaSetStatus
ReplicaSetCondition: type=1! status=2! lastTransitionTime=3:Time reason=4 message=5
ReplicaSetSpec: replicas=1:i32* minReadySeconds=4:i32 selector=2:LabelSelector template=3:PodTemplateSpec
ReplicaSetStatus: replicas=1:i32! fullyLabeledReplicas=2:i32 readyReplicas=4:i32 availableReplicas=5:i32
  terminatingReplicas=7:i32* observedGeneration=3:i64 conditions=6:[]ReplicaSetCondition
RollingUpdateDaemonSet: maxUnavailable=1:IntOrString maxSurge=2:IntOrString
RollingUpdateDeployment: maxUnavailable=1:IntOrString maxSurge=2:IntOrString
RollingUpdateStatefulSetStrategy: partition=1:i32* maxUnavailable=2:IntOrString
StatefulSet: metadata=1:ObjectMeta spec=2:StatefulSetSpec status=3:StatefulSetStatus
StatefulSetCondition: type=1! status=2! lastTransitionTime=3:Time reason=4 message=5
StatefulSetOrdinals: start=1:i32
StatefulSetPersistentVolumeClaimRetentionPolicy: whenDeleted=1 whenScaled=2
StatefulSetSpec: replicas=1:i32* selector=2:LabelSelector template=3:PodTemplateSpec
  volumeClaimTemplates=4:[]PersistentVolumeClaim serviceName=5 podManagementPolicy=6
  updateStrategy=7:StatefulSetUpdateStrategy revisionHistoryLimit=8:i32* minReadySeconds=9:i32
  persistentVolumeClaimRetentionPolicy=10:StatefulSetPersistentVolumeClaimRetentionPolicy
  ordinals=11:StatefulSetOrdinals
StatefulSetStatus: observedGeneration=1:i64 replicas=2:i32! readyReplicas=3:i32 currentReplicas=4:i32
  updatedReplicas=5:i32 currentRevision=6 updateRevision=7 collisionCount=9:i32*
  conditions=10:[]StatefulSetCondition availableReplicas=11:i32!
StatefulSetUpdateStrategy: type=1 rollingUpdate=2:RollingUpdateStatefulSetStrategy
""",
)


BATCH = (
    "batch/v1",
    """
CronJob: metadata=1:ObjectMeta spec=2:CronJobSpec status=3:CronJobStatus
CronJobSpec: schedule=1! timeZone=8:str* startingDeadlineSeconds=2:i64* concurrencyPolicy=3 suspend=4:bool*
  jobTemplate=5:JobTemplateSpec successfulJobsHistoryLimit=6:i32* failedJobsHistoryLimit=7:i32*
CronJobStatus: active=1:[]ObjectReference lastScheduleTime=4:Time lastSuccessfulTime=5:Time
Job: metadata=1:ObjectMeta spec=2:JobSpec status=3:JobStatus
JobCondition: type=1! status=2! lastProbeTime=3:Time lastTransitionTime=4:Time reason=5 message=6
JobSpec: parallelism=1:i32* completions=2:i32* activeDeadlineSeconds=3:i64* podFailurePolicy=11:PodFailurePolicy
  successPolicy=16:SuccessPolicy backoffLimit=7:i32* backoffLimitPerIndex=12:i32* maxFailedIndexes=13:i32*
  selector=4:LabelSelector manualSelector=5:bool* template=6:PodTemplateSpec ttlSecondsAfterFinished=8:i32*
  completionMode=9:str* suspend=10:bool* podReplacementPolicy=14:str* managedBy=15:str*
JobStatus: conditions=1:[]JobCondition startTime=2:Time completionTime=3:Time active=4:i32 succeeded=5:i32
  failed=6:i32 terminating=11:i32* completedIndexes=7 failedIndexes=10:str*
  uncountedTerminatedPods=8:UncountedTerminatedPods ready=9:i32*
JobTemplateSpec: metadata=1:ObjectMeta spec=2:JobSpec
PodFailurePolicy: rules=1:[]PodFailurePolicyRule!
PodFailurePolicyOnExitCodesRequirement: containerName=1:str* operator=2! values=3:[]i32!
PodFailurePolicyOnPodConditionsPattern: type=1! status=2!
PodFailurePolicyRule: action=1! onExitCodes=2:PodFailurePolicyOnExitCodesRequirement
  onPodConditions=3:[]PodFailurePolicyOnPodConditionsPattern!
SuccessPolicy: rules=1:[]SuccessPolicyRule!
SuccessPolicyRule: succeededIndexes=1:str* succeededCount=2:i32*
UncountedTerminatedPods: succeeded=1:[]str failed=2:[]str
""",
)
