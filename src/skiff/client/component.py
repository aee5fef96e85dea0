"""A component that does its work only while it holds a leader-election Lease.

kube-controller-manager and kube-scheduler run the same way (client-go
``tools/leaderelection``, used from each component's ``app/server.go``): with leader election
off they just work; with it on they compete for a Lease and work only while holding it, and
losing it ends the process (its supervisor starts it again as a candidate). `LeaderElectedComponent`
is that shared part; a subclass names its Lease and implements `lead` (the work, run until
cancelled).

``run`` raises `LeadershipLost` once a leader stops leading. A subclass takes the election's
keyword arguments as ``**election: Unpack[LeaderElection]`` and passes them on. ``ready`` is set (and ``on_ready``
called, once) when the subclass calls `set_ready` while leading, or when another holder of the
Lease has been observed (standing by); ``leading`` is set while `lead` runs.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Callable
from typing import TypedDict

from skiff.client._client import Client
from skiff.client.leaderelection import LeaderElector
from skiff.util.clock import Clock, SystemClock

__all__ = ["LeaderElectedComponent", "LeaderElection", "LeadershipLost", "default_identity"]

log = logging.getLogger(__name__)


class LeadershipLost(Exception):
    """This component led and stopped leading; its work was stopped."""


def default_identity() -> str:
    """``<hostname>_<uuid>``, as kube-controller-manager and kube-scheduler name a lease holder."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


class LeaderElection(TypedDict, total=False):
    """The keyword arguments of `LeaderElectedComponent` (each optional, defaults there)."""

    clock: Clock | None
    leader_elect: bool
    identity: str | None
    lease_duration: float
    renew_deadline: float
    retry_period: float
    on_ready: Callable[[], None] | None


class LeaderElectedComponent:
    """Runs `lead` directly, or under leader election on ``lease_namespace/lease_name``."""

    lease_name: str = ""
    lease_namespace: str = "kube-system"
    component: str = "component"
    """Named in log lines."""

    def __init__(
        self,
        client: Client,
        *,
        clock: Clock | None = None,
        leader_elect: bool = True,
        identity: str | None = None,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        self.client = client
        self.clock: Clock = clock or SystemClock()
        self.leader_elect = leader_elect
        self.identity = identity or default_identity()
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.ready = asyncio.Event()
        self.leading = asyncio.Event()
        self._on_ready = on_ready

    def set_ready(self) -> None:
        """Set ``ready`` and call ``on_ready``, the first time only."""
        if not self.ready.is_set():
            self.ready.set()
            if self._on_ready is not None:
                self._on_ready()

    async def lead(self) -> None:
        """The work, run while leading (or always, without leader election) until cancelled."""
        raise NotImplementedError

    async def _leading(self) -> None:
        self.leading.set()
        try:
            await self.lead()
        finally:
            self.leading.clear()

    async def run(self) -> None:
        """Run until cancelled; with leader election, raise `LeadershipLost` when it is lost."""
        if not self.leader_elect:
            await self._leading()
            return
        # The Lease goes over a connection of its own, as client-go's leader election has (a
        # client of its own, over HTTP/2): behind the component's pool, busy with hundreds of
        # binds or pod creates during a burst, a renewal can wait past the renew deadline (a
        # scheduler gave up its lease in the middle of a node failure, most likely so).
        lease_client = Client(
            self.client.config,
            clock=self.client.clock,
            max_connections=1,
            timeout=max(1.0, self.renew_deadline / 2),
            max_retries=1,
            user_agent=f"skiff-{self.component}/leader-election",
        )
        elector = LeaderElector(
            lease_client,
            name=self.lease_name,
            namespace=self.lease_namespace,
            identity=self.identity,
            lease_duration=self.lease_duration,
            renew_deadline=self.renew_deadline,
            retry_period=self.retry_period,
            clock=self.clock,
        )

        def on_new_leader(holder: str) -> None:
            if holder != self.identity:
                log.info("%s %s is the leader; standing by", self.component, holder)
                self.set_ready()

        async with lease_client:
            await elector.run(self._leading, on_new_leader=on_new_leader)
        raise LeadershipLost(
            f"{self.identity} lost the lease {self.lease_namespace}/{self.lease_name}"
        )
