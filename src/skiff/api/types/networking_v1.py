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
    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    name: str | None = Field(None, alias="name")
    number: int | None = Field(None, alias="number")


class IngressServiceBackend(KubeModel):
    name: str = Field(alias="name")
    port: ServiceBackendPort | None = Field(None, alias="port")


class IngressBackend(KubeModel):
    resource: TypedLocalObjectReference | None = Field(None, alias="resource")
    service: IngressServiceBackend | None = Field(None, alias="service")


class HTTPIngressPath(KubeModel):
    backend: IngressBackend = Field(alias="backend")
    path: str | None = Field(None, alias="path")
    path_type: str = Field(alias="pathType")


class HTTPIngressRuleValue(KubeModel):
    paths: list[HTTPIngressPath] = Field(alias="paths", json_schema_extra=atomic_list())


class IPBlock(KubeModel):
    cidr: str = Field(alias="cidr")
    except_: list[str] | None = Field(None, alias="except", json_schema_extra=atomic_list())


class IngressRule(KubeModel):
    host: str | None = Field(None, alias="host")
    http: HTTPIngressRuleValue | None = Field(None, alias="http")


class IngressTLS(KubeModel):
    hosts: list[str] | None = Field(None, alias="hosts", json_schema_extra=atomic_list())
    secret_name: str | None = Field(None, alias="secretName")


class IngressSpec(KubeModel):
    default_backend: IngressBackend | None = Field(None, alias="defaultBackend")
    ingress_class_name: str | None = Field(None, alias="ingressClassName")
    rules: list[IngressRule] | None = Field(None, alias="rules", json_schema_extra=atomic_list())
    tls: list[IngressTLS] | None = Field(None, alias="tls", json_schema_extra=atomic_list())


class IngressPortStatus(KubeModel):
    error: str | None = Field(None, alias="error")
    port: int = Field(alias="port")
    protocol: str = Field(alias="protocol")


class IngressLoadBalancerIngress(KubeModel):
    hostname: str | None = Field(None, alias="hostname")
    ip: str | None = Field(None, alias="ip")
    ports: list[IngressPortStatus] | None = Field(
        None, alias="ports", json_schema_extra=atomic_list()
    )


class IngressLoadBalancerStatus(KubeModel):
    ingress: list[IngressLoadBalancerIngress] | None = Field(
        None, alias="ingress", json_schema_extra=atomic_list()
    )


class IngressStatus(KubeModel):
    load_balancer: IngressLoadBalancerStatus | None = Field(None, alias="loadBalancer")


class Ingress(KubeModel):
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
    spec: IngressSpec | None = Field(None, alias="spec")
    status: IngressStatus | None = Field(None, alias="status")


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
    end_port: int | None = Field(None, alias="endPort")
    port: IntOrString | None = Field(None, alias="port")
    protocol: str | None = Field(None, alias="protocol")


class NetworkPolicyPeer(KubeModel):
    ip_block: IPBlock | None = Field(None, alias="ipBlock")
    namespace_selector: LabelSelector | None = Field(None, alias="namespaceSelector")
    pod_selector: LabelSelector | None = Field(None, alias="podSelector")


class NetworkPolicyEgressRule(KubeModel):
    ports: list[NetworkPolicyPort] | None = Field(
        None, alias="ports", json_schema_extra=atomic_list()
    )
    to: list[NetworkPolicyPeer] | None = Field(None, alias="to", json_schema_extra=atomic_list())


class NetworkPolicyIngressRule(KubeModel):
    from_: list[NetworkPolicyPeer] | None = Field(
        None, alias="from", json_schema_extra=atomic_list()
    )
    ports: list[NetworkPolicyPort] | None = Field(
        None, alias="ports", json_schema_extra=atomic_list()
    )


class NetworkPolicySpec(KubeModel):
    egress: list[NetworkPolicyEgressRule] | None = Field(
        None, alias="egress", json_schema_extra=atomic_list()
    )
    ingress: list[NetworkPolicyIngressRule] | None = Field(
        None, alias="ingress", json_schema_extra=atomic_list()
    )
    pod_selector: LabelSelector = Field(alias="podSelector")
    policy_types: list[str] | None = Field(
        None, alias="policyTypes", json_schema_extra=atomic_list()
    )


class NetworkPolicy(KubeModel):
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
    spec: NetworkPolicySpec | None = Field(None, alias="spec")


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
