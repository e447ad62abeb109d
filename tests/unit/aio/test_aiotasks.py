"""Supervised tasks: a loop that dies is logged once and restarted, or its error is
raised by stop(); stop() never swallows an error."""

from __future__ import annotations

import asyncio
import logging

import pytest

from kubelite.aio import tasks as aiotasks
from kubelite.testing.fake_clock import FakeClock


async def test_a_task_that_dies_is_logged_once_and_stop_raises_its_error(
        caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> None:
        raise OSError("disk gone")

    task = aiotasks.guarded(broken(), "broken-loop")
    await asyncio.wait([task])
    died = [r for r in caplog.records if "broken-loop" in r.getMessage()]
    assert len(died) == 1 and died[0].levelno == logging.ERROR
    with pytest.raises(OSError, match="disk gone"):
        await aiotasks.stop([task])


async def test_a_restarted_task_comes_back_after_its_back_off() -> None:
    clock = FakeClock()
    runs: list[float] = []

    async def flaky() -> None:
        runs.append(clock.monotonic())
        if len(runs) < 3:
            raise RuntimeError("boom")
        await asyncio.Event().wait()  # the third run lives

    task = aiotasks.guarded(flaky, "flaky", restart=aiotasks.Restart(1.0, 8.0), clock=clock)
    await clock.advance(0)
    assert runs == [0.0]
    await clock.advance(0.9)
    assert runs == [0.0]  # still backing off
    await clock.advance(0.1)
    assert runs == [0.0, 1.0]
    await clock.advance(2.0)  # the delay doubled
    assert runs == [0.0, 1.0, 3.0]
    await aiotasks.stop([task])  # cancelling a live task is no error
    assert task.cancelled()


async def test_a_restarted_task_needs_a_function() -> None:
    async def once() -> None:
        return None

    coro = once()
    with pytest.raises(TypeError):
        aiotasks.guarded(coro, "x", restart=aiotasks.Restart())
    await coro


async def test_stop_waits_for_every_task_and_ignores_what_it_is_told_to() -> None:
    async def fails() -> None:
        raise ConnectionResetError()

    async def lives() -> None:
        await asyncio.Event().wait()

    a, b = aiotasks.guarded(fails(), "a"), aiotasks.guarded(lives(), "b")
    await asyncio.wait([a])
    await aiotasks.stop([a, b, None], errors="ignore")
    assert b.cancelled()
