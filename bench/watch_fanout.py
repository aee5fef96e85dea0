"""Benchmark: one namespace's ConfigMap watch fanned out to 1,000 HTTPS watchers.

``python -m bench watch_fanout [--watchers 1000] [--events 200] [--rate 20] [--watch-procs 4]``

Starts a real ``skiff apiserver`` (SQLite store in a temporary directory), lists ConfigMaps in
``default`` for a resourceVersion, and opens ``--watchers`` long-lived streaming
``GET ...?watch=true&resourceVersion=<list rv>`` requests spread over ``--watch-procs`` client
processes (``bench._loadgen``). Once every stream is open, one creator POSTs ``--events``
ConfigMaps at ``--rate`` per second, each carrying the wall-clock time just before its POST in
``data.t``. Every watcher records, for every event, the time from that stamp to the moment it read
the event (creator and watchers share this machine's clock). Reports delivered/expected (must be
100%) and p50/p95/p99 delivery latency.

Reference measured in the same run with the same clients, the same TLS certificate and the same
payloads: ``bench._refserver``, a bare asyncio HTTPS relay that writes each POSTed body as one
watch line to every open stream, with no storage or API machinery in between.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
    guarded,
    print_json_line,
    print_table,
    read_ready_line,
    read_result_line,
    summarize,
)
from bench._http import LOOP_NAME, HttpConnection, HttpError, client_ssl_context, run_async
from bench._loadgen import configmap_body
from bench._profile import find_py_spy, start_py_spy, stop_py_spy, summarize_profile

__all__ = ["add_arguments", "run"]

GOAL_P99_MS = 100.0
_SETUP_S = 90.0
_DRAIN_S = 30.0
_CREATE_PATH = "/api/v1/namespaces/default/configmaps"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--watchers", type=int, default=1000, help="concurrent watch streams (default 1000)"
    )
    parser.add_argument(
        "--watch-procs",
        type=int,
        default=4,
        help="client processes sharing the watchers (default 4)",
    )
    parser.add_argument(
        "--events", type=int, default=200, help="ConfigMaps created while watched (default 200)"
    )
    parser.add_argument("--rate", type=float, default=20.0, help="creates per second (default 20)")
    parser.add_argument(
        "--payload-size", type=int, default=1024, help="bytes of JSON per ConfigMap (default 1024)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="record the server with py-spy into this raw profile file",
    )
    parser.add_argument("--skip-reference", action="store_true", help="measure only the API server")
    parser.add_argument(
        "--tmp-dir",
        type=Path,
        default=None,
        help="where the temporary data directory goes (default: system temp)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=400.0,
        help="hard limit for the whole benchmark in seconds (default 400)",
    )


@dataclass(frozen=True, slots=True)
class _Target:
    host: str
    port: int
    ca: str
    token: str
    watch_path: str


@dataclass(frozen=True, slots=True)
class _Outcome:
    delivered: int
    expected: int
    latency: Summary
    create_latency: Summary
    create_errors: list[str]
    watch_errors: list[str]
    watch_error_count: int
    client_cpu_s: float


async def _list_revision(target: _Target) -> str:
    conn = await HttpConnection.open(
        target.host, target.port, ssl_context=client_ssl_context(target.ca), token=target.token
    )
    try:
        resp = await conn.request("GET", f"{_CREATE_PATH}?limit=1")
        if resp.status != 200:
            raise HttpError(f"list answered {resp.status}: {resp.body[:300]!r}")
        rv: str = orjson.loads(resp.body)["metadata"]["resourceVersion"]
        return rv
    finally:
        await conn.close()


async def _create_events(
    target: _Target, *, events: int, rate: float, size: int, prefix: str, labels: dict[str, str]
) -> tuple[list[float], list[str]]:
    """POST ``events`` ConfigMaps at ``rate``/s, stamping each with the time just before its POST."""
    conn = await HttpConnection.open(
        target.host, target.port, ssl_context=client_ssl_context(target.ca), token=target.token
    )
    latencies: list[float] = []
    errors: list[str] = []
    try:
        start = time.perf_counter()
        for i in range(events):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            body = configmap_body(f"{prefix}{i}", size=size, labels=labels, t=time.time())
            t0 = time.perf_counter()
            try:
                resp = await conn.request("POST", _CREATE_PATH, body)
            except (HttpError, OSError, ssl.SSLError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                break
            latencies.append((time.perf_counter() - t0) * 1000.0)
            if resp.status != 201:
                errors.append(f"HTTP {resp.status}: {resp.body[:200]!r}")
    finally:
        await conn.close()
    return latencies, errors


def _measure(
    args: argparse.Namespace, res: Resources, target: _Target, *, profile_pid: int | None = None
) -> _Outcome:
    run_id = uuid.uuid4().hex[:8]
    prefix = f"fan-{run_id}-"
    procs_n = max(1, min(args.watch_procs, args.watchers))
    deadline = time.time() + _SETUP_S + args.events / args.rate + _DRAIN_S
    procs = []
    for k in range(procs_n):
        share = args.watchers // procs_n + (1 if k < args.watchers % procs_n else 0)
        cfg = {
            "mode": "watch",
            "host": target.host,
            "port": target.port,
            "tls": True,
            "ca": target.ca,
            "token": target.token,
            "path": target.watch_path,
            "watchers": share,
            "expected": args.events,
            "name_prefix": prefix,
            "deadline": deadline,
        }
        procs.append(res.spawn_module("bench._loadgen", orjson.dumps(cfg).decode()))
    for proc in procs:
        ready = read_ready_line(proc, timeout=_SETUP_S)
        if "fatal" in ready:
            raise RuntimeError(f"watch process {proc.pid} failed: {ready['fatal']}")
    spy = None
    if profile_pid is not None and args.profile is not None:
        exe = find_py_spy()
        if exe is None:
            raise RuntimeError("--profile needs py-spy: pip install py-spy into the venv")
        spy = start_py_spy(exe, profile_pid, args.profile.resolve())
        res.processes.append(spy)
        time.sleep(0.5)  # let py-spy attach before the events start
    create_lat, create_errors = run_async(
        _create_events(
            target,
            events=args.events,
            rate=args.rate,
            size=args.payload_size,
            prefix=prefix,
            labels={"bench": run_id},
        )
    )
    results: list[dict[str, Any]] = [
        read_result_line(p, timeout=max(1.0, deadline - time.time()) + 10.0) for p in procs
    ]
    if spy is not None:
        stop_py_spy(spy)
    latencies = [x for r in results for x in r["latencies_ms"]]
    return _Outcome(
        delivered=sum(r["delivered"] for r in results),
        expected=sum(r["expected"] for r in results),
        latency=summarize(latencies),
        create_latency=summarize(create_lat),
        create_errors=create_errors,
        watch_errors=[e for r in results for e in r["errors"]][:10],
        watch_error_count=sum(r["error_count"] for r in results),
        client_cpu_s=sum(r["cpu_s"] for r in results),
    )


def run(args: argparse.Namespace) -> int:
    with guarded(timeout=args.timeout, base_dir=args.tmp_dir) as res:
        work = res.tempdir("skiff-bench-watch-")
        server = res.start_server(work / "apiserver")
        rv_target = _Target("127.0.0.1", server.port, str(server.ca_file), server.token, "")
        rv = run_async(_list_revision(rv_target))
        query = urllib.parse.urlencode(
            {
                "watch": "true",
                "resourceVersion": rv,
                "timeoutSeconds": str(int(_SETUP_S + args.events / args.rate + _DRAIN_S + 60)),
            }
        )
        skiff_target = _Target(
            "127.0.0.1",
            server.port,
            str(server.ca_file),
            server.token,
            f"{_CREATE_PATH}?{query}",
        )
        assert server.process is not None
        skiff = _measure(args, res, skiff_target, profile_pid=server.process.pid)
        res.stop_server(server)

        reference: _Outcome | None = None
        if not args.skip_reference:
            tls_dir = server.data_dir / "server" / "tls"
            relay = res.spawn_module(
                "bench._refserver", str(tls_dir / "serving.crt"), str(tls_dir / "serving.key")
            )
            port = int(read_ready_line(relay, timeout=30.0)["port"])
            ref_target = _Target("127.0.0.1", port, str(server.ca_file), "", "/watch")
            reference = _measure(args, res, ref_target)

    def row(name: str, o: _Outcome) -> list[str]:
        pct = 100.0 * o.delivered / o.expected if o.expected else 0.0
        return [
            name,
            f"{o.delivered:,}/{o.expected:,} ({pct:.1f}%)",
            f"{o.latency.p50:.1f}",
            f"{o.latency.p95:.1f}",
            f"{o.latency.p99:.1f}",
            f"{o.latency.max:.1f}",
            f"{o.create_latency.p50:.1f}",
        ]

    rows = [row("skiff API server", skiff)]
    if reference is not None:
        rows.append(row(f"bare {LOOP_NAME} TLS relay", reference))
        r = reference.latency
        rows.append(
            [
                "ratio skiff/relay",
                "",
                _ratio(skiff.latency.p50, r.p50),
                _ratio(skiff.latency.p95, r.p95),
                _ratio(skiff.latency.p99, r.p99),
                _ratio(skiff.latency.max, r.max),
                "",
            ]
        )
    rows.append(["goal", "100%", "", "", f"< {GOAL_P99_MS:.0f}", "", ""])
    print_table(
        f"watch_fanout: {args.watchers} watchers in {args.watch_procs} processes, "
        f"{args.events} events at {args.rate:g}/s, {os.cpu_count()} CPUs",
        ["target", "delivered/expected", "p50 ms", "p95 ms", "p99 ms", "max ms", "POST p50 ms"],
        rows,
    )
    if args.profile is not None:
        summary = summarize_profile(args.profile)
        for title, ranked in (
            (
                f"server profile ({summary.samples} samples): self time by function",
                summary.top_functions,
            ),
            ("server profile: self time by package", summary.top_packages),
            ("server profile: skiff functions on the stack (inclusive)", summary.top_inclusive),
        ):
            print_table(title, ["name", "% samples"], [[n, f"{p:.1f}"] for n, p in ranked])
    for label, o in (("skiff", skiff), ("relay", reference)):
        if o is None:
            continue
        for err in o.create_errors + o.watch_errors:
            print(f"  {label} error: {err}")

    result: dict[str, Any] = {
        "benchmark": "watch_fanout",
        "watchers": args.watchers,
        "watch_procs": args.watch_procs,
        "events": args.events,
        "rate": args.rate,
        "client_loop": LOOP_NAME,
        "delivered": skiff.delivered,
        "expected": skiff.expected,
        **skiff.latency.as_dict(),
        "create_p50_ms": round(skiff.create_latency.p50, 3),
        "create_p99_ms": round(skiff.create_latency.p99, 3),
        "errors": len(skiff.create_errors) + skiff.watch_error_count,
        "client_cpu_s": round(skiff.client_cpu_s, 2),
        "goal_p99_ms": GOAL_P99_MS,
        "meets_goal": skiff.delivered == skiff.expected and skiff.latency.p99 < GOAL_P99_MS,
    }
    if reference is not None:
        result.update(
            {
                "ref_delivered": reference.delivered,
                "ref_expected": reference.expected,
                **reference.latency.as_dict("ref_"),
                "ratio_p50": _ratio_value(skiff.latency.p50, reference.latency.p50),
                "ratio_p99": _ratio_value(skiff.latency.p99, reference.latency.p99),
            }
        )
    print_json_line(result)
    complete = skiff.delivered == skiff.expected and result["errors"] == 0
    return 0 if complete else 1


def _ratio_value(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"
