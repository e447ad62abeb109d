"""The kubelet's HTTPS server: container logs, exec, attach and port-forward.

Routes (as the real kubelet's):

- ``GET /containerLogs/{ns}/{pod}/{container}?follow&previous&tailLines&timestamps&
  sinceSeconds&sinceTime&limitBytes``: text/plain, chunked while following.
- ``GET|POST /exec/{ns}/{pod}/{container}?command=..&stdin&stdout&stderr&tty`` and
  ``/attach/{ns}/{pod}/{container}``: WebSocket (``v5``/``v4.channel.k8s.io``) or SPDY/3.1
  (``X-Stream-Protocol-Version``) upgrades.
- ``GET|POST /portForward/{ns}/{pod}?port=P&port=Q``: WebSocket channels
  (``v4.channel.k8s.io``, ``portforward.k8s.io``, or no subprotocol), the WebSocket tunnel
  (``SPDY/3.1+portforward.k8s.io``), or SPDY/3.1 (``portforward.k8s.io``).

The API server relays kubectl's upgrade requests here unchanged, so these are the very
protocols kubectl speaks. Failures before an upgrade are plain-text answers with a 4xx/5xx
status; the API server turns them into ``Status`` documents.

Authentication: a client certificate signed by the cluster CA, or a bearer token the
``authorize_token`` callback accepts. Everything else gets 401.

The kubelet proper provides a :class:`PodLookup` (its pod manager and runtime); tests use
:class:`FakePodLookup`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from aiohttp import web

from kubelite.kubelet import crilog
from kubelite.kubelet.metrics import KubeletMetrics
from kubelite.runtime.protocol import (
    ByteReader,
    ByteWriter,
    ContainerRuntime,
    ContainerState,
    RuntimeServiceError,
    StreamSession,
)
from kubelite.streaming import channel, portforward, portforward_channels, remotecommand
from kubelite.streaming.bytestream import WebSocketStream
from kubelite.streaming.spdy_session import SpdyConnection
from kubelite.streaming.upgrade import RawUpgrade

log = logging.getLogger(__name__)

DEFAULT_PORT = 10250
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# --------------------------------------------------------------------------- the seam


class PodLookupError(Exception):
    """A pod or container cannot be served; ``code`` is the HTTP status (400 or 404)."""

    def __init__(self, message: str, code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code



@dataclass(frozen=True)
class ContainerTarget:
    """Where a pod's container lives in the runtime."""

    pod_uid: str
    sandbox_id: str
    container_id: str
    log_path: str  # absolute CRI log file; "" when none


@dataclass(frozen=True)
class PodTarget:
    pod_uid: str
    sandbox_id: str


class PodLookup(Protocol):
    """What the server needs from the kubelet: find containers and reach the runtime.

    Errors are :class:`PodLookupError` with kube's messages, e.g.
    ``container "app" in pod "web" is waiting to start: ContainerCreating`` or
    ``previous terminated container "app" in pod "web" not found`` (code 400), or
    ``pod "web" not found`` (404).
    """

    @property
    def runtime(self) -> ContainerRuntime: ...

    async def container(
        self, namespace: str, pod: str, container: str, *, previous: bool = False
    ) -> ContainerTarget: ...

    async def pod(self, namespace: str, pod: str) -> PodTarget: ...


@dataclass
class FakePodLookup:
    """A :class:`PodLookup` over a dict, for tests: ``(ns, pod, container) -> target``."""

    runtime: ContainerRuntime
    containers: dict[tuple[str, str, str], ContainerTarget] = field(default_factory=dict)
    previous: dict[tuple[str, str, str], ContainerTarget] = field(default_factory=dict)

    async def container(
        self, namespace: str, pod: str, container: str, *, previous: bool = False
    ) -> ContainerTarget:
        table = self.previous if previous else self.containers
        target = table.get((namespace, pod, container))
        if target is not None:
            return target
        if previous:
            raise PodLookupError(
                f'previous terminated container "{container}" in pod "{pod}" not found')
        if not any(k[:2] == (namespace, pod) for k in self.containers):
            raise PodLookupError(f'pod "{pod}" not found', 404)
        raise PodLookupError(f'container "{container}" in pod "{pod}" is not available')

    async def pod(self, namespace: str, pod: str) -> PodTarget:
        for (ns, name, _), target in self.containers.items():
            if (ns, name) == (namespace, pod):
                return PodTarget(target.pod_uid, target.sandbox_id)
        raise PodLookupError(f'pod "{pod}" not found', 404)


