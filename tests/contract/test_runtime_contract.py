"""The ContainerRuntime contract (kubelite.runtime.protocol), one set of cases run
against every implementation (see conftest.py for the harnesses)."""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path

import pytest

from kubelite.runtime.protocol import (
    ContainerNotFound,
    ContainerState,
    ContainerStatus,
    CreateContainerError,
    ExecError,
    ImageSpec,
    InvalidStateError,
    NotFoundError,
    PodSandboxConfig,
    SandboxNotFound,
    SandboxState,
)
from kubelite.testing.runtime_contract import Harness
from kubelite.testing.waiting import eventually


async def exited(h: Harness, cid: str) -> ContainerStatus:
    async def done() -> bool:
        return (await h.runtime.container_status(cid)).state == ContainerState.EXITED

    await eventually(done, timeout=10)
    return await h.runtime.container_status(cid)


RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)")


async def running_pod(h: Harness, name: str) -> tuple[PodSandboxConfig, str, str]:
    """A sandbox with one container that runs until stopped: (config, sandbox, container)."""
    sc = h.sandbox_config(name)
    sid = await h.runtime.run_pod_sandbox(sc)
    return sc, sid, await h.start(sid, sc, "long")


def log_lines(st: ContainerStatus) -> list[tuple[str, str, str]]:
    """(stream, tag, text) of each CRI log line; the timestamp must be RFC 3339."""
    out = []
    for line in Path(st.log_path).read_text().splitlines():
        stamp, stream, tag, text = line.split(" ", 3)
        assert RFC3339.fullmatch(stamp), line
        out.append((stream, tag, text))
    return out


async def test_sandbox_run_status_stop_remove(harness: Harness) -> None:
    rt = harness.runtime
    sc = harness.sandbox_config("web", attempt=2, labels={"app": "web"},
                                annotations={"note": "x"})
    sid = await rt.run_pod_sandbox(sc)
    st = await rt.pod_sandbox_status(sid)
    assert (st.id, st.name, st.namespace, st.uid, st.attempt) == (
        sid, "web", "contract", "uid-web", 2)
    assert (st.state, dict(st.labels), dict(st.annotations)) == (
        SandboxState.READY, {"app": "web"}, {"note": "x"})
    assert st.created_at.tzinfo is not None
    assert ipaddress.ip_address(st.ip) in ipaddress.ip_network(harness.subnet)
    assert st.netns_path and not st.host_network
    assert [s.id for s in await rt.list_pod_sandboxes()] == [sid]

    await rt.stop_pod_sandbox(sid)
    st = await rt.pod_sandbox_status(sid)
    assert st.state == SandboxState.NOTREADY
    assert st.netns_path == ""  # the namespace is gone with the network
    await rt.stop_pod_sandbox(sid)  # idempotent
    assert (await rt.pod_sandbox_status(sid)).state == SandboxState.NOTREADY

    await rt.remove_pod_sandbox(sid)
    with pytest.raises(SandboxNotFound):
        await rt.pod_sandbox_status(sid)
    assert await rt.list_pod_sandboxes() == []
    await rt.remove_pod_sandbox(sid)  # idempotent


async def test_host_network_sandbox_has_no_pod_ip(harness: Harness) -> None:
    sid = await harness.runtime.run_pod_sandbox(
        harness.sandbox_config("host", host_network=True))
    st = await harness.runtime.pod_sandbox_status(sid)
    assert (st.host_network, st.ip, st.netns_path) == (True, "", "")
    await harness.runtime.remove_pod_sandbox(sid)


async def test_list_sandboxes_by_state_and_labels(harness: Harness) -> None:
    rt = harness.runtime
    a = await rt.run_pod_sandbox(harness.sandbox_config("a", labels={"tier": "web"}))
    b = await rt.run_pod_sandbox(harness.sandbox_config("b", labels={"tier": "db"}))
    await rt.stop_pod_sandbox(b)
    assert {s.id for s in await rt.list_pod_sandboxes()} == {a, b}
    assert [s.id for s in await rt.list_pod_sandboxes(state=SandboxState.READY)] == [a]
    assert [s.id for s in await rt.list_pod_sandboxes(state=SandboxState.NOTREADY)] == [b]
    assert [s.id for s in await rt.list_pod_sandboxes(labels={"tier": "db"})] == [b]
    assert await rt.list_pod_sandboxes(labels={"tier": "none"}) == []
    for sid in (a, b):
        await rt.remove_pod_sandbox(sid)


