"""Services and Endpoints (core/v1): ``registry/core/service``, ``registry/core/endpoint``.

Service names are DNS-1035 labels (they become DNS names and environment variables).
"""

from __future__ import annotations

from typing import ClassVar

from kubelite.api import defaults, scheme
from kubelite.api.fieldselectors import META_FIELDS, Fields, field_path
from kubelite.api.meta import JSON
from kubelite.api.names import name_is_dns1035_label
from kubelite.api.validation import core
from kubelite.api.validation.field import Errors, NameFn
from kubelite.apiserver.allocators.services import held_ips, normalize_cluster_ips
from kubelite.apiserver.kinds.strategy import Strategy, Transaction, Writer
from kubelite.apiserver.printers.core import ENDPOINTS, SERVICE
from kubelite.apiserver.printers.tables import Printer


class ServiceStrategy(Strategy):
    """Services: DNS-1035 names, ports and types checked; clusterIPs and nodePorts
    claimed from the API server's ranges on create and update, released on delete;
    the clusterIP may not change once set."""

    printer: ClassVar[Printer] = SERVICE
    field_selectors: ClassVar[Fields | None] = {
        **META_FIELDS, "spec.clusterIP": field_path("spec", "clusterIP"),
        "spec.type": field_path("spec", "type")}
    name_fn: ClassVar[NameFn] = staticmethod(name_is_dns1035_label)

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults.default_service(obj)

    def validate_object(self, res: scheme.Resource, obj: JSON, errs: Errors) -> None:
        core.validate_service(obj, errs)

    def prepare_for_update(self, res: scheme.Resource, new: JSON, old: JSON,
                           subresource: str | None) -> None:
        super().prepare_for_update(res, new, old, subresource)
        if subresource is None:
            _drop_type_dependent_fields(new, old)
            _patch_allocated_values(new, old)

    def validate_object_update(self, res: scheme.Resource, new: JSON, old: JSON,
                               subresource: str | None, errs: Errors) -> None:
        _validate_cluster_ips_unchanged(new, old, errs)

    def begin_write(self, writer: Writer, obj: JSON, old: JSON | None) -> Transaction | None:
        return writer.allocators.begin(obj, old)

    async def after_delete(self, writer: Writer, obj: JSON) -> None:
        writer.allocators.release(obj)


def _spec(obj: JSON) -> JSON:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _needs_node_ports(spec: JSON) -> bool:
    return spec.get("type") in ("NodePort", "LoadBalancer")


def _node_ports(spec: JSON) -> list[object]:
    return [p.get("nodePort") for p in spec.get("ports") or [] if isinstance(p, dict)]


def _drop_type_dependent_fields(new: JSON, old: JSON) -> None:
    """A type change drops what the old type needed and the new one does not, when the
    update left it as it was (kube's ``dropTypeDependentFields``): the clusterIPs and IP
    families going to ExternalName, the nodePorts going to ClusterIP, the
    healthCheckNodePort leaving LoadBalancer with the Local policy."""
    spec, old_spec = _spec(new), _spec(old)
    if not spec:
        return
    if (old_spec.get("type", "ClusterIP") != "ExternalName"
            and spec.get("type") == "ExternalName"):
        if spec.get("clusterIPs") == old_spec.get("clusterIPs"):
            for f in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
                spec.pop(f, None)
    if _needs_node_ports(old_spec) and not _needs_node_ports(spec):
        if _node_ports(spec) == _node_ports(old_spec)[:len(_node_ports(spec))]:
            for port in spec.get("ports") or []:
                if isinstance(port, dict):
                    port.pop("nodePort", None)
    hc = spec.get("healthCheckNodePort")
    if hc and hc == old_spec.get("healthCheckNodePort") and not (
            spec.get("type") == "LoadBalancer"
            and spec.get("externalTrafficPolicy") == "Local"):
        spec.pop("healthCheckNodePort", None)


def _patch_allocated_values(new: JSON, old: JSON) -> None:
    """An update that leaves out what the server allocated keeps it (kube's
    ``patchAllocatedValues``): the clusterIP(s), the nodePort of each port matched by
    port and protocol, the healthCheckNodePort; a changed clusterIP with the old
    clusterIPs carries into clusterIPs[0] (so that it is refused as a change)."""
    spec, old_spec = _spec(new), _spec(old)
    if not spec or new.get("spec") is None:
        return
    keeps_ip = spec.get("type", "ClusterIP") != "ExternalName" and held_ips(old)
    if keeps_ip:
        if not spec.get("clusterIP") and not spec.get("clusterIPs"):
            spec["clusterIP"] = old_spec.get("clusterIP")
            spec["clusterIPs"] = list(old_spec.get("clusterIPs") or [])
        elif (spec.get("clusterIP") and spec.get("clusterIP") != old_spec.get("clusterIP")
              and spec.get("clusterIPs") == old_spec.get("clusterIPs")):
            spec["clusterIPs"] = [spec["clusterIP"], *spec["clusterIPs"][1:]]
        normalize_cluster_ips(spec)
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        old_nodeports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                         for p in old_spec.get("ports") or [] if isinstance(p, dict)}
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and not port.get("nodePort"):
                np = old_nodeports.get((port.get("port"), port.get("protocol", "TCP")))
                if np:
                    port["nodePort"] = np
        if (spec.get("externalTrafficPolicy") == "Local"
                and not spec.get("healthCheckNodePort")
                and old_spec.get("healthCheckNodePort")):
            spec["healthCheckNodePort"] = old_spec["healthCheckNodePort"]


def _validate_cluster_ips_unchanged(new: JSON, old: JSON, errs: Errors) -> None:
    """``validateUpgradeDowngradeClusterIPs`` on a single-stack cluster: a clusterIP
    once set stays (ExternalName on either side, or headless to headless, excepted)."""
    spec, old_spec = _spec(new), _spec(old)
    if "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return
    old_ips = list(old_spec.get("clusterIPs") or [])
    ips = list(spec.get("clusterIPs") or [])
    if not old_ips or (old_ips == ["None"] and ips == ["None"]):
        return
    if len(ips) == len(old_ips):
        for i, ip in enumerate(old_ips):
            if ips[i] != ip:
                errs.invalid(f"spec.clusterIPs[{i}]", ips, "may not change once set")
    elif not ips:
        errs.invalid("spec.clusterIPs", ips, "primary clusterIP can not be unset")


class EndpointsStrategy(Strategy):
    """Endpoints: defaulted port protocols."""

    printer: ClassVar[Printer] = ENDPOINTS

    def default(self, res: scheme.Resource, obj: JSON) -> None:
        defaults.default_endpoints(obj)


SERVICE_STRATEGY = ServiceStrategy()
ENDPOINTS_STRATEGY = EndpointsStrategy()
