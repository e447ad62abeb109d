"""Defaulting of the storage kinds, StatefulSets and PodDisruptionBudgets (kube 1.32).

``SetDefaults_PersistentVolume``, ``SetDefaults_PersistentVolumeClaim``, the
storage.k8s.io ``SetDefaults_StorageClass``, ``SetDefaults_StatefulSet`` and what Go's
encoder always writes (``status: {}``, a template's ``creationTimestamp: null``).
Same contracts as :mod:`kubelite.api.defaults`: only adds, never rejects, idempotent,
mutates the caller's private copy.
"""

from __future__ import annotations

from typing import Any

from kubelite.api.defaults import _ensure as _obj
from kubelite.api.defaults import _template
from kubelite.api.meta import JSON


def _set(obj: JSON, key: str, value: Any) -> None:
    if obj.get(key) is None or obj.get(key) == "":
        obj[key] = value


def _claim_spec(spec: JSON) -> None:
    _set(spec, "volumeMode", "Filesystem")
    _obj(spec, "resources")


def default_persistent_volume(obj: JSON) -> None:
    spec = _obj(obj, "spec")
    if spec is not None:
        _set(spec, "persistentVolumeReclaimPolicy", "Retain")
        _set(spec, "volumeMode", "Filesystem")
        if isinstance(spec.get("hostPath"), dict):
            spec["hostPath"].setdefault("type", "")
    status = _obj(obj, "status")
    if status is not None:
        _set(status, "phase", "Pending")


def default_persistent_volume_claim(obj: JSON) -> None:
    spec = _obj(obj, "spec")
    if spec is not None:
        _claim_spec(spec)
    status = _obj(obj, "status")
    if status is not None:
        _set(status, "phase", "Pending")


def default_storage_class(obj: JSON) -> None:
    if isinstance(obj, dict):
        _set(obj, "reclaimPolicy", "Delete")
        _set(obj, "volumeBindingMode", "Immediate")


def default_stateful_set(obj: JSON) -> None:
    spec = _obj(obj, "spec")
    if spec is None:
        return
    _set(spec, "replicas", 1)
    _set(spec, "podManagementPolicy", "OrderedReady")
    strategy = _obj(spec, "updateStrategy")
    if strategy is not None:
        _set(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = _obj(strategy, "rollingUpdate")
            if rolling is not None:
                _set(rolling, "partition", 0)
    _set(spec, "revisionHistoryLimit", 10)
    retention = _obj(spec, "persistentVolumeClaimRetentionPolicy")
    if retention is not None:
        _set(retention, "whenDeleted", "Retain")
        _set(retention, "whenScaled", "Retain")
    _template(spec)
    for claim in spec.get("volumeClaimTemplates") or []:
        if isinstance(claim, dict):
            claim.setdefault("apiVersion", "v1")
            claim.setdefault("kind", "PersistentVolumeClaim")
            cmeta = _obj(claim, "metadata")
            if cmeta is not None:
                cmeta.setdefault("creationTimestamp", None)
            cspec = _obj(claim, "spec")
            if cspec is not None:
                _claim_spec(cspec)
            cstatus = _obj(claim, "status")
            if cstatus is not None:
                _set(cstatus, "phase", "Pending")
    status = _obj(obj, "status")
    if status is not None:
        _set(status, "replicas", 0)
        status.setdefault("availableReplicas", 0)


def default_pod_disruption_budget(obj: JSON) -> None:
    _obj(obj, "spec")
    status = _obj(obj, "status")
    if status is not None:
        for key in ("disruptionsAllowed", "currentHealthy", "desiredHealthy",
                    "expectedPods"):
            status.setdefault(key, 0)
