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
    device_path: str = Field(alias="devicePath")
    name: str = Field(alias="name")


class ConfigMapNodeConfigSource(KubeModel):
    kubelet_config_key: str = Field(alias="kubeletConfigKey")
    name: str = Field(alias="name")
    namespace: str = Field(alias="namespace")
    resource_version: str | None = Field(None, alias="resourceVersion")
    uid: str | None = Field(None, alias="uid")


class ContainerImage(KubeModel):
    names: list[str] | None = Field(None, alias="names", json_schema_extra=atomic_list())
    size_bytes: int | None = Field(None, alias="sizeBytes")


class DaemonEndpoint(KubeModel):
    port: int = Field(alias="Port")


class NodeConfigSource(KubeModel):
    config_map: ConfigMapNodeConfigSource | None = Field(None, alias="configMap")


class Taint(KubeModel):
    effect: str = Field(alias="effect")
    key: str = Field(alias="key")
    time_added: Time | None = Field(None, alias="timeAdded")
    value: str | None = Field(None, alias="value")


class NodeSpec(KubeModel):
    config_source: NodeConfigSource | None = Field(None, alias="configSource")
    external_id: str | None = Field(None, alias="externalID")
    pod_cidr: str | None = Field(None, alias="podCIDR")
    pod_cidrs: list[str] | None = Field(
        None, alias="podCIDRs", json_schema_extra=set_list(strategy="merge")
    )
    provider_id: str | None = Field(None, alias="providerID")
    taints: list[Taint] | None = Field(None, alias="taints", json_schema_extra=atomic_list())
    unschedulable: bool | None = Field(None, alias="unschedulable")


class NodeAddress(KubeModel):
    address: str = Field(alias="address")
    type: str = Field(alias="type")


class NodeCondition(KubeModel):
    last_heartbeat_time: Time | None = Field(None, alias="lastHeartbeatTime")
    last_transition_time: Time | None = Field(None, alias="lastTransitionTime")
    message: str | None = Field(None, alias="message")
    reason: str | None = Field(None, alias="reason")
    status: str = Field(alias="status")
    type: str = Field(alias="type")


class NodeConfigStatus(KubeModel):
    active: NodeConfigSource | None = Field(None, alias="active")
    assigned: NodeConfigSource | None = Field(None, alias="assigned")
    error: str | None = Field(None, alias="error")
    last_known_good: NodeConfigSource | None = Field(None, alias="lastKnownGood")


class NodeDaemonEndpoints(KubeModel):
    kubelet_endpoint: DaemonEndpoint | None = Field(None, alias="kubeletEndpoint")


class NodeFeatures(KubeModel):
    supplemental_groups_policy: bool | None = Field(None, alias="supplementalGroupsPolicy")


class NodeSystemInfo(KubeModel):
    architecture: str = Field(alias="architecture")
    boot_id: str = Field(alias="bootID")
    container_runtime_version: str = Field(alias="containerRuntimeVersion")
    kernel_version: str = Field(alias="kernelVersion")
    kube_proxy_version: str = Field(alias="kubeProxyVersion")
    kubelet_version: str = Field(alias="kubeletVersion")
    machine_id: str = Field(alias="machineID")
    operating_system: str = Field(alias="operatingSystem")
    os_image: str = Field(alias="osImage")
    system_uuid: str = Field(alias="systemUUID")


class NodeRuntimeHandlerFeatures(KubeModel):
    recursive_read_only_mounts: bool | None = Field(None, alias="recursiveReadOnlyMounts")
    user_namespaces: bool | None = Field(None, alias="userNamespaces")


class NodeRuntimeHandler(KubeModel):
    features: NodeRuntimeHandlerFeatures | None = Field(None, alias="features")
    name: str | None = Field(None, alias="name")


class NodeStatus(KubeModel):
    addresses: list[NodeAddress] | None = Field(
        None, alias="addresses", json_schema_extra=merge_list("type")
    )
    allocatable: dict[str, Quantity] | None = Field(None, alias="allocatable")
    capacity: dict[str, Quantity] | None = Field(None, alias="capacity")
    conditions: list[NodeCondition] | None = Field(
        None, alias="conditions", json_schema_extra=merge_list("type")
    )
    config: NodeConfigStatus | None = Field(None, alias="config")
    daemon_endpoints: NodeDaemonEndpoints | None = Field(None, alias="daemonEndpoints")
    features: NodeFeatures | None = Field(None, alias="features")
    images: list[ContainerImage] | None = Field(
        None, alias="images", json_schema_extra=atomic_list()
    )
    node_info: NodeSystemInfo | None = Field(None, alias="nodeInfo")
    phase: str | None = Field(None, alias="phase")
    runtime_handlers: list[NodeRuntimeHandler] | None = Field(
        None, alias="runtimeHandlers", json_schema_extra=atomic_list()
    )
    volumes_attached: list[AttachedVolume] | None = Field(
        None, alias="volumesAttached", json_schema_extra=atomic_list()
    )
    volumes_in_use: list[str] | None = Field(
        None, alias="volumesInUse", json_schema_extra=atomic_list()
    )


class Node(KubeModel):
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
    spec: NodeSpec | None = Field(None, alias="spec")
    status: NodeStatus | None = Field(None, alias="status")


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
