"""cgroup v1 and v2 behind one interface: OOM detection, usage statistics, pod-level limits and
removal of a cgroup subtree.

Paths are cgroup paths as runc's ``linux.cgroupsPath`` takes them (``/skiff/<node>/pod<uid>/<id>``),
relative to each hierarchy's mount point. These hosts are "hybrid": the controllers are v1
(``/sys/fs/cgroup/<controller>``) and an empty v2 hierarchy is mounted at
``/sys/fs/cgroup/unified``; `detect` picks v1 whenever the memory controller is mounted as v1.

OOM kills are read from the container's own memory cgroup, which ``runc delete`` removes: the shim
reads it after the init process exits and before it deletes the container
(v1 ``memory.oom_control`` ``oom_kill``; v2 ``memory.events`` ``oom_kill``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from skiff.runtime.types import Resources

__all__ = ["CgroupStats", "Cgroups", "detect"]


@dataclass(frozen=True, slots=True)
class CgroupStats:
    cpu_usage_ns: int
    memory_usage_bytes: int
    memory_working_set_bytes: int
    memory_rss_bytes: int


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _read_kv(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        text = path.read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            out[key] = int(value)
    return out


def _write(path: Path, value: str) -> None:
    path.write_text(value)


class Cgroups:
    """One host's cgroup hierarchies. ``version`` is 1 (v1 controllers, possibly hybrid) or 2."""

    def __init__(self, mounts: dict[str, Path], version: int) -> None:
        # controller name (or "unified" / "name=systemd") -> mount point
        self.mounts = mounts
        self.version = version

    def _dir(self, controller: str, path: str) -> Path | None:
        base = self.mounts.get("unified" if self.version == 2 else controller)
        if base is None:
            return None
        return base / path.strip("/")

    # --- reading

    def oom_killed(self, path: str) -> bool:
        """Whether the kernel OOM-killed a process in this cgroup (or it is under OOM now)."""
        d = self._dir("memory", path)
        if d is None:
            return False
        if self.version == 2:
            return _read_kv(d / "memory.events").get("oom_kill", 0) > 0
        values = _read_kv(d / "memory.oom_control")
        return values.get("oom_kill", 0) > 0 or values.get("under_oom", 0) > 0

    def stats(self, path: str) -> CgroupStats | None:
        if self.version == 2:
            d = self._dir("", path)
            if d is None or not d.is_dir():
                return None
            cpu = _read_kv(d / "cpu.stat").get("usage_usec", 0) * 1000
            usage = _read_int(d / "memory.current") or 0
            mstat = _read_kv(d / "memory.stat")
            inactive = mstat.get("inactive_file", 0)
            rss = mstat.get("anon", 0)
        else:
            cpu_dir = self._dir("cpuacct", path)
            mem_dir = self._dir("memory", path)
            if mem_dir is None or not mem_dir.is_dir():
                return None
            cpu = (_read_int(cpu_dir / "cpuacct.usage") or 0) if cpu_dir else 0
            usage = _read_int(mem_dir / "memory.usage_in_bytes") or 0
            mstat = _read_kv(mem_dir / "memory.stat")
            inactive = mstat.get("total_inactive_file", 0)
            rss = mstat.get("total_rss", 0)
        # cAdvisor's working set: usage minus inactive file pages, never negative
        working = max(usage - inactive, 0)
        return CgroupStats(cpu, usage, working, rss)

    def exists(self, path: str) -> bool:
        return any((base / path.strip("/")).is_dir() for base in self.mounts.values())

    def pids(self, path: str) -> list[int]:
        """Processes in this cgroup and below."""
        found: set[int] = set()
        for base in self.mounts.values():
            root = base / path.strip("/")
            if not root.is_dir():
                continue
            for dirpath, _dirs, _files in os.walk(root):
                with contextlib.suppress(OSError):
                    for line in (Path(dirpath) / "cgroup.procs").read_text().split():
                        found.add(int(line))
        return sorted(found)

    # --- writing

    def ensure(self, path: str, resources: Resources) -> None:
        """Create a (pod-level) cgroup carrying ``resources`` where a limit is set."""
        if self.version == 2:
            d = self._dir("", path)
            if d is None:
                return
            d.mkdir(parents=True, exist_ok=True)
            if resources.memory_limit_bytes is not None:
                with contextlib.suppress(OSError):
                    _write(d / "memory.max", str(resources.memory_limit_bytes))
            if resources.cpu_quota_us is not None:
                with contextlib.suppress(OSError):
                    _write(d / "cpu.max", f"{resources.cpu_quota_us} {resources.cpu_period_us}")
            return
        if resources.memory_limit_bytes is not None:
            d = self._dir("memory", path)
            if d is not None:
                d.mkdir(parents=True, exist_ok=True)
                _write(d / "memory.limit_in_bytes", str(resources.memory_limit_bytes))
        if resources.cpu_shares is not None or resources.cpu_quota_us is not None:
            d = self._dir("cpu", path)
            if d is not None:
                d.mkdir(parents=True, exist_ok=True)
                if resources.cpu_shares is not None:
                    _write(d / "cpu.shares", str(resources.cpu_shares))
                if resources.cpu_quota_us is not None:
                    _write(d / "cpu.cfs_period_us", str(resources.cpu_period_us))
                    _write(d / "cpu.cfs_quota_us", str(resources.cpu_quota_us))

    def remove(self, path: str, *, kill: bool = False, timeout: float = 5.0) -> bool:
        """Remove the cgroup ``path`` and everything below it in every hierarchy; with ``kill``
        SIGKILL the processes still in it first. True when nothing is left."""
        if kill:
            for pid in self.pids(path):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        left = False
        for base in self.mounts.values():
            root = base / path.strip("/")
            if not root.is_dir():
                continue
            for dirpath, _dirs, _files in sorted(os.walk(root), key=lambda t: -t[0].count("/")):
                while True:
                    try:
                        os.rmdir(dirpath)
                        break
                    except FileNotFoundError:
                        break
                    except OSError as e:
                        # EBUSY while killed processes are still exiting
                        if e.errno != errno.EBUSY or time.monotonic() > deadline:
                            left = True
                            break
                        time.sleep(0.02)
        return not left

    def prune_parents(self, path: str) -> None:
        """Remove the now-empty ancestors of ``path`` (e.g. ``skiff`` above ``skiff/<node>``)
        in every hierarchy; an ancestor that still holds another node's cgroups stays."""
        parts = path.strip("/").split("/")[:-1]
        for base in self.mounts.values():
            for depth in range(len(parts), 0, -1):
                try:
                    os.rmdir(base.joinpath(*parts[:depth]))
                except OSError:
                    break


def detect(root: Path = Path("/sys/fs/cgroup")) -> Cgroups:
    """The host's hierarchies, from /proc/self/mountinfo (v1 if the memory controller is v1)."""
    mounts: dict[str, Path] = {}
    unified: Path | None = None
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        pre, _, post = line.partition(" - ")
        fields = pre.split()
        rest = post.split()
        if len(fields) < 5 or len(rest) < 3:
            continue
        target = Path(fields[4])
        fstype = rest[0]
        if fstype == "cgroup2":
            unified = target
        elif fstype == "cgroup":
            for opt in rest[2].split(","):
                if opt in {"rw", "ro", "relatime", "noatime", "nosuid", "nodev", "noexec"}:
                    continue
                if opt.startswith("name=") or "=" not in opt:
                    mounts[opt] = target
    if "memory" in mounts:
        if unified is not None:
            mounts["unified"] = unified
        return Cgroups(mounts, 1)
    return Cgroups({"unified": unified or root}, 2)
