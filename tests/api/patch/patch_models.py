"""Small pydantic models shaped like Pod and Deployment, used by the patch tests.

They follow ``skiff.api.types._base`` conventions (aliases, ``x-kubernetes-*`` extensions) so the
tests do not depend on the real API models; only the fields the tests need are declared.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from skiff.api.types._base import IntOrString, KubeModel, Quantity, RawExtension

MERGE_BY_NAME: dict[str, Any] = {
    "x-kubernetes-patch-strategy": "merge",
    "x-kubernetes-patch-merge-key": "name",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["name"],
}


class ManagedFieldsEntry(KubeModel):
    manager: str | None = None
    operation: str | None = None
    api_version: str | None = Field(default=None, alias="apiVersion")
    time: str | None = None
    fields_type: str | None = Field(default=None, alias="fieldsType")
    fields_v1: RawExtension | None = Field(default=None, alias="fieldsV1")
    subresource: str | None = None


class ObjectMeta(KubeModel):
    name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = Field(default=None, alias="resourceVersion")
    generation: int | None = None
    creation_timestamp: str | None = Field(default=None, alias="creationTimestamp")
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    finalizers: list[str] | None = Field(
        default=None,
        json_schema_extra={"x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "set"},
    )
    managed_fields: list[ManagedFieldsEntry] | None = Field(
        default=None, alias="managedFields", json_schema_extra={"x-kubernetes-list-type": "atomic"}
    )


class EnvVar(KubeModel):
    name: str
    value: str | None = None


class ContainerPort(KubeModel):
    name: str | None = None
    container_port: int = Field(alias="containerPort")
    protocol: str | None = None


class ResourceRequirements(KubeModel):
    limits: dict[str, Quantity] | None = None
    requests: dict[str, Quantity] | None = None


class Container(KubeModel):
    name: str
    image: str | None = None
    command: list[str] | None = Field(
        default=None, json_schema_extra={"x-kubernetes-list-type": "atomic"}
    )
    args: list[str] | None = None
    env: list[EnvVar] | None = Field(default=None, json_schema_extra=MERGE_BY_NAME)
    ports: list[ContainerPort] | None = Field(
        default=None,
        json_schema_extra={
            "x-kubernetes-patch-strategy": "merge",
            "x-kubernetes-patch-merge-key": "containerPort",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
        },
    )
    resources: ResourceRequirements | None = None


class ConfigMapVolumeSource(KubeModel):
    name: str | None = None


class EmptyDirVolumeSource(KubeModel):
    medium: str | None = None


class Volume(KubeModel):
    name: str
    config_map: ConfigMapVolumeSource | None = Field(default=None, alias="configMap")
    empty_dir: EmptyDirVolumeSource | None = Field(default=None, alias="emptyDir")


class PodSpec(KubeModel):
    containers: list[Container] = Field(json_schema_extra=MERGE_BY_NAME)
    volumes: list[Volume] | None = Field(
        default=None,
        json_schema_extra={
            "x-kubernetes-patch-strategy": "merge,retainKeys",
            "x-kubernetes-patch-merge-key": "name",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
        },
    )
    node_selector: dict[str, str] | None = Field(
        default=None, alias="nodeSelector", json_schema_extra={"x-kubernetes-map-type": "atomic"}
    )
    node_name: str | None = Field(default=None, alias="nodeName")


class PodStatus(KubeModel):
    phase: str | None = None


class Pod(KubeModel):
    api_version: str | None = Field(default=None, alias="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: PodSpec | None = None
    status: PodStatus | None = None


class PodTemplateSpec(KubeModel):
    metadata: ObjectMeta | None = None
    spec: PodSpec | None = None


class LabelSelector(KubeModel):
    match_labels: dict[str, str] | None = Field(default=None, alias="matchLabels")
    model_config = KubeModel.model_config | {
        "json_schema_extra": {"x-kubernetes-map-type": "atomic"}
    }


class RollingUpdateDeployment(KubeModel):
    max_surge: IntOrString | None = Field(default=None, alias="maxSurge")
    max_unavailable: IntOrString | None = Field(default=None, alias="maxUnavailable")


class DeploymentStrategy(KubeModel):
    type: str | None = None
    rolling_update: RollingUpdateDeployment | None = Field(default=None, alias="rollingUpdate")


class DeploymentSpec(KubeModel):
    replicas: int | None = None
    selector: LabelSelector | None = None
    template: PodTemplateSpec | None = None
    strategy: DeploymentStrategy | None = Field(
        default=None, json_schema_extra={"x-kubernetes-patch-strategy": "retainKeys"}
    )
    paused: bool | None = None
    extra: dict[str, Any] | None = None


class DeploymentStatus(KubeModel):
    replicas: int | None = None


class Deployment(KubeModel):
    api_version: str | None = Field(default=None, alias="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: DeploymentSpec | None = None
    status: DeploymentStatus | None = None
