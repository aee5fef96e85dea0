"""The scheduler against the real API server (in process), with Node objects made directly:
placement by resources, node affinity and selectors, pod affinity and anti-affinity, taints and
tolerations, topology spread, scheduling gates, unbound claims, Kubernetes' unschedulable
messages and events, retry when a node is added, preemption with nominatedNodeName, pods for
another scheduler left alone, a MostAllocated profile from a KubeSchedulerConfiguration, and two
schedulers of which exactly one (the Lease holder) acts."""

from __future__ import annotations

import asyncio
from typing import Any

from scheduler_helpers import create_node, make_node, make_pod, running_scheduler

from skiff.client import Client
from skiff.scheduler.config import parse_config
from skiff.testing.wait import eventually

NS = "default"


async def node_of(client: Client, name: str) -> str:
    pod = await client.get("pods", name, namespace=NS)
    return str(pod["spec"].get("nodeName") or "")


async def scheduled_condition(client: Client, name: str) -> dict[str, Any]:
    pod = await client.get("pods", name, namespace=NS)
    for cond in pod.get("status", {}).get("conditions") or []:
        if cond["type"] == "PodScheduled":
            return dict(cond)
    return {}


async def wait_bound(client: Client, *names: str, within: float = 10.0) -> dict[str, str]:
    async def all_bound() -> bool:
        return all([await node_of(client, n) for n in names])

    await eventually(all_bound, within=within, what=f"pods {names} bound")
    return {n: await node_of(client, n) for n in names}


async def wait_unschedulable(client: Client, name: str, within: float = 10.0) -> str:
    async def message() -> str:
        cond = await scheduled_condition(client, name)
        return str(cond.get("message") or "") if cond.get("reason") == "Unschedulable" else ""

    await eventually(message, within=within, what=f"{name} Unschedulable")
    return await message()


async def test_resources_exhaustion_message_event_and_retry_after_node_added(api: Client) -> None:
    await create_node(api, make_node("small-a", cpu="1"))
    await create_node(api, make_node("small-b", cpu="1"))
    await create_node(
        api,
        make_node(
            "tainted", cpu="8", taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]
        ),
    )
    await create_node(api, make_node("down", cpu="8", ready=False))
    async with running_scheduler(api):
        await api.create("pods", make_pod("big", cpu="2"), namespace=NS)
        message = await wait_unschedulable(api, "big")
        assert message == (
            "0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, "
            "1 node(s) were not ready, 2 Insufficient cpu. preemption: 0/4 nodes are available: "
            "2 No preemption victims found for incoming pod, "
            "2 Preemption is not helpful for scheduling."
        )

        async def failed_event() -> bool:
            events = (await api.list("events", namespace=NS))["items"]
            return any(
                e["reason"] == "FailedScheduling" and e["involvedObject"]["name"] == "big"
                for e in events
            )

        await eventually(failed_event, what="FailedScheduling event")
        # a node that can take it arrives: the pod is retried at once (no back-off wait of minutes)
        await create_node(api, make_node("large", cpu="4"))
        assert (await wait_bound(api, "big", within=5))["big"] == "large"
        events = (await api.list("events", namespace=NS))["items"]
        assert any(
            e["reason"] == "Scheduled"
            and e["message"] == "Successfully assigned default/big to large"
            for e in events
        )


async def test_no_nodes_then_a_node(api: Client) -> None:
    async with running_scheduler(api):
        await api.create("pods", make_pod("first"), namespace=NS)
        assert await wait_unschedulable(api, "first") == "no nodes available to schedule pods"
        await create_node(api, make_node("n1"))
        assert (await wait_bound(api, "first", within=5))["first"] == "n1"


