"""Watcher child process of ``watch_pernode``: ``python -m bench._nodewatch '<json config>'``.

Opens one HTTPS watch stream per entry of the config's ``watchers`` (each ``{"path", "node",
"expected"}``), prints a ready line once every stream has its response head, then records, for
every ADDED or MODIFIED pod whose name starts with ``name_prefix``, the delay between the
wall-clock time the writer put in the pod's ``bench/t`` annotation and the moment the event was
read. A watcher with a ``node`` checks that every pod it gets is bound to that node (an event routed
to the wrong watcher is an error), and one that gets more than ``expected`` events reports it. Ends
when every watcher has its ``expected`` events (all streams stay open until then, so a stray event
to a watcher expecting none is seen), or at the wall-clock ``deadline``.

Same protocol with the parent as ``bench._loadgen``: first stdout line a JSON ready object, last
line a JSON result object; exits when stdin closes.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
import time
from typing import Any

import orjson

from bench._http import HttpError, WatchProtocol, client_ssl_context, open_watch, run_async
from bench._loadgen import _emit, _watch_stdin

__all__ = ["main"]

_CONNECT_ERRORS = (HttpError, OSError, ssl.SSLError, asyncio.TimeoutError)
STAMP = "bench/t"
"""The annotation holding the wall-clock time just before the write that produced the event."""


async def _run(cfg: dict[str, Any]) -> dict[str, Any]:
    stdin_task = asyncio.create_task(_watch_stdin(asyncio.Event()))
    prefix: str = cfg["name_prefix"]
    deadline: float = cfg["deadline"]
    specs: list[dict[str, Any]] = cfg["watchers"]
    ctx = client_ssl_context(cfg["ca"])
    latencies: list[float] = []
    errors: list[str] = []
    counts = {"delivered": 0, "misrouted": 0, "extra": 0}
    remaining = sum(1 for spec in specs if spec["expected"] > 0)
    all_done = asyncio.Event()
    if remaining == 0:
        all_done.set()

    def on_line_for(node: str, expected: int) -> Any:
        got = 0

        def on_line(line: bytes, now: float) -> bool:
            nonlocal got, remaining
            event = orjson.loads(line)
            kind = event.get("type")
            if kind == "ERROR":
                errors.append(f"watch ERROR event: {line[:300]!r}")
                return True
            if kind not in ("ADDED", "MODIFIED"):
                return False
            obj = event["object"]
            meta = obj["metadata"]
            if not meta["name"].startswith(prefix):
                return False
            if node and (obj.get("spec") or {}).get("nodeName") != node:
                counts["misrouted"] += 1
                return False
            latencies.append((now - float(meta["annotations"][STAMP])) * 1000.0)
            counts["delivered"] += 1
            got += 1
            if got == expected:
                remaining -= 1
                if remaining == 0:
                    all_done.set()
            elif got > expected:
                counts["extra"] += 1
            return False

        return on_line

    async def open_one(spec: dict[str, Any]) -> WatchProtocol | None:
        try:
            return await asyncio.wait_for(
                open_watch(
                    cfg["host"],
                    cfg["port"],
                    spec["path"],
                    ssl_context=ctx,
                    token=cfg["token"],
                    on_line=on_line_for(spec["node"], spec["expected"]),
                ),
                timeout=30.0,
            )
        except _CONNECT_ERRORS as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            return None

    streams: list[WatchProtocol] = []
    cpu0 = time.process_time()
    try:
        # open in slices: a thousand TLS handshakes at once only time out
        for i in range(0, len(specs), 100):
            opened = await asyncio.gather(*(open_one(s) for s in specs[i : i + 100]))
            streams.extend(s for s in opened if s is not None)
        _emit({"ready": True, "watchers": len(specs), "failed": len(specs) - len(streams)})
        broken: list[asyncio.Future[Any]] = [asyncio.ensure_future(s.done) for s in streams]
        waiter: asyncio.Future[Any] = asyncio.ensure_future(all_done.wait())
        try:
            await asyncio.wait(
                [waiter, *broken],
                timeout=max(0.1, deadline - time.time()),
                return_when=asyncio.FIRST_COMPLETED,
            )
            # a stream that ended early (the server closed it) is an error; give the others
            # the rest of the time
            if not all_done.is_set():
                await asyncio.wait([waiter], timeout=max(0.1, deadline - time.time()))
        finally:
            waiter.cancel()
            for fut in broken:
                if fut.done() and not fut.cancelled() and fut.exception() is not None:
                    errors.append(f"stream failed: {fut.exception()}")
                fut.cancel()
    finally:
        for stream in streams:
            stream.close()
        stdin_task.cancel()
    if not all_done.is_set():
        errors.append(f"{remaining} watcher(s) still waiting for events at the deadline")
    return {
        "latencies_ms": [round(x, 3) for x in latencies],
        "delivered": counts["delivered"],
        "expected": sum(spec["expected"] for spec in specs),
        "misrouted": counts["misrouted"],
        "extra": counts["extra"],
        "errors": errors[:10],
        "error_count": len(errors),
        "cpu_s": time.process_time() - cpu0,
    }


async def _main_async(cfg: dict[str, Any]) -> dict[str, Any]:
    budget = max(1.0, cfg["deadline"] - time.time()) + 10.0
    return await asyncio.wait_for(_run(cfg), timeout=budget)


def main(argv: list[str]) -> int:
    cfg: dict[str, Any] = orjson.loads(argv[0])
    try:
        result = run_async(_main_async(cfg))
    except Exception as exc:  # reported to the parent, which prints it and fails the benchmark
        _emit({"fatal": f"{type(exc).__name__}: {exc}"})
        return 1
    _emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
