"""The agent's side of joining (``skiff.agent.identity``): `join` writes working credentials for
``system:node:<name>`` (the serving key made here, only its CSR sent) and reuses them while fresh;
a server whose CA differs from the token's hash is refused before the token is sent; a wrong or
malformed token and a node name taken by another machine end in `JoinError` saying what to fix;
`CredentialRenewer` renews before expiry (on an injected clock, and for real with a short
lifetime, a client built by `client_config` following the rewritten token file) and stops on a
revoked node; a real ``skiff apiserver`` process over HTTPS with ``--node-credential-lifetime``;
and a TLS endpoint configured as the agent's (the serving certificate from the join,
``CERT_REQUIRED`` against ``client_ca_file``) accepting the API server's kubelet-client
certificate and refusing callers without it."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from skiff.agent.identity import (
    CredentialRenewer,
    JoinError,
    NodeCredentials,
    client_config,
    join,
    renew,
)
from skiff.apiserver.connect import AgentTransport
from skiff.apiserver.server import ApiServer
from skiff.apiserver.tls import ServerCredentials, ensure_credentials, issue_certificate, load_ca
from skiff.client import Client, Config, Unauthorized
from skiff.testing.apiserver import ADMIN_TOKEN, in_process_apiserver, server_url
from skiff.testing.clock import FakeClock
from skiff.testing.cluster import ServerProcess
from skiff.testing.wait import eventually

WHOAMI = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


@pytest.fixture
def server_creds(tmp_path: Path) -> ServerCredentials:
    return ensure_credentials(tmp_path / "srv", host_addresses=list)


@contextlib.asynccontextmanager
async def joinable_server(
    creds: ServerCredentials, lifetime: float = 3600.0
) -> AsyncIterator[ApiServer]:
    async with in_process_apiserver(
        join_token=creds.join_token,
        cluster_signing_cert_file=str(creds.ca_cert_path),
        cluster_signing_key_file=str(creds.ca_key_path),
        kubelet_client_ca_file=str(creds.kubelet_client_ca_path),
        node_credential_lifetime=lifetime,
    ) as server:
        yield server


async def whoami(config: Config, **client_options: Any) -> str:
    async with Client(config, **client_options) as client:
        resp = await client.request(
            "POST",
            WHOAMI,
            body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        )
    return str(resp.json()["status"]["userInfo"]["username"])


async def test_join_writes_working_credentials_and_reuses_them(
    tmp_path: Path, server_creds: ServerCredentials
) -> None:
    cred_dir = tmp_path / "agent" / "n1" / "cred"
    async with joinable_server(server_creds) as server:
        url = server_url(server)
        creds = await join(url, server_creds.join_token, "n1", cred_dir, node_ips=["127.0.0.1"])
        assert creds.node_name == "n1" and creds.server == url
        assert creds.issued_at < creds.expires_at
        assert creds.expires_at == pytest.approx(time.time() + 3600, abs=30)
        assert await whoami(client_config(creds)) == "system:node:n1"

    assert stat.S_IMODE(cred_dir.stat().st_mode) == 0o700
    for private in (creds.token_file, creds.serving_key_file, cred_dir / "node-password"):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert creds.ca_file.read_bytes() == server_creds.ca_pem
    assert creds.client_ca_file.read_bytes() == server_creds.kubelet_client_ca_path.read_bytes()
    # the certificate is for the key made here, signed by the cluster CA, naming the node
    key = serialization.load_pem_private_key(creds.serving_key_file.read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate(creds.serving_cert_file.read_bytes())
    assert cert.public_key() == key.public_key()
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(server_creds.ca_pem))
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["n1"]
    assert [str(i) for i in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]

    # the server is gone: fresh stored credentials are used without asking it
    again = await join(url, server_creds.join_token, "n1", cred_dir, node_ips=["127.0.0.1"])
    assert again == creds
    # but not for another node name, or an address the certificate does not name
    for name, ips in (("n2", []), ("n1", ["127.0.0.1", "10.1.2.3"])):
        with pytest.raises(JoinError) as err:
            await join(url, server_creds.join_token, name, cred_dir, node_ips=ips)
        assert err.value.retryable and "cannot reach" in str(err.value)


async def _fake_server(ca_pem: bytes, seen: list[bytes]) -> tuple[asyncio.Server, str]:
    """An HTTP server answering every request with ``ca_pem`` and recording what it was sent."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                seen.append(head + await reader.readexactly(length))
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\n"
                    + f"Content-Length: {len(ca_pem)}\r\n\r\n".encode()
                    + ca_pem
                )
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def test_a_server_with_another_ca_never_sees_the_token(
    tmp_path: Path, server_creds: ServerCredentials
) -> None:
    impostor = ensure_credentials(tmp_path / "impostor", host_addresses=list)
    seen: list[bytes] = []
    server, url = await _fake_server(impostor.ca_pem, seen)
    try:
        with pytest.raises(JoinError) as err:
            await join(url, server_creds.join_token, "n1", tmp_path / "cred", node_ips=[])
    finally:
        server.close()
        await server.wait_closed()
    message = str(err.value)
    assert "the join token pins" in message and "The token was not sent" in message
    assert not err.value.retryable
    assert len(seen) == 1 and seen[0].startswith(b"GET /cacerts ")
    secret = server_creds.join_token.rpartition(":")[2].encode()
    assert b"authorization" not in seen[0].lower() and secret not in seen[0]
    assert not (tmp_path / "cred" / "token").exists()


