"""Cluster TLS material and credentials written on first start and reused afterwards.

Layout under ``<data-dir>/server``:

- ``tls/ca.crt``, ``tls/ca.key``: the cluster CA (EC P-256, 10 years).
- ``tls/serving.crt``, ``tls/serving.key``: the API server's certificate, signed by the CA, for
  127.0.0.1, localhost, the hostname, every address of the host's interfaces (read from the kernel
  over netlink, never by DNS or an outbound connection; link-local ones left out), the
  bind/advertise addresses, the ``kubernetes`` Service's ClusterIP, ``--tls-san`` names and
  ``kubernetes.default.svc(.cluster.local)``, so the cluster can be reached by any of the host's
  addresses without ``--tls-san``, as k3s does. It is re-issued on start (and by the running
  server's renewer) when it expires within 90 days or misses a wanted name - such as an address
  the host gained since - so certificates never lapse while the server restarts now and then.
- ``tls/kubelet-client-ca.crt``, ``tls/kubelet-client-ca.key``: a CA of its own for one purpose:
  node agents' HTTPS endpoints accept only client certificates it signed (kube-apiserver's
  ``--kubelet-client-certificate`` is checked by kubelet's ``--client-ca-file``).
- ``tls/kubelet-client.crt``, ``tls/kubelet-client.key``: the API server's client certificate for
  agents, signed by that CA (CN ``skiff-apiserver-kubelet-client``, O ``system:masters``), re-issued
  like the serving certificate when it nears its end.
- ``cred/encryption.key``: the AES-256 key Secrets are encrypted with at rest.
- ``cred/admin.token``: the admin bearer token (user ``system:admin``, group ``system:masters``).
- ``token``: the join token for agents, k3s-style ``K10<sha256 of the CA cert>::server:<secret>``.
- ``admin.kubeconfig``: server URL, CA data and the admin token.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import os
import secrets
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "ServerCredentials",
    "ca_hash",
    "ensure_credentials",
    "interface_addresses",
    "issue_certificate",
    "load_ca",
    "sign_certificate",
    "write_kubeconfig",
]

_RENEW_BEFORE = dt.timedelta(days=90)
_SERVING_LIFETIME = dt.timedelta(days=365)
_CA_LIFETIME = dt.timedelta(days=3650)


@dataclass(frozen=True)
class ServerCredentials:
    ca_cert_path: Path
    ca_key_path: Path
    cert_path: Path
    key_path: Path
    admin_token: str
    join_token: str
    ca_pem: bytes
    encryption_key: bytes
    kubelet_client_ca_path: Path
    kubelet_client_cert_path: Path
    kubelet_client_key_path: Path


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _new_ca(prefix: str = "skiff-ca") -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, f"{prefix}@{int(_now().timestamp())}")]
    )
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _CA_LIFETIME)
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


# netlink (rtnetlink(7)): ask the kernel for every interface address, as `ip address` does
_NLMSG_HDR = struct.Struct("=IHHII")  # length, type, flags, sequence, port id
_IFADDRMSG = struct.Struct("=BBBBI")  # family, prefix length, flags, scope, interface index
_RTATTR = struct.Struct("=HH")  # length, type
_RTM_NEWADDR, _RTM_GETADDR = 20, 22
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_NLM_F_REQUEST, _NLM_F_DUMP = 0x1, 0x300
_IFA_ADDRESS, _IFA_LOCAL = 1, 2


def _align(n: int) -> int:
    return (n + 3) & ~3


def _addresses_from_dump(data: bytes) -> tuple[list[str], bool]:
    """The addresses in one read of an RTM_GETADDR dump, and whether the dump ended."""
    out: list[str] = []
    offset = 0
    while offset + _NLMSG_HDR.size <= len(data):
        length, kind, _flags, _seq, _pid = _NLMSG_HDR.unpack_from(data, offset)
        if length < _NLMSG_HDR.size:
            return out, True
        if kind == _NLMSG_DONE:
            return out, True
        if kind == _NLMSG_ERROR:
            raise OSError("netlink refused the address dump")
        if kind == _RTM_NEWADDR:
            body = offset + _NLMSG_HDR.size
            family = _IFADDRMSG.unpack_from(data, body)[0]
            attrs: dict[int, bytes] = {}
            at = body + _align(_IFADDRMSG.size)
            while at + _RTATTR.size <= offset + length:
                alen, atype = _RTATTR.unpack_from(data, at)
                if alen < _RTATTR.size:
                    break
                attrs[atype] = data[at + _RTATTR.size : at + alen]
                at += _align(alen)
            # IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on
            # point-to-point links and the same as IFA_LOCAL elsewhere (IPv6 has IFA_ADDRESS only)
            raw = attrs.get(_IFA_LOCAL) or attrs.get(_IFA_ADDRESS)
            if raw is not None and family in (socket.AF_INET, socket.AF_INET6):
                out.append(socket.inet_ntop(family, raw))
        offset += _align(length)
    return out, False


def interface_addresses() -> list[str]:
    """Every address on this host's interfaces (loopback included, link-local left out).

    Read from the kernel over a netlink socket, the way ``ip address`` lists them: no DNS, no
    outbound connection. Empty where netlink is unavailable (not Linux).
    """
    if not hasattr(socket, "AF_NETLINK"):
        return []
    found: list[str] = []
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0) as sock:  # 0: NETLINK_ROUTE
            sock.settimeout(2)
            sock.bind((0, 0))
            request = _NLMSG_HDR.pack(
                _NLMSG_HDR.size + _IFADDRMSG.size,
                _RTM_GETADDR,
                _NLM_F_REQUEST | _NLM_F_DUMP,
                1,
                0,
            ) + _IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
            sock.send(request)
            done = False
            while not done:
                batch, done = _addresses_from_dump(sock.recv(65536))
                found.extend(batch)
    except OSError:
        return []
    out: list[str] = []
    for text in found:
        if not ipaddress.ip_address(text).is_link_local and text not in out:
            out.append(text)
    return out


def _wanted_names(extra_ips: list[str], extra_dns: list[str]) -> tuple[set[str], set[str]]:
    dns = {
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        socket.gethostname(),
        *extra_dns,
    }
    ips = {"127.0.0.1", "10.43.0.1", *extra_ips}
    ips.discard("0.0.0.0")
    ips.discard("::")
    return dns, ips


def _serving_ok(
    path: Path,
    dns: set[str],
    ips: set[str],
    ca: x509.Certificate,
    renew_before: dt.timedelta = _RENEW_BEFORE,
) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    if cert.issuer != ca.subject or cert.not_valid_after_utc - _now() < renew_before:
        return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have_dns = set(san.get_values_for_type(x509.DNSName))
    have_ips = {str(i) for i in san.get_values_for_type(x509.IPAddress)}
    return dns <= have_dns and ips <= have_ips


def _ensure_ca(
    cert_path: Path, key_path: Path, prefix: str
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """Load the CA at ``cert_path``/``key_path``, or make and write a new one."""
    if cert_path.exists() and key_path.exists():
        return load_ca(cert_path, key_path)
    ca, key = _new_ca(prefix)
    _write_private(key_path, _key_pem(key))
    _write_private(cert_path, ca.public_bytes(serialization.Encoding.PEM))
    return ca, key


def _client_ok(path: Path, ca: x509.Certificate, renew_before: dt.timedelta) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    return cert.issuer == ca.subject and cert.not_valid_after_utc - _now() >= renew_before


def issue_certificate(
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    *,
    common_name: str,
    dns: set[str] | None = None,
    ips: set[str] | None = None,
    organizations: tuple[str, ...] = (),
    server: bool = True,
    client: bool = False,
    lifetime: dt.timedelta = _SERVING_LIFETIME,
) -> tuple[bytes, bytes]:
    """A new key and certificate signed by the cluster CA, as PEM (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = sign_certificate(
        ca,
        ca_key,
        key.public_key(),
        common_name=common_name,
        dns=dns,
        ips=ips,
        organizations=organizations,
        server=server,
        client=client,
        lifetime=lifetime,
    )
    return cert, _key_pem(key)


def sign_certificate(
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    public_key: CertificatePublicKeyTypes,
    *,
    common_name: str,
    dns: set[str] | None = None,
    ips: set[str] | None = None,
    organizations: tuple[str, ...] = (),
    server: bool = True,
    client: bool = False,
    lifetime: dt.timedelta = _SERVING_LIFETIME,
) -> bytes:
    """A certificate (PEM) for ``public_key`` - a new key's, or a CSR's whose private key never
    reaches this process - signed by ``ca``."""
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    now = _now()
    usages = []
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attrs))
        .issuer_name(ca.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + lifetime)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in sorted(dns or ())]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in sorted(ips or ())]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM)


