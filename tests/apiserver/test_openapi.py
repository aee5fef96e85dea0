"""Tests for ``skiff.apiserver.openapi`` and, end to end, discovery + OpenAPI read by real kubectl.

Unit tests build documents from small stand-in models (defined here, following the conventions of
``skiff.api.types._base``) to pin the Kubernetes shape of schemas and operations; others check
the cached documents for the real registry, and the real models once ``skiff.api.types.model_for``
exists.

The ``test_kubectl_*`` tests serve the discovery and OpenAPI documents from a tiny starlette app
under uvicorn on 127.0.0.1 (plain HTTP) and run the installed kubectl (1.32 through its
dispatcher) against it: ``api-resources``, ``explain``, and ``apply --dry-run=server`` reaching
the PATCH/POST request. They are skipped when kubectl is not installed. Excludes the real API
server's handlers (the lead wires these functions into them).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvicorn
from pydantic import Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from skiff.api.resources import RESOURCES, GroupVersion, ResourceInfo, Subresource
from skiff.api.types._base import IntOrString, KubeModel, Quantity
from skiff.apiserver.discovery import (
    aggregated_discovery,
    api_group_list,
    api_resource_list,
    api_versions,
    discovery_content_type,
    negotiate_discovery,
)
from skiff.apiserver.openapi import (
    build_openapi_v3_document,
    default_model_lookup,
    openapi_v3_document,
    openapi_v3_index,
    openapi_v3_path,
    schema_name,
)

# ---------------------------------------------------------------------------------------------
# stand-in models (a tiny apps/v1 Deployment)


class ObjectMeta(KubeModel):
    """Metadata every persisted object has."""

    name: str | None = Field(None, description="The object's name, unique in its namespace.")
    labels: dict[str, str] | None = Field(
        None,
        description="Key/value pairs for selecting objects.",
        json_schema_extra={"x-kubernetes-map-type": "granular"},
    )


class RollingUpdateDeployment(KubeModel):
    """How far a rolling update may go beyond or below the desired replica count."""

    max_surge: IntOrString | None = Field(
        None, alias="maxSurge", description="Pods allowed above the desired count."
    )
    max_unavailable: IntOrString | None = Field(
        None, alias="maxUnavailable", description="Pods allowed to be unavailable."
    )


class DeploymentStrategy(KubeModel):
    """How a Deployment replaces old pods by new ones."""

    type: str | None = Field(None, description="Recreate or RollingUpdate (the default).")
    rolling_update: RollingUpdateDeployment | None = Field(
        None, alias="rollingUpdate", description="Parameters of a RollingUpdate."
    )


class Container(KubeModel):
    """One container of a pod."""

    name: str = Field(description="The container's name, unique in the pod.")
    image: str | None = Field(None, description="The image to run.")
    limits: dict[str, Quantity] | None = Field(None, description="Resource limits.")


class PodSpec(KubeModel):
    """What a pod runs."""

    containers: list[Container] = Field(
        description="The containers of the pod.",
        json_schema_extra={
            "x-kubernetes-patch-merge-key": "name",
            "x-kubernetes-patch-strategy": "merge",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
        },
    )


class PodTemplateSpec(KubeModel):
    """The pods a workload creates."""

    metadata: ObjectMeta | None = Field(None, description="Labels and annotations of the pods.")
    spec: PodSpec | None = Field(None, description="The pods' spec.")


class DeploymentSpec(KubeModel):
    """The desired state of a Deployment."""

    replicas: int | None = Field(
        None, description="The number of pods wanted.", json_schema_extra={"format": "int32"}
    )
    strategy: DeploymentStrategy | None = Field(
        None, description="The strategy used to replace old pods by new ones."
    )
    template: PodTemplateSpec = Field(description="The pods to create.")


class Deployment(KubeModel):
    """A Deployment keeps a replicated set of pods at the template's latest version."""

    api_version: str | None = Field(None, alias="apiVersion", description="The API version.")
    kind: str | None = Field(None, description="The kind.")
    metadata: ObjectMeta = Field(
        default_factory=ObjectMeta, description="The standard object metadata."
    )
    spec: DeploymentSpec | None = Field(None, description="What the Deployment should run.")


class ListMeta(KubeModel):
    """Metadata of a list."""

    resource_version: str | None = Field(None, alias="resourceVersion")


