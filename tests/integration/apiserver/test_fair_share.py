"""Fair shares: one user's flood of requests does not hold another user's request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from kubelite.apiserver import request_keys as keys
from kubelite.apiserver.auth import User
from kubelite.apiserver.fairness import FairShare, long_running
from kubelite.testing.waiting import eventually


async def _requests(share: FairShare, flow: str, count: int) -> bool:
    """Whether ``count`` requests of ``flow`` hold or wait for a seat."""
    return share.requests_of(flow) == count


async def serve(share: FairShare, release: asyncio.Event) -> TestServer:
    @web.middleware
    async def fake_auth(request: web.Request,
                        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
                        ) -> web.StreamResponse:
        request[keys.USER] = User(request.headers["X-User"])
        return await handler(request)

    async def slow(request: web.Request) -> web.Response:
        if request.headers["X-User"] == "flooder":
            await release.wait()
        return web.Response(text="ok")

    app = web.Application(middlewares=[fake_auth, share.middleware])
    app.router.add_get("/{tail:.*}", slow)
    server = TestServer(app)
    await server.start_server()
    return server


async def test_a_flooding_user_waits_for_seats_and_others_do_not() -> None:
    release = asyncio.Event()
    share = FairShare(per_user=4, queue_timeout=30)
    server = await serve(share, release)
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
            def get(user: str, path: str = "/api/v1/pods") -> Awaitable[int]:
                async def go() -> int:
                    async with s.get(server.make_url(path), headers={"X-User": user}) as r:
                        return r.status
                return asyncio.ensure_future(go())
            flood = [get("flooder") for _ in range(20)]
            assert await eventually(lambda: _requests(share, "flooder", 20))
            assert await asyncio.wait_for(get("admin"), 2) == 200  # not behind the flood
            # the flooder's first four hold its seats, the other sixteen queue
            assert not any(f.done() for f in flood)
            release.set()
            assert await asyncio.gather(*flood) == [200] * 20
    finally:
        await server.close()


async def test_waiting_past_the_queue_timeout_is_429() -> None:
    release = asyncio.Event()
    share = FairShare(per_user=1, queue_timeout=0.3)
    server = await serve(share, release)
    try:
        async with aiohttp.ClientSession() as s:
            hold = asyncio.ensure_future(s.get(server.make_url("/a"),
                                               headers={"X-User": "flooder"}))
            assert await eventually(lambda: _requests(share, "flooder", 1))
            async with s.get(server.make_url("/b"), headers={"X-User": "flooder"}) as r:
                assert r.status == 429
                assert r.headers["Retry-After"] == "1"
            release.set()
            resp = await hold
            assert resp.status == 200
            resp.close()
    finally:
        await server.close()


def test_long_running_requests() -> None:
    from aiohttp.test_utils import make_mocked_request
    cases = {
        "/api/v1/pods?watch=true": True,
        "/api/v1/namespaces/d/pods/p/exec?command=ls": True,
        "/api/v1/namespaces/d/pods/p/portforward": True,
        "/api/v1/namespaces/d/pods/p/proxy/x/y": True,
        "/api/v1/namespaces/d/pods/p/log?follow=true": True,
        "/api/v1/namespaces/d/pods/p/log": False,
        "/api/v1/namespaces/d/pods": False,
        "/api/v1/namespaces/d/pods/exec": False,  # a pod named exec
        "/api/v1/nodes/n1/proxy/stats": True,
        "/apis/apps/v1/namespaces/d/deployments/x/scale": False,
        "/apis/apps/v1/namespaces/d/deployments?watch=1": True,
        "/healthz": False,
    }
    for path, want in cases.items():
        assert long_running(make_mocked_request("GET", path)) is want, path