async def test_pod_waits_for_a_node_to_become_ready(api: Client) -> None:
    await create_node(api, make_node("booting", ready=False))
    async with running_scheduler(api):
        await api.create("pods", make_pod("early"), namespace=NS)
        assert (await wait_unschedulable(api, "early")).startswith(
            "0/1 nodes are available: 1 node(s) were not ready."
        )
        node = await api.get("nodes", "booting")
        node["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
        await api.update_status("nodes", node)
        assert (await wait_bound(api, "early", within=5))["early"] == "booting"


async def test_burst_never_overcommits(api: Client) -> None:
    for i in range(3):
        await create_node(api, make_node(f"n{i}", cpu="1", pods="5"))
    async with running_scheduler(api) as runner:
        names = [f"p{i}" for i in range(12)]
        await asyncio.gather(
            *(api.create("pods", make_pod(n, cpu="300m"), namespace=NS) for n in names)
        )
        sched = runner.scheduler
        assert sched is not None
        await eventually(lambda: sched.scheduled >= 9, what="9 pods bound")
        placed = {n: await node_of(api, n) for n in names}
        waiting = [n for n, node in placed.items() if not node]
        assert len(waiting) == 3
        for n in waiting:
            assert (await wait_unschedulable(api, n)).startswith(
                "0/3 nodes are available: 3 Insufficient cpu."
            )
        per_node: dict[str, int] = {}
        for node in placed.values():
            if node:
                per_node[node] = per_node.get(node, 0) + 1
        assert sorted(per_node.values()) == [3, 3, 3]  # 3 x 300m fit in 1 cpu, a 4th never


async def test_node_affinity_selector_and_match_fields(api: Client) -> None:
    await create_node(api, make_node("ssd-1", labels={"disk": "ssd"}))
    await create_node(api, make_node("hdd-1", labels={"disk": "hdd"}))
    await create_node(api, make_node("hdd-2", labels={"disk": "hdd", "gen": "5"}))
    async with running_scheduler(api):
        await api.create("pods", make_pod("sel", nodeSelector={"disk": "ssd"}), namespace=NS)
        affinity = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["4"]}]}
                    ]
                }
            }
        }
        await api.create("pods", make_pod("expr", affinity=affinity), namespace=NS)
        pinned = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchFields": [
                                {"key": "metadata.name", "operator": "In", "values": ["hdd-1"]}
                            ]
                        }
                    ]
                }
            }
        }
        await api.create("pods", make_pod("ds", affinity=pinned), namespace=NS)
        await api.create("pods", make_pod("nowhere", nodeSelector={"disk": "nvme"}), namespace=NS)
        assert await wait_bound(api, "sel", "expr", "ds") == {
            "sel": "ssd-1",
            "expr": "hdd-2",
            "ds": "hdd-1",
        }
        assert (await wait_unschedulable(api, "nowhere")).startswith(
            "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."
        )
        # labelling a node lets the waiting pod in
        node = await api.get("nodes", "hdd-1")
        node["metadata"]["labels"]["disk"] = "nvme"
        await api.update("nodes", node)
        assert (await wait_bound(api, "nowhere", within=5))["nowhere"] == "hdd-1"


async def test_pod_affinity_and_anti_affinity(api: Client) -> None:
    for i, zone in enumerate(["a", "a", "b"]):
        await create_node(
            api, make_node(f"z{zone}{i}", labels={"topology.kubernetes.io/zone": zone})
        )
    async with running_scheduler(api):
        await api.create("pods", make_pod("db", labels={"app": "db"}), namespace=NS)
        db_node = (await wait_bound(api, "db"))["db"]
        zone_of = {"za0": "a", "za1": "a", "zb2": "b"}
        near = {
            "podAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "labelSelector": {"matchLabels": {"app": "db"}},
                        "topologyKey": "topology.kubernetes.io/zone",
                    }
                ]
            }
        }
        apart = {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "labelSelector": {"matchLabels": {"app": "web"}},
                        "topologyKey": "kubernetes.io/hostname",
                    }
                ]
            }
        }
        await api.create("pods", make_pod("cache", affinity=near), namespace=NS)
        for i in range(3):
            await api.create(
                "pods", make_pod(f"web{i}", labels={"app": "web"}, affinity=apart), namespace=NS
            )
        placed = await wait_bound(api, "cache", "web0", "web1", "web2")
        assert zone_of[placed["cache"]] == zone_of[db_node]
        assert len({placed["web0"], placed["web1"], placed["web2"]}) == 3
        await api.create(
            "pods", make_pod("web3", labels={"app": "web"}, affinity=apart), namespace=NS
        )
        message = await wait_unschedulable(api, "web3")
        assert message.startswith(
            "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."
        )


