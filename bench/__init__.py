"""Benchmarks for skiff, run by hand: ``python -m bench <name> [options]`` from the checkout.

Each benchmark starts what it measures as real processes on 127.0.0.1, measures a reference in the
same run (raw SQLite commits, a bare asyncio relay), prints a result table and, last, one line of
JSON with the figures. Each is bounded by a hard timeout and ends every process it started and
removes its temporary directories, also on failure or Ctrl-C. ``README.md`` beside this file has the
figures measured on the project machine and where the time goes.

Benchmarks: ``api_create`` (:mod:`bench.api_create`), ``watch_fanout`` (:mod:`bench.watch_fanout`).
"""
