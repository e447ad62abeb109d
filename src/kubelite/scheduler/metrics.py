"""kube-scheduler's metrics of the scheduler: attempts and the pods waiting.

- ``scheduler_schedule_attempts_total{result,profile}``: ``scheduled``, ``unschedulable``
  or ``error`` for every pod the scheduler tried to place;
- ``scheduler_scheduling_attempt_duration_seconds{result,profile}``: how long each took;
- ``scheduler_pending_pods{queue}``: ``active`` (queued for an attempt) and
  ``unschedulable`` (waiting for a cluster change), read when scraped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

ATTEMPT_BUCKETS = tuple(0.001 * 2**i for i in range(15))  # 1ms .. 16s, as kube-scheduler's


class SchedulerMetrics:
    """The scheduler's series in ``registry`` for one profile."""

    def __init__(self, registry: CollectorRegistry, profile: str) -> None:
        self.profile = profile
        self.attempts = Counter(
            "scheduler_schedule_attempts", "Number of attempts to schedule pods, by the "
            "result. 'unschedulable' means a pod could not be scheduled, while 'error' means "
            "an internal scheduler problem.", ["result", "profile"], registry=registry)
        self.duration = Histogram(
            "scheduler_scheduling_attempt_duration_seconds", "Scheduling attempt latency in "
            "seconds (scheduling algorithm + binding)", ["result", "profile"],
            buckets=ATTEMPT_BUCKETS, registry=registry)
        self.pending = Gauge(
            "scheduler_pending_pods", "Number of pending pods, by the queue type. 'active' "
            "means number of pods in activeQ; 'unschedulable' means number of pods in "
            "unschedulablePods.", ["queue"], registry=registry)

    def watch_queues(self, active: Callable[[], int], unschedulable: Callable[[], int]) -> None:
        self.pending.labels("active").set_function(lambda: float(active()))
        self.pending.labels("unschedulable").set_function(lambda: float(unschedulable()))

    def attempt(self, result: str, started: float) -> None:
        """Record one attempt that began at ``time.monotonic()`` value ``started``."""
        self.attempts.labels(result, self.profile).inc()
        self.duration.labels(result, self.profile).observe(time.monotonic() - started)
