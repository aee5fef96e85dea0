"""Named network namespaces and running commands inside one.

A named namespace is held by a bind mount at ``/run/netns/<name>`` (iproute2's convention, so
``ip netns`` lists it). Everywhere in ``skiff.network`` a namespace is given as ``str | None``:
``None`` is the calling process's own namespace, a string is either a name under ``/run/netns``
or an absolute path (``/run/netns/x``, ``/proc/<pid>/ns/net``). Tests use this to let a private
namespace play the host, so a test never touches the machine's own links, routes or rules.

Commands run in another namespace through ``nsenter --net=<path>`` (util-linux), which enters only
the network namespace, unlike ``ip netns exec``, which also remounts ``/sys``.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from skiff.network.base import NetworkError

__all__ = [
    "NETNS_DIR",
    "create",
    "delete",
    "exec_argv",
    "exists",
    "list_named",
    "path_of",
    "run",
    "run_sync",
]

NETNS_DIR = Path("/run/netns")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def path_of(netns: str) -> str:
    """The filesystem path of a namespace given by name or path."""
    if netns.startswith("/"):
        return netns
    if not _NAME.match(netns):
        raise NetworkError(f"invalid network namespace name {netns!r}")
    return str(NETNS_DIR / netns)


def exec_argv(netns: str | None, argv: Sequence[str]) -> list[str]:
    """``argv`` prefixed to run inside ``netns`` (unchanged for the current namespace)."""
    if netns is None:
        return list(argv)
    return ["nsenter", f"--net={path_of(netns)}", "--", *argv]


async def run(argv: Sequence[str], *, netns: str | None = None, stdin: bytes | None = None) -> str:
    """Run a command (inside ``netns``) and return its stdout; `NetworkError` with its stderr
    when it fails."""
    full = exec_argv(netns, argv)
    try:
        proc = await asyncio.create_subprocess_exec(
            *full,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as e:
        raise NetworkError(f"cannot run {full[0]}: {e}") from e
    out, err = await proc.communicate(stdin)
    if proc.returncode != 0:
        message = err.decode(errors="replace").strip()
        raise NetworkError(f"{' '.join(argv)} failed ({proc.returncode}): {message}")
    return out.decode(errors="replace")


def run_sync(argv: Sequence[str], *, netns: str | None = None, stdin: bytes | None = None) -> str:
    """`run` for synchronous callers (``skiff agent cleanup`` checks, test fixtures)."""
    full = exec_argv(netns, argv)
    try:
        done = subprocess.run(full, input=stdin, capture_output=True, check=False)
    except OSError as e:
        raise NetworkError(f"cannot run {full[0]}: {e}") from e
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise NetworkError(f"{' '.join(argv)} failed ({done.returncode}): {message}")
    return done.stdout.decode(errors="replace")


def exists(netns: str) -> bool:
    return os.path.exists(path_of(netns))


def create(name: str) -> str:
    """Create the named namespace (``ip netns add``: a new namespace bind-mounted at
    ``/run/netns/<name>``) and return its path. An existing one is an error, so two users never
    share a namespace by accident."""
    if name.startswith("/"):
        raise NetworkError("create takes a name, not a path")
    path = path_of(name)
    run_sync(["ip", "netns", "add", name])
    return path


def list_named(prefix: str = "skiff-") -> list[str]:
    """Names of the namespaces under ``/run/netns`` starting with ``prefix`` (what ``skiff agent
    cleanup`` must leave none of)."""
    try:
        return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(prefix))
    except FileNotFoundError:
        return []


def delete(name: str) -> None:
    """Unmount and remove the named namespace (a name, or a path under ``/run/netns``; no error
    when it is already gone). Interfaces in it are destroyed with it once no process holds it."""
    if name.startswith(str(NETNS_DIR) + "/"):
        name = name[len(str(NETNS_DIR)) + 1 :]
    if not exists(name):
        return
    run_sync(["ip", "netns", "delete", name])
