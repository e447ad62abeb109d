"""The CronJob controller: starts Jobs on a schedule (``cronjob_controllerv2`` upstream).

Contracts: :func:`~kubelite.controllers.cronplan.plan_cron` decides; this module deletes
the Jobs it names (Background propagation, event SuccessfulDelete), creates the Job due
(event SuccessfulCreate; an existing Job of that name is not created twice), writes
``cronjobs/status`` when it changed, records the plan's events, and syncs again at the
next schedule time on its clock (fake in tests). A Job's changes wake its CronJob.
"""

from __future__ import annotations

import logging

from kubelite.aio.clock import REAL, Clock
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON
from kubelite.client.events import NORMAL, WARNING, EventRecorder
from kubelite.client.informer import Informer, object_key
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import Controller, rv_int
from kubelite.controllers.cronplan import plan_cron
from kubelite.controllers.pods import controller_ref_of, meta, uid
from kubelite.controllers.resources import CRONJOBS, JOBS
from kubelite.controllers.wellformed import Quarantine

log = logging.getLogger(__name__)


class CronJobController(Controller):
    """Keys are ``namespace/name`` of CronJobs."""

    name = "cronjob-controller"

    def __init__(self, client: ApiClient, cronjobs: Informer, jobs: Informer,
                 recorder: EventRecorder, *, clock: Clock = REAL, workers: int = 1) -> None:
        super().__init__(workers, clock)
        self.client = client
        self.cronjobs = cronjobs
        self.jobs = jobs
        self.recorder = recorder
        self.quarantine = Quarantine(self.name)

    def register(self) -> None:
        self.cronjobs.add_handlers(on_add=self._enqueue,
                                   on_update=lambda o, n: self._enqueue(n),
                                   on_delete=self._enqueue)
        self.jobs.add_handlers(on_add=self._job_changed,
                               on_update=lambda o, n: self._job_changed(n),
                               on_delete=self._job_changed)

    def _enqueue(self, obj: JSON) -> None:
        self.queue.add(object_key(obj))

    def _job_changed(self, job: JSON) -> None:
        ref = controller_ref_of(job)
        if ref is not None and ref.get("kind") == "CronJob":
            self.queue.add(f"{meta(job).get('namespace')}/{ref.get('name')}")

    async def sync(self, key: str) -> None:
        cj = self.cronjobs.get(key)
        if cj is None or not self.quarantine.ok(cj):
            return
        ns = str(meta(cj).get("namespace") or "")
        jobs = [j for j in self.quarantine.filter(self.jobs.list())
                if meta(j).get("namespace") == ns
                and (controller_ref_of(j) or {}).get("uid") == uid(cj)]
        plan = plan_cron(cj, jobs, self.clock())
        last_rv = 0
        for job in plan.delete:
            name = str(meta(job).get("name"))
            try:
                await self.client.delete(JOBS, name, ns, uid=uid(job),
                                         propagation_policy="Background")
                self.recorder.event(cj, NORMAL, "SuccessfulDelete", f"Deleted job {name}")
            except StatusError as exc:
                if exc.code != 404:
                    self.recorder.event(cj, WARNING, "FailedDelete",
                                        f"Deleted job: {exc.message}")
                    raise
        status = plan.status
        if plan.create is not None:
            name = meta(plan.create)["name"]
            try:
                out = await self.client.create(JOBS, plan.create, ns)
                last_rv = rv_int(out)
                self.recorder.event(cj, NORMAL, "SuccessfulCreate", f"Created job {name}")
                status.setdefault("active", []).append({
                    "apiVersion": "batch/v1", "kind": "Job", "name": name, "namespace": ns,
                    "uid": uid(out), "resourceVersion": meta(out).get("resourceVersion")})
            except StatusError as exc:
                if exc.code != 409:
                    self.recorder.event(cj, WARNING, "FailedCreate",
                                        f"Error creating job: {exc.message}")
                    raise
        if status != (cj.get("status") or {}):
            body = {**cj, "apiVersion": "batch/v1", "kind": "CronJob", "status": status}
            try:
                await self.client.update(CRONJOBS, body, ns, subresource="status")
            except StatusError as exc:
                if exc.code != 404:
                    raise
        for ev in plan.events:
            self.recorder.event(cj, ev.type, ev.reason, ev.message)
        if last_rv:
            await self.caught_up(self.jobs, last_rv)
        if plan.requeue_after is not None:
            self.queue.add_after(key, plan.requeue_after)
