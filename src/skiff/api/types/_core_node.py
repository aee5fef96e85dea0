"""core/v1 Node: spec, status, taints and the node agent's reports."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, Quantity, Time
from skiff.api.types._fields import atomic_list, merge_list, set_list, struct_extensions
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = [
    "AttachedVolume",
    "ConfigMapNodeConfigSource",
    "ContainerImage",
    "DaemonEndpoint",
    "Node",
    "NodeAddress",
    "NodeCondition",
    "NodeConfigSource",
    "NodeConfigStatus",
    "NodeDaemonEndpoints",
    "NodeFeatures",
    "NodeList",
    "NodeRuntimeHandler",
    "NodeRuntimeHandlerFeatures",
    "NodeSpec",
    "NodeStatus",
    "NodeSystemInfo",
    "Taint",
]


class AttachedVolume(KubeModel):
    """A volume attached to a node."""

    device_path: str = Field(
        alias="devicePath", description="Where the device is available on the node."
    )
    name: str = Field(alias="name", description="Name of the attached volume.")


class ConfigMapNodeConfigSource(KubeModel):
    """A ConfigMap holding node agent configuration (dynamic kubelet config; removed upstream)."""

    kubelet_config_key: str = Field(
        alias="kubeletConfigKey", description="Key of the ConfigMap holding the configuration."
    )
    name: str = Field(alias="name", description="Name of the ConfigMap.")
    namespace: str = Field(alias="namespace", description="Namespace of the ConfigMap.")
    resource_version: str | None = Field(
        None, alias="resourceVersion", description="Version of the ConfigMap; set only in status."
    )
    uid: str | None = Field(
        None, alias="uid", description="UID of the ConfigMap; set only in status."
    )


class ContainerImage(KubeModel):
    """An image present on a node."""

    names: list[str] | None = Field(
        None,
        alias="names",
        description="Names and digests the image is known by.",
        json_schema_extra=atomic_list(),
    )
    size_bytes: int | None = Field(
        None, alias="sizeBytes", description="Size of the image in bytes."
    )


class DaemonEndpoint(KubeModel):
    """A port a node daemon listens on."""

    port: int = Field(alias="Port", description="The port number.")


class NodeConfigSource(KubeModel):
    """Source of node agent configuration (dynamic kubelet config; removed upstream)."""

    config_map: ConfigMapNodeConfigSource | None = Field(
        None, alias="configMap", description="The ConfigMap holding the configuration."
    )


class Taint(KubeModel):
    """A mark on a node that repels pods that do not tolerate it."""

    effect: str = Field(alias="effect", description="NoSchedule, PreferNoSchedule or NoExecute.")
    key: str = Field(alias="key", description="Taint key.")
    time_added: Time | None = Field(
        None, alias="timeAdded", description="When a NoExecute taint was added."
    )
    value: str | None = Field(None, alias="value", description="Taint value.")


class NodeSpec(KubeModel):
    """Configuration of a node."""

    config_source: NodeConfigSource | None = Field(
        None, alias="configSource", description="Deprecated dynamic configuration source; ignored."
    )
    external_id: str | None = Field(None, alias="externalID", description="Deprecated; ignored.")
    pod_cidr: str | None = Field(
        None, alias="podCIDR", description="Pod IP range assigned to the node."
    )
    pod_cidrs: list[str] | None = Field(
        None,
        alias="podCIDRs",
        description="Pod IP ranges, one per IP family; the first equals podCIDR.",
        json_schema_extra=set_list(strategy="merge"),
    )
    provider_id: str | None = Field(
        None,
        alias="providerID",
        description="Cloud provider's ID of the machine, as <provider>://<id>.",
    )
    taints: list[Taint] | None = Field(
        None,
        alias="taints",
        description="Taints that repel pods not tolerating them.",
        json_schema_extra=atomic_list(),
    )
    unschedulable: bool | None = Field(
        None,
        alias="unschedulable",
        description="If true, no new pods are scheduled to the node (kubectl cordon); default false.",
    )


class NodeAddress(KubeModel):
    """One address of a node."""

    address: str = Field(alias="address", description="The address.")
    type: str = Field(
        alias="type", description="Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS."
    )


class NodeCondition(KubeModel):
    """One condition of a node, e.g. Ready, MemoryPressure or DiskPressure."""

    last_heartbeat_time: Time | None = Field(
        None,
        alias="lastHeartbeatTime",
        description="When the node agent last confirmed the condition.",
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


class NodeConfigStatus(KubeModel):
    """Status of dynamic node agent configuration (removed upstream)."""

    active: NodeConfigSource | None = Field(
        None, alias="active", description="The configuration in use."
    )
    assigned: NodeConfigSource | None = Field(
        None, alias="assigned", description="The configuration the node was asked to use."
    )
    error: str | None = Field(
        None, alias="error", description="Problem applying the configuration."
    )
    last_known_good: NodeConfigSource | None = Field(
        None, alias="lastKnownGood", description="The configuration to fall back to."
    )


class NodeDaemonEndpoints(KubeModel):
    """Ports of the daemons running on a node."""

    kubelet_endpoint: DaemonEndpoint | None = Field(
        None, alias="kubeletEndpoint", description="The port of the node agent's API."
    )


class NodeFeatures(KubeModel):
    """Optional features a node supports."""

    supplemental_groups_policy: bool | None = Field(
        None,
        alias="supplementalGroupsPolicy",
        description="Whether the node honours a pod's supplementalGroupsPolicy.",
    )


class NodeSystemInfo(KubeModel):
    """Identity and software versions of a node."""

    architecture: str = Field(alias="architecture", description="CPU architecture, e.g. amd64.")
    boot_id: str = Field(alias="bootID", description="ID of the current boot.")
    container_runtime_version: str = Field(
        alias="containerRuntimeVersion",
        description="Runtime name and version, as <runtime>://<version>.",
    )
    kernel_version: str = Field(alias="kernelVersion", description="Kernel version (uname -r).")
    kube_proxy_version: str = Field(
        alias="kubeProxyVersion", description="Deprecated; not reliable."
    )
    kubelet_version: str = Field(alias="kubeletVersion", description="Version of the node agent.")
    machine_id: str = Field(alias="machineID", description="Machine ID (/etc/machine-id).")
    operating_system: str = Field(
        alias="operatingSystem", description="Operating system, e.g. linux."
    )
    os_image: str = Field(
        alias="osImage", description="Operating system image, e.g. from /etc/os-release."
    )
    system_uuid: str = Field(alias="systemUUID", description="System UUID from the hardware.")


class NodeRuntimeHandlerFeatures(KubeModel):
    """Features of a runtime handler."""

    recursive_read_only_mounts: bool | None = Field(
        None,
        alias="recursiveReadOnlyMounts",
        description="Whether recursive read-only mounts are supported.",
    )
    user_namespaces: bool | None = Field(
        None, alias="userNamespaces", description="Whether user namespaces are supported."
    )


class NodeRuntimeHandler(KubeModel):
    """A container runtime handler available on a node."""

    features: NodeRuntimeHandlerFeatures | None = Field(
        None, alias="features", description="Features the handler supports."
    )
    name: str | None = Field(
        None, alias="name", description="Handler name; empty for the default handler."
    )


class NodeStatus(KubeModel):
    """Observed state of a node."""

    addresses: list[NodeAddress] | None = Field(
        None,
        alias="addresses",
        description="Addresses of the node.",
        json_schema_extra=merge_list("type"),
    )
    allocatable: dict[str, Quantity] | None = Field(
        None,
        alias="allocatable",
        description="Resources available to pods, i.e. capacity minus reserved; defaults to capacity.",
    )
    capacity: dict[str, Quantity] | None = Field(
        None, alias="capacity", description="Total resources of the node (cpu, memory, pods, ...)."
    )
    conditions: list[NodeCondition] | None = Field(
        None,
        alias="conditions",
        description="Current conditions of the node, such as Ready.",
        json_schema_extra=merge_list("type"),
    )
    config: NodeConfigStatus | None = Field(
        None, alias="config", description="Status of dynamic configuration (unused)."
    )
    daemon_endpoints: NodeDaemonEndpoints | None = Field(
        None, alias="daemonEndpoints", description="Ports of daemons on the node."
    )
    features: NodeFeatures | None = Field(
        None, alias="features", description="Optional features the node supports."
    )
    images: list[ContainerImage] | None = Field(
        None,
        alias="images",
        description="Images present on the node.",
        json_schema_extra=atomic_list(),
    )
    node_info: NodeSystemInfo | None = Field(
        None, alias="nodeInfo", description="Identity and versions of the node's software."
    )
    phase: str | None = Field(None, alias="phase", description="Deprecated and unused.")
    runtime_handlers: list[NodeRuntimeHandler] | None = Field(
        None,
        alias="runtimeHandlers",
        description="Container runtime handlers available.",
        json_schema_extra=atomic_list(),
    )
    volumes_attached: list[AttachedVolume] | None = Field(
        None,
        alias="volumesAttached",
        description="Volumes attached to the node.",
        json_schema_extra=atomic_list(),
    )
    volumes_in_use: list[str] | None = Field(
        None,
        alias="volumesInUse",
        description="Volumes mounted by pods on the node.",
        json_schema_extra=atomic_list(),
    )


class Node(KubeModel):
    """A machine that runs pods, registered by its node agent."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "Node")))
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
    spec: NodeSpec | None = Field(
        None,
        alias="spec",
        description="Configuration of the node: pod CIDRs, taints and schedulability.",
    )
    status: NodeStatus | None = Field(
        None,
        alias="status",
        description="Most recently observed state of the node, reported by its agent; read-only.",
    )


class NodeList(KubeModel):
    """A list of Node objects, as returned by the list endpoint."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "NodeList")))
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
    items: list[Node] = Field(alias="items", description="The Node objects.")
