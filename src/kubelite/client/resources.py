"""The resources the kubelet and the scheduler use, looked up once from the scheme."""

from __future__ import annotations

from kubelite.api import scheme


def _r(group: str, version: str, plural: str) -> scheme.Resource:
    res = scheme.lookup(group, version, plural)
    assert res is not None, plural
    return res


PODS = _r("", "v1", "pods")
NODES = _r("", "v1", "nodes")
EVENTS = _r("", "v1", "events")
CONFIGMAPS = _r("", "v1", "configmaps")
SECRETS = _r("", "v1", "secrets")
NAMESPACES = _r("", "v1", "namespaces")
SERVICES = _r("", "v1", "services")
PERSISTENTVOLUMECLAIMS = _r("", "v1", "persistentvolumeclaims")
PERSISTENTVOLUMES = _r("", "v1", "persistentvolumes")
LEASES = _r("coordination.k8s.io", "v1", "leases")
