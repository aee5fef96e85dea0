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
import ctypes
import os
import re
import socket
import subprocess
import threading
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
    "netlink_socket",
    "path_of",
    "run",
    "run_sync",
]

NETNS_DIR = Path("/run/netns")
_CLONE_NEWNET = 0x40000000
_NETLINK_ROUTE = 0
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


def _enter_and_open(path: str, result: list[int | BaseException]) -> None:
    """Body of the short-lived thread of `netlink_socket`: enter the namespace (this thread
    only: a network namespace is per thread), open the socket there, and end the thread."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if libc.setns(fd, _CLONE_NEWNET) != 0:
                errno = ctypes.get_errno()
                raise OSError(errno, f"setns({path}): {os.strerror(errno)}")
        finally:
            os.close(fd)
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_ROUTE)
        result.append(sock.detach())
    except BaseException as e:  # handed to the caller
        result.append(e)


def netlink_socket(netns: str) -> int:
    """The file descriptor of a NETLINK_ROUTE socket in ``netns`` (name or path); the caller
    owns it (pyroute2's ``IPRoute(fileno=...)`` closes it). A socket stays bound to the namespace
    it was created in, so it is created by a thread of its own that enters the namespace and then
    ends: the calling thread and every other thread keep their namespace, and nothing forks
    (pyroute2's own ``netns=`` forks a child per socket)."""
    path = path_of(netns)
    result: list[int | BaseException] = []
    thread = threading.Thread(target=_enter_and_open, args=(path, result), name="skiff-netns")
    thread.start()
    thread.join()
    if not result:
        raise NetworkError(f"cannot open a netlink socket in {path}")
    outcome = result[0]
    if isinstance(outcome, BaseException):
        if isinstance(outcome, OSError):
            raise NetworkError(f"cannot enter network namespace {path}: {outcome}") from outcome
        raise outcome
    return outcome