class DeploymentList(KubeModel):
    """A list of Deployments."""

    metadata: ListMeta | None = None
    items: list[Deployment] = Field(description="The Deployments.")


STAND_INS: dict[tuple[str, str, str], type[KubeModel]] = {
    ("apps", "v1", "Deployment"): Deployment,
    ("apps", "v1", "DeploymentList"): DeploymentList,
}


def stand_in_lookup(group: str, version: str, kind: str) -> type[KubeModel] | None:
    return STAND_INS.get((group, version, kind))


DEPLOYMENTS = ResourceInfo(
    group="apps",
    version="v1",
    kind="Deployment",
    plural="deployments",
    namespaced=True,
    short_names=("deploy",),
    categories=("all",),
    subresources=(
        Subresource("status", "Deployment"),
        Subresource("scale", "Scale", "autoscaling", "v1"),
    ),
    has_status=True,
)
APPS_V1 = GroupVersion("apps", "v1")


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return build_openapi_v3_document(
        APPS_V1, [DEPLOYMENTS], model_lookup=stand_in_lookup, served_groups={"apps"}
    )


def _schema(doc: dict[str, Any], model: type) -> dict[str, Any]:
    schema: dict[str, Any] = doc["components"]["schemas"][schema_name(model)]
    return schema


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


# ---------------------------------------------------------------------------------------------
# schemas


def test_document_header(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.0.0"
    assert doc["info"] == {"title": "Kubernetes", "version": "v1.32.4"}


def test_schema_names_are_package_qualified() -> None:
    assert schema_name(Deployment) == f"io.skiff.{__name__}.Deployment"


def test_kind_schema_shape(doc: dict[str, Any]) -> None:
    deploy = _schema(doc, Deployment)
    assert deploy["type"] == "object"
    assert deploy["description"].startswith("A Deployment keeps")
    assert deploy["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    assert "title" not in deploy
    assert "additionalProperties" not in deploy
    props = deploy["properties"]
    # Optional scalars lose pydantic's nullable wrapping and their null default.
    assert props["apiVersion"] == {"description": "The API version.", "type": "string"}
    # A described reference is wrapped in allOf; a non-optional struct defaults to {}.
    assert props["metadata"] == {
        "allOf": [{"$ref": f"#/components/schemas/{schema_name(ObjectMeta)}"}],
        "default": {},
        "description": "The standard object metadata.",
    }
    # An optional struct (a Go pointer) has no default.
    assert props["spec"] == {
        "allOf": [{"$ref": f"#/components/schemas/{schema_name(DeploymentSpec)}"}],
        "description": "What the Deployment should run.",
    }
    lst = _schema(doc, DeploymentList)
    assert lst["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "DeploymentList", "version": "v1"}
    ]
    assert lst["required"] == ["items"]
    assert lst["properties"]["items"]["items"] == {
        "allOf": [{"$ref": f"#/components/schemas/{schema_name(Deployment)}"}],
        "default": {},
    }
    assert lst["properties"]["metadata"] == {
        "$ref": f"#/components/schemas/{schema_name(ListMeta)}"
    }


def test_nested_schema_shape(doc: dict[str, Any]) -> None:
    spec = _schema(doc, DeploymentSpec)
    assert spec["required"] == ["template"]
    assert spec["properties"]["replicas"] == {
        "description": "The number of pods wanted.",
        "format": "int32",
        "type": "integer",
    }
    assert spec["properties"]["template"]["default"] == {}
    assert "x-kubernetes-group-version-kind" not in spec
    rolling = _schema(doc, RollingUpdateDeployment)
    # Int-or-string scalars refer to apimachinery's named schemas, as upstream does.
    assert rolling["properties"]["maxSurge"] == {
        "allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString"}],
        "description": "Pods allowed above the desired count.",
    }
    container = _schema(doc, Container)
    quantity = container["properties"]["limits"]["additionalProperties"]
    assert quantity == {
        "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"
    }
    schemas = doc["components"]["schemas"]
    int_or_string = schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    assert int_or_string["format"] == "int-or-string"
    assert int_or_string["x-kubernetes-int-or-string"] is True
    assert int_or_string["oneOf"] == [{"type": "integer"}, {"type": "string"}]
    assert "type" not in int_or_string
    assert schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]["format"] == "quantity"
    containers = _schema(doc, PodSpec)["properties"]["containers"]
    assert containers["type"] == "array"
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["x-kubernetes-list-map-keys"] == ["name"]
    labels = _schema(doc, ObjectMeta)["properties"]["labels"]
    assert labels == {
        "additionalProperties": {"type": "string"},
        "description": "Key/value pairs for selecting objects.",
        "type": "object",
        "x-kubernetes-map-type": "granular",
    }


