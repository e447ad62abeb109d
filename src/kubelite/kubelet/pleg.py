"""The pod lifecycle event generator and the runtime status cache (upstream's
pkg/kubelet/pleg and kubecontainer's cache).

Contract:
- :class:`RuntimeCache` holds what the runtime last said about each pod uid; a pod worker
  reads it at the start of a pass and refreshes it once after acting
  (:meth:`RuntimeCache.inspect`), so a pass asks the runtime once; an answer never
  replaces a newer one (each is stamped when its listing began);
- :meth:`PLEG.relist` lists every container and sandbox once, puts each pod's part in the
  cache and wakes the worker of every pod whose containers changed, and, once the
  sources have synced, of every runtime pod nobody wants (so it is removed);
- :meth:`PLEG.run` relists every ``period`` seconds of the given clock; a relist that
  fails (a runtime error, or an ``OSError`` from the runtime's state files) is logged and
  the next one tries again: container exits are never left unseen.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable

from kubelite.aio.clock import REAL, Clock
from kubelite.kubelet import labels as L
from kubelite.kubelet.kuberuntime.actions import PodRuntimeState
from kubelite.runtime.protocol import (
    ContainerRuntime,
    ContainerStatus,
    PodSandboxStatus,
    RuntimeServiceError,
)

log = logging.getLogger(__name__)
HOUSEKEEPING_EVERY = 60  # relists between calls of ``housekeeping``

Signature = tuple[tuple[str, str], ...]


class RuntimeCache:
    """What the runtime holds for each pod uid (see the module contract)."""

    def __init__(self, runtime: ContainerRuntime) -> None:
        self.runtime = runtime
        self._stamps = itertools.count()
        self._pods: dict[str, tuple[int, PodRuntimeState]] = {}

    def stamp(self) -> int:
        """Take this before listing; pass it to :meth:`put` with the answer."""
        return next(self._stamps)

    def put(self, uid: str, state: PodRuntimeState, stamp: int) -> None:
        held = self._pods.get(uid)
        if held is None or held[0] <= stamp:
            self._pods[uid] = (stamp, state)

    def get(self, uid: str) -> PodRuntimeState | None:
        held = self._pods.get(uid)
        return held[1] if held is not None else None

    async def current(self, uid: str) -> PodRuntimeState:
        """The cached state, or the runtime's answer when none is cached yet."""
        state = self.get(uid)
        return state if state is not None else await self.inspect(uid)

    async def inspect(self, uid: str) -> PodRuntimeState:
        """Ask the runtime about one pod now, and cache the answer."""
        stamp = self.stamp()
        sandboxes = await self.runtime.list_pod_sandboxes(labels={L.POD_UID: uid})
        containers = await self.runtime.list_containers(labels={L.POD_UID: uid})
        state = PodRuntimeState(tuple(sandboxes), tuple(containers))
        self.put(uid, state, stamp)
        return state

    def forget(self, uid: str) -> None:
        self._pods.pop(uid, None)


def _signature(sandboxes: list[PodSandboxStatus],
               containers: list[ContainerStatus]) -> Signature:
    return tuple(sorted([(c.id, str(c.state)) for c in containers]
                        + [(s.id, str(s.state)) for s in sandboxes]))


class PLEG:
    """Relists the runtime and wakes pod workers (see the module contract)."""

    def __init__(self, cache: RuntimeCache, wake: Callable[[str], None], *,
                 wanted: Callable[[], set[str] | None], period: float = 1.0,
                 clock: Clock = REAL, housekeeping: Callable[[], None] = lambda: None) -> None:
        self.cache = cache
        self.wake = wake
        self.wanted = wanted  # the desired uids, or None before the sources have synced
        self.period = period
        self.clock = clock
        self.housekeeping = housekeeping
        self._seen: dict[str, Signature] = {}

    async def run(self) -> None:
        for n in itertools.count(1):
            try:
                await self.relist()
            except (RuntimeServiceError, OSError) as exc:
                log.warning("PLEG relist failed: %s", exc)
            if n % HOUSEKEEPING_EVERY == 0:
                self.housekeeping()
            await self.clock.sleep(self.period)

    async def relist(self) -> None:
        stamp = self.cache.stamp()
        runtime = self.cache.runtime
        containers = await runtime.list_containers()
        sandboxes = await runtime.list_pod_sandboxes()
        by_uid: dict[str, tuple[list[PodSandboxStatus], list[ContainerStatus]]] = {}
        for s in sandboxes:
            uid = s.labels.get(L.POD_UID) or s.uid
            if uid:
                by_uid.setdefault(uid, ([], []))[0].append(s)
        for c in containers:
            owner = c.labels.get(L.POD_UID)
            if owner:
                by_uid.setdefault(owner, ([], []))[1].append(c)
        now: dict[str, Signature] = {}
        for uid, (sbs, cs) in by_uid.items():
            now[uid] = _signature(sbs, cs)
            self.cache.put(uid, PodRuntimeState(tuple(sbs), tuple(cs)), stamp)
        for uid in set(self._seen) - set(now):
            self.cache.put(uid, PodRuntimeState((), ()), stamp)
        for uid, sig in now.items():
            if self._seen.get(uid) != sig:
                self.wake(uid)
        wanted = self.wanted()
        if wanted is not None:
            for uid in set(now) - wanted:
                self.wake(uid)
        self._seen = now
