"""The image store: ensure() per pull policy (Never without the image fails, IfNotPresent does
not ask the registry again, Always re-checks and follows a moved tag; offline Always uses an
imported image), imports (OCI layout directory and tar, docker save tar, --tag), tags moving
between images, untag vs remove, layers shared and removed with their last image, garbage
collection above a disk threshold (oldest unused first, in-use kept), and the index surviving a
new store object (another process). Excludes: registry protocol details (test_image_registry)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from skiff.runtime.images.archive import ArchiveError
from skiff.runtime.images.base import ImagePullError
from skiff.runtime.images.policy import RegistryPolicy
from skiff.runtime.images.store import ImageNotFound, ImageStore
from skiff.testing.images import (
    LocalRegistry,
    build_busybox_layout,
    build_docker_save,
    build_image_layout,
    busybox_layer,
    layer_tar,
)

pytestmark = pytest.mark.usefixtures("loopback_only")


async def test_ensure_policies(
    tmp_path: Path, registry: LocalRegistry, counting_transport: Any
) -> None:
    ref = f"{registry.host}/ensure/app:1.0"
    v1 = build_image_layout(tmp_path / "v1", [layer_tar({"v": b"1"})])
    v2 = build_image_layout(tmp_path / "v2", [layer_tar({"v": b"2"})])
    registry.push(v1, "ensure/app", "1.0")
    transport = counting_transport
    store = ImageStore(
        tmp_path / "images", policy=RegistryPolicy(offline=True), transport=transport
    )
    with pytest.raises(ImagePullError, match="not present with pull policy of Never"):
        await store.ensure(ref, "Never")
    assert transport.paths == []
    first, pulled = await store.ensure(ref, "IfNotPresent")
    assert pulled
    assert transport.paths
    transport.paths.clear()
    again, pulled = await store.ensure(ref, "IfNotPresent")
    assert (again.id, pulled, transport.paths) == (first.id, False, [])
    never, pulled = await store.ensure(ref, "Never")
    assert (never.id, pulled) == (first.id, False)
    # the tag moves in the registry: IfNotPresent keeps the local image, Always follows
    registry.push(v2, "ensure/app", "1.0")
    same, _ = await store.ensure(ref, "IfNotPresent")
    assert same.id == first.id
    newer, pulled = await store.ensure(ref, "Always")
    assert pulled and newer.id != first.id
    assert any("/manifests/" in p for p in transport.paths)
    (layer,) = store.layer_dirs(newer.id)
    assert (layer / "v").read_bytes() == b"2"
    # the old image lost its tag, the new one has it
    assert store.get(first.id) is not None and store.get(first.id).repo_tags == ()  # type: ignore[union-attr]
    assert store.get(ref).id == newer.id  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="imagePullPolicy"):
        await store.ensure(ref, "Sometimes")


async def test_always_offline_uses_imported_image(
    tmp_path: Path, busybox_layout: Path, store: ImageStore, loopback_only: list[str]
) -> None:
    (imported,) = await store.import_archive(busybox_layout, tag="nginx:1.25")
    assert imported.repo_tags == ("docker.io/library/nginx:1.25",)
    for policy in ("Always", "IfNotPresent", "Never"):
        info, pulled = await store.ensure("nginx:1.25", policy)
        assert (info.id, pulled) == (imported.id, False)
    assert loopback_only == []


async def test_import_oci_layout_dir_and_tar(
    tmp_path: Path, busybox_layout: Path, store: ImageStore
) -> None:
    (from_dir,) = await store.import_archive(busybox_layout)
    assert from_dir.repo_tags == ("docker.io/skiff-test/busybox:1.0",)
    assert from_dir.repo_digests[0].startswith("docker.io/skiff-test/busybox@sha256:")
    tar_path = tmp_path / "layout.tar"
    with tarfile.open(tar_path, "w") as tar:
        for name in ("oci-layout", "index.json", "blobs"):
            tar.add(busybox_layout / name, arcname=name)
    (from_tar,) = await store.import_archive(tar_path, tag="127.0.0.1:5000/mine:2")
    assert from_tar.id == from_dir.id
    assert set(store.get(from_dir.id).repo_tags) == {  # type: ignore[union-attr]
        "docker.io/skiff-test/busybox:1.0",
        "127.0.0.1:5000/mine:2",
    }
    (layer,) = store.layer_dirs(from_dir.id)
    assert (layer / "bin/busybox").exists()


async def test_import_docker_save(tmp_path: Path, store: ImageStore) -> None:
    layers = [busybox_layer(), layer_tar({"etc/hostname": b"saved\n", "bin/.wh.ls": b""})]
    path = build_docker_save(tmp_path / "save.tar", layers, repo_tags=["saved/app:3", "other:4"])
    (info,) = await store.import_archive(path)
    assert set(info.repo_tags) == {"docker.io/saved/app:3", "docker.io/library/other:4"}
    assert info.config.cmd == ("sh",)
    assert len(info.layers) == 2
    root = tmp_path / "rootfs"
    store.flatten(info.id, root)
    assert (root / "etc/hostname").read_text() == "saved\n"
    assert (root / "bin/cat").is_symlink()
    assert not (root / "bin/ls").exists() and not (root / "bin/ls").is_symlink()
    assert not list(root.rglob(".wh.*"))


async def test_import_refuses_garbage(
    tmp_path: Path, store: ImageStore, busybox_layout: Path
) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(ArchiveError, match="not a tar"):
        await store.import_archive(junk)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ArchiveError, match="neither an OCI image layout"):
        await store.import_archive(empty)
    # a blob whose content does not match its name
    bad = tmp_path / "bad"
    build_busybox_layout(bad, extra_files={"x": b"y"})
    index = json.loads((bad / "index.json").read_text())
    manifest = json.loads((bad / "blobs/sha256" / index["manifests"][0]["digest"][7:]).read_text())
    layer = bad / "blobs/sha256" / manifest["layers"][1]["digest"][7:]
    layer.write_bytes(build_image_layout.__doc__.encode())  # type: ignore[union-attr]
    with pytest.raises(ImagePullError, match=r"cannot unpack|mismatch"):
        await store.import_archive(bad)
    assert store.images() == []


async def test_remove_untags_then_deletes(tmp_path: Path, store: ImageStore) -> None:
    base = busybox_layer()
    a = build_image_layout(tmp_path / "a", [base, layer_tar({"a": b"a"})], name="x/a")
    b = build_image_layout(tmp_path / "b", [base, layer_tar({"b": b"b"})], name="x/b")
    (ia,) = await store.import_archive(a)
    (ib,) = await store.import_archive(b)
    await store.import_archive(a, tag="x/a:alias")
    layers = tmp_path / "images/layers"
    assert len(list(layers.iterdir())) == 3  # the busybox layer is shared
    await store.remove("x/a:alias")
    assert store.get(ia.id).repo_tags == ("docker.io/x/a:1.0",)  # type: ignore[union-attr]
    await store.remove("x/a:1.0")
    assert store.get(ia.id) is None
    assert len(list(layers.iterdir())) == 2
    await store.remove(ib.id[7:19])
    assert store.images() == []
    assert list(layers.iterdir()) == []
    assert list((tmp_path / "images/blobs/sha256").iterdir()) == []
    with pytest.raises(ImageNotFound):
        await store.remove("x/a:1.0")


async def test_garbage_collect(tmp_path: Path) -> None:
    store_root = tmp_path / "images"
    sizes = {"total": 1, "base": 0}
    holder: list[ImageStore] = []

    def disk_usage(_path: Path) -> tuple[int, int]:
        return sizes["total"], min(sizes["total"], sizes["base"] + holder[0].disk_bytes())

    store = ImageStore(
        store_root, policy=RegistryPolicy(offline=True), disk_usage=disk_usage, gc_min_age=0
    )
    holder.append(store)
    ids = []
    for i in range(4):  # distinct layers of ~200 kB each
        layout = build_image_layout(
            tmp_path / f"l{i}", [layer_tar({"data": bytes([i]) * 200_000})], name=f"gc/img{i}"
        )
        (info,) = await store.import_archive(layout)
        ids.append(info.id)
    # make each image ~10 % of the disk, and the disk 80 % full with all four
    per_image = store.disk_bytes() // 4
    sizes["total"] = per_image * 10
    sizes["base"] = per_image * 4
    assert await store.garbage_collect(85, 60) == []  # below the high mark: nothing to do
    store.in_use({ids[0]})
    await store.ensure("gc/img1:1.0", "Never")  # img1 used just now: it goes last
    removed = await store.garbage_collect(75, 65)
    # oldest unused first (img2, then img3), skipping img0 (in use); stop under 65 %
    assert removed == [ids[2], ids[3]]
    assert {i.id for i in store.images()} == {ids[0], ids[1]}
    # a second store object (another process) sees the same index; with the default minimum
    # age it collects nothing that was pulled just now
    other = ImageStore(store_root, policy=RegistryPolicy(offline=True), disk_usage=disk_usage)
    assert {i.id for i in other.images()} == {ids[0], ids[1]}
    sizes["base"] = sizes["total"]  # the disk is full
    assert await other.garbage_collect(75, 65) == []
