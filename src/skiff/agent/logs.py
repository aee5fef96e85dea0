"""Container logs as the agent serves them: CRI log files read, selected and formatted.

A runtime (its shim) appends one line per write to ``<logs>/<ns>_<pod>_<uid>/<container>/<restart>.log``
in the CRI format (``cri-api/pkg/apis/runtime/v1`` "LogPath"; kubelet's reader is
``pkg/kubelet/kuberuntime/logs/logs.go``)::

    2026-12-06T19:00:00.123456789Z stdout F a whole line
    2026-12-06T19:00:00.2Z stderr P the first part of a long line that goes on

``F`` marks a full line (its newline was written), ``P`` a partial one (the shim split it; the
next entry continues it). Rotated files sit beside the current one as ``<name>.log.1`` (the
newest rotation), ``.log.2`` and so on, and are read oldest first.

``kubectl logs`` options map onto `LogOptions` (``follow``, ``previous``, ``timestamps``,
``tailLines``, ``sinceSeconds``/``sinceTime``, ``limitBytes``) as kubelet applies them: the tail
is counted in lines of the files, ``since`` keeps entries at or after the instant, each entry is
written with its newline restored (a partial entry without one) and, with ``timestamps``, prefixed
by its time in RFC 3339 with nine fractional digits; ``limitBytes`` cuts the output at that many
bytes. The parsing and selection here are pure; `follow_logs` adds the file reading and the
waiting for more.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "LogEntry",
    "LogOptions",
    "OutputLimit",
    "follow_logs",
    "format_entry",
    "format_timestamp",
    "log_files",
    "options_from_query",
    "parse_line",
    "parse_timestamp",
    "tail_start",
]

_TRUE = frozenset({"true", "1", "yes"})
_NS = 1_000_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})\Z"
)
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of a CRI log file; ``message`` is without the line's newline."""

    timestamp_ns: int  # epoch nanoseconds
    stream: str  # "stdout" | "stderr"
    partial: bool
    message: bytes


def parse_timestamp(text: str) -> int:
    """An RFC 3339 time (up to nanoseconds, ``Z`` or an offset) as epoch nanoseconds."""
    m = _TIME.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not an RFC 3339 time")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction = m.group(7) or ""
    zone = m.group(8)
    offset = dt.timedelta(0)
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        offset = sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    try:
        moment = dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.timezone(offset))
    except ValueError as e:
        raise ValueError(f"{text!r} is not an RFC 3339 time: {e}") from None
    delta = moment - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    return seconds * _NS + int(fraction.ljust(9, "0") or 0)


def format_timestamp(ns: int) -> str:
    """Epoch nanoseconds as kubelet writes them: UTC, nine fractional digits, ``Z``."""
    seconds, fraction = divmod(ns, _NS)
    moment = _EPOCH + dt.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}Z"


