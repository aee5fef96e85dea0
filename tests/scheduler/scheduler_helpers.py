"""Helpers for scheduler tests: nodes and pods to create, and a scheduler running in this loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from skiff.client import Client
from skiff.scheduler.config import SchedulerConfig
from skiff.scheduler.runner import SchedulerRunner


def make_node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    labels: Mapping[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
    ready: bool = True,
    unschedulable: bool = False,
    extra: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    alloc = {"cpu": cpu, "memory": memory, "pods": pods, **(extra or {})}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/hostname": name, **(labels or {})},
        },
        "spec": spec,
        "status": {
            "capacity": alloc,
            "allocatable": alloc,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def make_pod(
    name: str,
    *,
    cpu: str | None = None,
    memory: str | None = None,
    labels: Mapping[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: dict[str, Any] = {"name": "c", "image": "busybox"}
    if requests:
        container["resources"] = {"requests": requests}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": dict(labels or {})},
        "spec": {"containers": [container], **spec},
    }


async def create_node(client: Client, node: dict[str, Any]) -> None:
    """Create a node and set its status (the API server ignores status on create)."""
    created = await client.create("nodes", node)
    created["status"] = node["status"]
    await client.update_status("nodes", created)


@contextlib.asynccontextmanager
async def running_scheduler(
    client: Client,
    *,
    config: SchedulerConfig | None = None,
    leader_elect: bool = False,
    identity: str | None = None,
) -> AsyncIterator[SchedulerRunner]:
    runner = SchedulerRunner(
        client,
        config=config,
        leader_elect=leader_elect,
        identity=identity,
        lease_duration=2,
        renew_deadline=1.5,
        retry_period=0.3,
    )
    task = asyncio.create_task(runner.run())
    try:
        waiter = asyncio.ensure_future(runner.ready.wait())
        done, _ = await asyncio.wait({waiter, task}, timeout=15, return_when="FIRST_COMPLETED")
        waiter.cancel()
        if task in done:
            task.result()
        assert done, "scheduler not ready within 15 s"
        yield runner
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
