"""The service proxy's plan: typed service ports -> the whole text of one nftables table.

Contracts (kube-proxy's nftables mode, in the small):

- :func:`plan_table` is pure and deterministic: the same ports and config give the same
  text, byte for byte. The text is one ``nft -f`` transaction that creates the table if
  missing, deletes it and defines it again, so a ruleset is replaced atomically and never
  merged with an older one.
- Only packets whose destination is a Service's cluster IP, external / load-balancer IP
  (with its port and protocol), a node IP with a node port, or the cluster DNS address
  are changed. Everything else passes every chain untouched: the masquerade step acts
  only on packets these rules marked.
- Traffic to a cluster IP goes to a ready endpoint chosen at random (``numgen random mod
  N``); with ``internalTrafficPolicy: Local`` to this node's endpoints only (dropped when
  there is none). Traffic from outside the cluster's pod range is masqueraded, and so is a
  pod that reaches itself through its Service (hairpin).
- Node ports (on the node's IPs) and external IPs go through an external chain: with the
  Cluster policy it masquerades and uses every endpoint; with ``Local`` it keeps the
  client's address and uses this node's endpoints (pods and the node itself still reach
  all of them, the node's own traffic masqueraded), dropping when there is none here.
- ``sessionAffinity: ClientIP``: a per-endpoint set of client addresses with the
  Service's timeout; a client found in one goes to that endpoint again.
- A Service port without endpoints is refused, not silently dropped: TCP with a reset,
  other protocols with ICMP port unreachable (a forwarded TCP client ignored the ICMP
  one and hung until its timeout, see docs/decisions.md).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from kubelite.proxy.model import Endpoint, ServicePort

MASQUERADE_MARK = 0x4000


@dataclass(frozen=True)
class LocalDNS:
    """The cluster DNS address, DNAT-ed to where this node's DNS server listens."""

    service_ip: str  # e.g. 10.43.0.10, port 53 (UDP and TCP)
    target_ip: str  # the node's address on the pod bridge
    target_port: int = 53


@dataclass(frozen=True)
class ProxyConfig:
    """What the proxy knows of its node and cluster, besides the API objects."""

    table: str = "kubelite"
    node_name: str = ""
    node_ips: tuple[str, ...] = ()  # where node ports are served
    cluster_cidr: str = "10.42.0.0/16"  # the cluster's pod network (not masqueraded)
    dns: LocalDNS | None = None
    mark: int = MASQUERADE_MARK


def _hash(key: str) -> str:
    return base64.b32encode(hashlib.sha256(key.encode()).digest()).decode()[:8]


def _svc_chain(p: ServicePort, kind: str) -> str:
    return f"{kind}-{_hash(p.key)}-{p.key}"


def _ep_name(p: ServicePort, e: Endpoint, kind: str = "endpoint") -> str:
    suffix = f"{p.key}__{e.ip}/{e.port}"
    return f"{kind}-{_hash(suffix)}-{suffix}"


class Plan:
    """A planned table: maps (type, elements), sets and chains in the order written.

    Two plans compare equal when they would write the same table."""

    def __init__(self) -> None:
        self.maps: dict[str, tuple[str, dict[str, str]]] = {}
        self.sets: dict[str, list[str]] = {}
        self.chains: dict[str, list[str]] = {}

    def map(self, name: str, type_: str) -> None:
        self.maps[name] = (type_, {})

    def element(self, map_name: str, key: str, verdict: str) -> None:
        elements = self.maps[map_name][1]
        elements.setdefault(key, verdict)  # the first claim of a key wins

    def chain(self, name: str, *rules: str) -> list[str]:
        body = self.chains.setdefault(name, [])
        body.extend(rules)
        return body

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plan) and (self.maps, self.sets, self.chains) == (
            other.maps, other.sets, other.chains)

    __hash__ = None  # type: ignore[assignment]

    def text(self, table: str) -> str:
        out = [f"add table ip {table}", f"delete table ip {table}", f"table ip {table} {{"]
        for name, (type_, elements) in self.maps.items():
            out += [f"\tmap {name} {{", f"\t\ttype {type_}"]
            if elements:
                items = ", ".join(f"{k} : {v}" for k, v in elements.items())
                out.append(f"\t\telements = {{ {items} }}")
            out.append("\t}")
        for name, body in self.sets.items():
            out += [f"\tset {name} {{", *(f"\t\t{line}" for line in body), "\t}"]
        for name, rules in self.chains.items():
            out += [f"\tchain {name} {{", *(f"\t\t{r}" for r in rules), "\t}"]
        out.append("}")
        return "\n".join(out) + "\n"


