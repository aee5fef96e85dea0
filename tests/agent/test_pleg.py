"""PLEG: a relist reports exactly the pods whose containers or sandboxes appeared, changed state
or went away; a runtime notification makes `run` relist at once rather than at its period."""

from __future__ import annotations

import asyncio

from skiff.agent.pleg import Pleg
from skiff.runtime.fake import FakeRuntime
from skiff.runtime.types import ContainerConfig, SandboxConfig
from skiff.testing.clock import FakeClock
from skiff.testing.wait import eventually


def _sb(uid: str) -> SandboxConfig:
    return SandboxConfig(
        pod_uid=uid, name=uid, namespace="d", labels={"io.kubernetes.pod.uid": uid}
    )


async def test_relist_reports_changed_pods() -> None:
    clock = FakeClock()
    rt = FakeRuntime(clock=clock)
    await rt.start()
    seen: list[str] = []
    pleg = Pleg(rt, seen.append, clock=clock, period=1.0)
    a = await rt.run_sandbox(_sb("a"))
    b = await rt.run_sandbox(_sb("b"))
    assert await pleg.relist() == {"a", "b"}
    assert await pleg.relist() == set()
    cid = await rt.create_container(
        a, ContainerConfig(name="c", image="i", image_id="", argv=("x",))
    )
    assert await pleg.relist() == {"a"}
    await rt.start_container(cid)
    assert await pleg.relist() == {"a"}
    await rt.stop_sandbox(b)
    assert await pleg.relist() == {"b"}
    await rt.remove_sandbox(a)
    assert await pleg.relist() == {"a"}
    assert seen.count("a") == 4
    await rt.close()


async def test_notification_relists_without_waiting_for_the_period() -> None:
    clock = FakeClock()
    rt = FakeRuntime(clock=clock)
    await rt.start()
    seen: list[str] = []
    pleg = Pleg(rt, seen.append, clock=clock, period=1000.0)
    sid = await rt.run_sandbox(_sb("p"))
    cid = await rt.create_container(
        sid, ContainerConfig(name="c", image="i", image_id="", argv=("sleep", "5"))
    )
    await rt.start_container(cid)
    task = asyncio.create_task(pleg.run())
    try:
        await eventually(lambda: pleg.relists >= 1)
        seen.clear()
        clock.advance(5)  # the container ends; the runtime tells the PLEG
        await eventually(lambda: seen == ["p"], what="relisted on notification")
        assert clock.monotonic() - pleg.last_relist < 1000
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await rt.close()
