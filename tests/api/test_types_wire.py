"""``KubeModel.to_wire``: Go's omitempty for maps and lists, empty structs kept, times in UTC."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from skiff.api.types import model_for


def test_empty_maps_and_lists_are_left_out_but_empty_structs_stay() -> None:
    pod = model_for("", "v1", "Pod")
    assert pod is not None
    wire = pod.model_validate(
        {
            "metadata": {"name": "p", "labels": {}, "annotations": {}},
            "spec": {
                "containers": [
                    {"name": "c", "image": "i", "env": [], "resources": {}, "securityContext": {}}
                ],
                "volumes": [{"name": "v", "emptyDir": {}}],
                "nodeSelector": {},
            },
        }
    ).to_wire()
    assert wire["metadata"] == {"name": "p"}
    container = wire["spec"]["containers"][0]
    assert "env" not in container
    assert container["resources"] == {} and container["securityContext"] == {}
    assert wire["spec"]["volumes"] == [{"emptyDir": {}, "name": "v"}]
    assert "nodeSelector" not in wire["spec"]


def test_required_lists_keep_their_value() -> None:
    role = model_for("rbac.authorization.k8s.io", "v1", "ClusterRole")
    rule_list = role.model_validate(
        {"metadata": {"name": "r"}, "rules": [{"verbs": ["get"]}]}
    ).to_wire()  # type: ignore[union-attr]
    assert rule_list["rules"] == [{"verbs": ["get"]}]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2025-01-02T03:04:05Z", "2025-01-02T03:04:05Z"),
        ("2025-01-02T05:04:05+02:00", "2025-01-02T03:04:05Z"),
        ("2025-01-02T03:04:05.999Z", "2025-01-02T03:04:05Z"),
    ],
)
def test_times_are_utc_with_second_precision(given: str, stored: str) -> None:
    cm = model_for("", "v1", "ConfigMap")
    assert cm is not None
    wire = cm.model_validate({"metadata": {"name": "c", "creationTimestamp": given}}).to_wire()
    assert wire["metadata"]["creationTimestamp"] == stored


def test_micro_times_keep_microseconds_in_utc() -> None:
    lease = model_for("coordination.k8s.io", "v1", "Lease")
    assert lease is not None
    wire = lease.model_validate(
        {"metadata": {"name": "l"}, "spec": {"renewTime": "2025-01-02T03:04:05.123456+00:00"}}
    ).to_wire()
    assert wire["spec"]["renewTime"] == "2025-01-02T03:04:05.123456Z"


@pytest.mark.parametrize("bad", ["yesterday", "2025-01-02", "2025-01-02T03:04:05"])
def test_malformed_times_are_rejected(bad: str) -> None:
    cm = model_for("", "v1", "ConfigMap")
    assert cm is not None
    with pytest.raises(ValidationError):
        cm.model_validate({"metadata": {"name": "c", "creationTimestamp": bad}})
