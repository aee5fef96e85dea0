"""The API server's side of node joining (``skiff.apiserver.nodejoin``): ``/cacerts`` without
credentials; the join-token exchange for a ``system:node:<name>`` token and a serving certificate
signed from the node's CSR; wrong, foreign and missing join tokens (401); a node name taken by
another machine (403, k3s' node password); renewal with the node token only; expiry and tampering
(401); node tokens verified by a second API server sharing the store; bad requests (400); the
kubelet-client CA and client certificate written by ``ensure_credentials``."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import ipaddress
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from skiff.apiserver.auth import NodeTokenAuthenticator
from skiff.apiserver.nodejoin import KEY_SECRET
from skiff.apiserver.server import ApiServer, ApiServerConfig
from skiff.apiserver.tls import ServerCredentials, ensure_credentials
from skiff.store import MemoryStore
from skiff.testing.apiserver import ADMIN_TOKEN, in_process_apiserver, server_url
from skiff.testing.wait import eventually

JOIN = "/v1-skiff/node-credentials"
RENEW = "/v1-skiff/node-credentials/renew"
WHOAMI = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
PASSWORD = "p" * 32


def _join_settings(creds: ServerCredentials, lifetime: float = 3600.0) -> dict[str, Any]:
    return {
        "join_token": creds.join_token,
        "cluster_signing_cert_file": str(creds.ca_cert_path),
        "cluster_signing_key_file": str(creds.ca_key_path),
        "kubelet_client_ca_file": str(creds.kubelet_client_ca_path),
        "node_credential_lifetime": lifetime,
    }


@pytest.fixture
def creds(tmp_path: Path) -> ServerCredentials:
    return ensure_credentials(tmp_path, host_addresses=list)


@pytest.fixture
async def http(creds: ServerCredentials) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        in_process_apiserver(**_join_settings(creds)) as server,
        httpx.AsyncClient(base_url=server_url(server), timeout=20) as client,
    ):
        yield client


def _csr(
    name: str = "n1", ips: tuple[str, ...] = ("127.0.0.1",)
) -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    san = [x509.DNSName(name), *(x509.IPAddress(ipaddress.ip_address(i)) for i in ips)]
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{name}")]))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def _join(
    http: httpx.AsyncClient,
    token: str,
    name: str = "n1",
    password: str = PASSWORD,
    **extra: Any,
) -> httpx.Response:
    _key, csr = _csr(name)
    body = {"nodeName": name, "nodePassword": password, "csr": csr, **extra}
    return await http.post(JOIN, json=body, headers=_bearer(token))


async def _whoami(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post(
        WHOAMI,
        json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        headers=_bearer(token),
    )


def _status(resp: httpx.Response, code: int) -> str:
    assert resp.status_code == code, resp.text
    body = resp.json()
    assert body["kind"] == "Status" and body["code"] == code
    return str(body["message"])


async def test_cacerts_needs_no_credentials(
    http: httpx.AsyncClient, creds: ServerCredentials
) -> None:
    resp = await http.get("/cacerts")
    assert resp.status_code == 200
    assert resp.content == creds.ca_pem
    _status(await http.post("/cacerts"), 405)
    # the rest of the API still needs credentials
    _status(await http.get("/api/v1/nodes"), 401)


async def test_join_token_buys_a_node_token_and_a_serving_certificate(
    http: httpx.AsyncClient, creds: ServerCredentials
) -> None:
    key, csr = _csr("n1", ("127.0.0.1", "10.0.0.7"))
    resp = await http.post(
        JOIN,
        json={"nodeName": "n1", "nodePassword": PASSWORD, "csr": csr},
        headers=_bearer(creds.join_token),
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["user"] == "system:node:n1"
    assert body["certificateAuthority"].encode() == creds.ca_pem
    assert body["clientCertificateAuthority"].encode() == creds.kubelet_client_ca_path.read_bytes()
    assert body["expiresAt"] - body["issuedAt"] == pytest.approx(3600.0)

    who = await _whoami(http, body["token"])
    assert who.status_code == 201, who.text
    user = who.json()["status"]["userInfo"]
    assert user["username"] == "system:node:n1"
    assert set(user["groups"]) == {"system:nodes", "system:authenticated"}
    nodes = await http.get("/api/v1/nodes", headers=_bearer(body["token"]))
    assert nodes.status_code == 200

    # the certificate is for the node's own key (only the CSR was sent), from the cluster CA
    cert = x509.load_pem_x509_certificate(body["servingCertificate"].encode())
    ca = x509.load_pem_x509_certificate(creds.ca_pem)
    cert.verify_directly_issued_by(ca)
    assert cert.public_key() == key.public_key()
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:n1"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:nodes"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["n1"]
    assert {str(i) for i in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "10.0.0.7"}
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]

    # the join token itself is no API credential
    _status(await http.get("/api/v1/nodes", headers=_bearer(creds.join_token)), 401)


async def test_wrong_missing_or_foreign_join_tokens_get_401(
    http: httpx.AsyncClient, creds: ServerCredentials
) -> None:
    pinned = creds.join_token.split("::")[0]
    message = _status(await _join(http, f"{pinned}::server:{'0' * 32}"), 401)
    assert "join token is not valid for this cluster" in message
    message = _status(await _join(http, f"K10{'ab' * 32}::server:{'0' * 32}"), 401)
    assert "pins another cluster CA" in message
    message = _status(await _join(http, ""), 401)
    assert "join token is required" in message
    # the bare secret (k3s' short token) is the same credential
    secret = creds.join_token.rpartition(":")[2]
    assert (await _join(http, secret)).status_code == 200


async def test_a_taken_node_name_is_refused_to_another_machine(
    http: httpx.AsyncClient, creds: ServerCredentials
) -> None:
    assert (await _join(http, creds.join_token, "n1", PASSWORD)).status_code == 200
    message = _status(await _join(http, creds.join_token, "n1", "q" * 32), 403)
    assert message.startswith("node name n1 is already registered by another machine")
    assert "--node-name" in message
    # the machine with the password joins again as often as it likes
    assert (await _join(http, creds.join_token, "n1", PASSWORD)).status_code == 200
    # the password is stored as a salted hash, never as given
    secret = await http.get(
        "/api/v1/namespaces/kube-system/secrets/n1.node-password.skiff",
        headers=_bearer(ADMIN_TOKEN),
    )
    assert secret.status_code == 200
    data = secret.json()["data"]
    assert set(data) == {"salt", "hash"}
    assert PASSWORD.encode() not in b"".join(base64.b64decode(v) for v in data.values())


CSR = object()  # replaced by a valid CSR


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"nodePassword": PASSWORD, "csr": CSR}, "nodeName is required"),
        ({"nodeName": "Bad_Name", "nodePassword": PASSWORD, "csr": CSR}, "not a valid node name"),
        ({"nodeName": "n1", "nodePassword": "short", "csr": CSR}, "nodePassword must be"),
        ({"nodeName": "n1", "nodePassword": PASSWORD, "csr": "nonsense"}, "csr is not a PEM"),
        ({"nodeName": "n1", "nodePassword": PASSWORD}, "csr (a PEM"),
        (
            {"nodeName": "n1", "nodePassword": PASSWORD, "csr": CSR, "lifetimeSeconds": -1},
            "lifetimeSeconds must be a positive number",
        ),
    ],
)
async def test_bad_join_requests_get_400(
    http: httpx.AsyncClient, creds: ServerCredentials, body: dict[str, Any], fragment: str
) -> None:
    body = {k: (_csr()[1] if v is CSR else v) for k, v in body.items()}
    message = _status(await http.post(JOIN, json=body, headers=_bearer(creds.join_token)), 400)
    assert fragment in message
    not_json = await http.post(JOIN, content=b"{", headers=_bearer(creds.join_token))
    assert "not valid JSON" in _status(not_json, 400)


async def test_renewal_takes_the_node_token_not_the_join_token(
    http: httpx.AsyncClient, creds: ServerCredentials
) -> None:
    first = (await _join(http, creds.join_token, lifetimeSeconds=600)).json()
    key, csr = _csr("n1")
    resp = await http.post(
        RENEW, json={"csr": csr, "lifetimeSeconds": 600}, headers=_bearer(first["token"])
    )
    assert resp.status_code == 200, resp.text
    second = resp.json()
    assert second["token"] != first["token"]
    assert second["expiresAt"] >= first["expiresAt"]
    cert = x509.load_pem_x509_certificate(second["servingCertificate"].encode())
    assert cert.public_key() == key.public_key()
    for token in (first["token"], second["token"]):  # the old one lives until it expires
        assert (await _whoami(http, token)).json()["status"]["userInfo"][
            "username"
        ] == "system:node:n1"

    message = _status(
        await http.post(RENEW, json={"csr": csr}, headers=_bearer(creds.join_token)), 401
    )
    assert "join again with the join token" in message

    # deleting the node's password Secret revokes it: no more renewals
    deleted = await http.delete(
        "/api/v1/namespaces/kube-system/secrets/n1.node-password.skiff",
        headers=_bearer(ADMIN_TOKEN),
    )
    assert deleted.status_code == 200
    message = _status(
        await http.post(RENEW, json={"csr": csr}, headers=_bearer(second["token"])), 403
    )
    assert "no longer registered" in message


async def test_expired_and_tampered_node_tokens_get_401(
    http: httpx.AsyncClient, creds: ServerCredentials
) -> None:
    body = (await _join(http, creds.join_token, lifetimeSeconds=1.5)).json()
    token = body["token"]
    head, _, mac = token.rpartition(".")
    tampered = f"{head}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"
    _status(await _whoami(http, tampered), 401)
    # the token works until its expiry, then never again
    assert body["expiresAt"] - body["issuedAt"] == pytest.approx(1.5)

    async def refused() -> bool:
        return (await _whoami(http, token)).status_code == 401

    await eventually(refused, within=5, interval=0.1, what="the node token to expire")
    _, csr = _csr()
    _status(await http.post(RENEW, json={"csr": csr}, headers=_bearer(token)), 401)


def test_node_token_authenticator_expiry_and_keys() -> None:
    now = [1000.0]
    nodes = NodeTokenAuthenticator(b"k" * 32, now=lambda: now[0])
    token, issued, expires = nodes.issue("n1", 60)
    assert (issued, expires) == (1000.0, 1060.0)
    user = nodes.verify(token)
    assert user is not None and user.name == "system:node:n1"
    now[0] = 1059.9
    assert nodes.verify(token) is not None
    now[0] = 1060.0
    assert nodes.verify(token) is None
    other = NodeTokenAuthenticator(b"x" * 32, now=lambda: 1000.0)
    assert other.verify(token) is None
    assert NodeTokenAuthenticator(None).verify(token) is None
    for junk in ("skiff-node.", "skiff-node.a.b", "skiff-node.%%%.%%%", "nope"):
        assert nodes.verify(junk) is None


async def test_a_second_api_server_sharing_the_store_accepts_node_tokens(
    creds: ServerCredentials,
) -> None:
    store = MemoryStore()
    servers: list[ApiServer] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        for _ in range(2):
            server = ApiServer(store, ApiServerConfig(port=0, tokens={}, **_join_settings(creds)))
            started = asyncio.Event()
            tasks.append(asyncio.create_task(server.run(started=started)))
            servers.append(server)
            await asyncio.wait_for(started.wait(), 15)
        async with (
            httpx.AsyncClient(base_url=server_url(servers[0]), timeout=20) as a,
            httpx.AsyncClient(base_url=server_url(servers[1]), timeout=20) as b,
        ):
            token = (await _join(a, creds.join_token)).json()["token"]
            who = await _whoami(b, token)
            assert who.json()["status"]["userInfo"]["username"] == "system:node:n1"
            # and the name is taken on both
            _status(await _join(b, creds.join_token, password="z" * 32), 403)
        key_secret = await servers[1].registry.get_object("Secret", "kube-system", KEY_SECRET)
        assert key_secret is not None
    finally:
        for server in servers:
            server.stop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(15):
                await asyncio.gather(*tasks, return_exceptions=True)
        await store.close()


async def test_lifetime_is_capped_by_the_server(creds: ServerCredentials) -> None:
    async with (
        in_process_apiserver(**_join_settings(creds, lifetime=100)) as server,
        httpx.AsyncClient(base_url=server_url(server), timeout=20) as http,
    ):
        body = (await _join(http, creds.join_token, lifetimeSeconds=10_000)).json()
        assert body["expiresAt"] - body["issuedAt"] == pytest.approx(100)
        cert = x509.load_pem_x509_certificate(body["servingCertificate"].encode())
        life = cert.not_valid_after_utc - dt.datetime.fromtimestamp(body["issuedAt"], dt.UTC)
        assert abs(life.total_seconds() - 100) < 2


def test_kubelet_client_ca_and_certificate_are_made_once(tmp_path: Path) -> None:
    first = ensure_credentials(tmp_path, host_addresses=list)
    ca = x509.load_pem_x509_certificate(first.kubelet_client_ca_path.read_bytes())
    cert = x509.load_pem_x509_certificate(first.kubelet_client_cert_path.read_bytes())
    cert.verify_directly_issued_by(ca)
    # its own CA, not the cluster's: a node's certificate can never pass as the API server's
    assert ca.subject != x509.load_pem_x509_certificate(first.ca_pem).subject
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    for path in (first.kubelet_client_key_path, tmp_path / "server/tls/kubelet-client-ca.key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = ensure_credentials(tmp_path, host_addresses=list)
    assert (
        again.kubelet_client_cert_path.read_bytes() == first.kubelet_client_cert_path.read_bytes()
    )
    assert again.kubelet_client_ca_path.read_bytes() == first.kubelet_client_ca_path.read_bytes()


def test_node_credential_lifetime_flag_takes_durations() -> None:
    from skiff.cmd.main import _parser

    def lifetime(*argv: str) -> float:
        return float(_parser().parse_args(["apiserver", *argv]).node_credential_lifetime)

    assert lifetime() == 30 * 86400
    assert lifetime("--node-credential-lifetime", "90") == 90
    assert lifetime("--node-credential-lifetime", "15m") == 900
    assert lifetime("--node-credential-lifetime=12h") == 12 * 3600
    for bad in ("0", "-5m", "inf", "soon"):
        with pytest.raises(SystemExit):
            lifetime("--node-credential-lifetime", bad)