SERVICE_KEY = "ipv4_addr . inet_proto . inet_service : verdict"
NODEPORT_KEY = "inet_proto . inet_service : verdict"


def _base(t: Plan, cfg: ProxyConfig) -> None:
    mark = f"0x{cfg.mark:x}"
    t.map("service-ips", SERVICE_KEY)
    t.map("service-nodeports", NODEPORT_KEY)
    t.map("no-endpoint-services", SERVICE_KEY)
    t.map("no-endpoint-nodeports", NODEPORT_KEY)
    t.sets["nodeport-ips"] = ["type ipv4_addr"] + (
        [f"elements = {{ {', '.join(cfg.node_ips)} }}"] if cfg.node_ips else [])
    hook = "type {} hook {} priority {}; policy accept;"
    t.chain("filter-input", hook.format("filter", "input", -110),
            "ct state new jump nodeport-endpoints-check",
            "ct state new jump service-endpoints-check")
    t.chain("filter-forward", hook.format("filter", "forward", -110),
            "ct state new jump service-endpoints-check")
    t.chain("filter-output", hook.format("filter", "output", -110),
            "ct state new jump service-endpoints-check",
            "ct state new jump nodeport-endpoints-check")
    t.chain("service-endpoints-check",
            "ip daddr . meta l4proto . th dport vmap @no-endpoint-services")
    t.chain("nodeport-endpoints-check",
            "ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports")
    t.chain("reject-chain", "meta l4proto tcp reject with tcp reset", "reject")
    t.chain("nat-prerouting", hook.format("nat", "prerouting", "dstnat"), "jump services")
    t.chain("nat-output", hook.format("nat", "output", -100), "jump services")
    t.chain("nat-postrouting", hook.format("nat", "postrouting", "srcnat"),
            "jump masquerading")
    t.chain("masquerading", f"meta mark & {mark} == 0 return",
            f"meta mark set meta mark ^ {mark}", "masquerade fully-random")
    t.chain("mark-for-masquerade", f"meta mark set meta mark | {mark}")
    t.chain("services", "ip daddr . meta l4proto . th dport vmap @service-ips",
            "ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports")


def _dns(t: Plan, dns: LocalDNS) -> None:
    target = f"{dns.target_ip}:{dns.target_port}"
    t.chain("cluster-dns", f"meta l4proto udp dnat to {target}",
            f"meta l4proto tcp dnat to {target}")
    for proto in ("udp", "tcp"):
        t.element("service-ips", f"{dns.service_ip} . {proto} . 53", "goto cluster-dns")


def _balance(t: Plan, name: str, p: ServicePort, eps: tuple[Endpoint, ...],
             cfg: ProxyConfig) -> None:
    """A chain spreading new connections over ``eps`` (sticky with affinity)."""
    body = t.chain(name, f"ip daddr {p.cluster_ip} ip saddr != {cfg.cluster_cidr} "
                         "jump mark-for-masquerade")
    if p.affinity_timeout:
        body += [f"ip saddr @{_ep_name(p, e, 'affinity')} goto {_ep_name(p, e)}" for e in eps]
    choices = ", ".join(f"{i} : goto {_ep_name(p, e)}" for i, e in enumerate(eps))
    body.append(f"numgen random mod {len(eps)} vmap {{ {choices} }}")


def _endpoint(t: Plan, p: ServicePort, e: Endpoint) -> None:
    name = _ep_name(p, e)
    if name in t.chains:
        return
    rules = [f"ip saddr {e.ip} jump mark-for-masquerade"]
    if p.affinity_timeout:
        aff = _ep_name(p, e, "affinity")
        t.sets[aff] = ["type ipv4_addr", "flags dynamic,timeout",
                       f"timeout {p.affinity_timeout}s"]
        rules.append(f"update @{aff} {{ ip saddr }}")
    rules.append(f"meta l4proto {p.protocol} dnat to {e.ip}:{e.port}")
    t.chain(name, *rules)


