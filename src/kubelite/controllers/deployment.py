"""The Deployment controller: ReplicaSets named ``<deployment>-<pod-template-hash>``,
rolled by RollingUpdate or Recreate, with revisions, history cleanup and status.

Contracts:
- the *new* ReplicaSet is the one whose template equals the Deployment's ignoring the
  ``pod-template-hash`` label; every other owned ReplicaSet is *old*;
- a RollingUpdate never has more than ``replicas + maxSurge`` pods specified, nor fewer
  than ``replicas - maxUnavailable`` available while it scales old ReplicaSets down;
  Recreate scales the old ones to 0 and waits until their pods are gone first;
- a change of ``spec.replicas`` alone (a *scaling event*), or any change while paused,
  resizes the existing ReplicaSets proportionally and does not roll;
- status and the Progressing / Available conditions follow ``syncRolloutStatus`` and
  ``calculateStatus``, which is what ``kubectl rollout status`` reads (those pure
  functions are in :mod:`~kubelite.controllers.deployment_status`; the replica
  arithmetic is in :mod:`~kubelite.controllers.rollout`).
"""

from __future__ import annotations

import copy
import datetime as dt
import logging

from kubelite.aio.clock import REAL, Clock
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON, controller_ref
from kubelite.api.meta_time import parse_time
from kubelite.api.selectors import label_selector_from_dict
from kubelite.client.events import NORMAL, EventRecorder
from kubelite.client.informer import Informer, object_key
from kubelite.client.rest import ApiClient
from kubelite.controllers import rollout as ro
from kubelite.controllers.base import Controller, rv_int
from kubelite.controllers.deployment_status import (
    FOUND_NEW_RS,
    NEW_RS_AVAILABLE,
    NEW_RS_CREATED,
    PAUSED,
    PROGRESSING,
    RESUMED,
    TIMED_OUT,
    calculate_status,
    deployment_complete,
    get_condition,
    has_progress_deadline,
    rollout_status,
    set_condition,
)
from kubelite.controllers.hashing import compute_hash
from kubelite.controllers.ownership import adopt_patch, classify, release_patch
from kubelite.controllers.pods import controller_ref_of, meta, uid
from kubelite.controllers.resources import DEPLOYMENTS, REPLICASETS
from kubelite.controllers.wellformed import Quarantine

log = logging.getLogger(__name__)

# Annotations of a Deployment that are not copied to its ReplicaSets.
_SKIPPED_ANNOTATIONS = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration", ro.REVISION, ro.REVISION_HISTORY,
    ro.DESIRED_REPLICAS, ro.MAX_REPLICAS, "deprecated.deployment.rollback.to",
})


def new_rs_template(d: JSON, pod_hash: str) -> JSON:
    template: JSON = copy.deepcopy((d.get("spec") or {}).get("template") or {})
    tmeta = template.setdefault("metadata", {})
    tmeta["labels"] = {**(tmeta.get("labels") or {}), ro.POD_TEMPLATE_HASH: pod_hash}
    return template


def find_new_rs(d: JSON, rses: list[JSON]) -> JSON | None:
    """The oldest ReplicaSet whose template equals the Deployment's, ignoring the hash."""
    want = ro.template_without_hash((d.get("spec") or {}).get("template"))
    for rs in sorted(rses, key=lambda r: (str(meta(r).get("creationTimestamp") or ""),
                                          str(meta(r).get("name")))):
        if ro.template_without_hash((rs.get("spec") or {}).get("template")) == want:
            return rs
    return None


def new_rs_annotations(d: JSON, rs_annotations: dict[str, str], new_revision: int,
                       exists: bool) -> dict[str, str]:
    """``SetNewReplicaSetAnnotations`` + ``SetReplicasAnnotations`` (returns a new dict)."""
    out = dict(rs_annotations)
    for k, v in (meta(d).get("annotations") or {}).items():
        if k not in _SKIPPED_ANNOTATIONS:
            out[k] = v
    old_rev = out.get(ro.REVISION)
    try:
        old_int = int(old_rev) if old_rev is not None else 0
    except ValueError:
        old_int = 0
    if old_int < new_revision:
        out[ro.REVISION] = str(new_revision)
        if old_rev and exists:
            hist = out.get(ro.REVISION_HISTORY)
            out[ro.REVISION_HISTORY] = f"{hist},{old_rev}" if hist else old_rev
    elif old_rev is None:
        out[ro.REVISION] = str(new_revision)
    out[ro.DESIRED_REPLICAS] = str(ro.replicas_of(d))
    out[ro.MAX_REPLICAS] = str(ro.replicas_of(d) + ro.max_surge(d))
    return out


