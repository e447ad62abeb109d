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
     PodActions(create_sandbox=True, init_to_start="i1")),
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
     PodRuntimeState([sb()], [ctr("i1", "exit", 0, kind="init")]), live(init_to_start="i2")),
    ("inits done: start apps", pod(inits=(INIT1, INIT2)),
     PodRuntimeState([sb()], [ctr("i1", "exit", 0, kind="init"),
                              ctr("i2", "exit", 0, kind="init")]),
     live(containers_to_start=["app"])),
    ("init failed, Always: restart it", pod("Always", inits=(INIT1,)),
     PodRuntimeState([sb()], [ctr("i1", "exit", 1, kind="init")]), live(init_to_start="i1")),
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
