"""Registry settings (k3s' ``registries.yaml`` shape) and the offline policy.

The file::

    mirrors:
      docker.io:
        endpoint: ["http://127.0.0.1:5000", "https://mirror.example.com"]
    configs:
      mirror.example.com:
        auth: {username: u, password: p}        # or auth: <base64 user:pass>, identity_token
        tls: {insecure_skip_verify: false, ca_file: ..., cert_file: ..., key_file: ...}
    allow: [registry.example.com]               # skiff: registries pulls may reach
    insecure: [registry.lan:5000]               # skiff: plain HTTP for these hosts

(k3s documents ``mirrors`` and ``configs``:
https://docs.k3s.io/installation/private-registry; ``allow`` and ``insecure`` are skiff's.)

`RegistryPolicy.endpoints` is the one place that decides where a pull may go. It looks only at the
reference's text - never at DNS - so a refused pull raises `ImageNotAllowed` before any lookup or
connection:

- offline: only loopback endpoints (127.0.0.0/8, ::1, ``localhost``) and allowlisted hosts;
- an allowlist alone (online) restricts pulls to loopback and the listed hosts;
- a mirror that is allowed is used even when the registry it stands in for is not (so ``docker.io``
  mirrored to a registry on 127.0.0.1 works offline).

Plain HTTP is used for loopback registries, the ``insecure`` hosts and ``http://`` mirror
endpoints; HTTPS everywhere else.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from skiff.runtime.images.base import ImageNotAllowed, RegistryAuth
from skiff.runtime.images.reference import DOCKER_HUB

__all__ = [
    "Endpoint",
    "PolicyError",
    "RegistryConfig",
    "RegistryPolicy",
    "TLSConfig",
    "auths_from_docker_config",
    "is_loopback_host",
    "registry_key",
]

DOCKER_HUB_ENDPOINT = "registry-1.docker.io"


class PolicyError(ValueError):
    """A registries.yaml that cannot be used; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class TLSConfig:
    insecure_skip_verify: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    auth: RegistryAuth | None = None
    tls: TLSConfig = field(default_factory=TLSConfig)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One place to pull a registry's repositories from."""

    url: str  # "http://127.0.0.1:5000" (no trailing slash; "/v2/..." is appended)
    host: str  # "127.0.0.1:5000": the key for credentials and TLS settings
    registry: str  # the registry this endpoint serves ("docker.io")
    mirror: bool
    config: RegistryConfig


def _split_host_port(host: str) -> tuple[str, str]:
    if host.startswith("["):
        end = host.find("]")
        return host[1:end], host[end + 2 :] if end + 1 < len(host) else ""
    if host.count(":") == 1:
        name, port = host.split(":")
        return name, port
    return host, ""


def is_loopback_host(host: str) -> bool:
    """``host[:port]`` names this machine's loopback, judged from the text alone (no DNS)."""
    name, _ = _split_host_port(host.lower())
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def registry_key(text: str) -> str:
    """The host a credential or setting is for: ``https://index.docker.io/v1/`` -> ``docker.io``."""
    host = text.strip()
    if "://" in host:
        host = urlsplit(host).netloc
    host = host.split("/", 1)[0].lower()
    if host in ("index.docker.io", DOCKER_HUB_ENDPOINT):
        return DOCKER_HUB
    return host


