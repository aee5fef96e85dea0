"""Benchmark: scheduler throughput in the shape of kube-scheduler's scheduler_perf (SchedulingBasic).

``python -m bench scheduler [--nodes 1000,5000] [--pods 10000] [--lease-period 10]``

For each node count: a fresh ``skiff apiserver`` (SQLite store in a temporary directory,
``--cluster-cidr 10.64.0.0/11`` so 5,000 nodes get podCIDRs, service CIDR disjoint), N Node
objects created directly with scheduler_perf's node template (4 cpu, 32Gi, 110 pods, Ready) and,
with ``--lease-period``, one Lease per node in ``kube-node-lease`` renewed every that many seconds
from this process for the whole run (as N agents would). Then ``--pods`` pods (100m cpu, 500Mi, no
owner) are created *before* the scheduler starts; then ``skiff scheduler`` is started as its own
process and the run measures, from a watch on the pods:

* **pods bound per second**: pods over the time from the first to the last binding seen (the
  scheduler's list and cache fill excluded, as scheduler_perf measures its SchedulingThroughput),
  and over the time from the scheduler's start;
* **time inside the scheduler** vs API round trips: the sum of scheduling cycles
  (``scheduler_scheduling_attempt_duration_seconds_sum``), the summed binding calls
  (``scheduler_binding_duration_seconds_sum``), the scheduler's and the API server's CPU seconds;
* **create-to-bound** latency per pod (p50/p99; pods were created beforehand, so this includes the
  wait before the scheduler started) and **start-to-bound**;
* **control-plane memory** (RSS of the API server and the scheduler) at the end;
* the **over-commit check**: no node's summed requests exceed its allocatable.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench._common import (
    REPO_ROOT,
    cpu_seconds,
    fake_agent_argv,
    guarded,
    print_json_line,
    print_table,
    summarize,
)
from bench._profile import find_py_spy, start_py_spy, stop_py_spy
from skiff.api.quantity import parse_quantity
from skiff.client import AlreadyExists, Client, Conflict, load_kubeconfig
from skiff.testing.cluster import free_port

NS = "default"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--nodes", default="1000,5000", help="comma-separated node counts")
    p.add_argument("--pods", type=int, default=10_000, help="pods to schedule per run")
    p.add_argument(
        "--lease-period", type=float, default=10.0, help="node Lease renewal period (0: no leases)"
    )
    p.add_argument("--timeout", type=float, default=1800.0, help="hard timeout of the whole run")
    p.add_argument("--concurrency", type=int, default=64, help="parallel creates")
    p.add_argument(
        "--bind-concurrency", type=int, default=512, help="the scheduler's bindings in flight"
    )
    p.add_argument(
        "--controller-manager",
        action="store_true",
        help="also run skiff controller-manager and report its CPU during the burst (what the "
        "scheduler would share a process and a core with if it ran inside it)",
    )
    p.add_argument(
        "--agents",
        action="store_true",
        help="nodes are `skiff agent --simulate N` fake nodes (4 cpu, 32Gi; leases, node status "
        "and pod start through the fake runtime) instead of Node objects and Leases written by "
        "this process",
    )
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="directory: py-spy raw profiles of the scheduler, the API server and the "
        "controller-manager from the scheduler's start to the last binding "
        "(<nodes>-<process>.txt; summarize with `python -m bench profile_summary`)",
    )


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith((name + " ", name + "{")):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _node(name: str, zone: str) -> dict[str, Any]:
    alloc = {"cpu": "4", "memory": "32Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone},
        },
        "status": {
            "capacity": alloc,
            "allocatable": alloc,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    }


def _pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {
            "containers": [
                {
                    "name": "pause",
                    "image": "registry.k8s.io/pause:3.10",
                    "resources": {"requests": {"cpu": "100m", "memory": "500Mi"}},
                }
            ]
        },
    }


async def _gather_limited(n: int, coros: Any) -> None:
    sem = asyncio.Semaphore(n)

    async def one(c: Any) -> None:
        async with sem:
            await c

    await asyncio.gather(*(one(c) for c in coros))


def _lease(name: str, node_uid: str, resource_version: str = "") -> dict[str, Any]:
    """A node's Lease as the agent's `LeaseRenewer` writes it (owned by the Node)."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "kube-node-lease",
        "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": node_uid}],
    }
    if resource_version:
        meta["resourceVersion"] = resource_version
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": meta,
        "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": stamp},
    }


