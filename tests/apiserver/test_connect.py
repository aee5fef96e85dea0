"""Connect subresources over a real loopback server: pods/log, pods/exec, pods/attach,
pods/portforward, pods/proxy and nodes/proxy relayed to a fake node agent.

The fake agent is a small starlette app on 127.0.0.1 serving kubelet's paths over HTTPS with a
certificate from a test CA and requiring a client certificate; it is registered as a Node whose
InternalIP is 127.0.0.1. Covers streaming logs, WebSocket relays in both directions (subprotocol
negotiation, the bearer-token subprotocol, the agent's refusals passed through), the Status
answers for everything that can fail before the relay (no host, no container, no node address,
unreachable agent, TLS failures, SPDY, WebSockets to other resources). Excludes kubectl (see
test_connect_kubectl.py) and the agent itself.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Subprotocol

from skiff.apiserver.auth import Attributes
from skiff.apiserver.connect import offering
from skiff.apiserver.server import ApiServer
from skiff.apiserver.tls import ensure_credentials, issue_certificate
from skiff.testing.apiserver import ADMIN_TOKEN, in_process_apiserver
from skiff.util.websocket import KubernetesWebSocketProtocol

TOKEN = ADMIN_TOKEN
PODS = "/api/v1/namespaces/default/pods"


# ------------------------------------------------------------------------------- the fake agent


@dataclass
class AgentLog:
    """What the fake agent saw, and a gate a follow-log stream waits on."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    log_closed: asyncio.Event = field(default_factory=asyncio.Event)
    stream_left: asyncio.Event = field(default_factory=asyncio.Event)


def _agent_app(seen: AgentLog) -> Starlette:
    def record(conn: Request | WebSocket) -> None:
        seen.requests.append(
            {
                "path": conn.url.path,
                "query": list(conn.query_params.multi_items()),
                "authorization": conn.headers.get("authorization"),
                "subprotocols": list(conn.scope.get("subprotocols") or []),
            }
        )

    async def logs(request: Request) -> Response:
        record(request)
        p = request.path_params
        follow = request.query_params.get("follow") == "true"

        async def body() -> AsyncIterator[bytes]:
            try:
                yield f"log of {p['ns']}/{p['pod']}/{p['container']}\n".encode()
                yield b"line 1\n"
                if follow:
                    await seen.release.wait()
                    yield b"after follow\n"
            finally:
                seen.log_closed.set()

        return StreamingResponse(body(), media_type="text/plain")

    async def stream(ws: WebSocket) -> None:
        record(ws)
        if ws.path_params.get("container") == "broken":
            await ws.send_denial_response(
                JSONResponse(
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "status": "Failure",
                        "reason": "NotFound",
                        "message": "container broken is not running",
                        "code": 404,
                    },
                    404,
                )
            )
            return
        offered = ws.scope.get("subprotocols") or []
        # exec and attach speak the channel protocols; port-forward takes what comes first
        chosen = next(
            (p for p in offered if p.endswith("channel.k8s.io") or "portForward" in ws.url.path),
            None,
        )
        await ws.accept(subprotocol=chosen)
        hello = {"path": ws.url.path, "command": ws.query_params.getlist("command")}
        await ws.send_bytes(b"\x01" + json.dumps(hello).encode())
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                seen.stream_left.set()
                return  # the client left first
            data = message.get("bytes") or b""
            if data == b"\xff\x00":
                break
            if data[:1] == b"\x00":
                await ws.send_bytes(b"\x01" + data[1:].upper())
        await ws.send_bytes(b'\x03{"metadata":{},"status":"Success"}')
        await ws.close(1000)

    async def healthz(request: Request) -> Response:
        record(request)
        return PlainTextResponse(f"agent ok {request.method} {request.url.path}")

    return Starlette(
        routes=[
            Route("/containerLogs/{ns}/{pod}/{container}", logs),
            WebSocketRoute("/exec/{ns}/{pod}/{container}", stream),
            WebSocketRoute("/attach/{ns}/{pod}/{container}", stream),
            WebSocketRoute("/portForward/{ns}/{pod}", stream),
            Route("/{path:path}", healthz, methods=["GET", "POST", "PUT", "DELETE"]),
        ]
    )


