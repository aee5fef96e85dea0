"""Unpacking one layer tar into a directory, safely, and flattening layers into one rootfs.

`unpack_layer` reads a layer blob (gzip, zstd or plain tar, told apart by their magic bytes),
hashing the blob and the uncompressed stream as it goes, so one pass checks both the blob digest
and the config's ``diff_id``. Extraction never leaves the target directory: names with ``..`` are
refused, a member is never written through a symlink or a non-directory (each parent component is
checked with ``lstat``), and hard links must point at a regular file inside the layer.

Whiteouts (OCI image spec, "Representing Changes"; read at
https://github.com/opencontainers/image-spec/blob/v1.1.0/layer.md#whiteouts):

- with ``overlay_whiteouts`` (root): ``.wh.<name>`` becomes a character device 0:0 named
  ``<name>`` and ``.wh..wh..opq`` the ``trusted.overlay.opaque=y`` xattr on its directory -
  what overlayfs reads when the layer directories are its lowerdirs;
- without: the ``.wh.`` files stay as they are, and `flatten` applies them (and the overlayfs
  forms) by deletion when it copies layers bottom-up into one directory.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import zstandard

from skiff.runtime.images.base import ImagePullError

__all__ = ["LayerError", "flatten", "remove_tree", "unpack_layer"]

WHITEOUT_PREFIX = ".wh."
OPAQUE = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"


class LayerError(ImagePullError):
    """A layer that cannot be unpacked safely or does not match its digests."""


class _HashingReader:
    """A file-like object hashing what is read through it."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data: bytes = self._raw.read(n)
        self.hash.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        while self.read(1 << 20):
            pass


def _decompressed(raw: Any, head: bytes) -> Any:
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return raw


def _parts(name: str) -> list[str]:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise LayerError(f"layer member {name!r} escapes the layer (contains ..); refused")
    return parts


def _ensure_dir(root: Path, parts: list[str]) -> Path:
    """``root/parts...`` as a real directory, created as needed, never through a symlink."""
    cur = root
    for p in parts:
        cur = cur / p
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            os.mkdir(cur, 0o755)
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise LayerError(
                f"layer member path {'/'.join(parts)!r} goes through {cur.name!r}, which is not a "
                "directory (a symlink?); refused"
            )
    return cur


def _remove(path: Path) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        remove_tree(path)
    else:
        os.unlink(path)


def remove_tree(path: Path) -> None:
    """``rm -rf``, also through directories whose mode forbids writing (non-root)."""

    def onerror(func: Callable[..., Any], p: str, _exc: Any) -> None:
        parent = os.path.dirname(p)
        with contextlib.suppress(OSError):
            os.chmod(parent, 0o700)
            if os.path.isdir(p) and not os.path.islink(p):
                os.chmod(p, 0o700)
        func(p)

    if path.is_symlink() or not path.exists():
        path.unlink(missing_ok=True)
        return
    shutil.rmtree(path, onerror=onerror)


def _set_xattrs(path: Path, member: tarfile.TarInfo, *, is_root: bool) -> None:
    for key, value in member.pax_headers.items():
        if not key.startswith("SCHILY.xattr."):
            continue
        name = key[len("SCHILY.xattr.") :]
        if name.startswith("trusted.overlay.") or (not is_root and not name.startswith("user.")):
            continue  # an image must not plant overlayfs markers; non-root can set user.* only
        with contextlib.suppress(OSError):
            os.setxattr(path, name, value.encode("utf-8", "surrogateescape"), follow_symlinks=False)


def unpack_layer(
    opener: Callable[[], IO[bytes]],
    dest: Path,
    *,
    diff_id: str,
    blob_digest: str = "",
    overlay_whiteouts: bool,
) -> int:
    """Extract the layer ``opener()`` yields into ``dest`` (a new, empty directory); check its
    uncompressed digest against ``diff_id`` and, when given, the blob's against ``blob_digest``.
    Returns the unpacked size in bytes (regular files' sizes)."""
    is_root = os.geteuid() == 0
    dest.mkdir(mode=0o755)
    dirs: list[tuple[Path, tarfile.TarInfo]] = []
    size = 0
    with opener() as raw_file:
        head = raw_file.read(4)
        raw_file.seek(0)
        raw = _HashingReader(raw_file)
        stream = _decompressed(raw, head)
        plain = _HashingReader(stream)
        try:
            with tarfile.open(fileobj=plain, mode="r|") as tar:  # type: ignore[call-overload]
                for member in tar:
                    size += _extract(tar, member, dest, dirs, is_root, overlay_whiteouts)
            plain.drain()
            raw.drain()
        except (tarfile.TarError, OSError, EOFError, zstandard.ZstdError) as e:
            if isinstance(e, LayerError):
                raise
            raise LayerError(f"layer {blob_digest or diff_id}: cannot unpack: {e}") from e
    got = "sha256:" + plain.hash.hexdigest()
    if got != diff_id:
        raise LayerError(f"layer diff_id mismatch: the config says {diff_id}, content is {got}")
    if blob_digest and "sha256:" + raw.hash.hexdigest() != blob_digest:
        raise LayerError(
            f"layer blob digest mismatch: expected {blob_digest}, content is "
            f"sha256:{raw.hash.hexdigest()}; refused"
        )
    real_dest = os.path.realpath(dest)
    for path, member in reversed(dirs):  # deepest last-seen first: modes after contents
        # a later member may have replaced the directory or one of its parents (with a symlink
        # to outside, say): chmod follows symlinks, so touch only what is still this directory
        rel = os.path.relpath(path, dest)
        if os.path.realpath(path) != os.path.join(real_dest, rel) or not os.path.isdir(path):
            continue
        if is_root:
            os.lchown(path, member.uid, member.gid)
        os.chmod(path, member.mode & 0o7777)
        os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
    return size


