"""``kubelite killall``: stop every container of a data dir and remove its mounts,
network namespaces, CNI attachments, bridge, cgroups and service-proxy rules (as
k3s-killall.sh does).

The network is the one the data dir's kubelet recorded (``agent/cni/network.json``: its
bridge, subnet and netns prefix), so only that installation's objects are removed; a data
dir without the record falls back to the names its path implies."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from kubelite.cli import nodenet
from kubelite.cli.agent import DEFAULT_DATA_DIR, _suffix, network_config
from kubelite.network.cni import BridgeNetworkConfig, CniNetwork
from kubelite.runtime.oci import killall, linux


def register(subs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subs.add_parser("killall", help="stop all containers and clean up the node")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                   help="folder holding all state (default %(default)s)")
    p.add_argument("--cluster-cidr", default="10.42.0.0/16", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


async def _killall(data_dir: Path, cluster_cidr: str) -> int:
    agent = data_dir / "agent"
    cni_dir = agent / "cni"
    network = None
    if cni_dir.exists():
        try:
            config = (BridgeNetworkConfig.recorded(str(cni_dir))
                      or network_config(data_dir, cluster_cidr))
            network = CniNetwork(str(cni_dir), config)
        except Exception:  # no CNI plugins: nothing of ours can be attached
            network = None
    killed = await killall(str(agent / "runtime"), network)
    await nodenet.remove_rules(agent, _suffix(data_dir))
    for point in linux.mount_points_under(str(agent.resolve())):
        linux.umount(point)
    return killed


def run(args: argparse.Namespace) -> int:
    killed = asyncio.run(_killall(args.data_dir, args.cluster_cidr))
    print(f"kubelite: killed {killed} running container(s)", flush=True)
    return 0
