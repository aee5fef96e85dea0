"""core/v1 Pod, its spec and status, scheduling constraints, PodTemplateSpec and Binding."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, Quantity, Time
from skiff.api.types._core_common import (
    AppArmorProfile,
    LocalObjectReference,
    NodeSelector,
    NodeSelectorTerm,
    ObjectReference,
    SeccompProfile,
    SELinuxOptions,
    Sysctl,
    WindowsSecurityContextOptions,
)
from skiff.api.types._core_container import (
    Container,
    ContainerStatus,
    EphemeralContainer,
    ResourceRequirements,
)
from skiff.api.types._core_volume import Volume
from skiff.api.types._fields import atomic_list, atomic_map, merge_list, struct_extensions
from skiff.api.types.meta_v1 import LabelSelector, ListMeta, ObjectMeta

__all__ = [
    "Affinity",
    "Binding",
    "HostAlias",
    "HostIP",
    "NodeAffinity",
    "Pod",
    "PodAffinity",
    "PodAffinityTerm",
    "PodAntiAffinity",
    "PodCondition",
    "PodDNSConfig",
    "PodDNSConfigOption",
    "PodIP",
    "PodList",
    "PodOS",
    "PodReadinessGate",
    "PodResourceClaim",
    "PodResourceClaimStatus",
    "PodSchedulingGate",
    "PodSecurityContext",
    "PodSpec",
    "PodStatus",
    "PodTemplateSpec",
    "PreferredSchedulingTerm",
    "Toleration",
    "TopologySpreadConstraint",
    "WeightedPodAffinityTerm",
]


class PreferredSchedulingTerm(KubeModel):
    """A weighted node preference; an empty preference matches every node."""

    preference: NodeSelectorTerm = Field(alias="preference", description="The node selector term.")
    weight: int = Field(
        alias="weight", description="Weight (1-100) added to a node's score when it matches."
    )


class NodeAffinity(KubeModel):
    """Node affinity rules of a pod."""

    preferred_during_scheduling_ignored_during_execution: list[PreferredSchedulingTerm] | None = (
        Field(
            None,
            alias="preferredDuringSchedulingIgnoredDuringExecution",
            description="Weighted preferences: the scheduler favours nodes matching more (heavier) terms.",
            json_schema_extra=atomic_list(),
        )
    )
    required_during_scheduling_ignored_during_execution: NodeSelector | None = Field(
        None,
        alias="requiredDuringSchedulingIgnoredDuringExecution",
        description="Hard rule: the pod is only scheduled on nodes that match; not re-checked after binding.",
    )


class PodAffinityTerm(KubeModel):
    """Pods matching a selector in some namespaces, and the topology key defining what "near" means."""

    label_selector: LabelSelector | None = Field(
        None,
        alias="labelSelector",
        description="Selects the pods the term is about; null matches no pods.",
    )
    match_label_keys: list[str] | None = Field(
        None,
        alias="matchLabelKeys",
        description="Label keys whose values are copied from the incoming pod into the selector (key in value).",
        json_schema_extra=atomic_list(),
    )
    mismatch_label_keys: list[str] | None = Field(
        None,
        alias="mismatchLabelKeys",
        description="Label keys whose values are copied from the incoming pod into the selector as key notin value.",
        json_schema_extra=atomic_list(),
    )
    namespace_selector: LabelSelector | None = Field(
        None,
        alias="namespaceSelector",
        description="Selects the namespaces to look in; combined with namespaces. Empty selects all namespaces.",
    )
    namespaces: list[str] | None = Field(
        None,
        alias="namespaces",
        description="Namespaces to look in; null and no namespaceSelector means the pod's own namespace.",
        json_schema_extra=atomic_list(),
    )
    topology_key: str = Field(
        alias="topologyKey",
        description="Node label that defines a domain (e.g. kubernetes.io/hostname or topology.kubernetes.io/zone); required.",
    )


class WeightedPodAffinityTerm(KubeModel):
    """A pod affinity term with a weight, used for preferences."""

    pod_affinity_term: PodAffinityTerm = Field(alias="podAffinityTerm", description="The term.")
    weight: int = Field(
        alias="weight", description="Weight (1-100) added to a node's score when it matches."
    )


class PodAffinity(KubeModel):
    """Pod affinity rules: co-locate with pods matching selectors."""

    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] | None = (
        Field(
            None,
            alias="preferredDuringSchedulingIgnoredDuringExecution",
            description="Weighted preferences for topology domains containing matching pods.",
            json_schema_extra=atomic_list(),
        )
    )
    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] | None = Field(
        None,
        alias="requiredDuringSchedulingIgnoredDuringExecution",
        description="Hard rules: each term must be satisfied when scheduling; not re-checked afterwards.",
        json_schema_extra=atomic_list(),
    )


class PodAntiAffinity(KubeModel):
    """Pod anti-affinity rules: keep away from pods matching selectors."""

    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] | None = (
        Field(
            None,
            alias="preferredDuringSchedulingIgnoredDuringExecution",
            description="Weighted preferences to avoid topology domains containing matching pods.",
            json_schema_extra=atomic_list(),
        )
    )
    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] | None = Field(
        None,
        alias="requiredDuringSchedulingIgnoredDuringExecution",
        description="Hard rules: no matching pod may be in the same domain when scheduling.",
        json_schema_extra=atomic_list(),
    )


class Affinity(KubeModel):
    """Scheduling preferences and constraints relative to node labels and to other pods."""

    node_affinity: NodeAffinity | None = Field(
        None,
        alias="nodeAffinity",
        description="Rules on the labels of the node the pod may run on.",
    )
    pod_affinity: PodAffinity | None = Field(
        None,
        alias="podAffinity",
        description="Rules to place the pod near pods matching a selector.",
    )
    pod_anti_affinity: PodAntiAffinity | None = Field(
        None,
        alias="podAntiAffinity",
        description="Rules to keep the pod away from pods matching a selector.",
    )


class Binding(KubeModel):
    """Assigns a pod to a node; the body of POST pods/{name}/binding, used by the scheduler."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "Binding")))
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
    target: ObjectReference = Field(
        alias="target", description="The node to bind to (kind Node, name set)."
    )


