"""Serving connections: the accept loop and per-connection read deadlines.

Guards against clients that hold connections without finishing requests (slowloris), and
against running out of file descriptors:

- at most ``max_per_client`` connections per client IP (``max_per_loopback`` for loopback,
  where kubelite's own components connect: each has a pool of at most 64), counted from
  accept, before TLS and authentication; a connection over the cap is closed at once;
- the TLS handshake must end within ``tls_handshake_timeout``; a request's headers within
  ``header_timeout`` of the connection being ready or of their first byte; its body within
  ``body_timeout`` of its headers; idle keep-alive connections close after
  ``idle_timeout`` (kube-apiserver: 32 s for headers, 60 s per request, 90 s idle).
  Upgraded connections (exec, attach, port-forward, watch over WebSocket) are not timed;
- when ``accept()`` fails for lack of descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM) the
  listener pauses for ``accept_pause`` and logs once per ``log_interval`` with a count of
  what it did not log, instead of spinning and logging every failure.

Errors of aiohttp's own HTTP parser leave as a ``metav1.Status`` 400 that does not echo the
request; no response names the server software.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import resource
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import hdrs, web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from kubelite.api import errors
from kubelite.apiserver import codec

log = logging.getLogger(__name__)

_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


@dataclass(frozen=True)
class ConnectionLimits:
    """Deadlines (seconds) and caps for client connections; see the module docstring."""

    tls_handshake_timeout: float = 10.0
    header_timeout: float = 32.0
    body_timeout: float = 60.0
    idle_timeout: float = 90.0
    max_per_client: int = 256
    max_per_loopback: int = 1024
    accept_pause: float = 0.5
    log_interval: float = 10.0


class RateLimitedLog:
    """Logs a message at most once per ``interval``; the next one says how many were
    dropped in between."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._last = -float("inf")
        self.suppressed = 0

    def warning(self, msg: str, *args: object) -> None:
        now = self.clock()
        if now - self._last < self.interval:
            self.suppressed += 1
            return
        if self.suppressed:
            msg += f" ({self.suppressed} similar messages suppressed)"
        self._last, self.suppressed = now, 0
        log.warning(msg, *args)


def raise_fd_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit (as Go programs do at start); the
    limits afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


class _NoServerHeader(web.Response):
    """A response without the ``Server`` header aiohttp adds (kube-apiserver sends none)."""

    async def _prepare_headers(self) -> None:
        await super()._prepare_headers()
        self._headers.popall(hdrs.SERVER, None)


