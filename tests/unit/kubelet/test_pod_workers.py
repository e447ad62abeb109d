"""Pod workers: per-uid lifecycle states; a pending kill is never overwritten by an
update; updates while a worker is busy collapse into one more pass."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.client.informer import Informer
from kubelite.client.resources import PODS
from kubelite.kubelet.pod_manager import PodManager
from kubelite.kubelet.pod_workers import Kill, PodState, PodWork, PodWorkers, work_queue
from kubelite.testing.fake_clock import FakeClock
from kubelite.testing.waiting import eventually

JSON = dict[str, Any]


class Recorder:
    """A handler that records each pass and asks for the kills the test sets."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.kills: dict[str, Kill] = {}
        self.gate: asyncio.Event | None = None

    async def prepare(self, pod: JSON, source: str, work: PodWork) -> Kill | None:
        return self.kills.get(work.uid)

    async def sync_pod(self, pod: JSON, source: str, work: PodWork) -> float | None:
        self.calls.append(("sync", work.uid))
        if self.gate is not None:
            await self.gate.wait()
        return None

    async def sync_terminating_pod(self, pod: JSON, source: str, work: PodWork) -> None:
        self.calls.append(("terminating", work.uid))

    async def sync_terminated_pod(self, pod: JSON, source: str, work: PodWork) -> None:
        self.calls.append(("terminated", work.uid))

    async def remove_pod(self, uid: str) -> None:
        self.calls.append(("remove", uid))

    async def delete_orphan_mirror(self, key: str) -> None:
        self.calls.append(("orphan", key))


def api_pod(uid: str) -> JSON:
    return {"metadata": {"name": uid, "namespace": "default", "uid": uid}, "spec": {}}


@pytest.fixture
async def setup() -> AsyncIterator[tuple[PodWorkers, Recorder, Informer]]:
    informer = Informer(None, PODS)  # type: ignore[arg-type]  # never started: fed by hand
    informer._synced.set()
    pods = PodManager(informer)
    pods.set_static({})
    handler = Recorder()
    workers = PodWorkers(pods, handler, work_queue(FakeClock()), workers=4)
    runner = asyncio.create_task(workers.run())
    yield workers, handler, informer
    workers.shutdown()
    await runner


async def passes(workers: PodWorkers, n: int) -> None:
    async def done() -> bool:
        return workers.passes >= n and workers.idle

    await eventually(done)


async def desired_and_synced(workers: PodWorkers, informer: Informer, uid: str) -> None:
    informer.cache[f"default/{uid}"] = api_pod(uid)
    workers.update(uid)
    await passes(workers, 1)


async def test_a_pending_kill_is_never_overwritten_by_an_update(
        setup: tuple[PodWorkers, Recorder, Informer]) -> None:
    workers, handler, informer = setup
    await desired_and_synced(workers, informer, "a")
    assert workers.state("a") is PodState.SYNCING
    handler.kills["a"] = Kill(failure=("DeadlineExceeded", "too long"))
    workers.update("a")
    await passes(workers, 2)
    assert workers.state("a") is PodState.TERMINATED
    del handler.kills["a"]  # an update that no longer asks for the kill
    workers.update("a")
    await passes(workers, 3)
    assert handler.calls == [("sync", "a"), ("terminating", "a"), ("terminated", "a")]
    handler.kills["a"] = Kill(delete=True)  # a delete still upgrades the kill
    workers.update("a")
    await passes(workers, 4)
    assert handler.calls[-1] == ("terminating", "a")
    assert workers.state("a") is PodState.TERMINATED


async def test_updates_while_busy_collapse_into_one_more_pass(
        setup: tuple[PodWorkers, Recorder, Informer]) -> None:
    workers, handler, informer = setup
    informer.cache["default/b"] = api_pod("b")
    handler.gate = asyncio.Event()
    workers.update("b")

    async def busy() -> bool:
        return handler.calls == [("sync", "b")]

    await eventually(busy)
    for _ in range(5):
        workers.update("b")
    handler.gate.set()
    await passes(workers, 2)
    assert handler.calls == [("sync", "b"), ("sync", "b")]


async def test_a_pod_gone_from_every_source_is_removed_once_sources_synced(
        setup: tuple[PodWorkers, Recorder, Informer]) -> None:
    workers, handler, informer = setup
    await desired_and_synced(workers, informer, "c")
    del informer.cache["default/c"]
    informer._synced.clear()  # not yet listed: nothing is removed
    workers.update("c")
    await passes(workers, 2)
    assert ("remove", "c") not in handler.calls
    informer._synced.set()
    workers.update("c")
    await passes(workers, 3)
    assert handler.calls[-1] == ("remove", "c")
    assert workers.state("c") is None
