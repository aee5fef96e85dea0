"""core/v1 containers: Container, probes, environment, resources, security
context, and the container status reported by the node agent.
"""

from pydantic import Field

from skiff.api.types._base import IntOrString, KubeModel, Quantity, Time
from skiff.api.types._core_common import (
    AppArmorProfile,
    Capabilities,
    ConfigMapKeySelector,
    ObjectFieldSelector,
    ResourceFieldSelector,
    SeccompProfile,
    SecretKeySelector,
    SELinuxOptions,
    WindowsSecurityContextOptions,
)
from skiff.api.types._fields import atomic_list, map_list, merge_list

__all__ = [
    "ConfigMapEnvSource",
    "Container",
    "ContainerPort",
    "ContainerResizePolicy",
    "ContainerState",
    "ContainerStateRunning",
    "ContainerStateTerminated",
    "ContainerStateWaiting",
    "ContainerStatus",
    "ContainerUser",
    "EnvFromSource",
    "EnvVar",
    "EnvVarSource",
    "EphemeralContainer",
    "ExecAction",
    "GRPCAction",
    "HTTPGetAction",
    "HTTPHeader",
    "Lifecycle",
    "LifecycleHandler",
    "LinuxContainerUser",
    "Probe",
    "ResourceClaim",
    "ResourceHealth",
    "ResourceRequirements",
    "ResourceStatus",
    "SecretEnvSource",
    "SecurityContext",
    "SleepAction",
    "TCPSocketAction",
    "VolumeDevice",
    "VolumeMount",
    "VolumeMountStatus",
]


class ConfigMapEnvSource(KubeModel):
    """Imports every key of a ConfigMap as environment variables."""

    name: str | None = Field(None, alias="name", description="Name of the ConfigMap.")
    optional: bool | None = Field(
        None, alias="optional", description="If true, a missing ConfigMap is not an error."
    )


class EnvVarSource(KubeModel):
    """Where an environment variable's value comes from; set exactly one member."""

    config_map_key_ref: ConfigMapKeySelector | None = Field(
        None, alias="configMapKeyRef", description="A key of a ConfigMap."
    )
    field_ref: ObjectFieldSelector | None = Field(
        None,
        alias="fieldRef",
        description="A field of the pod, e.g. metadata.name, spec.nodeName or status.podIP.",
    )
    resource_field_ref: ResourceFieldSelector | None = Field(
        None, alias="resourceFieldRef", description="A resource limit or request of the container."
    )
    secret_key_ref: SecretKeySelector | None = Field(
        None, alias="secretKeyRef", description="A key of a Secret."
    )


class EnvVar(KubeModel):
    """One environment variable of a container."""

    name: str = Field(alias="name", description="Variable name.")
    value: str | None = Field(
        None,
        alias="value",
        description="Literal value; $(VAR) references to earlier variables are expanded, $$ escapes. Defaults to empty.",
    )
    value_from: EnvVarSource | None = Field(
        None, alias="valueFrom", description="Source of the value; cannot be combined with value."
    )


class SecretEnvSource(KubeModel):
    """Imports every key of a Secret as environment variables."""

    name: str | None = Field(None, alias="name", description="Name of the Secret.")
    optional: bool | None = Field(
        None, alias="optional", description="If true, a missing Secret is not an error."
    )


class EnvFromSource(KubeModel):
    """A source of environment variables: every key of a ConfigMap or Secret."""

    config_map_ref: ConfigMapEnvSource | None = Field(
        None, alias="configMapRef", description="The ConfigMap to import."
    )
    prefix: str | None = Field(
        None, alias="prefix", description="String prepended to each key to form the variable name."
    )
    secret_ref: SecretEnvSource | None = Field(
        None, alias="secretRef", description="The Secret to import."
    )


