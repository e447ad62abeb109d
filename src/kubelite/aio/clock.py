"""The clock seam: wall time, monotonic time, sleeping and timers from one object.

Contract:
- a :class:`Clock` is also a ``Callable[[], datetime]`` (calling it is :meth:`Clock.now`),
  so it can go wherever only timestamps are needed (``api.meta_time.Clock``);
- every wait a component makes on time (a loop's period, a back-off, a delayed queue add)
  goes through :meth:`Clock.sleep` or :meth:`Clock.call_later`, never the loop directly:
  then a test's fake clock (``kubelite.testing.fake_clock.FakeClock``) decides when it ends;
- :data:`REAL` is the real clock: UTC wall time, the loop's monotonic time and timers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Protocol


class TimerHandle(Protocol):
    """A pending :meth:`Clock.call_later` callback."""

    def cancel(self) -> None: ...

    def when(self) -> float:
        """The :meth:`Clock.monotonic` time at which it fires."""
        ...


class Clock(Protocol):
    """Time for a component: read it, sleep on it, set timers on it."""

    def __call__(self) -> dt.datetime: ...

    def now(self) -> dt.datetime:
        """Aware UTC wall time."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for periods and deadlines)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once ``seconds`` have passed on this clock (0 or less: just yield)."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """Call ``callback`` on the loop once ``delay`` seconds have passed."""
        ...


class RealClock:
    """The real clock: ``datetime.now(UTC)`` and the running loop's time and timers."""

    def __call__(self) -> dt.datetime:
        return self.now()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(max(0.0, delay), callback)


REAL: Clock = RealClock()


async def wait_event(clock: Clock, event: asyncio.Event, timeout: float) -> bool:  # noqa: ASYNC109
    """Wait until ``event`` is set or ``timeout`` seconds of ``clock`` have passed; True
    if it was set."""
    if event.is_set():
        return True
    if timeout <= 0:
        return False
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def finish(_: object = None) -> None:
        if not done.done():
            done.set_result(None)

    timer = clock.call_later(timeout, finish)
    waiter = asyncio.ensure_future(event.wait())
    waiter.add_done_callback(finish)
    try:
        await done
    finally:
        timer.cancel()
        waiter.cancel()
    return event.is_set()
