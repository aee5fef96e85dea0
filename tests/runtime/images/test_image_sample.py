"""The test and quick-start images work: the busybox image's shell runs its applets, and the
sample web image, imported and flattened into a rootfs, serves its page with busybox httpd (run
with chroot on 127.0.0.1, as root). Also ``python -m skiff.testing.images web DIR``. Excludes:
running them in containers (the runc runtime's tests)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from skiff.runtime.images.store import ImageStore
from skiff.testing.images import WEB_PAGE, free_port
from skiff.testing.wait import eventually

CHROOT = shutil.which("chroot") or ""
needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not CHROOT, reason="chroot needs root (and coreutils' chroot)"
)


def _rootfs(store: ImageStore, layout: Path, dest: Path) -> tuple[Path, tuple[str, ...]]:
    (info,) = asyncio.run(store.import_archive(layout))
    store.flatten(info.id, dest)
    return dest, info.config.entrypoint + info.config.cmd


@needs_root
def test_busybox_image_runs(tmp_path: Path, busybox_layout: Path, store: ImageStore) -> None:
    root, argv = _rootfs(store, busybox_layout, tmp_path / "rootfs")
    assert argv == ("sh",)
    out = subprocess.run(
        [CHROOT, str(root), "/bin/sh", "-c", "echo hi | tr a-z A-Z; ls /bin | wc -l"],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
        env={"PATH": "/bin"},
    ).stdout.split()
    assert out[0] == "HI" and int(out[1]) > 100


@needs_root
def test_web_image_serves(tmp_path: Path, store: ImageStore) -> None:
    layout = tmp_path / "web"
    r = subprocess.run(
        [sys.executable, "-m", "skiff.testing.images", "web", str(layout)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    root, argv = _rootfs(store, layout, tmp_path / "rootfs")
    assert argv == ("httpd", "-f", "-v", "-p", "8080", "-h", "/www")
    (info,) = store.images()
    assert info.repo_tags == ("docker.io/skiff-examples/web:1.0",)
    assert info.config.exposed_ports == ("8080/tcp",)
    port = free_port()
    # the image's own command, bound to loopback on a free port instead of *:8080
    cmd = [*argv[:-3], f"127.0.0.1:{port}", *argv[-2:]]
    proc = subprocess.Popen(
        [CHROOT, str(root), *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PATH": "/bin"},
        start_new_session=True,
    )

    async def wait_served() -> None:
        async with httpx.AsyncClient() as client:

            async def serves() -> bool:
                try:
                    resp = await client.get(f"http://127.0.0.1:{port}/")
                except httpx.TransportError:
                    return False
                return resp.status_code == 200 and resp.content == WEB_PAGE

            await eventually(serves, within=10, interval=0.05, what="httpd serving the page")

    try:
        asyncio.run(wait_served())
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
