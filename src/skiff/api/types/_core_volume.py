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
    fs_type: str | None = Field(None, alias="fsType")
    partition: int | None = Field(None, alias="partition")
    read_only: bool | None = Field(None, alias="readOnly")
    volume_id: str = Field(alias="volumeID")


class AzureDiskVolumeSource(KubeModel):
    caching_mode: str | None = Field(None, alias="cachingMode")
    disk_name: str = Field(alias="diskName")
    disk_uri: str = Field(alias="diskURI")
    fs_type: str | None = Field(None, alias="fsType")
    kind: str | None = Field(None, alias="kind")
    read_only: bool | None = Field(None, alias="readOnly")


class AzureFileVolumeSource(KubeModel):
    read_only: bool | None = Field(None, alias="readOnly")
    secret_name: str = Field(alias="secretName")
    share_name: str = Field(alias="shareName")


class CSIVolumeSource(KubeModel):
    driver: str = Field(alias="driver")
    fs_type: str | None = Field(None, alias="fsType")
    node_publish_secret_ref: LocalObjectReference | None = Field(None, alias="nodePublishSecretRef")
    read_only: bool | None = Field(None, alias="readOnly")
    volume_attributes: dict[str, str] | None = Field(None, alias="volumeAttributes")


class CephFSVolumeSource(KubeModel):
    monitors: list[str] = Field(alias="monitors", json_schema_extra=atomic_list())
    path: str | None = Field(None, alias="path")
    read_only: bool | None = Field(None, alias="readOnly")
    secret_file: str | None = Field(None, alias="secretFile")
    secret_ref: LocalObjectReference | None = Field(None, alias="secretRef")
    user: str | None = Field(None, alias="user")


class CinderVolumeSource(KubeModel):
    fs_type: str | None = Field(None, alias="fsType")
    read_only: bool | None = Field(None, alias="readOnly")
    secret_ref: LocalObjectReference | None = Field(None, alias="secretRef")
    volume_id: str = Field(alias="volumeID")


class ClusterTrustBundleProjection(KubeModel):
    label_selector: LabelSelector | None = Field(None, alias="labelSelector")
    name: str | None = Field(None, alias="name")
    optional: bool | None = Field(None, alias="optional")
    path: str = Field(alias="path")
    signer_name: str | None = Field(None, alias="signerName")


class ConfigMapProjection(KubeModel):
    items: list[KeyToPath] | None = Field(None, alias="items", json_schema_extra=atomic_list())
    name: str | None = Field(None, alias="name")
    optional: bool | None = Field(None, alias="optional")


class ConfigMapVolumeSource(KubeModel):
    default_mode: int | None = Field(None, alias="defaultMode")
    items: list[KeyToPath] | None = Field(None, alias="items", json_schema_extra=atomic_list())
    name: str | None = Field(None, alias="name")
    optional: bool | None = Field(None, alias="optional")


class DownwardAPIVolumeFile(KubeModel):
    field_ref: ObjectFieldSelector | None = Field(None, alias="fieldRef")
    mode: int | None = Field(None, alias="mode")
    path: str = Field(alias="path")
    resource_field_ref: ResourceFieldSelector | None = Field(None, alias="resourceFieldRef")


class DownwardAPIProjection(KubeModel):
    items: list[DownwardAPIVolumeFile] | None = Field(
        None, alias="items", json_schema_extra=atomic_list()
    )


class DownwardAPIVolumeSource(KubeModel):
    default_mode: int | None = Field(None, alias="defaultMode")
    items: list[DownwardAPIVolumeFile] | None = Field(
        None, alias="items", json_schema_extra=atomic_list()
    )


class EmptyDirVolumeSource(KubeModel):
    medium: str | None = Field(None, alias="medium")
    size_limit: Quantity | None = Field(None, alias="sizeLimit")


class VolumeResourceRequirements(KubeModel):
    limits: dict[str, Quantity] | None = Field(None, alias="limits")
    requests: dict[str, Quantity] | None = Field(None, alias="requests")


