"""core/v1 storage objects: PersistentVolume, its volume sources, the claim list, and the
topology terms StorageClasses use."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, Quantity, Time
from skiff.api.types._core_common import NodeSelector, ObjectReference
from skiff.api.types._core_volume import (
    AWSElasticBlockStoreVolumeSource,
    AzureDiskVolumeSource,
    FCVolumeSource,
    FlockerVolumeSource,
    GCEPersistentDiskVolumeSource,
    HostPathVolumeSource,
    NFSVolumeSource,
    PersistentVolumeClaim,
    PhotonPersistentDiskVolumeSource,
    PortworxVolumeSource,
    QuobyteVolumeSource,
    VsphereVirtualDiskVolumeSource,
)
from skiff.api.types._fields import atomic_list, struct_extensions
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = [
    "AzureFilePersistentVolumeSource",
    "CSIPersistentVolumeSource",
    "CephFSPersistentVolumeSource",
    "CinderPersistentVolumeSource",
    "FlexPersistentVolumeSource",
    "GlusterfsPersistentVolumeSource",
    "ISCSIPersistentVolumeSource",
    "LocalVolumeSource",
    "PersistentVolume",
    "PersistentVolumeClaimList",
    "PersistentVolumeList",
    "PersistentVolumeSpec",
    "PersistentVolumeStatus",
    "RBDPersistentVolumeSource",
    "ScaleIOPersistentVolumeSource",
    "SecretReference",
    "StorageOSPersistentVolumeSource",
    "TopologySelectorLabelRequirement",
    "TopologySelectorTerm",
    "VolumeNodeAffinity",
]

_READ_ONLY = "Mount read-only; default false."


class SecretReference(KubeModel):
    """A Secret named by namespace and name (volumes may refer across namespaces)."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    name: str | None = Field(None, alias="name", description="Name of the Secret.")
    namespace: str | None = Field(None, alias="namespace", description="Namespace of the Secret.")


class AzureFilePersistentVolumeSource(KubeModel):
    """Deprecated in-tree Azure File share as a PersistentVolume."""

    read_only: bool | None = Field(None, alias="readOnly", description=_READ_ONLY)
    secret_name: str = Field(
        alias="secretName", description="Secret holding the storage account name and key."
    )
    secret_namespace: str | None = Field(
        None,
        alias="secretNamespace",
        description="Namespace of that Secret; the claim's namespace when unset.",
    )
    share_name: str = Field(alias="shareName", description="Name of the file share.")


class CSIPersistentVolumeSource(KubeModel):
    """A volume managed by a CSI driver."""

    controller_expand_secret_ref: SecretReference | None = Field(
        None,
        alias="controllerExpandSecretRef",
        description="Secret passed to the driver's ControllerExpandVolume call.",
    )
    controller_publish_secret_ref: SecretReference | None = Field(
        None,
        alias="controllerPublishSecretRef",
        description="Secret passed to the driver's ControllerPublishVolume calls.",
    )
    driver: str = Field(alias="driver", description="Name of the CSI driver.")
    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount, e.g. ext4."
    )
    node_expand_secret_ref: SecretReference | None = Field(
        None,
        alias="nodeExpandSecretRef",
        description="Secret passed to the driver's NodeExpandVolume call.",
    )
    node_publish_secret_ref: SecretReference | None = Field(
        None,
        alias="nodePublishSecretRef",
        description="Secret passed to the driver's NodePublishVolume call.",
    )
    node_stage_secret_ref: SecretReference | None = Field(
        None,
        alias="nodeStageSecretRef",
        description="Secret passed to the driver's NodeStageVolume calls.",
    )
    read_only: bool | None = Field(
        None, alias="readOnly", description="Publish read-only; default false."
    )
    volume_attributes: dict[str, str] | None = Field(
        None, alias="volumeAttributes", description="Driver-specific properties of the volume."
    )
    volume_handle: str = Field(
        alias="volumeHandle", description="The driver's unique identifier of the volume."
    )


class CephFSPersistentVolumeSource(KubeModel):
    """Deprecated in-tree CephFS mount as a PersistentVolume."""

    monitors: list[str] = Field(
        alias="monitors", description="Ceph monitor addresses.", json_schema_extra=atomic_list()
    )
    path: str | None = Field(
        None, alias="path", description="Path within the filesystem to mount; defaults to /."
    )
    read_only: bool | None = Field(None, alias="readOnly", description=_READ_ONLY)
    secret_file: str | None = Field(
        None, alias="secretFile", description="Path to the key ring of the user."
    )
    secret_ref: SecretReference | None = Field(
        None, alias="secretRef", description="Secret holding the user's key."
    )
    user: str | None = Field(None, alias="user", description="RADOS user name; default admin.")


