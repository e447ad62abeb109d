"""Cluster DNS records: what each question gets from Services and EndpointSlices."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.dns.forward import upstreams_from
from kubelite.dns.records import Answer, answer, build


def svc(name: str, ip: str | None, *ports: dict[str, Any], ns: str = "default",
        **spec: Any) -> dict[str, Any]:
    return {"metadata": {"namespace": ns, "name": name},
            "spec": {**({"clusterIP": ip} if ip else {}), "ports": list(ports), **spec}}


def slice_(service: str, ports: list[dict[str, Any]], *eps: dict[str, Any],
           ns: str = "default") -> dict[str, Any]:
    return {"metadata": {"namespace": ns, "name": f"{service}-abc",
                         "labels": {"kubernetes.io/service-name": service}},
            "addressType": "IPv4", "ports": ports, "endpoints": list(eps)}


SERVICES = [
    svc("web", "10.43.0.20", {"name": "http", "port": 80, "protocol": "TCP"}),
    svc("kubernetes", "10.43.0.1", {"name": "https", "port": 443}),
    svc("db", "None", {"name": "pg", "port": 5432}, ns="prod"),
    svc("empty", "None", {"port": 80}),
    svc("ext", None, type="ExternalName", externalName="db.example.org"),
    svc("alias", None, type="ExternalName", externalName="web.default.svc.cluster.local"),
]
SLICES = [
    slice_("db", [{"name": "pg", "port": 5432, "protocol": "TCP"}],
           {"addresses": ["10.42.0.7"], "hostname": "db-0", "conditions": {"ready": True}},
           {"addresses": ["10.42.0.8"]},
           {"addresses": ["10.42.0.9"], "conditions": {"ready": False}}, ns="prod"),
]
RECORDS = build(SERVICES, SLICES)
Z = "cluster.local."

CASES: list[tuple[str, str, str, Answer | None]] = [
    ("a ClusterIP Service", "web.default.svc.cluster.local", "A",
     Answer("NOERROR", ((f"web.default.svc.{Z}", "A", ("10.43.0.20",)),))),
    ("names are case-insensitive and may end with a dot", "WEB.Default.svc.cluster.local.", "A",
     Answer("NOERROR", ((f"web.default.svc.{Z}", "A", ("10.43.0.20",)),))),
    ("the kubernetes Service", "kubernetes.default.svc.cluster.local", "A",
     Answer("NOERROR", ((f"kubernetes.default.svc.{Z}", "A", ("10.43.0.1",)),))),
    ("a headless Service answers its ready pods' IPs", "db.prod.svc.cluster.local", "A",
     Answer("NOERROR", ((f"db.prod.svc.{Z}", "A", ("10.42.0.7", "10.42.0.8")),))),
    ("hostname.subdomain of a pod", "db-0.db.prod.svc.cluster.local", "A",
     Answer("NOERROR", ((f"db-0.db.prod.svc.{Z}", "A", ("10.42.0.7",)),))),
    ("an endpoint without hostname by its dashed IP", "10-42-0-8.db.prod.svc.cluster.local",
     "A", Answer("NOERROR", ((f"10-42-0-8.db.prod.svc.{Z}", "A", ("10.42.0.8",)),))),
    ("a not-ready endpoint has no name", "10-42-0-9.db.prod.svc.cluster.local", "A",
     Answer("NXDOMAIN", soa=True)),
    ("SRV of a named port", "_http._tcp.web.default.svc.cluster.local", "SRV",
     Answer("NOERROR", ((f"_http._tcp.web.default.svc.{Z}", "SRV",
                         (f"0 100 80 web.default.svc.{Z}",)),))),
    ("SRV of a headless Service: one per endpoint", "_pg._tcp.db.prod.svc.cluster.local", "SRV",
     Answer("NOERROR", ((f"_pg._tcp.db.prod.svc.{Z}", "SRV",
                         (f"0 50 5432 db-0.db.prod.svc.{Z}",
                          f"0 50 5432 10-42-0-8.db.prod.svc.{Z}")),))),
    ("PTR of a cluster IP", "20.0.43.10.in-addr.arpa", "PTR",
     Answer("NOERROR", (("20.0.43.10.in-addr.arpa.", "PTR", (f"web.default.svc.{Z}",)),))),
    ("PTR of a headless pod", "7.0.42.10.in-addr.arpa.", "PTR",
     Answer("NOERROR", (("7.0.42.10.in-addr.arpa.", "PTR", (f"db-0.db.prod.svc.{Z}",)),))),
    ("an address the cluster does not know is forwarded", "8.8.8.8.in-addr.arpa", "PTR", None),
    ("an outside name is forwarded", "example.org", "A", None),
    ("ExternalName: a CNAME, the target left to the caller", "ext.default.svc.cluster.local",
     "A", Answer("NOERROR", ((f"ext.default.svc.{Z}", "CNAME", ("db.example.org.",)),),
                 cname_target="db.example.org.")),
    ("ExternalName to a cluster name: the CNAME and its A", "alias.default.svc.cluster.local",
     "A", Answer("NOERROR", ((f"alias.default.svc.{Z}", "CNAME", (f"web.default.svc.{Z}",)),
                             (f"web.default.svc.{Z}", "A", ("10.43.0.20",))))),
    ("no such Service: NXDOMAIN with the SOA", "nope.default.svc.cluster.local", "A",
     Answer("NXDOMAIN", soa=True)),
    ("a search-path expansion of an outside name", "example.org.default.svc.cluster.local",
     "A", Answer("NXDOMAIN", soa=True)),
    ("AAAA of an IPv4 Service: NODATA", "web.default.svc.cluster.local", "AAAA",
     Answer("NOERROR", soa=True)),
    ("a headless Service without endpoints exists, with no address",
     "empty.default.svc.cluster.local", "A", Answer("NOERROR", soa=True)),
    ("a namespace is an empty non-terminal", "prod.svc.cluster.local", "A",
     Answer("NOERROR", soa=True)),
    ("the zone's SOA", "cluster.local", "SOA",
     Answer("NOERROR", ((Z, "SOA", (f"ns.dns.{Z} hostmaster.{Z} 1 7200 1800 86400 30",)),))),
]


@pytest.mark.parametrize(("qname", "qtype", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_answer(qname: str, qtype: str, expected: Answer | None) -> None:
    assert answer(RECORDS, qname, qtype) == expected


def test_another_cluster_domain() -> None:
    r = build(SERVICES[:1], [], domain="corp.internal")
    assert answer(r, "web.default.svc.corp.internal", "A") == \
        Answer("NOERROR", (("web.default.svc.corp.internal.", "A", ("10.43.0.20",)),))
    assert answer(r, "web.default.svc.cluster.local", "A") is None


def test_upstreams_are_the_hosts_nameservers_without_the_cluster_dns() -> None:
    text = "# generated\nsearch lan\nnameserver 192.0.2.53\nnameserver 10.43.0.10\n" \
           "nameserver 2001:db8::53\noptions edns0\n"
    assert upstreams_from(text, exclude=["10.43.0.10"]) == [("192.0.2.53", 53),
                                                            ("2001:db8::53", 53)]
