"""The container runtime Protocol (CRI's RuntimeService, trimmed to what the agent uses).

Implementations: ``skiff.runtime.runc`` (real containers), ``skiff.runtime.process`` (host
processes, no isolation), ``skiff.runtime.fake`` (no processes; for scale tests). The agent is the
only caller. Every method is a coroutine; blocking work (subprocesses, file I/O) must not stall the
event loop.

Contract (tests/contract/test_runtime.py runs it against every implementation):
- Ids are opaque strings unique on the node; a sandbox's containers are removed with it.
- State survives the agent: a new instance over the same ``state_dir`` lists the same sandboxes
  and containers, running ones still running, exited ones with their exit code and reason.
- ``stop_container`` sends SIGTERM (or the image's stop signal), waits up to ``grace_period`` seconds,
  then SIGKILL; it returns once the container has exited. Stopping an exited container is a no-op.
- An exited container's log file, exit code and reason stay until ``remove_container``.
- Unknown ids raise `NotFound`; failures raise `ContainerRuntimeError` with a reason word.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from skiff.runtime.types import (
    ContainerConfig,
    ContainerStats,
    ContainerStatus,
    ExecResult,
    SandboxConfig,
    SandboxStatus,
)

__all__ = ["Runtime", "StreamSession"]


class StreamSession(Protocol):
    """An exec or attach in progress. ``stdout``/``stderr`` end (EOF) when the process closes
    them; with a tty there is only ``stdout``. ``wait`` gives the exit code (attach: the
    container's, once it exits; ``None`` when the session was detached)."""

    stdout: asyncio.StreamReader
    stderr: asyncio.StreamReader | None

    async def write_stdin(self, data: bytes) -> None: ...

    async def close_stdin(self) -> None: ...

    async def resize(self, width: int, height: int) -> None: ...

    async def wait(self) -> int | None: ...

    async def close(self) -> None:
        """Detach (attach) or kill the exec'd process (exec) and release resources."""
        ...


class Runtime(Protocol):
    name: str  # "runc" | "process" | "fake"
    version: str  # runtime version for nodeInfo.containerRuntimeVersion, e.g. "runc://1.1.5"

    async def start(self) -> None:
        """Load state from disk and re-adopt what is still running."""
        ...

    async def close(self) -> None:
        """Release agent-side resources; containers keep running."""
        ...

    # sandboxes
    async def run_sandbox(self, config: SandboxConfig) -> str: ...

    async def stop_sandbox(self, sandbox_id: str) -> None:
        """Kill any container still running in it (no grace: the agent stopped them first)."""
        ...

    async def remove_sandbox(self, sandbox_id: str) -> None: ...

    async def list_sandboxes(self) -> list[SandboxStatus]: ...

    async def sandbox_status(self, sandbox_id: str) -> SandboxStatus: ...

    # containers
    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str: ...

    async def start_container(self, container_id: str) -> None: ...

    async def stop_container(self, container_id: str, grace_period: float) -> None: ...

    async def remove_container(self, container_id: str) -> None: ...

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]: ...

    async def container_status(self, container_id: str) -> ContainerStatus: ...

    # streaming and probes
    async def exec_sync(
        self, container_id: str, argv: list[str], time_limit: float | None = None
    ) -> ExecResult: ...

    async def exec(
        self, container_id: str, argv: list[str], *, tty: bool, stdin: bool
    ) -> StreamSession: ...

    async def attach(self, container_id: str, *, tty: bool, stdin: bool) -> StreamSession: ...

    async def port_forward(
        self, sandbox_id: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A TCP connection to ``port`` on 127.0.0.1 inside the sandbox's network namespace."""
        ...

    async def container_stats(self, container_id: str) -> ContainerStats | None: ...