async def test_container_create_start_stop_remove(harness: Harness) -> None:
    rt = harness.runtime
    sc = harness.sandbox_config("life")
    sid = await rt.run_pod_sandbox(sc)
    cfg = harness.container_config("app", "exec sleep 1000", labels={"k": "v"},
                                   annotations={"a": "b"})
    cid = await rt.create_container(sid, cfg, sc)
    st = await rt.container_status(cid)
    assert (st.id, st.sandbox_id, st.name, st.attempt, st.state) == (
        cid, sid, "app", 0, ContainerState.CREATED)
    assert (st.started_at, st.finished_at, st.exit_code) == (None, None, None)
    assert (st.image, st.image_id) == (harness.image.ref, harness.image.image_id)
    assert (dict(st.labels), dict(st.annotations)) == ({"k": "v"}, {"a": "b"})

    await rt.start_container(cid)
    st = await rt.container_status(cid)
    assert st.state == ContainerState.RUNNING and st.pid is not None
    assert st.started_at is not None and st.created_at <= st.started_at
    with pytest.raises(InvalidStateError):
        await rt.start_container(cid)

    await rt.stop_container(cid, 0)  # no grace: killed
    st = await rt.container_status(cid)
    assert (st.state, st.exit_code, st.reason, st.pid) == (
        ContainerState.EXITED, 137, "Error", None)
    assert st.finished_at is not None and st.started_at <= st.finished_at
    await rt.stop_container(cid, 0)  # idempotent
    with pytest.raises(InvalidStateError):
        await rt.start_container(cid)

    await rt.remove_container(cid)
    with pytest.raises(ContainerNotFound):
        await rt.container_status(cid)
    await rt.remove_container(cid)  # idempotent
    assert await rt.list_containers(sandbox_id=sid) == []
    await rt.remove_pod_sandbox(sid)


async def test_stopping_a_created_container_kills_it(harness: Harness) -> None:
    rt = harness.runtime
    sc = harness.sandbox_config("created")
    sid = await rt.run_pod_sandbox(sc)
    cid = await rt.create_container(sid, harness.container_config("c", "exit 0"), sc)
    await rt.stop_container(cid, 10)
    st = await rt.container_status(cid)
    assert (st.state, st.exit_code, st.reason) == (ContainerState.EXITED, 137, "Error")
    await rt.remove_pod_sandbox(sid)


@pytest.mark.parametrize(("code", "reason"), [(0, "Completed"), (1, "Error"), (3, "Error")])
async def test_exit_code_and_reason(harness: Harness, code: int, reason: str) -> None:
    sc = harness.sandbox_config(f"exit{code}")
    sid = await harness.runtime.run_pod_sandbox(sc)
    cid = await harness.start(sid, sc, "c", exit_code=code)
    st = await exited(harness, cid)
    assert (st.state, st.exit_code, st.reason, st.message) == (
        ContainerState.EXITED, code, reason, "")
    assert st.started_at is not None and st.finished_at is not None
    assert st.created_at <= st.started_at <= st.finished_at
    await harness.runtime.remove_pod_sandbox(sid)


async def test_logs_are_cri_lines_and_outlive_the_container(harness: Harness) -> None:
    rt = harness.runtime
    sc = harness.sandbox_config("logs")
    sid = await rt.run_pod_sandbox(sc)
    cid = await harness.start(sid, sc, "talker", out=["hello", "two words"], err=["oops"],
                              exit_code=0)
    st = await exited(harness, cid)
    assert st.log_path == os.path.join(sc.log_directory, "talker", "0.log")
    lines = log_lines(st)
    assert [t for s, _, t in lines if s == "stdout"] == ["hello", "two words"]
    assert [t for s, _, t in lines if s == "stderr"] == ["oops"]
    assert {tag for _, tag, _ in lines} == {"F"}
    await rt.remove_container(cid)
    assert Path(st.log_path).read_text()  # noqa: ASYNC240 (the log file is kept)
    await rt.remove_pod_sandbox(sid)


async def test_exec_sync_returns_code_and_streams(harness: Harness) -> None:
    rt = harness.runtime
    _, sid, cid = await running_pod(harness, "exec")
    argv = harness.exec_argv(b"hello\n", b"bad\n", 5)
    assert await rt.exec_sync(cid, argv, timeout=10) == (5, b"hello\n", b"bad\n")
    assert await rt.exec_sync(cid, harness.exec_argv(b"", b"", 0), timeout=10) == (
        0, b"", b"")
    with pytest.raises(ExecError):
        await rt.exec_sync(cid, [], timeout=10)
    await rt.stop_container(cid, 0)
    with pytest.raises(InvalidStateError):  # only a running container execs
        await rt.exec_sync(cid, argv, timeout=10)
    with pytest.raises(InvalidStateError):
        await rt.reopen_container_log(cid)
    await rt.remove_pod_sandbox(sid)