class CinderPersistentVolumeSource(KubeModel):
    """Deprecated in-tree OpenStack Cinder volume as a PersistentVolume."""

    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; defaults to ext4."
    )
    read_only: bool | None = Field(None, alias="readOnly", description=_READ_ONLY)
    secret_ref: SecretReference | None = Field(
        None, alias="secretRef", description="Secret with the OpenStack credentials."
    )
    volume_id: str = Field(alias="volumeID", description="ID of the Cinder volume.")


class FlexPersistentVolumeSource(KubeModel):
    """Deprecated FlexVolume driver volume as a PersistentVolume."""

    driver: str = Field(alias="driver", description="Name of the FlexVolume driver.")
    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; the driver's default."
    )
    options: dict[str, str] | None = Field(
        None, alias="options", description="Extra options passed to the driver."
    )
    read_only: bool | None = Field(None, alias="readOnly", description=_READ_ONLY)
    secret_ref: SecretReference | None = Field(
        None, alias="secretRef", description="Secret passed to the driver."
    )


class GlusterfsPersistentVolumeSource(KubeModel):
    """Deprecated in-tree GlusterFS mount as a PersistentVolume."""

    endpoints: str = Field(
        alias="endpoints", description="Endpoints object naming the Glusterfs servers."
    )
    endpoints_namespace: str | None = Field(
        None,
        alias="endpointsNamespace",
        description="Namespace of the Endpoints; the claim's namespace when unset.",
    )
    path: str = Field(alias="path", description="Glusterfs volume path.")
    read_only: bool | None = Field(None, alias="readOnly", description=_READ_ONLY)


class ISCSIPersistentVolumeSource(KubeModel):
    """An iSCSI disk as a PersistentVolume."""

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
        None, alias="initiatorName", description="Custom iSCSI initiator name."
    )
    iqn: str = Field(alias="iqn", description="iSCSI qualified name of the target.")
    iscsi_interface: str | None = Field(
        None, alias="iscsiInterface", description="iSCSI interface name; default 'default' (tcp)."
    )
    lun: int = Field(alias="lun", description="Target LUN number.")
    portals: list[str] | None = Field(
        None,
        alias="portals",
        description="Further target portals (ip:port).",
        json_schema_extra=atomic_list(),
    )
    read_only: bool | None = Field(None, alias="readOnly", description=_READ_ONLY)
    secret_ref: SecretReference | None = Field(
        None, alias="secretRef", description="Secret for CHAP authentication."
    )
    target_portal: str = Field(alias="targetPortal", description="Target portal (ip:port).")


class LocalVolumeSource(KubeModel):
    """A disk, partition or directory on one node; needs nodeAffinity on the volume."""

    fs_type: str | None = Field(
        None,
        alias="fsType",
        description="Filesystem type of a block device; detected when unset.",
    )
    path: str = Field(alias="path", description="Absolute path on the node.")


class RBDPersistentVolumeSource(KubeModel):
    """Deprecated in-tree Ceph RBD disk as a PersistentVolume."""

    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; defaults to ext4."
    )
    image: str = Field(alias="image", description="RADOS image name.")
    keyring: str | None = Field(
        None, alias="keyring", description="Key ring path; default /etc/ceph/keyring."
    )
    monitors: list[str] = Field(
        alias="monitors", description="Ceph monitor addresses.", json_schema_extra=atomic_list()
    )
    pool: str | None = Field(None, alias="pool", description="RADOS pool; default rbd.")
    read_only: bool | None = Field(None, alias="readOnly", description=_READ_ONLY)
    secret_ref: SecretReference | None = Field(
        None, alias="secretRef", description="Secret holding the user's key."
    )
    user: str | None = Field(None, alias="user", description="RADOS user name; default admin.")


class ScaleIOPersistentVolumeSource(KubeModel):
    """Deprecated in-tree ScaleIO volume as a PersistentVolume."""

    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; defaults to xfs."
    )
    gateway: str = Field(alias="gateway", description="Host address of the ScaleIO gateway.")
    protection_domain: str | None = Field(
        None, alias="protectionDomain", description="ScaleIO protection domain."
    )
    read_only: bool | None = Field(None, alias="readOnly", description=_READ_ONLY)
    secret_ref: SecretReference = Field(
        alias="secretRef", description="Secret with the ScaleIO user credentials."
    )
    ssl_enabled: bool | None = Field(
        None, alias="sslEnabled", description="Talk to the gateway over TLS."
    )
    storage_mode: str | None = Field(
        None, alias="storageMode", description="ThickProvisioned or ThinProvisioned (default)."
    )
    storage_pool: str | None = Field(None, alias="storagePool", description="ScaleIO pool.")
    system: str = Field(alias="system", description="Name of the ScaleIO storage system.")
    volume_name: str | None = Field(
        None, alias="volumeName", description="Name of an existing ScaleIO volume."
    )


