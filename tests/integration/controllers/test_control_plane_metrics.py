"""The controllers' work queues and the scheduler report on the API server's /metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubelite.client import metrics as client_metrics
from kubelite.client.resources import PODS
from kubelite.controllers.manager import ControllerManager
from kubelite.controllers.resources import REPLICASETS
from kubelite.kubelet.config import KubeletConfig, KubeletSettings
from kubelite.kubelet.kubelet import Kubelet
from kubelite.scheduler.scheduler import Scheduler
from kubelite.testing.fake_images import FakeImageService
from kubelite.testing.fake_runtime import FakeRuntime
from kubelite.testing.inprocess import InProcessAPI
from kubelite.testing.prom import Scrape
from kubelite.testing.waiting import eventually

JSON = dict[str, Any]
NS = "default"


async def _scrape(api: InProcessAPI) -> Scrape:
    async with api.http.get("/metrics") as r:
        return Scrape(await r.text())


def _replicaset(name: str, replicas: int) -> JSON:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}


async def test_work_queues_and_scheduling_attempts_are_counted(tmp_path: Path) -> None:
    async with InProcessAPI(tmp_path) as api:
        registry = api.server.metrics.registry
        shared = client_metrics.for_registry(registry)
        client = api.client()
        kubelet = Kubelet(client, FakeRuntime(), FakeImageService(),
                          KubeletConfig(static_pod_path=None),
                          KubeletSettings(node_name="node1", root_dir=tmp_path / "kubelet",
                                          node_ip="10.0.0.5", use_tmpfs=False,
                                          relist_period=0.1))
        scheduler = Scheduler(api.client(), registry=registry)
        manager = ControllerManager(api.client(), metrics=shared)
        await kubelet.start()
        await manager.start()
        await scheduler.start()
        try:
            await client.create(REPLICASETS, _replicaset("web", 2), NS)
            stuck = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stuck"},
                     "spec": {"nodeSelector": {"disk": "none"},
                              "containers": [{"name": "c", "image": "busybox"}]}}
            await client.create(PODS, stuck, NS)

            async def counted() -> Scrape | None:
                m = await _scrape(api)
                attempts = "scheduler_schedule_attempts_total"
                ok = (m.value(attempts, result="scheduled", profile="default-scheduler") == 2
                      and m.value(attempts, result="unschedulable") >= 1
                      and m.value("scheduler_pending_pods", queue="unschedulable") == 1)
                return m if ok else None

            m = await eventually(counted)
            assert m.value("workqueue_adds_total", name="replicaset") >= 1
            assert m.value("workqueue_queue_duration_seconds_count", name="replicaset") >= 1
            assert m.value("workqueue_work_duration_seconds_count", name="replicaset") >= 1
            assert m.matching("workqueue_depth", name="deployment")
            assert m.value("scheduler_pending_pods", queue="active") == 0
            assert m.value("rest_client_requests_total", method="POST", code="201") >= 3
        finally:
            await scheduler.stop()
            await manager.stop()
            await kubelet.stop()