class FoundContainer(Protocol):
    """A container instance as the kubelet's ``lookup`` reports it."""

    @property
    def pod_uid(self) -> str: ...

    @property
    def container_id(self) -> str: ...

    @property
    def sandbox_id(self) -> str: ...

    @property
    def log_path(self) -> str: ...


class ContainerFinder(Protocol):
    """The kubelet's side: its runtime and ``lookup(ns, pod, container=None)`` giving the
    newest instance of a container (the first container when None), or None."""

    @property
    def runtime(self) -> ContainerRuntime: ...

    async def lookup(self, namespace: str, pod_name: str,
                     container: str | None = None) -> FoundContainer | None: ...


class FinderLookup:
    """A :class:`PodLookup` over the kubelet's :class:`ContainerFinder`.

    Previous instances are served when the finder also has
    ``lookup_previous(ns, pod, container)``; otherwise ``--previous`` finds none.
    """

    def __init__(self, finder: ContainerFinder) -> None:
        self.finder = finder

    @property
    def runtime(self) -> ContainerRuntime:
        return self.finder.runtime

    async def container(
        self, namespace: str, pod: str, container: str, *, previous: bool = False
    ) -> ContainerTarget:
        if previous:
            get_previous = getattr(self.finder, "lookup_previous", None)
            found = await get_previous(namespace, pod, container) if get_previous else None
            if found is None:
                raise PodLookupError(
                    f'previous terminated container "{container}" in pod "{pod}" not found')
        else:
            found = await self.finder.lookup(namespace, pod, container)
            if found is None:
                raise PodLookupError(
                    f'container "{container}" in pod "{pod}" is not available')
        return ContainerTarget(found.pod_uid, found.sandbox_id, found.container_id,
                               found.log_path)

    async def pod(self, namespace: str, pod: str) -> PodTarget:
        found = await self.finder.lookup(namespace, pod, None)
        if found is None:
            raise PodLookupError(f'pod "{pod}" not found', 404)
        return PodTarget(found.pod_uid, found.sandbox_id)


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class KubeletServerConfig:
    address: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    cert_file: Path | None = None  # None: plain HTTP (handler tests only)
    key_file: Path | None = None
    client_ca_file: Path | None = None
    authorize_token: Callable[[str], bool] | None = None


def server_ssl_context(config: KubeletServerConfig) -> ssl.SSLContext:
    assert config.cert_file is not None and config.key_file is not None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(config.cert_file, config.key_file)
    if config.client_ca_file is not None:
        ctx.load_verify_locations(cafile=str(config.client_ca_file))
        ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


# --------------------------------------------------------------------------- server


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("true", "1")


