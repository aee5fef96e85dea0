"""How node agents join: the cluster CA for anyone, and node credentials for the join token.

Three endpoints outside the Kubernetes API (k3s serves the same shapes under its own paths):

- ``GET /cacerts`` (no authentication): the cluster CA, PEM. An agent compares its sha256 with
  the hash its join token pins (``K10<sha256>::server:<secret>``) before it sends the token
  anywhere, so a server with another CA never sees it.
- ``POST /v1-skiff/node-credentials``, ``Authorization: Bearer <join token>``, body
  ``{"nodeName", "nodePassword", "csr", "lifetimeSeconds"?}``: the first join of a name stores a
  hash of its password (Secret ``<node>.node-password.skiff`` in kube-system, k3s'
  ``<node>.node-password.k3s``); a later join of that name must bring the same password, so
  another machine cannot take over a registered node (403). The answer (`credentials`) carries a
  bearer token for ``system:node:<name>`` (groups ``system:nodes``, ``system:authenticated``)
  valid ``lifetime`` seconds (``--node-credential-lifetime``; a shorter ``lifetimeSeconds`` asked
  for is honoured), the agent's serving certificate signed by the cluster CA from the CSR (the
  node's key never leaves the node), the cluster CA, and the CA whose client certificates the
  agent's endpoint must require (the API server's kubelet-client CA).
- ``POST /v1-skiff/node-credentials/renew``, ``Authorization: Bearer <node token>``, body
  ``{"csr", "lifetimeSeconds"?}``: the same answer with a fresh token and certificate. The join
  token is not accepted here, and a node whose password Secret was deleted cannot renew (it must
  join again), which is how an administrator revokes a node.

Node tokens are HMAC-signed (`skiff.apiserver.auth.NodeTokenAuthenticator`) with a key kept in
the store (Secret ``kube-system/skiff-node-token-key``, encrypted at rest like every Secret),
created by the first API server to start and read by the others, so every API server sharing the
store verifies every node token without a lookup.

Limitation shared with k3s: the serving certificate names whatever addresses the CSR asks for,
and the API server's own certificate comes from the same CA, so a node could present a
certificate for an API server address. Node credentials are powerful until RBAC (a Node
authorizer and NodeRestriction) arrives.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import logging
import secrets
from pathlib import Path
from typing import Any

import orjson
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.requests import Request
from starlette.responses import Response

from skiff.api import resources as kinds
from skiff.api.validation.names import is_dns1123_subdomain
from skiff.apiserver import params
from skiff.apiserver.auth import NodeTokenAuthenticator, UserInfo
from skiff.apiserver.errors import AlreadyExistsError, ApiError, NotFoundError, bad_request
from skiff.apiserver.registry import Registry, RequestContext
from skiff.apiserver.tls import ca_hash, load_ca, sign_certificate

__all__ = [
    "CACERTS_PATH",
    "CREDENTIALS_PATH",
    "KEY_SECRET",
    "PATHS",
    "RENEW_PATH",
    "NodeJoin",
    "password_secret_name",
]

log = logging.getLogger("skiff.apiserver.nodejoin")

CACERTS_PATH = "/cacerts"
CREDENTIALS_PATH = "/v1-skiff/node-credentials"
RENEW_PATH = "/v1-skiff/node-credentials/renew"
PATHS = frozenset({CACERTS_PATH, CREDENTIALS_PATH, RENEW_PATH})
KEY_SECRET = "skiff-node-token-key"
_NAMESPACE = "kube-system"
_PASSWORD_SUFFIX = ".node-password.skiff"
_PASSWORD_TYPE = "skiff.io/node-password"
_MAX_NAME = 253 - len(_PASSWORD_SUFFIX)
_MAX_SANS = 32
_SYSTEM = UserInfo("system:apiserver", ("system:masters",))
# scrypt parameters (RFC 7914's interactive-login example): ~50 ms and 16 MiB per check
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def password_secret_name(node: str) -> str:
    """The kube-system Secret holding ``node``'s password hash."""
    return f"{node}{_PASSWORD_SUFFIX}"


def _hash_password(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "Unauthorized", message)


def _forbidden(message: str) -> ApiError:
    return ApiError(403, "Forbidden", message)


def _bearer(request: Request) -> str:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _split_join_token(token: str) -> tuple[str, str]:
    """(CA hash or "", secret) of ``K10<hash>::<user>:<secret>`` or of a bare secret."""
    if token.startswith("K10") and "::" in token:
        pinned, _, rest = token[3:].partition("::")
        _user, _, secret = rest.rpartition(":")
        return pinned, secret
    return "", token


