"""``--simulate``: 50 fake nodes in one process register (capacity, labels, taints, podCIDR),
renew their Leases from one loop, and run the pods bound to them over one shared pod watch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from skiff.agent.node import NodeOptions
from skiff.agent.simulate import SimulateOptions, Simulator
from skiff.client import Client, Config
from skiff.testing.agent import pod_manifest
from skiff.testing.wait import eventually


@pytest.fixture
async def simulator(config: Config) -> AsyncIterator[Simulator]:
    async with Client(config, timeout=10) as client:
        sim = Simulator(
            client,
            SimulateOptions(
                count=50,
                prefix="sim",
                node=NodeOptions(
                    name="",
                    lease_period=1.0,
                    capacity={"cpu": "16", "memory": "64Gi"},
                    labels={"skiff.dev/simulated": "true"},
                    taints=[{"key": "skiff.dev/fake", "value": "yes", "effect": "NoSchedule"}],
                ),
                relist_period=1.0,
            ),
        )
        task = asyncio.create_task(sim.run())
        try:
            await eventually(lambda: sim.ready.is_set() or task.done(), within=30)
            if task.done():
                task.result()
            yield sim
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_fifty_nodes_register_and_renew_leases(simulator: Simulator, client: Client) -> None:
    nodes = (await client.list("nodes"))["items"]
    names = sorted(n["metadata"]["name"] for n in nodes)
    assert names == sorted(f"sim-{i}" for i in range(50))
    cidrs = {n["spec"]["podCIDR"] for n in nodes}
    assert len(cidrs) == 50
    node = next(n for n in nodes if n["metadata"]["name"] == "sim-7")
    assert node["status"]["capacity"]["cpu"] == "16"
    assert node["status"]["capacity"]["memory"] == "64Gi"
    assert node["status"]["capacity"]["pods"] == "110"
    assert node["metadata"]["labels"]["skiff.dev/simulated"] == "true"
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "sim-7"
    assert node["spec"]["taints"] == [
        {"key": "skiff.dev/fake", "value": "yes", "effect": "NoSchedule"}
    ]
    conds = {c["type"]: c["status"] for c in node["status"]["conditions"]}
    assert conds["Ready"] == "True"
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("fake://")

    leases = (await client.list("leases", namespace="kube-node-lease"))["items"]
    assert len(leases) == 50
    first = {item["metadata"]["name"]: item["spec"]["renewTime"] for item in leases}

    async def renewed() -> bool:
        now = (await client.list("leases", namespace="kube-node-lease"))["items"]
        return all(item["spec"]["renewTime"] != first[item["metadata"]["name"]] for item in now)

    await eventually(renewed, within=10, what="every lease renewed")
    lease = leases[0]
    assert lease["spec"]["holderIdentity"] == lease["metadata"]["name"]
    assert lease["metadata"]["ownerReferences"][0]["kind"] == "Node"
    assert simulator.leases.failures == 0


async def test_pods_on_simulated_nodes_run(simulator: Simulator, client: Client) -> None:
    for i in (0, 13, 49):
        await client.create("pods", pod_manifest(f"p{i}", f"sim-{i}"), namespace="default")
    await client.create(
        "pods",
        pod_manifest("done", "sim-3", command=["exit", "0"], restart_policy="Never"),
        namespace="default",
    )

    async def phases() -> dict[str, str]:
        items = (await client.list("pods", namespace="default"))["items"]
        return {p["metadata"]["name"]: p.get("status", {}).get("phase", "") for p in items}

    async def all_done() -> bool:
        got = await phases()
        return got == {"p0": "Running", "p13": "Running", "p49": "Running", "done": "Succeeded"}

    await eventually(all_done, within=15, what="pods Running/Succeeded")
    pod = await client.get("pods", "p13", namespace="default")
    node = await client.get("nodes", "sim-13")
    prefix = node["spec"]["podCIDR"].rsplit(".", 1)[0] + "."
    assert pod["status"]["podIP"].startswith(prefix)
    # graceful deletion is confirmed by the simulated node
    await client.delete("pods", "p13", namespace="default")

    async def gone() -> bool:
        return "p13" not in await phases()

    await eventually(gone, within=10, what="p13 deleted")


async def test_paced_lease_renewals_do_not_wait_for_the_slowest() -> None:
    """Renewals start spread over the period in a sliding window: one slow Lease write delays
    neither the start of the others nor their completion."""
    from skiff.agent.simulate import _PacedLeaseRenewer

    loop = asyncio.get_running_loop()
    started: dict[str, float] = {}
    finished: dict[str, float] = {}

    class Recording(_PacedLeaseRenewer):
        async def renew(self, node: str) -> None:
            started[node] = loop.time()
            await asyncio.sleep(0.6 if node == "n0" else 0.01)  # n0's write is slow
            finished[node] = loop.time()

    renewer = Recording(None, period=0.5, concurrency=4)  # type: ignore[arg-type]
    for i in range(8):
        renewer.add(f"n{i}", "")
    t0 = loop.time()
    await renewer.renew_all()
    assert sorted(started) == [f"n{i}" for i in range(8)]
    # spread over 80 % of the period: n7 starts about 0.35 s in, not at once
    assert started["n7"] - t0 >= 0.3
    # ... and not after the slow n0 finished (batches would have waited for it)
    assert started["n7"] < finished["n0"]
    assert all(finished[f"n{i}"] < finished["n0"] for i in range(1, 8))
