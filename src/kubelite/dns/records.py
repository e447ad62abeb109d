"""The cluster's DNS records from Services and EndpointSlices (pure), and the answer to
one question from them: the Kubernetes DNS specification, as CoreDNS' kubernetes plugin.

Contracts (``<d>`` is the cluster domain, ``cluster.local`` by default):

- ``<svc>.<ns>.svc.<d>``: A with the cluster IP; for a headless Service
  (``clusterIP: None``) the ready endpoints' addresses; ExternalName: a CNAME to its
  ``externalName``, whatever the type asked.
- Headless endpoints also get ``<hostname>.<svc>.<ns>.svc.<d>`` (the endpoint's
  ``hostname``, as a pod's ``hostname`` + ``subdomain`` give it) or the dashed address
  (``10-42-0-5.<svc>...``), and PTR records back to that name; a cluster IP's PTR names
  its Service.
- Named ports: SRV ``_<port>._<proto>.<svc>.<ns>.svc.<d>``, priority 0, weight 100 / the
  number of targets (at least 1), pointing at the Service name or, headless, at each
  endpoint's name with its port.
- :func:`answer` is authoritative under ``<d>``: a name that exists with no data of the
  asked type is NOERROR with the SOA in authority (NODATA), a name that does not exist is
  NXDOMAIN with the SOA; the SOA's minimum (negative TTL) is 30 s as CoreDNS'.
  A name outside ``<d>`` and outside the reverse zones of the records is not answered
  here (None: the caller forwards it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from kubelite.api.meta import JSON

TTL = 5  # seconds, CoreDNS' kubernetes plugin default
NEGATIVE_TTL = 30
SERVICE_NAME_LABEL = "kubernetes.io/service-name"

A, CNAME, PTR, SRV, SOA, AAAA = "A", "CNAME", "PTR", "SRV", "SOA", "AAAA"


@dataclass(frozen=True)
class Answer:
    """The answer section's records (owner, type, rdata texts), the response code and
    whether the SOA goes into the authority section."""

    rcode: str  # NOERROR | NXDOMAIN
    records: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    soa: bool = False
    cname_target: str = ""  # an ExternalName outside the cluster: the caller resolves it


@dataclass
class Records:
    """An index of owner name (lower case, absolute) -> type -> rdata texts."""

    domain: str = "cluster.local"
    names: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def zone(self) -> str:
        return self.domain.strip(".").lower() + "."

    def add(self, owner: str, rtype: str, rdata: str) -> None:
        values = self.names.setdefault(owner.lower(), {}).setdefault(rtype, [])
        if rdata not in values:
            values.append(rdata)

    def soa_text(self) -> str:
        z = self.zone
        return f"ns.dns.{z} hostmaster.{z} 1 7200 1800 86400 {NEGATIVE_TTL}"


def reverse_name(ip: str) -> str:
    return ipaddress.ip_address(ip).reverse_pointer + "."


def _ready_ips(slices: list[JSON], svc_name: str) -> list[tuple[str, str, JSON]]:
    """(ip, hostname, slice port list) of each ready endpoint of the Service's slices."""
    out = []
    for s in slices:
        for ep in s.get("endpoints") or []:
            if (ep.get("conditions") or {}).get("ready") is False:
                continue
            for ip in ep.get("addresses") or []:
                out.append((str(ip), str(ep.get("hostname") or ""), s))
    return sorted(out, key=lambda t: ipaddress.ip_address(t[0]))


