"""The PV binder (``persistentvolume-binder-controller``): claims to volumes, and the
phases of both.

Contracts (decisions in :mod:`kubelite.controllers.volume_binding`):
- a claim that :func:`plan_claim` binds gets its volume's ``claimRef`` first, then its
  own ``spec.volumeName`` with ``pv.kubernetes.io/bind-completed`` and
  ``bound-by-controller``, then status ``Bound`` with the volume's capacity and access
  modes; a claim whose class has a provisioner is annotated
  ``volume.kubernetes.io/storage-provisioner`` for it; a waiting claim gets kube's event
  once per distinct message;
- a volume's ``status.phase`` follows :func:`volume_phase` (Available, Bound,
  Released when its claim is gone); releasing with ``Delete`` is the provisioner's work;
- a bound claim whose volume is gone becomes ``Lost``.
Keys are ``claim:<ns>/<name>`` and ``volume:<name>``.
"""

from __future__ import annotations

import logging

from kubelite.aio.clock import REAL, Clock
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON, dig
from kubelite.api.scheme import Resource
from kubelite.client.events import WARNING, EventRecorder
from kubelite.client.informer import Informer, object_key
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import Controller
from kubelite.controllers.resources import PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES
from kubelite.controllers.volume_binding import (
    BETA_STORAGE_PROVISIONER,
    BIND_COMPLETED,
    BOUND_BY_CONTROLLER,
    STORAGE_PROVISIONER,
    plan_claim,
    volume_phase,
)

log = logging.getLogger(__name__)
CLAIM_LOST = "Bound claim has lost its PersistentVolume. Data on the volume is lost!"


def claim_ref(claim: JSON) -> JSON:
    """The ``claimRef`` a volume bound to ``claim`` carries."""
    m = claim["metadata"]
    return {"kind": "PersistentVolumeClaim", "namespace": m.get("namespace"),
            "name": m.get("name"), "uid": m.get("uid"), "apiVersion": "v1",
            "resourceVersion": m.get("resourceVersion")}


