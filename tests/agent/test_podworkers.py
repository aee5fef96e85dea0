"""Pods bound to the node run through the pod workers: Running with a full status (conditions,
IPs, container statuses), exit codes ending pods per restartPolicy, init containers in order,
sidecars started before and stopped after the app containers, events."""

from __future__ import annotations

from typing import Any

from skiff.client import Client, Config
from skiff.testing.agent import pod_manifest, running_agent
from skiff.testing.wait import eventually


async def _pod(client: Client, name: str) -> dict[str, Any]:
    return await client.get("pods", name, namespace="default")


async def _phase(client: Client, name: str) -> str:
    return str((await _pod(client, name)).get("status", {}).get("phase", ""))


async def test_pod_with_node_name_runs_with_full_status(config: Config, client: Client) -> None:
    async with running_agent(config, "node-a") as agent:
        await client.create("pods", pod_manifest("web", "node-a"), namespace="default")

        async def ready() -> bool:
            pod = await _pod(client, "web")
            conds = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}
            return pod["status"].get("phase") == "Running" and conds.get("Ready") == "True"

        await eventually(ready, within=10, what="pod Running and Ready")
        pod = await _pod(client, "web")
        status = pod["status"]
        conds = {c["type"]: c["status"] for c in status["conditions"]}
        assert conds == {
            "PodReadyToStartContainers": "True",
            "Initialized": "True",
            "Ready": "True",
            "ContainersReady": "True",
            "PodScheduled": "True",
        }
        node = await client.get("nodes", "node-a")
        cidr = node["spec"]["podCIDR"]
        prefix = cidr.rsplit(".", 1)[0]
        assert status["podIP"].startswith(prefix + ".")
        assert status["podIPs"] == [{"ip": status["podIP"]}]
        assert status["hostIP"] == "127.0.0.1"
        assert status["startTime"]
        [cs] = status["containerStatuses"]
        assert cs["name"] == "main"
        assert cs["ready"] is True and cs["started"] is True
        assert cs["restartCount"] == 0
        assert "running" in cs["state"]
        assert cs["containerID"].startswith("fake://")
        assert cs["imageID"].startswith("sha256:")
        assert cs["image"] == "registry.local/busybox:1.36"
        # the lookup the HTTPS endpoint uses
        assert agent.find_pod("default", "web") is not None
        assert [p["metadata"]["name"] for p in agent.pods()] == ["web"]
        assert agent.container_id("default", "web", "main") == cs["containerID"][len("fake://") :]
        assert agent.sandbox_id("default", "web")

        async def events() -> set[str]:
            listed = await client.list("events", namespace="default")
            return {e["reason"] for e in listed["items"] if e["involvedObject"]["name"] == "web"}

        await eventually(
            lambda: _has(events, {"Pulling", "Pulled", "Created", "Started"}), what="events"
        )


async def _has(fetch: Any, wanted: set[str]) -> bool:
    got = await fetch()
    return wanted <= got


async def test_exit_3_with_never_fails(config: Config, client: Client) -> None:
    async with running_agent(config, "node-a"):
        pod = pod_manifest("once", "node-a", command=["sh", "-c", "exit 3"], restart_policy="Never")
        await client.create("pods", pod, namespace="default")
        await eventually(lambda: _is(client, "once", "Failed"), within=10, what="pod Failed")
        status = (await _pod(client, "once"))["status"]
        [cs] = status["containerStatuses"]
        term = cs["state"]["terminated"]
        assert term["exitCode"] == 3 and term["reason"] == "Error"
        assert cs["restartCount"] == 0 and cs["ready"] is False
        conds = {c["type"]: c for c in status["conditions"]}
        assert conds["Ready"]["status"] == "False"
        assert conds["Ready"]["reason"] == "PodCompleted"


async def test_exit_0_with_never_succeeds(config: Config, client: Client) -> None:
    async with running_agent(config, "node-a"):
        pod = pod_manifest("ok", "node-a", command=["exit", "0"], restart_policy="Never")
        await client.create("pods", pod, namespace="default")
        await eventually(lambda: _is(client, "ok", "Succeeded"), within=10, what="Succeeded")


async def _is(client: Client, name: str, phase: str) -> bool:
    return await _phase(client, name) == phase