class ExecAction(KubeModel):
    """Runs a command inside the container; exit status 0 is success."""

    command: list[str] | None = Field(
        None,
        alias="command",
        description="Command and arguments, executed directly (not in a shell).",
        json_schema_extra=atomic_list(),
    )


class HTTPHeader(KubeModel):
    """An HTTP header for a probe request."""

    name: str = Field(alias="name", description="Header name.")
    value: str = Field(alias="value", description="Header value.")


class HTTPGetAction(KubeModel):
    """Performs an HTTP GET; a 2xx or 3xx status is success."""

    host: str | None = Field(
        None, alias="host", description="Host to connect to; defaults to the pod IP."
    )
    http_headers: list[HTTPHeader] | None = Field(
        None,
        alias="httpHeaders",
        description="Extra request headers.",
        json_schema_extra=atomic_list(),
    )
    path: str | None = Field(None, alias="path", description="Path to request.")
    port: IntOrString = Field(alias="port", description="Port number or named container port.")
    scheme: str | None = Field(
        None, alias="scheme", description="HTTP (the default) or HTTPS (certificate not verified)."
    )


class SleepAction(KubeModel):
    """Waits for a number of seconds."""

    seconds: int = Field(alias="seconds", description="How long to sleep.")


class TCPSocketAction(KubeModel):
    """Opens a TCP connection; success if it connects."""

    host: str | None = Field(
        None, alias="host", description="Host to connect to; defaults to the pod IP."
    )
    port: IntOrString = Field(alias="port", description="Port number or named container port.")


class LifecycleHandler(KubeModel):
    """The action of a lifecycle hook; set exactly one member."""

    exec: ExecAction | None = Field(
        None, alias="exec", description="Run a command in the container."
    )
    http_get: HTTPGetAction | None = Field(
        None, alias="httpGet", description="Send an HTTP GET request."
    )
    sleep: SleepAction | None = Field(None, alias="sleep", description="Wait a number of seconds.")
    tcp_socket: TCPSocketAction | None = Field(
        None,
        alias="tcpSocket",
        description="Deprecated and not supported as a lifecycle hook; kept for compatibility.",
    )


class Lifecycle(KubeModel):
    """Hooks the node agent runs at container start and stop."""

    post_start: LifecycleHandler | None = Field(
        None,
        alias="postStart",
        description="Runs right after the container is created; failure kills the container.",
    )
    pre_stop: LifecycleHandler | None = Field(
        None,
        alias="preStop",
        description="Runs before the container is stopped; the grace period keeps counting while it runs.",
    )


class GRPCAction(KubeModel):
    """Calls the gRPC health checking protocol on a port."""

    port: int = Field(alias="port", description="Port number of the gRPC service (1-65535).")
    service: str | None = Field(
        None,
        alias="service",
        description="Service name passed in the health request; empty checks the server as a whole.",
    )


class Probe(KubeModel):
    """A periodic health check of a container; set exactly one handler (exec, httpGet, tcpSocket or grpc)."""

    exec: ExecAction | None = Field(
        None, alias="exec", description="Run a command in the container."
    )
    failure_threshold: int | None = Field(
        None,
        alias="failureThreshold",
        description="Consecutive failures before the probe is considered failed; default 3, minimum 1.",
    )
    grpc: GRPCAction | None = Field(
        None, alias="grpc", description="Call the gRPC health checking protocol."
    )
    http_get: HTTPGetAction | None = Field(
        None, alias="httpGet", description="Send an HTTP GET request."
    )
    initial_delay_seconds: int | None = Field(
        None,
        alias="initialDelaySeconds",
        description="Seconds after container start before the first probe.",
    )
    period_seconds: int | None = Field(
        None, alias="periodSeconds", description="Seconds between probes; default 10, minimum 1."
    )
    success_threshold: int | None = Field(
        None,
        alias="successThreshold",
        description="Consecutive successes after a failure to count as passing; default 1 (must be 1 for liveness and startup).",
    )
    tcp_socket: TCPSocketAction | None = Field(
        None, alias="tcpSocket", description="Open a TCP connection."
    )
    termination_grace_period_seconds: int | None = Field(
        None,
        alias="terminationGracePeriodSeconds",
        description="Grace period used when a failed probe kills the container; overrides the pod's value.",
    )
    timeout_seconds: int | None = Field(
        None,
        alias="timeoutSeconds",
        description="Seconds after which one probe attempt times out; default 1.",
    )