class PersistentVolumeClaimSpec(KubeModel):
    access_modes: list[str] | None = Field(
        None, alias="accessModes", json_schema_extra=atomic_list()
    )
    data_source: TypedLocalObjectReference | None = Field(None, alias="dataSource")
    data_source_ref: TypedObjectReference | None = Field(None, alias="dataSourceRef")
    resources: VolumeResourceRequirements | None = Field(None, alias="resources")
    selector: LabelSelector | None = Field(None, alias="selector")
    storage_class_name: str | None = Field(None, alias="storageClassName")
    volume_attributes_class_name: str | None = Field(None, alias="volumeAttributesClassName")
    volume_mode: str | None = Field(None, alias="volumeMode")
    volume_name: str | None = Field(None, alias="volumeName")


class PersistentVolumeClaimTemplate(KubeModel):
    metadata: ObjectMeta | None = Field(None, alias="metadata")
    spec: PersistentVolumeClaimSpec = Field(alias="spec")


class EphemeralVolumeSource(KubeModel):
    volume_claim_template: PersistentVolumeClaimTemplate | None = Field(
        None, alias="volumeClaimTemplate"
    )


class FCVolumeSource(KubeModel):
    fs_type: str | None = Field(None, alias="fsType")
    lun: int | None = Field(None, alias="lun")
    read_only: bool | None = Field(None, alias="readOnly")
    target_wwns: list[str] | None = Field(None, alias="targetWWNs", json_schema_extra=atomic_list())
    wwids: list[str] | None = Field(None, alias="wwids", json_schema_extra=atomic_list())


class FlexVolumeSource(KubeModel):
    driver: str = Field(alias="driver")
    fs_type: str | None = Field(None, alias="fsType")
    options: dict[str, str] | None = Field(None, alias="options")
    read_only: bool | None = Field(None, alias="readOnly")
    secret_ref: LocalObjectReference | None = Field(None, alias="secretRef")


class FlockerVolumeSource(KubeModel):
    dataset_name: str | None = Field(None, alias="datasetName")
    dataset_uuid: str | None = Field(None, alias="datasetUUID")


class GCEPersistentDiskVolumeSource(KubeModel):
    fs_type: str | None = Field(None, alias="fsType")
    partition: int | None = Field(None, alias="partition")
    pd_name: str = Field(alias="pdName")
    read_only: bool | None = Field(None, alias="readOnly")


class GitRepoVolumeSource(KubeModel):
    directory: str | None = Field(None, alias="directory")
    repository: str = Field(alias="repository")
    revision: str | None = Field(None, alias="revision")


class GlusterfsVolumeSource(KubeModel):
    endpoints: str = Field(alias="endpoints")
    path: str = Field(alias="path")
    read_only: bool | None = Field(None, alias="readOnly")


class HostPathVolumeSource(KubeModel):
    path: str = Field(alias="path")
    type: str | None = Field(None, alias="type")


class ISCSIVolumeSource(KubeModel):
    chap_auth_discovery: bool | None = Field(None, alias="chapAuthDiscovery")
    chap_auth_session: bool | None = Field(None, alias="chapAuthSession")
    fs_type: str | None = Field(None, alias="fsType")
    initiator_name: str | None = Field(None, alias="initiatorName")
    iqn: str = Field(alias="iqn")
    iscsi_interface: str | None = Field(None, alias="iscsiInterface")
    lun: int = Field(alias="lun")
    portals: list[str] | None = Field(None, alias="portals", json_schema_extra=atomic_list())
    read_only: bool | None = Field(None, alias="readOnly")
    secret_ref: LocalObjectReference | None = Field(None, alias="secretRef")
    target_portal: str = Field(alias="targetPortal")


class ImageVolumeSource(KubeModel):
    pull_policy: str | None = Field(None, alias="pullPolicy")
    reference: str | None = Field(None, alias="reference")


class ModifyVolumeStatus(KubeModel):
    status: str = Field(alias="status")
    target_volume_attributes_class_name: str | None = Field(
        None, alias="targetVolumeAttributesClassName"
    )


class NFSVolumeSource(KubeModel):
    path: str = Field(alias="path")
    read_only: bool | None = Field(None, alias="readOnly")
    server: str = Field(alias="server")


class PersistentVolumeClaimCondition(KubeModel):
    last_probe_time: Time | None = Field(None, alias="lastProbeTime")
    last_transition_time: Time | None = Field(None, alias="lastTransitionTime")
    message: str | None = Field(None, alias="message")
    reason: str | None = Field(None, alias="reason")
    status: str = Field(alias="status")
    type: str = Field(alias="type")


