"""Smoke test of ``python -m bench scheduler`` with tiny parameters: it runs end to end (API server
process, nodes - Node objects and Leases written by the bench, or ``skiff agent --simulate`` with
the controller-manager running - pods created beforehand, the scheduler process), every pod is
bound, no node is over-committed, the figures are present, and nothing it started is left behind.
No timing assertion: the figures are read by a person (docs/scheduler.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "extra", [[], ["--agents", "--controller-manager"]], ids=["objects", "agents"]
)
def test_scheduler_bench_smoke(extra: list[str]) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "scheduler",
            "--nodes",
            "20",
            "--pods",
            "200",
            "--lease-period",
            "2",
            "--timeout",
            "120",
            *extra,
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    (run,) = result["runs"]
    assert run["bound"] == 200 and run["overcommitted_nodes"] == 0
    assert run["attempts"] >= 200 and run["cycle_sum_s"] > 0 and run["pods_per_s"] > 0
    assert run["scheduler_rss_mib"] > 0 and run["apiserver_rss_mib"] > 0
    if extra:
        assert run["agents_rss_mib"] > 0 and run["controller_manager_rss_mib"] > 0
    leftovers = subprocess.run(
        ["pgrep", "-f", "skiff-bench-sched-"], capture_output=True, text=True
    )
    assert leftovers.stdout.strip() == ""
