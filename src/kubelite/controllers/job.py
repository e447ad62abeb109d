"""The Job controller: runs a Job's pods to completion (``pkg/controller/job`` upstream).

Contracts:
- :func:`~kubelite.controllers.jobplan.plan_job` decides; this module carries the plan
  out in its order: the status first (a conditional write of ``jobs/status``), then the
  tracking finalizers are removed (only from pods the written status records), then pods
  are deleted and created (slow-start batches), then events;
- the pods of a Job are those it controls (controller reference by uid) that match its
  selector; orphans matching the selector of a Job are adopted; pods whose Job is gone,
  or being deleted, lose the tracking finalizer so they can go;
- pods are named ``JOB-<random>`` (Indexed: ``JOB-INDEX-<random>``), carry the template's
  labels, ``batch.kubernetes.io/job-tracking`` and a controller reference to the Job;
  events as kube-controller-manager's: SuccessfulCreate, FailedCreate, SuccessfulDelete,
  Completed, BackoffLimitExceeded, DeadlineExceeded, Suspended, Resumed;
- a finished Job whose ``ttlSecondsAfterFinished`` ran out is deleted with Foreground
  propagation (the ttl-after-finished controller's part, done here).
"""

from __future__ import annotations

import copy
import logging

from kubelite.aio.clock import REAL, Clock
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON, controller_ref
from kubelite.api.selectors import label_selector_from_dict
from kubelite.client.events import EventRecorder
from kubelite.client.informer import Informer, object_key
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import Controller, rv_int
from kubelite.controllers.jobplan import (
    FAILURE_COUNT_KEY,
    INDEX_ENV,
    INDEX_KEY,
    TRACKING_FINALIZER,
    has_finalizer,
    plan_job,
)
from kubelite.controllers.ownership import adopt_patch, classify
from kubelite.controllers.podcontrol import create_pods, delete_pods
from kubelite.controllers.pods import controller_ref_of, meta, uid
from kubelite.controllers.replicaset import pod_from_template
from kubelite.controllers.resources import JOBS, PODS
from kubelite.controllers.wellformed import Quarantine

log = logging.getLogger(__name__)
REMOVE_FINALIZER: JSON = {"metadata": {"$deleteFromPrimitiveList/finalizers":
                                       [TRACKING_FINALIZER]}}


def job_ref(job: JSON) -> JSON:
    return {**controller_ref(job), "apiVersion": "batch/v1", "kind": "Job"}


def pod_for_job(job: JSON, index: int | None, failures: int | None = None) -> JSON:
    """A new pod of ``job`` (``index`` for Indexed Jobs), tracked by the finalizer;
    ``failures``: the index's failures so far (Jobs with ``backoffLimitPerIndex``)."""
    template = copy.deepcopy((job.get("spec") or {}).get("template") or {})
    pod = pod_from_template(job, template)
    pmeta = pod["metadata"]
    pmeta["ownerReferences"] = [job_ref(job)]
    pmeta["finalizers"] = [*pmeta.get("finalizers", []), TRACKING_FINALIZER]
    if index is not None:
        name = str(meta(job).get("name"))
        pmeta["generateName"] = f"{name}-{index}-"
        pmeta.setdefault("annotations", {})[INDEX_KEY] = str(index)
        pmeta.setdefault("labels", {})[INDEX_KEY] = str(index)
        if failures is not None:
            pmeta["annotations"][FAILURE_COUNT_KEY] = str(failures)
        spec = pod["spec"]
        spec["hostname"] = f"{name}-{index}"
        env_var = {"name": INDEX_ENV, "valueFrom": {"fieldRef": {
            "apiVersion": "v1", "fieldPath": f"metadata.annotations['{INDEX_KEY}']"}}}
        for key in ("initContainers", "containers"):
            for ctr in spec.get(key) or []:
                env = [e for e in ctr.get("env") or [] if e.get("name") != INDEX_ENV]
                ctr["env"] = [*env, env_var]
    return pod


