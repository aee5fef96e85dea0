"""Layer unpacking: gzip/zstd/plain detection, diff_id and blob digest checks, refusal of members
that would leave the layer directory (``..``, through a symlink, hard links out), whiteouts in
overlayfs form (as root: char device 0:0, opaque xattr - checked by mounting overlayfs over the
layers) and in file form applied by `flatten`. Excludes: registry transport (test_image_registry)."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
import zstandard

from skiff.runtime.images.layer import LayerError, flatten, unpack_layer
from skiff.testing.images import layer_tar

IS_ROOT = os.geteuid() == 0


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _opener(data: bytes) -> Callable[[], IO[bytes]]:
    return lambda: io.BytesIO(data)


def _unpack(tar: bytes, dest: Path, *, blob: bytes | None = None, overlay: bool = False) -> int:
    blob = tar if blob is None else blob
    return unpack_layer(
        _opener(blob),
        dest,
        diff_id=_digest(tar),
        blob_digest=_digest(blob),
        overlay_whiteouts=overlay,
    )


def _tree(root: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = p.read_bytes().decode()
    return out


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_unpack_compressions(tmp_path: Path, compression: str) -> None:
    tar = layer_tar(
        {"etc/motd": b"hi\n", "bin/tool": b"#!x"},
        symlinks={"bin/alias": "tool"},
        hardlinks={"bin/tool2": "bin/tool"},
        modes={"bin/tool": 0o755},
    )
    blob = {
        "gzip": gzip.compress(tar),
        "zstd": zstandard.ZstdCompressor().compress(tar),
        "none": tar,
    }[compression]
    size = _unpack(tar, tmp_path / "l", blob=blob)
    assert size == len(b"hi\n") + len(b"#!x")
    assert _tree(tmp_path / "l") == {
        "etc": "dir",
        "bin": "dir",
        "etc/motd": "hi\n",
        "bin/tool": "#!x",
        "bin/alias": "-> tool",
        "bin/tool2": "#!x",
    }
    assert stat.S_IMODE(os.stat(tmp_path / "l/bin/tool").st_mode) == 0o755
    assert os.stat(tmp_path / "l/bin/tool").st_ino == os.stat(tmp_path / "l/bin/tool2").st_ino


def test_digest_mismatches_refused(tmp_path: Path) -> None:
    tar = layer_tar({"a": b"1"})
    with pytest.raises(LayerError, match="diff_id mismatch"):
        unpack_layer(_opener(tar), tmp_path / "a", diff_id=_digest(b"x"), overlay_whiteouts=False)
    blob = gzip.compress(tar)
    with pytest.raises(LayerError, match="blob digest mismatch"):
        unpack_layer(
            _opener(blob),
            tmp_path / "b",
            diff_id=_digest(tar),
            blob_digest=_digest(b"other"),
            overlay_whiteouts=False,
        )


@pytest.mark.parametrize(
    ("tar", "match"),
    [
        (lambda: layer_tar({"../escape": b"x"}, raw_names=True), "escapes"),
        (lambda: layer_tar({"a/../../escape": b"x"}, raw_names=True), "escapes"),
        (
            lambda: layer_tar({"evil/passwd": b"owned"}, symlinks={"evil": "/tmp"}, raw_names=True),
            "not a directory",
        ),
        (lambda: layer_tar(hardlinks={"h": "../../etc/passwd"}, raw_names=True), "escapes"),
        (lambda: layer_tar(hardlinks={"h": "nothere"}, raw_names=True), "lacks"),
    ],
    ids=["dotdot", "nested-dotdot", "through-symlink", "hardlink-out", "hardlink-missing"],
)
def test_escapes_refused(tmp_path: Path, tar: Callable[[], bytes], match: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    data = tar()
    # entries are ordered dirs, files, symlinks: put the symlink first for the symlink case
    if b"evil" in data:
        import tarfile

        buf = io.BytesIO()
        with (
            tarfile.open(fileobj=io.BytesIO(data)) as src,
            tarfile.open(fileobj=buf, mode="w") as out,
        ):
            for m in sorted(src.getmembers(), key=lambda m: not m.issym()):
                if m.issym():
                    m.linkname = str(outside)
                out.addfile(m, src.extractfile(m) if m.isfile() else None)
        data = buf.getvalue()
    (tmp_path / "layer").mkdir()
    with pytest.raises(LayerError, match=match):
        _unpack(data, tmp_path / "layer" / "l")
    assert list(outside.iterdir()) == []
    assert [p.name for p in (tmp_path / "layer").iterdir()] == ["l"]


LOWER = layer_tar(
    {"etc/keep": b"k", "etc/gone": b"g", "data/old1": b"1", "data/sub/old2": b"2"},
    dirs=("data/sub",),
)
UPPER = layer_tar({"etc/.wh.gone": b"", "data/.wh..wh..opq": b"", "data/new": b"n"})
MERGED = {
    "etc": "dir",
    "etc/keep": "k",
    "data": "dir",
    "data/new": "n",
}


def test_whiteouts_file_form_flatten(tmp_path: Path) -> None:
    _unpack(LOWER, tmp_path / "lower")
    _unpack(UPPER, tmp_path / "upper")
    assert (tmp_path / "upper/etc/.wh.gone").exists()  # kept as a file, applied on flatten
    flatten([tmp_path / "lower", tmp_path / "upper"], tmp_path / "root")
    assert _tree(tmp_path / "root") == MERGED


@contextlib.contextmanager
def _overlay(lowerdirs: list[Path], target: Path) -> Iterator[Path]:
    target.mkdir()
    opts = "lowerdir=" + ":".join(str(p) for p in reversed(lowerdirs))
    subprocess.run(
        ["mount", "-t", "overlay", "skiff-test-overlay", "-o", opts, str(target)], check=True
    )
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=False)


@pytest.mark.skipif(not IS_ROOT, reason="overlayfs whiteouts (mknod, trusted xattrs) need root")
def test_whiteouts_overlay_form(tmp_path: Path) -> None:
    _unpack(LOWER, tmp_path / "lower", overlay=True)
    _unpack(UPPER, tmp_path / "upper", overlay=True)
    st = os.lstat(tmp_path / "upper/etc/gone")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(0, 0)
    assert os.getxattr(tmp_path / "upper/data", "trusted.overlay.opaque") == b"y"
    assert not (tmp_path / "upper/data/.wh..wh..opq").exists()
    # overlayfs itself shows the merged view the whiteouts ask for...
    with _overlay([tmp_path / "lower", tmp_path / "upper"], tmp_path / "skiff-merged") as merged:
        assert _tree(merged) == MERGED
    # ...and flatten reads the overlay form the same way
    flatten([tmp_path / "lower", tmp_path / "upper"], tmp_path / "root")
    assert _tree(tmp_path / "root") == MERGED


def test_image_cannot_plant_overlay_xattrs(tmp_path: Path) -> None:
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("d")
        info.type = tarfile.DIRTYPE
        info.pax_headers = {"SCHILY.xattr.trusted.overlay.opaque": "y"}
        tar.addfile(info)
    _unpack(buf.getvalue(), tmp_path / "l", overlay=True)
    with pytest.raises(OSError):
        os.getxattr(tmp_path / "l/d", "trusted.overlay.opaque")


def test_directory_replaced_by_symlink_keeps_outside_untouched(tmp_path: Path) -> None:
    """A directory member later replaced by a symlink to outside must not have its mode or
    owner applied through the symlink."""
    import tarfile

    outside = tmp_path / "outside"
    (outside / "b").mkdir(parents=True)
    os.chmod(outside, 0o700)
    os.chmod(outside / "b", 0o700)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("a", "a/b"):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = 0o777
            tar.addfile(info)
        link = tarfile.TarInfo("a")
        link.type = tarfile.SYMTYPE
        link.linkname = str(outside)
        tar.addfile(link)
    _unpack(buf.getvalue(), tmp_path / "l")
    assert (tmp_path / "l/a").is_symlink()
    assert stat.S_IMODE(os.stat(outside).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(outside / "b").st_mode) == 0o700
