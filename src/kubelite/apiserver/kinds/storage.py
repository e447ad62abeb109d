"""PersistentVolumes, PersistentVolumeClaims and StorageClasses
(``registry/core/persistentvolume{,claim}`` and ``registry/storage/storageclass``), and
the default StorageClass ``local-path`` a server starts with (as k3s ships it).

Claims and volumes start ``Pending`` (their status is reset on create); a claim's spec
is immutable but for its requests and the ``volumeName`` the binder sets once.
"""

from __future__ import annotations

from typing import ClassVar

from kubelite.api import defaults_storage, errors, scheme
from kubelite.api.meta import JSON
from kubelite.api.storageclass import DEFAULT_CLASS_ANNOTATION
from kubelite.api.validation import storage
from kubelite.api.validation.field import Errors
from kubelite.apiserver.kinds.strategy import Strategy, Writer
from kubelite.apiserver.printers.storage import (
    PERSISTENT_VOLUME,
    PERSISTENT_VOLUME_CLAIM,
    STORAGE_CLASS,
)
from kubelite.apiserver.printers.tables import Printer

LOCAL_PATH_CLASS = "local-path"
LOCAL_PATH_PROVISIONER = "rancher.io/local-path"


def local_path_class() -> JSON:
    """The default StorageClass: k3s' ``local-path``."""
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": LOCAL_PATH_CLASS,
                         "annotations": {DEFAULT_CLASS_ANNOTATION: "true"}},
            "provisioner": LOCAL_PATH_PROVISIONER, "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer"}


async def ensure_default_storage_class(writer: Writer) -> None:
    """Create ``local-path`` unless a StorageClass of that name exists (a user's edit or
    deletion of the annotation is kept across restarts; a deleted class comes back)."""
    res = scheme.lookup("storage.k8s.io", "v1", "storageclasses")
    assert res is not None
    if await writer.store.get(res.key(None, LOCAL_PATH_CLASS)) is not None:
        return
    try:
        await writer.create(res, None, local_path_class())
    except errors.StatusError as exc:
        if exc.code != 409:
            raise


class PersistentVolumeStrategy(Strategy):
    """PersistentVolumes (cluster-scoped)."""

    printer: ClassVar[Printer] = PERSISTENT_VOLUME

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults_storage.default_persistent_volume(obj)

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        storage.validate_persistent_volume(obj, errs)


class PersistentVolumeClaimStrategy(Strategy):
    """PersistentVolumeClaims."""

    printer: ClassVar[Printer] = PERSISTENT_VOLUME_CLAIM

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults_storage.default_persistent_volume_claim(obj)

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        storage.validate_persistent_volume_claim(obj, errs)

    def validate_object_update(self, res: scheme.Resource, new: JSON, old: JSON,
                               subresource: str | None, errs: Errors) -> None:
        if subresource != "status":
            storage.validate_persistent_volume_claim_update(new, old, errs)


class StorageClassStrategy(Strategy):
    """StorageClasses (cluster-scoped, no status)."""

    printer: ClassVar[Printer] = STORAGE_CLASS

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults_storage.default_storage_class(obj)

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        storage.validate_storage_class(obj, errs)

    def validate_object_update(self, res: scheme.Resource, new: JSON, old: JSON,
                               subresource: str | None, errs: Errors) -> None:
        storage.validate_storage_class_update(new, old, errs)


PERSISTENT_VOLUME_STRATEGY = PersistentVolumeStrategy()
PERSISTENT_VOLUME_CLAIM_STRATEGY = PersistentVolumeClaimStrategy()
STORAGE_CLASS_STRATEGY = StorageClassStrategy()
