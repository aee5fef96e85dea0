"""core/v1 volumes: every volume source, projections and PersistentVolumeClaims."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, Quantity, Time
from skiff.api.types._core_common import (
    KeyToPath,
    LocalObjectReference,
    ObjectFieldSelector,
    ResourceFieldSelector,
    TypedLocalObjectReference,
    TypedObjectReference,
)
from skiff.api.types._fields import atomic_list, granular_map, merge_list, struct_extensions
from skiff.api.types.meta_v1 import LabelSelector, ObjectMeta

__all__ = [
    "AWSElasticBlockStoreVolumeSource",
    "AzureDiskVolumeSource",
    "AzureFileVolumeSource",
    "CSIVolumeSource",
    "CephFSVolumeSource",
    "CinderVolumeSource",
    "ClusterTrustBundleProjection",
    "ConfigMapProjection",
    "ConfigMapVolumeSource",
    "DownwardAPIProjection",
    "DownwardAPIVolumeFile",
    "DownwardAPIVolumeSource",
    "EmptyDirVolumeSource",
    "EphemeralVolumeSource",
    "FCVolumeSource",
    "FlexVolumeSource",
    "FlockerVolumeSource",
    "GCEPersistentDiskVolumeSource",
    "GitRepoVolumeSource",
    "GlusterfsVolumeSource",
    "HostPathVolumeSource",
    "ISCSIVolumeSource",
    "ImageVolumeSource",
    "ModifyVolumeStatus",
    "NFSVolumeSource",
    "PersistentVolumeClaim",
    "PersistentVolumeClaimCondition",
    "PersistentVolumeClaimSpec",
    "PersistentVolumeClaimStatus",
    "PersistentVolumeClaimTemplate",
    "PersistentVolumeClaimVolumeSource",
    "PhotonPersistentDiskVolumeSource",
    "PortworxVolumeSource",
    "ProjectedVolumeSource",
    "QuobyteVolumeSource",
    "RBDVolumeSource",
    "ScaleIOVolumeSource",
    "SecretProjection",
    "SecretVolumeSource",
    "ServiceAccountTokenProjection",
    "StorageOSVolumeSource",
    "Volume",
    "VolumeProjection",
    "VolumeResourceRequirements",
    "VsphereVirtualDiskVolumeSource",
]


class AWSElasticBlockStoreVolumeSource(KubeModel):
    """Deprecated in-tree AWS EBS disk volume; use the EBS CSI driver instead."""

    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount, e.g. ext4; defaults to ext4."
    )
    partition: int | None = Field(
        None, alias="partition", description="Partition number to mount; 0 mounts the whole disk."
    )
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )
    volume_id: str = Field(alias="volumeID", description="ID of the EBS volume.")


class AzureDiskVolumeSource(KubeModel):
    """Deprecated in-tree Azure data disk volume; use the Azure Disk CSI driver instead."""

    caching_mode: str | None = Field(
        None, alias="cachingMode", description="Host caching mode: None, ReadOnly or ReadWrite."
    )
    disk_name: str = Field(alias="diskName", description="Name of the data disk.")
    disk_uri: str = Field(alias="diskURI", description="URI of the data disk.")
    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; defaults to ext4."
    )
    kind: str | None = Field(
        None, alias="kind", description="Shared, Dedicated or Managed (the default)."
    )
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )


class AzureFileVolumeSource(KubeModel):
    """Deprecated in-tree Azure File share volume; use the Azure File CSI driver instead."""

    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )
    secret_name: str = Field(
        alias="secretName", description="Secret holding the storage account name and key."
    )
    share_name: str = Field(alias="shareName", description="Name of the file share.")


class CSIVolumeSource(KubeModel):
    """An ephemeral inline volume provided by a CSI driver."""

    driver: str = Field(alias="driver", description="Name of the CSI driver.")
    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; the driver picks when unset."
    )
    node_publish_secret_ref: LocalObjectReference | None = Field(
        None,
        alias="nodePublishSecretRef",
        description="Secret passed to the driver's publish calls.",
    )
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )
    volume_attributes: dict[str, str] | None = Field(
        None, alias="volumeAttributes", description="Driver-specific properties of the volume."
    )


class CephFSVolumeSource(KubeModel):
    """Deprecated in-tree CephFS mount."""

    monitors: list[str] = Field(
        alias="monitors", description="Ceph monitor addresses.", json_schema_extra=atomic_list()
    )
    path: str | None = Field(
        None, alias="path", description="Path within the filesystem to mount; defaults to /."
    )
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )
    secret_file: str | None = Field(
        None,
        alias="secretFile",
        description="Path to the key ring of the user; defaults to /etc/ceph/user.secret.",
    )
    secret_ref: LocalObjectReference | None = Field(
        None, alias="secretRef", description="Secret with the user's key; overrides secretFile."
    )
    user: str | None = Field(None, alias="user", description="Rados user name; defaults to admin.")


class CinderVolumeSource(KubeModel):
    """Deprecated in-tree OpenStack Cinder volume."""

    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; defaults to ext4."
    )
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )
    secret_ref: LocalObjectReference | None = Field(
        None, alias="secretRef", description="Secret with parameters for connecting to OpenStack."
    )
    volume_id: str = Field(alias="volumeID", description="ID of the Cinder volume.")


class ClusterTrustBundleProjection(KubeModel):
    """Projects the certificates of ClusterTrustBundle objects into a file."""

    label_selector: LabelSelector | None = Field(
        None,
        alias="labelSelector",
        description="Selects bundles by label (with signerName); ignored when name is set.",
    )
    name: str | None = Field(None, alias="name", description="Name of one bundle to project.")
    optional: bool | None = Field(
        None,
        alias="optional",
        description="If true, a missing bundle gives an empty file instead of an error.",
    )
    path: str = Field(alias="path", description="Relative path of the file.")
    signer_name: str | None = Field(
        None, alias="signerName", description="Selects bundles for this signer."
    )


class ConfigMapProjection(KubeModel):
    """Projects keys of a ConfigMap into a projected volume."""

    items: list[KeyToPath] | None = Field(
        None,
        alias="items",
        description="Keys to project and their paths; all keys when empty.",
        json_schema_extra=atomic_list(),
    )
    name: str | None = Field(None, alias="name", description="Name of the ConfigMap.")
    optional: bool | None = Field(
        None, alias="optional", description="If true, a missing ConfigMap or key is not an error."
    )


class ConfigMapVolumeSource(KubeModel):
    """Presents the keys of a ConfigMap as files."""

    default_mode: int | None = Field(
        None,
        alias="defaultMode",
        description="Permission bits of created files (0000-0777, decimal in JSON); default 0644.",
    )
    items: list[KeyToPath] | None = Field(
        None,
        alias="items",
        description="Keys to project and their paths; all keys when empty.",
        json_schema_extra=atomic_list(),
    )
    name: str | None = Field(None, alias="name", description="Name of the ConfigMap.")
    optional: bool | None = Field(
        None, alias="optional", description="If true, a missing ConfigMap or key is not an error."
    )


class DownwardAPIVolumeFile(KubeModel):
    """A file holding a field of the pod or a container resource value."""

    field_ref: ObjectFieldSelector | None = Field(
        None,
        alias="fieldRef",
        description="The pod field to write: metadata.name, metadata.namespace, metadata.labels, metadata.annotations or metadata.uid.",
    )
    mode: int | None = Field(
        None,
        alias="mode",
        description="Permission bits of the file; defaults to the volume's defaultMode.",
    )
    path: str = Field(alias="path", description="Relative path of the file.")
    resource_field_ref: ResourceFieldSelector | None = Field(
        None,
        alias="resourceFieldRef",
        description="The container resource limit or request to write.",
    )


class DownwardAPIProjection(KubeModel):
    """Projects pod metadata into a projected volume."""

    items: list[DownwardAPIVolumeFile] | None = Field(
        None, alias="items", description="The files to create.", json_schema_extra=atomic_list()
    )


class DownwardAPIVolumeSource(KubeModel):
    """Presents pod metadata and resource values as files."""

    default_mode: int | None = Field(
        None, alias="defaultMode", description="Permission bits of created files; default 0644."
    )
    items: list[DownwardAPIVolumeFile] | None = Field(
        None, alias="items", description="The files to create.", json_schema_extra=atomic_list()
    )


class EmptyDirVolumeSource(KubeModel):
    """A fresh empty directory that lives as long as the pod."""

    medium: str | None = Field(
        None,
        alias="medium",
        description="Storage medium: empty for the node's default storage, or Memory for a tmpfs.",
    )
    size_limit: Quantity | None = Field(
        None,
        alias="sizeLimit",
        description="Maximum size of the directory; the pod is evicted when it is exceeded.",
    )


class VolumeResourceRequirements(KubeModel):
    """Storage requested by a claim."""

    limits: dict[str, Quantity] | None = Field(
        None, alias="limits", description="Maximum storage per resource."
    )
    requests: dict[str, Quantity] | None = Field(
        None, alias="requests", description="Minimum storage per resource, e.g. storage: 10Gi."
    )


class PersistentVolumeClaimSpec(KubeModel):
    """The storage a claim asks for."""

    access_modes: list[str] | None = Field(
        None,
        alias="accessModes",
        description="Modes the volume must support: ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod.",
        json_schema_extra=atomic_list(),
    )
    data_source: TypedLocalObjectReference | None = Field(
        None,
        alias="dataSource",
        description="An existing snapshot or claim to populate the volume from.",
    )
    data_source_ref: TypedObjectReference | None = Field(
        None,
        alias="dataSourceRef",
        description="Any populator object to fill the volume from; supersedes dataSource.",
    )
    resources: VolumeResourceRequirements | None = Field(
        None, alias="resources", description="Minimum (and optionally maximum) storage size."
    )
    selector: LabelSelector | None = Field(
        None, alias="selector", description="Labels of the PersistentVolumes that may be bound."
    )
    storage_class_name: str | None = Field(
        None,
        alias="storageClassName",
        description="StorageClass to provision from; empty string means no class, unset means the default class.",
    )
    volume_attributes_class_name: str | None = Field(
        None,
        alias="volumeAttributesClassName",
        description="VolumeAttributesClass with mutable volume attributes.",
    )
    volume_mode: str | None = Field(
        None, alias="volumeMode", description="Filesystem (the default) or Block."
    )
    volume_name: str | None = Field(
        None, alias="volumeName", description="Name of a specific PersistentVolume to bind."
    )


class PersistentVolumeClaimTemplate(KubeModel):
    """Template of the claim an ephemeral volume creates."""

    metadata: ObjectMeta | None = Field(
        None, alias="metadata", description="Labels and annotations copied into the claim."
    )
    spec: PersistentVolumeClaimSpec = Field(alias="spec", description="Spec of the claim.")


class EphemeralVolumeSource(KubeModel):
    """A volume backed by a PersistentVolumeClaim created with the pod and deleted with it."""

    volume_claim_template: PersistentVolumeClaimTemplate | None = Field(
        None,
        alias="volumeClaimTemplate",
        description="Template of the claim, named <pod>-<volume>.",
    )


class FCVolumeSource(KubeModel):
    """A Fibre Channel volume."""

    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; defaults to ext4."
    )
    lun: int | None = Field(None, alias="lun", description="Target LUN number.")
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )
    target_wwns: list[str] | None = Field(
        None,
        alias="targetWWNs",
        description="Target world wide names.",
        json_schema_extra=atomic_list(),
    )
    wwids: list[str] | None = Field(
        None,
        alias="wwids",
        description="World wide identifiers; use either these or targetWWNs with lun.",
        json_schema_extra=atomic_list(),
    )


class FlexVolumeSource(KubeModel):
    """Deprecated volume provided by an exec-based FlexVolume driver."""

    driver: str = Field(alias="driver", description="Name of the driver.")
    fs_type: str | None = Field(
        None,
        alias="fsType",
        description="Filesystem type to mount; the driver's default when unset.",
    )
    options: dict[str, str] | None = Field(
        None, alias="options", description="Driver-specific options."
    )
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )
    secret_ref: LocalObjectReference | None = Field(
        None, alias="secretRef", description="Secret passed to the driver."
    )


class FlockerVolumeSource(KubeModel):
    """Deprecated Flocker dataset volume."""

    dataset_name: str | None = Field(None, alias="datasetName", description="Name of the dataset.")
    dataset_uuid: str | None = Field(None, alias="datasetUUID", description="UUID of the dataset.")


class GCEPersistentDiskVolumeSource(KubeModel):
    """Deprecated in-tree GCE persistent disk; use the GCE PD CSI driver instead."""

    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; defaults to ext4."
    )
    partition: int | None = Field(
        None, alias="partition", description="Partition number to mount; 0 mounts the whole disk."
    )
    pd_name: str = Field(alias="pdName", description="Name of the persistent disk.")
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )


class GitRepoVolumeSource(KubeModel):
    """A directory cloned from a git repository when the pod starts; deprecated."""

    directory: str | None = Field(
        None,
        alias="directory",
        description="Target directory name; '.' clones into the volume root.",
    )
    repository: str = Field(alias="repository", description="URL of the repository.")
    revision: str | None = Field(None, alias="revision", description="Commit hash to check out.")


class GlusterfsVolumeSource(KubeModel):
    """Deprecated in-tree GlusterFS mount."""

    endpoints: str = Field(
        alias="endpoints", description="Name of the Endpoints object listing the Glusterfs servers."
    )
    path: str = Field(alias="path", description="Name of the Glusterfs volume.")
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )


class HostPathVolumeSource(KubeModel):
    """A file or directory of the node mounted into the pod; a security risk, mostly for system agents."""

    path: str = Field(alias="path", description="Path on the node; symlinks are followed.")
    type: str | None = Field(
        None,
        alias="type",
        description="Check made before mounting: empty (none), DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice or BlockDevice.",
    )


class ISCSIVolumeSource(KubeModel):
    """An iSCSI disk."""

    chap_auth_discovery: bool | None = Field(
        None, alias="chapAuthDiscovery", description="Use CHAP authentication for discovery."
    )
    chap_auth_session: bool | None = Field(
        None, alias="chapAuthSession", description="Use CHAP authentication for the session."
    )
    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; defaults to ext4."
    )
    initiator_name: str | None = Field(
        None, alias="initiatorName", description="Custom initiator name; creates a new interface."
    )
    iqn: str = Field(alias="iqn", description="Target iSCSI qualified name.")
    iscsi_interface: str | None = Field(
        None, alias="iscsiInterface", description="iSCSI interface name; defaults to default (tcp)."
    )
    lun: int = Field(alias="lun", description="Target LUN number.")
    portals: list[str] | None = Field(
        None,
        alias="portals",
        description="Extra target portals (ip:port).",
        json_schema_extra=atomic_list(),
    )
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )
    secret_ref: LocalObjectReference | None = Field(
        None, alias="secretRef", description="Secret with the CHAP credentials."
    )
    target_portal: str = Field(
        alias="targetPortal", description="Target portal (ip:port, port defaulting to 3260)."
    )


class ImageVolumeSource(KubeModel):
    """An OCI image or artifact mounted read-only as a volume."""

    pull_policy: str | None = Field(
        None,
        alias="pullPolicy",
        description="Always, Never or IfNotPresent; defaults like a container's imagePullPolicy.",
    )
    reference: str | None = Field(
        None, alias="reference", description="Image or artifact reference."
    )


class ModifyVolumeStatus(KubeModel):
    """Progress of changing a claim's VolumeAttributesClass."""

    status: str = Field(alias="status", description="Pending, InProgress or Infeasible.")
    target_volume_attributes_class_name: str | None = Field(
        None, alias="targetVolumeAttributesClassName", description="The class being applied."
    )


