"""kubectl (1.32) against a real ``skiff apiserver``: what it prints and records matches a
Kubernetes 1.32 server.

Covers: a new object's zero status (``--dry-run=server`` of a Deployment, a Service), the
decoding errors kubectl prints for unknown fields (``strict decoding error``, the default
``--validate=strict``) and for a value of the wrong type, an oversize ConfigMap naming its
field, a strategic patch of the wrong type (the unstructured converter's words), and
``kubectl scale`` recording its managedFields entry with ``subresource: scale``.
The same behaviour through HTTP and the Python client is in tests/apiserver/test_fidelity.py.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from skiff.testing.cluster import Kubectl

DEPLOYMENT = textwrap.dedent(
    """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      replicas: {replicas}
      selector:
        matchLabels: {{app: web}}
      template:
        metadata:
          labels: {{app: web}}
        spec:
          containers:
            - name: web
              image: busybox:1.36{extra}
    """
)


def test_new_objects_carry_their_zero_status(kubectl: Kubectl, ns: str) -> None:
    dry = kubectl(
        "create", "deployment", "web", "-n", ns, "--image=busybox", "--dry-run=server", "-o", "json"
    )
    assert json.loads(dry)["status"] == {}
    kubectl("create", "service", "clusterip", "svc", "-n", ns, "--tcp=80:8080")
    svc = json.loads(kubectl("get", "service", "svc", "-n", ns, "-o", "json"))
    assert svc["status"] == {"loadBalancer": {}}


def test_unknown_fields_are_a_strict_decoding_error(kubectl: Kubectl, ns: str) -> None:
    text = DEPLOYMENT.format(replicas=1, extra="\n          imagee: typo") + "  bogus: 1\n"
    res = kubectl.run("apply", "-n", ns, "-f", "-", input=text)
    assert res.returncode == 1
    # kubectl sends the manifest as JSON with sorted keys: "bogus" comes before "template"
    assert res.stderr == (
        'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" '
        'cannot be handled as a Deployment: strict decoding error: unknown field "spec.bogus", '
        'unknown field "spec.template.spec.containers[0].imagee"\n'
    )


def test_a_wrong_type_is_worded_as_go_decoding(kubectl: Kubectl, ns: str) -> None:
    res = kubectl.run(
        "apply", "-n", ns, "-f", "-", input=DEPLOYMENT.format(replicas='"two"', extra="")
    )
    assert res.returncode == 1
    assert res.stderr == (
        'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" '
        "cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field "
        "DeploymentSpec.spec.replicas of type int32\n"
    )


def test_an_oversize_config_map_names_its_field(kubectl: Kubectl, ns: str, tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    res = kubectl.run("create", "configmap", "two", "-n", ns, f"--from-file={big}")
    assert res.returncode == 1
    assert res.stderr == (
        'error: failed to create configmap: ConfigMap "two" is invalid: []: Too long: may not be '
        "more than 1048576 bytes\n"
    )


def test_scale_records_its_managed_fields_as_the_scale_subresource(
    kubectl: Kubectl, ns: str
) -> None:
    kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT.format(replicas=1, extra=""))
    assert "scaled" in kubectl("scale", "-n", ns, "deployment", "web", "--replicas=3")
    got = json.loads(
        kubectl("get", "-n", ns, "deployment", "web", "-o", "json", "--show-managed-fields")
    )
    entries = [e for e in got["metadata"]["managedFields"] if e.get("subresource") == "scale"]
    assert len(entries) == 1, got["metadata"]["managedFields"]
    entry = entries[0]
    assert entry["manager"] == "kubectl" and entry["operation"] == "Update"
    assert entry["apiVersion"] == "apps/v1"  # the parent's, as Kubernetes records it
    assert entry["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    applied = [e for e in got["metadata"]["managedFields"] if e["manager"] != "kubectl"]
    assert all("f:replicas" not in e["fieldsV1"].get("f:spec", {}) for e in applied)


def test_a_strategic_patch_of_the_wrong_type_reads_as_kubernetes(kubectl: Kubectl, ns: str) -> None:
    kubectl("create", "configmap", "smp", "-n", ns)
    res = kubectl.run(
        "patch",
        "configmap",
        "smp",
        "-n",
        ns,
        "--type=strategic",
        "-p",
        '{"metadata":{"labels":"x"}}',
    )
    assert res.returncode == 1
    # kubectl words an Invalid Status without kind or name "The request is invalid"
    assert res.stderr == (
        'The request is invalid: patch: Invalid value: "map[metadata:map[labels:x]]": cannot '
        "restore map from string\n"
    )
