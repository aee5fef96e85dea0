"""Small core/v1 types shared across topics: object references, key selectors,
node selectors and security options.
"""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, Quantity
from skiff.api.types._fields import atomic_list, struct_extensions

__all__ = [
    "AppArmorProfile",
    "Capabilities",
    "ConfigMapKeySelector",
    "KeyToPath",
    "LocalObjectReference",
    "NodeSelector",
    "NodeSelectorRequirement",
    "NodeSelectorTerm",
    "ObjectFieldSelector",
    "ObjectReference",
    "ResourceFieldSelector",
    "SELinuxOptions",
    "SeccompProfile",
    "SecretKeySelector",
    "Sysctl",
    "TypedLocalObjectReference",
    "TypedObjectReference",
    "WindowsSecurityContextOptions",
]


class AppArmorProfile(KubeModel):
    """The AppArmor profile applied to a container or pod."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(
            unions=[
                {
                    "discriminator": "type",
                    "fields-to-discriminateBy": {"localhostProfile": "LocalhostProfile"},
                }
            ]
        )
    )
    localhost_profile: str | None = Field(
        None,
        alias="localhostProfile",
        description="Name of a profile loaded on the node; required only when type is Localhost.",
    )
    type: str = Field(
        alias="type", description="Which profile to use: RuntimeDefault, Localhost or Unconfined."
    )


class Capabilities(KubeModel):
    """Linux capabilities to add to or drop from a container's default set."""

    add: list[str] | None = Field(
        None,
        alias="add",
        description="Capabilities to add, e.g. NET_ADMIN.",
        json_schema_extra=atomic_list(),
    )
    drop: list[str] | None = Field(
        None,
        alias="drop",
        description="Capabilities to remove, e.g. ALL.",
        json_schema_extra=atomic_list(),
    )


class ConfigMapKeySelector(KubeModel):
    """Selects one key of a ConfigMap in the pod's namespace."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    key: str = Field(alias="key", description="The key to read.")
    name: str | None = Field(None, alias="name", description="Name of the ConfigMap.")
    optional: bool | None = Field(
        None, alias="optional", description="If true, a missing ConfigMap or key is not an error."
    )


class KeyToPath(KubeModel):
    """Maps a key of a ConfigMap or Secret to a file path inside a volume."""

    key: str = Field(alias="key", description="The key to project.")
    mode: int | None = Field(
        None,
        alias="mode",
        description="File permission bits (0000-0777; JSON takes decimal); defaults to the volume's defaultMode.",
    )
    path: str = Field(
        alias="path",
        description="Relative path of the file; must not contain '..' or start with '/'.",
    )


class LocalObjectReference(KubeModel):
    """A reference by name to an object in the same namespace."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    name: str | None = Field(None, alias="name", description="Name of the referenced object.")


class NodeSelectorRequirement(KubeModel):
    """One requirement on a node's labels or fields."""

    key: str = Field(alias="key", description="The label or field key.")
    operator: str = Field(
        alias="operator", description="One of In, NotIn, Exists, DoesNotExist, Gt or Lt."
    )
    values: list[str] | None = Field(
        None,
        alias="values",
        description="Values for In and NotIn; one integer value for Gt and Lt; empty for Exists and DoesNotExist.",
        json_schema_extra=atomic_list(),
    )


class NodeSelectorTerm(KubeModel):
    """A set of node requirements that must all hold (ANDed); an empty term matches no node."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    match_expressions: list[NodeSelectorRequirement] | None = Field(
        None,
        alias="matchExpressions",
        description="Requirements on node labels.",
        json_schema_extra=atomic_list(),
    )
    match_fields: list[NodeSelectorRequirement] | None = Field(
        None,
        alias="matchFields",
        description="Requirements on node fields (only metadata.name is supported).",
        json_schema_extra=atomic_list(),
    )


class NodeSelector(KubeModel):
    """Node selection terms; a node matches if it matches any term (terms are ORed)."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    node_selector_terms: list[NodeSelectorTerm] = Field(
        alias="nodeSelectorTerms",
        description="The terms; required and must be non-empty.",
        json_schema_extra=atomic_list(),
    )