class HostAlias(KubeModel):
    """An extra /etc/hosts entry for the pod."""

    hostnames: list[str] | None = Field(
        None,
        alias="hostnames",
        description="Host names that resolve to ip.",
        json_schema_extra=atomic_list(),
    )
    ip: str = Field(alias="ip", description="The IP address of the entry.")


class HostIP(KubeModel):
    """One IP address of the node a pod runs on."""

    ip: str = Field(alias="ip", description="The address.")


class PodDNSConfigOption(KubeModel):
    """One resolver option."""

    name: str | None = Field(None, alias="name", description="The option name, e.g. ndots.")
    value: str | None = Field(None, alias="value", description="The option value, if it takes one.")


class PodDNSConfig(KubeModel):
    """DNS settings merged into the pod's resolv.conf on top of those dnsPolicy produces."""

    nameservers: list[str] | None = Field(
        None,
        alias="nameservers",
        description="Extra name server IPs (at most 3 in total).",
        json_schema_extra=atomic_list(),
    )
    options: list[PodDNSConfigOption] | None = Field(
        None,
        alias="options",
        description="Resolver options; an entry with the same name as a generated one replaces it.",
        json_schema_extra=atomic_list(),
    )
    searches: list[str] | None = Field(
        None, alias="searches", description="Extra search domains.", json_schema_extra=atomic_list()
    )


class PodOS(KubeModel):
    """The operating system a pod's containers need."""

    name: str = Field(alias="name", description="linux or windows.")


class PodReadinessGate(KubeModel):
    """An extra pod condition that must be True for the pod to be Ready."""

    condition_type: str = Field(
        alias="conditionType", description="Type of the condition in status.conditions to wait for."
    )


class PodResourceClaim(KubeModel):
    """Names a dynamic resource claim the pod uses, either existing or created from a template."""

    name: str = Field(
        alias="name", description="Name of the claim within the pod, referenced by containers."
    )
    resource_claim_name: str | None = Field(
        None,
        alias="resourceClaimName",
        description="Name of an existing ResourceClaim in the pod's namespace.",
    )
    resource_claim_template_name: str | None = Field(
        None,
        alias="resourceClaimTemplateName",
        description="Name of a ResourceClaimTemplate to create a claim from for this pod.",
    )


