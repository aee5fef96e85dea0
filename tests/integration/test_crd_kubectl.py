"""CustomResourceDefinitions through real kubectl and the official Python client against a
``skiff apiserver`` process: a CRD applied and established, its kind in ``kubectl
api-resources``, ``get`` by plural, short name and kind, ``get all`` (category ``all``),
printer columns, ``explain``, ``scale`` through the scale subresource, schema errors in
Kubernetes' words, a mistyped kind ending in ``no matches for kind``, ``CustomObjectsApi`` and
the dynamic client, and a CRD deletion taking its objects and its kind away."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from kubernetes import client, dynamic
from kubernetes.client import ApiClient
from kubernetes.client.rest import ApiException

from skiff.testing.cluster import Kubectl

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    additionalPrinterColumns:
    - name: Size
      type: string
      jsonPath: .spec.size
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: What the widget should be.
            required: [size]
            properties:
              size:
                type: string
                description: How big the widget is.
                enum: [small, large]
              replicas:
                type: integer
                minimum: 0
                default: 1
          status:
            type: object
            properties:
              replicas:
                type: integer
"""


def widget(name: str, ns: str, **spec: object) -> str:
    return json.dumps(
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"size": "small", **spec},
        }
    )


def wait_for(check: object, what: str, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def crd(kubectl: Kubectl) -> Iterator[None]:
    kubectl("apply", "-f", "-", input=CRD)
    kubectl("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s")
    try:
        yield
    finally:
        kubectl.run("delete", "crd", "widgets.example.com", "--ignore-not-found", "--wait=false")


def test_api_resources_and_get_by_every_name(kubectl: Kubectl, crd: None, ns: str) -> None:
    out = kubectl("api-resources", "--api-group=example.com")
    assert "widgets" in out and "wd" in out and "Widget" in out
    kubectl("apply", "-f", "-", input=widget("a", ns, replicas=2))
    for name in ("widgets", "wd", "widget", "Widget", "widgets.example.com"):
        out = kubectl("get", name, "-n", ns)
        lines = out.splitlines()
        assert lines[0].split() == ["NAME", "SIZE", "REPLICAS"], out
        assert lines[1].split() == ["a", "small", "2"], out
    out = kubectl("get", "all", "-n", ns)
    assert "widget.example.com/a" in out
    # a second apply sends a merge patch (kubectl has no strategic patch for custom kinds)
    kubectl("apply", "-f", "-", input=widget("a", ns, replicas=3))
    got = json.loads(kubectl("get", "widget", "a", "-n", ns, "-o", "json"))
    assert got["spec"]["replicas"] == 3 and got["metadata"]["generation"] == 2
    # server-side apply
    kubectl("apply", "--server-side", "-f", "-", input=widget("ssa", ns, replicas=5))
    got = json.loads(
        kubectl("get", "widget", "ssa", "-n", ns, "-o", "json", "--show-managed-fields")
    )
    assert [m["manager"] for m in got["metadata"]["managedFields"]] == ["kubectl"]


def test_explain_and_scale(kubectl: Kubectl, crd: None, ns: str) -> None:
    out = kubectl("explain", "widget.spec")
    assert "size" in out and "How big the widget is." in out
    kubectl("apply", "-f", "-", input=widget("s", ns))
    kubectl("scale", "widget", "s", "-n", ns, "--replicas=4")
    got = json.loads(kubectl("get", "widget", "s", "-n", ns, "-o", "json"))
    assert got["spec"]["replicas"] == 4


def test_schema_error_and_mistyped_kind(kubectl: Kubectl, crd: None, ns: str) -> None:
    bad = kubectl.run("apply", "-f", "-", input=widget("b", ns, replicas="many"))
    assert bad.returncode != 0
    assert 'spec.replicas in body must be of type integer: "string"' in bad.stderr, bad.stderr
    # kubectl asks the server to validate strictly: an unknown field is refused
    bad = kubectl.run("apply", "-f", "-", input=widget("b", ns, colour="red"))
    assert bad.returncode != 0
    assert 'strict decoding error: unknown field "spec.colour"' in bad.stderr, bad.stderr
    wrong = json.loads(widget("c", ns))
    wrong["apiVersion"] = "v1"
    res = kubectl.run("apply", "-f", "-", input=json.dumps(wrong))
    assert res.returncode != 0
    assert 'no matches for kind "Widget" in version "v1"' in res.stderr, res.stderr


def test_python_clients(api: ApiClient, crd: None, ns: str) -> None:
    custom = client.CustomObjectsApi(api)
    body = json.loads(widget("py", ns))
    created = custom.create_namespaced_custom_object("example.com", "v1", ns, "widgets", body)
    assert created["spec"] == {"size": "small", "replicas": 1}
    listed = custom.list_namespaced_custom_object("example.com", "v1", ns, "widgets")
    assert "py" in [i["metadata"]["name"] for i in listed["items"]]
    patched = custom.patch_namespaced_custom_object(
        "example.com", "v1", ns, "widgets", "py", {"spec": {"size": "large"}}
    )
    assert patched["spec"]["size"] == "large"
    dyn = dynamic.DynamicClient(api)
    widgets = dyn.resources.get(api_version="example.com/v1", kind="Widget")
    got = widgets.get(name="py", namespace=ns)
    assert got.spec.size == "large"
    widgets.delete(name="py", namespace=ns)
    with pytest.raises(ApiException) as err:
        custom.get_namespaced_custom_object("example.com", "v1", ns, "widgets", "py")
    assert err.value.status == 404


def test_deleting_the_crd_removes_objects_and_kind(kubectl: Kubectl, ns: str) -> None:
    crd = CRD.replace("widgets", "gizmos").replace("widget", "gizmo").replace("Widget", "Gizmo")
    crd = crd.replace("shortNames: [wd]", "shortNames: [gz]")
    kubectl("apply", "-f", "-", input=crd)
    kubectl("wait", "--for=condition=Established", "crd/gizmos.example.com", "--timeout=20s")
    gizmo = widget("g", ns).replace("Widget", "Gizmo")
    kubectl("apply", "-f", "-", input=gizmo)
    assert "g" in kubectl("get", "gizmos", "-n", ns)
    # kubectl apply of a changed CRD (a strategic merge patch of the CRD) changes the columns
    fewer = crd.replace(
        "    - name: Replicas\n      type: integer\n      jsonPath: .spec.replicas\n", ""
    )
    assert fewer != crd
    kubectl("apply", "-f", "-", input=fewer)

    def columns() -> bool:
        header = kubectl("get", "gizmos", "-n", ns).splitlines()[0].split()
        return header == ["NAME", "SIZE"]

    wait_for(columns, "the printer columns to follow the CRD")
    kubectl("delete", "crd", "gizmos.example.com", "--timeout=30s")
    wait_for(lambda: kubectl.run("get", "gizmos", "-n", ns).returncode != 0, "gizmos to disappear")
    # a kubectl without cached discovery no longer knows the kind
    fresh = Kubectl(kubectl.kubeconfig)
    try:
        res = fresh.run("get", "gizmos", "-n", ns)
        assert 'the server doesn\'t have a resource type "gizmos"' in res.stderr, res.stderr
        assert "gizmos" not in fresh("api-resources", "--api-group=example.com")
    finally:
        fresh.cleanup()
