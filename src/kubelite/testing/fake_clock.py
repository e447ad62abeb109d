"""A fake clock for tests: timestamps, monotonic time, sleepers and timers that move only
when the test says so.

Contract:
- :class:`FakeClock` is a :class:`kubelite.aio.clock.Clock`; wall time and monotonic time
  move together, and only in :meth:`FakeClock.advance`;
- :meth:`FakeClock.sleep` and :meth:`FakeClock.call_later` wait on fake time: a sleeper
  wakes, a timer fires, only when ``advance`` passes its deadline, in deadline order (ties
  in the order they were set), each at its own deadline (``now()`` then reads that instant);
- ``advance`` lets the loop settle after each timer it runs (the woken tasks run until they
  wait again), so a test can assert what did *not* happen without sleeping on real time;
  :meth:`FakeClock.until` waits for a condition while fake time runs on in steps.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from kubelite.testing.waiting import eventually

SETTLE_ROUNDS = 50  # loop iterations given to woken tasks after each timer


class FakeTimer:
    """A pending :meth:`FakeClock.call_later` callback."""

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self._when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def when(self) -> float:
        return self._when


class FakeClock:
    """A settable clock (see the module contract)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._start = start or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        self._elapsed = 0.0
        self._seq = itertools.count()
        self._timers: list[tuple[float, int, FakeTimer]] = []

    def __call__(self) -> dt.datetime:
        return self.now()

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return self._elapsed

    def call_later(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(self._elapsed + max(0.0, delay), callback)
        heapq.heappush(self._timers, (timer.when(), next(self._seq), timer))
        return timer

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not woken.done():
                woken.set_result(None)

        timer = self.call_later(seconds, wake)
        try:
            await woken
        finally:
            timer.cancel()

    @property
    def sleepers(self) -> int:
        """How many timers (sleeps included) are pending."""
        return sum(1 for _, _, t in self._timers if not t.cancelled)

    async def advance(self, seconds: float) -> None:
        """Move time ``seconds`` on, running every timer due on the way at its deadline and
        letting the loop settle after each."""
        target = self._elapsed + seconds
        await settle()
        while self._timers and self._timers[0][0] <= target:
            when, _, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._elapsed = max(self._elapsed, when)
            timer.callback()
            await settle()
        self._elapsed = target
        await settle()

    async def until(self, fn: Callable[[], Awaitable[Any]], *, step: float = 0.1,
                    timeout: float = 10.0) -> Any:  # noqa: ASYNC109
        """:func:`~kubelite.testing.waiting.eventually` while fake time runs on: before
        each check, ``step`` seconds pass. ``timeout`` is real seconds."""

        async def check() -> Any:
            await self.advance(step)
            return await fn()

        return await eventually(check, timeout)


async def settle(rounds: int = SETTLE_ROUNDS) -> None:
    """Give the loop ``rounds`` iterations, so tasks made ready run until they wait again."""
    for _ in range(rounds):
        await asyncio.sleep(0)
