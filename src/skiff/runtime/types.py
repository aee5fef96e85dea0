"""The runtime seam's own types (CRI-shaped; never API types).

The agent turns a Pod into these: one `SandboxConfig` per pod (the namespaces its containers share,
above all the network namespace) and one `ContainerConfig` per container, with every reference
already resolved (final argv after `$(VAR)` expansion and the image's entrypoint/cmd, env as pairs,
volumes as host paths). A runtime only runs what it is given and reports what happened, as
`SandboxStatus` / `ContainerStatus`, which the agent turns back into pod status.

Times are epoch seconds (floats); 0.0 means "not yet".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = [
    "ContainerConfig",
    "ContainerRuntimeError",
    "ContainerState",
    "ContainerStats",
    "ContainerStatus",
    "DNSConfig",
    "ExecResult",
    "Mount",
    "NotFound",
    "Resources",
    "SandboxConfig",
    "SandboxState",
    "SandboxStatus",
    "SecurityContext",
]


class ContainerRuntimeError(Exception):
    """A runtime operation failed; ``reason`` is a short CamelCase word for events and status
    (``CreateContainerError``, ``RunContainerError``, ``CreatePodSandboxError``...)."""

    def __init__(self, message: str, *, reason: str = "RuntimeError") -> None:
        super().__init__(message)
        self.reason = reason


class NotFound(ContainerRuntimeError):
    """No sandbox or container with that id."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="NotFound")


@dataclass(frozen=True, slots=True)
class Mount:
    """A bind (or tmpfs) mount into a container. ``source`` is a host path (ignored for tmpfs)."""

    destination: str
    source: str = ""
    type: str = "bind"  # "bind" | "tmpfs"
    read_only: bool = False
    # extra mount options (e.g. "size=64m" for tmpfs); "rbind"/"ro" are derived from the above
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DNSConfig:
    nameservers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Resources:
    """Kernel limits from requests/limits; None leaves the kernel default."""

    cpu_shares: int | None = None  # from the cpu request: millicores * 1024 / 1000, min 2
    cpu_quota_us: int | None = None  # from the cpu limit: millicores * period / 1000
    cpu_period_us: int = 100_000
    memory_limit_bytes: int | None = None  # from the memory limit
    pids_limit: int | None = None


@dataclass(frozen=True, slots=True)
class SecurityContext:
    run_as_user: int | None = None
    run_as_group: int | None = None
    supplemental_groups: tuple[int, ...] = ()
    privileged: bool = False
    capabilities_add: tuple[str, ...] = ()  # as in the API: "NET_ADMIN" (no CAP_ prefix)
    capabilities_drop: tuple[str, ...] = ()  # "ALL" allowed
    read_only_rootfs: bool = False
    allow_privilege_escalation: bool = True


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """What a pod's containers share. ``labels`` carry the pod's identity so state can be re-read
    after an agent restart (``io.kubernetes.pod.uid``, ``.name``, ``.namespace``)."""

    pod_uid: str
    name: str
    namespace: str
    attempt: int = 0
    hostname: str = ""
    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False
    dns: DNSConfig = DNSConfig()
    # cgroup parent for the pod (e.g. "skiff/<node>/pod<uid>"); resources are the pod's totals
    cgroup_parent: str = ""
    resources: Resources = Resources()
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContainerConfig:
    """One container, fully resolved. ``argv`` is final (entrypoint + cmd, after the pod's
    command/args and `$(VAR)` expansion); ``env`` is ordered (later entries win)."""

    name: str
    image: str  # the reference as the pod names it
    image_id: (
        str  # "sha256:<config digest>" of the image the agent resolved (empty for fake/process)
    )
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    working_dir: str = ""
    mounts: tuple[Mount, ...] = ()
    resources: Resources = Resources()
    security: SecurityContext = SecurityContext()
    tty: bool = False
    stdin: bool = False
    stdin_once: bool = False
    log_path: str = ""  # host file the runtime (its shim) appends CRI-format log lines to
    attempt: int = 0  # restart count, as CRI's metadata.attempt
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


class SandboxState(enum.Enum):
    READY = "ready"
    NOTREADY = "notready"


@dataclass(frozen=True, slots=True)
class SandboxStatus:
    id: str
    pod_uid: str
    name: str
    namespace: str
    attempt: int
    state: SandboxState
    created_at: float
    # bind-mounted network namespace ("/run/netns/skiff-..."); "" for host network or no netns
    netns_path: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


class ContainerState(enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ContainerStatus:
    id: str
    sandbox_id: str
    name: str
    attempt: int
    state: ContainerState
    image: str
    image_id: str
    created_at: float = 0.0
    started_at: float = 0.0
    finished_at: float = 0.0
    exit_code: int = 0
    # for EXITED: "Completed" (0), "Error" (non-zero), "OOMKilled" (read from the cgroup),
    # "ContainerCannotRun" (the process never started); "" otherwise
    reason: str = ""
    message: str = ""
    pid: int = 0
    log_path: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContainerStats:
    container_id: str
    timestamp: float
    cpu_usage_ns: int = 0  # cumulative
    memory_usage_bytes: int = 0
    memory_working_set_bytes: int = 0  # usage minus inactive file pages
    memory_rss_bytes: int = 0


@dataclass(frozen=True, slots=True)
class ExecResult:
    exit_code: int
    stdout: bytes = b""
    stderr: bytes = b""
    timed_out: bool = False
