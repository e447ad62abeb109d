"""The probe worker's state machine, the kill decision and the status it drives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubelite.kubelet import labels as L
from kubelite.kubelet.kuberuntime.actions import PodActions, PodRuntimeState, compute_pod_actions
from kubelite.kubelet.prober.spec import ProbeType, container_probes, parse_probe
from kubelite.kubelet.prober.state import ContainerView, ProbeState, Result
from kubelite.kubelet.status import StatusInputs, generate_pod_status
from kubelite.runtime.protocol import (
    ContainerState,
    ContainerStatus,
    PodSandboxStatus,
    SandboxState,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
S, F = Result.SUCCESS, Result.FAILURE


def state_for(t: ProbeType, **probe: Any) -> ProbeState:
    spec = parse_probe(t, {"exec": {"command": ["true"]}, **probe})
    assert spec is not None
    return ProbeState(spec)


def view(cid: str = "c1", running: bool = True, started: bool = True,
         since: float = 100.0, terminated: bool = False) -> ContainerView:
    return ContainerView(id=cid, running=running, terminated=terminated,
                         started_at=T0 - timedelta(seconds=since), started=started)


def run(st: ProbeState, outcomes: list[Result]) -> list[Result]:
    """Probe once per outcome (when the state allows), return the published results."""
    out = []
    for o in outcomes:
        v = view(started=st.spec.type != ProbeType.STARTUP)
        if st.prepare(v, now=T0, restart_never=False, deleting=False).probe:
            st.observe(o)
        out.append(st.result)
    return out


def test_defaults_are_kubernetes_defaults() -> None:
    spec = parse_probe(ProbeType.LIVENESS, {"tcpSocket": {"port": 80}})
    assert spec is not None
    assert (spec.initial_delay, spec.period, spec.timeout, spec.success_threshold,
            spec.failure_threshold, spec.kind) == (0, 10, 1, 1, 3, "tcpSocket")
    c = {"name": "c", "startupProbe": {"exec": {"command": ["x"]}},
         "readinessProbe": {"httpGet": {"port": 1}}}
    assert [p.type for p in container_probes(c)] == [ProbeType.STARTUP, ProbeType.READINESS]


@pytest.mark.parametrize("t,probe,outcomes,published", [
    # liveness starts Success; 3 failures (default) publish Failure, then it holds
    (ProbeType.LIVENESS, {}, [F, F, F, S, S], [S, S, F, F, F]),
    (ProbeType.LIVENESS, {"failureThreshold": 1}, [F, S], [F, F]),
    # a success in between resets the failure run
    (ProbeType.LIVENESS, {}, [F, F, S, F, F, F], [S, S, S, S, S, F]),
    # readiness starts Failure; successThreshold 2 needs two in a row
    (ProbeType.READINESS, {"successThreshold": 2}, [S, F, S, S, F], [F, F, F, S, S]),
    (ProbeType.READINESS, {"failureThreshold": 2}, [S, F, F, S], [S, S, F, S]),
    # readiness never holds: it follows the application up and down
    (ProbeType.READINESS, {"failureThreshold": 1}, [S, F, S, F], [S, F, S, F]),
    # startup is Unknown until decided; the study notes' failureThreshold 1
    (ProbeType.STARTUP, {"failureThreshold": 1}, [F, S], [F, F]),
    (ProbeType.STARTUP, {}, [F, F, S], [Result.UNKNOWN, Result.UNKNOWN, S]),
])
def test_thresholds(t: ProbeType, probe: dict[str, Any], outcomes: list[Result],
                    published: list[Result]) -> None:
    assert run(state_for(t, **probe), outcomes) == published


def test_initial_delay_truncates_to_whole_seconds() -> None:
    st = state_for(ProbeType.LIVENESS, initialDelaySeconds=10)
    assert not st.prepare(view(since=9.9), now=T0, restart_never=False, deleting=False).probe
    assert st.prepare(view(since=10.0), now=T0, restart_never=False, deleting=False).probe


@pytest.mark.parametrize("t,started,probes", [
    (ProbeType.LIVENESS, False, False), (ProbeType.READINESS, False, False),
    (ProbeType.STARTUP, False, True), (ProbeType.LIVENESS, True, True),
    (ProbeType.READINESS, True, True), (ProbeType.STARTUP, True, False),
])
def test_startup_gates_the_others(t: ProbeType, started: bool, probes: bool) -> None:
    st = state_for(t)
    d = st.prepare(view(started=started), now=T0, restart_never=False, deleting=False)
    assert d.probe is probes


def test_new_container_resets_hold_and_result() -> None:
    st = state_for(ProbeType.LIVENESS, failureThreshold=1)
    assert run(st, [F]) == [F]
    assert st.on_hold
    assert not st.prepare(view(), now=T0, restart_never=False, deleting=False).probe
    d = st.prepare(view("c2"), now=T0, restart_never=False, deleting=False)
    assert d.probe and st.result == S and st.container_id == "c2"


def test_not_running_reads_failure_and_stops_when_never_restarted() -> None:
    st = state_for(ProbeType.READINESS)
    d = st.prepare(view(running=False, terminated=True), now=T0, restart_never=False,
                   deleting=False)
    assert (d.probe, d.stop, st.result) == (False, False, F)
    d = st.prepare(view(running=False, terminated=True), now=T0, restart_never=True,
                   deleting=False)
    assert d.stop


def test_deletion_stops_liveness_as_success() -> None:
    st = state_for(ProbeType.LIVENESS)
    d = st.prepare(view(), now=T0, restart_never=False, deleting=True)
    assert d.stop and st.result == S
    st = state_for(ProbeType.READINESS)
    assert st.prepare(view(), now=T0, restart_never=False, deleting=True).probe


# -- what the kubelet does with the results ---------------------------------------------

def _pod(policy: str = "Always", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p", "namespace": "default", "uid": "u1"},
            "spec": {"containers": [{"name": "app", "image": "busybox"}],
                     "restartPolicy": policy, **spec}}


def _state(running: bool = True) -> PodRuntimeState:
    sb = PodSandboxStatus(id="sb", name="p", namespace="default", uid="u1", attempt=0,
                          state=SandboxState.READY, created_at=T0, ip="10.0.0.2", labels={},
                          annotations={})
    c = ContainerStatus(id="c1", sandbox_id="sb", name="app", attempt=0,
                        state=ContainerState.RUNNING if running else ContainerState.EXITED,
                        created_at=T0, started_at=T0, finished_at=None,
                        exit_code=None if running else 1, reason="", message="",
                        image="busybox", image_id="", pid=1, log_path="",
                        labels={L.CONTAINER_TYPE: "app"}, annotations={})
    return PodRuntimeState([sb], [c])


@pytest.mark.parametrize("policy,probe,grace,message,restart", [
    ("Always", "liveness", None, "Container app failed liveness probe, will be restarted",
     True),
    ("OnFailure", "startup", 5, "Container app failed startup probe, will be restarted", True),
    ("Never", "liveness", None, "Container app failed liveness probe", False),
])
def test_probe_failure_kills(policy: str, probe: str, grace: int | None, message: str,
                             restart: bool) -> None:
    assert compute_pod_actions(_pod(policy), _state(), {"c1": (probe, grace)}) == PodActions(
        sandbox_id="sb", containers_to_kill={"c1": message},
        containers_to_start=["app"] if restart else [],
        kill_grace={"c1": grace} if grace is not None else {}, kill_pod=not restart)
    assert compute_pod_actions(_pod(policy), _state()) == PodActions(sandbox_id="sb")


def _conds(status: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {c["type"]: (c["status"], c.get("reason", ""), c.get("message", ""))
            for c in status["conditions"]}


def test_status_follows_probes() -> None:
    now = T0 + timedelta(seconds=5)
    st = generate_pod_status(_pod(), _state(), StatusInputs(now=now, started={"c1": False},
                                                            ready={"c1": False}))
    cs = st["containerStatuses"][0]
    assert (cs["started"], cs["ready"]) == (False, False)
    assert _conds(st)["Ready"] == ("False", "ContainersNotReady",
                                   "containers with unready status: [app]")
    assert _conds(st)["ContainersReady"][0] == "False"
    st = generate_pod_status(_pod(), _state(), StatusInputs(now=now, started={"c1": True},
                                                            ready={"c1": False}))
    assert (st["containerStatuses"][0]["started"], st["containerStatuses"][0]["ready"]) == (
        True, False)
    st = generate_pod_status(_pod(), _state(), StatusInputs(now=now, ready={"c1": True}))
    assert _conds(st)["Ready"] == ("True", "", "")


def test_readiness_gates() -> None:
    now = T0 + timedelta(seconds=5)
    p = _pod(readinessGates=[{"conditionType": "example.com/lb"},
                             {"conditionType": "example.com/dns"}])
    gate_false = {"type": "example.com/lb", "status": "False", "lastProbeTime": None,
                  "lastTransitionTime": "2026-01-01T00:00:00Z"}
    st = generate_pod_status(p, _state(), StatusInputs(now=now, extra_conditions=[gate_false]))
    assert _conds(st)["Ready"] == (
        "False", "ReadinessGatesNotReady",
        'the status of pod readiness gate "example.com/lb" is not "True", but False, '
        'corresponding condition of pod readiness gate "example.com/dns" does not exist.')
    assert _conds(st)["ContainersReady"][0] == "True"
    assert _conds(st)["example.com/lb"][0] == "False"  # kept, not owned by the kubelet
    gates = [{**gate_false, "status": "True"},
             {**gate_false, "type": "example.com/dns", "status": "True"}]
    st = generate_pod_status(p, _state(), StatusInputs(now=now, extra_conditions=gates))
    assert _conds(st)["Ready"][0] == "True"
