"""core/v1 Service and Endpoints."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import IntOrString, KubeModel
from skiff.api.types._core_common import ObjectReference
from skiff.api.types._fields import atomic_list, atomic_map, merge_list, struct_extensions
from skiff.api.types.meta_v1 import Condition, ListMeta, ObjectMeta

__all__ = [
    "ClientIPConfig",
    "EndpointAddress",
    "EndpointPort",
    "EndpointSubset",
    "Endpoints",
    "EndpointsList",
    "LoadBalancerIngress",
    "LoadBalancerStatus",
    "PortStatus",
    "Service",
    "ServiceList",
    "ServicePort",
    "ServiceSpec",
    "ServiceStatus",
    "SessionAffinityConfig",
]


class ClientIPConfig(KubeModel):
    timeout_seconds: int | None = Field(None, alias="timeoutSeconds")


class EndpointAddress(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    hostname: str | None = Field(None, alias="hostname")
    ip: str = Field(alias="ip")
    node_name: str | None = Field(None, alias="nodeName")
    target_ref: ObjectReference | None = Field(None, alias="targetRef")


class EndpointPort(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    app_protocol: str | None = Field(None, alias="appProtocol")
    name: str | None = Field(None, alias="name")
    port: int = Field(alias="port")
    protocol: str | None = Field(None, alias="protocol")


class EndpointSubset(KubeModel):
    addresses: list[EndpointAddress] | None = Field(
        None, alias="addresses", json_schema_extra=atomic_list()
    )
    not_ready_addresses: list[EndpointAddress] | None = Field(
        None, alias="notReadyAddresses", json_schema_extra=atomic_list()
    )
    ports: list[EndpointPort] | None = Field(None, alias="ports", json_schema_extra=atomic_list())


class Endpoints(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "Endpoints")))
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
    subsets: list[EndpointSubset] | None = Field(
        None, alias="subsets", json_schema_extra=atomic_list()
    )


class EndpointsList(KubeModel):
    """A list of Endpoints objects, as returned by the list endpoint."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "EndpointsList")))
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
    items: list[Endpoints] = Field(alias="items", description="The Endpoints objects.")


class PortStatus(KubeModel):
    error: str | None = Field(None, alias="error")
    port: int = Field(alias="port")
    protocol: str = Field(alias="protocol")


class LoadBalancerIngress(KubeModel):
    hostname: str | None = Field(None, alias="hostname")
    ip: str | None = Field(None, alias="ip")
    ip_mode: str | None = Field(None, alias="ipMode")
    ports: list[PortStatus] | None = Field(None, alias="ports", json_schema_extra=atomic_list())


class LoadBalancerStatus(KubeModel):
    ingress: list[LoadBalancerIngress] | None = Field(
        None, alias="ingress", json_schema_extra=atomic_list()
    )


class ServicePort(KubeModel):
    app_protocol: str | None = Field(None, alias="appProtocol")
    name: str | None = Field(None, alias="name")
    node_port: int | None = Field(None, alias="nodePort")
    port: int = Field(alias="port")
    protocol: str | None = Field(None, alias="protocol")
    target_port: IntOrString | None = Field(None, alias="targetPort")


class SessionAffinityConfig(KubeModel):
    client_ip: ClientIPConfig | None = Field(None, alias="clientIP")


class ServiceSpec(KubeModel):
    allocate_load_balancer_node_ports: bool | None = Field(
        None, alias="allocateLoadBalancerNodePorts"
    )
    cluster_ip: str | None = Field(None, alias="clusterIP")
    cluster_ips: list[str] | None = Field(None, alias="clusterIPs", json_schema_extra=atomic_list())
    external_ips: list[str] | None = Field(
        None, alias="externalIPs", json_schema_extra=atomic_list()
    )
    external_name: str | None = Field(None, alias="externalName")
    external_traffic_policy: str | None = Field(None, alias="externalTrafficPolicy")
    health_check_node_port: int | None = Field(None, alias="healthCheckNodePort")
    internal_traffic_policy: str | None = Field(None, alias="internalTrafficPolicy")
    ip_families: list[str] | None = Field(None, alias="ipFamilies", json_schema_extra=atomic_list())
    ip_family_policy: str | None = Field(None, alias="ipFamilyPolicy")
    load_balancer_class: str | None = Field(None, alias="loadBalancerClass")
    load_balancer_ip: str | None = Field(None, alias="loadBalancerIP")
    load_balancer_source_ranges: list[str] | None = Field(
        None, alias="loadBalancerSourceRanges", json_schema_extra=atomic_list()
    )
    ports: list[ServicePort] | None = Field(
        None, alias="ports", json_schema_extra=merge_list("port", map_keys=("port", "protocol"))
    )
    publish_not_ready_addresses: bool | None = Field(None, alias="publishNotReadyAddresses")
    selector: dict[str, str] | None = Field(None, alias="selector", json_schema_extra=atomic_map())
    session_affinity: str | None = Field(None, alias="sessionAffinity")
    session_affinity_config: SessionAffinityConfig | None = Field(
        None, alias="sessionAffinityConfig"
    )
    traffic_distribution: str | None = Field(None, alias="trafficDistribution")
    type: str | None = Field(None, alias="type")


class ServiceStatus(KubeModel):
    conditions: list[Condition] | None = Field(
        None, alias="conditions", json_schema_extra=merge_list("type")
    )
    load_balancer: LoadBalancerStatus | None = Field(None, alias="loadBalancer")


class Service(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "Service")))
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
    spec: ServiceSpec | None = Field(None, alias="spec")
    status: ServiceStatus | None = Field(None, alias="status")


class ServiceList(KubeModel):
    """A list of Service objects, as returned by the list endpoint."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "ServiceList")))
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
    items: list[Service] = Field(alias="items", description="The Service objects.")