class DeploymentController(Controller):
    name = "deployment-controller"

    def __init__(self, client: ApiClient, deployments: Informer, replicasets: Informer,
                 pods: Informer, recorder: EventRecorder, *, clock: Clock = REAL,
                 workers: int = 2) -> None:
        super().__init__(workers, clock)
        self.client = client
        self.deploys = deployments
        self.rses = replicasets
        self.pods = pods
        self.recorder = recorder
        self.quarantine = Quarantine(self.name)

    def register(self) -> None:
        self.deploys.add_handlers(on_add=self._enqueue, on_update=lambda o, n: self._enqueue(n),
                                  on_delete=self._enqueue)
        self.rses.add_handlers(on_add=self._rs_changed,
                               on_update=self._rs_updated,
                               on_delete=self._rs_changed)
        self.pods.add_handlers(on_delete=self._pod_deleted)

    def _enqueue(self, obj: JSON) -> None:
        self.queue.add(object_key(obj))

    def _rs_updated(self, old: JSON, new: JSON) -> None:
        if controller_ref_of(old) != controller_ref_of(new):
            self._rs_changed(old)
        self._rs_changed(new)

    def _rs_changed(self, rs: JSON) -> None:
        if not self.quarantine.ok(rs):
            return
        ns = meta(rs).get("namespace")
        ref = controller_ref_of(rs)
        if ref is not None:
            if ref.get("kind") == "Deployment":
                self.queue.add(f"{ns}/{ref.get('name')}")
            return
        for d in self.deploys.list():
            if meta(d).get("namespace") == ns and label_selector_from_dict(
                    (d.get("spec") or {}).get("selector")).matches_object(rs):
                self._enqueue(d)

    def _pod_deleted(self, pod: JSON) -> None:
        # Recreate waits for old pods to be gone
        ref = controller_ref_of(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.rses.get(f"{meta(pod).get('namespace')}/{ref.get('name')}")
        if rs is not None:
            self._rs_changed(rs)

    # -- sync ----------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        d = self.deploys.get(key)
        if d is None or not self.quarantine.ok(d):
            return
        d = copy.deepcopy(d)
        ns = str(meta(d).get("namespace") or "")
        selector = label_selector_from_dict((d.get("spec") or {}).get("selector"))
        if selector.empty:
            return  # upstream refuses to act on a selector that selects everything
        rses = self.quarantine.filter(r for r in self.rses.list()
                                      if meta(r).get("namespace") == ns)
        claim = classify(d, selector, rses)
        for rs in claim.release:
            await self._patch_rs(rs, release_patch(uid(d), rs))
        adopted = []
        for rs in claim.adopt:
            out = await self._patch_rs(rs, adopt_patch(controller_ref(d), rs))
            if out is not None:
                adopted.append(out)
        owned = [*claim.owned, *adopted]
        now = self.clock()
        if meta(d).get("deletionTimestamp"):
            new_rs = find_new_rs(d, owned)
            await self._write_status(d, calculate_status(d, owned, new_rs, now))
            return
        self._paused_condition(d, now)
        spec = d.get("spec") or {}
        if spec.get("paused") or self._scaling_event(d, owned):
            await self._sync_scale(d, owned, now)
            return
        if ro.is_rolling(d):
            await self._rolling(d, owned, now)
        else:
            await self._recreate(d, owned, now)

    def _paused_condition(self, d: JSON, now: dt.datetime) -> None:
        if not has_progress_deadline(d):
            return
        status = d.setdefault("status", {})
        cond = get_condition(status, PROGRESSING)
        paused_cond = cond is not None and cond.get("reason") == PAUSED
        if (d.get("spec") or {}).get("paused") and not paused_cond:
            set_condition(status, PROGRESSING, "Unknown", PAUSED, "Deployment is paused", now)
        elif not (d.get("spec") or {}).get("paused") and paused_cond:
            set_condition(status, PROGRESSING, "Unknown", RESUMED, "Deployment is resumed",
                          now)

    @staticmethod
    def _scaling_event(d: JSON, owned: list[JSON]) -> bool:
        new_rs = find_new_rs(d, owned)
        if new_rs is None:
            return False
        for rs in owned:
            if ro.replicas_of(rs) <= 0:
                continue
            desired = ro.annotation_int(rs, ro.DESIRED_REPLICAS)
            if desired is not None and desired != ro.replicas_of(d):
                return True
        return False

    async def _sync_scale(self, d: JSON, owned: list[JSON], now: dt.datetime) -> None:
        new_rs = find_new_rs(d, owned)
        if new_rs is not None:
            new_rs = await self._sync_new_rs_annotations(d, owned, new_rs)
        old = [r for r in owned if new_rs is None or uid(r) != uid(new_rs)]
        await self._scale(d, new_rs, old)
        owned = self._refresh(owned)
        new_rs = self._refresh([new_rs])[0] if new_rs is not None else None
        if (d.get("spec") or {}).get("paused"):
            await self._cleanup(d, [r for r in owned if new_rs is None or uid(r) != uid(new_rs)])
        await self._write_status(d, calculate_status(d, owned, new_rs, now))

    async def _scale(self, d: JSON, new_rs: JSON | None, old: list[JSON]) -> None:
        active = [r for r in [new_rs, *old] if r is not None and ro.replicas_of(r) > 0]
        target: JSON | None = None
        if not active:
            if new_rs is not None:
                target = new_rs
            elif old:
                target = max(old, key=lambda r: (str(meta(r).get("creationTimestamp")),
                                                 meta(r).get("name")))
        elif len(active) == 1:
            target = active[0]
        if target is not None:
            await self._scale_rs(d, target, ro.replicas_of(d))
            return
        if new_rs is not None and ro.replicas_of(new_rs) == ro.replicas_of(d) and int(
                (new_rs.get("status") or {}).get("availableReplicas") or 0) == ro.replicas_of(d):
            for r in old:
                if ro.replicas_of(r) > 0:
                    await self._scale_rs(d, r, 0)
            return
        if ro.is_rolling(d):
            sizes = ro.proportional_scale(d, active)
            for r in active:
                await self._scale_rs(d, r, sizes.get(ro.name_of(r), ro.replicas_of(r)))

    async def _rolling(self, d: JSON, owned: list[JSON], now: dt.datetime) -> None:
        new_rs = await self._get_new_rs(d, owned, create=True, now=now)
        old = [r for r in owned if new_rs is None or uid(r) != uid(new_rs)]
        all_rses = [*old, *([new_rs] if new_rs is not None else [])]
        if new_rs is not None:
            want = ro.replicas_of(d)
            size = ro.replicas_of(new_rs)
            if size > want:
                target = want
            elif size < want:
                target = ro.new_rs_replicas(d, all_rses, new_rs)
            else:
                target = size
            if target != size:
                new_rs = await self._scale_rs(d, new_rs, target)
                await self._finish(d, [*old, new_rs], new_rs, now)
                return
        plan = ro.plan_old_scale_down(d, new_rs, [r for r in old if ro.replicas_of(r) > 0])
        if plan:
            for r in old:
                n = ro.name_of(r)
                if n in plan and plan[n] != ro.replicas_of(r):
                    await self._scale_rs(d, r, plan[n])
            await self._finish(d, self._refresh(all_rses), new_rs, now)
            return
        await self._finish(d, all_rses, new_rs, now, cleanup_old=old)

    async def _recreate(self, d: JSON, owned: list[JSON], now: dt.datetime) -> None:
        new_rs = await self._get_new_rs(d, owned, create=False, now=now)
        old = [r for r in owned if new_rs is None or uid(r) != uid(new_rs)]
        scaled = False
        for r in old:
            if ro.replicas_of(r) > 0:
                await self._scale_rs(d, r, 0)
                scaled = True
        if scaled:
            await self._finish(d, self._refresh(owned), new_rs, now)
            return
        old_uids = {uid(r) for r in old}
        running = [p for p in self.pods.list()
                   if (ref := controller_ref_of(p)) is not None and ref.get("uid") in old_uids
                   and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        if running:
            await self._finish(d, owned, new_rs, now)
            return
        if new_rs is None:
            new_rs = await self._get_new_rs(d, owned, create=True, now=now)
        if new_rs is not None and ro.replicas_of(new_rs) != ro.replicas_of(d):
            new_rs = await self._scale_rs(d, new_rs, ro.replicas_of(d))
            await self._finish(d, [*old, new_rs], new_rs, now)
            return
        await self._finish(d, [*old, *([new_rs] if new_rs else [])], new_rs, now, cleanup_old=old)

    async def _finish(self, d: JSON, all_rses: list[JSON], new_rs: JSON | None,
                      now: dt.datetime, cleanup_old: list[JSON] | None = None) -> None:
        status = rollout_status(d, all_rses, new_rs, now)
        if cleanup_old is not None and deployment_complete(d, status):
            await self._cleanup(d, cleanup_old)
        await self._write_status(d, status)
        cond = get_condition(status, PROGRESSING)
        if (has_progress_deadline(d) and cond is not None
                and cond.get("reason") not in (NEW_RS_AVAILABLE, TIMED_OUT)
                and not deployment_complete(d, status)):
            try:
                since = parse_time(str(cond.get("lastUpdateTime")))
                deadline = int((d.get("spec") or {}).get("progressDeadlineSeconds") or 600)
                left = (since + dt.timedelta(seconds=deadline) - now).total_seconds()
                self.queue.add_after(object_key(d), max(left, 0) + 1)
            except ValueError:
                pass

    # -- new ReplicaSet ------------------------------------------------------------------

    async def _get_new_rs(self, d: JSON, owned: list[JSON], *, create: bool,
                          now: dt.datetime) -> JSON | None:
        existing = find_new_rs(d, owned)
        old = [r for r in owned if existing is None or uid(r) != uid(existing)]
        new_revision = ro.max_revision(old) + 1
        status = d.setdefault("status", {})
        if existing is not None:
            existing = await self._sync_new_rs_annotations(d, owned, existing)
            rev = (meta(existing).get("annotations") or {}).get(ro.REVISION)
            if rev:
                meta(d).setdefault("annotations", {})[ro.REVISION] = rev
            if has_progress_deadline(d) and get_condition(status, PROGRESSING) is None:
                set_condition(status, PROGRESSING, "True", FOUND_NEW_RS,
                              f'Found new replica set "{meta(existing).get("name")}"', now)
            return existing
        if not create:
            return None
        collision = status.get("collisionCount")
        pod_hash = compute_hash((d.get("spec") or {}).get("template") or {}, collision)
        template = new_rs_template(d, pod_hash)
        selector = copy.deepcopy((d.get("spec") or {}).get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}),
                                   ro.POD_TEMPLATE_HASH: pod_hash}
        name = f"{meta(d).get('name')}-{pod_hash}"
        spec = d.get("spec") or {}
        rs: JSON = {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": meta(d).get("namespace"),
                         "labels": dict(template["metadata"]["labels"]),
                         "ownerReferences": [controller_ref(d)]},
            "spec": {"replicas": 0, "minReadySeconds": int(spec.get("minReadySeconds") or 0),
                     "selector": selector, "template": template},
        }
        rs["metadata"]["annotations"] = new_rs_annotations(d, {}, new_revision, False)
        rs["spec"]["replicas"] = ro.new_rs_replicas(d, [*old, rs], rs)
        try:
            created = await self.client.create(REPLICASETS, rs, meta(d).get("namespace"))
        except StatusError as exc:
            if exc.code != 409:
                raise
            current = await self.client.get(REPLICASETS, name, meta(d).get("namespace"))
            ref = controller_ref_of(current)
            if ref is not None and ref.get("uid") == uid(d) and ro.template_without_hash(
                    (current.get("spec") or {}).get("template")) == ro.template_without_hash(
                    spec.get("template")):
                await self.caught_up(self.rses, rv_int(current))
                return current
            status["collisionCount"] = int(collision or 0) + 1
            await self._write_status(d, status)
            raise
        await self.caught_up(self.rses, rv_int(created))
        size = ro.replicas_of(created)
        if size > 0:
            self.recorder.event(d, NORMAL, "ScalingReplicaSet",
                                f"Scaled up replica set {name} from 0 to {size}")
        meta(d).setdefault("annotations", {})[ro.REVISION] = str(new_revision)
        if has_progress_deadline(d):
            set_condition(status, PROGRESSING, "True", NEW_RS_CREATED,
                          f'Created new replica set "{name}"', now)
        return created

    async def _sync_new_rs_annotations(self, d: JSON, owned: list[JSON], rs: JSON) -> JSON:
        old = [r for r in owned if uid(r) != uid(rs)]
        new_revision = ro.max_revision(old) + 1
        anns = dict(meta(rs).get("annotations") or {})
        want = new_rs_annotations(d, anns, new_revision, True)
        mrs = int((d.get("spec") or {}).get("minReadySeconds") or 0)
        patch: JSON = {}
        if want != anns:
            patch["metadata"] = {"annotations": want}
        if int((rs.get("spec") or {}).get("minReadySeconds") or 0) != mrs:
            patch["spec"] = {"minReadySeconds": mrs}
        if not patch:
            return rs
        out = await self._patch_rs(rs, patch)
        return out if out is not None else rs

    # -- writes --------------------------------------------------------------------------

    async def _scale_rs(self, d: JSON, rs: JSON, size: int) -> JSON:
        old_size = ro.replicas_of(rs)
        anns = dict(meta(rs).get("annotations") or {})
        want_anns = {**anns, ro.DESIRED_REPLICAS: str(ro.replicas_of(d)),
                     ro.MAX_REPLICAS: str(ro.replicas_of(d) + ro.max_surge(d))}
        if old_size == size and want_anns == anns:
            return rs
        patch: JSON = {"metadata": {"annotations": want_anns}, "spec": {"replicas": size}}
        out = await self._patch_rs(rs, patch)
        if out is None:
            return rs
        if old_size != size:
            verb = "up" if size > old_size else "down"
            self.recorder.event(d, NORMAL, "ScalingReplicaSet",
                                f"Scaled {verb} replica set {ro.name_of(rs)} from {old_size} "
                                f"to {size}")
        return out

    async def _patch_rs(self, rs: JSON, patch: JSON) -> JSON | None:
        try:
            out = await self.client.patch(REPLICASETS, ro.name_of(rs), patch,
                                          meta(rs).get("namespace"))
        except StatusError as exc:
            if exc.code in (404, 409, 422):
                return None
            raise
        await self.caught_up(self.rses, rv_int(out))
        return out

    def _refresh(self, rses: list[JSON]) -> list[JSON]:
        out = []
        for r in rses:
            fresh = self.rses.get(object_key(r))
            if fresh is not None and uid(fresh) == uid(r):
                out.append(fresh)
        return out

    async def _cleanup(self, d: JSON, old: list[JSON]) -> None:
        """Delete the oldest unused ReplicaSets beyond ``revisionHistoryLimit``."""
        limit = (d.get("spec") or {}).get("revisionHistoryLimit")
        if limit is None:
            return
        alive = [r for r in old if not meta(r).get("deletionTimestamp")]
        diff = len(alive) - int(limit)
        if diff <= 0:
            return
        alive.sort(key=lambda r: (ro.revision_of(r), str(meta(r).get("creationTimestamp"))))
        for r in alive[:diff]:
            st = r.get("status") or {}
            if (int(st.get("replicas") or 0) != 0 or ro.replicas_of(r) != 0
                    or int(meta(r).get("generation") or 0) > int(st.get("observedGeneration")
                                                                 or 0)):
                continue
            try:
                await self.client.delete(REPLICASETS, ro.name_of(r), meta(r).get("namespace"),
                                         uid=uid(r))
            except StatusError as exc:
                if exc.code not in (404, 409):
                    raise

    async def _write_status(self, d: JSON, status: JSON) -> None:
        live = self.deploys.get(object_key(d))
        if live is None:
            return
        anns = meta(d).get("annotations") or {}
        live_anns = meta(live).get("annotations") or {}
        patch: JSON = {}
        if anns.get(ro.REVISION) and anns.get(ro.REVISION) != live_anns.get(ro.REVISION):
            patch["metadata"] = {"annotations": {ro.REVISION: anns[ro.REVISION]}}
        old = live.get("status") or {}
        if status != old:
            st: JSON = {k: v for k, v in status.items() if old.get(k) != v}
            for k in old:
                if k not in status:
                    st[k] = None
            patch["status"] = st
        if not patch:
            return
        try:
            out = await self.client.patch(DEPLOYMENTS, ro.name_of(d), patch,
                                          meta(d).get("namespace"), subresource="status")
        except StatusError as exc:
            if exc.code == 404:
                return
            raise
        await self.caught_up(self.deploys, rv_int(out))


__all__ = ["DeploymentController"]
