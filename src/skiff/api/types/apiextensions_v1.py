"""The ``apiextensions.k8s.io/v1`` group: CustomResourceDefinition.

The OpenAPI schema of each version (``JSONSchemaProps`` upstream, a recursive type) is kept as
free-form JSON here: its shape is checked by ``skiff.apiserver.crd`` with Kubernetes' words, not
by the decoder, so a mistake reads as a 422 field error as it does upstream.
"""

from typing import Any

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, Time
from skiff.api.types._fields import merge_list, struct_extensions
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = [
    "CustomResourceColumnDefinition",
    "CustomResourceConversion",
    "CustomResourceDefinition",
    "CustomResourceDefinitionCondition",
    "CustomResourceDefinitionList",
    "CustomResourceDefinitionNames",
    "CustomResourceDefinitionSpec",
    "CustomResourceDefinitionStatus",
    "CustomResourceDefinitionVersion",
    "CustomResourceSubresourceScale",
    "CustomResourceSubresourceStatus",
    "CustomResourceSubresources",
    "CustomResourceValidation",
    "SelectableField",
]

_API_VERSION = "Versioned schema of this object, e.g. ``v1`` or ``apps/v1``; set by the server."
_KIND = "The object's type name in CamelCase, e.g. ``Pod``; set by the server."
_METADATA = "Standard object metadata."


class CustomResourceDefinitionNames(KubeModel):
    """The names a custom resource is served under."""

    categories: list[str] | None = Field(
        None, alias="categories", description="Groups of resources it belongs to (``all``)."
    )
    kind: str = Field(alias="kind", description="The CamelCase kind of the objects.")
    list_kind: str | None = Field(
        None, alias="listKind", description="Kind of a list; defaults to ``<kind>List``."
    )
    plural: str = Field(alias="plural", description="The lowercase plural used in URLs.")
    short_names: list[str] | None = Field(
        None, alias="shortNames", description="Short lowercase aliases (``kubectl get <short>``)."
    )
    singular: str | None = Field(
        None, alias="singular", description="Lowercase singular; defaults to the lowercase kind."
    )


class CustomResourceValidation(KubeModel):
    """The schema objects of one version are validated, pruned and defaulted with."""

    open_api_v3_schema: dict[str, Any] | None = Field(
        None, alias="openAPIV3Schema", description="A structural OpenAPI v3 schema."
    )


class CustomResourceSubresourceScale(KubeModel):
    """Where the ``scale`` subresource finds replicas and the selector."""

    label_selector_path: str | None = Field(
        None, alias="labelSelectorPath", description="JSON path of the selector (status)."
    )
    spec_replicas_path: str = Field(
        alias="specReplicasPath", description="JSON path of the desired replicas (``.spec.x``)."
    )
    status_replicas_path: str = Field(
        alias="statusReplicasPath", description="JSON path of the observed replicas."
    )


class CustomResourceSubresourceStatus(KubeModel):
    """Enables the ``status`` subresource (an empty object)."""


class CustomResourceSubresources(KubeModel):
    """The subresources a version serves."""

    scale: CustomResourceSubresourceScale | None = Field(
        None, alias="scale", description="Serve ``/scale``."
    )
    status: CustomResourceSubresourceStatus | None = Field(
        None, alias="status", description="Serve ``/status`` (an empty object enables it)."
    )


class CustomResourceColumnDefinition(KubeModel):
    """A column of ``kubectl get`` output."""

    description: str | None = Field(None, alias="description", description="What it shows.")
    format: str | None = Field(None, alias="format", description="OpenAPI format of the value.")
    json_path: str = Field(alias="jsonPath", description="Simple JSON path of the value.")
    name: str = Field(alias="name", description="The column header.")
    priority: int | None = Field(
        None, alias="priority", description="0 shows always, higher only with ``-o wide``."
    )
    type: str = Field(alias="type", description="OpenAPI type of the value.")


class SelectableField(KubeModel):
    """A field usable in field selectors."""

    json_path: str = Field(alias="jsonPath", description="Simple JSON path of the field.")