class PersistentVolumeClaimStatus(KubeModel):
    access_modes: list[str] | None = Field(
        None, alias="accessModes", json_schema_extra=atomic_list()
    )
    allocated_resource_statuses: dict[str, str] | None = Field(
        None, alias="allocatedResourceStatuses", json_schema_extra=granular_map()
    )
    allocated_resources: dict[str, Quantity] | None = Field(None, alias="allocatedResources")
    capacity: dict[str, Quantity] | None = Field(None, alias="capacity")
    conditions: list[PersistentVolumeClaimCondition] | None = Field(
        None, alias="conditions", json_schema_extra=merge_list("type")
    )
    current_volume_attributes_class_name: str | None = Field(
        None, alias="currentVolumeAttributesClassName"
    )
    modify_volume_status: ModifyVolumeStatus | None = Field(None, alias="modifyVolumeStatus")
    phase: str | None = Field(None, alias="phase")


class PersistentVolumeClaim(KubeModel):
    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("", "v1", "PersistentVolumeClaim"))
    )
    api_version: str | None = Field(None, alias="apiVersion")
    kind: str | None = Field(None, alias="kind")
    metadata: ObjectMeta | None = Field(None, alias="metadata")
    spec: PersistentVolumeClaimSpec | None = Field(None, alias="spec")
    status: PersistentVolumeClaimStatus | None = Field(None, alias="status")


class PersistentVolumeClaimVolumeSource(KubeModel):
    claim_name: str = Field(alias="claimName")
    read_only: bool | None = Field(None, alias="readOnly")


class PhotonPersistentDiskVolumeSource(KubeModel):
    fs_type: str | None = Field(None, alias="fsType")
    pd_id: str = Field(alias="pdID")


class PortworxVolumeSource(KubeModel):
    fs_type: str | None = Field(None, alias="fsType")
    read_only: bool | None = Field(None, alias="readOnly")
    volume_id: str = Field(alias="volumeID")


class SecretProjection(KubeModel):
    items: list[KeyToPath] | None = Field(None, alias="items", json_schema_extra=atomic_list())
    name: str | None = Field(None, alias="name")
    optional: bool | None = Field(None, alias="optional")


class ServiceAccountTokenProjection(KubeModel):
    audience: str | None = Field(None, alias="audience")
    expiration_seconds: int | None = Field(None, alias="expirationSeconds")
    path: str = Field(alias="path")


class VolumeProjection(KubeModel):
    cluster_trust_bundle: ClusterTrustBundleProjection | None = Field(
        None, alias="clusterTrustBundle"
    )
    config_map: ConfigMapProjection | None = Field(None, alias="configMap")
    downward_api: DownwardAPIProjection | None = Field(None, alias="downwardAPI")
    secret: SecretProjection | None = Field(None, alias="secret")
    service_account_token: ServiceAccountTokenProjection | None = Field(
        None, alias="serviceAccountToken"
    )


class ProjectedVolumeSource(KubeModel):
    default_mode: int | None = Field(None, alias="defaultMode")
    sources: list[VolumeProjection] | None = Field(
        None, alias="sources", json_schema_extra=atomic_list()
    )


class QuobyteVolumeSource(KubeModel):
    group: str | None = Field(None, alias="group")
    read_only: bool | None = Field(None, alias="readOnly")
    registry: str = Field(alias="registry")
    tenant: str | None = Field(None, alias="tenant")
    user: str | None = Field(None, alias="user")
    volume: str = Field(alias="volume")


class RBDVolumeSource(KubeModel):
    fs_type: str | None = Field(None, alias="fsType")
    image: str = Field(alias="image")
    keyring: str | None = Field(None, alias="keyring")
    monitors: list[str] = Field(alias="monitors", json_schema_extra=atomic_list())
    pool: str | None = Field(None, alias="pool")
    read_only: bool | None = Field(None, alias="readOnly")
    secret_ref: LocalObjectReference | None = Field(None, alias="secretRef")
    user: str | None = Field(None, alias="user")


