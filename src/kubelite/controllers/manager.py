"""``ControllerManager``: the shared informers and the workload controllers, started and
stopped together (kube-controller-manager in small).

Contract: :meth:`start` returns once every informer has synced and every controller is
running; :meth:`stop` stops the controllers first, then the informers, then flushes the
event recorder. One informer per resource is shared by all controllers.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kubelite.aio.clock import REAL, Clock
from kubelite.client.events import EventRecorder
from kubelite.client.informer import Informer
from kubelite.client.metrics import ClientMetrics
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import Controller
from kubelite.controllers.daemonset import DaemonSetController
from kubelite.controllers.deployment import DeploymentController
from kubelite.controllers.garbagecollector import GarbageCollector
from kubelite.controllers.replicaset import ReplicaSetController
from kubelite.controllers.resources import (
    CONFIGMAPS,
    DAEMONSETS,
    DEPLOYMENTS,
    NODES,
    PODS,
    REPLICASETS,
    SECRETS,
    SERVICES,
)
from kubelite.controllers.storage_wiring import StorageControllers

log = logging.getLogger(__name__)


class ControllerManager:
    def __init__(self, client: ApiClient, *, clock: Clock = REAL,
                 metrics: ClientMetrics | None = None,
                 storage_dir: Path | None = None) -> None:
        """``metrics``: where each controller's queue reports ``workqueue_*{name}``;
        ``storage_dir``: where the local-path provisioner puts claims' directories (None:
        no provisioner)."""
        self.client = client
        self.pods = Informer(client, PODS)
        self.nodes = Informer(client, NODES)
        self.replicasets = Informer(client, REPLICASETS)
        self.deployments = Informer(client, DEPLOYMENTS)
        self.daemonsets = Informer(client, DAEMONSETS)
        extra = [Informer(client, r) for r in (CONFIGMAPS, SECRETS, SERVICES)]
        self.informers = [self.pods, self.nodes, self.replicasets, self.deployments,
                          self.daemonsets, *extra]
        self.recorders = {
            name: EventRecorder(client, name, clock=clock)
            for name in ("replicaset-controller", "deployment-controller",
                         "daemonset-controller")
        }
        self.replicaset = ReplicaSetController(
            client, self.replicasets, self.pods, self.recorders["replicaset-controller"],
            clock=clock)
        self.deployment = DeploymentController(
            client, self.deployments, self.replicasets, self.pods,
            self.recorders["deployment-controller"], clock=clock)
        self.daemonset = DaemonSetController(
            client, self.daemonsets, self.pods, self.nodes,
            self.recorders["daemonset-controller"], clock=clock)
        self.storage = StorageControllers(
            client, self.pods, storage_dir, clock=clock,
            scalers={"ReplicaSet": self.replicasets, "DaemonSet": self.daemonsets})
        self.gc = GarbageCollector(
            client, [self.pods, self.replicasets, self.deployments, self.daemonsets,
                     self.nodes, *extra, *self.storage.informers])
        self.controllers: list[Controller] = [self.replicaset, self.deployment,
                                              self.daemonset, self.gc]
        self.informers += self.storage.informers
        self.controllers += self.storage.controllers
        self.recorders.update(self.storage.recorders)
        if metrics is not None:
            for c in self.controllers:  # queue names as kube-controller-manager's
                c.queue.instrument(metrics, c.name.removesuffix("-controller").replace("-", "_"))

    async def start(self) -> None:
        for c in self.controllers:
            c.register()
        for inf in self.informers:
            inf.start()
        for inf in self.informers:
            await inf.wait_synced(30)
        for c in self.controllers:
            c.start()

    async def stop(self) -> None:
        for c in reversed(self.controllers):
            await c.stop()
        for inf in self.informers:
            await inf.stop()
        for r in self.recorders.values():
            await r.flush()
            await r.close()
