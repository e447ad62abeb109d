"""The PLEG and the runtime status cache: one listing per relist fills the cache; a pass
reads the cache instead of asking again; an older answer never replaces a newer one; a
relist that fails is retried on the next period."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubelite.aio import tasks as aiotasks
from kubelite.kubelet import labels as L
from kubelite.kubelet.kuberuntime.actions import PodRuntimeState
from kubelite.kubelet.pleg import PLEG, RuntimeCache
from kubelite.runtime.protocol import ContainerState, ContainerStatus
from kubelite.testing.fake_clock import FakeClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def ctr(cid: str, uid: str, state: ContainerState = ContainerState.RUNNING) -> ContainerStatus:
    return ContainerStatus(
        id=cid, sandbox_id="sb", name="app", attempt=0, state=state, created_at=T0,
        started_at=T0, finished_at=None, exit_code=None, reason="", message="",
        image="busybox", image_id="", pid=None, log_path="",
        labels={L.POD_UID: uid, L.CONTAINER_TYPE: "app"}, annotations={})


class ListingRuntime:
    """Answers listings from ``containers``; counts them; fails when told to."""

    def __init__(self) -> None:
        self.containers: list[ContainerStatus] = []
        self.listings = 0
        self.fail_next: Exception | None = None

    async def list_containers(self, *, labels: dict[str, str] | None = None,
                              **_: Any) -> list[ContainerStatus]:
        self.listings += 1
        if self.fail_next is not None:
            err, self.fail_next = self.fail_next, None
            raise err
        return [c for c in self.containers
                if all(c.labels.get(k) == v for k, v in (labels or {}).items())]

    async def list_pod_sandboxes(self, **_: Any) -> list[Any]:
        return []


def setup(wanted: set[str] | None = None) -> tuple[ListingRuntime, RuntimeCache, PLEG,
                                                   list[str], FakeClock]:
    runtime = ListingRuntime()
    cache = RuntimeCache(runtime)  # type: ignore[arg-type]
    woken: list[str] = []
    clock = FakeClock()
    pleg = PLEG(cache, woken.append, wanted=lambda: wanted, period=1.0, clock=clock)
    return runtime, cache, pleg, woken, clock


async def test_a_relist_fills_the_cache_and_wakes_changed_pods_only() -> None:
    runtime, cache, pleg, woken, _ = setup()
    runtime.containers = [ctr("c1", "u1"), ctr("c2", "u2")]
    await pleg.relist()
    assert sorted(woken) == ["u1", "u2"]
    runtime.containers = [ctr("c1", "u1"), ctr("c2", "u2", ContainerState.EXITED)]
    woken.clear()
    await pleg.relist()
    assert woken == ["u2"]
    listings = runtime.listings
    state = await cache.current("u2")  # a pass reads the cache: no listing
    assert runtime.listings == listings
    assert state == PodRuntimeState((), (runtime.containers[1],))


async def test_pods_nobody_wants_are_woken_once_the_sources_synced() -> None:
    runtime, _, pleg, woken, _ = setup(wanted={"u1"})
    runtime.containers = [ctr("c1", "u1"), ctr("c9", "stray")]
    await pleg.relist()
    woken.clear()
    await pleg.relist()  # nothing changed: only the stray pod's worker, to remove it
    assert woken == ["stray"]


async def test_an_older_answer_never_replaces_a_newer_one() -> None:
    runtime, cache, _, _, _ = setup()
    old = cache.stamp()
    runtime.containers = [ctr("c1", "u1", ContainerState.EXITED)]
    fresh = await cache.inspect("u1")
    cache.put("u1", PodRuntimeState((), (ctr("c1", "u1"),)), old)  # a slow relist lands late
    assert cache.get("u1") == fresh


async def test_the_pleg_survives_an_os_error_and_relists_next_period() -> None:
    runtime, _, pleg, woken, clock = setup()
    task = aiotasks.guarded(pleg.run(), "pleg")
    await clock.advance(0)
    runtime.fail_next = OSError(2, "No such file or directory")
    runtime.containers = [ctr("c1", "u1")]
    await clock.advance(1)  # this relist fails
    assert woken == []
    await clock.advance(1)  # the next one sees the container
    assert woken == ["u1"]
    assert not task.done()
    await aiotasks.stop([task])
    assert task.cancelled()