def test_no_pydantic_artifacts_left(doc: dict[str, Any]) -> None:
    for name, schema in doc["components"]["schemas"].items():
        for key, value in _walk(schema):
            if key == "properties":
                continue  # property names may legitimately be "title" and the like
            assert key != "title" or not isinstance(value, str), name
            assert value != {"type": "null"}, name
            if key == "$ref":
                assert value.removeprefix("#/components/schemas/") in doc["components"]["schemas"]


def test_refs_never_have_siblings(doc: dict[str, Any]) -> None:
    for _, value in _walk(doc):
        if isinstance(value, dict) and "$ref" in value:
            assert list(value) == ["$ref"]


def test_missing_models_degrade_to_open_objects(doc: dict[str, Any]) -> None:
    scale = doc["components"]["schemas"]["io.k8s.api.autoscaling.v1.Scale"]
    assert scale["type"] == "object"
    assert scale["x-kubernetes-preserve-unknown-fields"] is True
    assert scale["x-kubernetes-group-version-kind"] == [
        {"group": "autoscaling", "kind": "Scale", "version": "v1"}
    ]
    empty = build_openapi_v3_document(APPS_V1, [DEPLOYMENTS], model_lookup=lambda g, v, k: None)
    deploy = empty["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    assert deploy["x-kubernetes-preserve-unknown-fields"] is True
    assert set(empty["paths"]) == set(doc["paths"])


# ---------------------------------------------------------------------------------------------
# paths and operations


def test_paths(doc: dict[str, Any]) -> None:
    assert set(doc["paths"]) == {
        "/apis/apps/v1/deployments",
        "/apis/apps/v1/namespaces/{namespace}/deployments",
        "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
        "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status",
        "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
    }
    collection = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]
    ops = {
        m: (o["operationId"], o["x-kubernetes-action"])
        for m, o in collection.items()
        if m != "parameters"
    }
    assert ops == {
        "get": ("listAppsV1NamespacedDeployment", "list"),
        "post": ("createAppsV1NamespacedDeployment", "post"),
        "delete": ("deleteAppsV1CollectionNamespacedDeployment", "deletecollection"),
    }
    list_params = {p["name"] for p in collection["get"]["parameters"]}
    assert {
        "labelSelector",
        "fieldSelector",
        "limit",
        "continue",
        "resourceVersion",
        "watch",
    } <= list_params
    assert [p["name"] for p in collection["parameters"]] == ["namespace", "pretty"]
    assert collection["parameters"][0]["required"] is True
    all_ns = doc["paths"]["/apis/apps/v1/deployments"]["get"]
    assert all_ns["operationId"] == "listAppsV1DeploymentForAllNamespaces"
    item = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    assert {m: o["operationId"] for m, o in item.items() if m != "parameters"} == {
        "get": "readAppsV1NamespacedDeployment",
        "put": "replaceAppsV1NamespacedDeployment",
        "patch": "patchAppsV1NamespacedDeployment",
        "delete": "deleteAppsV1NamespacedDeployment",
    }
    scale = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
    assert scale["patch"]["operationId"] == "patchAppsV1NamespacedDeploymentScale"
    assert scale["patch"]["x-kubernetes-group-version-kind"] == {
        "group": "autoscaling",
        "kind": "Scale",
        "version": "v1",
    }
    assert scale["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/io.k8s.api.autoscaling.v1.Scale"
    }


def test_patch_operation_lets_kubectl_validate_on_the_server(doc: dict[str, Any]) -> None:
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-action"] == "patch"
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "kind": "Deployment",
        "version": "v1",
    }
    # kubectl leaves validation to the server only when fieldValidation is a PATCH parameter.
    assert [p["name"] for p in patch["parameters"]] == [
        "dryRun",
        "fieldManager",
        "fieldValidation",
        "force",
    ]
    assert set(patch["requestBody"]["content"]) == {
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
    }
    assert set(patch["responses"]) == {"200", "201", "401"}


def _core_doc(resources: list[ResourceInfo]) -> dict[str, Any]:
    return build_openapi_v3_document(
        GroupVersion("", "v1"), resources, model_lookup=lambda g, v, k: None
    )


