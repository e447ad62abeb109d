"""Validation of PersistentVolumes, PersistentVolumeClaims and StorageClasses
(``pkg/apis/core/validation`` and ``pkg/apis/storage/validation``, kube 1.32), with
kube's texts.
"""

from __future__ import annotations

from typing import Any

from kubelite.api import quantity
from kubelite.api.meta import JSON
from kubelite.api.validation.field import Errors, dict_at, list_at, str_at

ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
RECLAIM_POLICIES = ["Delete", "Recycle", "Retain"]
SC_RECLAIM_POLICIES = ["Delete", "Retain"]
BINDING_MODES = ["Immediate", "WaitForFirstConsumer"]
VOLUME_MODES = ["Block", "Filesystem"]
PV_SOURCES = ("hostPath", "local", "nfs", "csi", "iscsi", "fc", "rbd", "cephfs", "cinder",
              "glusterfs", "azureFile", "azureDisk", "vsphereVolume", "flexVolume",
              "gcePersistentDisk", "awsElasticBlockStore", "portworxVolume", "scaleIO",
              "storageos", "quobyte", "flocker", "photonPersistentDisk")
PVC_SPEC_IMMUTABLE = ("spec is immutable after creation except resources.requests and "
                      "volumeAttributesClassName for bound claims")


def _access_modes(modes: list[Any], path: str, errs: Errors) -> None:
    if not modes:
        errs.required(path, "at least 1 access mode is required")
        return
    for mode in modes:
        if mode not in ACCESS_MODES:
            errs.not_supported(path, mode, ACCESS_MODES)
    if "ReadWriteOncePod" in modes and len(modes) > 1:
        errs.forbidden(path, "may not use ReadWriteOncePod with other access modes")


def _storage_quantity(holder: JSON, path: str, errs: Errors) -> None:
    """``resources[storage]``: present, a quantity, positive."""
    value = holder.get("storage")
    if value is None:
        errs.required(f"{path}[storage]")
        return
    try:
        amount = quantity.value(str(value))
    except ValueError:
        return  # the decoder reports malformed quantities
    if amount <= 0:
        errs.invalid(f"{path}[storage]", str(value), "must be greater than zero")


def _volume_mode(spec: JSON, path: str, errs: Errors) -> None:
    mode = spec.get("volumeMode")
    if mode is not None and mode not in VOLUME_MODES:
        errs.not_supported(f"{path}.volumeMode", mode, VOLUME_MODES)


def validate_claim_spec(spec: Any, path: str, errs: Errors) -> None:
    """``ValidatePersistentVolumeClaimSpec`` (also of volumeClaimTemplates)."""
    spec = spec if isinstance(spec, dict) else {}
    _access_modes(list_at(spec, "accessModes"), f"{path}.accessModes", errs)
    requests = dict_at(dict_at(spec, "resources"), "requests")
    _storage_quantity(requests, f"{path}.resources", errs)
    _volume_mode(spec, path, errs)


def validate_persistent_volume_claim(obj: JSON, errs: Errors) -> None:
    validate_claim_spec(obj.get("spec"), "spec", errs)


def validate_persistent_volume_claim_update(new: JSON, old: JSON, errs: Errors) -> None:
    """Only ``resources.requests`` and ``volumeAttributesClassName`` may change (and
    ``volumeName`` may be set once, by the binder)."""
    def comparable(obj: JSON) -> JSON:
        spec = dict(dict_at(obj, "spec"))
        spec.pop("volumeAttributesClassName", None)
        resources = dict(dict_at(spec, "resources"))
        resources.pop("requests", None)
        spec["resources"] = resources
        return spec

    a, b = comparable(new), comparable(old)
    if not str_at(b, "volumeName"):
        a.pop("volumeName", None)
        b.pop("volumeName", None)
    if not str_at(b, "storageClassName"):  # a class may be set once (the beta annotation)
        a.pop("storageClassName", None)
        b.pop("storageClassName", None)
    if a != b:
        errs.forbidden("spec", PVC_SPEC_IMMUTABLE)


def validate_persistent_volume(obj: JSON, errs: Errors) -> None:
    """``ValidatePersistentVolumeSpec``."""
    spec = dict_at(obj, "spec")
    _access_modes(list_at(spec, "accessModes"), "spec.accessModes", errs)
    capacity = dict_at(spec, "capacity")
    if not capacity:
        errs.required("spec.capacity")
    else:
        _storage_quantity(capacity, "spec.capacity", errs)
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy is not None and policy not in RECLAIM_POLICIES:
        errs.not_supported("spec.persistentVolumeReclaimPolicy", policy, RECLAIM_POLICIES)
    sources = [s for s in PV_SOURCES if isinstance(spec.get(s), dict)]
    if not sources:
        errs.required("spec", "must specify a volume type")
    for extra in sources[1:]:
        errs.forbidden(f"spec.{extra}", "may not specify more than 1 volume type")
    if isinstance(spec.get("hostPath"), dict) and not str_at(spec["hostPath"], "path"):
        errs.required("spec.hostPath.path")
    if isinstance(spec.get("local"), dict):
        if not str_at(spec["local"], "path"):
            errs.required("spec.local.path")
        if not isinstance(spec.get("nodeAffinity"), dict):
            errs.required("spec.nodeAffinity", "Local volume requires node affinity")
    _volume_mode(spec, "spec", errs)


def validate_storage_class(obj: JSON, errs: Errors) -> None:
    """``ValidateStorageClass``."""
    if not str_at(obj, "provisioner"):
        errs.required("provisioner")
    policy = obj.get("reclaimPolicy")
    if policy is not None and policy not in SC_RECLAIM_POLICIES:
        errs.not_supported("reclaimPolicy", policy, SC_RECLAIM_POLICIES)
    mode = obj.get("volumeBindingMode")
    if mode is not None and mode not in BINDING_MODES:
        errs.not_supported("volumeBindingMode", mode, BINDING_MODES)


def validate_storage_class_update(new: JSON, old: JSON, errs: Errors) -> None:
    """Parameters, provisioner, reclaimPolicy and volumeBindingMode are immutable."""
    if new.get("parameters") != old.get("parameters"):
        errs.forbidden("parameters", "updates to parameters are forbidden.")
    if new.get("provisioner") != old.get("provisioner"):
        errs.forbidden("provisioner", "updates to provisioner are forbidden.")
    if new.get("reclaimPolicy") != old.get("reclaimPolicy"):
        errs.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden.")
    if new.get("volumeBindingMode") != old.get("volumeBindingMode"):
        errs.forbidden("volumeBindingMode", "field is immutable")
