"""skiff.client against a real skiff API server process over HTTPS.

Covers: typed CRUD and errors through the client, informer convergence under create/update/delete
churn, across an API server restart, and across a forced 410 (a selector watch falling behind a
small watch-cache window), leader election between two candidates on the real Lease API.
Excludes the fake-server unit tests of the same machinery (tests/client).
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from skiff.api.duration import parse_time
from skiff.client import Client, Informer, LeaderElector, NotFound, load_kubeconfig, object_key
from skiff.testing import wait
from skiff.testing.cluster import ServerProcess
from skiff.util.backoff import Backoff

NS = "default"


@pytest.fixture(scope="module")
def small_window_server() -> Iterator[ServerProcess]:
    data = Path(tempfile.mkdtemp(prefix="skiff-it-client-"))
    proc = ServerProcess(
        data_dir=data,
        extra_args=["--watch-cache-window", "50", "--watch-bookmark-interval", "600"],
    )
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
async def client(small_window_server: ServerProcess) -> AsyncIterator[Client]:
    async with Client(load_kubeconfig(small_window_server.kubeconfig)) as c:
        yield c


async def eventually(check: Callable[[], object], *, within: float = 20.0) -> None:
    """skiff.testing.wait.eventually with this module's patience (real processes over TLS)."""
    await wait.eventually(check, within=within, interval=0.05)


async def server_state(client: Client, label_selector: str | None = None) -> dict[str, str]:
    listing = await client.list("configmaps", namespace=NS, label_selector=label_selector)
    return {object_key(o): o["metadata"]["resourceVersion"] for o in listing["items"]}


def cache_state(informer: Informer) -> dict[str, str]:
    return {object_key(o): o["metadata"]["resourceVersion"] for o in informer.indexer.list()}


def fast_backoff() -> Backoff:
    return Backoff(initial=0.05, cap=0.5, jitter=0.1)


async def churn(client: Client, prefix: str, rounds: int, labels: dict[str, str]) -> None:
    rng = random.Random(7)
    names = [f"{prefix}-{i}" for i in range(12)]
    for _ in range(rounds):
        name = rng.choice(names)
        op = rng.random()
        try:
            if op < 0.45:
                await client.create(
                    "configmaps",
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {"name": name, "labels": labels},
                        "data": {"v": "0"},
                    },
                    namespace=NS,
                )
            elif op < 0.8:
                await client.patch(
                    "configmaps", name, {"data": {"v": str(rng.random())}}, namespace=NS
                )
            else:
                await client.delete("configmaps", name, namespace=NS)
        except NotFound:
            pass
        except Exception as e:  # AlreadyExists
            if type(e).__name__ != "AlreadyExists":
                raise


