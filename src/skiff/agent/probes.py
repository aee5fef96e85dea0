"""One run of a container probe: exec, httpGet, tcpSocket or grpc, each bounded by timeoutSeconds.

`run_probe` is what the prober's workers call (``skiff.agent.prober``) for liveness, readiness and
startup probes; it never raises for a probe that merely fails. The result follows kubelet's prober
(``pkg/probe/{exec,http,tcp,grpc}``):

- ``success=True``: the check passed. A non-empty ``message`` on success is a *warning* (an httpGet
  probe that stopped at a redirect to another host: kubelet's ``probe.Warning``, reported as a
  ``ProbeWarning`` event and counted as success).
- ``success=False``: the check failed; ``message`` is what the Unhealthy event shows after
  ``"Liveness probe failed: "``.
- ``success=None``: the probe could not be run (no such named port, the runtime refused the exec);
  kubelet throws such results away instead of counting them.

An httpGet probe never follows a redirect to another host (kubelet's ``followNonLocalRedirects``
is false for probes): the 3xx answer itself is the result, a success with a warning. Redirects to
the same host are followed, at most 10. TLS certificates are not verified, as kubelet does not.
Proxy settings from the environment are ignored (a probe talks to the pod directly).

The helpers `resolve_port`, `http_get` are shared with lifecycle hooks (``skiff.agent.hooks``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from skiff.runtime.base import Runtime
from skiff.runtime.types import ContainerRuntimeError

__all__ = [
    "MAX_OUTPUT",
    "USER_AGENT",
    "ProbeResult",
    "http_get",
    "resolve_port",
    "run_probe",
]

# kubelet keeps at most 10 KiB of a probe's output or response body (probe.MaxOutputLength... in
# pkg/probe/exec and pkg/probe/http: maxRespBodyLength = 10 * 1 << 10).
MAX_OUTPUT = 10 * 1024
# kubelet sends "kube-probe/<major>.<minor>"; skiff serves the 1.32 API.
USER_AGENT = "kube-probe/1.32"
_MAX_REDIRECTS = 10


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of one probe run (see the module docstring for what each value means)."""

    success: bool | None
    message: str = ""


def _timeout(probe: Mapping[str, Any]) -> float:
    value = probe.get("timeoutSeconds") or 1
    return float(max(1, int(value)))


def resolve_port(port: Any, container_ports: Mapping[str, int]) -> int:
    """A probe's ``port`` (number, numeric string or the name of a container port) as a number.

    Raises ValueError with kubelet's wording when a name matches no container port."""
    if isinstance(port, bool):
        raise ValueError(f"invalid port: {port!r}")
    if isinstance(port, int):
        number = port
    elif isinstance(port, str) and port.isdigit():
        number = int(port)
    elif isinstance(port, str) and port in container_ports:
        number = int(container_ports[port])
    else:
        raise ValueError(f"couldn't find port: {port} in {sorted(container_ports)}")
    if not 0 < number < 65536:
        raise ValueError(f"invalid port number: {number}")
    return number


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


@functools.cache
def _no_verify_context() -> ssl.SSLContext:
    # probes do not verify certificates (kubelet: InsecureSkipVerify), so no CA bundle is loaded;
    # one context serves every probe
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def http_get(
    action: Mapping[str, Any],
    *,
    pod_ip: str,
    container_ports: Mapping[str, int],
    time_limit: float,
    user_agent: str = USER_AGENT,
    follow_same_host: bool = True,
) -> tuple[httpx.Response, str | None]:
    """Send the GET an ``httpGet`` action describes; returns the final response and, when a
    redirect to another host stopped it, that redirect's target. Raises httpx errors, ValueError
    (bad port) and TimeoutError."""
    port = resolve_port(action.get("port"), container_ports)
    host = action.get("host") or pod_ip
    scheme = str(action.get("scheme") or "HTTP").lower()
    path = str(action.get("path") or "/")
    if not path.startswith("/"):
        path = "/" + path
    url = f"{scheme}://{_host_port(host, port)}{path}"
    headers: dict[str, str] = {"User-Agent": user_agent, "Accept": "*/*"}
    for header in action.get("httpHeaders") or ():
        name = str(header.get("name", ""))
        if not name:
            continue
        # a header named in the probe replaces the default one (kubelet: User-Agent, Accept, Host)
        for existing in [k for k in headers if k.lower() == name.lower()]:
            del headers[existing]
        headers[name] = str(header.get("value", ""))
    async with (
        asyncio.timeout(time_limit),
        httpx.AsyncClient(
            verify=_no_verify_context(),
            follow_redirects=False,
            trust_env=False,
            timeout=time_limit,
        ) as client,
    ):
        original_host = httpx.URL(url).host
        response = await client.get(url, headers=headers)
        redirects = 0
        while response.is_redirect and follow_same_host:
            target = response.url.join(response.headers["location"])
            if target.host != original_host:
                await response.aclose()
                return response, str(target)
            redirects += 1
            if redirects > _MAX_REDIRECTS:
                raise httpx.TooManyRedirects(f"stopped after {_MAX_REDIRECTS} redirects")
            await response.aclose()
            response = await client.get(target, headers=headers)
        return response, None


