"""The kubelet's own series (``/metrics``) and its probe counts (``/metrics/probes``).

- ``kubelet_running_pods``: pods with a ready sandbox; ``kubelet_running_containers
  {container_state}``: containers by runtime state (created, running, exited, unknown);
  both read from the runtime at each scrape, as the kubelet reads its runtime cache;
- ``kubelet_pod_start_duration_seconds``: for each pod, from its ``status.startTime``
  (when this kubelet first acknowledged it) to the first status it wrote with phase
  Running, observed once per pod uid;
- ``prober_probe_total{probe_type,result,container,pod,namespace,pod_uid}``: every probe
  run, ``result`` successful, failed or unknown (the probe errored), on
  ``/metrics/probes`` as on the kubelet;
- the node's ``rest_client_*`` (its API client) and the process and Python runtime series.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from kubelite import metrics as kmetrics
from kubelite.runtime.protocol import ContainerRuntime, ContainerState, SandboxState

JSON = dict[str, Any]
POD_START_BUCKETS = (0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360,
                     480, 600, 900, 1200, 1800, 2700, 3600)
PROBE_RESULTS = {"success": "successful", "failure": "failed", "unknown": "unknown"}


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class NodeMetrics:
    """The kubelet's ``/metrics`` and ``/metrics/probes`` registries for one node."""

    def __init__(self, runtime: ContainerRuntime) -> None:
        self.runtime = runtime
        self.registry = kmetrics.new_registry()
        self.probes_registry = CollectorRegistry(auto_describe=True)
        self.running_pods = Gauge("kubelet_running_pods", "Number of pods that have a "
                                  "running pod sandbox", registry=self.registry)
        self.running_containers = Gauge(
            "kubelet_running_containers", "Number of containers currently running",
            ["container_state"], registry=self.registry)
        self.pod_start = Histogram(
            "kubelet_pod_start_duration_seconds", "Duration in seconds from kubelet seeing a "
            "pod for the first time to the pod starting to run", buckets=POD_START_BUCKETS,
            registry=self.registry)
        self.probes = Counter(
            "prober_probe", "Cumulative number of a liveness, readiness or startup probe "
            "for a container by result.",
            ["probe_type", "result", "container", "pod", "namespace", "pod_uid"],
            registry=self.probes_registry)
        self._started: set[str] = set()

    async def refresh(self) -> None:
        """Count the runtime's sandboxes and containers (before a scrape); forget the
        start of pods the runtime no longer has."""
        sandboxes = await self.runtime.list_pod_sandboxes()
        self.running_pods.set(sum(1 for s in sandboxes if s.state == SandboxState.READY))
        self._started &= {s.uid for s in sandboxes}
        counts = dict.fromkeys(ContainerState, 0)
        for c in await self.runtime.list_containers():
            counts[c.state] += 1
        for state, n in counts.items():
            self.running_containers.labels(state.value).set(n)

    def pod_status_written(self, uid: str, status: JSON) -> None:
        """The status manager wrote ``status`` for pod ``uid``."""
        if status.get("phase") != "Running" or uid in self._started:
            return
        self._started.add(uid)
        start = _parse_time(status.get("startTime"))
        if start is not None:
            self.pod_start.observe(max(0.0, (datetime.now(UTC) - start).total_seconds()))

    def probe_ran(self, pod: JSON, container: str, probe_type: str, result: str) -> None:
        """One probe run: ``probe_type`` Liveness|Readiness|Startup, ``result`` as the
        prober's (success, failure, unknown)."""
        meta = pod.get("metadata") or {}
        self.probes.labels(probe_type, PROBE_RESULTS.get(result, "unknown"), container,
                           str(meta.get("name", "")), str(meta.get("namespace", "")),
                           str(meta.get("uid", ""))).inc()
