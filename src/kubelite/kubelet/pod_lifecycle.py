"""One pod's pass through the kubelet: the :class:`PodSyncHandler` the pod workers run
(upstream's Kubelet.SyncPod, SyncTerminatingPod and SyncTerminatedPod).

Contract:
- a static pod first gets its mirror pod (:class:`MirrorClient`); its status is written
  to the mirror pod;
- ``sync_pod`` reads the runtime state from the cache, writes the status it shows, lets
  the runtime manager converge one step (probe failures kill containers), refreshes the
  state once and writes the status again; it answers when to look again (a back-off or
  the pod's activeDeadlineSeconds);
- a pod with a deletionTimestamp is stopped (preStop, grace period), its last status
  written, then deleted from the API with grace 0 and a uid precondition and removed from
  the runtime; a pod past its activeDeadlineSeconds is stopped for good and reported
  Failed with reason DeadlineExceeded (once as an event);
- a pod gone from every source loses its orphaned mirror pods, probes, containers,
  volumes and cached state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kubelite.aio.clock import Clock
from kubelite.api.meta_time import parse_time
from kubelite.client.rest import ApiClient
from kubelite.kubelet.kuberuntime.actions import PodRuntimeState
from kubelite.kubelet.kuberuntime.pod_sync import EventSink, PodSyncer
from kubelite.kubelet.mirror_client import MirrorClient, delete_now
from kubelite.kubelet.pleg import RuntimeCache
from kubelite.kubelet.pod_manager import PodManager
from kubelite.kubelet.pod_workers import Kill, PodWork
from kubelite.kubelet.podspec import JSON, grace_period, long_running, meta
from kubelite.kubelet.prober.manager import ProbeManager
from kubelite.kubelet.status import KUBELET_CONDITIONS, StatusInputs, generate_pod_status
from kubelite.kubelet.status_manager import StatusManager

DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"
MIRROR_RETRY = 0.2  # seconds before a mirror pod whose name is taken is tried again


class PodLifecycle:
    """The pod workers' handler (see the module contract)."""

    def __init__(self, client: ApiClient, pods: PodManager, mirrors: MirrorClient,
                 cache: RuntimeCache, syncer: PodSyncer, prober: ProbeManager,
                 status_manager: StatusManager, events: EventSink, *,
                 wake_after: Callable[[str, float], None], node_ip: str,
                 clock: Clock) -> None:
        self.client = client
        self.pods = pods
        self.mirrors = mirrors
        self.cache = cache
        self.syncer = syncer
        self.prober = prober
        self.status_manager = status_manager
        self.events = events
        self.node_ip = node_ip
        self.clock = clock
        self.wake_after = wake_after

    # -- the passes ----------------------------------------------------------------------

    async def prepare(self, pod: JSON, source: str, work: PodWork) -> Kill | None:
        if source == "file" and not await self.mirrors.ensure(pod):
            self.wake_after(work.uid, MIRROR_RETRY)
        if source == "api" and meta(pod).get("deletionTimestamp"):
            return Kill(delete=True)
        left = self._deadline_left(pod, source)
        if left is not None and left <= 0:
            return Kill(failure=("DeadlineExceeded", DEADLINE_MESSAGE))
        return None

    async def sync_pod(self, pod: JSON, source: str, work: PodWork) -> float | None:
        state = await self.cache.current(work.uid)
        self.prober.update(pod, state, self.node_ip)
        await self._write_status(pod, source, state, work.waiting)
        started, _ = self._probe_results(pod, state, readiness=False)
        result = await self.syncer.sync(pod, state, {
            cid: (f.type.value.lower(), f.grace)
            for cid, f in self.prober.failures(work.uid).items()}, started)
        work.waiting = result.waiting
        state = await self.cache.inspect(work.uid)
        self.prober.update(pod, state, self.node_ip)
        await self._write_status(pod, source, state, result.waiting)
        again = [result.retry_after] if result.retry_after is not None else []
        deadline = self._deadline_left(pod, source)
        if deadline is not None:
            again.append(deadline + 0.05)
        return min(again) if again else None

    async def sync_terminating_pod(self, pod: JSON, source: str, work: PodWork) -> None:
        assert work.kill is not None
        if work.kill.failure is not None and not work.kill.delete:
            self.events(pod, "Warning", *work.kill.failure, "")
        state = await self.cache.current(work.uid)
        self.prober.update(pod, state, self.node_ip)
        await self.syncer.kill_pod(pod, state, grace_period(pod))
        state = await self.cache.inspect(work.uid)
        failure = None if work.kill.delete else work.kill.failure
        await self._write_status(pod, source, state, {}, failure)
        if not work.kill.delete:
            return
        await self.prober.remove(work.uid)
        await delete_now(self.client, pod)
        await self.syncer.remove_pod(work.uid)
        self.status_manager.forget(work.uid)

    async def sync_terminated_pod(self, pod: JSON, source: str, work: PodWork) -> None:
        """A stopped pod still in its source: a failed one stays stopped and keeps its
        status current; a deleted one waits to leave its source."""
        assert work.kill is not None
        if work.kill.delete:
            return
        state = await self.cache.current(work.uid)
        await self.syncer.kill_pod(pod, state, grace_period(pod))
        state = await self.cache.inspect(work.uid)
        await self._write_status(pod, source, state, {}, work.kill.failure)

    async def remove_pod(self, uid: str) -> None:
        for key in self.pods.mirrors_of(uid):
            await self.mirrors.delete_orphan(key)
        await self.prober.remove(uid)
        await self.syncer.remove_pod(uid)
        self.cache.forget(uid)
        self.status_manager.forget(uid)

    async def delete_orphan_mirror(self, key: str) -> None:
        await self.mirrors.delete_orphan(key)

    # -- status --------------------------------------------------------------------------

    def _start_time(self, pod: JSON, source: str) -> datetime | None:
        target = self.pods.mirror_of(pod) if source == "file" else pod
        uid = str(meta(target or {}).get("uid"))
        status = self.status_manager.last(uid) or (target or {}).get("status") or {}
        start = status.get("startTime")
        return parse_time(start) if start else None

    def _deadline_left(self, pod: JSON, source: str) -> float | None:
        limit = (pod.get("spec") or {}).get("activeDeadlineSeconds")
        start = self._start_time(pod, source)
        if limit is None or start is None:
            return None
        return float(limit) - (self.clock.now() - start).total_seconds()

    def _probe_results(self, pod: JSON, state: PodRuntimeState, readiness: bool = True,
                       ) -> tuple[dict[str, bool], dict[str, bool]]:
        """Container id -> started, and -> ready, of the sidecars and app containers."""
        uid = str(meta(pod).get("uid"))
        started: dict[str, bool] = {}
        ready: dict[str, bool] = {}
        for c, kind in long_running(pod):
            latest = state.latest(str(c["name"]), kind)
            if latest is not None:
                started[latest.id] = self.prober.started(uid, latest.name, latest.id)
                if readiness:
                    ready[latest.id] = self.prober.ready(uid, latest.name, latest.id)
        return started, ready

    async def _write_status(self, pod: JSON, source: str, state: PodRuntimeState,
                            waiting: dict[str, tuple[str, str]],
                            failure: tuple[str, str] | None = None) -> None:
        target = pod
        if source == "file":
            target = self.pods.mirror_of(pod) or {}
            if not target:
                return
        messages = await self.syncer.termination_messages(state)
        base = dict(target)
        base["spec"] = pod.get("spec") or {}
        last = self.status_manager.last(str(meta(target).get("uid")))
        if last is not None:
            base["status"] = last
        started, ready = self._probe_results(pod, state)
        extra = [c for c in (target.get("status") or {}).get("conditions") or []
                 if c.get("type") not in KUBELET_CONDITIONS]
        status = generate_pod_status(base, state, StatusInputs(
            host_ip=self.node_ip, now=self.clock.now(), waiting=waiting, messages=messages,
            failure=failure, started=started, ready=ready, extra_conditions=extra))
        tm = meta(target)
        await self.status_manager.set(str(tm.get("namespace")), str(tm.get("name")),
                                      str(tm.get("uid")), status)

