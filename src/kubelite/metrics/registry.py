"""One registry per server, the text exposition, and the process and Python runtime series.

Series a fresh registry carries (the Python equivalents of a Go component's):

- ``process_*`` (resident and virtual memory, cpu seconds, open fds, start time), from
  prometheus_client's process collector;
- ``python_info``, ``python_gc_objects_collected_total``, ``python_gc_collections_total``
  and friends, from prometheus_client's platform and gc collectors;
- ``python_gc_duration_seconds{generation}``: a summary of collection pauses (as
  ``go_gc_duration_seconds``), measured by one process-wide ``gc.callbacks`` hook that
  every registry reads; the hook is installed once and never removed.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics_core import Metric, SummaryMetricFamily
from prometheus_client.registry import Collector

# what kube components answer; every name here is a legacy one, so the text is 0.0.4's
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _GCPauses:
    """Process-wide totals of gc pauses per generation, fed by a ``gc.callbacks`` hook."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.total = [0.0, 0.0, 0.0]
        self._started = 0.0
        self._lock = threading.Lock()
        self._installed = False

    def install(self) -> None:
        with self._lock:
            if not self._installed:
                gc.callbacks.append(self._callback)
                self._installed = True

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        gen = int(info.get("generation", 0))
        if 0 <= gen < 3 and self._started:
            self.count[gen] += 1
            self.total[gen] += time.perf_counter() - self._started
        self._started = 0.0


_PAUSES = _GCPauses()


class GCPauseCollector(Collector):
    """``python_gc_duration_seconds{generation}``: count and sum of gc pauses."""

    def collect(self) -> Iterable[Metric]:
        family = SummaryMetricFamily(
            "python_gc_duration_seconds",
            "A summary of the pause duration of garbage collection cycles.",
            labels=["generation"])
        for gen in range(3):
            family.add_metric([str(gen)], count_value=_PAUSES.count[gen],
                              sum_value=_PAUSES.total[gen])
        return [family]


def new_registry() -> CollectorRegistry:
    """A registry with the process and Python runtime collectors registered."""
    _PAUSES.install()
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    registry.register(GCPauseCollector())
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The registry in the Prometheus text format (version 0.0.4)."""
    return generate_latest(registry)