class CustomResourceDefinitionVersion(KubeModel):
    """One version of a custom resource."""

    additional_printer_columns: list[CustomResourceColumnDefinition] | None = Field(
        None, alias="additionalPrinterColumns", description="Columns for Table output."
    )
    deprecated: bool | None = Field(None, alias="deprecated", description="Deprecated version.")
    deprecation_warning: str | None = Field(
        None, alias="deprecationWarning", description="Warning sent to clients of this version."
    )
    name: str = Field(alias="name", description="The version name (``v1``, ``v1beta1``).")
    schema_: CustomResourceValidation | None = Field(
        None, alias="schema", description="The schema of objects in this version."
    )
    selectable_fields: list[SelectableField] | None = Field(
        None, alias="selectableFields", description="Extra field-selector fields."
    )
    served: bool = Field(alias="served", description="Whether this version is served.")
    storage: bool = Field(alias="storage", description="Whether objects are stored in it.")
    subresources: CustomResourceSubresources | None = Field(
        None, alias="subresources", description="Subresources served."
    )


class CustomResourceConversion(KubeModel):
    """How objects are converted between versions."""

    strategy: str = Field(alias="strategy", description="``None`` or ``Webhook``.")
    webhook: dict[str, Any] | None = Field(
        None, alias="webhook", description="The conversion webhook (not called by skiff)."
    )


class CustomResourceDefinitionSpec(KubeModel):
    """What is defined: group, names, scope and versions."""

    conversion: CustomResourceConversion | None = Field(
        None, alias="conversion", description="Conversion between versions."
    )
    group: str = Field(alias="group", description="The API group of the resource.")
    names: CustomResourceDefinitionNames = Field(alias="names", description="Its names.")
    preserve_unknown_fields: bool | None = Field(
        None, alias="preserveUnknownFields", description="Must be false in v1."
    )
    scope: str = Field(alias="scope", description="``Namespaced`` or ``Cluster``.")
    versions: list[CustomResourceDefinitionVersion] = Field(
        alias="versions", description="The versions, in order of preference."
    )


class CustomResourceDefinitionCondition(KubeModel):
    """One observation of the definition's state (NamesAccepted, Established)."""

    last_transition_time: Time | None = Field(
        None, alias="lastTransitionTime", description="When the status last changed."
    )
    message: str | None = Field(None, alias="message", description="Human-readable detail.")
    reason: str | None = Field(None, alias="reason", description="CamelCase reason.")
    status: str = Field(alias="status", description="True, False or Unknown.")
    type: str = Field(alias="type", description="The condition type.")


class CustomResourceDefinitionStatus(KubeModel):
    """Observed state: conditions, accepted names, stored versions."""

    accepted_names: CustomResourceDefinitionNames | None = Field(
        None, alias="acceptedNames", description="The names actually served."
    )
    conditions: list[CustomResourceDefinitionCondition] | None = Field(
        None,
        alias="conditions",
        description="Current conditions.",
        json_schema_extra=merge_list("type"),
    )
    stored_versions: list[str] | None = Field(
        None, alias="storedVersions", description="Versions objects were ever stored in."
    )


class CustomResourceDefinition(KubeModel):
    """Defines a custom resource the API server then serves."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(
            gvk=("apiextensions.k8s.io", "v1", "CustomResourceDefinition")
        )
    )
    api_version: str | None = Field(None, alias="apiVersion", description=_API_VERSION)
    kind: str | None = Field(None, alias="kind", description=_KIND)
    metadata: ObjectMeta | None = Field(None, alias="metadata", description=_METADATA)
    spec: CustomResourceDefinitionSpec = Field(alias="spec", description="The definition.")
    status: CustomResourceDefinitionStatus | None = Field(
        None, alias="status", description="Observed state."
    )


class CustomResourceDefinitionList(KubeModel):
    """A list of CustomResourceDefinitions."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(
            gvk=("apiextensions.k8s.io", "v1", "CustomResourceDefinitionList")
        )
    )
    api_version: str | None = Field(None, alias="apiVersion", description=_API_VERSION)
    kind: str | None = Field(None, alias="kind", description=_KIND)
    items: list[CustomResourceDefinition] = Field(alias="items", description="The items.")
    metadata: ListMeta | None = Field(None, alias="metadata", description="List metadata.")
