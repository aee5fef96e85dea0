"""``/healthz``, ``/livez`` and ``/readyz`` answered as kube-apiserver answers them.

Covers the check lists with ``?verbose`` (``[+]ping ok`` ... ``readyz check passed``), the plain
``ok``, one check at ``/readyz/<name>`` (and 404 for a name the endpoint does not have),
``?exclude=`` (and the warning for a name matching nothing), a failing check (500, always verbose,
reason withheld on the wire but logged), the shutdown check, and that all of it needs no
credentials. The same through the real kubectl (``kubectl get --raw``) is in
tests/integration/test_ops.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.datastructures import QueryParams

from skiff.apiserver.health import HealthChecks, server_checks
from skiff.apiserver.server import ApiServer

READYZ = [
    "ping",
    "store",
    "watch-cache",
    "poststarthook/skiff-bootstrap",
    "shutdown",
]
LIVEZ = ["ping", "store", "poststarthook/skiff-bootstrap"]


@pytest.fixture
async def anon(apiserver: ApiServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{apiserver.bound_port}") as client:
        yield client


@pytest.mark.parametrize(
    ("endpoint", "checks"),
    [("readyz", READYZ), ("livez", LIVEZ), ("healthz", LIVEZ)],
    ids=["readyz", "livez", "healthz"],
)
async def test_verbose_lists_every_check(
    anon: httpx.AsyncClient, endpoint: str, checks: list[str]
) -> None:
    r = await anon.get(f"/{endpoint}?verbose")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["x-content-type-options"] == "nosniff"
    expected = "".join(f"[+]{c} ok\n" for c in checks) + f"{endpoint} check passed\n"
    assert r.text == expected
    # any value of verbose counts, as in Go (the parameter's presence is what matters)
    assert (await anon.get(f"/{endpoint}", params={"verbose": "false"})).text == expected
    plain = await anon.get(f"/{endpoint}")
    assert (plain.status_code, plain.text) == (200, "ok")


async def test_one_check_by_name(anon: httpx.AsyncClient) -> None:
    for name in READYZ:
        r = await anon.get(f"/readyz/{name}")
        assert (r.status_code, r.text) == (200, "ok"), name
    assert (await anon.get("/livez/store")).text == "ok"
    # watch-cache and shutdown are readiness checks only; unknown names are not found
    for path in ("/livez/watch-cache", "/healthz/shutdown", "/readyz/etcd", "/readyz/"):
        r = await anon.get(path)
        assert (r.status_code, r.text) == (404, "404 page not found\n"), path


async def test_exclude(anon: httpx.AsyncClient) -> None:
    r = await anon.get("/readyz", params=[("verbose", ""), ("exclude", "store")])
    assert r.status_code == 200
    assert "[+]store excluded: ok\n" in r.text
    assert "[+]store ok" not in r.text
    r = await anon.get(
        "/livez", params=[("verbose", ""), ("exclude", "nope"), ("exclude", "also-nope")]
    )
    assert r.text.endswith(
        'warn: some health checks cannot be excluded: no matches for "also-nope","nope"\n'
        "livez check passed\n"
    )


async def test_failing_check_is_named_but_its_reason_withheld(
    apiserver: ApiServer, anon: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    await apiserver.cache.close()  # the watch cache stops; every read through it fails
    with caplog.at_level(logging.WARNING, logger="skiff.apiserver.health"):
        r = await anon.get("/readyz")  # failures are verbose without asking
    assert r.status_code == 500
    assert r.text == (
        "[+]ping ok\n"
        "[+]store ok\n"
        "[-]watch-cache failed: reason withheld\n"
        "[+]poststarthook/skiff-bootstrap ok\n"
        "[+]shutdown ok\n"
        "readyz check failed\n"
    )
    assert "watch cache is not running" in caplog.text  # the reason is in the server log
    one = await anon.get("/readyz/watch-cache")
    assert (one.status_code, one.text) == (500, "internal server error: reason withheld\n")
    # excluding the failing check makes the rest pass; liveness does not depend on it
    assert (await anon.get("/readyz", params={"exclude": "watch-cache"})).status_code == 200
    assert (await anon.get("/livez")).status_code == 200


async def test_shutdown_and_bootstrap_checks() -> None:
    async def read() -> None:
        return None

    state = {"bootstrapped": False, "stopping": False}
    checks = server_checks(
        store_read=read,
        cache_read=read,
        bootstrapped=lambda: state["bootstrapped"],
        stopping=lambda: state["stopping"],
    )
    r = await checks.respond("/readyz", QueryParams(""))
    assert r.status_code == 500
    assert b"[-]poststarthook/skiff-bootstrap failed: reason withheld\n" in r.body
    state["bootstrapped"] = True
    assert (await checks.respond("/readyz", QueryParams(""))).status_code == 200
    state["stopping"] = True
    r = await checks.respond("/readyz", QueryParams(""))
    assert (r.status_code, r.body.splitlines()[-2:]) == (
        500,
        [b"[-]shutdown failed: reason withheld", b"readyz check failed"],
    )
    assert (await checks.respond("/livez", QueryParams(""))).status_code == 200


async def test_store_that_does_not_answer_fails_in_time() -> None:
    async def hang() -> None:
        await asyncio.Event().wait()

    async def read() -> None:
        return None

    checks = server_checks(
        store_read=hang,
        cache_read=read,
        bootstrapped=lambda: True,
        stopping=lambda: False,
        timeout=0.05,
    )
    r = await checks.respond("/livez/store", QueryParams(""))
    assert r.status_code == 500


async def test_bare_readiness_callable_still_works() -> None:
    ready = {"now": False}
    checks = HealthChecks.from_ready(lambda: ready["now"])
    r = await checks.respond("/readyz", QueryParams("verbose"))
    assert (r.status_code, r.body) == (
        500,
        b"[+]ping ok\n[-]ready failed: reason withheld\nreadyz check failed\n",
    )
    ready["now"] = True
    assert (await checks.respond("/readyz", QueryParams(""))).body == b"ok"
