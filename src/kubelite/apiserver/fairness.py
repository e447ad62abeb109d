"""Fair shares of the API server between users (API Priority and Fairness, in small).

Contract: at most ``per_user`` short requests of one user (its flow) run at a time; the
others wait, in arrival order, for a seat. Long-running requests (watches, exec, attach,
port-forward, proxy, followed logs) take no seat, as kube-apiserver exempts them from its
in-flight limits. A request that waits longer than ``queue_timeout`` gets 429
TooManyRequests with ``Retry-After`` (kube: ``the server has received too many requests
and has asked us to try again later``).

Why: every component of ``kubelite server`` and every kubectl share one event loop. A
controller creating or deleting thousands of pods keeps dozens of requests in flight;
without seats, a user's ``kubectl get`` waits behind all of them. With seats, it waits
behind at most ``per_user`` requests of each other user.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from kubelite.api import errors
from kubelite.apiserver import codec
from kubelite.apiserver import request_keys as keys

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_LONG_RUNNING_SUBRESOURCES = frozenset({"exec", "attach", "portforward", "proxy"})


def long_running(request: web.Request) -> bool:
    """Watches, streaming subresources, proxies and followed logs (``longRunningRequestCheck``)."""
    query = request.query
    if query.get("watch") in ("1", "true", "True"):
        return True
    parts = [p for p in request.path.split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        return False
    rest = parts[2 if parts[0] == "api" else 3:]  # after /api/v1 or /apis/group/version
    if len(rest) >= 3 and rest[0] == "namespaces":
        rest = rest[2:]  # {resource}/{name}/{subresource}/...
    sub = rest[2] if len(rest) >= 3 else ""
    if sub in _LONG_RUNNING_SUBRESOURCES:
        return True
    return sub == "log" and query.get("follow") in ("1", "true")


class FairShare:
    """Seats per user; see the module contract."""

    def __init__(self, per_user: int = 16, queue_timeout: float = 60.0) -> None:
        self.per_user = per_user
        self.queue_timeout = queue_timeout
        self._seats: dict[str, asyncio.Semaphore] = {}
        self._users: dict[str, int] = {}  # requests holding or waiting for a seat

    def requests_of(self, flow: str) -> int:
        """How many requests of ``flow`` (a user name) hold or wait for a seat now."""
        return self._users.get(flow, 0)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.per_user <= 0 or long_running(request):
            return await handler(request)
        user = request.get(keys.USER)
        flow = user.name if user is not None else f"anonymous@{request.remote}"
        seats = self._seats.get(flow)
        if seats is None:
            seats = self._seats[flow] = asyncio.Semaphore(self.per_user)
        self._users[flow] = self._users.get(flow, 0) + 1
        try:
            try:
                async with asyncio.timeout(self.queue_timeout):
                    await seats.acquire()
            except TimeoutError:
                err = errors.StatusError(
                    429, "TooManyRequests", "the server has received too many requests "
                    "and has asked us to try again later", headers={"Retry-After": "1"})
                return codec.status_response(err)
            try:
                return await handler(request)
            finally:
                seats.release()
        finally:
            left = self._users[flow] - 1
            if left:
                self._users[flow] = left
            else:  # nobody holds or waits: forget the flow
                del self._users[flow]
                del self._seats[flow]
