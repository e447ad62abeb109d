"""ClusterIPs and nodePorts of Services: what a write claims and what it gives back.

kube-apiserver's ``registry/core/service/storage/alloc.go`` in small. Single-stack
(the family of ``--service-cidr``).

Contract of :meth:`Allocators.begin`: it fills in what the Service needs and did not ask
for (its clusterIP, nodePorts, healthCheckNodePort), claims what it asked for, and returns
a :class:`Claim` that the caller commits once the object is stored (then what the old
object held and the new one no longer does is released) or reverts when the write failed
or was a dry run. A value that cannot be claimed is a 422 with kube's text, and nothing is
claimed. Claims and releases are synchronous (no await): two concurrent writes on the one
event loop can never both get one value.

The claimed set is not stored: :meth:`Allocators.seed` rebuilds it from the stored
Services when the API server starts (docs/decisions.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from kubelite.api import errors
from kubelite.api.meta import JSON
from kubelite.api.validation.field import Errors
from kubelite.apiserver.allocators.ranges import AllocationError, IPRange, PortRange, Range

log = logging.getLogger(__name__)

DEFAULT_SERVICE_CIDR = "10.43.0.0/16"
DEFAULT_NODE_PORT_RANGE = "30000-32767"


def _spec(svc: JSON | None) -> JSON:
    spec = svc.get("spec") if isinstance(svc, dict) else None
    return spec if isinstance(spec, dict) else {}


def uses_cluster_ip(svc: JSON | None) -> bool:
    """Whether the Service holds a cluster IP (not ExternalName, not headless)."""
    spec = _spec(svc)
    return spec.get("type", "ClusterIP") != "ExternalName" and spec.get("clusterIP") != "None"


def uses_node_ports(svc: JSON | None) -> bool:
    """Whether the Service's ports get nodePorts allocated."""
    spec = _spec(svc)
    stype = spec.get("type")
    return stype == "NodePort" or (
        stype == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts", True) is not False)


def needs_health_check_port(svc: JSON | None) -> bool:
    spec = _spec(svc)
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def held_ips(svc: JSON | None) -> set[str]:
    """The cluster IPs a stored Service holds."""
    if not uses_cluster_ip(svc):
        return set()
    spec = _spec(svc)
    ips = [ip for ip in spec.get("clusterIPs") or [] if isinstance(ip, str)]
    if not ips and isinstance(spec.get("clusterIP"), str):
        ips = [spec["clusterIP"]]
    return {ip for ip in ips if ip and ip != "None"}


def held_ports(svc: JSON | None) -> set[int]:
    """The node ports a stored Service holds (nodePorts and healthCheckNodePort)."""
    spec = _spec(svc)
    out = set()
    for port in spec.get("ports") or []:
        np = port.get("nodePort") if isinstance(port, dict) else None
        if isinstance(np, int) and not isinstance(np, bool) and np:
            out.add(np)
    hc = spec.get("healthCheckNodePort")
    if isinstance(hc, int) and not isinstance(hc, bool) and hc:
        out.add(hc)
    return out


def normalize_cluster_ips(spec: JSON) -> None:
    """``clusterIP`` and ``clusterIPs`` agree: either one, when the other is unset, fills
    it (kube's ``normalizeClusterIPs``)."""
    ip = spec.get("clusterIP")
    ips = spec.get("clusterIPs")
    if ip and not ips:
        spec["clusterIPs"] = [ip]
    elif ips and isinstance(ips, list) and not ip:
        spec["clusterIP"] = ips[0]


@dataclass
class Claim:
    """What one write claimed (to revert) and what it gives back when committed."""

    ips: IPRange
    ports: PortRange
    claimed: list[tuple[Range, str | int]] = field(default_factory=list)
    to_release: list[tuple[Range, str | int]] = field(default_factory=list)
    done: bool = False

    def commit(self) -> None:
        """The write is stored: release what the old object held and the new does not."""
        if not self.done:
            self.done = True
            for rng, member in self.to_release:
                rng.release(member)

    def revert(self) -> None:
        """The write failed or was a dry run: give back what it claimed."""
        if not self.done:
            self.done = True
            for rng, member in self.claimed:
                rng.release(member)


class Allocators:
    """The Service IP range and the node-port range of one API server."""

    def __init__(self, service_cidr: str = DEFAULT_SERVICE_CIDR,
                 node_port_range: str = DEFAULT_NODE_PORT_RANGE) -> None:
        self.ips = IPRange(service_cidr)
        self.ports = PortRange(node_port_range)

    def seed(self, services: Iterable[JSON]) -> None:
        """Claim what the stored Services hold (at start); values outside the ranges (a
        changed flag) are logged and left alone."""
        for svc in services:
            for ip in held_ips(svc):
                self._seed_one(self.ips, ip, svc)
            for port in held_ports(svc):
                self._seed_one(self.ports, port, svc)

    def _seed_one(self, rng: Range, member: str | int, svc: JSON) -> None:
        try:
            rng.allocate(member)
        except AllocationError as exc:
            meta = svc.get("metadata") or {}
            log.warning("Service %s/%s holds %s: %s", meta.get("namespace"),
                        meta.get("name"), member, exc)

    def release(self, svc: JSON) -> None:
        """The Service was deleted: its values are free again."""
        for ip in held_ips(svc):
            self.ips.release(ip)
        for port in held_ports(svc):
            self.ports.release(port)

    def begin(self, svc: JSON, old: JSON | None) -> Claim:
        """Fill in and claim the values ``svc`` needs; ``old`` is the stored object of an
        update (None for a create). Raises the 422 of the first value that cannot be had."""
        self._check_families(svc)
        claim = Claim(self.ips, self.ports)
        try:
            self._claim_ips(svc, old, claim)
            self._claim_ports(svc, old, claim)
        except BaseException:
            claim.revert()
            raise
        keep_ips, keep_ports = held_ips(svc), held_ports(svc)
        claim.to_release = [(self.ips, ip) for ip in held_ips(old) - keep_ips]
        claim.to_release += [(self.ports, p) for p in held_ports(old) - keep_ports]
        return claim

    def _check_families(self, svc: JSON) -> None:
        """A single-stack cluster refuses dual-stack and the other family
        (``initIPFamilyFields``); headless Services without a selector may say anything."""
        spec = _spec(svc)
        if spec.get("type", "ClusterIP") == "ExternalName":
            return
        if spec.get("clusterIP") == "None" and not spec.get("selector"):
            return
        family = "IPv6" if self.ips.network.version == 6 else "IPv4"
        errs = Errors()
        policy = spec.get("ipFamilyPolicy")
        if policy == "RequireDualStack":
            errs.invalid("spec.ipFamilyPolicy", policy,
                         "this cluster is not configured for dual-stack services")
        for i, fam in enumerate(spec.get("ipFamilies") or []):
            if fam != family:
                errs.invalid(f"spec.ipFamilies[{i}]", fam, "not configured on this cluster")
        if errs.causes:
            raise _invalid(svc, errs)

    def _claim_ips(self, svc: JSON, old: JSON | None, claim: Claim) -> None:
        spec = svc.setdefault("spec", {})
        if spec.get("type", "ClusterIP") == "ExternalName":
            return
        normalize_cluster_ips(spec)
        if spec.get("clusterIP") == "None":
            spec["clusterIPs"] = ["None"]
            return
        requested = spec.get("clusterIP")
        if not requested:
            ip = str(self.ips.allocate_next())
            claim.claimed.append((self.ips, ip))
            spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
            return
        if requested in held_ips(old):
            return
        try:
            self.ips.allocate(requested)
        except AllocationError as exc:
            errs = Errors()
            errs.invalid("spec.clusterIPs", list(spec.get("clusterIPs") or [requested]),
                         f"failed to allocate IP {requested}: {exc}")
            raise _invalid(svc, errs) from None
        claim.claimed.append((self.ips, requested))

    def _claim_ports(self, svc: JSON, old: JSON | None, claim: Claim) -> None:
        spec = svc.setdefault("spec", {})
        old_ports = held_ports(old)
        mine: set[int] = set()
        auto = uses_node_ports(svc)
        for i, port in enumerate(spec.get("ports") or []):
            if not isinstance(port, dict):
                continue
            np = port.get("nodePort")
            if isinstance(np, int) and not isinstance(np, bool) and np:
                self._claim_port(np, f"spec.ports[{i}].nodePort", svc, old_ports, mine, claim)
            elif auto:
                port["nodePort"] = self._next_port(claim, mine)
        if needs_health_check_port(svc):
            hc = spec.get("healthCheckNodePort")
            if isinstance(hc, int) and not isinstance(hc, bool) and hc:
                self._claim_port(hc, "spec.healthCheckNodePort", svc, old_ports, mine, claim)
            else:
                spec["healthCheckNodePort"] = self._next_port(claim, mine)

    def _claim_port(self, port: int, path: str, svc: JSON, old_ports: set[int],
                    mine: set[int], claim: Claim) -> None:
        if port in old_ports or port in mine:  # held already, or one port for TCP and UDP
            mine.add(port)
            return
        try:
            self.ports.allocate(port)
        except AllocationError as exc:
            errs = Errors()
            errs.invalid(path, port, str(exc))
            raise _invalid(svc, errs) from None
        mine.add(port)
        claim.claimed.append((self.ports, port))

    def _next_port(self, claim: Claim, mine: set[int]) -> int:
        try:
            port = int(self.ports.allocate_next())
        except AllocationError as exc:
            raise errors.internal(f"failed to allocate a nodePort: {exc}") from None
        mine.add(port)
        claim.claimed.append((self.ports, port))
        return port


def _invalid(svc: JSON, errs: Errors) -> errors.StatusError:
    name = str((svc.get("metadata") or {}).get("name") or "")
    return errors.invalid("Service", name, errs.causes)
