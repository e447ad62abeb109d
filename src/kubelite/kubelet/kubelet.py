"""The kubelet: pod sources -> pod workers -> runtime -> status manager (rule 4).

Contract:
- desired pods come from the API (pods bound to this node, by an informer) and from the
  static manifest folder (polled every ``file_check_frequency``); mirror pods in the API
  only mirror static pods and are never run;
- one worker per pod uid at a time (a work queue keyed by uid); every event only wakes
  the worker, which re-reads desired and actual state (rules 1 and 3);
- the PLEG relists the runtime every ``relist_period`` seconds and wakes the workers of
  pods whose containers changed;
- a pod with a deletionTimestamp is stopped (preStop, grace period) and then deleted
  from the API with grace 0 and a uid precondition; a pod gone from every source is
  removed from the runtime; runtime pods nobody wants are removed once the sources
  have synced;
- containers outlive the kubelet: a new kubelet adopts them (restart counts come from
  the runtime's ``attempt``);
- probes (``prober``) run beside the pod workers; a changed probe result wakes the pod's
  worker, which kills containers that failed liveness or startup and reports readiness.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kubelite.aio import tasks as aiotasks
from kubelite.api.errors import StatusError
from kubelite.api.meta_time import Clock, parse_time, utcnow
from kubelite.client.events import EventRecorder
from kubelite.client.informer import Informer
from kubelite.client.resources import CONFIGMAPS, PODS, SECRETS
from kubelite.client.rest import ApiClient
from kubelite.client.workqueue import WorkQueue, run_workers
from kubelite.kubelet import labels as L
from kubelite.kubelet import static_pods
from kubelite.kubelet.backoff import Backoff
from kubelite.kubelet.config import KubeletConfig
from kubelite.kubelet.image_gc import ImageGC
from kubelite.kubelet.image_puller import ImagePuller, ImageServiceLike
from kubelite.kubelet.node_status import NodeAgent
from kubelite.kubelet.pod_sync import PodSyncer
from kubelite.kubelet.podspec import JSON, app_containers, grace_period, is_mirror, meta
from kubelite.kubelet.prober.manager import ProbeManager
from kubelite.kubelet.status import KUBELET_CONDITIONS, StatusInputs, generate_pod_status
from kubelite.kubelet.status_manager import StatusManager
from kubelite.kubelet.volumes import VolumeManager
from kubelite.runtime.protocol import ContainerRuntime, RuntimeServiceError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContainerLookup:
    """What the kubelet's HTTPS server needs to serve logs, exec, attach, port-forward."""

    pod_uid: str
    container_id: str
    sandbox_id: str
    log_path: str
    runtime: ContainerRuntime


