"""Kubeconfig loading (contexts, inline and file credentials, relative paths, errors), TLS context
construction from CA / client certificate material, token files (the cached token source on a fake
clock: read once, re-read once a minute, kept on a failed re-read; the client sending it),
in-cluster configuration."""

from __future__ import annotations

import base64
import datetime
import ssl
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from skiff.client import (
    CachedTokenFile,
    Client,
    Config,
    ConfigError,
    Unauthorized,
    load_kubeconfig,
)
from skiff.testing.clock import FakeClock
from skiff.testing.fakeapi import FakeApiServer


def self_signed(cn: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def write_kubeconfig(path: Path, doc: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(doc))
    return path


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_current_context_with_inline_material(tmp_path: Path) -> None:
    ca, _ = self_signed("ca")
    cert, key = self_signed("admin")
    cfg = load_kubeconfig(
        write_kubeconfig(
            tmp_path / "config",
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "main",
                "contexts": [
                    {"name": "main", "context": {"cluster": "c", "user": "u", "namespace": "apps"}},
                    {"name": "other", "context": {"cluster": "c2", "user": "u2"}},
                ],
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {
                            "server": "https://127.0.0.1:6443/",
                            "certificate-authority-data": b64(ca),
                        },
                    },
                    {
                        "name": "c2",
                        "cluster": {
                            "server": "https://other:6443",
                            "insecure-skip-tls-verify": True,
                        },
                    },
                ],
                "users": [
                    {
                        "name": "u",
                        "user": {"client-certificate-data": b64(cert), "client-key-data": b64(key)},
                    },
                    {"name": "u2", "user": {"token": "abc"}},
                ],
            },
        )
    )
    assert cfg.server == "https://127.0.0.1:6443"
    assert cfg.namespace == "apps"
    assert cfg.ca_data == ca and cfg.client_cert_data == cert and cfg.client_key_data == key
    ctx = cfg.ssl_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert len(ctx.get_ca_certs()) == 1
    other = load_kubeconfig(tmp_path / "config", context="other")
    assert other.server == "https://other:6443"
    assert other.insecure_skip_tls_verify and other.bearer_token() == "abc"
    assert other.namespace == "default"
    assert other.ssl_context().verify_mode == ssl.CERT_NONE


def test_file_references_relative_to_kubeconfig(tmp_path: Path) -> None:
    ca, _ = self_signed("ca")
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "ca.crt").write_bytes(ca)
    (tmp_path / "token").write_text("tok-1\n")
    cfg = load_kubeconfig(
        write_kubeconfig(
            tmp_path / "kc",
            {
                "current-context": "x",
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {"server": "https://h:1", "certificate-authority": "pki/ca.crt"},
                    }
                ],
                "users": [{"name": "u", "user": {"tokenFile": "token"}}],
            },
        )
    )
    assert cfg.ca_data == ca
    assert cfg.bearer_token() == "tok-1"
    (tmp_path / "token").write_text("tok-2")  # rotated tokens are re-read
    assert cfg.bearer_token() == "tok-2"


def test_kubeconfig_env_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_kubeconfig(
        tmp_path / "kc",
        {
            "current-context": "x",
            "contexts": [{"name": "x", "context": {"cluster": "c"}}],
            "clusters": [{"name": "c", "cluster": {"server": "http://h:8080"}}],
        },
    )
    monkeypatch.setenv("KUBECONFIG", f"{path}:/nonexistent")
    cfg = load_kubeconfig()
    assert cfg.server == "http://h:8080" and cfg.bearer_token() is None


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"current-context": "missing", "contexts": []},
        {
            "current-context": "x",
            "contexts": [{"name": "x", "context": {"cluster": "c"}}],
            "clusters": [],
        },
        {
            "current-context": "x",
            "contexts": [{"name": "x", "context": {"cluster": "c"}}],
            "clusters": [{"name": "c", "cluster": {}}],
        },
        {
            "current-context": "x",
            "contexts": [{"name": "x", "context": {"cluster": "c"}}],
            "clusters": [
                {
                    "name": "c",
                    "cluster": {"server": "https://h", "certificate-authority-data": "!!"},
                }
            ],
        },
    ],
    ids=["empty", "no-context", "no-cluster", "no-server", "bad-base64"],
)
def test_bad_kubeconfigs(tmp_path: Path, doc: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        load_kubeconfig(write_kubeconfig(tmp_path / "kc", doc))


def test_missing_file_and_bad_material(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_kubeconfig(tmp_path / "absent")
    with pytest.raises(ConfigError):
        Config(server="https://h", ca_data=b"not a cert").ssl_context()
    cert, _ = self_signed("x")
    with pytest.raises(ConfigError):
        Config(server="https://h", client_cert_data=cert).ssl_context()


def test_in_cluster(tmp_path: Path) -> None:
    ca, _ = self_signed("ca")
    (tmp_path / "token").write_text("sa-token")
    (tmp_path / "ca.crt").write_bytes(ca)
    (tmp_path / "namespace").write_text("kube-system")
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    cfg = Config.in_cluster(sa_dir=tmp_path, env=env)
    assert cfg.server == "https://10.0.0.1:443"
    assert cfg.bearer_token() == "sa-token" and cfg.namespace == "kube-system" and cfg.ca_data == ca
    with pytest.raises(ConfigError):
        Config.in_cluster(sa_dir=tmp_path, env={})


async def test_cached_token_file_reloads_once_a_minute(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("tok-1\n")
    clock = FakeClock()
    source = CachedTokenFile(str(path), clock=clock)
    assert await source.token() == "tok-1"
    path.write_text("tok-2\n")  # rotated on disk
    for _ in range(100):
        assert await source.token() == "tok-1"  # served from memory
    assert source.reads == 1
    clock.advance(59.9)
    assert await source.token() == "tok-1" and source.reads == 1
    clock.advance(0.1)
    assert await source.token() == "tok-2" and source.reads == 2
    path.unlink()  # a failed re-read keeps the cached token
    clock.advance(60)
    assert await source.token() == "tok-2" and source.reads == 3
    path.write_text("tok-3")
    assert await source.token() == "tok-3" and source.reads == 4  # and retries next time
    path.write_text("")
    clock.advance(60)
    assert await source.token() is None
    with pytest.raises(ConfigError, match="cannot read token file"):
        await CachedTokenFile(str(tmp_path / "missing"), clock=clock).token()


async def test_client_sends_the_cached_token(tmp_path: Path, api: FakeApiServer) -> None:
    path = tmp_path / "token"
    path.write_text("tok-1")
    clock = FakeClock()
    api.state.required_token = "tok-1"
    config = Config(server=api.url, token_file=str(path))
    async with Client(config, clock=clock, token_reload_period=60) as client:
        for _ in range(5):
            await client.list("configmaps")
        assert client.token_file is not None and client.token_file.reads == 1
        path.write_text("tok-2")
        api.state.required_token = "tok-2"  # the server now wants the rotated token
        with pytest.raises(Unauthorized):
            await client.list("configmaps")  # still the cached one
        clock.advance(60)
        await client.list("configmaps")
        assert client.token_file.reads == 2
    # An explicit token wins and no file is read.
    async with Client(Config(server=api.url, token="tok-2", token_file=str(path))) as client:
        await client.list("configmaps")
        assert client.token_file is None
