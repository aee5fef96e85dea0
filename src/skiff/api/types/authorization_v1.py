"""The ``authorization.k8s.io/v1`` group: access reviews (asked and answered, never stored)."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel
from skiff.api.types._fields import atomic_list, struct_extensions
from skiff.api.types.meta_v1 import ObjectMeta

__all__ = [
    "FieldSelectorAttributes",
    "FieldSelectorRequirement",
    "LabelSelectorAttributes",
    "LabelSelectorRequirement",
    "LocalSubjectAccessReview",
    "NonResourceAttributes",
    "ResourceAttributes",
    "SelfSubjectAccessReview",
    "SelfSubjectAccessReviewSpec",
    "SubjectAccessReview",
    "SubjectAccessReviewSpec",
    "SubjectAccessReviewStatus",
]

_API_VERSION = "Versioned schema of this object: ``authorization.k8s.io/v1``."
_KIND = "The object's type name in CamelCase; set by the server."


class FieldSelectorRequirement(KubeModel):
    """One term of a field selector in an access question."""

    key: str = Field(alias="key", description="The field the term is about.")
    operator: str = Field(
        alias="operator",
        description="How the field relates to the values: In, NotIn, Exists or DoesNotExist.",
    )
    values: list[str] | None = Field(
        None,
        alias="values",
        description="Values for In and NotIn; empty otherwise.",
        json_schema_extra=atomic_list(),
    )


class LabelSelectorRequirement(KubeModel):
    """One term of a label selector in an access question."""

    key: str = Field(alias="key", description="The label key the term is about.")
    operator: str = Field(
        alias="operator",
        description="How the label relates to the values: In, NotIn, Exists or DoesNotExist.",
    )
    values: list[str] | None = Field(
        None,
        alias="values",
        description="Values for In and NotIn; empty otherwise.",
        json_schema_extra=atomic_list(),
    )


class FieldSelectorAttributes(KubeModel):
    """A field selector the question is limited to, raw or parsed."""

    raw_selector: str | None = Field(
        None,
        alias="rawSelector",
        description="The selector as a client would send it, e.g. ``spec.nodeName=n1``.",
    )
    requirements: list[FieldSelectorRequirement] | None = Field(
        None,
        alias="requirements",
        description="The selector already split into terms.",
        json_schema_extra=atomic_list(),
    )


class LabelSelectorAttributes(KubeModel):
    """A label selector the question is limited to, raw or parsed."""

    raw_selector: str | None = Field(
        None,
        alias="rawSelector",
        description="The selector as a client would send it, e.g. ``app=web``.",
    )
    requirements: list[LabelSelectorRequirement] | None = Field(
        None,
        alias="requirements",
        description="The selector already split into terms.",
        json_schema_extra=atomic_list(),
    )


class ResourceAttributes(KubeModel):
    """The request on an API resource the question is about."""

    field_selector: FieldSelectorAttributes | None = Field(
        None,
        alias="fieldSelector",
        description="Field selector of a list or watch being asked about.",
    )
    group: str | None = Field(
        None, alias="group", description="API group of the resource; empty for the core group."
    )
    label_selector: LabelSelectorAttributes | None = Field(
        None,
        alias="labelSelector",
        description="Label selector of a list or watch being asked about.",
    )
    name: str | None = Field(
        None, alias="name", description="Name of the object; empty means all of them."
    )
    namespace: str | None = Field(
        None,
        alias="namespace",
        description="Namespace of the request; empty means all namespaces or a cluster-scoped resource.",
    )
    resource: str | None = Field(
        None, alias="resource", description="Plural resource name, e.g. ``pods``."
    )
    subresource: str | None = Field(
        None, alias="subresource", description="Subresource, e.g. ``status`` or ``log``."
    )
    verb: str | None = Field(
        None,
        alias="verb",
        description="API verb: get, list, watch, create, update, patch, delete, ...",
    )
    version: str | None = Field(None, alias="version", description="API version of the resource.")


class NonResourceAttributes(KubeModel):
    """A request on a plain URL path (such as ``/healthz``) the question is about."""

    path: str | None = Field(None, alias="path", description="The URL path asked about.")
    verb: str | None = Field(
        None, alias="verb", description="The HTTP verb in lower case, e.g. ``get``."
    )


class SubjectAccessReviewStatus(KubeModel):
    """The authorizer's answer."""

    allowed: bool = Field(alias="allowed", description="Whether the request would be allowed.")
    denied: bool | None = Field(
        None,
        alias="denied",
        description="Whether the request is explicitly denied (not merely not allowed).",
    )
    evaluation_error: str | None = Field(
        None,
        alias="evaluationError",
        description="Trouble the authorizer had while deciding, if any.",
    )
    reason: str | None = Field(
        None, alias="reason", description="Why the request is allowed or denied."
    )


