"""The StatefulSet controller: stable pods ``NAME-ORDINAL`` with their claims, and
ControllerRevisions of the template.

Contracts (decisions in :mod:`kubelite.controllers.statefulset_plan`):
- each template the set has had is a ControllerRevision ``NAME-<hash>`` owned by the set,
  ``data`` the template as kube stores it (``{"spec": {"template": {..., "$patch":
  "replace"}}}``); returning to an old template reuses its revision with the next
  revision number (what ``kubectl rollout undo`` relies on); at most
  ``revisionHistoryLimit`` revisions beyond the current and update ones are kept;
- a pod is built from its revision's template: labels plus ``controller-revision-hash``,
  ``statefulset.kubernetes.io/pod-name`` and ``apps.kubernetes.io/pod-index``, hostname
  the pod's name, subdomain the set's ``serviceName``, each volumeClaimTemplate mounted
  as claim ``TEMPLATE-NAME-ORDINAL`` (created first, labelled with the selector's labels,
  owned by the set when ``whenDeleted: Delete``);
- ``whenScaled: Delete`` deletes the claims of ordinals scaled away once their pod is gone;
- events as kube's: ``SuccessfulCreate`` / ``SuccessfulDelete`` / ``FailedCreate``.
"""

from __future__ import annotations

import copy
import logging

from kubelite.aio.clock import REAL, Clock
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON, controller_ref, dig
from kubelite.client.events import NORMAL, WARNING, EventRecorder
from kubelite.client.informer import Informer, object_key
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import Controller, rv_int
from kubelite.controllers.hashing import compute_hash
from kubelite.controllers.ownership import status_patch
from kubelite.controllers.pods import controller_ref_of, meta, uid
from kubelite.controllers.resources import (
    CONTROLLERREVISIONS,
    PERSISTENTVOLUMECLAIMS,
    PODS,
    STATEFULSETS,
)
from kubelite.controllers.statefulset_plan import (
    POD_INDEX_LABEL,
    POD_NAME_LABEL,
    REVISION_LABEL,
    claim_name,
    ordinal_of,
    plan,
    replicas_of,
    start_of,
)

log = logging.getLogger(__name__)


def owner_ref(sts: JSON) -> JSON:
    return {**controller_ref(sts), "apiVersion": "apps/v1", "kind": "StatefulSet"}


def revision_data(sts: JSON) -> JSON:
    """What a ControllerRevision of ``sts`` stores (``getPatch``)."""
    template = copy.deepcopy(dig(sts, "spec", "template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def template_of(revision: JSON) -> JSON:
    template = copy.deepcopy(dig(revision, "data", "spec", "template") or {})
    template.pop("$patch", None)
    return template


def pod_for(sts: JSON, template: JSON, revision: str, ordinal: int) -> JSON:
    """Pod ``NAME-ORDINAL`` of ``sts`` at ``revision`` (``newVersionedStatefulSetPod``)."""
    name = f"{meta(sts)['name']}-{ordinal}"
    tmeta = template.get("metadata") or {}
    labels = dict(tmeta.get("labels") or {})
    labels.update({REVISION_LABEL: revision, POD_NAME_LABEL: name,
                   POD_INDEX_LABEL: str(ordinal)})
    pmeta: JSON = {"name": name, "namespace": meta(sts).get("namespace"), "labels": labels,
                   "ownerReferences": [owner_ref(sts)]}
    if tmeta.get("annotations"):
        pmeta["annotations"] = dict(tmeta["annotations"])
    spec = copy.deepcopy(template.get("spec") or {})
    spec["hostname"] = name
    service = dig(sts, "spec", "serviceName")
    if service:
        spec["subdomain"] = service
    volumes = [v for v in spec.get("volumes") or []]
    for t in dig(sts, "spec", "volumeClaimTemplates") or []:
        tname = str(dig(t, "metadata", "name"))
        volumes = [v for v in volumes if v.get("name") != tname]
        volumes.append({"name": tname, "persistentVolumeClaim": {
            "claimName": claim_name(tname, str(meta(sts)["name"]), ordinal)}})
    if volumes:
        spec["volumes"] = volumes
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pmeta, "spec": spec}


def claim_for(sts: JSON, template: JSON, ordinal: int) -> JSON:
    """The claim of ``template`` for ``ordinal`` (``getPersistentVolumeClaims``)."""
    tname = str(dig(template, "metadata", "name"))
    labels = dict(dig(template, "metadata", "labels") or {})
    labels.update(dig(sts, "spec", "selector", "matchLabels") or {})
    cmeta: JSON = {"name": claim_name(tname, str(meta(sts)["name"]), ordinal),
                   "namespace": meta(sts).get("namespace"), "labels": labels}
    if dig(template, "metadata", "annotations"):
        cmeta["annotations"] = dict(template["metadata"]["annotations"])
    if dig(sts, "spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted") == "Delete":
        cmeta["ownerReferences"] = [{**owner_ref(sts), "controller": True}]
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": cmeta,
            "spec": copy.deepcopy(template.get("spec") or {})}


