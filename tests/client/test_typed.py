"""TypedClient helpers: resource lookup from models, lenient decoding of server answers."""

from __future__ import annotations

import pytest

from skiff.api.types.apps_v1 import Deployment, DeploymentSpec
from skiff.api.types.autoscaling_v1 import HorizontalPodAutoscaler as HpaV1
from skiff.api.types.core_v1 import Pod
from skiff.client.typed import _load, resource_of


def test_resource_of_models() -> None:
    assert resource_of(Deployment).group_resource == "deployments.apps"
    assert resource_of(Pod).plural == "pods"
    assert resource_of(HpaV1).version == "v1"
    with pytest.raises(LookupError):
        resource_of(DeploymentSpec)


def test_answers_with_unknown_fields_still_load() -> None:
    pod = _load(
        Pod,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "futureField": 1},
            "spec": {
                "containers": [{"name": "c", "image": "i", "newKnob": True}],
                "someday": {"x": 1},
            },
        },
    )
    assert pod.spec is not None and pod.spec.containers[0].name == "c"
    assert pod.metadata is not None and pod.metadata.name == "p"
