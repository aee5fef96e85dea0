"""The ``skiff server`` and ``skiff apiserver`` processes: first start, restart, supervision.

Covers: credentials written on first start (CA, serving certificate names, admin token, join token
pinning the CA, kubeconfig), reuse of all of them and of the data on restart; the supervisor
starting the API server then the controller-manager, restarting either when killed (garbage
collection, namespace deletion and PodDisruptionBudget status keep working after the
controller-manager is SIGKILLed), stopping both on SIGTERM, and naming the child that failed to
start and why. Excludes the agent (later issues).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from skiff.client import Client, NotFound, load_kubeconfig
from skiff.testing.cluster import Kubectl, ServerProcess, free_port


def _ca_sha256(path: Path) -> str:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def test_restart_reuses_credentials_and_data() -> None:
    data = Path(tempfile.mkdtemp(prefix="skiff-it-restart-"))
    proc = ServerProcess(data_dir=data)
    try:
        proc.start()
        kubectl = Kubectl(proc.kubeconfig)
        kubectl("create", "configmap", "survivor", "--from-literal=a=b")
        ca_before = proc.ca_file.read_bytes()
        token_before = proc.token
        join_before = (data / "server" / "token").read_text()
        proc.restart()
        assert proc.ca_file.read_bytes() == ca_before
        assert proc.token == token_before
        assert (data / "server" / "token").read_text() == join_before
        # the old kubeconfig still works and the data survived
        obj = json.loads(kubectl("get", "configmap", "survivor", "-o", "json"))
        assert obj["data"] == {"a": "b"}
        kubectl.cleanup()
    finally:
        proc.stop()
        shutil.rmtree(data, ignore_errors=True)


def test_first_start_writes_credentials() -> None:
    data = Path(tempfile.mkdtemp(prefix="skiff-it-creds-"))
    proc = ServerProcess(data_dir=data)
    try:
        proc.start()
        join = (data / "server" / "token").read_text().strip()
        assert join.startswith("K10")
        assert join[3:].split("::")[0] == _ca_sha256(proc.ca_file)
        assert join.split("::")[1].startswith("server:")
        cfg = yaml.safe_load(proc.kubeconfig.read_text())
        assert cfg["clusters"][0]["cluster"]["server"] == f"https://127.0.0.1:{proc.port}"
        assert cfg["users"][0]["user"]["token"] == proc.token
        serving = x509.load_pem_x509_certificate(
            (data / "server" / "tls" / "serving.crt").read_bytes()
        )
        san = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = set(san.get_values_for_type(x509.DNSName))
        ips = {str(i) for i in san.get_values_for_type(x509.IPAddress)}
        assert {"localhost", "kubernetes.default.svc.cluster.local"} <= dns
        assert {"127.0.0.1", "10.43.0.1"} <= ips
        key_mode = (data / "server" / "tls" / "ca.key").stat().st_mode & 0o777
        assert key_mode == 0o600
    finally:
        proc.stop()
        shutil.rmtree(data, ignore_errors=True)


def _start_server(data: Path, port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skiff",
            "server",
            "--data-dir",
            str(data),
            "--https-port",
            str(port),
            "--bind-address",
            "127.0.0.1",
            "--no-agent",  # these tests are about the control plane
            # a SIGKILLed controller-manager keeps the Lease until it expires: keep that short
            "--leader-elect-lease-duration=3",
            "--leader-elect-renew-deadline=2",
            "--leader-elect-retry-period=0.5",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _child(sup: int, role: str) -> int | None:
    for pid in _children(sup):
        if f" {role} " in f" {_cmdline(pid)} ":
            return pid
    return None


def _wait_new_child(sup: int, role: str, old: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = _child(sup, role)
        if pid is not None and pid != old:
            return pid
        time.sleep(0.1)
    raise AssertionError(f"{role} was not restarted")


def _wait_file(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


async def _controllers_work(kubeconfig: Path, tag: str) -> None:
    """Garbage collection, namespace deletion and PodDisruptionBudget status, end to end."""

    async def until(check: object, what: str) -> None:
        # a controller-manager killed with SIGKILL held the Lease: its successor acts once the
        # Lease expires, as in Kubernetes
        deadline = time.monotonic() + 30
        while not await check():  # type: ignore[operator]
            assert time.monotonic() < deadline, what
            await asyncio.sleep(0.05)

    async with Client(load_kubeconfig(kubeconfig)) as c:
        owner = await c.create(
            "configmaps", {"metadata": {"name": f"owner-{tag}"}}, namespace="default"
        )
        ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": f"owner-{tag}"}
        ref["uid"] = owner["metadata"]["uid"]
        body = {"metadata": {"name": f"dep-{tag}", "ownerReferences": [ref]}}
        await c.create("configmaps", body, namespace="default")
        await c.delete("configmaps", f"owner-{tag}", namespace="default")

        async def dep_gone() -> bool:
            try:
                await c.get("configmaps", f"dep-{tag}", namespace="default")
            except NotFound:
                return True
            return False

        await until(dep_gone, "garbage collection")
        await c.create("namespaces", {"metadata": {"name": f"ns-{tag}"}})
        await c.create("configmaps", {"metadata": {"name": "x"}}, namespace=f"ns-{tag}")
        await c.delete("namespaces", f"ns-{tag}")

        async def ns_gone() -> bool:
            try:
                await c.get("namespaces", f"ns-{tag}")
            except NotFound:
                return True
            return False

        await until(ns_gone, "namespace deletion")
        pdb = {
            "metadata": {"name": f"pdb-{tag}"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": tag}}},
        }
        await c.create("poddisruptionbudgets", pdb, namespace="default")

        async def pdb_status() -> bool:
            got = await c.get("poddisruptionbudgets", f"pdb-{tag}", namespace="default")
            status = got.get("status") or {}
            return bool(status.get("observedGeneration") == got["metadata"]["generation"])

        await until(pdb_status, "PodDisruptionBudget status")


def test_server_supervises_apiserver_and_controller_manager() -> None:
    data = Path(tempfile.mkdtemp(prefix="skiff-it-super-"))
    port = free_port()
    log = open(data / "server.log", "wb")  # noqa: SIM115 - closed below
    sup = _start_server(data, port, log)
    probe = ServerProcess(data_dir=data, port=port)
    try:
        probe.wait_ready(timeout=30)
        _wait_file(data / "server" / "controller-manager.ready")
        children = _children(sup.pid)
        # the API server, then the controller-manager (then the scheduler and others)
        apiserver, cm = _child(sup.pid, "apiserver"), _child(sup.pid, "controller-manager")
        assert apiserver is not None and cm is not None
        assert {apiserver, cm} <= set(children)
        text = (data / "server.log").read_text(errors="replace")
        # started in that order, the second once the first was ready
        assert (
            text.index("started apiserver")
            < text.index("apiserver is ready")
            < text.index("started controller-manager")
        )
        asyncio.run(_controllers_work(probe.kubeconfig, "a"))

        os.kill(cm, signal.SIGKILL)  # the controller-manager dies; the supervisor restarts it
        cm = _wait_new_child(sup.pid, "controller-manager", cm)
        asyncio.run(_controllers_work(probe.kubeconfig, "b"))

        os.kill(apiserver, signal.SIGKILL)  # so does the API server
        _wait_new_child(sup.pid, "apiserver", apiserver)
        probe.wait_ready(timeout=30)
        kubectl = Kubectl(probe.kubeconfig)
        assert "default" in kubectl("get", "namespaces")
        kubectl.cleanup()
        # (a controller-manager that could not renew its Lease meanwhile exits and is restarted)
        asyncio.run(_controllers_work(probe.kubeconfig, "c"))

        sup.send_signal(signal.SIGTERM)
        assert sup.wait(timeout=30) == 0
        assert _children(sup.pid) == []
        text = (data / "server.log").read_text(errors="replace")
        # stopped in reverse order
        assert text.index("stopping controller-manager") < text.index("stopping apiserver")
    finally:
        if sup.poll() is None:
            for child in _children(sup.pid):
                os.kill(child, signal.SIGKILL)
            sup.kill()
            sup.wait()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


def test_server_names_the_controller_manager_when_it_cannot_start() -> None:
    data = Path(tempfile.mkdtemp(prefix="skiff-it-badcm-"))
    try:
        res = subprocess.run(
            [
                sys.executable,
                "-m",
                "skiff",
                "server",
                "--data-dir",
                str(data),
                "--https-port",
                str(free_port()),
                "--bind-address",
                "127.0.0.1",
                "--no-agent",  # these tests are about the control plane
                "--controllers",
                "*,-no-such-controller",
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert res.returncode == 2, res.stderr
        assert "controller-manager failed to start (exit code 2)" in res.stderr
        assert '"no-such-controller" is not in the list of known controllers' in res.stderr
        assert "stopping apiserver" in res.stderr  # what had started is stopped again
    finally:
        shutil.rmtree(data, ignore_errors=True)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def test_secrets_are_encrypted_at_rest() -> None:
    data = Path(tempfile.mkdtemp(prefix="skiff-it-enc-"))
    proc = ServerProcess(data_dir=data)
    try:
        proc.start()
        kubectl = Kubectl(proc.kubeconfig)
        kubectl("create", "secret", "generic", "vault", "--from-literal=pw=plaintext-canary-42")
        kubectl("create", "configmap", "open", "--from-literal=note=visible-canary-42")
        obj = json.loads(kubectl("get", "secret", "vault", "-o", "json"))
        assert obj["data"]["pw"] == "cGxhaW50ZXh0LWNhbmFyeS00Mg=="
        kubectl.cleanup()
        proc.stop()  # flush the WAL into the database file
        raw = b"".join(p.read_bytes() for p in (data / "server" / "db").iterdir() if p.is_file())
        assert b"visible-canary-42" in raw  # configmaps are stored as they are
        assert b"cGxhaW50ZXh0LWNhbmFyeS00Mg" not in raw and b"plaintext-canary-42" not in raw
        assert b"k8s:enc:aesgcm:v1:key1:" in raw
    finally:
        proc.stop()
        shutil.rmtree(data, ignore_errors=True)


def test_server_gives_up_when_the_first_start_fails() -> None:
    data = Path(tempfile.mkdtemp(prefix="skiff-it-busy-"))
    import socket

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        res = subprocess.run(
            [
                sys.executable,
                "-m",
                "skiff",
                "server",
                "--data-dir",
                str(data),
                "--https-port",
                str(port),
                "--bind-address",
                "127.0.0.1",
                "--no-agent",  # these tests are about the control plane
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert res.returncode != 0
        assert "apiserver failed to start" in res.stderr
        assert "address already in use" in res.stderr.lower()  # and why
    finally:
        busy.close()
        shutil.rmtree(data, ignore_errors=True)
