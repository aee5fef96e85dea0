"""`RuncRuntime`: the Runtime Protocol over Debian's runc.

- A sandbox is a set of pinned namespaces (network at ``/run/netns/skiff-<id>``, UTS and IPC in its
  state directory; see `skiff.runtime.runc.netns`), with no pause process: containers join them by
  path. Host-network/IPC/PID pods simply leave those namespaces out.
- A container is an OCI bundle in ``<state>/containers/<id>/`` (config.json from
  `skiff.runtime.runc.oci`, rootfs an overlayfs over the image's layer directories with a private
  upper/work dir) run by its own shim (`skiff.runtime.runc.shim`) through ``runc create`` /
  ``runc start``; runc's state root is ``<state>/root``. The shim owns stdio, the log file and the
  exit record, so the agent can die and a new instance over the same ``state_dir`` re-adopts
  everything (`start`).
- cgroups: ``<cgroup_parent>/pod-<sandbox id>/<container id>`` unless the sandbox names its own
  parent (see `skiff.runtime.runc.cgroups`).

The overlay lower directories come from an object with ``layer_dirs(image_id)`` (the image store);
tests may instead give a plain root directory in the annotation ``skiff.io/rootfs``, which is then
the single lower layer (the directory itself is never written to).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from skiff.runtime.runc import netns
from skiff.runtime.runc._linux import (
    CLONE_NEWNET,
    is_mountpoint,
    mount,
    mounts_under,
    setns,
    umount,
)
from skiff.runtime.runc.cgroups import Cgroups, detect
from skiff.runtime.runc.common import (
    ContainerRecord,
    SandboxRecord,
    ShimRuntimeBase,
)
from skiff.runtime.runc.oci import NamespacePaths, container_spec
from skiff.runtime.runc.streams import ExecSession, open_pty
from skiff.runtime.types import ContainerRuntimeError, ContainerStats, ExecResult

__all__ = ["ROOTFS_ANNOTATION", "LayerSource", "RuncRuntime", "unavailable_reason"]

ROOTFS_ANNOTATION = "skiff.io/rootfs"


class LayerSource(Protocol):
    """What the runtime needs from the image store."""

    def layer_dirs(self, image_id: str) -> list[Path]:
        """Unpacked layer directories of an image, bottom first."""
        ...


def unavailable_reason(runc: str = "runc") -> str | None:
    """Why the runc runtime cannot run here (not root, no runc binary), or None if it can: what
    ``skiff agent`` asks before making runc its default runtime."""
    if os.geteuid() != 0:
        return "the runc runtime needs root"
    if shutil.which(runc) is None:
        return f"{runc!r} is not installed (Debian: apt-get install runc)"
    if not Path("/proc/self/ns/net").exists():
        return "no network namespaces on this kernel"
    return None


def _runc_version(runc: str) -> str:
    try:
        out = subprocess.run(
            [runc, "--version"], capture_output=True, text=True, check=False, timeout=10
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "runc://unknown"
    first = out.splitlines()[0] if out else ""
    return "runc://" + (first.split()[-1] if first else "unknown")


def _connect_in_netns(netns_path: str, port: int, timeout: float) -> socket.socket:
    """Blocking: a TCP socket connected to 127.0.0.1:port inside a network namespace. Runs in a
    thread of its own, which alone switches namespace (setns affects only the calling thread);
    the socket stays in the namespace it was made in."""
    result: list[socket.socket | BaseException] = []

    def work() -> None:
        try:
            own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            target = os.open(netns_path, os.O_RDONLY)
            try:
                setns(target, CLONE_NEWNET)
                try:
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                finally:
                    setns(own, CLONE_NEWNET)
            finally:
                os.close(own)
                os.close(target)
            sock.settimeout(timeout)
            try:
                sock.connect(("127.0.0.1", port))
            except BaseException:
                sock.close()
                raise
            sock.setblocking(False)
            result.append(sock)
        except BaseException as e:
            result.append(e)

    thread = threading.Thread(target=work, name="skiff-portforward", daemon=True)
    thread.start()
    thread.join()
    value = result[0]
    if isinstance(value, BaseException):
        raise value
    return value


class RuncRuntime(ShimRuntimeBase):
    """Real containers with runc. Needs root."""

    name = "runc"

    def __init__(
        self,
        state_dir: Path,
        *,
        images: LayerSource | None,
        cgroup_parent: str = "skiff",
        runc: str = "runc",
        netns_dir: Path = Path("/run/netns"),
        log_max_bytes: int = 10 * 1024 * 1024,
        log_max_files: int = 5,
        cgroups: Cgroups | None = None,
    ) -> None:
        super().__init__(state_dir, log_max_bytes=log_max_bytes, log_max_files=log_max_files)
        self.images = images
        self.cgroup_parent = cgroup_parent.strip("/")
        self.runc = runc
        self.netns_dir = Path(netns_dir)
        self.root = self.state_dir / "root"
        self.cgroups = cgroups or detect()
        self.version = _runc_version(runc)

    async def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        await super().start()

    # --- runc

    def _runc_argv(self, *args: str) -> list[str]:
        return [self.runc, "--root", str(self.root), *args]

    async def _run_runc(self, *args: str, check: bool = False) -> tuple[int, bytes]:
        proc = await asyncio.create_subprocess_exec(
            *self._runc_argv(*args),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        code = proc.returncode if proc.returncode is not None else -1
        if check and code != 0:
            raise ContainerRuntimeError(
                f"runc {args[0]}: {out.decode(errors='replace').strip()}", reason="RuntimeError"
            )
        return code, out

    async def runc_list(self) -> list[dict[str, Any]]:
        """``runc list`` under this runtime's root."""
        code, out = await self._run_runc("list", "--format", "json")
        if code != 0:
            return []
        with contextlib.suppress(ValueError):
            value = json.loads(out or b"null")
            if isinstance(value, list):
                return [v for v in value if isinstance(v, dict)]
        return []

    # --- sandboxes

    async def _setup_sandbox(self, record: SandboxRecord) -> None:
        c = record.config
        sdir = self._sdir(record.id)
        net = None if c.host_network else self.netns_dir / f"skiff-{record.id}"
        uts = None if c.host_network else sdir / "uts"
        ipc = None if c.host_ipc else sdir / "ipc"
        record.netns_path = str(net) if net else ""
        record.uts_path = str(uts) if uts else ""
        record.ipc_path = str(ipc) if ipc else ""
        record.cgroup_parent = (c.cgroup_parent or f"{self.cgroup_parent}/pod-{record.id}").strip(
            "/"
        )
        await netns.create_namespaces(net=net, uts=uts, ipc=ipc, hostname=c.hostname or c.name)
        r = c.resources
        if (
            r.memory_limit_bytes is not None
            or r.cpu_quota_us is not None
            or r.cpu_shares is not None
        ):
            await self._in_thread(self.cgroups.ensure, record.cgroup_parent, r)

    async def _teardown_sandbox(self, record: SandboxRecord) -> None:
        for path in (record.netns_path, record.uts_path, record.ipc_path):
            if path:
                netns.remove_namespace(Path(path))
        if record.cgroup_parent:
            await self._in_thread(self.cgroups.remove, record.cgroup_parent, kill=True)

    # --- containers

    def _lower_dirs(self, record: ContainerRecord) -> list[str]:
        c = record.config
        rootfs = c.annotations.get(ROOTFS_ANNOTATION)
        if rootfs:
            return [rootfs]
        if self.images is None or not c.image_id:
            raise ContainerRuntimeError(
                f"no image layers for {c.image!r} and no {ROOTFS_ANNOTATION} annotation",
                reason="CreateContainerError",
            )
        layers = self.images.layer_dirs(c.image_id)
        if not layers:
            raise ContainerRuntimeError(
                f"image {c.image_id} has no unpacked layers", reason="CreateContainerError"
            )
        # overlayfs lists the topmost layer first
        return [str(p) for p in reversed(layers)]

    async def _prepare_container(
        self, sandbox: SandboxRecord, record: ContainerRecord, cdir: Path
    ) -> dict[str, Any]:
        lowers = self._lower_dirs(record)
        rootfs = cdir / "rootfs"
        for sub in ("rootfs", "upper", "work"):
            (cdir / sub).mkdir()
        options = f"lowerdir={':'.join(lowers)},upperdir={cdir / 'upper'},workdir={cdir / 'work'}"
        try:
            await self._in_thread(mount, "overlay", str(rootfs), "overlay", 0, options)
        except OSError as e:
            raise ContainerRuntimeError(
                f"mounting the root filesystem failed: {e}", reason="CreateContainerError"
            ) from e
        record.rootfs = str(rootfs)
        record.cgroup = f"/{sandbox.cgroup_parent}/{record.id}"
        c = sandbox.config
        spec = container_spec(
            record.config,
            rootfs=str(rootfs),
            cgroups_path=record.cgroup,
            namespaces=NamespacePaths(
                network=sandbox.netns_path or None,
                uts=sandbox.uts_path or None,
                ipc=sandbox.ipc_path or None,
                pid=None if c.host_pid else "",
            ),
            hostname=c.hostname or c.name,
        )
        (cdir / "config.json").write_text(json.dumps(spec, indent=1))
        return {
            "mode": "runc",
            "runc": self.runc,
            "root": str(self.root),
            "cgroup": record.cgroup,
        }

    async def _cleanup_container(self, record: ContainerRecord, cdir: Path) -> None:
        if (self.root / record.id).exists():
            await self._run_runc("delete", "--force", record.id)
        rootfs = cdir / "rootfs"
        if is_mountpoint(rootfs):
            with contextlib.suppress(OSError):
                await self._in_thread(umount, str(rootfs))
        if record.cgroup:
            await self._in_thread(self.cgroups.remove, record.cgroup, kill=True)

    async def _kill_without_shim(self, record: ContainerRecord, sig: int) -> None:
        await self._run_runc("kill", record.id, str(int(sig)))

    def _orphan_pid(self, record: ContainerRecord) -> int:
        try:
            pid = int((self._cdir(record.id) / "init.pid").read_text())
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (OSError, ValueError):
            return 0
        # alive, not a zombie, and still the container's init (runc's state dir exists)
        if stat.rpartition(")")[2].split()[0] == "Z" or not (self.root / record.id).exists():
            return 0
        return pid

    # --- exec, port-forward, stats

    async def exec_sync(
        self, container_id: str, argv: list[str], time_limit: float | None = None
    ) -> ExecResult:
        record = self._container(container_id)
        self._require_running(record)
        pid_file = self._cdir(record.id) / f"exec-{os.urandom(4).hex()}.pid"
        proc = await asyncio.create_subprocess_exec(
            *self._runc_argv("exec", "--pid-file", str(pid_file), record.id, *argv),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        timed_out = False
        try:
            async with asyncio.timeout(time_limit):
                out, err = await proc.communicate()
        except TimeoutError:
            timed_out = True
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            out, err = await proc.communicate()
        finally:
            with contextlib.suppress(FileNotFoundError):
                pid_file.unlink()
        code = proc.returncode if proc.returncode is not None else -1
        return ExecResult(
            exit_code=128 - code if code < 0 else code, stdout=out, stderr=err, timed_out=timed_out
        )

    async def exec(
        self, container_id: str, argv: list[str], *, tty: bool, stdin: bool
    ) -> ExecSession:
        record = self._container(container_id)
        self._require_running(record)
        pid_file = self._cdir(record.id) / f"exec-{os.urandom(4).hex()}.pid"
        if not tty:
            proc = await asyncio.create_subprocess_exec(
                *self._runc_argv("exec", "--pid-file", str(pid_file), record.id, *argv),
                stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            return ExecSession(proc, pid_file)
        # runc -t relays between the terminal on its stdio and the container's pty: give it a
        # pty of ours, whose master we read and write
        master, slave = open_pty()
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._runc_argv(
                    "exec",
                    "-t",
                    "--pid-file",
                    str(pid_file),
                    "--env",
                    "TERM=xterm",
                    record.id,
                    *argv,
                ),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                start_new_session=True,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        return ExecSession(proc, pid_file, master=master)

    async def port_forward(
        self, sandbox_id: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        record = self._sandbox(sandbox_id)
        if not record.netns_path:
            return await asyncio.open_connection("127.0.0.1", port)
        try:
            sock = await asyncio.to_thread(_connect_in_netns, record.netns_path, port, 5.0)
        except OSError as e:
            raise ContainerRuntimeError(
                f"connecting to port {port} in sandbox {sandbox_id}: {e}", reason="PortForwardError"
            ) from e
        return await asyncio.open_connection(sock=sock)

    async def container_stats(self, container_id: str) -> ContainerStats | None:
        record = self._container(container_id)
        if not record.cgroup:
            return None
        stats = await asyncio.to_thread(self.cgroups.stats, record.cgroup)
        if stats is None:
            return None
        return ContainerStats(
            container_id=container_id,
            timestamp=time.time(),
            cpu_usage_ns=stats.cpu_usage_ns,
            memory_usage_bytes=stats.memory_usage_bytes,
            memory_working_set_bytes=stats.memory_working_set_bytes,
            memory_rss_bytes=stats.memory_rss_bytes,
        )

    # --- cleanup

    async def cleanup(self) -> None:
        """Kill and delete every container under this runtime's root, remove their mounts,
        namespaces, cgroups and the state directory's contents (``skiff agent cleanup``)."""
        if not self._sandboxes and not self._containers and self.state_dir.exists():
            await self.start()
        listed = await self.runc_list()
        ids = {str(c.get("id")) for c in listed} | set(self._containers)
        for cid in ids:
            await self._run_runc("kill", cid, "KILL")
        # give the shims a moment to record the exits, then make sure none is left
        for record in list(self._containers.values()):
            with contextlib.suppress(ContainerRuntimeError):
                await self._wait_exit(record, 2.0)
        self._kill_shims()
        await self._stop_server()
        for cid in ids:
            await self._run_runc("delete", "--force", cid)
        for record in list(self._containers.values()):
            await self._cleanup_container(record, self._cdir(record.id))
        for srecord in list(self._sandboxes.values()):
            await self._teardown_sandbox(srecord)
        # a sandbox whose record was never written (the agent died while making it)
        if self.sandboxes_dir.is_dir():
            for sdir in self.sandboxes_dir.iterdir():
                netns.remove_namespace(self.netns_dir / f"skiff-{sdir.name}")
        for target in mounts_under(self.state_dir):
            with contextlib.suppress(OSError):
                umount(target)
        await self._in_thread(self.cgroups.remove, self.cgroup_parent, kill=True)
        await asyncio.to_thread(self.cgroups.prune_parents, self.cgroup_parent)
        for sub in (self.containers_dir, self.sandboxes_dir, self.root):
            shutil.rmtree(sub, ignore_errors=True)
        self._containers.clear()
        self._sandboxes.clear()
        self._shim_pids.clear()