class PodSchedulingGate(KubeModel):
    """A gate that keeps a pod unscheduled until it is removed."""

    name: str = Field(alias="name", description="Name of the gate.")


class PodSecurityContext(KubeModel):
    """Security settings for all containers of a pod; container-level settings take precedence."""

    app_armor_profile: AppArmorProfile | None = Field(
        None, alias="appArmorProfile", description="AppArmor profile for the pod's containers."
    )
    fs_group: int | None = Field(
        None,
        alias="fsGroup",
        description="Group id that owns supported volumes and is added to every container's groups.",
    )
    fs_group_change_policy: str | None = Field(
        None,
        alias="fsGroupChangePolicy",
        description="OnRootMismatch or Always (the default): when to re-chown volumes to fsGroup.",
    )
    run_as_group: int | None = Field(
        None, alias="runAsGroup", description="Group id of the containers' entrypoint processes."
    )
    run_as_non_root: bool | None = Field(
        None,
        alias="runAsNonRoot",
        description="Refuse to start containers that would run as uid 0.",
    )
    run_as_user: int | None = Field(
        None, alias="runAsUser", description="User id of the containers' entrypoint processes."
    )
    se_linux_change_policy: str | None = Field(
        None,
        alias="seLinuxChangePolicy",
        description="MountOption or Recursive: how SELinux labels are applied to volumes.",
    )
    se_linux_options: SELinuxOptions | None = Field(
        None, alias="seLinuxOptions", description="SELinux labels for all containers."
    )
    seccomp_profile: SeccompProfile | None = Field(
        None, alias="seccompProfile", description="Seccomp profile for all containers."
    )
    supplemental_groups: list[int] | None = Field(
        None,
        alias="supplementalGroups",
        description="Extra group ids for the first process of each container.",
        json_schema_extra=atomic_list(),
    )
    supplemental_groups_policy: str | None = Field(
        None,
        alias="supplementalGroupsPolicy",
        description="Merge (the default, include the image's groups) or Strict.",
    )
    sysctls: list[Sysctl] | None = Field(
        None,
        alias="sysctls",
        description="Namespaced kernel parameters to set for the pod.",
        json_schema_extra=atomic_list(),
    )
    windows_options: WindowsSecurityContextOptions | None = Field(
        None, alias="windowsOptions", description="Windows-specific settings for all containers."
    )


class Toleration(KubeModel):
    """Lets a pod be scheduled on (or stay on) nodes with a matching taint."""

    effect: str | None = Field(
        None,
        alias="effect",
        description="Taint effect to match: NoSchedule, PreferNoSchedule or NoExecute; empty matches all.",
    )
    key: str | None = Field(
        None,
        alias="key",
        description="Taint key to match; empty with operator Exists matches every taint.",
    )
    operator: str | None = Field(
        None, alias="operator", description="Equal (the default) or Exists."
    )
    toleration_seconds: int | None = Field(
        None,
        alias="tolerationSeconds",
        description="For NoExecute: how long the pod stays bound after the taint appears; unset means forever.",
    )
    value: str | None = Field(
        None, alias="value", description="Taint value to match with operator Equal."
    )


class TopologySpreadConstraint(KubeModel):
    """Limits how unevenly matching pods may be spread across topology domains."""

    label_selector: LabelSelector | None = Field(
        None, alias="labelSelector", description="Selects the pods counted in each domain."
    )
    match_label_keys: list[str] | None = Field(
        None,
        alias="matchLabelKeys",
        description="Label keys whose values from the incoming pod are added to the selector.",
        json_schema_extra=atomic_list(),
    )
    max_skew: int = Field(
        alias="maxSkew",
        description="Largest allowed difference in matching pods between two domains; at least 1.",
    )
    min_domains: int | None = Field(
        None,
        alias="minDomains",
        description="Minimum number of eligible domains; fewer makes the global minimum 0. Only with DoNotSchedule.",
    )
    node_affinity_policy: str | None = Field(
        None,
        alias="nodeAffinityPolicy",
        description="Honor (the default) or Ignore: whether node affinity limits the domains considered.",
    )
    node_taints_policy: str | None = Field(
        None,
        alias="nodeTaintsPolicy",
        description="Honor or Ignore (the default): whether tainted nodes are excluded from the domains.",
    )
    topology_key: str = Field(alias="topologyKey", description="Node label that defines a domain.")
    when_unsatisfiable: str = Field(
        alias="whenUnsatisfiable",
        description="DoNotSchedule (hard) or ScheduleAnyway (soft preference).",
    )