class NFSVolumeSource(KubeModel):
    """An NFS export mounted into the pod."""

    path: str = Field(alias="path", description="Exported path.")
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )
    server: str = Field(alias="server", description="Host name or IP of the NFS server.")


class PersistentVolumeClaimCondition(KubeModel):
    """One condition of a claim, e.g. Resizing."""

    last_probe_time: Time | None = Field(
        None, alias="lastProbeTime", description="When the condition was last checked."
    )
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
    type: str = Field(alias="type", description="The condition's name.")


class PersistentVolumeClaimStatus(KubeModel):
    """Observed state of a claim."""

    access_modes: list[str] | None = Field(
        None,
        alias="accessModes",
        description="Access modes of the bound volume.",
        json_schema_extra=atomic_list(),
    )
    allocated_resource_statuses: dict[str, str] | None = Field(
        None,
        alias="allocatedResourceStatuses",
        description="Progress of resizes per resource.",
        json_schema_extra=granular_map(),
    )
    allocated_resources: dict[str, Quantity] | None = Field(
        None,
        alias="allocatedResources",
        description="Capacity allocated, which may exceed the request during a resize.",
    )
    capacity: dict[str, Quantity] | None = Field(
        None, alias="capacity", description="Actual capacity of the bound volume."
    )
    conditions: list[PersistentVolumeClaimCondition] | None = Field(
        None,
        alias="conditions",
        description="Current conditions of the claim.",
        json_schema_extra=merge_list("type"),
    )
    current_volume_attributes_class_name: str | None = Field(
        None,
        alias="currentVolumeAttributesClassName",
        description="VolumeAttributesClass currently applied.",
    )
    modify_volume_status: ModifyVolumeStatus | None = Field(
        None, alias="modifyVolumeStatus", description="Progress of a VolumeAttributesClass change."
    )
    phase: str | None = Field(None, alias="phase", description="Pending, Bound or Lost.")