class ContainerPort(KubeModel):
    """A network port a container exposes."""

    container_port: int = Field(
        alias="containerPort", description="Port number in the container (1-65535)."
    )
    host_ip: str | None = Field(
        None, alias="hostIP", description="Host address to bind the host port on."
    )
    host_port: int | None = Field(
        None,
        alias="hostPort",
        description="Port number to expose on the node (1-65535); rarely needed. Pods with the same hostPort cannot share a node.",
    )
    name: str | None = Field(
        None,
        alias="name",
        description="Name (IANA_SVC_NAME, unique in the pod) that Services and probes may refer to.",
    )
    protocol: str | None = Field(
        None, alias="protocol", description="TCP (the default), UDP or SCTP."
    )


class ContainerResizePolicy(KubeModel):
    """How one resource of a container may be resized in place."""

    resource_name: str = Field(alias="resourceName", description="The resource, cpu or memory.")
    restart_policy: str = Field(
        alias="restartPolicy", description="NotRequired (resize live) or RestartContainer."
    )


class ResourceClaim(KubeModel):
    """A reference to one of the pod's resource claims that a container uses."""

    name: str = Field(
        alias="name", description="Name of an entry in the pod's spec.resourceClaims."
    )
    request: str | None = Field(
        None,
        alias="request",
        description="Name of one request inside the claim; empty means the whole claim.",
    )


class ResourceRequirements(KubeModel):
    """Compute resources of a container: requests for scheduling, limits for enforcement."""

    claims: list[ResourceClaim] | None = Field(
        None,
        alias="claims",
        description="Dynamic resource claims (from spec.resourceClaims) this container uses.",
        json_schema_extra=map_list("name"),
    )
    limits: dict[str, Quantity] | None = Field(
        None,
        alias="limits",
        description="Maximum amount per resource (cpu, memory, ...) the container may use.",
    )
    requests: dict[str, Quantity] | None = Field(
        None,
        alias="requests",
        description="Amount per resource the scheduler reserves; defaults to the limit when only a limit is given.",
    )


class SecurityContext(KubeModel):
    """Security settings of one container; they override the matching pod-level settings."""

    allow_privilege_escalation: bool | None = Field(
        None,
        alias="allowPrivilegeEscalation",
        description="Whether a process may gain more privileges than its parent (no_new_privs); true when privileged or with CAP_SYS_ADMIN.",
    )
    app_armor_profile: AppArmorProfile | None = Field(
        None, alias="appArmorProfile", description="AppArmor profile for the container."
    )
    capabilities: Capabilities | None = Field(
        None, alias="capabilities", description="Capabilities to add or drop."
    )
    privileged: bool | None = Field(
        None,
        alias="privileged",
        description="Run as privileged, with near host-level access; default false.",
    )
    proc_mount: str | None = Field(
        None, alias="procMount", description="Default (masked /proc) or Unmasked."
    )
    read_only_root_filesystem: bool | None = Field(
        None,
        alias="readOnlyRootFilesystem",
        description="Mount the root filesystem read-only; default false.",
    )
    run_as_group: int | None = Field(
        None, alias="runAsGroup", description="Group id of the entrypoint process."
    )
    run_as_non_root: bool | None = Field(
        None,
        alias="runAsNonRoot",
        description="Refuse to start the container if it would run as uid 0.",
    )
    run_as_user: int | None = Field(
        None,
        alias="runAsUser",
        description="User id of the entrypoint process; defaults to the image's user.",
    )
    se_linux_options: SELinuxOptions | None = Field(
        None, alias="seLinuxOptions", description="SELinux labels for the container."
    )
    seccomp_profile: SeccompProfile | None = Field(
        None, alias="seccompProfile", description="Seccomp profile for the container."
    )
    windows_options: WindowsSecurityContextOptions | None = Field(
        None, alias="windowsOptions", description="Windows-specific settings."
    )


