"""The ``skiff server`` and ``skiff apiserver`` processes: first start, restart, supervision.

Covers: credentials written on first start (CA, serving certificate names, admin token, join token
pinning the CA, kubeconfig), reuse of all of them and of the data on restart, the supervisor
restarting a killed API server and stopping on SIGTERM. Excludes the agent (later issues).
"""

from __future__ import annotations

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

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

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


def test_server_supervisor_restarts_apiserver_and_stops_on_sigterm() -> None:
    data = Path(tempfile.mkdtemp(prefix="skiff-it-super-"))
    port = free_port()
    log = open(data / "server.log", "wb")  # noqa: SIM115 - closed below
    sup = subprocess.Popen(
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
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    probe = ServerProcess(data_dir=data, port=port)
    try:
        probe.wait_ready(timeout=30)
        kubectl = Kubectl(probe.kubeconfig)
        assert "default" in kubectl("get", "namespaces")
        children = _children(sup.pid)
        assert len(children) == 1
        os.kill(children[0], signal.SIGKILL)  # the API server dies; the supervisor restarts it
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = _children(sup.pid)
            if now and now != children:
                break
            time.sleep(0.2)
        probe.wait_ready(timeout=30)
        assert "default" in kubectl("get", "namespaces")
        kubectl.cleanup()
        sup.send_signal(signal.SIGTERM)
        assert sup.wait(timeout=30) == 0
        assert _children(sup.pid) == []
    finally:
        if sup.poll() is None:
            for child in _children(sup.pid):
                os.kill(child, signal.SIGKILL)
            sup.kill()
            sup.wait()
        log.close()
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
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert res.returncode != 0
        assert "failed to start" in res.stderr
    finally:
        busy.close()
        shutil.rmtree(data, ignore_errors=True)
