"""An operator built with kopf (from PyPI) against a ``skiff apiserver`` process: it watches
its own CRD's objects, and its create, update and delete handlers fire (the delete handler
through kopf's finalizer on the custom object)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from skiff.testing.cluster import Kubectl, ServerProcess

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "pets.kopf.example.com"},
    "spec": {
        "group": "kopf.example.com",
        "scope": "Namespaced",
        "names": {"plural": "pets", "singular": "pet", "kind": "Pet"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {"sound": {"type": "string"}},
                            },
                            "status": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                        },
                    }
                },
            }
        ],
    },
}

OPERATOR = """
import os
import kopf

LOG = os.environ["SKIFF_KOPF_LOG"]


def note(line):
    with open(LOG, "a") as f:
        f.write(line + "\\n")


@kopf.on.startup()
def configure(settings, **_):
    settings.watching.server_timeout = 30
    settings.posting.enabled = False


@kopf.on.create("kopf.example.com", "v1", "pets")
def created(spec, name, **_):
    note(f"create {name} {spec.get('sound')}")
    return {"greeted": True}


@kopf.on.update("kopf.example.com", "v1", "pets")
def updated(spec, name, **_):
    note(f"update {name} {spec.get('sound')}")


@kopf.on.delete("kopf.example.com", "v1", "pets")
def deleted(name, **_):
    note(f"delete {name}")
"""


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def wait_for_line(path: Path, line: str, proc: subprocess.Popen[bytes], within: float = 30) -> None:
    deadline = time.monotonic() + within
    while line not in _lines(path):
        if proc.poll() is not None:
            raise AssertionError(f"the operator exited ({proc.returncode})")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {line!r} in the operator's log: {_lines(path)}")
        time.sleep(0.1)


@pytest.fixture
def operator(
    server: ServerProcess, kubectl: Kubectl
) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    kubectl("apply", "-f", "-", input=json.dumps(CRD))
    kubectl("wait", "--for=condition=Established", "crd/pets.kopf.example.com", "--timeout=20s")
    work = Path(tempfile.mkdtemp(prefix="skiff-kopf-"))
    script = work / "operator.py"
    script.write_text(OPERATOR)
    log = work / "handled.log"
    env = dict(os.environ, KUBECONFIG=str(server.kubeconfig), SKIFF_KOPF_LOG=str(log))
    out = (work / "operator.out").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kopf", "run", "--standalone", "--all-namespaces", str(script)],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out.close()
    try:
        yield log, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        print((work / "operator.out").read_text()[-4000:])
        shutil.rmtree(work, ignore_errors=True)
        kubectl.run("delete", "crd", "pets.kopf.example.com", "--ignore-not-found", "--wait=false")


def test_kopf_handlers_fire(
    kubectl: Kubectl, ns: str, operator: tuple[Path, subprocess.Popen[bytes]]
) -> None:
    log, proc = operator
    pet = {
        "apiVersion": "kopf.example.com/v1",
        "kind": "Pet",
        "metadata": {"name": "rex", "namespace": ns},
        "spec": {"sound": "woof"},
    }
    kubectl("apply", "-f", "-", input=json.dumps(pet))
    wait_for_line(log, "create rex woof", proc)
    got = json.loads(kubectl("get", "pet", "rex", "-n", ns, "-o", "json"))
    assert got["status"]["created"] == {"greeted": True}
    pet["spec"]["sound"] = "grr"
    kubectl("apply", "-f", "-", input=json.dumps(pet))
    wait_for_line(log, "update rex grr", proc)
    kubectl("delete", "pet", "rex", "-n", ns, "--timeout=30s")
    wait_for_line(log, "delete rex", proc)