async def test_informer_converges_under_churn(client: Client) -> None:
    informer = Informer(
        client, "configmaps", namespace=NS, label_selector="churn=yes", backoff=fast_backoff()
    )
    task = asyncio.create_task(informer.run())
    try:
        assert await informer.wait_for_sync(timeout=20)
        await churn(client, "churn", 300, {"churn": "yes"})
        want = await server_state(client, "churn=yes")
        await eventually(lambda: cache_state(informer) == want)
        assert want  # the churn left objects behind, so the comparison is not vacuous
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_informer_converges_across_server_restart(
    client: Client, small_window_server: ServerProcess
) -> None:
    informer = Informer(
        client, "configmaps", namespace=NS, label_selector="restart=yes", backoff=fast_backoff()
    )
    task = asyncio.create_task(informer.run())
    try:
        assert await informer.wait_for_sync(timeout=20)
        await churn(client, "rs", 60, {"restart": "yes"})
        await asyncio.to_thread(small_window_server.restart)
        await churn(client, "rs", 60, {"restart": "yes"})
        want = await server_state(client, "restart=yes")
        await eventually(lambda: cache_state(informer) == want, within=30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_informer_recovers_from_forced_410(client: Client) -> None:
    # The informer watches a selector nothing else matches and gets no bookmarks (the server
    # sends them every 600 s here), so its resourceVersion stays behind while 120 other writes
    # push its position out of the 50-event watch-cache window. When its watch times out and
    # resumes from that position, the server answers 410 Expired and the reflector relists.
    informer = Informer(
        client,
        "configmaps",
        namespace=NS,
        label_selector="expire=yes",
        backoff=fast_backoff(),
        min_watch_timeout=1,
    )
    task = asyncio.create_task(informer.run())
    try:
        assert await informer.wait_for_sync(timeout=20)
        await client.create(
            "configmaps",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "exp-0", "labels": {"expire": "yes"}},
            },
            namespace=NS,
        )
        await eventually(lambda: "default/exp-0" in cache_state(informer))
        relists = informer.reflector.relists
        for i in range(120):
            await client.create(
                "configmaps",
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"noise-{i}"},
                },
                namespace=NS,
            )
        await eventually(lambda: informer.reflector.relists > relists, within=15)
        await client.patch("configmaps", "exp-0", {"data": {"after": "410"}}, namespace=NS)
        want = await server_state(client, "expire=yes")
        await eventually(lambda: cache_state(informer) == want)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_two_candidates_never_both_lead(client: Client) -> None:
    leading: list[str] = []
    overlaps: list[tuple[str, ...]] = []

    def make(identity: str) -> LeaderElector:
        return LeaderElector(
            client,
            name="skiff-it-lock",
            namespace=NS,
            identity=identity,
            lease_duration=2,
            renew_deadline=1.5,
            retry_period=0.3,
        )

    async def work(identity: str) -> None:
        leading.append(identity)
        if len(leading) > 1:
            overlaps.append(tuple(leading))
        try:
            await asyncio.sleep(3600)
        finally:
            leading.remove(identity)

    a, b = make("a"), make("b")
    ta = asyncio.create_task(a.run(lambda: work("a")))
    await eventually(lambda: a.is_leader)
    tb = asyncio.create_task(b.run(lambda: work("b")))
    await eventually(lambda: b.leader == "a")  # b has read the lease and is trying
    lease = await client.get("leases", "skiff-it-lock", namespace=NS)
    first = parse_time(lease["spec"]["renewTime"])

    async def a_renewed_past_a_lease_duration() -> bool:
        current = await client.get("leases", "skiff-it-lock", namespace=NS)
        renewed = parse_time(current["spec"]["renewTime"])
        # more than one lease duration of renewals while b was trying: had a stopped renewing,
        # b would have taken the lease in that time
        return (renewed - first).total_seconds() > 2.5

    await eventually(a_renewed_past_a_lease_duration, within=20)
    assert a.is_leader and not b.is_leader
    ta.cancel()  # a releases the lease on the way out; b takes over
    await asyncio.gather(ta, return_exceptions=True)
    await eventually(lambda: b.is_leader, within=10)
    tb.cancel()
    await asyncio.gather(tb, return_exceptions=True)
    assert overlaps == []


async def test_typed_client_round_trips_models(client: Client) -> None:
    from skiff.api.types.apps_v1 import Deployment
    from skiff.api.types.core_v1 import ConfigMap
    from skiff.client import Conflict, TypedClient

    typed = TypedClient(client)
    deploy = Deployment.model_validate(
        {
            "metadata": {"name": "typed", "namespace": NS},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "typed"}},
                "template": {
                    "metadata": {"labels": {"app": "typed"}},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                },
            },
        }
    )
    created = await typed.create(deploy)
    assert isinstance(created, Deployment)
    assert created.spec is not None and created.spec.strategy is not None
    assert created.spec.strategy.type == "RollingUpdate"  # defaulted by the server
    created.spec.replicas = 3
    updated = await typed.update(created)
    assert updated.spec is not None and updated.spec.replicas == 3
    assert updated.metadata is not None and updated.metadata.generation == 2
    with pytest.raises(Conflict):
        await typed.update(created)  # created carries the old resourceVersion
    got = await typed.get(Deployment, "typed", namespace=NS)
    assert got.metadata is not None and got.metadata.uid == created.metadata.uid  # type: ignore[union-attr]
    listed = await typed.list(Deployment, namespace=NS, label_selector=None)
    assert "typed" in [d.metadata.name for d in listed if d.metadata is not None]
    applied = await typed.apply(
        ConfigMap.model_validate(
            {"metadata": {"name": "typed-cm", "namespace": NS}, "data": {"k": "v"}}
        ),
        field_manager="typed-test",
    )
    assert applied.data == {"k": "v"}
    patched = await typed.patch(ConfigMap, "typed-cm", {"data": {"k": "w"}}, namespace=NS)
    assert patched.data == {"k": "w"}
    await typed.delete(ConfigMap, "typed-cm", namespace=NS)
    await typed.delete(Deployment, "typed", namespace=NS)
    with pytest.raises(NotFound):
        await typed.get(Deployment, "typed", namespace=NS)
