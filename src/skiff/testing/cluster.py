"""Start a real ``skiff apiserver`` process on 127.0.0.1 for tests, and drive kubectl against it.

``ServerProcess`` picks a free port and a temporary data directory, starts the API server as a
child process (the same code path as production, over HTTPS with a generated CA), waits for
``/readyz``, and on ``stop()`` ends exactly that process by its pid and removes nothing it did not
create. With ``controller_manager=True`` it also starts ``skiff controller-manager`` against it
(garbage collection, namespace deletion, default ServiceAccounts, PodDisruptionBudget status...)
and waits for its ready file; ``stop()`` ends it first. ``scheduler=True`` does the same for
``skiff scheduler`` (off by default). With ``agent=True`` it starts ``skiff agent`` (fake runtime
unless ``agent_args`` say otherwise) too; by default no agent runs. ``Kubectl`` runs the installed
kubectl with the server's admin kubeconfig and a private
``--cache-dir`` (kubectl caches discovery and ``/version`` for hours otherwise).

``running_controller_manager`` runs the controller-manager in this event loop instead, against any
API server URL (tests with an in-process API server use it; they are much faster than processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from skiff.client import Client, Config, NotFound
from skiff.controllers import ControllerManager, ControllerOptions
from skiff.util.clock import Clock

__all__ = [
    "Kubectl",
    "KubectlResult",
    "ServerProcess",
    "free_port",
    "running_controller_manager",
    "wait_for_service_account",
]


@contextlib.asynccontextmanager
async def running_controller_manager(
    url: str,
    token: str,
    *,
    controllers: Sequence[str] = ("*",),
    options: ControllerOptions | None = None,
    clock: Clock | None = None,
    leader_elect: bool = False,
    timeout: float = 15.0,  # noqa: ASYNC109 - bounds the start-up wait only
) -> AsyncIterator[ControllerManager]:
    """Run a `ControllerManager` in this event loop against ``url`` until the block ends.

    Yields once it is ready (informers synced) and, when the service-account controller runs, the
    ``default`` account of the ``default`` namespace exists (so tests can create pods at once).
    """
    options = options or ControllerOptions(namespace_recheck=0.2, root_ca="test-ca")
    async with Client(Config(server=url, token=token), timeout=10) as client:
        manager = ControllerManager(
            client,
            controllers=controllers,
            options=options,
            clock=clock,
            leader_elect=leader_elect,
            lease_duration=2,
            renew_deadline=1.5,
            retry_period=0.5,
        )
        task = asyncio.create_task(manager.run(), name="test-controller-manager")
        try:
            waiter = asyncio.ensure_future(manager.ready.wait())
            done, _ = await asyncio.wait(
                {waiter, task}, timeout=timeout, return_when="FIRST_COMPLETED"
            )
            waiter.cancel()
            if task in done:
                task.result()
                raise RuntimeError("controller-manager ended before it was ready")
            if not done:
                raise TimeoutError(f"controller-manager not ready after {timeout}s")
            if "serviceaccount-controller" in manager.names:
                await wait_for_service_account(client, "default", timeout=timeout)
            yield manager
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def wait_for_service_account(
    client: Client,
    namespace: str,
    *,
    name: str = "default",
    timeout: float = 15.0,  # noqa: ASYNC109 - a deadline on the loop's clock
) -> None:
    """Wait until ``namespace`` has the ServiceAccount ``name`` (pods are refused until then)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await client.get("serviceaccounts", name, namespace=namespace)
            return
        except NotFound:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(
                    f"no ServiceAccount {namespace}/{name} after {timeout}s"
                ) from None
            await asyncio.sleep(0.02)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    data_dir: Path
    port: int = 0
    extra_args: list[str] = field(default_factory=list)
    controller_manager: bool = False
    controller_manager_args: list[str] = field(default_factory=list)
    # a node agent (`skiff agent --runtime fake` unless agent_args say otherwise); off by default:
    # tests that do not exercise an agent run without one
    agent: bool = False
    agent_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    cm_process: subprocess.Popen[bytes] | None = None
    agent_process: subprocess.Popen[bytes] | None = None
    scheduler: bool = False
    scheduler_args: list[str] = field(default_factory=list)
    scheduler_process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "server" / "admin.kubeconfig"

    @property
    def ca_file(self) -> Path:
        return self.data_dir / "server" / "tls" / "ca.crt"

    @property
    def token(self) -> str:
        return (self.data_dir / "server" / "cred" / "admin.token").read_text().strip()

    def start(self, *, timeout: float = 30.0) -> None:
        if not self.port:
            self.port = free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / "apiserver.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        cmd = [
            sys.executable,
            "-m",
            "skiff",
            "apiserver",
            "--data-dir",
            str(self.data_dir),
            "--https-port",
            str(self.port),
            "--bind-address",
            "127.0.0.1",
            *self.extra_args,
        ]
        self.process = subprocess.Popen(
            cmd, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.wait_ready(timeout=timeout)
        if self.controller_manager:
            self.start_controller_manager(timeout=timeout)
        if self.scheduler:
            self.start_scheduler(timeout=timeout)
        if self.agent:
            self.start_agent(timeout=timeout)

    @property
    def agent_ready_file(self) -> Path:
        return self.data_dir / "agent.ready"

    def start_agent(self, *, timeout: float = 30.0) -> None:
        """Start ``skiff agent`` (fake runtime, node ``test-node`` and a free agent port unless
        ``agent_args`` say otherwise), joining with the server's token, and wait until it is
        ready."""
        assert self._log is not None, "start the API server first"
        self.agent_ready_file.unlink(missing_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "skiff",
            "agent",
            "--server",
            self.url,
            "--token-file",
            str(self.data_dir / "server" / "token"),
            "--data-dir",
            str(self.data_dir),
            "--ready-file",
            str(self.agent_ready_file),
            "--node-ip",
            "127.0.0.1",
            *(["--runtime", "fake"] if "--runtime" not in self.agent_args else []),
            *(["--node-name", "test-node"] if "--node-name" not in self.agent_args else []),
            *(["--agent-port", str(free_port())] if "--agent-port" not in self.agent_args else []),
            *self.agent_args,
        ]
        self.agent_process = subprocess.Popen(
            cmd, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while not self.agent_ready_file.exists():
            if self.agent_process.poll() is not None:
                raise RuntimeError(
                    f"agent exited with {self.agent_process.returncode}:\n{self.logs()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"agent not ready after {timeout}s:\n{self.logs()}")
            time.sleep(0.05)

    def stop_agent(self, *, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        proc, self.agent_process = self.agent_process, None
        _end(proc, sig, timeout)

    @property
    def cm_ready_file(self) -> Path:
        return self.data_dir / "controller-manager.ready"

    def start_controller_manager(self, *, timeout: float = 30.0) -> None:
        """Start ``skiff controller-manager`` against this server and wait until it is ready."""
        assert self._log is not None, "start the API server first"
        self.cm_ready_file.unlink(missing_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "skiff",
            "controller-manager",
            "--kubeconfig",
            str(self.kubeconfig),
            "--root-ca-file",
            str(self.ca_file),
            "--ready-file",
            str(self.cm_ready_file),
            *self.controller_manager_args,
        ]
        self.cm_process = subprocess.Popen(
            cmd, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while not self.cm_ready_file.exists():
            if self.cm_process.poll() is not None:
                raise RuntimeError(
                    f"controller-manager exited with {self.cm_process.returncode}:\n{self.logs()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"controller-manager not ready after {timeout}s:\n{self.logs()}")
            time.sleep(0.05)

    @property
    def scheduler_ready_file(self) -> Path:
        return self.data_dir / "scheduler.ready"

    def start_scheduler(self, *, timeout: float = 30.0) -> None:
        """Start ``skiff scheduler`` against this server (metrics off unless ``--port`` is in
        ``scheduler_args``) and wait until it is ready."""
        assert self._log is not None, "start the API server first"
        self.scheduler_ready_file.unlink(missing_ok=True)
        args = (
            self.scheduler_args
            if "--port" in self.scheduler_args
            else [*self.scheduler_args, "--port", "0"]
        )
        cmd = [
            sys.executable,
            "-m",
            "skiff",
            "scheduler",
            "--kubeconfig",
            str(self.kubeconfig),
            "--ready-file",
            str(self.scheduler_ready_file),
            *args,
        ]
        self.scheduler_process = subprocess.Popen(
            cmd, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while not self.scheduler_ready_file.exists():
            if self.scheduler_process.poll() is not None:
                raise RuntimeError(
                    f"scheduler exited with {self.scheduler_process.returncode}:\n{self.logs()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"scheduler not ready after {timeout}s:\n{self.logs()}")
            time.sleep(0.05)

    def stop_scheduler(self, *, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        proc, self.scheduler_process = self.scheduler_process, None
        _end(proc, sig, timeout)

    def stop_controller_manager(self, *, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        proc, self.cm_process = self.cm_process, None
        _end(proc, sig, timeout)

    def wait_ready(self, *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"apiserver exited with {self.process.returncode}:\n{self.logs()}"
                )
            if self.ca_file.exists():
                try:
                    ctx = ssl.create_default_context(cafile=str(self.ca_file))
                    with urllib.request.urlopen(f"{self.url}/readyz", context=ctx, timeout=2) as r:
                        if r.status == 200:
                            return
                except (urllib.error.URLError, OSError, ssl.SSLError) as e:
                    last = str(e)
            time.sleep(0.1)
        raise TimeoutError(f"apiserver not ready after {timeout}s ({last}):\n{self.logs()}")

    def logs(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-20000:]

    def stop(self, *, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        self.stop_agent(sig=sig, timeout=timeout)
        self.stop_scheduler(sig=sig, timeout=timeout)
        self.stop_controller_manager(sig=sig, timeout=timeout)
        proc, self.process = self.process, None
        _end(proc, sig, timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        self.stop(sig=signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _end(proc: subprocess.Popen[bytes] | None, sig: int, timeout: float) -> None:
    """End one child by its pid: ``sig``, then SIGKILL after ``timeout``."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class KubectlResult:
    returncode: int
    stdout: str
    stderr: str

    def check(self) -> KubectlResult:
        if self.returncode != 0:
            raise AssertionError(
                f"kubectl failed ({self.returncode}):\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"
            )
        return self


@dataclass
class Kubectl:
    kubeconfig: Path
    cache_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="skiff-kubectl-")))

    def argv(self, *args: str) -> list[str]:
        return [
            "kubectl",
            f"--kubeconfig={self.kubeconfig}",
            f"--cache-dir={self.cache_dir}",
            *args,
        ]

    def run(
        self,
        *args: str,
        input: str | None = None,
        timeout: float = 60.0,
        env: dict[str, str] | None = None,
    ) -> KubectlResult:
        full_env = dict(os.environ)
        full_env.pop("KUBECONFIG", None)
        if env:
            full_env.update(env)
        proc = subprocess.run(
            self.argv(*args),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
        )
        return KubectlResult(proc.returncode, proc.stdout, proc.stderr)

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        timeout: float = 60.0,
        env: dict[str, str] | None = None,
    ) -> str:
        return self.run(*args, input=input, timeout=timeout, env=env).check().stdout

    def popen(self, *args: str) -> subprocess.Popen[str]:
        env = dict(os.environ)
        env.pop("KUBECONFIG", None)
        return subprocess.Popen(
            self.argv(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )

    def cleanup(self) -> None:
        with contextlib.suppress(OSError):
            import shutil

            shutil.rmtree(self.cache_dir)
