"""Benchmark: ConfigMap creates through the HTTPS API on SQLite, from 50 keep-alive clients.

``python -m bench api_create [--duration 10] [--count 20000] [--clients 50] [--load-procs 1]``

Starts a real ``skiff apiserver`` (SQLite store in a temporary directory) as its own process, then
``--load-procs`` load-generator processes (``bench._loadgen``) that together hold ``--clients``
keep-alive HTTPS connections and POST ConfigMaps of ``--payload-size`` bytes until ``--count``
objects exist or ``--duration`` seconds have passed. Reports creates/s, p50/p95/p99 latency and
errors (which must be zero), and the server's and the load generators' CPU use.

References measured in the same run, on the same disk, before the server starts:

* raw SQLite: a loop of single-row ``INSERT`` + ``COMMIT`` in WAL mode with ``synchronous=FULL``
  (the durability the store promises), i.e. the fsync-bound commit rate of this disk;
* the store: ``SQLiteStore.create`` from 50 concurrent asyncio writers (group commit), i.e. what the
  storage layer alone sustains before HTTP, TLS, decoding, validation and serialization.

``--profile FILE`` records the server with py-spy during the load and prints where its time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from bench._common import (
    Resources,
    Summary,
    cpu_seconds,
    guarded,
    print_json_line,
    print_table,
    read_ready_line,
    read_result_line,
    summarize,
)
from bench._http import LOOP_NAME, run_async
from bench._profile import find_py_spy, start_py_spy, stop_py_spy, summarize_profile
from skiff.store import open_store

__all__ = ["add_arguments", "run", "sqlite_commit_rate", "store_create_rate"]

GOAL_CREATES_PER_S = 5000.0
GOAL_P99_MS = 50.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="stop creating after this many seconds (default 10)",
    )
    parser.add_argument(
        "--count", type=int, default=20_000, help="stop after this many creates (default 20000)"
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=50,
        help="concurrent keep-alive HTTPS connections (default 50)",
    )
    parser.add_argument(
        "--load-procs",
        type=int,
        default=1,
        help="load-generator processes sharing the clients (default 1)",
    )
    parser.add_argument(
        "--payload-size", type=int, default=1024, help="bytes of JSON per ConfigMap (default 1024)"
    )
    parser.add_argument(
        "--kind",
        choices=("configmap", "custom"),
        default="configmap",
        help="what the API creates: ConfigMaps, or objects of a CustomResourceDefinition made "
        "first (a 'data' schema like a ConfigMap's; default configmap)",
    )
    parser.add_argument(
        "--ref-seconds",
        type=float,
        default=3.0,
        help="seconds for each reference measurement (default 3)",
    )
    parser.add_argument(
        "--ref-count",
        type=int,
        default=20_000,
        help="most writes per reference measurement (default 20000)",
    )
    parser.add_argument(
        "--datastore",
        choices=("sqlite", "memory"),
        default="sqlite",
        help="the server's store (default sqlite)",
    )
    parser.add_argument(
        "--tmp-dir",
        type=Path,
        default=None,
        help="where the temporary data directory goes (default: system temp)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="record the server with py-spy into this raw profile file",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="hard limit for the whole benchmark in seconds (default 300)",
    )


def sqlite_commit_rate(
    path: Path, *, seconds: float, max_count: int, payload_size: int
) -> tuple[float, Summary]:
    """Single-row INSERT + COMMIT in a loop (WAL, synchronous=FULL): commits/s and latencies."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE kv (id INTEGER PRIMARY KEY, name TEXT UNIQUE, value BLOB)")
        value = b"x" * payload_size
        latencies: list[float] = []
        start = time.perf_counter()
        end = start + seconds
        i = 0
        while i < max_count and time.perf_counter() < end:
            t0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO kv (name, value) VALUES (?, ?)", (f"k{i}", value))
            conn.execute("COMMIT")
            latencies.append((time.perf_counter() - t0) * 1000.0)
            i += 1
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
    return i / elapsed, summarize(latencies)


async def store_create_rate(
    path: Path, *, writers: int, seconds: float, max_count: int, payload_size: int
) -> tuple[float, Summary]:
    """``SQLiteStore.create`` from ``writers`` concurrent tasks: creates/s and latencies.

    ``path`` must be absolute (the store URL is ``sqlite://`` followed by it).
    """
    store = await open_store(f"sqlite://{path}")
    try:
        value = b"x" * payload_size
        latencies: list[float] = []
        done = 0
        end = time.perf_counter() + seconds

        async def writer(w: int) -> None:
            nonlocal done
            i = 0
            while done < max_count and time.perf_counter() < end:
                t0 = time.perf_counter()
                await store.create(f"/registry/configmaps/default/w{w}-{i}", value)
                latencies.append((time.perf_counter() - t0) * 1000.0)
                done += 1
                i += 1

        start = time.perf_counter()
        await asyncio.gather(*(writer(w) for w in range(writers)))
        elapsed = time.perf_counter() - start
    finally:
        await store.close()
    return done / elapsed, summarize(latencies)


