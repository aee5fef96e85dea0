"""Store commit-rate benchmark: raw SQLite references vs SQLiteStore (and WatchCache) creates/s.

Run by hand: ``.venv/bin/python bench/store_commit.py [--objects N] [--writers W] [--size BYTES]``.
Prints, measured in the same run on the same disk:

* ``raw-fsync-each``: one INSERT per transaction, WAL + synchronous=FULL - the fsync ceiling
  a store without group commit would hit;
* ``raw-batched``: INSERTs in transactions of ``writers`` rows - roughly what perfect group
  commit could reach;
* ``store``: ``SQLiteStore.create`` from ``writers`` concurrent asyncio tasks;
* ``cache``: the same through a ``WatchCache`` (each write also waits until the cache has it);
* ``busy-loop``: ``SQLiteStore.update`` from ``writers`` tasks for 5 s while ``--burners`` other
  tasks keep the event loop busy (0.5 ms of CPU per step, as a loaded API server's handlers do),
  with the default switch interval and with the API server's 0.5 ms: how long a write waits when
  the writer thread must win the GIL back from a busy loop.

The ratios show what the store's threading and asyncio hand-offs cost over raw SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from skiff.apiserver.watchcache import WatchCache
from skiff.store import SQLiteStore, Store

_SCHEMA = "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, value BLOB)"


def raw(path: Path, objects: int, batch: int, value: bytes) -> float:
    """Inserts/s with ``batch`` rows per transaction."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(_SCHEMA)
    start = time.perf_counter()
    for i in range(0, objects, batch):
        conn.execute("BEGIN IMMEDIATE")
        for j in range(i, min(i + batch, objects)):
            conn.execute("INSERT INTO t (name, value) VALUES (?, ?)", (f"/k/{j}", value))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return objects / elapsed


async def through(store: Store, objects: int, writers: int, value: bytes) -> float:
    """Creates/s from ``writers`` concurrent tasks."""
    per = objects // writers

    async def writer(w: int) -> None:
        for i in range(per):
            await store.create(f"/registry/pods/ns{w}/pod-{i}", value)

    start = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for w in range(writers):
            tg.create_task(writer(w))
    return per * writers / (time.perf_counter() - start)


async def busy_loop(store: Store, writers: int, burners: int, value: bytes) -> tuple[float, float]:
    """(updates/s, median ms) of ``writers`` updating while ``burners`` keep the loop busy."""
    keys = [f"/registry/leases/n{i}" for i in range(500)]
    revisions = {k: await store.create(k, value) for k in keys}
    latencies: list[float] = []
    stop = time.monotonic() + 5.0

    async def writer(w: int) -> None:
        i = w
        while time.monotonic() < stop:
            key = keys[i % len(keys)]
            i += writers
            started = time.perf_counter()
            result = await store.update(key, value, expected_revision=revisions[key])
            latencies.append(time.perf_counter() - started)
            if result.succeeded:
                revisions[key] = result.revision

    async def burner() -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            while time.perf_counter() - started < 0.0005:
                pass
            await asyncio.sleep(0)

    async with asyncio.TaskGroup() as tg:
        for w in range(writers):
            tg.create_task(writer(w))
        for _ in range(burners):
            tg.create_task(burner())
    latencies.sort()
    return len(latencies) / 5.0, 1000 * latencies[len(latencies) // 2]


async def run(args: argparse.Namespace) -> None:
    value = b"x" * args.size
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        fsync_each = raw(root / "raw1.db", min(args.objects, 2000), 1, value)
        batched = raw(root / "raw2.db", args.objects, args.writers, value)
        async with await SQLiteStore.open(root / "store.db") as store:
            direct = await through(store, args.objects, args.writers, value)
            stats = store.statistics()
        async with (
            await SQLiteStore.open(root / "cache.db") as base,
            WatchCache(base) as cache,
        ):
            cached = await through(cache, args.objects, args.writers, value)
        busy: list[tuple[float, float, float]] = []
        default_interval = sys.getswitchinterval()
        for interval in (default_interval, 0.0005):
            sys.setswitchinterval(interval)
            try:
                async with await SQLiteStore.open(root / f"busy-{interval}.db") as store:
                    rate, median = await busy_loop(store, args.writers, args.burners, value)
            finally:
                sys.setswitchinterval(default_interval)
            busy.append((interval, rate, median))
    print(f"objects={args.objects} writers={args.writers} value={args.size}B")
    print(f"raw-fsync-each  {fsync_each:10.0f} inserts/s")
    print(f"raw-batched     {batched:10.0f} inserts/s  (transactions of {args.writers})")
    print(
        f"store           {direct:10.0f} creates/s  "
        f"({stats.writes / max(stats.transactions, 1):.1f} writes/transaction, "
        f"{direct / fsync_each:.1f}x raw-fsync-each, {direct / batched:.2f}x raw-batched)"
    )
    print(f"cache           {cached:10.0f} creates/s  ({cached / direct:.2f}x store)")
    for interval, rate, median in busy:
        print(
            f"busy-loop       {rate:10.0f} updates/s  (median {median:.1f} ms; {args.burners} "
            f"busy tasks, switch interval {1000 * interval:g} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=20_000)
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--size", type=int, default=1000, help="value size in bytes")
    parser.add_argument("--burners", type=int, default=20, help="busy tasks in busy-loop")
    parser.add_argument("--dir", default=None, help="directory for the databases (default: tmp)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
