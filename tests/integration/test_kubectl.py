"""The real kubectl (1.32) against a real skiff API server over HTTPS.

Covers everyday commands end to end: apply (create / configured / unchanged), get in its output
forms, get -w, describe, label, annotate, the three patch types, replace, edit, scale, delete,
server-side apply with conflicts, diff, explain, api-resources and get all. Excludes commands that
need a node agent (logs, exec, port-forward) and controllers (rollout status).
"""

from __future__ import annotations

import json
import queue
import select
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import yaml

from skiff.testing.cluster import Kubectl

MANIFEST = textwrap.dedent(
    """
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
      labels: {app: web, tier: config}
    data:
      mode: fast
      level: "3"
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      labels: {app: web}
    spec:
      replicas: 2
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
            - name: web
              image: busybox:1.36
              ports:
                - containerPort: 8080
    ---
    apiVersion: v1
    kind: Service
    metadata:
      name: web
      labels: {app: web}
    spec:
      selector: {app: web}
      ports:
        - port: 80
          targetPort: 8080
    """
)


def _wait_for_output(proc: subprocess.Popen[str], needle: str, *, within: float = 20.0) -> None:
    """Read ``proc``'s stderr until a line contains ``needle`` (the rest stays in the pipe)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + within
    seen: list[str] = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 0.5)
        if not ready:
            continue
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return
    raise AssertionError(f"{needle!r} not seen on stderr; got: {''.join(seen)[-2000:]}")


def _apply(kubectl: Kubectl, ns: str, text: str, *extra: str) -> str:
    return kubectl("apply", "-n", ns, "-f", "-", *extra, input=text)


def test_version_and_api_resources(kubectl: Kubectl) -> None:
    out = kubectl("version", "-o", "json")
    assert json.loads(out)["serverVersion"]["minor"] == "32"
    resources = kubectl("api-resources")
    for line in (
        "deployments",
        "deploy",
        "apps/v1",
        "horizontalpodautoscalers",
        "hpa",
        "poddisruptionbudgets",
        "leases",
        "priorityclasses",
    ):
        assert line in resources
    wide = kubectl("api-resources", "-o", "name", "--api-group=apps")
    assert "deployments.apps" in wide.split()


def test_apply_create_configured_unchanged(kubectl: Kubectl, ns: str) -> None:
    out = _apply(kubectl, ns, MANIFEST)
    assert "configmap/settings created" in out
    assert "deployment.apps/web created" in out
    assert "service/web created" in out
    out = _apply(kubectl, ns, MANIFEST)
    assert "configmap/settings unchanged" in out
    assert "deployment.apps/web unchanged" in out
    changed = MANIFEST.replace("replicas: 2", "replicas: 3").replace('level: "3"', "other: x")
    out = _apply(kubectl, ns, changed)
    assert "configmap/settings configured" in out
    assert "deployment.apps/web configured" in out
    assert "service/web unchanged" in out
    cm = json.loads(kubectl("get", "-n", ns, "cm", "settings", "-o", "json"))
    assert cm["data"] == {"mode": "fast", "other": "x"}  # the removed key is gone
    deploy = json.loads(kubectl("get", "-n", ns, "deploy", "web", "-o", "json"))
    assert deploy["spec"]["replicas"] == 3
    assert deploy["metadata"]["generation"] == 2
    # defaults were applied by the server
    assert deploy["spec"]["strategy"]["type"] == "RollingUpdate"
    assert deploy["spec"]["template"]["spec"]["restartPolicy"] == "Always"


def test_get_output_forms(kubectl: Kubectl, ns: str) -> None:
    _apply(kubectl, ns, MANIFEST)
    kubectl("create", "-n", ns, "configmap", "zeta", "--from-literal=a=b")
    table = kubectl("get", "-n", ns, "configmaps")
    header = table.splitlines()[0].split()
    assert header == ["NAME", "DATA", "AGE"]
    assert any(line.split()[:2] == ["settings", "2"] for line in table.splitlines())
    wide = kubectl("get", "-n", ns, "deploy", "-o", "wide")
    assert "CONTAINERS" in wide and "IMAGES" in wide and "busybox:1.36" in wide
    assert "SELECTOR" in wide and "app=web" in wide
    doc = yaml.safe_load(kubectl("get", "-n", ns, "svc", "web", "-o", "yaml"))
    assert doc["kind"] == "Service" and doc["spec"]["ports"][0]["port"] == 80
    everything = kubectl("get", "configmaps", "-A")
    assert "NAMESPACE" in everything.splitlines()[0]
    assert ns in everything
    labelled = kubectl("get", "-n", ns, "cm", "-l", "tier=config", "--show-labels")
    assert "settings" in labelled and "zeta" not in labelled
    assert "app=web,tier=config" in labelled
    notin = kubectl("get", "-n", ns, "cm", "-l", "tier notin (config)", "-o", "name")
    assert "configmap/zeta" in notin and "configmap/settings" not in notin
    by_name = kubectl("get", "-n", ns, "cm", "--sort-by=.metadata.name", "-o", "name")
    names = [n for n in by_name.split() if n in ("configmap/settings", "configmap/zeta")]
    assert names == ["configmap/settings", "configmap/zeta"]
    missing = kubectl.run("get", "-n", ns, "cm", "nope")
    assert missing.returncode == 1
    assert 'configmaps "nope" not found' in missing.stderr
    empty = kubectl.run("get", "-n", ns, "secrets")
    assert "No resources found" in empty.stderr


def test_get_all(kubectl: Kubectl, ns: str) -> None:
    _apply(kubectl, ns, MANIFEST)
    out = kubectl("get", "all", "-n", ns)
    assert "deployment.apps/web" in out
    assert "service/web" in out


def test_get_watch_receives_live_events(kubectl: Kubectl, ns: str) -> None:
    proc = kubectl.popen("get", "-n", ns, "configmaps", "-w", "--output-watch-events")
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        # wait until the watch has started, seen as the ADDED row of an object made for it
        kubectl("create", "-n", ns, "configmap", "first", "--from-literal=x=0")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if "first" in lines.get(timeout=0.5):
                    break
            except queue.Empty:
                continue
        kubectl("create", "-n", ns, "configmap", "live", "--from-literal=x=1")
        kubectl("label", "-n", ns, "configmap", "live", "seen=yes")
        kubectl("delete", "-n", ns, "configmap", "live")
        seen: list[str] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any("DELETED" in ln for ln in seen):
            try:
                seen.append(lines.get(timeout=0.5))
            except queue.Empty:
                continue
        joined = "".join(seen)
        assert "ADDED" in joined and "live" in joined
        assert "MODIFIED" in joined
        assert "DELETED" in joined
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        reader.join(timeout=10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def test_describe(kubectl: Kubectl, ns: str) -> None:
    _apply(kubectl, ns, MANIFEST)
    out = kubectl("describe", "-n", ns, "deployment", "web")
    assert "Name:" in out and "web" in out
    assert "Replicas:" in out
    assert "busybox:1.36" in out
    out = kubectl("describe", "-n", ns, "configmap", "settings")
    assert "mode" in out and "fast" in out
    out = kubectl("describe", "namespace", ns)
    assert "Active" in out


def test_label_and_annotate(kubectl: Kubectl, ns: str) -> None:
    kubectl("create", "-n", ns, "configmap", "c", "--from-literal=a=b")
    assert "labeled" in kubectl("label", "-n", ns, "cm", "c", "team=blue")
    assert "annotated" in kubectl("annotate", "-n", ns, "cm", "c", "note=hello world")
    obj = json.loads(kubectl("get", "-n", ns, "cm", "c", "-o", "json"))
    assert obj["metadata"]["labels"] == {"team": "blue"}
    assert obj["metadata"]["annotations"]["note"] == "hello world"
    kubectl("label", "-n", ns, "cm", "c", "team-")
    obj = json.loads(kubectl("get", "-n", ns, "cm", "c", "-o", "json"))
    assert "team" not in (obj["metadata"].get("labels") or {})
    clash = kubectl.run("label", "-n", ns, "cm", "c", "note=x", "--resource-version=1")
    assert clash.returncode != 0 and "Conflict" in clash.stderr


def test_patch_three_types(kubectl: Kubectl, ns: str) -> None:
    _apply(kubectl, ns, MANIFEST)
    kubectl(
        "patch",
        "-n",
        ns,
        "deploy",
        "web",
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"busybox:1.37"}]}}}}',
    )
    kubectl("patch", "-n", ns, "deploy", "web", "--type=merge", "-p", '{"spec":{"replicas":5}}')
    kubectl(
        "patch",
        "-n",
        ns,
        "deploy",
        "web",
        "--type=json",
        "-p",
        '[{"op":"add","path":"/metadata/labels/patched","value":"json"}]',
    )
    obj = json.loads(kubectl("get", "-n", ns, "deploy", "web", "-o", "json"))
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1  # strategic merge by name kept one container
    assert containers[0]["image"] == "busybox:1.37"
    assert containers[0]["ports"][0]["containerPort"] == 8080
    assert obj["spec"]["replicas"] == 5
    assert obj["metadata"]["labels"]["patched"] == "json"
    bad = kubectl.run(
        "patch",
        "-n",
        ns,
        "deploy",
        "web",
        "--type=json",
        "-p",
        '[{"op":"remove","path":"/spec/nothere"}]',
    )
    assert bad.returncode != 0


def test_replace(kubectl: Kubectl, ns: str, tmp_path: Path) -> None:
    kubectl("create", "-n", ns, "configmap", "r", "--from-literal=a=1")
    obj = json.loads(kubectl("get", "-n", ns, "cm", "r", "-o", "json"))
    obj["data"] = {"b": "2"}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(obj))
    assert "replaced" in kubectl("replace", "-f", str(path))
    assert json.loads(kubectl("get", "-n", ns, "cm", "r", "-o", "json"))["data"] == {"b": "2"}
    # the same stale resourceVersion again: 409 Conflict
    stale = kubectl.run("replace", "-f", str(path))
    assert stale.returncode != 0
    assert "the object has been modified" in stale.stderr


def test_edit_via_editor(kubectl: Kubectl, ns: str, tmp_path: Path) -> None:
    kubectl("create", "-n", ns, "configmap", "e", "--from-literal=color=red")
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys\n"
        "p = sys.argv[-1]\n"
        "s = open(p).read().replace('color: red', 'color: green')\n"
        "open(p, 'w').write(s)\n"
    )
    out = kubectl("edit", "-n", ns, "cm", "e", env={"EDITOR": f"{sys.executable} {editor}"})
    assert "edited" in out
    obj = json.loads(kubectl("get", "-n", ns, "cm", "e", "-o", "json"))
    assert obj["data"]["color"] == "green"


def test_scale(kubectl: Kubectl, ns: str) -> None:
    _apply(kubectl, ns, MANIFEST)
    assert "scaled" in kubectl("scale", "-n", ns, "deploy", "web", "--replicas=4")
    obj = json.loads(kubectl("get", "-n", ns, "deploy", "web", "-o", "json"))
    assert obj["spec"]["replicas"] == 4
    assert "scaled" in kubectl(
        "scale", "-n", ns, "deploy", "web", "--current-replicas=4", "--replicas=1"
    )
    wrong = kubectl.run("scale", "-n", ns, "deploy", "web", "--current-replicas=7", "--replicas=2")
    assert wrong.returncode != 0 and "Expected replicas to be 7, was 1" in wrong.stderr
    scale = json.loads(
        kubectl("get", "--raw", f"/apis/apps/v1/namespaces/{ns}/deployments/web/scale")
    )
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 1
    assert scale["status"]["selector"] == "app=web"


def test_delete_by_label_and_finalizers(kubectl: Kubectl, ns: str) -> None:
    for name in ("d1", "d2", "keep"):
        kubectl("create", "-n", ns, "configmap", name, "--from-literal=a=b")
    kubectl("label", "-n", ns, "cm", "d1", "d2", "gone=yes")
    out = kubectl("delete", "-n", ns, "cm", "-l", "gone=yes")
    assert 'configmap "d1" deleted' in out and 'configmap "d2" deleted' in out
    left = kubectl("get", "-n", ns, "cm", "-o", "name")
    assert "configmap/keep" in left and "configmap/d1" not in left
    # an object with a finalizer stays (deletionTimestamp set) until the finalizer goes
    kubectl(
        "patch",
        "-n",
        ns,
        "cm",
        "keep",
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":["skiff.test/hold"]}}',
    )
    kubectl("delete", "-n", ns, "cm", "keep", "--wait=false")
    held = json.loads(kubectl("get", "-n", ns, "cm", "keep", "-o", "json"))
    assert held["metadata"]["deletionTimestamp"]
    waiter = kubectl.popen("delete", "-n", ns, "cm", "keep", "--timeout=30s", "-v=6")
    # kubectl logs each request at -v=6: once it watches the object, it is waiting
    _wait_for_output(waiter, "watch=true")
    assert waiter.poll() is None  # still waiting for the finalizer
    kubectl(
        "patch",
        "-n",
        ns,
        "cm",
        "keep",
        "--type=json",
        "-p",
        '[{"op":"remove","path":"/metadata/finalizers"}]',
    )
    _out, err = waiter.communicate(timeout=30)
    assert waiter.returncode == 0, err
    gone = kubectl.run("get", "-n", ns, "cm", "keep")
    assert gone.returncode != 0 and "not found" in gone.stderr


def test_server_side_apply_conflict_and_force(kubectl: Kubectl, ns: str) -> None:
    base = textwrap.dedent(
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ssa
        data:
          owner: first
          shared: "1"
        """
    )
    out = kubectl("apply", "--server-side", "-n", ns, "-f", "-", input=base)
    assert "serverside-applied" in out
    other = base.replace("owner: first", "owner: second")
    clash = kubectl.run(
        "apply", "--server-side", "--field-manager=other", "-n", ns, "-f", "-", input=other
    )
    assert clash.returncode != 0
    assert "conflict" in clash.stderr.lower() and ".data.owner" in clash.stderr
    forced = kubectl(
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
        "-n",
        ns,
        "-f",
        "-",
        input=other,
    )
    assert "serverside-applied" in forced
    obj = json.loads(kubectl("get", "-n", ns, "cm", "ssa", "-o", "json", "--show-managed-fields"))
    assert obj["data"]["owner"] == "second"
    managers = {e["manager"] for e in obj["metadata"]["managedFields"]}
    assert {"kubectl", "other"} <= managers
    # the first manager stops applying "shared": it is removed since nobody else owns it
    # ("other" co-owns it through its own applied config, so it stays)
    first_only = textwrap.dedent(
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ssa
        data:
          extra: "yes"
        """
    )
    kubectl("apply", "--server-side", "-n", ns, "-f", "-", input=first_only)
    obj = json.loads(kubectl("get", "-n", ns, "cm", "ssa", "-o", "json"))
    assert obj["data"]["extra"] == "yes"
    assert obj["data"]["shared"] == "1"


def test_diff(kubectl: Kubectl, ns: str) -> None:
    _apply(kubectl, ns, MANIFEST)
    same = kubectl.run("diff", "-n", ns, "-f", "-", input=MANIFEST)
    assert same.returncode == 0, same.stderr
    changed = kubectl.run(
        "diff", "-n", ns, "-f", "-", input=MANIFEST.replace("replicas: 2", "replicas: 9")
    )
    assert changed.returncode == 1, changed.stderr
    assert "replicas: 9" in changed.stdout
    # diff is a dry run: nothing changed on the server
    obj = json.loads(kubectl("get", "-n", ns, "deploy", "web", "-o", "json"))
    assert obj["spec"]["replicas"] == 2


def test_explain(kubectl: Kubectl) -> None:
    out = kubectl("explain", "deployment.spec.strategy")
    assert "KIND:" in out and "Deployment" in out
    assert "rollingUpdate" in out and "type" in out
    assert "<empty>" not in out  # field docs come from our models' descriptions
    out = kubectl("explain", "pods.spec.containers.image")
    assert "FIELD: image" in out


def test_create_subcommands_protobuf(kubectl: Kubectl, ns: str) -> None:
    kubectl("create", "-n", ns, "secret", "generic", "s1", "--from-literal=k=v")
    kubectl("create", "-n", ns, "serviceaccount", "robot")
    kubectl("create", "-n", ns, "deployment", "pb", "--image=busybox:1.36", "--replicas=2")
    kubectl("create", "-n", ns, "service", "clusterip", "pbsvc", "--tcp=80:8080")
    kubectl("create", "-n", ns, "job", "j1", "--image=busybox:1.36")
    kubectl("create", "-n", ns, "cronjob", "cj", "--image=busybox:1.36", "--schedule=*/5 * * * *")
    secret = json.loads(kubectl("get", "-n", ns, "secret", "s1", "-o", "json"))
    assert secret["data"] == {"k": "dg=="}
    deploy = json.loads(kubectl("get", "-n", ns, "deploy", "pb", "-o", "json"))
    assert deploy["spec"]["replicas"] == 2
    cj = json.loads(kubectl("get", "-n", ns, "cronjob", "cj", "-o", "json"))
    assert cj["spec"]["schedule"] == "*/5 * * * *"


def test_errors_are_readable(kubectl: Kubectl, ns: str) -> None:
    bad = textwrap.dedent(
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: Bad_Name
        """
    )
    res = kubectl.run("apply", "-n", ns, "-f", "-", input=bad)
    assert res.returncode != 0
    assert "is invalid" in res.stderr and "metadata.name" in res.stderr
    unknown = textwrap.dedent(
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: ok
        dataa:
          x: y
        """
    )
    res = kubectl.run("apply", "-n", ns, "-f", "-", input=unknown)
    assert res.returncode != 0
    assert "dataa" in res.stderr
    res = kubectl.run("get", "-n", ns, "pods", "--field-selector=spec.bogus=x")
    assert res.returncode != 0 and "field label not supported" in res.stderr


def test_namespace_lifecycle(kubectl: Kubectl) -> None:
    kubectl("create", "namespace", "skiff-t-lifecycle")
    kubectl("create", "-n", "skiff-t-lifecycle", "configmap", "x", "--from-literal=a=b")
    kubectl("delete", "namespace", "skiff-t-lifecycle", "--timeout=30s")
    gone = kubectl.run("get", "namespace", "skiff-t-lifecycle")
    assert gone.returncode != 0 and "not found" in gone.stderr
    missing = kubectl.run("create", "-n", "skiff-t-nope", "configmap", "y")
    assert missing.returncode != 0 and 'namespaces "skiff-t-nope" not found' in missing.stderr
    protected = kubectl.run("delete", "namespace", "default")
    assert protected.returncode != 0 and "may not be deleted" in protected.stderr


def test_auth_can_i_and_whoami(kubectl: Kubectl) -> None:
    assert kubectl("auth", "can-i", "create", "pods").strip() == "yes"
    who = kubectl("auth", "whoami")
    assert "system:admin" in who and "system:masters" in who


def test_run_and_expose(kubectl: Kubectl, ns: str) -> None:
    assert "created" in kubectl(
        "run", "-n", ns, "web", "--image=busybox:1.36", "--port=8080", "--labels=app=run"
    )
    assert "exposed" in kubectl(
        "expose", "-n", ns, "pod", "web", "--port=80", "--target-port=8080", "--name=websvc"
    )
    svc = json.loads(kubectl("get", "-n", ns, "svc", "websvc", "-o", "json"))
    assert svc["spec"]["selector"] == {"app": "run"}
    assert svc["spec"]["ports"][0]["targetPort"] == 8080
    out = kubectl("describe", "-n", ns, "pod", "web")
    assert "node.kubernetes.io/not-ready:NoExecute op=Exists for 5s" in out


def test_delete_cascades(kubectl: Kubectl, ns: str) -> None:
    def make(name: str, owner: dict[str, str] | None = None) -> dict[str, str]:
        meta: dict[str, object] = {"name": name, "namespace": ns}
        if owner:
            meta["ownerReferences"] = [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "name": owner["name"],
                    "uid": owner["uid"],
                }
            ]
        kubectl(
            "apply",
            "-f",
            "-",
            input=json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}),
        )
        got = json.loads(kubectl("get", "-n", ns, "cm", name, "-o", "json"))
        return {"name": name, "uid": got["metadata"]["uid"]}

    owner = make("fg-owner")
    make("fg-dep", owner)
    kubectl("delete", "-n", ns, "cm", "fg-owner", "--cascade=foreground", "--timeout=30s")
    assert kubectl.run("get", "-n", ns, "cm", "fg-dep").returncode != 0  # deleted first

    owner = make("or-owner")
    make("or-dep", owner)
    kubectl("delete", "-n", ns, "cm", "or-owner", "--cascade=orphan", "--timeout=30s")
    dep = json.loads(kubectl("get", "-n", ns, "cm", "or-dep", "-o", "json"))
    assert "ownerReferences" not in dep["metadata"]

    owner = make("bg-owner")
    make("bg-dep", owner)
    kubectl("delete", "-n", ns, "cm", "bg-owner")
    for _ in range(100):
        if kubectl.run("get", "-n", ns, "cm", "bg-dep").returncode != 0:
            break
        time.sleep(0.1)
    assert kubectl.run("get", "-n", ns, "cm", "bg-dep").returncode != 0
