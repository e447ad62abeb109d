"""A work queue's client-go series: adds, depth, waits, work time, retries, work in progress."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from kubelite.client import metrics as client_metrics
from kubelite.client.workqueue import WorkQueue
from kubelite.testing.prom import Scrape


def _scrape(registry: CollectorRegistry) -> Scrape:
    return Scrape(generate_latest(registry).decode())


async def test_queue_series_follow_adds_gets_and_dones() -> None:
    registry = CollectorRegistry()
    q: WorkQueue[str] = WorkQueue()
    q.instrument(client_metrics.for_registry(registry), "replicaset")
    q.add("a")
    q.add("a")  # already queued: not an add
    q.add("b")
    m = _scrape(registry)
    assert m.value("workqueue_adds_total", name="replicaset") == 2
    assert m.value("workqueue_depth", name="replicaset") == 2
    key = await q.get()
    m = _scrape(registry)
    assert m.value("workqueue_depth", name="replicaset") == 1
    assert m.value("workqueue_queue_duration_seconds_count", name="replicaset") == 1
    assert m.value("workqueue_longest_running_processor_seconds", name="replicaset") > 0
    q.add_rate_limited(key)
    q.done(key)
    m = _scrape(registry)
    assert m.value("workqueue_work_duration_seconds_count", name="replicaset") == 1
    assert m.value("workqueue_retries_total", name="replicaset") == 1
    assert m.value("workqueue_unfinished_work_seconds", name="replicaset") == 0
    q.shutdown()


def test_one_set_of_series_per_registry() -> None:
    registry = CollectorRegistry()
    assert client_metrics.for_registry(registry) is client_metrics.for_registry(registry)
    assert client_metrics.for_registry(CollectorRegistry()) is not \
        client_metrics.for_registry(registry)
