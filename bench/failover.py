"""Node death to replacements Running: how fast a Deployment heals when agents die (fake runtime).

A `skiff apiserver`, controller-manager and scheduler as processes, and fake-runtime agents:
with `--nodes` <= 10 one `skiff agent` process per node, otherwise two `skiff agent --simulate`
processes (the survivors and the doomed ones, each a single process hosting many nodes). A
Deployment of `--replicas` pods is spread over them; then the process(es) of `--dead` nodes are
killed with SIGKILL, and the bench records, from the kill:

- NotReady: every dead node's Ready condition no longer True (node lifecycle controller);
- tainted: every dead node carries `node.kubernetes.io/unreachable:NoExecute`;
- evicted: every pod on a dead node is being deleted;
- replaced: `--replicas` Running and Ready pods on live nodes again.

Kubernetes' defaults for the same steps: about 40 s to NotReady and a 300 s toleration before
eviction. Goal (architecture.md): all replacements Running < 15 s after the kill. The cluster
CIDR is 10.64.0.0/11 (room for 8,192 nodes' /24s, disjoint from the service CIDR).

The bench follows Nodes and pods through watches (informers), not by listing: listing the pods
every second took a quarter of the API server's time at 3,000 pods and slowed what it measures.
``--profile DIR`` records the API server, controller-manager, scheduler and the surviving agent
process with py-spy from the kill until healed, prints where each spends its time and keeps the
raw profiles and the processes' logs in DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bench._common import (
    Resources,
    cpu_seconds,
    fake_agent_argv,
    guarded,
    print_json_line,
    print_table,
)
from bench._profile import find_py_spy, start_py_spy, stop_py_spy, summarize_profile
from skiff.client import Client, SharedInformerFactory, load_kubeconfig
from skiff.testing.cluster import ServerProcess, free_port

CLUSTER_CIDR = "10.64.0.0/11"
UNREACHABLE = "node.kubernetes.io/unreachable"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nodes", type=int, default=3, help="nodes in all (3)")
    parser.add_argument("--dead", type=int, default=1, help="nodes whose agents are killed (1)")
    parser.add_argument("--replicas", type=int, default=6, help="Deployment replicas (6)")
    parser.add_argument(
        "--lease-period", type=float, default=2.0, help="agents' Lease renewal period, s (2)"
    )
    parser.add_argument(
        "--node-eviction-rate",
        type=float,
        default=0.0,
        help="controller-manager --node-eviction-rate (0: its default)",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="hard timeout, s (900)")
    parser.add_argument("--tmp-dir", type=Path, default=None)
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="record the API server, controller-manager, scheduler and surviving agents with "
        "py-spy from the kill until healed, into this directory (with the processes' logs)",
    )


def _agent(
    res: Resources,
    server: ServerProcess,
    data: Path,
    name: str,
    *,
    simulate: int,
    lease_period: float,
    log: Path | None = None,
) -> tuple[subprocess.Popen[bytes], Path]:
    ready = data / f"{name}.ready"
    out = subprocess.DEVNULL if log is None else open(log, "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        fake_agent_argv(
            server.url,
            server.data_dir / "server" / "token",
            node_name=name,
            agent_port=free_port(),
            data_dir=data / name,
            lease_period=lease_period,
            cluster_cidr=CLUSTER_CIDR,
            simulate=simulate,
            extra=["--ready-file", str(ready)],
        ),
        stdout=out,
        stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
        start_new_session=True,
    )
    if log is not None:
        out.close()  # type: ignore[union-attr]
    res.processes.append(proc)
    return proc, ready


def _wait_files(files: list[Path], procs: list[subprocess.Popen[bytes]], within: float) -> None:
    deadline = time.monotonic() + within
    while not all(f.exists() for f in files):
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("an agent exited before it was ready")
        if time.monotonic() > deadline:
            raise TimeoutError("agents not ready")
        time.sleep(0.1)


def _condition(obj: Mapping[str, Any], kind: str) -> str:
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c.get("type") == kind:
            return str(c.get("status") or "")
    return ""


def _ready(pod: Mapping[str, Any]) -> bool:
    return _condition(pod, "Ready") == "True"


async def _measure(
    args: argparse.Namespace,
    server: ServerProcess,
    kill: list[subprocess.Popen[bytes]],
    dead_prefixes: tuple[str, ...],
    processes: dict[str, int],
    profile: bool,
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    pods_ref = ("v1", "Pod")
    async with (
        Client(load_kubeconfig(server.kubeconfig), max_connections=16) as client,
        SharedInformerFactory(client) as factory,
    ):
        for _ in range(300):
            try:
                await client.get(("v1", "ServiceAccount"), "default", namespace="default")
                break
            except Exception:
                await asyncio.sleep(0.1)
        nodes = (await client.list(("v1", "Node")))["items"]
        dead = {
            n["metadata"]["name"] for n in nodes if n["metadata"]["name"].startswith(dead_prefixes)
        }
        # the cluster is watched, not listed: a list of 10,000 pods a second would load the API
        # server the bench measures
        node_inf = factory.informer(("v1", "Node"))
        pod_inf = factory.informer(pods_ref, namespace="default", label_selector="app=fo")
        factory.start()
        await factory.wait_for_sync()
        body = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "fo"},
            "spec": {
                "replicas": args.replicas,
                "selector": {"matchLabels": {"app": "fo"}},
                "template": {
                    "metadata": {"labels": {"app": "fo"}},
                    "spec": {"containers": [{"name": "c", "image": "skiff-bench/fo:1"}]},
                },
            },
        }
        await client.create(("apps/v1", "Deployment"), body, namespace="default")
        start = time.monotonic()
        while True:
            running = [p for p in pod_inf.lister.list() if _ready(p)]
            if len(running) >= args.replicas:
                break
            if time.monotonic() - start > 600:
                raise TimeoutError(f"only {len(running)} of {args.replicas} replicas running")
            await asyncio.sleep(0.5)
        on_dead = sum(1 for p in running if p["spec"].get("nodeName") in dead)
        spies: list[subprocess.Popen[bytes]] = []
        if profile:
            exe = find_py_spy()
            if exe is None:
                raise RuntimeError("--profile needs py-spy in the venv")
            args.profile.mkdir(parents=True, exist_ok=True)
            spies = [
                start_py_spy(exe, pid, (args.profile / f"{name}.raw").resolve(), rate=100)
                for name, pid in processes.items()
            ]
        before = _request_counts(await client.get_raw("/metrics"))
        cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
        cpu_before["bench"] = time.process_time()
        kill_at = time.monotonic()
        for proc in kill:
            proc.send_signal(signal.SIGKILL)
        marks: dict[str, float] = {}
        # when each pod of a dead node was first seen being deleted, and how many live replicas
        # were Ready at each look: the deciles show whether a step is slow to start or slow to
        # finish
        evicted_at: dict[str, float] = {}
        replaced_at: list[tuple[float, int]] = []
        # replacements (pods that did not exist at the kill): first seen, and first seen bound
        before_kill = {p["metadata"]["uid"] for p in pod_inf.lister.list()}
        created_at: dict[str, float] = {}
        bound_at: dict[str, float] = {}
        while len(marks) < 4:
            now = time.monotonic() - kill_at
            if now > 600:
                raise TimeoutError(f"not healed after 600 s: {marks}")
            nodes = [n for n in node_inf.lister.list() if n["metadata"]["name"] in dead]
            if all(_condition(n, "Ready") != "True" for n in nodes):
                marks.setdefault("not_ready_s", now)
            if all(
                any(t.get("key") == UNREACHABLE for t in n["spec"].get("taints") or ())
                for n in nodes
            ):
                marks.setdefault("tainted_s", now)
            pods = pod_inf.lister.list()
            on_dead_nodes = [p for p in pods if p["spec"].get("nodeName") in dead]
            for p in on_dead_nodes:
                if p["metadata"].get("deletionTimestamp"):
                    evicted_at.setdefault(p["metadata"]["uid"], now)
            if all(p["metadata"].get("deletionTimestamp") for p in on_dead_nodes):
                marks.setdefault("evicted_s", now)
            for p in pods:
                uid = p["metadata"]["uid"]
                if uid not in before_kill:
                    created_at.setdefault(uid, now)
                    if p["spec"].get("nodeName"):
                        bound_at.setdefault(uid, now)
            live = sum(
                1
                for p in pods
                if p["spec"].get("nodeName") not in dead
                and not p["metadata"].get("deletionTimestamp")
                and _ready(p)
            )
            replaced_at.append((now, live))
            if live >= args.replicas:
                marks.setdefault("replaced_s", now)
            await asyncio.sleep(0.1 if args.replicas <= 1000 else 0.25)
        cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in processes.items()}
        cpu["bench"] = time.process_time() - cpu_before["bench"]
        for spy in spies:
            stop_py_spy(spy)
        after = _request_counts(await client.get_raw("/metrics"))
        mix = {k: v - before.get(k, 0.0) for k, v in after.items() if v - before.get(k, 0.0) > 0}
        marks["pods_on_dead_nodes"] = float(on_dead)
        for step, seen in (("created", created_at), ("bound", bound_at)):
            if len(seen) >= on_dead:
                marks[f"{step}_s"] = sorted(seen.values())[on_dead - 1]
        floor = args.replicas - on_dead
        for q in (10, 50, 90):
            need = max(1, (on_dead * q) // 100)
            for step, seen in (
                ("evicted", evicted_at),
                ("created", created_at),
                ("bound", bound_at),
            ):
                done = sorted(seen.values())
                if len(done) >= need:
                    marks[f"{step}_p{q}"] = done[need - 1]
            marks[f"replaced_p{q}"] = _first(replaced_at, floor + need)
        return marks, mix, cpu


def _request_counts(metrics: bytes) -> dict[str, float]:
    """``apiserver_request_total`` keyed ``VERB resource[/subresource]`` (2xx) or with `` (code)``
    appended; ``... n``: all codes together; ``... s``: the seconds they took in the server
    (``apiserver_request_duration_seconds_sum``, which has no code label)."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics.decode()):
        for sample in family.samples:
            if sample.name == "apiserver_request_total":
                suffix = ""
            elif sample.name == "apiserver_request_duration_seconds_sum":
                suffix = " s"
            else:
                continue
            labels = sample.labels
            key = f"{labels.get('verb')} {labels.get('resource')}"
            if labels.get("subresource"):
                key += f"/{labels['subresource']}"
            if suffix:  # durations are not kept per code: their mean is over every code
                out[key + suffix] = out.get(key + suffix, 0.0) + sample.value
                continue
            out[key + " n"] = out.get(key + " n", 0.0) + sample.value
            code = labels.get("code", "")
            if code and not code.startswith("2"):
                key += f" ({code})"
            out[key] = out.get(key, 0.0) + sample.value
    return out


