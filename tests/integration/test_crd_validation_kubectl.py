"""CRD schema validation through real kubectl and the official Python client against a
``skiff apiserver`` process: a CRD whose CEL rule is too expensive (an unbounded list of
unbounded strings) refused with Kubernetes' cost words and accepted once bounded, a root
``metadata`` schema restricting more than the name refused, the name restricted by the schema
enforced on objects besides the DNS-subdomain rule of every kind, and ratcheting: after the CRD tightens its schema, an object already
breaking the new rules still takes updates that leave those values alone."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiClient
from kubernetes.client.rest import ApiException

from skiff.testing.cluster import Kubectl

NAME = "gadgets.example.com"


def crd(spec_schema: dict[str, Any], *, metadata: dict[str, Any] | None = None) -> str:
    root: dict[str, Any] = {
        "type": "object",
        "properties": {
            "metadata": metadata or {"type": "object"},
            "spec": spec_schema,
        },
    }
    return json.dumps(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": NAME},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {"openAPIV3Schema": root},
                    }
                ],
            },
        }
    )


def spec_schema(*, max_items: int | None, rule: str, count_max: int = 100) -> dict[str, Any]:
    hosts: dict[str, Any] = {
        "type": "array",
        "items": {"type": "string", **({"maxLength": 63} if max_items else {})},
        "x-kubernetes-validations": [{"rule": rule, "message": "hosts must be lowercase"}],
    }
    if max_items:
        hosts["maxItems"] = max_items
    return {
        "type": "object",
        "properties": {
            "hosts": hosts,
            "count": {"type": "integer", "maximum": count_max},
            "note": {"type": "string"},
        },
    }


RULE = "self.all(h, h.matches('^[a-z.]+$'))"
NAME_LIMIT = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}}}


def wait_for(check: Callable[[], bool], what: str, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def cleanup(kubectl: Kubectl) -> Iterator[None]:
    try:
        yield
    finally:
        kubectl.run("delete", "crd", NAME, "--ignore-not-found", "--wait=true", timeout=30)


def test_cost_and_metadata_refusals_then_ratcheting(
    kubectl: Kubectl, api: ApiClient, ns: str, cleanup: None
) -> None:
    # an unbounded list of unbounded strings: too expensive, in Kubernetes' words
    res = kubectl.run("apply", "-f", "-", input=crd(spec_schema(max_items=None, rule=RULE)))
    assert res.returncode != 0
    assert (
        "x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by "
        "factor of more than 100x (try simplifying the rule, or adding maxItems, "
        "maxProperties, and maxLength where arrays, maps, and strings are declared)"
    ) in res.stderr, res.stderr
    # metadata may restrict the name, nothing else
    labels = {"type": "object", "properties": {"labels": {"type": "object"}}}
    res = kubectl.run(
        "apply", "-f", "-", input=crd(spec_schema(max_items=20, rule=RULE), metadata=labels)
    )
    assert res.returncode != 0
    assert (
        "properties[metadata]: Forbidden: must not specify anything other than name and "
        "generateName, but metadata is implicitly specified"
    ) in res.stderr, res.stderr
    # bounded: accepted
    kubectl(
        "apply", "-f", "-", input=crd(spec_schema(max_items=20, rule=RULE), metadata=NAME_LIMIT)
    )
    kubectl("wait", "--for=condition=Established", f"crd/{NAME}", "--timeout=20s")

    custom = client.CustomObjectsApi(api)

    def create(name: str, **spec: Any) -> dict[str, Any]:
        body = {
            "apiVersion": "example.com/v1",
            "kind": "Gadget",
            "metadata": {"name": name},
            "spec": spec,
        }
        created: dict[str, Any] = custom.create_namespaced_custom_object(
            "example.com", "v1", ns, "gadgets", body
        )
        return created

    def served() -> bool:
        try:
            create("probe", hosts=["a"])
        except ApiException as e:
            return e.status != 404
        return True

    wait_for(served, "the Gadget kind to be served")
    with pytest.raises(ApiException) as refused:
        create("much-too-long-name", hosts=["a"])
    assert "metadata.name: Too long: may not be longer than 10" in str(refused.value.body)
    # and, as for every kind, a DNS subdomain
    with pytest.raises(ApiException) as refused:
        create("Bad_Name", hosts=["a"])
    assert 'metadata.name: Invalid value: \\"Bad_Name\\": a lowercase RFC 1123 subdomain' in str(
        refused.value.body
    )
    with pytest.raises(ApiException) as refused:
        create("upper", hosts=["Nope"])
    assert "spec.hosts: Invalid value" in str(refused.value.body)
    assert "hosts must be lowercase" in str(refused.value.body)

    create("g", hosts=["ok.example"], count=50)
    # tighten the schema: count may be 10 at most, hosts only "a"-"f"
    tighter = spec_schema(max_items=20, rule="self.all(h, h.matches('^[a-f.]+$'))", count_max=10)
    kubectl("apply", "-f", "-", input=crd(tighter, metadata=NAME_LIMIT))

    def tightened() -> bool:
        try:
            create("probe2", count=11)
        except ApiException as e:
            return e.status == 422
        custom.delete_namespaced_custom_object("example.com", "v1", ns, "gadgets", "probe2")
        return False

    wait_for(tightened, "the tighter schema to apply")
    # the stored object breaks both new rules, but an update leaving them alone is accepted
    patch = {"spec": {"note": "still fine"}}
    got = custom.patch_namespaced_custom_object("example.com", "v1", ns, "gadgets", "g", patch)
    assert got["spec"]["note"] == "still fine"
    # changing a value that breaks the new rules is not
    res = kubectl.run(
        "patch", "gadget", "g", "-n", ns, "--type=merge", "-p", '{"spec":{"count":40}}'
    )
    assert res.returncode != 0
    assert (
        "spec.count: Invalid value: 40: spec.count in body should be less than or equal to 10"
        in (res.stderr)
    ), res.stderr
