"""The cluster DNS server on loopback, asked with dnspython over UDP and TCP, its records
from in-memory informers and its outside names from a fake upstream resolver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from kubelite.dns.forward import Forwarder
from kubelite.dns.server import DNSServer
from kubelite.testing.fake_informer import FakeSource


def svc(name: str, ip: str | None, ns: str = "default", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"namespace": ns, "name": name},
            "spec": {**({"clusterIP": ip} if ip else {}), "ports": [{"port": 80}], **spec}}


def headless_slice(name: str, n: int) -> dict[str, Any]:
    return {"metadata": {"namespace": "default", "name": f"{name}-1",
                         "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4", "ports": [{"port": 80}],
            "endpoints": [{"addresses": [f"10.42.{i // 250}.{i % 250 + 1}"]}
                          for i in range(n)]}


class Servers:
    def __init__(self, cluster: DNSServer, upstream: DNSServer, services: FakeSource,
                 slices: FakeSource) -> None:
        self.cluster, self.upstream = cluster, upstream
        self.services, self.slices = services, slices

    async def ask(self, name: str, rtype: str = "A", tcp: bool = False) -> dns.message.Message:
        q = dns.message.make_query(name, rtype)
        if tcp:
            return await dns.asyncquery.tcp(q, "127.0.0.1", 3, self.cluster.port)
        return await dns.asyncquery.udp(q, "127.0.0.1", 3, self.cluster.port)


@pytest.fixture
async def servers() -> AsyncIterator[Servers]:
    # the "host's resolver": a DNS server of its own for the zone upstream.test
    up_services = FakeSource([svc("www", "192.0.2.80", domain="x")])
    upstream = DNSServer(up_services, FakeSource(), Forwarder([]), port=0,
                         domain="upstream.test")
    await upstream.start()
    services = FakeSource([svc("web", "10.43.0.20"), svc("db", "None"),
                           svc("ext", None, type="ExternalName",
                               externalName="www.default.svc.upstream.test")])
    slices = FakeSource([headless_slice("db", 3)])
    cluster = DNSServer(services, slices, Forwarder([("127.0.0.1", upstream.port)]), port=0)
    await cluster.start()
    try:
        yield Servers(cluster, upstream, services, slices)
    finally:
        await cluster.stop()
        await upstream.stop()


def addresses(m: dns.message.Message) -> list[str]:
    return sorted(r.to_text() for rrset in m.answer if rrset.rdtype == dns.rdatatype.A
                  for r in rrset)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
async def test_a_service_name_resolves_to_its_cluster_ip(servers: Servers, tcp: bool) -> None:
    m = await servers.ask("web.default.svc.cluster.local", tcp=tcp)
    assert m.rcode() == dns.rcode.NOERROR and m.flags & dns.flags.AA
    assert addresses(m) == ["10.43.0.20"]
    assert m.answer[0].ttl == 5


async def test_a_missing_name_is_nxdomain_with_the_soa(servers: Servers) -> None:
    m = await servers.ask("nope.default.svc.cluster.local")
    assert m.rcode() == dns.rcode.NXDOMAIN and not m.answer
    assert [rr.to_text() for rr in m.authority] == [
        "cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. "
        "1 7200 1800 86400 30"]


async def test_headless_pods_and_changes_seen_at_the_next_question(servers: Servers) -> None:
    assert addresses(await servers.ask("db.default.svc.cluster.local")) == \
        ["10.42.0.1", "10.42.0.2", "10.42.0.3"]
    servers.slices.put(headless_slice("db", 1))
    assert addresses(await servers.ask("db.default.svc.cluster.local")) == ["10.42.0.1"]
    servers.services.delete("default/web")
    assert (await servers.ask("web.default.svc.cluster.local")).rcode() == dns.rcode.NXDOMAIN


async def test_a_large_answer_is_truncated_over_udp_and_whole_over_tcp(
        servers: Servers) -> None:
    servers.slices.put(headless_slice("db", 200))
    q = dns.message.make_query("db.default.svc.cluster.local", "A", use_edns=False)
    udp = await dns.asyncquery.udp(q, "127.0.0.1", 3, servers.cluster.port)
    assert udp.flags & dns.flags.TC and not udp.answer
    assert len(addresses(await servers.ask("db.default.svc.cluster.local", tcp=True))) == 200


async def test_outside_names_are_forwarded_and_cached(servers: Servers) -> None:
    m = await servers.ask("www.default.svc.upstream.test")
    assert addresses(m) == ["192.0.2.80"] and not m.flags & dns.flags.AA
    await servers.upstream.stop()  # the answer now comes from the cache (TTL 5 s)
    assert addresses(await servers.ask("www.default.svc.upstream.test")) == ["192.0.2.80"]
    failed = await servers.ask("other.upstream.test")
    assert failed.rcode() == dns.rcode.SERVFAIL


async def test_an_external_name_is_a_cname_followed_outside(servers: Servers) -> None:
    m = await servers.ask("ext.default.svc.cluster.local")
    assert [rr.to_text() for rr in m.answer] == [
        "ext.default.svc.cluster.local. 5 IN CNAME www.default.svc.upstream.test.",
        "www.default.svc.upstream.test. 5 IN A 192.0.2.80"]
