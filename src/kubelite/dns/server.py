"""The node's cluster DNS server: UDP and TCP on one address, records from informers.

Contracts:

- Questions under the cluster domain (and PTR questions for the cluster's records) are
  answered from :func:`kubelite.dns.records.answer` with the AA flag; every other one is
  forwarded (:class:`~kubelite.dns.forward.Forwarder`). An ExternalName's CNAME to an
  outside name is followed there, as CoreDNS does.
- The records are rebuilt from the sources' current lists on the first question after a
  change (level-triggered: an event only marks them stale).
- A UDP answer larger than the client's limit (512 bytes, or its EDNS size) is sent
  truncated (TC, no records) so that the client retries over TCP.
- ``freebind`` lets it bind an address the node does not have yet (the pod bridge's,
  which the CNI plugin creates with the first pod).
- :meth:`stop` closes both sockets; queries in flight are dropped.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from kubelite.api.meta import JSON
from kubelite.client.sources import Source
from kubelite.dns import records as R
from kubelite.dns.forward import Forwarder

log = logging.getLogger("kubelite.dns")
IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)


class DNSServer:
    """Answers cluster names from ``services`` and ``slices``, forwards the rest."""

    def __init__(self, services: Source, slices: Source, forwarder: Forwarder, *,
                 host: str = "127.0.0.1", port: int = 53, domain: str = "cluster.local",
                 freebind: bool = False) -> None:
        self.services = services
        self.slices = slices
        self.forwarder = forwarder
        self.host = host
        self.port = port
        self.domain = domain
        self.freebind = freebind
        self._records: R.Records | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    def changed(self, *_: JSON) -> None:
        self._records = None

    def records(self) -> R.Records:
        if self._records is None:
            self._records = R.build(self.services.list(), self.slices.list(), self.domain)
        return self._records

    def _socket(self, kind: socket.SocketKind, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, kind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.freebind:
            sock.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
        try:
            sock.bind((self.host, port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        if kind == socket.SOCK_STREAM:
            sock.listen(128)
        return sock

    def _sockets(self) -> tuple[socket.socket, socket.socket]:
        """UDP and TCP sockets on one port; port 0: one the kernel gives free for both."""
        wanted = self.port
        for _ in range(20 if wanted == 0 else 1):
            udp = self._socket(socket.SOCK_DGRAM, wanted)
            port = udp.getsockname()[1]
            try:
                tcp = self._socket(socket.SOCK_STREAM, port)
            except OSError:
                udp.close()
                if wanted != 0:
                    raise
                continue
            self.port = port
            return udp, tcp
        raise OSError(f"no port free for both UDP and TCP on {self.host}")

    async def start(self) -> None:
        for src in (self.services, self.slices):
            src.add_handlers(self.changed, self.changed, self.changed)
        loop = asyncio.get_running_loop()
        udp, tcp = self._sockets()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UDP(self.handle), sock=udp)
        self._transport = transport
        self._tcp = await asyncio.start_server(self._serve_tcp, sock=tcp)
        log.info("cluster DNS serving %s on %s:%d", self.domain, self.host, self.port)

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
            self._tcp = None

    async def handle(self, wire: bytes, udp: bool = False) -> bytes | None:
        """The response to one query message (None: not a query, no answer); over UDP
        at most 512 bytes or the query's EDNS payload size."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if query.flags & dns.flags.QR or len(query.question) != 1:
            return None
        response = await self.respond(query)
        limit = 65535
        if udp:
            limit = max(512, query.payload) if query.edns >= 0 else 512
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            short = dns.message.make_response(query)
            short.flags |= dns.flags.TC | (response.flags & dns.flags.AA)
            return short.to_wire()

    async def respond(self, query: dns.message.Message) -> dns.message.Message:
        q = query.question[0]
        qtype = dns.rdatatype.to_text(q.rdtype)
        found = None
        if q.rdclass == dns.rdataclass.IN:
            found = R.answer(self.records(), q.name.to_text(), qtype)
        if found is None:
            return await self.forwarder.resolve(query)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | (dns.flags.RA if query.flags & dns.flags.RD else 0)
        for owner, rtype, values in found.records:
            response.answer.append(dns.rrset.from_text_list(owner, R.TTL, "IN", rtype,
                                                            list(values)))
        if found.cname_target:
            outside = dns.message.make_query(found.cname_target, q.rdtype)
            chased = await self.forwarder.resolve(outside)
            response.answer.extend(chased.answer)
        if found.soa:
            r = self.records()
            response.authority.append(dns.rrset.from_text(r.zone, R.NEGATIVE_TTL, "IN",
                                                          "SOA", r.soa_text()))
        response.set_rcode(dns.rcode.from_text(found.rcode))
        return response

    async def _serve_tcp(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                async with asyncio.timeout(10):
                    size = struct.unpack("!H", await reader.readexactly(2))[0]
                    wire = await reader.readexactly(size)
                out = await self.handle(wire)
                if out is None:
                    break
                writer.write(struct.pack("!H", len(out)) + out)
                await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class _UDP(asyncio.DatagramProtocol):
    """One task per datagram; answers go back to the sender."""

    def __init__(self, handle: Callable[[bytes, bool], Awaitable[bytes | None]]) -> None:
        self.handle = handle
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | bytes, int]) -> None:
        task = asyncio.get_running_loop().create_task(self._answer(data, addr))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _answer(self, data: bytes, addr: tuple[str | bytes, int]) -> None:
        try:
            out = await self.handle(data, True)
        except Exception:
            log.exception("cluster DNS: answering a query failed")
            return
        if out is not None and self.transport is not None:
            self.transport.sendto(out, addr)
