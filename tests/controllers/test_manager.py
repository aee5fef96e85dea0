"""The controller-manager (skiff.controllers.manager): ``--controllers`` and leader election.

Covers: ``--controllers`` as kube-controller-manager reads it (``*``, ``foo``, ``-foo``, first
match wins, old aliases, unknown names refused); two controller-managers against one API server
with leader election - exactly one runs controllers, the other stands by (and is ready), and the
standby takes over when the leader stops and releases the Lease. Excludes: the controllers'
behaviour (their own modules) and the process (tests/cmd).
"""

from __future__ import annotations

import asyncio

import pytest

from skiff.client import Client, Config, resolve
from skiff.controllers import CONTROLLERS, ControllerManager, enabled_controllers

ALL = list(CONTROLLERS)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (["*"], ALL),
        ([], []),
        (["namespace-controller"], ["namespace-controller"]),
        (
            ["*", "-garbage-collector-controller"],
            [n for n in ALL if n != "garbage-collector-controller"],
        ),
        (["-garbagecollector", "*"], [n for n in ALL if n != "garbage-collector-controller"]),
        (["disruption", "-disruption"], ["disruption-controller"]),
        (["*", ""], ALL),
    ],
    ids=["star", "none", "one", "star-minus", "alias-minus-first", "first-match-wins", "blank"],
)
def test_controllers_flag(spec: list[str], expected: list[str]) -> None:
    assert enabled_controllers(spec) == expected


def test_unknown_controller_is_an_error() -> None:
    with pytest.raises(ValueError, match='"nope" is not in the list of known controllers'):
        enabled_controllers(["*", "-nope"])


async def test_exactly_one_of_two_leads(url: str, token: str, client: Client) -> None:
    leases = resolve(("coordination.k8s.io/v1", "Lease"))
    async with (
        Client(Config(server=url, token=token)) as c1,
        Client(Config(server=url, token=token)) as c2,
    ):
        one = ControllerManager(
            c1,
            controllers=["serviceaccount"],
            identity="one",
            lease_duration=2,
            renew_deadline=1.5,
            retry_period=0.2,
        )
        two = ControllerManager(
            c2,
            controllers=["serviceaccount"],
            identity="two",
            lease_duration=2,
            renew_deadline=1.5,
            retry_period=0.2,
        )
        t1 = asyncio.create_task(one.run())
        await asyncio.wait_for(one.ready.wait(), 10)
        t2 = asyncio.create_task(two.run())
        try:
            await asyncio.wait_for(two.ready.wait(), 10)  # a standby is ready too
            assert one.leading.is_set() and not two.leading.is_set()
            lease = await client.get(leases, "kube-controller-manager", namespace="kube-system")
            assert lease["spec"]["holderIdentity"] == "one"
            # the leader stops (and releases the Lease): the standby takes over
            t1.cancel()
            await asyncio.gather(t1, return_exceptions=True)
            await asyncio.wait_for(two.leading.wait(), 10)
            lease = await client.get(leases, "kube-controller-manager", namespace="kube-system")
            assert lease["spec"]["holderIdentity"] == "two"
            assert not one.leading.is_set()
        finally:
            for task in (t1, t2):
                task.cancel()
            await asyncio.gather(t1, t2, return_exceptions=True)