class PodSpec(KubeModel):
    """The desired state of a pod: containers, volumes, scheduling constraints and runtime settings."""

    active_deadline_seconds: int | None = Field(
        None,
        alias="activeDeadlineSeconds",
        description="Seconds the pod may be active (counted from start) before the system fails it.",
    )
    affinity: Affinity | None = Field(
        None, alias="affinity", description="Node and pod affinity and anti-affinity rules."
    )
    automount_service_account_token: bool | None = Field(
        None,
        alias="automountServiceAccountToken",
        description="Whether to mount the service account token; overrides the ServiceAccount's setting.",
    )
    containers: list[Container] = Field(
        alias="containers",
        description="The pod's application containers; at least one, and cannot be added or removed after creation.",
        json_schema_extra=merge_list("name"),
    )
    dns_config: PodDNSConfig | None = Field(
        None, alias="dnsConfig", description="Extra DNS settings merged into those from dnsPolicy."
    )
    dns_policy: str | None = Field(
        None,
        alias="dnsPolicy",
        description="ClusterFirst (the default), ClusterFirstWithHostNet, Default (the node's settings) or None (only dnsConfig).",
    )
    enable_service_links: bool | None = Field(
        None,
        alias="enableServiceLinks",
        description="Inject environment variables for Services in the namespace, docker-link style; default true.",
    )
    ephemeral_containers: list[EphemeralContainer] | None = Field(
        None,
        alias="ephemeralContainers",
        description="Debugging containers added to the running pod through the ephemeralcontainers subresource.",
        json_schema_extra=merge_list("name"),
    )
    host_aliases: list[HostAlias] | None = Field(
        None,
        alias="hostAliases",
        description="Extra entries for the pod's /etc/hosts.",
        json_schema_extra=merge_list("ip"),
    )
    host_ipc: bool | None = Field(
        None, alias="hostIPC", description="Use the node's IPC namespace; default false."
    )
    host_network: bool | None = Field(
        None,
        alias="hostNetwork",
        description="Use the node's network namespace; ports are then opened on the node directly. Default false.",
    )
    host_pid: bool | None = Field(
        None, alias="hostPID", description="Use the node's process namespace; default false."
    )
    host_users: bool | None = Field(
        None,
        alias="hostUsers",
        description="Use the node's user namespace (true, the default) or a new one (false).",
    )
    hostname: str | None = Field(
        None, alias="hostname", description="Host name of the pod; defaults to the pod's name."
    )
    image_pull_secrets: list[LocalObjectReference] | None = Field(
        None,
        alias="imagePullSecrets",
        description="Secrets holding registry credentials for pulling the images.",
        json_schema_extra=merge_list("name"),
    )
    init_containers: list[Container] | None = Field(
        None,
        alias="initContainers",
        description="Containers run one after another to completion before the application containers start.",
        json_schema_extra=merge_list("name"),
    )
    node_name: str | None = Field(
        None,
        alias="nodeName",
        description="Node the pod runs on; set by the scheduler (or directly to bypass it).",
    )
    node_selector: dict[str, str] | None = Field(
        None,
        alias="nodeSelector",
        description="Labels the node must carry for the pod to be scheduled there.",
        json_schema_extra=atomic_map(),
    )
    os: PodOS | None = Field(
        None,
        alias="os",
        description="Operating system the pod needs; restricts which fields are valid.",
    )
    overhead: dict[str, Quantity] | None = Field(
        None,
        alias="overhead",
        description="Resources consumed by the pod sandbox itself, set from the RuntimeClass.",
    )
    preemption_policy: str | None = Field(
        None, alias="preemptionPolicy", description="PreemptLowerPriority (the default) or Never."
    )
    priority: int | None = Field(
        None,
        alias="priority",
        description="Scheduling priority, resolved from priorityClassName by admission; higher is more important.",
    )
    priority_class_name: str | None = Field(
        None,
        alias="priorityClassName",
        description="Name of a PriorityClass; system-node-critical and system-cluster-critical are built in.",
    )
    readiness_gates: list[PodReadinessGate] | None = Field(
        None,
        alias="readinessGates",
        description="Extra conditions that must be True for the pod to be Ready.",
        json_schema_extra=atomic_list(),
    )
    resource_claims: list[PodResourceClaim] | None = Field(
        None,
        alias="resourceClaims",
        description="Dynamic resource claims (devices) the pod uses.",
        json_schema_extra=merge_list("name", strategy="merge,retainKeys"),
    )
    resources: ResourceRequirements | None = Field(
        None,
        alias="resources",
        description="Pod-level resource requests and limits shared by all containers.",
    )
    restart_policy: str | None = Field(
        None,
        alias="restartPolicy",
        description="Always (the default), OnFailure or Never; applies to all containers.",
    )
    runtime_class_name: str | None = Field(
        None,
        alias="runtimeClassName",
        description="Name of a RuntimeClass choosing the container runtime handler.",
    )
    scheduler_name: str | None = Field(
        None,
        alias="schedulerName",
        description="Scheduler that places the pod; defaults to default-scheduler.",
    )
    scheduling_gates: list[PodSchedulingGate] | None = Field(
        None,
        alias="schedulingGates",
        description="Gates that must all be removed before the pod is considered for scheduling.",
        json_schema_extra=merge_list("name"),
    )
    security_context: PodSecurityContext | None = Field(
        None,
        alias="securityContext",
        description="Security settings for all containers of the pod.",
    )
    service_account: str | None = Field(
        None, alias="serviceAccount", description="Deprecated alias of serviceAccountName."
    )
    service_account_name: str | None = Field(
        None,
        alias="serviceAccountName",
        description="ServiceAccount the pod runs as; defaults to default.",
    )
    set_hostname_as_fqdn: bool | None = Field(
        None,
        alias="setHostnameAsFQDN",
        description="Set the kernel host name to the pod's fully qualified domain name; default false.",
    )
    share_process_namespace: bool | None = Field(
        None,
        alias="shareProcessNamespace",
        description="Share one process namespace between all containers; default false.",
    )
    subdomain: str | None = Field(
        None,
        alias="subdomain",
        description="Subdomain giving the pod the DNS name <hostname>.<subdomain>.<namespace>.svc.<cluster-domain>.",
    )
    termination_grace_period_seconds: int | None = Field(
        None,
        alias="terminationGracePeriodSeconds",
        description="Seconds between the stop signal and the kill on deletion; default 30.",
    )
    tolerations: list[Toleration] | None = Field(
        None,
        alias="tolerations",
        description="Taints the pod tolerates.",
        json_schema_extra=atomic_list(),
    )
    topology_spread_constraints: list[TopologySpreadConstraint] | None = Field(
        None,
        alias="topologySpreadConstraints",
        description="How to spread matching pods across topology domains such as zones or nodes.",
        json_schema_extra=merge_list("topologyKey", map_keys=("topologyKey", "whenUnsatisfiable")),
    )
    volumes: list[Volume] | None = Field(
        None,
        alias="volumes",
        description="Volumes the pod's containers can mount.",
        json_schema_extra=merge_list("name", strategy="merge,retainKeys"),
    )


