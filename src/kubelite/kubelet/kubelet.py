"""The kubelet: the wiring of its parts (rule 4). A pod flows: sources -> pod manager ->
pod workers -> pod lifecycle -> runtime manager -> runtime; the PLEG and the prober wake
the workers; the status manager writes what they saw (docs/architecture.md).

Contract:
- desired pods come from the API (pods bound to this node, by an informer) and from the
  static manifest folder (polled every ``file_check_frequency`` seconds); see
  :mod:`~kubelite.kubelet.pod_manager` and :mod:`~kubelite.kubelet.pod_workers`;
- containers outlive the kubelet: :meth:`Kubelet.stop` leaves them running and a new
  kubelet adopts them (restart counts come from the runtime's ``attempt``);
- every background loop is supervised (:mod:`kubelite.aio.tasks`): one that dies is
  logged and restarted; :meth:`Kubelet.stop` raises the error of one that could not be;
- all waiting on time goes through the given clock (a test's fake clock drives it).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from kubelite.aio import tasks as aiotasks
from kubelite.aio.clock import REAL, Clock
from kubelite.api.errors import StatusError
from kubelite.client.events import EventRecorder
from kubelite.client.informer import Informer
from kubelite.client.resources import (
    CONFIGMAPS,
    PERSISTENTVOLUMECLAIMS,
    PERSISTENTVOLUMES,
    PODS,
    SECRETS,
    SERVICES,
)
from kubelite.client.rest import ApiClient
from kubelite.kubelet import labels as L
from kubelite.kubelet import static_pods
from kubelite.kubelet.backoff import Backoff
from kubelite.kubelet.config import KubeletConfig, KubeletSettings
from kubelite.kubelet.image_gc import ImageGC
from kubelite.kubelet.image_puller import ImagePuller, ImageServiceLike
from kubelite.kubelet.kuberuntime.pod_sync import PodSyncer
from kubelite.kubelet.mirror_client import MirrorClient
from kubelite.kubelet.node_status import NodeAgent, record_start_events
from kubelite.kubelet.pleg import PLEG, RuntimeCache
from kubelite.kubelet.pod_lifecycle import PodLifecycle
from kubelite.kubelet.pod_manager import PodManager
from kubelite.kubelet.pod_workers import PodWorkers, work_queue
from kubelite.kubelet.podspec import JSON, meta
from kubelite.kubelet.prober.manager import ProbeManager
from kubelite.kubelet.status_manager import StatusManager
from kubelite.kubelet.volumes import VolumeManager
from kubelite.runtime.protocol import ContainerRuntime


@dataclass(frozen=True)
class ContainerLookup:
    """What the kubelet's HTTPS server needs to serve logs, exec, attach, port-forward."""

    pod_uid: str
    container_id: str
    sandbox_id: str
    log_path: str
    runtime: ContainerRuntime