class VolumeDevice(KubeModel):
    """Exposes a raw block volume as a device node in the container."""

    device_path: str = Field(
        alias="devicePath", description="Path of the device inside the container."
    )
    name: str = Field(
        alias="name", description="Name of a PersistentVolumeClaim volume of the pod."
    )


class VolumeMount(KubeModel):
    """Mounts one pod volume into a container."""

    mount_path: str = Field(
        alias="mountPath",
        description="Where to mount the volume in the container; must not contain ':'.",
    )
    mount_propagation: str | None = Field(
        None,
        alias="mountPropagation",
        description="None (the default), HostToContainer or Bidirectional.",
    )
    name: str = Field(alias="name", description="Name of the pod volume.")
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )
    recursive_read_only: str | None = Field(
        None,
        alias="recursiveReadOnly",
        description="Disabled, IfPossible or Enabled: whether submounts are made read-only too.",
    )
    sub_path: str | None = Field(
        None, alias="subPath", description="Path inside the volume to mount instead of its root."
    )
    sub_path_expr: str | None = Field(
        None,
        alias="subPathExpr",
        description="Like subPath, with $(VAR) expansion from the container environment.",
    )


class Container(KubeModel):
    """One application container in a pod: its image, command, environment, resources, probes and mounts."""

    args: list[str] | None = Field(
        None,
        alias="args",
        description="Arguments to the entrypoint, replacing the image's CMD; $(VAR) references are expanded from the container's environment.",
        json_schema_extra=atomic_list(),
    )
    command: list[str] | None = Field(
        None,
        alias="command",
        description="Entrypoint array, replacing the image's ENTRYPOINT; not run in a shell. $(VAR) references are expanded.",
        json_schema_extra=atomic_list(),
    )
    env: list[EnvVar] | None = Field(
        None,
        alias="env",
        description="Environment variables to set in the container.",
        json_schema_extra=merge_list("name"),
    )
    env_from: list[EnvFromSource] | None = Field(
        None,
        alias="envFrom",
        description="Sources (ConfigMaps, Secrets) whose keys all become environment variables; explicit env entries win on conflict.",
        json_schema_extra=atomic_list(),
    )
    image: str | None = Field(
        None, alias="image", description="Container image reference, e.g. nginx:1.27."
    )
    image_pull_policy: str | None = Field(
        None,
        alias="imagePullPolicy",
        description="Always, Never or IfNotPresent; defaults to Always for :latest or untagged images, IfNotPresent otherwise.",
    )
    lifecycle: Lifecycle | None = Field(
        None,
        alias="lifecycle",
        description="Hooks run right after the container starts and before it is stopped.",
    )
    liveness_probe: Probe | None = Field(
        None,
        alias="livenessProbe",
        description="Periodic check that restarts the container when it fails.",
    )
    name: str = Field(
        alias="name", description="Name of the container, unique within the pod (DNS label)."
    )
    ports: list[ContainerPort] | None = Field(
        None,
        alias="ports",
        description="Ports the container listens on; informational, but named ports can be referenced by probes and Services.",
        json_schema_extra=merge_list("containerPort", map_keys=("containerPort", "protocol")),
    )
    readiness_probe: Probe | None = Field(
        None,
        alias="readinessProbe",
        description="Periodic check that marks the container unready (and out of Service endpoints) while it fails.",
    )
    resize_policy: list[ContainerResizePolicy] | None = Field(
        None,
        alias="resizePolicy",
        description="How each resource may be resized in place: without restart (the default) or by restarting the container.",
        json_schema_extra=atomic_list(),
    )
    resources: ResourceRequirements | None = Field(
        None,
        alias="resources",
        description="Compute resources requested and limited for this container.",
    )
    restart_policy: str | None = Field(
        None,
        alias="restartPolicy",
        description="Only for init containers: Always turns the init container into a sidecar that keeps running.",
    )
    security_context: SecurityContext | None = Field(
        None,
        alias="securityContext",
        description="Security settings for this container; overrides the pod-level settings.",
    )
    startup_probe: Probe | None = Field(
        None,
        alias="startupProbe",
        description="Check that must succeed once before liveness and readiness probes begin.",
    )
    stdin: bool | None = Field(
        None,
        alias="stdin",
        description="Keep a stdin buffer open for the container; default false.",
    )
    stdin_once: bool | None = Field(
        None,
        alias="stdinOnce",
        description="Close stdin after the first attached client detaches; default false.",
    )
    termination_message_path: str | None = Field(
        None,
        alias="terminationMessagePath",
        description="File whose contents become the termination message; defaults to /dev/termination-log.",
    )
    termination_message_policy: str | None = Field(
        None,
        alias="terminationMessagePolicy",
        description="File (the default) or FallbackToLogsOnError, which uses the last log lines if the file is empty.",
    )
    tty: bool | None = Field(
        None,
        alias="tty",
        description="Allocate a TTY for the container; needs stdin too. Default false.",
    )
    volume_devices: list[VolumeDevice] | None = Field(
        None,
        alias="volumeDevices",
        description="Raw block devices from volumes to expose in the container.",
        json_schema_extra=merge_list("devicePath"),
    )
    volume_mounts: list[VolumeMount] | None = Field(
        None,
        alias="volumeMounts",
        description="Pod volumes to mount into the container's filesystem.",
        json_schema_extra=merge_list("mountPath"),
    )
    working_dir: str | None = Field(
        None,
        alias="workingDir",
        description="Working directory of the entrypoint; defaults to the image's.",
    )


