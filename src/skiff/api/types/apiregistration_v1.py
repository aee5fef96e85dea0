"""The ``apiregistration.k8s.io/v1`` group: APIService.

skiff serves every group itself: the built-in APIServices (``spec.service`` unset) say so, and
one a user registers for an aggregated server is stored but reported unavailable, because skiff
does not proxy to aggregated API servers.
"""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, Time
from skiff.api.types._fields import merge_list, struct_extensions
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = [
    "APIService",
    "APIServiceCondition",
    "APIServiceList",
    "APIServiceSpec",
    "APIServiceStatus",
    "ServiceReference",
]


class ServiceReference(KubeModel):
    """The Service an aggregated API server is reached through."""

    name: str | None = Field(None, alias="name", description="Name of the Service.")
    namespace: str | None = Field(None, alias="namespace", description="Namespace of the Service.")
    port: int | None = Field(
        None, alias="port", description="Port of the Service to call; default 443."
    )


class APIServiceSpec(KubeModel):
    """Which group/version is served, by whom, and how it ranks in discovery."""

    ca_bundle: str | None = Field(
        None,
        alias="caBundle",
        description="PEM CA bundle (base64) that verifies the aggregated server's certificate.",
    )
    group: str | None = Field(None, alias="group", description="The API group served.")
    group_priority_minimum: int = Field(
        alias="groupPriorityMinimum",
        description="Priority of the group in discovery; the highest of its versions counts.",
    )
    insecure_skip_tls_verify: bool | None = Field(
        None,
        alias="insecureSkipTLSVerify",
        description="Do not verify the aggregated server's certificate; discouraged.",
    )
    service: ServiceReference | None = Field(
        None,
        alias="service",
        description="The Service of the aggregated server; unset when this server serves the group itself.",
    )
    version: str | None = Field(None, alias="version", description="The API version served.")
    version_priority: int = Field(
        alias="versionPriority",
        description="Order of this version within its group; higher comes first.",
    )


class APIServiceCondition(KubeModel):
    """One condition of an APIService (Available)."""

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
    type: str = Field(alias="type", description="The condition's name: Available.")


class APIServiceStatus(KubeModel):
    """Observed state of an APIService."""

    conditions: list[APIServiceCondition] | None = Field(
        None,
        alias="conditions",
        description="Current conditions of the APIService.",
        json_schema_extra=merge_list("type"),
    )


class APIService(KubeModel):
    """Registers who serves one API group/version."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("apiregistration.k8s.io", "v1", "APIService"))
    )
    api_version: str | None = Field(
        None,
        alias="apiVersion",
        description="Versioned schema of this object; apiregistration.k8s.io/v1.",
    )
    kind: str | None = Field(None, alias="kind", description="APIService.")
    metadata: ObjectMeta | None = Field(
        None,
        alias="metadata",
        description="Standard object metadata; the name is <version>.<group>.",
    )
    spec: APIServiceSpec | None = Field(
        None, alias="spec", description="Which group/version, and who serves it."
    )
    status: APIServiceStatus | None = Field(
        None, alias="status", description="Whether the group/version is available; read-only."
    )


class APIServiceList(KubeModel):
    """A list of APIService objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("apiregistration.k8s.io", "v1", "APIServiceList"))
    )
    api_version: str | None = Field(
        None,
        alias="apiVersion",
        description="Versioned schema of this object; apiregistration.k8s.io/v1.",
    )
    kind: str | None = Field(None, alias="kind", description="APIServiceList.")
    metadata: ListMeta | None = Field(
        None, alias="metadata", description="List metadata: resourceVersion and continue token."
    )
    items: list[APIService] = Field(alias="items", description="The APIServices.")
