"""The ``authentication.k8s.io/v1`` group: SelfSubjectReview (``kubectl auth whoami``)."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel
from skiff.api.types._fields import atomic_list, struct_extensions
from skiff.api.types.meta_v1 import ObjectMeta

__all__ = ["SelfSubjectReview", "SelfSubjectReviewStatus", "UserInfo"]


class UserInfo(KubeModel):
    """Who a request was authenticated as."""

    extra: dict[str, list[str]] | None = Field(
        None, alias="extra", description="Extra information the authenticator attached."
    )
    groups: list[str] | None = Field(
        None,
        alias="groups",
        description="Groups the user belongs to.",
        json_schema_extra=atomic_list(),
    )
    uid: str | None = Field(
        None, alias="uid", description="Unique id of the user, if the authenticator has one."
    )
    username: str | None = Field(None, alias="username", description="The user's name.")


class SelfSubjectReviewStatus(KubeModel):
    """The answer: the caller's identity."""

    user_info: UserInfo | None = Field(None, alias="userInfo", description="Who the caller is.")


class SelfSubjectReview(KubeModel):
    """Asks the server who the caller is; the answer comes back in ``status``."""

    model_config = ConfigDict(
        json_schema_extra=struct_extensions(
            gvk=("authentication.k8s.io", "v1", "SelfSubjectReview")
        )
    )
    api_version: str | None = Field(
        None,
        alias="apiVersion",
        description="Versioned schema of this object: ``authentication.k8s.io/v1``.",
    )
    kind: str | None = Field(
        None, alias="kind", description="The object's type name in CamelCase; set by the server."
    )
    metadata: ObjectMeta | None = Field(
        None, alias="metadata", description="Standard object metadata; unused."
    )
    status: SelfSubjectReviewStatus | None = Field(
        None, alias="status", description="The caller's identity, filled in by the server."
    )
