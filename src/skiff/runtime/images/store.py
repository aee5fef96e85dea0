"""`ImageStore`: the node's images on disk, implementing `ImageService`.

Layout under ``root`` (``<data-dir>/agent/<node>/images``)::

    blobs/sha256/<hex>      manifests, indexes and configs by digest (layer blobs only while a
                            pull unpacks them: the unpacked directory is what is kept)
    layers/<diffid-hex>/    one unpacked layer, shared by every image that has it; made in a
                            temporary directory and renamed into place, so a directory that
                            exists is complete
    index.json              images by id (config digest): tags, repo digests, config, layers;
                            rewritten atomically (temporary file, fsync, rename) under an
                            flock on ``lock``, so several processes (agents, ``skiff image``)
                            may share the store
    tmp/                    downloads in progress

References are normalised as containerd does (`skiff.runtime.images.reference`). A tag names one
image: pulling or importing it again moves the tag. `RegistryPolicy` is asked before anything
touches the network (`pull`), whatever the pull policy (`ensure`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import httpx

from skiff.runtime.images.base import (
    ImageConfig,
    ImageInfo,
    ImageNotAllowed,
    ImagePullError,
    ImageService,
    RegistryAuth,
)
from skiff.runtime.images.layer import flatten, remove_tree, unpack_layer
from skiff.runtime.images.policy import Endpoint, RegistryPolicy, registry_key
from skiff.runtime.images.reference import Reference, parse_reference
from skiff.runtime.images.registry import (
    INDEX_TYPES,
    RegistryClient,
    host_platform,
    select_manifest,
)

__all__ = ["ImageNotFound", "ImageStore", "LayerSource", "image_config"]

PULL_POLICIES = ("Always", "IfNotPresent", "Never")


class ImageNotFound(LookupError):
    """No local image matches the reference."""


@dataclass(frozen=True, slots=True)
class LayerSource:
    """Where one layer's blob can be read from (a file, a tar member...)."""

    open: Callable[[], IO[bytes]]
    diff_id: str
    blob_digest: str = ""  # checked while unpacking when set


def image_config(config: dict[str, Any]) -> ImageConfig:
    """The runtime-relevant part of an OCI/Docker image config."""
    c = config.get("config") or {}
    return ImageConfig(
        entrypoint=tuple(str(x) for x in c.get("Entrypoint") or ()),
        cmd=tuple(str(x) for x in c.get("Cmd") or ()),
        env=tuple(str(x) for x in c.get("Env") or ()),
        working_dir=str(c.get("WorkingDir") or ""),
        user=str(c.get("User") or ""),
        exposed_ports=tuple(sorted(str(p) for p in (c.get("ExposedPorts") or {}))),
        stop_signal=str(c.get("StopSignal") or ""),
        labels={str(k): str(v) for k, v in (c.get("Labels") or {}).items()},
    )


def _config_dict(cfg: ImageConfig) -> dict[str, Any]:
    return {
        "entrypoint": list(cfg.entrypoint),
        "cmd": list(cfg.cmd),
        "env": list(cfg.env),
        "working_dir": cfg.working_dir,
        "user": cfg.user,
        "exposed_ports": list(cfg.exposed_ports),
        "stop_signal": cfg.stop_signal,
        "labels": dict(cfg.labels),
    }


def _config_from(d: dict[str, Any]) -> ImageConfig:
    return ImageConfig(
        entrypoint=tuple(d.get("entrypoint") or ()),
        cmd=tuple(d.get("cmd") or ()),
        env=tuple(d.get("env") or ()),
        working_dir=d.get("working_dir") or "",
        user=d.get("user") or "",
        exposed_ports=tuple(d.get("exposed_ports") or ()),
        stop_signal=d.get("stop_signal") or "",
        labels=dict(d.get("labels") or {}),
    )


def _hex(digest: str) -> str:
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise ImagePullError(f"unsupported or malformed digest {digest!r}")
    return hexpart


def _disk_usage(path: Path) -> tuple[int, int]:
    usage = shutil.disk_usage(path)
    return usage.total, usage.total - usage.free