def test_core_and_cluster_scoped_operations() -> None:
    registry = [r for r in RESOURCES if r.group == ""]
    doc = _core_doc(registry)
    paths = doc["paths"]
    eviction = paths["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]
    assert set(eviction) == {"post", "parameters"}
    assert eviction["post"]["operationId"] == "createCoreV1NamespacedPodEviction"
    assert eviction["post"]["x-kubernetes-group-version-kind"] == {
        "group": "policy",
        "kind": "Eviction",
        "version": "v1",
    }
    assert "io.k8s.api.policy.v1.Eviction" in doc["components"]["schemas"]
    binding = paths["/api/v1/namespaces/{namespace}/pods/{name}/binding"]["post"]
    assert binding["operationId"] == "createCoreV1NamespacedPodBinding"
    assert binding["x-kubernetes-group-version-kind"] == {
        "group": "",
        "kind": "Binding",
        "version": "v1",
    }
    finalize = paths["/api/v1/namespaces/{name}/finalize"]
    assert set(finalize) == {"put", "parameters"}
    assert finalize["put"]["operationId"] == "replaceCoreV1NamespaceFinalize"
    namespaces = paths["/api/v1/namespaces"]
    assert namespaces["get"]["operationId"] == "listCoreV1Namespace"
    # Namespaces have no deletecollection verb in the registry.
    assert "delete" not in namespaces
    assert [p["name"] for p in paths["/api/v1/namespaces/{name}"]["parameters"]] == [
        "name",
        "pretty",
    ]
    assert paths["/api/v1/nodes/{name}/status"]["patch"]["operationId"] == "patchCoreV1NodeStatus"
    # Only paths of the document's group/version.
    assert all(p.startswith("/api/v1/") for p in paths)


def test_read_only_resource_has_only_reads() -> None:
    metrics = ResourceInfo(
        group="metrics.k8s.io",
        version="v1beta1",
        kind="PodMetrics",
        plural="pods",
        namespaced=True,
        verbs=("get", "list"),
    )
    doc = build_openapi_v3_document(
        metrics.gv, [metrics], model_lookup=lambda g, v, k: None, served_groups={"metrics.k8s.io"}
    )
    paths = doc["paths"]
    assert set(paths) == {
        "/apis/metrics.k8s.io/v1beta1/pods",
        "/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods",
        "/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods/{name}",
    }
    item = paths["/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods/{name}"]
    assert set(item) == {"get", "parameters"}
    assert item["get"]["operationId"] == "readMetricsV1beta1NamespacedPodMetrics"
    assert "io.k8s.metrics.pkg.apis.metrics.v1beta1.PodMetrics" in doc["components"]["schemas"]


def test_operation_ids_keep_k8s_io_groups_apart() -> None:
    vpa = next(r for r in RESOURCES if r.group == "autoscaling.k8s.io")
    rbac = next(r for r in RESOURCES if r.group == "rbac.authorization.k8s.io")
    groups = {r.group for r in RESOURCES}
    none = lambda g, v, k: None  # noqa: E731
    vpa_doc = build_openapi_v3_document(vpa.gv, RESOURCES, model_lookup=none, served_groups=groups)
    rbac_doc = build_openapi_v3_document(
        rbac.gv, RESOURCES, model_lookup=none, served_groups=groups
    )
    ids = {
        o["operationId"]
        for _, o in _walk(vpa_doc["paths"])
        if isinstance(o, dict) and "operationId" in o
    }
    assert "patchAutoscalingK8sIoV1NamespacedVerticalPodAutoscaler" in ids
    ids = {
        o["operationId"]
        for _, o in _walk(rbac_doc["paths"])
        if isinstance(o, dict) and "operationId" in o
    }
    assert "listRbacAuthorizationV1ClusterRole" in ids


def test_every_operation_id_is_unique_in_the_served_documents() -> None:
    for path in openapi_v3_index()["paths"]:
        served = openapi_v3_document(path)
        assert served is not None
        doc = orjson.loads(served[0])
        ids = [
            o["operationId"]
            for _, o in _walk(doc["paths"])
            if isinstance(o, dict) and "operationId" in o
        ]
        assert len(ids) == len(set(ids)), path


# ---------------------------------------------------------------------------------------------
# index, documents, caching


def test_index_covers_every_served_group_version() -> None:
    index = openapi_v3_index()
    expected = {openapi_v3_path(GroupVersion(r.group, r.version)) for r in RESOURCES}
    assert set(index["paths"]) == expected
    assert "api/v1" in expected and "apis/apps/v1" in expected
    for path, entry in index["paths"].items():
        served = openapi_v3_document(path)
        assert served is not None
        _body, digest = served
        assert entry == {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
        assert digest == digest.upper() and len(digest) == 128
        int(digest, 16)


def test_documents_are_cached_and_stable() -> None:
    first = openapi_v3_document("apis/apps/v1")
    assert first is not None
    assert openapi_v3_document("/apis/apps/v1/") is first
    fresh = build_openapi_v3_document(
        APPS_V1, RESOURCES, served_groups={r.group for r in RESOURCES}
    )
    # Rebuilding gives byte-identical output, so the hash only changes with the content.
    assert orjson.dumps(fresh, option=orjson.OPT_SORT_KEYS) == first[0]
    body = orjson.loads(first[0])
    assert "/apis/apps/v1/namespaces/{namespace}/deployments/{name}" in body["paths"]
    assert not any(p.startswith("/api/v1") for p in body["paths"])


def test_unknown_document_is_none() -> None:
    assert openapi_v3_document("apis/apps/v2") is None
    assert openapi_v3_document("apis/metrics.k8s.io/v1beta1") is None


def test_extra_groups_get_documents() -> None:
    extra = (
        ResourceInfo(
            group="metrics.k8s.io",
            version="v1beta1",
            kind="NodeMetrics",
            plural="nodes",
            namespaced=False,
            verbs=("get", "list"),
        ),
    )
    assert "apis/metrics.k8s.io/v1beta1" in openapi_v3_index(extra=extra)["paths"]
    assert openapi_v3_document("apis/metrics.k8s.io/v1beta1", extra=extra) is not None
    assert "apis/metrics.k8s.io/v1beta1" not in openapi_v3_index()["paths"]


def test_default_lookup_tolerates_unknown_kinds() -> None:
    assert default_model_lookup("nope.example", "v1", "Nothing") is None


# ---------------------------------------------------------------------------------------------
# real models


def _model_for() -> Callable[[str, str, str], Any] | None:
    import skiff.api.types as types_package

    found: Callable[[str, str, str], Any] | None = getattr(types_package, "model_for", None)
    return found


needs_models = pytest.mark.skipif(
    _model_for() is None, reason="skiff.api.types.model_for is not available yet"
)


@needs_models
def test_real_models_give_real_schemas() -> None:
    served = openapi_v3_document("apis/apps/v1")
    assert served is not None
    schemas = orjson.loads(served[0])["components"]["schemas"]
    deploy = schemas["io.k8s.api.apps.v1.Deployment"]
    assert "x-kubernetes-preserve-unknown-fields" not in deploy
    assert {"apiVersion", "kind", "metadata", "spec", "status"} <= set(deploy["properties"])
    assert deploy["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in schemas
    assert "io.k8s.api.core.v1.PodSpec" in schemas
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"


# ---------------------------------------------------------------------------------------------
# kubectl end to end

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4",
    "gitCommit": "0000000",
    "gitTreeState": "clean",
    "buildDate": "2025-01-01T00:00:00Z",
    "goVersion": "go1.23.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}

DocumentSource = Callable[[str], "tuple[bytes, str] | None"]


class _Recorder:
    """ASGI wrapper recording "METHOD /path?query" of every request, for assertions."""

    def __init__(self, app: Starlette, requests: list[str]) -> None:
        self._app = app
        self._requests = requests

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            query = scope["query_string"].decode()
            self._requests.append(
                f"{scope['method']} {scope['path']}" + (f"?{query}" if query else "")
            )
        await self._app(scope, receive, send)


def _app(
    documents: DocumentSource,
    index: dict[str, Any],
    requests: list[str],
    *,
    aggregated: bool = True,
    minor: str = "32",
    objects: dict[str, dict[str, Any]] | None = None,
    patches: list[tuple[str, Any]] | None = None,
) -> _Recorder:
    """A fake API server serving only /version, discovery and OpenAPI, as the lead's will.

    ``aggregated=False`` answers every discovery request with legacy bodies; ``minor`` is the
    version reported to kubectl's dispatcher, which picks the kubectl binary by it.
    """

    def not_found() -> Response:
        status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound"}
        return JSONResponse({**status, "code": 404}, status_code=404)

    def discovery_response(request: Request, core: bool) -> Response:
        version = negotiate_discovery(request.headers.get("accept"))
        if version is not None and aggregated:
            body = orjson.dumps(aggregated_discovery(core, version))
            return Response(body, media_type=discovery_content_type(version))
        if core:
            return JSONResponse(api_versions(f"{request.url.hostname}:{request.url.port}"))
        return JSONResponse(api_group_list())

    async def version(request: Request) -> Response:
        return JSONResponse({**VERSION, "minor": minor, "gitVersion": f"v1.{minor}.0"})

    async def api(request: Request) -> Response:
        return discovery_response(request, core=True)

    async def apis(request: Request) -> Response:
        return discovery_response(request, core=False)

    async def core_v1(request: Request) -> Response:
        body = api_resource_list("", "v1")
        return JSONResponse(body) if body is not None else not_found()

    async def group_version(request: Request) -> Response:
        body = api_resource_list(request.path_params["group"], request.path_params["version"])
        return JSONResponse(body) if body is not None else not_found()

    async def openapi_index(request: Request) -> Response:
        return JSONResponse(index)

    async def openapi_doc(request: Request) -> Response:
        served = documents(request.path_params["path"])
        if served is None:
            return not_found()
        return Response(served[0], media_type="application/json")

    async def fallback(request: Request) -> Response:
        obj = (objects or {}).get(request.url.path)
        if obj is None:
            return not_found()
        if request.method == "PATCH" and patches is not None:
            patches.append((request.headers["content-type"], orjson.loads(await request.body())))
        return JSONResponse(obj)

    app = Starlette(
        routes=[
            Route("/version", version),
            Route("/version/", version),
            Route("/api", api),
            Route("/apis", apis),
            Route("/api/v1", core_v1),
            Route("/apis/{group}/{version}", group_version),
            Route("/openapi/v3", openapi_index),
            Route("/openapi/v3/{path:path}", openapi_doc),
            Route("/{rest:path}", fallback, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]
    )
    return _Recorder(app, requests)


class FakeServer:
    """The fake API server running under uvicorn in a thread on 127.0.0.1, plus a kubectl runner."""

    def __init__(self, app: _Recorder, requests: list[str], tmp: Path) -> None:
        self.requests = requests
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(app, lifespan="off", ws="none", log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._tmp = tmp
        self.kubeconfig = tmp / "kubeconfig"
        self.kubeconfig.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {"name": "c", "cluster": {"server": f"http://127.0.0.1:{self.port}"}}
                    ],
                    "users": [{"name": "u", "user": {"token": "any"}}],
                    "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                    "current-context": "x",
                }
            )
        )

    def __enter__(self) -> FakeServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake API server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def kubectl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        assert KUBECTL is not None
        cache = self._tmp / f"cache-{time.monotonic_ns()}"  # a fresh cache: no stale discovery
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self._tmp), "KUBECONFIG": str(self.kubeconfig)}
        return subprocess.run(
            [KUBECTL, f"--cache-dir={cache}", "--request-timeout=20s", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )


@pytest.fixture
def stand_in_server(tmp_path: Path) -> Iterator[FakeServer]:
    """Serves the registry's discovery with the stand-in models' apps/v1 OpenAPI document."""
    documents: dict[str, tuple[bytes, str]] = {}
    doc = build_openapi_v3_document(
        APPS_V1, [DEPLOYMENTS], model_lookup=stand_in_lookup, served_groups={"apps"}
    )
    body = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    documents["apis/apps/v1"] = (body, "0123ABCD")
    index = {
        "paths": {"apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=0123ABCD"}}
    }
    requests: list[str] = []
    with FakeServer(_app(documents.get, index, requests), requests, tmp_path) as server:
        yield server


