"""Where connect requests go: pods' logs, exec, attach and port-forward on their node's agent,
pods/proxy to a pod's address, nodes/proxy to a node's agent.

The node agent serves kubelet's paths on ``https://<node InternalIP>:<status.daemonEndpoints.
kubeletEndpoint.Port>`` (kubernetes ``pkg/kubelet/server/server.go``); the API server only
validates and relays (``pkg/registry/core/pod/strategy.go`` ``LogLocation``/``streamLocation``/
``PortForwardLocation``, ``pkg/registry/core/node/strategy.go`` ``ResourceLocation``):

- ``pods/log``     -> ``GET /containerLogs/{namespace}/{pod}/{container}`` with ``follow``,
  ``previous``, ``timestamps``, ``sinceSeconds``, ``sinceTime``, ``tailLines``, ``limitBytes``
  passed on as sent (after validation);
- ``pods/exec``    -> ``/exec/{namespace}/{pod}/{container}?command=<argv0>&command=<argv1>...
  &stdin=true|false&stdout=true|false&stderr=true|false&tty=true|false``;
- ``pods/attach``  -> ``/attach/{namespace}/{pod}/{container}?stdin=..&stdout=..&stderr=..&tty=..``;
- ``pods/portforward`` -> ``/portForward/{namespace}/{pod}`` (with ``ports`` when the client gave
  them, as the Python client does);
- ``nodes/proxy``  -> ``/{path}`` on the node's agent;
- ``pods/proxy``   -> ``http://<pod IP>:<port>/{path}`` (name ``[scheme:]pod[:port]``);
- ``services/proxy`` -> ``http://<ready endpoint>:<its port>/{path}`` (name
  ``[scheme:]service[:port name or number]``).

A pod without ``spec.nodeName`` is refused with Kubernetes' 400 ``pod <name> does not have a host
assigned``; a container name is required when a pod has several containers (400 naming them).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from skiff.api import resources as kinds
from skiff.api.duration import parse_time
from skiff.api.resources import ResourceInfo
from skiff.apiserver.connect import Connecter, Location
from skiff.apiserver.errors import ApiError, bad_request
from skiff.apiserver.registry import Registry
from skiff.apiserver.routes import Target

__all__ = [
    "CONNECTERS",
    "NodeProxy",
    "PodLog",
    "PodPortForward",
    "PodProxy",
    "PodStream",
    "ServiceProxy",
    "node_agent_address",
]

_TRUE = frozenset({"true", "1", "yes"})
_PROXY_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# kube-apiserver's --kubelet-preferred-address-types, narrowed to what nodes report here
_ADDRESS_TYPES = ("InternalIP", "ExternalIP", "Hostname")


def _info(plural: str) -> ResourceInfo:
    info = kinds.by_resource("", "v1", plural)
    assert info is not None
    return info


def _flag(query: Mapping[str, Sequence[str]], name: str) -> bool:
    values = query.get(name) or ()
    return bool(values) and values[-1].strip().lower() in _TRUE


def _one(query: Mapping[str, Sequence[str]], name: str) -> str:
    values = query.get(name) or ()
    return values[-1] if values else ""


def _host(address: str) -> str:
    try:
        if ipaddress.ip_address(address).version == 6:
            return f"[{address}]"
    except ValueError:
        pass
    return address


async def node_agent_address(registry: Registry, node_name: str) -> tuple[str, int]:
    """``(host, port)`` of a node's agent, from the Node's status.

    404 when the Node does not exist (as Kubernetes); 503 when it reports no address or no
    ``status.daemonEndpoints.kubeletEndpoint.Port`` (its agent has not registered yet).
    """
    node = await registry.get(_info("nodes"), "", node_name)
    status = node.get("status") or {}
    by_type: dict[str, str] = {}
    for entry in status.get("addresses") or []:
        if isinstance(entry, dict) and entry.get("address"):
            by_type.setdefault(str(entry.get("type")), str(entry["address"]))
    host = next((by_type[t] for t in _ADDRESS_TYPES if t in by_type), "")
    if not host:
        raise ApiError(
            503,
            "ServiceUnavailable",
            f'node "{node_name}" reports no address in status.addresses '
            "(InternalIP, ExternalIP or Hostname): its agent cannot be reached",
        )
    endpoint = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint")) or {}
    port = endpoint.get("Port")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ApiError(
            503,
            "ServiceUnavailable",
            f'node "{node_name}" reports no agent port in '
            "status.daemonEndpoints.kubeletEndpoint.Port: its agent cannot be reached",
        )
    return host, port


async def _agent_location(
    registry: Registry, node_name: str, path: str, query: list[tuple[str, str]]
) -> Location:
    host, port = await node_agent_address(registry, node_name)
    base = f"https://{_host(host)}:{port}"
    url = base + path + (f"?{urlencode(query)}" if query else "")
    return Location(url, f'the agent of node "{node_name}" at {base}')


async def _scheduled_pod(registry: Registry, target: Target) -> tuple[dict[str, Any], str]:
    pod = await registry.get(target.info, target.namespace, target.name)
    node = str((pod.get("spec") or {}).get("nodeName") or "")
    return pod, node


def _container_names(pod: dict[str, Any], field: str) -> list[str]:
    return [
        str(c.get("name"))
        for c in (pod.get("spec") or {}).get(field) or []
        if isinstance(c, dict) and c.get("name")
    ]


def _container(pod: dict[str, Any], name: str, asked: str) -> str:
    """The container a log/exec/attach request is about (kube ``pod.validateContainer``)."""
    containers = _container_names(pod, "containers")
    if not asked:
        if len(containers) == 1:
            return containers[0]
        if not containers:
            raise bad_request(f"pod {name} does not have a container")
        message = (
            f"a container name must be specified for pod {name}, "
            f"choose one of: [{' '.join(containers)}]"
        )
        init = _container_names(pod, "initContainers")
        if init:
            message += f" or one of the init containers: [{' '.join(init)}]"
        raise bad_request(message)
    every = (
        containers
        + _container_names(pod, "initContainers")
        + _container_names(pod, "ephemeralContainers")
    )
    if asked not in every:
        raise bad_request(f"container {asked} is not valid for pod {name}")
    return asked


def _no_host(name: str) -> ApiError:
    return bad_request(f"pod {name} does not have a host assigned")


def _path(*segments: str) -> str:
    return "".join("/" + quote(s, safe="") for s in segments)


def _non_negative(query: Mapping[str, Sequence[str]], name: str) -> str:
    value = _one(query, name)
    if not value:
        return ""
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"{name} must be an integer, got {value!r}") from None
    if number < 0 or (number == 0 and name in ("sinceSeconds", "limitBytes")):
        raise bad_request(
            f"{name} must be greater than {'0' if name != 'tailLines' else 'or equal to 0'}"
        )
    return str(number)


class PodLog:
    """``pods/log``: the container's log from the node agent, streamed as plain text."""

    connect_methods: tuple[str, ...] = ("GET",)
    takes_path = False
    upgrade = False

    async def connect(
        self, registry: Registry, target: Target, query: Mapping[str, Sequence[str]]
    ) -> Location:
        pod, node = await _scheduled_pod(registry, target)
        container = _container(pod, target.name, _one(query, "container"))
        params: list[tuple[str, str]] = []
        for flag in ("follow", "previous", "timestamps"):
            if _flag(query, flag):
                params.append((flag, "true"))
        for number in ("sinceSeconds", "tailLines", "limitBytes"):
            value = _non_negative(query, number)
            if value:
                params.append((number, value))
        since_time = _one(query, "sinceTime")
        if since_time:
            if any(name == "sinceSeconds" for name, _ in params):
                raise bad_request("at most one of sinceTime or sinceSeconds may be specified")
            try:
                parse_time(since_time)
            except ValueError as e:
                raise bad_request(f"sinceTime: {e}") from None
            params.append(("sinceTime", since_time))
        if not node:
            raise _no_host(target.name)
        path = _path("containerLogs", target.namespace, target.name, container)
        return await _agent_location(registry, node, path, params)