class ScaleIOVolumeSource(KubeModel):
    fs_type: str | None = Field(None, alias="fsType")
    gateway: str = Field(alias="gateway")
    protection_domain: str | None = Field(None, alias="protectionDomain")
    read_only: bool | None = Field(None, alias="readOnly")
    secret_ref: LocalObjectReference = Field(alias="secretRef")
    ssl_enabled: bool | None = Field(None, alias="sslEnabled")
    storage_mode: str | None = Field(None, alias="storageMode")
    storage_pool: str | None = Field(None, alias="storagePool")
    system: str = Field(alias="system")
    volume_name: str | None = Field(None, alias="volumeName")


class SecretVolumeSource(KubeModel):
    default_mode: int | None = Field(None, alias="defaultMode")
    items: list[KeyToPath] | None = Field(None, alias="items", json_schema_extra=atomic_list())
    optional: bool | None = Field(None, alias="optional")
    secret_name: str | None = Field(None, alias="secretName")


class StorageOSVolumeSource(KubeModel):
    fs_type: str | None = Field(None, alias="fsType")
    read_only: bool | None = Field(None, alias="readOnly")
    secret_ref: LocalObjectReference | None = Field(None, alias="secretRef")
    volume_name: str | None = Field(None, alias="volumeName")
    volume_namespace: str | None = Field(None, alias="volumeNamespace")


class VsphereVirtualDiskVolumeSource(KubeModel):
    fs_type: str | None = Field(None, alias="fsType")
    storage_policy_id: str | None = Field(None, alias="storagePolicyID")
    storage_policy_name: str | None = Field(None, alias="storagePolicyName")
    volume_path: str = Field(alias="volumePath")


class Volume(KubeModel):
    aws_elastic_block_store: AWSElasticBlockStoreVolumeSource | None = Field(
        None, alias="awsElasticBlockStore"
    )
    azure_disk: AzureDiskVolumeSource | None = Field(None, alias="azureDisk")
    azure_file: AzureFileVolumeSource | None = Field(None, alias="azureFile")
    cephfs: CephFSVolumeSource | None = Field(None, alias="cephfs")
    cinder: CinderVolumeSource | None = Field(None, alias="cinder")
    config_map: ConfigMapVolumeSource | None = Field(None, alias="configMap")
    csi: CSIVolumeSource | None = Field(None, alias="csi")
    downward_api: DownwardAPIVolumeSource | None = Field(None, alias="downwardAPI")
    empty_dir: EmptyDirVolumeSource | None = Field(None, alias="emptyDir")
    ephemeral: EphemeralVolumeSource | None = Field(None, alias="ephemeral")
    fc: FCVolumeSource | None = Field(None, alias="fc")
    flex_volume: FlexVolumeSource | None = Field(None, alias="flexVolume")
    flocker: FlockerVolumeSource | None = Field(None, alias="flocker")
    gce_persistent_disk: GCEPersistentDiskVolumeSource | None = Field(
        None, alias="gcePersistentDisk"
    )
    git_repo: GitRepoVolumeSource | None = Field(None, alias="gitRepo")
    glusterfs: GlusterfsVolumeSource | None = Field(None, alias="glusterfs")
    host_path: HostPathVolumeSource | None = Field(None, alias="hostPath")
    image: ImageVolumeSource | None = Field(None, alias="image")
    iscsi: ISCSIVolumeSource | None = Field(None, alias="iscsi")
    name: str = Field(alias="name")
    nfs: NFSVolumeSource | None = Field(None, alias="nfs")
    persistent_volume_claim: PersistentVolumeClaimVolumeSource | None = Field(
        None, alias="persistentVolumeClaim"
    )
    photon_persistent_disk: PhotonPersistentDiskVolumeSource | None = Field(
        None, alias="photonPersistentDisk"
    )
    portworx_volume: PortworxVolumeSource | None = Field(None, alias="portworxVolume")
    projected: ProjectedVolumeSource | None = Field(None, alias="projected")
    quobyte: QuobyteVolumeSource | None = Field(None, alias="quobyte")
    rbd: RBDVolumeSource | None = Field(None, alias="rbd")
    scale_io: ScaleIOVolumeSource | None = Field(None, alias="scaleIO")
    secret: SecretVolumeSource | None = Field(None, alias="secret")
    storageos: StorageOSVolumeSource | None = Field(None, alias="storageos")
    vsphere_volume: VsphereVirtualDiskVolumeSource | None = Field(None, alias="vsphereVolume")
