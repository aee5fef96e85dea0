"""SQLiteStore specifics: group commit, durability across restarts, crash safety, the kine schema,
compaction on disk, the process lock, opening stores by URL, and the writer's in-memory index of
each key's newest row (decided without reading SQLite, rebuilt from the table at open).

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


async def test_writer_index_rebuilt_at_open_decides_as_the_table_would(tmp_path: Path) -> None:
    """Keys last written before a restart: their compares, previous values and tombstones come
    from the table (values read on demand), exactly as before the restart."""
    path = tmp_path / "state.db"
    async with await SQLiteStore.open(path) as store:
        ra = await store.create("/i/a", b"a1")
        ra = (await store.update("/i/a", b"a2", expected_revision=ra)).revision
        await store.create("/i/b", b"b1")
        rb = (await store.delete("/i/b")).revision
        rc = await store.create("/i/c", b"c1")
    async with await SQLiteStore.open(path) as store:
        async with store.watch("/i/") as events:
            stale = await store.update("/i/a", b"x", expected_revision=Revision(ra - 1))
            assert not stale.succeeded
            assert stale.kv is not None and stale.kv.value == b"a2"
            assert stale.kv.mod_revision == ra
            updated = await store.update("/i/a", b"a3", expected_revision=ra)
            assert updated.succeeded
            # the tombstone is the newest row of /i/b: a create starts after it
            rb2 = await store.create("/i/b", b"b2")
            deleted = await store.delete("/i/c", expected_revision=rc)
            assert deleted.succeeded and deleted.kv is not None
            assert deleted.kv.value == b"c1"
            with pytest.raises(KeyExists):
                await store.create("/i/a", b"again")
            got = [await anext(events) for _ in range(3)]
        assert got[0].prev_kv is not None and got[0].prev_kv.value == b"a2"
        assert got[0].kv.value == b"a3" and got[0].kv.create_revision == ra - 1
        assert got[1].kv.value == b"b2" and got[1].prev_kv is None
        assert got[2].prev_kv is not None and got[2].prev_kv.value == b"c1"
    assert [r for r in rows(path) if r[1] == "/i/b"][-1] == (rb2, "/i/b", 1, 0, rb2, rb)


async def test_writes_in_one_batch_see_each_other_and_span_insert_chunks(tmp_path: Path) -> None:
    """One transaction of hundreds of writes (several multi-row INSERTs): each write is decided
    against the ones before it in the same batch."""
    path = tmp_path / "state.db"
    blocker = sqlite3.connect(path.parent / "state.db", isolation_level=None)
    store = await SQLiteStore.open(path)
    try:
        first = await store.create("/w/0", b"0")
        blocker.execute("BEGIN IMMEDIATE")  # the writer stalls; what follows is one batch
        stalled = asyncio.create_task(store.create("/w/stall", b"s"))
        batch = asyncio.gather(
            *(store.create(f"/w/{i}", b"v") for i in range(1, 200)),
            store.update("/w/0", b"1", expected_revision=first),
            store.update("/w/0", b"2", expected_revision=first),  # loses to the one before
            store.delete("/w/5"),
            store.create("/w/5", b"again"),
            return_exceptions=True,
        )
        for _ in range(3):
            await asyncio.sleep(0)
        blocker.execute("COMMIT")
        await stalled
        results = await batch
        assert store.statistics().max_batch >= 200
    finally:
        blocker.close()
        await store.close()
    assert all(isinstance(r, int) for r in results[:199])
    won, lost, gone, again = results[199:]
    assert won.succeeded and not lost.succeeded and lost.kv.value == b"1"
    assert gone.succeeded and isinstance(again, int) and again == gone.revision + 1
    table = rows(path)
    assert [r[0] for r in table] == list(range(1, len(table) + 1))
    assert [r for r in table if r[1] == "/w/5"][-1][5] == gone.revision


async def test_a_failed_transaction_leaves_the_index_as_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that fails is rolled back whole, and the index forgets its writes too: the same
    compare wins afterwards, at the same revision."""
    store = await SQLiteStore.open(tmp_path / "state.db")
    try:
        r1 = await store.create("/f/a", b"1")
        real = SQLiteStore._insert
        calls = {"n": 0}

        def failing(conn: sqlite3.Connection, batch_rows: list[tuple[object, ...]]) -> None:
            calls["n"] += 1
            if calls["n"] == 1:
                raise sqlite3.OperationalError("disk I/O error (injected)")
            real(conn, batch_rows)

        monkeypatch.setattr(SQLiteStore, "_insert", staticmethod(failing))
        with pytest.raises(StoreError, match="injected"):
            await store.update("/f/a", b"2", expected_revision=r1)
        assert store.statistics().failed_transactions == 1
        result = await store.update("/f/a", b"2", expected_revision=r1)
        assert result.succeeded and result.revision == r1 + 1
        assert (await store.get("/f/a")).value == b"2"  # type: ignore[union-attr]
    finally:
        await store.close()


async def test_compacted_tombstones_leave_the_index(tmp_path: Path) -> None:
    """A key deleted and compacted away is created afresh (no previous row), before and after a
    restart, and the unique (name, prev_revision) index still holds."""
    path = tmp_path / "state.db"
    async with await SQLiteStore.open(path) as store:
        await store.create("/t/a", b"1")
        gone = await store.delete("/t/a")
        await store.compact(gone.revision)
        r = await store.create("/t/a", b"2")
        await store.delete("/t/a", expected_revision=r)
        again = await store.create("/t/a", b"3")
    async with await SQLiteStore.open(path) as store:
        await store.compact(store.current_revision())
        await store.delete("/t/a", expected_revision=again)
        await store.create("/t/a", b"4")
    table = [r for r in rows(path) if r[1] == "/t/a"]
    assert [r[5] for r in table if r[2]] == [r[0] - 1 for r in table if r[2]]
    assert table[-1][2] == 1 and table[-1][5] == table[-2][0]


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
