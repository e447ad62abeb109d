"""``Scheduler``: watches pods and nodes; binds each pending pod of ``default-scheduler``.

Contract: a pod without ``spec.nodeName`` whose schedulerName is ``default-scheduler``
(or unset) is bound through ``pods/binding`` to a node that passes every filter, the
one with the most free cpu then memory; a pod that fits nowhere gets a
FailedScheduling event (once per distinct message) and the ``PodScheduled=False``
condition, and is retried (coalesced, within ``RETRY_COALESCE`` seconds) whenever a node
changes or a pod bound to a node goes away. One pod is scheduled at a time, so two pods
never race for the same resources.

Cost: scheduling one pod is O(nodes + pods on those nodes), from an index of bound pods by
node kept from the informer's events (as kube-scheduler's cache), never a walk over every
pod: thousands of pending pods without a node to fit must not take the loop from the API.
"""

from __future__ import annotations

import asyncio
import logging
import time

from prometheus_client import CollectorRegistry

from kubelite.aio import tasks as aiotasks
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON
from kubelite.api.meta_time import rfc3339, utcnow
from kubelite.client.errors import ClientError
from kubelite.client.events import EventRecorder
from kubelite.client.informer import Informer, object_key
from kubelite.client.resources import NODES, PODS
from kubelite.client.rest import ApiClient
from kubelite.client.workqueue import WorkQueue, run_workers
from kubelite.scheduler import preemption
from kubelite.scheduler.filters import failure_message, node_reasons, pod_requests
from kubelite.scheduler.metrics import SchedulerMetrics
from kubelite.scheduler.volume_binding import check_claims, volume_conflict

log = logging.getLogger(__name__)
NAME = "default-scheduler"
RETRY_COALESCE = 0.2


def _pending(pod: JSON) -> bool:
    spec = pod.get("spec") or {}
    meta = pod.get("metadata") or {}
    return (not spec.get("nodeName") and (spec.get("schedulerName") or NAME) == NAME
            and not meta.get("deletionTimestamp")
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))


