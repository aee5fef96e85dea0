"""Review resources: questions the API server answers on create and never stores.

- ``authorization.k8s.io/v1`` SelfSubjectAccessReview (``kubectl auth can-i``),
  SubjectAccessReview and LocalSubjectAccessReview ask the authorizer whether a user may do
  something and return its decision in ``status``.
- ``authentication.k8s.io/v1`` SelfSubjectReview (``kubectl auth whoami``) returns who the
  caller is.
"""

from __future__ import annotations

import copy
from typing import Any

from skiff.api.field import FieldError
from skiff.api.resources import ResourceInfo
from skiff.apiserver.auth import Attributes, Authorizer, UserInfo
from skiff.apiserver.errors import bad_request, invalid

__all__ = ["answer_review"]


def answer_review(
    info: ResourceInfo, namespace: str, body: Any, user: UserInfo, authorizer: Authorizer
) -> dict[str, Any]:
    """The review object of ``body`` with its ``status`` filled in."""
    if not isinstance(body, dict):
        raise bad_request(f"the request body must be a {info.kind} object")
    kind = body.get("kind")
    if kind not in (None, info.kind) or body.get("apiVersion") not in (None, info.api_version):
        raise bad_request(
            f"the kind in the data ({body.get('apiVersion')} {kind}) does not match the expected "
            f"kind ({info.api_version} {info.kind})"
        )
    out = copy.deepcopy(body)
    out["apiVersion"], out["kind"] = info.api_version, info.kind
    out.setdefault("metadata", {})
    if info.kind == "SelfSubjectReview":
        out["status"] = {"userInfo": _user_info(user)}
        return out
    spec = out.get("spec")
    if not isinstance(spec, dict):
        raise invalid(info, info.kind, "", [FieldError.required("spec")])
    subject = user
    if info.kind in ("SubjectAccessReview", "LocalSubjectAccessReview"):
        name = spec.get("user") or ""
        groups = tuple(spec.get("groups") or ())
        if not name and not groups:
            raise invalid(
                info,
                info.kind,
                "",
                [
                    FieldError.invalid(
                        "spec.user", name, "at least one of user or group must be specified"
                    )
                ],
            )
        subject = UserInfo(name, groups, spec.get("uid") or "")
    resource = spec.get("resourceAttributes")
    non_resource = spec.get("nonResourceAttributes")
    if not isinstance(resource, dict | None) or not isinstance(non_resource, dict | None):
        raise bad_request("resourceAttributes and nonResourceAttributes must be objects")
    if bool(resource) == bool(non_resource):
        raise invalid(
            info,
            info.kind,
            "",
            [
                FieldError.invalid(
                    "spec.resourceAttributes",
                    resource,
                    "exactly one of nonResourceAttributes or resourceAttributes must be specified",
                )
            ],
        )
    if resource:
        ns = resource.get("namespace") or ""
        if info.kind == "LocalSubjectAccessReview":
            if ns and ns != namespace:
                raise invalid(
                    info,
                    info.kind,
                    "",
                    [
                        FieldError.invalid(
                            "spec.resourceAttributes.namespace",
                            ns,
                            "must match metadata.namespace",
                        )
                    ],
                )
            ns = namespace
        attrs = Attributes(
            user=subject,
            verb=str(resource.get("verb") or ""),
            api_group=str(resource.get("group") or ""),
            api_version=str(resource.get("version") or ""),
            resource=str(resource.get("resource") or ""),
            subresource=str(resource.get("subresource") or ""),
            namespace=ns,
            name=str(resource.get("name") or ""),
        )
    else:
        assert isinstance(non_resource, dict)
        attrs = Attributes(
            user=subject,
            verb=str(non_resource.get("verb") or ""),
            path=str(non_resource.get("path") or ""),
            resource_request=False,
        )
    allowed, reason = authorizer.authorize(attrs)
    status: dict[str, Any] = {"allowed": allowed}
    if reason:
        status["reason"] = reason
    if not allowed:
        status["denied"] = True
    out["status"] = status
    return out


def _user_info(user: UserInfo) -> dict[str, Any]:
    info: dict[str, Any] = {"username": user.name, "groups": list(user.groups)}
    if user.uid:
        info["uid"] = user.uid
    return info
