"""The in-memory runtime keeps the seam's contracts."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.network import FakeNetwork
from kubelite.runtime.fake import FakeRuntime
from kubelite.runtime.oci import OciRuntime
from kubelite.runtime.protocol import (
    ContainerConfig,
    ContainerNotFound,
    ContainerRuntime,
    ContainerState,
    CreateContainerError,
    ImageSpec,
    InvalidStateError,
    PodSandboxConfig,
    SandboxNotFound,
    SandboxState,
)

IMG = ImageSpec(ref="busybox", layers=("/l",), cmd=("sh",))
SC = PodSandboxConfig(name="p", namespace="ns", uid="u", labels={"app": "web"})


def cfg(name: str = "c", **kw: object) -> ContainerConfig:
    return ContainerConfig(name=name, image=IMG, **kw)  # type: ignore[arg-type]


def test_both_runtimes_satisfy_the_protocol(tmp_path: object) -> None:
    assert isinstance(FakeRuntime(), ContainerRuntime)
    assert issubclass(OciRuntime, ContainerRuntime)


async def test_lifecycle_and_filters() -> None:
    net = FakeNetwork("10.9.0.0/24")
    rt = FakeRuntime(network=net)
    sid = await rt.run_pod_sandbox(SC)
    assert (await rt.pod_sandbox_status(sid)).ip == "10.9.0.2"
    cid = await rt.create_container(sid, cfg(labels={"k": "v"}), SC)
    assert (await rt.container_status(cid)).state == ContainerState.CREATED
    await rt.start_container(cid)
    st = await rt.container_status(cid)
    assert st.state == ContainerState.RUNNING and st.pid is not None
    with pytest.raises(InvalidStateError):
        await rt.start_container(cid)
    assert await rt.exec_sync(cid, ["true"]) == (0, b"", b"")
    rt.exit_container(cid, 1)
    st = await rt.container_status(cid)
    assert (st.state, st.exit_code, st.reason) == (ContainerState.EXITED, 1, "Error")
    assert st.finished_at is not None
    assert [c.id for c in await rt.list_containers(labels={"k": "v"})] == [cid]
    assert await rt.list_containers(state=ContainerState.RUNNING) == []
    assert [s.id for s in await rt.list_pod_sandboxes(labels={"app": "web"})] == [sid]
    await rt.stop_pod_sandbox(sid)
    assert (await rt.pod_sandbox_status(sid)).state == SandboxState.NOTREADY
    assert net.attached == {}
    with pytest.raises(InvalidStateError):
        await rt.create_container(sid, cfg(), SC)
    await rt.remove_pod_sandbox(sid)
    await rt.remove_pod_sandbox(sid)  # idempotent
    with pytest.raises(ContainerNotFound):
        await rt.container_status(cid)
    with pytest.raises(SandboxNotFound):
        await rt.pod_sandbox_status(sid)


async def test_scripted_exits_stop_failures_and_oom() -> None:
    rt = FakeRuntime(on_start=lambda c: 0 if c.name == "init" else None, stop_exit_code=143)
    sid = await rt.run_pod_sandbox(SC)
    init = await rt.create_container(sid, cfg("init"), SC)
    await rt.start_container(init)
    st = await rt.container_status(init)
    assert (st.state, st.reason) == (ContainerState.EXITED, "Completed")
    app = await rt.create_container(sid, cfg("app"), SC)
    await rt.start_container(app)
    await rt.stop_container(app, 30)
    assert (await rt.container_status(app)).exit_code == 143
    hog = await rt.create_container(sid, cfg("hog"), SC)
    await rt.start_container(hog)
    rt.exit_container(hog, 137, reason="OOMKilled")
    assert (await rt.container_status(hog)).reason == "OOMKilled"
    rt.fail("create_container", CreateContainerError("no such image"))
    with pytest.raises(CreateContainerError):
        await rt.create_container(sid, cfg("x"), SC)
    assert ("create_container", "x") in rt.calls
    await rt.create_container(sid, cfg("x"), SC)  # only the next call fails


async def test_logs_exec_attach(tmp_path: object) -> None:
    sc = PodSandboxConfig(name="p", namespace="ns", uid="u", log_directory=f"{tmp_path}/logs")
    rt = FakeRuntime(exec_handler=lambda cid, cmd: (3, b"out", b"err"))
    sid = await rt.run_pod_sandbox(sc)
    cid = await rt.create_container(sid, cfg(log_path="c/0.log", stdin=True), sc)
    await rt.start_container(cid)
    rt.write_log(cid, "hello\nworld")
    st = await rt.container_status(cid)
    lines = Path(st.log_path).read_text().splitlines()  # noqa: ASYNC240
    assert [line.split(" ", 3)[1:] for line in lines] == [
        ["stdout", "F", "hello"], ["stdout", "F", "world"],
    ]
    assert await rt.exec_sync(cid, ["x"]) == (3, b"out", b"err")
    session = await rt.exec(cid, ["x"])
    assert session.stdout is not None and await session.stdout.read(-1) == b"out"
    assert await session.wait() == 3
    att = await rt.attach(cid, stdin=True)
    assert att.stdin is not None
    att.stdin.write(b"typed")
    rt.exit_container(cid, 0)
    assert await att.wait() == 0
    assert rt.containers[cid].stdin_data == b"typed"