def _srv(records: Records, owner: str, targets: list[tuple[str, int]]) -> None:
    weight = max(1, 100 // max(1, len(targets)))
    for target, port in targets:
        records.add(owner, SRV, f"0 {weight} {port} {target}")


def build(services: Iterable[JSON], slices: Iterable[JSON],
          domain: str = "cluster.local") -> Records:
    """The records of ``services`` and their ``slices`` (see module)."""
    r = Records(domain)
    by_svc: dict[tuple[str, str], list[JSON]] = {}
    for s in slices:
        meta = s.get("metadata") or {}
        name = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
        if name:
            by_svc.setdefault((str(meta.get("namespace") or "default"), str(name)),
                              []).append(s)
    for svc in services:
        meta = svc.get("metadata") or {}
        spec = svc.get("spec") or {}
        ns, name = str(meta.get("namespace") or "default"), str(meta.get("name"))
        base = f"{name}.{ns}.svc.{r.zone}"
        ports = [p for p in spec.get("ports") or [] if p.get("name")]
        if spec.get("type") == "ExternalName":
            r.add(base, CNAME, str(spec.get("externalName") or "").rstrip(".").lower() + ".")
            continue
        ip = spec.get("clusterIP")
        if ip and ip != "None":
            for one in spec.get("clusterIPs") or [ip]:
                r.add(base, A if ipaddress.ip_address(one).version == 4 else AAAA, one)
                r.add(reverse_name(one), PTR, base)
            for p in ports:
                proto = str(p.get("protocol") or "TCP").lower()
                _srv(r, f"_{p['name']}._{proto}.{base}", [(base, int(p["port"]))])
            continue
        # headless: the endpoints themselves
        eps = _ready_ips(by_svc.get((ns, name), []), name)
        srv: dict[str, list[tuple[str, int]]] = {}
        for addr, hostname, slice_ in eps:
            version = ipaddress.ip_address(addr).version
            rtype = A if version == 4 else AAAA
            label = hostname or addr.replace(".", "-").replace(":", "-")
            ep_name = f"{label}.{base}"
            r.add(base, rtype, addr)
            r.add(ep_name, rtype, addr)
            r.add(reverse_name(addr), PTR, ep_name)
            for sp in slice_.get("ports") or []:
                if sp.get("name") and sp.get("port"):
                    proto = str(sp.get("protocol") or "TCP").lower()
                    srv.setdefault(f"_{sp['name']}._{proto}.{base}", []).append(
                        (ep_name, int(sp["port"])))
        for owner, targets in srv.items():
            _srv(r, owner, targets)
        if not eps:  # the Service's name exists even without endpoints
            r.names.setdefault(base, {})
    return r


def _exists(r: Records, qname: str) -> bool:
    """An owner, or an ancestor of one (an empty non-terminal), or the zone's apex."""
    if qname == r.zone or qname in r.names:
        return True
    suffix = "." + qname
    return any(n.endswith(suffix) for n in r.names)


def _reverse_zone_of(r: Records, qname: str) -> bool:
    return qname.endswith((".in-addr.arpa.", ".ip6.arpa.")) and qname in r.names


def answer(r: Records, qname: str, qtype: str) -> Answer | None:
    """The authoritative answer for ``qname``/``qtype``, or None to forward it."""
    q = qname.lower() if qname.endswith(".") else qname.lower() + "."
    in_zone = q == r.zone or q.endswith("." + r.zone)
    if not in_zone and not _reverse_zone_of(r, q):
        return None
    data = r.names.get(q, {})
    if CNAME in data:
        target = data[CNAME][0]
        records: list[tuple[str, str, tuple[str, ...]]] = [(q, CNAME, (target,))]
        if qtype != CNAME:
            chased = answer(r, target, qtype)
            if chased is not None:
                return Answer(chased.rcode, (*records, *chased.records), chased.soa)
            return Answer("NOERROR", tuple(records), cname_target=target)
        return Answer("NOERROR", tuple(records))
    if qtype == SOA and q == r.zone:
        return Answer("NOERROR", ((q, SOA, (r.soa_text(),)),))
    if data.get(qtype):
        return Answer("NOERROR", ((q, qtype, tuple(data[qtype])),))
    if qtype == "ANY" and data:
        return Answer("NOERROR", tuple((q, t, tuple(v)) for t, v in data.items() if v))
    if _exists(r, q):
        return Answer("NOERROR", soa=True)
    return Answer("NXDOMAIN", soa=True)
