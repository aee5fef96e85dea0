"""The agent endpoint behind a real API server, used by the real kubectl (1.32) and the official
Python client.

The API server (in the test's loop, over TLS so kubectl sends its token) reaches the agent with
its kubelet client certificate and verifies the agent's serving certificate against the test CA;
node ``n1`` reports 127.0.0.1 and the agent's port, pod ``web`` is bound to it. Covers ``kubectl
logs`` (plain, --tail, --timestamps, --since-time, --limit-bytes, --previous, -f until the
container ends), ``nodes/proxy`` (stats/summary, healthz, pods), ``kubectl exec`` (output, the
exit code passed through, -i with stdin, -it under a pseudo-terminal, an unknown container
refused by the API server, a pod the agent does not run refused by the agent), ``kubectl
attach``, ``kubectl cp`` both ways, ``kubectl port-forward`` (SPDY in a WebSocket; two ports, a
MiB each way) to servers standing in for the pod's ports, and the Python client's ``stream()``
exec (v4) and ``portforward()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shlex
import shutil
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from agentserver_doubles import (
    Lookup,
    Pki,
    ProcessRuntime,
    append,
    cri_line,
    make_pki,
    pod_object,
    serve_agent,
)

from skiff.runtime.types import ContainerState
from skiff.testing.apiserver import ADMIN_TOKEN, in_process_apiserver

pytestmark = pytest.mark.skipif(
    not any(os.access(Path(d) / "kubectl", os.X_OK) for d in os.environ["PATH"].split(":")),
    reason="kubectl is not installed",
)


@dataclass
class Cluster:
    kubeconfig: Path
    cache_dir: Path
    lookup: Lookup
    runtime: ProcessRuntime
    log_file: Path

    async def kubectl(
        self, *args: str, input: bytes | None = None, within: float = 30
    ) -> tuple[int, str, str]:
        proc = await self.start(*args, stdin=input is not None)
        try:
            out, err = await asyncio.wait_for(proc.communicate(input), within)
        finally:
            await _end(proc)
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    async def ok(self, *args: str, input: bytes | None = None) -> str:
        code, out, err = await self.kubectl(*args, input=input)
        assert code == 0, (args, out, err)
        return out

    async def start(self, *args: str, stdin: bool = False) -> asyncio.subprocess.Process:
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        return await asyncio.create_subprocess_exec(
            "kubectl",
            f"--kubeconfig={self.kubeconfig}",
            f"--cache-dir={self.cache_dir}",
            *args,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=True,
        )


async def _end(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("agent-pki"))


@pytest.fixture
async def pong_port() -> AsyncIterator[int]:
    """Port 80 of the pod: answers each line with ``pong: <line>`` and closes after one."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await reader.readline()
        writer.write(b"pong: " + line)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def cluster(tmp_path: Path, pki: Pki, pong_port: int) -> AsyncIterator[Cluster]:
    log_file = tmp_path / "logs" / "default_web_uid-web" / "main" / "0.log"
    log_file.parent.mkdir(parents=True)
    lookup = Lookup(
        pods={("default", "web"): pod_object("web")},
        containers={("default", "web", "main"): "c-main"},
        logs={("default", "web", "main"): log_file},
        sandboxes={("default", "web"): "sb-web"},
    )
    runtime = ProcessRuntime(ports={80: pong_port}, states={"c-main": ContainerState.RUNNING})
    async with (
        serve_agent(lookup, runtime, pki) as agent,
        in_process_apiserver(
            kubelet_certificate_authority=str(pki.ca_file),
            kubelet_client_certificate=str(pki.client_cert),
            kubelet_client_key=str(pki.client_key),
            # kubectl sends its token over TLS only
            cert_file=str(pki.serving_cert),
            key_file=str(pki.serving_key),
        ) as api,
    ):
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "t",
                            "cluster": {
                                "server": f"https://127.0.0.1:{api.bound_port}",
                                "certificate-authority": str(pki.ca_file),
                            },
                        }
                    ],
                    "users": [{"name": "t", "user": {"token": ADMIN_TOKEN}}],
                    "contexts": [
                        {
                            "name": "t",
                            "context": {"cluster": "t", "user": "t", "namespace": "default"},
                        }
                    ],
                    "current-context": "t",
                }
            )
        )
        cache = tmp_path / "kubectl-cache"
        c = Cluster(kubeconfig, cache, lookup, runtime, log_file)
        node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}
        await c.ok("create", "-f", "-", input=json.dumps(node).encode())
        status = {
            "status": {
                "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": agent.port}},
            }
        }
        await c.ok(
            "patch", "node", "n1", "--subresource=status", "--type=merge", "-p", json.dumps(status)
        )
        await c.ok("create", "-f", "-", input=json.dumps(pod_object("web")).encode())
        running = {"status": {"phase": "Running"}}
        await c.ok(
            "patch", "pod", "web", "--subresource=status", "--type=merge", "-p", json.dumps(running)
        )
        yield c


