"""The ``skiff controller-manager`` process (skiff.cmd.controllermanager).

Covers: an unknown ``--controllers`` name stops it at start with exit code 2 and says which; two
processes against one ``skiff apiserver``: both become ready (the ready file), exactly one holds
the Lease ``kube-system/kube-controller-manager`` and runs controllers, and when it is stopped
with SIGTERM it releases the Lease, removes its ready file and exits 0, and the other takes over
and acts (a new namespace gets its ``default`` ServiceAccount), its work queue counted on its
``/metrics`` (``--metrics-bind-address``). Excludes: the controllers'
behaviour (tests/controllers) and supervision (tests/integration/test_server.py).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from skiff.testing.cluster import Kubectl, ServerProcess, free_port

FAST_LEASE = [
    "--leader-elect-lease-duration=2",
    "--leader-elect-renew-deadline=1.5",
    "--leader-elect-retry-period=0.3",
]


def test_unknown_controller_is_refused_at_start() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "skiff", "controller-manager", "--controllers", "*,-bogus"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2
    assert '"bogus" is not in the list of known controllers' in res.stderr


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    data = Path(tempfile.mkdtemp(prefix="skiff-cmd-cm-"))
    proc = ServerProcess(data_dir=data)
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()
        shutil.rmtree(data, ignore_errors=True)


def _wait(check: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _holder(kubectl: Kubectl) -> str:
    res = kubectl.run("get", "lease", "-n", "kube-system", "kube-controller-manager", "-o", "json")
    if res.returncode != 0:
        return ""
    return str(json.loads(res.stdout)["spec"].get("holderIdentity") or "")


def test_two_processes_one_leader_then_failover(server: ServerProcess) -> None:
    kubectl = Kubectl(server.kubeconfig)
    procs: list[subprocess.Popen[bytes]] = []
    ready = [server.data_dir / f"cm{i}.ready" for i in range(2)]
    ports = [free_port() for _ in range(2)]
    log = open(server.data_dir / "cms.log", "wb")  # noqa: SIM115 - closed below
    try:
        for i in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "skiff",
                        "controller-manager",
                        "--kubeconfig",
                        str(server.kubeconfig),
                        "--ready-file",
                        str(ready[i]),
                        "--controllers",
                        "serviceaccount",
                        f"--metrics-bind-address=127.0.0.1:{ports[i]}",
                        *FAST_LEASE,
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        _wait(lambda: all(r.exists() for r in ready), "both ready")
        holder = _holder(kubectl)
        assert holder
        text = (server.data_dir / "cms.log").read_text(errors="replace")
        assert text.count("running: serviceaccount-controller") == 1  # exactly one acts
        assert "standing by" in text
        # which process leads? its pid is in its ready file; the log names the leader's pid
        leader = next(
            i for i in range(2) if f"(pid {ready[i].read_text().strip()}) running" in text
        )
        other = 1 - leader
        procs[leader].send_signal(signal.SIGTERM)
        assert procs[leader].wait(timeout=30) == 0
        assert not ready[leader].exists()
        _wait(lambda: _holder(kubectl) not in ("", holder), "the standby takes the lease")
        assert procs[other].poll() is None
        kubectl("create", "namespace", "after-failover")
        _wait(
            lambda: kubectl.run("get", "sa", "default", "-n", "after-failover").returncode == 0,
            "the new leader acts",
        )
        # its work queue shows on /metrics
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[other]}/metrics", timeout=5) as r:
            metrics = r.read().decode()
        adds = [
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith('workqueue_adds_total{name="serviceaccount"}')
        ]
        assert adds and adds[0] >= 1, metrics[:2000]
        assert 'workqueue_work_duration_seconds_count{name="serviceaccount"}' in metrics
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        log.close()
        kubectl.cleanup()
