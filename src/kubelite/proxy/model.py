"""Services and EndpointSlices (JSON, as the API serves them) -> typed service ports.

Contracts:

- :func:`service_ports` yields one :class:`ServicePort` per port of every Service the
  proxy routes: a ClusterIP (or NodePort / LoadBalancer) Service with an IPv4
  ``spec.clusterIP``; headless (``None``) and ExternalName Services have no rules.
- The endpoints of a port come from the EndpointSlices labelled
  ``kubernetes.io/service-name`` in the Service's namespace whose ``ports[]`` entry has the
  same name and protocol (the first address of each endpoint, as kube-proxy).
- Endpoints used: the ready ones (``conditions.ready`` absent counts as ready); when none
  is ready, the serving and terminating ones (kube's ProxyTerminatingEndpoints).
  Duplicates (the same IP and port in two slices) are kept once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kubelite.api.meta import JSON

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
DEFAULT_AFFINITY_TIMEOUT = 10800  # seconds: kube's default ClientIP timeout (3 h)


@dataclass(frozen=True, order=True)
class Endpoint:
    """One backend of a service port: pod IP and target port, and the node it runs on."""

    ip: str
    port: int
    node: str = ""


@dataclass(frozen=True)
class ServicePort:
    """One (Service, port) the proxy routes, with the endpoints it may use now."""

    namespace: str
    name: str
    port_name: str
    protocol: str  # tcp | udp | sctp
    cluster_ip: str
    port: int
    node_port: int = 0
    external_ips: tuple[str, ...] = ()  # spec.externalIPs and status.loadBalancer IPs
    external_local: bool = False  # externalTrafficPolicy: Local
    internal_local: bool = False  # internalTrafficPolicy: Local
    affinity_timeout: int = 0  # seconds; 0: no sessionAffinity
    endpoints: tuple[Endpoint, ...] = ()

    @property
    def key(self) -> str:
        """``ns/name/proto/portname``, the identity kube-proxy names chains after."""
        return f"{self.namespace}/{self.name}/{self.protocol}/{self.port_name}"

    def local_endpoints(self, node: str) -> tuple[Endpoint, ...]:
        return tuple(e for e in self.endpoints if e.node == node)


def _ipv4(text: object) -> str | None:
    try:
        ip = ipaddress.ip_address(str(text))
    except ValueError:
        return None
    return str(ip) if ip.version == 4 else None


def _slices_by_service(slices: Iterable[JSON]) -> dict[tuple[str, str], list[JSON]]:
    out: dict[tuple[str, str], list[JSON]] = {}
    for s in slices:
        meta = s.get("metadata") or {}
        svc = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
        if svc and s.get("addressType", "IPv4") == "IPv4":
            out.setdefault((str(meta.get("namespace") or "default"), str(svc)), []).append(s)
    return out


def _endpoints(slices: list[JSON], port_name: str, protocol: str) -> tuple[Endpoint, ...]:
    ready: set[Endpoint] = set()
    fallback: set[Endpoint] = set()
    for s in slices:
        target = None
        for p in s.get("ports") or []:
            if str(p.get("name") or "") == port_name and \
                    str(p.get("protocol") or "TCP").lower() == protocol and p.get("port"):
                target = int(p["port"])
        if target is None:
            continue
        for ep in s.get("endpoints") or []:
            ip = _ipv4((ep.get("addresses") or [None])[0])
            if ip is None:
                continue
            cond = ep.get("conditions") or {}
            e = Endpoint(ip, target, str(ep.get("nodeName") or ""))
            if cond.get("ready") is not False:
                ready.add(e)
            elif cond.get("serving") and cond.get("terminating"):
                fallback.add(e)
    return tuple(sorted(ready or fallback))


def service_ports(services: Iterable[JSON], slices: Iterable[JSON]) -> Iterator[ServicePort]:
    """Every routed service port, in (namespace, name, port name, protocol) order."""
    by_service = _slices_by_service(slices)
    rows = []
    for svc in services:
        meta = svc.get("metadata") or {}
        spec = svc.get("spec") or {}
        if spec.get("type") == "ExternalName":
            continue
        cluster_ip = _ipv4(spec.get("clusterIP"))
        if cluster_ip is None:
            continue
        ns, name = str(meta.get("namespace") or "default"), str(meta.get("name"))
        external = [spec.get("externalIPs") or []]
        if spec.get("type") == "LoadBalancer":
            external.append([i.get("ip") for i in
                             ((svc.get("status") or {}).get("loadBalancer") or {})
                             .get("ingress") or []])
        ext_ips = tuple(sorted({ip for group in external for x in group
                                if (ip := _ipv4(x)) is not None}))
        affinity = 0
        if spec.get("sessionAffinity") == "ClientIP":
            affinity = int(((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {})
                           .get("timeoutSeconds") or DEFAULT_AFFINITY_TIMEOUT)
        node_ports_allowed = spec.get("type") in ("NodePort", "LoadBalancer")
        for p in spec.get("ports") or []:
            proto = str(p.get("protocol") or "TCP").lower()
            port_name = str(p.get("name") or "")
            rows.append(ServicePort(
                namespace=ns, name=name, port_name=port_name, protocol=proto,
                cluster_ip=cluster_ip, port=int(p["port"]),
                node_port=int(p.get("nodePort") or 0) if node_ports_allowed else 0,
                external_ips=ext_ips,
                external_local=spec.get("externalTrafficPolicy") == "Local",
                internal_local=spec.get("internalTrafficPolicy") == "Local",
                affinity_timeout=affinity,
                endpoints=_endpoints(by_service.get((ns, name), []), port_name, proto)))
    rows.sort(key=lambda r: (r.namespace, r.name, r.port_name, r.protocol))
    yield from rows