def _int(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise web.HTTPBadRequest(text=f"invalid {name}: {value!r}") from None


def _text_error(code: int, message: str) -> web.Response:
    return web.Response(status=code, text=message, content_type="text/plain")


class KubeletServer:
    """Serves logs and streams of this node's pods over HTTPS."""

    def __init__(self, lookup: PodLookup, config: KubeletServerConfig, *,
                 metrics: KubeletMetrics | None = None) -> None:
        """``metrics``: serve ``/metrics``, ``/metrics/probes`` and ``/metrics/cadvisor``."""
        self.lookup = lookup
        self.config = config
        self.port = config.port
        self._runner: web.AppRunner | None = None
        self.app = web.Application(middlewares=[self._middleware])
        r = self.app.router
        r.add_get("/healthz", self._healthz)
        r.add_get("/containerLogs/{ns}/{pod}/{container}", self.container_logs)
        for verb in ("exec", "attach"):
            r.add_route("GET", f"/{verb}/{{ns}}/{{pod}}/{{container}}", self.exec_attach)
            r.add_route("POST", f"/{verb}/{{ns}}/{{pod}}/{{container}}", self.exec_attach)
        r.add_route("GET", "/portForward/{ns}/{pod}", self.port_forward)
        r.add_route("POST", "/portForward/{ns}/{pod}", self.port_forward)
        if metrics is not None:
            metrics.add_routes(self.app)

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        ctx = server_ssl_context(self.config) if self.config.cert_file else None
        site = web.TCPSite(self._runner, self.config.address, self.config.port,
                           ssl_context=ctx, reuse_address=True)
        await site.start()
        server = site._server
        if self.config.port == 0 and server is not None:
            sockets = getattr(server, "sockets", None) or []
            self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- auth ----------------------------------------------------------------------------

    def _authenticated(self, request: web.Request) -> bool:
        if self.config.cert_file is None:
            return True  # plain HTTP: handler tests
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer " and self.config.authorize_token is not None:
            return self.config.authorize_token(header[7:].strip())
        transport = request.transport
        peercert = transport.get_extra_info("peercert") if transport else None
        return bool(peercert)  # verified against the client CA by the TLS layer

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != "/healthz" and not self._authenticated(request):
            return _text_error(401, "Unauthorized")
        try:
            return await handler(request)
        except PodLookupError as exc:
            return _text_error(exc.code, exc.message)
        except RuntimeServiceError as exc:
            return _text_error(500, str(exc))

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    # -- logs ----------------------------------------------------------------------------

    async def container_logs(self, request: web.Request) -> web.StreamResponse:
        ns, pod, name = (request.match_info[k] for k in ("ns", "pod", "container"))
        previous = _flag(request, "previous")
        target = await self.lookup.container(ns, pod, name, previous=previous)
        since: datetime | None = None
        since_seconds = _int(request, "sinceSeconds")
        if since_seconds is not None:
            since = datetime.now(UTC) - timedelta(seconds=since_seconds)
        elif request.query.get("sinceTime"):
            try:
                since = datetime.fromisoformat(request.query["sinceTime"].replace("Z", "+00:00"))
            except ValueError:
                return _text_error(400, f"invalid sinceTime: {request.query['sinceTime']!r}")
        opts = crilog.LogOptions(
            follow=_flag(request, "follow") and not previous,
            tail_lines=_int(request, "tailLines"),
            timestamps=_flag(request, "timestamps"),
            since=since,
            limit_bytes=_int(request, "limitBytes"),
        )
        runtime = self.lookup.runtime

        async def still_running() -> bool:
            try:
                status = await runtime.container_status(target.container_id)
            except RuntimeServiceError:
                return False
            return status.state in (ContainerState.RUNNING, ContainerState.CREATED)

        resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        with contextlib.suppress(ConnectionError):
            async for chunk in crilog.read_logs(target.log_path, opts, still_running):
                await resp.write(chunk)
            await resp.write_eof()
        return resp

    # -- exec / attach -------------------------------------------------------------------

    async def exec_attach(self, request: web.Request) -> web.StreamResponse:
        ns, pod, name = (request.match_info[k] for k in ("ns", "pod", "container"))
        verb = request.path.split("/")[1]
        opts = remotecommand.Options.from_query(request.query)
        if verb == "exec" and not opts.command:
            return _text_error(400, "you must specify at least 1 command")
        if not (opts.stdin or opts.stdout or opts.stderr):
            return _text_error(400, "you must specify at least 1 of stdin, stdout, stderr")
        target = await self.lookup.container(ns, pod, name)
        runtime = self.lookup.runtime

        async def open_session() -> StreamSession:
            if verb == "exec":
                return await runtime.exec(target.container_id, opts.command, tty=opts.tty,
                                          stdin=opts.stdin, stdout=opts.stdout,
                                          stderr=opts.stderr)
            return await runtime.attach(target.container_id, stdin=opts.stdin, tty=opts.tty)

        upgrade = request.headers.get("Upgrade", "").lower()
        if upgrade == "websocket":
            ws = web.WebSocketResponse(protocols=channel.WEBSOCKET_PROTOCOLS, autoping=True,
                                       max_msg_size=0)
            ready = ws.can_prepare(request)
            if not ready.ok or ready.protocol is None:
                return _text_error(400, "unable to upgrade: requested protocol(s) are not "
                                        "supported: " + request.headers.get(
                                            "Sec-WebSocket-Protocol", ""))
            await ws.prepare(request)
            io = remotecommand.WebSocketIO(ws, opts)
            if opts.stdout:
                await io.write_stdout(b"")
            await remotecommand.serve(open_session, io, opts.command)
            return ws
        if upgrade.startswith("spdy/3"):
            offered = [v.strip() for h in request.headers.getall("X-Stream-Protocol-Version", [])
                       for v in h.split(",")]
            chosen = next((p for p in offered if p in channel.SPDY_PROTOCOLS), None)
            if chosen is None:
                return _text_error(
                    403, f"unable to upgrade: unable to negotiate protocol: client supports "
                         f"{offered}, server supports {list(channel.SPDY_PROTOCOLS)}")
            raw = RawUpgrade({"Connection": "Upgrade", "Upgrade": "SPDY/3.1",
                              "X-Stream-Protocol-Version": chosen})
            await raw.prepare(request)
            conn = SpdyConnection(raw, server=True)
            reader = asyncio.create_task(conn.serve())
            try:
                spdy_io = await remotecommand.SpdyIO.accept(conn, opts)
            except (TimeoutError, ConnectionError):
                await conn.close()
                return raw
            try:
                await remotecommand.serve(open_session, spdy_io, opts.command)
            finally:
                await conn.close()
                reader.cancel()
            return raw
        return _text_error(400, "unable to upgrade: missing upgrade headers in request")

    # -- port-forward --------------------------------------------------------------------

    async def port_forward(self, request: web.Request) -> web.StreamResponse:
        ns, pod = request.match_info["ns"], request.match_info["pod"]
        target = await self.lookup.pod(ns, pod)
        runtime = self.lookup.runtime

        async def dial(port: int) -> tuple[ByteReader, ByteWriter]:
            return await runtime.port_forward(target.sandbox_id, port)

        label = f"pod {pod}, uid {target.pod_uid}"
        upgrade = request.headers.get("Upgrade", "").lower()
        if upgrade == "websocket":
            ws = web.WebSocketResponse(protocols=channel.PORT_FORWARD_WEBSOCKET_PROTOCOLS,
                                       autoping=True, max_msg_size=0)
            ready = ws.can_prepare(request)
            requested = request.headers.get("Sec-WebSocket-Protocol", "")
            if not ready.ok or (ready.protocol is None and requested):
                return _text_error(400, "unable to upgrade: requested protocol(s) are not "
                                        "supported: " + requested)
            if ready.protocol != channel.PORT_FORWARD_TUNNEL_PROTOCOL:
                try:
                    ports = channel.parse_ports([*request.query.getall("port", []),
                                                 *request.query.getall("ports", [])])
                except ValueError as exc:
                    return _text_error(400, str(exc))
                await ws.prepare(request)
                await portforward_channels.serve(ws, ports, dial, label)
                return ws
            await ws.prepare(request)
            conn = SpdyConnection(WebSocketStream(ws), server=True)
            reader = asyncio.create_task(conn.serve())
            try:
                await portforward.serve(conn, dial, label)
            finally:
                reader.cancel()
            return ws
        if upgrade.startswith("spdy/3"):
            offered = [v.strip() for h in request.headers.getall("X-Stream-Protocol-Version", [])
                       for v in h.split(",")]
            if channel.PORT_FORWARD_PROTOCOL not in offered:
                return _text_error(
                    403, f"unable to upgrade: unable to negotiate protocol: client supports "
                         f"{offered}, server supports [{channel.PORT_FORWARD_PROTOCOL}]")
            raw = RawUpgrade({"Connection": "Upgrade", "Upgrade": "SPDY/3.1",
                              "X-Stream-Protocol-Version": channel.PORT_FORWARD_PROTOCOL})
            await raw.prepare(request)
            conn = SpdyConnection(raw, server=True)
            reader = asyncio.create_task(conn.serve())
            try:
                await portforward.serve(conn, dial, label)
            finally:
                reader.cancel()
            return raw
        return _text_error(400, "unable to upgrade: missing upgrade headers in request")
