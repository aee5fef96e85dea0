"""Smoke test of ``python -m bench compare``: one benchmark against a git ref and this checkout.

Covers: both sides run (the ref from a temporary worktree), the final JSON line carries before,
after and ratio for the benchmark's figures, and the worktree is removed afterwards.
Excludes: any timing assertion.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _worktrees() -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "worktree", "list", "--porcelain"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if line.startswith("worktree ")]


def test_compare_runs_both_sides_and_cleans_up(tmp_path: Path) -> None:
    before = _worktrees()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "compare",
            "--baseline",
            "HEAD",
            "api_create",
            "--",
            "--duration",
            "2",
            "--count",
            "200",
            "--clients",
            "4",
            "--ref-seconds",
            "0.3",
            "--tmp-dir",
            str(tmp_path),
            "--timeout",
            "120",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["baseline"] == "HEAD"
    assert result["before"]["count"] == result["after"]["count"] == 200
    assert result["before"]["errors"] == result["after"]["errors"] == 0
    assert result["ratio"]["creates_per_s"] > 0
    assert _worktrees() == before
    assert list(tmp_path.iterdir()) == []
