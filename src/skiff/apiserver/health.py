"""``/healthz``, ``/livez`` and ``/readyz``: named checks, answered as kube-apiserver answers them.

Each endpoint runs its list of checks (`HealthCheck`: a name and an async callable raising
`HealthCheckError`, or any exception, when the check fails):

- ``GET /readyz`` answers ``200 ok``; with ``?verbose`` (any value) one line per check,
  ``[+]<name> ok``, then ``readyz check passed``;
- any failing check makes it ``500`` and always verbose: ``[-]<name> failed: reason withheld``
  (the endpoint is public; the reason goes to the server log instead), ending
  ``readyz check failed``;
- ``?exclude=<name>`` (repeatable) skips a check (``[+]<name> excluded: ok``); a name matching no
  check adds ``warn: some health checks cannot be excluded: no matches for "<name>"``;
- ``GET /readyz/<name>`` runs that one check: ``200 ok``, or ``500 internal server error: reason
  withheld``; an unknown name is ``404``.

This mirrors ``k8s.io/apiserver/pkg/server/healthz/healthz.go`` (``handleRootHealth``,
``adaptCheckToHandler``; Kubernetes 1.32), which withholds reasons on the root path only because
its per-check paths need authorization; skiff serves all health paths unauthenticated, so it
withholds them everywhere.

The checks are skiff's own, named for what they test (`server_checks`): ``ping``, ``store`` (a read
reaches the store under the watch cache, kube-apiserver's ``etcd``), ``watch-cache`` (the cache
every read and write goes through is running: kube-apiserver's ``informer-sync``/``cacher``
readiness), ``poststarthook/skiff-bootstrap`` (the default namespaces, system PriorityClasses and
the ``kubernetes`` Service exist) and, for ``/readyz`` only, ``shutdown`` (fails once the server
is stopping, so load balancers drain it first).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from starlette.datastructures import QueryParams
from starlette.responses import Response

__all__ = [
    "HEALTH_PATHS",
    "HealthCheck",
    "HealthCheckError",
    "HealthChecks",
    "server_checks",
]

log = logging.getLogger("skiff.apiserver.health")

HEALTH_PATHS = ("/healthz", "/livez", "/readyz")

_HEADERS = {"X-Content-Type-Options": "nosniff"}
_MEDIA_TYPE = "text/plain; charset=utf-8"


class HealthCheckError(Exception):
    """A check failed; the message is logged, never sent."""


@dataclass(frozen=True, slots=True)
class HealthCheck:
    name: str
    check: Callable[[], Awaitable[None]]
    """Returns when healthy; raises (the reason in the message) when not."""


@dataclass(frozen=True, slots=True)
class HealthChecks:
    """The checks of each endpoint (``healthz``, ``livez``, ``readyz``)."""

    healthz: Sequence[HealthCheck]
    livez: Sequence[HealthCheck]
    readyz: Sequence[HealthCheck]

    def endpoint(self, name: str) -> Sequence[HealthCheck]:
        return {"healthz": self.healthz, "livez": self.livez, "readyz": self.readyz}[name]

    @classmethod
    def from_ready(cls, ready: Callable[[], bool] | None) -> HealthChecks:
        """``ping`` everywhere plus, when given, ``ready`` as the ``/readyz`` check ``ready``."""
        checks = [_ping]
        if ready is None:
            return cls(checks, checks, checks)

        async def is_ready() -> None:
            if not ready():
                raise HealthCheckError("the server is not ready")

        return cls(checks, checks, [*checks, HealthCheck("ready", is_ready)])

    async def respond(self, path: str, query: QueryParams) -> Response:
        """The answer to a GET of ``path`` (one of `HEALTH_PATHS`, or one of them plus
        ``/<check name>``)."""
        endpoint, _, check_name = path.lstrip("/").partition("/")
        checks = self.endpoint(endpoint)
        if check_name or path.endswith("/"):
            return await _one(endpoint, checks, check_name)
        return await _root(endpoint, checks, query)


async def _run(endpoint: str, check: HealthCheck) -> bool:
    try:
        await check.check()
    except Exception as e:  # any failure is "unhealthy"; the reason goes to the log only
        log.warning("%s check %s failed: %s", endpoint, check.name, str(e) or type(e).__name__)
        return False
    return True


async def _one(endpoint: str, checks: Sequence[HealthCheck], name: str) -> Response:
    for check in checks:
        if check.name == name:
            if await _run(endpoint, check):
                return Response(b"ok", 200, media_type=_MEDIA_TYPE, headers=_HEADERS)
            return Response(
                b"internal server error: reason withheld\n",
                500,
                media_type=_MEDIA_TYPE,
                headers=_HEADERS,
            )
    # Go's ServeMux answer for a path nothing is registered at
    return Response(b"404 page not found\n", 404, media_type=_MEDIA_TYPE, headers=_HEADERS)


async def _root(endpoint: str, checks: Sequence[HealthCheck], query: QueryParams) -> Response:
    excluded = set(query.getlist("exclude"))
    lines: list[str] = []
    failed = False
    results = await asyncio.gather(*(_run(endpoint, c) for c in checks if c.name not in excluded))
    outcome = iter(results)
    for check in checks:
        if check.name in excluded:
            excluded.discard(check.name)
            lines.append(f"[+]{check.name} excluded: ok")
        elif next(outcome):
            lines.append(f"[+]{check.name} ok")
        else:
            failed = True
            lines.append(f"[-]{check.name} failed: reason withheld")
    if excluded:
        names = ",".join(f'"{n}"' for n in sorted(excluded))
        lines.append(f"warn: some health checks cannot be excluded: no matches for {names}")
    if failed:
        # always verbose on failure, as http.Error writes it (with a trailing newline)
        body = "\n".join([*lines, f"{endpoint} check failed"]) + "\n"
        return Response(body.encode(), 500, media_type=_MEDIA_TYPE, headers=_HEADERS)
    if "verbose" not in query:
        return Response(b"ok", 200, media_type=_MEDIA_TYPE, headers=_HEADERS)
    body = "\n".join([*lines, f"{endpoint} check passed"]) + "\n"
    return Response(body.encode(), 200, media_type=_MEDIA_TYPE, headers=_HEADERS)


async def _pong() -> None:
    return None


_ping = HealthCheck("ping", _pong)


def server_checks(
    *,
    store_read: Callable[[], Awaitable[object]],
    cache_read: Callable[[], Awaitable[object]],
    bootstrapped: Callable[[], bool],
    stopping: Callable[[], bool],
    timeout: float = 5.0,
) -> HealthChecks:
    """The API server's checks (see the module docstring).

    ``store_read`` reads one key from the store itself, ``cache_read`` one from the watch cache
    (which raises once the cache stopped); each must answer within ``timeout`` seconds.
    ``bootstrapped`` says the start-up objects exist; ``stopping`` that shutdown has begun.
    """

    async def store() -> None:
        try:
            await asyncio.wait_for(store_read(), timeout)
        except TimeoutError:
            raise HealthCheckError(f"the store did not answer within {timeout:g} s") from None

    async def watch_cache() -> None:
        try:
            await asyncio.wait_for(cache_read(), timeout)
        except TimeoutError:
            raise HealthCheckError(f"the watch cache did not answer within {timeout:g} s") from None

    async def bootstrap() -> None:
        if not bootstrapped():
            raise HealthCheckError("the start-up objects are not written yet")

    async def shutdown() -> None:
        if stopping():
            raise HealthCheckError("the server is shutting down")

    live = [
        _ping,
        HealthCheck("store", store),
        HealthCheck("poststarthook/skiff-bootstrap", bootstrap),
    ]
    ready = [
        _ping,
        HealthCheck("store", store),
        HealthCheck("watch-cache", watch_cache),
        HealthCheck("poststarthook/skiff-bootstrap", bootstrap),
        HealthCheck("shutdown", shutdown),
    ]
    return HealthChecks(healthz=live, livez=live, readyz=ready)
