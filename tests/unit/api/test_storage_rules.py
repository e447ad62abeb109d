"""PersistentVolumes, claims and StorageClasses: defaults, kube's validation texts,
printer cells and the default class admission picks (tables of manifests)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from by_resource import apply_defaults, validate

from kubelite.apiserver.admission.default_storage_class import default_class
from kubelite.apiserver.printers.storage import PERSISTENT_VOLUME, PERSISTENT_VOLUME_CLAIM

JSON = dict[str, Any]


def _claim(**spec: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "c", "namespace": "default"}, "spec": spec}


def _pv(**spec: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "v"},
            "spec": spec}


GOOD_CLAIM = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
GOOD_PV = {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"},
           "hostPath": {"path": "/srv"}}


@pytest.mark.parametrize(("resource", "obj", "messages"), [
    ("persistentvolumeclaims", _claim(**GOOD_CLAIM), []),
    ("persistentvolumeclaims", _claim(), [
        ("spec.accessModes", "Required value: at least 1 access mode is required"),
        ("spec.resources[storage]", "Required value")]),
    ("persistentvolumeclaims", _claim(accessModes=["ReadWriteSometimes"],
                                      resources={"requests": {"storage": "0"}}), [
        ("spec.accessModes", 'Unsupported value: "ReadWriteSometimes": supported values: '
                             '"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", '
                             '"ReadWriteOncePod"'),
        ("spec.resources[storage]", 'Invalid value: "0": must be greater than zero')]),
    ("persistentvolumes", _pv(**GOOD_PV), []),
    ("persistentvolumes", _pv(accessModes=["ReadWriteOnce"]), [
        ("spec.capacity", "Required value"),
        ("spec", "Required value: must specify a volume type")]),
    ("persistentvolumes", _pv(**{**GOOD_PV, "persistentVolumeReclaimPolicy": "Keep",
                                 "local": {"path": "/x"}}), [
        ("spec.persistentVolumeReclaimPolicy",
         'Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"'),
        ("spec.local", "Forbidden: may not specify more than 1 volume type"),
        ("spec.nodeAffinity", "Required value: Local volume requires node affinity")]),
    ("storageclasses", {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                        "metadata": {"name": "s"}, "volumeBindingMode": "Later"}, [
        ("provisioner", "Required value"),
        ("volumeBindingMode", 'Unsupported value: "Later": supported values: "Immediate", '
                              '"WaitForFirstConsumer"')]),
])
def test_validation_texts(resource: str, obj: JSON, messages: list[tuple[str, str]]) -> None:
    apply_defaults(resource, obj)
    assert [(c.field, c.message) for c in validate(resource, obj)] == messages


def test_claim_spec_is_immutable_but_for_requests_and_a_first_volume_name() -> None:
    old = _claim(**GOOD_CLAIM, storageClassName="local-path")
    apply_defaults("persistentvolumeclaims", old)
    grown = {**old, "spec": {**old["spec"], "resources": {"requests": {"storage": "2Gi"}},
                             "volumeName": "pv-1"}}
    assert validate("persistentvolumeclaims", grown, old) == []
    changed = {**old, "spec": {**old["spec"], "accessModes": ["ReadWriteMany"]}}
    assert [(c.field, c.message) for c in validate("persistentvolumeclaims", changed, old)] == [
        ("spec", "Forbidden: spec is immutable after creation except resources.requests and "
                 "volumeAttributesClassName for bound claims")]


@pytest.mark.parametrize(("resource", "obj", "expected"), [
    ("persistentvolumeclaims", _claim(), {
        "spec": {"volumeMode": "Filesystem", "resources": {}},
        "status": {"phase": "Pending"}}),
    ("persistentvolumes", _pv(hostPath={"path": "/srv"}), {
        "spec": {"hostPath": {"path": "/srv", "type": ""},
                 "persistentVolumeReclaimPolicy": "Retain", "volumeMode": "Filesystem"},
        "status": {"phase": "Pending"}}),
    ("storageclasses", {"metadata": {"name": "s"}, "provisioner": "p"}, {
        "provisioner": "p", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}),
])
def test_defaults(resource: str, obj: JSON, expected: JSON) -> None:
    apply_defaults(resource, obj)
    assert {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")} == (
        expected)


NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T0 = "2025-12-31T23:00:00Z"


@pytest.mark.parametrize(("printer", "obj", "cells"), [
    (PERSISTENT_VOLUME_CLAIM, {"metadata": {"name": "c", "creationTimestamp": T0},
                               "spec": {"storageClassName": "local-path",
                                        "volumeMode": "Filesystem"},
                               "status": {"phase": "Pending"}},
     ["c", "Pending", "", "", "", "local-path", "<unset>", "60m", "Filesystem"]),
    (PERSISTENT_VOLUME_CLAIM, {"metadata": {"name": "c", "creationTimestamp": T0},
                               "spec": {"volumeName": "pv1"},
                               "status": {"phase": "Bound", "capacity": {"storage": "1Gi"},
                                          "accessModes": ["ReadWriteMany",
                                                          "ReadWriteOnce"]}},
     ["c", "Bound", "pv1", "1Gi", "RWO,RWX", "", "<unset>", "60m", "<unset>"]),
    (PERSISTENT_VOLUME, {"metadata": {"name": "v", "creationTimestamp": T0,
                                      "deletionTimestamp": T0},
                         "spec": {"capacity": {"storage": "2Gi"}, "accessModes": ["ReadOnlyMany"],
                                  "persistentVolumeReclaimPolicy": "Retain",
                                  "claimRef": {"namespace": "ns", "name": "c"}},
                         "status": {"phase": "Bound"}},
     ["v", "2Gi", "ROX", "Retain", "Terminating", "ns/c", "", "<unset>", "", "60m",
      "<unset>"]),
])
def test_printer_cells(printer: Any, obj: JSON, cells: list[Any]) -> None:
    assert printer.cells(obj, NOW) == cells


def _sc(name: str, created: str, default: str | None) -> JSON:
    ann = {} if default is None else {"storageclass.kubernetes.io/is-default-class": default}
    return {"metadata": {"name": name, "creationTimestamp": created, "annotations": ann}}


@pytest.mark.parametrize(("classes", "expected"), [
    ([], None),
    ([_sc("a", T0, None), _sc("b", T0, "false")], None),
    ([_sc("a", T0, "true"), _sc("b", T0, None)], "a"),
    ([_sc("old", "2020-01-01T00:00:00Z", "true"), _sc("new", T0, "true")], "new"),
    ([_sc("z", T0, "true"), _sc("y", T0, "true")], "y"),
])
def test_default_class_is_the_newest_annotated(classes: list[JSON], expected: str | None) -> None:
    assert default_class(classes) == expected
