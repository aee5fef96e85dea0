"""The ``storage.k8s.io/v1`` group: StorageClass."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel
from skiff.api.types._fields import atomic_list, struct_extensions
from skiff.api.types.core_v1 import TopologySelectorTerm
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = ["StorageClass", "StorageClassList"]


class StorageClass(KubeModel):
    """A class of storage that PersistentVolumes are provisioned from, named by claims."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("storage.k8s.io", "v1", "StorageClass"))
    )
    allow_volume_expansion: bool | None = Field(
        None, alias="allowVolumeExpansion", description="Whether claims of this class may grow."
    )
    allowed_topologies: list[TopologySelectorTerm] | None = Field(
        None,
        alias="allowedTopologies",
        description="Topology domains volumes may be provisioned in; anywhere when empty.",
        json_schema_extra=atomic_list(),
    )
    api_version: str | None = Field(
        None, alias="apiVersion", description="Versioned schema of this object; storage.k8s.io/v1."
    )
    kind: str | None = Field(None, alias="kind", description="StorageClass.")
    metadata: ObjectMeta | None = Field(
        None, alias="metadata", description="Standard object metadata."
    )
    mount_options: list[str] | None = Field(
        None,
        alias="mountOptions",
        description="Mount options given to the volumes this class provisions.",
        json_schema_extra=atomic_list(),
    )
    parameters: dict[str, str] | None = Field(
        None,
        alias="parameters",
        description="Provisioner-specific settings; at most 512 and 256 KiB in all; immutable.",
    )
    provisioner: str = Field(
        alias="provisioner", description="Name of the volume plugin that provisions; immutable."
    )
    reclaim_policy: str | None = Field(
        None,
        alias="reclaimPolicy",
        description="Reclaim policy of provisioned volumes: Delete (the default) or Retain.",
    )
    volume_binding_mode: str | None = Field(
        None,
        alias="volumeBindingMode",
        description="Immediate (the default) or WaitForFirstConsumer: when claims are bound.",
    )


class StorageClassList(KubeModel):
    """A list of StorageClass objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("storage.k8s.io", "v1", "StorageClassList"))
    )
    api_version: str | None = Field(
        None, alias="apiVersion", description="Versioned schema of this object; storage.k8s.io/v1."
    )
    kind: str | None = Field(None, alias="kind", description="StorageClassList.")
    metadata: ListMeta | None = Field(
        None, alias="metadata", description="List metadata: resourceVersion and continue token."
    )
    items: list[StorageClass] = Field(alias="items", description="The StorageClasses.")
