"""``unreachable`` routes that keep cluster addresses on the node.

The whole cluster CIDR (and the service CIDR until a service proxy owns it) gets an
``unreachable`` route with a high metric: the node's own podCIDR (connected route of the bridge)
and other nodes' podCIDRs (host-gw routes) are more specific and win by longest prefix, and a
route for the same prefix with a lower metric wins too; anything else addressed into those ranges
fails at once with EHOSTUNREACH instead of following the default route off the machine.

Every route made here carries the routing protocol number `RTPROT_SKIFF`, so ``skiff agent
cleanup`` finds and removes them even when the agent's state is lost.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

__all__ = [
    "RTPROT_SKIFF",
    "UNREACHABLE_METRIC",
    "ensure_unreachable",
    "list_ours",
    "remove_ours",
    "remove_unreachable",
]

# iproute2's rt_protos reserves 0-4 and names a handful of daemons (8-18, 42, 99, 186-192);
# 75 is unnamed. ``ip route show proto 75`` lists skiff's routes.
RTPROT_SKIFF = 75
# beneath every route another component would install for the same prefix
UNREACHABLE_METRIC = 4_000_000_000
_ENOENT = 2
_ESRCH = 3


def _dst(cidr: str) -> tuple[str, int]:
    net = ipaddress.ip_network(cidr, strict=True)
    if net.version != 4:
        raise ValueError(f"only IPv4 CIDRs are supported, not {cidr}")
    return str(net.network_address), net.prefixlen


async def ensure_unreachable(ipr: Any, cidr: str, *, metric: int = UNREACHABLE_METRIC) -> None:
    """Install (idempotently) ``unreachable <cidr> metric <metric> proto 75``."""
    dst, plen = _dst(cidr)
    await ipr.route(
        "replace", dst=dst, dst_len=plen, type="unreachable", priority=metric, proto=RTPROT_SKIFF
    )


async def remove_unreachable(ipr: Any, cidr: str, *, metric: int = UNREACHABLE_METRIC) -> None:
    """Remove the route `ensure_unreachable` made (no error when it is gone)."""
    dst, plen = _dst(cidr)
    try:
        await ipr.route("del", dst=dst, dst_len=plen, type="unreachable", priority=metric)
    except NetlinkError as e:
        if e.code not in (_ENOENT, _ESRCH):
            raise


async def list_ours(ipr: Any) -> list[tuple[str, int, int]]:
    """``(dst, dst_len, metric)`` of every IPv4 route (main table) carrying `RTPROT_SKIFF`."""
    found: list[tuple[str, int, int]] = []
    async for msg in await ipr.route("dump", family=2):
        if msg["proto"] != RTPROT_SKIFF:
            continue
        found.append((msg.get("dst") or "0.0.0.0", msg["dst_len"], msg.get("priority") or 0))
    return found


async def remove_ours(ipr: Any) -> int:
    """Delete every route carrying `RTPROT_SKIFF`; returns how many were removed."""
    ours = [msg async for msg in await ipr.route("dump", family=2) if msg["proto"] == RTPROT_SKIFF]
    removed = 0
    for msg in ours:
        try:
            await ipr.route(
                "del",
                dst=msg.get("dst") or "0.0.0.0",
                dst_len=msg["dst_len"],
                type=msg["type"],
                priority=msg.get("priority") or 0,
                table=msg.get("table") or 254,
            )
            removed += 1
        except NetlinkError as e:
            if e.code not in (_ENOENT, _ESRCH):
                raise
    return removed