def load_ca(cert_path: Path, key_path: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The CA certificate and its EC private key from PEM files."""
    ca = x509.load_pem_x509_certificate(cert_path.read_bytes())
    loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{key_path}: expected an EC private key")
    return ca, loaded


def ca_hash(ca_pem: bytes) -> str:
    """sha256 of the CA certificate (DER), hex: what the join token pins."""
    cert = x509.load_pem_x509_certificate(ca_pem)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def ensure_credentials(
    data_dir: Path,
    *,
    extra_ips: list[str] | None = None,
    extra_dns: list[str] | None = None,
    serving_lifetime: dt.timedelta = _SERVING_LIFETIME,
    renew_before: dt.timedelta = _RENEW_BEFORE,
    host_addresses: Callable[[], list[str]] | None = None,
) -> ServerCredentials:
    """Create (first start) or load (restart) the CA, serving certificate and tokens.

    The serving certificate is re-issued when it expires within ``renew_before`` or misses a
    wanted name (``extra_ips``, ``extra_dns``, the standard names and whatever
    ``host_addresses()``, by default `interface_addresses`, finds now); a running server calls this periodically
    (``ApiServerConfig.cert_renewer``) and loads the new certificate without restarting.
    """
    server_dir = data_dir / "server"
    tls_dir = server_dir / "tls"
    tls_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(server_dir, 0o700)
    ca_cert_path, ca_key_path = tls_dir / "ca.crt", tls_dir / "ca.key"
    ca, ca_key = _ensure_ca(ca_cert_path, ca_key_path, "skiff-ca")
    host = (host_addresses or interface_addresses)()
    dns, ips = _wanted_names([*host, *(extra_ips or [])], extra_dns or [])
    cert_path, key_path = tls_dir / "serving.crt", tls_dir / "serving.key"
    if not (key_path.exists() and _serving_ok(cert_path, dns, ips, ca, renew_before)):
        cert_pem, key_pem = issue_certificate(
            ca,
            ca_key,
            common_name="skiff-apiserver",
            dns=dns,
            ips=ips,
            lifetime=serving_lifetime,
        )
        _write_private(key_path, key_pem)
        _write_private(cert_path, cert_pem)
    kc_ca_path = tls_dir / "kubelet-client-ca.crt"
    kc_ca, kc_ca_key = _ensure_ca(
        kc_ca_path, tls_dir / "kubelet-client-ca.key", "skiff-kubelet-client-ca"
    )
    kc_cert_path, kc_key_path = tls_dir / "kubelet-client.crt", tls_dir / "kubelet-client.key"
    if not (kc_key_path.exists() and _client_ok(kc_cert_path, kc_ca, renew_before)):
        cert_pem, key_pem = issue_certificate(
            kc_ca,
            kc_ca_key,
            common_name="skiff-apiserver-kubelet-client",
            organizations=("system:masters",),
            server=False,
            client=True,
        )
        _write_private(kc_key_path, key_pem)
        _write_private(kc_cert_path, cert_pem)
    admin_path = server_dir / "cred" / "admin.token"
    if admin_path.exists():
        admin_token = admin_path.read_text().strip()
    else:
        admin_token = secrets.token_hex(24)
        _write_private(admin_path, admin_token.encode() + b"\n")
    ca_pem = ca_cert_path.read_bytes()
    join_path = server_dir / "token"
    if join_path.exists():
        join_token = join_path.read_text().strip()
    else:
        join_token = f"K10{ca_hash(ca_pem)}::server:{secrets.token_hex(16)}"
        _write_private(join_path, join_token.encode() + b"\n")
    enc_path = server_dir / "cred" / "encryption.key"
    if enc_path.exists():
        encryption_key = base64.b64decode(enc_path.read_text().strip())
    else:
        encryption_key = secrets.token_bytes(32)
        _write_private(enc_path, base64.b64encode(encryption_key) + b"\n")
    return ServerCredentials(
        encryption_key=encryption_key,
        ca_cert_path=ca_cert_path,
        ca_key_path=ca_key_path,
        cert_path=cert_path,
        key_path=key_path,
        admin_token=admin_token,
        join_token=join_token,
        ca_pem=ca_pem,
        kubelet_client_ca_path=kc_ca_path,
        kubelet_client_cert_path=kc_cert_path,
        kubelet_client_key_path=kc_key_path,
    )


def write_kubeconfig(
    path: Path, *, server: str, ca_pem: bytes, token: str, user: str = "admin"
) -> None:
    """Write a kubeconfig naming one cluster, one user and one current context, all ``skiff``."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "skiff",
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": "skiff", "context": {"cluster": "skiff", "user": user}}],
        "current-context": "skiff",
        "preferences": {},
    }
    _write_private(path, yaml.safe_dump(config, sort_keys=False).encode())
