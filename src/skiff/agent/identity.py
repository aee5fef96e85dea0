"""Who a node agent is: joining with the cluster's token, and keeping its credentials fresh.

`join` turns the join token (``K10<sha256 of the cluster CA>::server:<secret>``, the server's
``<data-dir>/server/token``) into the agent's own credentials, k3s' way:

1. ``GET /cacerts`` without credentials and without trusting the answer yet; the CA's sha256 must
   equal the hash the token pins, or the agent stops there - before the token is sent anywhere;
2. a node password (made once, kept in ``cred_dir``) and a serving key (made once on this node;
   only its CSR leaves it) go with the token to ``POST /v1-skiff/node-credentials``, over TLS
   verified against that CA;
3. the answer - a bearer token for ``system:node:<name>``, the serving certificate, the cluster
   CA and the CA the agent endpoint requires of its clients (the API server's kubelet-client CA) -
   is written to ``cred_dir`` (`NodeCredentials` names the files).

Stored credentials are reused while at least a third of their lifetime is left and the serving
certificate names every node IP asked for; otherwise the agent joins again with the token (the same password proves it is the same node).
`CredentialRenewer` renews token and certificate at two thirds of their lifetime with the current
node token (``POST /v1-skiff/node-credentials/renew``) and rewrites the files atomically;
`client_config` reads the token through a file (``skiff.client.CachedTokenFile``), so clients pick
the new one up: give them a ``token_reload_period`` well under a third of the lifetime.

Layout of ``cred_dir`` (``<data-dir>/agent/<node>/cred``): ``ca.crt``, ``client-ca.crt``,
``token``, ``serving.crt``, ``serving.key``, ``node-password``, ``credentials.json`` (server,
node name, CA hash, issue and expiry times).
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from skiff.client import (
    ApiError,
    BadRequest,
    Client,
    ClientError,
    Config,
    Forbidden,
    TransportError,
    Unauthorized,
)
from skiff.util.clock import Clock, SystemClock

__all__ = [
    "CredentialRenewer",
    "JoinError",
    "NodeCredentials",
    "client_config",
    "join",
    "parse_token",
    "renew",
]

log = logging.getLogger("skiff.agent.identity")

CACERTS_PATH = "/cacerts"
CREDENTIALS_PATH = "/v1-skiff/node-credentials"
RENEW_PATH = "/v1-skiff/node-credentials/renew"
_META = "credentials.json"
# stored credentials are reused at start while at least this share of their lifetime is left
_REUSE_FRACTION = 1 / 3
# renewal happens once this share of the lifetime has passed
_RENEW_FRACTION = 2 / 3


class JoinError(Exception):
    """Joining or renewing failed; the message says what to fix.

    ``retryable``: the failure may pass by itself (server unreachable or starting); otherwise
    (wrong token, CA mismatch, name taken, credential revoked) retrying the same way is pointless.
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class NodeCredentials:
    """The agent's credentials as files in its ``cred_dir``.

    ``ca_file`` verifies the API server; ``token_file`` holds the bearer token for
    ``system:node:<name>`` (rewritten on renewal); ``serving_cert_file``/``serving_key_file`` are
    the agent endpoint's certificate (signed by the cluster CA) and key (made on this node);
    ``client_ca_file`` is the CA whose client certificates the agent endpoint accepts (the API
    server's kubelet-client CA); ``issued_at``/``expires_at`` are Unix times on this machine's
    clock: when the request for them was sent, plus the lifetime the server granted (so clock
    skew with the server never makes a renewal late).
    """

    node_name: str
    server: str
    ca_file: Path
    token_file: Path
    serving_cert_file: Path
    serving_key_file: Path
    client_ca_file: Path
    expires_at: float
    issued_at: float = 0.0

    @property
    def cred_dir(self) -> Path:
        return self.token_file.parent

    def renew_at(self) -> float:
        """When (Unix time) `CredentialRenewer` renews these credentials."""
        return self.issued_at + (self.expires_at - self.issued_at) * _RENEW_FRACTION