async def drop_server_header(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: no response names the server software."""
    response.headers.popall(hdrs.SERVER, None)


class GuardedRequestHandler(RequestHandler):
    """aiohttp's HTTP/1.1 protocol with header and body deadlines (idle: aiohttp's
    keep-alive timeout) and Status errors for malformed requests."""

    def __init__(self, manager: web.Server, limits: ConnectionLimits,
                 on_lost: Callable[[], None], parser_errors: RateLimitedLog,
                 **kwargs: Any) -> None:
        super().__init__(manager, loop=asyncio.get_running_loop(),
                         keepalive_timeout=limits.idle_timeout, **kwargs)
        self._limits = limits
        self._on_lost = on_lost
        self._deadline: asyncio.TimerHandle | None = None
        self._body: Any = None  # the StreamReader of the request whose body is arriving
        self._parser_errors = parser_errors  # shared by all connections of a site

    def _arm(self, timeout: float) -> None:
        self._disarm()
        self._deadline = asyncio.get_running_loop().call_later(timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport is not None:
            self.transport.abort()  # as Go's read deadline: no response, the socket closes

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm(self._limits.header_timeout)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        try:
            super().connection_lost(exc)
        finally:
            self._on_lost()

    def data_received(self, data: bytes) -> None:
        count = self._request_count
        super().data_received(data)
        if self._upgraded or self._payload_parser is not None:
            self._disarm()  # a hijacked stream: its handler times it
            return
        if self._request_count != count:  # headers of one or more requests are complete
            _, payload = self._messages[-1] if self._messages else (None, None)
            if payload is not None and not payload.is_eof():
                self._body = payload
                self._arm(self._limits.body_timeout)
            else:
                self._body = None
                self._disarm()
        elif self._body is not None:
            if self._body.is_eof():
                self._body = None
                self._disarm()
        elif self._deadline is None and data:
            self._arm(self._limits.header_timeout)  # first bytes of the next request

    def handle_error(self, request: BaseRequest, status: int = 500,
                     exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """A malformed request (aiohttp's parser refused it): a Status without the request
        echoed, logged at most once per interval; the connection closes."""
        what = "malformed request" if 400 <= status < 500 else "request failed"
        self._parser_errors.warning("%s from %s: %s", what, request.remote,
                                    type(exc).__name__ if exc else status)
        if request.writer.output_size > 0:
            raise ConnectionError("response already started")
        if 400 <= status < 500:
            err = errors.StatusError(status, "BadRequest",
                                     "the request could not be parsed as HTTP/1.1")
        else:
            err = errors.internal("an error on the server has prevented the request "
                                  "from succeeding")
        resp = _NoServerHeader(body=codec.dumps(err.status()), status=err.code,
                               content_type=codec.JSON_TYPE)
        resp.force_close()
        return resp


class Listener:
    """Accepts connections on one listening socket under ``ConnectionLimits``; each
    accepted connection gets a fresh protocol from ``factory(release)``, which must call
    ``release`` once when its connection is lost."""

    def __init__(self, sock: socket.socket, factory: Callable[[Callable[[], None]],
                                                              asyncio.Protocol],
                 ssl_context: ssl.SSLContext | None, limits: ConnectionLimits) -> None:
        self.sock = sock
        self.factory = factory
        self.ssl_context = ssl_context
        self.limits = limits
        self.per_client: dict[str, int] = {}
        self._loop = asyncio.get_running_loop()
        self._handshakes: set[asyncio.Task[None]] = set()
        self._accept_log = RateLimitedLog(limits.log_interval)
        self._cap_log = RateLimitedLog(limits.log_interval)
        self._resume: asyncio.TimerHandle | None = None
        self._serving = False
        sock.setblocking(False)

    @property
    def sockets(self) -> list[socket.socket]:
        return [self.sock]

    def start(self) -> None:
        self._serving = True
        self._loop.add_reader(self.sock.fileno(), self._accept)

    def close(self) -> None:
        """Stop accepting and end handshakes in progress (established connections are the
        runner's to close)."""
        if not self._serving:
            return
        self._serving = False
        if self._resume is not None:
            self._resume.cancel()
        self._loop.remove_reader(self.sock.fileno())
        self.sock.close()
        for task in self._handshakes:
            task.cancel()

    async def wait_closed(self) -> None:
        if self._handshakes:
            await asyncio.gather(*self._handshakes, return_exceptions=True)

    def _cap(self, ip: str) -> int:
        try:
            loopback = ipaddress.ip_address(ip).is_loopback
        except ValueError:
            loopback = False
        return self.limits.max_per_loopback if loopback else self.limits.max_per_client

    def _accept(self) -> None:
        for _ in range(128):  # a batch per wake-up, then let other callbacks run
            try:
                conn, addr = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_RESOURCES:
                    self._pause(exc)
                    return
                if exc.errno in (errno.ECONNABORTED, errno.EPROTO):
                    continue
                self._accept_log.warning("accept() failed: %s", exc)
                return
            ip = str(addr[0]) if isinstance(addr, tuple) else ""
            if self.per_client.get(ip, 0) >= self._cap(ip):
                self._cap_log.warning("refusing a connection from %s: it has %d open "
                                      "(the limit)", ip, self.per_client[ip])
                conn.close()
                continue
            self.per_client[ip] = self.per_client.get(ip, 0) + 1
            task = self._loop.create_task(self._handshake(conn, ip))
            self._handshakes.add(task)
            task.add_done_callback(self._handshakes.discard)

    def _pause(self, exc: OSError) -> None:
        """Out of descriptors: stop accepting for a moment (the kernel queues new
        connections in the backlog meanwhile) rather than spin on a failing accept()."""
        self._accept_log.warning("accept() failed: %s; pausing new connections for %.1fs "
                                 "(%d open)", exc, self.limits.accept_pause,
                                 sum(self.per_client.values()))
        self._loop.remove_reader(self.sock.fileno())
        self._resume = self._loop.call_later(self.limits.accept_pause, self._resume_accepting)

    def _resume_accepting(self) -> None:
        self._resume = None
        if self._serving:
            self._loop.add_reader(self.sock.fileno(), self._accept)

    def _release_for(self, ip: str) -> Callable[[], None]:
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            left = self.per_client.get(ip, 1) - 1
            if left > 0:
                self.per_client[ip] = left
            else:
                self.per_client.pop(ip, None)
        return release

    async def _handshake(self, conn: socket.socket, ip: str) -> None:
        release = self._release_for(ip)
        try:
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await self._loop.connect_accepted_socket(
                lambda: self.factory(release), conn, ssl=self.ssl_context,
                ssl_handshake_timeout=self.limits.tls_handshake_timeout
                if self.ssl_context else None)
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError, asyncio.CancelledError):
            # the handshake failed or timed out: the protocol never saw the connection
            conn.close()
            release()


class GuardedSite(web.BaseSite):
    """An aiohttp site on ``host:port`` served through a :class:`Listener`."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, *,
                 limits: ConnectionLimits, ssl_context: ssl.SSLContext | None = None,
                 backlog: int = 1024, handler_args: dict[str, Any] | None = None) -> None:
        super().__init__(runner, ssl_context=ssl_context, backlog=backlog)
        self._host, self._port = host, port
        self._limits = limits
        self._handler_args = handler_args or {}
        self.listener: Listener | None = None

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{self._host}:{self.port}"

    @property
    def port(self) -> int:
        return int(self.listener.sock.getsockname()[1]) if self.listener else self._port

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._port))
            sock.listen(self._backlog)
        except OSError:
            sock.close()
            raise

        parser_errors = RateLimitedLog(self._limits.log_interval)

        def protocol(release: Callable[[], None]) -> asyncio.Protocol:
            return GuardedRequestHandler(server, self._limits, release, parser_errors,
                                         **self._handler_args)

        self.listener = Listener(sock, protocol, self._ssl_context, self._limits)
        self.listener.start()
        self._server = self.listener  # type: ignore[assignment]  # close() is what stop() uses
