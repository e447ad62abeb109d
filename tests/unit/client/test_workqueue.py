"""Work queue: dedupe, one worker per key, dirty requeue, backoff."""

from __future__ import annotations

import asyncio

from kubelite.client.workqueue import WorkQueue, run_workers


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
        await asyncio.sleep(0.005)
        active.discard(key)
        handled += 1

    runner = asyncio.create_task(run_workers(q, handle, workers=4))
    for _ in range(20):
        q.add("same")
        q.add("other")
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.05)
    q.shutdown()
    await runner
    assert overlaps == 0
    assert 2 <= handled < 40


async def test_rate_limited_backoff_grows_and_forget_resets() -> None:
    q: WorkQueue[str] = WorkQueue(base_delay=0.01, max_delay=0.04)
    q.add_rate_limited("k")
    q.add_rate_limited("k")
    assert q.num_requeues("k") == 2
    await asyncio.sleep(0.03)
    assert await asyncio.wait_for(q.get(), 1) == "k"
    q.forget("k")
    assert q.num_requeues("k") == 0


async def test_add_after_waits() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add_after("k", 0.05)
    assert len(q) == 0
    await asyncio.sleep(0.08)
    assert len(q) == 1


async def test_failing_handler_is_retried() -> None:
    q: WorkQueue[str] = WorkQueue(base_delay=0.001)
    calls = 0

    async def handle(key: str) -> None:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RuntimeError("transient")

    runner = asyncio.create_task(run_workers(q, handle))
    q.add("k")
    for _ in range(100):
        if calls >= 3:
            break
        await asyncio.sleep(0.01)
    q.shutdown()
    await runner
    assert calls == 3
