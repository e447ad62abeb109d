"""generate_pod_status: phases, conditions and container states as Kubernetes reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from test_compute_pod_actions import APP, INIT1, INIT2, ctr, pod, sb

from kubelite.kubelet.kuberuntime.actions import PodRuntimeState
from kubelite.kubelet.status import StatusInputs, generate_pod_status
from kubelite.runtime.protocol import SandboxState

NOW = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
IN = StatusInputs(host_ip="10.0.0.1", now=NOW)


def conds(status: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in status["conditions"]}


def test_pending_pod_is_container_creating() -> None:
    st = generate_pod_status(pod(), PodRuntimeState(), IN)
    assert st["phase"] == "Pending"
    assert st["containerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert conds(st)["Ready"] == "False"
    ready = next(c for c in st["conditions"] if c["type"] == "Ready")
    assert ready["message"] == "containers with unready status: [app]"
    assert "podIP" not in st and st["hostIP"] == "10.0.0.1"


def test_running_pod() -> None:
    st = generate_pod_status(pod(), PodRuntimeState([sb()], [ctr("app", "run")]), IN)
    assert st["phase"] == "Running"
    assert conds(st) == {"PodReadyToStartContainers": "True", "Initialized": "True",
                         "Ready": "True", "ContainersReady": "True", "PodScheduled": "True"}
    cs = st["containerStatuses"][0]
    assert cs["ready"] and cs["started"] and cs["containerID"] == "runc://app-app-0"
    assert st["podIP"] == "10.0.0.2" and st["podIPs"] == [{"ip": "10.0.0.2"}]
    assert [c["type"] for c in st["conditions"]] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]


def test_init_progress_and_pod_initializing() -> None:
    p = pod(inits=(INIT1, INIT2))
    st = generate_pod_status(p, PodRuntimeState([sb()], [ctr("i1", "run", kind="init")]), IN)
    assert st["phase"] == "Pending"
    inits = st["initContainerStatuses"]
    assert "running" in inits[0]["state"]
    assert inits[1]["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert st["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
    init_cond = next(c for c in st["conditions"] if c["type"] == "Initialized")
    assert init_cond["reason"] == "ContainersNotInitialized"
    assert init_cond["message"] == "containers with incomplete status: [i1 i2]"
    done = PodRuntimeState([sb()], [ctr("i1", "exit", 0, kind="init"),
                                    ctr("i2", "exit", 0, kind="init")])
    st = generate_pod_status(p, done, IN)
    assert conds(st)["Initialized"] == "True"
    assert [s["ready"] for s in st["initContainerStatuses"]] == [True, True]
    assert st["containerStatuses"][0]["state"]["waiting"]["reason"] == "PodInitializing"


def test_crash_loop_shows_waiting_with_last_state() -> None:
    state = PodRuntimeState([sb()], [ctr("app", "exit", 1, attempt=0),
                                     ctr("app", "exit", 1, attempt=1)])
    inputs = StatusInputs(now=NOW, waiting={"app": ("CrashLoopBackOff", "back-off 20s ...")})
    st = generate_pod_status(pod("Always"), state, inputs)
    cs = st["containerStatuses"][0]
    assert cs["state"] == {"waiting": {"reason": "CrashLoopBackOff",
                                       "message": "back-off 20s ..."}}
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert cs["lastState"]["terminated"]["reason"] == "Error"
    assert cs["restartCount"] == 1
    assert st["phase"] == "Running"


def test_terminal_phases() -> None:
    ok = PodRuntimeState([sb(SandboxState.NOTREADY)], [ctr("app", "exit", 0)])
    fail = PodRuntimeState([sb(SandboxState.NOTREADY)], [ctr("app", "exit", 1)])
    st = generate_pod_status(pod("OnFailure"), ok, IN)
    assert st["phase"] == "Succeeded"
    assert st["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    ready = next(c for c in st["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "PodCompleted"
    assert generate_pod_status(pod("Never"), fail, IN)["phase"] == "Failed"
    assert generate_pod_status(pod("Never"), ok, IN)["phase"] == "Succeeded"
    failed_init = PodRuntimeState([sb()], [ctr("i1", "exit", 1, kind="init")])
    assert generate_pod_status(pod("Never", inits=(INIT1,)), failed_init, IN)["phase"] == \
        "Failed"


def test_oom_killed_reason_and_termination_message() -> None:
    from dataclasses import replace
    c = replace(ctr("app", "exit", 137), reason="OOMKilled")
    st = generate_pod_status(pod("Never"), PodRuntimeState([sb()], [c]),
                             StatusInputs(now=NOW, messages={c.id: "bye"}))
    term = st["containerStatuses"][0]["state"]["terminated"]
    assert term["reason"] == "OOMKilled" and term["exitCode"] == 137
    assert term["message"] == "bye"


def test_transition_times_are_kept_when_unchanged() -> None:
    p = pod()
    state = PodRuntimeState([sb()], [ctr("app", "run")])
    first = generate_pod_status(p, state, IN)
    later = StatusInputs(host_ip="10.0.0.1", now=datetime(2026, 1, 2, tzinfo=UTC))
    again = generate_pod_status({**p, "status": first}, state, later)
    assert again == first


def test_waiting_image_pull_reason() -> None:
    st = generate_pod_status(pod(), PodRuntimeState([sb()]), StatusInputs(
        now=NOW, waiting={"app": ("ErrImagePull", 'Failed to pull image "x": not found')}))
    assert st["containerStatuses"][0]["state"]["waiting"]["reason"] == "ErrImagePull"
    assert st["phase"] == "Pending"
    _ = APP


SC = {"name": "sc", "image": "busybox", "restartPolicy": "Always"}


def test_sidecar_pod_initializes_once_sidecar_started() -> None:
    p = pod(inits=(SC,))
    starting = PodRuntimeState([sb()], [ctr("sc", "run", kind="init")])
    st = generate_pod_status(p, starting, StatusInputs(now=NOW, started={"init-sc-0": False},
                                                       ready={"init-sc-0": False}))
    assert st["phase"] == "Pending"
    init_cond = next(c for c in st["conditions"] if c["type"] == "Initialized")
    assert init_cond["message"] == "containers with incomplete status: [sc]"
    running = PodRuntimeState([sb()], [ctr("sc", "run", kind="init"), ctr("app", "run")])
    st = generate_pod_status(p, running, IN)
    assert st["phase"] == "Running"
    assert conds(st)["Initialized"] == "True" and conds(st)["Ready"] == "True"
    side = st["initContainerStatuses"][0]
    assert side["started"] is True and side["ready"] is True
    unready = generate_pod_status(p, running, StatusInputs(now=NOW, ready={"init-sc-0": False}))
    ready = next(c for c in unready["conditions"] if c["type"] == "ContainersReady")
    assert ready["status"] == "False"
    assert ready["message"] == "containers with unready status: [sc]"


def test_sidecar_does_not_keep_never_pod_from_succeeding() -> None:
    p = pod("Never", inits=(SC,))
    app_done = PodRuntimeState([sb()], [ctr("sc", "run", kind="init"), ctr("app", "exit", 0)])
    assert generate_pod_status(p, app_done, IN)["phase"] == "Running"
    stopped = PodRuntimeState([sb(SandboxState.NOTREADY)],
                              [ctr("sc", "exit", 143, kind="init"), ctr("app", "exit", 0)])
    st = generate_pod_status(p, stopped, IN)
    assert st["phase"] == "Succeeded"
    failed = PodRuntimeState([sb(SandboxState.NOTREADY)],
                             [ctr("sc", "exit", 143, kind="init"), ctr("app", "exit", 1)])
    assert generate_pod_status(p, failed, IN)["phase"] == "Failed"


def test_ephemeral_container_status() -> None:
    p = pod()
    p["spec"]["ephemeralContainers"] = [{"name": "dbg", "image": "busybox"}]
    st = generate_pod_status(p, PodRuntimeState([sb()], [ctr("app", "run")]), IN)
    assert st["ephemeralContainerStatuses"][0]["state"] == {
        "waiting": {"reason": "ContainerCreating"}}
    running = PodRuntimeState([sb()], [ctr("app", "run"), ctr("dbg", "run", kind="ephemeral")])
    st = generate_pod_status(p, running, IN)
    es = st["ephemeralContainerStatuses"][0]
    assert "running" in es["state"] and es["ready"] is False and "started" not in es
    assert es["containerID"] == "runc://ephemeral-dbg-0"
    assert [c["name"] for c in st["containerStatuses"]] == ["app"]
    assert conds(st)["Ready"] == "True" and st["phase"] == "Running"