@pytest.fixture
def real_server(tmp_path: Path) -> Iterator[FakeServer]:
    """Serves the real cached discovery and OpenAPI documents."""
    requests: list[str] = []
    app = _app(openapi_v3_document, openapi_v3_index(), requests)
    with FakeServer(app, requests, tmp_path) as server:
        yield server


def _rows(output: str) -> dict[str, list[str]]:
    lines = output.splitlines()
    return {line.split()[0]: line.split() for line in lines[1:] if line.strip()}


@needs_kubectl
def test_kubectl_api_resources(real_server: FakeServer) -> None:
    result = real_server.kubectl("api-resources")
    assert result.returncode == 0, result.stderr
    rows = _rows(result.stdout)
    assert rows["pods"] == ["pods", "po", "v1", "true", "Pod"]
    assert rows["namespaces"] == ["namespaces", "ns", "v1", "false", "Namespace"]
    assert rows["deployments"] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert rows["verticalpodautoscalers"][:3] == [
        "verticalpodautoscalers",
        "vpa",
        "autoscaling.k8s.io/v1",
    ]
    assert rows["clusterroles"] == [
        "clusterroles",
        "rbac.authorization.k8s.io/v1",
        "false",
        "ClusterRole",
    ]
    # Aggregated discovery was used: no per-group/version requests.
    assert not any(r.startswith("GET /apis/apps/v1") for r in real_server.requests)
    # Only the preferred autoscaling version is listed.
    assert rows["horizontalpodautoscalers"][2] == "autoscaling/v2"


