"""The printers of storage, StatefulSets, ControllerRevisions and PodDisruptionBudgets.

As ``pkg/printers/internalversion`` (Kubernetes 1.32): ``kubectl get pv,pvc,sc,sts,pdb``
columns and cells; pure functions of the object and ``now``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kubelite.api.meta import JSON, dig
from kubelite.api.storageclass import claim_class, is_default_class
from kubelite.apiserver.printers.tables import (
    AGE_COL,
    CONTAINERS_COL,
    IMAGES_COL,
    Cells,
    Printer,
    age_cell,
    col,
    container_cells,
    int_of,
    list_at,
    map_at,
    name_col,
    name_of,
    text_at,
)

_MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX",
          "ReadWriteOncePod": "RWOP"}


def access_modes(modes: list[Any]) -> str:
    """``GetAccessModesAsString``: the short forms, each once, in kube's order."""
    present = {str(m) for m in modes}
    return ",".join(short for mode, short in _MODES.items() if mode in present)


def _phase(obj: JSON) -> str:
    if dig(obj, "metadata", "deletionTimestamp"):
        return "Terminating"
    return text_at(obj, "status", "phase")


def _volume_mode(obj: JSON) -> str:
    return text_at(obj, "spec", "volumeMode") or "<unset>"


def _attributes_class(obj: JSON) -> str:
    return text_at(obj, "spec", "volumeAttributesClassName") or "<unset>"


def _pvc_cells(obj: JSON, now: dt.datetime) -> Cells:
    capacity = modes = ""
    if text_at(obj, "spec", "volumeName"):
        modes = access_modes(list_at(obj, "status", "accessModes"))
        capacity = text_at(obj, "status", "capacity", "storage")
    return [name_of(obj), _phase(obj), text_at(obj, "spec", "volumeName"), capacity, modes,
            claim_class(obj), _attributes_class(obj), age_cell(obj, now), _volume_mode(obj)]


PERSISTENT_VOLUME_CLAIM = Printer(
    (
        name_col(),
        col("Status", "Status is the current status of the claim."),
        col("Volume", "The volume bound to the claim."),
        col("Capacity", "The actual resources of the underlying volume."),
        col("Access Modes", "The access modes of the underlying volume."),
        col("StorageClass", "The name of the StorageClass the claim requires."),
        col("VolumeAttributesClass", "The VolumeAttributesClass used by the claim."),
        AGE_COL,
        col("VolumeMode", "What type of volume the claim requires.", priority=1),
    ),
    _pvc_cells,
)


def _pv_cells(obj: JSON, now: dt.datetime) -> Cells:
    ref = map_at(obj, "spec", "claimRef")
    claim = f"{text_at(ref, 'namespace')}/{text_at(ref, 'name')}" if ref else ""
    return [name_of(obj), text_at(obj, "spec", "capacity", "storage"),
            access_modes(list_at(obj, "spec", "accessModes")),
            text_at(obj, "spec", "persistentVolumeReclaimPolicy"), _phase(obj), claim,
            claim_class(obj), _attributes_class(obj), text_at(obj, "status", "reason"),
            age_cell(obj, now), _volume_mode(obj)]


PERSISTENT_VOLUME = Printer(
    (
        name_col(),
        col("Capacity", "The capacity of the volume."),
        col("Access Modes", "All ways the volume can be mounted."),
        col("Reclaim Policy", "What happens to the volume when released from its claim."),
        col("Status", "The phase of the volume."),
        col("Claim", "The claim bound to the volume."),
        col("StorageClass", "The name of the StorageClass the volume belongs to."),
        col("VolumeAttributesClass", "The VolumeAttributesClass the volume belongs to."),
        col("Reason", "Why the volume is in its phase."),
        AGE_COL,
        col("VolumeMode", "Whether the volume is a filesystem or a raw block device.",
            priority=1),
    ),
    _pv_cells,
)


def _sc_cells(obj: JSON, now: dt.datetime) -> Cells:
    name = name_of(obj) + (" (default)" if is_default_class(obj) else "")
    return [name, text_at(obj, "provisioner"), text_at(obj, "reclaimPolicy") or "Delete",
            text_at(obj, "volumeBindingMode") or "Immediate",
            dig(obj, "allowVolumeExpansion") is True, age_cell(obj, now)]


STORAGE_CLASS = Printer(
    (
        name_col(),
        col("Provisioner", "Indicates the type of the provisioner."),
        col("ReclaimPolicy", "Indicates the type of the reclaim policy."),
        col("VolumeBindingMode", "Indicates how PersistentVolumeClaims should be "
                                 "provisioned and bound."),
        col("AllowVolumeExpansion", "Indicates whether the storage class allows volume "
                                    "expand.", type_="boolean"),
        AGE_COL,
    ),
    _sc_cells,
)


def _sts_cells(obj: JSON, now: dt.datetime) -> Cells:
    names, images = container_cells(dig(obj, "spec", "template", "spec"))
    desired = int_of(obj, "spec", "replicas", default=1)
    return [name_of(obj), f"{int_of(obj, 'status', 'readyReplicas')}/{desired}",
            age_cell(obj, now), names, images]


STATEFUL_SET = Printer(
    (
        name_col(),
        col("Ready", "Number of the pod with ready state"),
        AGE_COL, CONTAINERS_COL, IMAGES_COL,
    ),
    _sts_cells,
)


def _revision_cells(obj: JSON, now: dt.datetime) -> Cells:
    ref = next((r for r in list_at(obj, "metadata", "ownerReferences")
                if isinstance(r, dict) and r.get("controller")), None)
    controller = "<none>"
    if ref is not None:
        group = str(ref.get("apiVersion") or "").rpartition("/")[0]
        kind = str(ref.get("kind") or "").lower() + (f".{group}" if group else "")
        controller = f"{kind}/{ref.get('name')}"
    return [name_of(obj), controller, int_of(obj, "revision"), age_cell(obj, now)]


CONTROLLER_REVISION = Printer(
    (
        name_col(),
        col("Controller", "Controller of the object"),
        col("Revision", "Revision of the ControllerRevision", type_="integer"),
        AGE_COL,
    ),
    _revision_cells,
)


def _pdb_cells(obj: JSON, now: dt.datetime) -> Cells:
    spec = map_at(obj, "spec")
    min_available = str(spec["minAvailable"]) if "minAvailable" in spec else "N/A"
    max_unavailable = str(spec["maxUnavailable"]) if "maxUnavailable" in spec else "N/A"
    return [name_of(obj), min_available, max_unavailable,
            int_of(obj, "status", "disruptionsAllowed"), age_cell(obj, now)]


POD_DISRUPTION_BUDGET = Printer(
    (
        name_col(),
        col("Min Available", "The minimum number of pods that must be available "
                             "simultaneously.  This can be either an integer or a string "
                             "specifying a percentage, e.g. \"28%\"."),
        col("Max Unavailable", "The maximum number of pods that may be unavailable "
                               "simultaneously.  This can be either an integer or a string "
                               "specifying a percentage, e.g. \"28%\"."),
        col("Allowed Disruptions", "Calculated number of pods that may be disrupted at this "
                                   "time.", type_="integer"),
        AGE_COL,
    ),
    _pdb_cells,
)
