"""SQLite schema and statements of the log-structured store (kine's ``pkg/drivers/sqlite``).

One append-only table, ``kine``, in which the row id *is* the revision. Every write appends a row:

==================  ==========================================================================
``name``            the key
``created``         1 for a create (first version of an incarnation of the key)
``deleted``         1 for a delete (a tombstone; ``value`` repeats the last value)
``create_revision`` revision of the create of this incarnation
``prev_revision``   id of the row this one supersedes (0 for a first create)
``lease``           reserved for TTL leases (always 0 for now)
``value``           the new value
``old_value``       the superseded row's value, so watch events carry ``prev_kv`` by themselves
==================  ==========================================================================

``UNIQUE(name, prev_revision)`` makes two writers that read the same latest row unable to both append
a successor: compare-and-swap enforced by the database. skiff's single writer thread also compares in
Python inside the transaction, so a failed compare never attempts an insert and never consumes an id.

``AUTOINCREMENT`` keeps ``sqlite_sequence`` as the high-water mark, so ids are never reused even when
compaction deletes the newest rows (tombstones); the current revision is that sequence value.

Unlike kine, the compaction point is kept in a side table (``skiff_meta``) rather than a
``compact_rev_key`` row: a row would consume a revision, and skiff promises revisions without holes.
"""

from __future__ import annotations

import sqlite3

__all__ = [
    "COMPACT_DELETE_SUPERSEDED",
    "COMPACT_DELETE_TOMBSTONES",
    "ROW_COLUMNS",
    "SCHEMA",
    "SELECT_AFTER",
    "SELECT_COMPACT_REVISION",
    "SELECT_CURRENT_REVISION",
    "SELECT_LATEST_AT",
    "SELECT_LATEST_ROWS",
    "SELECT_VALUE",
    "SET_COMPACT_REVISION",
    "configure",
    "insert_rows",
    "list_query",
]

SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS kine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        created INTEGER NOT NULL,
        deleted INTEGER NOT NULL,
        create_revision INTEGER NOT NULL,
        prev_revision INTEGER NOT NULL,
        lease INTEGER NOT NULL DEFAULT 0,
        value BLOB NOT NULL,
        old_value BLOB
    )
    """,
    "CREATE INDEX IF NOT EXISTS kine_name_id_index ON kine (name, id)",
    "CREATE INDEX IF NOT EXISTS kine_prev_revision_index ON kine (prev_revision)",
    "CREATE UNIQUE INDEX IF NOT EXISTS kine_name_prev_revision_uindex ON kine (name, prev_revision)",
    """
    CREATE TABLE IF NOT EXISTS skiff_meta (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    )
    """,
)

ROW_COLUMNS = "id, name, created, deleted, create_revision, prev_revision, value, old_value"


def insert_rows(count: int) -> str:
    """Append ``count`` rows in one statement (one ``sqlite3_step`` for all of them). Parameters per
    row: id, name, created, deleted, create_revision, prev_revision, value, old_value."""
    row = "(?, ?, ?, ?, ?, ?, 0, ?, ?)"
    return (
        "INSERT INTO kine (id, name, created, deleted, create_revision, prev_revision, lease,"
        " value, old_value) VALUES " + ", ".join([row] * count)
    )


SELECT_CURRENT_REVISION = "SELECT seq FROM sqlite_sequence WHERE name = 'kine'"

SELECT_COMPACT_REVISION = "SELECT value FROM skiff_meta WHERE name = 'compact_revision'"

SET_COMPACT_REVISION = (
    "INSERT INTO skiff_meta (name, value) VALUES ('compact_revision', ?)"
    " ON CONFLICT(name) DO UPDATE SET value = excluded.value"
)

# The newest row of every key, tombstones included (the writer's index, read once at open).
SELECT_LATEST_ROWS = (
    "SELECT kv.name, kv.id, kv.create_revision, kv.deleted FROM kine AS kv"
    " JOIN (SELECT MAX(id) AS id FROM kine GROUP BY name) AS newest ON kv.id = newest.id"
)

SELECT_VALUE = "SELECT value FROM kine WHERE id = ?"

SELECT_LATEST_AT = (
    f"SELECT {ROW_COLUMNS} FROM kine WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1"
)

# Watch history: every row after a revision, in order.
SELECT_AFTER = f"SELECT {ROW_COLUMNS} FROM kine WHERE id > ? ORDER BY id LIMIT ?"

# Compaction of the revision range (lo, hi]: drop each row superseded by a row in the range, then the
# tombstones in the range (kine ``SQLLog.Compact``; rows superseded before ``lo`` went in earlier
# chunks). The newest version of every live key as of ``hi`` survives.
COMPACT_DELETE_SUPERSEDED = (
    "DELETE FROM kine WHERE id IN ("
    "SELECT prev_revision FROM kine WHERE id > ? AND id <= ? AND prev_revision != 0)"
)
COMPACT_DELETE_TOMBSTONES = "DELETE FROM kine WHERE id > ? AND id <= ? AND deleted = 1"


def list_query(*, bounded: bool, after: bool, limit: bool) -> str:
    """Newest row per key (as of a revision) within a key range, live keys only, sorted by key.

    Parameters, in order: lower bound (inclusive prefix, or exclusive continue key), [upper bound],
    revision, [limit]. The correlated ``MAX(id)`` walks the key range in index order and stops at
    ``LIMIT``, so a page costs its own size rather than the whole range (a ``GROUP BY`` join, as
    kine writes it, aggregates the entire range before the first row comes out).
    """
    lower = "kv.name > ?" if after else "kv.name >= ?"
    upper = " AND kv.name < ?" if bounded else ""
    columns = ", ".join("kv." + c for c in ROW_COLUMNS.split(", "))
    return (
        f"SELECT {columns} FROM kine AS kv WHERE {lower}{upper} AND kv.deleted = 0"
        " AND kv.id = (SELECT MAX(k2.id) FROM kine AS k2 WHERE k2.name = kv.name AND k2.id <= ?)"
        " ORDER BY kv.name" + (" LIMIT ?" if limit else "")
    )


def configure(conn: sqlite3.Connection) -> None:
    """Per-connection settings: WAL, fsync on every commit (a write is acknowledged only once
    durable, as etcd fsyncs), and a busy timeout for readers racing a checkpoint."""
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA foreign_keys=OFF")
