"""The fake runtime's own behaviour: how argv maps to a fate (`exit N`, `sleep S`, run), timed
exits on an injected clock with a listener told at once, grace periods on that clock; the fake
network's IPAM (gateway skipped, persisted, exhaustion); the fake image service."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from skiff.network.base import NetworkConfig, NetworkError
from skiff.network.fake import FakeNetwork
from skiff.runtime.fake import FakeImages, FakeRuntime, fake_plan
from skiff.runtime.images.base import ImagePullError
from skiff.runtime.types import ContainerConfig, ContainerState, SandboxConfig
from skiff.testing.clock import FakeClock
from skiff.testing.wait import eventually


@pytest.mark.parametrize(
    ("argv", "plan"),
    [
        (["exit", "3"], ("exit", 3.0)),
        (["sh", "-c", "exit 3"], ("exit", 3.0)),
        (["/bin/sh", "-c", "exit 0"], ("exit", 0.0)),
        (["sleep", "5"], ("sleep", 5.0)),
        (["sh", "-c", "sleep 0.5"], ("sleep", 0.5)),
        (["/bin/sleep", "2"], ("sleep", 2.0)),
        (["nginx", "-g", "daemon off;"], ("run", 0.0)),
        (["sleep", "infinity"], ("run", 0.0)),
        ([], ("run", 0.0)),
    ],
)
def test_plan_from_argv(argv: list[str], plan: tuple[str, float]) -> None:
    assert fake_plan(argv) == plan


def _config(argv: tuple[str, ...]) -> ContainerConfig:
    return ContainerConfig(name="c", image="img", image_id="", argv=argv)


async def test_sleep_exits_on_the_clock_and_tells_listeners() -> None:
    clock = FakeClock()
    rt = FakeRuntime(clock=clock)
    heard: list[int] = []
    rt.add_listener(lambda: heard.append(1))
    await rt.start()
    try:
        sid = await rt.run_sandbox(SandboxConfig(pod_uid="u", name="p", namespace="d"))
        cid = await rt.create_container(sid, _config(("sleep", "10")))
        await rt.start_container(cid)
        clock.advance(9.9)
        assert (await rt.container_status(cid)).state is ContainerState.RUNNING
        clock.advance(0.1)
        await eventually(lambda: heard, what="listener told")
        st = await rt.container_status(cid)
        assert st.state is ContainerState.EXITED and st.exit_code == 0
        assert st.finished_at - st.started_at == pytest.approx(10.0)
    finally:
        await rt.close()


async def test_grace_period_on_the_clock() -> None:
    clock = FakeClock()
    rt = FakeRuntime(clock=clock)
    await rt.start()
    sid = await rt.run_sandbox(SandboxConfig(pod_uid="u", name="p", namespace="d"))
    cid = await rt.create_container(sid, _config(("sh", "-c", "trap '' TERM; sleep 100")))
    await rt.start_container(cid)
    stop = asyncio.create_task(rt.stop_container(cid, 30))
    await clock.wait_sleepers(1)
    clock.advance(29)
    await asyncio.sleep(0)
    assert not stop.done()
    clock.advance(1)
    await stop
    assert (await rt.container_status(cid)).exit_code == 137
    await rt.close()


async def test_plain_container_exits_143_on_sigterm(tmp_path: Path) -> None:
    rt = FakeRuntime()
    await rt.start()
    sid = await rt.run_sandbox(SandboxConfig(pod_uid="u", name="p", namespace="d"))
    log = tmp_path / "c.log"
    cfg = ContainerConfig(name="c", image="img", image_id="", argv=("serve",), log_path=str(log))
    cid = await rt.create_container(sid, cfg)
    await rt.start_container(cid)
    await rt.stop_container(cid, 30)
    st = await rt.container_status(cid)
    assert (st.exit_code, st.reason) == (143, "Error")
    lines = log.read_text().splitlines()
    assert " stdout F fake container c started" in lines[0]
    await rt.close()


async def test_fake_network_ipam(tmp_path: Path) -> None:
    net = FakeNetwork(tmp_path)
    with pytest.raises(NetworkError):
        await net.attach("s0", "")
    await net.setup_node(NetworkConfig(pod_cidr="10.42.3.0/30"))
    ip = await net.attach("s1", "")
    assert ip == "10.42.3.2"  # .1 is the gateway's
    assert await net.attach("s1", "") == ip
    with pytest.raises(NetworkError):
        await net.attach("s2", "")  # a /30 has two usable addresses
    again = FakeNetwork(tmp_path)
    assert again.ip_of("s1") == ip
    await again.detach("s1")
    await again.setup_node(NetworkConfig(pod_cidr="10.42.3.0/30"))
    assert await again.attach("s2", "") == "10.42.3.2"


async def test_fake_images_record_and_fail() -> None:
    images = FakeImages(missing={"gone:1"})
    info, pulled = await images.ensure("busybox:1.36", "IfNotPresent")
    assert pulled and info.id.startswith("sha256:")
    assert (await images.ensure("busybox:1.36", "IfNotPresent"))[1] is False
    assert images.pulled == ["busybox:1.36"]
    with pytest.raises(ImagePullError):
        await images.ensure("gone:1", "IfNotPresent")
    with pytest.raises(ImagePullError):
        await images.ensure("other:1", "Never")


async def test_fake_network_host_mode_gives_the_node_ip() -> None:
    net = FakeNetwork(host=True)
    await net.setup_node(NetworkConfig(pod_cidr="10.42.3.0/24", node_ip="192.0.2.7"))
    assert await net.attach("a", "") == await net.attach("b", "") == "192.0.2.7"