def _service_port(t: Plan, p: ServicePort, cfg: ProxyConfig) -> None:
    dest = f"{p.protocol} . {p.port}"
    node_port = f"{p.protocol} . {p.node_port}" if p.node_port else ""
    if not p.endpoints:
        for ip in (p.cluster_ip, *p.external_ips):
            t.element("no-endpoint-services", f"{ip} . {dest}", "goto reject-chain")
        if node_port:
            t.element("no-endpoint-nodeports", node_port, "goto reject-chain")
        return
    local = p.local_endpoints(cfg.node_name)
    cluster_chain = _svc_chain(p, "service")
    local_chain = _svc_chain(p, "local")
    _balance(t, cluster_chain, p, p.endpoints, cfg)
    if local and (p.internal_local or p.external_local):
        _balance(t, local_chain, p, local, cfg)
    for e in p.endpoints:
        _endpoint(t, p, e)
    if not p.internal_local:
        t.element("service-ips", f"{p.cluster_ip} . {dest}", f"goto {cluster_chain}")
    elif local:
        t.element("service-ips", f"{p.cluster_ip} . {dest}", f"goto {local_chain}")
    else:
        t.element("no-endpoint-services", f"{p.cluster_ip} . {dest}", "drop")
    if not (node_port or p.external_ips):
        return
    external = _svc_chain(p, "external")
    if p.external_local:
        t.chain(external, f"ip saddr {cfg.cluster_cidr} goto {cluster_chain}",
                "fib saddr type local jump mark-for-masquerade",
                f"fib saddr type local goto {cluster_chain}",
                f"goto {local_chain}" if local else "drop")
    else:
        t.chain(external, "jump mark-for-masquerade", f"goto {cluster_chain}")
    for ip in p.external_ips:
        t.element("service-ips", f"{ip} . {dest}", f"goto {external}")
    if node_port:
        t.element("service-nodeports", node_port, f"goto {external}")


def plan(ports: Iterable[ServicePort], cfg: ProxyConfig) -> Plan:
    """The table that routes exactly ``ports`` (see module)."""
    t = Plan()
    _base(t, cfg)
    if cfg.dns is not None:
        _dns(t, cfg.dns)
    for p in ports:
        _service_port(t, p, cfg)
    return t


def plan_table(ports: Iterable[ServicePort], cfg: ProxyConfig) -> str:
    """The ``nft -f`` text that makes ``cfg.table`` route exactly ``ports`` (see module)."""
    return plan(ports, cfg).text(cfg.table)


def _set_decl(body: list[str]) -> str:
    return "{ " + "; ".join(body) + "; }"


def update_text(old: Plan, new: Plan, table: str) -> str | None:
    """One ``nft -f`` transaction that turns table ``old`` into ``new`` in place, touching
    only the chains, sets and maps that differ (so affinity sets of unchanged endpoints
    keep their clients); None when only a whole replace can do it (a hooked chain or a
    set's definition changed). Empty text: nothing to change.

    Order inside the transaction: flush what changes or goes, declare what is new, fill
    it, then delete what went (nothing refers to it any more)."""
    t = f"ip {table}"
    for name in old.sets.keys() & new.sets.keys():
        if old.sets[name] != new.sets[name]:
            return None
    changed = [c for c in new.chains if c in old.chains and old.chains[c] != new.chains[c]]
    if any(new.chains[c][0].startswith("type ") for c in changed):
        return None
    added = [c for c in new.chains if c not in old.chains]
    removed = [c for c in old.chains if c not in new.chains]
    maps = [m for m in new.maps if old.maps.get(m) != new.maps[m]]
    if set(maps) - old.maps.keys() or old.maps.keys() - new.maps.keys():
        return None
    out = [f"flush map {t} {m}" for m in maps]
    out += [f"flush chain {t} {c}" for c in changed + removed]
    out += [f"add set {t} {s} {_set_decl(body)}" for s, body in new.sets.items()
            if s not in old.sets]
    out += [f"add chain {t} {c}" for c in added]
    out += [f"add rule {t} {c} {r}" for c in changed + added for r in new.chains[c]]
    for m in maps:
        elements = new.maps[m][1]
        if elements:
            items = ", ".join(f"{k} : {v}" for k, v in elements.items())
            out.append(f"add element {t} {m} {{ {items} }}")
    out += [f"delete chain {t} {c}" for c in removed]
    out += [f"delete set {t} {s}" for s in old.sets if s not in new.sets]
    return "\n".join(out) + "\n" if out else ""


def delete_table(table: str) -> str:
    """The ``nft -f`` text that removes ``table`` whether or not it exists."""
    return f"add table ip {table}\ndelete table ip {table}\n"