async def _create_node(
    client: Client, name: str, zone: str, leased: dict[str, tuple[str, str]] | None
) -> None:
    """The Node, its status (Ready) and, with ``leased``, its Lease - at once, as an agent
    registering does, so the node lifecycle controller never sees a node without a heartbeat."""
    body = _node(name, zone)
    for attempt in range(50):
        try:
            created = await client.create("nodes", body)
            break
        except Conflict:  # the pod CIDR allocator refuses too many at once: retry
            await asyncio.sleep(0.05 * (attempt + 1) * random.random())
    else:
        raise RuntimeError(f"could not create node {name}")
    created["status"] = body["status"]
    await client.update_status("nodes", created)
    if leased is not None:
        uid = created["metadata"]["uid"]
        lease = await client.create("leases", _lease(name, uid), namespace="kube-node-lease")
        leased[name] = (uid, lease["metadata"]["resourceVersion"])


async def _leases(
    client: Client, names: list[str], leased: dict[str, tuple[str, str]], period: float
) -> None:
    """Renew every node's Lease (those in ``leased``: created already) once per ``period`` with
    an update (PUT), as the agent and kubelet do, spread evenly over the period on a fixed
    schedule (renewals do not wait for each other), from the first node's creation on: N /
    period writes per second."""
    step = period / max(len(names), 1)
    slots = asyncio.Semaphore(64)
    tasks: set[asyncio.Task[None]] = set()

    async def renew(name: str) -> None:
        try:
            uid, rv = leased[name]
            with contextlib.suppress(Exception):  # a missed renewal is not the benchmark's concern
                lease = await client.update(
                    "leases", _lease(name, uid, rv), namespace="kube-node-lease"
                )
                leased[name] = (uid, lease["metadata"]["resourceVersion"])
        finally:
            slots.release()

    start = time.monotonic()
    i = 0
    try:
        while True:
            due = start + i * step
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            name = names[i % len(names)]
            i += 1
            if name in leased:
                await slots.acquire()
                task = asyncio.create_task(renew(name))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
    finally:
        for task in list(tasks):
            task.cancel()


def _start_agents(
    res: Any, server: Any, data: Path, nodes: int, lease_period: float, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """``skiff agent --simulate N``: nodes node-0 .. node-(N-1), fake runtime."""
    proc = subprocess.Popen(
        fake_agent_argv(
            server.url,
            server.data_dir / "server" / "token",
            node_name="node",
            agent_port=free_port(),
            data_dir=data / "agents",
            lease_period=lease_period,
            cluster_cidr="10.64.0.0/11",
            simulate=nodes,
            extra=["--capacity", "cpu=4,memory=32Gi"],
        ),
        stdin=subprocess.DEVNULL,
        stdout=open(data / "agents.log", "ab"),  # noqa: SIM115 - the child holds it
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=env,
    )
    res.processes.append(proc)
    return proc


async def _wait_ready_nodes(
    client: Client, proc: subprocess.Popen[bytes], nodes: int, *, within: float
) -> None:
    deadline = time.monotonic() + within
    while True:
        items = (await client.list_all("nodes"))["items"]
        ready = sum(
            1
            for n in items
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (n.get("status") or {}).get("conditions") or []
            )
        )
        if ready >= nodes:
            return
        if proc.poll() is not None:
            raise RuntimeError("the simulated agents exited")
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {ready} of {nodes} simulated nodes Ready")
        await asyncio.sleep(2)


