"""``compute_pod_actions``: what to do to a pod's sandbox and containers (rule 2).

Pure: from the pod's spec and what the runtime reports about the pod, decide the next
step; the pod worker acts on it and asks again after every change. The rules follow
the Go kubelet's ``computePodActions``:

- no ready sandbox: create one (killing what is left of the old one), then start the
  first init container, or all app containers; except when the pod has finished for
  good (restartPolicy Never after it ran, or OnFailure after every container succeeded);
- init containers run one at a time, in order, each to success; a failed one is
  restarted unless restartPolicy is Never, which fails (kills) the pod;
- a native sidecar (an init container with ``restartPolicy: Always``) counts as done
  once it runs and its startup probe (if any) succeeded: then the next init container
  starts; it is restarted whenever it exits (whatever the pod's restartPolicy), and when
  its spec changed or a liveness/startup probe failed; the init containers are walked
  from the last one back (``computeInitContainerActions``), so that regular init
  containers the runtime removed after the pod initialized are not run again;
- app containers start when the pod is initialized; an exited one restarts
  per restartPolicy (Always; OnFailure when its exit code is not 0); a running one whose
  spec changed is killed and started again;
- a running container a liveness or startup probe failed is killed ("Container X failed
  liveness probe, will be restarted") with the probe's terminationGracePeriodSeconds
  when set, and started again unless restartPolicy is Never;
- ephemeral containers (``kubectl debug``) start once each, as soon as the sandbox
  is ready, and are never restarted;
- when no app container runs and none is to start, the pod is killed (its sandbox
  stopped), sidecars included: they never keep a finished pod alive.

Back-off is not decided here: the worker checks it before starting a container.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kubelite.kubelet import labels as L
from kubelite.kubelet.podspec import (
    JSON,
    app_containers,
    container_hash,
    ephemeral_containers,
    init_containers,
    is_sidecar,
    restart_policy,
)
from kubelite.runtime.protocol import (
    ContainerState,
    ContainerStatus,
    PodSandboxStatus,
    SandboxState,
)


@dataclass(frozen=True)
class PodRuntimeState:
    """Everything the runtime holds for one pod uid (all sandboxes, all containers)."""

    sandboxes: Sequence[PodSandboxStatus] = ()
    containers: Sequence[ContainerStatus] = ()

    def latest_sandbox(self) -> PodSandboxStatus | None:
        if not self.sandboxes:
            return None
        return max(self.sandboxes, key=lambda s: (s.attempt, s.created_at))

    def latest(self, name: str, kind: str = "app") -> ContainerStatus | None:
        """The newest instance of the named container (highest attempt)."""
        found = [c for c in self.containers
                 if c.name == name and c.labels.get(L.CONTAINER_TYPE, "app") == kind]
        if not found:
            return None
        return max(found, key=lambda c: (c.attempt, c.created_at))

    def previous(self, name: str, kind: str = "app") -> ContainerStatus | None:
        """The instance before the newest one, if the runtime still has it."""
        found = sorted((c for c in self.containers
                        if c.name == name and c.labels.get(L.CONTAINER_TYPE, "app") == kind),
                       key=lambda c: (c.attempt, c.created_at))
        return found[-2] if len(found) > 1 else None


@dataclass
class PodActions:
    kill_pod: bool = False
    create_sandbox: bool = False
    sandbox_id: str = ""
    sandbox_attempt: int = 0
    init_containers_to_start: list[str] = field(default_factory=list)
    containers_to_start: list[str] = field(default_factory=list)
    ephemeral_to_start: list[str] = field(default_factory=list)
    containers_to_kill: dict[str, str] = field(default_factory=dict)  # id -> why
    kill_grace: dict[str, int] = field(default_factory=dict)  # id -> probe's grace period
    init_failed: bool = False

    @property
    def nothing(self) -> bool:
        return not (self.kill_pod or self.create_sandbox or self.init_containers_to_start
                    or self.containers_to_start or self.ephemeral_to_start
                    or self.containers_to_kill)


def succeeded(c: ContainerStatus | None) -> bool:
    return c is not None and c.state == ContainerState.EXITED and c.exit_code == 0


def should_restart(c: ContainerStatus, policy: str) -> bool:
    """Whether an exited container is started again under ``policy``."""
    if c.state != ContainerState.EXITED:
        return False
    if policy == "Always":
        return True
    if policy == "OnFailure":
        return c.exit_code != 0
    return False


# container id -> (probe: "liveness" | "startup", the probe's terminationGracePeriodSeconds)
ProbeFailures = Mapping[str, tuple[str, int | None]]


def compute_pod_actions(pod: JSON, state: PodRuntimeState,
                        probe_failures: ProbeFailures | None = None,
                        started: Mapping[str, bool] | None = None) -> PodActions:
    """The next step for ``pod``. ``probe_failures``: running containers a liveness or
    startup probe failed; ``started``: container id -> whether its startup probe
    succeeded (absent: started), read for native sidecars."""
    policy = restart_policy(pod)
    inits = init_containers(pod)
    apps = app_containers(pod)
    sandbox = state.latest_sandbox()
    failures = probe_failures or {}

    if sandbox is None or sandbox.state != SandboxState.READY:
        actions = PodActions(kill_pod=sandbox is not None, create_sandbox=True,
                             sandbox_attempt=sandbox.attempt + 1 if sandbox else 0)
        if sandbox is not None:
            ran = [state.latest(c["name"]) for c in apps]
            if policy == "Never" and (any(ran) or any(state.latest(c["name"], "init")
                                                      for c in inits)):
                return PodActions(kill_pod=True)
            if policy == "OnFailure" and ran and all(succeeded(s) for s in ran):
                return PodActions(kill_pod=True)
        if inits:
            actions.init_containers_to_start = [inits[0]["name"]]
        else:
            actions.containers_to_start = [
                c["name"] for c in apps
                if not (policy == "OnFailure" and succeeded(state.latest(c["name"])))
            ]
        return actions

    actions = PodActions(sandbox_id=sandbox.id)
    # ephemeral containers start even before the pod is initialized, and never again
    actions.ephemeral_to_start = [str(c["name"]) for c in ephemeral_containers(pod)
                                  if state.latest(str(c["name"]), "ephemeral") is None]
    initialized = _init_container_actions(pod, state, actions, failures, started or {})
    if actions.kill_pod or not initialized:
        return actions

    keep = 0
    for c in apps:
        name = c["name"]
        st = state.latest(name)
        if st is None:
            actions.containers_to_start.append(name)
            continue
        if st.state == ContainerState.RUNNING:
            if st.annotations.get(L.CONTAINER_HASH, container_hash(c)) != container_hash(c):
                actions.containers_to_kill[st.id] = (
                    f"Container {name} definition changed, will be restarted")
                actions.containers_to_start.append(name)
            elif st.id in failures:
                probe, grace = failures[st.id]
                why = f"Container {name} failed {probe} probe"
                if policy != "Never":
                    why += ", will be restarted"
                    actions.containers_to_start.append(name)
                actions.containers_to_kill[st.id] = why
                if grace is not None:
                    actions.kill_grace[st.id] = grace
            else:
                keep += 1
            continue
        if st.state in (ContainerState.CREATED, ContainerState.UNKNOWN):
            actions.containers_to_kill[st.id] = f"Container {name} is in an unknown state"
            actions.containers_to_start.append(name)
            continue
        if should_restart(st, policy):
            actions.containers_to_start.append(name)
    if keep == 0 and not actions.containers_to_start:
        actions.kill_pod = True
        actions.init_containers_to_start = []  # sidecars do not keep the pod alive
        actions.ephemeral_to_start = []
    return actions


def _init_container_actions(pod: JSON, state: PodRuntimeState, actions: PodActions,
                            failures: ProbeFailures, started: Mapping[str, bool]) -> bool:
    """Fill the init-container part of ``actions``; return whether the pod is
    initialized (every regular init container succeeded, every sidecar started).

    Walks the init containers from the last one back, as the Go kubelet does: the last
    one with a status tells how far initialization got; what comes before it only
    matters for sidecars, which are kept running."""
    inits = init_containers(pod)
    if not inits:
        return True
    initialized = any(
        st is not None and st.state in (ContainerState.CREATED, ContainerState.RUNNING)
        for st in (state.latest(c["name"]) for c in app_containers(pod)))
    before = initialized  # whether the init container before this one is done
    never = restart_policy(pod) == "Never"
    to_start: list[str] = []

    def restart(st: ContainerStatus, name: str, why: str, grace: int | None = None) -> None:
        actions.containers_to_kill[st.id] = why
        if grace is not None:
            actions.kill_grace[st.id] = grace
        to_start.append(name)

    for i in range(len(inits) - 1, -1, -1):
        c = inits[i]
        name = str(c["name"])
        side = is_sidecar(c)
        last = i == len(inits) - 1
        st = state.latest(name, "init")
        if st is None:
            if before and side:
                to_start.append(name)
            continue
        if before and not side:
            continue
        if st.state == ContainerState.RUNNING:
            if side:
                failure = failures.get(st.id)
                if failure is not None and failure[0] == "startup":
                    restart(st, name, f"Init container {name} failed startup probe", failure[1])
                elif started.get(st.id, True):
                    if last:
                        initialized = True
                    elif not before:
                        to_start.append(str(inits[i + 1]["name"]))
                    if st.annotations.get(L.CONTAINER_HASH,
                                          container_hash(c)) != container_hash(c):
                        restart(st, name, f"Init container {name} definition changed")
                    elif failure is not None:
                        restart(st, name, f"Init container {name} failed liveness probe",
                                failure[1])
        elif st.state == ContainerState.EXITED:
            if side:
                to_start.append(name)
            elif st.exit_code != 0:
                if never:
                    actions.kill_pod = actions.init_failed = True
                    actions.init_containers_to_start = actions.ephemeral_to_start = []
                    return False
                to_start.append(name)
            elif last:
                initialized = True
            else:
                to_start.append(str(inits[i + 1]["name"]))
        else:  # created but not started, or unknown: replace it
            if not side and never and st.state == ContainerState.UNKNOWN:
                actions.kill_pod = actions.init_failed = True
                actions.init_containers_to_start = actions.ephemeral_to_start = []
                return False
            restart(st, name, f"Init container {name} is in an unknown state")
        before = True
    if not before:
        to_start.append(str(inits[0]["name"]))
    to_start.reverse()
    actions.init_containers_to_start = to_start
    return initialized
