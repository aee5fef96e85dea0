"""Reconciling one pod against the runtime (kubelet ``kuberuntime_manager.SyncPod`` and
``killPod``): `PodSyncer.sync` is called by the pod workers, one call per pod at a time.

Each sync reads the pod's sandbox and containers from the runtime (so an agent restart re-adopts
what runs: nothing is restarted that still runs) and then, in order:

1. a pod being deleted (or gone from the API) is stopped: preStop hooks and SIGTERM for app
   containers with the deletion's grace period, then sidecars in reverse order, then the sandbox;
   the final status is written and the deletion confirmed with grace 0;
2. a pod past ``activeDeadlineSeconds`` is stopped and marked Failed / DeadlineExceeded;
3. the sandbox (and the pod's IP from the pod network) is made, volumes are set up;
4. init containers run one at a time, in order; a sidecar (an init container with
   ``restartPolicy: Always``) is started and must be running before the next one, and keeps
   running; then every app container is started; ephemeral containers once each;
5. exited containers are restarted per ``restartPolicy`` through the crash back-off
   (`skiff.agent.backoff`): waiting ``CrashLoopBackOff`` in between; failed pulls wait
   ``ImagePullBackOff``;
6. a pod whose app containers have all ended for good is Succeeded/Failed: its sidecars are stopped
   (after the app containers) and its sandbox too;
7. status is computed (`skiff.agent.status`) and written when it changed.

`sync` returns when it wants to run again (seconds), or None.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skiff.agent.backoff import Backoff
from skiff.agent.parts import FallbackProbes, PodParts, SourceLookup
from skiff.agent.status import PodRuntimeView, StatusManager, compute_pod_status, container_kinds
from skiff.api.duration import parse_time
from skiff.api.quantity import parse_quantity
from skiff.client import thaw
from skiff.network.base import NetworkError, PodNetwork, PortMapping
from skiff.runtime.base import Runtime
from skiff.runtime.images.base import ImageInfo, ImagePullError, ImageService, RegistryAuth
from skiff.runtime.types import (
    ContainerConfig,
    ContainerRuntimeError,
    ContainerState,
    ContainerStatus,
    NotFound,
    Resources,
    SandboxConfig,
    SandboxState,
    SecurityContext,
)
from skiff.util.clock import Clock

__all__ = [
    "LABEL_CONTAINER_NAME",
    "LABEL_POD_NAME",
    "LABEL_POD_NAMESPACE",
    "LABEL_POD_UID",
    "EventFunc",
    "PodRecord",
    "PodSyncer",
    "container_hash",
    "docker_config_auth",
    "go_duration",
]

log = logging.getLogger(__name__)

LABEL_POD_UID = "io.kubernetes.pod.uid"
LABEL_POD_NAME = "io.kubernetes.pod.name"
LABEL_POD_NAMESPACE = "io.kubernetes.pod.namespace"
LABEL_CONTAINER_NAME = "io.kubernetes.container.name"
ANN_RESTART_COUNT = "io.kubernetes.container.restartCount"
ANN_HASH = "io.kubernetes.container.hash"
ANN_TERMINATION_PATH = "io.kubernetes.container.terminationMessagePath"

DEFAULT_GRACE = 30
RETRY = 2.0  # seconds before a failed sandbox/volume/config step is tried again
VOLUME_REFRESH = 30.0  # seconds between re-projections of configMap/secret/... volumes
_PROJECTED = ("configMap", "secret", "downwardAPI", "projected")


def _projected(volume: Mapping[str, Any]) -> bool:
    return any(k in volume for k in _PROJECTED)


EventFunc = Callable[[Mapping[str, Any], str, str, str], None]


def go_duration(seconds: float) -> str:
    """``1s``, ``2s``, ``1m0s``, ``500ms`` (Go's ``time.Duration.String`` for whole values)."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    return f"{whole // 60}m{whole % 60}s"


def container_hash(spec: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(thaw(spec), sort_keys=True).encode()).hexdigest()[:16]


def _milli(value: Any) -> int:
    return parse_quantity(value).milli_value()


def _resources(spec: Mapping[str, Any]) -> Resources:
    res = spec.get("resources") or {}
    req = res.get("requests") or {}
    lim = res.get("limits") or {}
    cpu_req = req.get("cpu") or lim.get("cpu")
    shares = max(2, _milli(cpu_req) * 1024 // 1000) if cpu_req else 2
    quota = max(1000, _milli(lim["cpu"]) * 100) if lim.get("cpu") else None
    memory = parse_quantity(lim["memory"]).value() if lim.get("memory") else None
    return Resources(cpu_shares=shares, cpu_quota_us=quota, memory_limit_bytes=memory)


def _security(pod: Mapping[str, Any], spec: Mapping[str, Any]) -> SecurityContext:
    psc = pod.get("spec", {}).get("securityContext") or {}
    sc = spec.get("securityContext") or {}
    caps = sc.get("capabilities") or {}
    user = sc.get("runAsUser", psc.get("runAsUser"))
    group = sc.get("runAsGroup", psc.get("runAsGroup"))
    return SecurityContext(
        run_as_user=None if user is None else int(user),
        run_as_group=None if group is None else int(group),
        supplemental_groups=tuple(int(g) for g in psc.get("supplementalGroups") or ()),
        privileged=bool(sc.get("privileged", False)),
        capabilities_add=tuple(caps.get("add") or ()),
        capabilities_drop=tuple(caps.get("drop") or ()),
        read_only_rootfs=bool(sc.get("readOnlyRootFilesystem", False)),
        allow_privilege_escalation=bool(sc.get("allowPrivilegeEscalation", True)),
    )


def _pull_policy(spec: Mapping[str, Any]) -> str:
    if spec.get("imagePullPolicy"):
        return str(spec["imagePullPolicy"])
    image = str(spec.get("image", ""))
    tail = image.rsplit("/", 1)[-1]
    if "@" in tail:
        return "IfNotPresent"
    return "Always" if ":" not in tail or tail.endswith(":latest") else "IfNotPresent"


def docker_config_auth(secret: Mapping[str, Any]) -> dict[str, RegistryAuth]:
    """Registry host -> credentials from a ``kubernetes.io/dockerconfigjson`` (or legacy
    ``dockercfg``) Secret; malformed content gives nothing."""
    data = secret.get("data") or {}
    try:
        if ".dockerconfigjson" in data:
            auths = json.loads(base64.b64decode(data[".dockerconfigjson"])).get("auths") or {}
        elif ".dockercfg" in data:
            auths = json.loads(base64.b64decode(data[".dockercfg"]))
        else:
            return {}
    except (ValueError, TypeError):
        return {}
    out: dict[str, RegistryAuth] = {}
    for host, entry in auths.items() if isinstance(auths, dict) else ():
        if not isinstance(entry, dict):
            continue
        user, password = str(entry.get("username") or ""), str(entry.get("password") or "")
        if not user and entry.get("auth"):
            try:
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except (ValueError, TypeError):
                continue
        key = str(host).removeprefix("https://").removeprefix("http://").split("/", 1)[0]
        out[key] = RegistryAuth(
            username=user,
            password=password,
            identity_token=str(entry.get("identitytoken") or ""),
            registry_token=str(entry.get("registrytoken") or ""),
        )
    return out


def _pod_ref(pod: Mapping[str, Any]) -> dict[str, Any]:
    meta = pod.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            k: meta.get(k) for k in ("name", "namespace", "uid", "resourceVersion") if meta.get(k)
        },
    }


