"""Client CPU per request: skiff's `Client` over httpx's transport vs over `LeanTransport`.

``python -m bench client_transport [--requests 2000] [--warmup 200]``

Starts ``skiff apiserver`` (its own process, HTTPS with its generated CA, bearer token), then, in
this process and one after the other on one warm keep-alive connection each, sends ``--requests``
sequential requests with:

* ``httpx``: `skiff.client.Client` over ``httpx.AsyncHTTPTransport`` (httpcore + h11), as before;
* ``lean``: `skiff.client.Client` over `skiff.client.LeanTransport` (the same public API);
* ``raw``: ``bench._http.HttpConnection``, a pre-built request written to the stream: the floor
  for a Python asyncio client, with no request/response objects at all.

Two request kinds: ``create`` (POST a small ConfigMap, the shape of a scheduler's binding POST)
and ``get`` (GET one ConfigMap). The figure is the CPU time of this process (user + system, from
``time.process_time``) divided by the number of requests, in microseconds; the server runs in
another process, so its CPU is not counted. Requests/s (wall) is printed beside it. The variants
run in alternating order over ``--rounds`` rounds and the median round is reported, so a burst of
other load on the machine does not pick the winner.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import orjson

from bench._common import guarded, print_json_line, print_table
from bench._http import HttpConnection, client_ssl_context, run_async
from skiff.client import Client, Config, LeanTransport

__all__ = ["add_arguments", "run"]

_PATH = "/api/v1/namespaces/default/configmaps"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=2000, help="requests per variant/round")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests first")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (median reported)")
    parser.add_argument("--timeout", type=float, default=600.0, help="hard limit, seconds")
    parser.add_argument("--tmp-dir", type=Path, default=None, help="where temp dirs go")


def _body(name: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": {"k": "v" * 64},
    }


async def _measure(count: int, one: Callable[[], Awaitable[None]]) -> tuple[float, float]:
    """(µs of CPU per request, requests/s wall) for ``count`` sequential calls of ``one``."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(count):
        await one()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return cpu / count * 1e6, count / wall


async def _run_variants(
    url: str, ca: bytes, token: str, port: int, ca_file: str, args: argparse.Namespace
) -> dict[str, dict[str, list[tuple[float, float]]]]:
    config = Config(server=url, ca_data=ca, token=token)
    results: dict[str, dict[str, list[tuple[float, float]]]] = {}
    httpx_transport = httpx.AsyncHTTPTransport(
        verify=config.ssl_context(), limits=httpx.Limits(max_connections=10)
    )
    lean = LeanTransport(ssl_context=config.ssl_context(), max_connections=10)
    raw = await HttpConnection.open(
        "127.0.0.1", port, ssl_context=client_ssl_context(ca_file), token=token
    )
    run_id = uuid.uuid4().hex[:6]
    try:
        async with (
            Client(config, transport=httpx_transport) as via_httpx,
            Client(config, transport=lean) as via_lean,
        ):
            await via_httpx.create("configmaps", _body(f"probe-{run_id}"), namespace="default")

            serial = itertools.count()

            def client_ops(client: Client) -> dict[str, Callable[[], Awaitable[None]]]:
                async def create() -> None:
                    name = f"c-{run_id}-{next(serial)}"
                    await client.create("configmaps", _body(name), namespace="default")

                async def get() -> None:
                    await client.get("configmaps", f"probe-{run_id}", namespace="default")

                return {"create": create, "get": get}

            async def raw_create() -> None:
                body = orjson.dumps(_body(f"c-{run_id}-{next(serial)}"))
                resp = await raw.request("POST", _PATH, body)
                if resp.status != 201:
                    raise RuntimeError(f"create answered {resp.status}")

            async def raw_get() -> None:
                resp = await raw.request("GET", f"{_PATH}/probe-{run_id}")
                if resp.status != 200:
                    raise RuntimeError(f"get answered {resp.status}")

            variants = {
                "httpx": client_ops(via_httpx),
                "lean": client_ops(via_lean),
                "raw": {"create": raw_create, "get": raw_get},
            }
            for rnd in range(args.rounds):
                order = list(variants)
                if rnd % 2:
                    order.reverse()
                for name in order:
                    for kind, op in variants[name].items():
                        for _ in range(args.warmup):
                            await op()
                        figure = await _measure(args.requests, op)
                        results.setdefault(name, {}).setdefault(kind, []).append(figure)
    finally:
        await raw.close()
    return results


def run(args: argparse.Namespace) -> int:
    with guarded(timeout=args.timeout, base_dir=args.tmp_dir) as res:
        work = res.tempdir("skiff-bench-transport-")
        server = res.start_server(work / "apiserver")
        ca = server.ca_file.read_bytes()
        results = run_async(
            _run_variants(server.url, ca, server.token, server.port, str(server.ca_file), args)
        )
    rows: list[list[str]] = []
    out: dict[str, float] = {}
    for name in ("httpx", "lean", "raw"):
        for kind in ("create", "get"):
            figures = results[name][kind]
            cpu = statistics.median(f[0] for f in figures)
            rate = statistics.median(f[1] for f in figures)
            rows.append([f"{name} {kind}", f"{cpu:.0f}", f"{rate:,.0f}"])
            out[f"{name}_{kind}_cpu_us"] = round(cpu, 1)
            out[f"{name}_{kind}_req_s"] = round(rate, 1)
    print_table(
        f"client CPU per request ({args.requests} sequential requests, median of {args.rounds})",
        ["variant", "client CPU µs/request", "requests/s"],
        rows,
    )
    print_json_line(out)
    return 0
