"""A tiny plain-HTTP server for a component's ``/metrics`` (and ``/healthz``, ``/readyz``,
``/livez``), as ``skiff scheduler`` and ``skiff controller-manager`` serve them.

``serve_metrics(render, host, port, healthy=...)`` answers ``GET /metrics`` with ``render()`` (the
Prometheus text format, e.g. ``prometheus_client.generate_latest`` of a registry), the health
paths with 200 ``ok`` or, while ``healthy()`` is false, 503, and anything else with 404. One
request per connection (``Connection: close``); it runs in the caller's event loop, and closing
the returned `asyncio.Server` stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

__all__ = ["serve_metrics"]

PROMETHEUS_TEXT = "text/plain; version=0.0.4"


async def serve_metrics(
    render: Callable[[], bytes], host: str, port: int, *, healthy: Callable[[], bool] | None = None
) -> asyncio.Server:
    """Serve ``GET /metrics`` (and ``/healthz``) over plain HTTP/1.1 on ``host:port``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            parts = line.decode("latin-1").split()
            path = parts[1] if len(parts) > 1 else "/"
            if path.startswith("/metrics"):
                status, body, ctype = "200 OK", render(), PROMETHEUS_TEXT
            elif path.startswith(("/healthz", "/readyz", "/livez")):
                ok = healthy() if healthy is not None else True
                status = "200 OK" if ok else "503 Service Unavailable"
                body, ctype = (b"ok" if ok else b"not ready"), "text/plain"
            else:
                status, body, ctype = "404 Not Found", b"not found\n", "text/plain"
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    return await asyncio.start_server(handle, host, port)