@dataclass
class PodRecord:
    """The agent's memory of one pod (everything here can be rebuilt from the runtime)."""

    uid: str
    pod: Mapping[str, Any]
    deleted: bool = False
    sandbox_id: str = ""
    sandbox_ready: bool = False
    sandbox_attempt: int = 0
    pod_ip: str = ""
    start_time: float = 0.0
    initialized: bool = False
    terminal: tuple[str, str, str] | None = None
    stopped: bool = False  # terminal pod's sandbox stopped
    cleaned: bool = False  # deleted pod removed from the runtime (and confirmed)
    kill_deadline: float | None = None
    volumes_ready: bool = False
    evict_message: str | None = None
    volumes_refreshed: float = 0.0
    containers: list[ContainerStatus] = field(default_factory=list)
    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)
    counted: set[str] = field(default_factory=set)  # exited container ids fed to the back-off
    backoff_told: set[str] = field(default_factory=set)  # ... and those a BackOff event named
    messages: dict[str, str] = field(default_factory=dict)
    wakes: list[float] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.pod.get("metadata", {}).get("name", ""))

    @property
    def namespace(self) -> str:
        return str(self.pod.get("metadata", {}).get("namespace") or "default")

    def history(self, name: str) -> list[ContainerStatus]:
        items = [c for c in self.containers if c.name == name]
        items.sort(key=lambda c: (c.attempt, c.created_at), reverse=True)
        return items

    def latest(self, name: str) -> ContainerStatus | None:
        h = self.history(name)
        return h[0] if h else None

    def wake(self, seconds: float) -> None:
        self.wakes.append(max(0.0, seconds))


