"""The pvc-protection and pv-protection controllers: the protection finalizers come off
once nothing uses the object.

Contracts: a claim being deleted loses ``kubernetes.io/pvc-protection`` once no pod of
its namespace that has not finished (Succeeded/Failed) mounts it; a volume being deleted
loses ``kubernetes.io/pv-protection`` once it is not Bound. Other finalizers are kept;
the removal is conditional on the resourceVersion read. Keys are ``claim:<ns>/<name>``
and ``volume:<name>``.
"""

from __future__ import annotations

from kubelite.aio.clock import REAL, Clock
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON, dig
from kubelite.api.scheme import Resource
from kubelite.client.informer import Informer, object_key
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import Controller
from kubelite.controllers.local_path import claims_of
from kubelite.controllers.resources import PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES

PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"


def claim_in_use(claim: JSON, pods: list[JSON]) -> bool:
    """Whether a pod that has not finished mounts ``claim``."""
    ns, name = dig(claim, "metadata", "namespace"), dig(claim, "metadata", "name")
    return any(dig(p, "metadata", "namespace") == ns and name in claims_of(p)
               and dig(p, "status", "phase") not in ("Succeeded", "Failed") for p in pods)


class StorageProtection(Controller):
    """Removes the protection finalizers when safe (see the module contract)."""

    name = "pvc-protection-controller"

    def __init__(self, client: ApiClient, claims: Informer, volumes: Informer, pods: Informer,
                 *, clock: Clock = REAL) -> None:
        super().__init__(1, clock)
        self.client = client
        self.claims = claims
        self.volumes = volumes
        self.pods = pods

    def register(self) -> None:
        self.claims.add_handlers(on_add=self._claim, on_update=lambda o, n: self._claim(n))
        self.volumes.add_handlers(on_add=self._volume, on_update=lambda o, n: self._volume(n))
        self.pods.add_handlers(on_update=lambda o, n: self._pod(n), on_delete=self._pod)

    def _claim(self, claim: JSON) -> None:
        if dig(claim, "metadata", "deletionTimestamp"):
            self.queue.add("claim:" + object_key(claim))

    def _volume(self, pv: JSON) -> None:
        if dig(pv, "metadata", "deletionTimestamp"):
            self.queue.add("volume:" + object_key(pv))

    def _pod(self, pod: JSON) -> None:
        ns = dig(pod, "metadata", "namespace")
        for name in claims_of(pod):
            self.queue.add(f"claim:{ns}/{name}")

    async def sync(self, key: str) -> None:
        kind, _, rest = key.partition(":")
        if kind == "claim":
            claim = self.claims.get(rest)
            if claim is not None and not claim_in_use(claim, self.pods.list()):
                await self._release(PERSISTENTVOLUMECLAIMS, claim, PVC_PROTECTION)
        else:
            pv = self.volumes.get(rest)
            if pv is not None and dig(pv, "status", "phase") != "Bound":
                await self._release(PERSISTENTVOLUMES, pv, PV_PROTECTION)

    async def _release(self, res: Resource, obj: JSON, finalizer: str) -> None:
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        if not meta.get("deletionTimestamp") or finalizer not in finalizers:
            return
        patch = {"metadata": {"finalizers": [f for f in finalizers if f != finalizer],
                              "resourceVersion": meta.get("resourceVersion")}}
        try:
            await self.client.patch(res, meta["name"], patch, meta.get("namespace"))
        except StatusError as exc:
            if exc.code == 409:
                self.queue.add_after(f"{'claim' if res is PERSISTENTVOLUMECLAIMS else 'volume'}:"
                                     f"{object_key(obj)}", 0.2)
            elif exc.code != 404:
                raise
