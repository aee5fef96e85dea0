"""Time-driven pod lifecycle on a fake clock: OnFailure restarts with a growing crash back-off
(first crash at once, then 1 s, 2 s, 4 s; CrashLoopBackOff while waiting), deletion honouring
the grace period and confirmed with grace 0, activeDeadlineSeconds, re-adoption after an agent
restart (no restart, no restart-count bump), and ImagePullBackOff."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from skiff.agent.kuberuntime import docker_config_auth
from skiff.agent.parts import FallbackProbes, FallbackVolumes, fallback_parts
from skiff.client import Client, Config, NotFound
from skiff.network.fake import FakeNetwork
from skiff.runtime.fake import FakeImages, FakeRuntime
from skiff.runtime.types import ContainerRuntimeError
from skiff.testing.agent import pod_manifest, running_agent
from skiff.testing.clock import FakeClock
from skiff.testing.wait import eventually


async def _status(client: Client, name: str) -> dict[str, Any]:
    pod = await client.get("pods", name, namespace="default")
    return dict(pod.get("status") or {})


async def _main(client: Client, name: str) -> dict[str, Any]:
    statuses = (await _status(client, name)).get("containerStatuses") or [{}]
    return dict(statuses[0])


async def test_on_failure_restarts_with_growing_backoff(config: Config, client: Client) -> None:
    clock = FakeClock()
    async with running_agent(config, "node-a", clock=clock) as agent:
        pod = pod_manifest(
            "crash", "node-a", command=["sh", "-c", "exit 1"], restart_policy="OnFailure"
        )
        created = await client.create("pods", pod, namespace="default")
        uid = created["metadata"]["uid"]

        async def waiting(count: int, delay: str) -> bool:
            cs = await _main(client, "crash")
            wait = cs.get("state", {}).get("waiting", {})
            return (
                cs.get("restartCount") == count
                and wait.get("reason") == "CrashLoopBackOff"
                and wait.get("message", "").startswith(f"back-off {delay} restarting")
            )

        # first crash restarts at once (restartCount 1), the second waits 1 s
        await eventually(lambda: waiting(1, "1s"), within=10, what="back-off 1s")
        cs = await _main(client, "crash")
        assert cs["lastState"]["terminated"]["exitCode"] == 1
        assert f"container=main pod=crash_default({uid})" in cs["state"]["waiting"]["message"]
        assert (await _status(client, "crash"))["phase"] == "Running"
        # half the wait is not enough
        clock.advance(0.5)
        assert agent.syncer.backoff.remaining((uid, "main"), clock.monotonic()) > 0
        clock.advance(0.5)
        await eventually(lambda: waiting(2, "2s"), within=10, what="back-off 2s")
        clock.advance(2)
        await eventually(lambda: waiting(3, "4s"), within=10, what="back-off 4s")
        await agent.recorder.flush()
        listed = await client.list("events", namespace="default")
        reasons = {e["reason"] for e in listed["items"] if e["involvedObject"]["uid"] == uid}
        assert "BackOff" in reasons


async def test_deletion_honours_grace_then_confirms(config: Config, client: Client) -> None:
    clock = FakeClock()
    async with running_agent(config, "node-a", clock=clock) as agent:
        pod = pod_manifest("slow", "node-a", command=["sh", "-c", "trap '' TERM; sleep 3600"])
        created = await client.create("pods", pod, namespace="default")
        uid = created["metadata"]["uid"]
        await eventually(lambda: _phase_is(client, "slow", "Running"), within=10, what="Running")
        await client.delete("pods", "slow", namespace="default", grace_period_seconds=5)
        await eventually(
            lambda: uid in agent.syncer.pods and agent.syncer.pods[uid].kill_deadline is not None,
            within=10,
            what="termination started",
        )
        await clock.wait_sleepers(1)
        # still there, terminating, while the container has its grace period
        again = await client.get("pods", "slow", namespace="default")
        assert again["metadata"]["deletionTimestamp"]
        assert again["metadata"]["deletionGracePeriodSeconds"] == 5
        clock.advance(4)
        assert (await client.get("pods", "slow", namespace="default"))["metadata"]["uid"] == uid
        clock.advance(1)

        async def gone() -> bool:
            try:
                await client.get("pods", "slow", namespace="default")
            except NotFound:
                return True
            return False

        await eventually(gone, within=10, what="pod deleted")
        await eventually(lambda: uid not in agent.syncer.pods, within=5, what="record dropped")
        assert await agent.runtime.list_sandboxes() == []
        await agent.recorder.flush()
        listed = await client.list("events", namespace="default")
        killing = [e for e in listed["items"] if e["reason"] == "Killing"]
        assert killing and "Stopping container main" in killing[0]["message"]


async def _phase_is(client: Client, name: str, phase: str) -> bool:
    return (await _status(client, name)).get("phase") == phase


async def test_active_deadline_fails_the_pod(config: Config, client: Client) -> None:
    clock = FakeClock()
    async with running_agent(config, "node-a", clock=clock):
        pod = pod_manifest("short", "node-a", activeDeadlineSeconds=5)
        await client.create("pods", pod, namespace="default")
        await eventually(lambda: _phase_is(client, "short", "Running"), within=10, what="Running")
        clock.advance(5)
        await eventually(lambda: _phase_is(client, "short", "Failed"), within=10, what="Failed")
        status = await _status(client, "short")
        assert status["reason"] == "DeadlineExceeded"
        assert "deadline" in status["message"]
        assert "terminated" in status["containerStatuses"][0]["state"]


async def test_agent_restart_readopts_running_containers(
    config: Config, client: Client, tmp_path: Path
) -> None:
    node_dir = tmp_path / "agent" / "node-a"
    async with running_agent(config, "node-a", node_dir=node_dir):
        await client.create("pods", pod_manifest("keep", "node-a"), namespace="default")
        await eventually(lambda: _phase_is(client, "keep", "Running"), within=10, what="Running")
        before = await _status(client, "keep")
    # a new agent process: new runtime and network objects over the same state directory
    runtime = FakeRuntime(node_dir / "state" / "fake")
    async with running_agent(config, "node-a", node_dir=node_dir, runtime=runtime) as agent:
        await eventually(
            lambda: any(r.name == "keep" and r.containers for r in agent.syncer.pods.values()),
            within=10,
            what="re-adopted",
        )
        after = await _status(client, "keep")
        cs_before, cs_after = before["containerStatuses"][0], after["containerStatuses"][0]
        assert cs_after["containerID"] == cs_before["containerID"]
        assert cs_after["restartCount"] == 0
        assert after["podIP"] == before["podIP"]
        assert len(await runtime.list_containers()) == 1
        assert after["phase"] == "Running"


async def test_missing_image_backs_off(config: Config, client: Client) -> None:
    clock = FakeClock()
    images = FakeImages(missing={"registry.local/nope:1"})
    async with running_agent(config, "node-a", clock=clock, images=images) as agent:
        pod = pod_manifest("noimg", "node-a", image="registry.local/nope:1")
        await client.create("pods", pod, namespace="default")

        async def reason(wanted: str) -> bool:
            wait = (await _main(client, "noimg")).get("state", {}).get("waiting", {})
            return wait.get("reason") == wanted

        await eventually(lambda: reason("ImagePullBackOff"), within=10, what="ImagePullBackOff")
        assert (await _status(client, "noimg"))["phase"] == "Pending"
        await agent.recorder.flush()
        listed = await client.list("events", namespace="default")
        messages = [e["message"] for e in listed["items"] if e["reason"] == "Failed"]
        assert any('Failed to pull image "registry.local/nope:1"' in m for m in messages)
        assert "Error: ErrImagePull" in messages
        images.missing.clear()
        clock.advance(2)
        await eventually(lambda: _phase_is(client, "noimg", "Running"), within=10, what="Running")


@pytest.mark.parametrize("policy", ["Always"])
async def test_network_addresses_are_distinct(config: Config, client: Client, policy: str) -> None:
    network = FakeNetwork()
    async with running_agent(config, "node-a", network=network):
        for i in range(3):
            await client.create("pods", pod_manifest(f"p{i}", "node-a"), namespace="default")
        for i in range(3):
            await eventually(lambda i=i: _phase_is(client, f"p{i}", "Running"), within=10)
        ips = {(await _status(client, f"p{i}"))["podIP"] for i in range(3)}
        assert len(ips) == 3


class _Volumes(FallbackVolumes):
    """Fails setup while ``failing``; counts setups and refreshes."""

    def __init__(self) -> None:
        super().__init__(None)
        self.failing = True
        self.setups = 0
        self.refreshes = 0

    async def setup(self, pod: Mapping[str, Any], *, pod_ip: str) -> None:
        self.setups += 1
        if self.failing:
            raise VolumeFailure('persistentvolumeclaim "data" not found')

    async def refresh(self, pod: Mapping[str, Any]) -> None:
        self.refreshes += 1


class VolumeFailure(Exception):
    reason = "FailedMount"


async def test_volume_failure_waits_with_failed_mount_then_refreshes(
    config: Config, client: Client
) -> None:
    clock = FakeClock()
    runtime = FakeRuntime(clock=clock)
    volumes = _Volumes()
    parts = fallback_parts(runtime, clock=clock, pods_dir=None)
    parts.volumes = volumes
    parts.volume_errors = (VolumeFailure,)
    async with running_agent(config, "node-a", clock=clock, runtime=runtime, parts=parts) as agent:
        pod = pod_manifest("vol", "node-a")
        pod["spec"]["volumes"] = [{"name": "cfg", "configMap": {"name": "settings"}}]
        await client.create("pods", pod, namespace="default")

        async def failed_mount() -> bool:
            await agent.recorder.flush()
            listed = await client.list("events", namespace="default")
            return any(e["reason"] == "FailedMount" for e in listed["items"])

        await eventually(failed_mount, within=10, what="FailedMount event")
        assert (await _status(client, "vol"))["phase"] == "Pending"
        volumes.failing = False
        clock.advance(2)
        await eventually(lambda: _phase_is(client, "vol", "Running"), within=10, what="Running")
        before = volumes.refreshes
        clock.advance(30)
        await eventually(lambda: volumes.refreshes > before, within=10, what="re-projected")


def test_docker_config_secrets_give_registry_auth() -> None:
    import base64
    import json

    cfg = {
        "auths": {
            "https://registry.local:5000/v1/": {"auth": base64.b64encode(b"bob:pw").decode()},
            "other.local": {"username": "amy", "password": "x", "identitytoken": "t"},
        }
    }
    secret = {"data": {".dockerconfigjson": base64.b64encode(json.dumps(cfg).encode()).decode()}}
    got = docker_config_auth(secret)
    assert got["registry.local:5000"].username == "bob"
    assert got["registry.local:5000"].password == "pw"
    assert got["other.local"].identity_token == "t"
    assert docker_config_auth({"data": {".dockerconfigjson": "!!"}}) == {}


class _Liveness(FallbackProbes):
    """Says the liveness probe of ``main`` failed for the container ids in ``failing``."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.failing: set[str] = set()
        self.running: dict[str, str] = {}

    def update(
        self, pod: Mapping[str, Any], running: Mapping[str, tuple[str, float]], pod_ip: str
    ) -> None:
        super().update(pod, running, pod_ip)
        self.running = {name: cid for name, (cid, _) in running.items()}

    def liveness_failed(self, pod_uid: str, container: str) -> str | None:
        cid = self.running.get(container)
        return "Liveness probe failed: boom" if cid in self.failing else None


