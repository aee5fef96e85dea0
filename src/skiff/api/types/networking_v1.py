"""The ``networking.k8s.io/v1`` group: Ingress and NetworkPolicy."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import IntOrString, KubeModel
from skiff.api.types._fields import atomic_list, struct_extensions
from skiff.api.types.core_v1 import TypedLocalObjectReference
from skiff.api.types.meta_v1 import LabelSelector, ListMeta, ObjectMeta

__all__ = [
    "HTTPIngressPath",
    "HTTPIngressRuleValue",
    "IPBlock",
    "Ingress",
    "IngressBackend",
    "IngressList",
    "IngressLoadBalancerIngress",
    "IngressLoadBalancerStatus",
    "IngressPortStatus",
    "IngressRule",
    "IngressServiceBackend",
    "IngressSpec",
    "IngressStatus",
    "IngressTLS",
    "NetworkPolicy",
    "NetworkPolicyEgressRule",
    "NetworkPolicyIngressRule",
    "NetworkPolicyList",
    "NetworkPolicyPeer",
    "NetworkPolicyPort",
    "NetworkPolicySpec",
    "ServiceBackendPort",
]


class ServiceBackendPort(KubeModel):
    """A Service port by number or name."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    name: str | None = Field(None, alias="name", description="Port name; exclusive with number.")
    number: int | None = Field(
        None, alias="number", description="Port number; exclusive with name."
    )


class IngressServiceBackend(KubeModel):
    """A Service port as Ingress backend."""

    name: str = Field(alias="name", description="Name of the Service.")
    port: ServiceBackendPort | None = Field(
        None, alias="port", description="The Service port, by number or name."
    )


class IngressBackend(KubeModel):
    """A destination for Ingress traffic: a Service port or another resource."""

    resource: TypedLocalObjectReference | None = Field(
        None,
        alias="resource",
        description="A resource of another kind in the namespace; exclusive with service.",
    )
    service: IngressServiceBackend | None = Field(
        None, alias="service", description="A Service and port."
    )


class HTTPIngressPath(KubeModel):
    """A path routed to a backend."""

    backend: IngressBackend = Field(alias="backend", description="Where matching requests go.")
    path: str | None = Field(None, alias="path", description="Path to match; must start with /.")
    path_type: str = Field(
        alias="pathType", description="Exact, Prefix (by path elements) or ImplementationSpecific."
    )


class HTTPIngressRuleValue(KubeModel):
    """HTTP routes of an Ingress rule."""

    paths: list[HTTPIngressPath] = Field(
        alias="paths", description="Paths and their backends.", json_schema_extra=atomic_list()
    )


class IPBlock(KubeModel):
    """A CIDR range, with exceptions, allowed by a network policy."""

    cidr: str = Field(alias="cidr", description="The range, e.g. 192.168.1.0/24.")
    except_: list[str] | None = Field(
        None,
        alias="except",
        description="Sub-ranges excluded from cidr.",
        json_schema_extra=atomic_list(),
    )


class IngressRule(KubeModel):
    """Routes for a host."""

    host: str | None = Field(
        None,
        alias="host",
        description="Host name to match; may start with a *. wildcard. Empty matches all hosts.",
    )
    http: HTTPIngressRuleValue | None = Field(None, alias="http", description="HTTP routes.")


class IngressTLS(KubeModel):
    """TLS for a set of hosts."""

    hosts: list[str] | None = Field(
        None,
        alias="hosts",
        description="Hosts in the certificate; default is the wildcard host of the controller.",
        json_schema_extra=atomic_list(),
    )
    secret_name: str | None = Field(
        None, alias="secretName", description="Secret holding the certificate and key."
    )


class IngressSpec(KubeModel):
    """Desired state of an Ingress."""

    default_backend: IngressBackend | None = Field(
        None, alias="defaultBackend", description="Backend for requests no rule matches."
    )
    ingress_class_name: str | None = Field(
        None,
        alias="ingressClassName",
        description="IngressClass of the controller that implements this Ingress.",
    )
    rules: list[IngressRule] | None = Field(
        None, alias="rules", description="Host and path rules.", json_schema_extra=atomic_list()
    )
    tls: list[IngressTLS] | None = Field(
        None,
        alias="tls",
        description="TLS settings per set of hosts.",
        json_schema_extra=atomic_list(),
    )


class IngressPortStatus(KubeModel):
    """The state of one port of an Ingress load balancer."""

    error: str | None = Field(
        None, alias="error", description="Problem with the port in CamelCase; empty when it works."
    )
    port: int = Field(alias="port", description="The port number.")
    protocol: str = Field(alias="protocol", description="TCP, UDP or SCTP.")


