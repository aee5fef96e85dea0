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
    """Non-secret configuration data as key/value pairs, consumed as files, environment variables or command arguments."""

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
    binary_data: dict[str, str] | None = Field(
        None,
        alias="binaryData",
        description="Binary values, base64-encoded on the wire; keys must not overlap with data.",
    )
    data: dict[str, str] | None = Field(
        None,
        alias="data",
        description="UTF-8 string values; keys must be valid file names (alphanumerics, '-', '_', '.').",
    )
    immutable: bool | None = Field(
        None,
        alias="immutable",
        description="If true, data cannot change any more; the object can only be deleted. Default false.",
    )


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
    """Sensitive data such as passwords, tokens or keys, consumed like a ConfigMap."""

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
    data: dict[str, str] | None = Field(
        None,
        alias="data",
        description="Values base64-encoded on the wire; keys must be valid file names.",
    )
    immutable: bool | None = Field(
        None,
        alias="immutable",
        description="If true, data cannot change any more; the object can only be deleted. Default false.",
    )
    string_data: dict[str, str] | None = Field(
        None,
        alias="stringData",
        description="Write-only convenience: plain-text values merged into data (winning on conflict) on write.",
    )
    type: str | None = Field(
        None,
        alias="type",
        description="How the data is used, e.g. Opaque (the default), kubernetes.io/tls or kubernetes.io/dockerconfigjson.",
    )


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
    """An identity for processes in pods, with the registry credentials and tokens it grants."""

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
    automount_service_account_token: bool | None = Field(
        None,
        alias="automountServiceAccountToken",
        description="Whether pods using the account get its token mounted; pods may override.",
    )
    image_pull_secrets: list[LocalObjectReference] | None = Field(
        None,
        alias="imagePullSecrets",
        description="Registry credential Secrets added to pods that use the account.",
        json_schema_extra=atomic_list(),
    )
    secrets: list[ObjectReference] | None = Field(
        None,
        alias="secrets",
        description="Deprecated: Secrets pods using this account may use; tokens are now requested on demand.",
        json_schema_extra=merge_list("name"),
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
