"""The Runtime contract (skiff/runtime/base.py) for the runc and process runtimes side by side:
unknown ids raise NotFound, a sandbox's containers go with it, stop is a no-op on an exited
container, an exited container keeps its log and exit code until removed, and a fresh instance
over the same state dir sees the same sandboxes and containers. (The runc case needs root.)

Excludes: behaviour specific to one runtime (tests/runtime/test_runc.py, test_process.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from skiff.runtime.process import ProcessRuntime
from skiff.runtime.runc.common import ShimRuntimeBase
from skiff.runtime.runc.runtime import ROOTFS_ANNOTATION, RuncRuntime
from skiff.runtime.types import (
    ContainerConfig,
    ContainerState,
    NotFound,
    SandboxConfig,
    SandboxState,
)
from skiff.testing.wait import eventually

Factory = Callable[[Path], ShimRuntimeBase]


def busybox_rootfs(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    shutil.copy2("/bin/busybox", root / "bin" / "busybox")
    for name in subprocess.run(
        ["/bin/busybox", "--list"], capture_output=True, text=True, check=True
    ).stdout.split():
        if name != "busybox":
            os.symlink("busybox", root / "bin" / name)
    for sub in ("proc", "dev", "sys", "tmp"):
        (root / sub).mkdir()
    return root


def read(path: str) -> str:
    return Path(path).read_text()


def _runc_available() -> bool:
    return os.geteuid() == 0 and shutil.which("runc") is not None and os.path.exists("/bin/busybox")


@pytest.fixture(
    params=[
        pytest.param("process"),
        pytest.param(
            "runc",
            marks=[
                pytest.mark.e2e,
                pytest.mark.skipif(not _runc_available(), reason="needs root, runc and busybox"),
            ],
        ),
    ]
)
async def env(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Factory, Callable[..., ContainerConfig]]]:
    kind = request.param
    annotations: dict[str, str] = {}
    if kind == "runc":
        parent = f"skiff-test-{uuid.uuid4().hex[:8]}"
        annotations[ROOTFS_ANNOTATION] = str(busybox_rootfs(tmp_path / "rootfs"))

        def factory(state: Path) -> ShimRuntimeBase:
            return RuncRuntime(state, images=None, cgroup_parent=parent)
    else:

        def factory(state: Path) -> ShimRuntimeBase:
            return ProcessRuntime(state)

    def config(*argv: str, name: str = "c") -> ContainerConfig:
        return ContainerConfig(
            name=name,
            image="busybox",
            image_id="",
            argv=argv,
            log_path=str(tmp_path / "logs" / f"{name}.log"),
            annotations=dict(annotations),
        )

    try:
        yield factory, config
    finally:
        rt = factory(tmp_path / "state")
        await rt.start()
        await rt.cleanup()


async def test_contract(
    env: tuple[Factory, Callable[..., ContainerConfig]], tmp_path: Path
) -> None:
    factory, config = env
    rt = factory(tmp_path / "state")
    await rt.start()
    with pytest.raises(NotFound):
        await rt.container_status("nope")
    with pytest.raises(NotFound):
        await rt.sandbox_status("nope")
    with pytest.raises(NotFound):
        await rt.start_container("nope")
    sid = await rt.run_sandbox(SandboxConfig(pod_uid="u1", name="p", namespace="ns"))
    done = await rt.create_container(sid, config("sh", "-c", "echo done; exit 2", name="done"))
    await rt.start_container(done)
    sleeper = await rt.create_container(sid, config("sleep", "60", name="sleeper"))
    await rt.start_container(sleeper)
    assert done != sleeper

    async def finished() -> bool:
        return (await rt.container_status(done)).state == ContainerState.EXITED

    await eventually(finished, what="the short container exited")
    await rt.stop_container(done, 5)  # a no-op on an exited container
    # a fresh instance over the same state dir sees the same things
    again = factory(tmp_path / "state")
    await again.start()
    assert [s.id for s in await again.list_sandboxes()] == [sid]
    states = {c.id: c for c in await again.list_containers(sid)}
    assert states[done].state == ContainerState.EXITED and states[done].exit_code == 2
    assert states[sleeper].state == ContainerState.RUNNING
    assert read(states[done].log_path).endswith(" stdout F done\n")
    await again.stop_sandbox(sid)
    assert (await again.sandbox_status(sid)).state == SandboxState.NOTREADY
    assert (await again.container_status(sleeper)).state == ContainerState.EXITED
    await again.remove_sandbox(sid)
    assert await again.list_containers() == []
    assert await again.list_sandboxes() == []
    with pytest.raises(NotFound):
        await again.container_status(done)
