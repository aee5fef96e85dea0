"""The client over HTTPS against the fake API server, with the lean transport and with httpx's:
server verification with the CA from the config, the server name checked (``tls_server_name``),
rejection of a server signed by another CA, mutual TLS with a client certificate given as PEM data,
a watch streaming over TLS, bearer tokens (401 -> Unauthorized). Certificates are generated per
test module."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from skiff.client import (
    Client,
    Config,
    TransportChoice,
    TransportError,
    Unauthorized,
    resolve,
)
from skiff.testing.fakeapi import FakeApiServer

CM = resolve("configmaps")


@dataclass
class Pki:
    ca: bytes
    other_ca: bytes
    server_cert: Path
    server_key: Path
    client_cert: bytes
    client_key: bytes
    ca_file: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert(
    cn: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    issuer_name, issuer_key = issuer or (name, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    elif not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    tmp = tmp_path_factory.mktemp("pki")
    ca_key = _key()
    ca_cert = _cert("skiff-ca", ca_key, None, ca=True)
    other_key = _key()
    other_ca = _cert("other-ca", other_key, None, ca=True)
    server_key = _key()
    server_cert = _cert("apiserver", server_key, (ca_cert.subject, ca_key), server=True)
    client_key = _key()
    client_cert = _cert("admin", client_key, (ca_cert.subject, ca_key))
    pem = serialization.Encoding.PEM
    (tmp / "server.crt").write_bytes(server_cert.public_bytes(pem))
    (tmp / "server.key").write_bytes(_pem_key(server_key))
    (tmp / "ca.crt").write_bytes(ca_cert.public_bytes(pem))
    return Pki(
        ca=ca_cert.public_bytes(pem),
        other_ca=other_ca.public_bytes(pem),
        server_cert=tmp / "server.crt",
        server_key=tmp / "server.key",
        client_cert=client_cert.public_bytes(pem),
        client_key=_pem_key(client_key),
        ca_file=tmp / "ca.crt",
    )


@pytest.fixture
async def https_api(pki: Pki) -> AsyncIterator[FakeApiServer]:
    async with FakeApiServer(
        certfile=str(pki.server_cert),
        keyfile=str(pki.server_key),
        client_ca_file=str(pki.ca_file),
    ) as server:
        yield server


@pytest.mark.parametrize("transport", ["lean", "httpx"])
async def test_mutual_tls_with_ca_and_client_cert(
    https_api: FakeApiServer, pki: Pki, transport: TransportChoice
) -> None:
    assert https_api.url.startswith("https://")
    config = Config(
        server=https_api.url,
        ca_data=pki.ca,
        client_cert_data=pki.client_cert,
        client_key_data=pki.client_key,
    )
    async with Client(config, transport=transport) as client:
        created = await client.create(CM, {"metadata": {"name": "tls"}})
        assert created["metadata"]["name"] == "tls"
        async with client.watch(CM, resource_version="0") as watch:  # streams over TLS too
            event = await anext(watch)
            assert event.object["metadata"]["name"] == "tls"


@pytest.mark.parametrize("transport", ["lean", "httpx"])
async def test_server_name_is_verified(
    https_api: FakeApiServer, pki: Pki, transport: TransportChoice
) -> None:
    # The certificate names 127.0.0.1 only: a tls-server-name it does not carry must fail.
    config = Config(
        server=https_api.url,
        ca_data=pki.ca,
        client_cert_data=pki.client_cert,
        client_key_data=pki.client_key,
        tls_server_name="kubernetes.default.svc",
    )
    async with Client(config, transport=transport) as client:
        with pytest.raises(TransportError, match=r"(?i)certificate|hostname|match"):
            await client.get(CM, "x")


async def test_server_signed_by_unknown_ca_is_rejected(https_api: FakeApiServer, pki: Pki) -> None:
    config = Config(
        server=https_api.url,
        ca_data=pki.other_ca,
        client_cert_data=pki.client_cert,
        client_key_data=pki.client_key,
    )
    async with Client(config) as client:
        with pytest.raises(TransportError):
            await client.get(CM, "x")


async def test_missing_client_certificate_is_rejected(https_api: FakeApiServer, pki: Pki) -> None:
    async with Client(Config(server=https_api.url, ca_data=pki.ca)) as client:
        with pytest.raises(TransportError):
            await client.list(CM)


async def test_bearer_token(api: FakeApiServer) -> None:
    api.state.required_token = "good"
    async with Client(Config(server=api.url, token="bad")) as client:
        with pytest.raises(Unauthorized):
            await client.list(CM)
    async with Client(Config(server=api.url, token="good")) as client:
        assert (await client.list(CM))["items"] == []
