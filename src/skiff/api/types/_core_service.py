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
    """Settings of ClientIP session affinity."""

    timeout_seconds: int | None = Field(
        None,
        alias="timeoutSeconds",
        description="How long a client sticks to the same endpoint (1-86400); default 10800 (3 hours).",
    )


class EndpointAddress(KubeModel):
    """One endpoint address of a Service."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    hostname: str | None = Field(
        None,
        alias="hostname",
        description="Host name of the endpoint, used for per-pod DNS records.",
    )
    ip: str = Field(alias="ip", description="The endpoint's IP address.")
    node_name: str | None = Field(None, alias="nodeName", description="Node hosting the endpoint.")
    target_ref: ObjectReference | None = Field(
        None, alias="targetRef", description="The object (usually a pod) behind the address."
    )


class EndpointPort(KubeModel):
    """A port of a set of endpoints."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    app_protocol: str | None = Field(
        None,
        alias="appProtocol",
        description="Application protocol hint, e.g. http or kubernetes.io/h2c.",
    )
    name: str | None = Field(
        None,
        alias="name",
        description="Name matching the Service port's name; optional when there is one port.",
    )
    port: int = Field(alias="port", description="Port number.")
    protocol: str | None = Field(
        None, alias="protocol", description="TCP (the default), UDP or SCTP."
    )


class EndpointSubset(KubeModel):
    """A group of addresses that all expose the same ports."""

    addresses: list[EndpointAddress] | None = Field(
        None,
        alias="addresses",
        description="Addresses that are ready to receive traffic.",
        json_schema_extra=atomic_list(),
    )
    not_ready_addresses: list[EndpointAddress] | None = Field(
        None,
        alias="notReadyAddresses",
        description="Addresses that exist but are not ready yet.",
        json_schema_extra=atomic_list(),
    )
    ports: list[EndpointPort] | None = Field(
        None,
        alias="ports",
        description="Ports available on every address of the subset.",
        json_schema_extra=atomic_list(),
    )


class Endpoints(KubeModel):
    """The network endpoints behind a Service, maintained by the endpoints controller for Services with a selector."""

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
        None,
        alias="subsets",
        description="Groups of addresses and their ports; the union of all subsets is the full endpoint set.",
        json_schema_extra=atomic_list(),
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
    """The state of one port of a load balancer."""

    error: str | None = Field(
        None, alias="error", description="Problem with the port in CamelCase; empty when it works."
    )
    port: int = Field(alias="port", description="The port number.")
    protocol: str = Field(alias="protocol", description="TCP, UDP or SCTP.")


class LoadBalancerIngress(KubeModel):
    """One entry point of a load balancer."""

    hostname: str | None = Field(
        None,
        alias="hostname",
        description="DNS name of the load balancer, for DNS-based balancers.",
    )
    ip: str | None = Field(
        None, alias="ip", description="IP address of the load balancer, for IP-based balancers."
    )
    ip_mode: str | None = Field(
        None,
        alias="ipMode",
        description="VIP (traffic arrives with the load balancer IP as destination) or Proxy.",
    )
    ports: list[PortStatus] | None = Field(
        None,
        alias="ports",
        description="Status of each of the Service's ports on this entry point.",
        json_schema_extra=atomic_list(),
    )


class LoadBalancerStatus(KubeModel):
    """The state of a load balancer."""

    ingress: list[LoadBalancerIngress] | None = Field(
        None,
        alias="ingress",
        description="Entry points of the load balancer.",
        json_schema_extra=atomic_list(),
    )


class ServicePort(KubeModel):
    """One port a Service exposes and where it sends the traffic."""

    app_protocol: str | None = Field(
        None,
        alias="appProtocol",
        description="Application protocol hint, e.g. http or kubernetes.io/h2c.",
    )
    name: str | None = Field(
        None,
        alias="name",
        description="Name of the port, required and unique when there are several ports.",
    )
    node_port: int | None = Field(
        None,
        alias="nodePort",
        description="Port opened on every node for NodePort and LoadBalancer Services; allocated from the node port range if unset.",
    )
    port: int = Field(alias="port", description="Port number the Service exposes.")
    protocol: str | None = Field(
        None, alias="protocol", description="TCP (the default), UDP or SCTP."
    )
    target_port: IntOrString | None = Field(
        None,
        alias="targetPort",
        description="Port number or named container port on the pods; defaults to port.",
    )


class SessionAffinityConfig(KubeModel):
    """Session affinity settings."""

    client_ip: ClientIPConfig | None = Field(
        None, alias="clientIP", description="Settings for ClientIP affinity."
    )