class Scheduler:
    def __init__(self, client: ApiClient, *, registry: CollectorRegistry | None = None) -> None:
        """``registry``: where the ``scheduler_*`` series go (none when None)."""
        self.client = client
        self.pods = Informer(client, PODS)
        self.nodes = Informer(client, NODES)
        self.recorder = EventRecorder(client, NAME)
        self.queue: WorkQueue[str] = WorkQueue(base_delay=1.0, max_delay=60.0)
        self._unschedulable: dict[str, str] = {}  # pod key -> last message
        self._assumed: dict[str, str] = {}  # pod key -> node, until the informer sees it
        self._by_node: dict[str, dict[str, JSON]] = {}  # node -> key -> pod using it
        self._node_of: dict[str, str] = {}  # pod key -> node, the index's inverse
        self._retry: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self.metrics: SchedulerMetrics | None = None
        if registry is not None:
            self.metrics = SchedulerMetrics(registry, NAME)
            self.metrics.watch_queues(self.queue.__len__, self._unschedulable.__len__)

    async def start(self) -> None:
        self.pods.add_handlers(on_add=self._pod_event, on_update=lambda o, n: self._pod_event(n),
                               on_delete=self._pod_deleted)
        self.nodes.add_handlers(on_add=lambda n: self._retry_soon(),
                                on_update=lambda o, n: self._retry_soon(),
                                on_delete=lambda n: self._retry_soon())
        self.pods.start()
        self.nodes.start()
        await self.pods.wait_synced(30)
        await self.nodes.wait_synced(30)
        self._task = aiotasks.guarded(run_workers(self.queue, self._schedule, 1), "scheduler")

    async def stop(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
        self.queue.shutdown()
        await aiotasks.stop([self._task])
        self._task = None
        await self.pods.stop()
        await self.nodes.stop()
        await self.recorder.flush()
        await self.recorder.close()

    def _index(self, key: str, pod: JSON | None, node: str | None) -> None:
        """Record that ``pod`` uses ``node`` (None: uses none)."""
        old = self._node_of.pop(key, None)
        if old is not None:
            on_old = self._by_node.get(old)
            if on_old is not None:
                on_old.pop(key, None)
                if not on_old:
                    del self._by_node[old]
        if pod is not None and node:
            self._node_of[key] = node
            self._by_node.setdefault(node, {})[key] = pod

    def _pod_event(self, pod: JSON) -> None:
        key = object_key(pod)
        node = (pod.get("spec") or {}).get("nodeName") or self._assumed.get(key)
        terminal = (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
        self._index(key, pod, None if terminal else node)
        if _pending(pod):
            self.queue.add(key)
        else:
            self._assumed.pop(key, None)
            if key in self._unschedulable:
                self._unschedulable.pop(key, None)

    def _pod_deleted(self, pod: JSON) -> None:
        key = object_key(pod)
        freed = key in self._node_of  # only a pod on a node frees room for others
        self._index(key, None, None)
        self._assumed.pop(key, None)
        self._unschedulable.pop(key, None)
        if freed:
            self._retry_soon()

    def _retry_soon(self) -> None:
        """Retry every unschedulable pod once shortly, however many changes come first."""
        if self._retry is None:
            self._retry = asyncio.get_running_loop().call_later(RETRY_COALESCE,
                                                                self._retry_all)

    def _retry_all(self) -> None:
        self._retry = None
        for key in list(self._unschedulable):
            self.queue.add(key)

    async def _schedule(self, key: str) -> None:
        started = time.monotonic()
        try:
            result = await self._attempt(key)
        except Exception:
            if self.metrics is not None:
                self.metrics.attempt("error", started)
            raise
        if result is not None and self.metrics is not None:
            self.metrics.attempt(result, started)

    async def _attempt(self, key: str) -> str | None:
        """One scheduling attempt: its result, or None when the pod needs none."""
        pod = self.pods.get(key)
        if pod is None or not _pending(pod) or key in self._assumed:
            return None
        nodes = self.nodes.list()
        blocked, volumes = await check_claims(self.client, pod)
        if blocked is not None:  # retried while claims bind (no claim informer here)
            await self._unschedulable_pod(pod, key, len(nodes), {}, pre_filter=blocked)
            self.queue.add_after(key, 1.0)
            return "unschedulable"
        by_node = {name: list(self._by_node.get(name, {}).values())
                   for name in (n["metadata"]["name"] for n in nodes)}
        reasons: dict[str, list[str]] = {}
        fits: list[JSON] = []
        for n in nodes:
            name = n["metadata"]["name"]
            rs = node_reasons(pod, n, by_node.get(name, []))
            conflict = volume_conflict(volumes, n)
            rs = rs or ([conflict] if conflict else [])
            if rs:
                reasons[name] = rs
            else:
                fits.append(n)
        if not fits:
            why = preemption.eligible(pod, by_node)
            cand = None if why else preemption.pick_candidate(pod, nodes, by_node, node_reasons)
            text: str | None = None  # the derived "No preemption victims..." sentence
            if cand is not None:
                await self._preempt(pod, cand)
                text = ""  # preempted: no sentence, as kube-scheduler
            elif why == preemption.NOT_ELIGIBLE:
                text = why
            await self._unschedulable_pod(pod, key, len(nodes), reasons, text)
            return "unschedulable"
        best = max(fits, key=lambda n: self._free(n, by_node.get(n["metadata"]["name"], [])))
        bound = await self._bind(pod, key, best["metadata"]["name"], len(nodes))
        return "scheduled" if bound else "error"

    @staticmethod
    def _free(node: JSON, pods: list[JSON]) -> tuple[int, int]:
        from kubelite.scheduler.filters import _allocatable
        alloc = _allocatable(node)
        used = {"cpu": 0, "memory": 0}
        for p in pods:
            req = pod_requests(p)
            used["cpu"] += req.get("cpu", 0)
            used["memory"] += req.get("memory", 0)
        return (alloc.get("cpu", 0) - used["cpu"], alloc.get("memory", 0) - used["memory"])

    async def _bind(self, pod: JSON, key: str, node: str, n_nodes: int) -> bool:
        """Bind; False when the pod went away or was bound meanwhile."""
        meta = pod["metadata"]
        ns, name = meta.get("namespace", "default"), meta["name"]
        body = {"apiVersion": "v1", "kind": "Binding",
                "metadata": {"name": name, "namespace": ns, "uid": meta.get("uid")},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
        try:
            await self.client.create_subresource(PODS, name, "binding", body, ns)
        except StatusError as exc:
            if exc.code in (404, 409):
                return False
            raise
        self._assumed[key] = node
        self._index(key, pod, node)
        self._unschedulable.pop(key, None)
        self.recorder.event({"apiVersion": "v1", "kind": "Pod", "metadata": meta}, "Normal",
                            "Scheduled", f"Successfully assigned {ns}/{name} to {node}")
        return True

    async def _preempt(self, pod: JSON, cand: preemption.Candidate) -> None:
        """Evict the victims (DisruptionTarget condition, graceful delete, a Preempted
        event each) and nominate the node for ``pod``."""
        meta = pod["metadata"]
        for victim in cand.victims:
            vm = victim["metadata"]
            cond = {"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                    "lastTransitionTime": rfc3339(utcnow()), "reason": "PreemptionByScheduler",
                    "message": f"{NAME}: preempting to accommodate a higher priority pod"}
            try:
                await self.client.patch(PODS, vm["name"], {"status": {"conditions": [cond]}},
                                        vm.get("namespace"), patch_type="strategic",
                                        subresource="status")
                await self.client.delete(PODS, vm["name"], vm.get("namespace"),
                                         uid=vm.get("uid"))
            except StatusError as exc:
                if exc.code in (404, 409):
                    continue
                raise
            self.recorder.event({"apiVersion": "v1", "kind": "Pod", "metadata": vm},
                                "Normal", "Preempted",
                                f"Preempted by pod {meta.get('uid')} on node {cand.node}")
        try:
            await self.client.patch(PODS, meta["name"],
                                    {"status": {"nominatedNodeName": cand.node}},
                                    meta.get("namespace"), patch_type="merge",
                                    subresource="status")
        except StatusError as exc:
            log.debug("nominatedNodeName not written: %s", exc)

    async def _unschedulable_pod(self, pod: JSON, key: str, n_nodes: int,
                                 reasons: dict[str, list[str]],
                                 preemption_text: str | None = None, *,
                                 pre_filter: str | None = None) -> None:
        msg = (failure_message(n_nodes, reasons, preemption_text, pre_filter=pre_filter)
               if n_nodes
               else "no nodes available to schedule pods")
        meta = pod["metadata"]
        if self._unschedulable.get(key) != msg:
            self.recorder.event({"apiVersion": "v1", "kind": "Pod", "metadata": meta},
                                "Warning", "FailedScheduling", msg)
            cond = {"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                    "lastTransitionTime": rfc3339(utcnow()), "reason": "Unschedulable",
                    "message": msg}
            try:
                await self.client.patch(PODS, meta["name"],
                                        {"status": {"conditions": [cond], "phase": "Pending"}},
                                        meta.get("namespace"), patch_type="strategic",
                                        subresource="status")
            except (StatusError, ClientError) as exc:
                log.debug("PodScheduled condition not written: %s", exc)
        self._unschedulable[key] = msg
