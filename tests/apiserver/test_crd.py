"""CustomResourceDefinitions against an in-process API server: the CRD's own validation and
status (accepted names, NamesAccepted / Established, name conflicts), custom objects served
without a restart (CRUD, list, watch, selectors, generateName, dryRun, finalizers, patches,
server-side apply, status and scale subresources, printer columns), discovery, schema
validation with Kubernetes' words, pruning and defaulting, several versions, and the cleanup
finalizer that deletes a CRD's objects before the CRD and its routes go."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import httpx
import pytest

from skiff.apiserver.server import ApiServer, ApiServerConfig
from skiff.store import MemoryStore
from skiff.testing.wait import eventually

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
WIDGETS = "/apis/example.com/v1/namespaces/default/widgets"

WIDGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "string", "enum": ["small", "large"]},
                "replicas": {"type": "integer", "minimum": 0, "maximum": 10, "default": 1},
                "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 8},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
                "port": {"x-kubernetes-int-or-string": True},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "note": {"type": "string", "nullable": True},
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string"},
                            "port": {"type": "integer", "default": 80},
                        },
                    },
                },
            },
        },
        "status": {
            "type": "object",
            "properties": {
                "replicas": {"type": "integer"},
                "selector": {"type": "string"},
                "phase": {"type": "string"},
            },
        },
    },
}


def widget_crd(**overrides: Any) -> dict[str, Any]:
    crd: dict[str, Any] = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {
                "plural": "widgets",
                "singular": "widget",
                "kind": "Widget",
                "shortNames": ["wd"],
                "categories": ["all"],
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": copy.deepcopy(WIDGET_SCHEMA)},
                    "subresources": {
                        "status": {},
                        "scale": {
                            "specReplicasPath": ".spec.replicas",
                            "statusReplicasPath": ".status.replicas",
                            "labelSelectorPath": ".status.selector",
                        },
                    },
                    "additionalPrinterColumns": [
                        {"name": "Size", "type": "string", "jsonPath": ".spec.size"},
                        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                    ],
                    "selectableFields": [{"jsonPath": ".spec.size"}],
                }
            ],
        },
    }
    crd["spec"].update(overrides)
    return crd


def widget(obj_name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": obj_name},
        "spec": {"size": "small", **spec},
    }


def condition(crd: dict[str, Any], type_: str) -> dict[str, Any]:
    for c in (crd.get("status") or {}).get("conditions") or []:
        if c["type"] == type_:
            return dict(c)
    return {}


async def create_widget_crd(api: httpx.AsyncClient) -> dict[str, Any]:
    r = await api.post(CRDS, json=widget_crd())
    assert r.status_code == 201, r.text
    return dict(r.json())


# ----------------------------------------------------------------------------- the CRD itself


async def test_crd_create_sets_status_and_finalizer(api: httpx.AsyncClient) -> None:
    crd = await create_widget_crd(api)
    assert crd["metadata"]["finalizers"] == ["customresourcecleanup.apiextensions.k8s.io"]
    assert condition(crd, "NamesAccepted")["status"] == "True"
    assert condition(crd, "NamesAccepted")["reason"] == "NoConflicts"
    assert condition(crd, "Established")["status"] == "True"
    accepted = crd["status"]["acceptedNames"]
    assert accepted["plural"] == "widgets" and accepted["kind"] == "Widget"
    assert accepted["listKind"] == "WidgetList" and accepted["shortNames"] == ["wd"]
    assert crd["status"]["storedVersions"] == ["v1"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            lambda c: c["metadata"].update(name="other.example.com"),
            "metadata.name",
            'must be spec.names.plural+"."+spec.group',
        ),
        (
            lambda c: c["spec"].update(group="example"),
            "spec.group",
            "should be a domain with at least one dot",
        ),
        (lambda c: c["spec"].update(scope="Global"), "spec.scope", "Unsupported value"),
        (
            lambda c: c["spec"]["names"].update(plural="Widgets"),
            "spec.names.plural",
            "a DNS-1035 label",
        ),
        (
            lambda c: c["spec"]["versions"][0].update(storage=False),
            "spec.versions",
            "must have exactly one version marked as storage version",
        ),
        (
            lambda c: c["spec"]["versions"][0].pop("schema"),
            "spec.versions[0].schema.openAPIV3Schema",
            "schemas are required",
        ),
        (
            lambda c: c["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
                "properties"
            ]["size"].pop("type"),
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[size].type",
            "Required value",
        ),
    ],
)
async def test_crd_validation(api: httpx.AsyncClient, change: Any, field: str, words: str) -> None:
    crd = widget_crd()
    if "metadata.name" in field:
        crd["metadata"]["name"] = "other.example.com"
    else:
        change(crd)
    r = await api.post(CRDS, json=crd)
    assert r.status_code == 422, r.text
    causes = r.json()["details"]["causes"]
    assert any(c["field"] == field and words in c["message"] for c in causes), causes


@pytest.mark.parametrize(
    ("node", "field", "words"),
    [
        ({"type": "string", "allOf": 1}, "allOf", "must be an array"),
        (
            {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-map-keys": ["k"]},
            "x-kubernetes-list-map-keys",
            "must only be used with x-kubernetes-list-type: map",
        ),
        ({"type": "string", "nullable": "yes"}, "nullable", "must be a boolean"),
        (
            {"type": "object", "additionalProperties": 3},
            "additionalProperties",
            "must be a boolean or a schema",
        ),
        ({"type": "string", "x-kubernetes-list-type": "set"}, "type", "must be array"),
        (
            {"type": "integer", "minimum": 1, "default": 0},
            "default",
            "default in body should be greater than or equal to 1",
        ),
    ],
)
async def test_schema_shapes_are_checked(
    api: httpx.AsyncClient, node: dict[str, Any], field: str, words: str
) -> None:
    crd = widget_crd()
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["odd"] = node
    r = await api.post(CRDS, json=crd)
    assert r.status_code == 422, r.text
    where = f"spec.versions[0].schema.openAPIV3Schema.properties[odd].{field}"
    causes = r.json()["details"]["causes"]
    assert any(c["field"] == where and words in c["message"] for c in causes), causes


async def test_name_conflict_is_reported_in_status(api: httpx.AsyncClient) -> None:
    await create_widget_crd(api)
    clash = widget_crd()
    clash["metadata"]["name"] = "gadgets.example.com"
    clash["spec"]["names"] = {"plural": "gadgets", "kind": "Gadget", "shortNames": ["wd"]}
    r = await api.post(CRDS, json=clash)
    assert r.status_code == 201, r.text
    accepted = condition(r.json(), "NamesAccepted")
    assert accepted["status"] == "False" and accepted["reason"] == "NameConflict"
    assert accepted["message"] == '"wd" is already in use'
    assert condition(r.json(), "Established")["status"] == "False"
    # not served: the gadgets path does not exist
    r = await api.get("/apis/example.com/v1/namespaces/default/gadgets")
    assert r.status_code == 404
    # once the widgets CRD is gone, the gadgets CRD gets its names and is served
    assert (await api.delete(f"{CRDS}/widgets.example.com")).status_code == 202

    async def gadgets_served() -> bool:
        crd = (await api.get(f"{CRDS}/gadgets.example.com")).json()
        served = await api.get("/apis/example.com/v1/namespaces/default/gadgets")
        return condition(crd, "NamesAccepted")["status"] == "True" and served.status_code == 200

    await eventually(gadgets_served, within=10)


async def test_clash_with_built_in_resource(api: httpx.AsyncClient) -> None:
    # skiff serves the VerticalPodAutoscaler itself; its upstream CRD clashes
    crd = widget_crd(group="autoscaling.k8s.io")
    crd["metadata"]["name"] = "verticalpodautoscalers.autoscaling.k8s.io"
    r = await api.post(CRDS, json=crd)
    assert r.status_code == 422, r.text
    assert (
        "metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups "
        'must have approval annotation "api-approved.kubernetes.io"'
    ) in r.json()["message"]
    crd["metadata"]["annotations"] = {
        "api-approved.kubernetes.io": "https://github.com/kubernetes/kubernetes/pull/63797"
    }
    crd["spec"]["names"] = {"plural": "verticalpodautoscalers", "kind": "VerticalPodAutoscaler"}
    r = await api.post(CRDS, json=crd)
    assert r.status_code == 201, r.text
    accepted = condition(r.json(), "NamesAccepted")
    assert accepted["message"] == '"verticalpodautoscalers" is already in use'


# ----------------------------------------------------------------------------- custom objects


async def test_custom_objects_crud_without_restart(api: httpx.AsyncClient) -> None:
    assert (await api.get(WIDGETS)).status_code == 404
    await create_widget_crd(api)
    r = await api.post(WIDGETS, json=widget("a", tags=["x"], bogus=1))
    assert r.status_code == 201, r.text
    obj = r.json()
    assert obj["spec"]["replicas"] == 1  # defaulted
    assert "bogus" not in obj["spec"]  # pruned
    assert obj["metadata"]["generation"] == 1
    assert obj["metadata"]["namespace"] == "default"
    got = (await api.get(f"{WIDGETS}/a")).json()
    assert got["spec"] == obj["spec"]
    # list and label selectors
    r = await api.post(
        WIDGETS, json={**widget("b"), "metadata": {"name": "b", "labels": {"x": "y"}}}
    )
    assert r.status_code == 201
    items = (await api.get(WIDGETS, params={"labelSelector": "x=y"})).json()
    assert items["kind"] == "WidgetList" and [i["metadata"]["name"] for i in items["items"]] == [
        "b"
    ]
    items = (await api.get(WIDGETS, params={"fieldSelector": "metadata.name=a"})).json()
    assert [i["metadata"]["name"] for i in items["items"]] == ["a"]
    everywhere = (await api.get("/apis/example.com/v1/widgets")).json()
    assert len(everywhere["items"]) == 2
    # update bumps generation on spec changes only
    got["spec"]["replicas"] = 3
    r = await api.put(f"{WIDGETS}/a", json=got)
    assert r.status_code == 200, r.text
    assert r.json()["metadata"]["generation"] == 2
    # generateName and dryRun
    body = widget("")
    body["metadata"] = {"generateName": "w-"}
    r = await api.post(WIDGETS, json=body, params={"dryRun": "All"})
    assert r.status_code == 201 and r.json()["metadata"]["name"].startswith("w-")
    assert len((await api.get(WIDGETS)).json()["items"]) == 2
    # delete
    r = await api.delete(f"{WIDGETS}/b")
    assert r.status_code == 200, r.text
    assert (await api.get(f"{WIDGETS}/b")).status_code == 404


async def test_schema_errors_read_as_kubernetes(api: httpx.AsyncClient) -> None:
    await create_widget_crd(api)
    r = await api.post(WIDGETS, json=widget("a", replicas="string"))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["reason"] == "Invalid"
    assert body["message"] == (
        'Widget.example.com "a" is invalid: spec.replicas: Invalid value: "string": '
        'spec.replicas in body must be of type integer: "string"'
    )
    cases = [
        (widget("a", replicas=11), "spec.replicas in body should be less than or equal to 10"),
        (widget("a", replicas=-1), "spec.replicas in body should be greater than or equal to 0"),
        (widget("a", name="ABC"), "spec.name in body should match '^[a-z]+$'"),
        (widget("a", name="abcdefghij"), "Too long: may not be longer than 8"),
        (widget("a", tags=["a", "b", "c"]), "Too many: 3: must have at most 2 items"),
        (widget("a", size="huge"), 'Unsupported value: "huge": supported values: "small", "large"'),
        (widget("a", port=[1]), "spec.port in body must be of type integer or string"),
        (
            widget("a", ports=[{"name": "x"}, {"name": "x", "port": 1}]),
            'spec.ports[1]: Duplicate value: {"name":"x"}',
        ),
        (
            widget("a", note=None, tags=[1]),
            'spec.tags[0] in body must be of type string: "integer"',
        ),
    ]
    for body, words in cases:
        r = await api.post(WIDGETS, json=body)
        assert r.status_code == 422, (body, r.text)
        assert words in r.json()["message"], (words, r.json()["message"])
    missing = widget("a")
    del missing["spec"]["size"]
    r = await api.post(WIDGETS, json=missing)
    assert r.status_code == 422 and "spec.size: Required value" in r.json()["message"]
    ok = widget("a", port="http", free={"any": {"thing": [1]}}, note=None)
    r = await api.post(WIDGETS, json=ok)
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["free"] == {"any": {"thing": [1]}}


async def test_patches_and_apply(api: httpx.AsyncClient) -> None:
    await create_widget_crd(api)
    assert (await api.post(WIDGETS, json=widget("a"))).status_code == 201
    r = await api.patch(
        f"{WIDGETS}/a",
        content=json.dumps({"spec": {"replicas": 2}}),
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert r.status_code == 415, r.text
    assert "application/merge-patch+json" in r.json()["message"]
    r = await api.patch(
        f"{WIDGETS}/a",
        content=json.dumps({"spec": {"replicas": 2}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 2
    r = await api.patch(
        f"{WIDGETS}/a",
        content=json.dumps([{"op": "replace", "path": "/spec/size", "value": "large"}]),
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert r.status_code == 200 and r.json()["spec"]["size"] == "large"
    apply = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "c"},
        "spec": {"size": "small", "tags": ["t"]},
    }
    r = await api.patch(
        f"{WIDGETS}/c",
        params={"fieldManager": "me"},
        content=json.dumps(apply),
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    assert r.status_code == 201, r.text
    managers = [m["manager"] for m in r.json()["metadata"]["managedFields"]]
    assert managers == ["me"]


async def test_status_and_scale_subresources(api: httpx.AsyncClient) -> None:
    await create_widget_crd(api)
    body = widget("a", replicas=2)
    body["status"] = {"phase": "ignored"}
    obj = (await api.post(WIDGETS, json=body)).json()
    assert "status" not in obj or obj["status"].get("phase") is None
    obj["status"] = {"replicas": 2, "selector": "app=a", "phase": "Running"}
    r = await api.put(f"{WIDGETS}/a/status", json=obj)
    assert r.status_code == 200, r.text
    assert r.json()["status"]["phase"] == "Running"
    assert r.json()["metadata"]["generation"] == 1
    scale = (await api.get(f"{WIDGETS}/a/scale")).json()
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 2
    assert scale["status"] == {"replicas": 2, "selector": "app=a"}
    r = await api.patch(
        f"{WIDGETS}/a/scale",
        content=json.dumps({"spec": {"replicas": 5}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    got = (await api.get(f"{WIDGETS}/a")).json()
    assert got["spec"]["replicas"] == 5 and got["metadata"]["generation"] == 2


async def test_table_has_printer_columns(api: httpx.AsyncClient) -> None:
    await create_widget_crd(api)
    await api.post(WIDGETS, json=widget("a", replicas=4))
    r = await api.get(WIDGETS, headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
    assert r.status_code == 200, r.text
    table = r.json()
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Size", "Replicas"]
    assert table["rows"][0]["cells"] == ["a", "small", 4]


async def test_discovery_follows_crds(api: httpx.AsyncClient) -> None:
    await create_widget_crd(api)
    groups = (await api.get("/apis")).json()
    assert any(g["name"] == "example.com" for g in groups["groups"])
    resources = (await api.get("/apis/example.com/v1")).json()["resources"]
    names = {r["name"]: r for r in resources}
    assert set(names) == {"widgets", "widgets/status", "widgets/scale"}
    assert names["widgets"]["shortNames"] == ["wd"] and names["widgets"]["categories"] == ["all"]
    assert names["widgets"]["kind"] == "Widget" and names["widgets"]["namespaced"] is True
    aggregated = (
        await api.get(
            "/apis",
            headers={
                "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
            },
        )
    ).json()
    assert any(i["metadata"]["name"] == "example.com" for i in aggregated["items"])


async def test_deleting_crd_deletes_objects_then_kind(api: httpx.AsyncClient) -> None:
    await create_widget_crd(api)
    for name in ("a", "b"):
        assert (await api.post(WIDGETS, json=widget(name))).status_code == 201
    held = widget("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    assert (await api.post(WIDGETS, json=held)).status_code == 201
    r = await api.delete(f"{CRDS}/widgets.example.com")
    assert r.status_code == 202, r.text
    assert r.json()["metadata"]["deletionTimestamp"]

    async def only_held_left() -> bool:
        items = (await api.get(WIDGETS)).json()["items"]
        return [i["metadata"]["name"] for i in items] == ["held"]

    await eventually(only_held_left, within=10)
    # the CRD waits for the held object
    assert (await api.get(f"{CRDS}/widgets.example.com")).status_code == 200
    obj = (await api.get(f"{WIDGETS}/held")).json()
    obj["metadata"]["finalizers"] = []
    assert (await api.put(f"{WIDGETS}/held", json=obj)).status_code == 200

    async def crd_gone() -> bool:
        return (await api.get(f"{CRDS}/widgets.example.com")).status_code == 404

    await eventually(crd_gone, within=10)
    assert (await api.get(WIDGETS)).status_code == 404
    groups = (await api.get("/apis")).json()
    assert not any(g["name"] == "example.com" for g in groups["groups"])


async def test_multi_version_crd(api: httpx.AsyncClient) -> None:
    crd = widget_crd()
    v2 = copy.deepcopy(crd["spec"]["versions"][0])
    v2["name"] = "v2"
    v2["storage"] = False
    crd["spec"]["versions"][0]["deprecated"] = True
    crd["spec"]["versions"].append(v2)
    assert (await api.post(CRDS, json=crd)).status_code == 201
    assert (await api.post(WIDGETS, json=widget("a"))).status_code == 201
    r = await api.get("/apis/example.com/v2/namespaces/default/widgets/a")
    assert r.status_code == 200, r.text
    assert r.json()["apiVersion"] == "example.com/v2"
    body = widget("b")
    body["apiVersion"] = "example.com/v2"
    r = await api.post("/apis/example.com/v2/namespaces/default/widgets", json=body)
    assert r.status_code == 201, r.text
    r = await api.get(f"{WIDGETS}/b")
    assert r.json()["apiVersion"] == "example.com/v1"
    assert r.headers["warning"] == '299 - "example.com/v1 Widget is deprecated"'
    assert "warning" not in (await api.get("/apis/example.com/v2/widgets")).headers
    groups = (await api.get("/apis")).json()["groups"]
    versions = next(g for g in groups if g["name"] == "example.com")["versions"]
    # Kubernetes' version order: the preferred version is v2
    assert [v["version"] for v in versions] == ["v2", "v1"]


async def test_openapi_publishes_crd_schemas(api: httpx.AsyncClient) -> None:
    await create_widget_crd(api)
    index = (await api.get("/openapi/v3")).json()["paths"]
    assert "apis/example.com/v1" in index and "api/v1" in index
    doc = (await api.get(index["apis/example.com/v1"]["serverRelativeURL"])).json()
    schemas = doc["components"]["schemas"]
    found = [
        s
        for s in schemas.values()
        if {"group": "example.com", "version": "v1", "kind": "Widget"}
        in s.get("x-kubernetes-group-version-kind", [])
    ]
    assert len(found) == 1
    assert found[0]["properties"]["spec"]["properties"]["size"]["enum"] == ["small", "large"]
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in schemas
    patch = doc["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"]
    assert any(p["name"] == "fieldValidation" for p in patch["parameters"])
    v2 = (await api.get("/openapi/v2")).json()
    assert any(
        {"group": "example.com", "version": "v1", "kind": "Widget"}
        in d.get("x-kubernetes-group-version-kind", [])
        for d in v2["definitions"].values()
    )


async def test_selectable_fields_and_watch(api: httpx.AsyncClient) -> None:
    await create_widget_crd(api)
    r = await api.post(WIDGETS, json=widget("s", size="small"))
    assert r.status_code == 201
    rv = r.json()["metadata"]["resourceVersion"]
    assert (await api.post(WIDGETS, json=widget("l", size="large"))).status_code == 201
    items = (await api.get(WIDGETS, params={"fieldSelector": "spec.size=large"})).json()
    assert [i["metadata"]["name"] for i in items["items"]] == ["l"]
    r = await api.get(WIDGETS, params={"fieldSelector": "spec.color=red"})
    assert r.status_code == 400, r.text
    seen: list[tuple[str, str]] = []
    params = {
        "watch": "1",
        "resourceVersion": rv,
        "fieldSelector": "spec.size=large",
        "timeoutSeconds": "5",
    }
    async with api.stream("GET", WIDGETS, params=params) as stream:
        async for line in stream.aiter_lines():
            event = json.loads(line)
            seen.append((event["type"], event["object"]["metadata"]["name"]))
            break
    assert seen == [("ADDED", "l")]


async def test_terminating_crd_refuses_new_objects(api: httpx.AsyncClient) -> None:
    await create_widget_crd(api)
    held = widget("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    assert (await api.post(WIDGETS, json=held)).status_code == 201
    assert (await api.delete(f"{CRDS}/widgets.example.com")).status_code == 202

    async def terminating() -> bool:
        crd = (await api.get(f"{CRDS}/widgets.example.com")).json()
        return condition(crd, "Terminating").get("reason") == "InstanceDeletionInProgress"

    await eventually(terminating, within=10)
    r = await api.post(WIDGETS, json=widget("new"))
    assert r.status_code == 405, r.text
    assert r.json()["message"] == (
        "create not allowed while custom resource definition is terminating"
    )
    obj = (await api.get(f"{WIDGETS}/held")).json()
    obj["metadata"]["finalizers"] = []
    assert (await api.put(f"{WIDGETS}/held", json=obj)).status_code == 200


async def test_webhook_conversion_is_accepted_with_a_condition(api: httpx.AsyncClient) -> None:
    crd = widget_crd(
        conversion={
            "strategy": "Webhook",
            "webhook": {
                "conversionReviewVersions": ["v1"],
                "clientConfig": {"url": "https://example.invalid/convert"},
            },
        }
    )
    r = await api.post(CRDS, json=crd)
    assert r.status_code == 201, r.text
    cond = condition(r.json(), "ConversionWebhookSupported")
    assert cond["status"] == "False" and "does not call conversion webhooks" in cond["message"]
    assert condition(r.json(), "Established")["status"] == "True"


async def test_crd_schema_update_applies_without_restart(api: httpx.AsyncClient) -> None:
    crd = await create_widget_crd(api)
    assert (await api.post(WIDGETS, json=widget("a", color="red"))).json()["spec"].get(
        "color"
    ) is None
    props = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
    props["spec"]["properties"]["color"] = {"type": "string"}
    r = await api.put(f"{CRDS}/widgets.example.com", json=crd)
    assert r.status_code == 200, r.text
    r = await api.post(WIDGETS, json=widget("b", color="red"))
    assert r.status_code == 201 and r.json()["spec"]["color"] == "red"


async def test_finalizers_owner_references_and_dry_run(api: httpx.AsyncClient) -> None:
    await create_widget_crd(api)
    owner = (await api.post(WIDGETS, json=widget("owner"))).json()
    child = widget("child")
    child["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "name": "owner",
            "uid": owner["metadata"]["uid"],
        }
    ]
    child["metadata"]["finalizers"] = ["example.com/keep"]
    r = await api.post(WIDGETS, json=child)
    assert r.status_code == 201, r.text
    assert r.json()["metadata"]["ownerReferences"][0]["uid"] == owner["metadata"]["uid"]
    r = await api.delete(f"{WIDGETS}/child", params={"dryRun": "All"})
    assert r.status_code in (200, 202) and (await api.get(f"{WIDGETS}/child")).status_code == 200
    r = await api.delete(f"{WIDGETS}/child")
    assert r.status_code == 202 and r.json()["metadata"]["deletionTimestamp"]
    assert r.json()["metadata"]["generation"] == 2
    r = await api.patch(
        f"{WIDGETS}/child",
        content=json.dumps({"metadata": {"finalizers": None}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    assert (await api.get(f"{WIDGETS}/child")).status_code == 404


async def test_apply_merges_list_map_items_by_key(api: httpx.AsyncClient) -> None:
    await create_widget_crd(api)

    async def apply(manager: str, ports: list[dict[str, Any]]) -> httpx.Response:
        body = widget("m", ports=ports)
        return await api.patch(
            f"{WIDGETS}/m",
            params={"fieldManager": manager},
            content=json.dumps(body),
            headers={"Content-Type": "application/apply-patch+yaml"},
        )

    assert (await apply("one", [{"name": "http", "port": 8080}])).status_code == 201
    r = await apply("two", [{"name": "metrics"}])
    assert r.status_code == 200, r.text
    ports = r.json()["spec"]["ports"]
    assert ports == [{"name": "http", "port": 8080}, {"name": "metrics", "port": 80}]
    r = await apply("two", [{"name": "http", "port": 9090}])
    assert r.status_code == 409, r.text


async def test_metadata_and_unknown_fields_decode_as_upstream(api: httpx.AsyncClient) -> None:
    await create_widget_crd(api)
    bad = widget("m")
    bad["metadata"]["labels"] = {"a": 1}
    r = await api.post(WIDGETS, json=bad)
    assert r.status_code == 400, r.text
    assert r.json()["message"].startswith('Widget in version "v1" cannot be handled as a Widget')
    bad = widget("m")
    bad["metadata"]["name"] = 7
    assert (await api.post(WIDGETS, json=bad)).status_code == 400
    extra = widget("m", bogus=1)
    r = await api.post(WIDGETS, json=extra, params={"fieldValidation": "Strict"})
    assert r.status_code == 400, r.text
    assert r.json()["message"].endswith('strict decoding error: unknown field "spec.bogus"')
    r = await api.post(WIDGETS, json=extra, params={"fieldValidation": "Warn"})
    assert r.status_code == 201, r.text
    assert r.headers["warning"] == '299 - "unknown field \\"spec.bogus\\""'
    assert "bogus" not in r.json()["spec"]
    bad = widget("n", replicas="x")
    body = (await api.post(WIDGETS, json=bad)).json()
    assert body["details"]["kind"] == "Widget" and body["details"]["group"] == "example.com"


async def test_cluster_scoped_custom_resource(api: httpx.AsyncClient) -> None:
    crd = widget_crd(scope="Cluster")
    crd["spec"]["names"] = {"plural": "widgets", "kind": "Widget"}
    assert (await api.post(CRDS, json=crd)).status_code == 201
    r = await api.post("/apis/example.com/v1/widgets", json=widget("c"))
    assert r.status_code == 201, r.text
    assert "namespace" not in r.json()["metadata"]
    assert (await api.get("/apis/example.com/v1/widgets/c")).status_code == 200
    assert (await api.get(f"{WIDGETS}/c")).status_code == 404
    resources = (await api.get("/apis/example.com/v1")).json()["resources"]
    assert next(r for r in resources if r["name"] == "widgets")["namespaced"] is False


async def test_crd_scope_is_immutable(api: httpx.AsyncClient) -> None:
    crd = await create_widget_crd(api)
    crd["spec"]["scope"] = "Cluster"
    r = await api.put(f"{CRDS}/widgets.example.com", json=crd)
    assert r.status_code == 422, r.text
    assert 'spec.scope: Invalid value: "Cluster": field is immutable' in r.json()["message"]


async def _serve(store: MemoryStore, body: Any) -> None:
    server = ApiServer(store, ApiServerConfig(port=0, anonymous=True))
    started = asyncio.Event()
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(server.run(started=started))
        try:
            await asyncio.wait_for(started.wait(), 15)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{server.bound_port}", timeout=20
            ) as client:
                await body(client)
        finally:
            server.stop()
            await asyncio.wait_for(asyncio.shield(task), 15)


async def test_custom_resources_are_served_after_a_restart() -> None:
    store = MemoryStore()
    try:

        async def first(client: httpx.AsyncClient) -> None:
            await create_widget_crd(client)
            assert (await client.post(WIDGETS, json=widget("kept"))).status_code == 201

        async def second(client: httpx.AsyncClient) -> None:
            r = await client.get(f"{WIDGETS}/kept")
            assert r.status_code == 200, r.text
            groups = (await client.get("/apis")).json()["groups"]
            assert any(g["name"] == "example.com" for g in groups)

        await _serve(store, first)
        await _serve(store, second)
    finally:
        await store.close()


async def test_embedded_resources_nullable_and_nested_defaults(api: httpx.AsyncClient) -> None:
    crd = widget_crd()
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec["properties"]["template"] = {
        "type": "object",
        "x-kubernetes-embedded-resource": True,
        "properties": {"spec": {"type": "object", "properties": {"x": {"type": "string"}}}},
    }
    spec["properties"]["items"] = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"n": {"type": "integer", "default": 7}, "s": {"type": "string"}},
        },
    }
    assert (await api.post(CRDS, json=crd)).status_code == 201
    r = await api.post(WIDGETS, json=widget("e", template={"spec": {"x": "y"}}))
    assert r.status_code == 422, r.text
    assert "spec.template.apiVersion: Required value" in r.json()["message"]
    template = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"x": "y", "z": 1},
    }
    r = await api.post(
        WIDGETS, json=widget("e", template=template, items=[{"s": "a"}], replicas=None, note=None)
    )
    assert r.status_code == 201, r.text
    got = r.json()["spec"]
    assert got["template"] == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"x": "y"},
    }
    assert got["items"] == [{"s": "a", "n": 7}]
    assert got["replicas"] == 1  # a null for a field with a default is defaulted
    assert got["note"] is None  # nullable: kept


async def test_a_stored_version_cannot_be_dropped(api: httpx.AsyncClient) -> None:
    crd = widget_crd()
    v2 = copy.deepcopy(crd["spec"]["versions"][0])
    v2["name"] = "v2"
    v2["storage"] = False
    crd["spec"]["versions"].append(v2)
    crd = (await api.post(CRDS, json=crd)).json()
    crd["spec"]["versions"] = [v2 | {"storage": True}]
    r = await api.put(f"{CRDS}/widgets.example.com", json=crd)
    assert r.status_code == 422, r.text
    assert (
        'status.storedVersions[0]: Invalid value: "v1": must appear in spec.versions'
        in (r.json()["message"])
    )
