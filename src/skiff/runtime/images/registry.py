"""An OCI distribution (v2) client over httpx: manifests, blobs, auth.

One `RegistryClient` talks to one endpoint about one repository (what one pull needs):

- ``GET /v2/<name>/manifests/<ref>`` accepting OCI index/manifest and Docker v2 list/manifest; a
  list or index is narrowed to the host's platform (`host_platform`, `select_manifest`);
- ``GET /v2/<name>/blobs/<digest>`` streamed to a file while hashed: content that does not hash
  to the digest asked for is refused, as is a manifest whose digest differs from the one the
  reference or the ``Docker-Content-Digest`` header names;
- a 401 answer is met once per request with its challenge: ``Bearer realm=..,service=..,scope=..``
  -> a token from the realm (anonymous, with basic credentials, or an identity token through the
  OAuth2 refresh-token grant), ``Basic`` -> the credentials themselves.
  (The token flow: https://distribution.github.io/distribution/spec/auth/token/ and
  https://distribution.github.io/distribution/spec/auth/oauth/)

Errors are `ImagePullError` carrying the registry's own words (``errors[].message`` of its JSON
body, e.g. ``manifest unknown``) or the network's.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import platform
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from skiff.runtime.images.base import ImageNotAllowed, ImagePullError, RegistryAuth
from skiff.runtime.images.policy import Endpoint

__all__ = [
    "MANIFEST_TYPES",
    "Manifest",
    "RegistryClient",
    "host_platform",
    "parse_challenge",
    "select_manifest",
]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST)
MAX_MANIFEST_BYTES = 4 << 20

_ARCH = {
    "x86_64": ("amd64", ""),
    "amd64": ("amd64", ""),
    "aarch64": ("arm64", "v8"),
    "arm64": ("arm64", "v8"),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "i386": ("386", ""),
    "i686": ("386", ""),
    "ppc64le": ("ppc64le", ""),
    "s390x": ("s390x", ""),
    "riscv64": ("riscv64", ""),
}


def host_platform() -> tuple[str, str, str]:
    """(os, architecture, variant) of this machine in OCI terms, e.g. ("linux", "amd64", "")."""
    machine = platform.machine().lower()
    arch, variant = _ARCH.get(machine, (machine, ""))
    return "linux", arch, variant


def select_manifest(
    index: dict[str, Any], want: tuple[str, str, str] | None = None
) -> dict[str, Any]:
    """The descriptor of ``index`` (an OCI index or Docker manifest list) for the platform."""
    os_name, arch, variant = want or host_platform()
    matches = []
    for desc in index.get("manifests") or []:
        plat = desc.get("platform") or {}
        if plat.get("os") == os_name and plat.get("architecture") == arch:
            matches.append(desc)
    for desc in matches:  # exact variant first, then one without a variant, then any
        if (desc.get("platform") or {}).get("variant", "") == variant:
            return dict(desc)
    for desc in matches:
        if not (desc.get("platform") or {}).get("variant"):
            return dict(desc)
    if matches and arch == "arm64":
        return dict(matches[0])
    raise ImagePullError(
        f"no matching manifest for {os_name}/{arch}{'/' + variant if variant else ''} "
        "in the manifest list entries"
    )


_CHALLENGE_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="x",service="y"`` -> ("bearer", {"realm": "x", "service": "y"})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3) or "")
        for m in _CHALLENGE_PARAM.finditer(rest)
    }
    return scheme.lower(), params


def _registry_message(body: bytes) -> str:
    """The registry's words from an error body: ``errors[].message`` joined (code if empty)."""
    try:
        data = json.loads(body)
        errors = data.get("errors") if isinstance(data, dict) else None
    except (ValueError, UnicodeDecodeError):
        errors = None
    if errors:
        parts = []
        for e in errors:
            if not isinstance(e, dict):
                continue
            msg = str(e.get("message") or str(e.get("code") or "").lower().replace("_", " "))
            parts.append(msg)
        if parts:
            return "; ".join(parts)
    text = body.decode("utf-8", "replace").strip()
    return text[:200]


@dataclass(frozen=True, slots=True)
class Manifest:
    body: bytes
    media_type: str
    digest: str  # "sha256:..." of body

    def json(self) -> dict[str, Any]:
        data = json.loads(self.body)
        if not isinstance(data, dict):
            raise ImagePullError(f"manifest {self.digest} is not a JSON object")
        return data


_CONTEXTS: dict[tuple[object, ...], ssl.SSLContext | bool] = {}


