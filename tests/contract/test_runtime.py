"""The Runtime Protocol's contract (skiff/runtime/base.py), run against every runtime:
sandboxes and containers are listed with their labels, exit codes and reasons are reported,
stop honours the grace period and is a no-op on an exited container, state survives a new
runtime instance over the same state directory (running stays running, exited keeps its code),
removing a sandbox removes its containers, unknown ids raise NotFound.

Runtimes: ``fake`` here; the runc and process runtimes add a `RuntimeCase` to ``CASES`` (each
case knows how to build its runtime over a state directory and a container config for a shell
command, e.g. with a busybox rootfs).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from skiff.runtime.base import Runtime
from skiff.runtime.fake import FakeRuntime
from skiff.runtime.types import (
    ContainerConfig,
    ContainerState,
    NotFound,
    SandboxConfig,
    SandboxState,
)
from skiff.testing.wait import eventually


@dataclass
class RuntimeCase:
    name: str
    make: Callable[[Path], Runtime]
    # a container running ``sh -c <script>``
    config: Callable[[str, str, Path], ContainerConfig]


def _fake_config(name: str, script: str, log_dir: Path) -> ContainerConfig:
    return ContainerConfig(
        name=name,
        image="registry.local/busybox:1.36",
        image_id="",
        argv=("sh", "-c", script),
        log_path=str(log_dir / f"{name}.log"),
        labels={"io.kubernetes.container.name": name},
    )


CASES = [RuntimeCase("fake", lambda d: FakeRuntime(d), _fake_config)]


@pytest.fixture(params=CASES, ids=lambda c: c.name)
def case(request: pytest.FixtureRequest) -> RuntimeCase:
    c: RuntimeCase = request.param
    return c


@pytest.fixture
async def runtime(case: RuntimeCase, tmp_path: Path) -> AsyncIterator[Runtime]:
    rt = case.make(tmp_path / "state")
    await rt.start()
    try:
        yield rt
    finally:
        for sb in await rt.list_sandboxes():
            await rt.stop_sandbox(sb.id)
            await rt.remove_sandbox(sb.id)
        await rt.close()


def _sandbox(uid: str = "uid-1") -> SandboxConfig:
    return SandboxConfig(
        pod_uid=uid,
        name="p",
        namespace="default",
        labels={"io.kubernetes.pod.uid": uid, "io.kubernetes.pod.name": "p"},
    )


async def _run(rt: Runtime, case: RuntimeCase, sid: str, name: str, script: str, d: Path) -> str:
    cid = await rt.create_container(sid, case.config(name, script, d))
    await rt.start_container(cid)
    return cid


async def _exited(rt: Runtime, cid: str) -> bool:
    return (await rt.container_status(cid)).state is ContainerState.EXITED


async def test_sandbox_listed_with_labels(runtime: Runtime) -> None:
    sid = await runtime.run_sandbox(_sandbox())
    [sb] = await runtime.list_sandboxes()
    assert sb.id == sid and sb.pod_uid == "uid-1"
    assert sb.labels["io.kubernetes.pod.uid"] == "uid-1"
    assert (await runtime.sandbox_status(sid)).state is SandboxState.READY
    await runtime.stop_sandbox(sid)
    assert (await runtime.sandbox_status(sid)).state is SandboxState.NOTREADY


async def test_exit_code_and_reason(runtime: Runtime, case: RuntimeCase, tmp_path: Path) -> None:
    sid = await runtime.run_sandbox(_sandbox())
    bad = await _run(runtime, case, sid, "bad", "exit 3", tmp_path)
    good = await _run(runtime, case, sid, "good", "exit 0", tmp_path)
    await eventually(lambda: _exited(runtime, bad), what="exit 3")
    await eventually(lambda: _exited(runtime, good), what="exit 0")
    st = await runtime.container_status(bad)
    assert (st.exit_code, st.reason) == (3, "Error")
    assert st.started_at and st.finished_at >= st.started_at
    assert st.labels["io.kubernetes.container.name"] == "bad"
    st = await runtime.container_status(good)
    assert (st.exit_code, st.reason) == (0, "Completed")
    names = {c.name for c in await runtime.list_containers(sid)}
    assert names == {"bad", "good"}


async def test_stop_running_then_noop(runtime: Runtime, case: RuntimeCase, tmp_path: Path) -> None:
    sid = await runtime.run_sandbox(_sandbox())
    cid = await _run(runtime, case, sid, "srv", "sleep 3600", tmp_path)
    assert (await runtime.container_status(cid)).state is ContainerState.RUNNING
    await runtime.stop_container(cid, 5)
    st = await runtime.container_status(cid)
    assert st.state is ContainerState.EXITED and st.exit_code != 0
    await runtime.stop_container(cid, 5)  # no-op
    assert (await runtime.container_status(cid)).finished_at == st.finished_at


async def test_stop_honours_grace_for_a_process_ignoring_sigterm(
    runtime: Runtime, case: RuntimeCase, tmp_path: Path
) -> None:
    sid = await runtime.run_sandbox(_sandbox())
    cid = await _run(runtime, case, sid, "stubborn", "trap '' TERM; sleep 3600", tmp_path)
    started = time.monotonic()
    await runtime.stop_container(cid, 0.5)
    took = time.monotonic() - started
    assert took >= 0.45
    st = await runtime.container_status(cid)
    assert st.state is ContainerState.EXITED and st.exit_code == 137


async def test_state_survives_a_new_instance(
    runtime: Runtime, case: RuntimeCase, tmp_path: Path
) -> None:
    sid = await runtime.run_sandbox(_sandbox())
    running = await _run(runtime, case, sid, "run", "sleep 3600", tmp_path)
    done = await _run(runtime, case, sid, "done", "exit 7", tmp_path)
    await eventually(lambda: _exited(runtime, done), what="exit 7")
    await runtime.close()
    again = case.make(tmp_path / "state")
    await again.start()
    try:
        assert [s.id for s in await again.list_sandboxes()] == [sid]
        by_id = {c.id: c for c in await again.list_containers()}
        assert by_id[running].state is ContainerState.RUNNING
        assert by_id[done].state is ContainerState.EXITED and by_id[done].exit_code == 7
        await again.stop_container(running, 1)
    finally:
        await again.close()
    await runtime.start()


async def test_remove_sandbox_removes_containers(
    runtime: Runtime, case: RuntimeCase, tmp_path: Path
) -> None:
    sid = await runtime.run_sandbox(_sandbox())
    cid = await _run(runtime, case, sid, "c", "sleep 3600", tmp_path)
    await runtime.stop_sandbox(sid)
    assert (await runtime.container_status(cid)).state is ContainerState.EXITED
    await runtime.remove_sandbox(sid)
    assert await runtime.list_sandboxes() == []
    assert await runtime.list_containers() == []
    with pytest.raises(NotFound):
        await runtime.container_status(cid)


async def test_unknown_ids_raise_not_found(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        await runtime.sandbox_status("nope")
    with pytest.raises(NotFound):
        await runtime.container_status("nope")
    with pytest.raises(NotFound):
        await runtime.start_container("nope")


async def test_exec_sync_reports_exit_code(
    runtime: Runtime, case: RuntimeCase, tmp_path: Path
) -> None:
    sid = await runtime.run_sandbox(_sandbox())
    cid = await _run(runtime, case, sid, "c", "sleep 3600", tmp_path)
    assert (await runtime.exec_sync(cid, ["sh", "-c", "exit 0"], 5)).exit_code == 0
    assert (await runtime.exec_sync(cid, ["sh", "-c", "exit 2"], 5)).exit_code == 2
