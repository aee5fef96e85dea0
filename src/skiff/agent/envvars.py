"""A container's environment and argv, as kubelet builds them (``kubelet_pods.go``
``makeEnvironmentVariables``, ``pkg/kubelet/envvars``, ``third_party/forked/golang/expansion``).

`container_env` resolves, in kubelet's order:

1. ``envFrom`` (configMapRef / secretRef, each with an optional ``prefix``; a missing source is an
   error unless ``optional``; keys that are not valid variable names are skipped),
2. ``env`` (``value`` with ``$(VAR)`` expanded against the variables defined so far and the service
   variables; ``valueFrom`` configMapKeyRef / secretKeyRef / fieldRef / resourceFieldRef),
3. the service variables kubelet injects (``FOO_SERVICE_HOST``, ``FOO_SERVICE_PORT``,
   ``FOO_PORT_80_TCP`` ...) for every service with a cluster IP in the pod's namespace, plus the
   ``kubernetes`` service of the ``default`` namespace; ``enableServiceLinks: false`` keeps only
   the latter. A variable the pod defines itself wins.

Lookups go through a `SourceLookup` (the agent backs it with the API through skiff.client, caching
as it likes). Errors are `ConfigError` with Kubernetes' messages; the agent shows them as the
container's ``CreateContainerConfigError`` waiting reason.

`expand` is Kubernetes' ``$(VAR)`` syntax: ``$$`` is a literal ``$``, an unknown ``$(VAR)`` stays as
written. `container_argv` merges the pod's command/args with the image's entrypoint/cmd the way
container runtimes do.

Pure helpers shared with the volume manager (downward API files): `field_value`,
`resource_value`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any, Protocol

from skiff.api.quantity import QuantityError, parse_quantity
from skiff.runtime.images.base import ImageConfig

__all__ = [
    "ConfigError",
    "SourceLookup",
    "container_argv",
    "container_env",
    "expand",
    "field_value",
    "resource_value",
    "service_env",
]

# What kubelet accepts as an env var name from envFrom (validation.IsEnvVarName: C identifier
# like, plus '-' and '.').
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_MASTER_NAMESPACE = "default"
_MASTER_SERVICES = frozenset({"kubernetes"})


class ConfigError(Exception):
    """The container cannot be configured (a missing ConfigMap, Secret or key...)."""

    reason = "CreateContainerConfigError"


class SourceLookup(Protocol):
    """Where the agent reads the objects env vars and volumes refer to. Each returns the object as
    the API gives it (a dict), or None when it does not exist."""

    async def config_map(self, namespace: str, name: str) -> Mapping[str, Any] | None: ...

    async def secret(self, namespace: str, name: str) -> Mapping[str, Any] | None: ...

    async def services(self, namespace: str) -> list[Mapping[str, Any]]: ...


# ---- $(VAR) expansion


def expand(text: str, env: Mapping[str, str]) -> str:
    """Expand ``$(VAR)`` references in ``text`` from ``env``.

    ``$$`` is an escaped ``$``; a reference to an unknown variable, an unterminated ``$(`` and a
    ``$`` followed by anything else are kept as written (Kubernetes' expansion rules)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "$" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            close = text.find(")", i + 2)
            if close < 0:
                out.append("$(")
                i += 2
            else:
                name = text[i + 2 : close]
                out.append(env.get(name, f"$({name})"))
                i = close + 1
        else:
            out.append("$" + nxt)
            i += 2
    return "".join(out)


class _Chain(Mapping[str, str]):
    """Look names up in several mappings, first match wins (expansion.MappingFuncFor)."""

    def __init__(self, *maps: Mapping[str, str]) -> None:
        self._maps = maps

    def __getitem__(self, key: str) -> str:
        for m in self._maps:
            if key in m:
                return m[key]
        raise KeyError(key)

    def __iter__(self) -> Any:
        seen: set[str] = set()
        for m in self._maps:
            for k in m:
                if k not in seen:
                    seen.add(k)
                    yield k

    def __len__(self) -> int:
        return len(set().union(*self._maps))


# ---- command and args


def container_argv(
    container: Mapping[str, Any], image: ImageConfig | None, env: Mapping[str, str]
) -> tuple[str, ...]:
    """The process argv: ``command`` replaces the image's entrypoint and drops its cmd; ``args``
    replace the cmd; both are ``$(VAR)``-expanded with ``env`` (the image's own values are not).
    Empty when neither the pod nor the image names a program (the runtime then refuses)."""
    command = [expand(str(c), env) for c in container.get("command") or ()]
    args = [expand(str(a), env) for a in container.get("args") or ()]
    image = image or ImageConfig()
    if command:
        return (*command, *args)
    if args:
        return (*image.entrypoint, *args)
    return (*image.entrypoint, *image.cmd)


# ---- downward API values


def _pod_ips(pod: Mapping[str, Any], pod_ip: str) -> list[str]:
    status = pod.get("status") or {}
    ips = [str(p.get("ip")) for p in status.get("podIPs") or () if p.get("ip")]
    if ips:
        return ips
    if pod_ip:
        return [pod_ip]
    return [str(status["podIP"])] if status.get("podIP") else []


def _format_map(values: Mapping[str, Any]) -> str:
    # kubelet's fieldpath.FormatMap: sorted key="value" lines (Go %q quoting; json.dumps is the
    # same for printable text)
    import json

    return "\n".join(
        f"{k}={json.dumps(str(values[k]), ensure_ascii=False)}" for k in sorted(values)
    )


_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.*)'\]$")


def field_value(
    pod: Mapping[str, Any],
    path: str,
    *,
    node_name: str = "",
    node_ip: str = "",
    pod_ip: str = "",
    allow_maps: bool = False,
) -> str:
    """The value of a ``fieldRef.fieldPath`` for this pod (``metadata.labels['app']`` ...).

    ``allow_maps`` permits whole ``metadata.labels`` / ``metadata.annotations`` (downward API
    volumes only). Raises ConfigError for an unsupported path."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    if m := _SUBSCRIPT.match(path):
        return str((meta.get(m.group(1)) or {}).get(m.group(2), ""))
    simple: dict[str, Any] = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName") or node_name,
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.hostIP": status.get("hostIP") or node_ip,
        "status.podIP": (_pod_ips(pod, pod_ip) or [""])[0],
    }
    if path in simple:
        return str(simple[path] or "")
    if path == "status.podIPs":
        return ",".join(_pod_ips(pod, pod_ip))
    if path == "status.hostIPs":
        ips = [str(p.get("ip")) for p in status.get("hostIPs") or () if p.get("ip")]
        return ",".join(ips or ([node_ip] if node_ip else []))
    if allow_maps and path in ("metadata.labels", "metadata.annotations"):
        return _format_map(meta.get(path.split(".", 1)[1]) or {})
    raise ConfigError(f"unsupported fieldPath: {path}")


def _find_container(pod: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    spec = pod.get("spec") or {}
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or ():
            if c.get("name") == name:
                found: Mapping[str, Any] = c
                return found
    return None


def resource_value(
    pod: Mapping[str, Any],
    container: Mapping[str, Any] | None,
    ref: Mapping[str, Any],
    *,
    node_allocatable: Mapping[str, Any] | None = None,
) -> str:
    """The value of a ``resourceFieldRef`` (``limits.cpu``, ``requests.memory`` ...) divided by
    its ``divisor`` and rounded up, as kubelet's ``ExtractContainerResourceValue``. An unset
    limit reads as the node's allocatable amount (kubelet merges allocatable into the limits).
    ``containerName`` in ``ref`` picks the container (required in volumes)."""
    name = ref.get("containerName")
    if name:
        container = _find_container(pod, str(name))
        if container is None:
            raise ConfigError(f"container {name} not found")
    if container is None:
        raise ConfigError("resourceFieldRef without a container")
    resource = str(ref.get("resource") or "")
    kind, _, res = resource.partition(".")
    if kind not in ("limits", "requests") or not res:
        raise ConfigError(f"unsupported container resource: {resource}")
    resources = container.get("resources") or {}
    raw = (resources.get(kind) or {}).get(res)
    if raw is None and kind == "limits":
        raw = (node_allocatable or {}).get(res)
    try:
        amount = parse_quantity(raw).amount if raw is not None else Fraction(0)
        divisor = parse_quantity(ref.get("divisor") or "1").amount
    except QuantityError as err:
        raise ConfigError(f"invalid quantity in resourceFieldRef {resource}: {err}") from None
    if divisor <= 0:
        raise ConfigError(f"invalid divisor for {resource}")
    if res == "cpu":
        # kubelet: ceil(MilliValue / divisor.MilliValue)
        milli = -(-amount * 1000 // 1)
        div_milli = -(-divisor * 1000 // 1)
        return str(-(-milli // div_milli))
    # memory, ephemeral-storage, hugepages-*: ceil(Value / divisor.Value)
    value = -(-amount // 1)
    div = -(-divisor // 1)
    return str(-(-value // div))


# ---- service links


def _env_name(name: str) -> str:
    return name.upper().replace("-", "_")


def service_env(services: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The variables kubelet writes for these services (``envvars.FromServices``), in order of
    service name. Services without a cluster IP (headless, ExternalName) give none."""
    out: list[tuple[str, str]] = []
    for svc in sorted(services, key=lambda s: str((s.get("metadata") or {}).get("name", ""))):
        spec = svc.get("spec") or {}
        ip = str(spec.get("clusterIP") or "")
        ports = spec.get("ports") or []
        if ip in ("", "None") or not ports:
            continue
        prefix = _env_name(str(svc["metadata"]["name"]))
        out.append((f"{prefix}_SERVICE_HOST", ip))
        out.append((f"{prefix}_SERVICE_PORT", str(ports[0].get("port"))))
        for port in ports:
            if port.get("name"):
                out.append(
                    (f"{prefix}_SERVICE_PORT_{_env_name(str(port['name']))}", str(port["port"]))
                )
        host = f"[{ip}]" if ":" in ip else ip
        for i, port in enumerate(ports):
            proto = str(port.get("protocol") or "TCP")
            number = int(port.get("port") or 0)
            url = f"{proto.lower()}://{host}:{number}"
            if i == 0:
                out.append((f"{prefix}_PORT", url))
            base = f"{prefix}_PORT_{number}_{proto.upper()}"
            out += [
                (base, url),
                (f"{base}_PROTO", proto.lower()),
                (f"{base}_PORT", str(number)),
                (f"{base}_ADDR", ip),
            ]
    return out


async def _service_env(pod: Mapping[str, Any], lookup: SourceLookup) -> list[tuple[str, str]]:
    namespace = str((pod.get("metadata") or {}).get("namespace") or "default")
    links = (pod.get("spec") or {}).get("enableServiceLinks")
    links = True if links is None else bool(links)
    chosen: dict[str, Mapping[str, Any]] = {}
    for svc in await lookup.services(_MASTER_NAMESPACE):
        name = str((svc.get("metadata") or {}).get("name", ""))
        if name in _MASTER_SERVICES:
            chosen[name] = svc
    if links:
        for svc in await lookup.services(namespace):
            name = str((svc.get("metadata") or {}).get("name", ""))
            if namespace == _MASTER_NAMESPACE and name in _MASTER_SERVICES:
                continue
            chosen[name] = svc
    return service_env(list(chosen.values()))


# ---- sources


def _decode_secret(obj: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in (obj.get("data") or {}).items():
        try:
            out[k] = base64.b64decode(v).decode("utf-8", "replace")
        except (ValueError, TypeError):
            out[k] = ""
    for k, v in (obj.get("stringData") or {}).items():
        out[k] = str(v)
    return out


def _config_map_data(obj: Mapping[str, Any]) -> dict[str, str]:
    # env reads only `data`; binaryData is for volumes (kubelet does the same)
    return {k: str(v) for k, v in (obj.get("data") or {}).items()}


async def _source(
    lookup: SourceLookup, kind: str, namespace: str, name: str, optional: bool
) -> dict[str, str] | None:
    if kind == "configmap":
        obj = await lookup.config_map(namespace, name)
        if obj is not None:
            return _config_map_data(obj)
    else:
        obj = await lookup.secret(namespace, name)
        if obj is not None:
            return _decode_secret(obj)
    if optional:
        return None
    raise ConfigError(f'{kind} "{name}" not found')


async def container_env(
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    *,
    lookup: SourceLookup,
    node_name: str,
    node_ip: str,
    pod_ip: str,
    node_allocatable: Mapping[str, Any] | None = None,
) -> list[tuple[str, str]]:
    """The container's environment as ordered (name, value) pairs (see the module docstring).

    ``node_allocatable`` (resource name -> quantity) stands in for unset limits in
    resourceFieldRef. Raises ConfigError."""
    namespace = str((pod.get("metadata") or {}).get("namespace") or "default")
    services = dict(await _service_env(pod, lookup))
    env: dict[str, str] = {}
    mapping = _Chain(env, services)

    for source in container.get("envFrom") or ():
        prefix = str(source.get("prefix") or "")
        if (ref := source.get("configMapRef")) is not None:
            kind = "configmap"
        elif (ref := source.get("secretRef")) is not None:
            kind = "secret"
        else:
            continue
        data = await _source(
            lookup, kind, namespace, str(ref.get("name", "")), bool(ref.get("optional"))
        )
        for key, value in (data or {}).items():
            name = prefix + key
            if _ENV_NAME.match(name):  # kubelet skips (and reports) invalid names
                env[name] = value

    for var in container.get("env") or ():
        name = str(var["name"])
        value = var.get("value")
        source = var.get("valueFrom")
        if value:
            env[name] = expand(str(value), mapping)
        elif source:
            resolved = await _value_from(
                pod,
                container,
                source,
                lookup=lookup,
                namespace=namespace,
                node_name=node_name,
                node_ip=node_ip,
                pod_ip=pod_ip,
                node_allocatable=node_allocatable,
            )
            # an optional source or key that is missing leaves the variable out, as kubelet does
            if resolved is not None:
                env[name] = resolved
        else:
            env[name] = ""

    result = list(env.items())
    result += [(k, v) for k, v in services.items() if k not in env]
    return result


async def _value_from(
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    source: Mapping[str, Any],
    *,
    lookup: SourceLookup,
    namespace: str,
    node_name: str,
    node_ip: str,
    pod_ip: str,
    node_allocatable: Mapping[str, Any] | None,
) -> str | None:
    if (ref := source.get("fieldRef")) is not None:
        return field_value(
            pod, str(ref.get("fieldPath", "")), node_name=node_name, node_ip=node_ip, pod_ip=pod_ip
        )
    if (ref := source.get("resourceFieldRef")) is not None:
        return resource_value(pod, container, ref, node_allocatable=node_allocatable)
    for field, kind, title in (
        ("configMapKeyRef", "configmap", "ConfigMap"),
        ("secretKeyRef", "secret", "Secret"),
    ):
        if (ref := source.get(field)) is None:
            continue
        name, key = str(ref.get("name", "")), str(ref.get("key", ""))
        optional = bool(ref.get("optional"))
        data = await _source(lookup, kind, namespace, name, optional)
        if data is None:
            return None
        if key not in data:
            if optional:
                return None
            raise ConfigError(f"couldn't find key {key} in {title} {namespace}/{name}")
        return data[key]
    return ""
