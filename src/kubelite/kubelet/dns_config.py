"""A pod's resolv.conf from its dnsPolicy and dnsConfig (pure), as the kubelet's
``pkg/kubelet/network/dns`` builds it.

Contracts:

- ``ClusterFirst`` (the default) and ``ClusterFirstWithHostNet``: the cluster DNS
  servers, the search path ``<ns>.svc.<domain> svc.<domain> <domain>`` followed by the
  host's search domains, and ``options ndots:5``. A ``hostNetwork`` pod with
  ``ClusterFirst`` gets the host's configuration, and so does every pod when the kubelet
  has no cluster DNS configured.
- ``Default``: the host's resolv.conf (servers, search, options).
- ``None``: nothing but the pod's ``dnsConfig``.
- ``dnsConfig`` is appended to what the policy gave: nameservers and searches without
  duplicates, options merged by name (the pod's value wins).
- Then kube's limits: at most 3 nameservers, 32 search domains and 2048 characters of
  search path (the rest dropped, as the kubelet does with a warning).
"""

from __future__ import annotations

import os

from kubelite.kubelet.podspec import JSON, meta, spec
from kubelite.runtime.protocol import DNSConfig

MAX_NAMESERVERS = 3
MAX_SEARCHES = 32
MAX_SEARCH_CHARS = 2048
DEFAULT_RESOLV_CONF = "/etc/resolv.conf"


def parse_resolv_conf(text: str) -> DNSConfig:
    """Servers, search domains (the last ``search`` or ``domain`` line) and options."""
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if not words:
            continue
        if words[0] == "nameserver" and len(words) > 1:
            servers.append(words[1])
        elif words[0] in ("search", "domain"):
            searches = [w.rstrip(".") for w in words[1:]]
        elif words[0] == "options":
            options.extend(words[1:])
    return DNSConfig(tuple(servers), tuple(searches), tuple(options))


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _merge_options(base: tuple[str, ...], extra: list[JSON]) -> tuple[str, ...]:
    merged: dict[str, str | None] = {}
    for o in base:
        name, _, value = o.partition(":")
        merged[name] = value if value else None
    for opt in extra:
        merged[str(opt.get("name"))] = str(opt["value"]) if opt.get("value") else None
    return tuple(f"{k}:{v}" if v is not None else k for k, v in merged.items())


def _fit(searches: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    length = 0
    for s in searches[:MAX_SEARCHES]:
        length += len(s) + (1 if out else 0)
        if length > MAX_SEARCH_CHARS:
            break
        out.append(s)
    return tuple(out)


def pod_dns_config(pod: JSON, cluster_dns: tuple[str, ...] | list[str],
                   cluster_domain: str, host: DNSConfig | None) -> DNSConfig | None:
    """The resolv.conf contents of ``pod`` (see module); None when that is the host's
    file as it is and ``host`` was not given (the runtime then copies the file)."""
    s = spec(pod)
    ns = str(meta(pod).get("namespace") or "default")
    policy = s.get("dnsPolicy") or "ClusterFirst"
    if policy == "None":
        base = DNSConfig()
    elif cluster_dns and (policy == "ClusterFirstWithHostNet"
                          or (policy == "ClusterFirst" and not s.get("hostNetwork"))):
        d = cluster_domain.strip(".")
        host_searches = host.searches if host is not None else ()
        base = DNSConfig(tuple(cluster_dns),
                         _unique([f"{ns}.svc.{d}", f"svc.{d}", d, *host_searches]),
                         ("ndots:5",))
    else:  # Default, hostNetwork with ClusterFirst, or no cluster DNS
        if host is None and not s.get("dnsConfig"):
            return None
        base = host or DNSConfig()
    dc = s.get("dnsConfig") or {}
    servers = _unique([*base.servers, *(str(x) for x in dc.get("nameservers") or [])])
    searches = _unique([*base.searches, *(str(x) for x in dc.get("searches") or [])])
    options = _merge_options(base.options, list(dc.get("options") or []))
    return DNSConfig(servers[:MAX_NAMESERVERS], _fit(searches), options)


class HostResolvConf:
    """The host's resolv.conf, re-read only when its modification time changes."""

    def __init__(self, path: str = DEFAULT_RESOLV_CONF) -> None:
        self.path = path
        self._seen: tuple[float, DNSConfig] | None = None

    def get(self) -> DNSConfig:
        try:
            mtime = os.stat(self.path).st_mtime
        except OSError:
            return DNSConfig()
        if self._seen is None or self._seen[0] != mtime:
            try:
                with open(self.path) as f:
                    self._seen = (mtime, parse_resolv_conf(f.read()))
            except OSError:
                return DNSConfig()
        return self._seen[1]
