"""The ``discovery.k8s.io/v1`` group: EndpointSlice."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel
from skiff.api.types._fields import atomic_list, set_list, struct_extensions
from skiff.api.types.core_v1 import ObjectReference
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = [
    "Endpoint",
    "EndpointConditions",
    "EndpointHints",
    "EndpointPort",
    "EndpointSlice",
    "EndpointSliceList",
    "ForZone",
]


class EndpointConditions(KubeModel):
    """Readiness of an endpoint."""

    ready: bool | None = Field(
        None,
        alias="ready",
        description="Ready to receive traffic; null means unknown, treated as ready.",
    )
    serving: bool | None = Field(
        None,
        alias="serving",
        description="Ready regardless of termination; lets terminating backends keep serving.",
    )
    terminating: bool | None = Field(
        None, alias="terminating", description="The backend is shutting down."
    )


class ForZone(KubeModel):
    """A zone an endpoint should serve."""

    name: str = Field(alias="name", description="Name of the zone.")


class EndpointHints(KubeModel):
    """Routing hints of an endpoint."""

    for_zones: list[ForZone] | None = Field(
        None,
        alias="forZones",
        description="Zones that should route to this endpoint.",
        json_schema_extra=atomic_list(),
    )


class Endpoint(KubeModel):
    """One backend of a Service in an EndpointSlice."""

    addresses: list[str] = Field(
        alias="addresses",
        description="Addresses of the backend (usually one), of the slice's address type.",
        json_schema_extra=set_list(),
    )
    conditions: EndpointConditions | None = Field(
        None, alias="conditions", description="Readiness of the backend."
    )
    deprecated_topology: dict[str, str] | None = Field(
        None,
        alias="deprecatedTopology",
        description="Deprecated topology labels; use nodeName and zone.",
    )
    hints: EndpointHints | None = Field(
        None, alias="hints", description="Routing hints for topology-aware routing."
    )
    hostname: str | None = Field(
        None, alias="hostname", description="Host name of the backend, for DNS."
    )
    node_name: str | None = Field(None, alias="nodeName", description="Node hosting the backend.")
    target_ref: ObjectReference | None = Field(
        None, alias="targetRef", description="The object (usually a pod) behind the backend."
    )
    zone: str | None = Field(None, alias="zone", description="Zone of the backend.")


class EndpointPort(KubeModel):
    """A port of the endpoints in a slice."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    app_protocol: str | None = Field(
        None, alias="appProtocol", description="Application protocol hint, e.g. http."
    )
    name: str | None = Field(
        None, alias="name", description="Name matching the Service port's name."
    )
    port: int | None = Field(None, alias="port", description="Port number; unset means all ports.")
    protocol: str | None = Field(
        None, alias="protocol", description="TCP (the default), UDP or SCTP."
    )


class EndpointSlice(KubeModel):
    """A subset of a Service's backends, maintained by the EndpointSlice controller."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("discovery.k8s.io", "v1", "EndpointSlice"))
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
    address_type: str = Field(alias="addressType", description="IPv4, IPv6 or FQDN.")
    endpoints: list[Endpoint] = Field(
        alias="endpoints",
        description="The backends, at most 1000.",
        json_schema_extra=atomic_list(),
    )
    ports: list[EndpointPort] | None = Field(
        None,
        alias="ports",
        description="Ports of every endpoint; empty means none are exposed.",
        json_schema_extra=atomic_list(),
    )


class EndpointSliceList(KubeModel):
    """A list of EndpointSlice objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("discovery.k8s.io", "v1", "EndpointSliceList"))
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
    items: list[EndpointSlice] = Field(alias="items", description="The EndpointSlice objects.")
