"""The OCI runtime spec (``config.json``) for one container, as a plain dict.

Pure: `container_spec` turns a `ContainerConfig` plus what the runtime decided (rootfs path, the
sandbox's namespace paths, the cgroup path) into the document runc reads. Defaults follow the OCI
runtime-spec's Linux defaults and what containerd's CRI plugin gives a container (capability set,
masked and read-only paths); see runtime-spec ``config-linux.md`` and containerd
``pkg/cri/opts/spec_linux.go``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from skiff.runtime.types import ContainerConfig, Mount, Resources, SecurityContext

__all__ = [
    "ALL_CAPABILITIES",
    "DEFAULT_CAPABILITIES",
    "NamespacePaths",
    "capabilities",
    "container_spec",
    "resources_spec",
]

# containerd's default set (the same as Docker's)
DEFAULT_CAPABILITIES = (
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
)

# every capability up to CAP_CHECKPOINT_RESTORE (Linux 5.9), for privileged containers
ALL_CAPABILITIES = (
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
)

_MASKED_PATHS = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
]
_READONLY_PATHS = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
]


@dataclass(frozen=True, slots=True)
class NamespacePaths:
    """The sandbox's namespaces a container joins ("" = a new one; None = the host's)."""

    network: str | None = ""
    uts: str | None = ""
    ipc: str | None = ""
    pid: str | None = ""  # "" = own pid namespace (kubelet's default); None = hostPID


def capabilities(security: SecurityContext) -> list[str]:
    """The effective capability names (with the ``CAP_`` prefix runc wants)."""
    if security.privileged:
        return [f"CAP_{c}" for c in ALL_CAPABILITIES]
    drops = {c.upper().removeprefix("CAP_") for c in security.capabilities_drop}
    caps: list[str] = [] if "ALL" in drops else [c for c in DEFAULT_CAPABILITIES if c not in drops]
    for add in security.capabilities_add:
        name = add.upper().removeprefix("CAP_")
        if name == "ALL":
            caps = [c for c in ALL_CAPABILITIES if c not in drops or c in caps]
            continue
        if name not in caps:
            caps.append(name)
    return [f"CAP_{c}" for c in caps]


def resources_spec(resources: Resources) -> dict[str, Any]:
    out: dict[str, Any] = {"devices": [{"allow": False, "access": "rwm"}]}
    cpu: dict[str, Any] = {}
    if resources.cpu_shares is not None:
        cpu["shares"] = max(resources.cpu_shares, 2)
    if resources.cpu_quota_us is not None:
        cpu["quota"] = resources.cpu_quota_us
        cpu["period"] = resources.cpu_period_us
    if cpu:
        out["cpu"] = cpu
    if resources.memory_limit_bytes is not None:
        out["memory"] = {"limit": resources.memory_limit_bytes}
    if resources.pids_limit is not None:
        out["pids"] = {"limit": resources.pids_limit}
    return out


def _mount_spec(m: Mount) -> dict[str, Any]:
    if m.type == "tmpfs":
        options = ["nosuid", "nodev", "mode=1777", *m.options]
        if m.read_only:
            options.append("ro")
        return {
            "destination": m.destination,
            "type": "tmpfs",
            "source": "tmpfs",
            "options": options,
        }
    options = ["rbind", "rprivate", "ro" if m.read_only else "rw", *m.options]
    return {"destination": m.destination, "type": "bind", "source": m.source, "options": options}


def _standard_mounts(privileged: bool, has_dest: set[str]) -> list[dict[str, Any]]:
    sys_opts = ["nosuid", "noexec", "nodev", "rw" if privileged else "ro"]
    mounts = [
        {
            "destination": "/proc",
            "type": "proc",
            "source": "proc",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
        },
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
        {
            "destination": "/dev/mqueue",
            "type": "mqueue",
            "source": "mqueue",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": sys_opts},
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
        },
    ]
    return [m for m in mounts if m["destination"] not in has_dest]


def container_spec(
    config: ContainerConfig,
    *,
    rootfs: str,
    cgroups_path: str,
    namespaces: NamespacePaths,
    hostname: str = "",
    env_defaults: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    """config.json for ``config``. ``env_defaults`` come first (image env, PATH); the container's
    own env overrides them (later entries win)."""
    sec = config.security
    env: dict[str, str] = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    }
    if hostname:
        env["HOSTNAME"] = hostname
    for key, value in (*env_defaults, *config.env):
        env[key] = value
    if config.tty:
        env.setdefault("TERM", "xterm")
    caps = capabilities(sec)
    user: dict[str, Any] = {
        "uid": sec.run_as_user if sec.run_as_user is not None else 0,
        "gid": sec.run_as_group if sec.run_as_group is not None else 0,
    }
    if sec.supplemental_groups:
        user["additionalGids"] = list(sec.supplemental_groups)
    process: dict[str, Any] = {
        "terminal": config.tty,
        "user": user,
        "args": list(config.argv),
        "env": [f"{k}={v}" for k, v in env.items()],
        "cwd": config.working_dir or "/",
        "capabilities": {
            "bounding": caps,
            "effective": caps,
            "permitted": caps,
            # ambient only for non-root users would need inheritable too; keep it empty
        },
        "noNewPrivileges": not sec.allow_privilege_escalation and not sec.privileged,
    }
    ns: list[dict[str, str]] = [{"type": "mount"}]
    for kind, path in (
        ("pid", namespaces.pid),
        ("network", namespaces.network),
        ("uts", namespaces.uts),
        ("ipc", namespaces.ipc),
    ):
        if path is None:
            continue
        ns.append({"type": kind, "path": path} if path else {"type": kind})
    user_mounts = [_mount_spec(m) for m in config.mounts]
    dests = {m.destination for m in config.mounts}
    linux: dict[str, Any] = {
        "namespaces": ns,
        "cgroupsPath": cgroups_path,
        "resources": resources_spec(config.resources),
    }
    if sec.privileged:
        linux["resources"]["devices"] = [{"allow": True, "access": "rwm"}]
    else:
        linux["maskedPaths"] = _MASKED_PATHS
        linux["readonlyPaths"] = _READONLY_PATHS
    spec: dict[str, Any] = {
        "ociVersion": "1.0.2",
        "process": process,
        "root": {"path": rootfs, "readonly": sec.read_only_rootfs},
        "mounts": [*_standard_mounts(sec.privileged, dests), *user_mounts],
        "linux": linux,
        "annotations": {k: v for k, v in config.annotations.items() if isinstance(v, str)},
    }
    # a hostname needs a private UTS namespace; one joined by path already has the pod's name
    if hostname and namespaces.uts == "":
        spec["hostname"] = hostname
    return spec
