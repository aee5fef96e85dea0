"""The seam between the agent core and the pod parts (``envvars``, ``prober``, ``volumes``,
``hooks``).

The core calls those parts only through `PodParts`. `fallback_parts` gives thin stand-ins, enough
for the fake runtime and the core's own tests:

- env: literal ``value`` entries only (no configMap/secret/fieldRef sources, no service variables);
- argv: ``command`` + ``args`` (else the image's entrypoint + cmd), with ``$(VAR)`` expanded;
- probes: no probe is run; a container is started once running and ready once its readiness
  probe's ``initialDelaySeconds`` have passed (what ``--runtime fake`` promises), liveness never
  fails;
- volumes: none mounted; the termination message file lives under the pod's dir;
- hooks: an ``exec`` handler runs through ``runtime.exec_sync``; others are skipped.

`default_parts` builds the real modules (``skiff.agent.envvars``, ``prober.ProbeManager``,
``volumes.VolumeManager``, ``hooks.run_handler``); `fallback_parts` stays for tests that want the
thin stand-ins.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from skiff.runtime.base import Runtime
from skiff.runtime.images.base import ImageConfig
from skiff.runtime.types import ContainerRuntimeError, Mount
from skiff.util.clock import Clock

__all__ = [
    "ConfigErrorLike",
    "FallbackProbes",
    "FallbackVolumes",
    "PodParts",
    "ProbeManagerLike",
    "SourceLookup",
    "VolumeManagerLike",
    "default_parts",
    "fallback_parts",
]


class SourceLookup(Protocol):
    async def config_map(self, namespace: str, name: str) -> Mapping[str, Any] | None: ...

    async def secret(self, namespace: str, name: str) -> Mapping[str, Any] | None: ...

    async def services(self, namespace: str) -> list[Mapping[str, Any]]: ...


class ProbeManagerLike(Protocol):
    def update(
        self, pod: Mapping[str, Any], running: Mapping[str, tuple[str, float]], pod_ip: str
    ) -> None: ...

    def remove_pod(self, pod_uid: str) -> None: ...

    def ready(self, pod_uid: str, container: str) -> bool: ...

    def started(self, pod_uid: str, container: str) -> bool: ...

    def liveness_failed(self, pod_uid: str, container: str) -> str | None: ...

    async def close(self) -> None: ...


class VolumeManagerLike(Protocol):
    async def setup(self, pod: Mapping[str, Any], *, pod_ip: str) -> None: ...

    def mounts(
        self,
        pod: Mapping[str, Any],
        container: Mapping[str, Any],
        *,
        env: Mapping[str, str] | None = None,
        attempt: int | None = None,
    ) -> tuple[Mount, ...]: ...

    def termination_message_file(
        self, pod_uid: str, container: str, *, attempt: int | None = None
    ) -> Path: ...

    async def refresh(self, pod: Mapping[str, Any]) -> None: ...

    async def teardown(self, pod_uid: str) -> None: ...


class ConfigErrorLike(Exception):
    reason = "CreateContainerConfigError"


EnvFunc = Callable[..., Awaitable[list[tuple[str, str]]]]
ArgvFunc = Callable[[Mapping[str, Any], ImageConfig | None, Mapping[str, str]], tuple[str, ...]]
HandlerFunc = Callable[..., Awaitable[str | None]]


@dataclass
class PodParts:
    container_env: EnvFunc
    """``await container_env(pod, container, lookup=, node_name=, node_ip=, pod_ip=)``"""
    container_argv: ArgvFunc
    probes: ProbeManagerLike
    volumes: VolumeManagerLike
    run_handler: HandlerFunc
    """``await run_handler(handler, runtime=, container_id=, pod_ip=, container_ports=,
    time_limit=)`` -> error message or None"""
    config_errors: tuple[type[Exception], ...]
    """exceptions of env resolution that mean CreateContainerConfigError"""
    volume_errors: tuple[type[Exception], ...]
    """exceptions of volume setup that mean FailedMount"""


_VAR = re.compile(r"\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)")


def _expand(text: str, env: Mapping[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return env.get(name, m.group(0))

    return _VAR.sub(sub, text)


async def _literal_env(
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    *,
    lookup: SourceLookup,
    node_name: str,
    node_ip: str,
    pod_ip: str,
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for var in container.get("env") or ():
        if "value" in var or "valueFrom" not in var:
            value = _expand(str(var.get("value", "")), seen)
            seen[str(var["name"])] = value
            out.append((str(var["name"]), value))
    return out


def _argv(
    container: Mapping[str, Any], image: ImageConfig | None, env: Mapping[str, str]
) -> tuple[str, ...]:
    command = list(container.get("command") or ())
    args = list(container.get("args") or ())
    if not command:
        command = list(image.entrypoint) if image else []
        if not args:
            args = list(image.cmd) if image else []
    return tuple(_expand(a, env) for a in [*command, *args])


class FallbackProbes:
    """No probes run: started once running; ready once readiness's initialDelaySeconds passed."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._ready_at: dict[tuple[str, str], float] = {}

    def update(
        self, pod: Mapping[str, Any], running: Mapping[str, tuple[str, float]], pod_ip: str
    ) -> None:
        uid = str(pod["metadata"]["uid"])
        specs = {
            c["name"]: c
            for c in [*(pod["spec"].get("initContainers") or ()), *pod["spec"]["containers"]]
        }
        for key in [k for k in self._ready_at if k[0] == uid and k[1] not in running]:
            del self._ready_at[key]
        for name, (_cid, started_at) in running.items():
            probe = (specs.get(name) or {}).get("readinessProbe") or {}
            delay = float(probe.get("initialDelaySeconds") or 0)
            # started_at is wall time; keep the wall deadline
            self._ready_at[(uid, name)] = started_at + delay

    def remove_pod(self, pod_uid: str) -> None:
        for key in [k for k in self._ready_at if k[0] == pod_uid]:
            del self._ready_at[key]

    def ready(self, pod_uid: str, container: str) -> bool:
        at = self._ready_at.get((pod_uid, container))
        return at is not None and self.clock.time() >= at

    def ready_at(self, pod_uid: str, container: str) -> float | None:
        return self._ready_at.get((pod_uid, container))

    def started(self, pod_uid: str, container: str) -> bool:
        return (pod_uid, container) in self._ready_at

    def liveness_failed(self, pod_uid: str, container: str) -> str | None:
        return None

    async def close(self) -> None:
        self._ready_at.clear()