class SelfSubjectAccessReviewSpec(KubeModel):
    """What the caller wants to know it may do; set exactly one of the two attribute sets."""

    non_resource_attributes: NonResourceAttributes | None = Field(
        None, alias="nonResourceAttributes", description="A request on a URL path."
    )
    resource_attributes: ResourceAttributes | None = Field(
        None, alias="resourceAttributes", description="A request on an API resource."
    )


class SubjectAccessReviewSpec(KubeModel):
    """Whether a given user or group may do something; set exactly one of the two attribute sets."""

    extra: dict[str, list[str]] | None = Field(
        None, alias="extra", description="Extra user information the authenticator reported."
    )
    groups: list[str] | None = Field(
        None, alias="groups", description="Groups of the subject.", json_schema_extra=atomic_list()
    )
    non_resource_attributes: NonResourceAttributes | None = Field(
        None, alias="nonResourceAttributes", description="A request on a URL path."
    )
    resource_attributes: ResourceAttributes | None = Field(
        None, alias="resourceAttributes", description="A request on an API resource."
    )
    uid: str | None = Field(None, alias="uid", description="UID of the subject.")
    user: str | None = Field(None, alias="user", description="User name of the subject.")


class SelfSubjectAccessReview(KubeModel):
    """Asks whether the caller may perform an action (``kubectl auth can-i``)."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(
            gvk=("authorization.k8s.io", "v1", "SelfSubjectAccessReview")
        )
    )
    api_version: str | None = Field(None, alias="apiVersion", description=_API_VERSION)
    kind: str | None = Field(None, alias="kind", description=_KIND)
    metadata: ObjectMeta | None = Field(
        None, alias="metadata", description="Standard object metadata; unused."
    )
    spec: SelfSubjectAccessReviewSpec = Field(alias="spec", description="The question.")
    status: SubjectAccessReviewStatus | None = Field(
        None, alias="status", description="The answer, filled in by the server."
    )


class SubjectAccessReview(KubeModel):
    """Asks whether a given user or group may perform an action."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(
            gvk=("authorization.k8s.io", "v1", "SubjectAccessReview")
        )
    )
    api_version: str | None = Field(None, alias="apiVersion", description=_API_VERSION)
    kind: str | None = Field(None, alias="kind", description=_KIND)
    metadata: ObjectMeta | None = Field(
        None, alias="metadata", description="Standard object metadata; unused."
    )
    spec: SubjectAccessReviewSpec = Field(alias="spec", description="The question.")
    status: SubjectAccessReviewStatus | None = Field(
        None, alias="status", description="The answer, filled in by the server."
    )


class LocalSubjectAccessReview(KubeModel):
    """A SubjectAccessReview limited to one namespace (the one it is posted to)."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(
            gvk=("authorization.k8s.io", "v1", "LocalSubjectAccessReview")
        )
    )
    api_version: str | None = Field(None, alias="apiVersion", description=_API_VERSION)
    kind: str | None = Field(None, alias="kind", description=_KIND)
    metadata: ObjectMeta | None = Field(
        None, alias="metadata", description="Standard object metadata; unused."
    )
    spec: SubjectAccessReviewSpec = Field(
        alias="spec", description="The question; its namespace must match the URL's."
    )
    status: SubjectAccessReviewStatus | None = Field(
        None, alias="status", description="The answer, filled in by the server."
    )