class NodeJoin:
    """The join endpoints of one API server (see the module docstring).

    ``join_token`` is the cluster's token (``<data-dir>/server/token``); ``ca_cert_file`` and
    ``ca_key_file`` the cluster CA, which signs agents' serving certificates; ``client_ca_file``
    the kubelet-client CA handed to agents; ``lifetime`` the longest a node credential lives.
    """

    def __init__(
        self,
        registry: Registry,
        nodes: NodeTokenAuthenticator,
        *,
        join_token: str,
        ca_cert_file: str,
        ca_key_file: str,
        client_ca_file: str,
        lifetime: float,
    ) -> None:
        self.registry = registry
        self.nodes = nodes
        self.lifetime = lifetime
        self._ca, self._ca_key = load_ca(Path(ca_cert_file), Path(ca_key_file))
        self._ca_pem = Path(ca_cert_file).read_bytes()
        self._ca_hash = ca_hash(self._ca_pem)
        self._client_ca_pem = Path(client_ca_file).read_bytes()
        self._pinned, self._secret = _split_join_token(join_token)
        if not self._secret:
            raise ValueError("the join token has no secret")

    # ------------------------------------------------------------------ bootstrap

    async def load_key(self) -> None:
        """Read the node-token signing key from the store, creating it on the first start."""
        info = kinds.by_resource("", "v1", "secrets")
        assert info is not None
        ctx = RequestContext(user=_SYSTEM, field_manager="skiff-apiserver")
        try:
            secret = await self.registry.get(info, _NAMESPACE, KEY_SECRET)
        except NotFoundError:
            body = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": KEY_SECRET, "namespace": _NAMESPACE},
                "type": "skiff.io/node-token-key",
                "data": {"key": base64.b64encode(secrets.token_bytes(32)).decode()},
            }
            try:
                secret = await self.registry.create(info, _NAMESPACE, body, ctx)
            except AlreadyExistsError:  # another API server made it first: use theirs
                secret = await self.registry.get(info, _NAMESPACE, KEY_SECRET)
        key = base64.b64decode(str((secret.get("data") or {}).get("key") or ""))
        if len(key) < 32:
            raise RuntimeError(
                f"Secret {_NAMESPACE}/{KEY_SECRET} holds no usable node-token key; delete it "
                "and restart the API servers (every node then joins again)"
            )
        self.nodes.set_key(key)

    # ------------------------------------------------------------------ HTTP

    async def handle(self, request: Request) -> Response:
        """Answer one of `PATHS`; failures raise `ApiError` (the app writes the Status)."""
        path = request.scope["path"]
        if path == CACERTS_PATH:
            if request.method not in ("GET", "HEAD"):
                raise ApiError(405, "MethodNotAllowed", f"{path} answers GET only")
            return Response(self._ca_pem, 200, media_type="application/x-pem-file")
        if request.method != "POST":
            raise ApiError(405, "MethodNotAllowed", f"{path} answers POST only")
        if not self.nodes.ready:
            raise ApiError(
                503,
                "ServiceUnavailable",
                "the API server is starting; retry shortly",
                headers={"Retry-After": "1"},
            )
        if path == CREDENTIALS_PATH:
            body = await self._join(request)
        else:
            body = await self._renew(request)
        return Response(orjson.dumps(body), 200, media_type="application/json")

    async def _join(self, request: Request) -> dict[str, Any]:
        self._check_join_token(_bearer(request))
        body = await _body(request)
        node = body.get("nodeName")
        if not isinstance(node, str) or not node:
            raise bad_request("nodeName is required")
        problems = is_dns1123_subdomain(node)
        if problems or len(node) > _MAX_NAME:
            raise bad_request(
                f"nodeName {node!r} is not a valid node name: "
                + ("; ".join(problems) or f"must be no more than {_MAX_NAME} characters")
            )
        password = body.get("nodePassword")
        if not isinstance(password, str) or not 16 <= len(password) <= 1024:
            raise bad_request("nodePassword must be a string of 16 to 1024 characters")
        csr = _load_csr(body.get("csr"))
        lifetime = self._lifetime(body.get("lifetimeSeconds"))
        await self._check_password(node, password)
        log.info("node %s joined", node)
        return self._credentials(node, csr, lifetime)

    async def _renew(self, request: Request) -> dict[str, Any]:
        user = self.nodes.verify(_bearer(request))
        if user is None:
            raise _unauthorized(
                "the node token is missing, invalid or expired: renewal needs a current node "
                "token; join again with the join token (start the agent with --token)"
            )
        node = user.name.removeprefix("system:node:")
        body = await _body(request)
        csr = _load_csr(body.get("csr"))
        lifetime = self._lifetime(body.get("lifetimeSeconds"))
        info = kinds.by_resource("", "v1", "secrets")
        assert info is not None
        try:
            await self.registry.get(info, _NAMESPACE, password_secret_name(node))
        except NotFoundError:
            raise _forbidden(
                f"node {node} is no longer registered (Secret {_NAMESPACE}/"
                f"{password_secret_name(node)} was deleted): join again with the join token"
            ) from None
        return self._credentials(node, csr, lifetime)

    # ------------------------------------------------------------------ checks

    def _check_join_token(self, given: str) -> None:
        if not given:
            raise _unauthorized(
                "a join token is required (Authorization: Bearer <token>); it is in "
                "<data-dir>/server/token on a server"
            )
        pinned, secret = _split_join_token(given)
        if pinned and pinned != self._ca_hash:
            raise _unauthorized(
                "the join token pins another cluster CA (sha256 "
                f"{pinned[:16]}..., this cluster's is {self._ca_hash[:16]}...): use the token "
                "from this cluster's <data-dir>/server/token"
            )
        if not hmac.compare_digest(secret.encode(), self._secret.encode()):
            raise _unauthorized(
                "the join token is not valid for this cluster: use the token from "
                "<data-dir>/server/token on one of its servers"
            )

    def _lifetime(self, asked: Any) -> float:
        if asked is None:
            return self.lifetime
        if isinstance(asked, bool) or not isinstance(asked, int | float) or asked <= 0:
            raise bad_request("lifetimeSeconds must be a positive number")
        return min(float(asked), self.lifetime)

    async def _check_password(self, node: str, password: str) -> None:
        """Store ``node``'s password hash on its first join; refuse another password later."""
        info = kinds.by_resource("", "v1", "secrets")
        assert info is not None
        name = password_secret_name(node)
        try:
            secret: dict[str, Any] | None = await self.registry.get(info, _NAMESPACE, name)
        except NotFoundError:
            secret = None
        if secret is None:
            salt = secrets.token_bytes(16)
            digest = await asyncio.to_thread(_hash_password, password, salt)
            body = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name, "namespace": _NAMESPACE},
                "type": _PASSWORD_TYPE,
                "data": {
                    "salt": base64.b64encode(salt).decode(),
                    "hash": base64.b64encode(digest).decode(),
                },
            }
            ctx = RequestContext(user=_SYSTEM, field_manager="skiff-apiserver")
            try:
                await self.registry.create(info, _NAMESPACE, body, ctx)
                return
            except AlreadyExistsError:  # the same name joined at the same moment elsewhere
                secret = await self.registry.get(info, _NAMESPACE, name)
        data = secret.get("data") or {}
        try:
            salt = base64.b64decode(str(data.get("salt") or ""))
            want = base64.b64decode(str(data.get("hash") or ""))
        except ValueError:
            salt, want = b"", b""
        got = await asyncio.to_thread(_hash_password, password, salt) if salt else b""
        if not want or not hmac.compare_digest(got, want):
            raise _forbidden(
                f"node name {node} is already registered by another machine (its password "
                f"does not match Secret {_NAMESPACE}/{name}); start this agent with another "
                "--node-name, or delete that Secret if the old machine is gone for good"
            )

    # ------------------------------------------------------------------ answer

    def _credentials(
        self, node: str, csr: x509.CertificateSigningRequest, lifetime: float
    ) -> dict[str, Any]:
        token, issued, expires = self.nodes.issue(node, lifetime)
        dns = {node}
        ips: set[str] = set()
        try:
            san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            san = None
        if san is not None:
            dns |= set(san.get_values_for_type(x509.DNSName))
            ips |= {str(i) for i in san.get_values_for_type(x509.IPAddress)}
        if len(dns) + len(ips) > _MAX_SANS:
            raise bad_request(f"the CSR asks for more than {_MAX_SANS} names")
        bad = sorted(d for d in dns if is_dns1123_subdomain(d))
        if bad:
            raise bad_request(f"the CSR names invalid DNS names: {', '.join(bad)}")
        cert = sign_certificate(
            self._ca,
            self._ca_key,
            csr.public_key(),
            common_name=f"system:node:{node}",
            organizations=("system:nodes",),
            dns=dns,
            ips=ips,
            server=True,
            lifetime=dt.timedelta(seconds=lifetime),
        )
        return {
            "kind": "NodeCredentials",
            "apiVersion": "skiff.io/v1",
            "nodeName": node,
            "user": f"system:node:{node}",
            "token": token,
            "issuedAt": issued,
            "expiresAt": expires,
            "expirationTimestamp": dt.datetime.fromtimestamp(expires, dt.UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "servingCertificate": cert.decode(),
            "certificateAuthority": self._ca_pem.decode(),
            "clientCertificateAuthority": self._client_ca_pem.decode(),
        }


async def _body(request: Request) -> dict[str, Any]:
    raw = await params.read_body(request)
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as e:
        raise bad_request(f"the request body is not valid JSON: {e}") from None
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    return body


def _load_csr(text: Any) -> x509.CertificateSigningRequest:
    if not isinstance(text, str) or not text:
        raise bad_request("csr (a PEM certificate signing request for the agent's key) is required")
    try:
        csr = x509.load_pem_x509_csr(text.encode())
    except ValueError as e:
        raise bad_request(f"csr is not a PEM certificate signing request: {e}") from None
    if not csr.is_signature_valid:
        raise bad_request("csr's signature does not match its public key")
    key = csr.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size < 256:
            raise bad_request("csr's EC key must be P-256 or stronger")
    elif isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise bad_request("csr's RSA key must have at least 2048 bits")
    else:
        raise bad_request("csr's key must be an EC (P-256 or stronger) or RSA key")
    for ip in _csr_ips(csr):
        if ip.is_unspecified or ip.is_multicast:
            raise bad_request(f"csr names an address no node can have: {ip}")
    return csr


def _csr_ips(
    csr: x509.CertificateSigningRequest,
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [
        ip
        for ip in san.get_values_for_type(x509.IPAddress)
        if not isinstance(ip, ipaddress.IPv4Network | ipaddress.IPv6Network)
    ]
