"""Operating a real ``skiff apiserver``/``skiff server``: health checks, serving names, flags, logs.

Covers ``kubectl get --raw`` of ``/readyz?verbose``, ``/livez?verbose`` and one check; TLS to the
server verified against each of the host's interface addresses and ``--tls-san`` names (dialled on
127.0.0.1, so no traffic leaves the host); refusal to start with overlapping cluster and service
CIDRs (exit 1, both named, nothing written); and ``skiff server --log``: appended to across
restarts, with the shutdown lines naming the signal and each child stopped. The health formats in
detail are in tests/apiserver/test_health.py; the quick start's apply in test_cli_apply.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from skiff.apiserver.tls import interface_addresses
from skiff.testing.cluster import Kubectl, ServerProcess, free_port


@pytest.fixture(scope="module")
def named_server() -> Iterator[ServerProcess]:
    data = Path(tempfile.mkdtemp(prefix="skiff-it-ops-"))
    proc = ServerProcess(
        data_dir=data,
        extra_args=["--tls-san", "203.0.113.9", "--tls-san=skiff.example.test"],
    )
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()
        shutil.rmtree(data, ignore_errors=True)


def test_kubectl_reads_the_health_checks(named_server: ServerProcess) -> None:
    kubectl = Kubectl(named_server.kubeconfig)
    try:
        ready = kubectl("get", "--raw", "/readyz?verbose")
        assert ready.splitlines() == [
            "[+]ping ok",
            "[+]store ok",
            "[+]watch-cache ok",
            "[+]poststarthook/skiff-bootstrap ok",
            "[+]shutdown ok",
            "readyz check passed",
        ]
        live = kubectl("get", "--raw", "/livez?verbose")
        assert live.splitlines()[0] == "[+]ping ok"
        assert live.splitlines()[-1] == "livez check passed"
        assert kubectl("get", "--raw", "/readyz/store") == "ok"
        missing = kubectl.run("get", "--raw", "/readyz/etcd")
        assert missing.returncode != 0 and "NotFound" in missing.stderr, missing.stderr
    finally:
        kubectl.cleanup()


def _handshake(port: int, ca: Path, name: str) -> None:
    """TLS to 127.0.0.1:port, verifying the certificate as a client that dialled ``name``."""
    ctx = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname=name),
    ):
        pass


def test_certificate_serves_every_host_address_and_tls_san(named_server: ServerProcess) -> None:
    names = [a for a in interface_addresses() if a not in ("127.0.0.1", "::1")]
    names += ["203.0.113.9", "skiff.example.test", "localhost", socket.gethostname()]
    for name in names:
        _handshake(named_server.port, named_server.ca_file, name)
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(named_server.port, named_server.ca_file, "198.51.100.1")
    # kubectl (Go's verifier) as on another machine that dialled a host address
    kubectl = Kubectl(named_server.kubeconfig)
    try:
        for name in [*names[:1], "203.0.113.9"]:
            assert kubectl("--tls-server-name", name, "get", "--raw", "/readyz") == "ok"
        wrong = kubectl.run("--tls-server-name", "198.51.100.1", "get", "--raw", "/readyz")
        assert wrong.returncode != 0 and "x509" in wrong.stderr, wrong.stderr
    finally:
        kubectl.cleanup()


@pytest.mark.parametrize("command", ["server", "apiserver"])
def test_overlapping_cidrs_refuse_to_start(command: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "skiff",
            command,
            "--data-dir",
            str(data),
            "--https-port",
            str(free_port()),
            "--bind-address",
            "127.0.0.1",
            "--cluster-cidr",
            "10.42.0.0/16",
            "--service-cidr",
            "10.42.0.0/20",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 1, res.stderr
    assert (
        f"skiff {command}: refusing to start: --cluster-cidr 10.42.0.0/16 and --service-cidr "
        "10.42.0.0/20 overlap"
    ) in res.stderr
    assert not data.exists()  # nothing was prepared, nothing started


def _wait(predicate: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def _run_server_once(data: Path, port: int, log: Path) -> None:
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
            "--no-agent",  # these tests are about the control plane
            # without the scheduler, which would start once the controller-manager is ready and
            # so race the SIGTERM this test sends at that moment (the stop line names it or not)
            "--disable-scheduler",
            "--log",
            str(log),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        ready = data / "server" / "controller-manager.ready"
        _wait(lambda: ready.exists() or sup.poll() is not None, "controller-manager ready")
        assert sup.poll() is None, log.read_text(errors="replace")
        sup.send_signal(signal.SIGTERM)
        assert sup.wait(timeout=30) == 0
    finally:
        if sup.poll() is None:
            children = Path(f"/proc/{sup.pid}/task/{sup.pid}/children").read_text().split()
            for child in children:
                os.kill(int(child), signal.SIGKILL)
            sup.kill()
            sup.wait()


def test_server_log_is_appended_and_names_its_shutdown(tmp_path: Path) -> None:
    data, log, port = tmp_path / "data", tmp_path / "logs" / "server.log", free_port()
    _run_server_once(data, port, log)
    first = log.read_text(errors="replace")
    shutdown = [
        "received SIGTERM; stopping controller-manager, apiserver",
        "controller-manager: received SIGTERM; stopping",
        "stopped controller-manager (pid",
        "apiserver: received SIGTERM; shutting down",
        "apiserver: stopped",
        "stopped apiserver (pid",
        "supervisor stopped",
    ]
    for line in shutdown:
        assert line in first, (line, first)
    # the signal first, then each child in reverse start order, then the supervisor itself
    order = [shutdown[0], shutdown[2], shutdown[5], shutdown[6]]
    assert [first.index(line) for line in order] == sorted(first.index(line) for line in order)
    assert first.index("started apiserver") < first.index("started controller-manager")

    _run_server_once(data, port, log)
    second = log.read_text(errors="replace")
    assert second.startswith(first)  # appended, not truncated
    assert second.count("received SIGTERM; stopping controller-manager, apiserver") == 2
    assert second.count("apiserver: received SIGTERM") == 2  # once per run