@dataclass
class Pki:
    ca: Path
    agent_cert: Path
    agent_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    base = tmp_path_factory.mktemp("pki")
    creds = ensure_credentials(base / "a")
    ca = x509.load_pem_x509_certificate(creds.ca_cert_path.read_bytes())
    key = serialization.load_pem_private_key(creds.ca_key_path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    client_pem, client_key = issue_certificate(
        ca, key, common_name="kube-apiserver-kubelet-client", server=False, client=True
    )
    (base / "client.crt").write_bytes(client_pem)
    (base / "client.key").write_bytes(client_key)
    other = ensure_credentials(base / "b")
    return Pki(
        ca=creds.ca_cert_path,
        agent_cert=creds.cert_path,
        agent_key=creds.key_path,
        client_cert=base / "client.crt",
        client_key=base / "client.key",
        other_ca=other.ca_cert_path,
    )


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@dataclass
class Agent:
    port: int
    seen: AgentLog


async def _serve(app: Starlette, **tls: Any) -> AsyncIterator[int]:
    sock = _listening_socket()
    server = uvicorn.Server(
        uvicorn.Config(
            app, log_level="warning", lifespan="off", ws=KubernetesWebSocketProtocol, **tls
        )
    )
    # the socket listens before serving starts: connections wait in its backlog
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, 10)
        finally:
            sock.close()


@pytest.fixture
async def agent(pki: Pki) -> AsyncIterator[Agent]:
    seen = AgentLog()
    tls = {
        "ssl_certfile": str(pki.agent_cert),
        "ssl_keyfile": str(pki.agent_key),
        "ssl_ca_certs": str(pki.ca),
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
    }
    async for port in _serve(_agent_app(seen), **tls):
        yield Agent(port, seen)


@pytest.fixture
async def pod_server() -> AsyncIterator[Agent]:
    """A plain-HTTP server standing for a pod (pods/proxy)."""
    seen = AgentLog()
    async for port in _serve(_agent_app(seen)):
        yield Agent(port, seen)


async def _api_server(**options: Any) -> AsyncIterator[ApiServer]:
    async with in_process_apiserver(**options) as server:
        yield server


@pytest.fixture
async def server(pki: Pki) -> AsyncIterator[ApiServer]:
    async for s in _api_server(
        kubelet_certificate_authority=str(pki.ca),
        kubelet_client_certificate=str(pki.client_cert),
        kubelet_client_key=str(pki.client_key),
    ):
        yield s


def _client(server: ApiServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{server.bound_port}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=20,
    )


@pytest.fixture
async def api(server: ApiServer) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(server) as client:
        yield client


