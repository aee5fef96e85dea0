"""`ProcessRuntime`: the container lifecycle for plain host processes (no root needed).

No isolation at all: a container's argv runs on the host, as the agent's user, in the host network
(every sandbox reports no network namespace), with no image (the argv must name host programs) and
no resource limits; mounts are ignored. What it keeps from the runc runtime is everything around
the process: the same per-container shim (`skiff.runtime.runc.shim` in ``process`` mode) owns
stdio, writes the CRI log file and records the exit code, so the agent can restart without losing
running processes, logs or exit codes, and a new instance over the same ``state_dir`` re-adopts
them. For machines without root; `WARNING` says so and the agent logs it at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

from skiff.runtime.runc.common import (
    ContainerRecord,
    SandboxRecord,
    ShimRuntimeBase,
)
from skiff.runtime.runc.streams import ExecSession, open_pty
from skiff.runtime.types import ContainerStats, ExecResult

__all__ = ["WARNING", "ProcessRuntime"]

WARNING = (
    "the process runtime runs containers as plain host processes: no isolation, no images, "
    "no resource limits, host network; use the runc runtime (as root) for real containers"
)

_log = logging.getLogger(__name__)
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


class ProcessRuntime(ShimRuntimeBase):
    name = "process"
    version = "process://0.1.0"

    def __init__(
        self,
        state_dir: Path,
        *,
        log_max_bytes: int = 10 * 1024 * 1024,
        log_max_files: int = 5,
    ) -> None:
        super().__init__(state_dir, log_max_bytes=log_max_bytes, log_max_files=log_max_files)
        self.warning = WARNING
        _log.warning("%s", WARNING)

    def _env(self, record: ContainerRecord) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")}
        for key in ("HOME", "LANG", "PYTHONPATH"):
            if key in os.environ:
                env[key] = os.environ[key]
        env.update(dict(record.config.env))
        return env

    def _cwd(self, record: ContainerRecord) -> str:
        wd = record.config.working_dir
        return wd if wd and os.path.isdir(wd) else str(self._cdir(record.id))

    async def _prepare_container(
        self, sandbox: SandboxRecord, record: ContainerRecord, cdir: Path
    ) -> dict[str, Any]:
        return {
            "mode": "process",
            "argv": list(record.config.argv),
            "env": self._env(record),
            "cwd": self._cwd(record),
        }

    # --- exec, port-forward, stats

    async def exec_sync(
        self, container_id: str, argv: list[str], time_limit: float | None = None
    ) -> ExecResult:
        record = self._container(container_id)
        self._require_running(record)
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._env(record),
            cwd=self._cwd(record),
            start_new_session=True,
        )
        timed_out = False
        try:
            async with asyncio.timeout(time_limit):
                out, err = await proc.communicate()
        except TimeoutError:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            out, err = await proc.communicate()
        code = proc.returncode if proc.returncode is not None else -1
        return ExecResult(
            exit_code=128 - code if code < 0 else code, stdout=out, stderr=err, timed_out=timed_out
        )

    async def exec(
        self, container_id: str, argv: list[str], *, tty: bool, stdin: bool
    ) -> ExecSession:
        record = self._container(container_id)
        self._require_running(record)
        if not tty:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self._env(record),
                cwd=self._cwd(record),
                start_new_session=True,
            )
            return ExecSession(proc, None)
        master, slave = open_pty()
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env={"TERM": "xterm", **self._env(record)},
                cwd=self._cwd(record),
                start_new_session=True,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        return ExecSession(proc, None, master=master)

    async def port_forward(
        self, sandbox_id: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self._sandbox(sandbox_id)
        return await asyncio.open_connection("127.0.0.1", port)

    async def container_stats(self, container_id: str) -> ContainerStats | None:
        status = self._status(self._container(container_id))
        if not status.pid:
            return None
        return await asyncio.to_thread(_group_stats, container_id, status.pid)

    async def cleanup(self) -> None:
        """Kill every process this runtime started and remove its state."""
        if not self._containers and self.containers_dir.exists():
            await self.start()
        for record in list(self._containers.values()):
            with contextlib.suppress(Exception):
                await self.stop_container(record.id, 0)
        self._kill_shims()
        await self._stop_server()
        for sub in (self.containers_dir, self.sandboxes_dir):
            shutil.rmtree(sub, ignore_errors=True)
        self._containers.clear()
        self._sandboxes.clear()
        self._shim_pids.clear()


def _group_stats(container_id: str, pgid: int) -> ContainerStats | None:
    """CPU and memory of the container's process group (its processes, not their own sessions)."""
    cpu_ticks = 0
    rss_pages = 0
    found = False
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        # fields[0] is the state (field 3); pgrp is field 5, utime 14, stime 15, rss 24
        if int(fields[2]) != pgid:
            continue
        found = True
        cpu_ticks += int(fields[11]) + int(fields[12])
        rss_pages += int(fields[21])
    if not found:
        return None
    rss = rss_pages * _PAGE
    return ContainerStats(
        container_id=container_id,
        timestamp=time.time(),
        cpu_usage_ns=cpu_ticks * 1_000_000_000 // _CLK_TCK,
        memory_usage_bytes=rss,
        memory_working_set_bytes=rss,
        memory_rss_bytes=rss,
    )
