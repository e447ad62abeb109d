"""The ReplicaSet controller: keeps ``spec.replicas`` active pods matching the selector.

Contracts:
- :func:`plan` is pure: from a ReplicaSet, the pods of its namespace and the time it
  gives the pods to adopt and release, how many to create, which to delete (ranked by
  :func:`~kubelite.controllers.ranking.deletion_order`) and the status to write;
- pods are created in slow-start batches (1, 2, 4, ...) that stop at the first failure,
  named ``<rs>-<random>``, labelled and annotated from the template and controlled by the
  ReplicaSet (``blockOwnerDeletion``); events ``SuccessfulCreate`` / ``SuccessfulDelete``
  / ``FailedCreate`` / ``FailedDelete`` are recorded on the ReplicaSet;
- a ReplicaSet being deleted only has its status kept up to date.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from dataclasses import dataclass, field

from kubelite.aio.clock import REAL, Clock
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON, controller_ref
from kubelite.api.meta_time import rfc3339
from kubelite.api.selectors import label_selector_from_dict
from kubelite.client.events import EventRecorder
from kubelite.client.informer import Informer, object_key
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import Controller, rv_int
from kubelite.controllers.ownership import adopt_patch, classify, release_patch, status_patch
from kubelite.controllers.podcontrol import create_pods, delete_pods
from kubelite.controllers.pods import (
    available_in,
    controller_ref_of,
    is_active,
    is_available,
    is_ready,
    labels,
    meta,
    uid,
)
from kubelite.controllers.ranking import deletion_order
from kubelite.controllers.resources import PODS, REPLICASETS
from kubelite.controllers.wellformed import Quarantine

log = logging.getLogger(__name__)
BURST_REPLICAS = 500


@dataclass
class Plan:
    adopt: list[JSON] = field(default_factory=list)
    release: list[JSON] = field(default_factory=list)
    create: int = 0
    delete: list[JSON] = field(default_factory=list)
    active: list[JSON] = field(default_factory=list)
    status: JSON = field(default_factory=dict)
    requeue_after: float | None = None


def min_ready_seconds(obj: JSON) -> int:
    return int((obj.get("spec") or {}).get("minReadySeconds") or 0)


def compute_status(rs: JSON, active: list[JSON], now: dt.datetime,
                   failure: str | None = None) -> JSON:
    """The ReplicaSet status for these active pods (``calculateStatus``)."""
    template_labels = ((rs.get("spec") or {}).get("template") or {}).get("metadata") or {}
    want = template_labels.get("labels") or {}
    mrs = min_ready_seconds(rs)
    fully = sum(1 for p in active if all(labels(p).get(k) == v for k, v in want.items()))
    ready = sum(1 for p in active if is_ready(p))
    available = sum(1 for p in active if is_available(p, mrs, now))
    old = rs.get("status") or {}
    status: JSON = {"replicas": len(active)}
    if fully:
        status["fullyLabeledReplicas"] = fully
    if ready:
        status["readyReplicas"] = ready
    if available:
        status["availableReplicas"] = available
    generation = meta(rs).get("generation")
    if generation:
        status["observedGeneration"] = generation
    conditions = [c for c in old.get("conditions") or [] if c.get("type") != "ReplicaFailure"]
    old_failure = next((c for c in old.get("conditions") or []
                        if c.get("type") == "ReplicaFailure"), None)
    if failure is not None:
        if old_failure is not None:
            conditions.append(old_failure)
        else:
            reason, _, message = failure.partition(": ")
            conditions.append({"type": "ReplicaFailure", "status": "True",
                               "lastTransitionTime": rfc3339(now), "reason": reason,
                               "message": message})
    if conditions:
        status["conditions"] = conditions
    return status


def plan(rs: JSON, pods: list[JSON], now: dt.datetime) -> Plan:
    """What to do for ``rs`` given every pod of its namespace (see the module contract)."""
    selector = label_selector_from_dict((rs.get("spec") or {}).get("selector"))
    claim = classify(rs, selector, pods)
    p = Plan(adopt=claim.adopt, release=claim.release)
    active = [x for x in [*claim.owned, *claim.adopt] if is_active(x)]
    p.active = active
    want = (rs.get("spec") or {}).get("replicas")
    replicas = 1 if want is None else int(want)
    if not meta(rs).get("deletionTimestamp"):
        diff = len(active) - replicas
        if diff < 0:
            p.create = min(-diff, BURST_REPLICAS)
        elif diff > 0:
            p.delete = deletion_order(active)[:min(diff, BURST_REPLICAS)]
    p.status = compute_status(rs, active, now)
    mrs = min_ready_seconds(rs)
    waits = [w for w in (available_in(x, mrs, now) for x in active) if w is not None]
    if waits:
        p.requeue_after = min(waits) + 0.05
    return p


def pod_from_template(owner: JSON, template: JSON) -> JSON:
    """A new pod for ``owner`` (``GetPodFromTemplate``): generateName ``<owner>-``, the
    template's labels, annotations, finalizers and spec, and a controller reference."""
    tmeta = template.get("metadata") or {}
    pmeta: JSON = {"generateName": f"{meta(owner).get('name')}-",
                   "namespace": meta(owner).get("namespace"),
                   "ownerReferences": [controller_ref(owner)]}
    for key in ("labels", "annotations", "finalizers"):
        if tmeta.get(key):
            pmeta[key] = copy.deepcopy(tmeta[key])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pmeta,
            "spec": copy.deepcopy(template.get("spec") or {})}