class Kubelet:
    def __init__(self, client: ApiClient, runtime: ContainerRuntime, images: ImageServiceLike,
                 *, node_name: str, config: KubeletConfig, root_dir: str | Path,
                 node_ip: str, pod_cidr: str = "", runtime_version: str = "runc://1",
                 clock: Clock = utcnow, use_tmpfs: bool = True, relist_period: float = 1.0,
                 workers: int = 16, node_labels: dict[str, str] | None = None,
                 lease_interval: float = 10.0, image_gc: ImageGC | None = None,
                 image_gc_period: float = 300.0) -> None:
        self.client = client
        self.image_gc = image_gc
        self.image_gc_period = image_gc_period
        self.runtime = runtime
        self.node_name = node_name
        self.config = config
        self.root = Path(root_dir)
        self.node_ip = node_ip
        self.clock = clock
        self.relist_period = relist_period
        self.workers = workers
        self.recorder = EventRecorder(client, "kubelet", node_name, clock=clock)
        self.logs_root = config.pod_logs_dir or str(self.root / "pod-logs")
        self.restart_backoff = Backoff(clock=clock)
        self.pull_backoff = Backoff(clock=clock)
        self.volumes = VolumeManager(self.root, self._get_object, use_tmpfs=use_tmpfs)
        self.puller = ImagePuller(images, self.pull_backoff)
        self.syncer = PodSyncer(runtime, self.puller, self.volumes, self._get_object,
                                self._event, config, self.logs_root,
                                host_ip=lambda: self.node_ip, clock=clock,
                                backoff=self.restart_backoff)
        self.status_manager = StatusManager(client)
        self.node = NodeAgent(client, node_name, root=str(self.root), ip=node_ip,
                              kubelet_port=config.port, pod_cidr=pod_cidr,
                              max_pods=config.max_pods, runtime_version=runtime_version,
                              labels=node_labels, clock=clock, lease_interval=lease_interval,
                              lease_duration=config.node_lease_duration_seconds)
        self.pod_informer = Informer(client, PODS, field_selector=f"spec.nodeName={node_name}")
        self.queue: WorkQueue[str] = WorkQueue(base_delay=0.2, max_delay=10.0)
        self.static: dict[str, JSON] = {}
        self._static_synced = False
        self._pleg_seen: dict[str, tuple[tuple[str, str], ...]] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self._waiting: dict[str, dict[str, tuple[str, str]]] = {}
        self._failed: dict[str, tuple[str, str]] = {}
        self.syncs = 0
        self.prober = ProbeManager(runtime, events=self._event, on_change=self.queue.add,
                                   clock=clock)

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        await self.node.register()
        self.prober.start()
        self._node_events()
        self.pod_informer.add_handlers(on_add=self._on_api_pod,
                                       on_update=lambda old, new: self._on_api_pod(new),
                                       on_delete=self._on_api_pod)
        self.pod_informer.start()
        await self._poll_static_once()
        again = aiotasks.Restart()
        self._tasks = [
            aiotasks.guarded(self.node.run, "kubelet-node", restart=again),
            aiotasks.guarded(self._static_loop, "kubelet-static", restart=again),
            aiotasks.guarded(self._pleg_loop, "kubelet-pleg", restart=again),
            aiotasks.guarded(run_workers(self.queue, self._sync, self.workers),
                             "kubelet-workers"),
        ]
        if self.image_gc is not None:
            self._tasks.append(aiotasks.guarded(self._image_gc_loop, "kubelet-imagegc",
                                                restart=again))
        await self.pod_informer.wait_synced(30)

    async def _image_gc_loop(self) -> None:
        assert self.image_gc is not None
        while True:
            await asyncio.sleep(self.image_gc_period)
            try:
                await self.image_gc.collect()
            except Exception:  # a worker logs and carries on
                log.exception("image garbage collection failed")

    async def stop(self) -> None:
        """Stop watching and working; containers keep running."""
        self.queue.shutdown()
        tasks, self._tasks = self._tasks, []
        try:
            await aiotasks.stop(tasks)  # a loop that died raises here
        finally:
            await self.prober.stop()
            await self.pod_informer.stop()
            await self.recorder.flush()
            await self.recorder.close()

    def _node_events(self) -> None:
        """What ``kubectl describe node`` lists after a kubelet starts (the kubelet refers
        to its Node with the node name as uid)."""
        ref = {"apiVersion": "v1", "kind": "Node",
               "metadata": {"name": self.node_name, "uid": self.node_name}}
        self.recorder.event(ref, "Normal", "Starting", "Starting kubelet.")
        self.recorder.event(ref, "Normal", "NodeAllocatableEnforced",
                            "Updated Node Allocatable limit across pods")
        if self.node.created:
            for reason in ("NodeHasSufficientMemory", "NodeHasNoDiskPressure",
                           "NodeHasSufficientPID", "NodeReady"):
                self.recorder.event(ref, "Normal", reason,
                                    f"Node {self.node_name} status is now: {reason}")

    # -- sources -------------------------------------------------------------------------

    def _on_api_pod(self, pod: JSON) -> None:
        m = meta(pod)
        if is_mirror(pod):
            static_uid = str((m.get("annotations") or {}).get(L.CONFIG_MIRROR, ""))
            if static_uid in self.static:
                self.queue.add(static_uid)
            else:
                self.queue.add("mirror:" + f"{m.get('namespace')}/{m.get('name')}")
            return
        self.queue.add(str(m.get("uid")))

    async def _poll_static_once(self) -> None:
        path = self.config.static_pod_path
        pods = await asyncio.to_thread(static_pods.read_manifests, path, self.node_name) \
            if path else {}
        old = self.static
        self.static = pods
        self._static_synced = True
        for uid in set(old) | set(pods):
            if old.get(uid) != pods.get(uid) and (uid not in old or uid not in pods):
                self.queue.add(uid)

    async def _static_loop(self) -> None:
        last: tuple[tuple[str, float, int], ...] | None = None
        while True:
            path = self.config.static_pod_path
            if path:
                fp = await asyncio.to_thread(static_pods.fingerprint, path)
                if fp != last:
                    last = fp
                    await self._poll_static_once()
            await asyncio.sleep(self.config.file_check_frequency)

    def desired(self, uid: str) -> tuple[JSON | None, str]:
        """The pod for ``uid`` and its source: "api", "file" or ""."""
        if uid in self.static:
            return self.static[uid], "file"
        for pod in self.pod_informer.list():
            if meta(pod).get("uid") == uid and not is_mirror(pod):
                return pod, "api"
        return None, ""

    def _api_pod_by_uid(self) -> dict[str, JSON]:
        return {str(meta(p).get("uid")): p for p in self.pod_informer.list() if not is_mirror(p)}

    # -- PLEG ----------------------------------------------------------------------------

    async def _pleg_loop(self) -> None:
        n = 0
        while True:
            try:
                await self.relist()
            except (RuntimeServiceError, OSError) as exc:  # the next relist tries again
                log.warning("PLEG relist failed: %s", exc)
            n += 1
            if n % 60 == 0:
                self.restart_backoff.gc()
                self.puller.gc()
            await asyncio.sleep(self.relist_period)

    async def relist(self) -> None:
        containers = await self.runtime.list_containers()
        sandboxes = await self.runtime.list_pod_sandboxes()
        seen: dict[str, list[tuple[str, str]]] = {}
        for c in containers:
            uid = c.labels.get(L.POD_UID)
            if uid:
                seen.setdefault(uid, []).append((c.id, str(c.state)))
        for s in sandboxes:
            uid = s.labels.get(L.POD_UID) or s.uid
            if uid:
                seen.setdefault(uid, []).append((s.id, str(s.state)))
        now = {uid: tuple(sorted(v)) for uid, v in seen.items()}
        for uid, sig in now.items():
            if self._pleg_seen.get(uid) != sig:
                self.queue.add(uid)
        if self.pod_informer.synced and self._static_synced:
            wanted = set(self.static) | set(self._api_pod_by_uid())
            for uid in now:
                if uid not in wanted:
                    self.queue.add(uid)
        self._pleg_seen = now

    def resync_all(self) -> None:
        """Wake every pod's worker (tests with a fake clock call this after advancing)."""
        for uid in set(self.static) | set(self._api_pod_by_uid()):
            self.queue.add(uid)

    # -- the worker ----------------------------------------------------------------------

    async def _sync(self, key: str) -> None:
        self.syncs += 1
        if key.startswith("mirror:"):
            await self._orphan_mirror(key[len("mirror:"):])
            return
        uid = key
        pod, source = self.desired(uid)
        if pod is None:
            if self.pod_informer.synced and self._static_synced:
                for p in self.pod_informer.list():
                    if is_mirror(p) and (meta(p).get("annotations") or {}).get(
                            L.CONFIG_MIRROR) == uid:
                        await self._orphan_mirror(f"{meta(p).get('namespace')}/"
                                                  f"{meta(p).get('name')}")
                await self.prober.remove(uid)
                await self.syncer.remove_pod(uid)
                self.status_manager.forget(uid)
                self._waiting.pop(uid, None)
                self._failed.pop(uid, None)
            return
        if source == "file":
            await self._ensure_mirror(pod)
        if source == "api" and meta(pod).get("deletionTimestamp"):
            await self._terminate(pod)
            return
        state = await self.syncer.inspect(uid)
        if uid in self._failed or self._deadline_exceeded(pod, source):
            await self._fail(pod, source, state)
            return
        self.prober.update(pod, state, self.node_ip)
        await self._write_status(pod, source, state, self._waiting.get(uid, {}))
        result = await self.syncer.sync(pod, state, {
            cid: (f.type.value.lower(), f.grace)
            for cid, f in self.prober.failures(uid).items()})
        self._waiting[uid] = result.waiting
        state = await self.syncer.inspect(uid)
        self.prober.update(pod, state, self.node_ip)
        await self._write_status(pod, source, state, result.waiting)
        if result.retry_after is not None:
            self.queue.add_after(uid, result.retry_after)
        deadline = self._deadline_left(pod, source)
        if deadline is not None:
            self.queue.add_after(uid, deadline + 0.05)

    def _start_time(self, pod: JSON, source: str) -> datetime | None:
        target = self._mirror_of(pod) if source == "file" else pod
        uid = str(meta(target or {}).get("uid"))
        status = self.status_manager.last(uid) or (target or {}).get("status") or {}
        start = status.get("startTime")
        return parse_time(start) if start else None

    def _deadline_left(self, pod: JSON, source: str) -> float | None:
        limit = (pod.get("spec") or {}).get("activeDeadlineSeconds")
        start = self._start_time(pod, source)
        if limit is None or start is None:
            return None
        return float(limit) - (self.clock() - start).total_seconds()

    def _deadline_exceeded(self, pod: JSON, source: str) -> bool:
        left = self._deadline_left(pod, source)
        return left is not None and left <= 0

    async def _fail(self, pod: JSON, source: str, state: Any) -> None:
        """Stop a pod the kubelet failed itself (activeDeadlineSeconds), for good."""
        uid = str(meta(pod).get("uid"))
        if uid not in self._failed:
            message = "Pod was active on the node longer than the specified deadline"
            self._failed[uid] = ("DeadlineExceeded", message)
            self._event(pod, "Warning", "DeadlineExceeded", message, "")
        await self.syncer.kill_pod(pod, state, grace_period(pod))
        state = await self.syncer.inspect(uid)
        await self._write_status(pod, source, state, {}, self._failed[uid])

    async def _write_status(self, pod: JSON, source: str, state: Any,
                            waiting: dict[str, tuple[str, str]],
                            failure: tuple[str, str] | None = None) -> None:
        target = pod
        if source == "file":
            target = self._mirror_of(pod) or {}
            if not target:
                return
        messages = await self.syncer.termination_messages(state)
        base = dict(target)
        base["spec"] = pod.get("spec") or {}
        last = self.status_manager.last(str(meta(target).get("uid")))
        if last is not None:
            base["status"] = last
        uid = str(meta(pod).get("uid"))
        started: dict[str, bool] = {}
        ready: dict[str, bool] = {}
        for c in app_containers(pod):
            latest = state.latest(str(c["name"]))
            if latest is not None:
                started[latest.id] = self.prober.started(uid, latest.name, latest.id)
                ready[latest.id] = self.prober.ready(uid, latest.name, latest.id)
        extra = [c for c in (target.get("status") or {}).get("conditions") or []
                 if c.get("type") not in KUBELET_CONDITIONS]
        status = generate_pod_status(base, state, StatusInputs(
            host_ip=self.node_ip, now=self.clock(), waiting=waiting, messages=messages,
            failure=failure, started=started, ready=ready, extra_conditions=extra))
        tm = meta(target)
        await self.status_manager.set(str(tm.get("namespace")), str(tm.get("name")),
                                      str(tm.get("uid")), status)

    async def _terminate(self, pod: JSON) -> None:
        uid = str(meta(pod).get("uid"))
        state = await self.syncer.inspect(uid)
        self.prober.update(pod, state, self.node_ip)
        await self.syncer.kill_pod(pod, state, grace_period(pod))
        state = await self.syncer.inspect(uid)
        await self._write_status(pod, "api", state, {})
        await self.prober.remove(uid)
        m = meta(pod)
        try:
            await self.client.delete(PODS, str(m.get("name")), str(m.get("namespace")),
                                     grace_period_seconds=0, uid=uid)
        except StatusError as exc:
            if exc.code not in (404, 409):
                raise
        await self.syncer.remove_pod(uid)
        self.status_manager.forget(uid)

    # -- mirror pods ---------------------------------------------------------------------

    def _mirror_of(self, static: JSON) -> JSON | None:
        m = meta(static)
        found = self.pod_informer.get(f"{m.get('namespace')}/{m.get('name')}")
        if found is None or not is_mirror(found):
            return None
        return found

    async def _ensure_mirror(self, static: JSON) -> None:
        m = meta(static)
        mirror = self._mirror_of(static)
        if mirror is not None:
            mm = meta(mirror)
            same = (mm.get("annotations") or {}).get(L.CONFIG_MIRROR) == m.get("uid")
            if same and not mm.get("deletionTimestamp"):
                return
            try:
                await self.client.delete(PODS, str(mm.get("name")), str(mm.get("namespace")),
                                         grace_period_seconds=0, uid=str(mm.get("uid")))
            except StatusError as exc:
                if exc.code not in (404, 409):
                    raise
            self.status_manager.forget(str(mm.get("uid")))
        else:
            existing = self.pod_informer.get(f"{m.get('namespace')}/{m.get('name')}")
            if existing is not None:
                return  # a regular pod holds the name
        try:
            created = await self.client.create(
                PODS, static_pods.mirror_pod(static, self.node.node_uid))
        except StatusError as exc:
            if exc.code == 409:
                self.queue.add_after(str(m.get("uid")), 0.2)
                return
            raise
        self.pod_informer.cache[f"{m.get('namespace')}/{m.get('name')}"] = created

    async def _orphan_mirror(self, key: str) -> None:
        """A mirror pod whose static pod is gone is deleted."""
        mirror = self.pod_informer.get(key)
        if mirror is None or not is_mirror(mirror) or not self._static_synced:
            return
        static_uid = (meta(mirror).get("annotations") or {}).get(L.CONFIG_MIRROR)
        if static_uid in self.static:
            return
        mm = meta(mirror)
        try:
            await self.client.delete(PODS, str(mm.get("name")), str(mm.get("namespace")),
                                     grace_period_seconds=0, uid=str(mm.get("uid")))
        except StatusError as exc:
            if exc.code not in (404, 409):
                raise

    # -- helpers -------------------------------------------------------------------------

    async def _get_object(self, kind: str, namespace: str, name: str) -> JSON | None:
        res = CONFIGMAPS if kind == "ConfigMap" else SECRETS
        try:
            return await self.client.get(res, name, namespace)
        except StatusError as exc:
            if exc.code == 404:
                return None
            raise

    def _event(self, pod: JSON, type_: str, reason: str, message: str, fp: str) -> None:
        target = pod
        if static_pods is not None and (meta(pod).get("annotations") or {}).get(
                L.CONFIG_SOURCE) == "file":
            target = self._mirror_of(pod) or pod
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
        pod = self.pod_informer.get(f"{namespace}/{pod_name}")
        uid = ""
        spec_pod = pod
        if pod is not None and is_mirror(pod):
            uid = str((meta(pod).get("annotations") or {}).get(L.CONFIG_MIRROR))
            spec_pod = self.static.get(uid)
        elif pod is not None:
            uid = str(meta(pod).get("uid"))
        if not uid or spec_pod is None:
            return None
        if container is None:
            cs = (spec_pod.get("spec") or {}).get("containers") or [{}]
            container = str(cs[0].get("name"))
        state = await self.syncer.inspect(uid)
        kind = "app" if state.latest(container, "app") is not None else "init"
        latest = state.previous(container, kind) if previous else state.latest(container, kind)
        if latest is None:
            return None
        return ContainerLookup(uid, latest.id, latest.sandbox_id, latest.log_path, self.runtime)