@needs_kubectl
def test_kubectl_api_resources_by_category(real_server: FakeServer) -> None:
    result = real_server.kubectl("api-resources", "--categories=all", "-o", "name")
    assert result.returncode == 0, result.stderr
    names = set(result.stdout.split())
    assert {"pods", "services", "deployments.apps", "jobs.batch"} <= names
    assert "configmaps" not in names


@needs_kubectl
@pytest.mark.parametrize(
    ("minor", "aggregated"),
    [("29", True), ("32", False)],
    ids=["kubectl-1.29-v2beta1", "legacy-only"],
)
def test_kubectl_other_discovery_paths(tmp_path: Path, minor: str, aggregated: bool) -> None:
    """kubectl 1.29 (picked by the dispatcher) gets v2beta1; a legacy-only server still works."""
    requests: list[str] = []
    app = _app(
        openapi_v3_document, openapi_v3_index(), requests, aggregated=aggregated, minor=minor
    )
    with FakeServer(app, requests, tmp_path) as server:
        result = server.kubectl("api-resources", "-o", "wide")
    assert result.returncode == 0, result.stderr
    rows = _rows(result.stdout)
    assert rows["deployments"][:5] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    # -o wide adds VERBS and CATEGORIES.
    assert rows["pods"][5:] == ["create,delete,deletecollection,get,list,patch,update,watch", "all"]
    per_group = any(r.startswith("GET /apis/apps/v1") for r in requests)
    # Per-group/version requests happen exactly when the server did not aggregate. kubectl 1.29
    # reads a v2 body as legacy and fails (kubectl-wire.md §9.6), so its success here means it
    # was answered in v2beta1.
    assert per_group is not aggregated