class Kubelet:
    """One node's kubelet: builds its parts from the settings and runs their loops."""

    def __init__(self, client: ApiClient, runtime: ContainerRuntime, images: ImageServiceLike,
                 config: KubeletConfig, settings: KubeletSettings, *, clock: Clock = REAL,
                 image_gc: ImageGC | None = None) -> None:
        s = settings
        self.client, self.runtime, self.config, self.settings = client, runtime, config, s
        self.clock = clock
        self.image_gc = image_gc
        self.recorder = EventRecorder(client, "kubelet", s.node_name, clock=clock)
        logs_dir = s.logs_dir or config.pod_logs_dir or str(s.root_dir / "pod-logs")
        self.restart_backoff = Backoff(clock=clock)
        self.puller = ImagePuller(images, Backoff(clock=clock))
        self.syncer = PodSyncer(
            runtime, self.puller, VolumeManager(s.root_dir, self._get_object,
                                                use_tmpfs=s.use_tmpfs),
            self._get_object, self._event, config, logs_dir, host_ip=lambda: s.node_ip,
            clock=clock, backoff=self.restart_backoff,
            services=lambda: self.service_informer.list())
        self.service_informer = Informer(client, SERVICES)  # the pods' service variables
        self.status_manager = StatusManager(client)
        self.node = NodeAgent(client, s.node_name, root=str(s.root_dir), ip=s.node_ip,
                              kubelet_port=config.port, pod_cidr=s.pod_cidr,
                              max_pods=config.max_pods, runtime_version=s.runtime_version,
                              labels=s.node_labels, clock=clock,
                              lease_interval=s.lease_interval,
                              lease_duration=config.node_lease_duration_seconds)
        self.pod_informer = Informer(client, PODS, field_selector=f"spec.nodeName={s.node_name}")
        self.pods = PodManager(self.pod_informer)
        self.queue = work_queue(clock)
        self.prober = ProbeManager(runtime, events=self._event, on_change=self.queue.add,
                                   clock=clock)
        self.cache = RuntimeCache(runtime)
        self.pleg = PLEG(self.cache, self.queue.add, period=s.relist_period, clock=clock,
                         wanted=lambda: self.pods.wanted() if self.pods.synced else None,
                         housekeeping=self._housekeeping)
        mirrors = MirrorClient(client, self.pods, lambda: self.node.node_uid,
                               self.status_manager.forget)
        self.lifecycle = PodLifecycle(client, self.pods, mirrors, self.cache, self.syncer,
                                      self.prober, self.status_manager, self._event,
                                      wake_after=self.queue.add_after, node_ip=s.node_ip,
                                      clock=clock)
        self.workers = PodWorkers(self.pods, self.lifecycle, self.queue, workers=s.workers)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, serving_port: int | None = None) -> None:
        """Register the node (its ``daemonEndpoints`` naming ``serving_port``, the port
        the kubelet's server listens on, when given) and start every loop."""
        if serving_port is not None:
            self.node.kubelet_port = serving_port
        await self.node.register()
        self.prober.start()
        record_start_events(self.recorder, self.settings.node_name, self.node.created)
        wake = self.workers.update
        self.pod_informer.add_handlers(on_add=lambda p: wake(self.pods.worker_key(p)),
                                       on_update=lambda o, n: wake(self.pods.worker_key(n)),
                                       on_delete=lambda p: wake(self.pods.worker_key(p)))
        # the service variables of a pod need the Services read once (as the kubelet's
        # serviceHasSynced), so they are listed before the first pod is
        self.service_informer.start()
        await self.service_informer.wait_synced(30)
        self.pod_informer.start()
        path, node = self.config.static_pod_path, self.settings.node_name
        self._publish_static(await static_pods.read_folder(path, node))
        again = aiotasks.Restart()
        self._tasks = [
            aiotasks.guarded(self.node.run, "kubelet-node", restart=again, clock=self.clock),
            aiotasks.guarded(lambda: static_pods.watch_folder(
                path, node, self.config.file_check_frequency, self.clock,
                self._publish_static), "kubelet-static", restart=again, clock=self.clock),
            aiotasks.guarded(self.pleg.run, "kubelet-pleg", restart=again, clock=self.clock),
            aiotasks.guarded(self.workers.run(), "kubelet-workers"),
        ]
        if self.image_gc is not None:
            self._tasks.append(aiotasks.guarded(self._image_gc_loop, "kubelet-imagegc",
                                                restart=again, clock=self.clock))
        await self.pod_informer.wait_synced(30)

    async def stop(self) -> None:
        """Stop watching and working; containers keep running."""
        self.workers.shutdown()
        tasks, self._tasks = self._tasks, []
        try:
            await aiotasks.stop(tasks)  # a loop that died raises here
        finally:
            await self.prober.stop()
            await self.pod_informer.stop()
            await self.service_informer.stop()
            await self.recorder.flush()
            await self.recorder.close()

    def resync_all(self) -> None:
        """Wake every pod's worker (as the kubelet's periodic resync)."""
        for uid in self.pods.wanted():
            self.workers.update(uid)

    def _publish_static(self, pods: dict[str, JSON]) -> None:
        for uid in self.pods.set_static(pods):
            self.workers.update(uid)

    def _housekeeping(self) -> None:
        self.restart_backoff.gc()
        self.puller.gc()

    async def _image_gc_loop(self) -> None:
        assert self.image_gc is not None
        while True:
            await self.clock.sleep(self.settings.image_gc_period)
            await self.image_gc.collect()

    async def _get_object(self, kind: str, namespace: str, name: str) -> JSON | None:
        res = {"ConfigMap": CONFIGMAPS, "PersistentVolumeClaim": PERSISTENTVOLUMECLAIMS,
               "PersistentVolume": PERSISTENTVOLUMES}.get(kind, SECRETS)
        try:
            return await self.client.get(res, name, namespace)
        except StatusError as exc:
            if exc.code == 404:
                return None
            raise

    def _event(self, pod: JSON, type_: str, reason: str, message: str, fp: str) -> None:
        target = pod
        if (meta(pod).get("annotations") or {}).get(L.CONFIG_SOURCE) == "file":
            target = self.pods.mirror_of(pod) or pod  # a static pod's events: its mirror's
        obj = {"apiVersion": "v1", "kind": "Pod", "metadata": meta(target)}
        self.recorder.event(obj, type_, reason, message, fp)

    async def lookup_previous(self, namespace: str, pod_name: str,
                              container: str | None = None) -> ContainerLookup | None:
        """The instance before the newest one (``logs --previous``), or None."""
        return await self.lookup(namespace, pod_name, container, previous=True)

    async def lookup(self, namespace: str, pod_name: str, container: str | None = None,
                     *, previous: bool = False) -> ContainerLookup | None:
        """The newest instance of a pod's container (default: the first container), or the
        one before it with ``previous`` (for ``logs --previous``); None if there is none."""
        uid, spec_pod = self.pods.spec_pod(namespace, pod_name)
        if not uid or spec_pod is None:
            return None
        if container is None:
            cs = (spec_pod.get("spec") or {}).get("containers") or [{}]
            container = str(cs[0].get("name"))
        state = await self.cache.inspect(uid)
        kind = next((k for k in ("app", "init", "ephemeral")
                     if state.latest(container, k) is not None), "app")
        latest = state.previous(container, kind) if previous else state.latest(container, kind)
        if latest is None:
            return None
        return ContainerLookup(uid, latest.id, latest.sandbox_id, latest.log_path, self.runtime)
