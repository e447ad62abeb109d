"""The built-in local-path provisioner (as k3s' ``rancher.io/local-path``).

Contracts:
- node selection: a claim of a ``WaitForFirstConsumer`` class of this provisioner gets
  ``volume.kubernetes.io/selected-node`` set to the node of the first scheduled pod that
  mounts it (the annotation kube-scheduler's volume binder writes; here the provisioner
  writes it once it sees the pod bound, so the scheduler stays unchanged);
- provisioning: a claim annotated for this provisioner (by the binder), with a selected
  node and no volume yet, gets PV ``pvc-<claim uid>``: the claim's request as capacity,
  its access modes and class, the class's reclaim policy, a ``hostPath``
  (``DirectoryOrCreate``) at ``<storage dir>/pvc-<uid>_<ns>_<name>`` (the kubelet creates
  the directory when it mounts it) and required node affinity to the selected node, and
  a claimRef to the claim, which the binder then completes;
- reclaiming: a ``Released`` volume of this provisioner with ``Delete`` has its
  directory removed (this runs in the server process, so it reaches directories of the
  server's own node) and is deleted.
Keys are ``claim:<ns>/<name>`` and ``volume:<name>``.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

from kubelite.aio.clock import REAL, Clock
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON, dig
from kubelite.client.events import NORMAL, EventRecorder
from kubelite.client.informer import Informer, object_key
from kubelite.client.rest import ApiClient
from kubelite.controllers.base import Controller
from kubelite.controllers.persistentvolume import claim_ref
from kubelite.controllers.resources import PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES
from kubelite.controllers.volume_binding import (
    HOSTNAME_LABEL,
    PROVISIONED_BY,
    SELECTED_NODE,
    STORAGE_PROVISIONER,
    WAIT_FOR_FIRST_CONSUMER,
)

log = logging.getLogger(__name__)
PROVISIONER = "rancher.io/local-path"


def claims_of(pod: JSON) -> list[str]:
    """The claim names a pod's ``persistentVolumeClaim`` volumes mount."""
    out: list[str] = []
    for vol in dig(pod, "spec", "volumes") or []:
        name = dig(vol, "persistentVolumeClaim", "claimName")
        if isinstance(name, str) and name:
            out.append(name)
    return out


def volume_for(claim: JSON, storage_class: JSON, node: str, storage_dir: Path) -> JSON:
    """The PersistentVolume provisioned for ``claim`` on ``node``."""
    m = claim["metadata"]
    name = f"pvc-{m['uid']}"
    path = storage_dir / f"{name}_{m.get('namespace')}_{m.get('name')}"
    return {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": name, "annotations": {PROVISIONED_BY: PROVISIONER,
                                                   "local.path.provisioner/selected-node":
                                                       node}},
        "spec": {
            "capacity": {"storage": dig(claim, "spec", "resources", "requests", "storage")},
            "accessModes": list(dig(claim, "spec", "accessModes") or []),
            "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy") or "Delete",
            "storageClassName": dig(claim, "spec", "storageClassName"),
            "volumeMode": dig(claim, "spec", "volumeMode") or "Filesystem",
            "hostPath": {"path": str(path), "type": "DirectoryOrCreate"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": HOSTNAME_LABEL, "operator": "In", "values": [node]}]}]}},
            "claimRef": claim_ref(claim),
        },
    }


