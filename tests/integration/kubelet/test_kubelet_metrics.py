"""The kubelet's /metrics and /metrics/probes on FakeRuntime: what a scrape shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from kubelite.client import metrics as client_metrics
from kubelite.client.resources import PODS
from kubelite.kubelet.config import KubeletConfig, KubeletSettings
from kubelite.kubelet.kubelet import Kubelet
from kubelite.kubelet.metrics import KubeletMetrics
from kubelite.kubelet.server import FinderLookup, KubeletServer, KubeletServerConfig
from kubelite.scheduler.scheduler import Scheduler
from kubelite.testing.fake_images import FakeImageService
from kubelite.testing.fake_runtime import FakeRuntime
from kubelite.testing.inprocess import InProcessAPI
from kubelite.testing.prom import Scrape
from kubelite.testing.waiting import eventually

JSON = dict[str, Any]
PROBE = {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 1}


async def test_pods_containers_pod_start_and_probes_are_reported(tmp_path: Path) -> None:
    files: set[str] = set()

    def exec_handler(cid: str, argv: list[str]) -> tuple[int, bytes, bytes]:
        return (0 if argv[1:2] and argv[1] in files else 1), b"", b""

    runtime = FakeRuntime(exec_handler=exec_handler)
    async with InProcessAPI(tmp_path) as api:
        client = api.client()
        metrics = KubeletMetrics(runtime, None)
        client.metrics = client_metrics.for_registry(metrics.registry)
        kubelet = Kubelet(client, runtime, FakeImageService(),
                          KubeletConfig(static_pod_path=None),
                          KubeletSettings(node_name="node1", root_dir=tmp_path / "kubelet",
                                          node_ip="10.0.0.5", use_tmpfs=False,
                                          relist_period=0.1))
        metrics.observe(kubelet.prober, kubelet.status_manager)
        server = KubeletServer(FinderLookup(kubelet), KubeletServerConfig("127.0.0.1", 0),
                               metrics=metrics)
        scheduler = Scheduler(api.client())
        await kubelet.start()
        await scheduler.start()
        await server.start()
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{server.port}") as http:
                async def scrape(path: str) -> Scrape:
                    async with http.get(path) as r:
                        assert r.status == 200
                        return Scrape(await r.text())

                pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                       "spec": {"containers": [{"name": "c", "image": "busybox",
                                                "readinessProbe": PROBE}]}}
                await client.create(PODS, pod, "default")
                labels = {"probe_type": "Readiness", "container": "c", "pod": "web",
                          "namespace": "default"}

                async def failed_once() -> bool:
                    m = await scrape("/metrics/probes")
                    return m.value("prober_probe_total", result="failed", **labels) >= 1

                await eventually(failed_once)
                files.add("/tmp/healthy")

                async def succeeded() -> bool:
                    m = await scrape("/metrics/probes")
                    return m.value("prober_probe_total", result="successful", **labels) >= 1

                await eventually(succeeded)
                m = await scrape("/metrics")
                assert m.value("kubelet_running_pods") == 1
                assert m.value("kubelet_running_containers", container_state="running") == 1
                assert m.value("kubelet_running_containers", container_state="exited") == 0
                assert m.value("kubelet_pod_start_duration_seconds_count") == 1
                assert m.value("rest_client_requests_total", method="PATCH", code="200") >= 1
                assert m.value("process_resident_memory_bytes") > 0
                cadvisor = await scrape("/metrics/cadvisor")  # no cgroups on a fake runtime
                assert not cadvisor.has("container_cpu_usage_seconds_total")
        finally:
            await server.stop()
            await scheduler.stop()
            await kubelet.stop()
