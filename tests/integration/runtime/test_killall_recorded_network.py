"""``kubelite killall`` removes exactly the network a data dir's kubelet recorded (its
bridge and netns prefix, whatever --bridge-name it ran with), and ``leftovers`` reports
what a stopped test node left (root only)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kubelite.cli.killall import _killall
from kubelite.network.cni import BridgeNetworkConfig, CniNetwork
from kubelite.testing.isolation import free_cidr, interface_name
from kubelite.testing.server_process import leftovers

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2"),
]


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def test_killall_takes_the_recorded_bridge_and_namespaces_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    cni_dir = data_dir / "agent" / "cni"
    cni_dir.mkdir(parents=True)
    key = f"{os.getpid()}-{tmp_path}"
    mine = BridgeNetworkConfig(subnet=free_cidr(24), bridge=interface_name("klka", key),
                               netns_prefix=f"klka-{os.getpid()}-")
    try:
        CniNetwork(str(cni_dir), mine)  # records network.json, as the kubelet does
    except Exception as exc:  # no CNI plugins on this machine
        pytest.skip(str(exc))
    other = f"klkb-{os.getpid()}-"  # another installation's namespace, same shape
    ns_mine, ns_other = mine.netns_prefix + "0123456789ab", other + "0123456789ab"
    ip("link", "add", mine.bridge, "type", "bridge")
    ip("netns", "add", ns_mine)
    ip("netns", "add", ns_other)
    try:
        left = leftovers(data_dir)
        assert f"bridge {mine.bridge}" in left and f"netns {ns_mine}" in left
        assert f"netns {ns_other}" not in left
        # killall with no flags: the bridge name comes from the record, not the data dir
        asyncio.run(_killall(data_dir, "10.42.0.0/16"))
        assert leftovers(data_dir) == []
        assert not os.path.exists(f"/sys/class/net/{mine.bridge}")
        assert not os.path.exists(f"/run/netns/{ns_mine}")
        assert os.path.exists(f"/run/netns/{ns_other}")  # not ours: left alone
    finally:
        for ns in (ns_mine, ns_other):
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True, check=False)
        subprocess.run(["ip", "link", "delete", mine.bridge], capture_output=True,
                       check=False)
