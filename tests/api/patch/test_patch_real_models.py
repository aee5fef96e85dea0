"""The patch engine driven by the real API models (skiff.api.types).

Checks that ``schema_for_model`` reads the patch metadata of ``apps_v1.Deployment`` and
``core_v1.Service`` as Kubernetes publishes it, and that apply and strategic merge patch give
Kubernetes' results on them. The algorithms themselves are covered against small local models in
the other test_patch_* modules.
"""

from __future__ import annotations

from typing import Any

import pytest

from skiff.api.patch import (
    ApplyConflict,
    apply,
    schema_for_model,
    strategic_merge_patch,
    update_managed_fields,
)
from skiff.api.types import apps_v1, core_v1

DEPLOY = schema_for_model(apps_v1.Deployment)


def nginx_deployment(image: str = "nginx:1.27", replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "nginx", "image": image, "ports": [{"containerPort": 80}]}
                    ]
                },
            },
        },
    }


def test_schema_reads_upstream_patch_metadata() -> None:
    spec = DEPLOY.field("spec")
    pod_spec = spec.field("template").field("spec")
    containers = pod_spec.field("containers")
    assert (containers.merge_key, containers.list_type, containers.list_map_keys) == (
        "name",
        "map",
        ("name",),
    )
    ports = containers.item.field("ports")
    assert ports.list_map_keys == ("containerPort", "protocol")
    assert "retainKeys" in pod_spec.field("volumes").patch_strategies
    assert "retainKeys" in spec.field("strategy").patch_strategies
    assert spec.field("selector").atomic
    finalizers = DEPLOY.field("metadata").field("finalizers")
    assert finalizers.list_type == "set" and "merge" in finalizers.patch_strategies
    service_ports = schema_for_model(core_v1.Service).field("spec").field("ports")
    assert service_ports.merge_key == "port"
    assert service_ports.list_map_keys == ("port", "protocol")


def test_server_side_apply_fields_match_kubernetes() -> None:
    out = apply(
        None,
        nginx_deployment(),
        manager="kubectl",
        schema=DEPLOY,
        force=False,
        api_version="apps/v1",
        now="2025-01-01T00:00:00Z",
    )
    assert out["metadata"]["managedFields"][0]["fieldsV1"] == {
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:containers": {
                        'k:{"name":"nginx"}': {
                            ".": {},
                            "f:image": {},
                            "f:name": {},
                            "f:ports": {
                                'k:{"containerPort":80,"protocol":"TCP"}': {
                                    ".": {},
                                    "f:containerPort": {},
                                }
                            },
                        }
                    }
                },
            },
        },
    }


def test_client_side_apply_then_server_side_apply() -> None:
    created = update_managed_fields(
        None,
        nginx_deployment(),
        manager="kubectl-client-side-apply",
        schema=DEPLOY,
        api_version="apps/v1",
        now="2025-01-01T00:00:00Z",
    )
    patched = strategic_merge_patch(
        created,
        {
            "spec": {
                "template": {
                    "spec": {
                        "$setElementOrder/containers": [{"name": "nginx"}],
                        "containers": [{"image": "nginx:1.28", "name": "nginx"}],
                    }
                }
            }
        },
        DEPLOY,
    )
    assert patched["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    with pytest.raises(ApplyConflict) as info:
        apply(
            patched,
            nginx_deployment("nginx:1.28", replicas=3),
            manager="kubectl",
            schema=DEPLOY,
            force=False,
            api_version="apps/v1",
            now="2025-01-01T00:00:01Z",
        )
    assert info.value.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas'
    )
