"""``skiff agent`` as a process: a fake-runtime agent registers its Node and runs a pod,
``--simulate`` registers several nodes from one process, ``skiff agent cleanup`` removes the
agent's runtime and network state, and ``skiff server --runtime fake`` supervises a local agent
child (the other ``skiff server`` tests pass ``--no-agent``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from skiff.client import AlreadyExists, Client, load_kubeconfig
from skiff.testing.agent import pod_manifest
from skiff.testing.cluster import ServerProcess, free_port
from skiff.testing.wait import eventually


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    data = Path(tempfile.mkdtemp(prefix="skiff-agent-cmd-"))
    proc = ServerProcess(data_dir=data, agent=True, agent_args=["--lease-period", "1"])
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
async def client(server: ServerProcess) -> AsyncIterator[Client]:
    async with Client(load_kubeconfig(server.kubeconfig), timeout=10) as c:
        yield c


async def test_agent_process_registers_and_runs_a_pod(
    server: ServerProcess, client: Client
) -> None:
    node = await client.get("nodes", "test-node")
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("fake://")
    assert node["spec"]["podCIDR"]
    await client.get("leases", "test-node", namespace="kube-node-lease")
    # no controller-manager here: make the default account ourselves
    with contextlib.suppress(AlreadyExists):
        body = {"metadata": {"name": "default"}}
        await client.create("serviceaccounts", body, namespace="default")
    await client.create("pods", pod_manifest("cmd-pod", "test-node"), namespace="default")

    async def running() -> bool:
        pod = await client.get("pods", "cmd-pod", namespace="default")
        return pod.get("status", {}).get("phase") == "Running"

    await eventually(running, within=15, what="pod Running")
    # the fake runtime's state is under <data-dir>/agent/<node>/state
    state = server.data_dir / "agent" / "test-node" / "state" / "fake" / "fake-runtime.json"
    assert len(json.loads(state.read_text())["containers"]) == 1


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def _nodes(kubeconfig: Path, **kw: Any) -> list[dict[str, Any]]:
    async def get() -> list[dict[str, Any]]:
        async with Client(load_kubeconfig(kubeconfig), timeout=10) as client:
            return list((await client.list("nodes", **kw))["items"])

    return asyncio.run(get())


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_simulate_process(server: ServerProcess, tmp_path: Path) -> None:
    ready = tmp_path / "sim.ready"
    with open(tmp_path / "sim.log", "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "skiff",
                "agent",
                "--kubeconfig",
                str(server.kubeconfig),
                "--simulate",
                "5",
                "--node-name",
                "kwok",
                "--capacity",
                "cpu=8,memory=32Gi",
                "--node-labels",
                "type=fake",
                "--register-with-taints",
                "fake=true:NoSchedule",
                "--ready-file",
                str(ready),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait(lambda: ready.exists() or proc.poll() is not None, "simulator ready")
        assert proc.poll() is None, (tmp_path / "sim.log").read_text()
        nodes = _nodes(server.kubeconfig, label_selector="type=fake")
        assert sorted(n["metadata"]["name"] for n in nodes) == [f"kwok-{i}" for i in range(5)]
        assert nodes[0]["spec"]["taints"] == [
            {"key": "fake", "value": "true", "effect": "NoSchedule"}
        ]
        assert nodes[0]["status"]["capacity"]["cpu"] == "8"
    finally:
        _stop(proc)
    assert proc.returncode == 0, (tmp_path / "sim.log").read_text()
    assert not ready.exists()


def _cleanup(data_dir: Path, node: str) -> subprocess.CompletedProcess[str]:
    """``skiff agent cleanup`` (fake runtime) of ``node`` under ``data_dir``, in a new process."""
    argv = ["agent", "cleanup", "--runtime", "fake", "--data-dir", str(data_dir)]
    return subprocess.run(
        [sys.executable, "-m", "skiff", *argv, "--node-name", node],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cleanup_removes_agent_state(tmp_path: Path) -> None:
    state = tmp_path / "agent" / "n1" / "state"
    (state / "fake").mkdir(parents=True)
    (state / "fake" / "fake-runtime.json").write_text('{"sandboxes": [], "containers": []}')
    (state / "network").mkdir()
    (state / "network" / "fake-ipam.json").write_text('{"s": "10.42.0.2"}')
    res = _cleanup(tmp_path, "n1")
    assert res.returncode == 0, res.stderr
    assert not (state / "fake" / "fake-runtime.json").exists()
    assert not (state / "network" / "fake-ipam.json").exists()


def test_agent_without_credentials_says_what_to_pass(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "skiff", "agent", "--runtime", "fake", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 1
    assert "--server and --token" in res.stderr


def test_a_bad_eviction_threshold_is_refused_at_start(tmp_path: Path) -> None:
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "skiff",
            "agent",
            "--runtime",
            "fake",
            "--data-dir",
            str(tmp_path),
            "--eviction-hard",
            "memory.available<lots",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 1
    assert "--eviction-hard" in res.stderr and "memory.available" in res.stderr


def test_server_supervises_a_local_agent() -> None:
    data = Path(tempfile.mkdtemp(prefix="skiff-agent-srv-"))
    port = free_port()
    with open(data / "server.log", "wb") as log:
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
                "--runtime",
                "fake",
                "--node-name",
                "local-node",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        ready = data / "server" / "agent.ready"
        _wait(lambda: ready.exists() or sup.poll() is not None, "local agent ready", 90)
        assert sup.poll() is None, (data / "server.log").read_text(errors="replace")
        [node] = _nodes(data / "server" / "admin.kubeconfig")
        assert node["metadata"]["name"] == "local-node"
        assert node["status"]["addresses"][0] == {"type": "InternalIP", "address": "127.0.0.1"}
        sup.send_signal(signal.SIGTERM)
        assert sup.wait(timeout=30) == 0
        text = (data / "server.log").read_text(errors="replace")
        assert "started agent" in text and "stopped agent" in text
    finally:
        if sup.poll() is None:
            children = Path(f"/proc/{sup.pid}/task/{sup.pid}/children").read_text().split()
            for child in children:
                os.kill(int(child), signal.SIGKILL)
            sup.kill()
            sup.wait()
        shutil.rmtree(data, ignore_errors=True)


def test_cleanup_of_a_data_dir_without_that_node_says_so(tmp_path: Path) -> None:
    """A wrong --data-dir (or node name) is named in a warning with the nodes that are there,
    instead of a silent "done" that leaves the real agent's containers and mounts behind."""
    (tmp_path / "agent" / "n1" / "state").mkdir(parents=True)
    res = _cleanup(tmp_path, "other")
    assert res.returncode == 0, res.stderr
    assert "no agent state for node 'other'" in res.stderr
    assert "nodes there: n1" in res.stderr