class ServiceSpec(KubeModel):
    """Desired behaviour of a Service."""

    allocate_load_balancer_node_ports: bool | None = Field(
        None,
        alias="allocateLoadBalancerNodePorts",
        description="Whether LoadBalancer Services get node ports; default true.",
    )
    cluster_ip: str | None = Field(
        None,
        alias="clusterIP",
        description="Virtual IP of the Service; allocated if empty, None makes a headless Service. Immutable.",
    )
    cluster_ips: list[str] | None = Field(
        None,
        alias="clusterIPs",
        description="Virtual IPs, one per IP family; the first equals clusterIP.",
        json_schema_extra=atomic_list(),
    )
    external_ips: list[str] | None = Field(
        None,
        alias="externalIPs",
        description="Extra IPs, not managed by the cluster, on which nodes also accept traffic for the Service.",
        json_schema_extra=atomic_list(),
    )
    external_name: str | None = Field(
        None,
        alias="externalName",
        description="DNS name an ExternalName Service aliases (a CNAME record).",
    )
    external_traffic_policy: str | None = Field(
        None,
        alias="externalTrafficPolicy",
        description="Cluster (the default; any node forwards) or Local (only nodes with local endpoints, keeping the client IP).",
    )
    health_check_node_port: int | None = Field(
        None,
        alias="healthCheckNodePort",
        description="Node port the load balancer health-checks for Local external traffic; allocated if unset.",
    )
    internal_traffic_policy: str | None = Field(
        None,
        alias="internalTrafficPolicy",
        description="Cluster (the default) or Local: whether in-cluster traffic may go to endpoints on other nodes.",
    )
    ip_families: list[str] | None = Field(
        None,
        alias="ipFamilies",
        description="IP families (IPv4, IPv6) of the Service, in order.",
        json_schema_extra=atomic_list(),
    )
    ip_family_policy: str | None = Field(
        None,
        alias="ipFamilyPolicy",
        description="SingleStack (the default), PreferDualStack or RequireDualStack.",
    )
    load_balancer_class: str | None = Field(
        None,
        alias="loadBalancerClass",
        description="Which load balancer implementation handles a LoadBalancer Service; immutable.",
    )
    load_balancer_ip: str | None = Field(
        None,
        alias="loadBalancerIP",
        description="Deprecated: requested load balancer IP, where the implementation supports it.",
    )
    load_balancer_source_ranges: list[str] | None = Field(
        None,
        alias="loadBalancerSourceRanges",
        description="Client CIDRs allowed through the load balancer.",
        json_schema_extra=atomic_list(),
    )
    ports: list[ServicePort] | None = Field(
        None,
        alias="ports",
        description="Ports the Service exposes.",
        json_schema_extra=merge_list("port", map_keys=("port", "protocol")),
    )
    publish_not_ready_addresses: bool | None = Field(
        None,
        alias="publishNotReadyAddresses",
        description="Publish endpoints of pods that are not ready yet; default false.",
    )
    selector: dict[str, str] | None = Field(
        None,
        alias="selector",
        description="Labels of the pods that back the Service; without it the Endpoints are managed by hand.",
        json_schema_extra=atomic_map(),
    )
    session_affinity: str | None = Field(
        None,
        alias="sessionAffinity",
        description="None (the default) or ClientIP: keep each client on the same endpoint.",
    )
    session_affinity_config: SessionAffinityConfig | None = Field(
        None, alias="sessionAffinityConfig", description="Settings of the session affinity."
    )
    traffic_distribution: str | None = Field(
        None,
        alias="trafficDistribution",
        description="Routing preference, e.g. PreferClose for topologically close endpoints.",
    )
    type: str | None = Field(
        None,
        alias="type",
        description="ClusterIP (the default), NodePort, LoadBalancer or ExternalName.",
    )


class ServiceStatus(KubeModel):
    """Observed state of a Service."""

    conditions: list[Condition] | None = Field(
        None,
        alias="conditions",
        description="Current conditions of the Service.",
        json_schema_extra=merge_list("type"),
    )
    load_balancer: LoadBalancerStatus | None = Field(
        None, alias="loadBalancer", description="State of the load balancer, if any."
    )


class Service(KubeModel):
    """A stable virtual IP and DNS name that spreads traffic across the pods a selector picks."""

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
    spec: ServiceSpec | None = Field(
        None,
        alias="spec",
        description="Desired behaviour of the Service: type, ports and selector.",
    )
    status: ServiceStatus | None = Field(
        None,
        alias="status",
        description="Most recently observed state, such as the load balancer address; read-only.",
    )


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