async def test_wrong_and_malformed_tokens(tmp_path: Path, server_creds: ServerCredentials) -> None:
    pinned = server_creds.join_token.split("::")[0]
    async with joinable_server(server_creds) as server:
        with pytest.raises(JoinError) as err:
            await join(
                server_url(server),
                f"{pinned}::server:{'0' * 32}",
                "n1",
                tmp_path / "c",
                node_ips=[],
            )
    assert "join token is not valid for this cluster" in str(err.value)
    assert not err.value.retryable
    for token in ("justasecret", "K10abc::server:x", f"{pinned}::server:"):
        with pytest.raises(JoinError, match="join token"):
            # refused before any connection (nothing listens on port 1)
            await join("http://127.0.0.1:1", token, "n1", tmp_path / "c", node_ips=[])


async def test_a_taken_node_name_is_refused(
    tmp_path: Path, server_creds: ServerCredentials
) -> None:
    async with joinable_server(server_creds) as server:
        url = server_url(server)
        first = await join(url, server_creds.join_token, "n1", tmp_path / "a", node_ips=[])
        with pytest.raises(JoinError) as err:
            await join(url, server_creds.join_token, "n1", tmp_path / "b", node_ips=[])
        assert "node name n1 is already registered by another machine" in str(err.value)
        assert not err.value.retryable
        # the first machine may join afresh (its password proves it), e.g. after losing its token
        (tmp_path / "a" / "credentials.json").unlink()
        again = await join(url, server_creds.join_token, "n1", tmp_path / "a", node_ips=[])
        assert again.token_file.read_text() != "" and again.issued_at > first.issued_at


async def test_renewer_renews_at_two_thirds_of_the_lifetime(
    tmp_path: Path, server_creds: ServerCredentials
) -> None:
    async with joinable_server(server_creds) as server:
        creds = await join(
            server_url(server),
            server_creds.join_token,
            "n1",
            tmp_path / "c",
            node_ips=["127.0.0.1"],
        )
        clock = FakeClock(wall_start=time.time())
        seen: list[NodeCredentials] = []
        renewer = CredentialRenewer(creds, clock=clock, on_renew=seen.append)
        task = asyncio.create_task(renewer.run())
        try:
            old_token = creds.token_file.read_text()
            clock.advance(3600 * 2 / 3 - 60)  # not yet
            await asyncio.sleep(0.1)
            assert renewer.renewals == 0
            clock.advance(61)
            await eventually(lambda: renewer.renewals == 1, what="a renewal")
            assert seen == [renewer.credentials]
            assert renewer.credentials.expires_at > creds.expires_at
            assert creds.token_file.read_text() != old_token
            assert await whoami(client_config(renewer.credentials)) == "system:node:n1"
            # the next renewal is two thirds of a lifetime away on the renewer's clock
            assert renewer.credentials.renew_at() == pytest.approx(clock.time() + 2400, abs=5)
            await asyncio.sleep(0.1)
            assert renewer.renewals == 1
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_renewal_keeps_a_client_working_past_the_first_expiry(
    tmp_path: Path, server_creds: ServerCredentials
) -> None:
    async with joinable_server(server_creds, lifetime=4.5) as server:
        creds = await join(
            server_url(server), server_creds.join_token, "n1", tmp_path / "c", node_ips=[]
        )
        first_token = creds.token_file.read_text().strip()
        renewer = CredentialRenewer(creds)
        task = asyncio.create_task(renewer.run())
        try:
            async with Client(client_config(creds), token_reload_period=0.1) as client:

                async def me() -> str:
                    resp = await client.request(
                        "POST",
                        WHOAMI,
                        body={
                            "apiVersion": "authentication.k8s.io/v1",
                            "kind": "SelfSubjectReview",
                        },
                    )
                    return str(resp.json()["status"]["userInfo"]["username"])

                assert await me() == "system:node:n1"
                await eventually(lambda: renewer.renewals >= 1, within=10, what="a renewal")
                assert renewer.credentials.expires_at > creds.expires_at
                old = Config(
                    server=creds.server, ca_data=creds.ca_file.read_bytes(), token=first_token
                )

                async def old_refused() -> bool:
                    try:
                        await whoami(old, max_retries=0)
                    except Unauthorized:
                        return True
                    return False

                await eventually(
                    old_refused, within=10, interval=0.1, what="the first token to expire"
                )
                # the long-lived client read the rewritten token file and still works
                assert await me() == "system:node:n1"
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_a_revoked_node_cannot_renew(tmp_path: Path, server_creds: ServerCredentials) -> None:
    async with joinable_server(server_creds) as server:
        creds = await join(
            server_url(server), server_creds.join_token, "n1", tmp_path / "c", node_ips=[]
        )
        admin = Config(server=server_url(server), token=ADMIN_TOKEN)
        async with Client(admin) as client:
            await client.delete("secrets", "n1.node-password.skiff", namespace="kube-system")
        clock = FakeClock(wall_start=time.time())
        renewer = CredentialRenewer(creds, clock=clock)
        task = asyncio.create_task(renewer.run())
        clock.advance(3600)
        with pytest.raises(JoinError) as err:
            await asyncio.wait_for(task, 10)
        assert "no longer registered" in str(err.value) and not err.value.retryable
        with pytest.raises(JoinError):
            await renew(creds)


