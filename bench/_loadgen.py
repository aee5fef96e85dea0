"""Load-generator child processes: ``python -m bench._loadgen '<json config>'``.

Two modes, chosen by the config's ``mode``:

* ``create`` - open ``connections`` keep-alive HTTPS connections, create one warm-up ConfigMap on
  each, print a ready line, wait for ``go`` on stdin, then create ConfigMaps of ``payload_size``
  bytes until this process's share ``count`` is done or ``duration`` seconds have passed.
* ``watch`` - open ``watchers`` watch streams on ``path``, print a ready line once every stream has
  its response head, then record, for every ADDED event whose name starts with ``name_prefix``, the
  delay between the wall-clock time the creator wrote into ``data.t`` and the moment the event was
  read. Ends when every watcher has ``expected`` events or at the wall-clock ``deadline``.

Protocol with the parent: the first stdout line is a JSON ready object, the last one a JSON result
object. The child exits at once when its stdin reaches end-of-file (the parent is gone), and on its
own hard ``deadline``, so it can never outlive the benchmark by much.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import ssl
import sys
import time
from typing import Any

import orjson

from bench._http import (
    HttpConnection,
    HttpError,
    WatchProtocol,
    client_ssl_context,
    open_watch,
    run_async,
)

__all__ = ["configmap_body", "main"]

_CONNECT_ERRORS = (HttpError, OSError, ssl.SSLError, asyncio.TimeoutError)


def configmap_body(
    name: str, *, size: int, labels: dict[str, str], t: float | None = None
) -> bytes:
    """A ConfigMap manifest of about ``size`` bytes of JSON, padded in ``data.payload``.

    ``t`` (wall-clock seconds), when given, goes in ``data.t`` for watchers to measure delivery.
    """
    data: dict[str, str] = {"payload": ""}
    if t is not None:
        data["t"] = repr(t)
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": data,
    }
    bare = len(orjson.dumps(doc))
    data["payload"] = "x" * max(0, size - bare)
    return orjson.dumps(doc)


def _emit(obj: dict[str, Any]) -> None:
    """Write one JSON line to stdout, whole (results of 1,000 watchers run to megabytes)."""
    sys.stdout.flush()
    fd = sys.stdout.fileno()
    # uvloop leaves the standard streams non-blocking; a partial write would cut the line short.
    os.set_blocking(fd, True)
    data = memoryview(orjson.dumps(obj) + b"\n")
    while data:
        data = data[os.write(fd, data) :]


async def _watch_stdin(go: asyncio.Event) -> None:
    """Set ``go`` on the parent's ``go`` line; exit the process when stdin closes."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            os._exit(3)  # the parent is gone: no one will read our results
        if line.strip() == b"go":
            go.set()


async def _connect(cfg: dict[str, Any]) -> HttpConnection:
    ctx = client_ssl_context(cfg["ca"]) if cfg["tls"] else None
    return await asyncio.wait_for(
        HttpConnection.open(cfg["host"], cfg["port"], ssl_context=ctx, token=cfg["token"]),
        timeout=30.0,
    )


def custom_body(name: str, *, size: int, labels: dict[str, str]) -> bytes:
    """A ``bench.skiff.dev/v1`` Blob of about ``size`` bytes, shaped like a ConfigMap."""
    doc = orjson.loads(configmap_body(name, size=size, labels=labels))
    doc["apiVersion"], doc["kind"] = "bench.skiff.dev/v1", "Blob"
    return orjson.dumps(doc)