async def test_kubectl_logs(cluster: Cluster) -> None:
    cluster.log_file.write_bytes(
        cri_line("2026-12-06T19:00:00.1Z", "one")
        + cri_line("2026-12-06T19:00:01.2Z", "two", stream="stderr")
        + cri_line("2026-12-06T19:00:02.3Z", "three")
    )
    assert await cluster.ok("logs", "web") == "one\ntwo\nthree\n"
    assert await cluster.ok("logs", "web", "--tail=2") == "two\nthree\n"
    assert await cluster.ok("logs", "web", "--tail=1", "--timestamps") == (
        "2026-12-06T19:00:02.300000000Z three\n"
    )
    assert await cluster.ok("logs", "web", "--since-time=2026-12-06T19:00:01Z") == "two\nthree\n"
    assert await cluster.ok("logs", "web", "--limit-bytes=6") == "one\ntw"
    code, _, err = await cluster.kubectl("logs", "web", "--previous")
    assert code == 1 and 'previous terminated container "main" in pod "web" not found' in err
    previous = cluster.log_file.with_name("prev.log")
    previous.write_bytes(cri_line("2026-12-06T18:00:00Z", "before the crash"))
    cluster.lookup.previous_logs[("default", "web", "main")] = previous
    assert await cluster.ok("logs", "web", "-p") == "before the crash\n"
    follow = await cluster.start("logs", "-f", "--tail=1", "web")
    try:
        assert follow.stdout is not None
        assert await asyncio.wait_for(follow.stdout.readline(), 15) == b"three\n"
        append(cluster.log_file, cri_line("2026-12-06T19:00:03Z", "four"))
        assert await asyncio.wait_for(follow.stdout.readline(), 15) == b"four\n"
        cluster.runtime.states["c-main"] = ContainerState.EXITED
        assert await asyncio.wait_for(follow.wait(), 15) == 0
    finally:
        await _end(follow)


async def test_node_proxy_reaches_the_agent(cluster: Cluster) -> None:
    cluster.lookup.summary = {"node": {"nodeName": "n1", "memory": {"workingSetBytes": 7}}}
    raw = await cluster.ok("get", "--raw", "/api/v1/nodes/n1/proxy/stats/summary")
    assert json.loads(raw) == cluster.lookup.summary
    assert await cluster.ok("get", "--raw", "/api/v1/nodes/n1/proxy/healthz") == "ok"
    pods = json.loads(await cluster.ok("get", "--raw", "/api/v1/nodes/n1/proxy/pods"))
    assert pods["kind"] == "PodList"


async def test_kubectl_exec_and_attach(cluster: Cluster) -> None:
    assert await cluster.ok("exec", "web", "--", "echo", "hi there") == "hi there\n"
    code, out, err = await cluster.kubectl("exec", "web", "--", "sh", "-c", "echo partial; exit 3")
    assert code == 3, (out, err)
    assert out == "partial\n"
    assert "command terminated with exit code 3" in err
    out = await cluster.ok(
        "exec", "-i", "web", "--", "sh", "-c", "cat; echo done >&2", input=b"from stdin\n"
    )
    assert out == "from stdin\n"
    code, out, err = await cluster.kubectl("exec", "web", "-c", "nope", "--", "ls")
    assert code == 1 and "container nope is not valid for pod web" in err, (out, err)
    assert await cluster.ok("attach", "web") == "attached\n"
    # a pod the agent does not run (yet): its refusal reaches kubectl
    del cluster.lookup.pods[("default", "web")]
    code, out, err = await cluster.kubectl("exec", "web", "--", "ls")
    assert code == 1, (out, err)
    assert 'error: pods "web" not found' in err, err


async def test_kubectl_cp_both_ways(cluster: Cluster, tmp_path: Path) -> None:
    """``kubectl cp`` is tar over exec: binary stdin closed by the v5 close message, binary
    stdout. (The double's "container" is the host, so the pod path is a test directory.)"""
    source = tmp_path / "blob.bin"
    source.write_bytes(os.urandom(300_000))
    inside = tmp_path / "in-the-pod"
    inside.mkdir()
    await cluster.ok("cp", str(source), f"web:{inside}/blob.bin")
    assert (inside / "blob.bin").read_bytes() == source.read_bytes()
    back = tmp_path / "back.bin"
    await cluster.ok("cp", f"web:{inside}/blob.bin", str(back))
    assert back.read_bytes() == source.read_bytes()


