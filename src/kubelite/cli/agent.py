"""``kubelite agent``: this machine's kubelet joining a server; and the kubelet wiring
that ``kubelite server`` shares (flags, runtime, images, network under the data dir).

Everything of a node lives under ``<data-dir>/agent``: ``runtime/`` (runc, conmon,
overlay mounts), ``cni/`` (IPAM leases), ``images/``, ``kubelet/`` (pod volumes) and
``pod-logs/``. A non-default data dir gets its own bridge and cgroup names, so that two
installations (tests) do not share them.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import ipaddress
import logging
import shutil
import signal
import socket
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from kubelite import logs
from kubelite.apiserver import join_token
from kubelite.apiserver.node_certs import CACERTS_PATH, SERVING_KUBELET_PATH
from kubelite.cli import nodenet
from kubelite.cli.netflags import cidr, interface_name
from kubelite.client import metrics as client_metrics
from kubelite.client.config import token_config
from kubelite.client.rest import ApiClient
from kubelite.images.service import ImageService, import_folder
from kubelite.kubelet.config import DEFAULT_CONFIG_PATH, KubeletSettings, load_or_create
from kubelite.kubelet.image_gc import ImageGC, ImageGCPolicy
from kubelite.kubelet.kubelet import Kubelet
from kubelite.kubelet.metrics import KubeletMetrics
from kubelite.kubelet.node_status import host_ip
from kubelite.kubelet.server import FinderLookup, KubeletServer, KubeletServerConfig
from kubelite.network.cni import BridgeNetworkConfig, CniNetwork
from kubelite.private_files import private_dir, write_private
from kubelite.runtime.oci import OciRuntime

log = logging.getLogger("kubelite")
DEFAULT_DATA_DIR = Path("/var/lib/kubelite")
DEFAULT_REGISTRIES = Path("/etc/kubelite/registries.yaml")


def add_kubelet_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--node-name", default=None, help="node name (default: the host name)")
    p.add_argument("--node-ip", default=None, help="node InternalIP (default: detected)")
    p.add_argument("--kubelet-config", type=Path, default=DEFAULT_CONFIG_PATH,
                   help="KubeletConfiguration file, written on first start "
                        "(default %(default)s)")
    p.add_argument("--kubelet-port", type=int, default=10250,
                   help="kubelet HTTPS port (default %(default)s)")
    p.add_argument("--cluster-cidr", default="10.42.0.0/16", type=cidr,
                   help="pod network; each node gets a /24 (default %(default)s)")
    p.add_argument("--bridge-name", default=None, type=interface_name,
                   help="Linux bridge of the pod network (default kubelite0; kl<hash> for "
                        "a non-default --data-dir)")
    p.add_argument("--registries", type=Path, default=DEFAULT_REGISTRIES,
                   help="registries.yaml with mirrors and credentials, k3s format "
                        "(default %(default)s, if present)")
    nodenet.add_flags(p)


@dataclass
class Agent:
    """A started kubelet with what it owns; :meth:`stop` leaves containers running."""

    kubelet: Kubelet
    runtime: OciRuntime
    images: ImageService
    server: KubeletServer
    network: nodenet.NodeNetwork | None = None

    async def stop(self) -> None:
        if self.network is not None:
            await self.network.stop()
        await self.server.stop()
        await self.kubelet.stop()
        await self.images.close()
        await self.runtime.close()


def _suffix(data_dir: Path) -> str:
    if data_dir.resolve() == DEFAULT_DATA_DIR:
        return ""
    return hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:8]


def network_config(data_dir: Path, pod_cidr: str, bridge: str | None = None
                   ) -> BridgeNetworkConfig:
    """The node's pod network; a non-default data dir gets its own bridge, CNI network
    name and netns prefix, so that two installations never claim each other's."""
    sfx = _suffix(data_dir)
    return BridgeNetworkConfig(subnet=pod_cidr,
                               bridge=bridge or (f"kl{sfx}" if sfx else "kubelite0"),
                               name=f"kubelite-{sfx}" if sfx else "kubelite",
                               netns_prefix=f"kubelite-{sfx}-" if sfx else "kubelite-")


