"""Importing images from files: an OCI image layout (a directory or a tar of one) and a
``docker save`` tar (``manifest.json`` + ``repositories``, old or Docker 25's OCI-shaped form).

OCI layout (https://github.com/opencontainers/image-spec/blob/v1.1.0/image-layout.md):
``oci-layout``, ``index.json`` whose descriptors point at manifests (or indexes, narrowed to the
host platform) under ``blobs/<alg>/<hex>``. An image's name comes from the descriptor's
``io.containerd.image.name`` annotation, else from ``org.opencontainers.image.ref.name`` when
that is a whole reference (a bare tag names no repository), else ``--tag``.

``docker save``: ``manifest.json`` is a list of ``{"Config", "RepoTags", "Layers"}`` with paths
inside the archive; layers are tars (plain or compressed). When an archive has both (Docker 25+),
``manifest.json`` is used: it carries the full names.

Every blob read is checked against its digest while it is unpacked (`LayerSource.blob_digest`),
and every layer against the config's ``diff_ids``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import tarfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from skiff.runtime.images.base import ImageInfo, ImagePullError
from skiff.runtime.images.registry import INDEX_TYPES, select_manifest

if TYPE_CHECKING:
    from skiff.runtime.images.store import ImageStore

__all__ = ["ArchiveError", "import_archive"]


class ArchiveError(ImagePullError):
    """The file is not an image archive this store can read, or it is inconsistent."""


class _Source(Protocol):
    def exists(self, name: str) -> bool: ...
    def read(self, name: str) -> bytes: ...
    def open(self, name: str) -> IO[bytes]: ...


def _clean(name: str) -> str:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ArchiveError(f"archive path {name!r} leaves the archive; refused")
    return "/".join(parts)


class _DirSource:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        return self.root / _clean(name)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def read(self, name: str) -> bytes:
        with self.open(name) as f:
            return f.read()

    def open(self, name: str) -> IO[bytes]:
        try:
            return self._path(name).open("rb")
        except OSError as e:
            raise ArchiveError(f"archive lacks {name}: {e}") from e


class _TarSource:
    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.members = {_clean(m.name): m for m in tar.getmembers() if m.isfile()}

    def exists(self, name: str) -> bool:
        return _clean(name) in self.members

    def read(self, name: str) -> bytes:
        with self.open(name) as f:
            return f.read()

    def open(self, name: str) -> IO[bytes]:
        member = self.members.get(_clean(name))
        f = self.tar.extractfile(member) if member is not None else None
        if f is None:
            raise ArchiveError(f"archive lacks {name}")
        return f


def _open_tar(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:*")
    except (OSError, tarfile.TarError) as e:
        raise ArchiveError(f"{path}: not a tar archive or OCI layout directory: {e}") from e


@asynccontextmanager
async def _open(path: Path) -> AsyncIterator[_Source]:
    """The archive, opened in a worker thread (reading a tar's member list, compressed perhaps,
    takes a while)."""
    if await asyncio.to_thread(path.is_dir):
        yield _DirSource(path)
        return
    tar = await asyncio.to_thread(_open_tar, path)
    with tar:
        yield await asyncio.to_thread(_TarSource, tar)


def _plans(src: _Source, path: Path, platform: tuple[str, str, str]) -> list[dict[str, Any]]:
    if src.exists("manifest.json"):
        return _docker_plans(src)
    if src.exists("oci-layout") and src.exists("index.json"):
        return _oci_plans(src, platform)
    raise ArchiveError(
        f"{path}: neither an OCI image layout (oci-layout, index.json) nor a docker "
        "save archive (manifest.json)"
    )


def _blob_name(digest: str) -> str:
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or len(hexpart) != 64:
        raise ArchiveError(f"unsupported digest {digest!r}")
    return f"blobs/sha256/{hexpart}"


def _read_blob(src: _Source, digest: str) -> bytes:
    data = src.read(_blob_name(digest))
    got = "sha256:" + hashlib.sha256(data).hexdigest()
    if got != digest:
        raise ArchiveError(f"blob {digest} in the archive has digest {got}; refused")
    return data


def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as e:
        raise ArchiveError(f"{what} is not JSON: {e}") from e


def _opener(src: _Source, name: str) -> Any:
    return lambda: src.open(name)


async def import_archive(
    store: ImageStore, path: Path, *, tag: str | None, platform: tuple[str, str, str]
) -> list[ImageInfo]:
    """Import every image in ``path`` into ``store``; ``tag`` names the image of a one-image
    archive."""
    from skiff.runtime.images.store import LayerSource

    async with _open(path) as src:
        plans = await asyncio.to_thread(_plans, src, path, platform)
        if tag is not None and len(plans) != 1:
            raise ArchiveError(f"{path} holds {len(plans)} images; --tag needs exactly one")
        out: list[ImageInfo] = []
        for plan in plans:
            config = plan["config"]
            diff_ids = _json(config, "image config").get("rootfs", {}).get("diff_ids") or []
            if len(diff_ids) != len(plan["layers"]):
                raise ArchiveError(
                    f"{path}: an image lists {len(plan['layers'])} layers, its config "
                    f"{len(diff_ids)}"
                )
            layers = [
                LayerSource(open=_opener(src, name), diff_id=str(d), blob_digest=digest)
                for (name, digest), d in zip(plan["layers"], diff_ids, strict=True)
            ]
            names: list[str] = [tag] if tag is not None else plan["names"]
            digests = [f"{_repo(n)}@{plan['digest']}" for n in names if plan.get("digest")]
            out.append(
                await store.add_image(
                    config=config,
                    layers=layers,
                    manifests=plan["manifests"],
                    repo_tags=names,
                    repo_digests=digests,
                )
            )
        return out


def _repo(name: str) -> str:
    from skiff.runtime.images.reference import parse_reference

    return parse_reference(name).name


def _docker_plans(src: _Source) -> list[dict[str, Any]]:
    manifest = _json(src.read("manifest.json"), "manifest.json")
    if not isinstance(manifest, list):
        raise ArchiveError("manifest.json is not a list")
    plans = []
    for item in manifest:
        layers = [(str(name), "") for name in item.get("Layers") or []]
        plans.append(
            {
                "config": src.read(str(item["Config"])),
                "layers": layers,
                "names": [str(t) for t in item.get("RepoTags") or []],
                "manifests": [],
                "digest": "",
            }
        )
    return plans


def _oci_plans(src: _Source, platform: tuple[str, str, str]) -> list[dict[str, Any]]:
    index = _json(src.read("index.json"), "index.json")
    plans = []
    for desc in index.get("manifests") or []:
        annotations = desc.get("annotations") or {}
        top_digest = str(desc["digest"])
        body = _read_blob(src, top_digest)
        manifests = [body]
        media_type = desc.get("mediaType") or _json(body, "manifest").get("mediaType", "")
        if media_type in INDEX_TYPES:
            chosen = select_manifest(_json(body, "image index"), platform)
            body = _read_blob(src, str(chosen["digest"]))
            manifests.append(body)
        m = _json(body, "manifest")
        config = _read_blob(src, str(m["config"]["digest"]))
        layers = [(_blob_name(str(d["digest"])), str(d["digest"])) for d in m.get("layers") or []]
        name = str(annotations.get("io.containerd.image.name") or "")
        ref_name = str(annotations.get("org.opencontainers.image.ref.name") or "")
        if not name and ("/" in ref_name or ":" in ref_name):
            name = ref_name
        plans.append(
            {
                "config": config,
                "layers": layers,
                "names": [name] if name else [],
                "manifests": manifests,
                "digest": top_digest,
            }
        )
    return plans
