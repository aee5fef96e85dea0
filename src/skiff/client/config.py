"""Client configuration: where the API server is and how to authenticate, from a kubeconfig or given.

`load_kubeconfig` reads the file format kubectl uses (``clusters``/``users``/``contexts``,
``current-context``) and resolves one context into a `Config`; relative file references are resolved
against the kubeconfig's directory, as client-go ``clientcmd`` does. `Config` can also be built
directly (tests, in-cluster use via `Config.in_cluster`). `Config.ssl_context` turns the TLS material
into an ``ssl.SSLContext`` for the transport.

`CachedTokenFile` is how `Client` reads a ``token_file``: the token is kept in memory and the file
re-read at most once per ``reload_period`` (60 s, as client-go's ``NewCachedFileTokenSource``,
``transport/token_source.go``), off the event loop (a worker thread), so a request never waits on
the disk; kubelet rotates projected service-account tokens well before they expire, so a minute of
staleness is harmless.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from skiff.client.errors import ConfigError
from skiff.util.clock import Clock, SystemClock

__all__ = ["CachedTokenFile", "Config", "load_kubeconfig"]

log = logging.getLogger(__name__)

_SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


@dataclass(frozen=True)
class Config:
    """Everything needed to reach and authenticate to one API server.

    ``ca_data``, ``client_cert_data`` and ``client_key_data`` are PEM bytes. ``token`` is used as
    given; ``token_file`` is read through a `CachedTokenFile` by `Client` (bound service-account
    tokens rotate).
    """

    server: str
    ca_data: bytes | None = None
    insecure_skip_tls_verify: bool = False
    token: str | None = None
    token_file: str | None = None
    client_cert_data: bytes | None = None
    client_key_data: bytes | None = None
    namespace: str = "default"
    tls_server_name: str | None = None

    def bearer_token(self) -> str | None:
        """The token to send, reading ``token_file`` now (synchronously; `Client` does not call this
        per request but keeps a `CachedTokenFile`)."""
        if self.token:
            return self.token
        if self.token_file:
            try:
                return Path(self.token_file).read_text().strip() or None
            except OSError as exc:
                raise ConfigError(f"cannot read token file {self.token_file}: {exc}") from exc
        return None

    def ssl_context(self) -> ssl.SSLContext:
        """TLS settings for httpx (plain ``http://`` servers get one too; it is simply unused)."""
        if self.insecure_skip_tls_verify:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.ca_data is not None:
            try:
                ctx = ssl.create_default_context(cadata=self.ca_data.decode())
            except (ssl.SSLError, ValueError) as exc:
                raise ConfigError(f"invalid certificate authority data: {exc}") from exc
        else:
            ctx = ssl.create_default_context()
        if self.client_cert_data is not None or self.client_key_data is not None:
            if self.client_cert_data is None or self.client_key_data is None:
                raise ConfigError("client certificate and key must be given together")
            _load_cert_chain(ctx, self.client_cert_data, self.client_key_data)
        return ctx

    @classmethod
    def in_cluster(cls, *, sa_dir: Path = _SA_DIR, env: Mapping[str, str] | None = None) -> Config:
        """The configuration a pod gets: ``KUBERNETES_SERVICE_HOST/PORT`` plus the mounted
        service-account token, CA and namespace (client-go ``rest.InClusterConfig``)."""
        env = os.environ if env is None else env
        host = env.get("KUBERNETES_SERVICE_HOST")
        port = env.get("KUBERNETES_SERVICE_PORT")
        if not host or not port:
            raise ConfigError("not running in a cluster: KUBERNETES_SERVICE_HOST/PORT unset")
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        token_file = sa_dir / "token"
        if not token_file.exists():
            raise ConfigError(f"service account token missing at {token_file}")
        ca_file = sa_dir / "ca.crt"
        ns_file = sa_dir / "namespace"
        return cls(
            server=f"https://{host}:{port}",
            ca_data=ca_file.read_bytes() if ca_file.exists() else None,
            token_file=str(token_file),
            namespace=ns_file.read_text().strip() if ns_file.exists() else "default",
        )


class CachedTokenFile:
    """A bearer token read from a file, cached and re-read at most every ``reload_period`` seconds.

    client-go ``cachingTokenSource`` over ``fileTokenSource``: the first `token` call reads the
    file; later calls return the cached token until ``reload_period`` of ``clock`` time has passed,
    then one caller re-reads it (in a worker thread) while concurrent callers wait for that read.
    If a re-read fails and a token is cached, the cached one is kept (and the failure logged) and
    the next call tries again, as client-go does; with nothing cached, `ConfigError` is raised.
    """

    def __init__(
        self, path: str, *, clock: Clock | None = None, reload_period: float = 60.0
    ) -> None:
        self.path = path
        self.reload_period = reload_period
        self.clock: Clock = clock or SystemClock()
        self.reads = 0
        """How many times the file was read (tests and statistics)."""
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str | None:
        """The current token (``None`` if the file is empty)."""
        if self._token is not None and self.clock.monotonic() < self._expires:
            return self._token or None
        async with self._lock:
            if self._token is not None and self.clock.monotonic() < self._expires:
                return self._token or None  # another caller reloaded it while we waited
            try:
                text = await asyncio.to_thread(self._read)
            except ConfigError:
                if self._token is None:
                    raise
                log.warning("keeping the cached token: cannot re-read %s", self.path)
                return self._token or None
            self._token = text.strip()
            self._expires = self.clock.monotonic() + self.reload_period
            return self._token or None

    def _read(self) -> str:
        self.reads += 1
        try:
            return Path(self.path).read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read token file {self.path}: {exc}") from exc


def _load_cert_chain(ctx: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    # ssl only loads certificates from files; write them to a private temporary directory that is
    # removed as soon as the context has read them.
    with tempfile.TemporaryDirectory(prefix="skiff-tls-") as tmp:
        cert_path = Path(tmp) / "client.crt"
        key_path = Path(tmp) / "client.key"
        cert_path.write_bytes(cert)
        key_path.touch(mode=0o600)
        key_path.write_bytes(key)
        try:
            ctx.load_cert_chain(str(cert_path), str(key_path))
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"invalid client certificate or key: {exc}") from exc


def _named(entries: Any, name: str, what: str, inner: str) -> dict[str, Any]:
    if not isinstance(entries, list):
        raise ConfigError(f"kubeconfig has no {what}s")
    for entry in entries:
        if isinstance(entry, dict) and entry.get("name") == name:
            body = entry.get(inner) or {}
            if not isinstance(body, dict):
                raise ConfigError(f"kubeconfig {what} {name!r} is malformed")
            return body
    raise ConfigError(f"kubeconfig has no {what} named {name!r}")


def _material(section: Mapping[str, Any], key: str, base: Path) -> bytes | None:
    """``<key>-data`` (base64) wins over ``<key>`` (a file path, relative to the kubeconfig)."""
    data = section.get(f"{key}-data")
    if data:
        try:
            return base64.b64decode(str(data), validate=True)
        except ValueError as exc:
            raise ConfigError(f"{key}-data is not valid base64") from exc
    path = section.get(key)
    if path:
        full = Path(os.path.expanduser(str(path)))
        if not full.is_absolute():
            full = base / full
        try:
            return full.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read {key} {full}: {exc}") from exc
    return None


def load_kubeconfig(
    path: str | os.PathLike[str] | None = None, *, context: str | None = None
) -> Config:
    """Load one context of a kubeconfig into a `Config`.

    ``path`` defaults to the first entry of ``$KUBECONFIG`` or ``~/.kube/config``; ``context`` defaults
    to ``current-context``. Raises `ConfigError` on any missing or malformed piece.
    """
    if path is None:
        env = os.environ.get("KUBECONFIG", "")
        first = next((p for p in env.split(os.pathsep) if p), "")
        path = first or os.path.expanduser("~/.kube/config")
    file = Path(path)
    try:
        doc = yaml.safe_load(file.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read kubeconfig {file}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"kubeconfig {file} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"kubeconfig {file} is empty or not a mapping")
    base = file.parent
    name = context or doc.get("current-context")
    if not name:
        raise ConfigError("kubeconfig has no current-context and no context was given")
    ctx = _named(doc.get("contexts"), str(name), "context", "context")
    cluster_name = ctx.get("cluster")
    if not cluster_name:
        raise ConfigError(f"context {name!r} names no cluster")
    cluster = _named(doc.get("clusters"), str(cluster_name), "cluster", "cluster")
    user_name = ctx.get("user")
    user = _named(doc.get("users"), str(user_name), "user", "user") if user_name else {}
    server = cluster.get("server")
    if not server:
        raise ConfigError(f"cluster {cluster_name!r} has no server")
    token_file = user.get("tokenFile")
    if token_file and not Path(str(token_file)).is_absolute():
        token_file = str(base / str(token_file))
    return Config(
        server=str(server).rstrip("/"),
        ca_data=_material(cluster, "certificate-authority", base),
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify", False)),
        token=str(user["token"]) if user.get("token") else None,
        token_file=str(token_file) if token_file else None,
        client_cert_data=_material(user, "client-certificate", base),
        client_key_data=_material(user, "client-key", base),
        namespace=str(ctx.get("namespace") or "default"),
        tls_server_name=str(cluster["tls-server-name"]) if cluster.get("tls-server-name") else None,
    )