async def _node(
    api: httpx.AsyncClient, name: str, *, address: str | None, port: int | None
) -> None:
    r = await api.post(
        "/api/v1/nodes", json={"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}
    )
    assert r.status_code == 201, r.text
    node = r.json()
    status: dict[str, Any] = {}
    if address is not None:
        status["addresses"] = [{"type": "InternalIP", "address": address}]
    if port is not None:
        status["daemonEndpoints"] = {"kubeletEndpoint": {"Port": port}}
    node["status"] = status
    r = await api.put(f"/api/v1/nodes/{name}/status", json=node)
    assert r.status_code == 200, r.text


async def _pod(
    api: httpx.AsyncClient,
    name: str,
    *,
    node: str | None,
    containers: tuple[str, ...] = ("main",),
    pod_ip: str | None = None,
) -> None:
    spec: dict[str, Any] = {
        "containers": [{"name": c, "image": "busybox:1.36"} for c in containers]
    }
    if node is not None:
        spec["nodeName"] = node
    r = await api.post(
        PODS, json={"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}
    )
    assert r.status_code == 201, r.text
    if pod_ip is not None:
        obj = r.json()
        obj["status"] = {"podIP": pod_ip, "phase": "Running"}
        r = await api.put(f"{PODS}/{name}/status", json=obj)
        assert r.status_code == 200, r.text


def _ws_url(server: ApiServer, path: str) -> str:
    return f"ws://127.0.0.1:{server.bound_port}{path}"


@pytest.fixture
async def scheduled(api: httpx.AsyncClient, agent: Agent) -> Agent:
    await _node(api, "n1", address="127.0.0.1", port=agent.port)
    await _pod(api, "web", node="n1")
    return agent


# ------------------------------------------------------------------------------------- logs


async def test_logs_stream_from_the_agent(api: httpx.AsyncClient, scheduled: Agent) -> None:
    params = {"follow": "true", "tailLines": "5", "timestamps": "True", "sinceSeconds": "60"}
    async with api.stream("GET", f"{PODS}/web/log", params=params) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/plain")
        lines = resp.aiter_lines()
        assert await anext(lines) == "log of default/web/main"
        assert await anext(lines) == "line 1"
        # the stream is live: the agent's next line arrives only once it is let go
        scheduled.seen.release.set()
        assert await anext(lines) == "after follow"
    [req] = scheduled.seen.requests
    assert req["path"] == "/containerLogs/default/web/main"
    assert sorted(req["query"]) == [
        ("follow", "true"),
        ("sinceSeconds", "60"),
        ("tailLines", "5"),
        ("timestamps", "true"),
    ]
    # the caller's credentials are for the API server, never relayed to the agent
    assert req["authorization"] is None


async def test_leaving_a_followed_log_ends_the_agent_stream(
    api: httpx.AsyncClient, scheduled: Agent
) -> None:
    async with api.stream("GET", f"{PODS}/web/log", params={"follow": "true"}) as resp:
        lines = resp.aiter_lines()
        assert await anext(lines) == "log of default/web/main"
        assert await anext(lines) == "line 1"
    # the client left while the agent had nothing more to say: the relay lets go of it too
    await asyncio.wait_for(scheduled.seen.log_closed.wait(), 10)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"container": "nope"}, "container nope is not valid for pod web"),
        ({"tailLines": "x"}, "tailLines must be an integer"),
        ({"tailLines": "-1"}, "tailLines must be greater than or equal to 0"),
        ({"limitBytes": "0"}, "limitBytes must be greater than 0"),
        ({"sinceTime": "yesterday"}, "sinceTime: parsing time 'yesterday' as RFC3339"),
        (
            {"sinceTime": "2026-01-01T00:00:00Z", "sinceSeconds": "5"},
            "at most one of sinceTime or sinceSeconds",
        ),
    ],
)
async def test_bad_log_options_are_400(
    api: httpx.AsyncClient, scheduled: Agent, query: dict[str, str], message: str
) -> None:
    r = await api.get(f"{PODS}/web/log", params=query)
    assert r.status_code == 400, r.text
    assert r.json()["reason"] == "BadRequest"
    assert message in r.json()["message"]
    assert scheduled.seen.requests == []


# ------------------------------------------------------------------------------- websockets


async def _exec(
    server: ApiServer,
    path: str,
    *,
    subprotocols: list[str],
    headers: dict[str, str] | None = None,
) -> tuple[str | None, list[bytes], int | None]:
    async with ws_connect(
        _ws_url(server, path),
        subprotocols=[Subprotocol(p) for p in subprotocols],
        additional_headers=headers or {},
    ) as ws:
        chosen = ws.subprotocol
        got = [await ws.recv()]
        await ws.send(b"\x00hello")
        got.append(await ws.recv())
        await ws.send(b"\xff\x00")
        got.append(await ws.recv())
        with pytest.raises(websockets.ConnectionClosedOK):
            await ws.recv()
        code = ws.close_code
    return chosen, [g if isinstance(g, bytes) else g.encode() for g in got], code


