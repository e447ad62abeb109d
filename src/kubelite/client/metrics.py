"""client-go's metrics for the in-process clients: REST calls and work queues.

Series (names and labels as client-go's):

- ``rest_client_requests_total{code,host,method}``: every request the :class:`ApiClient`
  makes, by HTTP status (``<error>`` when no answer came);
- ``rest_client_request_duration_seconds{verb,host}``: until the answer's headers;
- ``workqueue_depth{name}``, ``workqueue_adds_total{name}``,
  ``workqueue_queue_duration_seconds{name}`` (queued until handed to a worker),
  ``workqueue_work_duration_seconds{name}`` (handed out until done),
  ``workqueue_retries_total{name}``, ``workqueue_unfinished_work_seconds{name}`` and
  ``workqueue_longest_running_processor_seconds{name}`` (keys being worked on now), one
  ``name`` per controller queue.

:func:`for_registry` makes them once per registry; every client and queue of a server
shares that one set.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REST_BUCKETS = (0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
QUEUE_BUCKETS = tuple(10e-9 * 10**i for i in range(12))  # 10ns .. 1000s, as client-go's


class ClientMetrics:
    """The REST client and work queue series of one registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}
        self.requests = Counter(
            "rest_client_requests", "Number of HTTP requests, partitioned by status code, "
            "method, and host.", ["code", "host", "method"], registry=registry)
        self.latency = Histogram(
            "rest_client_request_duration_seconds", "Request latency in seconds. Broken down "
            "by verb, and host.", ["verb", "host"], buckets=REST_BUCKETS, registry=registry)
        self.depth = Gauge("workqueue_depth", "Current depth of workqueue", ["name"],
                           registry=registry)
        self.adds = Counter("workqueue_adds", "Total number of adds handled by workqueue",
                            ["name"], registry=registry)
        self.queue_duration = Histogram(
            "workqueue_queue_duration_seconds", "How long in seconds an item stays in "
            "workqueue before being requested.", ["name"], buckets=QUEUE_BUCKETS,
            registry=registry)
        self.work_duration = Histogram(
            "workqueue_work_duration_seconds", "How long in seconds processing an item from "
            "workqueue takes.", ["name"], buckets=QUEUE_BUCKETS, registry=registry)
        self.retries = Counter("workqueue_retries", "Total number of retries handled by "
                               "workqueue", ["name"], registry=registry)
        self.unfinished = Gauge(
            "workqueue_unfinished_work_seconds", "How many seconds of work has done that is in "
            "progress and hasn't been observed by work_duration. Large values indicate stuck "
            "threads. One can deduce the number of stuck threads by observing the rate at "
            "which this increases.", ["name"], registry=registry)
        self.longest = Gauge(
            "workqueue_longest_running_processor_seconds", "How many seconds has the longest "
            "running processor for workqueue been running.", ["name"], registry=registry)

    def record_request(self, host: str, method: str, code: str, seconds: float) -> None:
        key = (host, method, code)
        children = self._children.get(key)
        if children is None:  # label lookups are the costly part: keep the children
            children = self._children[key] = (self.requests.labels(code, host, method),
                                               self.latency.labels(method, host))
        children[0].inc()
        children[1].observe(seconds)

    def queue(self, name: str, depth: Callable[[], int]) -> QueueInstruments:
        """The instruments of the queue ``name``, whose depth ``depth()`` tells."""
        self.depth.labels(name).set_function(lambda: float(depth()))
        instruments = QueueInstruments(self, name)
        self.unfinished.labels(name).set_function(instruments.unfinished_seconds)
        self.longest.labels(name).set_function(instruments.longest_seconds)
        return instruments


_BY_REGISTRY: weakref.WeakKeyDictionary[CollectorRegistry, ClientMetrics] = (
    weakref.WeakKeyDictionary())


def for_registry(registry: CollectorRegistry) -> ClientMetrics:
    """The one :class:`ClientMetrics` of ``registry`` (made on first use)."""
    found = _BY_REGISTRY.get(registry)
    if found is None:
        found = _BY_REGISTRY[registry] = ClientMetrics(registry)
    return found


class QueueInstruments:
    """What a :class:`~kubelite.client.workqueue.WorkQueue` reports; one per queue.

    Invariant: a key's queued time is kept from its ``queued`` until its ``handed_out``,
    and its start time from ``handed_out`` until ``finished``.
    """

    def __init__(self, metrics: ClientMetrics | None, name: str) -> None:
        self._queued_at: dict[Hashable, float] = {}
        self._started_at: dict[Hashable, float] = {}
        self._adds: Any = None
        if metrics is not None:
            self._adds = metrics.adds.labels(name)
            self._queue_duration = metrics.queue_duration.labels(name)
            self._work_duration = metrics.work_duration.labels(name)
            self._retries = metrics.retries.labels(name)

    def queued(self, key: Hashable) -> None:
        if self._adds is not None:
            self._adds.inc()
            self._queued_at.setdefault(key, time.monotonic())

    def handed_out(self, key: Hashable) -> None:
        if self._adds is not None:
            now = time.monotonic()
            self._queue_duration.observe(now - self._queued_at.pop(key, now))
            self._started_at[key] = now

    def finished(self, key: Hashable) -> None:
        if self._adds is not None:
            start = self._started_at.pop(key, None)
            if start is not None:
                self._work_duration.observe(time.monotonic() - start)

    def unfinished_seconds(self) -> float:
        now = time.monotonic()
        return sum(now - t for t in list(self._started_at.values()))

    def longest_seconds(self) -> float:
        started = list(self._started_at.values())
        return time.monotonic() - min(started) if started else 0.0

    def retried(self) -> None:
        if self._adds is not None:
            self._retries.inc()


NO_INSTRUMENTS = QueueInstruments(None, "")
