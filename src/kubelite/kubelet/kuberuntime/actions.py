"""``compute_pod_actions``: what to do to a pod's sandbox and containers (rule 2).

Pure: from the pod's spec and what the runtime reports about the pod, decide the next
step; the pod worker acts on it and asks again after every change. The rules follow
the Go kubelet's ``computePodActions``:

- no ready sandbox: create one (killing what is left of the old one), then start the
  first init container, or all app containers; except when the pod has finished for
  good (restartPolicy Never after it ran, or OnFailure after every container succeeded);
- init containers run one at a time, in order, each to success; a failed one is
  restarted unless restartPolicy is Never, which fails (kills) the pod;
- app containers start when every init container succeeded; an exited one restarts
  per restartPolicy (Always; OnFailure when its exit code is not 0); a running one whose
  spec changed is killed and started again;
- a running container a liveness or startup probe failed is killed ("Container X failed
  liveness probe, will be restarted") with the probe's terminationGracePeriodSeconds
  when set, and started again unless restartPolicy is Never;
- when nothing runs and nothing is to start, the pod is killed (its sandbox stopped).

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
    init_containers,
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
    init_to_start: str | None = None
    containers_to_start: list[str] = field(default_factory=list)
    containers_to_kill: dict[str, str] = field(default_factory=dict)  # id -> why
    kill_grace: dict[str, int] = field(default_factory=dict)  # id -> probe's grace period
    init_failed: bool = False

    @property
    def nothing(self) -> bool:
        return not (self.kill_pod or self.create_sandbox or self.init_to_start
                    or self.containers_to_start or self.containers_to_kill)


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


def init_progress(pod: JSON, state: PodRuntimeState) -> tuple[int, bool, bool]:
    """(init containers done, all done, one failed for good under restartPolicy Never)."""
    done = 0
    for c in init_containers(pod):
        st = state.latest(c["name"], "init")
        if succeeded(st):
            done += 1
            continue
        failed = (st is not None and st.state == ContainerState.EXITED
                  and restart_policy(pod) == "Never")
        return done, False, failed
    return done, True, False


# container id -> (probe: "liveness" | "startup", the probe's terminationGracePeriodSeconds)
ProbeFailures = Mapping[str, tuple[str, int | None]]


def compute_pod_actions(pod: JSON, state: PodRuntimeState,
                        probe_failures: ProbeFailures | None = None) -> PodActions:
    policy = restart_policy(pod)
    inits = init_containers(pod)
    apps = app_containers(pod)
    sandbox = state.latest_sandbox()

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
            actions.init_to_start = inits[0]["name"]
        else:
            actions.containers_to_start = [
                c["name"] for c in apps
                if not (policy == "OnFailure" and succeeded(state.latest(c["name"])))
            ]
        return actions

    actions = PodActions(sandbox_id=sandbox.id)
    for c in inits:
        st = state.latest(c["name"], "init")
        if st is None:
            actions.init_to_start = c["name"]
            return actions
        if st.state in (ContainerState.RUNNING, ContainerState.CREATED,
                        ContainerState.UNKNOWN):
            return actions  # wait for it
        if st.exit_code == 0:
            continue
        if policy == "Never":
            actions.init_failed = True
            actions.kill_pod = True
            return actions
        actions.init_to_start = c["name"]
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
            elif st.id in (probe_failures or {}):
                probe, grace = (probe_failures or {})[st.id]
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
    return actions