class PersistentVolumeClaim(KubeModel):
    """A request for storage, bound to a PersistentVolume."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("", "v1", "PersistentVolumeClaim"))
    )
    api_version: str | None = Field(
        None, alias="apiVersion", description="Versioned schema of this object; v1."
    )
    kind: str | None = Field(None, alias="kind", description="PersistentVolumeClaim.")
    metadata: ObjectMeta | None = Field(
        None, alias="metadata", description="Standard object metadata."
    )
    spec: PersistentVolumeClaimSpec | None = Field(
        None, alias="spec", description="The storage requested."
    )
    status: PersistentVolumeClaimStatus | None = Field(
        None, alias="status", description="Observed state of the claim; read-only."
    )


class PersistentVolumeClaimVolumeSource(KubeModel):
    """Mounts the volume bound to a claim in the pod's namespace."""

    claim_name: str = Field(alias="claimName", description="Name of the claim.")
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )


class PhotonPersistentDiskVolumeSource(KubeModel):
    """Deprecated Photon Controller persistent disk."""

    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; defaults to ext4."
    )
    pd_id: str = Field(alias="pdID", description="ID of the disk.")


class PortworxVolumeSource(KubeModel):
    """Deprecated in-tree Portworx volume."""

    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; defaults to ext4."
    )
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )
    volume_id: str = Field(alias="volumeID", description="ID of the volume.")