class LocalPathProvisioner(Controller):
    """Provisions and reclaims host directories for claims (see the module contract)."""

    name = "local-path-provisioner"

    def __init__(self, client: ApiClient, claims: Informer, volumes: Informer,
                 classes: Informer, pods: Informer, recorder: EventRecorder,
                 storage_dir: Path, *, clock: Clock = REAL) -> None:
        super().__init__(1, clock)
        self.client = client
        self.claims = claims
        self.volumes = volumes
        self.classes = classes
        self.pods = pods
        self.recorder = recorder
        self.storage_dir = storage_dir

    def register(self) -> None:
        self.claims.add_handlers(on_add=self._claim, on_update=lambda o, n: self._claim(n))
        self.volumes.add_handlers(on_add=self._volume, on_update=lambda o, n: self._volume(n))
        self.pods.add_handlers(on_add=self._pod, on_update=lambda o, n: self._pod(n))

    def _claim(self, claim: JSON) -> None:
        self.queue.add("claim:" + object_key(claim))

    def _volume(self, pv: JSON) -> None:
        if dig(pv, "metadata", "annotations", PROVISIONED_BY) == PROVISIONER:
            self.queue.add("volume:" + object_key(pv))

    def _pod(self, pod: JSON) -> None:
        if dig(pod, "spec", "nodeName"):
            ns = dig(pod, "metadata", "namespace")
            for name in claims_of(pod):
                self.queue.add(f"claim:{ns}/{name}")

    def _class_of(self, claim: JSON) -> JSON | None:
        name = dig(claim, "spec", "storageClassName")
        sc = self.classes.get(str(name)) if name else None
        return sc if sc is not None and sc.get("provisioner") == PROVISIONER else None

    def _consumer_node(self, claim: JSON) -> str | None:
        ns = dig(claim, "metadata", "namespace")
        name = dig(claim, "metadata", "name")
        nodes = sorted(
            (str(dig(p, "metadata", "creationTimestamp") or ""), str(dig(p, "spec", "nodeName")))
            for p in self.pods.list()
            if dig(p, "metadata", "namespace") == ns and dig(p, "spec", "nodeName")
            and name in claims_of(p))
        return nodes[0][1] if nodes else None

    async def sync(self, key: str) -> None:
        kind, _, rest = key.partition(":")
        if kind == "claim":
            await self._sync_claim(rest)
        else:
            await self._sync_volume(rest)

    async def _sync_claim(self, key: str) -> None:
        claim = self.claims.get(key)
        if (claim is None or dig(claim, "spec", "volumeName")
                or dig(claim, "metadata", "deletionTimestamp")):
            return
        sc = self._class_of(claim)
        if sc is None:
            return
        ns = claim["metadata"].get("namespace")
        annotations = dig(claim, "metadata", "annotations") or {}
        node = annotations.get(SELECTED_NODE)
        if not node:
            if sc.get("volumeBindingMode") != WAIT_FOR_FIRST_CONSUMER:
                return  # Immediate local-path classes: kubelite provisions for consumers only
            node = self._consumer_node(claim)
            if node:
                await self._patch_claim(claim, {"metadata": {"annotations": {
                    SELECTED_NODE: node}}}, ns)
            return
        if annotations.get(STORAGE_PROVISIONER) != PROVISIONER:
            return  # the binder has not handed the claim over yet
        pv = volume_for(claim, sc, str(node), self.storage_dir)
        if self.volumes.get(pv["metadata"]["name"]) is not None:
            return
        self.recorder.event(claim, NORMAL, "Provisioning",
                            f'External provisioner is provisioning volume for claim "{key}"')
        try:
            await self.client.create(PERSISTENTVOLUMES, pv)
        except StatusError as exc:
            if exc.code == 409:
                return
            self.recorder.event(claim, "Warning", "ProvisioningFailed",
                                f"failed to provision volume with StorageClass "
                                f'"{sc["metadata"]["name"]}": {exc.message}')
            raise
        self.recorder.event(claim, NORMAL, "ProvisioningSucceeded",
                            f"Successfully provisioned volume {pv['metadata']['name']}")

    async def _patch_claim(self, claim: JSON, patch: JSON, ns: str | None) -> None:
        try:
            await self.client.patch(PERSISTENTVOLUMECLAIMS, claim["metadata"]["name"], patch, ns)
        except StatusError as exc:
            if exc.code not in (404, 409):
                raise

    async def _sync_volume(self, name: str) -> None:
        pv = self.volumes.get(name)
        if (pv is None or dig(pv, "status", "phase") != "Released"
                or dig(pv, "spec", "persistentVolumeReclaimPolicy") != "Delete"
                or dig(pv, "metadata", "deletionTimestamp")):
            return
        path = dig(pv, "spec", "hostPath", "path")
        if isinstance(path, str) and Path(path).parent == self.storage_dir:
            await asyncio.to_thread(shutil.rmtree, path, True)
        try:
            await self.client.delete(PERSISTENTVOLUMES, name, uid=dig(pv, "metadata", "uid"))
        except StatusError as exc:
            if exc.code not in (404, 409):
                raise
