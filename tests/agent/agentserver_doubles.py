"""Doubles for the agent endpoint's tests (test_agent_server.py, test_agent_server_e2e.py).

- `Pki`: a CA, the agent's serving certificate for 127.0.0.1, the API server's client
  certificate for agents, and a client certificate from another CA (a stranger's).
- `ProcessRuntime`: the streaming part of a Runtime over plain host processes - ``exec`` runs the
  argv as a subprocess, ``attach`` runs ``sh -c 'echo attached; cat'``, ``port_forward`` connects
  to 127.0.0.1 (pod port -> a local port the test serves), ``container_status`` reports what the
  test set. Every process it starts is killed by pid in ``close``.
- `Lookup`: a PodLookup over dicts.
- `serve_agent`: an AgentServer running in the test's loop until the block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from skiff.agent.server import AgentServer
from skiff.apiserver.tls import issue_certificate
from skiff.runtime.base import Runtime
from skiff.runtime.types import (
    ContainerState,
    ContainerStatus,
    NotFound,
    SandboxState,
    SandboxStatus,
)


def _ca(name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


@dataclass
class Pki:
    dir: Path
    ca_file: Path
    serving_cert: Path
    serving_key: Path
    client_cert: Path
    client_key: Path
    stranger_cert: Path
    stranger_key: Path
    ca: x509.Certificate
    ca_key: ec.EllipticCurvePrivateKey

    def issue_serving(self, cert: Path, key: Path) -> None:
        cert_pem, key_pem = issue_certificate(
            self.ca, self.ca_key, common_name="skiff-agent", ips={"127.0.0.1"}, dns={"localhost"}
        )
        cert.write_bytes(cert_pem)
        key.write_bytes(key_pem)

    def client_context(self, *, cert: bool = True, stranger: bool = False) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        if stranger:
            ctx.load_cert_chain(str(self.stranger_cert), str(self.stranger_key))
        elif cert:
            ctx.load_cert_chain(str(self.client_cert), str(self.client_key))
        return ctx


def make_pki(directory: Path) -> Pki:
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = _ca("skiff-test-ca")
    ca_file = directory / "ca.crt"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    client_pem, client_key_pem = issue_certificate(
        ca, ca_key, common_name="kube-apiserver-kubelet-client", server=False, client=True
    )
    other, other_key = _ca("someone-else")
    stranger_pem, stranger_key_pem = issue_certificate(
        other, other_key, common_name="kube-apiserver-kubelet-client", server=False, client=True
    )
    pki = Pki(
        dir=directory,
        ca_file=ca_file,
        serving_cert=directory / "serving.crt",
        serving_key=directory / "serving.key",
        client_cert=directory / "client.crt",
        client_key=directory / "client.key",
        stranger_cert=directory / "stranger.crt",
        stranger_key=directory / "stranger.key",
        ca=ca,
        ca_key=ca_key,
    )
    pki.issue_serving(pki.serving_cert, pki.serving_key)
    pki.client_cert.write_bytes(client_pem)
    pki.client_key.write_bytes(client_key_pem)
    pki.stranger_cert.write_bytes(stranger_pem)
    pki.stranger_key.write_bytes(stranger_key_pem)
    return pki


class ProcessSession:
    """A StreamSession over a subprocess (a tty merges stderr into stdout)."""

    def __init__(self, proc: asyncio.subprocess.Process, *, tty: bool) -> None:
        assert proc.stdout is not None
        self.proc = proc
        self.stdout: asyncio.StreamReader = proc.stdout
        self.stderr: asyncio.StreamReader | None = None if tty else proc.stderr
        self.sizes: list[tuple[int, int]] = []
        self.closed = False

    async def write_stdin(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()

    async def close_stdin(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()

    async def resize(self, width: int, height: int) -> None:
        self.sizes.append((width, height))

    async def wait(self) -> int | None:
        return await self.proc.wait()

    async def close(self) -> None:
        self.closed = True
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()


@dataclass
class ProcessRuntime:
    """The streaming calls of a Runtime over host processes and 127.0.0.1 (see the module)."""

    name: str = "test"
    version: str = "test://0"
    # pod port -> local port of a server the test runs
    ports: dict[int, int] = field(default_factory=dict)
    states: dict[str, ContainerState] = field(default_factory=dict)
    sandboxes: list[SandboxStatus] = field(default_factory=list)
    containers: list[ContainerStatus] = field(default_factory=list)
    sessions: list[ProcessSession] = field(default_factory=list)

    async def _spawn(self, argv: list[str], *, tty: bool, stdin: bool) -> ProcessSession:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT if tty else asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        session = ProcessSession(proc, tty=tty)
        self.sessions.append(session)
        return session

    def _known(self, container_id: str) -> None:
        if container_id not in self.states:
            raise NotFound(f"container {container_id} not found")

    async def exec(
        self, container_id: str, argv: list[str], *, tty: bool, stdin: bool
    ) -> ProcessSession:
        self._known(container_id)
        return await self._spawn(argv, tty=tty, stdin=stdin)

    async def attach(self, container_id: str, *, tty: bool, stdin: bool) -> ProcessSession:
        self._known(container_id)
        return await self._spawn(["sh", "-c", "echo attached; cat"], tty=tty, stdin=stdin)

    async def port_forward(
        self, sandbox_id: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if port not in self.ports:
            raise ConnectionRefusedError(f"nothing listens on port {port} in {sandbox_id}")
        return await asyncio.open_connection("127.0.0.1", self.ports[port])

    async def container_status(self, container_id: str) -> ContainerStatus:
        self._known(container_id)
        return ContainerStatus(
            id=container_id,
            sandbox_id="sb1",
            name="main",
            attempt=0,
            state=self.states[container_id],
            image="busybox",
            image_id="",
        )

    async def list_sandboxes(self) -> list[SandboxStatus]:
        return list(self.sandboxes)

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]:
        return [c for c in self.containers if sandbox_id in (None, c.sandbox_id)]

    async def close(self) -> None:
        for session in self.sessions:
            if session.proc.returncode is None:
                session.proc.kill()
            await session.proc.wait()

    def as_runtime(self) -> Runtime:
        return cast(Runtime, self)


def sandbox(pod: str = "web", *, namespace: str = "default", uid: str = "uid-1") -> SandboxStatus:
    return SandboxStatus(
        id=f"sb-{pod}",
        pod_uid=uid,
        name=pod,
        namespace=namespace,
        attempt=0,
        state=SandboxState.READY,
        created_at=0.0,
    )


def pod_object(
    name: str, *, node: str = "n1", containers: tuple[str, ...] = ("main",)
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
        "spec": {
            "nodeName": node,
            "containers": [{"name": c, "image": "busybox"} for c in containers],
        },
    }


@dataclass
class Lookup:
    """PodLookup over dicts keyed by (namespace, pod[, container])."""

    pods: dict[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    containers: dict[tuple[str, str, str], str] = field(default_factory=dict)
    previous_containers: dict[tuple[str, str, str], str] = field(default_factory=dict)
    logs: dict[tuple[str, str, str], Path] = field(default_factory=dict)
    previous_logs: dict[tuple[str, str, str], Path] = field(default_factory=dict)
    sandboxes: dict[tuple[str, str], str] = field(default_factory=dict)
    summary: dict[str, Any] = field(
        default_factory=lambda: {"node": {"nodeName": "n1"}, "pods": []}
    )

    def find_pod(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self.pods.get((namespace, name))

    def container_id(
        self, namespace: str, name: str, container: str, *, previous: bool = False
    ) -> str | None:
        table = self.previous_containers if previous else self.containers
        return table.get((namespace, name, container))

    def log_path(
        self, namespace: str, name: str, container: str, *, previous: bool = False
    ) -> Path | None:
        table = self.previous_logs if previous else self.logs
        return table.get((namespace, name, container))

    def sandbox_id(self, namespace: str, name: str) -> str | None:
        return self.sandboxes.get((namespace, name))

    async def stats_summary(self) -> dict[str, Any]:
        return self.summary


@contextlib.asynccontextmanager
async def serve_agent(
    lookup: Lookup, runtime: ProcessRuntime, pki: Pki, *, client_ca: bool = True
) -> AsyncIterator[AgentServer]:
    server = AgentServer(
        lookup,
        runtime.as_runtime(),
        bind="127.0.0.1",
        port=0,
        cert_file=pki.serving_cert,
        key_file=pki.serving_key,
        client_ca_file=pki.ca_file if client_ca else None,
    )
    task = asyncio.create_task(server.serve())
    try:
        ready = asyncio.create_task(server.ready.wait())
        done, _ = await asyncio.wait({task, ready}, timeout=10, return_when="FIRST_COMPLETED")
        if ready not in done:
            ready.cancel()
            await asyncio.gather(ready, return_exceptions=True)
            if task.done():
                task.result()
            raise TimeoutError("the agent endpoint did not start")
        yield server
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await runtime.close()


def cri_line(stamp: str, message: str, *, stream: str = "stdout") -> bytes:
    return f"{stamp} {stream} F {message}\n".encode()


def append(path: Path, data: bytes) -> None:
    """Append to a log file as a runtime's shim does."""
    with open(path, "ab") as f:
        f.write(data)
