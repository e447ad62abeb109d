"""Names and address ranges for test nodes that live beside a running ``kubelite server``
(and beside other test runs on the same machine).

Contracts:

- :func:`free_cidr` returns an IPv4 range that no interface address or route of this
  machine overlaps, outside the server defaults (pod 10.42.0.0/16, services
  10.43.0.0/16), and reserves it for this process so that two calls never return the same.
- :func:`interface_name` returns a Linux interface name (at most 15 characters) unique to
  a key (for example a data dir), so two test nodes never share a bridge.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import random
import subprocess
import threading

SERVER_DEFAULTS = (ipaddress.IPv4Network("10.42.0.0/16"), ipaddress.IPv4Network("10.43.0.0/16"))
POOL = ipaddress.IPv4Network("10.160.0.0/11")  # 10.160.0.0 - 10.191.255.255
IFNAMSIZ = 15

_reserved: list[ipaddress.IPv4Network] = []
_lock = threading.Lock()


def _in_use() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network this machine has an address in or a route to."""
    nets: list[ipaddress.IPv4Network] = []
    for argv in (["ip", "-4", "-o", "addr", "show"], ["ip", "-4", "route", "show", "table",
                                                     "all"]):
        try:
            out = subprocess.run(argv, capture_output=True, text=True, check=False,
                                 timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        for word in out.split():
            if "/" in word or word.count(".") == 3:
                try:
                    net = ipaddress.ip_network(word, strict=False)
                except ValueError:
                    continue
                if isinstance(net, ipaddress.IPv4Network) and not net.is_loopback \
                        and net.prefixlen > 0:
                    nets.append(net)
    return nets


def free_cidr(prefixlen: int = 16, pool: ipaddress.IPv4Network = POOL) -> str:
    """A range of ``prefixlen`` bits in ``pool`` that nothing here uses (see module)."""
    taken = [*_in_use(), *SERVER_DEFAULTS]
    candidates = list(pool.subnets(new_prefix=prefixlen))
    random.Random(os.getpid()).shuffle(candidates)
    with _lock:
        for net in candidates:
            if any(net.overlaps(t) for t in [*taken, *_reserved]):
                continue
            _reserved.append(net)
            return str(net)
    raise RuntimeError(f"no free /{prefixlen} left in {pool}")


def interface_name(prefix: str, key: str) -> str:
    """``prefix`` + a hash of ``key``, cut to the kernel's 15 characters."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    return (prefix + digest)[:IFNAMSIZ]