class ImageStore:
    """Content-addressed image store; see the module docstring."""

    def __init__(
        self,
        root: Path,
        *,
        policy: RegistryPolicy,
        overlay_whiteouts: bool | None = None,
        disk_usage: Callable[[Path], tuple[int, int]] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        platform: tuple[str, str, str] | None = None,
        timeout: float = 60.0,
        max_parallel_pulls: int | None = None,
        gc_min_age: float = 120.0,
    ) -> None:
        """``overlay_whiteouts``: store whiteouts in overlayfs form (default: when root);
        ``disk_usage(path) -> (total, used)`` bytes of the file system (tests fake it);
        ``transport``: httpx transport for registry traffic (tests); ``platform``: (os, arch,
        variant) to pick from manifest lists (default: this host's); ``max_parallel_pulls``:
        pulls of different references at once (None: no limit; kubelet's
        serializeImagePulls is 1); ``gc_min_age``: seconds since an image was last pulled or
        handed out by `ensure` before garbage collection may remove it (kubelet's
        imageMinimumGCAge, 2 min), so an image is not collected between its pull and the start
        of the container that needs it."""
        self.root = root
        self.policy = policy
        self.overlay_whiteouts = (
            os.geteuid() == 0 if overlay_whiteouts is None else overlay_whiteouts
        )
        self._disk_usage = disk_usage or _disk_usage
        self._transport = transport
        self._platform = platform
        self._timeout = timeout
        for sub in ("blobs/sha256", "layers", "tmp"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        self._clean_tmp()
        self._index_path = root / "index.json"
        self._cache: dict[str, Any] | None = None
        self._cache_stamp: tuple[int, int] | None = None
        self._ref_locks: dict[str, asyncio.Lock] = {}
        self._layer_locks: dict[str, asyncio.Lock] = {}
        self._in_use: set[str] = set()
        self._gc_min_age = gc_min_age
        self._pull_slots = (
            asyncio.Semaphore(max_parallel_pulls)
            if max_parallel_pulls
            else contextlib.nullcontext()
        )
        self._last_used: dict[str, float] = {}

    def _clean_tmp(self, max_age: float = 86_400.0) -> None:
        """Remove what pulls that died (a crash, SIGKILL) left in tmp/ and as ``.part`` blobs.
        Only old entries: another process sharing the store may be pulling right now."""
        cutoff = time.time() - max_age
        leftovers = [*(self.root / "tmp").iterdir()]
        leftovers += [
            p for p in (self.root / "blobs" / "sha256").iterdir() if p.name.startswith(".")
        ]
        for p in leftovers:
            with contextlib.suppress(OSError):
                if os.lstat(p).st_mtime < cutoff:
                    remove_tree(p)

    # ---- index ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """The index, read under the cross-process lock; written back when the block ends."""
        fd = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            index = self._read()
            yield index
            tmp = self.root / f"index.json.{uuid.uuid4().hex}.tmp"
            with tmp.open("w", encoding="utf-8") as f:
                json.dump(index, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self._index_path)
            self._cache = None
        finally:
            os.close(fd)

    def _read(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self._index_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        data.setdefault("version", 1)
        data.setdefault("images", {})
        data.setdefault("layers", {})
        return data

    def _index(self) -> dict[str, Any]:
        """The index for reading (cached until the file changes)."""
        try:
            st = os.stat(self._index_path)
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if self._cache is None or stamp != self._cache_stamp:
            self._cache = self._read()
            self._cache_stamp = stamp
        return self._cache

    def _info(self, image_id: str, entry: dict[str, Any], layers: dict[str, Any]) -> ImageInfo:
        return ImageInfo(
            id=image_id,
            repo_tags=tuple(entry.get("repo_tags") or ()),
            repo_digests=tuple(entry.get("repo_digests") or ()),
            size=sum(int((layers.get(d) or {}).get("size", 0)) for d in entry["layers"]),
            config=_config_from(entry.get("config") or {}),
            layers=tuple(entry["layers"]),
        )

    def _find(self, index: dict[str, Any], ref: str) -> str | None:
        images: dict[str, Any] = index["images"]
        text = ref.strip()
        if text in images:
            return text
        bare = text.removeprefix("sha256:")
        if len(bare) >= 12 and all(c in "0123456789abcdef" for c in bare) and "/" not in bare:
            hits = [i for i in images if i.removeprefix("sha256:").startswith(bare)]
            if len(hits) == 1:
                return hits[0]
        try:
            r = parse_reference(text)
        except ImagePullError:
            return None
        for image_id, entry in images.items():
            if r.digest:
                if f"{r.name}@{r.digest}" in entry.get("repo_digests", ()):
                    return str(image_id)
            elif f"{r.name}:{r.tag}" in entry.get("repo_tags", ()):
                return str(image_id)
        return None

    # ---- ImageService ----------------------------------------------------------------------

    def get(self, ref: str) -> ImageInfo | None:
        index = self._index()
        image_id = self._find(index, ref)
        if image_id is None:
            return None
        return self._info(image_id, index["images"][image_id], index["layers"])

    def images(self) -> list[ImageInfo]:
        index = self._index()
        return [
            self._info(i, e, index["layers"])
            for i, e in sorted(index["images"].items(), key=lambda kv: -kv[1].get("created", 0))
        ]

    async def ensure(
        self, ref: str, pull_policy: str, auth: dict[str, RegistryAuth] | None = None
    ) -> tuple[ImageInfo, bool]:
        if pull_policy not in PULL_POLICIES:
            raise ValueError(f"unknown imagePullPolicy {pull_policy!r}")
        local = self.get(ref)
        if pull_policy == "Never":
            if local is None:
                raise ImagePullError(
                    f'Container image "{ref}" is not present with pull policy of Never'
                )
            return self._used(local), False
        if pull_policy == "IfNotPresent" and local is not None:
            return self._used(local), False
        if local is not None:
            # Always: re-check with the registry, unless the policy forbids reaching it (then the
            # imported image is what offline mode promises to use)
            try:
                self.policy.endpoints(parse_reference(ref).domain)
            except ImageNotAllowed:
                return self._used(local), False
        info, pulled = await self._pull(ref, auth, only_if_missing=pull_policy == "IfNotPresent")
        return self._used(info), pulled

    def _used(self, info: ImageInfo) -> ImageInfo:
        self._last_used[info.id] = time.time()
        return info

    async def pull(self, ref: str, auth: dict[str, RegistryAuth] | None = None) -> ImageInfo:
        info, _ = await self._pull(ref, auth, only_if_missing=False)
        return info

    async def _pull(
        self, ref: str, auth: dict[str, RegistryAuth] | None, *, only_if_missing: bool
    ) -> tuple[ImageInfo, bool]:
        """Pull ``ref``; with ``only_if_missing``, a pull of the same reference that finished
        while this one waited for the lock is enough (several pods starting on one image)."""
        r = parse_reference(ref)
        try:
            endpoints = self.policy.endpoints(r.domain)  # before any DNS lookup or connection
        except ImageNotAllowed as e:
            raise ImageNotAllowed(f'failed to pull image "{ref}": {e}') from None
        lock = self._ref_locks.setdefault(str(r), asyncio.Lock())
        async with lock, self._pull_slots:
            if only_if_missing and (local := self.get(ref)) is not None:
                return local, False
            errors: list[ImagePullError] = []
            for endpoint in endpoints:
                try:
                    return await self._pull_from(endpoint, r, auth), True
                except ImagePullError as e:
                    errors.append(e)
            if len(errors) == 1:
                raise errors[0]
            raise ImagePullError("; ".join(str(e) for e in errors))

    def _credentials(
        self, endpoint: Endpoint, auth: dict[str, RegistryAuth] | None
    ) -> RegistryAuth | None:
        given = {registry_key(k): v for k, v in (auth or {}).items()}
        if endpoint.host in given:
            return given[endpoint.host]
        if endpoint.config.auth is not None:
            return endpoint.config.auth
        if not endpoint.mirror:
            return given.get(endpoint.registry)
        return None

    def _endpoint_allowed(self, endpoint: Endpoint) -> Callable[[str], bool]:
        """Hosts a pull through ``endpoint`` may reach: the endpoint itself (allowed already:
        a mirror URL may name it differently) and what the policy allows."""
        own = endpoint.url.split("://", 1)[1].split("/", 1)[0].lower()

        def allowed(host: str) -> bool:
            return host.lower() == own or self.policy.allowed(host)

        return allowed

    async def _pull_from(
        self, endpoint: Endpoint, r: Reference, auth: dict[str, RegistryAuth] | None
    ) -> ImageInfo:
        creds = self._credentials(endpoint, auth)
        async with RegistryClient(
            endpoint,
            r.path,
            auth=creds,
            transport=self._transport,
            timeout=self._timeout,
            allowed_host=self._endpoint_allowed(endpoint),
        ) as client:
            top = await client.get_manifest(r.reference)
            manifests = [top.body]
            manifest = top
            if top.media_type in INDEX_TYPES:
                desc = select_manifest(top.json(), self._platform or host_platform())
                manifest = await client.get_manifest(str(desc["digest"]))
                if manifest.media_type in INDEX_TYPES:
                    raise ImagePullError(f"{r}: nested manifest lists are not supported")
                manifests.append(manifest.body)
            m = manifest.json()
            config_desc = m.get("config") or {}
            layer_descs = list(m.get("layers") or [])
            config_digest = str(config_desc.get("digest", ""))
            config_path = self._blob_path(config_digest)
            if config_path.exists():
                config_bytes = config_path.read_bytes()
            else:
                config_bytes = await client.get_blob_bytes(
                    config_digest, config_path, size=config_desc.get("size")
                )
            diff_ids = self._diff_ids(config_bytes, len(layer_descs), str(r))
            sources: list[LayerSource] = []
            downloaded: list[Path] = []
            for desc, diff_id in zip(layer_descs, diff_ids, strict=True):
                digest = str(desc.get("digest", ""))
                media_type = str(desc.get("mediaType", ""))
                if "encrypted" in media_type or media_type.endswith("+gzip+enc"):
                    raise ImagePullError(f"{r}: encrypted layers are not supported")
                if self._layer_dir(diff_id).is_dir():
                    sources.append(LayerSource(open=_no_open, diff_id=diff_id))
                    continue
                path = self._blob_path(digest)
                async with self._layer_locks.setdefault(diff_id, asyncio.Lock()):
                    if not self._layer_dir(diff_id).is_dir() and not path.exists():
                        await client.get_blob(digest, path, size=desc.get("size"))
                        downloaded.append(path)
                sources.append(
                    LayerSource(open=_file_opener(path), diff_id=diff_id, blob_digest=digest)
                )
        try:
            return await self.add_image(
                config=config_bytes,
                layers=sources,
                manifests=manifests,
                repo_tags=[f"{r.name}:{r.tag}"] if r.tag else [],
                repo_digests=[f"{r.name}@{top.digest}"],
            )
        finally:
            for path in downloaded:
                path.unlink(missing_ok=True)

    def _diff_ids(self, config_bytes: bytes, n_layers: int, what: str) -> list[str]:
        try:
            config = json.loads(config_bytes)
            diff_ids = [str(d) for d in config["rootfs"]["diff_ids"]]
        except (ValueError, KeyError, TypeError) as e:
            raise ImagePullError(f"{what}: the image config has no rootfs.diff_ids") from e
        if len(diff_ids) != n_layers:
            raise ImagePullError(
                f"{what}: the manifest lists {n_layers} layers, the config {len(diff_ids)}"
            )
        for d in diff_ids:
            _hex(d)
        return diff_ids

    async def add_image(
        self,
        *,
        config: bytes,
        layers: Sequence[LayerSource],
        manifests: Sequence[bytes] = (),
        repo_tags: Sequence[str] = (),
        repo_digests: Sequence[str] = (),
    ) -> ImageInfo:
        """Unpack the missing layers and record the image (used by pulls and archive imports).
        ``repo_tags`` are normalised here; they move to this image from any other."""
        image_id = "sha256:" + hashlib.sha256(config).hexdigest()
        cfg = json.loads(config)
        diff_ids = self._diff_ids(config, len(layers), image_id)
        for source, diff_id in zip(layers, diff_ids, strict=True):
            if source.diff_id != diff_id:
                raise ImagePullError(
                    f"layer {source.diff_id} does not match the config's {diff_id}"
                )
        self._put_blob(config)
        for body in manifests:
            self._put_blob(body)
        sizes: dict[str, int] = {}
        for source in layers:
            async with self._layer_locks.setdefault(source.diff_id, asyncio.Lock()):
                if self._layer_dir(source.diff_id).is_dir():
                    continue
                sizes[source.diff_id] = await asyncio.to_thread(self._unpack, source)
        tags = [_normal_tag(t) for t in repo_tags]
        now = time.time()
        with self._locked() as index:
            for d, size in sizes.items():
                index["layers"][d] = {"size": size}
            for d in diff_ids:
                index["layers"].setdefault(d, {"size": self._measure(d)})
            for other in index["images"].values():
                other["repo_tags"] = [t for t in other.get("repo_tags", []) if t not in tags]
            entry = index["images"].setdefault(image_id, {"created": now})
            entry["repo_tags"] = sorted(set(entry.get("repo_tags", [])) | set(tags))
            entry["repo_digests"] = sorted(set(entry.get("repo_digests", [])) | set(repo_digests))
            entry["layers"] = diff_ids
            entry["config"] = _config_dict(image_config(cfg))
            entry["blobs"] = sorted(
                {f"sha256:{hashlib.sha256(b).hexdigest()}" for b in [config, *manifests]}
                | set(entry.get("blobs", []))
            )
            entry["pulled"] = now
            info = self._info(image_id, entry, index["layers"])
        self._last_used[image_id] = now
        return info

    def _unpack(self, source: LayerSource) -> int:
        final = self._layer_dir(source.diff_id)
        tmp = self.root / "tmp" / f"layer-{_hex(source.diff_id)[:16]}-{uuid.uuid4().hex}"
        try:
            size = unpack_layer(
                source.open,
                tmp,
                diff_id=source.diff_id,
                blob_digest=source.blob_digest,
                overlay_whiteouts=self.overlay_whiteouts,
            )
            try:
                os.rename(tmp, final)
            except OSError:
                if not final.is_dir():  # another process won the race: keep its copy
                    raise
            return size
        except OSError as e:
            raise ImagePullError(f"layer {source.diff_id}: cannot unpack: {e}") from e
        finally:
            if tmp.exists():
                remove_tree(tmp)

    def _measure(self, diff_id: str) -> int:
        total = 0
        for dirpath, _dirs, files in os.walk(self._layer_dir(diff_id)):
            for name in files:
                with contextlib.suppress(OSError):
                    st = os.lstat(os.path.join(dirpath, name))
                    total += st.st_size if not os.path.islink(os.path.join(dirpath, name)) else 0
        return total

    def _blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / "sha256" / _hex(digest)

    def _layer_dir(self, diff_id: str) -> Path:
        return self.root / "layers" / _hex(diff_id)

    def _put_blob(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = self._blob_path(digest)
        if not path.exists():
            tmp = self.root / "tmp" / f"blob-{uuid.uuid4().hex}"
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return digest

    async def import_archive(self, path: Path, tag: str | None = None) -> list[ImageInfo]:
        from skiff.runtime.images.archive import import_archive

        return await import_archive(self, path, tag=tag, platform=self._platform or host_platform())

    async def remove(self, ref: str) -> None:
        """Untag ``ref`` when it is one tag of several; otherwise remove the image and the
        blobs and layers no other image uses. `ImageNotFound` when nothing matches."""
        with self._locked() as index:
            image_id = self._find(index, ref)
            if image_id is None:
                raise ImageNotFound(f"no such image: {ref}")
            entry = index["images"][image_id]
            tags = entry.get("repo_tags", [])
            if image_id != ref.strip() and len(tags) > 1:
                try:
                    r = parse_reference(ref)
                    tag = f"{r.name}:{r.tag}" if not r.digest else ""
                except ImagePullError:
                    tag = ""
                if tag in tags:
                    entry["repo_tags"] = [t for t in tags if t != tag]
                    return
            del index["images"][image_id]
            dead_layers, dead_blobs = self._unreferenced(index)
            for d in dead_layers:
                index["layers"].pop(d, None)
        await asyncio.to_thread(self._delete, dead_layers, dead_blobs)
        self._last_used.pop(image_id, None)

    def _unreferenced(self, index: dict[str, Any]) -> tuple[list[str], list[str]]:
        live_layers = {d for e in index["images"].values() for d in e["layers"]}
        live_blobs = {b for e in index["images"].values() for b in e.get("blobs", [])}
        dead_layers = [d for d in index["layers"] if d not in live_layers]
        on_disk = {
            f"sha256:{p.name}"
            for p in (self.root / "blobs" / "sha256").iterdir()
            if len(p.name) == 64 and not p.name.startswith(".")
        }
        return dead_layers, sorted(on_disk - live_blobs)

    def _delete(self, layers: list[str], blobs: list[str]) -> None:
        for d in layers:
            remove_tree(self._layer_dir(d))
        for b in blobs:
            self._blob_path(b).unlink(missing_ok=True)

    def layer_dirs(self, image_id: str) -> list[Path]:
        index = self._index()
        found = self._find(index, image_id)
        if found is None:
            raise ImageNotFound(f"no such image: {image_id}")
        return [self._layer_dir(d) for d in index["images"][found]["layers"]]

    def flatten(self, image_id: str, dest: Path) -> None:
        """Copy the image's merged filesystem into ``dest`` (whiteouts applied by deletion):
        a rootfs without overlayfs."""
        flatten(self.layer_dirs(image_id), dest)

    def in_use(self, image_ids: set[str]) -> None:
        self._in_use = set(image_ids)

    def _usage_percent(self) -> float:
        total, used = self._disk_usage(self.root)
        return 100.0 * used / total if total > 0 else 0.0

    async def garbage_collect(self, high_percent: int, low_percent: int) -> list[str]:
        """kubelet's image GC: above ``high_percent`` disk use, remove unused images least
        recently used first until use is below ``low_percent``.
        (pkg/kubelet/images/image_gc_manager.go, read not copied)"""
        if self._usage_percent() < high_percent:
            return []
        index = self._index()

        def last_used(item: tuple[str, dict[str, Any]]) -> float:
            image_id, entry = item
            return max(self._last_used.get(image_id, 0.0), float(entry.get("pulled", 0.0)))

        old_enough = time.time() - self._gc_min_age
        candidates = sorted(
            (
                (i, e)
                for i, e in index["images"].items()
                if i not in self._in_use and last_used((i, e)) <= old_enough
            ),
            key=last_used,
        )
        removed: list[str] = []
        for image_id, _entry in candidates:
            if self._usage_percent() < low_percent:
                break
            with contextlib.suppress(ImageNotFound):
                await self.remove(image_id)
                removed.append(image_id)
        return removed

    def disk_bytes(self) -> int:
        """Bytes the store holds (blobs and unpacked layers), apparent sizes."""
        total = 0
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                with contextlib.suppress(OSError):
                    p = os.path.join(dirpath, name)
                    if not os.path.islink(p):
                        total += os.lstat(p).st_size
        return total


def _no_open() -> IO[bytes]:
    raise AssertionError("layer already unpacked")  # pragma: no cover


def _file_opener(path: Path) -> Callable[[], IO[bytes]]:
    def opener() -> IO[bytes]:
        return path.open("rb")

    return opener


def _normal_tag(tag: str) -> str:
    r = parse_reference(tag)
    return f"{r.name}:{r.tag or 'latest'}"


if TYPE_CHECKING:  # ImageStore satisfies the seam (checked by mypy)
    _conforms: type[ImageService] = ImageStore
