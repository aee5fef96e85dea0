"""Custom resources in garbage collection and namespace deletion, through kubectl against a
``skiff apiserver`` and ``skiff controller-manager`` process; every CRD here is created after the
controller-manager started, so its kind reaches the controllers only through discovery.

Covers: a custom object owned by a ConfigMap collected once the ConfigMap goes; a ConfigMap owned
by a custom object collected once that goes (``kubectl delete``, background); ``kubectl delete
--cascade=foreground`` of a custom object waiting for a blocking dependent held by a finalizer;
``--cascade=orphan`` leaving the dependent without its ownerReference; a namespace deleted with
custom objects in it emptied and removed; a CRD deleted while a namespace holding its objects
terminates not wedging it; the ``v1.<group>`` APIService appearing with a group's first CRD
(``Local``, ``Available``) and going with its last.
Excludes: the collector's and namespace controller's own rules (tests/controllers).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from skiff.testing.cluster import Kubectl
from skiff.testing.wait import eventually

GROUP = "gc.skiff.test"


def crd(plural: str, kind: str, group: str = GROUP, scope: str = "Namespaced") -> str:
    return json.dumps(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {
                "group": group,
                "scope": scope,
                "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            }
                        },
                    }
                ],
            },
        }
    )


def establish(kubectl: Kubectl, plural: str, kind: str, group: str = GROUP) -> None:
    kubectl("apply", "-f", "-", input=crd(plural, kind, group))
    kubectl("wait", "--for=condition=Established", f"crd/{plural}.{group}", "--timeout=20s")


@pytest.fixture(scope="module")
def widgets(kubectl: Kubectl) -> Iterator[str]:
    """A namespaced kind ``Widget`` defined after the controller-manager started."""
    establish(kubectl, "widgets", "Widget")
    try:
        yield f"widgets.{GROUP}"
    finally:
        kubectl.run("delete", "crd", f"widgets.{GROUP}", "--wait=false", "--ignore-not-found")


def uid(kubectl: Kubectl, *what: str) -> str:
    return kubectl("get", *what, "-o", "jsonpath={.metadata.uid}")


def owner_ref(kind: str, api_version: str, name: str, owner_uid: str, block: bool = False) -> dict:
    ref = {"apiVersion": api_version, "kind": kind, "name": name, "uid": owner_uid}
    if block:
        ref["blockOwnerDeletion"] = True
    return ref


def create(kubectl: Kubectl, obj: dict) -> None:
    kubectl("create", "-f", "-", input=json.dumps(obj))


def widget(ns: str, name: str, owners: list[dict] | None = None) -> dict:
    meta: dict = {"name": name, "namespace": ns}
    if owners:
        meta["ownerReferences"] = owners
    return {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": meta, "spec": {"n": 1}}


def config_map(ns: str, name: str, owners: list[dict] | None = None, **meta: object) -> dict:
    metadata: dict = {"name": name, "namespace": ns, **meta}
    if owners:
        metadata["ownerReferences"] = owners
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}


def gone(kubectl: Kubectl, *what: str) -> bool:
    result = kubectl.run("get", *what, "-o", "name")
    return result.returncode != 0 and "NotFound" in result.stderr


def get_json(kubectl: Kubectl, *what: str) -> dict:
    out: dict = json.loads(kubectl("get", *what, "-o", "json"))
    return out


async def test_custom_object_owned_by_a_configmap_is_collected(
    kubectl: Kubectl, ns: str, widgets: str
) -> None:
    create(kubectl, config_map(ns, "owner"))
    owner_uid = uid(kubectl, "configmap", "owner", "-n", ns)
    create(kubectl, widget(ns, "dep", [owner_ref("ConfigMap", "v1", "owner", owner_uid)]))
    create(kubectl, widget(ns, "free"))
    kubectl("delete", "configmap", "owner", "-n", ns)
    await eventually(lambda: gone(kubectl, widgets, "dep", "-n", ns), within=15)
    assert not gone(kubectl, widgets, "free", "-n", ns)


async def test_configmap_owned_by_a_custom_object_is_collected(
    kubectl: Kubectl, ns: str, widgets: str
) -> None:
    create(kubectl, widget(ns, "owner"))
    owner_uid = uid(kubectl, widgets, "owner", "-n", ns)
    ref = owner_ref("Widget", f"{GROUP}/v1", "owner", owner_uid)
    create(kubectl, config_map(ns, "dep", [ref]))
    kubectl("delete", widgets, "owner", "-n", ns)  # background, kubectl's default
    await eventually(lambda: gone(kubectl, "configmap", "dep", "-n", ns), within=15)


async def test_foreground_deletion_of_a_custom_object_waits_for_its_dependents(
    kubectl: Kubectl, ns: str, widgets: str
) -> None:
    create(kubectl, widget(ns, "owner"))
    owner_uid = uid(kubectl, widgets, "owner", "-n", ns)
    ref = owner_ref("Widget", f"{GROUP}/v1", "owner", owner_uid, block=True)
    create(kubectl, config_map(ns, "dep", [ref], finalizers=["skiff.test/hold"]))
    kubectl("delete", widgets, "owner", "-n", ns, "--cascade=foreground", "--wait=false")

    def dependent_deleting() -> bool:
        return bool(
            get_json(kubectl, "configmap", "dep", "-n", ns)["metadata"].get("deletionTimestamp")
        )

    await eventually(dependent_deleting, within=15, interval=0.05)
    owner = get_json(kubectl, widgets, "owner", "-n", ns)["metadata"]
    assert owner.get("deletionTimestamp") and "foregroundDeletion" in owner["finalizers"]
    kubectl(
        "patch",
        "configmap",
        "dep",
        "-n",
        ns,
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":null}}',
    )
    await eventually(lambda: gone(kubectl, widgets, "owner", "-n", ns), within=15)
    assert gone(kubectl, "configmap", "dep", "-n", ns)


async def test_orphan_deletion_keeps_dependents_without_the_reference(
    kubectl: Kubectl, ns: str, widgets: str
) -> None:
    create(kubectl, widget(ns, "owner"))
    owner_uid = uid(kubectl, widgets, "owner", "-n", ns)
    keep = owner_ref("ConfigMap", "v1", "other", "11111111-1111-1111-1111-111111111111")
    create(kubectl, config_map(ns, "other"))
    keep["uid"] = uid(kubectl, "configmap", "other", "-n", ns)
    ref = owner_ref("Widget", f"{GROUP}/v1", "owner", owner_uid, block=True)
    create(kubectl, config_map(ns, "dep", [ref, keep]))
    kubectl("delete", widgets, "owner", "-n", ns, "--cascade=orphan")
    await eventually(lambda: gone(kubectl, widgets, "owner", "-n", ns), within=15)
    refs = get_json(kubectl, "configmap", "dep", "-n", ns)["metadata"]["ownerReferences"]
    assert [r["uid"] for r in refs] == [keep["uid"]]


async def test_namespace_deletion_removes_custom_objects(kubectl: Kubectl, widgets: str) -> None:
    name = f"skiff-t-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    try:
        for i in range(3):
            create(kubectl, widget(name, f"w{i}"))
        kubectl("delete", "namespace", name, "--wait=false")
        await eventually(lambda: gone(kubectl, "namespace", name), within=20, interval=0.1)
        assert "No resources found" in kubectl.run("get", widgets, "-n", name).stderr
    finally:
        kubectl.run("delete", "namespace", name, "--wait=false", "--ignore-not-found")


async def test_a_crd_deleted_while_its_namespace_terminates_does_not_wedge_it(
    kubectl: Kubectl,
) -> None:
    establish(kubectl, "gadgets", "Gadget")
    name = f"skiff-t-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    try:
        obj = widget(name, "held")
        obj["kind"] = "Gadget"
        obj["metadata"]["finalizers"] = ["skiff.test/hold"]
        create(kubectl, obj)
        kubectl("delete", "namespace", name, "--wait=false")

        def remaining() -> bool:
            conditions = (
                get_json(kubectl, "namespace", name).get("status", {}).get("conditions") or []
            )
            return any(
                c["type"] == "NamespaceContentRemaining"
                and c["status"] == "True"
                and f"gadgets.{GROUP} has 1 resource instances" in c["message"]
                for c in conditions
            )

        await eventually(remaining, within=15, interval=0.1)
        kubectl("delete", "crd", f"gadgets.{GROUP}", "--wait=false")
        kubectl(
            "patch",
            f"gadgets.{GROUP}",
            "held",
            "-n",
            name,
            "--type=merge",
            "-p",
            '{"metadata":{"finalizers":null}}',
        )
        await eventually(lambda: gone(kubectl, "crd", f"gadgets.{GROUP}"), within=15)
        await eventually(lambda: gone(kubectl, "namespace", name), within=20, interval=0.1)
    finally:
        kubectl.run("delete", "namespace", name, "--wait=false", "--ignore-not-found")
        kubectl.run("delete", "crd", f"gadgets.{GROUP}", "--wait=false", "--ignore-not-found")


async def test_apiservices_follow_the_crds_of_a_group(kubectl: Kubectl) -> None:
    group = "svc.skiff.test"
    establish(kubectl, "dials", "Dial", group)
    try:
        establish(kubectl, "knobs", "Knob", group)

        def row() -> list[str]:
            result = kubectl.run("get", "apiservices", f"v1.{group}", "--no-headers")
            return result.stdout.split() if result.returncode == 0 else []

        await eventually(lambda: row()[:3] == [f"v1.{group}", "Local", "True"], within=10)
        labels = get_json(kubectl, "apiservice", f"v1.{group}")["metadata"]["labels"]
        assert labels == {"kube-aggregator.kubernetes.io/automanaged": "true"}
        kubectl("delete", "crd", f"dials.{group}")
        assert row()[:3] == [f"v1.{group}", "Local", "True"]  # knobs still serve v1
        kubectl("delete", "crd", f"knobs.{group}")
        await eventually(lambda: gone(kubectl, "apiservice", f"v1.{group}"), within=10)
        # the built-in ones stay
        assert row() == [] and not gone(kubectl, "apiservice", "v1.apps")
    finally:
        for plural in ("dials", "knobs"):
            kubectl.run("delete", "crd", f"{plural}.{group}", "--wait=false", "--ignore-not-found")