class StatefulSetController(Controller):
    """Keeps each StatefulSet's pods, claims and revisions (see the module contract)."""

    name = "statefulset-controller"

    def __init__(self, client: ApiClient, sets: Informer, pods: Informer, claims: Informer,
                 revisions: Informer, recorder: EventRecorder, *, clock: Clock = REAL) -> None:
        super().__init__(2, clock)
        self.client = client
        self.sets = sets
        self.pods = pods
        self.claims = claims
        self.revisions = revisions
        self.recorder = recorder

    def register(self) -> None:
        self.sets.add_handlers(on_add=self._enqueue, on_update=lambda o, n: self._enqueue(n),
                               on_delete=self._enqueue)
        self.pods.add_handlers(on_add=self._pod, on_update=lambda o, n: self._pod(n),
                               on_delete=self._pod)

    def _enqueue(self, obj: JSON) -> None:
        self.queue.add(object_key(obj))

    def _pod(self, pod: JSON) -> None:
        ref = controller_ref_of(pod)
        if ref is not None and ref.get("kind") == "StatefulSet":
            self.queue.add(f"{meta(pod).get('namespace')}/{ref.get('name')}")

    def _owned(self, informer: Informer, sts: JSON) -> list[JSON]:
        ns, owner = meta(sts).get("namespace"), uid(sts)
        return [o for o in informer.list() if meta(o).get("namespace") == ns
                and (controller_ref_of(o) or {}).get("uid") == owner]

    async def sync(self, key: str) -> None:
        sts = self.sets.get(key)
        if sts is None:
            return
        ns = str(meta(sts).get("namespace"))
        name = str(meta(sts)["name"])
        revisions = sorted(self._owned(self.revisions, sts),
                           key=lambda r: int(r.get("revision") or 0))
        update = await self._update_revision(sts, revisions)
        if update is None:
            return
        by_name = {meta(r)["name"]: r for r in revisions}
        by_name[meta(update)["name"]] = update
        current_name = str(dig(sts, "status", "currentRevision") or "")
        if current_name not in by_name:
            current_name = str(meta(update)["name"])
        pods = self._owned(self.pods, sts)
        claims = {meta(c)["name"] for c in self.claims.list() if meta(c).get("namespace") == ns}
        p = plan(sts, pods, claims, current_name, str(meta(update)["name"]), self.clock())
        templates = {str(dig(t, "metadata", "name")): t
                     for t in dig(sts, "spec", "volumeClaimTemplates") or []}
        last_rv = 0
        for tname, ordinal in p.claims:
            last_rv = max(last_rv, await self._create_claim(sts, templates[tname], ordinal))
        for ordinal, revision in p.create:
            pod = pod_for(sts, template_of(by_name[revision]), revision, ordinal)
            try:
                out = await self.client.create(PODS, pod, ns)
            except StatusError as exc:
                if exc.code == 409:
                    continue
                self.recorder.event(sts, WARNING, "FailedCreate",
                                    f"create Pod {pod['metadata']['name']} in StatefulSet "
                                    f"{name} failed error: {exc.message}")
                raise
            last_rv = max(last_rv, rv_int(out))
            self.recorder.event(sts, NORMAL, "SuccessfulCreate",
                                f"create Pod {pod['metadata']['name']} in StatefulSet {name} "
                                f"successful")
        for pod in p.delete:
            try:
                out = await self.client.delete(PODS, meta(pod)["name"], ns, uid=uid(pod))
            except StatusError as exc:
                if exc.code != 404:
                    raise
                continue
            last_rv = max(last_rv, rv_int(out))
            self.recorder.event(sts, NORMAL, "SuccessfulDelete",
                                f"delete Pod {meta(pod)['name']} in StatefulSet {name} "
                                f"successful")
        await self._scaled_claims(sts, pods)
        await self._truncate_history(sts, revisions, {current_name, meta(update)["name"]},
                                     pods)
        if p.status != (sts.get("status") or {}):
            try:
                await self.client.patch(STATEFULSETS, name,
                                        status_patch(sts.get("status"), p.status), ns,
                                        subresource="status")
            except StatusError as exc:
                if exc.code != 404:
                    raise
        if last_rv:
            await self.caught_up(self.pods, last_rv)

    async def _update_revision(self, sts: JSON, revisions: list[JSON]) -> JSON | None:
        """The revision of the set's template now, created or renumbered as needed."""
        data = revision_data(sts)
        collisions = int(dig(sts, "status", "collisionCount") or 0)
        name = f"{meta(sts)['name']}-{compute_hash(data, collisions)}"
        top = max((int(r.get("revision") or 0) for r in revisions), default=0)
        existing = next((r for r in revisions if meta(r)["name"] == name), None)
        if existing is not None:
            if int(existing.get("revision") or 0) == top:
                return existing
            try:  # an old template again (rollout undo): it becomes the newest revision
                return await self.client.patch(CONTROLLERREVISIONS, name, {"revision": top + 1},
                                               meta(sts).get("namespace"))
            except StatusError as exc:
                if exc.code == 404:
                    return None
                raise
        labels = dict(dig(sts, "spec", "template", "metadata", "labels") or {})
        revision = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
                    "metadata": {"name": name, "namespace": meta(sts).get("namespace"),
                                 "labels": labels, "ownerReferences": [owner_ref(sts)]},
                    "data": data, "revision": top + 1}
        try:
            return await self.client.create(CONTROLLERREVISIONS, revision,
                                            meta(sts).get("namespace"))
        except StatusError as exc:
            if exc.code == 409:
                return None  # a revision of that name appears: the next sync reads it
            raise

    async def _create_claim(self, sts: JSON, template: JSON, ordinal: int) -> int:
        claim = claim_for(sts, template, ordinal)
        pod_name = f"{meta(sts)['name']}-{ordinal}"
        try:
            out = await self.client.create(PERSISTENTVOLUMECLAIMS, claim,
                                           meta(sts).get("namespace"))
        except StatusError as exc:
            if exc.code == 409:
                return 0
            self.recorder.event(sts, WARNING, "FailedCreate",
                                f"create Claim {claim['metadata']['name']} for Pod {pod_name} "
                                f"in StatefulSet {meta(sts)['name']} failed error: "
                                f"{exc.message}")
            raise
        self.recorder.event(sts, NORMAL, "SuccessfulCreate",
                            f"create Claim {claim['metadata']['name']} Pod {pod_name} in "
                            f"StatefulSet {meta(sts)['name']} success")
        return rv_int(out)

    async def _scaled_claims(self, sts: JSON, pods: list[JSON]) -> None:
        """``whenScaled: Delete``: claims of ordinals scaled away go once their pod has."""
        if dig(sts, "spec", "persistentVolumeClaimRetentionPolicy", "whenScaled") != "Delete":
            return
        name = str(meta(sts)["name"])
        live = {ordinal_of(name, p) for p in pods}
        wanted = range(start_of(sts), start_of(sts) + replicas_of(sts))
        ns = meta(sts).get("namespace")
        for t in dig(sts, "spec", "volumeClaimTemplates") or []:
            prefix = f"{dig(t, 'metadata', 'name')}-{name}-"
            for c in self.claims.list():
                cname = str(meta(c)["name"])
                if meta(c).get("namespace") != ns or not cname.startswith(prefix):
                    continue
                suffix = cname[len(prefix):]
                if (suffix.isdigit() and int(suffix) not in wanted and int(suffix) not in live
                        and not meta(c).get("deletionTimestamp")):
                    try:
                        await self.client.delete(PERSISTENTVOLUMECLAIMS, cname, ns)
                    except StatusError as exc:
                        if exc.code != 404:
                            raise

    async def _truncate_history(self, sts: JSON, revisions: list[JSON], live: set[str],
                                pods: list[JSON]) -> None:
        """Delete the oldest revisions beyond ``revisionHistoryLimit`` that no pod uses."""
        limit = int(dig(sts, "spec", "revisionHistoryLimit") or 10)
        used = live | {str(dig(p, "metadata", "labels", REVISION_LABEL)) for p in pods}
        history = [r for r in revisions if meta(r)["name"] not in used]
        for r in history[:max(0, len(history) - limit)]:
            try:
                await self.client.delete(CONTROLLERREVISIONS, meta(r)["name"],
                                         meta(r).get("namespace"))
            except StatusError as exc:
                if exc.code != 404:
                    raise
