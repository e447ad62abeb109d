"""A one-node cluster in process for the storage, StatefulSet and disruption tests: API
server on a memory store, the controller manager (with the local-path provisioner under
``storage``), the scheduler and a kubelet on the fake runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kubelite.client.rest import ApiClient
from kubelite.controllers.manager import ControllerManager
from kubelite.kubelet.config import KubeletConfig, KubeletSettings
from kubelite.kubelet.kubelet import Kubelet
from kubelite.runtime.protocol import ContainerConfig
from kubelite.scheduler.scheduler import Scheduler
from kubelite.testing.fake_images import FakeImageService
from kubelite.testing.fake_runtime import FakeRuntime
from kubelite.testing.inprocess import InProcessAPI

NODE = "node1"


@dataclass
class NodeCluster:
    """``started``: the config of each container the runtime started, by name."""

    client: ApiClient
    manager: ControllerManager
    storage: Path
    started: dict[str, ContainerConfig] = field(default_factory=dict)


@asynccontextmanager
async def node_cluster(tmp_path: Path) -> AsyncIterator[NodeCluster]:
    started: dict[str, ContainerConfig] = {}

    def on_start(cfg: ContainerConfig) -> int | None:
        started[cfg.name] = cfg
        return None

    async with InProcessAPI(tmp_path) as api:
        client = api.client()
        settings = KubeletSettings(node_name=NODE, root_dir=tmp_path / "kubelet",
                                   node_ip="10.0.0.5", use_tmpfs=False, relist_period=0.1)
        kubelet = Kubelet(client, FakeRuntime(on_start=on_start), FakeImageService(),
                          KubeletConfig(), settings)
        scheduler = Scheduler(api.client())
        manager = ControllerManager(api.client(), storage_dir=tmp_path / "storage")
        await kubelet.start()
        await scheduler.start()
        await manager.start()
        try:
            yield NodeCluster(client, manager, tmp_path / "storage", started)
        finally:
            await manager.stop()
            await scheduler.stop()
            await kubelet.stop()