@needs_kubectl
def test_kubectl_explain_stand_in_models(stand_in_server: FakeServer) -> None:
    result = stand_in_server.kubectl("explain", "deployment.spec.strategy")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "GROUP:      apps" in out
    assert "KIND:       Deployment" in out
    assert "FIELD: strategy <DeploymentStrategy>" in out
    assert "The strategy used to replace old pods by new ones." in out
    assert "How a Deployment replaces old pods by new ones." in out
    assert "  rollingUpdate\t<RollingUpdateDeployment>\n    Parameters of a RollingUpdate." in out
    assert "  type\t<string>\n    Recreate or RollingUpdate (the default)." in out
    assert any(
        r.startswith("GET /openapi/v3/apis/apps/v1?hash=0123ABCD") for r in stand_in_server.requests
    )

    result = stand_in_server.kubectl("explain", "deployments.spec.template.spec.containers")
    assert result.returncode == 0, result.stderr
    assert "FIELD: containers <[]Container>" in result.stdout
    assert "The containers of the pod." in result.stdout
    assert (
        "  name\t<string> -required-\n    The container's name, unique in the pod." in result.stdout
    )
    assert "  limits\t<map[string]Quantity>" in result.stdout

    result = stand_in_server.kubectl("explain", "deploy.spec.strategy.rollingUpdate")
    assert result.returncode == 0, result.stderr
    assert "  maxSurge\t<IntOrString>\n    Pods allowed above the desired count." in result.stdout


