"""The real kubectl (1.32) on the connect subresources of a real ``skiff apiserver``.

Covers what kubectl prints for ``logs``, ``exec`` and ``attach`` on a pod without a node (the
server's Status, not a 500), ``exec`` and ``logs`` through the API server to a fake node agent
(a small starlette app on 127.0.0.1 over HTTPS, in a thread), the exit code of a failed command,
kubectl's SPDY fallbacks getting a clear message, port-forward's WebSocket upgrade (subprotocol
``SPDY/3.1+portforward.k8s.io``) reaching the agent, and the Python client's v4 exec. Excludes port-forward's SPDY framing (the
agent's part) and everything else connect-related (test_connect.py).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from skiff.apiserver.tls import ensure_credentials
from skiff.testing.cluster import Kubectl, ServerProcess
from skiff.util.websocket import KubernetesWebSocketProtocol


async def _logs(request: Request) -> Response:
    p = request.path_params
    return PlainTextResponse(f"hello from {p['pod']}/{p['container']}\n")


async def _exec(ws: WebSocket) -> None:
    offered = ws.scope.get("subprotocols") or []
    await ws.accept(subprotocol=next(p for p in offered if p.endswith("channel.k8s.io")))
    command = ws.query_params.getlist("command")
    if command == ["false"]:
        status = {
            "metadata": {},
            "status": "Failure",
            "message": "command terminated with non-zero exit code: exit status 3",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
        }
    else:
        await ws.send_bytes(b"\x01ran: " + " ".join(command).encode() + b"\n")
        status = {"metadata": {}, "status": "Success"}
    await ws.send_bytes(b"\x03" + json.dumps(status).encode())
    await ws.close(1000)


async def _port_forward(ws: WebSocket) -> None:
    """Accepts kubectl's tunnelled SPDY and holds the connection (no SPDY spoken here)."""
    offered = ws.scope.get("subprotocols") or []
    await ws.accept(subprotocol=offered[0] if offered else None)
    while (await ws.receive())["type"] != "websocket.disconnect":
        pass


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's data dir: the fake agent's certificate comes from its cluster CA, as a joined
    agent's does (the API server verifies agents against that CA)."""
    return tmp_path_factory.mktemp("skiff-connect")


@pytest.fixture(scope="module")
def agent_port(data_dir: Path) -> Iterator[int]:
    """The fake agent, serving HTTPS on 127.0.0.1 from a thread with its own event loop."""
    creds = ensure_credentials(data_dir)
    app = Starlette(
        routes=[
            Route("/containerLogs/{ns}/{pod}/{container}", _logs),
            WebSocketRoute("/exec/{ns}/{pod}/{container}", _exec),
            WebSocketRoute("/portForward/{ns}/{pod}", _port_forward),
        ]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            ws=KubernetesWebSocketProtocol,
            ssl_certfile=str(creds.cert_path),
            ssl_keyfile=str(creds.key_path),
        )
    )
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])), name="fake-agent"
    )
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


@pytest.fixture(scope="module")
def kubectl(data_dir: Path) -> Iterator[Kubectl]:
    proc = ServerProcess(data_dir=data_dir, controller_manager=True)
    k = Kubectl(proc.kubeconfig)
    try:
        proc.start()
        yield k
    finally:
        k.cleanup()
        proc.stop()


def _pod(name: str, node: str | None) -> str:
    spec: dict[str, object] = {"containers": [{"name": "main", "image": "busybox:1.36"}]}
    if node:
        spec["nodeName"] = node
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})


def test_streams_of_a_pod_without_a_node_say_so(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=_pod("lonely", None))
    for args, env in (
        (("logs", "lonely"), None),
        (("exec", "lonely", "--", "ls"), None),
        (("attach", "lonely"), None),
        # the SPDY fallback also learns the real cause (checked before the upgrade is refused)
        (("exec", "lonely", "--", "ls"), {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"}),
    ):
        r = kubectl.run(*args, env=env)
        assert r.returncode == 1, (args, r)
        assert (
            "Error from server (BadRequest): pod lonely does not have a host assigned" in r.stderr
        ), (args, r)


@pytest.fixture(scope="module")
def web(kubectl: Kubectl, agent_port: int) -> str:
    """A pod ``web`` on node n1, whose agent is the fake one."""
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}
    kubectl("apply", "-f", "-", input=json.dumps(node))
    status = {
        "status": {
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": agent_port}},
        }
    }
    kubectl("patch", "node", "n1", "--subresource=status", "--type=merge", "-p", json.dumps(status))
    kubectl("apply", "-f", "-", input=_pod("web", "n1"))
    return "web"


def test_exec_and_logs_reach_the_agent(kubectl: Kubectl, web: str) -> None:
    assert kubectl("logs", "web") == "hello from web/main\n"
    assert kubectl("exec", "web", "--", "echo", "hi there") == "ran: echo hi there\n"
    failed = kubectl.run("exec", "web", "--", "false")
    assert failed.returncode == 3, failed
    assert "command terminated with exit code 3" in failed.stderr
    spdy = kubectl.run(
        "exec", "web", "--", "ls", env={"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"}
    )
    assert spdy.returncode == 1, spdy
    assert "does not upgrade connections to SPDY/3.1: use a WebSocket" in spdy.stderr


def test_python_client_exec_speaks_v4(kubectl: Kubectl, web: str) -> None:
    """The official Python client (websocket-client, ``v4.channel.k8s.io``) through the relay."""
    from kubernetes import client, config
    from kubernetes.stream import stream

    api_client = config.new_client_from_config(config_file=str(kubectl.kubeconfig))
    try:
        # not preloaded: stream() would leave the socket open after reading it all
        ws = stream(
            client.CoreV1Api(api_client).connect_get_namespaced_pod_exec,
            web,
            "default",
            command=["echo", "from python"],
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
            _preload_content=False,
        )
        try:
            ws.run_forever(timeout=20)
            assert ws.read_stdout() == "ran: echo from python\n"
            assert ws.returncode == 0
        finally:
            ws.close()
            # websocket-client skips closing its socket when the server closed first
            ws.sock.shutdown()
    finally:
        api_client.close()
        api_client.rest_client.pool_manager.clear()


def test_port_forward_upgrades_through_the_relay(kubectl: Kubectl, web: str) -> None:
    """kubectl 1.32 tunnels SPDY in a WebSocket offering ``SPDY/3.1+portforward.k8s.io``: the
    upgrade reaches the agent and kubectl starts forwarding. Its raw SPDY fallback gets the
    server's message."""
    status = {"status": {"phase": "Running"}}
    kubectl("patch", "pod", web, "--subresource=status", "--type=merge", "-p", json.dumps(status))
    proc = kubectl.popen("port-forward", f"pod/{web}", ":80")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("Forwarding from 127.0.0.1:"), (line, proc.stderr)
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    spdy = kubectl.run(
        "port-forward", f"pod/{web}", ":80", env={"KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"}
    )
    assert spdy.returncode == 1, spdy
    assert "does not upgrade connections to SPDY/3.1: use a WebSocket" in spdy.stderr
