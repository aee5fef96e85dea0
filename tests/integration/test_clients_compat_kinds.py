"""The kinds and documents outside clients tripped over, through those clients.

Covers, with kubectl (a private --cache-dir) against a real ``skiff apiserver`` process:
``apply --prune`` (whose default allowlist names PersistentVolumes, claims and StorageClasses),
their printer columns and validation messages, a Warning-free apply; ``get apiservices`` and a
user's APIService that does not make later commands warn; ``explain`` from OpenAPI v2 and a
mistyped kind failing with kubectl's usual ``no matches for kind``. With the official Python
client: ``create_namespaced_binding`` (the older ``bindings`` resource), which binds the pod and
then fails to read Kubernetes' Status answer as a V1Binding, as it does against Kubernetes;
and reading PersistentVolumes, StorageClasses and APIServices into its models.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from kubernetes import client

from skiff.testing.cluster import Kubectl

PV = """apiVersion: v1
kind: PersistentVolume
metadata: {{name: {name}, labels: {{app: {app}}}}}
spec:
  capacity: {{storage: 2Gi}}
  accessModes: [ReadWriteOnce]
  hostPath: {{path: /tmp/{name}}}
"""
PVC = """apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {name}, labels: {{app: {app}}}}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
"""
SC = """apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {{name: {name}, labels: {{app: {app}}}}}
provisioner: example.com/fast
"""
CM = """apiVersion: v1
kind: ConfigMap
metadata: {{name: {name}, labels: {{app: {app}}}}}
data: {{a: "1"}}
"""


def _write(directory: Path, name: str, text: str) -> None:
    (directory / f"{name}.yaml").write_text(text)


def test_apply_prune_with_storage_kinds(kubectl: Kubectl, ns: str, tmp_path: Path) -> None:
    app = f"x{uuid.uuid4().hex[:6]}"
    pv, sc = f"pv-{app}", f"sc-{app}"
    _write(tmp_path, "pv", PV.format(name=pv, app=app))
    _write(tmp_path, "pvc", PVC.format(name="data", app=app))
    _write(tmp_path, "sc", SC.format(name=sc, app=app))
    _write(tmp_path, "cm", CM.format(name="cfg", app=app))
    try:
        r = kubectl.run("apply", "--prune", "-l", f"app={app}", "-n", ns, "-f", str(tmp_path))
        assert r.returncode == 0, r.stderr
        assert "persistentvolumeclaim/data created" in r.stdout
        assert f"persistentvolume/{pv} created" in r.stdout
        assert f"storageclass.storage.k8s.io/{sc} created" in r.stdout
        assert "Warning" not in r.stderr
        (tmp_path / "cm.yaml").unlink()
        (tmp_path / "pvc.yaml").unlink()
        r = kubectl.run("apply", "--prune", "-l", f"app={app}", "-n", ns, "-f", str(tmp_path))
        assert r.returncode == 0, r.stderr
        assert "configmap/cfg pruned" in r.stdout
        assert "persistentvolumeclaim/data pruned" in r.stdout
        assert f"persistentvolume/{pv} unchanged" in r.stdout
    finally:
        kubectl.run("delete", "pv", pv, "--ignore-not-found", "--wait=false")
        kubectl.run("delete", "storageclass", sc, "--ignore-not-found", "--wait=false")


def test_storage_kinds_print_and_validate(kubectl: Kubectl, ns: str, tmp_path: Path) -> None:
    app = f"y{uuid.uuid4().hex[:6]}"
    pv = f"pv-{app}"
    _write(tmp_path, "all", PV.format(name=pv, app=app) + "---\n" + PVC.format(name="d", app=app))
    try:
        kubectl("apply", "-n", ns, "-f", str(tmp_path / "all.yaml"))
        out = kubectl("get", "pv", pv)
        header, row = out.splitlines()
        assert header.split() == [
            "NAME",
            "CAPACITY",
            "ACCESS",
            "MODES",
            "RECLAIM",
            "POLICY",
            "STATUS",
            "CLAIM",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "REASON",
            "AGE",
        ]
        assert row.split()[:6] == [pv, "2Gi", "RWO", "Retain", "Pending", "<unset>"]
        header, row = kubectl("get", "pvc", "d", "-n", ns, "-o", "wide").splitlines()
        assert header.split()[:3] == ["NAME", "STATUS", "VOLUME"]
        assert header.split()[-1] == "VOLUMEMODE"
        assert row.split()[:2] == ["d", "Pending"] and row.split()[-1] == "Filesystem"

        bad = tmp_path / "bad.yaml"
        bad.write_text(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: bad}\n"
            "spec: {accessModes: [ReadWriteOnce]}\n"
        )
        r = kubectl.run("create", "-n", ns, "-f", str(bad))
        assert r.returncode == 1
        assert (
            'The PersistentVolumeClaim "bad" is invalid: spec.resources[storage]: Required value'
            in r.stderr
        )
        bad.write_text(
            "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: bad-pv}\n"
            "spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce]}\n"
        )
        r = kubectl.run("create", "-f", str(bad))
        assert r.returncode == 1
        assert "spec: Required value: must specify a volume type" in r.stderr
        bad.write_text("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: b}\n")
        r = kubectl.run("create", "-f", str(bad))
        assert r.returncode == 1 and "provisioner: Required value" in r.stderr
    finally:
        kubectl.run("delete", "pv", pv, "--ignore-not-found", "--wait=false")


def test_get_apiservices_and_an_unserved_one(kubectl: Kubectl, tmp_path: Path) -> None:
    lines = kubectl("get", "apiservices").splitlines()
    assert lines[0].split() == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    rows = {line.split()[0]: line.split()[1:3] for line in lines[1:]}
    assert rows["v1."] == ["Local", "True"]
    assert rows["v1.apps"] == ["Local", "True"]
    name = f"v1beta1.{uuid.uuid4().hex[:6]}.example.com"
    group = name.removeprefix("v1beta1.")
    manifest = {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": name},
        "spec": {
            "group": group,
            "version": "v1beta1",
            "groupPriorityMinimum": 100,
            "versionPriority": 10,
            "insecureSkipTLSVerify": True,
            "service": {"namespace": "default", "name": "nowhere"},
        },
    }
    path = tmp_path / "apiservice.json"
    path.write_text(json.dumps(manifest))
    try:
        r = kubectl.run("apply", "-f", str(path))
        assert r.returncode == 0 and "Warning" not in r.stderr, r.stderr
        row = kubectl("get", "apiservice", name).splitlines()[1].split()
        assert row[:4] == [name, "default/nowhere", "False", "(AggregationNotSupported)"]
        # discovery does not list the group, so nothing warns about it
        r = kubectl.run("get", "pods", "-A")
        assert r.returncode == 0 and group not in r.stderr, r.stderr
        r = kubectl.run("api-resources")
        assert r.returncode == 0 and r.stderr == "" and group not in r.stdout
    finally:
        kubectl.run("delete", "apiservice", name, "--ignore-not-found")


def test_openapi_v2_explain_and_a_mistyped_kind(kubectl: Kubectl, tmp_path: Path) -> None:
    r = kubectl.run("explain", "--output=plaintext-openapiv2", "pvc.spec.accessModes")
    assert r.returncode == 0, r.stderr
    assert "FIELD:    accessModes <[]string>" in r.stdout
    bogus = tmp_path / "bogus.yaml"
    bogus.write_text("apiVersion: v1\nkind: Bogus\nmetadata: {name: x}\n")
    for args in (["apply"], ["create"], ["apply", "--server-side"]):
        r = kubectl.run(*args, "-f", str(bogus))
        assert r.returncode == 1
        assert 'no matches for kind "Bogus" in version "v1"' in r.stderr, r.stderr
        assert "failed to" not in r.stderr
    r = kubectl.run("get", "bogus")
    assert r.returncode == 1
    assert 'error: the server doesn\'t have a resource type "bogus"' in r.stderr


@pytest.mark.usefixtures("default_service_account")
def test_create_namespaced_binding(core: client.CoreV1Api, ns: str) -> None:
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="legacy"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox:1.36")]),
    )
    core.create_namespaced_pod(ns, pod)
    body = client.V1Binding(
        metadata=client.V1ObjectMeta(name="legacy"),
        target=client.V1ObjectReference(api_version="v1", kind="Node", name="node-a"),
    )
    # Kubernetes answers 201 with a Success Status, which this client then tries to read as a
    # V1Binding: it raises although the pod was bound (kubernetes-client/python#547)
    with pytest.raises(ValueError, match="`target`, must not be `None`"):
        core.create_namespaced_binding(ns, body)
    assert core.read_namespaced_pod("legacy", ns).spec.node_name == "node-a"

    core.create_namespaced_pod(ns, client.V1Pod(metadata={"name": "raw"}, spec=pod.spec))
    body.metadata.name = "raw"
    response = core.create_namespaced_binding(ns, body, _preload_content=False)
    assert response.status == 201
    status = json.loads(response.data)
    assert (status["kind"], status["status"]) == ("Status", "Success")


def test_python_client_reads_the_new_kinds(api: client.ApiClient, core: client.CoreV1Api) -> None:
    name = f"pv-{uuid.uuid4().hex[:6]}"
    pv = client.V1PersistentVolume(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PersistentVolumeSpec(
            capacity={"storage": "1Gi"},
            access_modes=["ReadWriteOnce"],
            host_path=client.V1HostPathVolumeSource(path="/tmp/x"),
        ),
    )
    try:
        created = core.create_persistent_volume(pv)
        assert created.status.phase == "Pending"
        assert created.spec.persistent_volume_reclaim_policy == "Retain"
        assert created.status.last_phase_transition_time is not None
        assert name in [p.metadata.name for p in core.list_persistent_volume().items]
    finally:
        core.delete_persistent_volume(name)
    classes = client.StorageV1Api(api).list_storage_class()
    assert isinstance(classes.items, list)
    services = {
        s.metadata.name: s for s in client.ApiregistrationV1Api(api).list_api_service().items
    }
    apps = services["v1.apps"]
    assert apps.spec.service is None and apps.spec.group_priority_minimum == 17800
    assert apps.status.conditions[0].reason == "Local"
