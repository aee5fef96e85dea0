"""skiff.agent.logs: CRI log lines parsed, selected and formatted as ``kubectl logs`` shows them.

Covers timestamps (RFC 3339 with nanoseconds and offsets), full and partial lines, malformed
lines skipped, the query options (booleans as kubectl and the Python client send them,
sinceSeconds against now, sinceTime, bad values refused), rotated files read oldest first,
tailLines across rotations and with a line still being written, sinceTime, limitBytes,
timestamps, and following a file: new lines, a rotation while following, the end when the
container stops. The HTTP side is in test_agent_server.py.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from skiff.agent import logs
from skiff.agent.logs import LogEntry, LogOptions
from skiff.testing.wait import eventually

T0 = "2026-12-06T19:00:00.000000001Z"


def _line(seconds: int, message: str, *, stream: str = "stdout", tag: str = "F") -> bytes:
    return f"2026-12-06T19:00:{seconds:02d}.5Z {stream} {tag} {message}\n".encode()


def test_timestamps_parse_and_format_to_the_nanosecond() -> None:
    ns = logs.parse_timestamp(T0)
    assert ns % 1_000_000_000 == 1
    assert logs.format_timestamp(ns) == T0
    short = logs.parse_timestamp("2026-12-06T19:00:00.5Z")
    assert logs.format_timestamp(short) == "2026-12-06T19:00:00.500000000Z"
    # an offset is the same instant in UTC
    assert logs.parse_timestamp("2026-12-06T20:00:00+01:00") == logs.parse_timestamp(
        "2026-12-06T19:00:00Z"
    )
    assert logs.format_timestamp(0) == "1970-01-01T00:00:00.000000000Z"
    for bad in ("yesterday", "2026-12-06 19:00:00Z", "2026-13-06T19:00:00Z", "2026-12-06T19:00:00"):
        with pytest.raises(ValueError):
            logs.parse_timestamp(bad)


def test_lines_parse_full_partial_and_refuse_garbage() -> None:
    entry = logs.parse_line(b"2026-12-06T19:00:00.5Z stderr F hello  world \n")
    assert entry == LogEntry(
        logs.parse_timestamp("2026-12-06T19:00:00.5Z"), "stderr", False, b"hello  world "
    )
    partial = logs.parse_line(b"2026-12-06T19:00:00.5Z stdout P part")
    assert partial is not None and partial.partial and partial.message == b"part"
    empty = logs.parse_line(b"2026-12-06T19:00:00.5Z stdout F\n")
    assert empty is not None and empty.message == b""
    for bad in (
        b"",
        b"just text\n",
        b"2026-12-06T19:00:00Z stdin F x\n",
        b"2026-12-06T19:00:00Z stdout X x\n",
        b"not-a-time stdout F x\n",
    ):
        assert logs.parse_line(bad) is None, bad


def test_entries_format_with_newline_and_timestamp() -> None:
    ns = logs.parse_timestamp(T0)
    assert logs.format_entry(LogEntry(ns, "stdout", False, b"hi"), timestamps=False) == b"hi\n"
    assert logs.format_entry(LogEntry(ns, "stdout", True, b"hi"), timestamps=False) == b"hi"
    assert (
        logs.format_entry(LogEntry(ns, "stdout", False, b"hi"), timestamps=True)
        == f"{T0} hi\n".encode()
    )


def test_options_from_the_query() -> None:
    now = logs.parse_timestamp("2026-12-06T19:00:10Z")
    opts = logs.options_from_query(
        {
            "follow": ["True"],
            "timestamps": ["true"],
            "previous": ["false"],
            "tailLines": ["3"],
            "sinceSeconds": ["5"],
            "limitBytes": ["100"],
        },
        now_ns=now,
    )
    assert opts == LogOptions(
        follow=True,
        previous=False,
        timestamps=True,
        tail_lines=3,
        since_ns=logs.parse_timestamp("2026-12-06T19:00:05Z"),
        limit_bytes=100,
    )
    since = logs.options_from_query({"sinceTime": ["2026-12-06T18:00:00Z"]}, now_ns=now)
    assert since.since_ns == logs.parse_timestamp("2026-12-06T18:00:00Z")
    assert logs.options_from_query({}, now_ns=now) == LogOptions()
    for bad in (
        {"tailLines": ["x"]},
        {"tailLines": ["-1"]},
        {"limitBytes": ["0"]},
        {"sinceSeconds": ["0"]},
        {"sinceTime": ["soon"]},
        {"sinceTime": ["2026-12-06T18:00:00Z"], "sinceSeconds": ["3"]},
    ):
        with pytest.raises(ValueError):
            logs.options_from_query(bad, now_ns=now)


def _write(path: Path, *lines: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as f:
        for line in lines:
            f.write(line)


@pytest.fixture
def rotated(tmp_path: Path) -> Path:
    """``0.log`` with two rotations: lines 0-1 in .log.2, 2-3 in .log.1, 4-5 (+ a line being
    written) in the current file."""
    path = tmp_path / "main" / "0.log"
    _write(path.with_name("0.log.2"), _line(0, "zero"), _line(1, "one"))
    _write(path.with_name("0.log.1"), _line(2, "two"), _line(3, "three", stream="stderr"))
    _write(path, _line(4, "four"), _line(5, "fi", tag="P"), _line(5, "ve"))
    _write(path, b"2026-12-06T19:00:06.5Z stdout F unfinis")
    # something else in the directory is not a rotation
    _write(path.with_name("0.log.old"), _line(9, "not mine"))
    _write(path.with_name("1.log"), _line(9, "not mine either"))
    return path


def test_rotated_files_come_oldest_first(rotated: Path) -> None:
    names = [p.name for p in logs.log_files(rotated)]
    assert names == ["0.log.2", "0.log.1", "0.log"]
    rotated.with_name("0.log.10").write_bytes(b"")
    assert [p.name for p in logs.log_files(rotated)][:2] == ["0.log.10", "0.log.2"]
    assert logs.log_files(rotated.parent / "missing" / "0.log") == [
        rotated.parent / "missing" / "0.log"
    ]


def test_tail_start_counts_complete_lines_back_across_files(rotated: Path) -> None:
    files = logs.log_files(rotated)
    # the current file holds three complete lines; the one being written does not count
    assert logs.tail_start(files, 1) == (2, len(_line(4, "four")) + len(_line(5, "fi", tag="P")))
    assert logs.tail_start(files, 3) == (2, 0)
    assert logs.tail_start(files, 4) == (1, len(_line(2, "two")))
    assert logs.tail_start(files, 100) == (0, 0)
    assert logs.tail_start(files, 0) == (3, 0)


def test_tail_start_in_a_long_file(tmp_path: Path) -> None:
    """Lines found back across the read blocks (64 KiB each)."""
    path = tmp_path / "0.log"
    lines = [_line(i % 60, "x" * 5000 + str(i)) for i in range(40)]
    _write(path, *lines)
    for n in (1, 13, 39):
        index, offset = logs.tail_start([path], n)
        assert index == 0
        assert offset == sum(len(line) for line in lines[: 40 - n])


async def _collect(path: Path, options: LogOptions) -> bytes:
    return b"".join([chunk async for chunk in logs.follow_logs(path, options)])


async def test_reading_selects_and_formats(rotated: Path) -> None:
    everything = await _collect(rotated, LogOptions())
    assert everything == b"zero\none\ntwo\nthree\nfour\nfive\n"
    assert await _collect(rotated, LogOptions(tail_lines=2)) == b"five\n"
    assert await _collect(rotated, LogOptions(tail_lines=4)) == b"three\nfour\nfive\n"
    assert await _collect(rotated, LogOptions(tail_lines=0)) == b""
    since = LogOptions(since_ns=logs.parse_timestamp("2026-12-06T19:00:03Z"))
    assert await _collect(rotated, since) == b"three\nfour\nfive\n"
    stamped = await _collect(rotated, LogOptions(timestamps=True, tail_lines=1))
    assert stamped == b"2026-12-06T19:00:05.500000000Z ve\n"
    assert await _collect(rotated, LogOptions(limit_bytes=7)) == b"zero\non"
    assert await _collect(rotated, LogOptions(limit_bytes=5)) == b"zero\n"


async def test_only_newlines_end_lines(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    _write(path, _line(0, "10%\r50%\r100%"), _line(1, "form\x0cfeed"))
    assert await _collect(path, LogOptions()) == b"10%\r50%\r100%\nform\x0cfeed\n"


async def test_a_missing_file_reads_empty(tmp_path: Path) -> None:
    assert await _collect(tmp_path / "none" / "0.log", LogOptions()) == b""


class _Follower:
    """Collects what follow_logs yields, in a task the test stops."""

    def __init__(self, path: Path, options: LogOptions, running: asyncio.Event) -> None:
        self.out = b""
        self.running = running

        async def still_running() -> bool:
            return self.running.is_set()

        self.stream: AsyncIterator[bytes] = logs.follow_logs(
            path, options, running=still_running, poll_interval=0.01
        )
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for chunk in self.stream:
            self.out += chunk


async def test_follow_streams_new_lines_across_a_rotation_until_the_container_ends(
    tmp_path: Path,
) -> None:
    path = tmp_path / "0.log"
    _write(path, _line(0, "old"), _line(1, "last"))
    running = asyncio.Event()
    running.set()
    follower = _Follower(path, LogOptions(follow=True, tail_lines=1), running)
    try:
        await eventually(lambda: follower.out == b"last\n", what="the tail")
        _write(path, _line(2, "half"[:2], tag="P"))
        _write(path, b"2026-12-06T19:00:02.6Z stdout F lf")
        await eventually(lambda: follower.out == b"last\nha", what="a complete line only")
        _write(path, b"\n")
        await eventually(lambda: follower.out == b"last\nhalf\n", what="the finished line")
        # rotate: the writer renames the file and starts a new one
        _write(path, _line(3, "before rotation"))
        os.rename(path, path.with_name("0.log.1"))
        _write(path, _line(4, "after rotation"))
        await eventually(
            lambda: follower.out.endswith(b"before rotation\nafter rotation\n"),
            what="both sides of the rotation",
        )
        assert not follower.task.done()
        running.clear()
        _write(path, _line(5, "the last words"))
        await asyncio.wait_for(follower.task, 5)
        assert follower.out == b"last\nhalf\nbefore rotation\nafter rotation\nthe last words\n"
    finally:
        follower.task.cancel()
        await asyncio.gather(follower.task, return_exceptions=True)


async def test_follow_with_tail_zero_and_a_file_not_there_yet(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    running = asyncio.Event()
    running.set()
    follower = _Follower(path, LogOptions(follow=True, tail_lines=0), running)
    try:
        _write(path, _line(0, "first"))
        await eventually(lambda: follower.out == b"first\n", what="a line of a new file")
    finally:
        running.clear()
        await asyncio.wait_for(follower.task, 5)


async def test_follow_stops_at_the_byte_limit(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    _write(path, _line(0, "abc"))
    running = asyncio.Event()
    running.set()
    follower = _Follower(path, LogOptions(follow=True, limit_bytes=6), running)
    try:
        await eventually(lambda: follower.out == b"abc\n", what="the first line")
        _write(path, _line(1, "defgh"))
        await asyncio.wait_for(follower.task, 5)
        assert follower.out == b"abc\nde"
    finally:
        follower.task.cancel()
        await asyncio.gather(follower.task, return_exceptions=True)
