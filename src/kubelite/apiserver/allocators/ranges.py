"""Ranges whose members are handed out once: Service IPs and node ports.

Contract: :meth:`Range.allocate` and :meth:`Range.allocate_next` either claim a free
member or raise :class:`AllocationError` with kube-apiserver's words; a member is never
claimed twice until released. Every method is synchronous, so on the one event loop a
check and its claim can never be interleaved with another request's (no lock needed).

Dynamic allocation prefers the upper band of the range, leaving the lower band for
members asked for by value (kube's ServiceIPStaticSubrange / ServiceNodePortStaticSubrange):
the lower band has ``min(max(16, size // 16), 256)`` members for IPs and
``min(max(16, size // 32), 128)`` for ports.
"""

from __future__ import annotations

import ipaddress
import random


class AllocationError(Exception):
    """A requested member cannot be claimed (the text is kube-apiserver's)."""


class RangeFull(AllocationError):
    """No member is free."""


class Range:
    """Integers ``base .. base + size - 1``; the members a subclass shows as text."""

    def __init__(self, base: int, size: int, static_band: int,
                 rng: random.Random | None = None) -> None:
        self.base = base
        self.size = size
        self.static_band = min(static_band, size)
        self._used: set[int] = set()
        self._lower = 0  # how many of _used are in the lower band
        self._rng = rng or random.Random()

    # -- subclass vocabulary --------------------------------------------------------------

    def _offset(self, member: str | int) -> int | None:
        """The offset of ``member`` in the range, None if outside."""
        raise NotImplementedError

    def _member(self, offset: int) -> str | int:
        raise NotImplementedError

    def _not_in_range(self, member: str | int) -> str:
        raise NotImplementedError

    _allocated_text = "provided value is already allocated"
    _full_text = "range is full"

    # -- claims ---------------------------------------------------------------------------

    def check(self, member: str | int) -> None:
        """Raise what :meth:`allocate` would, without claiming (dry runs)."""
        off = self._offset(member)
        if off is None:
            raise AllocationError(self._not_in_range(member))
        if off in self._used:
            raise AllocationError(self._allocated_text)

    def allocate(self, member: str | int) -> None:
        """Claim ``member``."""
        self.check(member)
        off = self._offset(member)
        assert off is not None
        self._claim(off)

    def _claim(self, off: int) -> None:
        self._used.add(off)
        if off < self.static_band:
            self._lower += 1

    def allocate_next(self) -> str | int:
        """Claim a free member: a random one of the upper band, else of the lower (the
        first free one from a random start: each claim costs at most one walk of a band)."""
        bands = ((self.static_band, self.size, len(self._used) - self._lower),
                 (0, self.static_band, self._lower))
        for lo, hi, used in bands:
            if hi - lo - used <= 0:
                continue
            start = self._rng.randrange(lo, hi)
            for i in range(hi - lo):
                off = lo + (start - lo + i) % (hi - lo)
                if off not in self._used:
                    self._claim(off)
                    return self._member(off)
        raise RangeFull(self._full_text)

    def release(self, member: str | int) -> None:
        """Free ``member`` (nothing happens if it was not claimed or is outside)."""
        off = self._offset(member)
        if off is not None and off in self._used:
            self._used.discard(off)
            if off < self.static_band:
                self._lower -= 1

    def has(self, member: str | int) -> bool:
        off = self._offset(member)
        return off is not None and off in self._used

    def used(self) -> int:
        return len(self._used)


class IPRange(Range):
    """The usable addresses of a Service CIDR: for IPv4 the network and broadcast
    addresses are never handed out (as kube's bitmap allocator)."""

    def __init__(self, cidr: str, rng: random.Random | None = None) -> None:
        self.network = ipaddress.ip_network(cidr, strict=False)
        total = self.network.num_addresses
        first = int(self.network.network_address)
        if self.network.version == 4 and total > 2:
            first, total = first + 1, total - 2
        elif total > 1:  # IPv6: the subnet-router anycast address is skipped
            first, total = first + 1, total - 1
        total = min(total, 1 << 16) if self.network.version == 6 else total
        super().__init__(first, total, min(max(16, total // 16), 256), rng)

    def _offset(self, member: str | int) -> int | None:
        try:
            ip = ipaddress.ip_address(str(member))
        except ValueError:
            return None
        if ip.version != self.network.version:
            return None
        off = int(ip) - self.base
        return off if 0 <= off < self.size else None

    def _member(self, offset: int) -> str:
        return str(ipaddress.ip_address(self.base + offset))

    def _not_in_range(self, member: str | int) -> str:
        return (f"the provided IP ({member}) is not in the valid range. "
                f"The range of valid IPs is {self.network}")

    _allocated_text = "provided IP is already allocated"
    _full_text = "range is full"

    def first(self) -> str:
        """The first usable address (the ``default/kubernetes`` Service's)."""
        return self._member(0)


class PortRange(Range):
    """Node ports ``base .. base + size - 1`` (``--service-node-port-range``)."""

    def __init__(self, spec: str, rng: random.Random | None = None) -> None:
        base, size = parse_port_range(spec)
        self.spec = f"{base}-{base + size - 1}"
        super().__init__(base, size, min(max(16, size // 32), 128), rng)

    def _offset(self, member: str | int) -> int | None:
        if not isinstance(member, int) or isinstance(member, bool):
            return None
        off = member - self.base
        return off if 0 <= off < self.size else None

    def _member(self, offset: int) -> int:
        return self.base + offset

    def _not_in_range(self, member: str | int) -> str:
        return (f"provided port is not in the valid range. "
                f"The range of valid ports is {self.spec}")

    _allocated_text = "provided port is already allocated"
    _full_text = "range is full"


def parse_port_range(spec: str) -> tuple[int, int]:
    """``"30000-32767"`` (or ``"30000+2767"``, or one port) as (base, size); ValueError
    when it is not a range of ports 1-65535."""
    text = spec.strip()
    if "+" in text:
        lo_s, extra = text.split("+", 1)
        lo, hi = int(lo_s), int(lo_s) + int(extra)
    elif "-" in text:
        lo_s, hi_s = text.split("-", 1)
        lo, hi = int(lo_s), int(hi_s)
    else:
        lo = hi = int(text)
    if not (1 <= lo <= hi <= 65535):
        raise ValueError(f"invalid port range {spec!r}")
    return lo, hi - lo + 1
