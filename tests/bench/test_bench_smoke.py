"""Smoke test of the benchmarks: each runs end to end with tiny parameters and reports sane figures.

Covers: ``python -m bench api_create``, ``python -m bench watch_fanout`` and
``python -m bench watch_pernode`` as a user runs them
(real server process, load-generator processes, references, result table, final JSON line), zero
errors, every watch event delivered, and that no process or temporary directory is left behind.
Excludes: any timing assertion - the figures depend on the machine and are read by a person
(``bench/README.md``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _run_bench(*args: str, tmp_dir: Path) -> tuple[dict[str, Any], str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--tmp-dir", str(tmp_dir), "--timeout", "120"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    last = proc.stdout.strip().splitlines()[-1]
    result: dict[str, Any] = json.loads(last)
    # Everything the benchmark created under --tmp-dir is gone again, and so is the API server
    # it started there (its command line names its data directory under tmp_dir).
    assert list(tmp_dir.iterdir()) == []
    assert _processes_mentioning(str(tmp_dir)) == []
    return result, proc.stdout


@pytest.fixture
def tmp_dir() -> Iterator[Path]:
    # A directory of our own: the benchmark must remove what it made in it, which we check.
    path = Path(tempfile.mkdtemp(prefix="skiff-bench-smoke-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{entry.name}: {cmdline}")
    return found


def test_api_create_smoke(tmp_dir: Path) -> None:
    result, out = _run_bench(
        "api_create",
        "--count",
        "200",
        "--duration",
        "20",
        "--clients",
        "10",
        "--load-procs",
        "2",
        "--ref-seconds",
        "0.3",
        "--ref-count",
        "200",
        tmp_dir=tmp_dir,
    )
    assert result["benchmark"] == "api_create"
    assert result["errors"] == 0
    assert result["count"] == 200  # the count bound, not the duration, ended the run
    assert result["creates_per_s"] > 0
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"] <= result["max_ms"]
    assert result["store_creates_per_s"] > 0
    assert result["sqlite_commits_per_s"] > 0
    assert "API creates over HTTPS" in out
    assert "raw SQLite INSERT+COMMIT" in out


def test_watch_fanout_smoke(tmp_dir: Path) -> None:
    result, out = _run_bench(
        "watch_fanout",
        "--watchers",
        "20",
        "--watch-procs",
        "2",
        "--events",
        "10",
        "--rate",
        "50",
        tmp_dir=tmp_dir,
    )
    assert result["benchmark"] == "watch_fanout"
    assert result["errors"] == 0
    assert result["expected"] == 20 * 10
    assert result["delivered"] == result["expected"]
    assert result["ref_delivered"] == result["ref_expected"] == 20 * 10
    assert result["count"] == 200  # one latency sample per delivered event
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
    assert "TLS relay" in out


def test_watch_pernode_smoke(tmp_dir: Path) -> None:
    result, out = _run_bench(
        "watch_pernode",
        "--watchers",
        "12",
        "--small-watchers",
        "4",
        "--watch-procs",
        "2",
        "--events",
        "20",
        "--rate",
        "50",
        tmp_dir=tmp_dir,
    )
    assert result["benchmark"] == "watch_pernode"
    assert result["errors"] == 0 and result["misrouted"] == 0
    # per node every write reaches one watcher; unfiltered, every watcher
    assert result["pernode_big_expected"] == result["pernode_big_delivered"] == 20
    assert result["pernode_small_expected"] == result["pernode_small_delivered"] == 20
    assert result["all_big_expected"] == result["all_big_delivered"] == 12 * 20
    assert result["all_small_expected"] == result["all_small_delivered"] == 4 * 20
    assert result["delivered"] == result["expected"]
    assert result["count"] == 20  # one latency sample per delivered per-node event
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
    # the CPU ratios are there (None only if a phase was too short for the CPU clock's ticks)
    assert "cpu_ratio_pernode" in result and "cpu_ratio_all" in result
    assert "per-node" in out and "unfiltered" in out