def _load_config(
    args: argparse.Namespace,
    *,
    host: str,
    port: int,
    ca: str,
    token: str,
    index: int,
    run_id: str,
    deadline: float,
) -> dict[str, Any]:
    procs = args.load_procs
    return {
        "mode": "create",
        "host": host,
        "port": port,
        "tls": True,
        "ca": ca,
        "token": token,
        "path": CUSTOM_PATH if args.kind == "custom" else "/api/v1/namespaces/default/configmaps",
        "kind": args.kind,
        "connections": args.clients // procs + (1 if index < args.clients % procs else 0),
        "count": args.count // procs + (1 if index < args.count % procs else 0),
        "duration": args.duration,
        "payload_size": args.payload_size,
        "name_prefix": f"bench-{run_id}-p{index}-",
        "run_id": run_id,
        "deadline": deadline,
    }


CUSTOM_PATH = "/apis/bench.skiff.dev/v1/namespaces/default/blobs"
CUSTOM_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "blobs.bench.skiff.dev"},
    "spec": {
        "group": "bench.skiff.dev",
        "scope": "Namespaced",
        "names": {"plural": "blobs", "kind": "Blob"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "data": {
                                "type": "object",
                                "additionalProperties": {"type": "string"},
                            }
                        },
                    }
                },
            }
        ],
    },
}


def _create_crd(port: int, ca: Path, token: str) -> None:
    """Create the ``Blob`` CRD and wait until its objects are served (``--kind custom``)."""
    import httpx

    with httpx.Client(
        base_url=f"https://127.0.0.1:{port}",
        verify=str(ca),
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        r = http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=CUSTOM_CRD)
        if r.status_code != 201:
            raise RuntimeError(f"creating the CRD answered {r.status_code}: {r.text[:300]}")
        deadline = time.monotonic() + 30
        while http.get(CUSTOM_PATH).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the CRD's objects were not served within 30 s")
            time.sleep(0.05)


def _measure_api(args: argparse.Namespace, res: Resources, data_dir: Path) -> dict[str, Any]:
    extra = ["--datastore-endpoint", "memory://"] if args.datastore == "memory" else []
    server = res.start_server(data_dir / "apiserver", *extra)
    assert server.process is not None
    if args.kind == "custom":
        _create_crd(server.port, server.ca_file, server.token)
    run_id = uuid.uuid4().hex[:8]
    setup_budget = 60.0
    deadline = time.time() + setup_budget + args.duration + 60.0
    procs = [
        res.spawn_module(
            "bench._loadgen",
            orjson.dumps(
                _load_config(
                    args,
                    host="127.0.0.1",
                    port=server.port,
                    ca=str(server.ca_file),
                    token=server.token,
                    index=k,
                    run_id=run_id,
                    deadline=deadline,
                )
            ).decode(),
        )
        for k in range(args.load_procs)
    ]
    for proc in procs:
        ready = read_ready_line(proc, timeout=setup_budget)
        if "fatal" in ready:
            raise RuntimeError(f"load process {proc.pid} failed: {ready['fatal']}")
    spy = None
    if args.profile is not None:
        exe = find_py_spy()
        if exe is None:
            raise RuntimeError("--profile needs py-spy: pip install py-spy into the venv")
        spy = start_py_spy(exe, server.process.pid, args.profile.resolve())
        res.processes.append(spy)
        time.sleep(0.5)  # let py-spy attach before the load starts
    server_cpu0 = cpu_seconds(server.process.pid)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
    results = [read_result_line(p, timeout=args.duration + 90.0) for p in procs]
    server_cpu = cpu_seconds(server.process.pid) - server_cpu0
    if spy is not None:
        stop_py_spy(spy)
    res.stop_server(server)

    latencies = [x for r in results for x in r["latencies_ms"]]
    started = min(r["started"] for r in results)
    finished = max(r["finished"] for r in results)
    wall = max(1e-9, finished - started)
    return {
        "creates": len(latencies),
        "wall_s": wall,
        "rate": len(latencies) / wall,
        "latency": summarize(latencies),
        "errors": sum(r["errors"] for r in results),
        "error_samples": [e for r in results for e in r["error_samples"]][:10],
        "server_cpu_pct": 100.0 * server_cpu / wall,
        "load_cpu_pct": 100.0 * sum(r["cpu_s"] for r in results) / wall,
    }