class PodStream:
    """``pods/exec`` and ``pods/attach``: a WebSocket relayed to the node agent."""

    connect_methods: tuple[str, ...] = ("GET", "POST")
    takes_path = False
    upgrade = True

    def __init__(self, verb: str) -> None:
        assert verb in ("exec", "attach")
        self.verb = verb

    async def connect(
        self, registry: Registry, target: Target, query: Mapping[str, Sequence[str]]
    ) -> Location:
        pod, node = await _scheduled_pod(registry, target)
        container = _container(pod, target.name, _one(query, "container"))
        streams = {name: _flag(query, name) for name in ("stdin", "stdout", "stderr", "tty")}
        if not (streams["stdin"] or streams["stdout"] or streams["stderr"]):
            raise bad_request("you must specify at least 1 of stdin, stdout, stderr")
        params: list[tuple[str, str]] = []
        if self.verb == "exec":
            command = list(query.get("command") or ())
            if not command:
                raise bad_request("you must specify at least one command for the container")
            params.extend(("command", c) for c in command)
        params.extend((name, "true" if on else "false") for name, on in streams.items())
        if not node:
            raise _no_host(target.name)
        path = _path(self.verb, target.namespace, target.name, container)
        return await _agent_location(registry, node, path, params)


class PodPortForward:
    """``pods/portforward``: a WebSocket (SPDY tunnelled in it, or v4 channels) to the agent."""

    connect_methods: tuple[str, ...] = ("GET", "POST")
    takes_path = False
    upgrade = True

    async def connect(
        self, registry: Registry, target: Target, query: Mapping[str, Sequence[str]]
    ) -> Location:
        _, node = await _scheduled_pod(registry, target)
        params = [("ports", p) for p in query.get("ports") or ()]
        for value in params:
            for port in value[1].split(","):
                if not port.strip().isdigit() or not 0 < int(port) < 65536:
                    raise bad_request(f"invalid port {port.strip()!r}: must be 1-65535")
        if not node:
            raise _no_host(target.name)
        return await _agent_location(
            registry, node, _path("portForward", target.namespace, target.name), params
        )