class SecretProjection(KubeModel):
    """Projects keys of a Secret into a projected volume."""

    items: list[KeyToPath] | None = Field(
        None,
        alias="items",
        description="Keys to project and their paths; all keys when empty.",
        json_schema_extra=atomic_list(),
    )
    name: str | None = Field(None, alias="name", description="Name of the Secret.")
    optional: bool | None = Field(
        None, alias="optional", description="If true, a missing Secret or key is not an error."
    )


class ServiceAccountTokenProjection(KubeModel):
    """Projects a short-lived token of the pod's service account into a file, refreshed before expiry."""

    audience: str | None = Field(
        None,
        alias="audience",
        description="Intended audience of the token; defaults to the API server's audience.",
    )
    expiration_seconds: int | None = Field(
        None,
        alias="expirationSeconds",
        description="Requested lifetime of the token; default 3600, minimum 600.",
    )
    path: str = Field(alias="path", description="Relative path of the file.")


class VolumeProjection(KubeModel):
    """One source of a projected volume; set exactly one member."""

    cluster_trust_bundle: ClusterTrustBundleProjection | None = Field(
        None, alias="clusterTrustBundle", description="Certificates from ClusterTrustBundles."
    )
    config_map: ConfigMapProjection | None = Field(
        None, alias="configMap", description="Keys of a ConfigMap."
    )
    downward_api: DownwardAPIProjection | None = Field(
        None, alias="downwardAPI", description="Pod metadata."
    )
    secret: SecretProjection | None = Field(None, alias="secret", description="Keys of a Secret.")
    service_account_token: ServiceAccountTokenProjection | None = Field(
        None, alias="serviceAccountToken", description="A service account token."
    )


