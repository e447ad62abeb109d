"""Reading usage from cgroupfs and /proc, as cAdvisor does (cgroup v1, v2 or both mounted).

Contract: every function takes a relative cgroup path (``/kubelite/pod<uid>/<id>``) or a
pid and returns None (or an empty dict) when the files are absent or unreadable: a
container may go away between listing and reading. All of it is blocking file I/O, for
a worker thread.

- CPU: v1 ``cpuacct.usage`` (nanoseconds), else v2 ``cpu.stat`` ``usage_usec``.
- Memory working set: usage less inactive file pages, never below 0 -- v1
  ``memory.usage_in_bytes`` and ``total_inactive_file``, else v2 ``memory.current`` and
  ``inactive_file``.
- Network: ``/proc/<pid>/net/dev`` of a process in the pod's network namespace, every
  interface but ``lo``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from kubelite.runtime.oci.linux import cgroup_mounts


@dataclass(frozen=True)
class Interface:
    rx_bytes: int
    rx_packets: int
    rx_errors: int
    tx_bytes: int
    tx_packets: int
    tx_errors: int


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _stat_field(text: str | None, name: str) -> int | None:
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        if key == name and value.strip().isdigit():
            return int(value)
    return None


class CgroupFS:
    """The mounted cgroup hierarchies of this machine, looked up once."""

    def __init__(self, mounts: list[tuple[str, str]] | None = None) -> None:
        found = mounts if mounts is not None else list(cgroup_mounts())
        self.v1 = [point for point, fstype in found if fstype == "cgroup"]
        self.v2 = [point for point, fstype in found if fstype == "cgroup2"]

    def _first(self, points: list[str], relative: str, name: str) -> str | None:
        rel = relative.strip("/")
        for point in points:
            text = _read(os.path.join(point, rel, name))
            if text is not None:
                return text
        return None

    def cpu_seconds(self, relative: str) -> float | None:
        text = self._first(self.v1, relative, "cpuacct.usage")
        if text is not None and text.strip().isdigit():
            return int(text) / 1e9
        usec = _stat_field(self._first(self.v2, relative, "cpu.stat"), "usage_usec")
        return usec / 1e6 if usec is not None else None

    def working_set_bytes(self, relative: str) -> int | None:
        usage = self._first(self.v1, relative, "memory.usage_in_bytes")
        if usage is not None and usage.strip().isdigit():
            inactive = _stat_field(self._first(self.v1, relative, "memory.stat"),
                                   "total_inactive_file") or 0
            return max(0, int(usage) - inactive)
        current = self._first(self.v2, relative, "memory.current")
        if current is not None and current.strip().isdigit():
            inactive = _stat_field(self._first(self.v2, relative, "memory.stat"),
                                   "inactive_file") or 0
            return max(0, int(current) - inactive)
        return None


def parse_net_dev(text: str) -> dict[str, Interface]:
    """``/proc/net/dev`` by interface, ``lo`` left out."""
    out: dict[str, Interface] = {}
    for line in text.splitlines()[2:]:
        name, sep, rest = line.partition(":")
        name = name.strip()
        fields = rest.split()
        if not sep or name == "lo" or len(fields) < 11:
            continue
        n = [int(x) for x in fields[:11]]
        out[name] = Interface(rx_bytes=n[0], rx_packets=n[1], rx_errors=n[2],
                              tx_bytes=n[8], tx_packets=n[9], tx_errors=n[10])
    return out


def net_dev(pid: int) -> dict[str, Interface]:
    text = _read(f"/proc/{pid}/net/dev")
    return parse_net_dev(text) if text else {}
