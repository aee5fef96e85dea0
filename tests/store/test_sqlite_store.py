"""SQLiteStore specifics: group commit, durability across restarts, crash safety, the kine schema,
compaction on disk, the process lock, and opening stores by URL.

The Store semantics shared with other backends are in ``tests/contract/test_store_contract.py``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from skiff.store import (
    BACKENDS,
    KeyExists,
    MemoryStore,
    Revision,
    SQLiteStore,
    StoreError,
    open_store,
)


def rows(path: Path) -> list[tuple[int, str, int, int, int, int]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT id, name, created, deleted, create_revision, prev_revision FROM kine ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


async def test_group_commit_batches_concurrent_writes(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "state.db")
    try:
        revisions = await asyncio.gather(*(store.create(f"/g/{i}", b"v") for i in range(300)))
        stats = store.statistics()
    finally:
        await store.close()
    assert sorted(revisions) == list(range(1, 301))
    assert stats.writes == 300
    assert stats.transactions < 300
    assert stats.max_batch > 1
    assert stats.failed_transactions == 0


async def test_failed_compares_inside_a_batch_consume_no_revision(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = await SQLiteStore.open(path)
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        r1 = await store.create("/b/a", b"1")
        # Hold the write lock so the writer stalls and the next writes pile up into one batch.
        blocker.execute("BEGIN IMMEDIATE")
        stalled = asyncio.create_task(store.create("/b/z", b"z"))
        batch = asyncio.gather(
            store.create("/b/b", b"1"),
            store.create("/b/a", b"dup"),
            store.update("/b/a", b"2", expected_revision=r1),
            store.update("/b/a", b"3", expected_revision=r1),
            store.delete("/b/a", expected_revision=Revision(999)),
            store.create("/b/c", b"1"),
            return_exceptions=True,
        )
        for _ in range(3):
            await asyncio.sleep(0)  # let every write reach the writer's queue
        blocker.execute("COMMIT")
        assert await stalled == 2
        results = await batch
        assert store.statistics().max_batch >= 6
    finally:
        blocker.close()
        await store.close()
    assert results[0] == 3
    assert isinstance(results[1], KeyExists)
    assert [r.succeeded for r in results[2:5]] == [True, False, False]  # type: ignore[union-attr]
    assert results[5] == 5
    assert [r[0] for r in rows(path)] == [1, 2, 3, 4, 5]


async def test_restart_keeps_data_revision_and_compaction_point(tmp_path: Path) -> None:
    path = tmp_path / "db" / "state.db"
    async with await SQLiteStore.open(path) as store:
        r1 = await store.create("/d/a", b"1")
        r2 = (await store.update("/d/a", b"2", expected_revision=r1)).revision
        await store.create("/d/b", b"b")
        r4 = (await store.delete("/d/b")).revision
        await store.compact(r2)
    async with await SQLiteStore.open(path) as store:
        assert store.current_revision() == r4
        assert store.statistics().compact_revision == r2
        assert await store.get("/d/a") is not None
        assert await store.get("/d/b") is None
        assert await store.create("/d/c", b"c") == r4 + 1
        # The newest rows were a tombstone compacted away later; ids must still never be reused.
        await store.compact(store.current_revision())
    async with await SQLiteStore.open(path) as store:
        assert await store.create("/d/d", b"d") == r4 + 2


async def test_schema_is_kine_shaped_and_unique_prev_revision_enforces_cas(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with await SQLiteStore.open(path) as store:
        r1 = await store.create("/s/a", b"1")
        await store.update("/s/a", b"2", expected_revision=r1)
        await store.delete("/s/a")
    assert rows(path) == [
        (1, "/s/a", 1, 0, 1, 0),
        (2, "/s/a", 0, 0, 1, 1),
        (3, "/s/a", 0, 1, 1, 2),
    ]
    conn = sqlite3.connect(path)
    try:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(kine)")]
        assert columns == [
            "id",
            "name",
            "created",
            "deleted",
            "create_revision",
            "prev_revision",
            "lease",
            "value",
            "old_value",
        ]
        assert conn.execute("SELECT old_value FROM kine WHERE id = 2").fetchone() == (b"1",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO kine (name, created, deleted, create_revision, prev_revision, value)"
                " VALUES ('/s/a', 0, 0, 1, 1, x'00')"
            )
    finally:
        conn.close()


async def test_compaction_deletes_superseded_rows_keeping_newest(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with await SQLiteStore.open(path, compact_chunk=3) as store:
        r = await store.create("/c/a", b"0")
        for i in range(1, 6):
            r = (await store.update("/c/a", str(i).encode(), expected_revision=r)).revision
        await store.create("/c/gone", b"x")
        await store.delete("/c/gone")
        last = await store.create("/c/b", b"b")
        await store.compact(Revision(last - 1))
        assert store.statistics().compact_revision == last - 1
    assert [(r[0], r[1]) for r in rows(path)] == [(6, "/c/a"), (9, "/c/b")]


async def test_second_process_cannot_open_a_database_in_use(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with await SQLiteStore.open(path):
        with pytest.raises(StoreError, match="in use"):
            await SQLiteStore.open(path)


async def test_open_store_by_url(tmp_path: Path) -> None:
    path = tmp_path / "x" / "state.db"
    store = await open_store(f"sqlite://{path}?max_batch=10&readers=2")
    try:
        assert isinstance(store, SQLiteStore)
        assert await store.create("/u/a", b"a") == 1
    finally:
        await store.close()
    assert path.exists()
    memory = await open_store("memory://")
    assert isinstance(memory, MemoryStore)
    await memory.close()
    assert set(BACKENDS) >= {"sqlite", "memory"}
    with pytest.raises(ValueError, match="unknown store scheme"):
        await open_store("etcd://127.0.0.1:2379")
    with pytest.raises(ValueError, match="unknown option"):
        await open_store("memory://?max_batch=3")
    with pytest.raises(ValueError, match="not an integer"):
        await open_store(f"sqlite://{path}?readers=many")


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    """THE crash test: every write acknowledged before SIGKILL is on disk, revisions contiguous."""
    path = tmp_path / "state.db"
    helper = Path(__file__).with_name("_crash_writer.py")
    proc = subprocess.Popen(
        [sys.executable, str(helper), str(path), "16"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    acknowledged: dict[str, int] = {}
    try:
        assert proc.stdout is not None
        # Kill mid-burst, once a good number of writes have been acknowledged.
        while len(acknowledged) < 1500:
            line = proc.stdout.readline()
            assert line, f"writer died: {proc.stderr.read() if proc.stderr else b''!r}"
            key, revision = line.decode().split()
            acknowledged[key] = int(revision)
        os.kill(proc.pid, signal.SIGKILL)
        rest = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == -signal.SIGKILL
    for text in rest.decode().splitlines(keepends=True):
        if text.endswith("\n"):  # the last line may have been cut by the kill
            key, revision = text.split()
            acknowledged[key] = int(revision)

    async def check() -> None:
        async with await SQLiteStore.open(path) as store:
            top = store.current_revision()
            assert top >= max(acknowledged.values())
            for key, revision in acknowledged.items():
                kv = await store.get(key)
                assert kv is not None, key
                assert kv.mod_revision == revision, key
            items = (await store.list("/crash/")).items
            assert len(items) == top

    asyncio.run(check())
    ids = [r[0] for r in rows(path)]
    assert ids == list(range(1, len(ids) + 1))
    assert len(acknowledged) >= 1500
