"""REST semantics of the API server over a real loopback HTTP connection.

Covers: authentication, Status errors for bad input (400/404/409/413/415/422), optimistic
concurrency, generation, generateName, dryRun, list paging and selectors, watch semantics
(synthetic ADDED, resume, selectors, bookmarks, timeout, 410), graceful pod deletion, binding,
eviction with PodDisruptionBudgets, namespace termination, node pod CIDRs, HPA v1/v2 conversion,
Table responses. Excludes kubectl itself (tests/integration).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from skiff.apiserver.server import ApiServer

CM = "/api/v1/namespaces/default/configmaps"
PODS = "/api/v1/namespaces/default/pods"


def cm(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def pod(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }


async def budget_current(api: httpx.AsyncClient, name: str) -> None:
    """Wait until the disruption controller has computed the budget's status for its current
    generation (eviction answers 429 until then)."""
    for _ in range(500):
        got = (
            await api.get(f"/apis/policy/v1/namespaces/default/poddisruptionbudgets/{name}")
        ).json()
        if (got.get("status") or {}).get("observedGeneration") == got["metadata"]["generation"]:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"budget {name} status never caught up: {got}")


async def test_health_needs_no_auth_but_api_does(apiserver: ApiServer) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{apiserver.bound_port}") as anon:
        assert (await anon.get("/readyz")).status_code == 200
        assert (await anon.get("/livez")).text == "ok"
        r = await anon.get("/api/v1/namespaces")
        assert r.status_code == 401
        assert r.json()["reason"] == "Unauthorized"
        r = await anon.get("/version", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401


async def test_version_and_discovery(api: httpx.AsyncClient) -> None:
    v = (await api.get("/version")).json()
    assert (v["major"], v["minor"]) == ("1", "32")
    assert (await api.get("/version/")).status_code == 200
    legacy = (await api.get("/apis", headers={"Accept": "application/json"})).json()
    assert legacy["kind"] == "APIGroupList"
    agg = await api.get(
        "/apis",
        headers={
            "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
            "application/json"
        },
    )
    assert "as=APIGroupDiscoveryList" in agg.headers["content-type"]
    assert agg.json()["apiVersion"] == "apidiscovery.k8s.io/v2"
    old = await api.get(
        "/apis",
        headers={
            "Accept": "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
        },
    )
    assert old.json()["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
    rl = (await api.get("/api/v1")).json()
    names = {r["name"] for r in rl["resources"]}
    assert {"pods", "pods/status", "pods/binding", "pods/eviction", "namespaces/finalize"} <= names


@pytest.mark.parametrize(
    ("body", "content_type", "code", "reason", "fragment"),
    [
        (b"{not json", "application/json", 400, "BadRequest", "error decoding JSON"),
        (b"a: [unclosed", "application/yaml", 400, "BadRequest", "error decoding YAML"),
        (b"<xml/>", "application/xml", 415, "UnsupportedMediaType", "unknown format"),
        (
            json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}).encode(),
            "application/json",
            400,
            "BadRequest",
            "kind in the data (Secret)",
        ),
        (
            json.dumps(
                {"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
            ).encode(),
            "application/json",
            400,
            "BadRequest",
            "API version in the data (apps/v1)",
        ),
        (
            json.dumps(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}}
            ).encode(),
            "application/json",
            422,
            "Invalid",
            "metadata.name",
        ),
        (
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "x"},
                    "data": {"a": 1},
                }
            ).encode(),
            "application/json",
            400,
            "BadRequest",
            'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal '
            "number into Go struct field ConfigMap.data of type string",
        ),
    ],
    ids=[
        "malformed-json",
        "malformed-yaml",
        "media-type",
        "wrong-kind",
        "wrong-apiversion",
        "bad-name",
        "wrong-type",
    ],
)
async def test_bad_input_gets_status(
    api: httpx.AsyncClient, body: bytes, content_type: str, code: int, reason: str, fragment: str
) -> None:
    r = await api.post(CM, content=body, headers={"Content-Type": content_type})
    assert r.status_code == code, r.text
    status = r.json()
    assert status["kind"] == "Status" and status["reason"] == reason and status["code"] == code
    assert fragment in status["message"]
    listed = (await api.get(CM)).json()["items"]
    assert listed == []  # nothing was written


async def test_body_too_large_is_413(api: httpx.AsyncClient) -> None:
    big = cm("big", blob="x" * (3 * 1024 * 1024 + 10))
    r = await api.post(CM, json=big)
    assert r.status_code == 413
    assert r.json()["reason"] == "RequestEntityTooLarge"


async def test_unknown_resource_and_paths_are_404(api: httpx.AsyncClient) -> None:
    for path in ("/api/v1/namespaces/default/widgets", "/apis/nope.io/v1/things", "/nothing"):
        r = await api.get(path)
        assert r.status_code == 404, path
        assert r.json()["kind"] == "Status"


async def test_field_validation_strict_warn_ignore(api: httpx.AsyncClient) -> None:
    body = cm("fv", a="b")
    body["extra"] = {"x": 1}
    r = await api.post(CM + "?fieldValidation=Strict", json=body)
    assert r.status_code == 400 and r.json()["reason"] == "BadRequest"
    assert r.json()["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
        'unknown field "extra"'
    )
    r = await api.post(CM + "?fieldValidation=Warn", json=body)
    assert r.status_code == 201
    assert 'unknown field \\"extra\\"' in r.headers["warning"]
    assert "extra" not in r.json()
    body["metadata"]["name"] = "fv2"
    r = await api.post(CM + "?fieldValidation=Ignore", json=body)
    assert r.status_code == 201 and "warning" not in r.headers


async def test_create_get_update_conflict_delete(api: httpx.AsyncClient) -> None:
    r = await api.post(CM, json=cm("a", k="1"))
    assert r.status_code == 201
    created = r.json()
    assert created["metadata"]["uid"] and created["metadata"]["resourceVersion"]
    r = await api.post(CM, json=cm("a", k="1"))
    assert r.status_code == 409 and r.json()["reason"] == "AlreadyExists"
    assert r.json()["message"] == 'configmaps "a" already exists'
    got = (await api.get(f"{CM}/a")).json()
    got["data"]["k"] = "2"
    r = await api.put(f"{CM}/a", json=got)
    assert r.status_code == 200
    assert int(r.json()["metadata"]["resourceVersion"]) > int(got["metadata"]["resourceVersion"])
    r = await api.put(f"{CM}/a", json=got)  # stale resourceVersion
    assert r.status_code == 409 and r.json()["reason"] == "Conflict"
    assert "the object has been modified" in r.json()["message"]
    r = await api.delete(f"{CM}/a")
    assert r.status_code == 200
    r = await api.get(f"{CM}/a")
    assert r.status_code == 404 and r.json()["message"] == 'configmaps "a" not found'


async def test_generation_bumps_on_spec_changes_only(api: httpx.AsyncClient) -> None:
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "g"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    path = "/apis/apps/v1/namespaces/default/deployments"
    r = await api.post(path, json=deploy)
    assert r.status_code == 201, r.text
    assert r.json()["metadata"]["generation"] == 1
    merge = {"Content-Type": "application/merge-patch+json"}
    r = await api.patch(f"{path}/g", content=b'{"metadata":{"labels":{"x":"y"}}}', headers=merge)
    assert r.json()["metadata"]["generation"] == 1
    r = await api.patch(f"{path}/g", content=b'{"spec":{"replicas":3}}', headers=merge)
    assert r.json()["metadata"]["generation"] == 2
    r = await api.patch(f"{path}/g/status", content=b'{"status":{"replicas":3}}', headers=merge)
    assert r.json()["metadata"]["generation"] == 2 and r.json()["status"]["replicas"] == 3
    # status is ignored on the main resource
    r = await api.patch(f"{path}/g", content=b'{"status":{"replicas":7}}', headers=merge)
    assert r.json()["status"]["replicas"] == 3
    # the selector of an apps/v1 workload is immutable
    r = await api.patch(
        f"{path}/g", content=b'{"spec":{"selector":{"matchLabels":{"a":"c"}}}}', headers=merge
    )
    assert r.status_code == 422 and "spec.selector" in r.text


async def test_generate_name_and_dry_run(api: httpx.AsyncClient) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}}
    r = await api.post(CM, json=body)
    assert r.status_code == 201
    name = r.json()["metadata"]["name"]
    assert name.startswith("gen-") and len(name) == len("gen-") + 5
    r = await api.post(CM + "?dryRun=All", json=cm("dry"))
    assert r.status_code == 201
    assert (await api.get(f"{CM}/dry")).status_code == 404
    r = await api.delete(f"{CM}/{name}?dryRun=All")
    assert r.status_code == 200
    assert (await api.get(f"{CM}/{name}")).status_code == 200
    r = await api.post(CM + "?dryRun=Nope", json=cm("dry"))
    assert r.status_code == 400


async def test_list_paging_and_selectors(api: httpx.AsyncClient) -> None:
    for i in range(7):
        body = cm(f"p{i}")
        body["metadata"]["labels"] = {"n": str(i), "parity": "even" if i % 2 == 0 else "odd"}
        assert (await api.post(CM, json=body)).status_code == 201
    seen: list[str] = []
    token = ""
    while True:
        r = (
            await api.get(CM, params={"limit": 3, **({"continue": token} if token else {})})
        ).json()
        seen += [i["metadata"]["name"] for i in r["items"]]
        token = r["metadata"].get("continue", "")
        if not token:
            break
    assert seen == [f"p{i}" for i in range(7)]
    r = (await api.get(CM, params={"labelSelector": "parity=even,n notin (0)"})).json()
    assert [i["metadata"]["name"] for i in r["items"]] == ["p2", "p4", "p6"]
    r = (await api.get(CM, params={"fieldSelector": "metadata.name!=p1,metadata.name!=p2"})).json()
    assert len(r["items"]) == 5
    r = await api.get(CM, params={"labelSelector": "a in (b"})
    assert r.status_code == 400
    r = await api.get(CM, params={"fieldSelector": "spec.nodeName=x"})
    assert r.status_code == 400 and "field label not supported" in r.json()["message"]
    r = await api.get(CM, params={"continue": "garbage!"})
    assert r.status_code == 400


async def _watch_lines(
    api: httpx.AsyncClient, params: dict[str, Any], n: int, *, opened: asyncio.Event | None = None
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []

    async def read() -> None:
        async with api.stream("GET", CM, params={"watch": "true", **params}) as resp:
            assert resp.status_code == 200
            async for line in resp.aiter_lines():
                if line:
                    events.append(json.loads(line))
                    if opened is not None:
                        opened.set()
                if len(events) >= n:
                    return

    await asyncio.wait_for(read(), 10.0)
    return events


async def test_watch_synthetic_added_then_live(api: httpx.AsyncClient) -> None:
    await api.post(CM, json=cm("w1"))

    opened = asyncio.Event()

    async def writer() -> None:
        await opened.wait()  # the first (synthetic) event arrived: the watch is open
        await api.post(CM, json=cm("w2"))
        await api.patch(
            f"{CM}/w2",
            content=b'{"data":{"x":"y"}}',
            headers={"Content-Type": "application/merge-patch+json"},
        )
        await api.delete(f"{CM}/w2")

    task = asyncio.create_task(writer())
    events = await _watch_lines(api, {}, 4, opened=opened)
    await task
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "w1"),
        ("ADDED", "w2"),
        ("MODIFIED", "w2"),
        ("DELETED", "w2"),
    ]
    assert events[2]["object"]["data"] == {"x": "y"}
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events[1:]]
    assert rvs == sorted(rvs)


async def test_watch_resume_from_resource_version(api: httpx.AsyncClient) -> None:
    r1 = (await api.post(CM, json=cm("r1"))).json()
    await api.post(CM, json=cm("r2"))
    await api.post(CM, json=cm("r3"))
    events = await _watch_lines(api, {"resourceVersion": r1["metadata"]["resourceVersion"]}, 2)
    assert [e["object"]["metadata"]["name"] for e in events] == ["r2", "r3"]
    assert all(e["type"] == "ADDED" for e in events)


async def test_watch_label_selector_transitions(api: httpx.AsyncClient) -> None:
    start = (await api.get(CM)).json()["metadata"]["resourceVersion"]
    body = cm("sel")
    body["metadata"]["labels"] = {"app": "x"}
    await api.post(CM, json=body)
    merge = {"Content-Type": "application/merge-patch+json"}
    await api.patch(f"{CM}/sel", content=b'{"metadata":{"labels":{"app":"y"}}}', headers=merge)
    await api.patch(f"{CM}/sel", content=b'{"metadata":{"labels":{"app":"x"}}}', headers=merge)
    events = await _watch_lines(api, {"resourceVersion": start, "labelSelector": "app=x"}, 3)
    assert [e["type"] for e in events] == ["ADDED", "DELETED", "ADDED"]


async def test_watch_bookmarks_and_timeout(api: httpx.AsyncClient) -> None:
    rv = (await api.get(CM)).json()["metadata"]["resourceVersion"]
    lines: list[dict[str, Any]] = []
    async with api.stream(
        "GET",
        CM,
        params={
            "watch": "1",
            "resourceVersion": rv,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": "2",
        },
    ) as resp:
        async for line in resp.aiter_lines():
            if line:
                lines.append(json.loads(line))
    # the stream ended by itself after timeoutSeconds, carrying at least one bookmark
    assert lines and all(e["type"] == "BOOKMARK" for e in lines)
    assert lines[0]["object"]["kind"] == "ConfigMap"
    assert lines[0]["object"]["metadata"]["resourceVersion"] == rv


async def test_watch_too_old_gets_410(api: httpx.AsyncClient, apiserver: ApiServer) -> None:
    for i in range(260):  # more than the test server's window of 200 events
        await api.post(CM, json=cm(f"old{i}"))
    events = await _watch_lines(api, {"resourceVersion": "2"}, 1)
    assert events[0]["type"] == "ERROR"
    assert events[0]["object"]["code"] == 410 and events[0]["object"]["reason"] == "Expired"


async def test_graceful_pod_deletion_binding_and_force(api: httpx.AsyncClient) -> None:
    assert (await api.post(PODS, json=pod("unbound"))).status_code == 201
    r = await api.delete(f"{PODS}/unbound")
    assert r.status_code == 200
    assert (await api.get(f"{PODS}/unbound")).status_code == 404  # not bound: gone at once
    created = (await api.post(PODS, json=pod("bound"))).json()
    assert created["status"]["phase"] == "Pending"
    spec = created["spec"]
    assert spec["serviceAccountName"] == "default"
    assert {t["key"] for t in spec["tolerations"]} == {
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    }
    assert all(t["tolerationSeconds"] == 5 for t in spec["tolerations"])
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "bound"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "node-a"},
    }
    r = await api.post(f"{PODS}/bound/binding", json=binding)
    assert r.status_code == 201, r.text
    r = await api.post(f"{PODS}/bound/binding", json=binding)
    assert r.status_code == 409 and "already assigned" in r.json()["message"]
    r = await api.delete(f"{PODS}/bound")
    assert r.status_code == 202
    held = (await api.get(f"{PODS}/bound")).json()
    assert held["metadata"]["deletionTimestamp"]
    assert held["metadata"]["deletionGracePeriodSeconds"] == 30
    r = await api.request("DELETE", f"{PODS}/bound", json={"gracePeriodSeconds": 0})
    assert r.status_code == 200
    assert (await api.get(f"{PODS}/bound")).status_code == 404


@pytest.mark.usefixtures("controller_manager")
async def test_eviction_honours_pod_disruption_budget(api: httpx.AsyncClient) -> None:
    for name in ("e1", "e2"):
        assert (await api.post(PODS, json=pod(name, app="db"))).status_code == 201
        ready = {
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        }
        r = await api.patch(
            f"{PODS}/{name}/status",
            json=ready,
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert r.status_code == 200, r.text
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "db"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "db"}}},
    }
    r = await api.post("/apis/policy/v1/namespaces/default/poddisruptionbudgets", json=pdb)
    assert r.status_code == 201, r.text
    await budget_current(api, "db")
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "e1"}}
    r = await api.post(f"{PODS}/e1/eviction", json=eviction)
    assert r.status_code == 201, r.text
    eviction["metadata"]["name"] = "e2"
    r = await api.post(f"{PODS}/e2/eviction", json=eviction)
    assert r.status_code == 429
    assert r.json()["reason"] == "TooManyRequests"
    assert "disruption budget" in r.json()["message"]


@pytest.mark.usefixtures("controller_manager")
async def test_namespace_termination(api: httpx.AsyncClient) -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}}
    assert (await api.post("/api/v1/namespaces", json=ns)).status_code == 201
    path = "/api/v1/namespaces/doomed/configmaps"
    for _ in range(50):  # the default ServiceAccount appears shortly
        if (await api.get("/api/v1/namespaces/doomed/serviceaccounts/default")).status_code == 200:
            break
        await asyncio.sleep(0.05)
    assert (await api.post(path, json=cm("inside"))).status_code == 201
    r = await api.delete("/api/v1/namespaces/doomed")
    assert r.status_code == 202
    assert r.json()["status"]["phase"] == "Terminating"
    r = await api.post(path, json=cm("late"))
    assert r.status_code in (403, 404)
    for _ in range(100):
        if (await api.get("/api/v1/namespaces/doomed")).status_code == 404:
            break
        await asyncio.sleep(0.1)
    assert (await api.get("/api/v1/namespaces/doomed")).status_code == 404
    r = await api.post("/api/v1/namespaces/missing/configmaps", json=cm("x"))
    assert r.status_code == 404 and r.json()["message"] == 'namespaces "missing" not found'
    r = await api.delete("/api/v1/namespaces/kube-system")
    assert r.status_code == 403


async def test_node_pod_cidrs_are_allocated_uniquely(api: httpx.AsyncClient) -> None:
    async def make(name: str) -> dict[str, Any]:
        body = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}
        r = await api.post("/api/v1/nodes", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    nodes = await asyncio.gather(*(make(f"n{i}") for i in range(6)))
    cidrs = [n["spec"]["podCIDR"] for n in nodes]
    assert len(set(cidrs)) == 6
    assert all(c.startswith("10.42.") and c.endswith("/24") for c in cidrs)
    assert all(n["spec"]["podCIDRs"] == [n["spec"]["podCIDR"]] for n in nodes)


async def test_hpa_served_as_v1_and_v2(api: httpx.AsyncClient) -> None:
    hpa = {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "w"},
            "minReplicas": 1,
            "maxReplicas": 5,
            "targetCPUUtilizationPercentage": 60,
        },
    }
    r = await api.post("/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers", json=hpa)
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["targetCPUUtilizationPercentage"] == 60
    v2 = (
        await api.get("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/h")
    ).json()
    assert v2["apiVersion"] == "autoscaling/v2"
    metric = v2["spec"]["metrics"][0]
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 60}


async def test_table_response(api: httpx.AsyncClient) -> None:
    await api.post(CM, json=cm("t1", a="1", b="2"))
    accept = (
        "application/json;as=Table;v=v1;g=meta.k8s.io,"
        "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
    )
    r = await api.get(CM, headers={"Accept": accept})
    table = r.json()
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
    row = table["rows"][0]
    assert row["cells"][:2] == ["t1", 2]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    r = await api.get(CM, params={"includeObject": "Object"}, headers={"Accept": accept})
    assert r.json()["rows"][0]["object"]["data"] == {"a": "1", "b": "2"}


async def test_services_get_cluster_ips_and_node_ports(api: httpx.AsyncClient) -> None:
    path = "/api/v1/namespaces/default/services"
    kube = (await api.get(f"{path}/kubernetes")).json()
    assert kube["spec"]["clusterIP"] == "10.43.0.1"

    def svc(name: str, **spec: Any) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {"ports": [{"port": 80}], **spec},
        }

    a = (await api.post(path, json=svc("a"))).json()
    b = (await api.post(path, json=svc("b", type="NodePort"))).json()
    ips = {a["spec"]["clusterIP"], b["spec"]["clusterIP"]}
    assert len(ips) == 2 and all(ip.startswith("10.43.") and ip != "10.43.0.1" for ip in ips)
    assert a["spec"]["clusterIPs"] == [a["spec"]["clusterIP"]]
    node_port = b["spec"]["ports"][0]["nodePort"]
    assert 30000 <= node_port <= 32767
    # an update without the allocated values keeps them; changing the ClusterIP is refused
    r = await api.put(f"{path}/b", json={**svc("b", type="NodePort"), "metadata": {"name": "b"}})
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["clusterIP"] == b["spec"]["clusterIP"]
    assert r.json()["spec"]["ports"][0]["nodePort"] == node_port
    r = await api.patch(
        f"{path}/b",
        json={"spec": {"clusterIP": "10.43.9.9"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 422
    # a taken ClusterIP or NodePort is refused; headless and ExternalName get none
    r = await api.post(path, json=svc("c", clusterIP=a["spec"]["clusterIP"]))
    assert r.status_code == 422 and "already allocated" in r.json()["message"]
    r = await api.post(
        path, json=svc("d", type="NodePort", ports=[{"port": 80, "nodePort": node_port}])
    )
    assert r.status_code == 422
    r = await api.post(path, json=svc("e", clusterIP="192.168.1.1"))
    assert r.status_code == 422 and "valid range" in r.json()["message"]
    headless = (await api.post(path, json=svc("h", clusterIP="None"))).json()
    assert headless["spec"]["clusterIP"] == "None"
    ext = await api.post(
        path,
        json={
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "x"},
            "spec": {"type": "ExternalName", "externalName": "db.example"},
        },
    )
    assert ext.status_code == 201, ext.text
    assert "clusterIP" not in ext.json()["spec"] or not ext.json()["spec"]["clusterIP"]
    # dry runs allocate nothing
    dry = (await api.post(path + "?dryRun=All", json=svc("dry"))).json()
    assert not dry["spec"].get("clusterIP")


async def test_delete_collection_with_selector(api: httpx.AsyncClient) -> None:
    for i in range(4):
        body = cm(f"dc{i}")
        body["metadata"]["labels"] = {"batch": "a" if i < 3 else "b"}
        await api.post(CM, json=body)
    r = await api.delete(CM, params={"labelSelector": "batch=a"})
    assert r.status_code == 200, r.text
    assert sorted(i["metadata"]["name"] for i in r.json()["items"]) == ["dc0", "dc1", "dc2"]
    left = (await api.get(CM)).json()["items"]
    assert [i["metadata"]["name"] for i in left] == ["dc3"]


async def test_list_at_exact_revision_and_after_compaction(
    api: httpx.AsyncClient, apiserver: ApiServer
) -> None:
    first = (await api.post(CM, json=cm("v1", n="1"))).json()
    rv1 = first["metadata"]["resourceVersion"]
    await api.patch(
        f"{CM}/v1",
        content=b'{"data":{"n":"2"}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    await api.post(CM, json=cm("v2"))
    old = (
        await api.get(CM, params={"resourceVersion": rv1, "resourceVersionMatch": "Exact"})
    ).json()
    assert [i["metadata"]["name"] for i in old["items"]] == ["v1"]
    assert old["items"][0]["data"] == {"n": "1"}
    assert old["metadata"]["resourceVersion"] == rv1
    # "not older than" reads the newest state
    newer = (await api.get(CM, params={"resourceVersion": rv1})).json()
    assert len(newer["items"]) == 2
    # once history is compacted, an exact read of it is 410 Expired
    await apiserver.store.compact(apiserver.store.current_revision())
    r = await api.get(CM, params={"resourceVersion": rv1, "resourceVersionMatch": "Exact"})
    assert r.status_code == 410 and r.json()["reason"] == "Expired"


async def test_continue_token_expires_with_compaction(
    api: httpx.AsyncClient, apiserver: ApiServer
) -> None:
    for i in range(5):
        await api.post(CM, json=cm(f"c{i}"))
    page = (await api.get(CM, params={"limit": 2})).json()
    token = page["metadata"]["continue"]
    assert page["metadata"]["remainingItemCount"] == 3
    await api.post(CM, json=cm("c9"))
    await apiserver.store.compact(apiserver.store.current_revision())
    r = await api.get(CM, params={"limit": 2, "continue": token})
    assert r.status_code == 410 and r.json()["reason"] == "Expired"


@pytest.mark.usefixtures("controller_manager")
async def test_namespace_finalize_subresource(api: httpx.AsyncClient) -> None:
    ns = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "fin"},
        "spec": {"finalizers": ["kubernetes", "example.com/hold"]},
    }
    assert (await api.post("/api/v1/namespaces", json=ns)).status_code == 201
    await api.delete("/api/v1/namespaces/fin")
    for _ in range(100):  # the lifecycle loop removes its own finalizer, then waits for ours
        held = (await api.get("/api/v1/namespaces/fin")).json()
        if held["spec"]["finalizers"] == ["example.com/hold"]:
            break
        await asyncio.sleep(0.05)
    assert held["status"]["phase"] == "Terminating"
    assert held["spec"]["finalizers"] == ["example.com/hold"]  # kubernetes' one is done
    held["spec"]["finalizers"] = []
    r = await api.put("/api/v1/namespaces/fin/finalize", json=held)
    assert r.status_code == 200, r.text
    for _ in range(50):
        if (await api.get("/api/v1/namespaces/fin")).status_code == 404:
            break
        await asyncio.sleep(0.05)
    assert (await api.get("/api/v1/namespaces/fin")).status_code == 404


async def test_hpa_v1_list_and_watch_convert(api: httpx.AsyncClient) -> None:
    v2 = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h2"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "w"},
            "maxReplicas": 4,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                },
                {
                    "type": "Resource",
                    "resource": {
                        "name": "memory",
                        "target": {"type": "AverageValue", "averageValue": "100Mi"},
                    },
                },
            ],
        },
    }
    path2 = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"
    path1 = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers"
    assert (await api.post(path2, json=v2)).status_code == 201
    listed = (await api.get(path1)).json()
    item = listed["items"][0]
    assert item["apiVersion"] == "autoscaling/v1"
    assert item["spec"]["targetCPUUtilizationPercentage"] == 70
    # what v1 cannot express travels in an annotation and comes back intact through v1 writes
    assert "autoscaling.alpha.kubernetes.io/metrics" in item["metadata"]["annotations"]
    item["spec"]["maxReplicas"] = 6
    r = await api.put(f"{path1}/h2", json=item)
    assert r.status_code == 200, r.text
    back = (await api.get(f"{path2}/h2")).json()
    assert back["spec"]["maxReplicas"] == 6
    assert len(back["spec"]["metrics"]) == 2
    assert "annotations" not in back["metadata"] or not back["metadata"]["annotations"]


async def test_scale_and_binding_reject_bad_input(api: httpx.AsyncClient) -> None:
    rc = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "rc"},
        "spec": {
            "replicas": 1,
            "selector": {"app": "rc"},
            "template": {
                "metadata": {"labels": {"app": "rc"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    path = "/api/v1/namespaces/default/replicationcontrollers/rc/scale"
    assert (
        await api.post("/api/v1/namespaces/default/replicationcontrollers", json=rc)
    ).status_code == 201
    scale = (await api.get(path)).json()
    assert scale["status"]["selector"] == "app=rc"
    for bad, code in (
        ({"spec": {"replicas": -1}}, 422),
        ({"spec": {"replicas": "2"}}, 400),
        ({"kind": "Pod", "spec": {"replicas": 2}}, 400),
    ):
        r = await api.put(path, json=bad)
        assert r.status_code == code, (bad, r.text)
    r = await api.patch(
        path,
        json=[{"op": "replace", "path": "/spec/replicas", "value": 4}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 4
    r = await api.patch(
        path, content=b"{}", headers={"Content-Type": "application/apply-patch+yaml"}
    )
    assert r.status_code == 415

    await api.post(PODS, json=pod("b1"))
    for bad, code in (
        ({"target": {}}, 422),
        ({"target": {"name": "n", "kind": "Pod"}}, 422),
        ({"kind": "Eviction"}, 400),
    ):
        r = await api.post(f"{PODS}/b1/binding", json=bad)
        assert r.status_code == code, (bad, r.text)


@pytest.mark.usefixtures("controller_manager")
async def test_eviction_with_percent_budget_and_unready_pods(api: httpx.AsyncClient) -> None:
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "q"},
        "spec": {
            "replicas": 4,
            "selector": {"matchLabels": {"app": "q"}},
            "template": {
                "metadata": {"labels": {"app": "q"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    created = (await api.post("/apis/apps/v1/namespaces/default/replicasets", json=rs)).json()
    for name in ("q1", "q2", "q3", "q4"):
        # a percentage budget counts the replicas of the pods' controller (Kubernetes 1.32)
        body = pod(name, app="q")
        body["metadata"]["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "q",
                "uid": created["metadata"]["uid"],
                "controller": True,
            }
        ]
        await api.post(PODS, json=body)
        ready = {
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        }
        await api.patch(
            f"{PODS}/{name}/status",
            json=ready,
            headers={"Content-Type": "application/merge-patch+json"},
        )
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "q"},
        "spec": {"maxUnavailable": "50%", "selector": {"matchLabels": {"app": "q"}}},
    }
    await api.post("/apis/policy/v1/namespaces/default/poddisruptionbudgets", json=pdb)
    await budget_current(api, "q")

    async def evict(name: str) -> int:
        body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}
        return (await api.post(f"{PODS}/{name}/eviction", json=body)).status_code

    assert await evict("q1") == 201
    assert await evict("q2") == 201
    assert await evict("q3") == 429  # 2 of the 4 expected must stay healthy
    # a pending pod can always be evicted, and names must match
    await api.post(PODS, json=pod("pending", app="q"))
    assert await evict("pending") == 201
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "other"}}
    assert (await api.post(f"{PODS}/q3/eviction", json=body)).status_code == 400


@pytest.mark.usefixtures("controller_manager")
async def test_eviction_counts_the_controllers_replicas(api: httpx.AsyncClient) -> None:
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "rs"},
        "spec": {
            "replicas": 4,
            "selector": {"matchLabels": {"app": "rs"}},
            "template": {
                "metadata": {"labels": {"app": "rs"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    created = (await api.post("/apis/apps/v1/namespaces/default/replicasets", json=rs)).json()
    owner = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "rs",
        "uid": created["metadata"]["uid"],
        "controller": True,
    }
    for name in ("r1", "r2"):  # only two of the four replicas exist so far
        body = pod(name, app="rs")
        body["metadata"]["ownerReferences"] = [owner]
        await api.post(PODS, json=body)
        await api.patch(
            f"{PODS}/{name}/status",
            json={
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
            },
            headers={"Content-Type": "application/merge-patch+json"},
        )
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "rs"},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "rs"}}},
    }
    await api.post("/apis/policy/v1/namespaces/default/poddisruptionbudgets", json=pdb)
    await budget_current(api, "rs")
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "r1"}}
    r = await api.post(f"{PODS}/r1/eviction", json=body)
    # 4 expected, at most 1 unavailable: 3 must be healthy and only 2 are
    assert r.status_code == 429, r.text
    assert "needs 3 healthy pods and has 2 currently" in r.text


async def test_metrics_endpoint(api: httpx.AsyncClient, apiserver: ApiServer) -> None:
    await api.post(CM, json=cm("m1"))
    await api.get(f"{CM}/m1")
    await api.get(f"{CM}/nope")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{apiserver.bound_port}") as anon:
        assert (await anon.get("/metrics")).status_code == 401
    text = (await api.get("/metrics")).text
    assert (
        'apiserver_request_total{code="201",group="",resource="configmaps",'
        'subresource="",verb="CREATE"} 1.0'
    ) in text
    assert 'code="404"' in text and 'verb="GET"' in text
    assert "apiserver_request_duration_seconds_bucket" in text
    assert "skiff_store_revision" in text and "skiff_watch_cache_objects" in text


async def test_pretty_output(api: httpx.AsyncClient) -> None:
    await api.post(CM, json=cm("pretty", a="1"))
    r = await api.get(f"{CM}/pretty", params={"pretty": "true"})
    assert r.status_code == 200 and r.text.startswith('{\n  "apiVersion": "v1"')
    assert r.json()["data"] == {"a": "1"}
    plain = await api.get(f"{CM}/pretty")
    assert "\n" not in plain.text


async def test_finalizer_rules_while_deleting(api: httpx.AsyncClient) -> None:
    held = cm("held")
    held["metadata"]["finalizers"] = ["example.com/a"]
    await api.post(CM, json=held)
    await api.delete(f"{CM}/held")
    merge = {"Content-Type": "application/merge-patch+json"}
    r = await api.patch(
        f"{CM}/held",
        headers=merge,
        content=b'{"metadata":{"finalizers":["example.com/a","example.com/b"]}}',
    )
    assert r.status_code == 422 and "no new finalizers" in r.text
    r = await api.patch(f"{CM}/held", headers=merge, content=b'{"metadata":{"finalizers":null}}')
    assert r.status_code == 200
    assert (await api.get(f"{CM}/held")).status_code == 404
    # a namespace's own finalizers change only through /finalize
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "edited"}}
    await api.post("/api/v1/namespaces", json=ns)
    r = await api.patch(
        "/api/v1/namespaces/edited", headers=merge, content=b'{"spec":{"finalizers":[]}}'
    )
    assert r.status_code == 200 and r.json()["spec"]["finalizers"] == ["kubernetes"]


async def test_requests_beyond_the_inflight_limit_get_429(
    api: httpx.AsyncClient, apiserver: ApiServer
) -> None:
    apiserver.api.max_mutating_inflight = 1
    release = asyncio.Event()
    original = apiserver.registry.create

    entered = asyncio.Event()

    async def slow_create(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        await release.wait()
        return await original(*args, **kwargs)

    apiserver.registry.create = slow_create  # type: ignore[method-assign]
    try:
        first = asyncio.create_task(api.post(CM, json=cm("slow")))
        await entered.wait()  # the first create holds the only mutating slot
        r = await api.post(CM, json=cm("rejected"))
        assert r.status_code == 429 and r.headers["retry-after"] == "1"
        assert r.json()["reason"] == "TooManyRequests"
        assert (await api.get(CM)).status_code == 200  # reads have their own budget
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "n1"},
            "spec": {"holderIdentity": "n1", "leaseDurationSeconds": 8},
        }
        leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
        entered.clear()
        exempt = asyncio.create_task(api.post(leases, json=lease))
        await entered.wait()  # Leases are exempt: this one got past the limit to the registry
        release.set()
        assert (await exempt).status_code == 201
        assert (await first).status_code == 201
    finally:
        release.set()
        apiserver.registry.create = original  # type: ignore[method-assign]
    assert (await api.post(CM, json=cm("after"))).status_code == 201
