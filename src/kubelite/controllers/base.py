"""What every controller shares: a work queue of ``namespace/name`` keys served by
workers (never two for one key), and read-your-writes on informer caches.

Contract: :meth:`Controller.sync` is level-based: it reads the caches, computes a plan
and acts; running it twice is harmless. A sync that raises is retried with back-off.
After a write, :meth:`Controller.caught_up` waits until the informer has seen the write's
resourceVersion, so the next sync never acts on a cache older than its own last action.
"""

from __future__ import annotations

import asyncio
import logging
import time

from kubelite.aio import tasks as aiotasks
from kubelite.aio.clock import REAL, Clock
from kubelite.api.meta import JSON
from kubelite.client.informer import Informer
from kubelite.client.workqueue import WorkQueue, run_workers

log = logging.getLogger(__name__)


def rv_int(obj: JSON | None) -> int:
    try:
        return int(((obj or {}).get("metadata") or {}).get("resourceVersion") or 0)
    except ValueError:
        return 0


class Controller:
    """A queue of keys and ``workers`` tasks calling :meth:`sync` for each."""

    name = "controller"

    def __init__(self, workers: int = 2, clock: Clock = REAL) -> None:
        self.clock = clock  # timestamps, and the work queue's retry delays
        self.queue: WorkQueue[str] = WorkQueue(base_delay=0.05, max_delay=30.0, clock=clock)
        self.workers = workers
        self._task: asyncio.Task[None] | None = None

    def register(self) -> None:
        """Attach handlers to the informers (before they start)."""

    async def sync(self, key: str) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._task = aiotasks.guarded(run_workers(self.queue, self.sync, self.workers), self.name)

    async def stop(self) -> None:
        self.queue.shutdown()
        await aiotasks.stop([self._task])
        self._task = None

    @staticmethod
    async def caught_up(informer: Informer, rv: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``informer`` has applied events up to resourceVersion ``rv``."""
        deadline = time.monotonic() + timeout
        while rv_int({"metadata": {"resourceVersion": informer.resource_version}}) < rv:
            if time.monotonic() > deadline:
                log.debug("%s informer behind %s", informer.res.plural, rv)
                return
            await asyncio.sleep(0.01)