def _auth_from(data: Mapping[str, Any], where: str) -> RegistryAuth:
    username = str(data.get("username") or "")
    password = str(data.get("password") or "")
    encoded = data.get("auth")
    if encoded and not username:
        try:
            username, _, password = (
                base64.b64decode(str(encoded), validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError) as e:
            raise PolicyError(f"{where}.auth: not base64 of user:password") from e
    return RegistryAuth(
        username=username,
        password=password,
        identity_token=str(data.get("identity_token") or data.get("identitytoken") or ""),
        registry_token=str(data.get("registry_token") or data.get("registrytoken") or ""),
    )


def auths_from_docker_config(data: Mapping[str, Any]) -> dict[str, RegistryAuth]:
    """Credentials from an imagePullSecret's decoded ``.dockerconfigjson`` (``{"auths": {host:
    {...}}}``) or legacy ``.dockercfg`` (``{host: {...}}``), keyed by `registry_key`. Entries
    that cannot be read are skipped (kubelet logs and ignores them too)."""
    nested = data.get("auths")
    auths: Mapping[str, Any] = nested if isinstance(nested, Mapping) else data
    out: dict[str, RegistryAuth] = {}
    for host, entry in auths.items():
        if not isinstance(entry, Mapping):
            continue
        try:
            out[registry_key(str(host))] = _auth_from(entry, str(host))
        except PolicyError:
            continue
    return out


class RegistryPolicy:
    """Where pulls may go and how: mirrors, per-host auth and TLS, allowlist, offline mode."""

    def __init__(
        self,
        *,
        mirrors: Mapping[str, Iterable[str]] | None = None,
        configs: Mapping[str, RegistryConfig] | None = None,
        allow: Iterable[str] = (),
        insecure: Iterable[str] = (),
        offline: bool = False,
    ) -> None:
        self.mirrors = {
            registry_key(k): [u.rstrip("/") for u in v] for k, v in (mirrors or {}).items()
        }
        self.configs = {registry_key(k): v for k, v in (configs or {}).items()}
        self.allow = frozenset(registry_key(h) for h in allow)
        self.insecure = frozenset(registry_key(h) for h in insecure)
        self.offline = offline

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, *, offline: bool = False) -> RegistryPolicy:
        data = data or {}
        if not isinstance(data, Mapping):
            raise PolicyError("registries: expected a mapping at the top level")
        mirrors: dict[str, list[str]] = {}
        for host, spec in (data.get("mirrors") or {}).items():
            endpoints = (spec or {}).get("endpoint") or []
            if not isinstance(endpoints, list):
                raise PolicyError(f"mirrors.{host}.endpoint: expected a list of URLs")
            for url in endpoints:
                parts = urlsplit(str(url) if "://" in str(url) else f"https://{url}")
                if parts.scheme not in ("http", "https") or not parts.netloc:
                    raise PolicyError(f"mirrors.{host}.endpoint: {url!r} is not an http(s) URL")
            mirrors[str(host)] = [str(u) if "://" in str(u) else f"https://{u}" for u in endpoints]
        configs: dict[str, RegistryConfig] = {}
        for host, spec in (data.get("configs") or {}).items():
            spec = spec or {}
            auth = _auth_from(spec["auth"], f"configs.{host}") if spec.get("auth") else None
            tls_data = spec.get("tls") or {}
            tls = TLSConfig(
                insecure_skip_verify=bool(tls_data.get("insecure_skip_verify", False)),
                ca_file=str(tls_data.get("ca_file") or ""),
                cert_file=str(tls_data.get("cert_file") or ""),
                key_file=str(tls_data.get("key_file") or ""),
            )
            configs[str(host)] = RegistryConfig(auth=auth, tls=tls)
        allow = data.get("allow") or []
        insecure = data.get("insecure") or []
        if not isinstance(allow, list) or not isinstance(insecure, list):
            raise PolicyError("registries: allow and insecure are lists of hosts")
        return cls(
            mirrors=mirrors,
            configs=configs,
            allow=[str(h) for h in allow],
            insecure=[str(h) for h in insecure],
            offline=offline,
        )

    @classmethod
    def load(cls, path: Path | None, *, offline: bool = False) -> RegistryPolicy:
        """Read a registries.yaml (``None``: no settings)."""
        if path is None:
            return cls(offline=offline)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            raise PolicyError(f"cannot read registries file {path}: {e}") from e
        try:
            return cls.from_dict(data, offline=offline)
        except PolicyError as e:
            raise PolicyError(f"{path}: {e}") from e

    def allowed(self, host: str) -> bool:
        """Whether a pull may contact ``host`` (text only, no DNS)."""
        key = registry_key(host)
        if is_loopback_host(key):
            return True
        if key in self.allow or _split_host_port(key)[0] in self.allow:
            return True
        return not self.offline and not self.allow

    def config_for(self, host: str) -> RegistryConfig:
        key = registry_key(host)
        return (
            self.configs.get(key) or self.configs.get(_split_host_port(key)[0]) or RegistryConfig()
        )

    def _plain_http(self, host: str) -> bool:
        key = registry_key(host)
        return (
            is_loopback_host(key)
            or key in self.insecure
            or _split_host_port(key)[0] in self.insecure
        )

    def endpoints(self, registry: str) -> list[Endpoint]:
        """The endpoints a pull from ``registry`` tries, in order (mirrors first); raises
        `ImageNotAllowed` when the policy leaves none. Looks at text only: no DNS, no socket."""
        key = registry_key(registry)
        out: list[Endpoint] = []
        for url in self.mirrors.get(key) or self.mirrors.get("*") or []:
            parts = urlsplit(url)
            path = parts.path.rstrip("/")
            if path.endswith("/v2"):
                path = path[: -len("/v2")]
            host = parts.netloc.lower()
            if self.allowed(host):
                out.append(
                    Endpoint(
                        url=f"{parts.scheme}://{parts.netloc}{path}",
                        host=host,
                        registry=key,
                        mirror=True,
                        config=self.config_for(host),
                    )
                )
        default_host = DOCKER_HUB_ENDPOINT if key == DOCKER_HUB else key
        if self.allowed(key):
            scheme = "http" if self._plain_http(key) else "https"
            out.append(
                Endpoint(
                    url=f"{scheme}://{default_host}",
                    host=key,
                    registry=key,
                    mirror=False,
                    config=self.config_for(key),
                )
            )
        if not out:
            if self.offline:
                raise ImageNotAllowed(
                    f"pulling from {key} is not allowed: skiff runs with --offline, which permits "
                    "only registries on loopback, registries on the allowlist (`allow:` in the "
                    "registries file) and images already imported (skiff image import)"
                )
            raise ImageNotAllowed(
                f"pulling from {key} is not allowed: it is not on the registry allowlist "
                f"(`allow:` in the registries file: {', '.join(sorted(self.allow))})"
            )
        return out
