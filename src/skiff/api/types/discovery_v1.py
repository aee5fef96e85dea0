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
    ready: bool | None = Field(None, alias="ready")
    serving: bool | None = Field(None, alias="serving")
    terminating: bool | None = Field(None, alias="terminating")


class ForZone(KubeModel):
    name: str = Field(alias="name")


class EndpointHints(KubeModel):
    for_zones: list[ForZone] | None = Field(None, alias="forZones", json_schema_extra=atomic_list())


class Endpoint(KubeModel):
    addresses: list[str] = Field(alias="addresses", json_schema_extra=set_list())
    conditions: EndpointConditions | None = Field(None, alias="conditions")
    deprecated_topology: dict[str, str] | None = Field(None, alias="deprecatedTopology")
    hints: EndpointHints | None = Field(None, alias="hints")
    hostname: str | None = Field(None, alias="hostname")
    node_name: str | None = Field(None, alias="nodeName")
    target_ref: ObjectReference | None = Field(None, alias="targetRef")
    zone: str | None = Field(None, alias="zone")


class EndpointPort(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    app_protocol: str | None = Field(None, alias="appProtocol")
    name: str | None = Field(None, alias="name")
    port: int | None = Field(None, alias="port")
    protocol: str | None = Field(None, alias="protocol")


class EndpointSlice(KubeModel):
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
    address_type: str = Field(alias="addressType")
    endpoints: list[Endpoint] = Field(alias="endpoints", json_schema_extra=atomic_list())
    ports: list[EndpointPort] | None = Field(None, alias="ports", json_schema_extra=atomic_list())


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