def cgroup_root(data_dir: Path) -> str:
    sfx = _suffix(data_dir)
    return f"kubelite-{sfx}" if sfx else "kubelite"


def node_pod_cidr(cluster_cidr: str, node_name: str, first: bool) -> str:
    """The node's /24: the first one for the server's own node, else one by name."""
    net = ipaddress.ip_network(cluster_cidr, strict=False)
    subnets = list(net.subnets(new_prefix=24)) if net.prefixlen <= 24 else [net]
    if first:
        return str(subnets[0])
    index = int(hashlib.sha256(node_name.encode()).hexdigest(), 16) % max(1, len(subnets) - 1)
    return str(subnets[1 + index] if len(subnets) > 1 else subnets[0])


def runc_version() -> str:
    try:
        out = subprocess.run(["runc", "--version"], capture_output=True, text=True,
                             check=False, timeout=5).stdout
        return "runc://" + out.split()[2]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "runc://unknown"


# (node name, node IP) -> the kubelet's serving certificate, key and the cluster CA (PEM)
ServingCertSource = Callable[[str, str], Awaitable[dict[str, str]]]


async def start_agent(args: argparse.Namespace, client: ApiClient, *,
                      server_node: bool, serving_cert: ServingCertSource | None = None,
                      ) -> Agent:
    """The node's components, started. ``serving_cert`` issues the kubelet's serving
    certificate (the server's own node: from the CA directly); by default it is asked from
    the API server with the node credential."""
    data_dir: Path = args.data_dir
    agent_dir = data_dir / "agent"
    agent_dir.mkdir(parents=True, exist_ok=True)
    node_name = (args.node_name or socket.gethostname()).lower()
    dns_ip = nodenet.cluster_dns_ip(args)
    config = load_or_create(args.kubelet_config, cluster_dns=dns_ip)
    config.port = args.kubelet_port
    if args.cluster_dns or not config.cluster_dns:  # the flag wins over the file; as k3s,
        config.cluster_dns = [dns_ip]  # also with --disable-coredns (one's own DNS there)
    pod_cidr = node_pod_cidr(args.cluster_cidr, node_name, server_node)
    network = CniNetwork(str(agent_dir / "cni"),
                         network_config(data_dir, pod_cidr, args.bridge_name))
    runtime = OciRuntime(str(agent_dir / "runtime"), network, cgroup_root=cgroup_root(data_dir))
    images = ImageService(agent_dir, args.registries)
    await images.start()
    # airgap: archives dropped in <data-dir>/agent/images are imported at start (as k3s)
    imported = await import_folder(images, agent_dir / "images")
    for image in imported:
        print(f"kubelite: imported image {', '.join(image.repo_tags) or image.id}", flush=True)
    version = await asyncio.to_thread(runc_version)
    image_gc = ImageGC(images, runtime, lambda: _disk_usage(agent_dir / "images"),
                       ImageGCPolicy(config.image_gc_high_threshold_percent,
                                     config.image_gc_low_threshold_percent))
    settings = KubeletSettings(
        node_name=node_name, root_dir=agent_dir / "kubelet", node_ip=args.node_ip or host_ip(),
        pod_cidr=pod_cidr, runtime_version=version,
        logs_dir=config.pod_logs_dir or str(agent_dir / "pod-logs"),
        node_labels={"node-role.kubernetes.io/control-plane": "true"} if server_node else {})
    kubelet = Kubelet(client, runtime, images, config, settings, image_gc=image_gc)
    # the node's own registry: kubelet_*, prober_*, cAdvisor's and its client's series
    metrics = KubeletMetrics(runtime, cgroup_root(data_dir))
    client.metrics = client_metrics.for_registry(metrics.registry)
    metrics.observe(kubelet.prober, kubelet.status_manager)
    server = await start_kubelet_server(client, kubelet, agent_dir / "tls", node_name,
                                        settings.node_ip, config.port, serving_cert, metrics)
    await kubelet.start(serving_port=server.port)
    print(f"kubelite: kubelet for node {node_name} started (pods {pod_cidr}, "
          f"port {server.port})", flush=True)
    node_network = await nodenet.start_node_network(
        args, client, node_name=node_name, node_ip=settings.node_ip, pod_cidr=pod_cidr,
        agent_dir=agent_dir, suffix=_suffix(data_dir))
    return Agent(kubelet, runtime, images, server, node_network)


