"""Before and after in one run: a benchmark against an earlier commit and against this checkout.

``python -m bench compare --baseline REF [--rounds 2] NAME [-- benchmark options]`` checks out
``REF`` into a temporary git worktree, then runs ``python -m bench NAME`` alternately from that
worktree (its ``bench`` and its ``skiff``, through ``PYTHONPATH``) and from this checkout, ``--rounds``
times each (A B A B ...: alternating spreads slow drift of the machine over both sides), and prints
every numeric figure of the benchmarks' JSON result lines side by side with the ratio
after/before. The last stdout line is one JSON object: ``{"baseline": REF, "before": {...},
"after": {...}, "ratio": {...}}`` with the median of each figure over the rounds. The worktree is
removed afterwards, also when a run fails or the comparison is interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from bench._common import REPO_ROOT, print_json_line, print_table

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--baseline", required=True, help="git commit or ref to compare against")
    p.add_argument("--rounds", type=int, default=1, help="runs of each side (alternating)")
    p.add_argument("name", help="the benchmark to run on both sides")
    p.add_argument("args", nargs=argparse.REMAINDER, help="options passed to the benchmark")


def _run_side(checkout: Path, name: str, args: list[str]) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(checkout / "src"), str(checkout)])
    if checkout != REPO_ROOT:
        # not this checkout's code: measuring it under a coverage run (the test suite measures
        # subprocesses) would record files that vanish with the temporary worktree
        for var in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"):
            env.pop(var, None)
    proc = subprocess.run(
        [sys.executable, "-m", "bench", name, *args],
        cwd=checkout,
        env=env,
        stdout=subprocess.PIPE,
        check=False,
    )
    out = proc.stdout.decode(errors="replace").strip().splitlines()
    sys.stderr.write("\n".join(out[:-1]) + "\n")
    if proc.returncode not in (0,) or not out:
        raise RuntimeError(f"{name} from {checkout} exited {proc.returncode}")
    result: dict[str, Any] = orjson.loads(out[-1])
    return result


def _median(results: list[dict[str, Any]]) -> dict[str, float]:
    keys = [
        k for k, v in results[0].items() if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    return {
        k: statistics.median(float(r[k]) for r in results if isinstance(r.get(k), int | float))
        for k in keys
    }


def run(args: argparse.Namespace) -> int:
    extra = [a for a in args.args if a != "--"]
    base = Path(tempfile.mkdtemp(prefix="skiff-bench-baseline-"))
    worktree = base / "tree"
    subprocess.run(
        ["git", "-C", str(REPO_ROOT), "worktree", "add", "--detach", str(worktree), args.baseline],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    before: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    try:
        for _ in range(max(1, args.rounds)):
            before.append(_run_side(worktree, args.name, extra))
            after.append(_run_side(REPO_ROOT, args.name, extra))
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            subprocess.run(
                ["git", "-C", str(REPO_ROOT), "worktree", "remove", "--force", str(worktree)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        with contextlib.suppress(OSError):
            base.rmdir()
    b, a = _median(before), _median(after)
    ratio = {k: round(a[k] / b[k], 3) for k in b if k in a and b[k]}
    print_table(
        f"{args.name}: {args.baseline} (before) vs this checkout (after), "
        f"median of {len(before)} run(s) each",
        ["figure", "before", "after", "after/before"],
        [
            [k, f"{b[k]:g}", f"{a[k]:g}", f"{ratio[k]:.3f}" if k in ratio else "-"]
            for k in b
            if k in a
        ],
    )
    print_json_line({"baseline": args.baseline, "before": b, "after": a, "ratio": ratio})
    return 0
