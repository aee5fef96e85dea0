"""Connect subresources: streams the API server relays to a node agent or a pod.

kube-apiserver serves ``pods/log``, ``pods/exec``, ``pods/attach``, ``pods/portforward`` and the
``proxy`` subresources through ``rest.Connecter`` (``apiserver/pkg/registry/rest/rest.go``): the
storage validates the request and names a location (the kubelet's URL, a pod's address), and
an upgrade-aware proxy (``apimachinery/pkg/util/proxy/upgradeaware.go``) relays the bytes.
Here:

- a ``Connecter`` validates and resolves a request to a ``Location`` (the pod ones are in
  ``skiff.apiserver.nodeproxy``);
- ``proxy_http`` relays a plain HTTP request and streams the answer back (logs, proxies);
- ``relay_websocket`` opens a WebSocket to the location, offering the subprotocols the client
  offered (``v5.channel.k8s.io``, ``v4.channel.k8s.io``, ``SPDY/3.1+portforward.k8s.io`` ...), and
  only then accepts the client with the subprotocol the far side chose; messages are relayed
  both ways unchanged until either side closes. An answer other than 101 from the far side is
  passed to the client as it came (its Status body included), so the agent's "container not
  found" reaches kubectl;
- a raw ``Upgrade: SPDY/3.1`` request (kubectl's fallback when a WebSocket upgrade failed) gets a
  400 Status saying to use WebSocket: uvicorn upgrades only WebSocket, and kubectl 1.32 carries
  port-forward's SPDY inside a WebSocket anyway.

``AgentTransport`` holds how node agents are reached over TLS (kube-apiserver's
``--kubelet-certificate-authority``, ``--kubelet-client-certificate``, ``--kubelet-client-key``).
A far side that cannot be reached is a 503 Status naming what failed, never a 500.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx
import websockets
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Scope
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.client import ClientProtocol
from websockets.datastructures import Headers
from websockets.typing import Subprotocol

from skiff.apiserver.errors import ApiError, bad_request
from skiff.apiserver.registry import Registry
from skiff.apiserver.routes import Target

__all__ = [
    "BEARER_SUBPROTOCOL_PREFIX",
    "AgentTransport",
    "Connecter",
    "Location",
    "bearer_from_subprotocols",
    "is_spdy_upgrade",
    "offered_subprotocols",
    "offering",
    "proxy_http",
    "query_items",
    "refuse_websocket",
    "relay_websocket",
    "spdy_not_supported",
]

# kubectl (client-go) may send its bearer token as a WebSocket subprotocol: this prefix followed by
# the token in unpadded base64url (apiserver/pkg/authentication/request/websocket/protocol.go)
BEARER_SUBPROTOCOL_PREFIX = "base64url.bearer.authorization.k8s.io."

# headers that belong to one hop and are not relayed (RFC 9110 section 7.6.1), plus the caller's
# credentials, which are for the API server and never for a node agent or a pod (kube-apiserver
# drops Authorization once it has authenticated a request)
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "authorization",
    }
)


@dataclass(frozen=True)
class Location:
    """Where a connect request goes.

    ``url`` is an ``http``/``https`` URL with its query; a WebSocket relay uses ``ws``/``wss`` on
    the same address. ``description`` names the far side in error messages ("the agent of node
    n1 at https://10.0.0.5:10250"). ``agent`` says the far side is a node agent, so the
    ``AgentTransport``'s TLS settings apply; a pod (``pods/proxy``) is reached without them.
    """

    url: str
    description: str
    agent: bool = True


@runtime_checkable
class Connecter(Protocol):
    """A subresource answered by a stream from elsewhere (kube ``rest.Connecter``).

    ``connect_methods`` are the HTTP methods routed to it (``ConnectMethods()`` upstream);
    ``takes_path`` says the path may continue after the subresource name (the proxies:
    ``.../pods/web:8080/proxy/some/path``, given as ``Target.tail``); ``upgrade`` says the stream
    needs an upgraded connection (exec, attach, portforward: a plain HTTP request is refused
    with 400), otherwise plain HTTP is relayed and a WebSocket upgrade is relayed too.

    ``connect`` is called after authorization with the request's target and query (each name
    with all its values, in order). It may read the registry, must not write it, and returns the
    ``Location`` to relay to, or raises ``ApiError`` (400 for bad options or a pod without a
    node, 404 for a missing pod or node, 503 for a node that cannot be reached). It does no I/O
    towards the location: the HTTP layer relays.
    """

    connect_methods: tuple[str, ...]
    takes_path: bool
    upgrade: bool

    async def connect(
        self, registry: Registry, target: Target, query: Mapping[str, Sequence[str]]
    ) -> Location: ...


@dataclass
class AgentTransport:
    """How the API server reaches node agents over HTTPS.

    - ``ca_file``: the CA bundle the agents' serving certificates are verified against (and
      their address checked against the certificate). None: agents' certificates are not
      verified, as kube-apiserver without ``--kubelet-certificate-authority``; the node-agent
      issue supplies the cluster CA.
    - ``cert_file``/``key_file``: the client certificate the API server presents to agents
      (``--kubelet-client-certificate``/``--kubelet-client-key``). None: none is presented.
    - ``connect_timeout``: seconds to wait for a connection (then 503).
    """

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    connect_timeout: float = 10.0
    _context: ssl.SSLContext | None = field(default=None, init=False, repr=False)

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS client context for agents, built once."""
        if self._context is None:
            if self.ca_file:
                ctx = ssl.create_default_context(cafile=self.ca_file)
            else:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            if self.cert_file:
                ctx.load_cert_chain(self.cert_file, self.key_file)
            self._context = ctx
        return self._context

    def context_for(self, location: Location) -> ssl.SSLContext | None:
        """The TLS context to reach ``location`` with (None for plain ``http``)."""
        if not location.url.startswith("https:"):
            return None
        if location.agent:
            return self.ssl_context()
        # pods/proxy over https: pods' certificates are not the cluster's to verify (upstream
        # does the same: the pod proxy transport skips verification)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx


