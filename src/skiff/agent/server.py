"""The node agent's own HTTPS endpoint (kubelet's ``pkg/kubelet/server/server.go`` role).

The API server relays ``pods/log``, ``pods/exec``, ``pods/attach``, ``pods/portforward`` and
``nodes/proxy`` here (``skiff.apiserver.nodeproxy`` names the paths and query parameters):

- ``GET /containerLogs/{namespace}/{pod}/{container}`` - the container's log as plain text
  (``follow``, ``previous``, ``timestamps``, ``tailLines``, ``sinceSeconds``/``sinceTime``,
  ``limitBytes``; `skiff.agent.logs`);
- ``/exec/{namespace}/{pod}/{container}?command=..&stdin=&stdout=&stderr=&tty=`` and
  ``/attach/{namespace}/{pod}/{container}`` - WebSocket, ``v5.channel.k8s.io`` or
  ``v4.channel.k8s.io`` (`skiff.agent.streaming`);
- ``/portForward/{namespace}/{pod}`` - WebSocket, SPDY/3.1 tunnelled in it (kubectl) or
  ``v4.channel.k8s.io`` with ``?ports=`` (the Python client);
- ``/healthz``, ``/pods`` (the pods bound here), ``/runningpods/`` (the pods that have a sandbox,
  from the runtime), ``/stats/summary`` - also reached through ``nodes/proxy``.

Only the API server may call: TLS requires a client certificate signed by ``client_ca_file``
(kube-apiserver's ``--kubelet-client-certificate``, kubelet's ``--client-ca-file``); a caller
without one fails the handshake and never reaches a handler. Errors are ``metav1.Status``
bodies with the right code. A stream request naming a pod or container not running here is
upgraded and then answered with the Status on the error channel (port-forward: on each error
stream), because kubectl answers a refused upgrade by retrying with SPDY, which the API server
does not relay, and would print that refusal instead of the agent's reason; only a client
offering no protocol spoken here (or bad ``ports``) is refused before the upgrade. The serving
certificate and key are re-read when their files change (the identity renewer rewrites them),
for new connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import uvicorn
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketState

from skiff.agent import logs, streaming
from skiff.client import thaw
from skiff.runtime.base import Runtime
from skiff.runtime.types import ContainerRuntimeError, ContainerState, SandboxState
from skiff.util.websocket import KubernetesWebSocketProtocol

__all__ = ["AgentServer", "PodLister", "PodLookup"]

log = logging.getLogger(__name__)

_TRUE = frozenset({"true", "1", "yes"})


class PodLookup(Protocol):
    """What the endpoint needs to know of the agent's pods (the agent core implements it)."""

    def find_pod(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        """The pod object bound to this node, or None."""
        ...

    def container_id(
        self, namespace: str, name: str, container: str, *, previous: bool = False
    ) -> str | None:
        """The runtime id of the container's current (or, ``previous``, last exited) instance."""
        ...

    def log_path(
        self, namespace: str, name: str, container: str, *, previous: bool = False
    ) -> Path | None:
        """The current CRI log file of that instance (rotated ones sit beside it)."""
        ...

    def sandbox_id(self, namespace: str, name: str) -> str | None: ...

    async def stats_summary(self) -> dict[str, Any]:
        """The ``/stats/summary`` body (node and pods)."""
        ...


@runtime_checkable
class PodLister(Protocol):
    """Optional: a lookup that can also list its pods serves ``/pods`` from that list;
    otherwise ``/pods`` lists the pods of the runtime's sandboxes that ``find_pod`` knows."""

    def list_pods(self) -> list[Mapping[str, Any]]: ...


class _Uvicorn(uvicorn.Server):
    """uvicorn that leaves signals to the agent and says when it listens."""

    def __init__(self, config: uvicorn.Config, ready: asyncio.Event) -> None:
        super().__init__(config)
        self._ready = ready

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._ready.set()


class _Refused(Exception):
    """A request answered with a Status."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message

    def status(self) -> dict[str, Any]:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }

    def response(self) -> Response:
        return JSONResponse(self.status(), self.code)


def _not_found(message: str) -> _Refused:
    return _Refused(404, "NotFound", message)


def _bad_request(message: str) -> _Refused:
    return _Refused(400, "BadRequest", message)


def _query(conn: HTTPConnection) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in conn.query_params.multi_items():
        out.setdefault(name, []).append(value)
    return out


def _flag(query: Mapping[str, list[str]], name: str) -> bool:
    values = query.get(name) or []
    return bool(values) and values[-1].strip().lower() in _TRUE


class AgentServer:
    """The agent's HTTPS endpoint. ``serve`` runs it until cancelled; ``ready`` is set once it
    listens and ``port`` is then the port it listens on (an ephemeral one for ``port=0``)."""

    # how often the serving certificate files are checked for a renewal
    cert_check_interval = 30.0
    # how long open streams get to end when the server stops
    shutdown_grace = 2.0

    def __init__(
        self,
        lookup: PodLookup,
        runtime: Runtime,
        *,
        bind: str,
        port: int,
        cert_file: Path,
        key_file: Path,
        client_ca_file: Path | None,
    ) -> None:
        self.lookup = lookup
        self.runtime = runtime
        self.bind = bind
        self.port = port
        self.cert_file = cert_file
        self.key_file = key_file
        self.client_ca_file = client_ca_file
        self.ready = asyncio.Event()
        self._ssl: ssl.SSLContext | None = None
        self._cert_mtimes: tuple[float, float] = (0.0, 0.0)
        self.app = Starlette(
            routes=[
                Route("/healthz", self._healthz, methods=["GET", "HEAD"]),
                Route("/pods", self._pods, methods=["GET"]),
                Route("/pods/", self._pods, methods=["GET"]),
                Route("/runningpods/", self._running_pods, methods=["GET"]),
                Route("/stats/summary", self._stats_summary, methods=["GET"]),
                Route("/stats/summary/", self._stats_summary, methods=["GET"]),
                Route(
                    "/containerLogs/{namespace}/{pod}/{container}",
                    self._container_logs,
                    methods=["GET", "HEAD"],
                ),
                WebSocketRoute("/exec/{namespace}/{pod}/{container}", self._exec),
                WebSocketRoute("/attach/{namespace}/{pod}/{container}", self._attach),
                WebSocketRoute("/portForward/{namespace}/{pod}", self._port_forward),
                Route(
                    "/exec/{namespace}/{pod}/{container}",
                    self._needs_upgrade,
                    methods=["GET", "POST"],
                ),
                Route(
                    "/attach/{namespace}/{pod}/{container}",
                    self._needs_upgrade,
                    methods=["GET", "POST"],
                ),
                Route(
                    "/portForward/{namespace}/{pod}", self._needs_upgrade, methods=["GET", "POST"]
                ),
            ],
        )
        self.app.add_exception_handler(_Refused, self._refused)  # type: ignore[arg-type]
        self.app.add_exception_handler(404, self._unknown_path)
        self.app.add_exception_handler(405, self._wrong_method)
        self.app.add_exception_handler(Exception, self._failed)

    # ------------------------------------------------------------------ lifecycle

    def ssl_context(self) -> ssl.SSLContext:
        """The server TLS context: the serving certificate, and client certificates required
        (verified against ``client_ca_file``) when one is given."""
        if self._ssl is None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
            self._cert_mtimes = self._mtimes()
            if self.client_ca_file is not None:
                ctx.load_verify_locations(cafile=str(self.client_ca_file))
                ctx.verify_mode = ssl.CERT_REQUIRED
            self._ssl = ctx
        return self._ssl

    def _mtimes(self) -> tuple[float, float]:
        try:
            return (os.stat(self.cert_file).st_mtime, os.stat(self.key_file).st_mtime)
        except OSError:
            return self._cert_mtimes

    def reload_certificate(self) -> bool:
        """Load the serving certificate again if its files changed; True when it did."""
        ctx = self.ssl_context()
        mtimes = self._mtimes()
        if mtimes == self._cert_mtimes:
            return False
        try:
            # tried on a throwaway context first: a renewal half written (certificate and key
            # not matching yet) must not leave the live one with a mismatched pair
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(
                str(self.cert_file), str(self.key_file)
            )
            ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
        except (OSError, ssl.SSLError) as e:
            log.debug("serving certificate not reloaded yet: %s", e)
            return False
        self._cert_mtimes = mtimes
        log.info("agent serving certificate reloaded from %s", self.cert_file)
        return True

    def _listen(self) -> socket.socket:
        family = socket.AF_INET
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(self.bind).version == 6:
                family = socket.AF_INET6
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.bind, self.port))
            sock.listen(512)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return sock

    async def serve(self) -> None:
        """Serve until cancelled; open streams get ``shutdown_grace`` seconds to end then."""
        context = self.ssl_context()
        sock = self._listen()
        self.port = int(sock.getsockname()[1])
        if self.client_ca_file is None:
            log.warning(
                "agent endpoint on %s:%d accepts callers without a client certificate: "
                "anyone who reaches it can read logs and exec into pods",
                self.bind,
                self.port,
            )
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="httptools",
            ws=KubernetesWebSocketProtocol,
            ssl_context_factory=lambda _config, _default: context,
            timeout_graceful_shutdown=int(max(1, self.shutdown_grace)),
            server_header=False,
            proxy_headers=False,
        )
        server = _Uvicorn(config, self.ready)
        task = asyncio.create_task(server.serve(sockets=[sock]), name="skiff-agent-endpoint")
        certs = asyncio.create_task(self._watch_certificate(), name="skiff-agent-certs")
        try:
            await asyncio.shield(task)
        finally:
            certs.cancel()
            server.should_exit = True
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(task), self.shutdown_grace + 3)
            if not task.done():
                server.force_exit = True
                task.cancel()
            await asyncio.gather(task, certs, return_exceptions=True)
            sock.close()
            self.ready.clear()

    async def _watch_certificate(self) -> None:
        while True:
            await asyncio.sleep(self.cert_check_interval)
            try:
                self.reload_certificate()
            except Exception:
                log.exception("checking the serving certificate failed")

    # ------------------------------------------------------------------ errors

    async def _refused(self, request: Request, exc: _Refused) -> Response:
        return exc.response()

    async def _unknown_path(self, request: Request, exc: Exception) -> Response:
        return _not_found(f"the agent serves no {request.url.path}").response()

    async def _wrong_method(self, request: Request, exc: Exception) -> Response:
        return _Refused(
            405, "MethodNotAllowed", f"{request.method} is not allowed on {request.url.path}"
        ).response()

    async def _failed(self, request: Request, exc: Exception) -> Response:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _Refused(
            500, "InternalError", f"the agent failed to answer {request.url.path}: {exc}"
        ).response()

    async def _needs_upgrade(self, request: Request) -> Response:
        if request.headers.get("upgrade", "").lower().startswith("spdy/"):
            message = "this agent does not upgrade connections to SPDY/3.1: use a WebSocket"
        else:
            message = f"{request.url.path} needs an upgraded connection: connect with a WebSocket"
        return _bad_request(message).response()

    # ------------------------------------------------------------------ plain endpoints

    async def _healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def _pods(self, request: Request) -> Response:
        if isinstance(self.lookup, PodLister):
            items = [thaw(p) for p in self.lookup.list_pods()]
        else:
            items = []
            seen: set[tuple[str, str]] = set()
            for sandbox in await self.runtime.list_sandboxes():
                key = (sandbox.namespace, sandbox.name)
                if key in seen:
                    continue
                seen.add(key)
                pod = self.lookup.find_pod(*key)
                if pod is not None:
                    items.append(thaw(pod))
        return JSONResponse({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items})

    async def _running_pods(self, request: Request) -> Response:
        """Pods as the runtime sees them (kubelet's ``/runningpods/``): identity and containers."""
        pods: dict[str, dict[str, Any]] = {}
        sandboxes = [
            s for s in await self.runtime.list_sandboxes() if s.state is SandboxState.READY
        ]
        by_sandbox = {s.id: s for s in sandboxes}
        for sandbox in sandboxes:
            pods.setdefault(
                sandbox.pod_uid,
                {
                    "metadata": {
                        "name": sandbox.name,
                        "namespace": sandbox.namespace,
                        "uid": sandbox.pod_uid,
                        "creationTimestamp": None,
                    },
                    "spec": {"containers": []},
                    "status": {},
                },
            )
        for container in await self.runtime.list_containers():
            owner = by_sandbox.get(container.sandbox_id)
            if owner is None or container.state is not ContainerState.RUNNING:
                continue
            pods[owner.pod_uid]["spec"]["containers"].append(
                {"name": container.name, "image": container.image, "resources": {}}
            )
        return JSONResponse(
            {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": list(pods.values())}
        )

    async def _stats_summary(self, request: Request) -> Response:
        return JSONResponse(await self.lookup.stats_summary())

    # ------------------------------------------------------------------ pods

    def _pod(self, namespace: str, name: str) -> Mapping[str, Any]:
        pod = self.lookup.find_pod(namespace, name)
        if pod is None:
            raise _not_found(f'pods "{name}" not found')
        return pod

    def _check_container(self, pod: Mapping[str, Any], name: str, container: str) -> None:
        spec = pod.get("spec") or {}
        names = {
            str(c.get("name"))
            for field in ("containers", "initContainers", "ephemeralContainers")
            for c in spec.get(field) or []
            if isinstance(c, Mapping)
        }
        if container not in names:
            raise _bad_request(f"container {container} is not valid for pod {name}")

    async def _container_logs(self, request: Request) -> Response:
        p = request.path_params
        namespace, name, container = p["namespace"], p["pod"], p["container"]
        try:
            options = logs.options_from_query(_query(request), now_ns=time.time_ns())
        except ValueError as e:
            raise _bad_request(str(e)) from None
        pod = self._pod(namespace, name)
        self._check_container(pod, name, container)
        path = self.lookup.log_path(namespace, name, container, previous=options.previous)
        if path is None:
            if options.previous:
                raise _bad_request(
                    f'previous terminated container "{container}" in pod "{name}" not found'
                )
            raise _bad_request(
                f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating'
            )
        # the container whose log this is: following ends when it ends (a restart writes a
        # new file for a new container; kubelet's follow ends likewise)
        cid = self.lookup.container_id(namespace, name, container, previous=options.previous)
        chunks = logs.follow_logs(path, options, running=self._running_check(cid))
        return StreamingResponse(chunks, media_type="text/plain")

    def _running_check(self, cid: str | None) -> Callable[[], Awaitable[bool]]:
        async def running() -> bool:
            if cid is None:
                return False
            try:
                status = await self.runtime.container_status(cid)
            except ContainerRuntimeError:
                return False
            return status.state in (ContainerState.RUNNING, ContainerState.CREATED)

        return running

    async def _stream_target(self, ws: WebSocket) -> tuple[str, str, str, str]:
        p = ws.path_params
        namespace, name, container = p["namespace"], p["pod"], p["container"]
        pod = self._pod(namespace, name)
        self._check_container(pod, name, container)
        cid = self.lookup.container_id(namespace, name, container)
        if cid is None:
            raise _bad_request(f'container "{container}" in pod "{name}" is not running')
        return namespace, name, container, cid

    def _protocol(self, ws: WebSocket, supported: tuple[str, ...]) -> str:
        offered = [str(p) for p in ws.scope.get("subprotocols") or []]
        protocol = streaming.choose_protocol(offered, supported)
        if protocol is None:
            raise _bad_request(
                f"no supported stream protocol offered (got {', '.join(offered) or 'none'}; "
                f"supported: {', '.join(supported)})"
            )
        return protocol

    async def _refuse(self, ws: WebSocket, error: _Refused) -> None:
        if ws.application_state != WebSocketState.CONNECTING:
            with contextlib.suppress(RuntimeError, OSError):
                await ws.close(1011, error.message[:120])
            return
        if "websocket.http.response" in (ws.scope.get("extensions") or {}):
            await ws.send_denial_response(error.response())
        else:
            await ws.close(1008, error.message[:120])

    async def _exec(self, ws: WebSocket) -> None:
        await self._remote_command(ws, exec_=True)

    async def _attach(self, ws: WebSocket) -> None:
        await self._remote_command(ws, exec_=False)

    async def _remote_command(self, ws: WebSocket, *, exec_: bool) -> None:
        """exec or attach. Only a client offering no protocol spoken here is refused before the
        upgrade; anything else wrong (pod, container, options) is answered on the error channel
        once upgraded, so kubectl prints it (refused, it would retry with SPDY, which the API
        server does not relay, and print that instead)."""
        try:
            protocol = self._protocol(ws, streaming.CHANNEL_PROTOCOLS)
        except _Refused as e:
            await self._refuse(ws, e)
            return
        query = _query(ws)
        command = query.get("command") or []
        stdin, stdout, stderr, tty = (_flag(query, n) for n in ("stdin", "stdout", "stderr", "tty"))
        try:
            if exec_ and not command:
                raise _bad_request("you must specify at least one command for the container")
            if not (stdin or stdout or stderr):
                raise _bad_request("you must specify at least 1 of stdin, stdout, stderr")
            _, _, _, cid = await self._stream_target(ws)
        except _Refused as e:
            await streaming.refuse_stream(ws, protocol, e.status())
            return
        runtime = self.runtime

        async def open_session() -> Any:
            if not exec_:
                return await runtime.attach(cid, tty=tty, stdin=stdin)
            return await runtime.exec(cid, list(command), tty=tty, stdin=stdin)

        await streaming.serve_remote_command(
            ws,
            protocol,
            open_session,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            tty=tty,
            report_exit_code=exec_,
        )

    async def _port_forward(self, ws: WebSocket) -> None:
        """port-forward. A pod not running here is told on each forwarded connection's error
        stream (or channel), as kubelet does, so the client shows why."""
        try:
            namespace, name = ws.path_params["namespace"], ws.path_params["pod"]
            protocol = self._protocol(ws, streaming.PORT_FORWARD_PROTOCOLS)
            ports: list[int] = []
            if protocol != streaming.SPDY_PORT_FORWARD:
                try:
                    ports = streaming.parse_ports(_query(ws).get("ports") or [])
                except ValueError as e:
                    raise _bad_request(str(e)) from None
                if not ports:
                    raise _bad_request('query parameter "ports" is required')
        except _Refused as e:
            await self._refuse(ws, e)
            return
        runtime = self.runtime

        async def dial(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            if self.lookup.find_pod(namespace, name) is None:
                raise ContainerRuntimeError(f'pods "{name}" not found')
            sandbox = self.lookup.sandbox_id(namespace, name)
            if sandbox is None:
                raise ContainerRuntimeError(f'pod "{name}" has no running sandbox')
            return await runtime.port_forward(sandbox, port)

        if protocol == streaming.SPDY_PORT_FORWARD:
            await streaming.serve_port_forward_spdy(ws, dial)
        else:
            await streaming.serve_port_forward_v4(ws, ports, dial)