def parse_token(token: str) -> tuple[str, str]:
    """(the pinned CA's sha256 hex, the secret) of a ``K10<sha256>::<user>:<secret>`` token."""
    token = token.strip()
    if not token.startswith("K10") or "::" not in token:
        raise JoinError(
            "the join token must be the full token (K10<CA hash>::server:<secret>) from the "
            "server's <data-dir>/server/token: without the CA hash the server cannot be verified"
        )
    pinned, _, rest = token[3:].partition("::")
    secret = rest.rpartition(":")[2]
    if len(pinned) != 64 or any(c not in "0123456789abcdef" for c in pinned) or not secret:
        raise JoinError(
            "the join token is malformed: expected K10<64 hex digits>::server:<secret> as in "
            "the server's <data-dir>/server/token"
        )
    return pinned, secret


def _ca_hash(pem: bytes) -> str:
    """sha256 (hex) of the first certificate's DER, as the server's token pins it."""
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as e:
        raise JoinError(f"the server's /cacerts is not a PEM certificate: {e}") from None
    return hashlib.sha256(certs[0].public_bytes(serialization.Encoding.DER)).hexdigest()


def _write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``path`` atomically (a reader sees the old or the new content, never a mix)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _files(cred_dir: Path, node_name: str, server: str, meta: dict[str, Any]) -> NodeCredentials:
    return NodeCredentials(
        node_name=node_name,
        server=server,
        ca_file=cred_dir / "ca.crt",
        token_file=cred_dir / "token",
        serving_cert_file=cred_dir / "serving.crt",
        serving_key_file=cred_dir / "serving.key",
        client_ca_file=cred_dir / "client-ca.crt",
        expires_at=float(meta.get("expiresAt") or 0.0),
        issued_at=float(meta.get("issuedAt") or 0.0),
    )


def _read_meta(cred_dir: Path) -> dict[str, Any]:
    try:
        meta = orjson.loads((cred_dir / _META).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _stored(
    cred_dir: Path, server: str, node_name: str, pinned: str, node_ips: list[str], now: float
) -> NodeCredentials | None:
    """Stored credentials for this server, node and CA with a third of their life left, whose
    serving certificate names every one of ``node_ips``."""
    meta = _read_meta(cred_dir)
    if (meta.get("server"), meta.get("nodeName"), meta.get("caHash")) != (
        server,
        node_name,
        pinned,
    ):
        return None
    creds = _files(cred_dir, node_name, server, meta)
    files = (creds.ca_file, creds.token_file, creds.serving_cert_file, creds.serving_key_file)
    if not all(f.exists() for f in (*files, creds.client_ca_file)):
        return None
    lifetime = creds.expires_at - creds.issued_at
    if lifetime <= 0 or creds.expires_at - now < lifetime * _REUSE_FRACTION:
        return None
    named = {ipaddress.ip_address(ip) for ip in _csr_ips(creds.serving_cert_file)}
    try:
        wanted = {ipaddress.ip_address(ip) for ip in node_ips}
    except ValueError:
        return None  # the join reports the bad address
    if not wanted <= named:
        return None
    return creds


def _secret_file(path: Path, make: Callable[[], bytes]) -> bytes:
    """The content of a private file, made once."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        data = make()
        _write(path, data)
        return data


def _serving_key(path: Path) -> ec.EllipticCurvePrivateKey:
    pem = _secret_file(
        path,
        lambda: ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise JoinError(f"{path} is not an EC private key: remove it and start again")
    return key


def _csr(key: ec.EllipticCurvePrivateKey, node_name: str, node_ips: list[str]) -> str:
    names: list[x509.GeneralName] = [x509.DNSName(node_name)]
    for ip in dict.fromkeys(node_ips):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(ip)))
        except ValueError:
            raise JoinError(f"node IP {ip!r} is not an IP address") from None
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node_name}"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                ]
            )
        )
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def _csr_ips(cert_file: Path) -> list[str]:
    """The IP addresses the current serving certificate names (kept on renewal; empty when
    there is no readable certificate)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return []
    return [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]


async def _post(config: Config, path: str, body: dict[str, Any], what: str) -> dict[str, Any]:
    async with Client(config, max_retries=3, max_retry_wait=2.0, timeout=30.0) as client:
        try:
            resp = await client.request("POST", path, body=body)
        except (Unauthorized, Forbidden, BadRequest) as e:
            # the server's message says what to fix (token, node name, request)
            raise JoinError(f"{what} refused by {config.server}: {e.message}") from None
        except ApiError as e:
            raise JoinError(
                f"{what} failed at {config.server}: {e}", retryable=e.code >= 500 or e.code == 429
            ) from None
        except TransportError as e:
            raise JoinError(f"cannot reach {config.server} ({what}): {e}", retryable=True) from None
    try:
        answer = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict) or not isinstance(answer.get("token"), str):
        raise JoinError(f"{config.server} answered {what} with something that is not credentials")
    return answer