class PodSyncer:
    """Runs the pods of one node (see the module doc)."""

    def __init__(
        self,
        *,
        node_name: str,
        node_ip: str,
        runtime: Runtime,
        network: PodNetwork,
        images: ImageService,
        parts: PodParts,
        status: StatusManager,
        events: EventFunc,
        clock: Clock,
        logs_dir: Path | None = None,
        lookup: SourceLookup | None = None,
        backoff: Backoff | None = None,
        image_backoff: Backoff | None = None,
        resolve_env: bool = True,
    ) -> None:
        self.node_name = node_name
        self.node_ip = node_ip
        self.runtime = runtime
        self.network = network
        self.images = images
        self.parts = parts
        self.status = status
        self.events = events
        self.clock = clock
        self.logs_dir = logs_dir
        self.lookup = lookup
        self.backoff = backoff or Backoff()
        self.image_backoff = image_backoff or Backoff()
        self.resolve_env = resolve_env
        self.pods: dict[str, PodRecord] = {}

    # --- pods in and out (informer handlers call these; they never block) ---

    def upsert(self, pod: Mapping[str, Any]) -> str:
        uid = str(pod["metadata"]["uid"])
        rec = self.pods.get(uid)
        if rec is None:
            self.pods[uid] = PodRecord(uid=uid, pod=pod)
        else:
            rec.pod = pod
        return uid

    def mark_deleted(self, pod: Mapping[str, Any]) -> str:
        uid = str(pod["metadata"]["uid"])
        rec = self.pods.get(uid)
        if rec is None:
            rec = self.pods[uid] = PodRecord(uid=uid, pod=pod)
        rec.deleted = True
        return uid

    def evict(self, uid: str, message: str) -> bool:
        """Mark a pod for eviction (node pressure): its next sync stops it and reports it
        Failed / Evicted with ``message``. False when the pod is unknown or already done; the
        caller enqueues the pod."""
        rec = self.pods.get(uid)
        if rec is None or rec.deleted or rec.terminal is not None:
            return False
        rec.evict_message = message
        return True

    async def adopt(self) -> list[str]:
        """Read sandboxes back from the runtime (after a restart): each known pod gets its
        sandbox and IP again; sandboxes of pods the API no longer has are to be removed.
        Returns the uids to sync."""
        sandboxes = await self.runtime.list_sandboxes()
        sandboxes.sort(key=lambda s: (s.state is SandboxState.READY, s.attempt, s.created_at))
        out = []
        for sb in sandboxes:  # the best one last, so it wins
            uid = sb.labels.get(LABEL_POD_UID) or sb.pod_uid
            rec = self.pods.get(uid)
            if rec is None:
                stub = {
                    "metadata": {"uid": uid, "name": sb.name, "namespace": sb.namespace},
                    "spec": {"containers": []},
                }
                rec = self.pods[uid] = PodRecord(uid=uid, pod=stub, deleted=True)
            rec.sandbox_id = sb.id
            rec.sandbox_ready = sb.state is SandboxState.READY
            rec.sandbox_attempt = sb.attempt
            rec.pod_ip = self.network.ip_of(sb.id) or ""
            out.append(uid)
        return out

    # --- the sync ---

    async def sync(self, uid: str) -> float | None:
        rec = self.pods.get(uid)
        if rec is None:
            return None
        rec.wakes = []
        await self._refresh(rec)
        pod = rec.pod
        if rec.deleted or pod.get("metadata", {}).get("deletionTimestamp"):
            await self._terminate(rec)
            return None
        current = pod.get("status") or {}
        if rec.terminal is None and current.get("phase") in ("Succeeded", "Failed"):
            # a terminal pod never runs again (after an agent restart too)
            rec.terminal = (
                str(current["phase"]),
                str(current.get("reason") or ""),
                str(current.get("message") or ""),
            )
            rec.initialized = True
        if rec.terminal is not None:
            await self._finish(rec)
            await self._write(rec)
            return None
        if rec.evict_message is not None:
            rec.terminal = ("Failed", "Evicted", rec.evict_message)
            self._event(rec, "Warning", "Evicted", rec.evict_message)
            await self._kill(rec, self._spec_grace(rec))
            await self._finish(rec)
            await self._write(rec)
            return None
        now = self.clock.time()
        if not rec.start_time:
            current = (pod.get("status") or {}).get("startTime")
            rec.start_time = parse_time(current).timestamp() if current else now
        deadline = pod.get("spec", {}).get("activeDeadlineSeconds")
        if deadline is not None:
            left = rec.start_time + float(deadline) - now
            if left <= 0:
                message = "Pod was active on the node longer than the specified deadline"
                rec.terminal = ("Failed", "DeadlineExceeded", message)
                self._event(rec, "Normal", "DeadlineExceeded", message)
                await self._kill(rec, self._spec_grace(rec))
                await self._finish(rec)
                await self._write(rec)
                return None
            rec.wake(left)
        if await self._ensure_sandbox(rec):
            if await self._volumes(rec):
                await self._containers(rec)
        else:
            rec.wake(RETRY)
        await self._refresh(rec)
        self._update_probes(rec)
        await self._write(rec)
        return min(rec.wakes) if rec.wakes else None

    async def _volumes(self, rec: PodRecord) -> bool:
        """Set the pod's volumes up once (FailedMount and a retry while that fails); then
        re-project configMap/secret/downwardAPI/projected content every `VOLUME_REFRESH`."""
        now = self.clock.monotonic()
        try:
            if not rec.volumes_ready:
                await self.parts.volumes.setup(rec.pod, pod_ip=rec.pod_ip)
                rec.volumes_ready = True
                rec.volumes_refreshed = now
            elif now - rec.volumes_refreshed >= VOLUME_REFRESH:
                await self.parts.volumes.refresh(rec.pod)
                rec.volumes_refreshed = now
        except self.parts.volume_errors as e:
            self._event(rec, "Warning", "FailedMount", str(e))
            rec.wake(RETRY)
            return rec.volumes_ready
        if any(_projected(v) for v in rec.pod.get("spec", {}).get("volumes") or ()):
            rec.wake(max(0.0, rec.volumes_refreshed + VOLUME_REFRESH - now))
        return True

    async def _refresh(self, rec: PodRecord) -> None:
        if not rec.sandbox_id:
            rec.containers = []
            return
        try:
            sb = await self.runtime.sandbox_status(rec.sandbox_id)
            rec.sandbox_ready = sb.state is SandboxState.READY
            rec.containers = await self.runtime.list_containers(rec.sandbox_id)
        except NotFound:
            rec.sandbox_id, rec.sandbox_ready, rec.containers = "", False, []

    async def _ensure_sandbox(self, rec: PodRecord) -> bool:
        pod = rec.pod
        spec = pod.get("spec") or {}
        if rec.sandbox_id and rec.sandbox_ready:
            if spec.get("hostNetwork"):
                rec.pod_ip = self.node_ip  # re-adopted: the network has no record of it
            return True
        if rec.sandbox_id:  # it died: start over with a new one (kubelet: SandboxChanged)
            await self._kill(rec, 0)
            await self._remove_sandbox(rec)
            rec.sandbox_attempt += 1
            rec.initialized = False
            self._event(
                rec,
                "Normal",
                "SandboxChanged",
                "Pod sandbox changed, it will be killed and re-created.",
            )
        host_network = bool(spec.get("hostNetwork"))
        labels = {
            LABEL_POD_UID: rec.uid,
            LABEL_POD_NAME: rec.name,
            LABEL_POD_NAMESPACE: rec.namespace,
        }
        config = SandboxConfig(
            pod_uid=rec.uid,
            name=rec.name,
            namespace=rec.namespace,
            attempt=rec.sandbox_attempt,
            hostname=str(spec.get("hostname") or rec.name)[:63],
            host_network=host_network,
            host_pid=bool(spec.get("hostPID")),
            host_ipc=bool(spec.get("hostIPC")),
            cgroup_parent=f"skiff/{self.node_name}/pod{rec.uid}",
            labels=labels,
        )
        try:
            sid = await self.runtime.run_sandbox(config)
            status = await self.runtime.sandbox_status(sid)
        except ContainerRuntimeError as e:
            self._event(
                rec, "Warning", "FailedCreatePodSandBox", f"Failed to create pod sandbox: {e}"
            )
            return False
        if host_network:
            ip = self.node_ip
        else:
            try:
                ip = await self.network.attach(sid, status.netns_path, self._port_mappings(pod))
            except NetworkError as e:
                self._event(
                    rec,
                    "Warning",
                    "FailedCreatePodSandBox",
                    f"Failed to set up the pod network: {e}",
                )
                await self.runtime.stop_sandbox(sid)
                await self.runtime.remove_sandbox(sid)
                return False
        rec.sandbox_id, rec.sandbox_ready, rec.pod_ip = sid, True, ip
        return True

    @staticmethod
    def _port_mappings(pod: Mapping[str, Any]) -> tuple[PortMapping, ...]:
        out = []
        for c in pod.get("spec", {}).get("containers") or ():
            for p in c.get("ports") or ():
                if p.get("hostPort"):
                    out.append(
                        PortMapping(
                            container_port=int(p["containerPort"]),
                            host_port=int(p["hostPort"]),
                            protocol=str(p.get("protocol") or "TCP"),
                            host_ip=str(p.get("hostIP") or ""),
                        )
                    )
        return tuple(out)

    async def _containers(self, rec: PodRecord) -> None:
        pod = rec.pod
        spec = pod.get("spec") or {}
        policy = str(spec.get("restartPolicy") or "Always")
        _regular, _sidecars, app, ephemeral = container_kinds(pod)
        if any(rec.latest(c["name"]) is not None for c in app):
            rec.initialized = True
        # init containers and sidecars, in order
        for c in spec.get("initContainers") or ():
            name = c["name"]
            latest = rec.latest(name)
            if c.get("restartPolicy") == "Always":  # a sidecar
                if latest is None or latest.state is ContainerState.EXITED:
                    if not await self._start_or_restart(rec, c, latest):
                        if not rec.initialized:
                            return
                        continue
                    await self._refresh(rec)
                    latest = rec.latest(name)
                if latest is not None and latest.state is ContainerState.RUNNING:
                    if await self._restart_if_unhealthy(rec, c, latest):
                        if not rec.initialized:
                            return
                        continue
                    if not rec.initialized:
                        self._update_probes(rec)
                        if not self.parts.probes.started(rec.uid, name):
                            return
                elif not rec.initialized:
                    return
                continue
            if rec.initialized:
                continue
            if latest is None or (latest.state is ContainerState.EXITED and latest.exit_code != 0):
                if latest is not None and policy == "Never":
                    rec.terminal = ("Failed", "", "")
                    self._event(
                        rec,
                        "Warning",
                        "Failed",
                        f"init container {name} failed with exit code {latest.exit_code}",
                    )
                    await self._kill(rec, self._spec_grace(rec))
                    await self._finish(rec)
                    return
                if not await self._start_or_restart(rec, c, latest):
                    return
                await self._refresh(rec)
                latest = rec.latest(name)
            if latest is None or latest.state is not ContainerState.EXITED or latest.exit_code:
                return
        rec.initialized = True
        # app containers
        for c in app:
            latest = rec.latest(c["name"])
            if latest is not None and latest.state is ContainerState.RUNNING:
                await self._restart_if_unhealthy(rec, c, latest)
                continue
            if latest is not None and latest.state is ContainerState.CREATED:
                continue
            restart = (
                latest is None
                or policy == "Always"
                or (policy == "OnFailure" and latest.exit_code != 0)
            )
            if restart:
                await self._start_or_restart(rec, c, latest)
        # ephemeral containers: once each, never restarted
        for c in ephemeral:
            if rec.latest(c["name"]) is None:
                await self._start(rec, c, 0)
        # done for good?
        await self._refresh(rec)
        if policy != "Always" and app:
            finals = [rec.latest(c["name"]) for c in app]
            if all(
                f is not None
                and f.state is ContainerState.EXITED
                and (policy == "Never" or f.exit_code == 0)
                for f in finals
            ):
                ok = all(f is not None and f.exit_code == 0 for f in finals)
                rec.terminal = ("Succeeded" if ok else "Failed", "", "")
                await self._finish(rec)

    async def _restart_if_unhealthy(
        self, rec: PodRecord, spec: Mapping[str, Any], latest: ContainerStatus
    ) -> bool:
        """Stop a running container whose liveness probe failed or whose spec changed (it is
        restarted by the next sync); True when stopped."""
        name = str(spec["name"])
        why = None
        failed = self.parts.probes.liveness_failed(rec.uid, name)
        if failed is not None:
            why = f"Container {name} failed liveness probe, will be restarted"
        elif latest.annotations.get(ANN_HASH, container_hash(spec)) != container_hash(spec):
            why = f"Container {name} definition changed, will be restarted"
        if why is None:
            return False
        self._event(rec, "Normal", "Killing", why)
        await self._stop_container(rec, spec, latest, self._spec_grace(rec))
        rec.wake(0.0)
        return True

    async def _start_or_restart(
        self, rec: PodRecord, spec: Mapping[str, Any], latest: ContainerStatus | None
    ) -> bool:
        name = str(spec["name"])
        if latest is None:
            return await self._start(rec, spec, 0)
        key = (rec.uid, name)
        now = self.clock.monotonic()
        if latest.id not in rec.counted:
            rec.counted.add(latest.id)
            ran = max(0.0, latest.finished_at - latest.started_at) if latest.started_at else 0.0
            self.backoff.crashed(key, now, ran_for=ran)
        left = self.backoff.remaining(key, now)
        if left > 0:
            wait = go_duration(self.backoff.last_wait(key))
            who = f"{rec.name}_{rec.namespace}({rec.uid})"
            rec.waiting[name] = (
                "CrashLoopBackOff",
                f"back-off {wait} restarting failed container={name} pod={who}",
            )
            if latest.id not in rec.backoff_told:  # once per crash, not once per sync
                rec.backoff_told.add(latest.id)
                self._event(
                    rec,
                    "Warning",
                    "BackOff",
                    f"Back-off restarting failed container {name} in pod {who}",
                )
            rec.wake(left)
            return False
        return await self._start(rec, spec, latest.attempt + 1)

    async def _image(self, rec: PodRecord, spec: Mapping[str, Any]) -> ImageInfo | None:
        name = str(spec["name"])
        ref = str(spec.get("image", ""))
        key = (rec.uid, "image:" + name)
        now = self.clock.monotonic()
        left = self.image_backoff.remaining(key, now)
        if left > 0:
            message = f'Back-off pulling image "{ref}"'
            if rec.waiting.get(name, ("",))[0] != "ImagePullBackOff":
                self._event(rec, "Normal", "BackOff", message)
            rec.waiting[name] = ("ImagePullBackOff", message)
            rec.wake(left)
            return None
        policy = _pull_policy(spec)
        will_pull = policy == "Always" or self.images.get(ref) is None
        if will_pull and policy != "Never":
            self._event(rec, "Normal", "Pulling", f'Pulling image "{ref}"')
        started = self.clock.monotonic()
        try:
            auth = await self._pull_auth(rec) if will_pull else None
            info, pulled = await self.images.ensure(ref, policy, auth)
        except ImagePullError as e:
            wait = self.image_backoff.failed(key, self.clock.monotonic())
            reason = "ErrImageNeverPull" if policy == "Never" else "ErrImagePull"
            rec.waiting[name] = (reason, str(e))
            if policy != "Never":
                self._event(rec, "Warning", "Failed", f'Failed to pull image "{ref}": {e}')
            self._event(rec, "Warning", "Failed", f"Error: {reason}")
            rec.wake(wait)
            return None
        self.image_backoff.forget(key)
        if pulled:
            took = go_duration(self.clock.monotonic() - started)
            self._event(rec, "Normal", "Pulled", f'Successfully pulled image "{ref}" in {took}')
        else:
            self._event(
                rec, "Normal", "Pulled", f'Container image "{ref}" already present on machine'
            )
        return info

    async def _pull_auth(self, rec: PodRecord) -> dict[str, RegistryAuth] | None:
        """Registry credentials from the pod's imagePullSecrets (dockerconfigjson/dockercfg)."""
        names = [
            str(r.get("name"))
            for r in rec.pod.get("spec", {}).get("imagePullSecrets") or ()
            if r.get("name")
        ]
        if not names or self.lookup is None:
            return None
        out: dict[str, RegistryAuth] = {}
        for name in names:
            secret = await self.lookup.secret(rec.namespace, name)
            if secret is not None:
                out.update(docker_config_auth(secret))
        return out or None

    def _log_path(self, rec: PodRecord, name: str, attempt: int) -> str:
        if self.logs_dir is None:
            return ""
        return str(
            self.logs_dir / f"{rec.namespace}_{rec.name}_{rec.uid}" / name / f"{attempt}.log"
        )

    async def _start(self, rec: PodRecord, spec: Mapping[str, Any], attempt: int) -> bool:
        """Pull, resolve, create and start one container; False (with a waiting reason) when
        it could not."""
        name = str(spec["name"])
        pod = rec.pod
        info = await self._image(rec, spec)
        if info is None:
            return False
        env: list[tuple[str, str]] = []
        if self.resolve_env and self.lookup is not None:
            try:
                env = await self.parts.container_env(
                    pod,
                    spec,
                    lookup=self.lookup,
                    node_name=self.node_name,
                    node_ip=self.node_ip,
                    pod_ip=rec.pod_ip,
                )
            except self.parts.config_errors as e:
                rec.waiting[name] = ("CreateContainerConfigError", str(e))
                self._event(rec, "Warning", "Failed", f"Error: {e}")
                rec.wake(RETRY)
                return False
        argv = self.parts.container_argv(spec, info.config, dict(env))
        term_path = str(spec.get("terminationMessagePath") or "/dev/termination-log")
        config = ContainerConfig(
            name=name,
            image=str(spec.get("image", "")),
            image_id=info.id,
            argv=argv,
            env=tuple(env),
            working_dir=str(spec.get("workingDir") or info.config.working_dir or ""),
            # one termination message file per attempt, so an immediate restart cannot clear the
            # message of the run it replaces; env for subPathExpr
            mounts=self.parts.volumes.mounts(pod, spec, env=dict(env), attempt=attempt),
            resources=_resources(spec),
            security=_security(pod, spec),
            tty=bool(spec.get("tty")),
            stdin=bool(spec.get("stdin")),
            stdin_once=bool(spec.get("stdinOnce")),
            log_path=self._log_path(rec, name, attempt),
            attempt=attempt,
            labels={
                LABEL_POD_UID: rec.uid,
                LABEL_POD_NAME: rec.name,
                LABEL_POD_NAMESPACE: rec.namespace,
                LABEL_CONTAINER_NAME: name,
            },
            annotations={
                ANN_RESTART_COUNT: str(attempt),
                ANN_HASH: container_hash(spec),
                ANN_TERMINATION_PATH: term_path,
            },
        )
        try:
            cid = await self.runtime.create_container(rec.sandbox_id, config)
        except ContainerRuntimeError as e:
            reason = e.reason if e.reason != "RuntimeError" else "CreateContainerError"
            rec.waiting[name] = (reason, str(e))
            self._event(rec, "Warning", "Failed", f"Error: {e}")
            rec.wake(RETRY)
            return False
        self._event(rec, "Normal", "Created", f"Created container {name}")
        try:
            await self.runtime.start_container(cid)
        except ContainerRuntimeError as e:
            # never left behind as "created": the next attempt starts from a clean slate
            with contextlib.suppress(ContainerRuntimeError):
                await self.runtime.remove_container(cid)
            rec.waiting[name] = ("RunContainerError", str(e))
            self._event(rec, "Warning", "Failed", f"Error: {e}")
            rec.wake(RETRY)
            return False
        self._event(rec, "Normal", "Started", f"Started container {name}")
        rec.waiting.pop(name, None)
        post = ((spec.get("lifecycle") or {}).get("postStart")) or None
        if post:
            error = await self.parts.run_handler(
                post,
                runtime=self.runtime,
                container_id=cid,
                pod_ip=rec.pod_ip,
                container_ports=self._ports(spec),
                time_limit=float(self._spec_grace(rec)),
            )
            if error is not None:
                self._event(rec, "Warning", "FailedPostStartHook", error)
                await self.runtime.stop_container(cid, 0)
        await self._prune(rec, name, keep={cid})
        return True

    async def _prune(self, rec: PodRecord, name: str, keep: set[str]) -> None:
        """Keep the newest container and the one before it (``--previous``); remove older."""
        await self._refresh(rec)
        hist = rec.history(name)
        for old in hist[2:]:
            if old.id not in keep and old.state is ContainerState.EXITED:
                with contextlib.suppress(NotFound):
                    await self.runtime.remove_container(old.id)

    @staticmethod
    def _ports(spec: Mapping[str, Any]) -> dict[str, int]:
        return {
            str(p["name"]): int(p["containerPort"])
            for p in spec.get("ports") or ()
            if p.get("name")
        }

    def _spec_grace(self, rec: PodRecord) -> int:
        grace = rec.pod.get("spec", {}).get("terminationGracePeriodSeconds")
        return DEFAULT_GRACE if grace is None else int(grace)

    def _deletion_grace(self, rec: PodRecord) -> int:
        meta = rec.pod.get("metadata") or {}
        if meta.get("deletionGracePeriodSeconds") is not None:
            return int(meta["deletionGracePeriodSeconds"])
        if rec.deleted and not meta.get("deletionTimestamp"):
            return 0  # gone from the API without a graceful deletion (forced)
        return self._spec_grace(rec)

    async def _stop_container(
        self, rec: PodRecord, spec: Mapping[str, Any] | None, c: ContainerStatus, grace: float
    ) -> None:
        pre = ((spec or {}).get("lifecycle") or {}).get("preStop")
        start = self.clock.monotonic()
        if pre and grace > 0:
            error = await self.parts.run_handler(
                pre,
                runtime=self.runtime,
                container_id=c.id,
                pod_ip=rec.pod_ip,
                container_ports=self._ports(spec or {}),
                time_limit=float(grace),
            )
            if error is not None:
                self._event(rec, "Warning", "FailedPreStopHook", error)
        left = max(0.0, grace - (self.clock.monotonic() - start))
        with contextlib.suppress(NotFound):
            await self.runtime.stop_container(c.id, left)

    async def _kill(self, rec: PodRecord, grace: int) -> None:
        """Stop everything in the pod: app and ephemeral containers together, then sidecars in
        reverse order, all within ``grace`` seconds from the first call."""
        now = self.clock.monotonic()
        if rec.kill_deadline is None:
            rec.kill_deadline = now + grace
        await self._refresh(rec)
        specs = {
            str(c["name"]): c
            for c in [
                *(rec.pod.get("spec", {}).get("initContainers") or ()),
                *(rec.pod.get("spec", {}).get("containers") or ()),
                *(rec.pod.get("spec", {}).get("ephemeralContainers") or ()),
            ]
        }
        sidecar_names = [
            str(c["name"])
            for c in rec.pod.get("spec", {}).get("initContainers") or ()
            if c.get("restartPolicy") == "Always"
        ]
        running = [c for c in rec.containers if c.state is not ContainerState.EXITED]
        first = [c for c in running if c.name not in sidecar_names]
        for c in first:
            self._event(rec, "Normal", "Killing", f"Stopping container {c.name}")
        await asyncio.gather(
            *(self._stop_container(rec, specs.get(c.name), c, self._left(rec)) for c in first)
        )
        by_name = {c.name: c for c in running}
        for name in reversed(sidecar_names):
            side = by_name.get(name)
            if side is not None:
                self._event(rec, "Normal", "Killing", f"Stopping container {name}")
                await self._stop_container(rec, specs.get(name), side, self._left(rec))
        if rec.sandbox_id:
            with contextlib.suppress(NotFound):
                await self.runtime.stop_sandbox(rec.sandbox_id)
        self.parts.probes.remove_pod(rec.uid)
        await self._refresh(rec)

    def _left(self, rec: PodRecord) -> float:
        assert rec.kill_deadline is not None
        return max(0.0, rec.kill_deadline - self.clock.monotonic())

    async def _finish(self, rec: PodRecord) -> None:
        """A terminal pod: stop what still runs (sidecars last) and its sandbox, once."""
        if rec.stopped:
            return
        await self._kill(rec, self._spec_grace(rec))
        if rec.sandbox_id:
            await self.network.detach(rec.sandbox_id)
        rec.stopped = True

    async def _remove_sandbox(self, rec: PodRecord) -> None:
        if not rec.sandbox_id:
            return
        sid = rec.sandbox_id
        with contextlib.suppress(NotFound):
            await self.runtime.stop_sandbox(sid)
        await self.network.detach(sid)
        with contextlib.suppress(NotFound):
            await self.runtime.remove_sandbox(sid)
        rec.sandbox_id, rec.sandbox_ready, rec.containers = "", False, []

    async def _terminate(self, rec: PodRecord) -> None:
        if not rec.cleaned:
            await self._kill(rec, self._deletion_grace(rec))
            if not rec.deleted:
                if rec.terminal is None:
                    app = rec.pod.get("spec", {}).get("containers") or ()
                    finals = [rec.latest(c["name"]) for c in app]
                    ok = all(f is not None and f.exit_code == 0 for f in finals)
                    rec.terminal = ("Succeeded" if ok else "Failed", "", "")
                await self._write(rec)
                await self.status.confirm_deletion(rec.pod)
            await self._remove_sandbox(rec)
            await self.parts.volumes.teardown(rec.uid)
            self.backoff.forget_pod(rec.uid)
            self.image_backoff.forget_pod(rec.uid)
            self.status.forget(rec.uid)
            rec.cleaned = True
        if rec.deleted:
            self.pods.pop(rec.uid, None)

    def _update_probes(self, rec: PodRecord) -> None:
        running = {
            c.name: (c.id, c.started_at)
            for c in rec.containers
            if c.state is ContainerState.RUNNING
        }
        if rec.terminal is not None or not running:
            self.parts.probes.remove_pod(rec.uid)
            return
        self.parts.probes.update(rec.pod, running, rec.pod_ip)
        probes = self.parts.probes
        if isinstance(probes, FallbackProbes):
            now = self.clock.time()
            for name in running:
                at = probes.ready_at(rec.uid, name)
                if at is not None and at > now:
                    rec.wake(at - now)

    def _message(self, rec: PodRecord, c: ContainerStatus, spec: Mapping[str, Any]) -> str:
        if c.id in rec.messages:
            return rec.messages[c.id]
        text = ""
        try:
            path = self.parts.volumes.termination_message_file(rec.uid, c.name, attempt=c.attempt)
            if path.exists():
                text = path.read_bytes()[:4096].decode(errors="replace")
        except OSError:
            text = ""
        policy = spec.get("terminationMessagePolicy") or "File"
        if not text and policy == "FallbackToLogsOnError" and c.exit_code != 0 and c.log_path:
            text = _log_tail(Path(c.log_path))
        rec.messages[c.id] = text
        return text

    def view(self, rec: PodRecord) -> PodRuntimeView:
        specs = {
            str(c["name"]): c
            for c in [
                *(rec.pod.get("spec", {}).get("initContainers") or ()),
                *(rec.pod.get("spec", {}).get("containers") or ()),
                *(rec.pod.get("spec", {}).get("ephemeralContainers") or ()),
            ]
        }
        messages = {
            c.id: self._message(rec, c, specs.get(c.name, {}))
            for c in rec.containers
            if c.state is ContainerState.EXITED
        }
        probes = self.parts.probes
        running = {c.name for c in rec.containers if c.state is ContainerState.RUNNING}
        waiting = {name: w for name, w in rec.waiting.items() if name not in running}
        return PodRuntimeView(
            runtime_name=self.runtime.name,
            node_ip=self.node_ip,
            pod_ip=rec.pod_ip,
            sandbox_ready=rec.sandbox_ready,
            containers=list(rec.containers),
            waiting=waiting,
            initialized=rec.initialized,
            terminal=rec.terminal,
            start_time=rec.start_time,
            messages=messages,
            ready={n: probes.ready(rec.uid, n) for n in running},
            started={n: probes.started(rec.uid, n) for n in running},
        )

    async def _write(self, rec: PodRecord) -> None:
        if rec.deleted:
            return
        status = compute_pod_status(rec.pod, self.view(rec), self.clock.time())
        await self.status.set_status(rec.pod, status)

    def _event(self, rec: PodRecord, type: str, reason: str, message: str) -> None:
        self.events(_pod_ref(rec.pod), type, reason, message)


def _log_tail(path: Path, lines: int = 80, limit: int = 2048) -> str:
    """The last lines of a CRI log file, message parts only (FallbackToLogsOnError)."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            raw = f.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    out = []
    for line in raw[-lines:]:
        parts = line.split(" ", 3)
        out.append(parts[3] if len(parts) == 4 else line)
    text = "\n".join(out)
    return text[-limit:]
