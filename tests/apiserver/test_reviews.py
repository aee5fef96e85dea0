"""Review resources answered by the API server: access reviews and self-subject reviews."""

from __future__ import annotations

import pytest

from skiff.api import resources as kinds
from skiff.apiserver.auth import Attributes, UserInfo
from skiff.apiserver.errors import ApiError
from skiff.apiserver.reviews import answer_review

ALICE = UserInfo("alice", ("devs",))


class OnlyPodsInDev:
    def authorize(self, attrs: Attributes) -> tuple[bool, str]:
        if attrs.resource == "pods" and attrs.namespace == "dev" and attrs.user.name == "alice":
            return True, "alice may touch pods in dev"
        return False, ""


def _info(kind: str) -> kinds.ResourceInfo:
    for r in kinds.RESOURCES:
        if r.kind == kind:
            return r
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("namespace", "resource", "allowed"),
    [("dev", "pods", True), ("prod", "pods", False), ("dev", "secrets", False)],
    ids=["allowed", "other-namespace", "other-resource"],
)
def test_self_subject_access_review(namespace: str, resource: str, allowed: bool) -> None:
    body = {
        "spec": {
            "resourceAttributes": {"namespace": namespace, "verb": "get", "resource": resource}
        }
    }
    out = answer_review(_info("SelfSubjectAccessReview"), "", body, ALICE, OnlyPodsInDev())
    assert out["kind"] == "SelfSubjectAccessReview"
    assert out["status"]["allowed"] is allowed
    assert out["status"].get("denied", False) is (not allowed)


def test_subject_access_review_asks_about_another_user() -> None:
    body = {
        "spec": {
            "user": "alice",
            "resourceAttributes": {"namespace": "dev", "verb": "list", "resource": "pods"},
        }
    }
    out = answer_review(_info("SubjectAccessReview"), "", body, UserInfo("admin"), OnlyPodsInDev())
    assert out["status"]["allowed"] is True
    with pytest.raises(ApiError) as err:
        answer_review(
            _info("SubjectAccessReview"),
            "",
            {"spec": {"resourceAttributes": {}}},
            UserInfo("admin"),
            OnlyPodsInDev(),
        )
    assert err.value.code == 422


def test_review_needs_exactly_one_attribute_set() -> None:
    with pytest.raises(ApiError) as err:
        answer_review(_info("SelfSubjectAccessReview"), "", {"spec": {}}, ALICE, OnlyPodsInDev())
    assert err.value.code == 422 and "exactly one" in err.value.message


def test_self_subject_review_reports_the_caller() -> None:
    out = answer_review(_info("SelfSubjectReview"), "", {}, ALICE, OnlyPodsInDev())
    assert out["status"]["userInfo"] == {"username": "alice", "groups": ["devs"]}
