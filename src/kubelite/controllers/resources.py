"""The resources the controllers read and write, looked up once from the scheme."""

from __future__ import annotations

from kubelite.api import scheme
from kubelite.client.resources import CONFIGMAPS, NODES, PODS, SECRETS, SERVICES


def _r(group: str, version: str, plural: str) -> scheme.Resource:
    res = scheme.lookup(group, version, plural)
    assert res is not None, plural
    return res


REPLICASETS = _r("apps", "v1", "replicasets")
DEPLOYMENTS = _r("apps", "v1", "deployments")
DAEMONSETS = _r("apps", "v1", "daemonsets")
ENDPOINTS = _r("", "v1", "endpoints")
ENDPOINTSLICES = _r("discovery.k8s.io", "v1", "endpointslices")
JOBS = _r("batch", "v1", "jobs")
CRONJOBS = _r("batch", "v1", "cronjobs")
STATEFULSETS = _r("apps", "v1", "statefulsets")
CONTROLLERREVISIONS = _r("apps", "v1", "controllerrevisions")
PERSISTENTVOLUMECLAIMS = _r("", "v1", "persistentvolumeclaims")
PERSISTENTVOLUMES = _r("", "v1", "persistentvolumes")
STORAGECLASSES = _r("storage.k8s.io", "v1", "storageclasses")
PODDISRUPTIONBUDGETS = _r("policy", "v1", "poddisruptionbudgets")

__all__ = ["CONFIGMAPS", "DAEMONSETS", "DEPLOYMENTS", "ENDPOINTS", "ENDPOINTSLICES", "NODES",
           "PODS", "REPLICASETS", "SECRETS", "SERVICES"]
