"""Leader election on a ``coordination.k8s.io/v1`` Lease, so one of several replicas does the work.

Follows client-go ``tools/leaderelection/leaderelection.go``:

* a candidate reads the Lease; it may take it if it does not exist, is held by nobody, is its own,
  or has not changed for ``leaseDurationSeconds`` *as observed on the candidate's own monotonic
  clock* (client-go ``observedTime``: no trust in other machines' wall clocks);
* every write is a PUT carrying the resourceVersion that was read, so when two candidates race only
  one write succeeds (409 Conflict for the other) — optimistic concurrency is what makes "never two
  leaders" hold;
* the leader renews every ``retry_period``; if it has not renewed successfully for
  ``renew_deadline`` it stops leading (cancels the leading work, calls ``on_stopped_leading``).
  The deadline is measured from the start of the last successful renewal, and
  ``renew_deadline < lease_duration`` so the old leader has stopped before anyone else may take
  over;
* on cancellation (shutdown) a leader releases the Lease (empty ``holderIdentity``) so a successor
  need not wait for expiry (client-go ``ReleaseOnCancel``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Callable, Coroutine
from typing import Any

from skiff.client._client import Client
from skiff.client.errors import AlreadyExists, ApiError, NotFound, TransportError
from skiff.client.resource import resolve
from skiff.util.backoff import jittered
from skiff.util.clock import Clock, SystemClock, format_epoch_micro_time

__all__ = ["LeaderElector"]

log = logging.getLogger(__name__)

LEASES = resolve(("coordination.k8s.io/v1", "Lease"))
_JITTER = 1.2  # client-go JitterFactor for acquire retries


class LeaderElector:
    """One candidate for the Lease ``namespace/name``; run it with `run`."""

    def __init__(
        self,
        client: Client,
        *,
        name: str,
        namespace: str,
        identity: str,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        release_on_cancel: bool = True,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not identity:
            raise ValueError("leader election needs a non-empty identity")
        if lease_duration < 1:
            raise ValueError("lease_duration is whole seconds on the wire; must be >= 1")
        if not renew_deadline < lease_duration:
            raise ValueError("renew_deadline must be shorter than lease_duration")
        if not retry_period < renew_deadline:
            raise ValueError("retry_period must be shorter than renew_deadline")
        self.client = client
        self.name = name
        self.namespace = namespace
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.release_on_cancel = release_on_cancel
        self.clock: Clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._observed_spec: dict[str, Any] | None = None
        self._observed_time = 0.0
        self._leading = False
        self._last_renew = 0.0
        self._on_new_leader: Callable[[str], None] | None = None

    @property
    def is_leader(self) -> bool:
        """Whether this candidate currently leads (and its leading work may run)."""
        return self._leading

    @property
    def leader(self) -> str | None:
        """The holder identity last observed on the Lease."""
        if self._observed_spec is None:
            return None
        return str(self._observed_spec.get("holderIdentity") or "") or None

    async def run(
        self,
        on_started_leading: Callable[[], Coroutine[Any, Any, None]],
        *,
        on_stopped_leading: Callable[[], None] | None = None,
        on_new_leader: Callable[[str], None] | None = None,
    ) -> None:
        """Wait to acquire the Lease, then run ``on_started_leading()`` as a task while renewing.

        Returns after leadership is lost (the leading task is cancelled first, then
        ``on_stopped_leading`` is called). Cancelling `run` stops the work the same way and releases
        the Lease if ``release_on_cancel``. ``on_new_leader`` sees every observed holder change.
        """
        self._on_new_leader = on_new_leader
        await self._acquire()
        try:
            async with asyncio.TaskGroup() as tg:
                work = tg.create_task(on_started_leading())
                await self._renew_loop()
                work.cancel()
        finally:
            self._leading = False
            try:
                if self.release_on_cancel:
                    await self._release()
            finally:
                if on_stopped_leading is not None:
                    on_stopped_leading()

    # -- loops ----------------------------------------------------------------------------

    async def _acquire(self) -> None:
        while True:
            if await self._try_acquire_or_renew():
                self._leading = True
                log.info(
                    "%s became leader of lease %s/%s", self.identity, self.namespace, self.name
                )
                return
            await self.clock.sleep(jittered(self.retry_period, _JITTER, self._rng))

    async def _renew_loop(self) -> None:
        while True:
            await self.clock.sleep(self.retry_period)
            while True:
                if self.clock.monotonic() - self._last_renew > self.renew_deadline:
                    log.warning(
                        "%s failed to renew lease %s/%s", self.identity, self.namespace, self.name
                    )
                    return
                remaining = self.renew_deadline - (self.clock.monotonic() - self._last_renew)
                try:
                    # A hung request must not keep us leading past the deadline.
                    async with asyncio.timeout(max(remaining, 0.001)):
                        renewed = await self._try_acquire_or_renew()
                except TimeoutError:
                    renewed = False
                if renewed:
                    break
                if not self._observed_holder_is_self():
                    return  # someone else holds it now
                await self.clock.sleep(self.retry_period)

    def _observed_holder_is_self(self) -> bool:
        return self.leader in (None, self.identity)

    # -- one attempt ----------------------------------------------------------------------

    def _observe(self, spec: dict[str, Any], now: float) -> None:
        if spec != self._observed_spec:
            previous = self.leader
            self._observed_spec = spec
            self._observed_time = now
            holder = self.leader
            if holder and holder != previous and self._on_new_leader is not None:
                self._on_new_leader(holder)

    async def _try_acquire_or_renew(self) -> bool:
        """One read-modify-write of the Lease; ``True`` if we hold it afterwards."""
        now_mono = self.clock.monotonic()
        now = format_epoch_micro_time(self.clock.time())
        duration = max(1, math.ceil(self.lease_duration))
        mine = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": duration,
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": 0,
        }
        try:
            lease = await self.client.get(LEASES, self.name, namespace=self.namespace)
        except NotFound:
            body = {
                "apiVersion": LEASES.api_version,
                "kind": LEASES.kind,
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": mine,
            }
            try:
                await self.client.create(LEASES, body, namespace=self.namespace)
            except (AlreadyExists, ApiError, TransportError) as exc:
                log.debug("%s: lease create failed: %s", self.identity, exc)
                return False
            self._observe(mine, now_mono)
            self._last_renew = now_mono
            return True
        except (ApiError, TransportError) as exc:
            log.debug("%s: lease get failed: %s", self.identity, exc)
            return False

        spec: dict[str, Any] = dict(lease.get("spec") or {})
        self._observe(spec, now_mono)
        holder = str(spec.get("holderIdentity") or "")
        held_for = int(spec.get("leaseDurationSeconds") or duration)
        if holder and holder != self.identity and self._observed_time + held_for > now_mono:
            return False  # held by another candidate and not expired
        if holder == self.identity:
            mine["acquireTime"] = spec.get("acquireTime") or now
            mine["leaseTransitions"] = int(spec.get("leaseTransitions") or 0)
        else:
            mine["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        lease["spec"] = mine
        try:
            await self.client.update(LEASES, lease, namespace=self.namespace)
        except (ApiError, TransportError) as exc:
            log.debug("%s: lease update failed: %s", self.identity, exc)
            return False
        self._observe(mine, now_mono)
        self._last_renew = now_mono
        return True

    async def _release(self) -> None:
        """Give the Lease up if we still hold it (best effort)."""
        try:
            lease = await self.client.get(LEASES, self.name, namespace=self.namespace)
            spec = dict(lease.get("spec") or {})
            if spec.get("holderIdentity") != self.identity:
                return
            now = format_epoch_micro_time(self.clock.time())
            spec.update(holderIdentity="", leaseDurationSeconds=1, renewTime=now, acquireTime=now)
            lease["spec"] = spec
            await self.client.update(LEASES, lease, namespace=self.namespace)
            log.info("%s released lease %s/%s", self.identity, self.namespace, self.name)
        except (ApiError, TransportError) as exc:
            log.warning("%s: releasing lease failed: %s", self.identity, exc)
