"""A sandbox's namespaces without a pause process: each is held by a bind mount of its nsfs file.

``util-linux``'s ``unshare --net=FILE --uts=FILE --ipc=FILE`` creates the namespaces and bind-mounts
them onto the given files, so they outlive the short command that made them; containers join them
through the OCI ``namespaces[].path`` field. The network namespace lives at
``/run/netns/skiff-<sandbox id>`` (where ``ip netns`` finds it); UTS and IPC under the sandbox's
state directory. Removing a namespace is unmounting and deleting its file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

from skiff.runtime.runc._linux import is_mountpoint, umount
from skiff.runtime.types import ContainerRuntimeError

__all__ = ["create_namespaces", "remove_namespace"]


async def create_namespaces(
    *, net: Path | None, uts: Path | None, ipc: Path | None, hostname: str
) -> None:
    """Create and pin the requested namespaces; sets the hostname in the new UTS namespace and
    brings loopback up in the new network namespace."""
    args: list[str] = []
    script: list[str] = []
    for flag, path in (("--net", net), ("--uts", uts), ("--ipc", ipc)):
        if path is None:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        args.append(f"{flag}={path}")
    if not args:
        return
    if uts is not None and hostname:
        script.append('hostname "$1"')
    if net is not None:
        script.append("ip link set lo up")
    proc = await asyncio.create_subprocess_exec(
        "unshare",
        *args,
        "/bin/sh",
        "-ec",
        "; ".join(script) or "true",
        "sh",
        hostname or "localhost",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        for path in (net, uts, ipc):
            if path is not None:
                remove_namespace(path)
        raise ContainerRuntimeError(
            f"creating the sandbox's namespaces failed: {err.decode(errors='replace').strip()}",
            reason="CreatePodSandboxError",
        )


def remove_namespace(path: Path) -> None:
    """Unmount (lazily) and delete a pinned namespace file; idempotent."""
    if is_mountpoint(path):
        with contextlib.suppress(OSError):
            umount(str(path))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