async def test_taints_and_tolerations(api: Client) -> None:
    gpu_taint = {"key": "gpu", "value": "true", "effect": "NoSchedule"}
    await create_node(api, make_node("gpu", taints=[gpu_taint]))
    await create_node(
        api, make_node("soft", taints=[{"key": "spot", "value": "", "effect": "PreferNoSchedule"}])
    )
    await create_node(api, make_node("plain", cpu="1"))
    async with running_scheduler(api):
        toleration = [{"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]
        await api.create(
            "pods",
            make_pod(
                "trainer",
                tolerations=toleration,
                nodeSelector={"kubernetes.io/hostname": "gpu"},
            ),
            namespace=NS,
        )
        # PreferNoSchedule: with room elsewhere, the untainted node wins
        await api.create("pods", make_pod("web", cpu="100m"), namespace=NS)
        placed = await wait_bound(api, "trainer", "web")
        assert placed == {"trainer": "gpu", "web": "plain"}


async def test_topology_spread_do_not_schedule(api: Client) -> None:
    for name, zone in (("a1", "a"), ("a2", "a"), ("b1", "b")):
        await create_node(api, make_node(name, labels={"topology.kubernetes.io/zone": zone}))
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "s"}},
        }
    ]
    async with running_scheduler(api):
        names = [f"s{i}" for i in range(4)]
        for n in names:
            await api.create(
                "pods",
                make_pod(n, labels={"app": "s"}, topologySpreadConstraints=spread),
                namespace=NS,
            )
            await wait_bound(api, n)
        placed = {n: await node_of(api, n) for n in names}
        zones = {"a1": "a", "a2": "a", "b1": "b"}
        per_zone = {"a": 0, "b": 0}
        for node in placed.values():
            per_zone[zones[node]] += 1
        assert per_zone == {"a": 2, "b": 2}


async def test_scheduling_gates(api: Client) -> None:
    await create_node(api, make_node("n1"))
    async with running_scheduler(api) as runner:
        await api.create(
            "pods", make_pod("gated", schedulingGates=[{"name": "example.com/wait"}]), namespace=NS
        )

        async def gated() -> bool:
            cond = await scheduled_condition(api, "gated")
            return cond.get("reason") == "SchedulingGated"

        await eventually(gated, what="SchedulingGated condition")
        sched = runner.scheduler
        assert sched is not None
        assert sched.queue.pending()["gated"] == 1
        assert await node_of(api, "gated") == ""
        pod = await api.get("pods", "gated", namespace=NS)
        pod["spec"]["schedulingGates"] = []
        await api.update("pods", pod)
        assert (await wait_bound(api, "gated"))["gated"] == "n1"