async def _http_probe(
    action: Mapping[str, Any], *, pod_ip: str, container_ports: Mapping[str, int], time_limit: float
) -> ProbeResult:
    try:
        response, offhost = await http_get(
            action, pod_ip=pod_ip, container_ports=container_ports, time_limit=time_limit
        )
    except ValueError as err:
        return ProbeResult(None, str(err))
    except TimeoutError:
        return ProbeResult(False, f"Get: context deadline exceeded (timeout {time_limit:g}s)")
    except httpx.TimeoutException as err:
        return ProbeResult(False, f'Get "{err.request.url}": context deadline exceeded ({err})')
    except httpx.HTTPError as err:
        url = ""
        with contextlib.suppress(RuntimeError):
            url = str(err.request.url)
        return ProbeResult(False, f'Get "{url}": {str(err) or type(err).__name__}')
    body = response.content[:MAX_OUTPUT].decode("utf-8", "replace")
    code = response.status_code
    if 200 <= code < 400:
        if code >= 300:
            # kubelet: probe.Warning "Probe terminated redirects, Response body: ..."
            where = f" (to {offhost})" if offhost else ""
            return ProbeResult(True, f"Probe terminated redirects{where}, Response body: {body}")
        return ProbeResult(True)
    return ProbeResult(False, f"HTTP probe failed with statuscode: {code}")


async def _tcp_probe(host: str, port: int, time_limit: float) -> ProbeResult:
    address = _host_port(host, port)
    try:
        async with asyncio.timeout(time_limit):
            _, writer = await asyncio.open_connection(host, port)
    except TimeoutError:
        return ProbeResult(False, f"dial tcp {address}: i/o timeout")
    except OSError as err:
        return ProbeResult(False, f"dial tcp {address}: connect: {err.strerror or err}")
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return ProbeResult(True)


async def _exec_probe(
    argv: list[str], *, runtime: Runtime, container_id: str, time_limit: float
) -> ProbeResult:
    if not argv:
        return ProbeResult(None, "exec probe has no command")
    try:
        result = await runtime.exec_sync(container_id, argv, time_limit=time_limit)
    except ContainerRuntimeError as err:
        return ProbeResult(None, str(err))
    if result.timed_out:
        # kubelet (ExecProbeTimeout, on since 1.20): the command's timeout is a failure
        return ProbeResult(False, f"command {' '.join(argv)!r} timed out")
    output = (result.stdout + result.stderr)[:MAX_OUTPUT].decode("utf-8", "replace")
    if result.exit_code == 0:
        return ProbeResult(True)
    return ProbeResult(False, output)


async def _grpc_probe(host: str, port: int, service: str, time_limit: float) -> ProbeResult:
    # grpcio ships no type information; the health stubs are generated code.
    import grpc  # type: ignore[import-untyped]
    from grpc_health.v1 import health_pb2, health_pb2_grpc  # type: ignore[import-untyped]

    target = _host_port(host, port)
    options = [("grpc.enable_http_proxy", 0), ("grpc.primary_user_agent", USER_AGENT)]
    channel = grpc.aio.insecure_channel(target, options=options)
    try:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            response = await stub.Check(
                health_pb2.HealthCheckRequest(service=service), timeout=time_limit
            )
        except grpc.aio.AioRpcError as err:
            code = err.code()
            if code == grpc.StatusCode.UNIMPLEMENTED:
                return ProbeResult(
                    False,
                    "this server does not implement the grpc health protocol "
                    f"(grpc.health.v1.Health): {err.details()}",
                )
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                return ProbeResult(
                    False, f"timeout: health rpc did not complete within {time_limit:g}s"
                )
            if code == grpc.StatusCode.UNAVAILABLE:
                return ProbeResult(
                    False,
                    f"timeout: failed to connect service {target!r} within {time_limit:g}s: "
                    f"{err.details()}",
                )
            return ProbeResult(
                False, f"error: health rpc probe failed: {code.name}: {err.details()}"
            )
    finally:
        await channel.close()
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    if status == "SERVING":
        return ProbeResult(True)
    return ProbeResult(False, f'service unhealthy (responded with "{status}")')


async def run_probe(
    probe: Mapping[str, Any],
    *,
    runtime: Runtime,
    container_id: str,
    pod_ip: str,
    container_ports: Mapping[str, int],
) -> ProbeResult:
    """Run ``probe`` (a Probe object as in the pod spec) once, within its ``timeoutSeconds``
    (default 1). ``container_ports`` maps the container's port names to numbers (for named
    ports); ``pod_ip`` is the default host of httpGet, tcpSocket and grpc probes."""
    time_limit = _timeout(probe)
    try:
        if (action := probe.get("exec")) is not None:
            argv = [str(a) for a in action.get("command") or ()]
            return await _exec_probe(
                argv, runtime=runtime, container_id=container_id, time_limit=time_limit
            )
        if (action := probe.get("httpGet")) is not None:
            return await _http_probe(
                action, pod_ip=pod_ip, container_ports=container_ports, time_limit=time_limit
            )
        if (action := probe.get("tcpSocket")) is not None:
            port = resolve_port(action.get("port"), container_ports)
            return await _tcp_probe(action.get("host") or pod_ip, port, time_limit)
        if (action := probe.get("grpc")) is not None:
            port = resolve_port(action.get("port"), {})
            return await _grpc_probe(pod_ip, port, str(action.get("service") or ""), time_limit)
    except ValueError as err:
        return ProbeResult(None, str(err))
    return ProbeResult(None, "probe has no handler (exec, httpGet, tcpSocket or grpc)")
