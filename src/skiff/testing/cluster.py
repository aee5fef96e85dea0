"""Start a real ``skiff apiserver`` process on 127.0.0.1 for tests, and drive kubectl against it.

``ServerProcess`` picks a free port and a temporary data directory, starts the API server as a
child process (the same code path as production, over HTTPS with a generated CA), waits for
``/readyz``, and on ``stop()`` ends exactly that process by its pid and removes nothing it did not
create. ``Kubectl`` runs the installed kubectl with the server's admin kubeconfig and a private
``--cache-dir`` (kubectl caches discovery and ``/version`` for hours otherwise).
"""

from __future__ import annotations

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

__all__ = ["Kubectl", "KubectlResult", "ServerProcess", "free_port"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    data_dir: Path
    port: int = 0
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
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
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.process = None
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