def _agent_endpoint_context(creds: NodeCredentials) -> ssl.SSLContext:
    """TLS settings as the agent endpoint uses them: its serving certificate, and only clients
    whose certificate ``client_ca_file`` signed."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(creds.serving_cert_file, creds.serving_key_file)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cafile=creds.client_ca_file)
    return ctx


async def _talk(port: int, ctx: ssl.SSLContext) -> bytes:
    """Connect (as 127.0.0.1), send a line, return what came back (b"" or an error if refused)."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=ctx, server_hostname="127.0.0.1"
    )
    try:
        writer.write(b"hello\n")
        await writer.drain()
        return await reader.readline()
    finally:
        writer.close()
        with contextlib.suppress(ssl.SSLError, ConnectionError):
            await writer.wait_closed()


async def _refused(port: int, ctx: ssl.SSLContext) -> bool:
    """Whether the endpoint refuses the caller (TLS 1.3 reports it on the first read)."""
    try:
        return await _talk(port, ctx) == b""
    except (ssl.SSLError, ConnectionError):
        return True


async def test_real_server_process_join_and_the_agent_endpoint_tls(tmp_path: Path) -> None:
    """``skiff apiserver`` over HTTPS: join, the lifetime flag, and mutual TLS between the API
    server's kubelet-client certificate and an endpoint set up like the agent's."""
    data_dir = tmp_path / "data"
    proc = ServerProcess(data_dir, extra_args=["--node-credential-lifetime", "90m"])
    proc.start()
    try:
        token = (data_dir / "server" / "token").read_text().strip()
        creds = await join(proc.url, token, "n1", tmp_path / "cred", node_ips=["127.0.0.1"])
        assert creds.expires_at - creds.issued_at == pytest.approx(90 * 60)
        assert await whoami(client_config(creds)) == "system:node:n1"
        with pytest.raises(JoinError, match="already registered by another machine"):
            await join(proc.url, token, "n1", tmp_path / "other", node_ips=[])
    finally:
        proc.stop()

    tls = data_dir / "server" / "tls"
    handled: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handled.append(await reader.readline())
        writer.write(b"ok\n")
        await writer.drain()
        writer.close()

    endpoint = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=_agent_endpoint_context(creds))
    port = endpoint.sockets[0].getsockname()[1]
    try:
        # the API server's transport to agents, from the files `skiff apiserver` uses
        transport = AgentTransport(
            ca_file=str(tls / "ca.crt"),
            cert_file=str(tls / "kubelet-client.crt"),
            key_file=str(tls / "kubelet-client.key"),
        )
        assert await _talk(port, transport.ssl_context()) == b"ok\n"

        # without a client certificate: the handshake is refused
        assert await _refused(port, ssl.create_default_context(cafile=str(tls / "ca.crt")))
        # with a certificate from the cluster CA (as any node could get): refused too
        ca, ca_key = load_ca(tls / "ca.crt", tls / "ca.key")
        cert_pem, key_pem = issue_certificate(
            ca,
            ca_key,
            common_name="system:node:n2",
            server=False,
            client=True,
            lifetime=dt.timedelta(hours=1),
        )
        (tmp_path / "n2.crt").write_bytes(cert_pem)
        (tmp_path / "n2.key").write_bytes(key_pem)
        other = ssl.create_default_context(cafile=str(tls / "ca.crt"))
        other.load_cert_chain(tmp_path / "n2.crt", tmp_path / "n2.key")
        assert await _refused(port, other)
        assert handled == [b"hello\n"]
    finally:
        endpoint.close()
        await endpoint.wait_closed()
