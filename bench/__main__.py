"""``python -m bench <name> [options]``: run one benchmark; ``python -m bench -h`` lists them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from bench import (
    api_create,
    client_transport,
    compare,
    failover,
    informer_cache,
    pod_start,
    scheduler,
    watch_fanout,
    watch_pernode,
)
from bench._common import BenchInterrupted
from bench._profile import summarize_profile

BENCHMARKS: dict[str, ModuleType] = {
    "api_create": api_create,
    "client_transport": client_transport,
    "failover": failover,
    "informer_cache": informer_cache,
    "pod_start": pod_start,
    "scheduler": scheduler,
    "watch_fanout": watch_fanout,
    "watch_pernode": watch_pernode,
}


def _profile_summary(args: argparse.Namespace) -> int:
    summary = summarize_profile(args.file, top=args.top)
    print(f"{summary.samples} samples")
    for title, rows in (
        ("self time by function", summary.top_functions),
        ("self time by package", summary.top_packages),
        ("on the stack (inclusive)", summary.top_inclusive),
    ):
        print(f"\n{title}:")
        for name, pct in rows:
            print(f"  {pct:5.1f}%  {name}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="name", required=True)
    for name, module in BENCHMARKS.items():
        doc = (module.__doc__ or "").strip().splitlines()[0]
        p = sub.add_parser(
            name,
            help=doc,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(func=module.run)
    p = sub.add_parser(
        "compare",
        help="run a benchmark against an earlier commit and this checkout, in one run",
        description=compare.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    compare.add_arguments(p)
    p.set_defaults(func=compare.run)
    p = sub.add_parser(
        "profile_summary", help="summarize a py-spy raw profile written by --profile"
    )
    p.add_argument("file", type=Path)
    p.add_argument("--top", type=int, default=15)
    p.set_defaults(func=_profile_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (BenchInterrupted, KeyboardInterrupt) as exc:
        print(f"benchmark stopped: {str(exc) or 'interrupted'}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
