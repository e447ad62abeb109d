"""cAdvisor's readings from cgroupfs (v1 and v2 trees made in a temporary folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.kubelet.metrics.cgroupfs import CgroupFS, Interface, parse_net_dev

NET_DEV = """Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0:    5000      40    1    0    0     0          0         0     3000      30    2    0    0     0       0          0
"""  # noqa: E501


def _write(root: Path, rel: str, name: str, text: str) -> None:
    d = root / rel.strip("/")
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(text)


def test_net_dev_leaves_out_loopback() -> None:
    assert parse_net_dev(NET_DEV) == {"eth0": Interface(5000, 40, 1, 3000, 30, 2)}


def test_cgroup_v1_cpu_and_working_set(tmp_path: Path) -> None:
    rel = "/kubelite/podu/c1"
    _write(tmp_path / "cpuacct", rel, "cpuacct.usage", "2500000000\n")
    _write(tmp_path / "memory", rel, "memory.usage_in_bytes", "10000\n")
    _write(tmp_path / "memory", rel, "memory.stat", "cache 5\ntotal_inactive_file 4000\n")
    fs = CgroupFS([(str(tmp_path / "cpuacct"), "cgroup"), (str(tmp_path / "memory"), "cgroup"),
                   (str(tmp_path / "unified"), "cgroup2")])
    assert fs.cpu_seconds(rel) == 2.5
    assert fs.working_set_bytes(rel) == 6000


def test_cgroup_v2_cpu_and_working_set(tmp_path: Path) -> None:
    rel = "/kubelite/podu/c1"
    _write(tmp_path, rel, "cpu.stat", "usage_usec 1500000\nuser_usec 1000000\n")
    _write(tmp_path, rel, "memory.current", "8192\n")
    _write(tmp_path, rel, "memory.stat", "anon 100\ninactive_file 10000\n")
    fs = CgroupFS([(str(tmp_path), "cgroup2")])
    assert fs.cpu_seconds(rel) == 1.5
    assert fs.working_set_bytes(rel) == 0  # never below zero


@pytest.mark.parametrize("rel", ["/gone", "/kubelite/podx/none"])
def test_missing_cgroups_read_as_none(tmp_path: Path, rel: str) -> None:
    fs = CgroupFS([(str(tmp_path), "cgroup"), (str(tmp_path / "u"), "cgroup2")])
    assert fs.cpu_seconds(rel) is None
    assert fs.working_set_bytes(rel) is None