async def test_exec_relays_a_websocket_both_ways(server: ApiServer, scheduled: Agent) -> None:
    chosen, got, code = await _exec(
        server,
        f"{PODS}/web/exec?command=sh&command=-c&command=echo%20hi&stdin=true&stdout=true",
        subprotocols=["v5.channel.k8s.io", "v4.channel.k8s.io"],
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert chosen == "v5.channel.k8s.io"
    hello = json.loads(got[0][1:])
    assert hello == {"path": "/exec/default/web/main", "command": ["sh", "-c", "echo hi"]}
    assert got[1] == b"\x01HELLO"
    assert got[2].startswith(b'\x03{"metadata":{},"status":"Success"}')
    assert code == 1000
    [req] = scheduled.seen.requests
    assert ("stdin", "true") in req["query"] and ("stderr", "false") in req["query"]
    assert ("tty", "false") in req["query"]
    assert req["authorization"] is None


async def test_a_client_leaving_closes_the_agent_stream(
    server: ApiServer, scheduled: Agent
) -> None:
    async with ws_connect(
        _ws_url(server, f"{PODS}/web/exec?command=sh&stdin=true&stdout=true"),
        subprotocols=[Subprotocol("v5.channel.k8s.io")],
        additional_headers={"Authorization": f"Bearer {TOKEN}"},
    ) as ws:
        await ws.recv()
    await asyncio.wait_for(scheduled.seen.stream_left.wait(), 10)


async def test_websocket_token_may_come_as_a_subprotocol(
    server: ApiServer, scheduled: Agent
) -> None:
    encoded = base64.urlsafe_b64encode(TOKEN.encode()).decode().rstrip("=")
    bearer = f"base64url.bearer.authorization.k8s.io.{encoded}"
    chosen, got, _ = await _exec(
        server,
        f"{PODS}/web/attach?stdout=true&stdin=true",
        subprotocols=[bearer, "v4.channel.k8s.io"],
    )
    assert chosen == "v4.channel.k8s.io"
    assert json.loads(got[0][1:])["path"] == "/attach/default/web/main"
    # the token is not passed on to the agent
    assert scheduled.seen.requests[0]["subprotocols"] == ["v4.channel.k8s.io"]
    wrong = base64.urlsafe_b64encode(b"wrong").decode().rstrip("=")
    with pytest.raises(websockets.InvalidStatus) as refused:
        await ws_connect(
            _ws_url(server, f"{PODS}/web/attach?stdout=true"),
            subprotocols=[Subprotocol(f"base64url.bearer.authorization.k8s.io.{wrong}")],
        )
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body)["reason"] == "Unauthorized"


async def test_port_forward_relays_the_offered_subprotocol(
    server: ApiServer, scheduled: Agent
) -> None:
    # kubectl 1.32 offers SPDY/3.1+portforward.k8s.io (not an RFC 7230 token, which the
    # websockets library refuses to offer by itself: connect.offering does)
    async with ws_connect(
        _ws_url(server, f"{PODS}/web/portforward?ports=8080"),
        additional_headers={"Authorization": f"Bearer {TOKEN}"},
        create_connection=offering(["SPDY/3.1+portforward.k8s.io", "v4.channel.k8s.io"]),
    ) as ws:
        assert ws.subprotocol == "SPDY/3.1+portforward.k8s.io"
        hello = json.loads((await ws.recv())[1:])
        assert hello["path"] == "/portForward/default/web"
    req = scheduled.seen.requests[0]
    assert req["subprotocols"] == ["SPDY/3.1+portforward.k8s.io", "v4.channel.k8s.io"]
    assert req["query"] == [("ports", "8080")]