class ContainerStateRunning(KubeModel):
    """A running container."""

    started_at: Time | None = Field(
        None, alias="startedAt", description="When the container last (re)started."
    )


class ContainerStateTerminated(KubeModel):
    """A container that has exited."""

    container_id: str | None = Field(
        None, alias="containerID", description="Runtime ID of the container, as <type>://<id>."
    )
    exit_code: int = Field(alias="exitCode", description="Exit status of the last termination.")
    finished_at: Time | None = Field(
        None, alias="finishedAt", description="When the container exited."
    )
    message: str | None = Field(
        None,
        alias="message",
        description="Termination message, from the termination message file or logs.",
    )
    reason: str | None = Field(
        None, alias="reason", description="Short reason, e.g. Completed, Error or OOMKilled."
    )
    signal: int | None = Field(
        None, alias="signal", description="Signal that killed the container, if any."
    )
    started_at: Time | None = Field(
        None, alias="startedAt", description="When the container started."
    )


class ContainerStateWaiting(KubeModel):
    """A container that is not running yet."""

    message: str | None = Field(
        None, alias="message", description="Human-readable detail on why it is waiting."
    )
    reason: str | None = Field(
        None,
        alias="reason",
        description="Short reason, e.g. ContainerCreating, ImagePullBackOff or CrashLoopBackOff.",
    )


class ContainerState(KubeModel):
    """The state of a container; exactly one member is set."""

    running: ContainerStateRunning | None = Field(
        None, alias="running", description="Set while the container runs."
    )
    terminated: ContainerStateTerminated | None = Field(
        None, alias="terminated", description="Set after the container exited."
    )
    waiting: ContainerStateWaiting | None = Field(
        None,
        alias="waiting",
        description="Set while the container has not started yet or waits to restart.",
    )


