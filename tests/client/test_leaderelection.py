"""Leader election over a Lease on the real API server in-process, on a fake clock: one leader
among candidates, a released lease taken at once (before it would expire), takeover only after
expiry when the leader stops renewing, a partitioned leader stepping down before anyone else takes
over. Time moves only when the test advances the shared `FakeClock`, after every candidate is
asleep on it, so the assertions are about lease arithmetic, not about machine speed. Last, on the
real clock: a `LeaderElectedComponent` keeps renewing while its work holds every connection of
its client (the Lease has a connection of its own)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from skiff.apiserver.server import ApiServer
from skiff.client import Client, LeaderElector, LeanTransport, resolve
from skiff.testing.apiserver import admin_config
from skiff.testing.clock import FakeClock
from skiff.testing.wait import eventually

LEASES = resolve(("coordination.k8s.io/v1", "Lease"))
LEASE_S, RENEW_S, RETRY_S = 15.0, 10.0, 2.0


class Cuttable(httpx.AsyncBaseTransport):
    """A transport whose network can be cut (every request then fails to connect)."""

    def __init__(self) -> None:
        self.inner = LeanTransport()
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


def elector(client: Client, identity: str, clock: FakeClock, **kwargs: Any) -> LeaderElector:
    return LeaderElector(
        client,
        name="ctrl",
        namespace="kube-system",
        identity=identity,
        lease_duration=LEASE_S,
        renew_deadline=RENEW_S,
        retry_period=RETRY_S,
        clock=clock,
        rng=random.Random(identity),
        **kwargs,
    )


async def settle(clock: FakeClock, tasks: list[asyncio.Task[None]]) -> None:
    """Wait until every running candidate is asleep on the clock (its attempt is complete)."""
    await eventually(
        lambda: clock.sleepers >= sum(1 for t in tasks if not t.done()),
        what="every candidate asleep on the clock",
    )


async def step(clock: FakeClock, tasks: list[asyncio.Task[None]]) -> None:
    """Let every candidate finish what it is doing, then move time to the next wake-up."""
    await settle(clock, tasks)
    deadline = clock.next_deadline()
    assert deadline is not None
    clock.set(deadline)


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_one_leader_and_handover_on_release(client: Client) -> None:
    clock = FakeClock()
    mon = Monitor()
    stopped: list[str] = []
    a, b = elector(client, "a", clock), elector(client, "b", clock)
    ta = asyncio.create_task(a.run(mon.work("a"), on_stopped_leading=lambda: stopped.append("a")))
    await eventually(lambda: a.is_leader)
    tb = asyncio.create_task(b.run(mon.work("b"), on_stopped_leading=lambda: stopped.append("b")))
    tasks = [ta, tb]
    try:
        start = clock.monotonic()
        while clock.monotonic() - start < 3 * LEASE_S:  # many renewals: b never leads
            await step(clock, tasks)
            await settle(clock, tasks)
            assert not b.is_leader and mon.leading == {"a"}
        assert b.leader == "a"
        lease = await client.get(LEASES, "ctrl", namespace="kube-system")
        assert lease["spec"]["holderIdentity"] == "a"
        assert lease["spec"]["leaseDurationSeconds"] == LEASE_S
        assert lease["spec"]["renewTime"].endswith("Z")
        await stop(ta)  # releases the lease
        assert stopped == ["a"]
        released_at = clock.monotonic()
        while not b.is_leader:
            await step(clock, [tb])
            await settle(clock, [tb])
        # b took the released lease at its next retry, long before the lease would expire.
        assert clock.monotonic() - released_at <= RETRY_S * 2.2
        lease = await client.get(LEASES, "ctrl", namespace="kube-system")
        assert lease["spec"]["holderIdentity"] == "b"
        assert lease["spec"]["leaseTransitions"] == 1
    finally:
        await stop(ta)
        await stop(tb)
    assert mon.violations == 0
    assert mon.history == ["a", "b"]


async def test_takeover_after_expiry_when_leader_stops_renewing(client: Client) -> None:
    clock = FakeClock()
    mon = Monitor()
    a = elector(client, "a", clock, release_on_cancel=False)
    b = elector(client, "b", clock)
    ta = asyncio.create_task(a.run(mon.work("a")))
    await eventually(lambda: a.is_leader)
    tb = asyncio.create_task(b.run(mon.work("b")))
    try:
        for _ in range(5):
            await step(clock, [ta, tb])
        await settle(clock, [ta, tb])
        await stop(ta)  # dies without releasing: the lease stays held
        died_at = clock.monotonic()
        while not b.is_leader:
            await step(clock, [tb])
            await settle(clock, [tb])
            assert clock.monotonic() - died_at < 3 * LEASE_S, "b never took over"
        waited = clock.monotonic() - died_at
        # Not before the lease expired as b observed it: a's last renewal was at most one retry
        # period before it died; b polls at most every 2.2 retry periods (jitter).
        assert LEASE_S - RETRY_S <= waited <= LEASE_S + 2 * 2.2 * RETRY_S, waited
    finally:
        await stop(ta)
        await stop(tb)
    assert mon.violations == 0


async def test_partitioned_leader_steps_down_before_takeover(server: ApiServer) -> None:
    clock = FakeClock()
    cut = Cuttable()
    mon = Monitor()
    events: list[tuple[str, float]] = []
    async with (
        Client(admin_config(server), transport=cut) as ca,
        Client(admin_config(server)) as cb,
    ):
        a = elector(ca, "a", clock)
        b = elector(cb, "b", clock)
        ta = asyncio.create_task(
            a.run(
                mon.work("a"),
                on_stopped_leading=lambda: events.append(("a-stopped", clock.monotonic())),
            )
        )
        await eventually(lambda: a.is_leader)
        tb = asyncio.create_task(b.run(mon.work("b")))
        try:
            for _ in range(3):
                await step(clock, [ta, tb])
            await settle(clock, [ta, tb])
            cut.cut = True
            cut_at = clock.monotonic()
            while not b.is_leader:
                await step(clock, [ta, tb])
                await settle(clock, [ta, tb])
                assert clock.monotonic() - cut_at < 3 * LEASE_S, "b never took over"
            events.append(("b-leads", clock.monotonic()))
            assert not a.is_leader
            await asyncio.wait_for(ta, 5)  # run() returned after losing the lease
        finally:
            await stop(ta)
            await stop(tb)
    assert [name for name, _ in events] == ["a-stopped", "b-leads"]
    # a stopped within its renew deadline of the cut, so before the lease could expire.
    assert events[0][1] - cut_at <= RENEW_S + RETRY_S
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


async def test_a_component_renews_while_its_own_connections_are_all_busy(
    server: ApiServer,
) -> None:
    """`LeaderElectedComponent` renews its Lease over a connection of its own: a leader whose
    work holds every connection of its client (a burst of binds or creates) keeps leading."""
    from skiff.client import LeaderElectedComponent, LeadershipLost

    async with Client(admin_config(server), timeout=10.0, max_connections=1) as busy:

        class Busy(LeaderElectedComponent):
            lease_name = "busy"
            component = "busy-test"

            async def lead(self) -> None:
                self.set_ready()
                # the only connection waits on a watch that sends nothing for 30 s
                await busy.get_raw(
                    "/api/v1/namespaces/default/configmaps",
                    params={
                        "watch": "1",
                        "timeoutSeconds": "30",
                        "fieldSelector": "metadata.name=nothing",
                    },
                )

        component = Busy(busy, lease_duration=2, renew_deadline=1.5, retry_period=0.3)
        task = asyncio.create_task(component.run())
        try:
            await eventually(lambda: component.leading.is_set(), what="leading")
            async with Client(admin_config(server), timeout=10.0) as reader:
                seen: set[str] = set()

                async def renewed_past_the_deadline() -> bool:
                    lease = await reader.get(LEASES, "busy", namespace="kube-system")
                    seen.add(str(lease["spec"]["renewTime"]))
                    # 8 renewals 0.3 s apart: well past the 1.5 s renew deadline
                    return len(seen) >= 8

                await eventually(renewed_past_the_deadline, within=15, what="renewals")
            assert component.leading.is_set() and not task.done()
        finally:
            await stop(task)
        with pytest.raises((LeadershipLost, asyncio.CancelledError)):
            task.result()
