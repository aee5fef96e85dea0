"""core/v1 ConfigMap, Secret and ServiceAccount."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel
from skiff.api.types._core_common import LocalObjectReference, ObjectReference
from skiff.api.types._fields import atomic_list, merge_list, struct_extensions
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = [
    "ConfigMap",
    "ConfigMapList",
    "Secret",
    "SecretList",
    "ServiceAccount",
    "ServiceAccountList",
]


class ConfigMap(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "ConfigMap")))
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
    binary_data: dict[str, str] | None = Field(None, alias="binaryData")
    data: dict[str, str] | None = Field(None, alias="data")
    immutable: bool | None = Field(None, alias="immutable")


class ConfigMapList(KubeModel):
    """A list of ConfigMap objects, as returned by the list endpoint."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "ConfigMapList")))
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
    items: list[ConfigMap] = Field(alias="items", description="The ConfigMap objects.")


class Secret(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "Secret")))
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
    data: dict[str, str] | None = Field(None, alias="data")
    immutable: bool | None = Field(None, alias="immutable")
    string_data: dict[str, str] | None = Field(None, alias="stringData")
    type: str | None = Field(None, alias="type")


class SecretList(KubeModel):
    """A list of Secret objects, as returned by the list endpoint."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "SecretList")))
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
    items: list[Secret] = Field(alias="items", description="The Secret objects.")


class ServiceAccount(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "ServiceAccount")))
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
    automount_service_account_token: bool | None = Field(None, alias="automountServiceAccountToken")
    image_pull_secrets: list[LocalObjectReference] | None = Field(
        None, alias="imagePullSecrets", json_schema_extra=atomic_list()
    )
    secrets: list[ObjectReference] | None = Field(
        None, alias="secrets", json_schema_extra=merge_list("name")
    )


class ServiceAccountList(KubeModel):
    """A list of ServiceAccount objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("", "v1", "ServiceAccountList"))
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
    items: list[ServiceAccount] = Field(alias="items", description="The ServiceAccount objects.")
