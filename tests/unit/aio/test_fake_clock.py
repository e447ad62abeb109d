"""The fake clock: sleepers and timers wake only when the test advances time, in
deadline order, each at its deadline."""

from __future__ import annotations

import asyncio
import datetime as dt

from kubelite.testing.fake_clock import FakeClock


async def test_sleepers_wake_only_when_time_is_advanced_past_them() -> None:
    clock = FakeClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic()))

    tasks = [asyncio.create_task(sleeper("late", 5)), asyncio.create_task(sleeper("soon", 2))]
    await clock.advance(1.9)
    assert woke == []
    assert clock.sleepers == 2
    await clock.advance(10)
    assert woke == [("soon", 2.0), ("late", 5.0)]
    assert clock.monotonic() == 11.9
    assert clock.now() == dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=11.9)
    await asyncio.gather(*tasks)


async def test_a_timer_set_by_a_woken_task_fires_within_the_same_advance() -> None:
    clock = FakeClock()
    fired: list[float] = []

    def again() -> None:
        fired.append(clock.monotonic())
        if len(fired) < 3:
            clock.call_later(1, again)

    clock.call_later(1, again)
    cancelled = clock.call_later(2, lambda: fired.append(-1))
    cancelled.cancel()
    await clock.advance(5)
    assert fired == [1.0, 2.0, 3.0]


async def test_sleeping_zero_only_yields() -> None:
    clock = FakeClock()
    await clock.sleep(0)
    assert clock.monotonic() == 0 and clock.sleepers == 0