@needs_kubectl
def test_kubectl_apply_reaches_the_server(real_server: FakeServer, tmp_path: Path) -> None:
    """With fieldValidation on PATCH, kubectl validates server-side instead of failing offline."""
    manifest = tmp_path / "cm.json"
    manifest.write_text(
        json.dumps(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "default"},
            }
        )
    )
    result = real_server.kubectl("apply", "-f", str(manifest))
    # The fake server has no objects: the GET of the live object is a 404, then kubectl POSTs
    # (also 404 here). What matters is that it got past OpenAPI validation to the request.
    assert "failed to download openapi" not in result.stderr
    assert "error validating" not in result.stderr
    assert any(
        r.startswith("POST /apis/apps/v1/namespaces/default/deployments")
        for r in real_server.requests
    ), real_server.requests
    assert any("fieldValidation=Strict" in r for r in real_server.requests if r.startswith("POST"))


@needs_kubectl
@needs_models
def test_kubectl_client_side_apply_uses_our_patch_metadata(tmp_path: Path) -> None:
    """Client-side apply builds a strategic merge patch from our schemas' merge keys."""
    path = "/apis/apps/v1/namespaces/default/deployments/web"

    def deployment(containers: list[dict[str, str]]) -> dict[str, Any]:
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": containers},
                },
            },
        }

    old = deployment([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}])
    live = json.loads(json.dumps(old))
    live["metadata"]["resourceVersion"] = "7"
    live["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(old)
    }
    manifest = tmp_path / "web.json"
    manifest.write_text(json.dumps(deployment([{"name": "a", "image": "a:2"}])))
    requests: list[str] = []
    patches: list[tuple[str, Any]] = []
    app = _app(
        openapi_v3_document,
        openapi_v3_index(),
        requests,
        objects={path: live},
        patches=patches,
    )
    with FakeServer(app, requests, tmp_path) as server:
        result = server.kubectl("apply", "-f", str(manifest))
    assert result.returncode == 0, result.stderr
    [(content_type, patch)] = patches
    assert content_type == "application/strategic-merge-patch+json"
    pod_spec = patch["spec"]["template"]["spec"]
    # containers merge by name: "a" is updated in place and "b" deleted by key, rather than the
    # whole list being replaced as it would be for an atomic list.
    assert pod_spec["$setElementOrder/containers"] == [{"name": "a"}]
    assert {"name": "a", "image": "a:2"} in pod_spec["containers"]
    assert {"$patch": "delete", "name": "b"} in pod_spec["containers"]
    assert any("fieldValidation=Strict" in r for r in requests if r.startswith("PATCH"))


@needs_kubectl
@needs_models
def test_kubectl_explain_real_models(real_server: FakeServer) -> None:
    """kubectl explain prints the field and type descriptions our models carry."""

    def schemas(path: str) -> dict[str, Any]:
        served = openapi_v3_document(path)
        assert served is not None
        found: dict[str, Any] = orjson.loads(served[0])["components"]["schemas"]
        return found

    def flat(text: str) -> str:
        return " ".join(text.split())  # kubectl wraps descriptions at 76-80 columns

    def check(out: str, field: dict[str, Any], target: dict[str, Any]) -> int:
        """Assert the field's and its type's descriptions are printed; count those present."""
        shown = 0
        for description in (field.get("description"), target.get("description")):
            if description:
                assert flat(description) in flat(out)
                shown += 1
        for name, prop in target["properties"].items():
            assert f"  {name}\t<" in out
            if prop.get("description"):
                assert flat(prop["description"]) in flat(out)
            else:
                assert f"  {name}\t<" in out and "<no description>" in out
        return shown

    apps = schemas("apis/apps/v1")
    result = real_server.kubectl("explain", "deployment.spec.strategy")
    assert result.returncode == 0, result.stderr
    assert "GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n" in result.stdout
    assert "FIELD: strategy <DeploymentStrategy>" in result.stdout
    check(
        result.stdout,
        apps["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"],
        apps["io.k8s.api.apps.v1.DeploymentStrategy"],
    )

    core = schemas("api/v1")
    result = real_server.kubectl("explain", "pods.spec.containers")
    assert result.returncode == 0, result.stderr
    assert "KIND:       Pod\nVERSION:    v1\n" in result.stdout
    assert "FIELD: containers <[]Container>" in result.stdout
    shown = check(
        result.stdout,
        core["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"],
        core["io.k8s.api.core.v1.Container"],
    )
    # The core models are documented: explain is not just a list of field names.
    assert shown == 2
    assert "  name\t<string> -required-" in result.stdout
