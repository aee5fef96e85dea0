"""``skiff image import|ls|pull|rm`` run as real subprocesses against a store under a temporary
data dir: the table ``ls`` prints, a pull from the local registry, an offline refusal naming
--offline (exit 1, no traceback), untag/remove, and errors for unknown images and bad files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from skiff.testing.images import LocalRegistry


def _skiff(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "skiff",
            "image",
            *args,
            "--data-dir",
            str(data_dir),
            "--node-name",
            "n1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def test_image_cli(tmp_path: Path, busybox_layout: Path, registry: LocalRegistry) -> None:
    data = tmp_path / "data"
    r = _skiff("import", str(busybox_layout), "--tag", "skiff-test/busybox:1.0", data_dir=data)
    assert r.returncode == 0, r.stderr
    assert "docker.io/skiff-test/busybox:1.0" in r.stdout
    assert (data / "agent/n1/images/index.json").exists()

    registry.push(busybox_layout, "cli/busybox", "2.0")
    ref = f"{registry.host}/cli/busybox:2.0"
    r = _skiff("pull", ref, "--offline", data_dir=data)
    assert r.returncode == 0, r.stderr

    r = _skiff("ls", data_dir=data)
    assert r.returncode == 0, r.stderr
    lines = [line.split() for line in r.stdout.splitlines() if line.strip()]
    assert lines[0] == ["REPOSITORY", "TAG", "IMAGE", "ID", "SIZE"]
    rows = {(row[0], row[1]) for row in lines[2:]}
    assert rows == {
        ("docker.io/skiff-test/busybox", "1.0"),
        (f"{registry.host}/cli/busybox", "2.0"),
    }
    image_ids = {row[2] for row in lines[2:]}
    assert len(image_ids) == 1 and len(next(iter(image_ids))) == 12  # same image, two tags
    assert all(row[3:] == ["2.0", "MB"] for row in lines[2:])

    r = _skiff("pull", "nginx:1.25", "--offline", data_dir=data)
    assert r.returncode == 1
    assert "--offline" in r.stderr and "Traceback" not in r.stderr

    r = _skiff("rm", "skiff-test/busybox:1.0", data_dir=data)
    assert (r.returncode, r.stdout.strip()) == (0, "Untagged: skiff-test/busybox:1.0")
    r = _skiff("rm", ref, data_dir=data)
    assert r.returncode == 0 and r.stdout.startswith("Deleted: sha256:")
    r = _skiff("ls", "-q", data_dir=data)
    assert (r.returncode, r.stdout) == (0, "")
    r = _skiff("rm", "nothing:1", data_dir=data)
    assert r.returncode == 1 and "no such image" in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("import", "/nonexistent/x.tar"), "not a tar archive"),
        (("pull", "Bad:Ref"), "invalid reference format"),
    ],
)
def test_image_cli_errors(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    r = _skiff(*args, data_dir=tmp_path)
    assert r.returncode == 1
    assert message in r.stderr and "Traceback" not in r.stderr


def test_registries_file_error(tmp_path: Path) -> None:
    f = tmp_path / "r.yaml"
    f.write_text("mirrors: {docker.io: {endpoint: [ftp://x]}}")
    r = _skiff("pull", "x:1", "--registries", str(f), data_dir=tmp_path)
    assert r.returncode == 1 and "ftp://x" in r.stderr
