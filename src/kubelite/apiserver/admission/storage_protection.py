"""StorageObjectInUseProtection (``plugin/pkg/admission/storage/storageobjectinuseprotection``).

A new claim gets the ``kubernetes.io/pvc-protection`` finalizer and a new volume
``kubernetes.io/pv-protection``, so that neither goes while in use: the protection
controllers (``controllers/storage_protection.py``) remove them once it is safe.
"""

from __future__ import annotations

from kubelite.api import scheme
from kubelite.api.meta import dig
from kubelite.apiserver.admission.interface import CREATE, Attributes, Operation, Plugin

PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
_FINALIZERS = {"persistentvolumeclaims": PVC_PROTECTION, "persistentvolumes": PV_PROTECTION}


class StorageObjectInUseProtection(Plugin):
    """Adds the protection finalizer to new claims and volumes."""

    name = "StorageObjectInUseProtection"

    def handles(self, operation: Operation, resource: scheme.Resource,
                subresource: str | None) -> bool:
        return (operation == CREATE and resource.group == "" and subresource is None
                and resource.plural in _FINALIZERS)

    async def admit(self, attrs: Attributes) -> None:
        meta = dig(attrs.obj, "metadata")
        if not isinstance(meta, dict):
            return
        finalizers = meta.get("finalizers")
        finalizers = list(finalizers) if isinstance(finalizers, list) else []
        wanted = _FINALIZERS[attrs.resource.plural]
        if wanted not in finalizers:
            meta["finalizers"] = [*finalizers, wanted]