def _save(
    cred_dir: Path,
    server: str,
    node_name: str,
    pinned: str,
    answer: dict[str, Any],
    lifetime_seconds: float | None,
    now: float,
) -> NodeCredentials:
    """Write the server's answer to ``cred_dir``. Issue and expiry times are kept on this
    machine's clock (``now`` plus the lifetime the server granted), so renewal timing does not
    depend on the two clocks agreeing."""
    try:
        token = str(answer["token"])
        cert = str(answer["servingCertificate"]).encode()
        ca = str(answer["certificateAuthority"]).encode()
        client_ca = str(answer["clientCertificateAuthority"]).encode()
        issued, expires = float(answer["issuedAt"]), float(answer["expiresAt"])
    except (KeyError, TypeError, ValueError) as e:
        raise JoinError(f"{server} answered with incomplete credentials (missing {e})") from None
    if _ca_hash(ca) != pinned:
        raise JoinError(f"{server} handed out a CA other than the one the join token pins")
    meta = {
        "server": server,
        "nodeName": node_name,
        "caHash": pinned,
        "issuedAt": now,
        "expiresAt": now + max(0.0, expires - issued),
        "lifetimeSeconds": lifetime_seconds,
    }
    _write(cred_dir / "ca.crt", ca, 0o644)
    _write(cred_dir / "client-ca.crt", client_ca, 0o644)
    _write(cred_dir / "serving.crt", cert, 0o644)
    _write(cred_dir / "token", token.encode() + b"\n")
    _write(cred_dir / _META, orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    return _files(cred_dir, node_name, server, meta)


async def join(
    server: str,
    token: str,
    node_name: str,
    cred_dir: Path,
    *,
    node_ips: list[str],
    lifetime_seconds: float | None = None,
) -> NodeCredentials:
    """The agent's credentials: stored ones while fresh enough, else new ones for ``token``.

    ``node_ips`` go into the serving certificate; ``lifetime_seconds`` asks for credentials that
    live at most that long (the server's ``--node-credential-lifetime`` caps it). Raises
    `JoinError` saying what to fix.
    """
    server = server.rstrip("/")
    pinned, _secret = parse_token(token)
    stored = await asyncio.to_thread(_open_dir, cred_dir, server, node_name, pinned, node_ips)
    if stored is not None:
        log.info("using stored credentials for node %s (until %s)", node_name, _when(stored))
        return stored
    try:
        async with Client(
            Config(server=server, insecure_skip_tls_verify=True), max_retries=3, timeout=30.0
        ) as client:
            # nothing secret is sent: the CA is checked against the token before anything else
            ca_pem = await client.get_raw(CACERTS_PATH)
    except TransportError as e:
        raise JoinError(f"cannot reach {server} to fetch its CA: {e}", retryable=True) from None
    except ApiError as e:
        raise JoinError(
            f"{server} does not serve its CA at {CACERTS_PATH} ({e}): is it a skiff server?",
            retryable=e.code >= 500,
        ) from None
    except ClientError as e:
        raise JoinError(f"cannot fetch the CA of {server}: {e}", retryable=True) from None
    actual = _ca_hash(ca_pem)
    if actual != pinned:
        raise JoinError(
            f"the server at {server} has CA sha256 {actual}, but the join token pins {pinned}: "
            "the token belongs to another cluster, or something between here and the server "
            "is impersonating it. The token was not sent; use the token from that server's "
            "<data-dir>/server/token"
        )
    password, csr = await asyncio.to_thread(_node_secrets, cred_dir, node_name, node_ips)
    body: dict[str, Any] = {"nodeName": node_name, "nodePassword": password, "csr": csr}
    if lifetime_seconds is not None:
        body["lifetimeSeconds"] = lifetime_seconds
    sent = time.time()
    answer = await _post(
        Config(server=server, ca_data=ca_pem, token=token.strip()),
        CREDENTIALS_PATH,
        body,
        f"joining as node {node_name}",
    )
    creds = await asyncio.to_thread(
        _save, cred_dir, server, node_name, pinned, answer, lifetime_seconds, sent
    )
    log.info("joined %s as node %s (credentials until %s)", server, node_name, _when(creds))
    return creds


async def renew(creds: NodeCredentials, *, clock: Clock | None = None) -> NodeCredentials:
    """Fresh credentials for ``creds`` from the server, with the current node token; the files
    are rewritten (atomically each). `JoinError` when refused or unreachable. ``clock`` dates
    the new credentials (the renewer's clock)."""
    cred_dir = creds.cred_dir
    meta, ca_pem, token, csr = await asyncio.to_thread(_renewal_inputs, creds)
    pinned = str(meta.get("caHash") or _ca_hash(ca_pem))
    lifetime = meta.get("lifetimeSeconds")
    lifetime = float(lifetime) if isinstance(lifetime, int | float) else None
    body: dict[str, Any] = {"csr": csr}
    if lifetime is not None:
        body["lifetimeSeconds"] = lifetime
    sent = (clock or SystemClock()).time()
    answer = await _post(
        Config(server=creds.server, ca_data=ca_pem, token=token),
        RENEW_PATH,
        body,
        f"renewing the credentials of node {creds.node_name}",
    )
    return await asyncio.to_thread(
        _save, cred_dir, creds.server, creds.node_name, pinned, answer, lifetime, sent
    )


def _renewal_inputs(creds: NodeCredentials) -> tuple[dict[str, Any], bytes, str, str]:
    """What a renewal sends, read from the files: metadata, CA, current token, a new CSR."""
    key = _serving_key(creds.serving_key_file)
    csr = _csr(key, creds.node_name, _csr_ips(creds.serving_cert_file))
    token = creds.token_file.read_text().strip()
    return _read_meta(creds.cred_dir), creds.ca_file.read_bytes(), token, csr


def _open_dir(
    cred_dir: Path, server: str, node_name: str, pinned: str, node_ips: list[str]
) -> NodeCredentials | None:
    """Make ``cred_dir`` (private) and return the stored credentials if still fresh."""
    cred_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(cred_dir, 0o700)
    return _stored(cred_dir, server, node_name, pinned, node_ips, time.time())


def _node_secrets(cred_dir: Path, node_name: str, node_ips: list[str]) -> tuple[str, str]:
    """The node password (made once) and a CSR for the serving key (made once, kept here)."""
    password = _secret_file(cred_dir / "node-password", lambda: secrets.token_hex(32).encode())
    key = _serving_key(cred_dir / "serving.key")
    return password.decode().strip(), _csr(key, node_name, node_ips)


def client_config(creds: NodeCredentials) -> Config:
    """A client `Config` authenticating as the node; the token is read from ``token_file``
    (`skiff.client.CachedTokenFile`), so renewals are picked up without a new client."""
    return Config(
        server=creds.server,
        ca_data=creds.ca_file.read_bytes(),  # small, read once at start
        token_file=str(creds.token_file),
    )


def _when(creds: NodeCredentials) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(creds.expires_at))


