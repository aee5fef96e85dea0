"""Node registration and heartbeat: the Node's capacity, allocatable after reservations,
addresses, nodeInfo, daemonEndpoints, labels and conditions; the podCIDR; taking over an existing
Node; status written only when it changed (or the report period passed); the Lease renewed every
period on the clock; `allocatable` arithmetic."""

from __future__ import annotations

import asyncio

from skiff.agent.node import (
    KUBELET_VERSION,
    LeaseRenewer,
    NodeOptions,
    NodeRegistration,
    allocatable,
    host_facts,
)
from skiff.client import Client
from skiff.testing.clock import FakeClock
from skiff.testing.wait import eventually


def test_allocatable_subtracts_reservations_never_below_zero() -> None:
    cap = {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"}
    got = allocatable(cap, {"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "200Gi"})
    assert got == {"cpu": "3500m", "memory": "7Gi", "pods": "110", "ephemeral-storage": "0"}


async def test_register_writes_a_complete_node(client: Client) -> None:
    facts = host_facts()
    opts = NodeOptions(
        name="node-x",
        node_ip="127.0.0.1",
        agent_port=10250,
        runtime_version="fake://0.1.0",
        reserved={"cpu": "100m", "memory": "256Mi"},
        capacity={"cpu": "2", "memory": "4Gi"},
        labels={"node-role.kubernetes.io/worker": ""},
    )
    reg = NodeRegistration(client, opts, facts)
    await reg.register()
    assert await reg.wait_for_pod_cidr(timeout=5) == reg.pod_cidr != ""
    node = await client.get("nodes", "node-x")
    status = node["status"]
    assert status["capacity"]["cpu"] == "2"
    assert status["capacity"]["memory"] == "4Gi"
    assert status["capacity"]["pods"] == "110"
    assert status["allocatable"]["cpu"] == "1900m"
    assert status["allocatable"]["memory"] == "3840Mi"
    assert status["addresses"] == [
        {"type": "InternalIP", "address": "127.0.0.1"},
        {"type": "Hostname", "address": "node-x"},
    ]
    assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}
    info = status["nodeInfo"]
    assert info["kubeletVersion"] == KUBELET_VERSION
    assert info["containerRuntimeVersion"] == "fake://0.1.0"
    assert info["operatingSystem"] == "linux"
    assert info["kernelVersion"] and info["bootID"] == facts.boot_id
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "node-x"
    assert labels["kubernetes.io/os"] == "linux"
    assert labels["kubernetes.io/arch"] == facts.architecture
    assert "node-role.kubernetes.io/worker" in labels
    conds = {c["type"]: c for c in status["conditions"]}
    assert {t: c["status"] for t, c in conds.items()} == {
        "Ready": "True",
        "MemoryPressure": "False",
        "DiskPressure": "False",
        "PIDPressure": "False",
    }
    assert conds["Ready"]["reason"] == "KubeletReady"
    assert conds["Ready"]["lastHeartbeatTime"]

    # nothing changed: no write; a changed status is written
    assert await reg.update_status() is False
    opts.capacity["cpu"] = "3"
    assert await reg.update_status() is True
    assert (await client.get("nodes", "node-x"))["status"]["capacity"]["cpu"] == "3"

    # a second agent of the same name takes the Node over (labels refreshed, same uid)
    uid = node["metadata"]["uid"]
    again = NodeRegistration(client, NodeOptions(name="node-x", labels={"extra": "1"}), facts)
    await again.register()
    node = await client.get("nodes", "node-x")
    assert node["metadata"]["uid"] == uid
    assert node["metadata"]["labels"]["extra"] == "1"


async def test_lease_renewed_every_period(client: Client) -> None:
    clock = FakeClock()
    leases = LeaseRenewer(client, period=2.0, clock=clock)
    leases.add("node-l", "", duration=8)
    await leases.renew("node-l")
    lease = await client.get("leases", "node-l", namespace="kube-node-lease")
    assert lease["spec"]["holderIdentity"] == "node-l"
    assert lease["spec"]["leaseDurationSeconds"] == 8
    first = lease["spec"]["renewTime"]
    task = asyncio.create_task(leases.run())
    try:
        await eventually(lambda: leases.renewals("node-l") >= 2, what="renewed at start")
        await clock.wait_sleepers(1)
        clock.advance(2.0)
        await eventually(lambda: leases.renewals("node-l") >= 3, what="renewed after a period")
        lease = await client.get("leases", "node-l", namespace="kube-node-lease")
        assert lease["spec"]["renewTime"] != first
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_pressure_conditions_come_from_the_eviction_seam(client: Client) -> None:
    pressure = {"MemoryPressure": False}
    reg = NodeRegistration(
        client, NodeOptions(name="node-p"), host_facts(), pressure=lambda: pressure
    )
    await reg.register()
    pressure["MemoryPressure"] = True
    assert await reg.update_status() is True
    node = await client.get("nodes", "node-p")
    conds = {c["type"]: c for c in node["status"]["conditions"]}
    assert conds["MemoryPressure"]["status"] == "True"
    assert conds["MemoryPressure"]["reason"] == "KubeletHasInsufficientMemory"
    assert conds["DiskPressure"]["status"] == "False"


async def test_a_node_marked_unknown_by_the_controller_is_set_back(client: Client) -> None:
    reg = NodeRegistration(client, NodeOptions(name="node-u"), host_facts())
    await reg.register()
    assert await reg.server_disagrees() is False
    # the node lifecycle controller's view while heartbeats were missing
    node = await client.get("nodes", "node-u")
    conditions = [
        {**c, "status": "Unknown", "reason": "NodeStatusUnknown"}
        for c in node["status"]["conditions"]
    ]
    await client.patch_status(
        "nodes", "node-u", {"status": {"conditions": conditions}}, patch_type="strategic"
    )
    # nothing changed in the agent's own view: a plain update writes nothing...
    assert await reg.update_status() is False
    # ...but the stored Node disagrees, so the status loop writes it again
    assert await reg.server_disagrees() is True
    assert await reg.update_status(force=True) is True
    node = await client.get("nodes", "node-u")
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