def run(args: argparse.Namespace) -> int:
    with guarded(timeout=args.timeout, base_dir=args.tmp_dir) as res:
        work = res.tempdir("skiff-bench-create-")
        raw_rate, raw_lat = sqlite_commit_rate(
            work / "raw.db",
            seconds=args.ref_seconds,
            max_count=args.ref_count,
            payload_size=args.payload_size,
        )
        store_rate, store_lat = run_async(
            store_create_rate(
                work / "store.db",
                writers=args.clients,
                seconds=args.ref_seconds,
                max_count=args.ref_count,
                payload_size=args.payload_size,
            )
        )
        api = _measure_api(args, res, work)
        profile = summarize_profile(args.profile) if args.profile is not None else None

    lat: Summary = api["latency"]
    rate: float = api["rate"]

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b else "-"

    print_table(
        f"api_create: {args.clients} clients, {args.payload_size} B "
        f"{'custom objects (Blob CRD)' if args.kind == 'custom' else 'ConfigMaps'}, "
        f"{args.datastore} store, {os.cpu_count()} CPUs, clients on {LOOP_NAME}",
        ["measurement", "ops/s", "p50 ms", "p95 ms", "p99 ms", "API/this"],
        [
            [
                "API creates over HTTPS",
                f"{rate:,.0f}",
                f"{lat.p50:.1f}",
                f"{lat.p95:.1f}",
                f"{lat.p99:.1f}",
                "1.00x",
            ],
            [
                f"SQLiteStore.create, {args.clients} writers",
                f"{store_rate:,.0f}",
                f"{store_lat.p50:.1f}",
                f"{store_lat.p95:.1f}",
                f"{store_lat.p99:.1f}",
                ratio(rate, store_rate),
            ],
            [
                "raw SQLite INSERT+COMMIT (WAL, FULL)",
                f"{raw_rate:,.0f}",
                f"{raw_lat.p50:.2f}",
                f"{raw_lat.p95:.2f}",
                f"{raw_lat.p99:.2f}",
                ratio(rate, raw_rate),
            ],
            [
                "goal",
                f"{GOAL_CREATES_PER_S:,.0f}",
                "",
                "",
                f"< {GOAL_P99_MS:.0f}",
                ratio(rate, GOAL_CREATES_PER_S),
            ],
        ],
    )
    print(
        f"{api['creates']} creates in {api['wall_s']:.2f}s, errors: {api['errors']}; "
        f"CPU: server {api['server_cpu_pct']:.0f}%, load generator {api['load_cpu_pct']:.0f}% "
        "(100% = one core)"
    )
    for sample in api["error_samples"]:
        print(f"  error: {sample}")
    if profile is not None:
        print_table(
            f"server profile ({profile.samples} samples): self time by function",
            ["function", "% samples"],
            [[name, f"{p:.1f}"] for name, p in profile.top_functions],
        )
        print_table(
            "server profile: self time by package",
            ["package", "% samples"],
            [[name, f"{p:.1f}"] for name, p in profile.top_packages],
        )
        print_table(
            "server profile: skiff functions on the stack (inclusive)",
            ["function", "% samples"],
            [[name, f"{p:.1f}"] for name, p in profile.top_inclusive],
        )

    result: dict[str, Any] = {
        "benchmark": "api_create",
        "clients": args.clients,
        "load_procs": args.load_procs,
        "datastore": args.datastore,
        "payload_size": args.payload_size,
        "client_loop": LOOP_NAME,
        "creates_per_s": round(rate, 1),
        **lat.as_dict(),
        "errors": api["errors"],
        "wall_s": round(api["wall_s"], 3),
        "server_cpu_pct": round(api["server_cpu_pct"], 1),
        "load_cpu_pct": round(api["load_cpu_pct"], 1),
        "store_creates_per_s": round(store_rate, 1),
        "store_p99_ms": round(store_lat.p99, 3),
        "sqlite_commits_per_s": round(raw_rate, 1),
        "sqlite_commit_p99_ms": round(raw_lat.p99, 3),
        "ratio_api_to_store": round(rate / store_rate, 4) if store_rate else None,
        "ratio_api_to_sqlite": round(rate / raw_rate, 4) if raw_rate else None,
        "goal_creates_per_s": GOAL_CREATES_PER_S,
        "goal_p99_ms": GOAL_P99_MS,
        "meets_goal": rate >= GOAL_CREATES_PER_S and lat.p99 < GOAL_P99_MS,
    }
    print_json_line(result)
    return 0 if api["errors"] == 0 and api["creates"] > 0 else 1
