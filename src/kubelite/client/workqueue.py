"""A work queue with client-go's guarantees.

Contract:
- a key is handed to at most one worker at a time (one writer per key);
- adding a key that is queued is a no-op; adding a key being processed marks it dirty,
  and it is queued again when the worker calls :meth:`WorkQueue.done`;
- :meth:`add_rate_limited` requeues after a per-key exponential delay (``base * 2**n``,
  capped at ``max_delay``) until :meth:`forget` resets it;
- :meth:`add_after` queues once the delay has passed on the queue's clock (a test's fake
  clock decides when that is).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from kubelite.aio.clock import REAL, Clock, TimerHandle
from kubelite.client.metrics import NO_INSTRUMENTS, ClientMetrics, QueueInstruments

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)


class ShutDown(Exception):
    """The queue was shut down; workers should return."""


class WorkQueue(Generic[K]):
    def __init__(self, *, base_delay: float = 0.005, max_delay: float = 1000.0,
                 clock: Clock = REAL) -> None:
        self.clock = clock
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._failures: dict[K, int] = {}
        self._timers: dict[K, TimerHandle] = {}
        self._wakeup = asyncio.Event()
        self._shutdown = False
        self._instruments: QueueInstruments = NO_INSTRUMENTS

    def instrument(self, metrics: ClientMetrics, name: str) -> None:
        """Report this queue as ``workqueue_*{name}`` series of ``metrics``."""
        self._instruments = metrics.queue(name, self.__len__)

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing being processed (delayed adds aside)."""
        return not self._queue and not self._processing

    def add(self, key: K) -> None:
        if self._shutdown or key in self._dirty:
            return
        self._dirty.add(key)
        self._instruments.queued(key)
        if key not in self._processing:
            self._queue.append(key)
            self._notify()

    def add_after(self, key: K, delay: float) -> None:
        """Queue ``key`` after ``delay`` seconds; an earlier pending timer wins."""
        if delay <= 0:
            self.add(key)
            return
        existing = self._timers.get(key)
        when = self.clock.monotonic() + delay
        if existing is not None:
            if existing.when() <= when:
                return
            existing.cancel()

        def fire() -> None:
            self._timers.pop(key, None)
            self.add(key)

        self._timers[key] = self.clock.call_later(delay, fire)

    def add_rate_limited(self, key: K) -> None:
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        self._instruments.retried()
        self.add_after(key, min(self.base_delay * (2 ** n), self.max_delay))

    def num_requeues(self, key: K) -> int:
        return self._failures.get(key, 0)

    def forget(self, key: K) -> None:
        self._failures.pop(key, None)

    async def get(self) -> K:
        """The next key; raises :class:`ShutDown` once the queue is shut down."""
        while not self._queue:
            if self._shutdown:
                raise ShutDown()
            self._wakeup.clear()
            await self._wakeup.wait()
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        self._instruments.handed_out(key)
        return key

    def done(self, key: K) -> None:
        self._processing.discard(key)
        self._instruments.finished(key)
        if key in self._dirty:
            self._queue.append(key)
            self._notify()

    def shutdown(self) -> None:
        self._shutdown = True
        for t in self._timers.values():
            t.cancel()
        self._timers.clear()
        self._notify()

    def _notify(self) -> None:
        self._wakeup.set()


async def run_workers(queue: WorkQueue[K], handler: Callable[[K], Awaitable[None]],
                      workers: int = 1) -> None:
    """Process keys with ``workers`` tasks until the queue shuts down. A handler that
    raises gets its key requeued with backoff; one that returns gets it forgotten."""

    async def worker() -> None:
        while True:
            try:
                key = await queue.get()
            except ShutDown:
                return
            try:
                await handler(key)
                queue.forget(key)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("processing %r failed; requeued", key)
                queue.add_rate_limited(key)
            finally:
                queue.done(key)

    async with asyncio.TaskGroup() as tg:
        for _ in range(workers):
            tg.create_task(worker())