class PodCondition(KubeModel):
    """One condition of a pod, e.g. PodScheduled, Initialized, ContainersReady or Ready."""

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
        None, alias="reason", description="CamelCase reason for the last transition."
    )
    status: str = Field(alias="status", description="True, False or Unknown.")
    type: str = Field(alias="type", description="The condition's name.")


class PodIP(KubeModel):
    """One IP address allocated to a pod."""

    ip: str = Field(alias="ip", description="The address.")


class PodResourceClaimStatus(KubeModel):
    """The ResourceClaim generated for one of the pod's template-based claims."""

    name: str = Field(alias="name", description="Name of the claim entry in spec.resourceClaims.")
    resource_claim_name: str | None = Field(
        None,
        alias="resourceClaimName",
        description="Name of the generated ResourceClaim; empty if none is needed.",
    )


class PodStatus(KubeModel):
    """Observed state of a pod as reported by the node agent."""

    conditions: list[PodCondition] | None = Field(
        None,
        alias="conditions",
        description="Current conditions of the pod, such as Ready.",
        json_schema_extra=merge_list("type"),
    )
    container_statuses: list[ContainerStatus] | None = Field(
        None,
        alias="containerStatuses",
        description="Status of each application container.",
        json_schema_extra=atomic_list(),
    )
    ephemeral_container_statuses: list[ContainerStatus] | None = Field(
        None,
        alias="ephemeralContainerStatuses",
        description="Status of each ephemeral container.",
        json_schema_extra=atomic_list(),
    )
    host_ip: str | None = Field(
        None, alias="hostIP", description="Primary IP of the node the pod runs on."
    )
    host_ips: list[HostIP] | None = Field(
        None,
        alias="hostIPs",
        description="All IPs of the node (one per address family); the first equals hostIP.",
        json_schema_extra=merge_list("ip", list_type="atomic"),
    )
    init_container_statuses: list[ContainerStatus] | None = Field(
        None,
        alias="initContainerStatuses",
        description="Status of each init container.",
        json_schema_extra=atomic_list(),
    )
    message: str | None = Field(
        None, alias="message", description="Human-readable detail of why the pod is in its state."
    )
    nominated_node_name: str | None = Field(
        None,
        alias="nominatedNodeName",
        description="Node chosen by preemption, where the pod waits for victims to leave.",
    )
    phase: str | None = Field(
        None,
        alias="phase",
        description="Coarse lifecycle state: Pending, Running, Succeeded, Failed or Unknown.",
    )
    pod_ip: str | None = Field(None, alias="podIP", description="Primary IP of the pod.")
    pod_ips: list[PodIP] | None = Field(
        None,
        alias="podIPs",
        description="All IPs of the pod (one per address family); the first equals podIP.",
        json_schema_extra=merge_list("ip"),
    )
    qos_class: str | None = Field(
        None,
        alias="qosClass",
        description="Guaranteed, Burstable or BestEffort, derived from the resource requests and limits.",
    )
    reason: str | None = Field(
        None,
        alias="reason",
        description="Short CamelCase reason for the pod's state, e.g. Evicted.",
    )
    resize: str | None = Field(
        None,
        alias="resize",
        description="Progress of an in-place resize: Proposed, InProgress, Deferred or Infeasible.",
    )
    resource_claim_statuses: list[PodResourceClaimStatus] | None = Field(
        None,
        alias="resourceClaimStatuses",
        description="Names of the ResourceClaims generated for the pod.",
        json_schema_extra=merge_list("name", strategy="merge,retainKeys"),
    )
    start_time: Time | None = Field(
        None,
        alias="startTime",
        description="When the node agent accepted the pod, before any image was pulled.",
    )


class Pod(KubeModel):
    """A group of containers scheduled together onto one node, sharing network and volumes."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "Pod")))
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
    spec: PodSpec | None = Field(
        None,
        alias="spec",
        description="Desired behaviour of the pod: containers, volumes and scheduling.",
    )
    status: PodStatus | None = Field(
        None,
        alias="status",
        description="Most recently observed state of the pod, reported by the node agent; read-only.",
    )


class PodList(KubeModel):
    """A list of Pod objects, as returned by the list endpoint."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "PodList")))
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
    items: list[Pod] = Field(alias="items", description="The Pod objects.")


class PodTemplateSpec(KubeModel):
    """The template controllers stamp pods from: metadata and spec of the pods to create."""

    metadata: ObjectMeta | None = Field(
        None,
        alias="metadata",
        description="Labels, annotations and other metadata given to created pods.",
    )
    spec: PodSpec | None = Field(None, alias="spec", description="Spec of created pods.")
