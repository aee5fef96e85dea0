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
    """Builds a ClusterRole's rules from other ClusterRoles."""

    cluster_role_selectors: list[LabelSelector] | None = Field(
        None,
        alias="clusterRoleSelectors",
        description="Selectors of the ClusterRoles whose rules are merged in.",
        json_schema_extra=atomic_list(),
    )


class PolicyRule(KubeModel):
    """One permission: verbs on resources (or non-resource URLs)."""

    api_groups: list[str] | None = Field(
        None,
        alias="apiGroups",
        description="API groups of the resources; empty string is the core group, * all groups.",
        json_schema_extra=atomic_list(),
    )
    non_resource_ur_ls: list[str] | None = Field(
        None,
        alias="nonResourceURLs",
        description="Non-resource paths such as /healthz (ClusterRoles only); * allowed as suffix.",
        json_schema_extra=atomic_list(),
    )
    resource_names: list[str] | None = Field(
        None,
        alias="resourceNames",
        description="Restricts the rule to these object names.",
        json_schema_extra=atomic_list(),
    )
    resources: list[str] | None = Field(
        None,
        alias="resources",
        description="Resources, e.g. pods or pods/log; * for all.",
        json_schema_extra=atomic_list(),
    )
    verbs: list[str] = Field(
        alias="verbs",
        description="Verbs allowed, e.g. get, list, watch; * for all.",
        json_schema_extra=atomic_list(),
    )


class ClusterRole(KubeModel):
    """A cluster-wide set of permissions, grantable in one namespace (RoleBinding) or everywhere (ClusterRoleBinding)."""

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
    aggregation_rule: AggregationRule | None = Field(
        None,
        alias="aggregationRule",
        description="If set, rules are managed by the controller from matching ClusterRoles.",
    )
    rules: list[PolicyRule] | None = Field(
        None, alias="rules", description="Permissions granted.", json_schema_extra=atomic_list()
    )


class RoleRef(KubeModel):
    """The role a binding grants."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    api_group: str = Field(alias="apiGroup", description="rbac.authorization.k8s.io.")
    kind: str = Field(alias="kind", description="Role or ClusterRole.")
    name: str = Field(alias="name", description="Name of the role.")


class Subject(KubeModel):
    """Who a binding grants to: a user, group or service account."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    api_group: str | None = Field(
        None,
        alias="apiGroup",
        description="rbac.authorization.k8s.io for User and Group; empty for ServiceAccount.",
    )
    kind: str = Field(alias="kind", description="User, Group or ServiceAccount.")
    name: str = Field(alias="name", description="Name of the subject.")
    namespace: str | None = Field(
        None,
        alias="namespace",
        description="Namespace of a ServiceAccount; must be empty for users and groups.",
    )


class ClusterRoleBinding(KubeModel):
    """Grants a ClusterRole's permissions to subjects across the whole cluster."""

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
    role_ref: RoleRef = Field(alias="roleRef", description="The ClusterRole; immutable.")
    subjects: list[Subject] | None = Field(
        None,
        alias="subjects",
        description="Users, groups and service accounts granted the role.",
        json_schema_extra=atomic_list(),
    )


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
    """A set of permissions within one namespace."""

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
    rules: list[PolicyRule] | None = Field(
        None, alias="rules", description="Permissions granted.", json_schema_extra=atomic_list()
    )


class RoleBinding(KubeModel):
    """Grants a Role's or ClusterRole's permissions to subjects within one namespace."""

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
    role_ref: RoleRef = Field(alias="roleRef", description="The Role or ClusterRole; immutable.")
    subjects: list[Subject] | None = Field(
        None,
        alias="subjects",
        description="Users, groups and service accounts granted the role.",
        json_schema_extra=atomic_list(),
    )


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
