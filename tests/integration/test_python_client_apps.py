"""The official ``kubernetes`` Python client (v32) against a real skiff API server: apps/v1 and dynamic.

Covers the typed ``AppsV1Api`` on Deployments (defaults, CRUD, the ``scale`` and ``status``
subresources, ``metadata.generation`` bumping only on spec changes) and
``kubernetes.dynamic.DynamicClient`` (discovery via ``resources.get``, create/get/patch/delete,
server-side apply creating then updating an object, field-manager conflicts and
``force_conflicts``). No controllers run next to the API server here, so Deployment status is only
what the test writes. Core/v1 and watch are in ``test_python_client.py``; other groups in
``test_python_client_kinds.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiClient
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError
from pyclient import status_of


@pytest.fixture
def apps(api: ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture
def dyn(api: ApiClient, tmp_path: Path) -> DynamicClient:
    # A private discovery cache file: the default one lives in the shared temp directory.
    return DynamicClient(api, cache_file=str(tmp_path / "discovery.json"))


def deployment(name: str, *, replicas: int | None = 2, image: str = "nginx:1.27") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "web", "image": image}]},
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": spec,
    }


# --- typed AppsV1Api -----------------------------------------------------------------------------


def test_deployment_create_applies_defaults(apps: client.AppsV1Api, ns: str) -> None:
    created = apps.create_namespaced_deployment(ns, deployment("web", replicas=None))
    assert isinstance(created, client.V1Deployment)
    assert created.metadata.generation == 1
    spec = created.spec
    assert spec.replicas == 1
    assert spec.revision_history_limit == 10
    assert spec.progress_deadline_seconds == 600
    assert spec.strategy.type == "RollingUpdate"
    assert spec.strategy.rolling_update.max_surge == "25%"
    assert spec.strategy.rolling_update.max_unavailable == "25%"
    pod_spec = spec.template.spec
    assert pod_spec.restart_policy == "Always"
    assert pod_spec.dns_policy == "ClusterFirst"
    assert pod_spec.termination_grace_period_seconds == 30
    assert pod_spec.containers[0].image_pull_policy == "IfNotPresent"


def test_deployment_crud_and_generation(apps: client.AppsV1Api, ns: str) -> None:
    created = apps.create_namespaced_deployment(ns, deployment("web"))
    assert created.metadata.generation == 1

    got = apps.read_namespaced_deployment("web", ns)
    assert got.metadata.uid == created.metadata.uid
    assert [d.metadata.name for d in apps.list_namespaced_deployment(ns).items] == ["web"]

    # Metadata-only changes leave the generation alone.
    labelled = apps.patch_namespaced_deployment("web", ns, {"metadata": {"labels": {"x": "1"}}})
    assert labelled.metadata.generation == 1
    assert labelled.metadata.labels == {"app": "web", "x": "1"}

    # A spec change bumps it; strategic merge on containers keys on the name.
    patched = apps.patch_namespaced_deployment(
        "web",
        ns,
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}},
    )
    assert patched.metadata.generation == 2
    assert [c.image for c in patched.spec.template.spec.containers] == ["nginx:1.28"]

    # Strategic merge adds a sidecar next to the existing container, and $patch: delete drops it.
    sidecar = {"name": "log", "image": "busybox:1.36"}
    patched = apps.patch_namespaced_deployment(
        "web", ns, {"spec": {"template": {"spec": {"containers": [sidecar]}}}}
    )
    assert [c.name for c in patched.spec.template.spec.containers] == ["log", "web"]
    delete_sidecar = {"name": "log", "$patch": "delete"}
    patched = apps.patch_namespaced_deployment(
        "web", ns, {"spec": {"template": {"spec": {"containers": [delete_sidecar]}}}}
    )
    assert [c.name for c in patched.spec.template.spec.containers] == ["web"]
    assert patched.metadata.generation == 4

    patched.spec.replicas = 4
    replaced = apps.replace_namespaced_deployment("web", ns, patched)
    assert replaced.spec.replicas == 4
    assert replaced.metadata.generation == 5

    # The same spec again is no change, so no new generation.
    again = apps.replace_namespaced_deployment("web", ns, replaced)
    assert again.metadata.generation == 5

    with pytest.raises(ApiException) as exc:
        apps.replace_namespaced_deployment("web", ns, patched)  # stale resourceVersion
    status_of(exc.value, 409, "Conflict")

    # spec.selector is immutable in apps/v1.
    again.spec.selector = {"matchLabels": {"app": "other"}}
    again.spec.template.metadata.labels = {"app": "other"}
    with pytest.raises(ApiException) as exc:
        apps.replace_namespaced_deployment("web", ns, again)
    body = status_of(exc.value, 422, "Invalid")
    assert "spec.selector" in {c["field"] for c in body["details"]["causes"]}

    apps.delete_namespaced_deployment("web", ns)
    with pytest.raises(ApiException) as exc:
        apps.read_namespaced_deployment("web", ns)
    status_of(exc.value, 404, "NotFound")


def test_deployment_validation(apps: client.AppsV1Api, ns: str) -> None:
    body = deployment("bad")
    body["spec"]["template"]["metadata"]["labels"] = {"app": "mismatch"}
    with pytest.raises(ApiException) as exc:
        apps.create_namespaced_deployment(ns, body)
    status = status_of(exc.value, 422, "Invalid")
    assert status["details"]["kind"] == "Deployment"
    assert "spec.template.metadata.labels" in {c["field"] for c in status["details"]["causes"]}

    body = deployment("neg", replicas=-1)
    with pytest.raises(ApiException) as exc:
        apps.create_namespaced_deployment(ns, body)
    status = status_of(exc.value, 422, "Invalid")
    assert "spec.replicas" in {c["field"] for c in status["details"]["causes"]}


def test_deployment_scale_subresource(apps: client.AppsV1Api, ns: str) -> None:
    apps.create_namespaced_deployment(ns, deployment("web", replicas=2))
    scale = apps.read_namespaced_deployment_scale("web", ns)
    assert isinstance(scale, client.V1Scale)
    assert scale.kind == "Scale"
    assert scale.api_version == "autoscaling/v1"
    assert scale.metadata.name == "web"
    assert scale.spec.replicas == 2
    assert scale.status.selector == "app=web"
    assert scale.status.replicas == 0

    scaled = apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 5}})
    assert scaled.spec.replicas == 5
    dep = apps.read_namespaced_deployment("web", ns)
    assert dep.spec.replicas == 5
    assert dep.metadata.generation == 2

    scaled.spec.replicas = 3
    replaced = apps.replace_namespaced_deployment_scale("web", ns, scaled)
    assert replaced.spec.replicas == 3
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 3

    # A Scale carrying an outdated resourceVersion is refused like any stale write.
    with pytest.raises(ApiException) as exc:
        apps.replace_namespaced_deployment_scale("web", ns, scaled)
    status_of(exc.value, 409, "Conflict")

    with pytest.raises(ApiException) as exc:
        apps.patch_namespaced_deployment_scale("missing", ns, {"spec": {"replicas": 1}})
    status_of(exc.value, 404, "NotFound")


def test_deployment_status_subresource(apps: client.AppsV1Api, ns: str) -> None:
    apps.create_namespaced_deployment(ns, deployment("web", replicas=3))
    current = apps.read_namespaced_deployment_status("web", ns)
    current.status = client.V1DeploymentStatus(
        replicas=3,
        ready_replicas=2,
        available_replicas=2,
        updated_replicas=3,
        observed_generation=1,
    )
    # A status write ignores spec changes in the same body.
    current.spec.replicas = 9
    written = apps.replace_namespaced_deployment_status("web", ns, current)
    assert written.status.ready_replicas == 2
    assert written.spec.replicas == 3
    assert written.metadata.generation == 1

    patched = apps.patch_namespaced_deployment_status(
        "web", ns, {"status": {"readyReplicas": 3, "availableReplicas": 3}}
    )
    assert patched.status.ready_replicas == 3
    assert patched.status.updated_replicas == 3
    assert patched.metadata.generation == 1

    # A main-resource write cannot change the status.
    dep = apps.patch_namespaced_deployment(
        "web", ns, {"spec": {"replicas": 4}, "status": {"readyReplicas": 0}}
    )
    assert dep.status.ready_replicas == 3
    assert dep.metadata.generation == 2
    assert apps.read_namespaced_deployment_scale("web", ns).status.replicas == 3


# --- DynamicClient -------------------------------------------------------------------------------


def test_dynamic_client_crud(dyn: DynamicClient, ns: str) -> None:
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert deployments.name == "deployments"
    assert deployments.namespaced
    assert "scale" in deployments.subresources

    created = dyn.create(deployments, body=deployment("dyn"), namespace=ns)
    assert created.metadata.name == "dyn"
    assert created.spec.replicas == 2

    got = deployments.get(name="dyn", namespace=ns)
    assert got.metadata.uid == created.metadata.uid
    listed = deployments.get(namespace=ns)
    assert [item.metadata.name for item in listed.items] == ["dyn"]

    patched = deployments.patch(
        body={"spec": {"replicas": 1}},
        name="dyn",
        namespace=ns,
        content_type="application/merge-patch+json",
    )
    assert patched.spec.replicas == 1
    patched = deployments.patch(
        body=[{"op": "replace", "path": "/spec/replicas", "value": 6}],
        name="dyn",
        namespace=ns,
        content_type="application/json-patch+json",
    )
    assert patched.spec.replicas == 6

    configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    configmaps.create(body={"metadata": {"name": "c"}, "data": {"a": "1"}}, namespace=ns)
    assert configmaps.get(name="c", namespace=ns).data.a == "1"

    deployments.delete(name="dyn", namespace=ns)
    with pytest.raises(NotFoundError) as exc:
        deployments.get(name="dyn", namespace=ns)
    status_of(exc.value, 404, "NotFound")


def test_server_side_apply_creates_then_updates(dyn: DynamicClient, ns: str) -> None:
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    body = deployment("ssa", replicas=2)
    created = deployments.server_side_apply(body=body, namespace=ns, field_manager="py")
    assert created.spec.replicas == 2
    assert created.metadata.generation == 1
    assert created.spec.strategy.type == "RollingUpdate"  # defaults apply to applied objects too
    assert managers_of(created) == {("py", "Apply")}

    body["spec"]["replicas"] = 3
    body["metadata"]["labels"]["tier"] = "front"
    updated = deployments.server_side_apply(body=body, namespace=ns, field_manager="py")
    assert updated.metadata.uid == created.metadata.uid
    assert updated.spec.replicas == 3
    assert updated.metadata.labels.to_dict() == {"app": "ssa", "tier": "front"}
    assert updated.metadata.generation == 2
    assert managers_of(updated) == {("py", "Apply")}

    # Re-applying the same configuration changes nothing.
    same = deployments.server_side_apply(body=body, namespace=ns, field_manager="py")
    assert same.metadata.resource_version == updated.metadata.resource_version

    # Fields the manager stops applying are removed.
    del body["metadata"]["labels"]["tier"]
    pruned = deployments.server_side_apply(body=body, namespace=ns, field_manager="py")
    assert pruned.metadata.labels.to_dict() == {"app": "ssa"}


def managers_of(obj: Any) -> set[tuple[str, str]]:
    return {(m.manager, m.operation) for m in obj.metadata.managedFields}


def owned_fields(obj: Any) -> dict[str, str]:
    """Each manager's fieldsV1 (all its entries together) as JSON text, for substring checks."""
    owned: dict[str, str] = {}
    for entry in obj.metadata.managedFields:
        owned[entry.manager] = owned.get(entry.manager, "") + json.dumps(entry.fieldsV1.to_dict())
    return owned