async def test_agent_refusal_reaches_the_client(
    api: httpx.AsyncClient, server: ApiServer, agent: Agent
) -> None:
    await _node(api, "n1", address="127.0.0.1", port=agent.port)
    await _pod(api, "two", node="n1", containers=("main", "broken"))
    with pytest.raises(websockets.InvalidStatus) as refused:
        await ws_connect(
            _ws_url(server, f"{PODS}/two/exec?container=broken&command=ls&stdout=true"),
            subprotocols=[Subprotocol("v5.channel.k8s.io")],
            additional_headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert refused.value.response.status_code == 404
    assert json.loads(refused.value.response.body)["message"] == "container broken is not running"


async def _refusal(server: ApiServer, path: str) -> tuple[int, dict[str, Any]]:
    with pytest.raises(websockets.InvalidStatus) as refused:
        await ws_connect(
            _ws_url(server, path),
            subprotocols=[Subprotocol("v5.channel.k8s.io")],
            additional_headers={"Authorization": f"Bearer {TOKEN}"},
        )
    response = refused.value.response
    return response.status_code, json.loads(response.body)


async def test_websockets_reach_only_connect_subresources(
    api: httpx.AsyncClient, server: ApiServer
) -> None:
    code, status = await _refusal(server, "/api/v1/namespaces/default/configmaps?watch=true")
    assert code == 400
    assert "does not accept WebSocket upgrades" in status["message"]
    code, status = await _refusal(server, "/api/v1/namespaces/default/nothings/x/exec")
    assert code == 404 and status["kind"] == "Status"
    code, status = await _refusal(server, f"{PODS}/missing/exec?command=ls&stdout=true")
    assert (code, status["message"]) == (404, 'pods "missing" not found')


class _NoCreate:
    """Allows everything but ``create``; remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def authorize(self, attrs: Attributes) -> tuple[bool, str]:
        self.asked.append((attrs.verb, f"{attrs.resource}/{attrs.subresource}"))
        return attrs.verb != "create", "no create here"


async def test_streams_need_create_and_logs_get(
    api: httpx.AsyncClient, server: ApiServer, scheduled: Agent
) -> None:
    authorizer = _NoCreate()
    server.api.authorizer = authorizer
    assert (await api.get(f"{PODS}/web/log")).status_code == 200
    code, status = await _refusal(server, f"{PODS}/web/exec?command=ls&stdout=true")
    assert (code, status["reason"]) == (403, "Forbidden")
    assert 'cannot create resource "pods"' in status["message"]
    assert ("get", "pods/log") in authorizer.asked
    assert ("create", "pods/exec") in authorizer.asked
    assert [r["path"] for r in scheduled.seen.requests] == ["/containerLogs/default/web/main"]


# ------------------------------------------------------------------------------------ errors


async def test_connect_failures_are_clear_statuses(
    api: httpx.AsyncClient, server: ApiServer
) -> None:
    closed = _listening_socket()
    dead_port = closed.getsockname()[1]
    closed.close()  # nothing listens there any more
    await _node(api, "no-address", address=None, port=10250)
    await _node(api, "no-port", address="127.0.0.1", port=None)
    await _node(api, "dead", address="127.0.0.1", port=dead_port)
    await _pod(api, "pending", node=None)
    await _pod(api, "many", node="dead", containers=("a", "b"))
    await _pod(api, "lost", node="gone")
    await _pod(api, "p-no-address", node="no-address")
    await _pod(api, "p-no-port", node="no-port")
    await _pod(api, "p-dead", node="dead")
    cases = [
        ("pending/log", 400, "pod pending does not have a host assigned"),
        ("pending/exec?command=ls&stdout=true", 400, "pod pending does not have a host assigned"),
        ("many/log", 400, "a container name must be specified for pod many, choose one of: [a b]"),
        ("lost/log", 404, 'nodes "gone" not found'),
        ("p-no-address/log", 503, 'node "no-address" reports no address'),
        ("p-no-port/log", 503, 'node "no-port" reports no agent port'),
        ("p-dead/log", 503, 'error dialing backend: cannot reach the agent of node "dead"'),
        ("p-dead/exec?stdout=true", 400, "you must specify at least one command"),
        ("p-dead/exec?command=ls", 400, "you must specify at least 1 of stdin, stdout, stderr"),
        ("p-dead/exec?command=ls&stdout=true", 400, "needs an upgraded connection"),
        ("missing/log", 404, 'pods "missing" not found'),
    ]
    for path, code, message in cases:
        r = await api.get(f"{PODS}/{path}")
        assert r.status_code == code, (path, r.text)
        assert message in r.json()["message"], (path, r.text)
    # over WebSocket the same failures come back as the upgrade's HTTP answer
    ws_code, status = await _refusal(server, f"{PODS}/p-dead/exec?command=ls&stdout=true")
    assert ws_code == 503 and "error dialing backend" in status["message"]
    ws_code, status = await _refusal(server, f"{PODS}/pending/attach?stdout=true")
    assert (ws_code, status["message"]) == (400, "pod pending does not have a host assigned")


async def test_spdy_upgrade_gets_a_status(api: httpx.AsyncClient, scheduled: Agent) -> None:
    headers = {
        "Connection": "Upgrade",
        "Upgrade": "SPDY/3.1",
        "X-Stream-Protocol-Version": "v4.channel.k8s.io",
    }
    r = await api.post(f"{PODS}/web/exec?command=ls&stdout=true", headers=headers)
    assert r.status_code == 400
    assert "does not upgrade connections to SPDY/3.1: use a WebSocket" in r.json()["message"]
    # what could fail is checked first, so kubectl's SPDY retry prints the real cause
    r = await api.post(f"{PODS}/nope/exec?command=ls&stdout=true", headers=headers)
    assert r.status_code == 404
    assert scheduled.seen.requests == []


async def test_agent_tls_is_verified_and_a_client_certificate_presented(
    pki: Pki, agent: Agent
) -> None:
    """Without the client certificate the agent refuses the handshake; with another CA the
    agent's certificate is refused: both are 503 Statuses naming the agent."""
    for options in (
        {"kubelet_certificate_authority": str(pki.ca)},
        {
            "kubelet_certificate_authority": str(pki.other_ca),
            "kubelet_client_certificate": str(pki.client_cert),
            "kubelet_client_key": str(pki.client_key),
        },
    ):
        async for server in _api_server(**options):
            async with _client(server) as api:
                await _node(api, "n1", address="127.0.0.1", port=agent.port)
                await _pod(api, "web", node="n1")
                r = await api.get(f"{PODS}/web/log")
                assert r.status_code == 503, r.text
                assert 'cannot reach the agent of node "n1"' in r.json()["message"]
    assert agent.seen.requests == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/namespaces/default/pods/a:b:c:d/proxy/"),
        ("GET", "/api/v1/namespaces/default/pods/web:99999/proxy/"),
        ("GET", "/api/v1/namespaces/default/pods/web:x/proxy"),
        ("GET", "/api/v1/namespaces/default/services/a:b:c:d/proxy/"),
        ("GET", "/api/v1/namespaces/default/services/none/proxy/"),
        ("DELETE", "/api/v1/nodes/none/proxy/x"),
        ("GET", "/api/v1/nodes/http:n1/proxy/"),
        ("GET", "/api/v1/namespaces/default/pods/web/portforward?ports=0"),
        ("GET", "/api/v1/namespaces/default/pods/web/portforward?ports=a,b"),
        ("PUT", "/api/v1/namespaces/default/pods/web/exec"),
        ("POST", "/api/v1/namespaces/default/pods/web/log"),
        ("GET", "/api/v1/namespaces/default/pods/web/exec?command=ls&stdout=true&tty=maybe"),
        ("GET", "/api/v1/namespaces/default/pods/web/attach"),
    ],
)
async def test_odd_connect_requests_get_4xx_or_503(
    api: httpx.AsyncClient, scheduled: Agent, method: str, path: str
) -> None:
    r = await api.request(method, path)
    assert 400 <= r.status_code < 500 or r.status_code == 503, (path, r.text)
    assert r.json()["kind"] == "Status"


