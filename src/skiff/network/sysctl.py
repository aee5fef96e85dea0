"""Reading and writing ``net.*`` sysctls of one network namespace.

``net.*`` sysctls are per network namespace: in the current one they are files under
``/proc/sys``; in another one they are read and written with ``sysctl`` run through ``nsenter``
(see `skiff.network.netns`), so the calling process never changes its own namespace.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from skiff.network.base import NetworkError
from skiff.network.netns import run

__all__ = ["read", "write"]

_KEY = re.compile(r"^net(\.[A-Za-z0-9_-]+)+$")
_VALUE = re.compile(r"^[0-9A-Za-z_.-]{1,32}$")


def _check(key: str) -> str:
    if not _KEY.match(key):
        raise NetworkError(f"refusing sysctl {key!r} (only net.* keys)")
    return key


def _proc_path(key: str) -> Path:
    return Path("/proc/sys") / key.replace(".", "/")


async def read(key: str, *, netns: str | None = None) -> str:
    """The value of ``key`` (e.g. ``net.ipv4.ip_forward``) in ``netns`` (None: current)."""
    _check(key)
    if netns is None:
        try:
            return (await asyncio.to_thread(_proc_path(key).read_text)).strip()
        except OSError as e:
            raise NetworkError(f"cannot read {key}: {e}") from e
    return (await run(["sysctl", "-n", key], netns=netns)).strip()


async def write(key: str, value: str, *, netns: str | None = None) -> None:
    """Set ``key`` to ``value`` in ``netns`` (None: current)."""
    _check(key)
    if not _VALUE.match(value):
        raise NetworkError(f"refusing sysctl value {value!r}")
    if netns is None:
        try:
            await asyncio.to_thread(_proc_path(key).write_text, value + "\n")
        except OSError as e:
            raise NetworkError(f"cannot set {key}: {e}") from e
        return
    await run(["sysctl", "-q", "-w", f"{key}={value}"], netns=netns)