class IngressLoadBalancerIngress(KubeModel):
    """One entry point of an Ingress load balancer."""

    hostname: str | None = Field(None, alias="hostname", description="DNS name of the entry point.")
    ip: str | None = Field(None, alias="ip", description="IP of the entry point.")
    ports: list[IngressPortStatus] | None = Field(
        None, alias="ports", description="Status of each port.", json_schema_extra=atomic_list()
    )


class IngressLoadBalancerStatus(KubeModel):
    """The state of an Ingress load balancer."""

    ingress: list[IngressLoadBalancerIngress] | None = Field(
        None, alias="ingress", description="Entry points.", json_schema_extra=atomic_list()
    )


class IngressStatus(KubeModel):
    """Observed state of an Ingress."""

    load_balancer: IngressLoadBalancerStatus | None = Field(
        None, alias="loadBalancer", description="Addresses of the load balancer."
    )


class Ingress(KubeModel):
    """HTTP(S) routing from outside the cluster to Services, by host and path."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("networking.k8s.io", "v1", "Ingress"))
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
    spec: IngressSpec | None = Field(
        None, alias="spec", description="Rules, TLS and default backend."
    )
    status: IngressStatus | None = Field(
        None, alias="status", description="Load balancer addresses; read-only."
    )


class IngressList(KubeModel):
    """A list of Ingress objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("networking.k8s.io", "v1", "IngressList"))
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
    items: list[Ingress] = Field(alias="items", description="The Ingress objects.")


class NetworkPolicyPort(KubeModel):
    """A port or port range allowed by a rule."""

    end_port: int | None = Field(
        None, alias="endPort", description="Last port of a range starting at port."
    )
    port: IntOrString | None = Field(
        None, alias="port", description="Port number or named port; empty matches all ports."
    )
    protocol: str | None = Field(
        None, alias="protocol", description="TCP (the default), UDP or SCTP."
    )


class NetworkPolicyPeer(KubeModel):
    """A set of peers: pods by selector (optionally in other namespaces), or an IP range."""

    ip_block: IPBlock | None = Field(
        None, alias="ipBlock", description="An IP range; exclusive with the selectors."
    )
    namespace_selector: LabelSelector | None = Field(
        None,
        alias="namespaceSelector",
        description="Namespaces to take pods from; empty selects all namespaces.",
    )
    pod_selector: LabelSelector | None = Field(
        None,
        alias="podSelector",
        description="Pods to allow; with namespaceSelector, in those namespaces, otherwise in the policy's namespace.",
    )


class NetworkPolicyEgressRule(KubeModel):
    """Allowed outgoing traffic: to peers on ports."""

    ports: list[NetworkPolicyPort] | None = Field(
        None,
        alias="ports",
        description="Destination ports; empty allows all ports.",
        json_schema_extra=atomic_list(),
    )
    to: list[NetworkPolicyPeer] | None = Field(
        None,
        alias="to",
        description="Destinations; empty allows all destinations.",
        json_schema_extra=atomic_list(),
    )


class NetworkPolicyIngressRule(KubeModel):
    """Allowed incoming traffic: from peers on ports."""

    from_: list[NetworkPolicyPeer] | None = Field(
        None,
        alias="from",
        description="Sources; empty allows all sources.",
        json_schema_extra=atomic_list(),
    )
    ports: list[NetworkPolicyPort] | None = Field(
        None,
        alias="ports",
        description="Destination ports; empty allows all ports.",
        json_schema_extra=atomic_list(),
    )


class NetworkPolicySpec(KubeModel):
    """Desired behaviour of a network policy."""

    egress: list[NetworkPolicyEgressRule] | None = Field(
        None,
        alias="egress",
        description="Allowed outgoing traffic, with Egress in policyTypes.",
        json_schema_extra=atomic_list(),
    )
    ingress: list[NetworkPolicyIngressRule] | None = Field(
        None,
        alias="ingress",
        description="Allowed incoming traffic; empty denies all incoming traffic.",
        json_schema_extra=atomic_list(),
    )
    pod_selector: LabelSelector = Field(
        alias="podSelector",
        description="Pods the policy applies to; empty selects all pods in the namespace.",
    )
    policy_types: list[str] | None = Field(
        None,
        alias="policyTypes",
        description="Ingress, Egress or both; defaults from which rule lists are present.",
        json_schema_extra=atomic_list(),
    )


class NetworkPolicy(KubeModel):
    """Which traffic may reach or leave the pods a selector picks."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("networking.k8s.io", "v1", "NetworkPolicy"))
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
    spec: NetworkPolicySpec | None = Field(
        None, alias="spec", description="Selected pods and allowed traffic."
    )


class NetworkPolicyList(KubeModel):
    """A list of NetworkPolicy objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("networking.k8s.io", "v1", "NetworkPolicyList"))
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
    items: list[NetworkPolicy] = Field(alias="items", description="The NetworkPolicy objects.")