class PersistentVolumeBinder(Controller):
    """Binds claims to volumes and keeps both phases (see the module contract)."""

    name = "persistentvolume-binder-controller"

    def __init__(self, client: ApiClient, claims: Informer, volumes: Informer,
                 classes: Informer, recorder: EventRecorder, *, clock: Clock = REAL) -> None:
        super().__init__(2, clock)
        self.client = client
        self.claims = claims
        self.volumes = volumes
        self.classes = classes
        self.recorder = recorder
        self._said: dict[str, str] = {}  # claim key -> last waiting event message

    def register(self) -> None:
        self.claims.add_handlers(on_add=self._claim, on_update=lambda o, n: self._claim(n),
                                 on_delete=self._claim_gone)
        self.volumes.add_handlers(on_add=self._volume_added,
                                  on_update=lambda o, n: self._volume(n),
                                  on_delete=self._volume)

    def _claim(self, claim: JSON) -> None:
        self.queue.add("claim:" + object_key(claim))
        volume = dig(claim, "spec", "volumeName")
        if volume:
            self.queue.add(f"volume:{volume}")

    def _claim_gone(self, claim: JSON) -> None:
        self._said.pop(object_key(claim), None)
        for pv in self.volumes.list():
            ref = dig(pv, "spec", "claimRef") or {}
            if (ref.get("namespace"), ref.get("name")) == (
                    dig(claim, "metadata", "namespace"), dig(claim, "metadata", "name")):
                self._volume(pv)

    def _volume(self, pv: JSON) -> None:
        self.queue.add("volume:" + object_key(pv))
        ref = dig(pv, "spec", "claimRef")
        if isinstance(ref, dict):
            self.queue.add(f"claim:{ref.get('namespace')}/{ref.get('name')}")

    def _volume_added(self, pv: JSON) -> None:
        self._volume(pv)
        for claim in self.claims.list():  # a new volume may serve a waiting claim
            if not dig(claim, "spec", "volumeName"):
                self.queue.add("claim:" + object_key(claim))

    async def sync(self, key: str) -> None:
        kind, _, rest = key.partition(":")
        if kind == "claim":
            await self._sync_claim(rest)
        else:
            await self._sync_volume(rest)

    async def _sync_claim(self, key: str) -> None:
        claim = self.claims.get(key)
        if claim is None or dig(claim, "metadata", "deletionTimestamp"):
            return
        ns = str(claim["metadata"].get("namespace"))
        volume_name = dig(claim, "spec", "volumeName")
        if volume_name:
            await self._keep_bound(claim, str(volume_name))
            return
        class_name = dig(claim, "spec", "storageClassName")
        sc = self.classes.get(str(class_name)) if class_name else None
        p = plan_claim(claim, self.volumes.list(), sc)
        if p.bind is not None:
            pv = self.volumes.get(p.bind)
            if pv is not None:
                await self._bind(claim, pv)
            return
        if p.provisioner:
            ann = dig(claim, "metadata", "annotations") or {}
            if ann.get(STORAGE_PROVISIONER) != p.provisioner:
                await self._patch(PERSISTENTVOLUMECLAIMS, claim, {"metadata": {"annotations": {
                    STORAGE_PROVISIONER: p.provisioner,
                    BETA_STORAGE_PROVISIONER: p.provisioner}}}, ns)
        if p.event is not None and self._said.get(key) != p.event[2]:
            self._said[key] = p.event[2]
            self.recorder.event(claim, *p.event)

    async def _bind(self, claim: JSON, pv: JSON) -> None:
        """``bind``: the volume's claimRef, then the claim's volumeName, then its status."""
        ns = claim["metadata"].get("namespace")
        if not dig(pv, "spec", "claimRef"):
            out = await self._patch(PERSISTENTVOLUMES, pv, {
                "metadata": {"annotations": {BOUND_BY_CONTROLLER: "yes"}},
                "spec": {"claimRef": claim_ref(claim)}}, None)
            if out is None:
                return
        annotations = {BIND_COMPLETED: "yes"}
        if dig(pv, "metadata", "annotations", BOUND_BY_CONTROLLER) or not dig(
                pv, "spec", "claimRef"):
            annotations[BOUND_BY_CONTROLLER] = "yes"
        updated = await self._patch(PERSISTENTVOLUMECLAIMS, claim, {
            "metadata": {"annotations": annotations},
            "spec": {"volumeName": pv["metadata"]["name"]}}, ns)
        if updated is not None:
            await self._bound_status(updated, pv)

    async def _bound_status(self, claim: JSON, pv: JSON) -> None:
        want: JSON = {"phase": "Bound",
                      "accessModes": dig(pv, "spec", "accessModes") or [],
                      "capacity": dig(pv, "spec", "capacity") or {}}
        status = claim.get("status") or {}
        if all(status.get(k) == v for k, v in want.items()):
            return
        await self._patch(PERSISTENTVOLUMECLAIMS, claim, {"status": want},
                          claim["metadata"].get("namespace"), subresource="status")

    async def _keep_bound(self, claim: JSON, volume_name: str) -> None:
        pv = self.volumes.get(volume_name)
        ns = claim["metadata"].get("namespace")
        if pv is None:
            if dig(claim, "status", "phase") == "Bound":
                self.recorder.event(claim, WARNING, "ClaimLost", CLAIM_LOST)
                await self._patch(PERSISTENTVOLUMECLAIMS, claim, {"status": {"phase": "Lost"}},
                                  ns, subresource="status")
            return
        ref = dig(pv, "spec", "claimRef")
        if not ref:
            await self._patch(PERSISTENTVOLUMES, pv, {"spec": {"claimRef": claim_ref(claim)}},
                              None)
            return
        if ref.get("uid") and ref.get("uid") != claim["metadata"].get("uid"):
            return  # the volume is another claim's: this one stays as it is
        await self._bound_status(claim, pv)

    async def _sync_volume(self, name: str) -> None:
        pv = self.volumes.get(name)
        if pv is None:
            return
        ref = dig(pv, "spec", "claimRef")
        claim = (self.claims.get(f"{ref.get('namespace')}/{ref.get('name')}")
                 if isinstance(ref, dict) else None)
        phase = volume_phase(pv, claim)
        if phase != dig(pv, "status", "phase"):
            await self._patch(PERSISTENTVOLUMES, pv, {"status": {"phase": phase}}, None,
                              subresource="status")

    async def _patch(self, res: Resource, obj: JSON, patch: JSON, ns: str | None,
                     subresource: str | None = None) -> JSON | None:
        try:
            return await self.client.patch(res, obj["metadata"]["name"], patch, ns,
                                           subresource=subresource)
        except StatusError as exc:
            if exc.code in (404, 409):
                return None
            raise
