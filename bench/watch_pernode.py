"""Benchmark: per-node pod watches (``fieldSelector=spec.nodeName=<node>``) under pod churn.

``python -m bench watch_pernode [--watchers 1000] [--small-watchers 100] [--events 400] [--rate 20]``

Starts a real ``skiff apiserver`` (SQLite store in a temporary directory) and runs four phases
against it, one after the other, each with the same churn:

* ``pernode``: ``--watchers`` HTTPS watch streams, watcher ``i`` on
  ``GET .../namespaces/default/pods?watch=true&fieldSelector=spec.nodeName=n<i>``, as one agent per
  node watches its pods (kubelet's pod source), spread over ``--watch-procs`` client processes
  (``bench._nodewatch``);
* ``all``: the same number of watchers on every pod of the namespace (no selector): the unfiltered
  fan-out, for comparison in the same run;
* both again with ``--small-watchers`` watchers.

Churn: once every stream is open, one writer makes ``--events`` pod writes at ``--rate`` per
second: creates of pods bound at creation (``spec.nodeName``) to a random one of the phase's nodes
(as many nodes as watchers), and, for ``--update-share`` of the writes, merge patches of one of the
phase's pods (an annotation changes; a pod's node never does). Every write stamps the annotation
``bench/t`` with the wall-clock time just before it is sent; each watcher records, for every event,
read time - stamp. So a per-node event reaches exactly one watcher, an unfiltered one every watcher.

Reports per phase: delivered/expected (must be 100%, and no event at the wrong node's watcher),
p50/p99/max delivery latency, the writer's request p50, and the **server's CPU per event** (CPU
time of the server process from the first write until every watcher had its events, over the
number of writes). The ratios of CPU per event between the two sizes show whether the server's cost
grows with the number of watchers (per-node watches should stay flat; the unfiltered fan-out
cannot, since each event is written to every stream).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import ssl
import time
import urllib.parse
import uuid
from dataclasses import dataclass
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
from bench._http import LOOP_NAME, HttpConnection, HttpError, client_ssl_context, run_async
from bench._nodewatch import STAMP

__all__ = ["add_arguments", "run"]

GOAL_P99_MS = 100.0
GOAL_CPU_RATIO = 1.5
"""Per-node CPU per event at ``--watchers`` over that at ``--small-watchers``: "flat" is below."""
_SETUP_S = 120.0
_DRAIN_S = 30.0
_PODS = "/api/v1/namespaces/default/pods"
_MERGE = "application/merge-patch+json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--watchers", type=int, default=1000, help="watch streams and nodes (default 1000)"
    )
    parser.add_argument(
        "--small-watchers",
        type=int,
        default=100,
        help="the second size, to compare CPU per event with (default 100)",
    )
    parser.add_argument(
        "--watch-procs",
        type=int,
        default=4,
        help="client processes sharing the watchers (default 4)",
    )
    parser.add_argument(
        "--events", type=int, default=400, help="pod writes per phase (default 400)"
    )
    parser.add_argument("--rate", type=float, default=20.0, help="writes per second (default 20)")
    parser.add_argument(
        "--update-share",
        type=float,
        default=0.5,
        help="share of the writes that patch an existing pod instead of creating one (default 0.5)",
    )
    parser.add_argument(
        "--skip-unfiltered", action="store_true", help="measure only the per-node watches"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the churn plan (default 1)")
    parser.add_argument(
        "--tmp-dir",
        type=Path,
        default=None,
        help="where the temporary data directory goes (default: system temp)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="hard limit for the whole benchmark in seconds (default 900)",
    )


@dataclass(frozen=True, slots=True)
class _Target:
    host: str
    port: int
    ca: str
    token: str


@dataclass(frozen=True, slots=True)
class _Op:
    create: bool
    name: str
    node: str


@dataclass(frozen=True, slots=True)
class _Phase:
    mode: str  # "pernode" or "all"
    watchers: int


@dataclass(frozen=True, slots=True)
class _Outcome:
    phase: _Phase
    delivered: int
    expected: int
    misrouted: int
    extra: int
    latency: Summary
    write_latency: Summary
    server_cpu_s: float
    wall_s: float
    write_errors: list[str]
    watch_errors: list[str]
    watch_error_count: int
    client_cpu_s: float

    @property
    def cpu_ms_per_event(self) -> float:
        return 1000.0 * self.server_cpu_s / max(1, self.write_latency.count)

    @property
    def errors(self) -> int:
        return len(self.write_errors) + self.watch_error_count + self.misrouted + self.extra


def _plan(args: argparse.Namespace, nodes: int, prefix: str, rng: random.Random) -> list[_Op]:
    ops: list[_Op] = []
    created: list[_Op] = []
    for i in range(args.events):
        if created and rng.random() < args.update_share:
            pod = rng.choice(created)
            ops.append(_Op(False, pod.name, pod.node))
        else:
            op = _Op(True, f"{prefix}{i}", f"n{rng.randrange(nodes)}")
            created.append(op)
            ops.append(op)
    return ops


def _pod_body(op: _Op, t: float) -> bytes:
    return orjson.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": op.name, "annotations": {STAMP: repr(t)}},
            "spec": {
                "nodeName": op.node,
                "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}],
            },
        }
    )


async def _list_revision(target: _Target) -> str:
    conn = await HttpConnection.open(
        target.host, target.port, ssl_context=client_ssl_context(target.ca), token=target.token
    )
    try:
        resp = await conn.request("GET", f"{_PODS}?limit=1")
        if resp.status != 200:
            raise HttpError(f"list answered {resp.status}: {resp.body[:300]!r}")
        rv: str = orjson.loads(resp.body)["metadata"]["resourceVersion"]
        return rv
    finally:
        await conn.close()


async def _ensure_service_account(target: _Target) -> None:
    """Create ``default/default`` unless it exists: pods are refused in a namespace without its
    default ServiceAccount, which a controller-manager (not started here) would make."""
    conn = await HttpConnection.open(
        target.host, target.port, ssl_context=client_ssl_context(target.ca), token=target.token
    )
    try:
        body = orjson.dumps(
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}
        )
        resp = await conn.request("POST", "/api/v1/namespaces/default/serviceaccounts", body)
        if resp.status not in (201, 409):
            raise HttpError(f"creating the default ServiceAccount answered {resp.status}")
    finally:
        await conn.close()


async def _write(
    target: _Target, ops: list[_Op], *, rate: float
) -> tuple[list[float], list[str], float]:
    """Run the plan at ``rate``/s; return request latencies, errors and the time of the first send."""
    conn = await HttpConnection.open(
        target.host, target.port, ssl_context=client_ssl_context(target.ca), token=target.token
    )
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    try:
        for i, op in enumerate(ops):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            t = time.time()
            t0 = time.perf_counter()
            try:
                if op.create:
                    resp = await conn.request("POST", _PODS, _pod_body(op, t))
                    ok = resp.status == 201
                else:
                    patch = orjson.dumps({"metadata": {"annotations": {STAMP: repr(t)}}})
                    resp = await conn.request(
                        "PATCH", f"{_PODS}/{op.name}", patch, content_type=_MERGE
                    )
                    ok = resp.status == 200
            except (HttpError, OSError, ssl.SSLError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                break
            latencies.append((time.perf_counter() - t0) * 1000.0)
            if not ok:
                errors.append(f"HTTP {resp.status}: {resp.body[:200]!r}")
    finally:
        await conn.close()
    return latencies, errors, started


def _measure(
    args: argparse.Namespace,
    res: Resources,
    target: _Target,
    server_pid: int,
    phase: _Phase,
    rng: random.Random,
) -> _Outcome:
    run_id = uuid.uuid4().hex[:8]
    prefix = f"pn-{run_id}-"
    ops = _plan(args, phase.watchers, prefix, rng)
    per_node: dict[str, int] = {}
    for op in ops:
        per_node[op.node] = per_node.get(op.node, 0) + 1
    rv = run_async(_list_revision(target))
    deadline = time.time() + _SETUP_S + args.events / args.rate + _DRAIN_S
    timeout_s = int(_SETUP_S + args.events / args.rate + _DRAIN_S + 60)
    specs: list[dict[str, Any]] = []
    for i in range(phase.watchers):
        query: dict[str, str] = {
            "watch": "true",
            "resourceVersion": rv,
            "timeoutSeconds": str(timeout_s),
        }
        node = ""
        expected = len(ops)
        if phase.mode == "pernode":
            node = f"n{i}"
            query["fieldSelector"] = f"spec.nodeName={node}"
            expected = per_node.get(node, 0)
        path = f"{_PODS}?{urllib.parse.urlencode(query)}"
        specs.append({"path": path, "node": node, "expected": expected})
    procs_n = max(1, min(args.watch_procs, phase.watchers))
    procs = []
    for k in range(procs_n):
        cfg = {
            "host": target.host,
            "port": target.port,
            "ca": target.ca,
            "token": target.token,
            "watchers": specs[k::procs_n],
            "name_prefix": prefix,
            "deadline": deadline,
        }
        procs.append(res.spawn_module("bench._nodewatch", orjson.dumps(cfg).decode()))
    for proc in procs:
        ready = read_ready_line(proc, timeout=_SETUP_S)
        if "fatal" in ready:
            raise RuntimeError(f"watch process {proc.pid} failed: {ready['fatal']}")
        if ready.get("failed"):
            raise RuntimeError(f"watch process {proc.pid}: {ready['failed']} stream(s) failed")
    cpu0 = cpu_seconds(server_pid)
    wall0 = time.perf_counter()
    write_lat, write_errors, _started = run_async(_write(target, ops, rate=args.rate))
    results: list[dict[str, Any]] = [
        read_result_line(p, timeout=max(1.0, deadline - time.time()) + 10.0) for p in procs
    ]
    server_cpu = cpu_seconds(server_pid) - cpu0
    wall = time.perf_counter() - wall0
    return _Outcome(
        phase=phase,
        delivered=sum(r["delivered"] for r in results),
        expected=sum(r["expected"] for r in results),
        misrouted=sum(r["misrouted"] for r in results),
        extra=sum(r["extra"] for r in results),
        latency=summarize([x for r in results for x in r["latencies_ms"]]),
        write_latency=summarize(write_lat),
        server_cpu_s=server_cpu,
        wall_s=wall,
        write_errors=write_errors,
        watch_errors=[e for r in results for e in r["errors"]][:10],
        watch_error_count=sum(r["error_count"] for r in results),
        client_cpu_s=sum(r["cpu_s"] for r in results),
    )


def run(args: argparse.Namespace) -> int:
    sizes = [args.watchers]
    if args.small_watchers and args.small_watchers != args.watchers:
        sizes.append(args.small_watchers)
    modes = ["pernode"] if args.skip_unfiltered else ["pernode", "all"]
    rng = random.Random(args.seed)
    outcomes: list[_Outcome] = []
    with guarded(timeout=args.timeout, base_dir=args.tmp_dir) as res:
        work = res.tempdir("skiff-bench-pernode-")
        server = res.start_server(work / "apiserver")
        assert server.process is not None
        target = _Target("127.0.0.1", server.port, str(server.ca_file), server.token)
        run_async(_ensure_service_account(target))
        for size in sizes:
            for mode in modes:
                outcomes.append(
                    _measure(args, res, target, server.process.pid, _Phase(mode, size), rng)
                )
        res.stop_server(server)

    def find(mode: str, size: int) -> _Outcome | None:
        return next(
            (o for o in outcomes if o.phase.mode == mode and o.phase.watchers == size), None
        )

    rows = []
    for o in outcomes:
        pct = 100.0 * o.delivered / o.expected if o.expected else 0.0
        rows.append(
            [
                f"{'per-node' if o.phase.mode == 'pernode' else 'unfiltered'} x{o.phase.watchers}",
                f"{o.delivered:,}/{o.expected:,} ({pct:.1f}%)",
                f"{o.latency.p50:.1f}",
                f"{o.latency.p99:.1f}",
                f"{o.latency.max:.1f}",
                f"{o.cpu_ms_per_event:.2f}",
                f"{o.write_latency.p50:.1f}",
                str(o.misrouted + o.extra),
            ]
        )
    ratios: dict[str, float | None] = {}
    if len(sizes) == 2:
        for mode in modes:
            big, small = find(mode, sizes[0]), find(mode, sizes[1])
            if big is not None and small is not None:
                ratios[mode] = _ratio_value(big.cpu_ms_per_event, small.cpu_ms_per_event)
                rows.append(
                    [
                        f"{'per-node' if mode == 'pernode' else 'unfiltered'} "
                        f"x{sizes[0]}/x{sizes[1]}",
                        "",
                        _ratio(big.latency.p50, small.latency.p50),
                        _ratio(big.latency.p99, small.latency.p99),
                        "",
                        _ratio(big.cpu_ms_per_event, small.cpu_ms_per_event),
                        "",
                        "",
                    ]
                )
    rows.append(
        ["goal", "100%", "", f"< {GOAL_P99_MS:.0f}", "", f"ratio < {GOAL_CPU_RATIO}", "", "0"]
    )
    print_table(
        f"watch_pernode: {args.events} pod writes at {args.rate:g}/s per phase "
        f"({args.update_share:.0%} patches), watchers in {args.watch_procs} processes, "
        f"{os.cpu_count()} CPUs",
        [
            "watchers",
            "delivered/expected",
            "p50 ms",
            "p99 ms",
            "max ms",
            "server CPU ms/event",
            "write p50 ms",
            "misrouted",
        ],
        rows,
    )
    for o in outcomes:
        for err in o.write_errors + o.watch_errors:
            print(f"  {o.phase.mode} x{o.phase.watchers} error: {err}")

    main = find("pernode", sizes[0])
    assert main is not None
    result: dict[str, Any] = {
        "benchmark": "watch_pernode",
        "watchers": args.watchers,
        "small_watchers": args.small_watchers,
        "watch_procs": args.watch_procs,
        "events": args.events,
        "rate": args.rate,
        "update_share": args.update_share,
        "client_loop": LOOP_NAME,
        "delivered": sum(o.delivered for o in outcomes),
        "expected": sum(o.expected for o in outcomes),
        "errors": sum(o.errors for o in outcomes),
        "misrouted": sum(o.misrouted + o.extra for o in outcomes),
        **main.latency.as_dict(),
        "cpu_ms_per_event": round(main.cpu_ms_per_event, 3),
    }
    for o in outcomes:
        key = f"{o.phase.mode}_{'big' if o.phase.watchers == sizes[0] else 'small'}"
        result[f"{key}_p50_ms"] = round(o.latency.p50, 3)
        result[f"{key}_p99_ms"] = round(o.latency.p99, 3)
        result[f"{key}_cpu_ms_per_event"] = round(o.cpu_ms_per_event, 3)
        result[f"{key}_delivered"] = o.delivered
        result[f"{key}_expected"] = o.expected
    for mode, value in ratios.items():
        result[f"cpu_ratio_{mode}"] = value
    complete = result["delivered"] == result["expected"] and result["errors"] == 0
    pernode_ratio = ratios.get("pernode")
    result.update(
        {
            "goal_p99_ms": GOAL_P99_MS,
            "goal_cpu_ratio": GOAL_CPU_RATIO,
            "meets_goal": complete
            and main.latency.p99 < GOAL_P99_MS
            and (pernode_ratio is None or pernode_ratio < GOAL_CPU_RATIO),
        }
    )
    print_json_line(result)
    return 0 if complete else 1


def _ratio_value(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"