def _mean_ms(mix: Mapping[str, float], key: str) -> str:
    """Mean server time of ``key``'s verb and resource over all codes ("-" on a non-2xx row)."""
    if key.endswith(")"):
        return "-"
    count = mix.get(key + " n", 0.0)
    return f"{1000 * mix.get(key + ' s', 0.0) / count:.1f}" if count else "-"


def _first(series: list[tuple[float, int]], count: int) -> float:
    """The first time in ``series`` at which at least ``count`` were counted."""
    return next((t for t, n in series if n >= count), series[-1][0] if series else 0.0)


def _spread(marks: Mapping[str, float], name: str) -> str:
    parts = [f"{marks[k]:.1f}" for k in (f"{name}_p10", f"{name}_p50", f"{name}_p90") if k in marks]
    last = marks.get(name + "_s")
    return " / ".join([*parts, "-" if last is None else f"{last:.1f}"])


def run(args: argparse.Namespace) -> int:
    with guarded(timeout=args.timeout, base_dir=args.tmp_dir) as res:
        return _run(args, res)


def _run(args: argparse.Namespace, res: Resources) -> int:
    base = res.tempdir("skiff-bench-failover-")
    cm_args = ["--controllers", "*"]
    if args.node_eviction_rate:
        cm_args.append(f"--node-eviction-rate={args.node_eviction_rate}")
    server = ServerProcess(
        data_dir=base / "server",
        extra_args=["--cluster-cidr", CLUSTER_CIDR],
        controller_manager=True,
        controller_manager_args=cm_args,
        scheduler=True,
    )
    res.servers.append(server)
    server.start(timeout=120)
    procs: list[subprocess.Popen[bytes]] = []
    ready: list[Path] = []
    kill: list[subprocess.Popen[bytes]] = []
    if args.nodes <= 10:
        for i in range(args.nodes):
            name = f"{'dead' if i < args.dead else 'live'}-{i}"
            proc, file = _agent(res, server, base, name, simulate=0, lease_period=args.lease_period)
            procs.append(proc)
            ready.append(file)
            if i < args.dead:
                kill.append(proc)
    else:
        for name, count in (("live", args.nodes - args.dead), ("dead", args.dead)):
            proc, file = _agent(
                res,
                server,
                base,
                name,
                simulate=count,
                lease_period=args.lease_period,
                log=None if args.profile is None else base / f"agent-{name}.log",
            )
            procs.append(proc)
            ready.append(file)
            if name == "dead":
                kill.append(proc)
    _wait_files(ready, procs, within=600)
    assert server.process and server.cm_process and server.scheduler_process
    processes = {
        "apiserver": server.process.pid,
        "controller-manager": server.cm_process.pid,
        "scheduler": server.scheduler_process.pid,
    }
    live = [proc for proc in procs if proc not in kill]
    for i, proc in enumerate(live):
        processes["agent-live" if len(live) == 1 else f"agent-live-{i}"] = proc.pid
    try:
        marks, mix, cpu = asyncio.run(
            _measure(args, server, kill, ("dead",), processes, args.profile is not None)
        )
    finally:
        if args.profile is not None:
            for log in [server.log_path, *base.glob("agent-*.log")]:
                if log is not None and log.exists():
                    shutil.copy(log, args.profile / log.name)
    rows = [
        ["NotReady (Ready not True)", f"{marks['not_ready_s']:.1f}", "~40"],
        ["tainted unreachable:NoExecute", f"{marks['tainted_s']:.1f}", "~40"],
        [
            "pods evicted (10 / 50 / 90 % / all)",
            _spread(marks, "evicted"),
            "~340 (300 s toleration)",
        ],
        ["replacements created (10 / 50 / 90 % / all)", _spread(marks, "created"), "-"],
        ["replacements bound (10 / 50 / 90 % / all)", _spread(marks, "bound"), "-"],
        ["replacements Running (10 / 50 / 90 % / all)", _spread(marks, "replaced"), "-"],
    ]
    print_table(
        f"{args.dead} of {args.nodes} nodes killed, {args.replicas} replicas "
        f"({int(marks['pods_on_dead_nodes'])} on the dead nodes), s after SIGKILL",
        ["step", "skiff", "Kubernetes defaults"],
        rows,
    )
    healed = marks["replaced_s"]
    print_table(
        f"API server requests from the kill until healed ({healed:.1f} s), by verb and resource",
        ["request", "count", "per s", "mean ms in the server (all codes)"],
        [
            [key, f"{count:.0f}", f"{count / healed:.0f}", _mean_ms(mix, key)]
            for key, count in sorted(mix.items(), key=lambda kv: -kv[1])
            if not key.startswith("WATCH") and not key.endswith((" s", " n"))
        ],
    )
    print_table(
        f"CPU seconds from the kill until healed ({healed:.1f} s, {os.cpu_count()} CPUs: "
        f"{healed * (os.cpu_count() or 1):.0f} CPU s in all)",
        ["process", "CPU s", "cores"],
        [[name, f"{sec:.1f}", f"{sec / healed:.2f}"] for name, sec in cpu.items()]
        + [["all of these", f"{sum(cpu.values()):.1f}", f"{sum(cpu.values()) / healed:.2f}"]],
    )
    if args.profile is not None:
        for name in processes:
            raw = args.profile / f"{name}.raw"
            if not raw.exists():
                continue
            summary = summarize_profile(raw, top=12)
            print_table(
                f"{name} ({summary.samples} samples): skiff functions on the stack (inclusive)",
                ["function", "%"],
                [[n, f"{p:.1f}"] for n, p in summary.top_inclusive],
            )
            print_table(
                f"{name}: self time by function",
                ["function", "%"],
                [[n, f"{p:.1f}"] for n, p in summary.top_functions],
            )
    print_json_line(
        {
            "nodes": args.nodes,
            "dead": args.dead,
            "replicas": args.replicas,
            "cluster_cidr": CLUSTER_CIDR,
            **{k: round(v, 2) for k, v in marks.items()},
            "cpu_s": {k: round(v, 2) for k, v in cpu.items()},
            "meets_goal": marks["replaced_s"] < 15.0,
        }
    )
    return 0