@pytest.mark.skipif(shutil.which("script") is None, reason="script (util-linux) is not installed")
async def test_kubectl_exec_with_a_terminal(cluster: Cluster) -> None:
    """``exec -it`` under a pseudo-terminal (util-linux ``script``): tty=true, no stderr channel,
    the exit code still passed through.

    The command waits a moment before writing: kubectl 1.32 starts reading the WebSocket before
    it has registered its streams, and on a loaded machine a process that answers within the same
    millisecond (this runtime's processes start at once, unlike a container's exec) had its
    output and exit status discarded by kubectl as "Unknown stream id" (seen once in CI)."""
    argv = [
        "kubectl",
        f"--kubeconfig={cluster.kubeconfig}",
        f"--cache-dir={cluster.cache_dir}",
        "exec",
        "-it",
        "web",
        "--",
        "sh",
        "-c",
        "sleep 0.5; echo on-a-tty; echo to-stderr >&2; exit 4",
    ]
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    proc = await asyncio.create_subprocess_exec(
        "script",
        "-qec",
        shlex.join(argv),
        "/dev/null",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(b""), 30)
    finally:
        await _end(proc)
    text = out.decode(errors="replace")
    assert proc.returncode == 4, (text, err)
    assert "on-a-tty" in text and "to-stderr" in text, text
    assert "Unknown stream id" not in text + err.decode(errors="replace")
    assert cluster.runtime.sessions[-1].stderr is None  # the runtime was asked for a tty


async def _sink(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reads to EOF, then answers with the byte count and as many bytes back."""
    data = await reader.read()
    writer.write(f"{len(data)}\n".encode() + bytes(reversed(data)))
    await writer.drain()
    writer.close()


async def _big_transfer(cluster: Cluster, local: int) -> None:
    """A MiB each way through kubectl's forward of port 81: more than SPDY's initial window."""
    payload = bytes(range(256)) * 4096
    reader, writer = await asyncio.open_connection("127.0.0.1", local)
    writer.write(payload)
    await writer.drain()
    writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    await writer.wait_closed()
    assert answer == f"{len(payload)}\n".encode() + bytes(reversed(payload))


async def test_kubectl_port_forward(cluster: Cluster) -> None:
    sink = await asyncio.start_server(_sink, "127.0.0.1", 0)
    cluster.runtime.ports[81] = sink.sockets[0].getsockname()[1]
    try:
        await _forward_ports(cluster)
    finally:
        sink.close()
        await sink.wait_closed()


async def _forward_ports(cluster: Cluster) -> None:
    proc = await cluster.start("port-forward", "pod/web", ":80", ":81")
    try:
        assert proc.stdout is not None
        ports: dict[int, int] = {}
        lines: list[str] = []
        # kubectl says "Forwarding from 127.0.0.1:<local> -> <port>" (and the same for [::1])
        while len(ports) < 2 and len(lines) < 4:
            lines.append((await asyncio.wait_for(proc.stdout.readline(), 15)).decode())
            m = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)", lines[-1])
            if m:
                ports[int(m.group(2))] = int(m.group(1))
        assert set(ports) == {80, 81}, lines
        await _big_transfer(cluster, ports[81])
        local = ports[80]
        for word in ("hello", "again"):
            reader, writer = await asyncio.open_connection("127.0.0.1", local)
            writer.write(word.encode() + b"\n")
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), 15)
            writer.close()
            await writer.wait_closed()
            assert answer == f"pong: {word}\n".encode()
    finally:
        await _end(proc)


def _python_client(kubeconfig: Path) -> tuple[str, int, str]:
    from kubernetes import client, config
    from kubernetes.stream import portforward, stream

    api_client = config.new_client_from_config(config_file=str(kubeconfig))
    try:
        api = client.CoreV1Api(api_client)
        ws: Any = stream(
            api.connect_get_namespaced_pod_exec,
            "web",
            "default",
            command=["sh", "-c", "echo from python; exit 5"],
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
            _preload_content=False,
        )
        try:
            ws.run_forever(timeout=20)
            output, code = ws.read_stdout(), ws.returncode
        finally:
            ws.close()
            # websocket-client skips closing its socket when the server closed first
            ws.sock.shutdown()
        proxies = set(threading.enumerate())
        pf: Any = portforward(
            api.connect_get_namespaced_pod_portforward, "web", "default", ports="80"
        )
        try:
            sock = pf.socket(80)
            sock.settimeout(20)
            sock.sendall(b"py\n")
            answer = b""
            while chunk := sock.recv(1024):
                answer += chunk
        finally:
            pf.close()
            # the client's proxy thread ends once the server closed, leaving its socket open
            for thread in set(threading.enumerate()) - proxies:
                if thread.name.startswith("Kubernetes port forward proxy"):
                    thread.join(20)
            pf.websocket.shutdown()
        return output, code, answer.decode()
    finally:
        api_client.close()
        api_client.rest_client.pool_manager.clear()


async def test_python_client_exec_and_port_forward(cluster: Cluster) -> None:
    output, code, answer = await asyncio.to_thread(_python_client, cluster.kubeconfig)
    assert output == "from python\n"
    assert code == 5
    assert answer == "pong: py\n"