async def _run_create(cfg: dict[str, Any]) -> dict[str, Any]:
    go = asyncio.Event()
    stdin_task = asyncio.create_task(_watch_stdin(go))
    path: str = cfg["path"]
    labels = {"bench": cfg["run_id"]}
    size: int = cfg["payload_size"]
    prefix: str = cfg["name_prefix"]
    make_body = custom_body if cfg.get("kind") == "custom" else configmap_body
    conns = await asyncio.gather(*(_connect(cfg) for _ in range(cfg["connections"])))
    # One warm-up create per connection: first-request costs (imports, caches) stay out of the run.
    for i, conn in enumerate(conns):
        resp = await conn.request(
            "POST", path, make_body(f"{prefix}w{i}", size=size, labels=labels)
        )
        if resp.status != 201:
            raise HttpError(f"warm-up create answered {resp.status}: {resp.body[:300]!r}")
    _emit({"ready": True, "connections": len(conns)})
    await go.wait()

    count: int = cfg["count"]
    end = time.perf_counter() + cfg["duration"]
    counter = itertools.count()
    latencies: list[float] = []
    errors: list[str] = []
    error_count = 0
    started = time.time()
    cpu0 = time.process_time()

    async def client(conn: HttpConnection) -> None:
        nonlocal error_count
        while True:
            i = next(counter)
            if i >= count or time.perf_counter() >= end:
                return
            body = make_body(f"{prefix}{i}", size=size, labels=labels)
            t0 = time.perf_counter()
            try:
                resp = await conn.request("POST", path, body)
            except _CONNECT_ERRORS as exc:
                error_count += 1
                if len(errors) < 10:
                    errors.append(f"{type(exc).__name__}: {exc}")
                await conn.close()
                conn = await _connect(cfg)
                continue
            elapsed = time.perf_counter() - t0
            if resp.status == 201:
                latencies.append(elapsed * 1000.0)
            else:
                error_count += 1
                if len(errors) < 10:
                    errors.append(f"HTTP {resp.status}: {resp.body[:200]!r}")

    await asyncio.gather(*(client(c) for c in conns))
    finished = time.time()
    cpu = time.process_time() - cpu0
    await asyncio.gather(*(c.close() for c in conns))
    stdin_task.cancel()
    return {
        "latencies_ms": [round(x, 3) for x in latencies],
        "errors": error_count,
        "error_samples": errors,
        "started": started,
        "finished": finished,
        "cpu_s": cpu,
    }


async def _run_watch(cfg: dict[str, Any]) -> dict[str, Any]:
    go = asyncio.Event()  # unused by watchers: they start at once, but stdin EOF still ends us
    stdin_task = asyncio.create_task(_watch_stdin(go))
    expected: int = cfg["expected"]
    prefix: str = cfg["name_prefix"]
    deadline: float = cfg["deadline"]
    latencies: list[float] = []
    delivered: list[int] = []
    errors: list[str] = []
    streams: list[WatchProtocol] = []
    ready = 0
    all_ready = asyncio.Event()
    ctx = client_ssl_context(cfg["ca"]) if cfg["tls"] else None

    async def watcher() -> None:
        nonlocal ready
        got = 0

        def on_line(line: bytes, now: float) -> bool:
            nonlocal got
            event = orjson.loads(line)
            kind = event.get("type")
            if kind == "ERROR":
                errors.append(f"watch ERROR event: {line[:300]!r}")
                return True
            if kind != "ADDED":
                return False
            obj = event["object"]
            if not obj["metadata"]["name"].startswith(prefix):
                return False
            latencies.append((now - float(obj["data"]["t"])) * 1000.0)
            got += 1
            return got >= expected

        try:
            stream = await asyncio.wait_for(
                open_watch(
                    cfg["host"],
                    cfg["port"],
                    cfg["path"],
                    ssl_context=ctx,
                    token=cfg["token"],
                    on_line=on_line,
                ),
                timeout=30.0,
            )
            streams.append(stream)
        except _CONNECT_ERRORS as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            delivered.append(0)
            return
        finally:
            ready += 1
            if ready == cfg["watchers"]:
                all_ready.set()
        try:
            await stream.done
        except _CONNECT_ERRORS as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            delivered.append(got)

    tasks = [asyncio.create_task(watcher()) for _ in range(cfg["watchers"])]
    cpu0 = time.process_time()
    try:
        await asyncio.wait_for(all_ready.wait(), timeout=max(1.0, deadline - time.time()))
        _emit({"ready": True, "watchers": cfg["watchers"], "failed": len(errors)})
        remaining = max(0.1, deadline - time.time())
        _done, pending = await asyncio.wait(tasks, timeout=remaining)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if pending:
        errors.append(f"{len(pending)} watcher(s) still waiting for events at the deadline")
    short = sum(1 for got in delivered if got < expected)
    if short and not errors:
        errors.append(f"{short} watcher(s) ended early: the server closed the stream")
    cpu = time.process_time() - cpu0
    for stream in streams:
        stream.close()
    stdin_task.cancel()
    return {
        "latencies_ms": [round(x, 3) for x in latencies],
        "delivered": sum(delivered),
        "expected": expected * cfg["watchers"],
        "errors": errors[:10],
        "error_count": len(errors),
        "cpu_s": cpu,
    }


async def _main_async(cfg: dict[str, Any]) -> dict[str, Any]:
    # A little beyond the deadline: the modes stop themselves at it and still report.
    budget = max(1.0, cfg["deadline"] - time.time()) + 10.0
    runner = _run_create(cfg) if cfg["mode"] == "create" else _run_watch(cfg)
    return await asyncio.wait_for(runner, timeout=budget)


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
