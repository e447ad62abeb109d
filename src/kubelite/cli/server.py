"""``kubelite server``: the control plane (and, later, this machine's kubelet) in one process.

This module is the composition root: it builds the store, the API server and the other
components from flags, starts them in order on one asyncio loop, and stops them in reverse
order on SIGTERM or SIGINT. Flags are named as k3s names them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
from pathlib import Path

from kubelite import logs
from kubelite.apiserver import join_token
from kubelite.apiserver.app import APIServer, ServingConfig, write_kubeconfig
from kubelite.apiserver.auth import TokenFile
from kubelite.apiserver.codec import ProtobufSchemas
from kubelite.apiserver.discovery import VERSION
from kubelite.apiserver.metrics import APIServerMetrics
from kubelite.apiserver.pki import PKI, ensure_pki, issue_serving_cert, new_token
from kubelite.apiserver.protobuf.protodesc import KubectlDescriptors
from kubelite.apiserver.serving import ConnectionLimits, raise_fd_limit
from kubelite.cli.agent import Agent, ServingCertSource, add_kubelet_flags, start_agent
from kubelite.cli.netflags import check_cidrs, cidr, port_range
from kubelite.client import metrics as client_metrics
from kubelite.client.config import token_config
from kubelite.client.rest import ApiClient
from kubelite.controllers.manager import ControllerManager
from kubelite.kubelet.node_status import host_ip
from kubelite.private_files import private_dir, write_private
from kubelite.scheduler.scheduler import Scheduler
from kubelite.storage.sqlite import SQLiteStore
from kubelite.storage.watchcache import WatchCache

log = logging.getLogger("kubelite")

DEFAULT_DATA_DIR = Path("/var/lib/kubelite")
ENDPOINTS = """\
endpoints (HTTPS on --https-listen-port; all but the health paths need credentials):
  /api, /apis, /openapi/v2, /openapi/v3  the Kubernetes API as kubectl uses it
  /version (also /version/)              the served Kubernetes version
  /healthz, /livez, /readyz              health; ?verbose lists the checks, ?exclude=NAME
                                         skips one; /livez/NAME, /readyz/NAME each check
                                         (ping, log, etcd; readyz adds etcd-readiness,
                                         shutdown); no credentials needed
  /metrics                               Prometheus text: apiserver_request_total and
                                         friends, etcd_request_duration_seconds, the
                                         scheduler's, controllers' work queues,
                                         rest_client_*, process_* and python_gc_*
  /api/v1/nodes/NAME/proxy/metrics       a kubelet's /metrics, /metrics/probes and
                                         /metrics/cadvisor, relayed (GET)
kubelet (HTTPS on --kubelet-port, for client certificates of the cluster CA):
  /metrics            kubelet_running_pods, kubelet_running_containers,
                      kubelet_pod_start_duration_seconds, rest_client_*, process_*
  /metrics/probes     prober_probe_total
  /metrics/cadvisor   container_cpu_usage_seconds_total, container_memory_working_set_bytes,
                      container_network_*_total, labelled as cAdvisor's
