"""Test images and a local registry, with nothing fetched from anywhere.

- `build_busybox_layout` writes an OCI image layout whose one layer is Debian's static
  ``/bin/busybox`` with a symlink per applet (a complete image of ~1 MB compressed);
  `build_image_layout` writes a layout from any layer tars (`layer_tar`), with gzip, zstd or no
  compression, and an image index over several platforms when asked; `build_web_layout` is the
  quick start's sample web server (``httpd -f -p 8080 -h /www``); `build_docker_save` writes a
  ``docker save``-shaped tar. Output is deterministic: the same inputs give the same digests.
- `LocalRegistry` runs Debian's ``docker-registry`` on 127.0.0.1 (optionally with htpasswd basic
  auth) and `LocalRegistry.push` uploads a layout over the distribution API with httpx (blob
  upload POST + PUT, manifest PUT), so no skopeo is needed. It is stopped by pid on exit.
- `BearerProxy` fronts a registry with the token flow Docker Hub uses (401 + ``WWW-Authenticate:
  Bearer realm=...`` -> token endpoint -> ``Authorization: Bearer``), on 127.0.0.1.

``python -m skiff.testing.images web DIR`` writes the sample web image layout into DIR.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import gzip
import hashlib
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import zstandard

__all__ = [
    "BearerProxy",
    "LocalRegistry",
    "build_busybox_layout",
    "build_docker_save",
    "build_image_layout",
    "build_web_layout",
    "busybox_layer",
    "free_port",
    "layer_tar",
    "main",
    "make_tls",
]

BUSYBOX = Path("/bin/busybox")
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TYPES = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "none": "application/vnd.oci.image.layer.v1.tar",
}
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_MTIME = 1_767_225_600  # 2026-01-01T00:00:00Z, so builds are reproducible


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _info(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = _MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def layer_tar(
    files: Mapping[str, bytes] | None = None,
    *,
    symlinks: Mapping[str, str] | None = None,
    dirs: Iterable[str] = (),
    modes: Mapping[str, int] | None = None,
    hardlinks: Mapping[str, str] | None = None,
    raw_names: bool = False,
) -> bytes:
    """An uncompressed layer tar: ``dirs``, then ``files`` (path -> content; ``.wh.x`` names
    are whiteouts), ``symlinks`` (path -> target) and ``hardlinks`` (path -> target path).
    Parent directories are added. ``raw_names`` keeps names as given (for hostile tars)."""
    files = dict(files or {})
    symlinks = dict(symlinks or {})
    hardlinks = dict(hardlinks or {})
    modes = dict(modes or {})
    all_dirs: set[str] = {d.strip("/") for d in dirs}
    if not raw_names:
        for path in [*files, *symlinks, *hardlinks, *all_dirs]:
            parts = path.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                all_dirs.add("/".join(parts[:i]))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in sorted(x for x in all_dirs if x):
            tar.addfile(_info(d, tarfile.DIRTYPE, modes.get(d, 0o755)))
        for path, content in sorted(files.items()):
            name = path if raw_names else path.strip("/")
            info = _info(name, tarfile.REGTYPE, modes.get(path, 0o644))
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        for path, target in sorted(symlinks.items()):
            info = _info(path if raw_names else path.strip("/"), tarfile.SYMTYPE, 0o777)
            info.linkname = target
            tar.addfile(info)
        for path, target in sorted(hardlinks.items()):
            info = _info(path if raw_names else path.strip("/"), tarfile.LNKTYPE, 0o644)
            info.linkname = target
            tar.addfile(info)
    return buf.getvalue()


@functools.cache
def _applets() -> tuple[str, ...]:
    out = subprocess.run(
        [str(BUSYBOX), "--list"], capture_output=True, text=True, check=True, timeout=10
    ).stdout
    return tuple(sorted(a for a in out.split() if a and a != "busybox" and "/" not in a))


@functools.cache
def busybox_layer() -> bytes:
    """The busybox rootfs layer tar (uncompressed): /bin/busybox, applet symlinks in /bin,
    /etc/passwd and /etc/group, empty /tmp /proc /sys /dev /root /var."""
    if not BUSYBOX.exists():
        raise RuntimeError("/bin/busybox is missing: install Debian's busybox-static")
    files = {
        "bin/busybox": BUSYBOX.read_bytes(),
        "etc/passwd": b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        "etc/group": b"root:x:0:\nnobody:x:65534:\n",
    }
    symlinks = {f"bin/{a}": "busybox" for a in _applets()}
    return layer_tar(
        files,
        symlinks=symlinks,
        dirs=("tmp", "proc", "sys", "dev", "root", "var", "usr/bin", "sbin"),
        modes={"bin/busybox": 0o755, "tmp": 0o1777},
    )


def _compress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor(level=3).compress(data)
    if compression == "none":
        return data
    raise ValueError(f"unknown compression {compression!r}")


def _host_arch() -> str:
    import platform

    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def build_image_layout(
    dir: Path,
    layers: Sequence[bytes],
    *,
    name: str = "skiff-test/image",
    tag: str = "1.0",
    entrypoint: Sequence[str] | None = None,
    cmd: Sequence[str] | None = None,
    env: Sequence[str] = (DEFAULT_PATH,),
    working_dir: str = "",
    user: str = "",
    labels: Mapping[str, str] | None = None,
    exposed_ports: Sequence[str] = (),
    compression: str = "gzip",
    platforms: Sequence[str] | None = None,
) -> Path:
    """Write an OCI image layout of ``layers`` (uncompressed tars, bottom first) into ``dir``.

    With several ``platforms`` ("linux/amd64", "linux/arm64/v8") the layout's entry is an image
    index over one manifest per platform; each config gets the label
    ``skiff.test/platform=<platform>`` so a test can see which one was chosen."""
    blobs = dir / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def put(data: bytes) -> str:
        digest = _digest(data)
        (blobs / digest.split(":")[1]).write_bytes(data)
        return digest

    layer_descs = []
    diff_ids = []
    for layer in layers:
        blob = _compress(layer, compression)
        layer_descs.append(
            {"mediaType": LAYER_TYPES[compression], "digest": put(blob), "size": len(blob)}
        )
        diff_ids.append(_digest(layer))

    def manifest_for(plat: str, plat_label: bool) -> dict[str, Any]:
        os_name, arch, *rest = plat.split("/")
        cfg: dict[str, Any] = {"Env": list(env)}
        if entrypoint is not None:
            cfg["Entrypoint"] = list(entrypoint)
        if cmd is not None:
            cfg["Cmd"] = list(cmd)
        if working_dir:
            cfg["WorkingDir"] = working_dir
        if user:
            cfg["User"] = user
        all_labels = dict(labels or {})
        if plat_label:
            all_labels["skiff.test/platform"] = plat
        if all_labels:
            cfg["Labels"] = all_labels
        if exposed_ports:
            cfg["ExposedPorts"] = {p: {} for p in exposed_ports}
        config: dict[str, Any] = {
            "created": "2026-01-01T00:00:00Z",
            "architecture": arch,
            "os": os_name,
            "config": cfg,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created": "2026-01-01T00:00:00Z", "created_by": "skiff.testing"}],
        }
        if rest:
            config["variant"] = rest[0]
        config_bytes = json.dumps(config, sort_keys=True).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": put(config_bytes),
                "size": len(config_bytes),
            },
            "layers": layer_descs,
        }
        body = json.dumps(manifest, sort_keys=True).encode()
        desc: dict[str, Any] = {"mediaType": OCI_MANIFEST, "digest": put(body), "size": len(body)}
        plat_desc: dict[str, str] = {"os": os_name, "architecture": arch}
        if rest:
            plat_desc["variant"] = rest[0]
        desc["platform"] = plat_desc
        return desc

    plats = list(platforms or [f"linux/{_host_arch()}"])
    if len(plats) == 1:
        top = manifest_for(plats[0], False)
    else:
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [manifest_for(p, True) for p in plats],
        }
        body = json.dumps(index, sort_keys=True).encode()
        top = {"mediaType": OCI_INDEX, "digest": put(body), "size": len(body)}
    top = {k: v for k, v in top.items() if k != "platform"}
    top["annotations"] = {
        "io.containerd.image.name": f"{name}:{tag}",
        "org.opencontainers.image.ref.name": tag,
    }
    (dir / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    (dir / "index.json").write_text(
        json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [top]}, sort_keys=True)
    )
    return dir


def build_busybox_layout(
    dir: Path,
    *,
    name: str = "skiff-test/busybox",
    tag: str = "1.0",
    extra_files: dict[str, bytes] | None = None,
    entrypoint: Sequence[str] | None = None,
    cmd: Sequence[str] | None = ("sh",),
    env: Sequence[str] = (DEFAULT_PATH,),
    working_dir: str = "",
    labels: Mapping[str, str] | None = None,
    exposed_ports: Sequence[str] = (),
    compression: str = "gzip",
    platforms: Sequence[str] | None = None,
) -> Path:
    """An OCI layout of busybox (one layer), plus ``extra_files`` (path -> content) as a second
    layer when given."""
    layers = [busybox_layer()]
    if extra_files:
        layers.append(layer_tar(extra_files))
    return build_image_layout(
        dir,
        layers,
        name=name,
        tag=tag,
        entrypoint=entrypoint,
        cmd=cmd,
        env=env,
        working_dir=working_dir,
        labels=labels,
        exposed_ports=exposed_ports,
        compression=compression,
        platforms=platforms,
    )


WEB_PAGE = b"<!doctype html>\n<title>skiff</title>\n<h1>Hello from skiff</h1>\n"


def build_web_layout(
    dir: Path,
    *,
    name: str = "skiff-examples/web",
    tag: str = "1.0",
    page: bytes = WEB_PAGE,
    port: int = 8080,
) -> Path:
    """The quick start's sample web image: busybox httpd serving ``/www/index.html`` on
    ``port`` (``httpd -f -p 8080 -h /www``)."""
    return build_busybox_layout(
        dir,
        name=name,
        tag=tag,
        extra_files={"www/index.html": page},
        entrypoint=("httpd", "-f", "-v", "-p", str(port), "-h", "/www"),
        cmd=None,
        exposed_ports=(f"{port}/tcp",),
    )


def build_docker_save(
    path: Path,
    layers: Sequence[bytes],
    *,
    repo_tags: Sequence[str] = ("skiff-test/saved:1.0",),
    cmd: Sequence[str] = ("sh",),
) -> Path:
    """A ``docker save`` tar (the classic form: ``manifest.json``, ``repositories``,
    ``<id>.json``, ``<layer>/layer.tar``) of uncompressed ``layers``."""
    config = {
        "architecture": _host_arch(),
        "os": "linux",
        "created": "2026-01-01T00:00:00Z",
        "config": {"Env": [DEFAULT_PATH], "Cmd": list(cmd)},
        "rootfs": {"type": "layers", "diff_ids": [_digest(x) for x in layers]},
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = f"{_digest(config_bytes).split(':')[1]}.json"
    entries: dict[str, bytes] = {config_name: config_bytes}
    layer_names = []
    for i, layer in enumerate(layers):
        layer_id = hashlib.sha256(f"{i}:{_digest(layer)}".encode()).hexdigest()
        entries[f"{layer_id}/layer.tar"] = layer
        entries[f"{layer_id}/VERSION"] = b"1.0"
        layer_names.append(f"{layer_id}/layer.tar")
    entries["manifest.json"] = json.dumps(
        [{"Config": config_name, "RepoTags": list(repo_tags), "Layers": layer_names}]
    ).encode()
    repositories: dict[str, dict[str, str]] = {}
    for t in repo_tags:
        repo, _, tag = t.rpartition(":")
        repositories.setdefault(repo, {})[tag] = layer_names[-1].split("/")[0]
    entries["repositories"] = json.dumps(repositories).encode()
    path.write_bytes(layer_tar(entries))
    return path


def make_tls(dir: Path, *, ip: str = "127.0.0.1") -> tuple[Path, Path, Path]:
    """A CA and a serving certificate for ``ip`` signed by it: (ca.pem, cert.pem, key.pem)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "skiff-test-registry-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ip)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (dir / "ca.pem", dir / "cert.pem", dir / "key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(
    url: str, proc: subprocess.Popen[bytes] | None, log: Path | None, within: float
) -> None:
    deadline = time.monotonic() + within
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            text = log.read_text(errors="replace") if log is not None else ""
            raise RuntimeError(f"docker-registry exited with {proc.returncode}: {text[-2000:]}")
        try:
            r = httpx.get(url, timeout=1.0, verify=False)
            if r.status_code in (200, 401):
                return
            last = f"HTTP {r.status_code}"
        except httpx.HTTPError as e:
            last = str(e)
        time.sleep(0.02)
    raise RuntimeError(f"{url} not ready within {within} s ({last})")