def parse_line(line: bytes) -> LogEntry | None:
    """A CRI log line (with or without its ``\\n``), or None when it is not one."""
    if line.endswith(b"\n"):
        line = line[:-1]
    parts = line.split(b" ", 3)
    if len(parts) < 3:
        return None
    stamp, stream, tag = parts[0], parts[1], parts[2]
    if stream not in (b"stdout", b"stderr"):
        return None
    # the tag may carry more fields after ':' in future CRI versions; only P/F matter
    kind = tag.split(b":", 1)[0]
    if kind not in (b"F", b"P"):
        return None
    try:
        ns = parse_timestamp(stamp.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return None
    message = parts[3] if len(parts) == 4 else b""
    return LogEntry(ns, stream.decode(), kind == b"P", message)


def format_entry(entry: LogEntry, *, timestamps: bool) -> bytes:
    """The bytes ``kubectl logs`` shows for one entry."""
    out = entry.message if entry.partial else entry.message + b"\n"
    if timestamps:
        out = format_timestamp(entry.timestamp_ns).encode() + b" " + out
    return out


@dataclass(frozen=True, slots=True)
class LogOptions:
    """What to read; ``since_ns`` is absolute (sinceSeconds already turned into an instant)."""

    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    tail_lines: int | None = None
    since_ns: int | None = None
    limit_bytes: int | None = None


def _flag(query: Mapping[str, Sequence[str]], name: str) -> bool:
    values = query.get(name) or ()
    return bool(values) and values[-1].strip().lower() in _TRUE


def _number(query: Mapping[str, Sequence[str]], name: str, *, minimum: int) -> int | None:
    values = query.get(name) or ()
    if not values or values[-1] == "":
        return None
    try:
        value = int(values[-1])
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {values[-1]!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def options_from_query(query: Mapping[str, Sequence[str]], *, now_ns: int) -> LogOptions:
    """`LogOptions` from ``/containerLogs`` query parameters; ValueError says what is wrong."""
    since_ns: int | None = None
    since_seconds = _number(query, "sinceSeconds", minimum=1)
    since_time = (query.get("sinceTime") or [""])[-1]
    if since_seconds is not None and since_time:
        raise ValueError("at most one of sinceTime or sinceSeconds may be specified")
    if since_seconds is not None:
        since_ns = now_ns - since_seconds * _NS
    elif since_time:
        since_ns = parse_timestamp(since_time)
    return LogOptions(
        follow=_flag(query, "follow"),
        previous=_flag(query, "previous"),
        timestamps=_flag(query, "timestamps"),
        tail_lines=_number(query, "tailLines", minimum=0),
        since_ns=since_ns,
        limit_bytes=_number(query, "limitBytes", minimum=1),
    )


def log_files(path: Path) -> list[Path]:
    """``path``'s rotated files, oldest first (``.log.3``, ``.log.2``, ``.log.1``), then ``path``
    itself (which may not exist yet)."""
    rotated: list[tuple[int, Path]] = []
    prefix = path.name + "."
    try:
        names = os.listdir(path.parent)
    except OSError:
        names = []
    for name in names:
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            rotated.append((int(name[len(prefix) :]), path.parent / name))
    rotated.sort(reverse=True)
    return [p for _, p in rotated] + [path]


def _complete_end(f: BinaryIO, size: int) -> int:
    """The offset just past the last ``\\n`` of a file (a line still being written is left out)."""
    at = size
    while at > 0:
        start = max(0, at - _CHUNK)
        f.seek(start)
        block = f.read(at - start)
        nl = block.rfind(b"\n")
        if nl >= 0:
            return start + nl + 1
        at = start
    return 0


def _line_starts_back(f: BinaryIO, end: int, wanted: int) -> tuple[int, int]:
    """Walking back from ``end`` (just past a newline), the offset where the last ``wanted``
    complete lines begin, and how many lines were found (fewer when the file is shorter)."""
    found = 0
    at = end
    # the newline ending the last line is not a line start: skip it
    search_end = end - 1
    while search_end > 0 and found < wanted:
        start = max(0, search_end - _CHUNK)
        f.seek(start)
        block = f.read(search_end - start)
        i = len(block)
        while found < wanted:
            nl = block.rfind(b"\n", 0, i)
            if nl < 0:
                break
            found += 1
            at = start + nl + 1
            i = nl
        else:
            return at, found
        search_end = start
    if found < wanted and end > 0:
        # the first line of the file
        return 0, found + 1
    return at, found


def tail_start(files: Sequence[Path], lines: int) -> tuple[int, int]:
    """Where the last ``lines`` complete lines of ``files`` (read in order) begin: the index of
    the file and the byte offset in it. ``(len(files), 0)`` for ``lines == 0``."""
    if lines <= 0:
        return len(files), 0
    wanted = lines
    for index in range(len(files) - 1, -1, -1):
        try:
            with open(files[index], "rb") as f:
                size = os.fstat(f.fileno()).st_size
                end = _complete_end(f, size)
                if end == 0:
                    continue
                offset, found = _line_starts_back(f, end, wanted)
        except FileNotFoundError:
            continue
        wanted -= found
        if wanted <= 0:
            return index, offset
    return 0, 0


class OutputLimit:
    """Counts what was written against ``limitBytes`` (None: no limit)."""

    def __init__(self, limit: int | None) -> None:
        self.left = limit

    @property
    def exhausted(self) -> bool:
        return self.left is not None and self.left <= 0

    def take(self, data: bytes) -> bytes:
        if self.left is None:
            return data
        data = data[: max(self.left, 0)]
        self.left -= len(data)
        return data


class _Selector:
    """Turns raw log bytes into the output: complete lines parsed, ``since`` and the limit
    applied; a line still being written is kept until its newline arrives."""

    def __init__(self, options: LogOptions) -> None:
        self.options = options
        self.limit = OutputLimit(options.limit_bytes)
        self.rest = b""

    def feed(self, data: bytes) -> bytes:
        data = self.rest + data
        end = data.rfind(b"\n") + 1
        self.rest = data[end:]
        out: list[bytes] = []
        # only \n ends a line: a \r in a message (a progress bar) is part of it
        for line in data[:end].split(b"\n")[:-1]:
            if self.limit.exhausted:
                break
            entry = parse_line(line)
            if entry is None:
                continue
            if self.options.since_ns is not None and entry.timestamp_ns < self.options.since_ns:
                continue
            out.append(self.limit.take(format_entry(entry, timestamps=self.options.timestamps)))
        return b"".join(out)

    def reset(self) -> None:
        """A new file begins: whatever was left unterminated in the old one is dropped."""
        self.rest = b""


def _read(f: BinaryIO) -> bytes:
    return f.read(_CHUNK)


def _start(path: Path, options: LogOptions) -> tuple[list[Path], int, int]:
    """The files to read and where to begin: (files, index, offset); offset -1 is "the end of
    the current file as it is now" (tailLines=0)."""
    files = log_files(path)
    if options.tail_lines is None:
        return files, 0, 0
    index, offset = tail_start(files, options.tail_lines)
    if index >= len(files):
        try:
            with open(path, "rb") as f:
                return files, len(files) - 1, _complete_end(f, os.fstat(f.fileno()).st_size)
        except FileNotFoundError:
            return files, len(files) - 1, 0
    return files, index, offset


def follow_logs(
    path: Path,
    options: LogOptions,
    *,
    running: Callable[[], Awaitable[bool]] | None = None,
    poll_interval: float = 0.1,
) -> AsyncIterator[bytes]:
    """The selected log output of the container whose current log file is ``path``.

    Where to begin (the tail) is settled when this is called; the output is read as it is
    iterated. Without ``options.follow`` the files are read once. With it, new lines are
    yielded as they are written, across a rotation of ``path``, until ``running()`` says the
    container has ended (then what it wrote last is read too) or the caller stops iterating.
    """
    files, index, offset = _start(path, options)
    return _read_logs(path, options, files, index, offset, running, poll_interval)


async def _read_logs(
    path: Path,
    options: LogOptions,
    files: list[Path],
    index: int,
    offset: int,
    running: Callable[[], Awaitable[bool]] | None,
    poll_interval: float,
) -> AsyncIterator[bytes]:
    selector = _Selector(options)
    # the rotated files first (they do not change any more), then the current one
    for older in files[index:-1]:
        try:
            f = await asyncio.to_thread(open, older, "rb")
        except FileNotFoundError:
            continue
        try:
            if offset:
                f.seek(offset)
            offset = 0
            while data := await asyncio.to_thread(_read, f):
                out = selector.feed(data)
                if out:
                    yield out
                if selector.limit.exhausted:
                    return
        finally:
            f.close()
        selector.reset()
    start_current = offset if index == len(files) - 1 else 0
    current: BinaryIO | None = None
    try:
        while True:
            if current is None:
                try:
                    current = await asyncio.to_thread(open, path, "rb")
                except FileNotFoundError:
                    current = None
                else:
                    if start_current:
                        current.seek(start_current)
                    start_current = 0
            got = False
            if current is not None:
                while data := await asyncio.to_thread(_read, current):
                    got = True
                    out = selector.feed(data)
                    if out:
                        yield out
                    if selector.limit.exhausted:
                        return
            if not options.follow:
                return
            if got:
                continue
            if current is not None and _rotated(current, path):
                # the file was renamed away: what is left in it was read above; go on in the new one
                current.close()
                current = None
                selector.reset()
                continue
            if running is not None and not await running():
                # the container ended: one last read for what it wrote just before
                if current is not None:
                    while data := await asyncio.to_thread(_read, current):
                        out = selector.feed(data)
                        if out:
                            yield out
                return
            await asyncio.sleep(poll_interval)
    finally:
        if current is not None:
            current.close()


def _rotated(f: BinaryIO, path: Path) -> bool:
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(f.fileno())
    return (now.st_ino, now.st_dev) != (mine.st_ino, mine.st_dev)
