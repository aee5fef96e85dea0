"""Pod start and crash-restart latency on a real runc node, beside bare `runc run`s.

Needs root and runc. Everything runs on this host: a `skiff apiserver`, controller-manager and
`skiff agent --runtime runc --offline` (joined with the token; image imported beforehand, so
"image present"), and for the reference the same image's root filesystem flattened into a plain
OCI bundle run by runc directly.

1. Reference: `runc run --detach` of the container (`sleep 3600`), one at a time (`--pods` times)
   and all at once; then deleted.
2. Create-to-Running: `--pods` pods (nodeName set, image present) created at `--rate` per second;
   for each, the time from the create request to the watch event showing its container running.
   Deleted (and waited for until the node removed their sandboxes, so the burst starts on an
   idle node as the bare runs do; that time is reported too), then the same number created at
   once (burst): the time until the last is Running.
3. Crash to restarted: a pod whose container prints the host's uptime, sleeps 1 s and exits 1
   (restartPolicy Always); from its log files, the gap between one run's last line and the next
   run's first, for the first and second crash.

Goals (architecture.md): p99 < 1 s at 5 pods/s; the burst under 5x the bare concurrent runs;
first restart <= 1 s, second <= 2.5 s (Kubernetes: about 1 s and 10 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._common import (
    Resources,
    guarded,
    print_json_line,
    print_table,
    summarize,
)
from skiff.client import Client, load_kubeconfig
from skiff.testing.cluster import ServerProcess
from skiff.testing.images import build_busybox_layout

NODE = "skiff-bench"
IMAGE = "skiff-test/busybox:1.0"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pods", type=int, default=100, help="pods per series (100)")
    parser.add_argument("--rate", type=float, default=5.0, help="pods created per second (5)")
    parser.add_argument("--timeout", type=float, default=900.0, help="hard timeout, s (900)")
    parser.add_argument("--tmp-dir", type=Path, default=None)


def _skiff(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "skiff", *args], check=True, capture_output=True)


def _bare_runs(bundle_root: Path, n: int, *, concurrent: bool) -> list[float]:
    """Seconds per `runc run --detach` (one at a time) or for all n at once (one figure)."""
    state = bundle_root / "runc-state"
    ids = [f"skiff-bench-ref-{i}" for i in range(n)]
    out: list[float] = []
    try:
        if concurrent:
            start = time.perf_counter()
            procs = [
                subprocess.Popen(
                    [
                        "runc",
                        "--root",
                        str(state),
                        "run",
                        "--detach",
                        "--bundle",
                        str(bundle_root),
                        cid,
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for cid in ids
            ]
            for p in procs:
                p.wait()
            out.append(time.perf_counter() - start)
        else:
            for cid in ids:
                start = time.perf_counter()
                subprocess.run(
                    [
                        "runc",
                        "--root",
                        str(state),
                        "run",
                        "--detach",
                        "--bundle",
                        str(bundle_root),
                        cid,
                    ],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                out.append(time.perf_counter() - start)
    finally:
        for cid in ids:
            subprocess.run(
                ["runc", "--root", str(state), "delete", "--force", cid],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
    return out


def _bundle(layout: Path, dest: Path) -> Path:
    """An OCI bundle whose rootfs is the image's layer, running `sleep 3600` on the host network
    (the bare reference does no network setup)."""
    import tarfile

    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"].split(":", 1)[1]
    manifest = json.loads((layout / "blobs" / "sha256" / manifest_digest).read_text())
    rootfs = dest / "rootfs"
    rootfs.mkdir(parents=True)
    for layer in manifest["layers"]:
        digest = layer["digest"].split(":", 1)[1]
        with tarfile.open(layout / "blobs" / "sha256" / digest) as tar:
            tar.extractall(rootfs, filter="tar")
    subprocess.run(["runc", "spec", "--bundle", str(dest)], check=True)
    config = json.loads((dest / "config.json").read_text())
    config["process"]["args"] = ["sleep", "3600"]
    config["process"]["terminal"] = False
    config["root"]["readonly"] = False
    (dest / "config.json").write_text(json.dumps(config))
    return dest


def _pod(name: str, command: list[str], *, restart: str = "Always") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"bench": "pod-start"}},
        "spec": {
            "nodeName": NODE,
            "restartPolicy": restart,
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {"name": "c", "image": IMAGE, "imagePullPolicy": "IfNotPresent", "command": command}
            ],
        },
    }


def _running(pod: dict[str, Any]) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return bool(statuses) and all("running" in (s.get("state") or {}) for s in statuses)


async def _series(client: Client, names: list[str], rate: float | None) -> dict[str, float]:
    """Create pods (at ``rate`` per second, or all at once) and return create->Running seconds."""
    sent: dict[str, float] = {}
    done: dict[str, float] = {}
    pods = ("v1", "Pod")
    listing = await client.list(pods, namespace="default", label_selector="bench=pod-start")
    rv = listing["metadata"]["resourceVersion"]
    finished = asyncio.Event()

    async def watch() -> None:
        async with client.watch(
            pods, namespace="default", label_selector="bench=pod-start", resource_version=rv
        ) as events:
            async for event in events:
                obj = event.object
                name = obj["metadata"]["name"]
                if name in sent and name not in done and _running(obj):
                    done[name] = time.perf_counter() - sent[name]
                    if len(done) == len(names):
                        finished.set()
                        return

    watcher = asyncio.create_task(watch())
    try:

        async def create(name: str) -> None:
            sent[name] = time.perf_counter()
            await client.create(pods, _pod(name, ["sleep", "3600"]), namespace="default")

        creates: list[asyncio.Task[None]] = []
        if rate is None:
            await asyncio.gather(*(create(n) for n in names))
        else:
            start = time.perf_counter()
            for i, name in enumerate(names):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                creates.append(asyncio.create_task(create(name)))
            await asyncio.gather(*creates)
        await asyncio.wait_for(finished.wait(), 300)
    finally:
        watcher.cancel()
    return done


async def _delete_all(client: Client, node_state: Path | None = None) -> float:
    """Delete the bench's pods; with ``node_state`` (the agent's runc state dir) also wait until
    the node has removed their sandboxes (the API forgets a pod once its containers stopped; the
    agent then still unmounts, deletes veths, namespaces and cgroups). Returns the seconds until
    the node was idle."""
    pods = ("v1", "Pod")
    start = time.perf_counter()
    await client.delete_collection(pods, namespace="default", label_selector="bench=pod-start")
    for _ in range(1200):
        left = await client.list(pods, namespace="default", label_selector="bench=pod-start")
        if not left["items"]:
            break
        await asyncio.sleep(0.1)
    else:
        raise RuntimeError("pods were not deleted")
    sandboxes = None if node_state is None else node_state / "sandboxes"
    for _ in range(1200):
        if sandboxes is None or not sandboxes.is_dir() or not any(sandboxes.iterdir()):
            return time.perf_counter() - start
        await asyncio.sleep(0.1)
    raise RuntimeError("the node did not remove the deleted pods' sandboxes")


def _read_runs(logs_dir: Path, runs: dict[int, tuple[float, float]]) -> None:
    """Add each finished run's (first, last) uptime from its log file (``<restart>.log``; the
    agent keeps only the last two, so this is polled while the pod crashes)."""
    for path in logs_dir.rglob("*.log"):
        if not path.stem.isdigit() or int(path.stem) in runs:
            continue
        try:
            text = path.read_text()
        except FileNotFoundError:
            continue
        values = []
        for line in text.splitlines():
            parts = line.split(" ", 3)
            if len(parts) == 4 and parts[3].startswith(("start ", "stop ")):
                values.append(float(parts[3].split()[1]))
        if len(values) >= 2:
            runs[int(path.stem)] = (values[0], values[-1])


def _gaps(runs: dict[int, tuple[float, float]]) -> list[float]:
    """Seconds from one run's last line to the next run's first (run i crashed, i+1 started)."""
    out = []
    for i in sorted(runs):
        if i + 1 in runs:
            out.append(runs[i + 1][0] - runs[i][1])
        else:
            break
    return out


async def _measure(args: argparse.Namespace, server: ServerProcess, data: Path) -> dict[str, Any]:
    names = [f"p{i:04d}" for i in range(args.pods)]
    async with Client(load_kubeconfig(server.kubeconfig)) as client:
        for _ in range(200):
            try:
                await client.get(("v1", "ServiceAccount"), "default", namespace="default")
                break
            except Exception:
                await asyncio.sleep(0.1)
        paced = await _series(client, names, args.rate)
        # the burst starts on an idle node, as the bare runs do (theirs are deleted first)
        teardown = await _delete_all(client, data / "agent" / NODE / "state" / "runc")
        burst_start = time.perf_counter()
        burst = await _series(client, names, None)
        burst_total = time.perf_counter() - burst_start
        await _delete_all(client)
        await client.create(
            ("v1", "Pod"),
            _pod(
                "crash",
                [
                    "sh",
                    "-c",
                    "echo start $(cut -d' ' -f1 /proc/uptime); sleep 1; echo stop $(cut -d' ' -f1 /proc/uptime); exit 1",
                ],
            ),
            namespace="default",
        )
        logs_dir = data / "agent" / NODE / "logs"
        runs: dict[int, tuple[float, float]] = {}
        for _ in range(1200):
            for d in logs_dir.glob("default_crash_*"):
                _read_runs(d, runs)
            if len(_gaps(runs)) >= 2:
                break
            await asyncio.sleep(0.025)
        gaps = _gaps(runs)
    return {
        "paced": paced,
        "burst": burst,
        "burst_total": burst_total,
        "gaps": gaps,
        "teardown": teardown,
    }


def run(args: argparse.Namespace) -> int:
    if os.geteuid() != 0 or shutil.which("runc") is None:
        print("pod_start needs root and runc", file=sys.stderr)
        return 2
    with guarded(timeout=args.timeout, base_dir=args.tmp_dir) as res:
        return _run(args, res)


def _run(args: argparse.Namespace, res: Resources) -> int:
    base = res.tempdir("skiff-bench-podstart-")
    data = base / "data"
    layout = build_busybox_layout(base / "layout", name="skiff-test/busybox", tag="1.0")
    bundle = _bundle(layout, base / "bundle")
    serial = _bare_runs(bundle, args.pods, concurrent=False)
    (concurrent,) = _bare_runs(bundle, args.pods, concurrent=True)
    _skiff("image", "import", "--data-dir", str(data), "--node-name", NODE, str(layout))
    server = ServerProcess(
        data_dir=data,
        controller_manager=True,
        agent=True,
        agent_args=[
            "--runtime",
            "runc",
            "--offline",
            "--node-name",
            NODE,
            "--max-pods",
            str(args.pods + 20),
        ],
    )
    res.servers.append(server)
    try:
        server.start(timeout=120)
        figures = asyncio.run(_measure(args, server, data))
    finally:
        server.stop()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "skiff",
                "agent",
                "cleanup",
                "--data-dir",
                str(data),
                "--node-name",
                NODE,
                "--runtime",
                "runc",
            ],
            capture_output=True,
        )
    bare = summarize([s * 1000 for s in serial])
    paced = summarize([s * 1000 for s in figures["paced"].values()])
    burst = summarize([s * 1000 for s in figures["burst"].values()])
    gaps = figures["gaps"]
    ratio = figures["burst_total"] / concurrent if concurrent else 0.0
    rows = [
        ["bare runc run, one at a time", f"{bare.p50:.0f}", f"{bare.p99:.0f}", f"{bare.max:.0f}"],
        [f"bare runc run, {args.pods} at once (total)", "", "", f"{concurrent * 1000:.0f}"],
        [
            f"pods at {args.rate:g}/s, create->Running",
            f"{paced.p50:.0f}",
            f"{paced.p99:.0f}",
            f"{paced.max:.0f}",
        ],
        [
            f"pods, burst of {args.pods}, create->Running",
            f"{burst.p50:.0f}",
            f"{burst.p99:.0f}",
            f"{figures['burst_total'] * 1000:.0f}",
        ],
    ]
    rows.append(
        [
            f"delete {args.pods} pods until the node is idle",
            "",
            "",
            f"{figures['teardown'] * 1000:.0f}",
        ]
    )
    for i, gap in enumerate(gaps[:2], 1):
        rows.append([f"crash {i} -> restarted", "", "", f"{gap * 1000:.0f}"])
    print_table("pod start (ms)", ["series", "p50", "p99", "max / total"], rows)
    result = {
        "bare_run_p50_ms": round(bare.p50, 1),
        "bare_concurrent_total_ms": round(concurrent * 1000, 1),
        "paced_p99_ms": round(paced.p99, 1),
        "paced_p50_ms": round(paced.p50, 1),
        "burst_total_ms": round(figures["burst_total"] * 1000, 1),
        "burst_vs_bare_ratio": round(ratio, 2),
        "crash_restart_ms": [round(g * 1000) for g in gaps[:2]],
        "teardown_ms": round(figures["teardown"] * 1000, 1),
        "meets_goal": bool(
            paced.p99 < 1000 and ratio < 5 and len(gaps) >= 2 and gaps[0] <= 1.0 and gaps[1] <= 2.5
        ),
    }
    print_json_line(result)
    return 0