class FallbackVolumes:
    def __init__(self, pods_dir: Path | None) -> None:
        self.pods_dir = pods_dir

    async def setup(self, pod: Mapping[str, Any], *, pod_ip: str) -> None:
        return None

    def mounts(
        self,
        pod: Mapping[str, Any],
        container: Mapping[str, Any],
        *,
        env: Mapping[str, str] | None = None,
        attempt: int | None = None,
    ) -> tuple[Mount, ...]:
        return ()

    def termination_message_file(
        self, pod_uid: str, container: str, *, attempt: int | None = None
    ) -> Path:
        base = self.pods_dir or Path("/nonexistent")
        return base / pod_uid / "containers" / container / "termination-log"

    async def refresh(self, pod: Mapping[str, Any]) -> None:
        return None

    async def teardown(self, pod_uid: str) -> None:
        if self.pods_dir is not None:
            shutil.rmtree(self.pods_dir / pod_uid, ignore_errors=True)


async def _exec_handler(
    handler: Mapping[str, Any],
    *,
    runtime: Runtime,
    container_id: str,
    pod_ip: str,
    container_ports: Mapping[str, int],
    time_limit: float,
) -> str | None:
    command = (handler.get("exec") or {}).get("command")
    if not command:
        return None
    try:
        result = await runtime.exec_sync(container_id, list(command), time_limit)
    except ContainerRuntimeError as e:
        return str(e)
    if result.exit_code != 0:
        return f"command {list(command)!r} exited with {result.exit_code}"
    return None


def fallback_parts(runtime: Runtime, *, clock: Clock, pods_dir: Path | None) -> PodParts:
    return PodParts(
        container_env=_literal_env,
        container_argv=_argv,
        probes=FallbackProbes(clock),
        volumes=FallbackVolumes(pods_dir),
        run_handler=_exec_handler,
        config_errors=(ConfigErrorLike,),
        volume_errors=(),
    )


def default_parts(
    runtime: Runtime,
    *,
    clock: Clock,
    pods_dir: Path | None,
    lookup: SourceLookup,
    node_name: str,
    on_change: Callable[[str], None],
    on_event: Callable[[Mapping[str, Any], str, str, str], None],
    node_ip: str = "",
) -> PodParts:
    """The parts a real agent uses: `skiff.agent.envvars`, `prober.ProbeManager`,
    `volumes.VolumeManager` and `hooks.run_handler`.

    The fake runtime keeps `FallbackProbes` (its containers answer no probe, so fake pods are
    Ready after the readiness probe's initial delay, as ``--runtime fake`` promises), and without
    a pods directory (``--simulate``) no volume is set up.
    """
    from skiff.agent import envvars, hooks, prober, volumes

    probes: ProbeManagerLike
    if runtime.name == "fake":
        probes = FallbackProbes(clock)
    else:
        probes = prober.ProbeManager(runtime, clock=clock, on_change=on_change, on_event=on_event)
    if pods_dir is None:
        fallback = fallback_parts(runtime, clock=clock, pods_dir=None)
        volume_manager: VolumeManagerLike = fallback.volumes
    else:
        volume_manager = volumes.VolumeManager(
            pods_dir, lookup, node_name=node_name, node_ip=node_ip
        )
    return PodParts(
        container_env=envvars.container_env,
        container_argv=envvars.container_argv,
        probes=probes,
        volumes=volume_manager,
        run_handler=hooks.run_handler,
        config_errors=(envvars.ConfigError,),
        volume_errors=(volumes.VolumeError,),
    )
