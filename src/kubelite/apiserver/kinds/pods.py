"""Pods (core/v1): ``registry/core/pod/strategy.go``.

A created pod starts ``Pending`` with its QoS class; its spec is immutable but for the
fields ``ValidatePodUpdate`` allows; a pod bound to a node is deleted gracefully (its
kubelet stops the containers, then removes it with grace 0).
"""

from __future__ import annotations

import copy
from typing import ClassVar

from kubelite.api import defaults, scheme
from kubelite.api.errors import Cause
from kubelite.api.fieldselectors import META_FIELDS, Fields, always_empty, bool_field, field_path
from kubelite.api.meta import JSON, dig
from kubelite.api.validation import core, ephemeral
from kubelite.api.validation.field import Errors
from kubelite.apiserver.kinds.strategy import Strategy
from kubelite.apiserver.printers.core import POD
from kubelite.apiserver.printers.tables import Printer


def qos_class(spec: JSON) -> str:
    """The pod's QoS class from its containers' requests and limits."""
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    any_set = False
    guaranteed = True
    for c in containers:
        resources = c.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        if requests or limits:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in limits or (r in requests and str(requests[r]) != str(limits[r])):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _pod_ip(obj: JSON) -> str:
    ips = dig(obj, "status", "podIPs") or []
    if ips and isinstance(ips[0], dict):
        return str(ips[0].get("ip") or "")
    return str(dig(obj, "status", "podIP") or "")


class PodStrategy(Strategy):
    """Pods: Pending on create, immutable specs, graceful deletion on a node."""

    graceful_delete = True
    printer: ClassVar[Printer] = POD
    field_selectors: ClassVar[Fields | None] = {
        **META_FIELDS,
        "spec.nodeName": field_path("spec", "nodeName"),
        "spec.restartPolicy": field_path("spec", "restartPolicy"),
        "spec.schedulerName": field_path("spec", "schedulerName"),
        "spec.serviceAccountName": field_path("spec", "serviceAccountName"),
        "spec.hostNetwork": bool_field("spec", "hostNetwork"),
        "status.phase": field_path("status", "phase"),
        "status.podIP": _pod_ip,
        "status.podIPs": always_empty,  # accepted by the API, never populated
        "status.nominatedNodeName": field_path("status", "nominatedNodeName"),
    }
    # Old clients send spec.host; the API reads it as spec.nodeName.
    field_aliases = {"spec.host": "spec.nodeName"}

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults.default_pod(obj)

    def prepare_for_create(self, res: scheme.Resource, obj: JSON) -> None:
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj.get("spec") or {})}

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        core.validate_pod(obj, errs)

    def validate(self, res: scheme.Resource, obj: JSON) -> list[Cause]:
        causes = super().validate(res, obj)
        errs = Errors()
        ephemeral.validate_pod_create(obj, errs)
        return causes + errs.causes

    def prepare_for_update(self, res: scheme.Resource, new: JSON, old: JSON,
                           subresource: str | None) -> None:
        if subresource != "ephemeralcontainers":
            super().prepare_for_update(res, new, old, subresource)
            return
        # dropNonEphemeralContainerUpdates: the stored pod with the new list only
        wanted = (new.get("spec") or {}).get("ephemeralContainers")
        meta = dict(old.get("metadata") or {})
        for key in ("name", "namespace", "resourceVersion", "uid"):
            if key in (new.get("metadata") or {}):
                meta[key] = new["metadata"][key]
        new.clear()
        new.update(copy.deepcopy(old))
        new["metadata"] = meta
        new.setdefault("spec", {})["ephemeralContainers"] = wanted or []
        if not wanted:
            new["spec"].pop("ephemeralContainers")

    def validate_object_update(self, res: scheme.Resource, new: JSON, old: JSON,
                               subresource: str | None, errs: Errors) -> None:
        if subresource is None:
            core.validate_pod_update(new, old, errs)
        elif subresource == "ephemeralcontainers":
            ephemeral.validate_ephemeral_update(new, old, errs)

    def grace_period(self, obj: JSON, requested: int | None) -> int:
        """0 for a pod on no node or already finished; else the request, or the pod's
        ``terminationGracePeriodSeconds`` (30 when unset)."""
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return max(0, requested)
        value = spec.get("terminationGracePeriodSeconds")
        return int(value) if value is not None else defaults.DEFAULT_GRACE_SECONDS


POD_STRATEGY = PodStrategy()