logs: klog-style lines on stderr; -v 3 adds one line per API request
"""
DEFAULT_KUBECONFIG = Path("/etc/kubelite/kubelite.yaml")
NODE_USER = "kubelite:node"


def register(subs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subs.add_parser("server", help="run the API server, controllers, scheduler and kubelet",
                        description="Run the API server, controllers, scheduler and this "
                                    "machine's kubelet in one process.",
                        epilog=ENDPOINTS, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                   help="folder holding all state (default %(default)s)")
    p.add_argument("--bind-address", default="0.0.0.0",
                   help="address the API server listens on (default %(default)s)")
    p.add_argument("--https-listen-port", type=int, default=6443,
                   help="API server port (default %(default)s; 0 picks a free one)")
    p.add_argument("--min-request-timeout", type=int, default=1800, metavar="SECONDS",
                   help="least time a watch without timeoutSeconds stays open; the server "
                        "picks at random up to twice this (default %(default)s)")
    p.add_argument("--write-kubeconfig", type=Path, default=DEFAULT_KUBECONFIG,
                   help="where to write the admin kubeconfig (default %(default)s)")
    p.add_argument("--token", default=os.environ.get("KUBELITE_TOKEN"),
                   help="shared secret nodes join with (generated when absent)")
    p.add_argument("--disable-scheduler", action="store_true",
                   help="do not run the scheduler (pods stay Pending unless bound)")
    p.add_argument("--disable-controller-manager", action="store_true",
                   help="do not run the controllers (Deployment, ReplicaSet, DaemonSet, "
                        "garbage collector)")
    p.add_argument("--disable-agent", action="store_true",
                   help="run the control plane only, no kubelet on this machine")
    p.add_argument("--service-cidr", default="10.43.0.0/16", type=cidr,
                   help="Service cluster IPs, apart from --cluster-cidr (default %(default)s)")
    p.add_argument("--service-node-port-range", default="30000-32767", type=port_range,
                   help="ports NodePort Services get (default %(default)s)")
    p.add_argument("--advertise-address", default="",
                   help="address the default/kubernetes Service's endpoints name (default: "
                        "--bind-address, or this host's address when that is 0.0.0.0)")
    _add_connection_flags(p)
    logs.add_flags(p)
    add_kubelet_flags(p)
    p.set_defaults(func=run)


def _add_connection_flags(p: argparse.ArgumentParser) -> None:
    d = ConnectionLimits()
    for flag, default, what in (
            ("--tls-handshake-timeout", d.tls_handshake_timeout, "a TLS handshake"),
            ("--request-header-timeout", d.header_timeout, "a request's headers"),
            ("--request-body-timeout", d.body_timeout, "a request's body"),
            ("--idle-connection-timeout", d.idle_timeout, "an idle keep-alive connection")):
        p.add_argument(flag, type=float, default=default,
                       help=f"seconds allowed for {what} (default %(default)s)")
    p.add_argument("--max-connections-per-client", type=int, default=d.max_per_client,
                   help="open connections allowed per client IP, counted before "
                        "authentication (default %(default)s)")
    p.add_argument("--max-loopback-connections", type=int, default=d.max_per_loopback,
                   help="the same for loopback clients, where kubelite's own components "
                        "connect (default %(default)s)")
    p.add_argument("--max-requests-inflight-per-user", type=int,
                   default=ServingConfig.seats_per_user,
                   help="short requests one user runs at once, the others queue (fair "
                        "shares between users; 0: no limit; default %(default)s)")


def _limits(args: argparse.Namespace) -> ConnectionLimits:
    return ConnectionLimits(
        tls_handshake_timeout=args.tls_handshake_timeout,
        header_timeout=args.request_header_timeout, body_timeout=args.request_body_timeout,
        idle_timeout=args.idle_connection_timeout,
        max_per_client=args.max_connections_per_client,
        max_per_loopback=args.max_loopback_connections)


MIN_TOKEN_LENGTH = 16


class TokenError(ValueError):
    """A ``--token`` the server refuses to start with."""


def _node_token(data_dir: Path, given: str | None, tokens: TokenFile, ca_pem: bytes) -> str:
    """The secret nodes (and the server's own components) authenticate with.

    ``<data-dir>/server/node-token`` holds it in the secure form (with the CA hash) that
    ``kubelite agent --token`` takes, as k3s' node-token file does. A new ``--token``
    replaces the old one, which stops authenticating at once."""
    path = data_dir / "server" / "node-token"
    if given:
        parsed = join_token.parse(given)
        secret = parsed.secret
        if len(secret) < MIN_TOKEN_LENGTH:
            raise TokenError(f"--token must be at least {MIN_TOKEN_LENGTH} characters long "
                             f"(got {len(secret)}); e.g. `openssl rand -hex 16` makes one")
        if parsed.ca_hash and parsed.ca_hash != join_token.ca_hash(ca_pem):
            raise TokenError("--token names a different cluster CA than this server's")
    elif path.exists():
        secret = join_token.parse(path.read_text()).secret
        if len(secret) < MIN_TOKEN_LENGTH:  # kept from an older release: warn, still serve
            log.warning("the node token in %s is shorter than %d characters: start once "
                        "with a new --token to replace it", path, MIN_TOKEN_LENGTH)
    else:
        secret = new_token()
    full = str(join_token.JoinToken(secret, join_token.ca_hash(ca_pem)))
    if not path.exists() or path.read_text().strip() != full:
        write_private(path, full + "\n")
    tokens.replace_user(secret, NODE_USER, "", ["system:nodes"])
    return secret


def _own_serving_cert(pki: PKI) -> ServingCertSource:
    """The server's own kubelet's serving certificate, from the CA directly: its names
    (this host) are the API server's too, which node credentials may not ask for."""
    async def issue(node: str, ip: str) -> dict[str, str]:
        cert, key = await asyncio.to_thread(issue_serving_cert, pki, f"system:node:{node}",
                                            [node, ip, "127.0.0.1"], "system:nodes")
        return {"cert": cert.decode(), "key": key.decode(), "ca": pki.ca_cert.read_text()}
    return issue


def _advertise_address(args: argparse.Namespace) -> str:
    """The API server's address for in-cluster clients (``default/kubernetes``)."""
    if args.advertise_address:
        return str(args.advertise_address)
    if args.bind_address in ("0.0.0.0", "::", ""):
        return host_ip()
    return str(args.bind_address)


def _prepare_data_dir(data_dir: Path) -> None:
    """The data dir, and its ``server`` and ``server/db`` folders 0700: keys, tokens and
    the database (Secrets) live there."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for folder in (data_dir / "server", data_dir / "server" / "db"):
        private_dir(folder)


async def serve(args: argparse.Namespace) -> int:
    check_cidrs(args.cluster_cidr, args.service_cidr)
    data_dir: Path = args.data_dir
    server_dir = data_dir / "server"
    _prepare_data_dir(data_dir)
    soft, _ = raise_fd_limit()
    log.debug("file descriptors: up to %d", soft)
    pki = ensure_pki(server_dir / "tls", args.bind_address)
    tokens = TokenFile(server_dir / "tokens.csv")
    try:
        node_token = _node_token(data_dir, args.token, tokens, pki.ca_cert.read_bytes())
    except TokenError as exc:
        print(f"kubelite server: {exc}", file=sys.stderr, flush=True)
        return 2
    store = WatchCache(SQLiteStore(server_dir / "db" / "state.db"))
    await store.start()
    # The cache holds long-lived objects: keep full collections from walking them.
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
    # kubectl's typed clients send protobuf: its schemas come from the kubectl binaries,
    # cached under the data dir (never in the repository)
    protobuf = ProtobufSchemas(KubectlDescriptors(server_dir / "proto-descriptors.bin").load)
    # one registry for the control plane: the API server's /metrics shows the
    # scheduler's and the controllers' series too (they share this process)
    metrics = APIServerMetrics()
    api = APIServer(store, tokens, ServingConfig(
        args.bind_address, args.https_listen_port, pki,
        min_request_timeout=float(args.min_request_timeout), limits=_limits(args),
        seats_per_user=args.max_requests_inflight_per_user, service_cidr=args.service_cidr,
        node_port_range=args.service_node_port_range,
        advertise_address=_advertise_address(args)), protobuf=protobuf, metrics=metrics)
    control_plane = client_metrics.for_registry(metrics.registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    client: ApiClient | None = None
    scheduler_client: ApiClient | None = None
    controllers_client: ApiClient | None = None
    scheduler: Scheduler | None = None
    controllers: ControllerManager | None = None
    agent: Agent | None = None
    try:
        await api.start()
        write_kubeconfig(args.write_kubeconfig, api.url(), pki)
        print(f"kubelite: API server listening on {api.url()}", flush=True)
        print(f"kubelite: admin kubeconfig written to {args.write_kubeconfig}", flush=True)
        # each component has its own client, named as Kubernetes names it: the name
        # becomes the field manager of its writes
        config = token_config(api.url(), node_token, str(pki.ca_cert))
        client = ApiClient(config, user_agent=f"kubelet/{VERSION['gitVersion']}")
        scheduler_client = ApiClient(config,
                                     user_agent=f"kube-scheduler/{VERSION['gitVersion']}",
                                     metrics=control_plane)
        controllers_client = ApiClient(
            config, user_agent=f"kube-controller-manager/{VERSION['gitVersion']}",
            metrics=control_plane)
        if not args.disable_controller_manager:
            controllers = ControllerManager(controllers_client, metrics=control_plane,
                                            storage_dir=data_dir / "storage")
            await controllers.start()
        if not args.disable_scheduler:
            scheduler = Scheduler(scheduler_client, registry=metrics.registry)
            await scheduler.start()
        if not args.disable_agent:
            agent = await start_agent(args, client, server_node=True,
                                      serving_cert=_own_serving_cert(pki))
        print("kubelite: ready", flush=True)
        await stop.wait()
        print("kubelite: shutting down", flush=True)
    finally:
        if agent is not None:
            await agent.stop()
        if scheduler is not None:
            await scheduler.stop()
        if controllers is not None:
            await controllers.stop()
        for c in (client, scheduler_client, controllers_client):
            if c is not None:
                await c.close()
        await api.stop()
        await store.close()
    return 0


def run(args: argparse.Namespace) -> int:
    logs.setup(logs.verbosity_of(args))
    return asyncio.run(serve(args))
