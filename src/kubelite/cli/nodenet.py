"""The node's Service networking, beside its kubelet: the service proxy and the cluster
DNS server, built from flags and sharing two informers (Services, EndpointSlices).

Contracts:

- ``--disable-kube-proxy`` and ``--disable-coredns`` leave either out (as k3s' flags).
- The cluster DNS address is ``--cluster-dns`` (default: the 10th address of
  ``--service-cidr``, 10.43.0.10, as k3s); the DNS server listens on the node's address
  on the pod bridge (the first address of the node's pod range, bound before the bridge
  exists) and the proxy's table DNATs the cluster DNS address to it, so no Service object
  or pod is needed for names to resolve.
- The table is ``--proxy-table`` (default ``kubelite``; ``kubelite-<hash>`` for a
  non-default data dir) and is recorded in ``<data-dir>/agent/proxy-table`` for
  ``kubelite killall``, which deletes it. :meth:`NodeNetwork.stop` leaves the rules.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from kubelite.api import scheme
from kubelite.client.informer import Informer
from kubelite.client.resources import SERVICES
from kubelite.client.rest import ApiClient
from kubelite.client.sources import EmptySource, Source
from kubelite.dns.forward import DEFAULT_RESOLV, Forwarder, upstreams_from
from kubelite.dns.server import DNSServer
from kubelite.proxy.nft import NftApplier, NftError, run_nft
from kubelite.proxy.planner import LocalDNS, ProxyConfig, delete_table
from kubelite.proxy.proxier import ServiceProxy

log = logging.getLogger("kubelite")
# served once the Services work lands in the scheme; until then no endpoints
ENDPOINTSLICES = scheme.lookup("discovery.k8s.io", "v1", "endpointslices")
TABLE_RECORD = "proxy-table"
DEFAULT_SERVICE_CIDR = "10.43.0.0/16"


def add_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--disable-kube-proxy", action="store_true",
                   help="do not run the service proxy (nftables)")
    p.add_argument("--disable-coredns", action="store_true",
                   help="do not run the cluster DNS server")
    p.add_argument("--cluster-dns", default=None,
                   help="cluster DNS address (default: the 10th address of the service "
                        "range, 10.43.0.10)")
    p.add_argument("--cluster-domain", default="cluster.local",
                   help="cluster domain (default %(default)s)")
    p.add_argument("--proxy-table", default=None,
                   help="nftables table of the service proxy (default kubelite; "
                        "kubelite-<hash> for a non-default --data-dir)")
    p.add_argument("--cluster-dns-port", type=int, default=53, help=argparse.SUPPRESS)


def cluster_dns_ip(args: argparse.Namespace) -> str:
    if getattr(args, "cluster_dns", None):
        return str(args.cluster_dns)
    net = ipaddress.ip_network(getattr(args, "service_cidr", None) or DEFAULT_SERVICE_CIDR,
                               strict=False)
    return str(net.network_address + 10)


def table_name(args: argparse.Namespace, suffix: str) -> str:
    return str(args.proxy_table or (f"kubelite-{suffix}" if suffix else "kubelite"))


def recorded_table(agent_dir: Path) -> str | None:
    try:
        return (agent_dir / TABLE_RECORD).read_text().strip() or None
    except OSError:
        return None


async def remove_rules(agent_dir: Path, suffix: str) -> None:
    """Delete the table the data dir's proxy recorded, else the one its path implies
    (``kubelite killall``); a machine without nft has none."""
    table = recorded_table(agent_dir) or (f"kubelite-{suffix}" if suffix else "kubelite")
    if shutil.which("nft") is None:
        return
    try:
        await run_nft(delete_table(table))
    except NftError as exc:
        log.warning("killall: removing nftables table %s: %s", table, exc)


@dataclass
class NodeNetwork:
    """The started proxy and DNS server of a node (either may be off)."""

    informers: list[Informer] = field(default_factory=list)
    proxy: ServiceProxy | None = None
    dns: DNSServer | None = None

    async def stop(self) -> None:
        if self.proxy is not None:
            await self.proxy.stop()
        if self.dns is not None:
            await self.dns.stop()
        for inf in self.informers:
            await inf.stop()


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


async def start_node_network(args: argparse.Namespace, client: ApiClient, *, node_name: str,
                             node_ip: str, pod_cidr: str, agent_dir: Path,
                             suffix: str) -> NodeNetwork:
    """The proxy and DNS server of this node, started (see module)."""
    out = NodeNetwork()
    if args.disable_kube_proxy and args.disable_coredns:
        return out
    services = Informer(client, SERVICES)
    out.informers = [services]
    slices: Source = EmptySource()
    if ENDPOINTSLICES is not None:
        slices = slice_informer = Informer(client, ENDPOINTSLICES)
        out.informers.append(slice_informer)
    dns_ip = cluster_dns_ip(args)
    bridge_ip = str(next(ipaddress.ip_network(pod_cidr, strict=False).hosts()))
    local_dns = None
    if not args.disable_coredns:
        upstreams = upstreams_from(await asyncio.to_thread(_read, DEFAULT_RESOLV),
                                   exclude=[dns_ip, bridge_ip])
        dns = DNSServer(services, slices, Forwarder(upstreams), host=bridge_ip,
                        port=args.cluster_dns_port, domain=args.cluster_domain, freebind=True)
        try:
            await dns.start()
        except OSError as exc:  # the node still runs pods; names just do not resolve
            log.error("cluster DNS cannot listen on %s:%d: %s", bridge_ip,
                      args.cluster_dns_port, exc)
        else:
            out.dns = dns
            local_dns = LocalDNS(dns_ip, bridge_ip, dns.port)
    if not args.disable_kube_proxy:
        table = table_name(args, suffix)
        await asyncio.to_thread((agent_dir / TABLE_RECORD).write_text, table + "\n")
        out.proxy = ServiceProxy(services, slices, NftApplier(), ProxyConfig(
            table=table, node_name=node_name, node_ips=(node_ip,),
            cluster_cidr=args.cluster_cidr, dns=local_dns))
        out.proxy.start()
    for inf in out.informers:
        inf.start()
    log.info("node network: proxy %s, cluster DNS %s", "off" if out.proxy is None else
             out.proxy.config.table, "off" if out.dns is None else f"{dns_ip} -> "
             f"{bridge_ip}:{out.dns.port}")
    return out
