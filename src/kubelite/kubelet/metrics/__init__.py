"""The kubelet's metrics endpoints: ``/metrics``, ``/metrics/probes``, ``/metrics/cadvisor``.

:class:`KubeletMetrics` owns the node's registries and adds the three routes to the
kubelet's HTTPS server (which authenticates every request but ``/healthz``).
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry

from kubelite import metrics as kmetrics
from kubelite.kubelet.metrics.cadvisor import CadvisorCollector
from kubelite.kubelet.metrics.node import NodeMetrics
from kubelite.kubelet.prober.manager import ProbeManager
from kubelite.kubelet.status_manager import StatusManager
from kubelite.runtime.protocol import ContainerRuntime

__all__ = ["CadvisorCollector", "KubeletMetrics", "NodeMetrics"]


def _text(registry: CollectorRegistry) -> web.Response:
    return web.Response(body=kmetrics.render(registry),
                        headers={"Content-Type": kmetrics.CONTENT_TYPE})


class KubeletMetrics:
    """The node's series; ``cgroup_root`` None: no cAdvisor series (a fake runtime)."""

    def __init__(self, runtime: ContainerRuntime, cgroup_root: str | None) -> None:
        self.node = NodeMetrics(runtime)
        self.cadvisor_registry = CollectorRegistry(auto_describe=False)
        self.cadvisor: CadvisorCollector | None = None
        if cgroup_root is not None:
            self.cadvisor = CadvisorCollector(runtime, cgroup_root)
            self.cadvisor_registry.register(self.cadvisor)

    def observe(self, prober: ProbeManager, statuses: StatusManager) -> None:
        """Count the prober's runs and the status manager's first Running writes."""
        prober.on_result = self.node.probe_ran
        statuses.on_written = self.node.pod_status_written

    @property
    def registry(self) -> CollectorRegistry:
        return self.node.registry

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/metrics/probes", self._probes)
        app.router.add_get("/metrics/cadvisor", self._cadvisor)

    async def _metrics(self, request: web.Request) -> web.Response:
        await self.node.refresh()
        return _text(self.node.registry)

    async def _probes(self, request: web.Request) -> web.Response:
        return _text(self.node.probes_registry)

    async def _cadvisor(self, request: web.Request) -> web.Response:
        if self.cadvisor is not None:
            await self.cadvisor.refresh()
        return _text(self.cadvisor_registry)