class CredentialRenewer:
    """Renews a node's token and serving certificate at two thirds of their lifetime.

    `run` sleeps (on ``clock``) until `NodeCredentials.renew_at`, renews (`renew`), and starts
    over with the new credentials (`credentials`; ``on_renew`` is called with them, e.g. to reload
    the agent endpoint's certificate). A failure that may pass is retried with back-off (1 s
    doubling up to 30 s, never past the expiry); a refusal (the token expired or the node was
    revoked) ends `run` with `JoinError`: the agent must join again with the join token.
    """

    def __init__(
        self,
        creds: NodeCredentials,
        *,
        clock: Clock | None = None,
        on_renew: Callable[[NodeCredentials], None] | None = None,
    ) -> None:
        self.credentials = creds
        self.clock: Clock = clock or SystemClock()
        self.on_renew = on_renew
        self.renewals = 0
        """How many renewals succeeded (tests, statistics)."""

    async def run(self) -> None:
        backoff = 1.0
        while True:
            creds = self.credentials
            await self.clock.sleep(creds.renew_at() - self.clock.time())
            try:
                fresh = await renew(creds, clock=self.clock)
            except JoinError as e:
                left = creds.expires_at - self.clock.time()
                if not e.retryable or left <= 0:
                    log.error("node %s: %s", creds.node_name, e)
                    raise
                log.warning("node %s: renewal failed, retrying: %s", creds.node_name, e)
                await self.clock.sleep(min(backoff, max(left / 2, 0.1)))
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            self.credentials = fresh
            self.renewals += 1
            log.info("node %s: credentials renewed until %s", fresh.node_name, _when(fresh))
            if self.on_renew is not None:
                self.on_renew(fresh)
