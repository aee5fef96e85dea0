"""The shared plain-HTTP ``/metrics`` server (skiff.util.metricsserver) and the process helpers
``skiff scheduler`` and ``skiff controller-manager`` build on it (skiff.cmd.component): metrics
rendered per request, health paths following ``healthy()`` (200, then 503), 404 elsewhere, a port
in use logged rather than fatal, and the ready file written and removed."""

from __future__ import annotations

import argparse
import logging
import os
import socket
from pathlib import Path

import httpx
import pytest

from skiff.cmd.component import metrics_endpoint, parse_bool, ready_announcer, run_process
from skiff.util.metricsserver import PROMETHEUS_TEXT, serve_metrics


async def test_metrics_health_and_not_found() -> None:
    hits: list[int] = []
    healthy = [True]

    def render() -> bytes:
        hits.append(1)
        return f"requests_total {len(hits)}\n".encode()

    server = await serve_metrics(render, "127.0.0.1", 0, healthy=lambda: healthy[0])
    port = server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            r = await http.get("/metrics")
            assert (r.status_code, r.text) == (200, "requests_total 1\n")
            assert r.headers["content-type"] == PROMETHEUS_TEXT
            assert (await http.get("/metrics")).text == "requests_total 2\n"
            assert [(await http.get(p)).status_code for p in ("/healthz", "/readyz")] == [200, 200]
            healthy[0] = False
            r = await http.get("/livez")
            assert (r.status_code, r.text) == (503, "not ready")
            assert (await http.get("/other")).status_code == 404
    finally:
        server.close()
        await server.wait_closed()


async def test_metrics_endpoint_port_in_use_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level(logging.WARNING, logger="skiff.test-component"):
            async with metrics_endpoint("test-component", lambda: b"", "127.0.0.1", port):
                pass
    assert "cannot serve /metrics" in caplog.text


def test_ready_file_written_then_removed(tmp_path: Path) -> None:
    ready = tmp_path / "c.ready"
    seen: list[str] = []

    async def main() -> int:
        ready_announcer(ready)()
        seen.append(ready.read_text())
        return 3

    assert run_process(main(), ready) == 3
    assert seen == [f"{os.getpid()}\n"] and not ready.exists()
    ready_announcer(None)()  # no file, nothing to do
    assert parse_bool("True") and not parse_bool("0")
    with pytest.raises(argparse.ArgumentTypeError):
        parse_bool("maybe")
