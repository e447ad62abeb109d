"""The probe manager: one worker task per probe per container, results by container id.

Contract:
- :meth:`ProbeManager.update` is called by the pod worker with the pod and what the
  runtime holds for it; it starts the workers of a pod the first time (probes cannot be
  changed on a live pod) and gives them the newest container instances and the pod IP;
- every worker ticks every ``periodSeconds`` on a fixed schedule (a late tick never
  shifts the next ones), the first tick after a random part of a period when the
  kubelet started less than a period ago;
- a published result that changes wakes the pod worker (``on_change(uid)``), which asks
  :meth:`started`, :meth:`ready` and :meth:`failures` while computing actions and status;
- failed probes record ``Unhealthy`` events with Kubernetes' texts (the event recorder
  aggregates repeats into a count).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kubelite.aio import tasks as aiotasks
from kubelite.aio.clock import REAL, Clock, wait_event
from kubelite.kubelet.kuberuntime.actions import PodRuntimeState
from kubelite.kubelet.podspec import (
    JSON,
    is_sidecar,
    long_running,
    meta,
    restart_policy,
)
from kubelite.kubelet.prober.handlers import Outcome, Target, run_handler
from kubelite.kubelet.prober.spec import ProbeSpec, ProbeType, container_probes
from kubelite.kubelet.prober.state import ContainerView, ProbeState, Result
from kubelite.runtime.protocol import ContainerRuntime, ContainerState, ContainerStatus

log = logging.getLogger(__name__)

# (pod, type, reason, message, fieldPath)
EventSink = Callable[[JSON, str, str, str, str], None]
MAX_RETRIES = 3  # a probe that errors is retried at once, as the kubelet's


@dataclass(frozen=True)
class ProbeFailure:
    """A running container a liveness or startup probe failed: the kubelet kills it."""

    type: ProbeType
    grace: int | None  # the probe's terminationGracePeriodSeconds


@dataclass
class _Pod:
    pod: JSON
    pod_ip: str = ""
    containers: dict[str, ContainerStatus] = field(default_factory=dict)
    workers: dict[tuple[str, ProbeType], _Worker] = field(default_factory=dict)


class _Worker:
    def __init__(self, manager: ProbeManager, uid: str, container: JSON,
                 spec: ProbeSpec) -> None:
        self.manager = manager
        self.uid = uid
        self.container = container
        self.name = str(container["name"])
        self.spec = spec
        self.state = ProbeState(spec)
        self.trigger = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.probes = 0

    async def run(self) -> None:
        m = self.manager
        clock = m.clock
        period = float(self.spec.period)
        if m.jitter and clock.monotonic() - m.started_at < period:
            await clock.sleep(random.random() * period)
        next_at = clock.monotonic()
        while True:
            scheduled = next_at
            if m.on_tick is not None:
                m.on_tick(clock.monotonic() - scheduled)
            if not await self.tick():
                return
            next_at = scheduled + period
            now = clock.monotonic()
            if next_at <= now:  # missed ticks are dropped, as a Go ticker does
                next_at += (int((now - next_at) / period) + 1) * period
            # manual triggers probe at once and keep the schedule
            while await wait_event(clock, self.trigger, next_at - clock.monotonic()):
                self.trigger.clear()
                if not await self.tick():
                    return

    async def tick(self) -> bool:
        """One ``doProbe``: False when the worker should stop."""
        m = self.manager
        entry = m.pods.get(self.uid)
        if entry is None:
            return False
        pod = entry.pod
        c = entry.containers.get(self.name)
        view = None
        if c is not None:
            view = ContainerView(id=c.id, running=c.state == ContainerState.RUNNING,
                                 terminated=c.state == ContainerState.EXITED,
                                 started_at=c.started_at,
                                 started=m.startup_done(self.uid, self.name, c.id))
        decision = self.state.prepare(view, now=m.clock(),
                                      restart_never=(restart_policy(pod) == "Never"
                                                     and not is_sidecar(self.container)),
                                      deleting=bool(meta(pod).get("deletionTimestamp")))
        m.publish(self)
        if decision.stop:
            return False
        if not decision.probe:
            return True
        cid = self.state.container_id
        outcome = Outcome(Result.UNKNOWN)
        for _ in range(MAX_RETRIES):
            outcome = await run_handler(self.spec, Target(cid, self.container, entry.pod_ip),
                                        m.runtime)
            if not outcome.error:
                break
        self.probes += 1
        if cid != self.state.container_id or self.uid not in m.pods:
            return True  # replaced while probing: the result is stale
        t = self.spec.type.value
        if m.on_result is not None:
            m.on_result(pod, self.name, t, "unknown" if outcome.error else outcome.result.value)
        fp = f"spec.containers{{{self.name}}}"
        if outcome.error:
            m.events(pod, "Warning", "Unhealthy",
                     f"{t} probe errored and resulted in unknown state: {outcome.error}", fp)
            return True
        if outcome.result == Result.FAILURE:
            m.events(pod, "Warning", "Unhealthy", f"{t} probe failed: {outcome.output}", fp)
        elif outcome.warning:
            m.events(pod, "Warning", "ProbeWarning", f"{t} probe warning: {outcome.output}", fp)
        self.state.observe(outcome.result)
        m.publish(self)
        return True


class ProbeManager:
    def __init__(self, runtime: ContainerRuntime, *, events: EventSink,
                 on_change: Callable[[str], None], clock: Clock = REAL,
                 jitter: bool = True,
                 on_tick: Callable[[float], None] | None = None) -> None:
        self.runtime = runtime
        self.events = events
        self.on_change = on_change
        self.clock = clock
        self.jitter = jitter
        self.on_tick = on_tick  # receives each scheduled tick's lateness (benchmarks)
        # receives every probe run: (pod, container, probe type, result) (metrics)
        self.on_result: Callable[[JSON, str, str, str], None] | None = None
        self.pods: dict[str, _Pod] = {}
        self.results: dict[tuple[str, ProbeType], Result] = {}
        self.started_at = 0.0

    def start(self) -> None:
        self.started_at = self.clock.monotonic()

    # -- pod worker side -----------------------------------------------------------------

    def update(self, pod: JSON, state: PodRuntimeState, host_ip: str = "") -> None:
        uid = str(meta(pod).get("uid"))
        entry = self.pods.get(uid)
        if entry is None:
            specs = [(c, s) for c, _ in long_running(pod) for s in container_probes(c)]
            if not specs:
                return
            entry = _Pod(pod)
            self.pods[uid] = entry
            for c, s in specs:
                w = _Worker(self, uid, c, s)
                entry.workers[(w.name, s.type)] = w
                w.task = aiotasks.guarded(w.run(), f"probe-{uid[:8]}-{w.name}-{s.type}")
        entry.pod = pod
        sb = state.latest_sandbox()
        if sb is not None:
            entry.pod_ip = host_ip if sb.host_network else (sb.ip or entry.pod_ip)
        for c, kind in long_running(pod):
            latest = state.latest(str(c["name"]), kind)
            if latest is not None:
                old = entry.containers.get(latest.name)
                entry.containers[latest.name] = latest
                if old is not None and old.id != latest.id:
                    self._drop(old.id)

    async def remove(self, uid: str) -> None:
        entry = self.pods.pop(uid, None)
        if entry is None:
            return
        tasks = [w.task for w in entry.workers.values() if w.task is not None]
        await aiotasks.stop(tasks)
        for c in entry.containers.values():
            self._drop(c.id)

    async def stop(self) -> None:
        for uid in list(self.pods):
            await self.remove(uid)

    def _drop(self, cid: str) -> None:
        for t in ProbeType:
            self.results.pop((cid, t), None)

    def _has(self, uid: str, name: str, t: ProbeType) -> bool:
        entry = self.pods.get(uid)
        return entry is not None and (name, t) in entry.workers

    def startup_done(self, uid: str, name: str, cid: str) -> bool:
        if not self._has(uid, name, ProbeType.STARTUP):
            return True
        return self.results.get((cid, ProbeType.STARTUP)) == Result.SUCCESS

    def started(self, uid: str, name: str, cid: str) -> bool:
        """``containerStatuses[].started`` of a running container."""
        return self.startup_done(uid, name, cid)

    def ready(self, uid: str, name: str, cid: str) -> bool:
        """``containerStatuses[].ready`` of a running container; asks a readiness worker
        whose result is not Success to probe at once (as the kubelet does)."""
        if not self.started(uid, name, cid):
            return False
        if not self._has(uid, name, ProbeType.READINESS):
            return True
        if self.results.get((cid, ProbeType.READINESS)) == Result.SUCCESS:
            return True
        self.pods[uid].workers[(name, ProbeType.READINESS)].trigger.set()
        return False

    def failures(self, uid: str) -> Mapping[str, ProbeFailure]:
        """Container id -> the liveness or startup failure that asks for a kill."""
        entry = self.pods.get(uid)
        out: dict[str, ProbeFailure] = {}
        if entry is None:
            return out
        for c in entry.containers.values():
            for t in (ProbeType.LIVENESS, ProbeType.STARTUP):
                if self.results.get((c.id, t)) == Result.FAILURE:
                    w = entry.workers.get((c.name, t))
                    out[c.id] = ProbeFailure(t, w.spec.termination_grace if w else None)
                    break
        return out

    # -- worker side ---------------------------------------------------------------------

    def publish(self, w: _Worker) -> None:
        cid = w.state.container_id
        if not cid or w.state.result == Result.UNKNOWN:
            return
        key = (cid, w.spec.type)
        if self.results.get(key) != w.state.result:
            self.results[key] = w.state.result
            self.on_change(w.uid)
