"""compute_pod_actions, table-driven: runtime state x restart policy -> actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubelite.kubelet import labels as L
from kubelite.kubelet.kuberuntime.actions import PodActions, PodRuntimeState, compute_pod_actions
from kubelite.kubelet.podspec import container_hash
from kubelite.runtime.protocol import (
    ContainerState,
    ContainerStatus,
    PodSandboxStatus,
    SandboxState,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
APP = {"name": "app", "image": "busybox"}
SIDE = {"name": "side", "image": "busybox"}
INIT1 = {"name": "i1", "image": "busybox"}
INIT2 = {"name": "i2", "image": "busybox"}


def pod(policy: str = "Always", containers: tuple[dict[str, Any], ...] = (APP,),
        inits: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": list(containers), "restartPolicy": policy}
    if inits:
        spec["initContainers"] = list(inits)
    return {"metadata": {"name": "p", "namespace": "default", "uid": "u1"}, "spec": spec}


def sb(state: SandboxState = SandboxState.READY, attempt: int = 0) -> PodSandboxStatus:
    return PodSandboxStatus(id=f"sb{attempt}", name="p", namespace="default", uid="u1",
                            attempt=attempt, state=state, created_at=T0 + timedelta(attempt),
                            ip="10.0.0.2", labels={}, annotations={})


def ctr(name: str, state: str, code: int | None = None, attempt: int = 0, kind: str = "app",
        spec: dict[str, Any] | None = None) -> ContainerStatus:
    st = {"run": ContainerState.RUNNING, "exit": ContainerState.EXITED,
          "created": ContainerState.CREATED}[state]
    ann = {L.CONTAINER_HASH: container_hash(spec)} if spec else {}
    return ContainerStatus(
        id=f"{kind}-{name}-{attempt}", sandbox_id="sb0", name=name, attempt=attempt, state=st,
        created_at=T0 + timedelta(seconds=attempt), started_at=T0, finished_at=T0,
        exit_code=code, reason="", message="", image="busybox", image_id="", pid=None,
        log_path="", labels={L.CONTAINER_TYPE: kind}, annotations=ann)


def live(**actions: Any) -> PodActions:
    """The actions for a pod whose ready sandbox ``sb0`` is kept."""
    return PodActions(sandbox_id="sb0", **actions)


CASES: list[tuple[str, dict[str, Any], PodRuntimeState, PodActions]] = [
    ("new pod: sandbox then all containers", pod(containers=(APP, SIDE)), PodRuntimeState(),
     PodActions(create_sandbox=True, containers_to_start=["app", "side"])),
    ("new pod with inits: first init only", pod(inits=(INIT1, INIT2)), PodRuntimeState(),
     PodActions(create_sandbox=True, init_containers_to_start=["i1"])),
    ("running: nothing to do", pod(), PodRuntimeState([sb()], [ctr("app", "run")]), live()),
    ("Always: exited 0 restarts", pod("Always"), PodRuntimeState([sb()], [ctr("app", "exit", 0)]),
     live(containers_to_start=["app"])),
    ("Always: exited 1 restarts", pod("Always"), PodRuntimeState([sb()], [ctr("app", "exit", 1)]),
     live(containers_to_start=["app"])),
    ("OnFailure: exited 0 stays, pod killed", pod("OnFailure"),
     PodRuntimeState([sb()], [ctr("app", "exit", 0)]), live(kill_pod=True)),
    ("OnFailure: exited 1 restarts", pod("OnFailure"),
     PodRuntimeState([sb()], [ctr("app", "exit", 1)]), live(containers_to_start=["app"])),
    ("Never: exited 1 stays, pod killed", pod("Never"),
     PodRuntimeState([sb()], [ctr("app", "exit", 1)]), live(kill_pod=True)),
    ("Never: one of two still running keeps pod", pod("Never", (APP, SIDE)),
     PodRuntimeState([sb()], [ctr("app", "exit", 1), ctr("side", "run")]), live()),
    ("missing container in live sandbox starts", pod(containers=(APP, SIDE)),
     PodRuntimeState([sb()], [ctr("app", "run")]), live(containers_to_start=["side"])),
    ("init running: wait", pod(inits=(INIT1, INIT2)),
     PodRuntimeState([sb()], [ctr("i1", "run", kind="init")]), live()),
    ("init 1 done: start init 2", pod(inits=(INIT1, INIT2)),
     PodRuntimeState([sb()], [ctr("i1", "exit", 0, kind="init")]),
     live(init_containers_to_start=["i2"])),
    ("inits done: start apps", pod(inits=(INIT1, INIT2)),
     PodRuntimeState([sb()], [ctr("i1", "exit", 0, kind="init"),
                              ctr("i2", "exit", 0, kind="init")]),
     live(containers_to_start=["app"])),
    ("init failed, Always: restart it", pod("Always", inits=(INIT1,)),
     PodRuntimeState([sb()], [ctr("i1", "exit", 1, kind="init")]),
     live(init_containers_to_start=["i1"])),
    ("init failed, Never: pod fails", pod("Never", inits=(INIT1,)),
     PodRuntimeState([sb()], [ctr("i1", "exit", 1, kind="init")]),
     live(init_failed=True, kill_pod=True)),
    ("newest attempt decides", pod("Always"),
     PodRuntimeState([sb()], [ctr("app", "exit", 1, attempt=0), ctr("app", "run", attempt=1)]),
     live()),
    ("sandbox died, Always: recreate with next attempt", pod("Always"),
     PodRuntimeState([sb(SandboxState.NOTREADY)], [ctr("app", "exit", 137)]),
     PodActions(create_sandbox=True, kill_pod=True, sandbox_attempt=1,
                containers_to_start=["app"])),
    ("sandbox gone after Never pod ran: stay down", pod("Never"),
     PodRuntimeState([sb(SandboxState.NOTREADY)], [ctr("app", "exit", 0)]),
     PodActions(kill_pod=True)),
    ("sandbox gone after OnFailure all succeeded: stay down", pod("OnFailure"),
     PodRuntimeState([sb(SandboxState.NOTREADY)], [ctr("app", "exit", 0)]),
     PodActions(kill_pod=True)),
    ("sandbox gone, OnFailure with a failure: recreate", pod("OnFailure"),
     PodRuntimeState([sb(SandboxState.NOTREADY)], [ctr("app", "exit", 2)]),
     PodActions(create_sandbox=True, kill_pod=True, sandbox_attempt=1,
                containers_to_start=["app"])),
    ("created but never started: replace", pod(),
     PodRuntimeState([sb()], [ctr("app", "created")]),
     live(containers_to_kill={"app-app-0": "Container app is in an unknown state"},
          containers_to_start=["app"])),
]


@pytest.mark.parametrize(("name", "spec", "state", "want"), CASES, ids=[c[0] for c in CASES])
def test_compute_pod_actions(name: str, spec: dict[str, Any], state: PodRuntimeState,
                             want: PodActions) -> None:
    assert compute_pod_actions(spec, state) == want


def test_changed_spec_restarts_running_container() -> None:
    old = {"name": "app", "image": "busybox:1"}
    new = {"name": "app", "image": "busybox:2"}
    state = PodRuntimeState([sb()], [ctr("app", "run", spec=old)])
    assert compute_pod_actions(pod(containers=(new,)), state) == live(
        containers_to_kill={"app-app-0": "Container app definition changed, will be restarted"},
        containers_to_start=["app"])
    assert compute_pod_actions(pod(containers=(old,)), state) == live()


# -- native sidecars (init containers with restartPolicy Always) --------------------------

SC = {"name": "sc", "image": "busybox", "restartPolicy": "Always"}
SC2 = {"name": "sc2", "image": "busybox", "restartPolicy": "Always"}


def sc(state: str, code: int | None = None, attempt: int = 0, name: str = "sc") -> ContainerStatus:
    return ctr(name, state, code, attempt, kind="init")


SIDECAR_CASES: list[tuple[str, dict[str, Any], PodRuntimeState, dict[str, bool], PodActions]] = [
    ("new pod: the sidecar first", pod(inits=(SC,)), PodRuntimeState(), {},
     PodActions(create_sandbox=True, init_containers_to_start=["sc"])),
    ("sidecar running: apps start", pod(inits=(SC,)),
     PodRuntimeState([sb()], [sc("run")]), {}, live(containers_to_start=["app"])),
    ("sidecar running, startup probe pending: wait", pod(inits=(SC,)),
     PodRuntimeState([sb()], [sc("run")]), {"init-sc-0": False}, live()),
    ("sidecar started: the next init container starts", pod(inits=(SC, INIT1)),
     PodRuntimeState([sb()], [sc("run")]), {}, live(init_containers_to_start=["i1"])),
    ("sidecar then init done: apps start, sidecar kept", pod(inits=(SC, INIT1)),
     PodRuntimeState([sb()], [sc("run"), ctr("i1", "exit", 0, kind="init")]), {},
     live(containers_to_start=["app"])),
    ("two sidecars in order", pod(inits=(SC, SC2)),
     PodRuntimeState([sb()], [sc("run")]), {}, live(init_containers_to_start=["sc2"])),
    ("sidecar exited during init: restarted, init waits", pod(inits=(SC, INIT1)),
     PodRuntimeState([sb()], [sc("exit", 1), ctr("i1", "run", kind="init")]), {},
     live(init_containers_to_start=["sc"])),
    ("sidecar exited while app runs: restarted", pod(inits=(SC,)),
     PodRuntimeState([sb()], [sc("exit", 137), ctr("app", "run")]), {},
     live(init_containers_to_start=["sc"])),
    ("sidecar exited 0 under Never: still restarted", pod("Never", inits=(SC,)),
     PodRuntimeState([sb()], [sc("exit", 0), ctr("app", "run")]), {},
     live(init_containers_to_start=["sc"])),
    ("init containers removed after init: only the sidecar restarts",
     pod(inits=(INIT1, SC)), PodRuntimeState([sb()], [ctr("app", "run")]), {},
     live(init_containers_to_start=["sc"])),
    ("Never: app exited 0, sidecar running: pod killed", pod("Never", inits=(SC,)),
     PodRuntimeState([sb()], [sc("run"), ctr("app", "exit", 0)]), {}, live(kill_pod=True)),
    ("OnFailure: app succeeded, sandbox stopped: stay down", pod("OnFailure", inits=(SC,)),
     PodRuntimeState([sb(SandboxState.NOTREADY)], [sc("exit", 143), ctr("app", "exit", 0)]),
     {}, PodActions(kill_pod=True)),
    ("sandbox gone after the Never pod ran: stay down", pod("Never", inits=(SC,)),
     PodRuntimeState([sb(SandboxState.NOTREADY)], [sc("exit", 143), ctr("app", "exit", 0)]),
     {}, PodActions(kill_pod=True)),
]


@pytest.mark.parametrize(("name", "spec", "state", "started", "want"), SIDECAR_CASES,
                         ids=[c[0] for c in SIDECAR_CASES])
def test_sidecar_actions(name: str, spec: dict[str, Any], state: PodRuntimeState,
                         started: dict[str, bool], want: PodActions) -> None:
    assert compute_pod_actions(spec, state, None, started) == want


def test_sidecar_probe_failures_restart_it() -> None:
    state = PodRuntimeState([sb()], [sc("run"), ctr("app", "run")])
    p = pod(inits=(SC,))
    assert compute_pod_actions(p, state, {"init-sc-0": ("liveness", 5)}) == live(
        containers_to_kill={"init-sc-0": "Init container sc failed liveness probe"},
        kill_grace={"init-sc-0": 5}, init_containers_to_start=["sc"])
    starting = PodRuntimeState([sb()], [sc("run")])
    assert compute_pod_actions(p, starting, {"init-sc-0": ("startup", None)},
                               {"init-sc-0": False}) == live(
        containers_to_kill={"init-sc-0": "Init container sc failed startup probe"},
        init_containers_to_start=["sc"])


def test_sidecar_spec_change_restarts_it() -> None:
    old = dict(SC, image="busybox:1")
    state = PodRuntimeState([sb()], [ctr("sc", "run", kind="init", spec=old), ctr("app", "run")])
    assert compute_pod_actions(pod(inits=(dict(SC, image="busybox:2"),)), state) == live(
        containers_to_kill={"init-sc-0": "Init container sc definition changed"},
        init_containers_to_start=["sc"])


# -- ephemeral containers ----------------------------------------------------------------

DBG = {"name": "dbg", "image": "busybox", "targetContainerName": "app"}


def with_debugger(policy: str = "Always", inits: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    p = pod(policy, inits=inits)
    p["spec"]["ephemeralContainers"] = [DBG]
    return p


EPHEMERAL_CASES: list[tuple[str, dict[str, Any], PodRuntimeState, PodActions]] = [
    ("added to a running pod: started", with_debugger(),
     PodRuntimeState([sb()], [ctr("app", "run")]), live(ephemeral_to_start=["dbg"])),
    ("started while init containers run", with_debugger(inits=(INIT1,)),
     PodRuntimeState([sb()], [ctr("i1", "run", kind="init")]),
     live(ephemeral_to_start=["dbg"])),
    ("running: nothing", with_debugger(),
     PodRuntimeState([sb()], [ctr("app", "run"), ctr("dbg", "run", kind="ephemeral")]), live()),
    ("exited: never restarted", with_debugger(),
     PodRuntimeState([sb()], [ctr("app", "run"), ctr("dbg", "exit", 0, kind="ephemeral")]),
     live()),
    ("does not keep a pod alive", with_debugger("Never"),
     PodRuntimeState([sb()], [ctr("app", "exit", 0), ctr("dbg", "run", kind="ephemeral")]),
     live(kill_pod=True)),
    ("not started in a finished pod", with_debugger("Never"),
     PodRuntimeState([sb()], [ctr("app", "exit", 0)]), live(kill_pod=True)),
]


@pytest.mark.parametrize(("name", "spec", "state", "want"), EPHEMERAL_CASES,
                         ids=[c[0] for c in EPHEMERAL_CASES])
def test_ephemeral_actions(name: str, spec: dict[str, Any], state: PodRuntimeState,
                           want: PodActions) -> None:
    assert compute_pod_actions(spec, state) == want