class ResourceHealth(KubeModel):
    """Health of one allocated device."""

    health: str | None = Field(None, alias="health", description="Healthy, Unhealthy or Unknown.")
    resource_id: str = Field(alias="resourceID", description="Identifier of the device.")


class ResourceStatus(KubeModel):
    """Health of the devices allocated for one resource."""

    name: str = Field(
        alias="name", description="The resource name, e.g. a claim or device plugin resource."
    )
    resources: list[ResourceHealth] | None = Field(
        None,
        alias="resources",
        description="Health of each allocated device.",
        json_schema_extra=map_list("resourceID"),
    )


class LinuxContainerUser(KubeModel):
    """User and group ids a Linux container process runs as."""

    gid: int = Field(alias="gid", description="Primary group id.")
    supplemental_groups: list[int] | None = Field(
        None,
        alias="supplementalGroups",
        description="Supplementary group ids.",
        json_schema_extra=atomic_list(),
    )
    uid: int = Field(alias="uid", description="User id.")


class ContainerUser(KubeModel):
    """The identity a container runs as, per operating system."""

    linux: LinuxContainerUser | None = Field(
        None, alias="linux", description="Identity on Linux nodes."
    )


class VolumeMountStatus(KubeModel):
    """A volume mount as the runtime applied it."""

    mount_path: str = Field(alias="mountPath", description="Where the volume is mounted.")
    name: str = Field(alias="name", description="Name of the volume.")
    read_only: bool | None = Field(
        None, alias="readOnly", description="Whether the mount is read-only."
    )
    recursive_read_only: str | None = Field(
        None, alias="recursiveReadOnly", description="Whether submounts are read-only too."
    )


class ContainerStatus(KubeModel):
    """The node agent's report on one container of a pod."""

    allocated_resources: dict[str, Quantity] | None = Field(
        None,
        alias="allocatedResources",
        description="Resources the node allocated to the container.",
    )
    allocated_resources_status: list[ResourceStatus] | None = Field(
        None,
        alias="allocatedResourcesStatus",
        description="Health of devices and other resources allocated to the container.",
        json_schema_extra=merge_list("name"),
    )
    container_id: str | None = Field(
        None, alias="containerID", description="Runtime ID of the container, as <type>://<id>."
    )
    image: str = Field(alias="image", description="The image the container runs.")
    image_id: str = Field(
        alias="imageID", description="Resolved ID (usually a digest) of the image."
    )
    last_state: ContainerState | None = Field(
        None,
        alias="lastState",
        description="Details of the previous termination, useful after a restart.",
    )
    name: str = Field(alias="name", description="Name of the container, as in the pod spec.")
    ready: bool = Field(
        alias="ready", description="Whether the container passes its readiness probe."
    )
    resources: ResourceRequirements | None = Field(
        None,
        alias="resources",
        description="Requests and limits currently applied to the running container.",
    )
    restart_count: int = Field(
        alias="restartCount", description="How many times the container has been restarted."
    )
    started: bool | None = Field(
        None,
        alias="started",
        description="Whether the container has started and passed its startup probe.",
    )
    state: ContainerState | None = Field(
        None, alias="state", description="The container's current state."
    )
    user: ContainerUser | None = Field(
        None,
        alias="user",
        description="Identity (uid, gids) the container's first process runs as.",
    )
    volume_mounts: list[VolumeMountStatus] | None = Field(
        None,
        alias="volumeMounts",
        description="Volume mounts as actually applied.",
        json_schema_extra=merge_list("mountPath"),
    )