def _bcrypt(password: str) -> str:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # bcrypt through libxcrypt; docker-registry's htpasswd wants bcrypt

    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))


class LocalRegistry:
    """Debian's ``docker-registry`` on 127.0.0.1:<free port>, storing under ``root``."""

    def __init__(
        self,
        root: Path,
        *,
        users: Mapping[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        """``users``: name -> password for htpasswd basic auth (none: anonymous); ``tls``:
        (certificate, key) files to serve HTTPS with (see `make_tls`)."""
        self.root = root
        self.users = dict(users or {})
        self.tls = tls
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def __enter__(self) -> LocalRegistry:
        binary = shutil.which("docker-registry")
        if binary is None:
            raise RuntimeError("docker-registry is not installed (Debian package docker-registry)")
        self.root.mkdir(parents=True, exist_ok=True)
        tls = ""
        if self.tls:
            tls = f", tls: {{certificate: {self.tls[0]}, key: {self.tls[1]}}}"
        for attempt in range(3):
            self.port = free_port()
            lines = [
                "version: 0.1",
                "log: {level: warn, accesslog: {disabled: true}}",
                f"storage: {{filesystem: {{rootdirectory: {self.root / 'data'}}}, delete: {{enabled: true}}}}",
                f"http: {{addr: '127.0.0.1:{self.port}', secret: skiff-test-secret{tls}}}",
            ]
            if self.users:
                htpasswd = self.root / "htpasswd"
                htpasswd.write_text("".join(f"{u}:{_bcrypt(p)}\n" for u, p in self.users.items()))
                lines.append(f"auth: {{htpasswd: {{realm: skiff-test, path: {htpasswd}}}}}")
            config = self.root / "config.yml"
            config.write_text("\n".join(lines) + "\n")
            log = self.root / "registry.log"
            with log.open("ab") as out:
                self.proc = subprocess.Popen(
                    [binary, "serve", str(config)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            try:
                _wait_http(f"{self.url}/v2/", self.proc, log, 15.0)
                return self
            except RuntimeError:
                self.stop()
                if attempt == 2 or "address already in use" not in log.read_text(errors="replace"):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def blob_data_path(self, digest: str) -> Path:
        """Where the registry keeps a blob's bytes (tests corrupt it)."""
        hexpart = digest.split(":", 1)[1]
        return self.root / "data/docker/registry/v2/blobs/sha256" / hexpart[:2] / hexpart / "data"

    def push(self, layout_dir: Path, repo: str, tag: str) -> str:
        """Upload the layout's (first) image as ``repo:tag``; returns its manifest digest."""
        index = json.loads((layout_dir / "index.json").read_text())
        top = index["manifests"][0]
        auth = None
        if self.users:
            user, password = next(iter(self.users.items()))
            auth = httpx.BasicAuth(user, password)
        with httpx.Client(base_url=self.url, auth=auth, timeout=30, verify=False) as client:
            self._push_manifest(client, layout_dir, repo, top["digest"], top["mediaType"], tag)
        return str(top["digest"])

    def _blob(self, layout_dir: Path, digest: str) -> bytes:
        return (layout_dir / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()

    def _push_blob(self, client: httpx.Client, layout_dir: Path, repo: str, digest: str) -> None:
        if client.head(f"/v2/{repo}/blobs/{digest}").status_code == 200:
            return
        r = client.post(f"/v2/{repo}/blobs/uploads/")
        if r.status_code != 202:
            raise RuntimeError(f"blob upload start: {r.status_code} {r.text}")
        location = r.headers["location"]
        sep = "&" if "?" in location else "?"
        r = client.put(
            f"{location}{sep}digest={digest}",
            content=self._blob(layout_dir, digest),
            headers={"Content-Type": "application/octet-stream"},
        )
        if r.status_code != 201:
            raise RuntimeError(f"blob upload {digest}: {r.status_code} {r.text}")

    def _push_manifest(
        self,
        client: httpx.Client,
        layout_dir: Path,
        repo: str,
        digest: str,
        media_type: str,
        reference: str,
    ) -> None:
        body = self._blob(layout_dir, digest)
        data = json.loads(body)
        if "manifests" in data:
            for child in data["manifests"]:
                self._push_manifest(
                    client, layout_dir, repo, child["digest"], child["mediaType"], child["digest"]
                )
        else:
            for desc in [data["config"], *data["layers"]]:
                self._push_blob(client, layout_dir, repo, desc["digest"])
        r = client.put(
            f"/v2/{repo}/manifests/{reference}", content=body, headers={"Content-Type": media_type}
        )
        if r.status_code != 201:
            raise RuntimeError(f"manifest put {repo}:{reference}: {r.status_code} {r.text}")


class BearerProxy:
    """A registry front on 127.0.0.1 that demands Bearer tokens, as Docker Hub does.

    ``/token`` hands out a token for the basic credentials in ``users``, and, when
    ``anonymous`` is true, to anyone; ``/v2/...`` answers 401 with a Bearer challenge unless the
    request carries a valid token, and otherwise relays to ``upstream``. ``requests`` records
    (method, path, authorization header) of every request."""

    def __init__(
        self,
        upstream: str,
        *,
        users: Mapping[str, str] | None = None,
        anonymous: bool = False,
        identity_tokens: Iterable[str] = (),
        realm: str | None = None,
    ) -> None:
        """``identity_tokens``: refresh tokens the OAuth2 grant (``POST /token``) accepts;
        ``realm``: the token URL the challenge names (default: this proxy's ``/token``)."""
        self.realm = realm
        self.upstream = upstream
        self.users = dict(users or {})
        self.anonymous = anonymous
        self.identity_tokens = set(identity_tokens)
        self.tokens: set[str] = set()
        self.requests: list[tuple[str, str, str]] = []
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.port = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> BearerProxy:
        proxy = self
        client = httpx.Client(base_url=self.upstream, timeout=30)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                authz = self.headers.get("Authorization", "")
                proxy.requests.append((self.command, self.path, authz))
                url = urlsplit(self.path)
                if url.path == "/token":
                    self._token(authz, parse_qs(url.query))
                    return
                token = authz.removeprefix("Bearer ") if authz.startswith("Bearer ") else ""
                if token not in proxy.tokens:
                    realm = proxy.realm or f"http://{proxy.host}/token"
                    parts = url.path.split("/")
                    name = "/".join(parts[2:-2]) if len(parts) > 4 else ""
                    scope = f',scope="repository:{name}:pull"' if name else ""
                    body = json.dumps(
                        {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
                    ).encode()
                    self._reply(
                        401,
                        body,
                        {
                            "Content-Type": "application/json",
                            "WWW-Authenticate": f'Bearer realm="{realm}",'
                            f'service="skiff-test"{scope}',
                        },
                    )
                    return
                r = client.request(
                    self.command,
                    self.path,
                    headers={"Accept": self.headers.get("Accept", "*/*")},
                )
                keep = ("content-type", "docker-content-digest", "location")
                self._reply(
                    r.status_code, r.content, {k: v for k, v in r.headers.items() if k in keep}
                )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                proxy.requests.append((self.command, self.path, ""))
                grant = form.get("grant_type", [""])[0]
                refresh = form.get("refresh_token", [""])[0]
                if urlsplit(self.path).path != "/token" or grant != "refresh_token":
                    self._reply(400, b'{"error": "unsupported_grant_type"}', {})
                    return
                if refresh not in proxy.identity_tokens:
                    self._reply(401, b'{"error": "invalid_grant"}', {})
                    return
                token = secrets.token_hex(16)
                proxy.tokens.add(token)
                body = json.dumps({"access_token": token, "expires_in": 300}).encode()
                self._reply(200, body, {"Content-Type": "application/json"})

            def _token(self, authz: str, query: dict[str, list[str]]) -> None:
                ok = proxy.anonymous and not authz
                if authz.startswith("Basic "):
                    user, _, password = base64.b64decode(authz[6:]).decode().partition(":")
                    ok = proxy.users.get(user) == password and bool(user)
                if not ok:
                    body = json.dumps({"details": "incorrect username or password"}).encode()
                    self._reply(401, body, {"Content-Type": "application/json"})
                    return
                token = secrets.token_hex(16)
                proxy.tokens.add(token)
                body = json.dumps({"token": token, "expires_in": 300}).encode()
                self._reply(200, body, {"Content-Type": "application/json"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._client = client
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)
        self._client.close()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m skiff.testing.images web|busybox DIR``: write a sample image layout."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] not in ("web", "busybox"):
        print("usage: python -m skiff.testing.images web|busybox DIR", file=sys.stderr)
        return 2
    out = Path(args[1])
    out.mkdir(parents=True, exist_ok=True)
    if args[0] == "web":
        build_web_layout(out)
    else:
        build_busybox_layout(out)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