def _disk_usage(path: Path) -> tuple[int, int]:
    usage = shutil.disk_usage(path)
    return usage.used, usage.total


def _write_private_files(folder: Path, files: dict[str, str]) -> None:
    private_dir(folder)
    for name, text in files.items():
        write_private(folder / name, text)


async def start_kubelet_server(client: ApiClient, kubelet: Kubelet, tls_dir: Path,
                               node_name: str, node_ip: str, port: int,
                               serving_cert: ServingCertSource | None = None,
                               metrics: KubeletMetrics | None = None) -> KubeletServer:
    """The kubelet's HTTPS server (logs, exec, attach, port-forward), with a serving
    certificate the API server signs for this node; only clients with a certificate from
    the cluster CA (the API server) get in."""
    if serving_cert is not None:
        answer = await serving_cert(node_name, node_ip)
    else:
        answer = await client.request("POST", SERVING_KUBELET_PATH,
                                      body={"nodeName": node_name, "hosts": [node_ip]})
    files = {"kubelet.crt": answer["cert"], "kubelet.key": answer["key"], "ca.crt": answer["ca"]}
    await asyncio.to_thread(_write_private_files, tls_dir, files)
    server = KubeletServer(FinderLookup(kubelet), KubeletServerConfig(
        port=port, cert_file=tls_dir / "kubelet.crt", key_file=tls_dir / "kubelet.key",
        client_ca_file=tls_dir / "ca.crt"), metrics=metrics)
    await server.start()
    return server


def register(subs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subs.add_parser("agent", help="run a kubelet that joins a kubelite server")
    p.add_argument("--server", required=True, help="API server URL (https://host:6443)")
    p.add_argument("--token", required=True,
                   help="the server's node token (the content of <data-dir>/server/node-token "
                        "on the server: it pins the server's CA)")
    p.add_argument("--ca-file", default=None,
                   help="CA bundle of the server (default: fetched and checked against the "
                        "token's CA hash)")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                   help="folder holding all state (default %(default)s)")
    logs.add_flags(p)
    add_kubelet_flags(p)
    p.set_defaults(func=run)


async def trusted_ca(server: str, token: join_token.JoinToken, ca_file: Path | None,
                     folder: Path) -> Path | None:
    """The CA file to verify the server with: ``--ca-file``, or the server's /cacerts when
    it matches the token's CA hash (k3s' secure join); None for a bare token (unverified).
    """
    if ca_file is not None:
        return ca_file
    if not token.ca_hash:
        log.warning("the token has no CA hash: the server's certificate is not verified "
                    "(use the node-token file's content, or --ca-file)")
        return None
    insecure = token_config(server, "", None, insecure=True)
    async with ApiClient(insecure, user_agent="kubelite-agent") as bootstrap:
        async with bootstrap.session.get(server.rstrip("/") + CACERTS_PATH) as resp:
            pem = await resp.read()
    if join_token.ca_hash(pem) != token.ca_hash:
        raise SystemExit("kubelite agent: the server's CA does not match the token's hash")
    path = folder / "server-ca.crt"
    await asyncio.to_thread(_write_private_files, folder, {path.name: pem.decode()})
    return path


async def serve(args: argparse.Namespace) -> int:
    token = join_token.parse(args.token)
    ca = await trusted_ca(args.server, token, Path(args.ca_file) if args.ca_file else None,
                          args.data_dir / "agent" / "tls")
    client = ApiClient(token_config(args.server, token.secret, str(ca) if ca else None,
                                    insecure=ca is None), user_agent="kubelite-agent")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    agent = await start_agent(args, client, server_node=False)
    print("kubelite: ready", flush=True)
    try:
        await stop.wait()
    finally:
        await agent.stop()
        await client.close()
    return 0


def run(args: argparse.Namespace) -> int:
    logs.setup(logs.verbosity_of(args))
    return asyncio.run(serve(args))
