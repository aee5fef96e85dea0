"""Node failure end to end: a `skiff apiserver`, controller-manager and scheduler as processes,
three `skiff agent --runtime fake` processes (one node each, joined with the token), a Deployment
spread over them. One agent is killed with SIGKILL: its node goes NotReady, is tainted, its pods
are evicted and replaced, and every replica ends up Running on the two survivors (the test waits
up to 60 s and prints the time; the goal, under 15 s, is checked in bench/). The agent then comes
back: its stale pods are stopped and their deletion confirmed, and no replica is duplicated.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from skiff.testing.cluster import Kubectl, ServerProcess, free_port

NODES = ("skiff-fo-0", "skiff-fo-1", "skiff-fo-2")


class Agent:
    def __init__(self, server: ServerProcess, name: str, root: Path) -> None:
        self.server = server
        self.name = name
        self.data = root / name
        self.ready = root / f"{name}.ready"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.ready.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "skiff",
                "agent",
                "--server",
                self.server.url,
                "--token-file",
                str(self.server.data_dir / "server" / "token"),
                "--runtime",
                "fake",
                "--node-name",
                self.name,
                "--node-ip",
                "127.0.0.1",
                "--agent-port",
                str(free_port()),
                "--data-dir",
                str(self.data),
                "--ready-file",
                str(self.ready),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _until(self.ready.exists, within=60, what=f"agent {self.name} ready")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _until(check: Callable[[], Any], *, within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {within}s")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[ServerProcess, Kubectl, dict[str, Agent]]]:
    root = Path(tempfile.mkdtemp(prefix="skiff-failover-"))
    server = ServerProcess(data_dir=root / "server-data", controller_manager=True, scheduler=True)
    agents = {name: Agent(server, name, root) for name in NODES}
    kubectl: Kubectl | None = None
    try:
        server.start(timeout=60)
        kubectl = Kubectl(server.kubeconfig)
        for agent in agents.values():
            agent.start()
        yield server, kubectl, agents
    finally:
        for agent in agents.values():
            agent.stop()
        if kubectl is not None:
            kubectl.cleanup()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _pods(kubectl: Kubectl) -> list[dict[str, Any]]:
    out = kubectl("get", "pods", "-l", "app=fo", "-o", "json")
    return list(json.loads(out)["items"])


def _running_by_node(kubectl: Kubectl) -> dict[str, int]:
    counts: dict[str, int] = {}
    for pod in _pods(kubectl):
        if pod["metadata"].get("deletionTimestamp"):
            continue
        if pod["status"].get("phase") != "Running":
            continue
        if not any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in pod["status"].get("conditions", [])
        ):
            continue
        node = pod["spec"].get("nodeName", "")
        counts[node] = counts.get(node, 0) + 1
    return counts


def test_replicas_move_off_a_dead_node_and_are_not_duplicated(
    cluster: tuple[ServerProcess, Kubectl, dict[str, Agent]],
) -> None:
    _server, kubectl, agents = cluster
    for _ in range(200):
        if kubectl.run("get", "serviceaccount", "default").returncode == 0:
            break
        time.sleep(0.05)
    kubectl("create", "deployment", "fo", "--image=skiff-test/fo:1", "--replicas=6")

    def all_running() -> dict[str, int] | None:
        counts = _running_by_node(kubectl)
        return counts if sum(counts.values()) == 6 else None

    spread = _until(all_running, within=60, what="6 replicas running")
    assert set(spread) == set(NODES), spread  # spread over the three nodes
    victim = next(n for n in NODES if spread.get(n))
    start = time.monotonic()
    agents[victim].stop(signal.SIGKILL)

    def recovered() -> dict[str, int] | None:
        counts = _running_by_node(kubectl)
        survivors = sum(v for n, v in counts.items() if n != victim)
        return counts if survivors == 6 else None

    _until(recovered, within=60, what="every replica running on the survivors")
    took = time.monotonic() - start
    print(f"\nnode {victim} killed: all 6 replicas Running on the survivors after {took:.1f}s")
    node = json.loads(kubectl("get", "node", victim, "-o", "json"))
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "Unknown"
    keys = {t["key"] for t in node["spec"].get("taints") or []}
    assert "node.kubernetes.io/unreachable" in keys

    # the node comes back: its stale pods are stopped and deleted, nothing is duplicated
    agents[victim].start()

    def settled() -> bool:
        pods = _pods(kubectl)
        stale = [
            p
            for p in pods
            if p["spec"].get("nodeName") == victim and p["metadata"].get("deletionTimestamp")
        ]
        node = json.loads(kubectl("get", "node", victim, "-o", "json"))
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        return not stale and ready["status"] == "True"

    _until(settled, within=60, what="the returning node's stale pods gone")
    counts = _running_by_node(kubectl)
    assert sum(counts.values()) == 6, counts
    assert len([p for p in _pods(kubectl) if not p["metadata"].get("deletionTimestamp")]) == 6
