"""Work queue: dedupe, one worker per key, dirty requeue, backoff."""

from __future__ import annotations

import asyncio

from kubelite.client.workqueue import WorkQueue, run_workers
from kubelite.testing.fake_clock import FakeClock
from kubelite.testing.waiting import eventually


async def test_dedupes_queued_keys() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    q.add("a")
    q.add("b")
    assert len(q) == 2
    assert await q.get() == "a"
    assert await q.get() == "b"


async def test_key_added_while_processing_is_requeued_after_done() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    key = await q.get()
    q.add("a")
    assert len(q) == 0  # not handed out twice while processing
    q.done(key)
    assert len(q) == 1


async def test_never_two_workers_on_one_key() -> None:
    q: WorkQueue[str] = WorkQueue()
    active: set[str] = set()
    overlaps = 0
    handled = 0

    async def handle(key: str) -> None:
        nonlocal overlaps, handled
        if key in active:
            overlaps += 1
        active.add(key)
        for _ in range(5):  # busy for a few loop turns, so adds land while processing
            await asyncio.sleep(0)
        active.discard(key)
        handled += 1

    runner = asyncio.create_task(run_workers(q, handle, workers=4))
    for _ in range(20):
        q.add("same")
        q.add("other")
        await asyncio.sleep(0)

    async def drained() -> bool:
        return q.idle

    await eventually(drained)
    q.shutdown()
    await runner
    assert overlaps == 0
    assert 2 <= handled < 40


async def test_rate_limited_backoff_grows_and_forget_resets() -> None:
    clock = FakeClock()
    q: WorkQueue[str] = WorkQueue(base_delay=1.0, max_delay=4.0, clock=clock)
    q.add_rate_limited("k")  # after 1 s
    q.add_rate_limited("k")  # after 2 s: the earlier timer wins
    assert q.num_requeues("k") == 2
    await clock.advance(0.9)
    assert len(q) == 0
    await clock.advance(0.1)
    assert len(q) == 1
    assert await q.get() == "k"
    q.done("k")
    q.add_rate_limited("k")  # the third failure waits 4 s (capped)
    await clock.advance(3.9)
    assert len(q) == 0
    await clock.advance(0.1)
    assert len(q) == 1
    q.forget("k")
    assert q.num_requeues("k") == 0


async def test_add_after_waits_on_the_queue_clock() -> None:
    clock = FakeClock()
    q: WorkQueue[str] = WorkQueue(clock=clock)
    q.add_after("k", 5)
    q.add_after("k", 9)  # a later timer does not replace the pending one
    await clock.advance(4.99)
    assert len(q) == 0
    await clock.advance(0.01)
    assert len(q) == 1


async def test_shutdown_cancels_pending_delayed_adds() -> None:
    clock = FakeClock()
    q: WorkQueue[str] = WorkQueue(clock=clock)
    q.add_after("k", 1)
    q.shutdown()
    await clock.advance(2)
    assert len(q) == 0


async def test_failing_handler_is_retried() -> None:
    clock = FakeClock()
    q: WorkQueue[str] = WorkQueue(base_delay=1.0, clock=clock)
    calls = 0

    async def handle(key: str) -> None:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RuntimeError("transient")

    runner = asyncio.create_task(run_workers(q, handle))
    q.add("k")
    await clock.advance(0)
    assert calls == 1
    await clock.advance(1)  # first retry after 1 s
    assert calls == 2
    await clock.advance(1.9)  # the second after 2 more
    assert calls == 2
    await clock.advance(0.1)
    assert calls == 3
    q.shutdown()
    await runner
    assert q.num_requeues("k") == 0  # forgotten once it succeeded