async def test_unbound_claim_waits(api: Client) -> None:
    await create_node(api, make_node("n1"))
    async with running_scheduler(api):
        await api.create(
            "persistentvolumeclaims",
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            },
            namespace=NS,
        )
        pod = make_pod("db")
        pod["spec"]["volumes"] = [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]
        await api.create("pods", pod, namespace=NS)
        message = await wait_unschedulable(api, "db")
        assert message == (
            "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
            "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        )


async def test_preemption_evicts_lower_priority_and_nominates(api: Client) -> None:
    for name, value in (("low", 10), ("high", 1000)):
        await api.create(
            "priorityclasses",
            {
                "apiVersion": "scheduling.k8s.io/v1",
                "kind": "PriorityClass",
                "metadata": {"name": name},
                "value": value,
            },
        )
    await create_node(api, make_node("only", cpu="2"))
    async with running_scheduler(api):
        await api.create(
            "pods", make_pod("small", cpu="500m", priorityClassName="low"), namespace=NS
        )
        await api.create("pods", make_pod("victim", cpu="1", priorityClassName="low"), namespace=NS)
        await wait_bound(api, "small", "victim")
        await api.create("pods", make_pod("vip", cpu="1", priorityClassName="high"), namespace=NS)

        async def nominated() -> str:
            pod = await api.get("pods", "vip", namespace=NS)
            return str(pod["status"].get("nominatedNodeName") or "")

        await eventually(nominated, what="nominatedNodeName")
        assert await nominated() == "only"

        # exactly the one victim needed is deleted (gracefully: no agent here, so it stays
        # terminating until we play the kubelet and finish it)
        async def victim_terminating() -> bool:
            pod = await api.get("pods", "victim", namespace=NS)
            return bool(pod["metadata"].get("deletionTimestamp"))

        await eventually(victim_terminating, what="victim deleted")
        victim = await api.get("pods", "victim", namespace=NS)
        assert any(
            c["type"] == "DisruptionTarget" and c["reason"] == "PreemptionByScheduler"
            for c in victim["status"].get("conditions") or []
        )
        small = await api.get("pods", "small", namespace=NS)
        assert not small["metadata"].get("deletionTimestamp")
        await api.delete("pods", "victim", namespace=NS, grace_period_seconds=0)
        assert (await wait_bound(api, "vip", within=10))["vip"] == "only"


async def test_other_scheduler_pods_left_alone_and_most_allocated_profile(api: Client) -> None:
    config = parse_config(
        {
            "apiVersion": "kubescheduler.config.k8s.io/v1",
            "kind": "KubeSchedulerConfiguration",
            "profiles": [
                {
                    "schedulerName": "default-scheduler",
                    "pluginConfig": [
                        {
                            "name": "NodeResourcesFit",
                            "args": {"scoringStrategy": {"type": "MostAllocated"}},
                        }
                    ],
                    "plugins": {
                        "score": {"disabled": [{"name": "NodeResourcesBalancedAllocation"}]}
                    },
                }
            ],
        }
    )
    for i in range(3):
        await create_node(api, make_node(f"n{i}", cpu="4"))
    async with running_scheduler(api, config=config):
        await api.create("pods", make_pod("mine-0", cpu="1"), namespace=NS)
        first = (await wait_bound(api, "mine-0"))["mine-0"]
        for i in range(1, 4):
            await api.create("pods", make_pod(f"mine-{i}", cpu="1"), namespace=NS)
        placed = await wait_bound(api, *[f"mine-{i}" for i in range(1, 4)])
        assert set(placed.values()) == {first}  # bin-packed onto one node
        await api.create("pods", make_pod("theirs", schedulerName="other"), namespace=NS)
        await api.create("pods", make_pod("after"), namespace=NS)
        await wait_bound(api, "after")
        assert await node_of(api, "theirs") == ""
        assert await scheduled_condition(api, "theirs") == {}


async def test_two_schedulers_one_leader(api: Client) -> None:
    await create_node(api, make_node("n1"))
    async with (
        running_scheduler(api, leader_elect=True, identity="first") as first,
        running_scheduler(api, leader_elect=True, identity="second") as second,
    ):
        await eventually(
            lambda: first.leading.is_set() != second.leading.is_set(), what="exactly one leads"
        )
        leader, standby = (first, second) if first.leading.is_set() else (second, first)
        assert standby.scheduler is None
        lease = await api.get("leases", "kube-scheduler", namespace="kube-system")
        assert lease["spec"]["holderIdentity"] == leader.identity
        await api.create("pods", make_pod("p1"), namespace=NS)
        await wait_bound(api, "p1")
        assert leader.scheduler is not None and leader.scheduler.scheduled == 1
