"""End to end on a real node: `skiff apiserver` + controller-manager + `skiff agent --runtime runc
--offline` (joined with the token), driven with real kubectl and the Python client. Root and runc
only (CI runs as root); everything is removed afterwards by `skiff agent cleanup`, which the last
test checks.

Covers: a Deployment (scheduled by the scheduler) that keeps 3 ready replicas when a pod is
deleted, when a container is killed and when one is OOM-killed, and rolls out a new image without
dropping below 3 ready pods; a Job and a CronJob completing; a pod serving HTTP on its pod IP (the skiff0 bridge), logs, exec (exit codes passed
through), attach with stdin, port-forward, `kubectl debug` (an ephemeral container in the pod's
network namespace); crash restarts with growing back-off
(CrashLoopBackOff); a failed liveness probe restarting the container; readiness following an exec
probe both ways; OOMKilled read from the cgroup; graceful termination honouring the grace period;
a pull from a registry on 127.0.0.1 and the offline refusal of a public image; the agent killed
with SIGKILL and restarted without restarting its containers; a second agent (fake runtime)
joining with the token, a wrong token and a stolen node name refused; the agent endpoint refusing
a caller without the API server's client certificate; cleanup leaving no bridge, route, nft
table, network namespace, runc container, mount or cgroup.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from skiff.testing.cluster import Kubectl, ServerProcess, free_port
from skiff.testing.images import LocalRegistry, build_busybox_layout, build_web_layout

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runc") is None or shutil.which("nft") is None,
    reason="needs root, runc and nft (CI runs as root)",
)

NODE = "skiff-e2e"
WEB = "skiff-examples/web:1.0"
BOX = "skiff-test/busybox:1.0"


def _skiff(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "skiff", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"skiff {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def _leftovers(data: Path) -> list[str]:
    """What an agent could leave on the host."""
    out: list[str] = []
    if Path("/sys/class/net/skiff0").exists():
        out.append("link skiff0")
    routes = subprocess.run(["ip", "route", "show", "table", "all"], capture_output=True, text=True)
    out += [
        f"route {r}"
        for r in routes.stdout.splitlines()
        if r.startswith(("unreachable 10.42.", "unreachable 10.43.", "10.42."))
    ]
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    out += [f"nft {t}" for t in tables.splitlines() if "skiff" in t]
    netns = Path("/run/netns")
    if netns.is_dir():
        out += [f"netns {n.name}" for n in netns.iterdir() if n.name.startswith("skiff-")]
    mounts = Path("/proc/mounts").read_text()
    out += [f"mount {m.split()[1]}" for m in mounts.splitlines() if str(data) in m]
    for ctrl in ("memory", "cpu", "pids"):
        cg = Path("/sys/fs/cgroup") / ctrl / "skiff" / NODE
        if cg.exists():
            out.append(f"cgroup {cg}")
    root = data / "agent" / NODE / "state" / "runc" / "root"
    if root.is_dir():
        listed = subprocess.run(
            ["runc", "--root", str(root), "list", "-q"], capture_output=True, text=True
        )
        out += [f"runc {c}" for c in listed.stdout.split()]
    return out


@pytest.fixture(scope="module")
def registry() -> Iterator[LocalRegistry]:
    root = Path(tempfile.mkdtemp(prefix="skiff-e2e-registry-"))
    try:
        with LocalRegistry(root / "store") as reg:
            layout = build_busybox_layout(root / "box", name="skiff-test/pulled", tag="2.0")
            reg.push(layout, "skiff-test/pulled", "2.0")
            yield reg
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def data() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="skiff-e2e-"))
    try:
        yield path
    finally:
        # whatever happened, remove what the agent made (containers, bridge, mounts, cgroups)
        _skiff(
            "agent",
            "cleanup",
            "--data-dir",
            str(path),
            "--node-name",
            NODE,
            "--runtime",
            "runc",
            check=False,
        )
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def server(data: Path, registry: LocalRegistry) -> Iterator[ServerProcess]:
    for layout in (
        build_web_layout(data / "layouts" / "web"),
        build_busybox_layout(data / "layouts" / "box", name="skiff-test/busybox", tag="1.0"),
    ):
        _skiff("image", "import", "--data-dir", str(data), "--node-name", NODE, str(layout))
    # a second version of the web image for rolling updates
    web2 = build_web_layout(data / "layouts" / "web2", tag="2.0", page=b"<h1>version 2</h1>\n")
    _skiff("image", "import", "--data-dir", str(data), "--node-name", NODE, str(web2))
    proc = ServerProcess(
        data_dir=data,
        controller_manager=True,
        scheduler=True,
        agent=True,
        agent_args=["--runtime", "runc", "--offline", "--node-name", NODE],
    )
    try:
        proc.start(timeout=60)
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def kubectl(server: ServerProcess) -> Iterator[Kubectl]:
    k = Kubectl(server.kubeconfig)
    # pods are refused until the default ServiceAccount exists
    for _ in range(200):
        if k.run("get", "serviceaccount", "default").returncode == 0:
            break
        time.sleep(0.05)
    try:
        yield k
    finally:
        k.cleanup()


def _until(check: Callable[[], Any], *, within: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {within}s")
        time.sleep(0.1)


def _pod(kubectl: Kubectl, name: str) -> dict[str, Any]:
    return dict(json.loads(kubectl("get", "pod", name, "-o", "json")))


def _apply_pod(kubectl: Kubectl, name: str, spec: dict[str, Any]) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"nodeName": NODE, **spec},
    }
    kubectl("apply", "-f", "-", input=json.dumps(body))


def _status(pod: dict[str, Any]) -> dict[str, Any]:
    statuses = pod.get("status", {}).get("containerStatuses") or [{}]
    return dict(statuses[0])


def _ready_pod(kubectl: Kubectl, name: str) -> dict[str, Any] | None:
    pod = _pod(kubectl, name)
    return pod if _ready(pod) else None


def _ready(pod: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in pod.get("status", {}).get("conditions", [])
    )


def test_web_pod_logs_exec_attach_port_forward(kubectl: Kubectl) -> None:
    _apply_pod(
        kubectl,
        "web",
        {
            "containers": [
                {
                    "name": "web",
                    "image": WEB,
                    "imagePullPolicy": "IfNotPresent",
                    "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1},
                }
            ]
        },
    )
    pod = _until(lambda: _ready_pod(kubectl, "web"), what="web Ready")
    ip = pod["status"]["podIP"]
    assert ip.startswith("10.42.")
    with urllib.request.urlopen(f"http://{ip}:8080/", timeout=5) as r:
        assert b"Hello from skiff" in r.read()
    assert _status(pod)["containerID"].startswith("runc://")
    assert _status(pod)["imageID"].startswith("sha256:") or "@sha256:" in _status(pod)["imageID"]
    logs = _until(lambda: kubectl("logs", "web"), what="access log")
    assert "response:200" in logs
    res = kubectl.run("exec", "web", "--", "sh", "-c", "hostname; exit 3")
    assert res.returncode == 3 and res.stdout.strip() == "web"
    # port-forward through the API server to the agent and into the pod's namespace
    port = free_port()
    pf = subprocess.Popen(
        kubectl.argv("port-forward", "pod/web", f"{port}:8080"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def fetch() -> bytes | None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    return bytes(r.read())
            except OSError:
                return None

        assert b"Hello from skiff" in _until(fetch, within=20, what="port-forward")
    finally:
        pf.terminate()
        pf.wait(10)
    # attach with stdin: cat echoes what kubectl sends, and ends when stdin closes (stdinOnce)
    _apply_pod(
        kubectl,
        "cat",
        {
            "restartPolicy": "Never",
            "containers": [
                {"name": "cat", "image": BOX, "command": ["cat"], "stdin": True, "stdinOnce": True}
            ],
        },
    )
    _until(
        lambda: _status(_pod(kubectl, "cat")).get("state", {}).get("running"), what="cat running"
    )
    out = kubectl("attach", "-i", "cat", input="hello attach\n", timeout=30)
    assert "hello attach" in out
    # kubectl debug adds an ephemeral container to the running pod (pods/ephemeralcontainers)
    kubectl(
        "debug",
        "web",
        f"--image={BOX}",
        "--image-pull-policy=IfNotPresent",
        "--container=dbg",
        "--",
        "sh",
        "-c",
        "echo debug-ok; wget -qO- http://127.0.0.1:8080/ | head -2",
    )

    def debugged() -> str:
        res = kubectl.run("logs", "web", "-c", "dbg")
        return res.stdout if res.returncode == 0 and "debug-ok" in res.stdout else ""

    out = _until(debugged, what="the debug container's output")
    assert "<title>skiff</title>" in out  # it shares the pod's network namespace


def test_crash_back_off_and_liveness(kubectl: Kubectl) -> None:
    _apply_pod(
        kubectl,
        "crash",
        {"containers": [{"name": "c", "image": BOX, "command": ["sh", "-c", "echo boom; exit 1"]}]},
    )
    seen_backoff = False

    def restarted_three_times() -> bool:
        nonlocal seen_backoff
        st = _status(_pod(kubectl, "crash"))
        if st.get("state", {}).get("waiting", {}).get("reason") == "CrashLoopBackOff":
            seen_backoff = True
        return int(st.get("restartCount") or 0) >= 3

    start = time.monotonic()
    _until(restarted_three_times, within=40, what="three restarts")
    elapsed = time.monotonic() - start
    assert seen_backoff
    assert elapsed >= 2.5  # 0 s, then 1 s, then 2 s of back-off at least
    st = _status(_pod(kubectl, "crash"))
    assert st["lastState"]["terminated"]["exitCode"] == 1
    assert st["lastState"]["terminated"]["reason"] == "Error"
    assert "boom" in kubectl("logs", "crash", "--previous")

    _apply_pod(
        kubectl,
        "live",
        {
            # sh as PID 1 ignores SIGTERM: the kill after the failed probe waits out the grace
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "c",
                    "image": BOX,
                    "command": ["sh", "-c", "touch /tmp/alive; sleep 2; rm /tmp/alive; sleep 600"],
                    "livenessProbe": {
                        "exec": {"command": ["cat", "/tmp/alive"]},
                        "periodSeconds": 1,
                        "failureThreshold": 1,
                    },
                }
            ],
        },
    )
    _until(
        lambda: int(_status(_pod(kubectl, "live")).get("restartCount") or 0) >= 1,
        within=30,
        what="liveness restart",
    )
    events = kubectl("get", "events", "--field-selector", "involvedObject.name=live", "-o", "json")
    reasons = {e["reason"] for e in json.loads(events)["items"]}
    assert {"Unhealthy", "Killing"} <= reasons


def test_readiness_follows_the_probe(kubectl: Kubectl) -> None:
    _apply_pod(
        kubectl,
        "ready",
        {
            "containers": [
                {
                    "name": "c",
                    "image": BOX,
                    "command": ["sleep", "600"],
                    "readinessProbe": {
                        "exec": {"command": ["cat", "/tmp/ready"]},
                        "periodSeconds": 1,
                    },
                }
            ]
        },
    )
    _until(lambda: _status(_pod(kubectl, "ready")).get("state", {}).get("running"), what="running")
    assert not _ready(_pod(kubectl, "ready"))
    kubectl("exec", "ready", "--", "touch", "/tmp/ready")
    _until(lambda: _ready(_pod(kubectl, "ready")), what="Ready")
    kubectl("exec", "ready", "--", "rm", "/tmp/ready")
    _until(lambda: not _ready(_pod(kubectl, "ready")), what="not Ready again")


def test_oom_killed(kubectl: Kubectl) -> None:
    _apply_pod(
        kubectl,
        "oom",
        {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "c",
                    "image": BOX,
                    "command": ["sh", "-c", "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done"],
                    "resources": {"limits": {"memory": "16Mi"}},
                }
            ],
        },
    )
    st = _until(
        lambda: (s := _status(_pod(kubectl, "oom"))).get("state", {}).get("terminated") and s,
        within=60,
        what="OOM kill",
    )
    assert st["state"]["terminated"]["reason"] == "OOMKilled"
    assert _pod(kubectl, "oom")["status"]["phase"] == "Failed"


def test_graceful_termination(kubectl: Kubectl) -> None:
    _apply_pod(
        kubectl,
        "grace",
        {
            "terminationGracePeriodSeconds": 2,
            "containers": [
                {
                    "name": "c",
                    "image": BOX,
                    "command": ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"],
                }
            ],
        },
    )
    _until(lambda: _status(_pod(kubectl, "grace")).get("state", {}).get("running"), what="running")
    start = time.monotonic()
    kubectl("delete", "pod", "grace", "--wait=true", timeout=60)
    took = time.monotonic() - start
    # SIGTERM is ignored: SIGKILL comes after the 2 s grace period, not before, not much later
    assert 1.5 <= took < 15, took


def test_pull_from_a_local_registry_and_offline_refusal(
    kubectl: Kubectl, registry: LocalRegistry
) -> None:
    _apply_pod(
        kubectl,
        "pulled",
        {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "c",
                    "image": f"{registry.host}/skiff-test/pulled:2.0",
                    "command": ["echo", "pulled ok"],
                }
            ],
        },
    )
    _until(
        lambda: _pod(kubectl, "pulled")["status"].get("phase") == "Succeeded",
        within=60,
        what="pulled pod done",
    )
    assert "pulled ok" in kubectl("logs", "pulled")
    _apply_pod(kubectl, "public", {"containers": [{"name": "c", "image": "nginx:1.27"}]})

    def refused() -> dict[str, Any] | None:
        waiting = _status(_pod(kubectl, "public")).get("state", {}).get("waiting") or {}
        return waiting if waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff") else None

    _until(refused, what="offline refusal")

    def pull_failed() -> list[str]:
        events = kubectl(
            "get", "events", "--field-selector", "involvedObject.name=public", "-o", "json"
        )
        return [e["message"] for e in json.loads(events)["items"] if e["reason"] == "Failed"]

    # the refusal names the setting, and comes before any lookup of a public name
    assert "offline" in " ".join(_until(pull_failed, what="Failed event"))


def test_agent_sigkill_keeps_containers(server: ServerProcess, kubectl: Kubectl) -> None:
    before = _status(_pod(kubectl, "web"))
    assert server.agent_process is not None
    server.stop_agent(sig=signal.SIGKILL)
    server.start_agent(timeout=60)
    after = _until(
        lambda: (s := _status(_pod(kubectl, "web"))).get("ready") and s,
        what="web ready after restart",
    )
    assert after["containerID"] == before["containerID"]
    assert after["restartCount"] == before["restartCount"]
    ip = _pod(kubectl, "web")["status"]["podIP"]
    with urllib.request.urlopen(f"http://{ip}:8080/", timeout=5) as r:
        assert r.status == 200


def test_joining_agents(server: ServerProcess, kubectl: Kubectl, tmp_path: Path) -> None:
    token = (server.data_dir / "server" / "token").read_text().strip()
    name = f"skiff-e2e-fake-{uuid.uuid4().hex[:6]}"
    ready = tmp_path / "ready"
    fake = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skiff",
            "agent",
            "--server",
            server.url,
            "--token",
            token,
            "--runtime",
            "fake",
            "--node-name",
            name,
            "--data-dir",
            str(tmp_path / "fake"),
            "--node-ip",
            "127.0.0.1",
            "--agent-port",
            str(free_port()),
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _until(ready.exists, within=60, what="fake agent ready")
        node = json.loads(kubectl("get", "node", name, "-o", "json"))
        assert node["spec"]["podCIDR"].startswith("10.42.")
        # a wrong token: a clear refusal
        bad = _skiff(
            "agent",
            "--server",
            server.url,
            "--token",
            token[:-4] + "beef",
            "--runtime",
            "fake",
            "--node-name",
            "skiff-e2e-bad",
            "--data-dir",
            str(tmp_path / "bad"),
            check=False,
        )
        assert bad.returncode == 1
        assert "token" in bad.stderr.lower()
        # a stolen node name: another machine (other data dir, other password) is refused
        stolen = _skiff(
            "agent",
            "--server",
            server.url,
            "--token",
            token,
            "--runtime",
            "fake",
            "--node-name",
            NODE,
            "--data-dir",
            str(tmp_path / "thief"),
            check=False,
        )
        assert stolen.returncode == 1
        assert "already registered" in stolen.stderr
    finally:
        fake.send_signal(signal.SIGTERM)
        fake.wait(20)
        kubectl.run("delete", "node", name, "--wait=false")


def test_agent_endpoint_requires_the_api_servers_certificate(
    server: ServerProcess, kubectl: Kubectl
) -> None:
    node = json.loads(kubectl("get", "node", NODE, "-o", "json"))
    port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
    ctx = ssl.create_default_context(cafile=str(server.data_dir / "server" / "tls" / "ca.crt"))
    ctx.check_hostname = False
    with (
        pytest.raises((ssl.SSLError, ConnectionResetError, OSError)),
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw) as tls,
    ):
        tls.sendall(b"GET /pods HTTP/1.1\r\nHost: x\r\n\r\n")
        if not tls.recv(1):
            raise ConnectionResetError("closed without an answer")
    # through the API server (which holds the client certificate) it answers
    assert "web" in kubectl("get", "--raw", f"/api/v1/nodes/{NODE}/proxy/pods")


def _deployment_pods(kubectl: Kubectl, app: str) -> list[dict[str, Any]]:
    out = json.loads(kubectl("get", "pods", "-l", f"app={app}", "-o", "json"))["items"]
    return [p for p in out if not p["metadata"].get("deletionTimestamp")]


def _ready_count(kubectl: Kubectl, app: str) -> int:
    return sum(1 for p in _deployment_pods(kubectl, app) if _ready(p))


def _container_pid(data: Path, pod: dict[str, Any]) -> int:
    cid = _status(pod)["containerID"].removeprefix("runc://")
    root = data / "agent" / NODE / "state" / "runc" / "root"
    state = subprocess.run(
        ["runc", "--root", str(root), "state", cid], capture_output=True, text=True, check=True
    )
    return int(json.loads(state.stdout)["pid"])


def test_deployment_heals_and_rolls_out(kubectl: Kubectl, data: Path) -> None:
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "heal"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "heal"}},
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "heal"}},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [
                        {
                            "name": "web",
                            "image": WEB,
                            "imagePullPolicy": "IfNotPresent",
                            "readinessProbe": {
                                "httpGet": {"path": "/", "port": 8080},
                                "periodSeconds": 1,
                            },
                        },
                        {
                            # allocates without bound once /tmp/boom exists: an OOM kill on cue
                            "name": "hog",
                            "image": BOX,
                            "command": [
                                "sh",
                                "-c",
                                "while [ ! -f /tmp/boom ]; do sleep 0.2; done; "
                                "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done",
                            ],
                            "resources": {"limits": {"memory": "16Mi"}},
                        },
                    ],
                },
            },
        },
    }
    kubectl("apply", "-f", "-", input=json.dumps(manifest))
    _until(lambda: _ready_count(kubectl, "heal") == 3, within=60, what="3 ready replicas")

    # a deleted pod is replaced
    victim = _deployment_pods(kubectl, "heal")[0]["metadata"]["name"]
    kubectl("delete", "pod", victim, "--wait=false")
    _until(
        lambda: (
            _ready_count(kubectl, "heal") == 3
            and victim not in {p["metadata"]["name"] for p in _deployment_pods(kubectl, "heal")}
        ),
        within=60,
        what="the deleted pod replaced",
    )
    # a killed container is restarted
    pod = _deployment_pods(kubectl, "heal")[0]
    name = pod["metadata"]["name"]
    os.kill(_container_pid(data, pod), signal.SIGKILL)
    _until(
        lambda: (
            int(_status(_pod(kubectl, name)).get("restartCount") or 0) >= 1
            and _ready(_pod(kubectl, name))
        ),
        within=60,
        what="the killed container restarted",
    )
    # an OOM-killed container is restarted and reported
    pod = _deployment_pods(kubectl, "heal")[1]
    name = pod["metadata"]["name"]
    kubectl("exec", name, "-c", "hog", "--", "touch", "/tmp/boom")

    def oom_reported() -> bool:
        statuses = _pod(kubectl, name)["status"].get("containerStatuses") or []
        hog = next((s for s in statuses if s["name"] == "hog"), {})
        last = (hog.get("lastState") or {}).get("terminated") or {}
        return last.get("reason") == "OOMKilled"

    _until(oom_reported, within=60, what="OOMKilled in lastState")
    _until(lambda: _ready_count(kubectl, "heal") == 3, within=60, what="3 ready after the OOM kill")

    # a rolling update never drops below replicas - maxUnavailable (3) ready pods
    lowest = 3
    kubectl("set", "image", "deployment/heal", "web=skiff-examples/web:2.0")

    def rolled() -> bool:
        nonlocal lowest
        pods = _deployment_pods(kubectl, "heal")
        lowest = min(lowest, sum(1 for p in pods if _ready(p)))
        images = {c["image"] for p in pods for c in p["spec"]["containers"] if c["name"] == "web"}
        return images == {"skiff-examples/web:2.0"} and sum(1 for p in pods if _ready(p)) == 3

    _until(rolled, within=120, what="rolled out to web:2.0")
    assert lowest >= 3, lowest
    out = kubectl("rollout", "status", "deployment/heal", "--timeout=60s", timeout=90)
    assert "successfully rolled out" in out
    ip = _deployment_pods(kubectl, "heal")[0]["status"]["podIP"]
    with urllib.request.urlopen(f"http://{ip}:8080/", timeout=5) as r:
        assert b"version 2" in r.read()
    kubectl("delete", "deployment", "heal", "--wait=false")


def test_job_and_cronjob_complete(kubectl: Kubectl) -> None:
    kubectl("create", "job", "once", f"--image={BOX}", "--", "sh", "-c", "echo job-ok")
    kubectl("wait", "--for=condition=complete", "job/once", "--timeout=60s", timeout=90)
    assert "job-ok" in kubectl("logs", "job/once")
    kubectl(
        "create", "cronjob", "tick", f"--image={BOX}", "--schedule=@every 2s", "--", "echo", "tick"
    )

    def a_run_completed() -> bool:
        jobs = json.loads(kubectl("get", "jobs", "-o", "json"))["items"]
        return any(
            (j["metadata"].get("ownerReferences") or [{}])[0].get("name") == "tick"
            and any(c["type"] == "Complete" for c in j.get("status", {}).get("conditions", []))
            for j in jobs
        )

    _until(a_run_completed, within=60, what="a CronJob run completed")
    kubectl("delete", "cronjob", "tick", "--wait=false")


def test_cleanup_leaves_nothing(server: ServerProcess, data: Path) -> None:
    assert _leftovers(data), "the agent should have made something to clean up"
    server.stop()
    _skiff("agent", "cleanup", "--data-dir", str(data), "--node-name", NODE, "--runtime", "runc")
    assert _leftovers(data) == []