class ProjectedVolumeSource(KubeModel):
    """Several sources (ConfigMaps, Secrets, downward API, tokens) merged into one directory."""

    default_mode: int | None = Field(
        None, alias="defaultMode", description="Permission bits of created files; default 0644."
    )
    sources: list[VolumeProjection] | None = Field(
        None,
        alias="sources",
        description="The sources to project.",
        json_schema_extra=atomic_list(),
    )


class QuobyteVolumeSource(KubeModel):
    """Deprecated Quobyte mount."""

    group: str | None = Field(None, alias="group", description="Group to map volume access to.")
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )
    registry: str = Field(
        alias="registry", description="Quobyte registry addresses (host:port, comma separated)."
    )
    tenant: str | None = Field(None, alias="tenant", description="Tenant owning the volume.")
    user: str | None = Field(None, alias="user", description="User to map volume access to.")
    volume: str = Field(alias="volume", description="Name of the Quobyte volume.")


class RBDVolumeSource(KubeModel):
    """Deprecated in-tree Ceph RBD disk."""

    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; defaults to ext4."
    )
    image: str = Field(alias="image", description="Rados image name.")
    keyring: str | None = Field(
        None,
        alias="keyring",
        description="Key ring path of the user; defaults to /etc/ceph/keyring.",
    )
    monitors: list[str] = Field(
        alias="monitors", description="Ceph monitor addresses.", json_schema_extra=atomic_list()
    )
    pool: str | None = Field(None, alias="pool", description="Rados pool; defaults to rbd.")
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )
    secret_ref: LocalObjectReference | None = Field(
        None, alias="secretRef", description="Secret with the user's key; overrides keyring."
    )
    user: str | None = Field(None, alias="user", description="Rados user name; defaults to admin.")