async def test_attempts_are_counted_per_container_name(harness: Harness) -> None:
    rt = harness.runtime
    sc = harness.sandbox_config("restarts", attempt=1)
    sid = await rt.run_pod_sandbox(sc)
    first = await harness.start(sid, sc, "app", exit_code=1, attempt=0)
    await exited(harness, first)
    second = await harness.start(sid, sc, "app", attempt=1)
    by_id = {c.id: c for c in await rt.list_containers(sandbox_id=sid)}
    assert {(c.name, c.attempt, c.state) for c in by_id.values()} == {
        ("app", 0, ContainerState.EXITED), ("app", 1, ContainerState.RUNNING)}
    assert by_id[first].log_path.endswith("app/0.log")
    assert by_id[second].log_path.endswith("app/1.log")
    assert (await rt.pod_sandbox_status(sid)).attempt == 1
    await rt.remove_pod_sandbox(sid)


async def test_list_containers_by_sandbox_state_and_labels(harness: Harness) -> None:
    rt = harness.runtime
    sa, sb = harness.sandbox_config("la"), harness.sandbox_config("lb")
    a, b = await rt.run_pod_sandbox(sa), await rt.run_pod_sandbox(sb)
    run = await harness.start(a, sa, "run", labels={"role": "server"})
    done = await harness.start(a, sa, "done", exit_code=0, labels={"role": "job"})
    other = await harness.start(b, sb, "other", labels={"role": "server"})
    await exited(harness, done)
    assert {c.id for c in await rt.list_containers()} == {run, done, other}
    assert {c.id for c in await rt.list_containers(sandbox_id=a)} == {run, done}
    assert {c.id for c in await rt.list_containers(state=ContainerState.RUNNING)} == {
        run, other}
    assert [c.id for c in await rt.list_containers(state=ContainerState.EXITED)] == [done]
    assert {c.id for c in await rt.list_containers(labels={"role": "server"})} == {
        run, other}
    assert [c.id for c in await rt.list_containers(sandbox_id=a,
                                                   labels={"role": "server"})] == [run]
    for sid in (a, b):
        await rt.remove_pod_sandbox(sid)


async def test_stopping_the_sandbox_kills_its_containers(harness: Harness) -> None:
    rt = harness.runtime
    sc, sid, cid = await running_pod(harness, "stopall")
    await rt.stop_pod_sandbox(sid)
    st = await rt.container_status(cid)
    assert (st.state, st.exit_code, st.reason) == (ContainerState.EXITED, 137, "Error")
    with pytest.raises(InvalidStateError):  # no new containers in a stopped sandbox
        await rt.create_container(sid, harness.container_config("late", "exit 0"), sc)
    await rt.remove_pod_sandbox(sid)
    with pytest.raises(ContainerNotFound):  # removing the sandbox removes its containers
        await rt.container_status(cid)


async def test_removing_a_running_container_kills_it(harness: Harness) -> None:
    rt = harness.runtime
    _, sid, cid = await running_pod(harness, "rmrun")
    await rt.remove_container(cid)
    with pytest.raises(ContainerNotFound):
        await rt.container_status(cid)
    assert await rt.list_containers(sandbox_id=sid) == []
    await rt.remove_pod_sandbox(sid)


async def test_unknown_ids_and_bad_configs(harness: Harness) -> None:
    rt = harness.runtime
    missing = "f" * 64
    for call in (rt.pod_sandbox_status(missing), rt.container_status(missing),
                 rt.start_container(missing), rt.stop_container(missing, 0)):
        with pytest.raises(NotFoundError):
            await call
    await rt.remove_container(missing)  # removing what is gone succeeds
    await rt.remove_pod_sandbox(missing)
    sc = harness.sandbox_config("bad")
    with pytest.raises(SandboxNotFound):
        await rt.create_container(missing, harness.container_config("c", "exit 0"), sc)
    sid = await rt.run_pod_sandbox(sc)
    no_command = ImageSpec(ref="example.com/empty:1", layers=harness.image.layers)
    cfg = harness.container_config("c", "exit 0")
    with pytest.raises(CreateContainerError):  # neither command nor Entrypoint/Cmd
        await rt.create_container(sid, type(cfg)(name="c", image=no_command), sc)
    assert await rt.list_containers(sandbox_id=sid) == []
    await rt.remove_pod_sandbox(sid)
