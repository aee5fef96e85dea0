"""Run node agents in the test's event loop against an API server (fake runtime by default).

``running_agent(config, node_name)`` builds an `Agent` over a `FakeRuntime`, a `FakeNetwork` and
`FakeImages` (or the ones given), starts it, waits until it is ready (Node registered, pods
synced) and cancels it when the block ends, even on failure. ``pod(...)`` builds a minimal pod
manifest bound to a node.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from skiff.agent.agent import Agent, AgentOptions
from skiff.agent.node import NodeOptions
from skiff.agent.parts import PodParts
from skiff.client import Client, Config
from skiff.network.base import PodNetwork
from skiff.network.fake import FakeNetwork
from skiff.runtime.base import Runtime
from skiff.runtime.fake import FakeImages, FakeRuntime
from skiff.runtime.images.base import ImageService
from skiff.util.clock import Clock

__all__ = ["pod_manifest", "running_agent"]


@contextlib.asynccontextmanager
async def running_agent(
    config: Config,
    node_name: str = "node-a",
    *,
    clock: Clock | None = None,
    runtime: Runtime | None = None,
    network: PodNetwork | None = None,
    images: ImageService | None = None,
    node_dir: Path | None = None,
    lease_period: float = 2.0,
    relist_period: float = 1.0,
    parts: PodParts | None = None,
    timeout: float = 15.0,  # noqa: ASYNC109 - bounds the start-up wait only
    **node: Any,
) -> AsyncIterator[Agent]:
    state = None if node_dir is None else node_dir / "state"
    runtime = runtime or FakeRuntime(None if state is None else state / "fake", clock=clock)
    network = network or FakeNetwork(None if state is None else state / "network")
    images = images or FakeImages()
    async with Client(config, timeout=10) as client:
        agent = Agent(
            client,
            AgentOptions(
                node=NodeOptions(name=node_name, lease_period=lease_period, **node),
                node_dir=node_dir,
                relist_period=relist_period,
            ),
            runtime=runtime,
            network=network,
            images=images,
            clock=clock,
            parts=parts,
        )
        task = asyncio.create_task(agent.run(), name=f"test-agent-{node_name}")
        try:
            waiter = asyncio.ensure_future(agent.ready.wait())
            done, _ = await asyncio.wait(
                {waiter, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            waiter.cancel()
            if task in done:
                task.result()
                raise RuntimeError("the agent ended before it was ready")
            if not done:
                raise TimeoutError(f"agent {node_name} not ready after {timeout} s")
            yield agent
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def pod_manifest(
    name: str,
    node: str,
    *,
    command: list[str] | None = None,
    restart_policy: str = "Always",
    image: str = "registry.local/busybox:1.36",
    **spec: Any,
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": image}
    if command is not None:
        container["command"] = command
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "nodeName": node,
            "restartPolicy": restart_policy,
            "containers": [container],
            **spec,
        },
    }
