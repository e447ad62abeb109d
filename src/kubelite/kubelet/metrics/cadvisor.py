"""``/metrics/cadvisor``: per container and per pod usage, labelled as cAdvisor labels it.

Series (cAdvisor's names; labels ``container``, ``id`` (the cgroup path), ``image``,
``name`` (the runtime's container id), ``namespace``, ``pod``):

- ``container_cpu_usage_seconds_total`` (with ``cpu="total"``) and
  ``container_memory_working_set_bytes`` for each running container, for its pod's cgroup
  (``container=""``) and for the machine (``id="/"``, every other label empty);
- ``container_network_{receive,transmit}_{bytes,packets,errors}_total`` per pod and
  ``interface``, read in the pod's network namespace (pods on the host network have none).

:meth:`CadvisorCollector.refresh` takes a snapshot (the runtime's lists, then every file
read in one worker thread); ``collect`` serves the last snapshot. The cgroup layout is the
OCI runtime's: ``/<cgroup root>/pod<uid>/<container id>``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kubelite.kubelet.metrics.cgroupfs import CgroupFS, Interface, net_dev
from kubelite.runtime.protocol import (
    ContainerRuntime,
    ContainerState,
    ContainerStatus,
    SandboxState,
)

LABELS = ["container", "id", "image", "name", "namespace", "pod"]
NET = [("receive_bytes", "rx_bytes", "Cumulative count of bytes received"),
       ("receive_packets", "rx_packets", "Cumulative count of packets received"),
       ("receive_errors", "rx_errors", "Cumulative count of errors encountered while receiving"),
       ("transmit_bytes", "tx_bytes", "Cumulative count of bytes transmitted"),
       ("transmit_packets", "tx_packets", "Cumulative count of packets transmitted"),
       ("transmit_errors", "tx_errors",
        "Cumulative count of errors encountered while transmitting")]


@dataclass(frozen=True)
class Target:
    """One cgroup to read, with its cAdvisor labels (in :data:`LABELS` order)."""

    cgroup: str
    labels: tuple[str, str, str, str, str, str]
    net_pid: int = 0  # a pid in the pod's network namespace (pod cgroups only)


@dataclass
class Snapshot:
    cpu: list[tuple[tuple[str, ...], float]] = field(default_factory=list)
    memory: list[tuple[tuple[str, ...], float]] = field(default_factory=list)
    net: list[tuple[tuple[str, ...], str, Interface]] = field(default_factory=list)


def read_snapshot(fs: CgroupFS, targets: list[Target]) -> Snapshot:
    """Read every target (blocking: run it in a thread)."""
    snap = Snapshot()
    for t in targets:
        cpu = fs.cpu_seconds(t.cgroup)
        if cpu is not None:
            snap.cpu.append((t.labels, cpu))
        mem = fs.working_set_bytes(t.cgroup)
        if mem is not None:
            snap.memory.append((t.labels, float(mem)))
        if t.net_pid:
            for iface, stats in sorted(net_dev(t.net_pid).items()):
                snap.net.append((t.labels, iface, stats))
    return snap


class CadvisorCollector(Collector):
    """The cAdvisor series of one node's containers (see the module docstring)."""

    def __init__(self, runtime: ContainerRuntime, cgroup_root: str,
                 fs: CgroupFS | None = None) -> None:
        self.runtime = runtime
        self.cgroup_root = cgroup_root.strip("/")
        self.fs = fs
        self.snapshot = Snapshot()

    async def targets(self) -> list[Target]:
        sandboxes = await self.runtime.list_pod_sandboxes(state=SandboxState.READY)
        containers = await self.runtime.list_containers(state=ContainerState.RUNNING)
        by_sandbox: dict[str, list[ContainerStatus]] = {}
        for c in containers:
            by_sandbox.setdefault(c.sandbox_id, []).append(c)
        out = [Target("/", ("", "/", "", "", "", ""))]
        for s in sandboxes:
            pod_cgroup = f"/{self.cgroup_root}/pod{s.uid}"
            mine = by_sandbox.get(s.id, [])
            pid = 0 if s.host_network else next((c.pid for c in mine if c.pid), 0)
            out.append(Target(pod_cgroup, ("", pod_cgroup, "", "", s.namespace, s.name),
                              net_pid=pid))
            for c in mine:
                cgroup = f"{pod_cgroup}/{c.id}"
                out.append(Target(cgroup, (c.name, cgroup, c.image, c.id, s.namespace,
                                           s.name)))
        return out

    async def refresh(self) -> None:
        """Take a new snapshot; file reads happen off the event loop."""
        if self.fs is None:
            self.fs = await asyncio.to_thread(CgroupFS)
        targets = await self.targets()
        self.snapshot = await asyncio.to_thread(read_snapshot, self.fs, targets)

    def collect(self) -> Iterable[Metric]:
        snap = self.snapshot
        cpu = CounterMetricFamily("container_cpu_usage_seconds",
                                  "Cumulative cpu time consumed in seconds.",
                                  labels=[*LABELS, "cpu"])
        for labels, value in snap.cpu:
            cpu.add_metric([*labels, "total"], value)
        mem = GaugeMetricFamily("container_memory_working_set_bytes",
                                "Current working set in bytes.", labels=LABELS)
        for labels, value in snap.memory:
            mem.add_metric(list(labels), value)
        families: list[Metric] = [cpu, mem]
        for suffix, attr, help_text in NET:
            fam = CounterMetricFamily(f"container_network_{suffix}", help_text + ".",
                                      labels=[*LABELS, "interface"])
            for labels, iface, stats in snap.net:
                fam.add_metric([*labels, iface], float(getattr(stats, attr)))
            families.append(fam)
        return families