class ObjectFieldSelector(KubeModel):
    """Selects a field of the pod, for environment variables and downward API files."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    api_version: str | None = Field(
        None,
        alias="apiVersion",
        description="Version of the schema fieldPath is written in; defaults to v1.",
    )
    field_path: str = Field(
        alias="fieldPath", description="Path of the field, e.g. metadata.name or status.podIP."
    )


class ObjectReference(KubeModel):
    """A reference to any object, or to a field within it."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    api_version: str | None = Field(
        None, alias="apiVersion", description="API version of the referent."
    )
    field_path: str | None = Field(
        None,
        alias="fieldPath",
        description="Path to a part of the object, e.g. spec.containers{name} for a container.",
    )
    kind: str | None = Field(None, alias="kind", description="Kind of the referent.")
    name: str | None = Field(None, alias="name", description="Name of the referent.")
    namespace: str | None = Field(None, alias="namespace", description="Namespace of the referent.")
    resource_version: str | None = Field(
        None,
        alias="resourceVersion",
        description="The referent's resourceVersion the reference was made against.",
    )
    uid: str | None = Field(None, alias="uid", description="UID of the referent.")


class ResourceFieldSelector(KubeModel):
    """Selects a container resource value (limits.cpu, requests.memory, ...) for the downward API."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    container_name: str | None = Field(
        None,
        alias="containerName",
        description="The container to read from; required for volumes, optional for env vars.",
    )
    divisor: Quantity | None = Field(
        None, alias="divisor", description="Unit the value is expressed in; defaults to 1."
    )
    resource: str = Field(
        alias="resource", description="The resource to select, e.g. limits.memory."
    )


class SELinuxOptions(KubeModel):
    """SELinux labels applied to a container."""

    level: str | None = Field(None, alias="level", description="The SELinux level label.")
    role: str | None = Field(None, alias="role", description="The SELinux role label.")
    type: str | None = Field(None, alias="type", description="The SELinux type label.")
    user: str | None = Field(None, alias="user", description="The SELinux user label.")


class SeccompProfile(KubeModel):
    """The seccomp profile applied to a container or pod."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(
            unions=[
                {
                    "discriminator": "type",
                    "fields-to-discriminateBy": {"localhostProfile": "LocalhostProfile"},
                }
            ]
        )
    )
    localhost_profile: str | None = Field(
        None,
        alias="localhostProfile",
        description="Path of a profile file under the node's seccomp directory; required only when type is Localhost.",
    )
    type: str = Field(
        alias="type", description="Which profile to use: RuntimeDefault, Localhost or Unconfined."
    )


class SecretKeySelector(KubeModel):
    """Selects one key of a Secret in the pod's namespace."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    key: str = Field(alias="key", description="The key to read.")
    name: str | None = Field(None, alias="name", description="Name of the Secret.")
    optional: bool | None = Field(
        None, alias="optional", description="If true, a missing Secret or key is not an error."
    )


class Sysctl(KubeModel):
    """A namespaced kernel parameter to set for a pod."""

    name: str = Field(
        alias="name", description="The parameter name, e.g. net.ipv4.ip_local_port_range."
    )
    value: str = Field(alias="value", description="The value to set.")


class TypedLocalObjectReference(KubeModel):
    """A reference to an object of a given kind in the same namespace."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    api_group: str | None = Field(
        None, alias="apiGroup", description="API group of the referent; empty for the core group."
    )
    kind: str = Field(alias="kind", description="Kind of the referent.")
    name: str = Field(alias="name", description="Name of the referent.")


class TypedObjectReference(KubeModel):
    """A reference to an object of a given kind, possibly in another namespace."""

    api_group: str | None = Field(
        None, alias="apiGroup", description="API group of the referent; empty for the core group."
    )
    kind: str = Field(alias="kind", description="Kind of the referent.")
    name: str = Field(alias="name", description="Name of the referent.")
    namespace: str | None = Field(
        None,
        alias="namespace",
        description="Namespace of the referent; cross-namespace use needs a ReferenceGrant.",
    )


class WindowsSecurityContextOptions(KubeModel):
    """Security settings that apply only to Windows containers."""

    gmsa_credential_spec: str | None = Field(
        None, alias="gmsaCredentialSpec", description="Inline GMSA credential spec contents."
    )
    gmsa_credential_spec_name: str | None = Field(
        None, alias="gmsaCredentialSpecName", description="Name of the GMSA credential spec to use."
    )
    host_process: bool | None = Field(
        None,
        alias="hostProcess",
        description="Run the container as a Windows host process; all containers of the pod must agree.",
    )
    run_as_user_name: str | None = Field(
        None,
        alias="runAsUserName",
        description="Windows user to run the entrypoint as; defaults to the image's user.",
    )
