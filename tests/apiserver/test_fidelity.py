"""What outside clients compare with Kubernetes, against the in-process API server (no
controllers, so nothing writes status behind the test's back).

Covers: a fresh object's zero status as the official Python client reads it (Deployment
``{}``, Service ``{"loadBalancer": {}}``, the counters of ReplicaSets, StatefulSets,
DaemonSets, PodDisruptionBudgets and HorizontalPodAutoscalers); ``generateName`` retrying a
taken name through the Python client; Status error bodies byte for byte (HTTP, the Python
client's ``ApiException.body`` and a refused WebSocket upgrade); and a sweep of wrongly typed
values over several kinds and verbs that finds no pydantic wording in any answer. kubectl's
side (strict decoding, ``scale``'s managedFields, an oversize ConfigMap) is in
tests/integration/test_kubectl_fidelity.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import websockets
from kubernetes import client
from kubernetes.client import ApiClient
from kubernetes.client.rest import ApiException

from skiff.apiserver import objects
from skiff.apiserver.server import ApiServer
from skiff.testing.apiserver import ADMIN_TOKEN, server_url

NS = "default"
PYDANTIC_PHRASES = ("Input should", "valid dictionary", "pydantic", "type=", "valid integer")


@pytest.fixture
async def pyclient(apiserver: ApiServer) -> AsyncIterator[ApiClient]:
    config = client.Configuration(host=server_url(apiserver))
    config.api_key = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    api_client = ApiClient(config)
    try:
        yield api_client
    finally:
        api_client.close()
        api_client.rest_client.pool_manager.clear()


async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A blocking Python-client call, off the event loop the server runs on."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def _template(app: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


def _workload(kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": name}}, "template": _template(name)}
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


# ---------------------------------------------------------------- zero status


async def test_fresh_objects_read_with_their_zero_status(pyclient: ApiClient) -> None:
    apps = client.AppsV1Api(pyclient)
    await call(apps.create_namespaced_deployment, NS, _workload("Deployment", "web"))
    read = await call(apps.read_namespaced_deployment, "web", NS)
    # kr8s' ready() and the client's own users read these without a status check
    assert read.status is not None and read.status.replicas is None
    raw = await call(apps.read_namespaced_deployment, "web", NS, _preload_content=False)
    assert json.loads(raw.data)["status"] == {}

    await call(apps.create_namespaced_replica_set, NS, _workload("ReplicaSet", "rs"))
    rs = await call(apps.read_namespaced_replica_set, "rs", NS)
    assert rs.status.replicas == 0 and rs.status.ready_replicas is None
    await call(apps.create_namespaced_stateful_set, NS, _workload("StatefulSet", "sts"))
    sts = await call(apps.read_namespaced_stateful_set, "sts", NS)
    assert (sts.status.replicas, sts.status.available_replicas) == (0, 0)
    await call(apps.create_namespaced_daemon_set, NS, _workload("DaemonSet", "ds"))
    ds = await call(apps.read_namespaced_daemon_set, "ds", NS)
    assert (ds.status.desired_number_scheduled, ds.status.number_ready) == (0, 0)

    core = client.CoreV1Api(pyclient)
    svc = {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}}
    await call(core.create_namespaced_service, NS, svc)
    raw = await call(core.read_namespaced_service, "svc", NS, _preload_content=False)
    assert json.loads(raw.data)["status"] == {"loadBalancer": {}}
    assert (
        await call(core.read_namespaced_service, "svc", NS)
    ).status.load_balancer.ingress is None

    policy = client.PolicyV1Api(pyclient)
    pdb = {"metadata": {"name": "pdb"}, "spec": {"minAvailable": 1, "selector": {}}}
    await call(policy.create_namespaced_pod_disruption_budget, NS, pdb)
    got = await call(policy.read_namespaced_pod_disruption_budget, "pdb", NS)
    assert (got.status.disruptions_allowed, got.status.expected_pods) == (0, 0)

    hpa = {
        "metadata": {"name": "hpa"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "maxReplicas": 3,
        },
    }
    v1 = client.AutoscalingV1Api(pyclient)
    await call(v1.create_namespaced_horizontal_pod_autoscaler, NS, hpa)
    got = await call(v1.read_namespaced_horizontal_pod_autoscaler, "hpa", NS)
    assert (got.status.current_replicas, got.status.desired_replicas) == (0, 0)
    v2 = client.AutoscalingV2Api(pyclient)
    assert (await call(v2.read_namespaced_horizontal_pod_autoscaler, "hpa", NS)).status

    batch = client.BatchV1Api(pyclient)
    job = {"metadata": {"name": "job"}, "spec": {"template": _template("job")}}
    job["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    created = await call(batch.create_namespaced_job, NS, job)
    assert created.status is not None and created.status.active is None


# ---------------------------------------------------------------- generateName


async def test_generate_name_retries_a_taken_name_for_the_python_client(
    pyclient: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = client.CoreV1Api(pyclient)
    for taken in ("gen-aaaaa", "gen-bbbbb"):
        await call(core.create_namespaced_config_map, NS, {"metadata": {"name": taken}})
    picks = iter(["aaaaa", "bbbbb", "ccccc"])
    monkeypatch.setattr(objects, "generate_name", lambda base: base + next(picks))
    made = await call(core.create_namespaced_config_map, NS, {"metadata": {"generateName": "gen-"}})
    assert made.metadata.name == "gen-ccccc"


# ---------------------------------------------------------------- Status bodies


def _status(message: str, reason: str, code: int, details: str = "") -> bytes:
    """A Status as kube-apiserver writes it: its field order, compact, a trailing newline."""
    text = (
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        f'"message":{json.dumps(message)},"reason":"{reason}",'
        + (f'"details":{details},' if details else "")
        + f'"code":{code}}}\n'
    )
    return text.encode()


async def test_status_bodies_are_byte_for_byte_kubernetes(
    api: httpx.AsyncClient, pyclient: ApiClient
) -> None:
    cms = f"/api/v1/namespaces/{NS}/configmaps"
    r = await api.get(f"{cms}/nope")
    assert r.content == _status(
        'configmaps "nope" not found', "NotFound", 404, '{"name":"nope","kind":"configmaps"}'
    )
    await api.post(cms, json={"metadata": {"name": "one"}})
    r = await api.post(cms, json={"metadata": {"name": "one"}})
    assert r.content == _status(
        'configmaps "one" already exists',
        "AlreadyExists",
        409,
        '{"name":"one","kind":"configmaps"}',
    )
    r = await api.post(cms, json={"metadata": {"name": "Bad_Name"}})
    assert r.status_code == 422
    body = r.content
    assert body.startswith(b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure"')
    assert body.endswith(b',"code":422}\n')
    status = json.loads(body)
    order = ["kind", "apiVersion", "metadata", "status", "message", "reason", "details", "code"]
    assert list(status) == order
    assert list(status["details"]) == ["name", "kind", "causes"]
    assert list(status["details"]["causes"][0]) == ["reason", "message", "field"]
    r = await api.get("/apis/apps/v1/namespaces/default/deployments/x/scale")
    assert r.content == _status(
        'deployments.apps "x" not found',
        "NotFound",
        404,
        '{"name":"x","group":"apps","kind":"deployments"}',
    )
    # the Python client's e2e suite compares ApiException.body as text
    with pytest.raises(ApiException) as exc:
        await call(client.CoreV1Api(pyclient).read_namespaced_config_map, "nope", NS)
    assert (
        exc.value.body
        == _status(
            'configmaps "nope" not found', "NotFound", 404, '{"name":"nope","kind":"configmaps"}'
        ).decode()
    )


async def test_a_refused_websocket_upgrade_answers_a_kubernetes_status(
    apiserver: ApiServer,
) -> None:
    url = f"ws://127.0.0.1:{apiserver.bound_port}/api/v1/namespaces/{NS}/configmaps"
    with pytest.raises(websockets.InvalidStatus) as exc:
        async with websockets.connect(
            url, additional_headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        ):
            pass
    response = exc.value.response
    assert response.status_code == 400
    assert response.body.startswith(
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
    )
    assert response.body.endswith(b'"reason":"BadRequest","code":400}\n')


# ---------------------------------------------------------------- no pydantic wording

_WRONG: list[tuple[str, dict[str, Any], str]] = [
    (
        "/api/v1/namespaces/default/configmaps",
        {"metadata": {"name": "a", "labels": "x"}},
        "json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type "
        "map[string]string",
    ),
    (
        "/api/v1/namespaces/default/configmaps",
        {"metadata": {"name": "a"}, "data": {"k": 1}},
        "json: cannot unmarshal number into Go struct field ConfigMap.data of type string",
    ),
    (
        "/apis/apps/v1/namespaces/default/deployments",
        {
            **_workload("Deployment", "d"),
            "spec": {**_workload("Deployment", "d")["spec"], "replicas": "3"},
        },
        "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type "
        "int32",
    ),
    (
        "/apis/apps/v1/namespaces/default/deployments",
        {**_workload("Deployment", "d"), "spec": {"selector": "app=d", "template": _template("d")}},
        "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.selector of type "
        "v1.LabelSelector",
    ),
    (
        "/api/v1/namespaces/default/pods",
        {"metadata": {"name": "p"}, "spec": {"containers": {"name": "c"}}},
        "json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type "
        "[]v1.Container",
    ),
    (
        "/api/v1/namespaces/default/pods",
        {
            "metadata": {"name": "p"},
            "spec": {
                "containers": [{"name": "c", "image": "i", "ports": [{"containerPort": "80"}]}]
            },
        },
        "json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports."
        "containerPort of type int32",
    ),
    (
        "/api/v1/namespaces/default/pods",
        {
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i"}], "hostNetwork": "yes"},
        },
        "json: cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool",
    ),
    (
        "/api/v1/namespaces/default/services",
        {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80, "targetPort": [8080]}]}},
        "json: cannot unmarshal array into Go struct field ServicePort.spec.ports.targetPort of "
        "type intstr.IntOrString",
    ),
    (
        "/apis/batch/v1/namespaces/default/jobs",
        {"metadata": {"name": "j"}, "spec": {"template": _template("j"), "backoffLimit": 1.5}},
        "json: cannot unmarshal number 1.5 into Go struct field JobSpec.spec.backoffLimit of type "
        "int32",
    ),
    (
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
        {"metadata": {"name": "b"}, "spec": {"selector": {"matchLabels": ["a"]}}},
        "json: cannot unmarshal array into Go struct field LabelSelector.spec.selector.matchLabels "
        "of type map[string]string",
    ),
]


@pytest.mark.parametrize(("path", "body", "words"), _WRONG)
async def test_wrong_types_are_worded_as_kubernetes_decoding_errors(
    api: httpx.AsyncClient, path: str, body: dict[str, Any], words: str
) -> None:
    r = await api.post(path, json=body)
    assert r.status_code == 400, r.text
    message = r.json()["message"]
    assert message.endswith(": " + words), message
    assert " cannot be handled as a " in message
    assert not [p for p in PYDANTIC_PHRASES if p in r.text]


async def test_no_pydantic_wording_on_any_verb(api: httpx.AsyncClient) -> None:
    """Updates, patches of each type, apply, /status and /scale writes with wrongly typed values:
    a PUT, an apply and a subresource body are 400 "cannot be handled as a ..."; a patch whose
    result does not decode is 422 on field ``patch``, as Kubernetes' patch handler answers."""
    deployments = "/apis/apps/v1/namespaces/default/deployments"
    r = await api.post(deployments, json=_workload("Deployment", "web"))
    assert r.status_code == 201, r.text
    current = r.json()

    async def patch(content_type: str, body: Any) -> httpx.Response:
        return await api.patch(
            f"{deployments}/web?fieldManager=t",
            content=json.dumps(body),
            headers={"Content-Type": content_type},
        )

    bad_requests = []
    replaced = json.loads(json.dumps(current))
    replaced["spec"]["replicas"] = "two"
    bad_requests.append(await api.put(f"{deployments}/web", json=replaced))
    applied = {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": "two"}}
    bad_requests.append(await patch("application/apply-patch+yaml", applied))
    status = json.loads(json.dumps(current))
    status["status"] = {"replicas": "two"}
    bad_requests.append(await api.put(f"{deployments}/web/status", json=status))
    bad_requests.append(
        await api.put(f"{deployments}/web/scale", json={"spec": {"replicas": "two"}})
    )
    for r in bad_requests:
        assert r.status_code == 400, (r.request.method, r.request.url, r.text)
        assert not [p for p in PYDANTIC_PHRASES if p in r.text], r.text
        assert "cannot unmarshal" in r.json()["message"], r.text

    unprocessable = [
        await patch("application/merge-patch+json", {"spec": {"replicas": "two"}}),
        await patch(
            "application/json-patch+json", [{"op": "add", "path": "/spec/paused", "value": "no"}]
        ),
        await patch(
            "application/strategic-merge-patch+json", {"spec": {"template": {"metadata": "x"}}}
        ),
    ]
    for r in unprocessable:
        assert r.status_code == 422, (r.request.method, r.request.url, r.text)
        assert not [p for p in PYDANTIC_PHRASES if p in r.text], r.text
        status = r.json()
        assert status["message"].startswith(' "" is invalid: patch: Invalid value: "'), r.text
        assert [c["field"] for c in status["details"]["causes"]] == ["patch"]
    # a JSON or merge patch names the patched object and the decoder's words
    assert (
        unprocessable[0]
        .json()["message"]
        .endswith(
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type "
            "int32"
        )
    )
    assert '\\"replicas\\":\\"two\\"' in unprocessable[0].json()["message"]
    # a strategic merge patch names the patch as Go prints it and the converter's words
    assert unprocessable[2].json()["message"] == (
        ' "" is invalid: patch: Invalid value: "map[spec:map[template:map[metadata:x]]]": '
        "cannot restore struct from: string"
    )


async def test_a_strategic_merge_patch_of_a_map_with_a_string(api: httpx.AsyncClient) -> None:
    """What kubectl's client-side apply and ``kubectl patch`` send: the issue's example."""
    cms = "/api/v1/namespaces/default/configmaps"
    await api.post(cms, json={"metadata": {"name": "smp"}})
    r = await api.patch(
        f"{cms}/smp",
        content=json.dumps({"metadata": {"labels": "x"}}),
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert r.content == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        b'"message":" \\"\\" is invalid: patch: Invalid value: \\"map[metadata:map[labels:x]]\\": '
        b'cannot restore map from string","reason":"Invalid","details":{"causes":[{"reason":'
        b'"FieldValueInvalid","message":"Invalid value: \\"map[metadata:map[labels:x]]\\": '
        b'cannot restore map from string","field":"patch"}]},"code":422}\n'
    )


async def test_strict_field_validation_names_every_unknown_field(api: httpx.AsyncClient) -> None:
    # in the order they stand in the document, as Go's decoder meets them
    body = _workload("Deployment", "strict")
    body["spec"]["bogus"] = 1
    body["spec"]["template"]["spec"]["containers"][0]["imagee"] = "x"
    body["extra"] = True
    r = await api.post(
        "/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict", json=body
    )
    assert r.status_code == 400 and r.json()["reason"] == "BadRequest"
    assert r.json()["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
        'unknown field "spec.template.spec.containers[0].imagee", unknown field "spec.bogus", '
        'unknown field "extra"'
    )


async def test_metadata_of_the_wrong_type_on_every_verb(api: httpx.AsyncClient) -> None:
    cms = "/api/v1/namespaces/default/configmaps"
    assert (await api.post(cms, json={"metadata": {"name": "m"}})).status_code == 201
    words = (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal '
        "string into Go struct field ConfigMap.metadata of type v1.ObjectMeta"
    )
    answers = [
        await api.post(cms, json={"metadata": "m"}),
        await api.put(f"{cms}/m", json={"metadata": "m"}),
    ]
    for content_type, patch in (
        ("application/merge-patch+json", {"metadata": "m"}),
        ("application/json-patch+json", [{"op": "replace", "path": "/metadata", "value": "m"}]),
        (
            "application/apply-patch+yaml",
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": "m"},
        ),
    ):
        answers.append(
            await api.patch(
                f"{cms}/m?fieldManager=t",
                content=json.dumps(patch),
                headers={"Content-Type": content_type},
            )
        )
    # a PUT, a POST and an apply are refused as they decode; a patch's result as a patch's
    for r in answers[:2] + answers[4:]:
        assert r.status_code == 400, (r.request.method, r.request.url, r.text)
        assert r.json()["message"] == words, r.text
    for r in answers[2:4]:
        assert r.status_code == 422, (r.request.method, r.request.url, r.text)
        assert r.json()["message"].endswith(words.partition(": ")[2]), r.text


async def test_a_success_status_has_kubernetes_field_order(api: httpx.AsyncClient) -> None:
    deployments = "/apis/apps/v1/namespaces/default/deployments"
    uid = (await api.post(deployments, json=_workload("Deployment", "gone"))).json()["metadata"][
        "uid"
    ]
    r = await api.delete(f"{deployments}/gone")
    assert r.status_code == 200
    assert r.content.startswith(
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":'
        b'{"name":"gone","group":"apps","kind":"deployments","uid":"' + uid.encode() + b'"}}'
    )
