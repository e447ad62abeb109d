"""The API server: an aiohttp application over a Store, behind TLS and authentication.

``APIServer.start()`` listens and returns once requests can be served; ``stop()`` ends
open watches first, then closes connections. Errors raised anywhere in a handler leave
as ``metav1.Status`` documents.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from kubelite.api import errors, scheme
from kubelite.api.meta_time import Clock, utcnow
from kubelite.apiserver import codec, failures, httplog, node_certs, openapi_handlers
from kubelite.apiserver import request_keys as keys
from kubelite.apiserver.allocators.services import Allocators
from kubelite.apiserver.auth import ANONYMOUS_PATHS, Authenticator, TokenFile
from kubelite.apiserver.discovery import Discovery
from kubelite.apiserver.fairness import FairShare
from kubelite.apiserver.health import HealthChecks
from kubelite.apiserver.kinds.scheduling import ensure_system_classes
from kubelite.apiserver.kinds.serviceaccounts import ensure_default_service_account
from kubelite.apiserver.kinds.storage import ensure_default_storage_class
from kubelite.apiserver.kubernetes_service import KubernetesService
from kubelite.apiserver.metrics import APIServerMetrics
from kubelite.apiserver.namespaces import NamespaceFinalizer
from kubelite.apiserver.node_proxy import NodeProxy
from kubelite.apiserver.openapi import openapi
from kubelite.apiserver.pki import PKI
from kubelite.apiserver.protobuf.protodesc import KubectlDescriptors
from kubelite.apiserver.proxy import KubeletClient, KubeletProxy
from kubelite.apiserver.registry import Registry
from kubelite.apiserver.rest import ResourceHandlers
from kubelite.apiserver.serving import ConnectionLimits, GuardedSite, drop_server_header
from kubelite.private_files import write_private
from kubelite.storage.instrumented import InstrumentedStore
from kubelite.storage.interface import Store

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True)
class ServingConfig:
    bind_address: str = "127.0.0.1"
    port: int = 6443
    pki: PKI | None = None  # None: plain HTTP (tests of the handlers only)
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    seats_per_user: int = 16  # short requests one user runs at once (apiserver/fairness.py)
    min_request_timeout: float = 1800.0  # seconds; watches end in [this, 2*this) unasked
    service_cidr: str = "10.43.0.0/16"  # Service cluster IPs (--service-cidr)
    node_port_range: str = "30000-32767"  # --service-node-port-range
    advertise_address: str = ""  # the default/kubernetes endpoint ("": the bind address)


def ssl_context(pki: PKI) -> ssl.SSLContext:
    """TLS for the API: our serving certificate; client certificates optional (CA-checked).

    ALPN offers only http/1.1: kubectl would switch to HTTP/2 if we picked h2.
    """
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki.serving_cert, pki.serving_key)
    ctx.load_verify_locations(cafile=str(pki.ca_cert))
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class APIServer:
    """Kubernetes API over HTTPS for one store."""

    def __init__(
        self,
        store: Store,
        tokens: TokenFile,
        serving: ServingConfig,
        *,
        clock: Clock = utcnow,
        protobuf: codec.ProtobufSchemas | None = None,
        metrics: APIServerMetrics | None = None,
    ) -> None:
        """``protobuf`` reads Kubernetes protobuf bodies; by default its schemas come from
        the kubectl on PATH, uncached. ``metrics``: this server's series (its own registry
        by default), served at ``/metrics``."""
        self.metrics = metrics if metrics is not None else APIServerMetrics()
        self.raw_store = store
        self.store: Store = InstrumentedStore(store, self.metrics.registry,
                                              self.metrics.storage_type)
        store = self.store
        self.serving = serving
        self.clock = clock
        self.registry = Registry(store, clock, allocators=Allocators(
            serving.service_cidr, serving.node_port_range))
        self.discovery = Discovery()
        self.authenticator = Authenticator(tokens)
        self.stopping = asyncio.Event()
        self.protobuf = protobuf or codec.ProtobufSchemas(KubectlDescriptors().load)
        self.handlers = ResourceHandlers(self.registry, self.discovery, clock, self.stopping,
                                         self.protobuf)
        kubelet_client = KubeletClient.from_pki(serving.pki) if serving.pki else KubeletClient()
        self.kubelet_proxy = KubeletProxy(self.registry, kubelet_client)
        self.kubelet_proxy.install(self.handlers)
        self.handlers.min_request_timeout = serving.min_request_timeout
        self.node_proxy = NodeProxy(self.registry, kubelet_client)
        self.node_proxy.install(self.handlers)
        self.handlers.watch_counter = self.metrics.watch_counter
        self.ready = False
        self._started = False
        self.health = HealthChecks(lambda: self._started, self.stopping.is_set)
        self.namespace_finalizer = NamespaceFinalizer(self.registry)
        advertise = serving.advertise_address or serving.bind_address
        if advertise in ("0.0.0.0", "::", ""):
            advertise = "127.0.0.1"
        self.kubernetes_service = KubernetesService(self.registry, advertise)
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None
        self.site: GuardedSite | None = None
        self.port = serving.port

    # -- application ---------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        if httplog.enabled():
            self.metrics.log_request = httplog.log_request
        app = web.Application(
            middlewares=[self.metrics.middleware, failures.status_middleware,
                         self._auth_middleware, FairShare(self.serving.seats_per_user).middleware],
            client_max_size=codec.MAX_BODY + 1,
        )
        app.on_response_prepare.append(drop_server_header)
        r = app.router
        self.health.add_routes(app)
        r.add_get("/version", self.discovery.version)
        r.add_get("/version/", self.discovery.version)  # kube-apiserver serves both
        r.add_get("/metrics", self._metrics)
        r.add_get("/api", self.discovery.api)
        r.add_get("/api/", self.discovery.api)
        r.add_get("/apis", self.discovery.apis)
        r.add_get("/apis/", self.discovery.apis)
        openapi_handlers.add_routes(app)
        if self.serving.pki is not None:
            node_certs.add_routes(app, self.serving.pki)
        r.add_route("*", "/api/{tail:.+}", self.handlers.handle)
        r.add_route("*", "/apis/{tail:.+}", self.handlers.handle)
        return app

    @web.middleware
    async def _auth_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not (path in ANONYMOUS_PATHS or path.split("/", 2)[1] in ("healthz", "livez",
                                                                        "readyz")):
            request[keys.USER] = self.authenticator.authenticate(request)
        return await handler(request)

    async def _metrics(self, request: web.Request) -> web.Response:
        return await self.metrics.handle_metrics(request, self.raw_store)

    # -- lifecycle -----------------------------------------------------------------------

    async def bootstrap(self) -> None:
        """Create the system namespaces if absent, and every namespace's ``default``
        ServiceAccount (the serviceaccounts controller's job, done here at start); claim
        the clusterIPs and nodePorts the stored Services hold."""
        services = scheme.lookup("", "v1", "services")
        assert services is not None
        self.registry.allocators.seed((await self.registry.list(services, None)).items)
        ns = scheme.lookup("", "v1", "namespaces")
        assert ns is not None
        for name in SYSTEM_NAMESPACES:
            if await self.store.get(ns.key(None, name)) is None:
                obj = {"apiVersion": "v1", "kind": "Namespace",
                       "metadata": {"name": name,
                                    "labels": {"kubernetes.io/metadata.name": name}}}
                try:
                    await self.registry.create(ns, None, obj)
                except errors.StatusError as exc:
                    if exc.code != 409:
                        raise
        for existing in (await self.registry.list(ns, None)).items:
            await ensure_default_service_account(self.registry, existing["metadata"]["name"])
        await ensure_default_storage_class(self.registry)
        await ensure_system_classes(self.registry)

    async def start(self) -> None:
        await self.bootstrap()
        await asyncio.to_thread(openapi.warm)
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None,
                                     shutdown_timeout=2.0)
        await self._runner.setup()
        ctx = ssl_context(self.serving.pki) if self.serving.pki else None
        site = GuardedSite(self._runner, self.serving.bind_address, self.serving.port,
                           limits=self.serving.limits, ssl_context=ctx, backlog=1024,
                           handler_args={"access_log": None})
        await site.start()
        self.site = site
        self.namespace_finalizer.start()
        self.port = site.port
        await self.kubernetes_service.ensure(self.port)
        self.kubernetes_service.start()
        self._started = True
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        self.stopping.set()
        await self.namespace_finalizer.stop()
        await self.kubernetes_service.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.kubelet_proxy.close()
        await self.node_proxy.close()

    def url(self) -> str:
        host = self.serving.bind_address
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        scheme_ = "https" if self.serving.pki else "http"
        return f"{scheme_}://{host}:{self.port}"


def write_kubeconfig(path: Path, server_url: str, pki: PKI, user: str = "default") -> None:
    """An admin kubeconfig (client certificate) for ``server_url``, mode 0600."""
    import base64

    import yaml

    def b64(p: Path) -> str:
        return base64.b64encode(p.read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "default", "cluster": {
            "server": server_url, "certificate-authority-data": b64(pki.ca_cert)}}],
        "users": [{"name": user, "user": {
            "client-certificate-data": b64(pki.admin_cert),
            "client-key-data": b64(pki.admin_key)}}],
        "contexts": [{"name": "default", "context": {"cluster": "default", "user": user}}],
        "current-context": "default",
        "preferences": {},
    }
    write_private(path, yaml.safe_dump(config, sort_keys=False))
