"""The ``rbac.authorization.k8s.io/v1`` group: Role, ClusterRole and their bindings."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel
from skiff.api.types._fields import atomic_list, struct_extensions
from skiff.api.types.meta_v1 import LabelSelector, ListMeta, ObjectMeta

__all__ = [
    "AggregationRule",
    "ClusterRole",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "ClusterRoleList",
    "PolicyRule",
    "Role",
    "RoleBinding",
    "RoleBindingList",
    "RoleList",
    "RoleRef",
    "Subject",
]


class AggregationRule(KubeModel):
    cluster_role_selectors: list[LabelSelector] | None = Field(
        None, alias="clusterRoleSelectors", json_schema_extra=atomic_list()
    )


class PolicyRule(KubeModel):
    api_groups: list[str] | None = Field(None, alias="apiGroups", json_schema_extra=atomic_list())
    non_resource_ur_ls: list[str] | None = Field(
        None, alias="nonResourceURLs", json_schema_extra=atomic_list()
    )
    resource_names: list[str] | None = Field(
        None, alias="resourceNames", json_schema_extra=atomic_list()
    )
    resources: list[str] | None = Field(None, alias="resources", json_schema_extra=atomic_list())
    verbs: list[str] = Field(alias="verbs", json_schema_extra=atomic_list())


class ClusterRole(KubeModel):
    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("rbac.authorization.k8s.io", "v1", "ClusterRole"))
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
    metadata: ObjectMeta | None = Field(
        None,
        alias="metadata",
        description="Standard object metadata: name, namespace, labels, annotations and the fields the server maintains.",
    )
    aggregation_rule: AggregationRule | None = Field(None, alias="aggregationRule")
    rules: list[PolicyRule] | None = Field(None, alias="rules", json_schema_extra=atomic_list())


class RoleRef(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    api_group: str = Field(alias="apiGroup")
    kind: str = Field(alias="kind")
    name: str = Field(alias="name")


class Subject(KubeModel):
    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    api_group: str | None = Field(None, alias="apiGroup")
    kind: str = Field(alias="kind")
    name: str = Field(alias="name")
    namespace: str | None = Field(None, alias="namespace")


class ClusterRoleBinding(KubeModel):
    model_config = ConfigDict(
        json_schema_extra=struct_extensions(
            gvk=("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding")
        )
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
    metadata: ObjectMeta | None = Field(
        None,
        alias="metadata",
        description="Standard object metadata: name, namespace, labels, annotations and the fields the server maintains.",
    )
    role_ref: RoleRef = Field(alias="roleRef")
    subjects: list[Subject] | None = Field(None, alias="subjects", json_schema_extra=atomic_list())


class ClusterRoleBindingList(KubeModel):
    """A list of ClusterRoleBinding objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(
            gvk=("rbac.authorization.k8s.io", "v1", "ClusterRoleBindingList")
        )
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
    items: list[ClusterRoleBinding] = Field(
        alias="items", description="The ClusterRoleBinding objects."
    )


class ClusterRoleList(KubeModel):
    """A list of ClusterRole objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(
            gvk=("rbac.authorization.k8s.io", "v1", "ClusterRoleList")
        )
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
    items: list[ClusterRole] = Field(alias="items", description="The ClusterRole objects.")


class Role(KubeModel):
    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("rbac.authorization.k8s.io", "v1", "Role"))
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
    metadata: ObjectMeta | None = Field(
        None,
        alias="metadata",
        description="Standard object metadata: name, namespace, labels, annotations and the fields the server maintains.",
    )
    rules: list[PolicyRule] | None = Field(None, alias="rules", json_schema_extra=atomic_list())


class RoleBinding(KubeModel):
    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("rbac.authorization.k8s.io", "v1", "RoleBinding"))
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
    metadata: ObjectMeta | None = Field(
        None,
        alias="metadata",
        description="Standard object metadata: name, namespace, labels, annotations and the fields the server maintains.",
    )
    role_ref: RoleRef = Field(alias="roleRef")
    subjects: list[Subject] | None = Field(None, alias="subjects", json_schema_extra=atomic_list())


class RoleBindingList(KubeModel):
    """A list of RoleBinding objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(
            gvk=("rbac.authorization.k8s.io", "v1", "RoleBindingList")
        )
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
    items: list[RoleBinding] = Field(alias="items", description="The RoleBinding objects.")


class RoleList(KubeModel):
    """A list of Role objects, as returned by the list endpoint."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(gvk=("rbac.authorization.k8s.io", "v1", "RoleList"))
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
    items: list[Role] = Field(alias="items", description="The Role objects.")
