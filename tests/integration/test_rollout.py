"""`kubectl rollout` against a real server and controller-manager (Deployment and ReplicaSet
controllers). A stand-in kubelet thread marks the test namespace's pods Running and Ready, as a
node agent would.

Covers: `kubectl create deployment` + `rollout status` to success; `set image` with a
change-cause, `rollout history` listing both revisions (and `--revision`); `rollout undo` back to
revision 1's template as revision 3; `rollout pause` (no new ReplicaSet on a change) and
`resume`; `rollout restart` (a new ReplicaSet whose template carries ``restartedAt``);
`kubectl scale deployment`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from skiff.testing.cluster import Kubectl, ServerProcess
from skiff.testing.kubelet import kubelet_thread


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """A server whose controller-manager runs every controller (the shared one leaves the
    workload controllers out)."""
    data = Path(tempfile.mkdtemp(prefix="skiff-it-rollout-"))
    # not the node lifecycle controller: the DaemonSet test's Node has no agent renewing its
    # Lease, and would be tainted (and its pods evicted) after the startup grace period
    proc = ServerProcess(
        data_dir=data,
        controller_manager=True,
        controller_manager_args=["--controllers", "*,-nodelifecycle"],
    )
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def kubelet(server: ServerProcess, ns: str) -> Iterator[None]:
    """Mark every pod of ``ns`` Running and Ready (binding DaemonSet pods to their pinned node);
    confirm deletions (grace 0)."""
    with kubelet_thread(server.url, server.token, namespace=ns, ca_file=server.ca_file):
        yield


def _rs_names(kubectl: Kubectl, ns: str) -> set[str]:
    out = kubectl("get", "rs", "-n", ns, "-l", "app=web", "-o", "name")
    return {line for line in out.split() if line}


@pytest.mark.usefixtures("kubelet")
def test_rollout_commands(kubectl: Kubectl, ns: str) -> None:
    kubectl("create", "deployment", "web", "--image=web:1", "--replicas=2", "-n", ns)
    out = kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=60s", timeout=90)
    assert 'deployment "web" successfully rolled out' in out

    kubectl("set", "image", "deployment/web", "web=web:2", "-n", ns)
    kubectl(
        "annotate", "deployment/web", "kubernetes.io/change-cause=to v2", "-n", ns, "--overwrite"
    )
    out = kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=60s", timeout=90)
    assert "successfully rolled out" in out
    history = kubectl("rollout", "history", "deployment/web", "-n", ns)
    lines = [line.split() for line in history.splitlines() if line[:1].isdigit()]
    assert [line[0] for line in lines] == ["1", "2"]
    assert "to v2" in history
    rev1 = kubectl("rollout", "history", "deployment/web", "-n", ns, "--revision=1")
    assert "web:1" in rev1

    kubectl("rollout", "undo", "deployment/web", "-n", ns)
    kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=60s", timeout=90)
    image = kubectl(
        "get",
        "deployment",
        "web",
        "-n",
        ns,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    )
    assert image == "web:1"
    revision = kubectl(
        "get",
        "deployment",
        "web",
        "-n",
        ns,
        "-o",
        "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}",
    )
    assert revision == "3"
    assert len(_rs_names(kubectl, ns)) == 2  # undo reused revision 1's ReplicaSet

    # pause: a change makes no new ReplicaSet until resumed
    kubectl("rollout", "pause", "deployment/web", "-n", ns)
    kubectl("set", "image", "deployment/web", "web=web:3", "-n", ns)
    before = _rs_names(kubectl, ns)
    out = kubectl("get", "deployment", "web", "-n", ns, "-o", "json")
    assert json.loads(out)["spec"]["paused"] is True
    kubectl("rollout", "resume", "deployment/web", "-n", ns)
    kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=60s", timeout=90)
    after = _rs_names(kubectl, ns)
    assert len(after - before) == 1 and len(before) == 2

    # restart: a new ReplicaSet whose template carries kubectl's restartedAt
    kubectl("rollout", "restart", "deployment/web", "-n", ns)
    kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=60s", timeout=90)
    rs_list = json.loads(kubectl("get", "rs", "-n", ns, "-l", "app=web", "-o", "json"))["items"]
    restarted = [
        rs
        for rs in rs_list
        if "kubectl.kubernetes.io/restartedAt"
        in (rs["spec"]["template"]["metadata"].get("annotations") or {})
    ]
    assert len(restarted) == 1 and restarted[0]["spec"]["replicas"] == 2

    kubectl("scale", "deployment/web", "--replicas=3", "-n", ns)
    kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=60s", timeout=90)
    ready = kubectl("get", "deployment", "web", "-n", ns, "-o", "jsonpath={.status.readyReplicas}")
    assert ready == "3"


DAEMONSET = """
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
        - {name: agent, image: "agent:1"}
"""

STATEFULSET = """
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: 2
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
        - {name: db, image: "db:1"}
"""


@pytest.mark.usefixtures("kubelet")
def test_rollout_daemonset_and_statefulset(kubectl: Kubectl, ns: str) -> None:
    node = f"{ns}-node"
    kubectl("apply", "-f", "-", input=f"apiVersion: v1\nkind: Node\nmetadata:\n  name: {node}\n")
    try:
        for manifest, kind, name in (
            (DAEMONSET, "daemonset", "agent"),
            (STATEFULSET, "statefulset", "db"),
        ):
            kubectl("apply", "-n", ns, "-f", "-", input=manifest)
            out = kubectl(
                "rollout", "status", f"{kind}/{name}", "-n", ns, "--timeout=60s", timeout=90
            )
            assert ("roll" in out and "complete" in out) or "successfully rolled out" in out, out
            kubectl("set", "image", f"{kind}/{name}", f"{name}={name}:2", "-n", ns)
            kubectl("rollout", "status", f"{kind}/{name}", "-n", ns, "--timeout=60s", timeout=90)
            history = kubectl("rollout", "history", f"{kind}/{name}", "-n", ns)
            revisions = [line.split()[0] for line in history.splitlines() if line[:1].isdigit()]
            assert revisions == ["1", "2"], history
            kubectl("rollout", "undo", f"{kind}/{name}", "-n", ns)
            kubectl("rollout", "status", f"{kind}/{name}", "-n", ns, "--timeout=60s", timeout=90)
            image = kubectl(
                "get",
                kind,
                name,
                "-n",
                ns,
                "-o",
                "jsonpath={.spec.template.spec.containers[0].image}",
            )
            assert image == f"{name}:1"
            pods = json.loads(kubectl("get", "pods", "-n", ns, "-l", f"app={name}", "-o", "json"))
            live = [p for p in pods["items"] if not p["metadata"].get("deletionTimestamp")]
            assert {p["spec"]["containers"][0]["image"] for p in live} == {f"{name}:1"}
    finally:
        kubectl.run("delete", "node", node, "--wait=false")
