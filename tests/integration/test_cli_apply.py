"""``skiff apply -f``: the sample manifests in examples/ apply cleanly, twice, without kubectl."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from skiff.testing.cluster import Kubectl, ServerProcess

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _skiff_apply(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "skiff", "apply", "--kubeconfig", str(server.kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_apply_examples_twice(server: ServerProcess, kubectl: Kubectl, ns: str) -> None:
    first = _skiff_apply(server, "-f", str(EXAMPLES), "-n", ns)
    assert first.returncode == 0, first.stderr
    assert "deployment.apps/web serverside-applied" in first.stdout
    assert "configmap/web-config serverside-applied" in first.stdout
    again = _skiff_apply(server, "-f", str(EXAMPLES), "-n", ns)
    assert again.returncode == 0, again.stderr
    deploy = json.loads(
        kubectl("get", "-n", ns, "deploy", "web", "-o", "json", "--show-managed-fields")
    )
    assert deploy["metadata"]["generation"] == 1  # the second apply changed nothing
    # the only applier is skiff apply (the deployment controller's own updates of the revision
    # annotation and the status are Update operations, as kube-controller-manager's are)
    appliers = {
        e["manager"] for e in deploy["metadata"]["managedFields"] if e["operation"] == "Apply"
    }
    assert appliers == {"skiff-cli"}


def test_apply_reports_errors(server: ServerProcess, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n")
    res = _skiff_apply(server, "-f", str(bad))
    assert res.returncode == 1
    assert "bad.yaml" in res.stderr and "metadata.name" in res.stderr


def test_apply_again_after_the_user_changed_the_app(
    server: ServerProcess, kubectl: Kubectl, ns: str
) -> None:
    """What the quick start does when run again after ``kubectl scale``/``kubectl edit``: a plain
    apply meets the conflict, ``--force-conflicts`` takes the fields back to the manifests."""
    assert _skiff_apply(server, "-f", str(EXAMPLES), "-n", ns).returncode == 0
    kubectl("scale", "-n", ns, "deployment/web", "--replicas=5")
    kubectl(
        "edit",
        "-n",
        ns,
        "configmap/web-config",
        env={"KUBE_EDITOR": "sed -i s/Hello/Changed/", "EDITOR": "sed -i s/Hello/Changed/"},
    )
    cm = json.loads(kubectl("get", "-n", ns, "configmap", "web-config", "-o", "json"))
    assert "Changed" in cm["data"]["index.html"]

    plain = _skiff_apply(server, "-f", str(EXAMPLES), "-n", ns)
    assert plain.returncode == 1
    assert "conflict" in plain.stderr.lower(), plain.stderr

    for _ in range(2):  # and again: forcing is idempotent too
        forced = _skiff_apply(server, "--force-conflicts", "-f", str(EXAMPLES), "-n", ns)
        assert forced.returncode == 0, forced.stderr
        assert "deployment.apps/web serverside-applied" in forced.stdout
    deploy = json.loads(kubectl("get", "-n", ns, "deploy", "web", "-o", "json"))
    assert deploy["spec"]["replicas"] == 2
    cm = json.loads(kubectl("get", "-n", ns, "configmap", "web-config", "-o", "json"))
    assert "Hello from skiff" in cm["data"]["index.html"]
