"""A sandbox's namespaces without a pause process: each is held by a bind mount of its nsfs file.

A thread of its own unshares the requested namespaces (network, UTS and IPC may be unshared by one
thread of a threaded process), sets the hostname in the new UTS namespace, brings loopback up in
the new network namespace and bind-mounts its ``/proc/thread-self/ns/<type>`` files onto the given
paths, so they outlive the thread; then the thread ends, taking nothing else with it. No process is
started (``unshare(1)`` and a shell did this before, four programs per pod). Containers join them
through the OCI ``namespaces[].path`` field. The network namespace lives at
``/run/netns/skiff-<sandbox id>`` (where ``ip netns`` finds it); UTS and IPC under the sandbox's
state directory. Removing a namespace is unmounting and deleting its file.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import socket
import struct
import threading
from pathlib import Path

from skiff.runtime.runc._linux import (
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWUTS,
    MS_BIND,
    mount,
    sethostname,
    umount,
    unshare,
)
from skiff.runtime.types import ContainerRuntimeError

__all__ = ["create_namespaces", "remove_namespace"]

_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_IFREQ = struct.Struct("16sH14x")


def _loopback_up() -> None:
    """``ip link set lo up`` in the calling thread's network namespace."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = fcntl.ioctl(s.fileno(), _SIOCGIFFLAGS, _IFREQ.pack(b"lo", 0))
        _, flags = _IFREQ.unpack(req)
        fcntl.ioctl(s.fileno(), _SIOCSIFFLAGS, _IFREQ.pack(b"lo", flags | _IFF_UP))


def _make(targets: list[tuple[int, str, Path]], hostname: str) -> None:
    """Runs in a thread that ends afterwards: its namespaces are thrown away with it."""
    flags = 0
    for flag, _name, _path in targets:
        flags |= flag
    unshare(flags)
    if flags & CLONE_NEWUTS and hostname:
        sethostname(hostname)
    if flags & CLONE_NEWNET:
        _loopback_up()
    for _flag, name, path in targets:
        mount(f"/proc/thread-self/ns/{name}", str(path), "none", MS_BIND)


async def _in_own_thread(targets: list[tuple[int, str, Path]], hostname: str) -> None:
    """`_make` in a new thread (never a pooled one: it keeps the namespaces it entered)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def report(error: BaseException | None) -> None:
        if done.done():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def work() -> None:
        error: BaseException | None = None
        try:
            _make(targets, hostname)
        except BaseException as e:
            error = e
        with contextlib.suppress(RuntimeError):  # the loop is closed
            loop.call_soon_threadsafe(report, error)

    threading.Thread(target=work, name="skiff-sandbox-ns", daemon=True).start()
    await done


async def create_namespaces(
    *, net: Path | None, uts: Path | None, ipc: Path | None, hostname: str
) -> None:
    """Create and pin the requested namespaces; sets the hostname in the new UTS namespace and
    brings loopback up in the new network namespace."""
    targets: list[tuple[int, str, Path]] = []
    for flag, name, path in (
        (CLONE_NEWNET, "net", net),
        (CLONE_NEWUTS, "uts", uts),
        (CLONE_NEWIPC, "ipc", ipc),
    ):
        if path is None:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        targets.append((flag, name, path))
    if not targets:
        return
    try:
        await _in_own_thread(targets, hostname or "localhost")
    except Exception as e:
        for _flag, _name, path in targets:
            remove_namespace(path)
        raise ContainerRuntimeError(
            f"creating the sandbox's namespaces failed: {e}", reason="CreatePodSandboxError"
        ) from e


def remove_namespace(path: Path) -> None:
    """Unmount (lazily) and delete a pinned namespace file; idempotent."""
    try:
        umount(str(path))
    except OSError as e:
        # EINVAL: not a mount point (already unmounted); ENOENT: no such file
        if e.errno not in (errno.EINVAL, errno.ENOENT):
            raise
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
