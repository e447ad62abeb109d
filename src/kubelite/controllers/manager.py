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
from kubelite.controllers.cronjob import CronJobController
from kubelite.controllers.daemonset import DaemonSetController
from kubelite.controllers.deployment import DeploymentController
from kubelite.controllers.endpoints import EndpointsController
from kubelite.controllers.endpointslice import EndpointSliceController
from kubelite.controllers.garbagecollector import GarbageCollector
from kubelite.controllers.job import JobController
from kubelite.controllers.replicaset import ReplicaSetController
from kubelite.controllers.resources import (
    CONFIGMAPS,
    CRONJOBS,
    DAEMONSETS,
    DEPLOYMENTS,
    ENDPOINTS,
    ENDPOINTSLICES,
    JOBS,
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
        self.jobs = Informer(client, JOBS)
        self.cronjobs = Informer(client, CRONJOBS)
        extra = [Informer(client, r) for r in (CONFIGMAPS, SECRETS, SERVICES)]
        self.informers = [self.pods, self.nodes, self.replicasets, self.deployments,
                          self.daemonsets, self.jobs, self.cronjobs, *extra]
        self.recorders = {
            name: EventRecorder(client, name, clock=clock)
            for name in ("replicaset-controller", "deployment-controller",
                         "daemonset-controller", "job-controller",
                         "cronjob-controller")
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
        self.job = JobController(client, self.jobs, self.pods,
                                 self.recorders["job-controller"], clock=clock)
        self.cronjob = CronJobController(client, self.cronjobs, self.jobs,
                                         self.recorders["cronjob-controller"], clock=clock)
        self.storage = StorageControllers(
            client, self.pods, storage_dir, clock=clock,
            scalers={"ReplicaSet": self.replicasets, "DaemonSet": self.daemonsets})
        self.gc = GarbageCollector(
            client, [self.pods, self.replicasets, self.deployments, self.daemonsets,
                     self.nodes, self.jobs, self.cronjobs, *extra, *self.storage.informers])
        self.controllers: list[Controller] = [self.replicaset, self.deployment,
                                              self.daemonset, self.job, self.cronjob,
                                              self.gc]
        self.informers += self.storage.informers
        self.controllers += self.storage.controllers
        self.recorders.update(self.storage.recorders)
        self._add_service_endpoints(client, extra[2], clock)
        if metrics is not None:
            for c in self.controllers:  # queue names as kube-controller-manager's
                c.queue.instrument(metrics, c.name.removesuffix("-controller").replace("-", "_"))

    def _add_service_endpoints(self, client: ApiClient, services: Informer,
                               clock: Clock) -> None:
        """The Endpoints and EndpointSlice controllers and their informers."""
        endpoints = Informer(client, ENDPOINTS)
        slices = Informer(client, ENDPOINTSLICES)
        self.informers += [endpoints, slices]
        self.controllers += [
            EndpointsController(client, services, self.pods, endpoints, clock=clock),
            EndpointSliceController(client, services, self.pods, slices, self.nodes,
                                    clock=clock)]

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