def _extract(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    root: Path,
    dirs: list[tuple[Path, tarfile.TarInfo]],
    is_root: bool,
    overlay_whiteouts: bool,
) -> int:
    parts = _parts(member.name)
    if not parts:
        return 0
    parent = _ensure_dir(root, parts[:-1])
    base = parts[-1]
    if overlay_whiteouts and base == OPAQUE:
        os.setxattr(parent, OPAQUE_XATTR, b"y")
        return 0
    if overlay_whiteouts and base.startswith(WHITEOUT_PREFIX):
        target = parent / base[len(WHITEOUT_PREFIX) :]
        _remove(target)
        os.mknod(target, stat.S_IFCHR | 0o600, os.makedev(0, 0))
        return 0
    path = parent / base
    try:
        existing: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        existing = None
    if member.isdir():
        if existing is not None and not stat.S_ISDIR(existing.st_mode):
            _remove(path)
            existing = None
        if existing is None:
            os.mkdir(path, 0o755)
        dirs.append((path, member))
        _set_xattrs(path, member, is_root=is_root)
        return 0
    if existing is not None:
        _remove(path)
    if member.isfile():
        src = tar.extractfile(member)
        assert src is not None
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
            if is_root:
                os.fchown(out.fileno(), member.uid, member.gid)
            os.fchmod(out.fileno(), member.mode & 0o7777)
        os.utime(path, (member.mtime, member.mtime))
        _set_xattrs(path, member, is_root=is_root)
        return member.size
    if member.issym():
        os.symlink(member.linkname, path)
    elif member.islnk():
        target_parts = _parts(member.linkname)
        if not target_parts:
            raise LayerError(f"hard link {member.name!r} to the layer root; refused")
        target = _ensure_dir_existing(root, target_parts[:-1]) / target_parts[-1]
        try:
            tst = os.lstat(target)
        except FileNotFoundError as e:
            raise LayerError(
                f"hard link {member.name!r} to {member.linkname!r}, which the layer lacks"
            ) from e
        if not stat.S_ISREG(tst.st_mode):
            raise LayerError(f"hard link {member.name!r} to a non-regular file; refused")
        os.link(target, path, follow_symlinks=False)
        return 0
    elif member.ischr() or member.isblk():
        if not is_root:
            return 0  # devices need root; /dev comes from the runtime anyway
        kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
        os.mknod(path, kind | (member.mode & 0o7777), os.makedev(member.devmajor, member.devminor))
    elif member.isfifo():
        os.mkfifo(path, member.mode & 0o7777)
    else:
        return 0
    if is_root:
        os.lchown(path, member.uid, member.gid)
    if not member.issym():
        os.chmod(path, member.mode & 0o7777)
    os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
    return 0


def _ensure_dir_existing(root: Path, parts: list[str]) -> Path:
    cur = root
    for p in parts:
        cur = cur / p
        try:
            st = os.lstat(cur)
        except FileNotFoundError as e:
            raise LayerError(f"hard link target directory {'/'.join(parts)!r} is missing") from e
        if not stat.S_ISDIR(st.st_mode):
            raise LayerError(f"hard link target path {'/'.join(parts)!r} is not a directory")
    return cur


def _is_overlay_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(0, 0)


def _is_opaque(path: Path) -> bool:
    if (path / OPAQUE).exists():
        return True
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def flatten(layer_dirs: list[Path], dest: Path) -> None:
    """Copy layers bottom-first into ``dest``, applying whiteouts by deletion (either form), as
    overlayfs would show them merged."""
    dest.mkdir(parents=True, exist_ok=True)
    for layer in layer_dirs:
        _merge_dir(layer, dest)


def _merge_dir(src: Path, dst: Path) -> None:
    if _is_opaque(src):
        for child in list(dst.iterdir()):
            _remove(child)
    for entry in sorted(os.scandir(src), key=lambda e: e.name):
        name = entry.name
        st = entry.stat(follow_symlinks=False)
        target = dst / name
        if name == OPAQUE:
            continue
        if name.startswith(WHITEOUT_PREFIX):
            _remove(dst / name[len(WHITEOUT_PREFIX) :])
            continue
        if _is_overlay_whiteout(st):
            _remove(target)
            continue
        if stat.S_ISDIR(st.st_mode):
            try:
                tst: os.stat_result | None = os.lstat(target)
            except FileNotFoundError:
                tst = None
            if tst is not None and not stat.S_ISDIR(tst.st_mode):
                _remove(target)
                tst = None
            if tst is None:
                os.mkdir(target, 0o755)
            _merge_dir(Path(entry.path), target)
            shutil.copystat(entry.path, target, follow_symlinks=False)
            continue
        _remove(target)
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(entry.path), target)
        elif stat.S_ISREG(st.st_mode):
            shutil.copy2(entry.path, target, follow_symlinks=False)
        elif stat.S_ISFIFO(st.st_mode):
            os.mkfifo(target, stat.S_IMODE(st.st_mode))
        elif (stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)) and os.geteuid() == 0:
            os.mknod(target, st.st_mode, st.st_rdev)
