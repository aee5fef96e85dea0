"""The official ``kubernetes`` Python client (v32) against a real skiff API server: core/v1 and watch.

Covers the typed ``CoreV1Api`` on ConfigMaps, Secrets, Services, Pods and Namespaces (create, read,
list with label/field selectors and ``limit``/``_continue`` paging, strategic merge patch from a dict
body, JSON patch from a list body, replace, delete, generateName, dryRun, the status subresource,
graceful deletion of a bound pod, namespace termination), the errors the client raises as
``ApiException`` (404 NotFound, 409 AlreadyExists, 409 Conflict on a stale resourceVersion or a
failed delete precondition, 422 Invalid with causes, 400 BadRequest, 403 in a terminating
namespace), unknown-field warnings, ``VersionApi``, and ``kubernetes.watch.Watch`` (synthetic ADDED
events, live MODIFIED/DELETED, resuming from a resourceVersion). Apps, dynamic client / server-side apply and
the other API groups live in ``test_python_client_apps.py`` and ``test_python_client_kinds.py``.
Excludes exec/attach/port-forward/logs, which need a node agent.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client import ApiClient
from kubernetes.client.rest import ApiException
from pyclient import status_of


def config_map(name: str, *, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = labels
    return {"metadata": metadata, "data": data}


def pod_body(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}], **spec},
    }


# --- version -------------------------------------------------------------------------------------


def test_version_reports_1_32(api: ApiClient) -> None:
    info = client.VersionApi(api).get_code()
    assert info.major == "1"
    assert info.minor == "32"
    assert info.git_version.startswith("v1.32.")


# --- ConfigMaps ----------------------------------------------------------------------------------


def test_config_map_crud(core: client.CoreV1Api, ns: str) -> None:
    created = core.create_namespaced_config_map(ns, config_map("app", mode="fast", level="3"))
    assert isinstance(created, client.V1ConfigMap)
    assert created.metadata.namespace == ns
    assert created.metadata.uid
    assert created.metadata.creation_timestamp is not None
    assert created.data == {"mode": "fast", "level": "3"}

    got = core.read_namespaced_config_map("app", ns)
    assert got.metadata.uid == created.metadata.uid
    assert got.metadata.resource_version == created.metadata.resource_version

    # A dict body is sent as a strategic merge patch: keys merge, null deletes.
    patched = core.patch_namespaced_config_map(
        "app", ns, {"metadata": {"labels": {"tier": "web"}}, "data": {"level": None, "x": "1"}}
    )
    assert patched.data == {"mode": "fast", "x": "1"}
    assert patched.metadata.labels == {"tier": "web"}
    assert int(patched.metadata.resource_version) > int(created.metadata.resource_version)

    patched.data = {"only": "this"}
    replaced = core.replace_namespaced_config_map("app", ns, patched)
    assert replaced.data == {"only": "this"}
    assert replaced.metadata.labels == {"tier": "web"}

    names = [c.metadata.name for c in core.list_namespaced_config_map(ns).items]
    assert "app" in names

    core.delete_namespaced_config_map("app", ns)
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_config_map("app", ns)
    body = status_of(exc.value, 404, "NotFound")
    assert body["details"]["name"] == "app"
    assert body["details"]["kind"] == "configmaps"


def test_config_map_delete_returns_success_status(core: client.CoreV1Api, ns: str) -> None:
    created = core.create_namespaced_config_map(ns, config_map("gone"))
    resp = core.delete_namespaced_config_map("gone", ns, _preload_content=False)
    body = json.loads(resp.data)
    assert body["kind"] == "Status", body
    assert body["status"] == "Success"
    assert body["details"]["name"] == "gone"
    assert body["details"]["uid"] == created.metadata.uid


def test_config_map_json_patch_generate_name_dry_run_immutable(
    core: client.CoreV1Api, ns: str
) -> None:
    generated = core.create_namespaced_config_map(ns, {"metadata": {"generateName": "gen-"}})
    name = generated.metadata.name
    assert name.startswith("gen-")
    assert len(name) == len("gen-") + 5

    # A list body is sent as a JSON patch (RFC 6902).
    patched = core.patch_namespaced_config_map(
        name, ns, [{"op": "add", "path": "/data", "value": {"k": "v"}}]
    )
    assert patched.data == {"k": "v"}
    with pytest.raises(ApiException) as exc:
        core.patch_namespaced_config_map(
            name, ns, [{"op": "test", "path": "/data/k", "value": "x"}]
        )
    status_of(exc.value, 422, "Invalid")
    assert core.read_namespaced_config_map(name, ns).data == {"k": "v"}

    # dryRun=All runs the whole request but persists nothing.
    dry = core.create_namespaced_config_map(ns, config_map("dry", a="1"), dry_run="All")
    assert dry.metadata.name == "dry"
    assert dry.data == {"a": "1"}
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_config_map("dry", ns)
    status_of(exc.value, 404, "NotFound")

    frozen = config_map("frozen", a="1")
    frozen["immutable"] = True
    core.create_namespaced_config_map(ns, frozen)
    with pytest.raises(ApiException) as exc:
        core.patch_namespaced_config_map("frozen", ns, {"data": {"a": "2"}})
    body = status_of(exc.value, 422, "Invalid")
    assert "data" in {c["field"] for c in body["details"]["causes"]}

    everywhere = core.list_config_map_for_all_namespaces(field_selector=f"metadata.namespace={ns}")
    assert sorted(c.metadata.name for c in everywhere.items) == sorted([name, "frozen"])


def test_errors_are_api_exceptions_with_status(core: client.CoreV1Api, ns: str) -> None:
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_config_map("missing", ns)
    status_of(exc.value, 404, "NotFound")

    with pytest.raises(ApiException) as exc:
        core.delete_namespaced_config_map("missing", ns)
    status_of(exc.value, 404, "NotFound")

    first = core.create_namespaced_config_map(ns, config_map("dup", a="1"))
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(ns, config_map("dup", a="2"))
    body = status_of(exc.value, 409, "AlreadyExists")
    assert body["details"]["name"] == "dup"

    # Replace with the resourceVersion of an older read: optimistic concurrency refuses it.
    core.patch_namespaced_config_map("dup", ns, {"data": {"a": "3"}})
    first.data = {"a": "stale"}
    with pytest.raises(ApiException) as exc:
        core.replace_namespaced_config_map("dup", ns, first)
    body = status_of(exc.value, 409, "Conflict")
    assert "the object has been modified" in body["message"]
    assert core.read_namespaced_config_map("dup", ns).data == {"a": "3"}

    # A delete whose uid precondition does not match is a conflict too.
    options = client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="not-the-uid"))
    with pytest.raises(ApiException) as exc:
        core.delete_namespaced_config_map("dup", ns, body=options)
    body = status_of(exc.value, 409, "Conflict")
    assert "Precondition failed" in body["message"]
    assert core.read_namespaced_config_map("dup", ns).metadata.uid == first.metadata.uid


def test_bad_requests_get_400(core: client.CoreV1Api, ns: str) -> None:
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(ns, {"metadata": {"name": "a", "namespace": "other"}})
    body = status_of(exc.value, 400, "BadRequest")
    assert "does not match the namespace sent on the request" in body["message"]

    created = core.create_namespaced_config_map(ns, config_map("b"))
    with pytest.raises(ApiException) as exc:
        core.replace_namespaced_config_map("c", ns, created)
    body = status_of(exc.value, 400, "BadRequest")
    assert body["message"] == "the name of the object (b) does not match the name on the URL (c)"

    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(
            ns, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "k"}}
        )
    status_of(exc.value, 400, "BadRequest")

    # Without a resourceVersion a replace is unconditional (ConfigMaps allow that).
    created.metadata.resource_version = None
    created.data = {"x": "y"}
    assert core.replace_namespaced_config_map("b", ns, created).data == {"x": "y"}


def test_unknown_fields_are_warned_about_by_default(api: ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "w"}, "bogus": 1})
    assert api.last_response is not None
    assert api.last_response.getheader("Warning") == '299 - "unknown field \\"bogus\\""'


def test_strict_field_validation_rejects_unknown_fields(core: client.CoreV1Api, ns: str) -> None:
    # as Kubernetes: 400 BadRequest with the decoder's "strict decoding error"
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(
            ns, {"metadata": {"name": "s"}, "bogus": 1}, field_validation="Strict"
        )
    body = status_of(exc.value, 400, "BadRequest")
    assert body["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
        'unknown field "bogus"'
    )


@pytest.mark.usefixtures("default_service_account")
def test_invalid_objects_get_422_with_causes(core: client.CoreV1Api, ns: str) -> None:
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(ns, config_map("Not_Valid"))
    body = status_of(exc.value, 422, "Invalid")
    assert body["details"]["kind"] == "ConfigMap"
    assert body["details"]["name"] == "Not_Valid"
    causes = body["details"]["causes"]
    assert {"metadata.name"} <= {c["field"] for c in causes}
    assert all(c["reason"] == "FieldValueInvalid" for c in causes if c["field"] == "metadata.name")

    with pytest.raises(ApiException) as exc:
        core.create_namespaced_pod(ns, {"metadata": {"name": "empty"}, "spec": {"containers": []}})
    body = status_of(exc.value, 422, "Invalid")
    assert body["details"]["kind"] == "Pod"
    causes = {(c["field"], c["reason"]) for c in body["details"]["causes"]}
    assert ("spec.containers", "FieldValueRequired") in causes


def test_list_with_label_and_field_selectors(core: client.CoreV1Api, ns: str) -> None:
    for i in range(5):
        labels = {"idx": str(i), "parity": "odd" if i % 2 else "even"}
        if i == 4:
            labels["extra"] = "yes"
        core.create_namespaced_config_map(ns, config_map(f"cm{i}", labels=labels))

    def names(**kwargs: str) -> list[str]:
        return sorted(c.metadata.name for c in core.list_namespaced_config_map(ns, **kwargs).items)

    assert names(label_selector="parity=odd") == ["cm1", "cm3"]
    assert names(label_selector="parity==even,idx notin (0,2)") == ["cm4"]
    assert names(label_selector="idx in (1,2),parity!=odd") == ["cm2"]
    assert names(label_selector="extra") == ["cm4"]
    assert names(label_selector="!extra,parity=even") == ["cm0", "cm2"]
    assert names(field_selector="metadata.name=cm3") == ["cm3"]
    assert names(field_selector="metadata.name!=cm3,metadata.namespace=" + ns) == [
        "cm0",
        "cm1",
        "cm2",
        "cm4",
    ]
    assert names(field_selector="metadata.name!=cm1", label_selector="parity=odd") == ["cm3"]

    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(ns, field_selector="data.mode=fast")
    status_of(exc.value, 400, "BadRequest")


def test_list_paging_with_limit_and_continue(core: client.CoreV1Api, ns: str) -> None:
    for i in range(7):
        core.create_namespaced_config_map(ns, config_map(f"page{i}"))
    seen: list[str] = []
    pages = 0
    token: str | None = None
    first_rv: str | None = None
    while True:
        kwargs: dict[str, Any] = {"limit": 3}
        if token:
            kwargs["_continue"] = token
        page = core.list_namespaced_config_map(ns, **kwargs)
        pages += 1
        assert len(page.items) <= 3
        seen.extend(c.metadata.name for c in page.items)
        # Every page of one paged list is served at the resourceVersion of the first page.
        if first_rv is None:
            first_rv = page.metadata.resource_version
            # Created between pages: a consistent snapshot must not show it.
            core.create_namespaced_config_map(ns, config_map("page9"))
        else:
            assert page.metadata.resource_version == first_rv
        token = page.metadata._continue
        if not token:
            break
    assert pages == 3
    assert seen == [f"page{i}" for i in range(7)]

    with pytest.raises(ApiException) as exc:
        core.list_namespaced_config_map(ns, limit=3, _continue="not-a-token")
    status_of(exc.value, 400, "BadRequest")


def test_list_paging_reports_remaining_item_count(core: client.CoreV1Api, ns: str) -> None:
    for i in range(5):
        core.create_namespaced_config_map(ns, config_map(f"r{i}"))
    page = core.list_namespaced_config_map(ns, limit=2)
    assert page.metadata.remaining_item_count == 3


# --- Secrets -------------------------------------------------------------------------------------


def test_secret_crud_string_data_is_encoded(core: client.CoreV1Api, ns: str) -> None:
    created = core.create_namespaced_secret(
        ns,
        {
            "metadata": {"name": "creds"},
            "stringData": {"user": "admin"},
            "data": {"pass": base64.b64encode(b"s3cret").decode()},
        },
    )
    assert created.type == "Opaque"
    assert created.string_data is None
    assert created.data == {
        "user": base64.b64encode(b"admin").decode(),
        "pass": base64.b64encode(b"s3cret").decode(),
    }

    patched = core.patch_namespaced_secret("creds", ns, {"stringData": {"user": "root"}})
    assert base64.b64decode(patched.data["user"]) == b"root"
    assert base64.b64decode(patched.data["pass"]) == b"s3cret"

    tls = core.create_namespaced_secret(
        ns,
        {
            "metadata": {"name": "tls"},
            "type": "kubernetes.io/tls",
            "stringData": {"tls.crt": "C", "tls.key": "K"},
        },
    )
    assert tls.type == "kubernetes.io/tls"
    by_type = core.list_namespaced_secret(ns, field_selector="type=kubernetes.io/tls").items
    assert [s.metadata.name for s in by_type] == ["tls"]

    with pytest.raises(ApiException) as exc:
        core.create_namespaced_secret(
            ns, {"metadata": {"name": "bad-tls"}, "type": "kubernetes.io/tls", "data": {}}
        )
    body = status_of(exc.value, 422, "Invalid")
    assert {c["field"] for c in body["details"]["causes"]} >= {"data[tls.crt]", "data[tls.key]"}

    core.delete_namespaced_secret("creds", ns)
    assert [s.metadata.name for s in core.list_namespaced_secret(ns).items] == ["tls"]


# --- Services ------------------------------------------------------------------------------------


def test_service_defaults_patch_replace_delete(core: client.CoreV1Api, ns: str) -> None:
    created = core.create_namespaced_service(
        ns,
        {
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]},
        },
    )
    spec = created.spec
    assert spec.type == "ClusterIP"
    assert spec.session_affinity == "None"
    assert spec.internal_traffic_policy == "Cluster"
    port = spec.ports[0]
    assert port.protocol == "TCP"
    assert port.target_port == 80

    # Strategic merge on ports (merge key: port) adds a port and keeps the existing one.
    patched = core.patch_namespaced_service(
        "web", ns, {"spec": {"ports": [{"name": "https", "port": 443, "targetPort": 8443}]}}
    )
    assert sorted((p.port, p.name) for p in patched.spec.ports) == [(80, "http"), (443, "https")]

    patched.spec.selector = {"app": "web2"}
    replaced = core.replace_namespaced_service("web", ns, patched)
    assert replaced.spec.selector == {"app": "web2"}
    assert len(replaced.spec.ports) == 2

    with pytest.raises(ApiException) as exc:
        core.create_namespaced_service(
            ns, {"metadata": {"name": "noports"}, "spec": {"selector": {"app": "x"}}}
        )
    body = status_of(exc.value, 422, "Invalid")
    assert "spec.ports" in {c["field"] for c in body["details"]["causes"]}

    core.delete_namespaced_service("web", ns)
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_service("web", ns)
    status_of(exc.value, 404, "NotFound")


def test_service_gets_immutable_cluster_ip(core: client.CoreV1Api, ns: str) -> None:
    created = core.create_namespaced_service(
        ns, {"metadata": {"name": "ip"}, "spec": {"ports": [{"port": 80}]}}
    )
    cluster_ip = created.spec.cluster_ip
    assert cluster_ip and cluster_ip != "None"
    assert created.spec.cluster_i_ps == [cluster_ip]
    assert created.spec.ip_families == ["IPv4"]
    assert created.spec.ip_family_policy == "SingleStack"
    patched = core.patch_namespaced_service("ip", ns, {"spec": {"selector": {"app": "x"}}})
    assert patched.spec.cluster_ip == cluster_ip

    patched.spec.cluster_ip = "10.96.255.254"
    patched.spec.cluster_i_ps = ["10.96.255.254"]
    with pytest.raises(ApiException) as exc:
        core.replace_namespaced_service("ip", ns, patched)
    body = status_of(exc.value, 422, "Invalid")
    assert any(c["field"].startswith("spec.clusterIP") for c in body["details"]["causes"])

    headless = core.create_namespaced_service(
        ns, {"metadata": {"name": "hl"}, "spec": {"clusterIP": "None", "ports": [{"port": 80}]}}
    )
    assert headless.spec.cluster_i_ps == ["None"]


# --- Pods ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("default_service_account")
def test_pod_create_applies_defaults(core: client.CoreV1Api, ns: str) -> None:
    pod = core.create_namespaced_pod(ns, pod_body("web"))
    spec = pod.spec
    assert spec.restart_policy == "Always"
    assert spec.dns_policy == "ClusterFirst"
    assert spec.service_account_name == "default"
    assert spec.termination_grace_period_seconds == 30
    assert spec.scheduler_name == "default-scheduler"
    tolerations = {(t.key, t.operator, t.effect, t.toleration_seconds) for t in spec.tolerations}
    assert tolerations == {
        ("node.kubernetes.io/not-ready", "Exists", "NoExecute", 5),
        ("node.kubernetes.io/unreachable", "Exists", "NoExecute", 5),
    }
    container = spec.containers[0]
    assert container.image_pull_policy == "IfNotPresent"
    assert container.termination_message_path == "/dev/termination-log"
    assert container.termination_message_policy == "File"
    assert pod.status.phase == "Pending"
    assert pod.status.qos_class == "BestEffort"


@pytest.mark.usefixtures("default_service_account")
def test_pod_patch_replace_list_delete(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_pod(ns, pod_body("a"))
    core.create_namespaced_pod(ns, pod_body("b"))

    patched = core.patch_namespaced_pod("a", ns, {"metadata": {"labels": {"role": "lead"}}})
    assert patched.metadata.labels == {"app": "a", "role": "lead"}

    # Strategic merge on containers (merge key: name) changes one container's image in place.
    patched = core.patch_namespaced_pod(
        "a", ns, {"spec": {"containers": [{"name": "main", "image": "busybox:1.37"}]}}
    )
    assert [(c.name, c.image) for c in patched.spec.containers] == [("main", "busybox:1.37")]

    patched.metadata.annotations = {"note": "replaced"}
    replaced = core.replace_namespaced_pod("a", ns, patched)
    assert replaced.metadata.annotations == {"note": "replaced"}

    # Most of a pod's spec is immutable.
    replaced.spec.restart_policy = "Never"
    with pytest.raises(ApiException) as exc:
        core.replace_namespaced_pod("a", ns, replaced)
    body = status_of(exc.value, 422, "Invalid")
    assert any(c["field"].startswith("spec") for c in body["details"]["causes"])

    pending = core.list_namespaced_pod(ns, field_selector="status.phase=Pending").items
    assert sorted(p.metadata.name for p in pending) == ["a", "b"]
    assert core.list_namespaced_pod(ns, field_selector="spec.nodeName=nowhere").items == []
    assert [p.metadata.name for p in core.list_namespaced_pod(ns, label_selector="role").items] == [
        "a"
    ]

    deleted = core.delete_namespaced_pod("b", ns)
    assert deleted.metadata.name == "b"
    remaining = [p.metadata.name for p in core.list_namespaced_pod(ns).items]
    assert "a" in remaining


@pytest.mark.usefixtures("default_service_account")
def test_pod_status_subresource(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_pod(ns, pod_body("s"))
    updated = core.patch_namespaced_pod_status(
        "s", ns, {"status": {"phase": "Running", "podIP": "10.244.0.7"}}
    )
    assert updated.status.phase == "Running"
    assert updated.status.pod_ip == "10.244.0.7"
    # A status write cannot change the spec, and a main-resource write cannot change the status.
    ignored = core.patch_namespaced_pod_status(
        "s", ns, {"spec": {"activeDeadlineSeconds": 5}, "status": {"hostIP": "192.0.2.1"}}
    )
    assert ignored.spec.active_deadline_seconds is None
    assert ignored.status.host_ip == "192.0.2.1"
    again = core.patch_namespaced_pod("s", ns, {"status": {"phase": "Failed"}})
    assert again.status.phase == "Running"
    assert core.read_namespaced_pod_status("s", ns).status.pod_ip == "10.244.0.7"


@pytest.mark.usefixtures("default_service_account")
def test_pod_on_a_node_is_deleted_gracefully(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_pod(ns, pod_body("bound", nodeName="node-a"))
    # A pod bound to a node waits for its agent: deletion only sets the timestamp and grace.
    deleted = core.delete_namespaced_pod("bound", ns)
    assert deleted.metadata.deletion_timestamp is not None
    assert deleted.metadata.deletion_grace_period_seconds == 30
    still = core.read_namespaced_pod("bound", ns)
    assert still.metadata.deletion_timestamp is not None
    # Grace period zero removes it at once.
    core.delete_namespaced_pod("bound", ns, grace_period_seconds=0)
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod("bound", ns)
    status_of(exc.value, 404, "NotFound")


# --- Namespaces ----------------------------------------------------------------------------------


def test_namespace_crud(core: client.CoreV1Api, ns: str) -> None:
    name = ns + "-extra"
    created = core.create_namespace({"metadata": {"name": name, "labels": {"team": "a"}}})
    assert created.status.phase == "Active"
    assert created.spec.finalizers == ["kubernetes"]
    assert created.metadata.labels == {"kubernetes.io/metadata.name": name, "team": "a"}

    listed = core.list_namespace(label_selector="team=a").items
    assert name in [n.metadata.name for n in listed]
    patched = core.patch_namespace(name, {"metadata": {"annotations": {"owner": "py"}}})
    assert patched.metadata.annotations == {"owner": "py"}

    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(name + "-missing", config_map("x"))
    status_of(exc.value, 404, "NotFound")

    # An object with a finalizer keeps the namespace Terminating until the finalizer goes.
    held = config_map("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    core.create_namespaced_config_map(name, held)
    core.delete_namespace(name)
    terminating = core.read_namespace(name)
    assert terminating.status.phase == "Terminating"
    assert terminating.metadata.deletion_timestamp is not None
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map(name, config_map("late"))
    body = status_of(exc.value, 403, "Forbidden")
    assert "being terminated" in body["message"]

    core.patch_namespaced_config_map("held", name, {"metadata": {"finalizers": None}})
    deadline = time.monotonic() + 10
    while True:
        try:
            core.read_namespace(name)
        except ApiException as e:
            status_of(e, 404, "NotFound")
            break
        assert time.monotonic() < deadline, "namespace was not removed after its content went"
        time.sleep(0.1)


# --- watch ---------------------------------------------------------------------------------------


def _collect(
    stream: Iterator[dict[str, Any]], w: watch.Watch, until: str, deadline: float
) -> list[tuple[str, str, dict[str, str] | None]]:
    """Read events until one for object ``until`` is DELETED (or the deadline passes)."""
    seen: list[tuple[str, str, dict[str, str] | None]] = []
    for event in stream:
        obj = event["object"]
        seen.append((event["type"], obj.metadata.name, obj.data))
        if (event["type"], obj.metadata.name) == ("DELETED", until) or time.monotonic() > deadline:
            w.stop()
    return seen


def test_watch_synthetic_added_then_live_events(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, config_map("before", v="0"))
    established = threading.Event()
    failures: list[BaseException] = []

    def mutate() -> None:
        # Change things only once the stream has delivered its first (synthetic) event, so the
        # watch is certainly established and the changes come as live events.
        try:
            if not established.wait(10):
                return
            core.create_namespaced_config_map(ns, config_map("live", v="1"))
            core.patch_namespaced_config_map("live", ns, {"data": {"v": "2"}})
            core.delete_namespaced_config_map("live", ns)
        except BaseException as e:  # surfaced in the test thread below
            failures.append(e)

    w = watch.Watch()
    worker = threading.Thread(target=mutate)
    worker.start()
    events: list[tuple[str, str, dict[str, str] | None]] = []
    try:
        deadline = time.monotonic() + 10
        for event in w.stream(
            core.list_namespaced_config_map, ns, timeout_seconds=10, _request_timeout=15
        ):
            obj = event["object"]
            assert isinstance(obj, client.V1ConfigMap)
            events.append((event["type"], obj.metadata.name, obj.data))
            established.set()
            if event["type"] == "DELETED" or time.monotonic() > deadline:
                w.stop()
    finally:
        established.set()
        worker.join()
    assert not failures, failures
    assert events == [
        ("ADDED", "before", {"v": "0"}),
        ("ADDED", "live", {"v": "1"}),
        ("MODIFIED", "live", {"v": "2"}),
        ("DELETED", "live", {"v": "2"}),
    ]


def test_watch_resumes_from_resource_version(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, config_map("old", v="0"))
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    # Changes made after the list, before the watch starts: a watch from ``rv`` replays them
    # and sends no synthetic ADDED for "old".
    core.create_namespaced_config_map(ns, config_map("new", v="1"))
    core.patch_namespaced_config_map("old", ns, {"data": {"v": "9"}})
    core.delete_namespaced_config_map("new", ns)

    w = watch.Watch()
    stream = w.stream(
        core.list_namespaced_config_map,
        ns,
        resource_version=rv,
        timeout_seconds=5,
        _request_timeout=10,
    )
    events = _collect(stream, w, "new", time.monotonic() + 5)
    assert events == [
        ("ADDED", "new", {"v": "1"}),
        ("MODIFIED", "old", {"v": "9"}),
        ("DELETED", "new", {"v": "1"}),
    ]
    # The client remembers the last resourceVersion it saw; a new watch from there sees only
    # what happened afterwards.
    assert w.resource_version is not None
    assert int(w.resource_version) > int(rv)
    core.patch_namespaced_config_map("old", ns, {"data": {"v": "10"}})
    w2 = watch.Watch()
    resumed = w2.stream(
        core.list_namespaced_config_map,
        ns,
        resource_version=w.resource_version,
        timeout_seconds=5,
        _request_timeout=10,
    )
    event = next(resumed)
    w2.stop()
    for _ in resumed:  # drain so the generator closes its response
        pass
    assert (event["type"], event["object"].metadata.name, event["object"].data) == (
        "MODIFIED",
        "old",
        {"v": "10"},
    )


def test_watch_with_selector_and_timeout_ends(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, config_map("x", labels={"pick": "yes"}))
    core.create_namespaced_config_map(ns, config_map("y", labels={"pick": "no"}))
    w = watch.Watch()
    started = time.monotonic()
    events = [
        (e["type"], e["object"].metadata.name)
        for e in w.stream(
            core.list_namespaced_config_map,
            ns,
            label_selector="pick=yes",
            timeout_seconds=1,
            _request_timeout=10,
        )
    ]
    # The server closes the stream after timeoutSeconds, which ends the generator.
    assert time.monotonic() - started < 8
    assert events == [("ADDED", "x")]