def _verify_context(endpoint: Endpoint) -> ssl.SSLContext | bool:
    """The TLS settings for ``endpoint``: cached, as loading CA bundles costs tens of ms; a
    changed file (renewed CA or client certificate) makes a new context."""
    tls = endpoint.config.tls
    stamps = tuple(
        os.stat(f).st_mtime_ns if f and os.path.exists(f) else 0
        for f in (tls.ca_file, tls.cert_file, tls.key_file)
    )
    key = (tls, stamps)
    if key in _CONTEXTS:
        return _CONTEXTS[key]
    ctx: ssl.SSLContext | bool
    if tls.insecure_skip_verify and not (tls.cert_file and tls.key_file):
        ctx = False
    else:
        ctx = ssl.create_default_context(cafile=tls.ca_file or None)
        if tls.insecure_skip_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if tls.cert_file and tls.key_file:
            ctx.load_cert_chain(tls.cert_file, tls.key_file)
    if len(_CONTEXTS) > 64:
        _CONTEXTS.clear()
    _CONTEXTS[key] = ctx
    return ctx


class RegistryClient:
    """One endpoint, one repository; use as an async context manager."""

    def __init__(
        self,
        endpoint: Endpoint,
        repository: str,
        *,
        auth: RegistryAuth | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = "skiff",
        allowed_host: Callable[[str], bool] | None = None,
    ) -> None:
        """``allowed_host(host)`` is asked before every request, including token realms and
        redirects (blob storage), so a registry cannot send a pull where the policy forbids;
        a refusal raises `ImageNotAllowed` before the connection."""
        self.endpoint = endpoint
        self._allowed_host = allowed_host
        self.repository = repository
        self._auth = auth
        self._authorization = ""
        if auth is not None and auth.registry_token:
            self._authorization = f"Bearer {auth.registry_token}"
        try:
            verify = _verify_context(endpoint)
        except (OSError, ssl.SSLError) as e:
            raise ImagePullError(f"{endpoint.host}: cannot load the TLS settings: {e}") from e
        self._client = httpx.AsyncClient(
            verify=verify,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            headers={"User-Agent": user_agent},
            event_hooks={"request": [self._check_host]},
        )

    async def _check_host(self, request: httpx.Request) -> None:
        host = request.url.netloc.decode("ascii")
        if self._allowed_host is not None and not self._allowed_host(host):
            raise ImageNotAllowed(
                f"{self.endpoint.host} sent the pull of {self._name} to {host}, which the "
                "registry policy does not allow (--offline or the allowlist: add it to `allow:`)"
            )

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def _name(self) -> str:
        return f"{self.endpoint.registry}/{self.repository}"

    def _url(self, kind: str, reference: str) -> str:
        return f"{self.endpoint.url}/v2/{self.repository}/{kind}/{reference}"

    async def _send(self, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
        """Send (streamed), answering one 401 challenge; network errors become ImagePullError."""
        try:
            resp = await self._send_once(method, url, headers)
            if resp.status_code == 401:
                challenge = resp.headers.get("www-authenticate", "")
                body = await resp.aread()
                await resp.aclose()
                if not await self._authenticate(challenge, body):
                    raise self._denied(body)
                resp = await self._send_once(method, url, headers)
                if resp.status_code == 401:
                    body = await resp.aread()
                    await resp.aclose()
                    raise self._denied(body)
            return resp
        except httpx.HTTPError as e:
            raise ImagePullError(f"{self.endpoint.host}: {type(e).__name__}: {e}") from e

    async def _send_once(self, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
        h = dict(headers)
        if self._authorization:
            h["Authorization"] = self._authorization
        request = self._client.build_request(method, url, headers=h)
        return await self._client.send(request, stream=True, follow_redirects=True)

    def _denied(self, body: bytes) -> ImagePullError:
        return ImagePullError(
            f"pull access denied for {self._name}, repository does not exist or authorization "
            f"failed: {_registry_message(body) or '401 Unauthorized'}"
        )

    async def _authenticate(self, challenge: str, body: bytes) -> bool:
        """Set the Authorization header the challenge asks for; False when there is nothing
        (new) to try."""
        scheme, params = parse_challenge(challenge)
        auth = self._auth
        if scheme == "basic":
            if auth is None or not auth.username:
                return False
            pair = f"{auth.username}:{auth.password}".encode()
            header = "Basic " + base64.b64encode(pair).decode("ascii")
            if header == self._authorization:
                return False
            self._authorization = header
            return True
        if scheme != "bearer" or "realm" not in params:
            return False
        scope = params.get("scope") or f"repository:{self.repository}:pull"
        query = {"scope": scope}
        if params.get("service"):
            query["service"] = params["service"]
        try:
            if auth is not None and auth.identity_token:
                resp = await self._client.post(
                    params["realm"],
                    data={
                        "grant_type": "refresh_token",
                        "refresh_token": auth.identity_token,
                        "client_id": "skiff",
                        **query,
                    },
                )
            elif auth is not None and auth.username:
                resp = await self._client.get(
                    params["realm"], params=query, auth=(auth.username, auth.password)
                )
            else:
                resp = await self._client.get(params["realm"], params=query)
        except httpx.HTTPError as e:
            raise ImagePullError(
                f"{self.endpoint.host}: fetching a token from {params['realm']}: {e}"
            ) from e
        if resp.status_code in (401, 403):
            raise ImagePullError(
                f"pull access denied for {self._name}, repository does not exist or "
                f"authorization failed: the token service answered {resp.status_code}: "
                f"{_registry_message(resp.content) or resp.reason_phrase}"
            )
        if resp.status_code != 200:
            raise ImagePullError(
                f"{self.endpoint.host}: the token service answered {resp.status_code}: "
                f"{_registry_message(resp.content)}"
            )
        try:
            data = resp.json()
            token = str(data.get("token") or data.get("access_token") or "")
        except (ValueError, AttributeError):
            token = ""
        if not token:
            raise ImagePullError(f"{self.endpoint.host}: the token service returned no token")
        header = f"Bearer {token}"
        if header == self._authorization:
            return False
        self._authorization = header
        return True

    async def _fail(self, resp: httpx.Response, what: str) -> ImagePullError:
        body = await resp.aread()
        await resp.aclose()
        message = _registry_message(body) or resp.reason_phrase
        return ImagePullError(
            f"{what}: {message} (HTTP {resp.status_code} from {self.endpoint.host})"
        )

    async def get_manifest(self, reference: str) -> Manifest:
        """The manifest (or index) ``reference`` (tag or digest) names, digest-checked."""
        accept = ", ".join(MANIFEST_TYPES)
        resp = await self._send("GET", self._url("manifests", reference), {"Accept": accept})
        what = f'failed to resolve reference "{self._name}{"@" if ":" in reference else ":"}{reference}"'
        if resp.status_code != 200:
            raise await self._fail(resp, what)
        try:
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > MAX_MANIFEST_BYTES:
                    raise ImagePullError(f"{what}: manifest larger than {MAX_MANIFEST_BYTES} bytes")
                chunks.append(chunk)
        except httpx.HTTPError as e:
            raise ImagePullError(f"{what}: {e}") from e
        finally:
            await resp.aclose()
        body = b"".join(chunks)
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if ":" in reference and reference != digest:
            raise ImagePullError(f"{what}: manifest digest mismatch: got {digest}")
        header = resp.headers.get("docker-content-digest", "")
        if header.startswith("sha256:") and header != digest:
            raise ImagePullError(
                f"{what}: manifest digest mismatch: registry says {header}, content is {digest}"
            )
        media_type = resp.headers.get("content-type", "").split(";")[0].strip()
        try:
            declared = json.loads(body).get("mediaType", "")
        except (ValueError, AttributeError) as e:
            raise ImagePullError(f"{what}: the manifest is not JSON") from e
        if declared in DOCKER_SCHEMA1 or media_type in DOCKER_SCHEMA1:
            raise ImagePullError(f"{what}: Docker schema 1 manifests are not supported")
        if media_type not in MANIFEST_TYPES:
            media_type = declared if declared in MANIFEST_TYPES else OCI_MANIFEST
        return Manifest(body=body, media_type=media_type, digest=digest)

    async def get_blob(self, digest: str, dest: Path, *, size: int | None = None) -> int:
        """Download blob ``digest`` to ``dest`` (written beside it, then renamed), refusing
        content that does not hash to ``digest``; returns its size."""
        algo, _, want = digest.partition(":")
        if algo != "sha256":
            raise ImagePullError(f"unsupported digest algorithm in {digest}")
        resp = await self._send("GET", self._url("blobs", digest), {})
        what = f"failed to fetch blob {digest} of {self._name}"
        if resp.status_code != 200:
            raise await self._fail(resp, what)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{id(self)}.part")
        h = hashlib.sha256()
        total = 0
        try:
            with tmp.open("wb") as f:
                async for chunk in resp.aiter_bytes(1 << 20):
                    total += len(chunk)
                    if size is not None and total > size:
                        raise ImagePullError(f"{what}: more than the {size} bytes announced")
                    h.update(chunk)
                    f.write(chunk)
            if h.hexdigest() != want:
                raise ImagePullError(
                    f"{what}: digest mismatch: content is sha256:{h.hexdigest()}; refused"
                )
            if size is not None and total != size:
                raise ImagePullError(f"{what}: got {total} bytes, the manifest says {size}")
            os.replace(tmp, dest)
        except httpx.HTTPError as e:
            raise ImagePullError(f"{what}: {e}") from e
        finally:
            await resp.aclose()
            tmp.unlink(missing_ok=True)
        return total

    async def get_blob_bytes(self, digest: str, dest: Path, *, size: int | None = None) -> bytes:
        """`get_blob` then the content (configs)."""
        await self.get_blob(digest, dest, size=size)
        return await asyncio.to_thread(dest.read_bytes)
