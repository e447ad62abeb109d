"""``generate_pod_status``: the API ``PodStatus`` from the spec and the runtime (pure).

Contract: the same inputs give the same status; condition ``lastTransitionTime`` and
``startTime`` are carried over from the previous status while unchanged, so that
writing the result again is a no-op. Reasons and messages are Kubernetes' own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubelite.api.meta_time import rfc3339
from kubelite.kubelet.kuberuntime.actions import (
    PodRuntimeState,
    should_restart,
    succeeded,
)
from kubelite.kubelet.podspec import (
    JSON,
    app_containers,
    ephemeral_containers,
    init_containers,
    is_sidecar,
    restart_policy,
)
from kubelite.runtime.protocol import ContainerState, ContainerStatus, SandboxState

CONTAINER_ID_PREFIX = "runc://"
COMPLETED = "PodCompleted"


@dataclass(frozen=True)
class StatusInputs:
    """What the pod worker gathered besides the runtime state."""

    host_ip: str = ""
    now: datetime | None = None
    # container name -> (reason, message) of the last failed sync step (ErrImagePull, ...)
    waiting: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # container id -> termination message read from its file or log
    messages: Mapping[str, str] = field(default_factory=dict)
    # image id -> imageID to report (repo digest)
    image_ids: Mapping[str, str] = field(default_factory=dict)
    # (reason, message) when the kubelet failed the pod itself (DeadlineExceeded)
    failure: tuple[str, str] | None = None
    # running container id -> started / ready as the probes say (absent: True)
    started: Mapping[str, bool] = field(default_factory=dict)
    ready: Mapping[str, bool] = field(default_factory=dict)
    # pod conditions the kubelet does not own (readiness gates), from the API
    extra_conditions: Sequence[JSON] = ()


def _t(d: datetime | None) -> str | None:
    return rfc3339(d) if d else None


def _terminated(c: ContainerStatus, message: str = "") -> JSON:
    out: JSON = {"exitCode": c.exit_code if c.exit_code is not None else 0}
    reason = c.reason or ("Completed" if c.exit_code == 0 else "Error")
    out["reason"] = reason
    msg = message or c.message
    if msg:
        out["message"] = msg
    out["startedAt"] = _t(c.started_at)
    out["finishedAt"] = _t(c.finished_at)
    out["containerID"] = CONTAINER_ID_PREFIX + c.id
    return out


def _state(c: ContainerStatus, inputs: StatusInputs) -> JSON:
    if c.state == ContainerState.RUNNING:
        return {"running": {"startedAt": _t(c.started_at)}}
    if c.state == ContainerState.EXITED:
        return {"terminated": _terminated(c, inputs.messages.get(c.id, ""))}
    return {"waiting": {"reason": "ContainerCreating"}}


def _container_status(spec_c: JSON, kind: str, state: PodRuntimeState, inputs: StatusInputs,
                      default_reason: str, policy: str, old: JSON | None) -> JSON:
    name = spec_c["name"]
    latest = state.latest(name, kind)
    prev = state.previous(name, kind)
    override = inputs.waiting.get(name)
    status: JSON = {"name": name}
    last: JSON = {}
    if latest is None:
        reason, message = override or (default_reason, "")
        waiting: JSON = {"reason": reason}
        if message:
            waiting["message"] = message
        status["state"] = {"waiting": waiting}
        if old and old.get("lastState"):
            last = old["lastState"]
        restarts = int((old or {}).get("restartCount") or 0)
    else:
        restarts = latest.attempt
        if latest.state == ContainerState.EXITED and override and (
                kind == "init" or should_restart(latest, policy)):
            waiting = {"reason": override[0]}
            if override[1]:
                waiting["message"] = override[1]
            status["state"] = {"waiting": waiting}
            last = {"terminated": _terminated(latest, inputs.messages.get(latest.id, ""))}
        else:
            status["state"] = _state(latest, inputs)
            if prev is not None and prev.state == ContainerState.EXITED:
                last = {"terminated": _terminated(prev, inputs.messages.get(prev.id, ""))}
            elif old and old.get("restartCount") == restarts and old.get("lastState"):
                last = old["lastState"]
    status["lastState"] = last
    running = "running" in status["state"]
    started = running and (latest is None or inputs.started.get(latest.id, True))
    if kind == "init" and not is_sidecar(spec_c):
        status["ready"] = succeeded(latest) and "terminated" in status["state"]
    else:
        status["ready"] = started and (latest is None or inputs.ready.get(latest.id, True))
    status["restartCount"] = restarts
    image = spec_c.get("image", "")
    if latest is not None:
        image = latest.image or image
    status["image"] = image
    status["imageID"] = inputs.image_ids.get(latest.image_id, latest.image_id) if latest else ""
    if latest is not None:
        status["containerID"] = CONTAINER_ID_PREFIX + latest.id
    status["started"] = started
    return status


def _regular_started(statuses: Sequence[JSON]) -> bool:
    """``HasAnyRegularContainerStarted``: an app container runs or ran."""
    return any("running" in s["state"] or "terminated" in s["state"] for s in statuses)


def _phase(pod: JSON, init_statuses: Sequence[JSON], statuses: Sequence[JSON]) -> str:
    """The kubelet's ``getPhase``: regular init containers gate the pod; native sidecars
    count while they run (pending until started), never once they stopped."""
    policy = restart_policy(pod)
    pending_init = pending_sidecars = failed_init = 0
    running = waiting = stopped = succeeded_n = unknown = 0
    for c, s in zip(init_containers(pod), init_statuses, strict=True):
        st = s["state"]
        last_term = (s.get("lastState") or {}).get("terminated")
        if is_sidecar(c):
            if "running" in st:
                running += 1
                if not s.get("started"):
                    pending_sidecars += 1
            elif "waiting" in st and not last_term:
                pending_sidecars += 1
                waiting += 1
            continue
        if "terminated" in st:
            if st["terminated"].get("exitCode") != 0:
                failed_init += 1
        elif "waiting" in st and last_term:
            if last_term.get("exitCode") != 0:
                failed_init += 1
        else:
            pending_init += 1
    for s in statuses:
        st = s["state"]
        if "running" in st:
            running += 1
        elif "terminated" in st:
            stopped += 1
            if st["terminated"].get("exitCode") == 0:
                succeeded_n += 1
        elif "waiting" in st:
            if s.get("lastState", {}).get("terminated"):
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1
    if failed_init > 0 and policy == "Never":
        return "Failed"
    if pending_init > 0 or (pending_sidecars > 0 and not _regular_started(statuses)):
        return "Pending"
    if waiting > 0:
        return "Pending"
    if running > 0 and unknown == 0:
        return "Running"
    if running == 0 and stopped > 0 and unknown == 0:
        if policy == "Always":
            return "Running"
        if stopped == succeeded_n:
            return "Succeeded"
        return "Failed" if policy == "Never" else "Running"
    return "Pending"


def _incomplete_inits(pod: JSON, init_statuses: Sequence[JSON]) -> list[str]:
    """Init containers not done: a regular one that has not succeeded, a sidecar that
    has not started."""
    out = []
    for c, s in zip(init_containers(pod), init_statuses, strict=True):
        if is_sidecar(c):
            if not s.get("started"):
                out.append(s["name"])
        elif (s["state"].get("terminated") or {}).get("exitCode", 1) != 0:
            out.append(s["name"])
    return out


def _condition(type_: str, ok: bool, old: Mapping[str, JSON], now: str,
               reason: str = "", message: str = "") -> JSON:
    status = "True" if ok else "False"
    prev = old.get(type_)
    since = prev.get("lastTransitionTime") if prev and prev.get("status") == status else now
    c: JSON = {"type": type_, "status": status, "lastProbeTime": None,
               "lastTransitionTime": since}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


KUBELET_CONDITIONS = frozenset({"PodReadyToStartContainers", "Initialized", "Ready",
                                "ContainersReady", "PodScheduled"})


def _unready_gates(pod: JSON, conditions: Mapping[str, JSON]) -> list[str]:
    out = []
    for gate in (pod.get("spec") or {}).get("readinessGates") or []:
        t = str(gate.get("conditionType", ""))
        c = conditions.get(t)
        if c is None:
            out.append(f'corresponding condition of pod readiness gate "{t}" does not exist.')
        elif c.get("status") != "True":
            out.append(f'the status of pod readiness gate "{t}" is not "True", '
                       f"but {c.get('status')}")
    return out


def generate_pod_status(pod: JSON, state: PodRuntimeState, inputs: StatusInputs) -> JSON:
    old_status: JSON = pod.get("status") or {}
    now = rfc3339(inputs.now) if inputs.now else ""
    policy = restart_policy(pod)
    inits = init_containers(pod)
    apps = app_containers(pod)
    default_reason = "PodInitializing" if inits else "ContainerCreating"
    old_init = {s.get("name"): s for s in old_status.get("initContainerStatuses") or []}
    old_app = {s.get("name"): s for s in old_status.get("containerStatuses") or []}
    init_statuses = [_container_status(c, "init", state, inputs, default_reason, policy,
                                       old_init.get(c["name"])) for c in inits]
    statuses = [_container_status(c, "app", state, inputs, default_reason, policy,
                                  old_app.get(c["name"])) for c in apps]
    phase = _phase(pod, init_statuses, statuses)
    incomplete = [] if _regular_started(statuses) else _incomplete_inits(pod, init_statuses)
    init_done = not incomplete
    if inputs.failure is not None:
        phase = "Failed"

    old_conds = {c.get("type", ""): c for c in old_status.get("conditions") or []}
    sandbox = state.latest_sandbox()
    net_ready = sandbox is not None and sandbox.state == SandboxState.READY
    conditions = [_condition("PodReadyToStartContainers", net_ready, old_conds, now)]
    if phase == "Succeeded":
        conditions.append(_condition("Initialized", True, old_conds, now, COMPLETED))
    elif init_done:
        conditions.append(_condition("Initialized", True, old_conds, now))
    else:
        conditions.append(_condition("Initialized", False, old_conds, now,
                                     "ContainersNotInitialized",
                                     "containers with incomplete status: "
                                     f"[{' '.join(incomplete)}]"))
    sidecar_statuses = [s for c, s in zip(inits, init_statuses, strict=True) if is_sidecar(c)]
    unready = [s["name"] for s in sidecar_statuses + statuses if not s["ready"]]
    if phase == "Succeeded":
        ready_args: tuple[bool, str, str] = (False, COMPLETED, "")
    elif unready:
        ready_args = (False, "ContainersNotReady",
                      f"containers with unready status: [{' '.join(unready)}]")
    elif not init_done:
        names = " ".join(s["name"] for s in sidecar_statuses + statuses)
        ready_args = (False, "ContainersNotReady", f"containers with unready status: [{names}]")
    else:
        ready_args = (True, "", "")
    containers_ready = ready_args
    extra = {str(c.get("type")): c for c in inputs.extra_conditions}
    if ready_args[0]:
        gates = _unready_gates(pod, extra)
        if gates:
            ready_args = (False, "ReadinessGatesNotReady", ", ".join(gates))
    conditions.append(_condition("Ready", ready_args[0], old_conds, now, *ready_args[1:]))
    conditions.append(_condition("ContainersReady", containers_ready[0], old_conds, now,
                                 *containers_ready[1:]))
    sched = old_conds.get("PodScheduled")
    conditions.append(sched if sched else _condition("PodScheduled", True, old_conds, now))
    owned = {c["type"] for c in conditions}
    conditions += [c for t, c in extra.items() if t not in owned]

    status: JSON = {"phase": phase, "conditions": conditions}
    if inputs.failure is not None:
        status["reason"], status["message"] = inputs.failure
    if inputs.host_ip:
        status["hostIP"] = inputs.host_ip
        status["hostIPs"] = [{"ip": inputs.host_ip}]
    ip = ""
    if sandbox is not None and sandbox.state == SandboxState.READY:
        ip = inputs.host_ip if sandbox.host_network else sandbox.ip
    if not ip and old_status.get("podIP") and sandbox is not None:
        ip = str(old_status["podIP"])
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    status["startTime"] = old_status.get("startTime") or now
    if inits:
        status["initContainerStatuses"] = init_statuses
    status["containerStatuses"] = statuses
    old_eph = {s.get("name"): s for s in old_status.get("ephemeralContainerStatuses") or []}
    ephemeral = []
    for c in ephemeral_containers(pod):
        es = _container_status(c, "ephemeral", state, inputs, default_reason, "Never",
                               old_eph.get(c["name"]))
        es["ready"] = False  # never probed, never counted
        del es["started"]
        ephemeral.append(es)
    if ephemeral:
        status["ephemeralContainerStatuses"] = ephemeral
    if old_status.get("qosClass"):
        status["qosClass"] = old_status["qosClass"]
    return status


def same_status(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    return a == b