# ---------------------------------------------------------------------------------- proxies


async def test_node_and_pod_proxies(
    api: httpx.AsyncClient, scheduled: Agent, pod_server: Agent
) -> None:
    r = await api.get("/api/v1/nodes/n1/proxy/healthz", params={"verbose": "1"})
    assert (r.status_code, r.text) == (200, "agent ok GET /healthz")
    assert scheduled.seen.requests[-1]["query"] == [("verbose", "1")]
    r = await api.post("/api/v1/nodes/n1/proxy/")
    assert (r.status_code, r.text) == (200, "agent ok POST /")
    await _pod(api, "site", node="n1", pod_ip="127.0.0.1")
    r = await api.get(f"{PODS}/site:{pod_server.port}/proxy/some/page")
    assert (r.status_code, r.text) == (200, "agent ok GET /some/page")
    r = await api.get(f"{PODS}/web:{pod_server.port}/proxy/")
    assert r.status_code == 503 and "has no IP address" in r.json()["message"]
    r = await api.get("/api/v1/nodes/n1:9999/proxy/")
    assert r.status_code == 400


async def test_service_proxy_picks_a_ready_endpoint(
    api: httpx.AsyncClient, pod_server: Agent
) -> None:
    svcs = "/api/v1/namespaces/default/services"
    for name in ("site", "empty"):
        r = await api.post(
            svcs,
            json={
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name},
                "spec": {"ports": [{"name": "web", "port": 80}]},
            },
        )
        assert r.status_code == 201, r.text
    r = await api.post(
        "/api/v1/namespaces/default/endpoints",
        json={
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "site"},
            "subsets": [
                {
                    "addresses": [{"ip": "127.0.0.1"}],
                    "ports": [{"name": "web", "port": pod_server.port}],
                }
            ],
        },
    )
    assert r.status_code == 201, r.text
    for name in ("site:web", "site:80"):
        r = await api.get(f"{svcs}/{name}/proxy/index.html", params={"q": "1"})
        assert (r.status_code, r.text) == (200, "agent ok GET /index.html"), name
    assert pod_server.seen.requests[-1]["query"] == [("q", "1")]
    r = await api.get(f"{svcs}/site:81/proxy/")
    assert r.status_code == 503
    assert r.json()["message"] == 'no service port 81 found for service "site"'
    r = await api.get(f"{svcs}/empty:web/proxy/")
    assert r.status_code == 503
    assert r.json()["message"] == 'no endpoints available for service "empty"'