class ScaleIOVolumeSource(KubeModel):
    """Deprecated ScaleIO volume."""

    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; defaults to xfs."
    )
    gateway: str = Field(alias="gateway", description="Address of the ScaleIO API gateway.")
    protection_domain: str | None = Field(
        None, alias="protectionDomain", description="Protection domain of the storage."
    )
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )
    secret_ref: LocalObjectReference = Field(
        alias="secretRef", description="Secret with the ScaleIO credentials."
    )
    ssl_enabled: bool | None = Field(
        None, alias="sslEnabled", description="Use SSL to talk to the gateway; default false."
    )
    storage_mode: str | None = Field(
        None, alias="storageMode", description="ThickProvisioned or ThinProvisioned (the default)."
    )
    storage_pool: str | None = Field(
        None, alias="storagePool", description="Storage pool of the protection domain."
    )
    system: str = Field(alias="system", description="Name of the storage system.")
    volume_name: str | None = Field(
        None, alias="volumeName", description="Name of an existing volume."
    )


class SecretVolumeSource(KubeModel):
    """Presents the keys of a Secret as files."""

    default_mode: int | None = Field(
        None,
        alias="defaultMode",
        description="Permission bits of created files (0000-0777, decimal in JSON); default 0644.",
    )
    items: list[KeyToPath] | None = Field(
        None,
        alias="items",
        description="Keys to project and their paths; all keys when empty.",
        json_schema_extra=atomic_list(),
    )
    optional: bool | None = Field(
        None, alias="optional", description="If true, a missing Secret or key is not an error."
    )
    secret_name: str | None = Field(
        None, alias="secretName", description="Name of the Secret in the pod's namespace."
    )


class StorageOSVolumeSource(KubeModel):
    """Deprecated StorageOS volume."""

    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; defaults to ext4."
    )
    read_only: bool | None = Field(
        None, alias="readOnly", description="Mount read-only; default false."
    )
    secret_ref: LocalObjectReference | None = Field(
        None, alias="secretRef", description="Secret with the StorageOS API credentials."
    )
    volume_name: str | None = Field(
        None, alias="volumeName", description="Name of the StorageOS volume."
    )
    volume_namespace: str | None = Field(
        None,
        alias="volumeNamespace",
        description="StorageOS namespace of the volume; defaults to the pod's namespace.",
    )


class VsphereVirtualDiskVolumeSource(KubeModel):
    """Deprecated in-tree vSphere disk."""

    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; defaults to ext4."
    )
    storage_policy_id: str | None = Field(
        None, alias="storagePolicyID", description="ID of the storage policy."
    )
    storage_policy_name: str | None = Field(
        None, alias="storagePolicyName", description="Name of the storage policy."
    )
    volume_path: str = Field(alias="volumePath", description="Path identifying the disk.")


