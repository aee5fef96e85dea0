"""cgroups behind one interface: OOM detection and statistics from v1 and v2 files (fake
hierarchies in a temp dir, no root needed), and on a root host a real v1/v2 cgroup made, limited,
read and removed (named ``skiff-test-...``, removed in a finalizer).

Excludes: runc's own use of the cgroups (tests/runtime/test_runc.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from skiff.runtime.runc.cgroups import Cgroups, detect
from skiff.runtime.types import Resources


def fake_v1(tmp_path: Path) -> Cgroups:
    mounts = {c: tmp_path / c for c in ("memory", "cpuacct", "cpu", "pids")}
    d = mounts["memory"] / "skiff" / "c1"
    d.mkdir(parents=True)
    (d / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    (d / "memory.usage_in_bytes").write_text("10000\n")
    (d / "memory.stat").write_text("cache 0\ntotal_inactive_file 4000\ntotal_rss 5000\n")
    c = mounts["cpuacct"] / "skiff" / "c1"
    c.mkdir(parents=True)
    (c / "cpuacct.usage").write_text("123456789\n")
    quiet = mounts["memory"] / "skiff" / "c2"
    quiet.mkdir()
    (quiet / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
    return Cgroups(mounts, 1)


def test_v1_oom_and_stats(tmp_path: Path) -> None:
    cg = fake_v1(tmp_path)
    assert cg.oom_killed("/skiff/c1")
    assert not cg.oom_killed("/skiff/c2")
    assert not cg.oom_killed("/skiff/missing")
    stats = cg.stats("/skiff/c1")
    assert stats is not None
    assert (stats.cpu_usage_ns, stats.memory_usage_bytes) == (123456789, 10000)
    assert (stats.memory_working_set_bytes, stats.memory_rss_bytes) == (6000, 5000)
    assert cg.stats("/skiff/missing") is None


def test_v2_oom_and_stats(tmp_path: Path) -> None:
    d = tmp_path / "skiff" / "c1"
    d.mkdir(parents=True)
    (d / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    (d / "memory.current").write_text("8192\n")
    (d / "memory.stat").write_text("anon 4096\ninactive_file 1024\n")
    (d / "cpu.stat").write_text("usage_usec 250\nuser_usec 200\n")
    cg = Cgroups({"unified": tmp_path}, 2)
    assert cg.oom_killed("skiff/c1")
    stats = cg.stats("skiff/c1")
    assert stats is not None
    assert stats.cpu_usage_ns == 250_000
    assert (stats.memory_usage_bytes, stats.memory_working_set_bytes) == (8192, 7168)
    (d / "memory.events").write_text("oom 0\noom_kill 0\n")
    assert not cg.oom_killed("skiff/c1")


def test_remove_empty_tree(tmp_path: Path) -> None:
    cg = fake_v1(tmp_path)
    # fake files are not removable by rmdir: only empty dirs count
    empty = tmp_path / "pids" / "skiff" / "pod" / "c"
    empty.mkdir(parents=True)
    assert cg.exists("skiff/pod")
    cg.remove("skiff/pod")
    assert not (tmp_path / "pids" / "skiff" / "pod").exists()


@pytest.fixture
def real_cgroup() -> Iterator[tuple[Cgroups, str]]:
    if os.geteuid() != 0:
        pytest.skip("making cgroups needs root")
    cg = detect()
    path = f"skiff-test-{uuid.uuid4().hex[:8]}/pod"
    try:
        yield cg, path
    finally:
        cg.remove(path.split("/")[0], kill=True)
        assert not cg.exists(path.split("/")[0])


def test_host_cgroup_limits(real_cgroup: tuple[Cgroups, str]) -> None:
    cg, path = real_cgroup
    cg.ensure(path, Resources(memory_limit_bytes=32 << 20, cpu_shares=512, cpu_quota_us=20_000))
    assert cg.exists(path)
    if cg.version == 1:
        mem = cg.mounts["memory"] / path / "memory.limit_in_bytes"
        assert int(mem.read_text()) == 32 << 20
        assert int((cg.mounts["cpu"] / path / "cpu.shares").read_text()) == 512
        assert int((cg.mounts["cpu"] / path / "cpu.cfs_quota_us").read_text()) == 20_000
        stats = cg.stats(path)
        assert stats is not None and stats.memory_usage_bytes >= 0
    assert not cg.oom_killed(path)
    assert cg.pids(path) == []
