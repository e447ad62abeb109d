"""Forwarding names the cluster does not own to the host's resolvers, with a small cache.

Contracts:

- :func:`upstreams_from` reads the ``nameserver`` lines of a resolv.conf text (IPv4 and
  IPv6), leaving out any address in ``exclude`` (the cluster DNS itself: no loops).
- :meth:`Forwarder.resolve` asks each upstream in turn over UDP (TCP when the answer is
  truncated) and returns its response with the query's id (AA cleared: not authoritative
  here); a response is cached for the smallest TTL of its records (the SOA minimum
  for a negative one), at most ``max_ttl`` seconds, at most ``size`` entries (the oldest
  evicted). When no upstream answers, the result is SERVFAIL (not cached).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

DEFAULT_RESOLV = "/etc/resolv.conf"


Upstream = tuple[str, int]  # address, port


def upstreams_from(text: str, exclude: Iterable[str] = ()) -> list[Upstream]:
    skip = set(exclude)
    out = []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver" and words[1] not in skip:
            out.append((words[1], 53))
    return out


def _ttl(response: dns.message.Message) -> int:
    ttls = [rrset.ttl for rrset in response.answer]
    if not ttls:
        ttls = [min(rrset.ttl, getattr(rrset[0], "minimum", rrset.ttl))
                for rrset in response.authority if rrset.rdtype == dns.rdatatype.SOA]
    return min(ttls) if ttls else 0


class Forwarder:
    """Resolves a query at the upstreams, caching answers (see module)."""

    def __init__(self, upstreams: list[Upstream], *, timeout: float = 2.0, size: int = 1000,
                 max_ttl: int = 30) -> None:
        self.upstreams = upstreams
        self.timeout = timeout
        self.size = size
        self.max_ttl = max_ttl
        self.cache: OrderedDict[tuple[str, int, int], tuple[float, bytes]] = OrderedDict()

    async def resolve(self, query: dns.message.Message) -> dns.message.Message:
        q = query.question[0]
        key = (q.name.to_text().lower(), int(q.rdtype), int(q.rdclass))
        hit = self.cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            cached = dns.message.from_wire(hit[1])
            cached.id = query.id
            return cached
        for server, port in self.upstreams:
            try:
                fwd = dns.message.make_query(q.name, q.rdtype, q.rdclass)
                fwd.flags |= dns.flags.RD
                response = await dns.asyncquery.udp(fwd, server, self.timeout, port)
                if response.flags & dns.flags.TC:
                    response = await dns.asyncquery.tcp(fwd, server, self.timeout, port)
            except (dns.exception.DNSException, OSError):
                continue
            response.flags &= ~dns.flags.AA  # a forwarded answer is not ours
            ttl = min(_ttl(response), self.max_ttl)
            if ttl > 0 and response.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                self.cache[key] = (time.monotonic() + ttl, response.to_wire())
                self.cache.move_to_end(key)
                while len(self.cache) > self.size:
                    self.cache.popitem(last=False)
            response.id = query.id
            return response
        failed = dns.message.make_response(query)
        failed.set_rcode(dns.rcode.SERVFAIL)
        return failed
