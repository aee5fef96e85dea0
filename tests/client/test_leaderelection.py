"""Leader election over a Lease on the fake API server: one leader among candidates, release on
cancel, takeover after expiry when the leader stops renewing, a partitioned leader stepping down
before anyone else takes over. Uses short real durations (1 s lease)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from skiff.client import Client, Config, LeaderElector, resolve
from skiff.testing.fakeapi import FakeApiServer

LEASES = resolve(("coordination.k8s.io/v1", "Lease"))


class Cuttable(httpx.AsyncBaseTransport):
    """A transport whose network can be cut (every request then fails to connect)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.cut = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.cut:
            raise httpx.ConnectError("network cut by test", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Monitor:
    """Records who leads and fails the test if two ever lead at once."""

    def __init__(self) -> None:
        self.leading: set[str] = set()
        self.history: list[str] = []
        self.violations = 0

    def work(self, identity: str) -> Callable[[], Coroutine[Any, Any, None]]:
        async def lead() -> None:
            if self.leading:
                self.violations += 1
            self.leading.add(identity)
            self.history.append(identity)
            try:
                await asyncio.Event().wait()
            finally:
                self.leading.discard(identity)

        return lead


def elector(client: Client, identity: str, **kwargs: object) -> LeaderElector:
    return LeaderElector(
        client,
        name="ctrl",
        namespace="kube-system",
        identity=identity,
        lease_duration=1,
        renew_deadline=0.5,
        retry_period=0.05,
        **kwargs,  # type: ignore[arg-type]
    )


async def wait_until(check: Callable[[], bool], within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_one_leader_and_handover_on_release(api: FakeApiServer, client: Client) -> None:
    mon = Monitor()
    stopped: list[str] = []
    a, b = elector(client, "a"), elector(client, "b")
    ta = asyncio.create_task(a.run(mon.work("a"), on_stopped_leading=lambda: stopped.append("a")))
    await wait_until(lambda: a.is_leader)
    tb = asyncio.create_task(b.run(mon.work("b"), on_stopped_leading=lambda: stopped.append("b")))
    try:
        await asyncio.sleep(0.4)  # several renew periods: b must not lead
        assert not b.is_leader and mon.leading == {"a"}
        assert b.leader == "a"
        lease = api.state.get(LEASES, "kube-system", "ctrl")
        assert lease["spec"]["holderIdentity"] == "a"
        assert lease["spec"]["leaseDurationSeconds"] == 1
        assert lease["spec"]["renewTime"].endswith("Z")
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await stop(ta)  # releases the lease
        assert stopped == ["a"]
        await wait_until(lambda: b.is_leader)
        assert loop.time() - t0 < 0.9, "released lease should be taken before it expires"
        lease = api.state.get(LEASES, "kube-system", "ctrl")
        assert lease["spec"]["holderIdentity"] == "b"
        assert lease["spec"]["leaseTransitions"] == 1
    finally:
        await stop(ta)
        await stop(tb)
    assert mon.violations == 0
    assert mon.history == ["a", "b"]


async def test_takeover_after_expiry_when_leader_stops_renewing(
    api: FakeApiServer, client: Client
) -> None:
    mon = Monitor()
    a = elector(client, "a", release_on_cancel=False)
    b = elector(client, "b")
    ta = asyncio.create_task(a.run(mon.work("a")))
    await wait_until(lambda: a.is_leader)
    tb = asyncio.create_task(b.run(mon.work("b")))
    try:
        await asyncio.sleep(0.2)
        loop = asyncio.get_running_loop()
        await stop(ta)  # dies without releasing: the lease stays held
        t0 = loop.time()
        await wait_until(lambda: b.is_leader)
        waited = loop.time() - t0
        assert 0.7 < waited < 2.5, waited
    finally:
        await stop(ta)
        await stop(tb)
    assert mon.violations == 0


async def test_partitioned_leader_steps_down_before_takeover(api: FakeApiServer) -> None:
    cut = Cuttable()
    mon = Monitor()
    events: list[tuple[str, float]] = []
    loop = asyncio.get_running_loop()
    async with (
        Client(Config(server=api.url), transport=cut) as ca,
        Client(Config(server=api.url)) as cb,
    ):
        a = elector(ca, "a")
        b = elector(cb, "b")
        ta = asyncio.create_task(
            a.run(
                mon.work("a"), on_stopped_leading=lambda: events.append(("a-stopped", loop.time()))
            )
        )
        await wait_until(lambda: a.is_leader)
        tb = asyncio.create_task(b.run(mon.work("b")))
        try:
            await asyncio.sleep(0.2)
            cut.cut = True
            await wait_until(lambda: b.is_leader)
            events.append(("b-leads", loop.time()))
            assert not a.is_leader
            await asyncio.wait_for(ta, 1)  # run() returns after losing the lease
        finally:
            await stop(ta)
            await stop(tb)
    assert [name for name, _ in events] == ["a-stopped", "b-leads"]
    assert mon.violations == 0


async def test_rejects_unsafe_timings(client: Client) -> None:
    with pytest.raises(ValueError):
        LeaderElector(
            client, name="x", namespace="y", identity="a", lease_duration=5, renew_deadline=5
        )
    with pytest.raises(ValueError):
        LeaderElector(
            client, name="x", namespace="y", identity="a", renew_deadline=2, retry_period=2
        )
    with pytest.raises(ValueError):
        LeaderElector(client, name="x", namespace="y", identity="")
