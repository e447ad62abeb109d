"""The pod workers: one worker per pod uid at a time, and each pod's lifecycle state
(upstream's pkg/kubelet/pod_workers.go).

Contract:
- every event only wakes a pod's worker (:meth:`PodWorkers.update`); a worker re-reads
  the desired pod from the pod manager and acts on what it finds (rules 1 and 3); updates
  that come while the pod's worker is busy collapse into one more pass (the work queue's
  dirty set), and a pass that raises is retried with back-off;
- each desired uid is ``syncing``, ``terminating`` or ``terminated``: a pod whose kill the
  handler asks for (a deletionTimestamp, an exceeded activeDeadlineSeconds) becomes
  ``terminating`` and never goes back to ``syncing``: a pending kill is never overwritten
  by an update, only upgraded by a kill that also deletes the pod from the API; once the
  kill has run it is ``terminated``;
- a uid gone from every source is cleaned up (containers, volumes, state) once the
  sources have synced, whatever its state; a ``mirror:<ns>/<name>`` key asks whether an
  unclaimed mirror pod is an orphan;
- delayed passes (back-off, deadlines) wait on the given clock.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Protocol

from kubelite.aio.clock import REAL, Clock
from kubelite.client.workqueue import WorkQueue, run_workers
from kubelite.kubelet.pod_manager import MIRROR_KEY, PodManager
from kubelite.kubelet.podspec import JSON


def work_queue(clock: Clock = REAL) -> WorkQueue[str]:
    """The queue that wakes pod workers: a pass that raised is retried after 0.2 s,
    doubling up to 10 s."""
    return WorkQueue(base_delay=0.2, max_delay=10.0, clock=clock)


class PodState(enum.Enum):
    """Where a desired pod is in its life on this node; it only moves forward."""

    SYNCING = "syncing"
    TERMINATING = "terminating"
    TERMINATED = "terminated"


@dataclass(frozen=True)
class Kill:
    """Why a pod is stopped: ``failure`` (reason, message) keeps it in the API as Failed;
    ``delete`` removes it from the API once its containers have stopped."""

    failure: tuple[str, str] | None = None
    delete: bool = False


@dataclass
class PodWork:
    """What the pod workers keep for one desired uid between passes."""

    uid: str
    state: PodState = PodState.SYNCING
    kill: Kill | None = None
    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)


class PodSyncHandler(Protocol):
    """What a pass runs (the kubelet's SyncPod, SyncTerminatingPod, SyncTerminatedPod)."""

    async def prepare(self, pod: JSON, source: str, work: PodWork) -> Kill | None:
        """Before any pass: the kill this pod is due, if any."""
        ...

    async def sync_pod(self, pod: JSON, source: str, work: PodWork) -> float | None:
        """Converge one step; the seconds after which to look again, if any."""
        ...

    async def sync_terminating_pod(self, pod: JSON, source: str, work: PodWork) -> None: ...

    async def sync_terminated_pod(self, pod: JSON, source: str, work: PodWork) -> None: ...

    async def remove_pod(self, uid: str) -> None:
        """``uid`` is gone from every source: remove what is left of it."""
        ...

    def delete_orphan_mirror(self, key: str) -> Awaitable[None]: ...


class PodWorkers:
    """Per-uid workers over a work queue (see the module contract)."""

    def __init__(self, pods: PodManager, handler: PodSyncHandler, queue: WorkQueue[str], *,
                 workers: int = 16) -> None:
        self.pods = pods
        self.handler = handler
        self.workers = workers
        self.queue = queue
        self._work: dict[str, PodWork] = {}
        self.passes = 0

    def update(self, key: str) -> None:
        """Wake the worker of ``key`` (a pod uid)."""
        self.queue.add(key)

    @property
    def idle(self) -> bool:
        """No pass queued or running (delayed passes aside)."""
        return self.queue.idle

    def state(self, uid: str) -> PodState | None:
        work = self._work.get(uid)
        return work.state if work is not None else None

    async def run(self) -> None:
        await run_workers(self.queue, self._pass, self.workers)

    def shutdown(self) -> None:
        self.queue.shutdown()

    async def _pass(self, key: str) -> None:
        self.passes += 1
        if key.startswith(MIRROR_KEY):
            await self.handler.delete_orphan_mirror(key[len(MIRROR_KEY):])
            return
        pod, source = self.pods.desired(key)
        if pod is None:
            if self.pods.synced:
                await self.handler.remove_pod(key)
                self._work.pop(key, None)
            return
        work = self._work.setdefault(key, PodWork(key))
        kill = await self.handler.prepare(pod, source, work)
        if kill is not None and (work.kill is None or (kill.delete and not work.kill.delete)):
            work.kill, work.state = kill, PodState.TERMINATING
        if work.state is PodState.SYNCING:
            again = await self.handler.sync_pod(pod, source, work)
            if again is not None:
                self.queue.add_after(key, again)
        elif work.state is PodState.TERMINATING:
            await self.handler.sync_terminating_pod(pod, source, work)
            work.state = PodState.TERMINATED
        else:
            await self.handler.sync_terminated_pod(pod, source, work)