def _split_name(name: str) -> tuple[str, str, str]:
    """``[scheme:]name[:port]`` -> (scheme, name, port), as kube ``net.SplitSchemeNamePort``."""
    parts = name.split(":")
    if len(parts) == 1:
        return "", parts[0], ""
    if len(parts) == 2:
        return "", parts[0], parts[1]
    if len(parts) == 3 and parts[0] in ("http", "https"):
        return parts[0], parts[1], parts[2]
    raise bad_request(f"invalid name {name!r}: expected [scheme:]name[:port]")


def _proxy_query(query: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    return [(name, v) for name, values in query.items() for v in values]


class PodProxy:
    """``pods/proxy``: HTTP (and WebSocket) to a port of the pod's IP."""

    connect_methods: tuple[str, ...] = _PROXY_METHODS
    takes_path = True
    upgrade = False

    async def connect(
        self, registry: Registry, target: Target, query: Mapping[str, Sequence[str]]
    ) -> Location:
        scheme, name, port = _split_name(target.name)
        if port and (not port.isdigit() or not 0 < int(port) < 65536):
            raise bad_request(f"invalid port {port!r} in {target.name!r}")
        pod = await registry.get(target.info, target.namespace, name)
        ip = str((pod.get("status") or {}).get("podIP") or "")
        if not ip:
            raise ApiError(
                503,
                "ServiceUnavailable",
                f'pod "{name}" has no IP address yet (status.podIP is empty)',
            )
        scheme = scheme or "http"
        base = f"{scheme}://{_host(ip)}" + (f":{port}" if port else "")
        params = _proxy_query(query)
        url = base + (target.tail or "/") + (f"?{urlencode(params)}" if params else "")
        return Location(url, f'pod "{name}" at {base}', agent=False)


class NodeProxy:
    """``nodes/proxy``: HTTP (and WebSocket) to any path of the node's agent."""

    connect_methods: tuple[str, ...] = _PROXY_METHODS
    takes_path = True
    upgrade = False

    async def connect(
        self, registry: Registry, target: Target, query: Mapping[str, Sequence[str]]
    ) -> Location:
        scheme, name, port = _split_name(target.name)
        if scheme == "http" or port:
            # upstream allows other ports; here the agent's own endpoint is the only one served
            raise bad_request(
                f"nodes/proxy reaches the node agent only: use {name}, not {target.name}"
            )
        return await _agent_location(registry, name, target.tail or "/", _proxy_query(query))


class ServiceProxy:
    """``services/proxy``: HTTP (and WebSocket) to a ready endpoint of the Service.

    The name is ``[scheme:]service[:port]``, the port a Service port's name or number; the
    address is picked among the ready addresses of the Service's Endpoints for that port (kube
    ``pkg/registry/core/service/storage`` ``ResourceLocation``, 1.32).
    """

    connect_methods: tuple[str, ...] = _PROXY_METHODS
    takes_path = True
    upgrade = False

    async def connect(
        self, registry: Registry, target: Target, query: Mapping[str, Sequence[str]]
    ) -> Location:
        scheme, name, port = _split_name(target.name)
        service = await registry.get(target.info, target.namespace, name)
        ports = [p for p in (service.get("spec") or {}).get("ports") or [] if isinstance(p, dict)]
        port_name = port
        if port.isdigit():
            match = next((p for p in ports if p.get("port") == int(port)), None)
            if match is None:
                raise ApiError(
                    503,
                    "ServiceUnavailable",
                    f'no service port {port} found for service "{name}"',
                )
            port_name = str(match.get("name") or "")
        endpoints = await registry.get_object("Endpoints", target.namespace, name)
        for subset in (endpoints or {}).get("subsets") or []:
            for ep_port in subset.get("ports") or []:
                if str(ep_port.get("name") or "") != port_name:
                    continue
                for address in subset.get("addresses") or []:
                    if address.get("ip"):
                        base = f"{scheme or 'http'}://{_host(str(address['ip']))}:{ep_port['port']}"
                        params = _proxy_query(query)
                        url = (
                            base
                            + (target.tail or "/")
                            + (f"?{urlencode(params)}" if params else "")
                        )
                        return Location(url, f'service "{name}" at {base}', agent=False)
        raise ApiError(503, "ServiceUnavailable", f'no endpoints available for service "{name}"')


# connect storage by (kind, subresource)
CONNECTERS: Mapping[tuple[str, str], Connecter] = {
    ("Pod", "log"): PodLog(),
    ("Pod", "exec"): PodStream("exec"),
    ("Pod", "attach"): PodStream("attach"),
    ("Pod", "portforward"): PodPortForward(),
    ("Pod", "proxy"): PodProxy(),
    ("Node", "proxy"): NodeProxy(),
    ("Service", "proxy"): ServiceProxy(),
}