def _unreachable(location: Location, error: BaseException) -> ApiError:
    detail = str(error) or type(error).__name__
    return ApiError(
        503,
        "ServiceUnavailable",
        f"error dialing backend: cannot reach {location.description}: {detail}",
    )


def is_spdy_upgrade(conn: HTTPConnection) -> bool:
    """Whether the request asks to upgrade to SPDY (``Upgrade: SPDY/3.1``)."""
    upgrade = conn.headers.get("upgrade", "")
    return upgrade.strip().lower().startswith("spdy/")


def spdy_not_supported() -> ApiError:
    return bad_request(
        "this server does not upgrade connections to SPDY/3.1: use a WebSocket (kubectl 1.31 "
        "and later do, unless KUBECTL_REMOTE_COMMAND_WEBSOCKETS or "
        "KUBECTL_PORT_FORWARD_WEBSOCKETS is set to false)"
    )


def _forward_headers(headers: Sequence[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    out = []
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        if name in _HOP_BY_HOP or name.startswith("sec-websocket-"):
            continue
        out.append((name, raw_value.decode("latin-1")))
    return out


async def proxy_http(
    request: Request, location: Location, transport: AgentTransport, body: bytes
) -> Response:
    """Relay ``request`` to ``location`` and stream the answer back (status and body as sent).

    The caller reads the body (bounded) before calling. The upstream connection is closed when
    the stream ends or the client goes away.
    """
    verify: ssl.SSLContext | bool = transport.context_for(location) or False
    client = httpx.AsyncClient(
        verify=verify,
        timeout=httpx.Timeout(None, connect=transport.connect_timeout),
        follow_redirects=False,
        trust_env=False,
    )
    upstream_request = client.build_request(
        request.method,
        location.url,
        headers=_forward_headers(request.scope.get("headers") or []),
        content=body or None,
    )
    try:
        upstream = await client.send(upstream_request, stream=True)
    except httpx.HTTPError as e:
        await client.aclose()
        raise _unreachable(location, e) from None
    except BaseException:
        await client.aclose()
        raise

    async def stream() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        except httpx.HTTPError:
            # the far side went away mid-stream: end the answer (the client sees it end)
            return
        finally:
            await upstream.aclose()
            await client.aclose()

    # the bytes are relayed as encoded (aiter_raw), so Content-Encoding passes through too
    headers = {
        name: value for name, value in upstream.headers.items() if name.lower() not in _HOP_BY_HOP
    }
    return StreamingResponse(stream(), upstream.status_code, headers=headers)


def offering(subprotocols: Sequence[str]) -> type[ClientConnection]:
    """A client connection offering ``subprotocols`` as given.

    websockets accepts only RFC 7230 tokens as subprotocols, but kubectl's port-forward offers
    ``SPDY/3.1+portforward.k8s.io`` (a ``/`` in it): the offer and the check of the answer are
    done here instead, by plain comma splitting, as Go's gorilla/websocket does.
    """
    offered = [Subprotocol(p) for p in subprotocols]

    def chosen(headers: Headers) -> Subprotocol | None:
        values = [
            v.strip() for h in headers.get_all("Sec-WebSocket-Protocol") for v in h.split(",")
        ]
        values = [v for v in values if v]
        if not values:
            return None
        if len(values) > 1 or values[0] not in offered:
            raise websockets.InvalidHandshake(
                f"the far side chose the subprotocol {', '.join(values)!r}, "
                f"which was not offered ({', '.join(offered) or 'none'})"
            )
        return Subprotocol(values[0])

    class Offering(ClientConnection):
        def __init__(self, protocol: ClientProtocol, **kwargs: Any) -> None:
            protocol.available_subprotocols = offered or None
            protocol.process_subprotocol = chosen  # type: ignore[method-assign]
            super().__init__(protocol, **kwargs)

    return Offering


def _ws_url(url: str) -> str:
    if url.startswith("https:"):
        return "wss:" + url[len("https:") :]
    if url.startswith("http:"):
        return "ws:" + url[len("http:") :]
    return url


def _close_code(code: int | None, *, clean: bool) -> int:
    """A close code that may be sent on (1005/1006/1015 are reserved for "none"/"abnormal")."""
    if code is None or code in (1005, 1006, 1015):
        return 1000 if clean else 1011
    if 1000 <= code <= 1014 or 3000 <= code <= 4999:
        return code
    return 1000


async def relay_websocket(
    ws: WebSocket,
    location: Location,
    transport: AgentTransport,
    subprotocols: Sequence[str],
) -> None:
    """Open a WebSocket to ``location``, accept ``ws`` with its subprotocol, relay until closed.

    Raises ``ApiError`` (before ``ws`` is accepted) when the far side cannot be reached; a non-101
    answer of the far side is sent to the client as it came.
    """
    try:
        upstream = await ws_connect(
            _ws_url(location.url),
            ssl=transport.context_for(location),
            open_timeout=transport.connect_timeout,
            compression=None,
            max_size=None,
            user_agent_header=None,
            proxy=None,
            create_connection=offering(subprotocols),
        )
    except websockets.InvalidStatus as e:
        answer = e.response
        if "websocket.http.response" not in (ws.scope.get("extensions") or {}):
            raise ApiError(
                answer.status_code,
                "BadRequest" if answer.status_code < 500 else "ServiceUnavailable",
                f"{location.description} refused the stream: HTTP {answer.status_code} "
                + bytes(answer.body or b"").decode("utf-8", "replace")[:200],
            ) from None
        content_type = answer.headers.get("Content-Type", "text/plain")
        await ws.send_denial_response(
            Response(bytes(answer.body or b""), answer.status_code, media_type=content_type)
        )
        return
    except (OSError, TimeoutError, websockets.InvalidHandshake) as e:
        raise _unreachable(location, e) from None
    async with upstream:
        await ws.accept(subprotocol=upstream.subprotocol)
        client_closed: list[int] = []

        async def client_to_upstream() -> None:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    client_closed.append(int(message.get("code") or 1000))
                    return
                data = message.get("bytes")
                if data is not None:
                    await upstream.send(data)
                elif message.get("text") is not None:
                    await upstream.send(str(message["text"]))

        async def upstream_to_client() -> None:
            with contextlib.suppress(websockets.ConnectionClosed):
                async for data in upstream:
                    if isinstance(data, bytes):
                        await ws.send_bytes(data)
                    else:
                        await ws.send_text(data)

        tasks = [
            asyncio.create_task(client_to_upstream(), name="ws-client-to-upstream"),
            asyncio.create_task(upstream_to_client(), name="ws-upstream-to-client"),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        failures = [
            r
            for r in results
            if isinstance(r, BaseException)
            and not isinstance(
                r, asyncio.CancelledError | websockets.ConnectionClosed | WebSocketDisconnect
            )
        ]
        if client_closed:
            await upstream.close(_close_code(client_closed[0], clean=True))
        else:
            rcvd = upstream.protocol.close_rcvd
            code = _close_code(rcvd.code if rcvd else None, clean=rcvd is not None)
            reason = rcvd.reason if rcvd else "the far side of the stream went away"
            with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
                await ws.close(code, reason[:120])
        if failures:
            raise failures[0]


def query_items(conn: HTTPConnection) -> dict[str, list[str]]:
    """The query as name -> all its values, in order."""
    out: dict[str, list[str]] = {}
    for name, value in conn.query_params.multi_items():
        out.setdefault(name, []).append(value)
    return out


def offered_subprotocols(scope: Mapping[str, Any]) -> list[str]:
    """The subprotocols a WebSocket client offered, without the bearer-token one."""
    return [
        p
        for p in scope.get("subprotocols") or []
        if not str(p).startswith(BEARER_SUBPROTOCOL_PREFIX)
    ]


def bearer_from_subprotocols(scope: Scope) -> str | None:
    """``Bearer <token>`` from a ``base64url.bearer.authorization.k8s.io.<token>`` subprotocol
    (client-go sends its token so where a browser-style client cannot set headers)."""
    prefix = BEARER_SUBPROTOCOL_PREFIX
    for protocol in scope.get("subprotocols") or []:
        if str(protocol).startswith(prefix):
            encoded = str(protocol)[len(prefix) :]
            try:
                token = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
            except (ValueError, UnicodeDecodeError):
                return None
            return f"Bearer {token}"
    return None


async def refuse_websocket(ws: WebSocket, error: ApiError) -> None:
    """Answer a WebSocket upgrade with a Status (an HTTP response, where the server can send
    one), or close an accepted one saying why."""
    if ws.application_state == WebSocketState.CONNECTING:
        if "websocket.http.response" in (ws.scope.get("extensions") or {}):
            await ws.send_denial_response(
                Response(
                    error.to_bytes(),
                    error.code,
                    media_type="application/json",
                    headers=error.headers or None,
                )
            )
        else:
            await ws.close(1008, error.message[:120])
    elif ws.application_state == WebSocketState.CONNECTED:
        with contextlib.suppress(RuntimeError, OSError):
            await ws.close(1011, error.message[:120])
