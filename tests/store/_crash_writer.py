"""Helper process for the crash test: creates keys forever, printing each acknowledged write.

Run as ``python _crash_writer.py DB_PATH WRITERS``. Each line on stdout is ``<key> <revision>``,
written and flushed only after ``create`` returned, i.e. after the write was acknowledged as durable.
The test SIGKILLs this process mid-burst; it never exits by itself.
"""

from __future__ import annotations

import asyncio
import os
import sys

from skiff.store import SQLiteStore


async def main(path: str, writers: int) -> None:
    store = await SQLiteStore.open(path)
    out = sys.stdout.fileno()

    async def writer(w: int) -> None:
        i = 0
        while True:
            key = f"/crash/{w}/{i}"
            revision = await store.create(key, b"x" * 200)
            # One write(2) per line: a line is either wholly in the pipe or absent.
            os.write(out, f"{key} {revision}\n".encode())
            i += 1

    async with asyncio.TaskGroup() as tg:
        for w in range(writers):
            tg.create_task(writer(w))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
