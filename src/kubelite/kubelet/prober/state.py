"""The result state machine of one probe worker (pure, as the kubelet's ``doProbe``).

Invariants:
- a new container instance (new id) resets the state to the type's initial result:
  readiness Failure, liveness Success, startup Unknown (none published yet);
- nothing is probed before ``initialDelaySeconds`` have passed since the container
  started (whole seconds, truncated), nor while the container is not running;
- liveness and readiness wait until the startup probe succeeded; the startup probe
  stops probing once it has;
- a result is published only after ``failureThreshold`` consecutive failures or
  ``successThreshold`` consecutive successes;
- after a published liveness or startup failure the worker holds (probes nothing) until
  the container is replaced, because the kubelet kills it;
- a non-running container reads as Failure; a terminated one that will not be
  restarted (restartPolicy Never) stops the worker, as does pod deletion for liveness
  and startup probes (they then read as Success, so the container is not killed).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from kubelite.kubelet.prober.spec import ProbeSpec, ProbeType


class Result(enum.Enum):
    UNKNOWN = "unknown"
    SUCCESS = "success"
    FAILURE = "failure"


INITIAL = {ProbeType.READINESS: Result.FAILURE, ProbeType.LIVENESS: Result.SUCCESS,
           ProbeType.STARTUP: Result.UNKNOWN}


@dataclass(frozen=True)
class ContainerView:
    """What a worker knows of the newest instance of its container."""

    id: str
    running: bool
    terminated: bool = False
    started_at: datetime | None = None
    started: bool = True  # the startup probe succeeded, or there is none


@dataclass(frozen=True)
class Decision:
    probe: bool
    stop: bool = False


class ProbeState:
    def __init__(self, spec: ProbeSpec) -> None:
        self.spec = spec
        self.container_id = ""
        self.result = Result.UNKNOWN  # the published result for container_id
        self.last = Result.UNKNOWN
        self.run = 0
        self.on_hold = False

    def prepare(self, view: ContainerView | None, *, now: datetime, restart_never: bool,
                deleting: bool) -> Decision:
        """Whether to probe on this tick (and whether the worker should stop)."""
        if view is None or not view.id:
            return Decision(probe=False)
        if view.id != self.container_id:
            self.container_id = view.id
            self.result = INITIAL[self.spec.type]
            self.last = Result.UNKNOWN
            self.run = 0
            self.on_hold = False
        if self.on_hold:
            return Decision(probe=False)
        if not view.running:
            self.result = Result.FAILURE
            return Decision(probe=False, stop=view.terminated and restart_never)
        if deleting and self.spec.type in (ProbeType.LIVENESS, ProbeType.STARTUP):
            self.result = Result.SUCCESS
            return Decision(probe=False, stop=True)
        if view.started_at is not None and self.spec.initial_delay > 0:
            if int((now - view.started_at).total_seconds()) < self.spec.initial_delay:
                return Decision(probe=False)
        if view.started == (self.spec.type == ProbeType.STARTUP):
            return Decision(probe=False)
        return Decision(probe=True)

    def observe(self, outcome: Result) -> bool:
        """Count one probe outcome (Success or Failure); True if it was published."""
        if outcome == self.last:
            self.run += 1
        else:
            self.last = outcome
            self.run = 1
        if outcome == Result.FAILURE and self.run < self.spec.failure_threshold:
            return False
        if outcome == Result.SUCCESS and self.run < self.spec.success_threshold:
            return False
        self.result = outcome
        if outcome == Result.FAILURE and self.spec.type in (ProbeType.LIVENESS,
                                                            ProbeType.STARTUP):
            self.on_hold = True
            self.run = 0
        return True