async def test_init_containers_run_in_order_then_app(config: Config, client: Client) -> None:
    async with running_agent(config, "node-a") as agent:
        pod = pod_manifest(
            "inits",
            "node-a",
            initContainers=[
                {"name": "one", "image": "busybox:1.36", "command": ["sh", "-c", "exit 0"]},
                {"name": "two", "image": "busybox:1.36", "command": ["sh", "-c", "exit 0"]},
            ],
        )
        created = await client.create("pods", pod, namespace="default")
        await eventually(lambda: _is(client, "inits", "Running"), within=10, what="Running")
        status = (await _pod(client, "inits"))["status"]
        assert [s["name"] for s in status["initContainerStatuses"]] == ["one", "two"]
        for s in status["initContainerStatuses"]:
            assert s["state"]["terminated"]["reason"] == "Completed"
        rec = agent.syncer.pods[created["metadata"]["uid"]]
        order = sorted(rec.containers, key=lambda c: c.created_at)
        assert [c.name for c in order] == ["one", "two", "main"]
        one, two = order[0], order[1]
        assert one.finished_at <= two.started_at


async def test_failing_init_container_blocks_app(config: Config, client: Client) -> None:
    async with running_agent(config, "node-a"):
        pod = pod_manifest(
            "badinit",
            "node-a",
            restart_policy="Never",
            initContainers=[{"name": "init", "image": "busybox:1.36", "command": ["exit", "1"]}],
        )
        await client.create("pods", pod, namespace="default")
        await eventually(lambda: _is(client, "badinit", "Failed"), within=10, what="Failed")
        status = (await _pod(client, "badinit"))["status"]
        assert status["initContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 1
        assert "running" not in status["containerStatuses"][0]["state"]


async def test_sidecar_starts_before_app_and_stops_after(config: Config, client: Client) -> None:
    async with running_agent(config, "node-a") as agent:
        pod = pod_manifest(
            "side",
            "node-a",
            command=["sleep", "0.3"],
            restart_policy="Never",
            initContainers=[{"name": "proxy", "image": "busybox:1.36", "restartPolicy": "Always"}],
        )
        created = await client.create("pods", pod, namespace="default")
        uid = created["metadata"]["uid"]
        await eventually(lambda: _is(client, "side", "Succeeded"), within=10, what="Succeeded")
        rec = agent.syncer.pods[uid]
        by = {c.name: c for c in rec.containers}
        assert by["proxy"].started_at <= by["main"].started_at
        assert by["proxy"].finished_at >= by["main"].finished_at
        status = (await _pod(client, "side"))["status"]
        assert status["initContainerStatuses"][0]["name"] == "proxy"
        assert "terminated" in status["initContainerStatuses"][0]["state"]


async def test_fallback_to_logs_on_error_sets_the_message(
    config: Config, client: Client, tmp_path: Any
) -> None:
    async with running_agent(config, "node-a", node_dir=tmp_path / "node-a") as agent:
        pod = pod_manifest("msg", "node-a", command=["exit", "4"], restart_policy="Never")
        pod["spec"]["containers"][0]["terminationMessagePolicy"] = "FallbackToLogsOnError"
        await client.create("pods", pod, namespace="default")
        await eventually(lambda: _is(client, "msg", "Failed"), within=10, what="Failed")
        term = (await _pod(client, "msg"))["status"]["containerStatuses"][0]["state"]["terminated"]
        assert "fake container main exited with 4" in term["message"]
        path = agent.log_path("default", "msg", "main")
        assert path is not None and path.name == "0.log"
        assert "exited with 4" in path.read_text()


async def test_image_change_restarts_the_container(config: Config, client: Client) -> None:
    async with running_agent(config, "node-a"):
        await client.create("pods", pod_manifest("img", "node-a"), namespace="default")
        await eventually(lambda: _is(client, "img", "Running"), within=10, what="Running")
        patch = {"spec": {"containers": [{"name": "main", "image": "registry.local/busybox:1.37"}]}}
        await client.patch("pods", "img", patch, namespace="default", patch_type="strategic")

        async def restarted() -> bool:
            cs = (await _pod(client, "img"))["status"]["containerStatuses"][0]
            return (
                cs["image"] == "registry.local/busybox:1.37"
                and cs["restartCount"] == 1
                and "running" in cs["state"]
            )

        await eventually(restarted, within=10, what="restarted with the new image")


async def test_readiness_waits_for_initial_delay(config: Config, client: Client) -> None:
    async with running_agent(config, "node-a"):
        pod = pod_manifest("slowready", "node-a")
        pod["spec"]["containers"][0]["readinessProbe"] = {
            "exec": {"command": ["true"]},
            "initialDelaySeconds": 1,
        }
        await client.create("pods", pod, namespace="default")
        await eventually(lambda: _is(client, "slowready", "Running"), within=10, what="Running")
        first = (await _pod(client, "slowready"))["status"]["containerStatuses"][0]
        assert first["ready"] is False and first["started"] is True

        async def ready() -> bool:
            cs = (await _pod(client, "slowready"))["status"]["containerStatuses"][0]
            return bool(cs["ready"])

        await eventually(ready, within=10, what="ready after the initial delay")


async def test_ephemeral_container_started_once(config: Config, client: Client) -> None:
    # the API server does not serve pods/ephemeralcontainers yet: hand the agent the pod as
    # that subresource would leave it
    async with running_agent(config, "node-a") as agent:
        created = await client.create("pods", pod_manifest("dbg", "node-a"), namespace="default")
        await eventually(lambda: _is(client, "dbg", "Running"), within=10, what="Running")
        uid = created["metadata"]["uid"]
        pod = await _pod(client, "dbg")
        pod["spec"]["ephemeralContainers"] = [
            {"name": "debugger", "image": "busybox:1.36", "command": ["exit", "0"]}
        ]
        agent.syncer.upsert(pod)
        await agent.syncer.sync(uid)
        rec = agent.syncer.pods[uid]
        [dbg] = [c for c in rec.containers if c.name == "debugger"]
        await agent.syncer.sync(uid)  # exited: never restarted
        assert [c.id for c in agent.syncer.pods[uid].containers if c.name == "debugger"] == [dbg.id]


async def test_restart_keeps_terminal_pods_and_removes_orphans(
    config: Config, client: Client, tmp_path: Any
) -> None:
    node_dir = tmp_path / "node-a"
    async with running_agent(config, "node-a", node_dir=node_dir):
        pod = pod_manifest("fin", "node-a", command=["exit", "0"], restart_policy="Never")
        await client.create("pods", pod, namespace="default")
        await client.create("pods", pod_manifest("orphan", "node-a"), namespace="default")
        await eventually(lambda: _is(client, "fin", "Succeeded"), within=10, what="Succeeded")
        await eventually(lambda: _is(client, "orphan", "Running"), within=10, what="Running")
    # while no agent runs, the pod goes away without its confirmation
    await client.delete("pods", "orphan", namespace="default", grace_period_seconds=0)
    async with running_agent(config, "node-a", node_dir=node_dir) as agent:
        await eventually(
            lambda: not any(r.name == "orphan" for r in agent.syncer.pods.values()),
            within=10,
            what="orphan removed",
        )
        sandboxes = await agent.runtime.list_sandboxes()
        assert [s.name for s in sandboxes] == ["fin"]
        assert await _phase(client, "fin") == "Succeeded"
        fin = [c for c in await agent.runtime.list_containers() if c.name == "main"]
        assert len(fin) == 1  # not run again


async def test_host_network_pod_gets_the_node_ip(config: Config, client: Client) -> None:
    async with running_agent(config, "node-a", node_ip="127.0.0.1"):
        pod = pod_manifest("hostnet", "node-a", hostNetwork=True)
        await client.create("pods", pod, namespace="default")
        await eventually(lambda: _is(client, "hostnet", "Running"), within=10, what="Running")
        status = (await _pod(client, "hostnet"))["status"]
        assert status["podIP"] == status["hostIP"] == "127.0.0.1"


async def test_evicted_pod_fails_with_reason(config: Config, client: Client) -> None:
    async with running_agent(config, "node-a") as agent:
        created = await client.create("pods", pod_manifest("ev", "node-a"), namespace="default")
        await eventually(lambda: _is(client, "ev", "Running"), within=10, what="Running")
        message = "The node was low on resource: memory."
        assert agent.evict(created["metadata"]["uid"], message)
        await eventually(lambda: _is(client, "ev", "Failed"), within=10, what="Failed")
        status = (await _pod(client, "ev"))["status"]
        assert (status["reason"], status["message"]) == ("Evicted", message)
        assert "terminated" in status["containerStatuses"][0]["state"]
        assert not agent.evict(created["metadata"]["uid"], message)
