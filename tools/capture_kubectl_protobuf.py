"""Capture the protobuf request bodies the real kubectl sends, as test fixtures.

Dev tool, not part of the package. It starts a throwaway HTTP server on 127.0.0.1 that answers
``/version`` and legacy discovery (built from ``skiff.api.resources``), records every POST body and
answers 201 with a small JSON object. It then runs a list of ``kubectl create ...`` commands against
it and writes, for each command:

* ``tests/api/protobuf_fixtures/<name>.bin``  - the raw request body (``k8s\\x00`` + runtime.Unknown);
* ``tests/api/protobuf_fixtures/<name>.json`` - what the same command prints with
  ``--dry-run=client -o json``, i.e. the JSON form kubectl itself gives that object.

``tests/api/test_protobuf.py`` decodes every ``.bin`` and compares it with its ``.json``.

Usage: ``.venv/bin/python tools/capture_kubectl_protobuf.py [name ...]`` (needs ``kubectl`` and
``openssl`` on PATH; see docs/kubectl-wire.md section 9.1 for the wire format).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from skiff.api.resources import RESOURCES, group_versions

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "api" / "protobuf_fixtures"

# (fixture name, kubectl arguments after the global flags)
COMMANDS: list[tuple[str, list[str]]] = [
    ("namespace", ["create", "namespace", "x"]),
    ("configmap", ["create", "configmap", "c1", "--from-literal=a=b", "--from-literal=c=d"]),
    ("secret_generic", ["create", "secret", "generic", "s", "--from-literal=k=v"]),
    ("secret_tls", ["create", "secret", "tls", "t", "--cert={cert}", "--key={key}"]),
    (
        "secret_docker_registry",
        [
            "create",
            "secret",
            "docker-registry",
            "d",
            "--docker-server=r.example",
            "--docker-username=u",
            "--docker-password=p",
            "--docker-email=e@example.com",
        ],
    ),
    ("serviceaccount", ["create", "serviceaccount", "sa"]),
    ("deployment", ["create", "deployment", "web", "--image=nginx", "--replicas=2", "--port=80"]),
    ("deployment_zero", ["create", "deployment", "zero", "--image=nginx", "--replicas=0"]),
    (
        "deployment_multi",
        ["create", "deployment", "multi", "--image=nginx", "--image=busybox"],
    ),
    ("job", ["create", "job", "j", "--image=busybox", "--", "echo", "hi"]),
    (
        "cronjob",
        ["create", "cronjob", "cj", "--image=busybox", "--schedule=*/1 * * * *", "--", "date"],
    ),
    ("service_clusterip", ["create", "service", "clusterip", "s", "--tcp=80:8080"]),
    (
        "service_headless",
        ["create", "service", "clusterip", "hl", "--clusterip=None", "--tcp=53:5353"],
    ),
    (
        "service_nodeport",
        ["create", "service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080"],
    ),
    ("service_loadbalancer", ["create", "service", "loadbalancer", "lb", "--tcp=443:8443"]),
    (
        "service_externalname",
        ["create", "service", "externalname", "en", "--external-name=example.com"],
    ),
    (
        "priorityclass",
        [
            "create",
            "priorityclass",
            "pc",
            "--value=1000",
            "--description=important",
            "--preemption-policy=Never",
        ],
    ),
    ("priorityclass_default", ["create", "priorityclass", "pcd", "--value=0", "--global-default"]),
    ("pdb_min", ["create", "pdb", "p1", "--selector=app=web", "--min-available=1"]),
    ("pdb_max", ["create", "pdb", "p2", "--selector=app=web", "--max-unavailable=50%"]),
    ("role", ["create", "role", "r", "--verb=get,list", "--resource=pods,deployments.apps"]),
    (
        "role_names",
        ["create", "role", "rn", "--verb=get", "--resource=configmaps", "--resource-name=c1"],
    ),
    (
        "rolebinding",
        ["create", "rolebinding", "rb", "--role=r", "--user=alice", "--serviceaccount=default:sa"],
    ),
    (
        "clusterrole",
        [
            "create",
            "clusterrole",
            "cr",
            "--verb=get",
            "--resource=nodes",
            "--non-resource-url=/healthz",
        ],
    ),
    (
        "clusterrole_aggregate",
        ["create", "clusterrole", "agg", "--aggregation-rule=rbac.example.com/aggregate=true"],
    ),
    (
        "clusterrolebinding",
        ["create", "clusterrolebinding", "crb", "--clusterrole=cr", "--group=devs"],
    ),
    (
        "ingress",
        [
            "create",
            "ingress",
            "ing",
            "--class=nginx",
            "--rule=foo.com/bar*=svc:8080,tls=sec",
            "--rule=/exact=named:http",
            "--default-backend=def:80",
            "--annotation=a=b",
        ],
    ),
    (
        "hpa_autoscale",
        ["autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu-percent=80"],
    ),
]

# Commands whose body cannot be reproduced with --dry-run=client (no expected JSON written).
NO_DRY_RUN: list[tuple[str, list[str]]] = [
    (
        "selfsubjectaccessreview",
        ["auth", "can-i", "list", "pods", "--subresource=log", "-n", "kube-system"],
    ),
]

_DEPLOYMENT_WEB: dict[str, Any] = {
    "kind": "Deployment",
    "apiVersion": "apps/v1",
    "metadata": {"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "1"},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx"}]},
        },
    },
}

EXTRA_GROUPS: dict[str, list[dict[str, Any]]] = {
    "authorization.k8s.io/v1": [
        {
            "name": "selfsubjectaccessreviews",
            "singularName": "",
            "namespaced": False,
            "kind": "SelfSubjectAccessReview",
            "verbs": ["create"],
        },
    ],
}


def _resource_lists() -> dict[str, dict[str, Any]]:
    lists: dict[str, dict[str, Any]] = {}
    for gv in group_versions():
        lists[gv.api_version] = {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": gv.api_version,
            "resources": [],
        }
    for r in RESOURCES:
        entry = {
            "name": r.plural,
            "singularName": r.singular_name,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": list(r.verbs),
            "shortNames": list(r.short_names),
        }
        lists[r.api_version]["resources"].append(entry)
        for sub in r.subresources:
            sub_entry: dict[str, Any] = {
                "name": f"{r.plural}/{sub.name}",
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": sub.kind,
                "verbs": list(sub.verbs),
            }
            if sub.group or sub.version:
                sub_entry["group"] = sub.group
                sub_entry["version"] = sub.version
            lists[r.api_version]["resources"].append(sub_entry)
    for gv_name, resources in EXTRA_GROUPS.items():
        lists[gv_name] = {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": gv_name,
            "resources": resources,
        }
    return lists


class _Recorder:
    def __init__(self) -> None:
        self.bodies: list[tuple[str, str, bytes]] = []
        self.lock = threading.Lock()


def _make_handler(recorder: _Recorder, lists: dict[str, dict[str, Any]]) -> type:
    groups: dict[str, list[str]] = {}
    for name in lists:
        if "/" in name:
            group, _, version = name.partition("/")
            groups.setdefault(group, []).append(version)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, code: int, obj: Any) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            if path == "/version":
                self._json(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.4"})
            elif path == "/api":
                self._json(200, {"kind": "APIVersions", "versions": ["v1"]})
            elif path == "/apis":
                self._json(
                    200,
                    {
                        "kind": "APIGroupList",
                        "apiVersion": "v1",
                        "groups": [
                            {
                                "name": g,
                                "versions": [
                                    {"groupVersion": f"{g}/{v}", "version": v} for v in vs
                                ],
                                "preferredVersion": {
                                    "groupVersion": f"{g}/{vs[0]}",
                                    "version": vs[0],
                                },
                            }
                            for g, vs in groups.items()
                        ],
                    },
                )
            elif path == "/apis/apps/v1/namespaces/default/deployments/web":
                # `kubectl autoscale deployment web` reads the target first.
                self._json(200, _DEPLOYMENT_WEB)
            elif path == "/api/v1":
                self._json(200, lists["v1"])
            elif path.startswith("/apis/") and path.count("/") == 3:
                gv = path[len("/apis/") :]
                if gv in lists:
                    self._json(200, lists[gv])
                else:
                    self._json(404, {"kind": "Status", "status": "Failure", "code": 404})
            else:
                self._json(404, {"kind": "Status", "status": "Failure", "code": 404})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with recorder.lock:
                recorder.bodies.append((self.path, self.headers.get("Content-Type", ""), body))
            if "selfsubjectaccessreviews" in self.path:
                self._json(
                    201,
                    {
                        "kind": "SelfSubjectAccessReview",
                        "apiVersion": "authorization.k8s.io/v1",
                        "metadata": {},
                        "spec": {},
                        "status": {"allowed": True},
                    },
                )
                return
            self._json(201, {"metadata": {"name": "captured", "namespace": "default"}})

    return Handler


def _kubeconfig(tmp: Path, port: int) -> Path:
    path = tmp / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                "users": [{"name": "u", "user": {"token": "x"}}],
                "contexts": [
                    {"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "default"}}
                ],
                "current-context": "c",
            }
        )
    )
    return path


def _tls_files(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "tls.crt", tmp / "tls.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=fixture", "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def main(selected: list[str]) -> int:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    recorder = _Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(recorder, _resource_lists()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    failures = 0
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            kubeconfig = _kubeconfig(tmp, server.server_address[1])
            cert, key = _tls_files(tmp)
            base = ["kubectl", f"--kubeconfig={kubeconfig}", f"--cache-dir={tmp / 'cache'}"]
            for name, args, dry in [(n, a, True) for n, a in COMMANDS] + [
                (n, a, False) for n, a in NO_DRY_RUN
            ]:
                if selected and name not in selected:
                    continue
                args = [a.format(cert=cert, key=key) for a in args]
                with recorder.lock:
                    recorder.bodies.clear()
                run = subprocess.run(base + args, capture_output=True, text=True)
                with recorder.lock:
                    posts = list(recorder.bodies)
                if not posts:
                    print(f"{name}: no POST captured (rc={run.returncode}): {run.stderr.strip()}")
                    failures += 1
                    continue
                path, content_type, body = posts[-1]
                if content_type != "application/vnd.kubernetes.protobuf":
                    print(f"{name}: POST {path} was {content_type!r}, not protobuf")
                    failures += 1
                    continue
                (FIXTURES / f"{name}.bin").write_bytes(body)
                if dry:
                    # The flags must go before a "--" that starts the container command.
                    cut = args.index("--") if "--" in args else len(args)
                    dry_args = [*args[:cut], "--dry-run=client", "-o", "json", *args[cut:]]
                    out = subprocess.run(
                        [*base, *dry_args], capture_output=True, text=True, check=True
                    )
                    expected = json.loads(out.stdout)
                    # Keep kubectl's key order: the test checks Go struct order too.
                    (FIXTURES / f"{name}.json").write_text(json.dumps(expected, indent=2) + "\n")
                print(f"{name}: POST {path} ({len(body)} bytes)")
    finally:
        server.shutdown()
        server.server_close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