class Volume(KubeModel):
    """A named volume the pod's containers can mount; set exactly one source besides name."""

    aws_elastic_block_store: AWSElasticBlockStoreVolumeSource | None = Field(
        None, alias="awsElasticBlockStore", description="Deprecated AWS EBS disk."
    )
    azure_disk: AzureDiskVolumeSource | None = Field(
        None, alias="azureDisk", description="Deprecated Azure data disk."
    )
    azure_file: AzureFileVolumeSource | None = Field(
        None, alias="azureFile", description="Deprecated Azure File share."
    )
    cephfs: CephFSVolumeSource | None = Field(
        None, alias="cephfs", description="Deprecated CephFS mount."
    )
    cinder: CinderVolumeSource | None = Field(
        None, alias="cinder", description="Deprecated OpenStack Cinder volume."
    )
    config_map: ConfigMapVolumeSource | None = Field(
        None, alias="configMap", description="Keys of a ConfigMap as files."
    )
    csi: CSIVolumeSource | None = Field(
        None, alias="csi", description="Ephemeral volume from a CSI driver."
    )
    downward_api: DownwardAPIVolumeSource | None = Field(
        None, alias="downwardAPI", description="Pod metadata as files."
    )
    empty_dir: EmptyDirVolumeSource | None = Field(
        None, alias="emptyDir", description="An empty directory living as long as the pod."
    )
    ephemeral: EphemeralVolumeSource | None = Field(
        None, alias="ephemeral", description="A claim created and deleted with the pod."
    )
    fc: FCVolumeSource | None = Field(None, alias="fc", description="Fibre Channel disk.")
    flex_volume: FlexVolumeSource | None = Field(
        None, alias="flexVolume", description="Deprecated FlexVolume driver volume."
    )
    flocker: FlockerVolumeSource | None = Field(
        None, alias="flocker", description="Deprecated Flocker dataset."
    )
    gce_persistent_disk: GCEPersistentDiskVolumeSource | None = Field(
        None, alias="gcePersistentDisk", description="Deprecated GCE persistent disk."
    )
    git_repo: GitRepoVolumeSource | None = Field(
        None, alias="gitRepo", description="Deprecated git checkout."
    )
    glusterfs: GlusterfsVolumeSource | None = Field(
        None, alias="glusterfs", description="Deprecated GlusterFS mount."
    )
    host_path: HostPathVolumeSource | None = Field(
        None, alias="hostPath", description="A path on the node."
    )
    image: ImageVolumeSource | None = Field(
        None, alias="image", description="An OCI image or artifact, read-only."
    )
    iscsi: ISCSIVolumeSource | None = Field(None, alias="iscsi", description="iSCSI disk.")
    name: str = Field(
        alias="name",
        description="Name of the volume, unique in the pod (DNS label); referenced by volume mounts.",
    )
    nfs: NFSVolumeSource | None = Field(None, alias="nfs", description="NFS export.")
    persistent_volume_claim: PersistentVolumeClaimVolumeSource | None = Field(
        None,
        alias="persistentVolumeClaim",
        description="The volume bound to a PersistentVolumeClaim.",
    )
    photon_persistent_disk: PhotonPersistentDiskVolumeSource | None = Field(
        None, alias="photonPersistentDisk", description="Deprecated Photon disk."
    )
    portworx_volume: PortworxVolumeSource | None = Field(
        None, alias="portworxVolume", description="Deprecated Portworx volume."
    )
    projected: ProjectedVolumeSource | None = Field(
        None, alias="projected", description="Several sources merged into one directory."
    )
    quobyte: QuobyteVolumeSource | None = Field(
        None, alias="quobyte", description="Deprecated Quobyte mount."
    )
    rbd: RBDVolumeSource | None = Field(None, alias="rbd", description="Deprecated Ceph RBD disk.")
    scale_io: ScaleIOVolumeSource | None = Field(
        None, alias="scaleIO", description="Deprecated ScaleIO volume."
    )
    secret: SecretVolumeSource | None = Field(
        None, alias="secret", description="Keys of a Secret as files."
    )
    storageos: StorageOSVolumeSource | None = Field(
        None, alias="storageos", description="Deprecated StorageOS volume."
    )
    vsphere_volume: VsphereVirtualDiskVolumeSource | None = Field(
        None, alias="vsphereVolume", description="Deprecated vSphere disk."
    )