def test_server_side_apply_conflicts_and_force(dyn: DynamicClient, ns: str) -> None:
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    body = deployment("ssa", replicas=3)
    deployments.server_side_apply(body=body, namespace=ns, field_manager="py")

    # A second manager setting a field owned by "py" to another value conflicts.
    other = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "ssa"},
        "spec": {"replicas": 7},
    }
    with pytest.raises(ConflictError) as exc:
        deployments.server_side_apply(body=other, namespace=ns, field_manager="other")
    status = status_of(exc.value, 409, "Conflict")
    assert status["message"].startswith("Apply failed with")
    causes = status["details"]["causes"]
    assert {(c["reason"], c["field"]) for c in causes} == {
        ("FieldManagerConflict", ".spec.replicas")
    }
    assert all(c["message"].startswith('conflict with "py"') for c in causes)
    assert deployments.get(name="ssa", namespace=ns).spec.replicas == 3

    forced = deployments.server_side_apply(
        body=other, namespace=ns, field_manager="other", force_conflicts=True
    )
    assert forced.spec.replicas == 7
    owners = owned_fields(forced)
    assert '"f:replicas"' in owners["other"]
    assert '"f:replicas"' not in owners["py"]

    # Now "py" applying its old value conflicts with "other" in turn.
    with pytest.raises(ConflictError) as exc:
        deployments.server_side_apply(body=body, namespace=ns, field_manager="py")
    status = status_of(exc.value, 409, "Conflict")
    assert {c["message"] for c in status["details"]["causes"]} == {'conflict with "other"'}

    # Applying the value another manager already set is shared ownership, not a conflict.
    body["spec"]["replicas"] = 7
    shared = deployments.server_side_apply(body=body, namespace=ns, field_manager="py")
    assert shared.spec.replicas == 7
    owners = owned_fields(shared)
    assert '"f:replicas"' in owners["other"]
    assert '"f:replicas"' in owners["py"]


def test_server_side_apply_requires_field_manager(dyn: DynamicClient, ns: str) -> None:
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    with pytest.raises(ApiException) as exc:
        deployments.server_side_apply(body=deployment("nofm"), namespace=ns)
    body = status_of(exc.value, 422, "Invalid")
    assert body["details"]["kind"] == "PatchOptions"
    assert body["details"]["group"] == "meta.k8s.io"
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueRequired",
            "message": "Required value: is required for apply patch",
            "field": "fieldManager",
        }
    ]
