"""Probes through the whole kubelet on FakeRuntime: kills, restarts, readiness, events."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kubelite.client.resources import EVENTS, PODS
from kubelite.client.rest import ApiClient
from kubelite.kubelet.config import KubeletConfig, KubeletSettings
from kubelite.kubelet.kubelet import Kubelet
from kubelite.scheduler.scheduler import Scheduler
from kubelite.testing.fake_images import FakeImageService
from kubelite.testing.fake_runtime import FakeRuntime
from kubelite.testing.inprocess import InProcessAPI
from kubelite.testing.waiting import eventually

JSON = dict[str, Any]


class Env:
    def __init__(self, client: ApiClient, kubelet: Kubelet, files: set[str]) -> None:
        self.client = client
        self.kubelet = kubelet
        self.files = files  # "files" present in every container (exec `cat F` succeeds)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    files: set[str] = set()

    def exec_handler(cid: str, argv: list[str]) -> tuple[int, bytes, bytes]:
        if argv[:1] == ["cat"]:
            if argv[1] in files:
                return 0, b"", b""
            return 1, b"", f"cat: can't open '{argv[1]}': No such file or directory\n".encode()
        return 0, b"", b""

    runtime = FakeRuntime(exec_handler=exec_handler)
    async with InProcessAPI(tmp_path) as api:
        client = api.client()
        kubelet = Kubelet(client, runtime, FakeImageService(), KubeletConfig(),
                          KubeletSettings(node_name="node1", root_dir=tmp_path / "kubelet",
                                          node_ip="10.0.0.5", use_tmpfs=False,
                                          relist_period=0.1))
        scheduler = Scheduler(api.client())
        await kubelet.start()
        await scheduler.start()
        try:
            yield Env(client, kubelet, files)
        finally:
            await scheduler.stop()
            await kubelet.stop()


def pod(name: str, **container: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "busybox", **container}]}}



async def status(e: Env, name: str) -> JSON:
    return dict((await e.client.get(PODS, name, "default")).get("status") or {})


def cond(st: JSON, t: str) -> str:
    return next(c["status"] for c in st.get("conditions") or [] if c["type"] == t)


async def events(e: Env, name: str) -> list[tuple[str, str, int]]:
    await e.kubelet.recorder.flush()
    items = (await e.client.list(EVENTS, "default"))["items"]
    return [(i["reason"], i["message"], i.get("count", 1)) for i in items
            if i["involvedObject"]["name"] == name]


EXEC = {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 1}


async def test_liveness_failure_restarts_with_events(env: Env) -> None:
    env.files.add("/tmp/healthy")
    await env.client.create(PODS, pod("live", livenessProbe={**EXEC, "failureThreshold": 2}))

    async def running() -> bool:
        st = await status(env, "live")
        return bool(st["containerStatuses"][0]["ready"])

    await eventually(running)
    env.files.discard("/tmp/healthy")

    async def restarted() -> JSON | None:
        st = await status(env, "live")
        return st if st["containerStatuses"][0]["restartCount"] >= 1 else None

    st = await eventually(restarted)
    assert "terminated" in st["containerStatuses"][0]["lastState"]
    evs = await events(env, "live")
    assert ("Killing", "Container c failed liveness probe, will be restarted", 1) in evs
    unhealthy = [ev for ev in evs if ev[0] == "Unhealthy"]
    assert unhealthy[0][1] == ("Liveness probe failed: cat: can't open '/tmp/healthy': "
                               "No such file or directory\n")
    assert unhealthy[0][2] >= 2  # aggregated, as kubectl describe shows (x2 over ...)


async def test_readiness_follows_a_file(env: Env) -> None:
    await env.client.create(PODS, pod("ready", readinessProbe={**EXEC, "failureThreshold": 1}))

    async def ready_is(value: str) -> bool:
        st = await status(env, "ready")
        return (st.get("phase") == "Running" and cond(st, "Ready") == value
                and cond(st, "ContainersReady") == value
                and st["containerStatuses"][0]["ready"] is (value == "True"))

    await eventually(lambda: ready_is("False"))
    env.files.add("/tmp/healthy")
    await eventually(lambda: ready_is("True"), 3)
    env.files.discard("/tmp/healthy")
    await eventually(lambda: ready_is("False"), 3)
    st = await status(env, "ready")
    assert st["containerStatuses"][0]["restartCount"] == 0  # readiness never kills


async def test_startup_failure_gates_and_kills(env: Env) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    tcp = {"tcpSocket": {"host": "127.0.0.1", "port": port}, "periodSeconds": 1}
    await env.client.create(PODS, pod("start", startupProbe={**tcp, "failureThreshold": 1},
                                      livenessProbe=tcp, readinessProbe=tcp))

    async def restarted() -> JSON | None:
        st = await status(env, "start")
        return st if st["containerStatuses"][0]["restartCount"] >= 2 else None

    st = await eventually(restarted)
    cs = st["containerStatuses"][0]
    assert cs["started"] is False and cs["ready"] is False
    evs = await events(env, "start")
    assert ("Killing", "Container c failed startup probe, will be restarted") in [
        ev[:2] for ev in evs]
    msgs = {ev[1] for ev in evs if ev[0] == "Unhealthy"}
    assert msgs == {f"Startup probe failed: dial tcp 127.0.0.1:{port}: connect: "
                    "connection refused"}  # liveness and readiness never ran


async def test_a_container_that_keeps_failing_liveness_backs_off(env: Env) -> None:
    # the file never exists: every liveness check fails, each kill restarts the container;
    # from the second restart on, the kubelet backs off (CrashLoopBackOff), as upstream
    await env.client.create(PODS, pod("flappy", livenessProbe={**EXEC, "failureThreshold": 1}))

    async def backing_off() -> JSON | None:
        st = await status(env, "flappy")
        waiting = st["containerStatuses"][0]["state"].get("waiting") or {}
        return st if waiting.get("reason") == "CrashLoopBackOff" else None

    st = await eventually(backing_off, 15)
    assert st["containerStatuses"][0]["restartCount"] >= 1
    reasons = [ev[0] for ev in await events(env, "flappy")]
    assert "BackOff" in reasons and "Killing" in reasons