class EphemeralContainer(KubeModel):
    """A temporary container added to a running pod for debugging; it has no resources, ports or probes and is never restarted."""

    args: list[str] | None = Field(
        None,
        alias="args",
        description="Arguments to the entrypoint, replacing the image's CMD; $(VAR) references are expanded from the container's environment.",
        json_schema_extra=atomic_list(),
    )
    command: list[str] | None = Field(
        None,
        alias="command",
        description="Entrypoint array, replacing the image's ENTRYPOINT; not run in a shell. $(VAR) references are expanded.",
        json_schema_extra=atomic_list(),
    )
    env: list[EnvVar] | None = Field(
        None,
        alias="env",
        description="Environment variables to set in the container.",
        json_schema_extra=merge_list("name"),
    )
    env_from: list[EnvFromSource] | None = Field(
        None,
        alias="envFrom",
        description="Sources (ConfigMaps, Secrets) whose keys all become environment variables; explicit env entries win on conflict.",
        json_schema_extra=atomic_list(),
    )
    image: str | None = Field(
        None, alias="image", description="Container image reference, e.g. nginx:1.27."
    )
    image_pull_policy: str | None = Field(
        None,
        alias="imagePullPolicy",
        description="Always, Never or IfNotPresent; defaults to Always for :latest or untagged images, IfNotPresent otherwise.",
    )
    lifecycle: Lifecycle | None = Field(
        None, alias="lifecycle", description="Not allowed for ephemeral containers."
    )
    liveness_probe: Probe | None = Field(
        None, alias="livenessProbe", description="Not allowed for ephemeral containers."
    )
    name: str = Field(
        alias="name", description="Name of the container, unique within the pod (DNS label)."
    )
    ports: list[ContainerPort] | None = Field(
        None,
        alias="ports",
        description="Not allowed for ephemeral containers.",
        json_schema_extra=merge_list("containerPort", map_keys=("containerPort", "protocol")),
    )
    readiness_probe: Probe | None = Field(
        None, alias="readinessProbe", description="Not allowed for ephemeral containers."
    )
    resize_policy: list[ContainerResizePolicy] | None = Field(
        None,
        alias="resizePolicy",
        description="Not allowed for ephemeral containers.",
        json_schema_extra=atomic_list(),
    )
    resources: ResourceRequirements | None = Field(
        None, alias="resources", description="Not allowed for ephemeral containers."
    )
    restart_policy: str | None = Field(
        None, alias="restartPolicy", description="Not allowed for ephemeral containers."
    )
    security_context: SecurityContext | None = Field(
        None,
        alias="securityContext",
        description="Security settings for this container; overrides the pod-level settings.",
    )
    startup_probe: Probe | None = Field(
        None, alias="startupProbe", description="Not allowed for ephemeral containers."
    )
    stdin: bool | None = Field(
        None,
        alias="stdin",
        description="Keep a stdin buffer open for the container; default false.",
    )
    stdin_once: bool | None = Field(
        None,
        alias="stdinOnce",
        description="Close stdin after the first attached client detaches; default false.",
    )
    target_container_name: str | None = Field(
        None,
        alias="targetContainerName",
        description="Name of a container whose namespaces (e.g. process) the ephemeral container joins.",
    )
    termination_message_path: str | None = Field(
        None,
        alias="terminationMessagePath",
        description="File whose contents become the termination message; defaults to /dev/termination-log.",
    )
    termination_message_policy: str | None = Field(
        None,
        alias="terminationMessagePolicy",
        description="File (the default) or FallbackToLogsOnError, which uses the last log lines if the file is empty.",
    )
    tty: bool | None = Field(
        None,
        alias="tty",
        description="Allocate a TTY for the container; needs stdin too. Default false.",
    )
    volume_devices: list[VolumeDevice] | None = Field(
        None,
        alias="volumeDevices",
        description="Raw block devices from volumes to expose in the container.",
        json_schema_extra=merge_list("devicePath"),
    )
    volume_mounts: list[VolumeMount] | None = Field(
        None,
        alias="volumeMounts",
        description="Pod volumes to mount into the container's filesystem.",
        json_schema_extra=merge_list("mountPath"),
    )
    working_dir: str | None = Field(
        None,
        alias="workingDir",
        description="Working directory of the entrypoint; defaults to the image's.",
    )