async def _run_one(
    res: Any,
    nodes: int,
    pods: int,
    lease_period: float,
    conc: int,
    with_cm: bool = False,
    bind_concurrency: int = 512,
    profile_dir: Path | None = None,
    agents: bool = False,
) -> dict[str, Any]:
    data = res.tempdir("skiff-bench-sched-")
    server = res.start_server(
        data,
        "--cluster-cidr",
        "10.64.0.0/11",
        "--service-cidr",
        "10.43.0.0/16",
        "--max-requests-inflight",
        "0",
        "--max-mutating-requests-inflight",
        "0",
    )
    config = load_kubeconfig(server.kubeconfig)
    if with_cm:
        # nodes renew their Lease every `lease_period`: give them Kubernetes' ratio of grace
        # (40 s for 10 s) so the node lifecycle controller does not mark them NotReady
        grace = max(8.0, 4 * lease_period)
        server.controller_manager_args = [f"--node-monitor-grace-period={grace:g}"]
        server.start_controller_manager(timeout=60)
    out: dict[str, Any] = {"nodes": nodes, "pods": pods}
    async with Client(config, max_connections=conc + 8, timeout=60) as client:
        with contextlib.suppress(AlreadyExists):  # the controller-manager may have made it
            await client.create(
                "serviceaccounts",
                {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}},
                namespace=NS,
            )
        names = [f"node-{i:05d}" for i in range(nodes)]
        t0 = time.monotonic()
        lease_task = None
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT / "src"), env.get("PYTHONPATH", "")) if p
        )
        agent_proc = None
        if agents:
            agent_proc = _start_agents(res, server, data, nodes, lease_period or 10.0, env)
            await _wait_ready_nodes(client, agent_proc, nodes, within=900)
        else:
            leased: dict[str, tuple[str, str]] | None = None
            if lease_period > 0:
                leased = {}
                lease_task = asyncio.create_task(_leases(client, names, leased, lease_period))
            await _gather_limited(
                conc,
                (_create_node(client, n, f"zone-{i % 3}", leased) for i, n in enumerate(names)),
            )
        out["node_setup_s"] = round(time.monotonic() - t0, 1)
        created: dict[str, float] = {}

        async def create(name: str) -> None:
            await client.create("pods", _pod(name), namespace=NS)
            created[name] = time.monotonic()

        pod_names = [f"pod-{i:05d}" for i in range(pods)]
        t0 = time.monotonic()
        await _gather_limited(conc, (create(n) for n in pod_names))
        out["pod_setup_s"] = round(time.monotonic() - t0, 1)
        listing = await client.list("pods", namespace=NS, limit=1)
        rv = listing["metadata"]["resourceVersion"]
        bound: dict[str, float] = {}
        done = asyncio.Event()

        async def watch() -> None:
            async with client.watch("pods", namespace=NS, resource_version=rv) as w:
                async for ev in w:
                    obj = ev.object
                    name = obj["metadata"]["name"]
                    if obj["spec"].get("nodeName") and name not in bound:
                        bound[name] = time.monotonic()
                        if len(bound) >= pods:
                            done.set()
                            return

        watcher = asyncio.create_task(watch())
        port = free_port()
        # SKIFF_BENCH_SCHEDULER_PROFILE=<file>: run the scheduler under cProfile, stats to <file>
        profile = os.environ.get("SKIFF_BENCH_SCHEDULER_PROFILE", "")
        log = open(data / "scheduler.log", "ab")  # noqa: SIM115, ASYNC230 - closed below
        start = time.monotonic()
        proc = subprocess.Popen(  # noqa: ASYNC220 - started once, returns at once
            [
                sys.executable,
                *(["-m", "cProfile", "-o", profile] if profile else []),
                "-m",
                "skiff",
                "scheduler",
                "--kubeconfig",
                str(server.kubeconfig),
                "--leader-elect=false",
                f"--bind-concurrency={bind_concurrency}",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
        res.processes.append(proc)
        spies: list[subprocess.Popen[bytes]] = []
        if profile_dir is not None:
            exe = find_py_spy()
            if exe is None:
                raise RuntimeError("--profile needs py-spy (pip install py-spy)")
            targets = [("scheduler", proc.pid), ("apiserver", server.process.pid)]
            if server.cm_process is not None:
                targets.append(("controller-manager", server.cm_process.pid))
            for what, pid in targets:
                spy = start_py_spy(exe, pid, profile_dir / f"{nodes}-{what}.txt", rate=100)
                res.processes.append(spy)
                spies.append(spy)
        cpu_api0 = cpu_seconds(server.process.pid)
        cm_pid = server.cm_process.pid if server.cm_process is not None else 0
        cpu_cm0 = cpu_seconds(cm_pid) if cm_pid else 0.0
        cpu_agents0 = cpu_seconds(agent_proc.pid) if agent_proc is not None else 0.0
        try:
            await asyncio.wait_for(done.wait(), timeout=max(120.0, pods / 20))
        except TimeoutError:
            out["error"] = f"only {len(bound)} of {pods} pods bound"
        watcher.cancel()
        end = time.monotonic()
        for spy in spies:
            stop_py_spy(spy)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:  # noqa: ASYNC210
                metrics = r.read().decode()
        except OSError:
            metrics = ""
        out["scheduler_cpu_s"] = round(cpu_seconds(proc.pid), 1)
        out["apiserver_cpu_s"] = round(cpu_seconds(server.process.pid) - cpu_api0, 1)
        out["scheduler_rss_mib"] = round(_rss_mib(proc.pid))
        if agent_proc is not None:
            out["agents_cpu_s"] = round(cpu_seconds(agent_proc.pid) - cpu_agents0, 1)
            out["agents_rss_mib"] = round(_rss_mib(agent_proc.pid))
        if cm_pid:
            out["controller_manager_cpu_s"] = round(cpu_seconds(cm_pid) - cpu_cm0, 1)
            out["controller_manager_rss_mib"] = round(_rss_mib(cm_pid))
        out["apiserver_rss_mib"] = round(_rss_mib(server.process.pid))
        if lease_task is not None:
            lease_task.cancel()
        times = sorted(bound.values())
        if times:
            first, last = times[0], times[-1]
            out["bound"] = len(bound)
            out["pods_per_s"] = round(len(bound) / max(last - first, 1e-9), 1)
            out["pods_per_s_from_start"] = round(len(bound) / max(last - start, 1e-9), 1)
            out["sched_start_to_first_bind_s"] = round(first - start, 2)
        out["wall_s"] = round(end - start, 1)
        out["cycle_sum_s"] = round(
            _metric(metrics, "scheduler_scheduling_attempt_duration_seconds_sum"), 2
        )
        out["bind_call_sum_s"] = round(
            _metric(metrics, "scheduler_binding_duration_seconds_sum"), 2
        )
        out["attempts"] = int(_metric(metrics, "scheduler_schedule_attempts_total"))
        lat = summarize([(bound[n] - created[n]) * 1000 for n in bound if n in created])
        out["create_to_bound_p50_s"] = round(lat.p50 / 1000, 2)
        out["create_to_bound_p99_s"] = round(lat.p99 / 1000, 2)
        sb = summarize([(t - start) * 1000 for t in bound.values()])
        out["start_to_bound_p50_s"] = round(sb.p50 / 1000, 2)
        out["start_to_bound_p99_s"] = round(sb.p99 / 1000, 2)
        # over-commit check from the API's view: every node's bound requests vs its allocatable
        alloc: dict[str, tuple[int, int]] = {}
        for n in (await client.list_all("nodes"))["items"]:
            a = (n.get("status") or {}).get("allocatable") or {}
            alloc[n["metadata"]["name"]] = (
                parse_quantity(a.get("cpu", "0")).milli_value(),
                int(a.get("pods", 0)),
            )
        per_cpu: dict[str, int] = {}
        per_pods: dict[str, int] = {}
        items = (await client.list_all("pods", namespace=NS))["items"]
        for p in items:
            node = p["spec"].get("nodeName")
            if node:
                per_cpu[node] = per_cpu.get(node, 0) + 100
                per_pods[node] = per_pods.get(node, 0) + 1
        over = [
            n
            for n in per_cpu
            if per_cpu[n] > alloc.get(n, (0, 0))[0] or per_pods[n] > alloc.get(n, (0, 0))[1]
        ]
        out["overcommitted_nodes"] = len(over)
        out["nodes_used"] = len(per_cpu)
        out["max_pods_on_a_node"] = max(per_pods.values(), default=0)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if agent_proc is not None:
            agent_proc.terminate()
            try:
                agent_proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                agent_proc.kill()
    res.stop_server(server)
    return out


def run(args: argparse.Namespace) -> int:
    results = []
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    with guarded(timeout=args.timeout) as res:
        for n in [int(x) for x in str(args.nodes).split(",") if x]:
            r = asyncio.run(
                _run_one(
                    res,
                    n,
                    args.pods,
                    args.lease_period,
                    args.concurrency,
                    args.controller_manager,
                    args.bind_concurrency,
                    args.profile,
                    args.agents,
                )
            )
            results.append(r)
            print(r, file=sys.stderr, flush=True)
    rows = [
        [
            str(r["nodes"]),
            str(r.get("bound", 0)),
            str(r.get("pods_per_s", "")),
            str(r.get("pods_per_s_from_start", "")),
            f"{r.get('cycle_sum_s')}/{r.get('scheduler_cpu_s')}",
            str(r.get("bind_call_sum_s")),
            str(r.get("apiserver_cpu_s")),
            f"{r.get('create_to_bound_p50_s')}/{r.get('create_to_bound_p99_s')}",
            f"{r.get('apiserver_rss_mib')}+{r.get('scheduler_rss_mib')}",
            str(r.get("overcommitted_nodes")),
        ]
        for r in results
    ]
    print_table(
        f"scheduler: {args.pods} pods created beforehand, leases every {args.lease_period:g} s",
        [
            "nodes",
            "bound",
            "pods/s",
            "pods/s from start",
            "cycles s / sched CPU s",
            "bind calls s (sum)",
            "apiserver CPU s",
            "create-to-bound p50/p99 s",
            "RSS MiB api+sched",
            "overcommitted",
        ],
        rows,
    )
    print_json_line({"runs": results})
    return 0 if all("error" not in r and r.get("overcommitted_nodes") == 0 for r in results) else 1
