"""``skiff scheduler`` as a process (as ``skiff server`` runs it): it becomes ready behind a real
HTTPS ``skiff apiserver``, takes the Lease ``kube-system/kube-scheduler``, binds a pod, serves
Kubernetes-named metrics on /metrics, and stops cleanly on SIGTERM releasing the Lease."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from pathlib import Path

from scheduler_helpers import create_node, make_node, make_pod

from skiff.client import Client, load_kubeconfig
from skiff.testing.cluster import ServerProcess, free_port
from skiff.testing.wait import eventually


async def test_scheduler_process(tmp_path: Path) -> None:
    port = free_port()
    server = ServerProcess(
        data_dir=tmp_path / "data",
        scheduler=True,
        scheduler_args=["--port", str(port), "--leader-elect-retry-period", "0.5"],
    )
    try:
        await asyncio.to_thread(server.start, timeout=60)
        async with Client(load_kubeconfig(server.kubeconfig)) as client:
            await client.create(
                "serviceaccounts",
                {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}},
                namespace="default",
            )
            await create_node(client, make_node("n1"))
            await client.create("pods", make_pod("p", cpu="100m"), namespace="default")

            async def bound() -> str:
                pod = await client.get("pods", "p", namespace="default")
                return str(pod["spec"].get("nodeName") or "")

            await eventually(bound, within=20, what="pod bound by the scheduler process")
            lease = await client.get("leases", "kube-scheduler", namespace="kube-system")
            assert lease["spec"]["holderIdentity"]

            def scrape() -> str:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    return r.read().decode()

            metrics = await asyncio.to_thread(scrape)
            assert (
                'scheduler_schedule_attempts_total{profile="default-scheduler",result="scheduled"} 1.0'
                in metrics
            )
            assert (
                'scheduler_pending_pods{queue="active"}' in metrics
                or "scheduler_pending_pods" in metrics
            )
            assert "scheduler_scheduling_attempt_duration_seconds_bucket" in metrics
            proc = server.scheduler_process
            assert proc is not None
            start = time.monotonic()
            server.stop_scheduler()
            assert proc.returncode == 0 and time.monotonic() - start < 10
            lease = await client.get("leases", "kube-scheduler", namespace="kube-system")
            assert not lease["spec"].get("holderIdentity")  # released on the way out
    finally:
        server.stop()