async def test_liveness_failure_restarts_the_container(config: Config, client: Client) -> None:
    clock = FakeClock()
    runtime = FakeRuntime(clock=clock)
    probes = _Liveness(clock)
    parts = fallback_parts(runtime, clock=clock, pods_dir=None)
    parts.probes = probes
    async with running_agent(config, "node-a", clock=clock, runtime=runtime, parts=parts) as agent:
        created = await client.create("pods", pod_manifest("live", "node-a"), namespace="default")
        uid = created["metadata"]["uid"]
        await eventually(lambda: _phase_is(client, "live", "Running"), within=10, what="Running")
        first = (await _main(client, "live"))["containerID"].removeprefix("fake://")
        probes.failing.add(first)
        agent.workers.enqueue(uid)  # what the prober's on_change does

        async def restarted() -> bool:
            cs = await _main(client, "live")
            return cs.get("restartCount") == 1 and "running" in cs.get("state", {})

        await eventually(restarted, within=10, what="restarted after the liveness failure")
        cs = await _main(client, "live")
        assert cs["lastState"]["terminated"]["exitCode"] == 143
        await agent.recorder.flush()
        listed = await client.list("events", namespace="default")
        assert any(
            e["reason"] == "Killing" and "failed liveness probe" in e["message"]
            for e in listed["items"]
        )


class _FlakyRuntime(FakeRuntime):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock)
        self.fail_starts = 1

    async def start_container(self, container_id: str) -> None:
        if self.fail_starts:
            self.fail_starts -= 1
            raise ContainerRuntimeError("exec: no such file", reason="RunContainerError")
        await super().start_container(container_id)


async def test_failed_start_is_retried_from_a_clean_slate(config: Config, client: Client) -> None:
    clock = FakeClock()
    runtime = _FlakyRuntime(clock)
    async with running_agent(config, "node-a", clock=clock, runtime=runtime) as agent:
        await client.create("pods", pod_manifest("flaky", "node-a"), namespace="default")

        await eventually(lambda: _phase_is(client, "flaky", "Running"), within=10, what="Running")
        assert (await _main(client, "flaky"))["restartCount"] == 0
        assert len(await runtime.list_containers()) == 1  # the failed one was removed
        await agent.recorder.flush()
        listed = await client.list("events", namespace="default")
        assert any(e["message"] == "Error: exec: no such file" for e in listed["items"])
