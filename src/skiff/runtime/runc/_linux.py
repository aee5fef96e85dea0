"""Thin ctypes wrappers for the Linux calls Python 3.11's `os` lacks (mount, umount2, setns,
prctl), and a helper for unix socket paths longer than ``sun_path`` allows."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "CLONE_NEWIPC",
    "CLONE_NEWNET",
    "CLONE_NEWUTS",
    "MNT_DETACH",
    "MS_BIND",
    "is_mountpoint",
    "mount",
    "mounts_under",
    "set_child_subreaper",
    "sethostname",
    "setns",
    "umount",
    "unix_path",
    "unshare",
]

CLONE_NEWNET = 0x40000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
MNT_DETACH = 2
MS_BIND = 4096
_PR_SET_CHILD_SUBREAPER = 36
# sun_path is 108 bytes including the terminating NUL
_SUN_PATH_MAX = 107

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(source: str, target: str, fstype: str, flags: int = 0, data: str = "") -> None:
    _check(
        _libc.mount(source.encode(), target.encode(), fstype.encode(), flags, data.encode()),
        f"mount {fstype} on {target}",
    )


def umount(target: str, flags: int = MNT_DETACH) -> None:
    _check(_libc.umount2(target.encode(), flags), f"umount {target}")


def setns(fd: int, nstype: int) -> None:
    _check(_libc.setns(fd, nstype), "setns")


def unshare(flags: int) -> None:
    """unshare(2) for the calling thread (network, UTS and IPC namespaces may be unshared by one
    thread of a threaded process)."""
    _check(_libc.unshare(flags), "unshare")


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(_libc.sethostname(raw, len(raw)), "sethostname")


def set_child_subreaper() -> None:
    _check(_libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)")


def _unescape(field: str) -> str:
    # /proc/self/mountinfo escapes space, tab, newline and backslash as octal
    return (
        field.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
    )


def mounts_under(prefix: Path) -> list[str]:
    """Mount points at or below ``prefix`` (deepest first, so they can be unmounted in order)."""
    base = str(prefix).rstrip("/")
    found: list[str] = []
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            target = _unescape(line.split()[4])
            if target == base or target.startswith(base + "/"):
                found.append(target)
    return sorted(set(found), key=lambda p: (-p.count("/"), p))


def is_mountpoint(path: Path) -> bool:
    return str(path) in mounts_under(path)


@contextmanager
def unix_path(path: Path) -> Iterator[str]:
    """A name for ``path`` short enough for bind/connect: the path itself, or
    ``/proc/self/fd/<dirfd>/<name>`` while the context is open."""
    text = str(path)
    if len(text.encode()) <= _SUN_PATH_MAX:
        yield text
        return
    fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)