class JobController(Controller):
    """Keys are ``namespace/name`` of Jobs."""

    name = "job-controller"

    def __init__(self, client: ApiClient, jobs: Informer, pods: Informer,
                 recorder: EventRecorder, *, clock: Clock = REAL, workers: int = 2) -> None:
        super().__init__(workers, clock)
        self.client = client
        self.jobs = jobs
        self.pods = pods
        self.recorder = recorder
        self.quarantine = Quarantine(self.name)

    def register(self) -> None:
        self.jobs.add_handlers(on_add=self._enqueue, on_update=lambda o, n: self._enqueue(n),
                               on_delete=self._enqueue)
        self.pods.add_handlers(on_add=self._pod_changed,
                               on_update=lambda o, n: self._pod_changed(n),
                               on_delete=self._pod_changed)

    def _enqueue(self, obj: JSON) -> None:
        self.queue.add(object_key(obj))

    def _pod_changed(self, pod: JSON) -> None:
        if not self.quarantine.ok(pod):
            return
        ref = controller_ref_of(pod)
        ns = meta(pod).get("namespace")
        if ref is not None:
            if ref.get("kind") == "Job" and str(ref.get("apiVersion", "")).startswith("batch/"):
                self.queue.add(f"{ns}/{ref.get('name')}")
            return
        for job in self.jobs.list():
            if meta(job).get("namespace") != ns or not self.quarantine.ok(job):
                continue
            try:
                sel = label_selector_from_dict((job.get("spec") or {}).get("selector"))
            except StatusError:
                continue
            if not sel.empty and sel.matches_object(pod):
                self._enqueue(job)

    async def sync(self, key: str) -> None:
        ns, _, name = key.partition("/")
        job = self.jobs.get(key)
        if job is None or not self.quarantine.ok(job):
            await self._release_orphans(ns, name, job)
            return
        all_pods = self.quarantine.filter(p for p in self.pods.list()
                                          if meta(p).get("namespace") == ns)
        try:
            selector = label_selector_from_dict((job.get("spec") or {}).get("selector"))
        except StatusError:
            return
        claim = classify(job, selector, all_pods)
        last_rv = 0
        for pod in claim.adopt:
            last_rv = max(last_rv, await self._patch_pod(pod, adopt_patch(job_ref(job), pod)))
        pods = [*claim.owned, *claim.adopt]
        if meta(job).get("deletionTimestamp"):
            for pod in pods:
                if has_finalizer(pod):
                    last_rv = max(last_rv, await self._patch_pod(pod, REMOVE_FINALIZER))
            return
        plan = plan_job(job, pods, self.clock())
        if plan.status != (job.get("status") or {}):
            body = {**job, "apiVersion": "batch/v1", "kind": "Job", "status": plan.status}
            try:
                await self.client.update(JOBS, body, ns, subresource="status")
            except StatusError as exc:
                if exc.code == 404:
                    return
                raise  # a conflict: sync again from the newer Job
        for pod in plan.remove_finalizers:
            last_rv = max(last_rv, await self._patch_pod(pod, REMOVE_FINALIZER))
        if plan.delete:
            last_rv = max(last_rv, await delete_pods(self.client, self.recorder, job,
                                                     plan.delete))
        if plan.create:
            per_index = (job.get("spec") or {}).get("backoffLimitPerIndex") is not None
            bodies = [pod_for_job(job, i, plan.index_failures.get(i, 0)
                                  if per_index and i is not None else None)
                      for i in plan.create]
            last_rv = max(last_rv, await self._create_pods(job, bodies))
        for ev in plan.events:
            self.recorder.event(job, ev.type, ev.reason, ev.message)
        if plan.delete_job:
            try:
                await self.client.delete(JOBS, name, ns, uid=uid(job),
                                         propagation_policy="Foreground")
            except StatusError as exc:
                if exc.code not in (404, 409):
                    raise
        if last_rv:
            await self.caught_up(self.pods, last_rv)
        if plan.requeue_after is not None:
            self.queue.add_after(key, max(plan.requeue_after, 0.0) + 0.05)

    async def _release_orphans(self, ns: str, name: str, job: JSON | None) -> None:
        """Pods of a Job that is gone lose the tracking finalizer."""
        for pod in self.pods.list():
            ref = controller_ref_of(pod)
            if (meta(pod).get("namespace") == ns and ref is not None
                    and ref.get("kind") == "Job" and ref.get("name") == name
                    and (job is None or ref.get("uid") != uid(job)) and has_finalizer(pod)):
                await self._patch_pod(pod, REMOVE_FINALIZER)

    async def _patch_pod(self, pod: JSON, patch: JSON) -> int:
        try:
            out = await self.client.patch(PODS, meta(pod)["name"], patch,
                                          meta(pod).get("namespace"), patch_type="strategic")
            return rv_int(out)
        except StatusError as exc:
            if exc.code in (404, 409, 422):
                return 0
            raise

    async def _create_pods(self, job: JSON, bodies: list[JSON]) -> int:
        _, refusal, last_rv = await create_pods(self.client, self.recorder, job, bodies)
        if refusal is not None:
            raise refusal  # retried with back-off; the FailedCreate event is recorded
        return last_rv