class ReplicaSetController(Controller):
    name = "replicaset-controller"

    def __init__(self, client: ApiClient, replicasets: Informer, pods: Informer,
                 recorder: EventRecorder, *, clock: Clock = REAL, workers: int = 2) -> None:
        super().__init__(workers, clock)
        self.client = client
        self.rses = replicasets
        self.pods = pods
        self.recorder = recorder
        self.quarantine = Quarantine(self.name)

    def register(self) -> None:
        self.rses.add_handlers(on_add=self._enqueue, on_update=lambda o, n: self._enqueue(n),
                               on_delete=self._enqueue)
        self.pods.add_handlers(on_add=self._pod_changed,
                               on_update=self._pod_updated,
                               on_delete=self._pod_changed)

    def _enqueue(self, obj: JSON) -> None:
        self.queue.add(object_key(obj))

    def _pod_updated(self, old: JSON, new: JSON) -> None:
        if not self.quarantine.ok(new):
            return
        if labels(old) != labels(new) or controller_ref_of(old) != controller_ref_of(new):
            self._pod_changed(old)
        self._pod_changed(new)

    def _pod_changed(self, pod: JSON) -> None:
        if not self.quarantine.ok(pod):
            return
        ns = meta(pod).get("namespace")
        ref = controller_ref_of(pod)
        if ref is not None:
            if ref.get("kind") == "ReplicaSet":
                self.queue.add(f"{ns}/{ref.get('name')}")
            return
        for rs in self.rses.list():
            if meta(rs).get("namespace") != ns or not self.quarantine.ok(rs):
                continue
            sel = label_selector_from_dict((rs.get("spec") or {}).get("selector"))
            if sel.matches_object(pod):
                self._enqueue(rs)

    async def sync(self, key: str) -> None:
        rs = self.rses.get(key)
        if rs is None or not self.quarantine.ok(rs):
            return
        ns = str(meta(rs).get("namespace") or "")
        pods = self.quarantine.filter(p for p in self.pods.list()
                                      if meta(p).get("namespace") == ns)
        now = self.clock()
        p = plan(rs, pods, now)
        last_rv = 0
        for pod in p.release:
            last_rv = max(last_rv, await self._patch_pod(pod, release_patch(uid(rs), pod)))
        for pod in p.adopt:
            last_rv = max(last_rv, await self._patch_pod(pod, adopt_patch(controller_ref(rs),
                                                                           pod)))
        failure: str | None = None
        if p.create:
            _, failure, rv = await self._create_pods(rs, p.create)
            last_rv = max(last_rv, rv)
        if p.delete:
            last_rv = max(last_rv, await self._delete_pods(rs, p.delete))
        status = compute_status(rs, p.active, now, failure)
        if status != (rs.get("status") or {}):
            try:
                await self.client.patch(REPLICASETS, meta(rs)["name"],
                                        status_patch(rs.get("status"), status), ns,
                                        subresource="status")
            except StatusError as exc:
                if exc.code != 404:
                    raise
        if last_rv:
            await self.caught_up(self.pods, last_rv)
        if p.requeue_after is not None:
            self.queue.add_after(key, p.requeue_after)

    async def _patch_pod(self, pod: JSON, patch: JSON) -> int:
        try:
            out = await self.client.patch(PODS, meta(pod)["name"], patch,
                                          meta(pod).get("namespace"))
            return rv_int(out)
        except StatusError as exc:
            if exc.code in (404, 409, 422):
                return 0
            raise

    async def _create_pods(self, rs: JSON, count: int) -> tuple[int, str | None, int]:
        template = (rs.get("spec") or {}).get("template") or {}
        created, refusal, last_rv = await create_pods(
            self.client, self.recorder, rs,
            [pod_from_template(rs, template) for _ in range(count)])
        failure = None if refusal is None else f"FailedCreate: {refusal.message}"
        return created, failure, last_rv

    async def _delete_pods(self, rs: JSON, pods: list[JSON]) -> int:
        return await delete_pods(self.client, self.recorder, rs, pods)