class StorageOSPersistentVolumeSource(KubeModel):
    """Deprecated in-tree StorageOS volume as a PersistentVolume."""

    fs_type: str | None = Field(
        None, alias="fsType", description="Filesystem type to mount; defaults to ext4."
    )
    read_only: bool | None = Field(None, alias="readOnly", description=_READ_ONLY)
    secret_ref: ObjectReference | None = Field(
        None, alias="secretRef", description="Secret with the StorageOS API credentials."
    )
    volume_name: str | None = Field(
        None, alias="volumeName", description="Name of the StorageOS volume."
    )
    volume_namespace: str | None = Field(
        None, alias="volumeNamespace", description="StorageOS namespace of the volume."
    )


class TopologySelectorLabelRequirement(KubeModel):
    """A topology label and the values it may take."""

    key: str = Field(
        alias="key", description="The topology label, e.g. topology.kubernetes.io/zone."
    )
    values: list[str] = Field(
        alias="values",
        description="Values the label may have; one must match.",
        json_schema_extra=atomic_list(),
    )


class TopologySelectorTerm(KubeModel):
    """A topology domain: every requirement must hold (they are ANDed)."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    match_label_expressions: list[TopologySelectorLabelRequirement] | None = Field(
        None,
        alias="matchLabelExpressions",
        description="Label requirements of the domain.",
        json_schema_extra=atomic_list(),
    )


class VolumeNodeAffinity(KubeModel):
    """The nodes a volume can be reached from."""

    required: NodeSelector | None = Field(
        None, alias="required", description="Nodes that must match for a pod to use the volume."
    )


class PersistentVolumeSpec(KubeModel):
    """A piece of storage: its capacity, access modes, exactly one source and its lifecycle."""

    access_modes: list[str] | None = Field(
        None,
        alias="accessModes",
        description="How the volume can be mounted: ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod.",
        json_schema_extra=atomic_list(),
    )
    aws_elastic_block_store: AWSElasticBlockStoreVolumeSource | None = Field(
        None, alias="awsElasticBlockStore", description="Deprecated AWS EBS disk."
    )
    azure_disk: AzureDiskVolumeSource | None = Field(
        None, alias="azureDisk", description="Deprecated Azure data disk."
    )
    azure_file: AzureFilePersistentVolumeSource | None = Field(
        None, alias="azureFile", description="Deprecated Azure File share."
    )
    capacity: dict[str, Quantity] | None = Field(
        None, alias="capacity", description="Size of the volume, e.g. storage: 10Gi."
    )
    cephfs: CephFSPersistentVolumeSource | None = Field(
        None, alias="cephfs", description="Deprecated CephFS mount."
    )
    cinder: CinderPersistentVolumeSource | None = Field(
        None, alias="cinder", description="Deprecated OpenStack Cinder volume."
    )
    claim_ref: ObjectReference | None = Field(
        None,
        alias="claimRef",
        description="The claim bound to this volume, or the only claim that may bind it.",
    )
    csi: CSIPersistentVolumeSource | None = Field(
        None, alias="csi", description="A volume managed by a CSI driver."
    )
    fc: FCVolumeSource | None = Field(None, alias="fc", description="Fibre Channel disk.")
    flex_volume: FlexPersistentVolumeSource | None = Field(
        None, alias="flexVolume", description="Deprecated FlexVolume driver volume."
    )
    flocker: FlockerVolumeSource | None = Field(
        None, alias="flocker", description="Deprecated Flocker dataset."
    )
    gce_persistent_disk: GCEPersistentDiskVolumeSource | None = Field(
        None, alias="gcePersistentDisk", description="Deprecated GCE persistent disk."
    )
    glusterfs: GlusterfsPersistentVolumeSource | None = Field(
        None, alias="glusterfs", description="Deprecated GlusterFS mount."
    )
    host_path: HostPathVolumeSource | None = Field(
        None, alias="hostPath", description="A path on the node; for single-node testing."
    )
    iscsi: ISCSIPersistentVolumeSource | None = Field(
        None, alias="iscsi", description="iSCSI disk."
    )
    local: LocalVolumeSource | None = Field(
        None, alias="local", description="Storage attached to one node."
    )
    mount_options: list[str] | None = Field(
        None,
        alias="mountOptions",
        description="Mount options, not validated: a wrong one makes the mount fail.",
        json_schema_extra=atomic_list(),
    )
    nfs: NFSVolumeSource | None = Field(None, alias="nfs", description="NFS export.")
    node_affinity: VolumeNodeAffinity | None = Field(
        None, alias="nodeAffinity", description="Nodes the volume can be used from."
    )
    persistent_volume_reclaim_policy: str | None = Field(
        None,
        alias="persistentVolumeReclaimPolicy",
        description="What happens to the volume once its claim is gone: Retain (the default for volumes created by hand), Delete or Recycle.",
    )
    photon_persistent_disk: PhotonPersistentDiskVolumeSource | None = Field(
        None, alias="photonPersistentDisk", description="Deprecated Photon disk."
    )
    portworx_volume: PortworxVolumeSource | None = Field(
        None, alias="portworxVolume", description="Deprecated Portworx volume."
    )
    quobyte: QuobyteVolumeSource | None = Field(
        None, alias="quobyte", description="Deprecated Quobyte mount."
    )
    rbd: RBDPersistentVolumeSource | None = Field(
        None, alias="rbd", description="Deprecated Ceph RBD disk."
    )
    scale_io: ScaleIOPersistentVolumeSource | None = Field(
        None, alias="scaleIO", description="Deprecated ScaleIO volume."
    )
    storage_class_name: str | None = Field(
        None,
        alias="storageClassName",
        description="StorageClass this volume belongs to; empty means no class.",
    )
    storageos: StorageOSPersistentVolumeSource | None = Field(
        None, alias="storageos", description="Deprecated StorageOS volume."
    )
    volume_attributes_class_name: str | None = Field(
        None,
        alias="volumeAttributesClassName",
        description="VolumeAttributesClass of the volume (beta feature, off by default).",
    )
    volume_mode: str | None = Field(
        None, alias="volumeMode", description="Filesystem (the default) or Block."
    )
    vsphere_volume: VsphereVirtualDiskVolumeSource | None = Field(
        None, alias="vsphereVolume", description="Deprecated vSphere disk."
    )


class PersistentVolumeStatus(KubeModel):
    """Observed state of a PersistentVolume."""

    last_phase_transition_time: Time | None = Field(
        None, alias="lastPhaseTransitionTime", description="When the phase last changed."
    )
    message: str | None = Field(
        None, alias="message", description="Human-readable detail of the phase."
    )
    phase: str | None = Field(
        None, alias="phase", description="Pending, Available, Bound, Released or Failed."
    )
    reason: str | None = Field(None, alias="reason", description="CamelCase reason of a failure.")


class PersistentVolume(KubeModel):
    """A piece of storage in the cluster, provisioned by hand or by a StorageClass."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("", "v1", "PersistentVolume"))
    )
    api_version: str | None = Field(
        None, alias="apiVersion", description="Versioned schema of this object; v1."
    )
    kind: str | None = Field(None, alias="kind", description="PersistentVolume.")
    metadata: ObjectMeta | None = Field(
        None, alias="metadata", description="Standard object metadata."
    )
    spec: PersistentVolumeSpec | None = Field(
        None, alias="spec", description="The volume's capacity, source and access modes."
    )
    status: PersistentVolumeStatus | None = Field(
        None, alias="status", description="Observed state of the volume; read-only."
    )


class PersistentVolumeList(KubeModel):
    """A list of PersistentVolume objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("", "v1", "PersistentVolumeList"))
    )
    api_version: str | None = Field(
        None, alias="apiVersion", description="Versioned schema of this object; v1."
    )
    kind: str | None = Field(None, alias="kind", description="PersistentVolumeList.")
    metadata: ListMeta | None = Field(
        None, alias="metadata", description="List metadata: resourceVersion and continue token."
    )
    items: list[PersistentVolume] = Field(alias="items", description="The PersistentVolumes.")


class PersistentVolumeClaimList(KubeModel):
    """A list of PersistentVolumeClaim objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("", "v1", "PersistentVolumeClaimList"))
    )
    api_version: str | None = Field(
        None, alias="apiVersion", description="Versioned schema of this object; v1."
    )
    kind: str | None = Field(None, alias="kind", description="PersistentVolumeClaimList.")
    metadata: ListMeta | None = Field(
        None, alias="metadata", description="List metadata: resourceVersion and continue token."
    )
    items: list[PersistentVolumeClaim] = Field(
        alias="items", description="The PersistentVolumeClaims."
    )
