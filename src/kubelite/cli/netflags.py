"""Argument types and checks of the network flags (``--cluster-cidr``, ``--service-cidr``,
``--bridge-name``), as k3s checks them at start: a bad value stops the server with a
message before anything is created."""

from __future__ import annotations

import argparse
import ipaddress
import re

from kubelite.apiserver.allocators.ranges import parse_port_range

IFNAMSIZ = 15  # the kernel's interface name limit (without the NUL)
_IFNAME = re.compile(r"[A-Za-z0-9_.-]+")


def cidr(text: str) -> str:
    """An IPv4 or IPv6 network in CIDR form (host bits allowed, as k3s takes them)."""
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid CIDR address: {text}") from None


def port_range(text: str) -> str:
    """A range of ports, ``30000-32767`` (or ``base+size``), as kube-apiserver's
    ``--service-node-port-range`` takes it; normalised to ``lo-hi``."""
    try:
        base, size = parse_port_range(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port range: {text}") from None
    return f"{base}-{base + size - 1}"


def interface_name(text: str) -> str:
    """A Linux interface name: 1 to 15 characters, no ``/``, whitespace or ``:``."""
    if not (0 < len(text) <= IFNAMSIZ) or not _IFNAME.fullmatch(text) or text in (".", ".."):
        raise argparse.ArgumentTypeError(
            f"invalid interface name {text!r}: 1-{IFNAMSIZ} characters of letters, digits, "
            "'-', '_' and '.'")
    return text


def check_cidrs(cluster_cidr: str, service_cidr: str) -> None:
    """Pods and Services need separate ranges: refuse overlapping ones."""
    pods, services = ipaddress.ip_network(cluster_cidr), ipaddress.ip_network(service_cidr)
    if pods.version == services.version and pods.overlaps(services):
        raise SystemExit(f"kubelite: --cluster-cidr {pods} and --service-cidr {services} "
                         "overlap; give them separate ranges")
