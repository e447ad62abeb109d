"""The server's own watch timeout (--min-request-timeout) ends an idle watch."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from kubelite.apiserver.watch import server_timeout
from kubelite.testing.inprocess import in_process_api

CMS = "/api/v1/namespaces/default/configmaps"


@pytest.mark.parametrize(("minimum", "rand", "expected"), [
    (1800.0, 0.0, 1800.0), (1800.0, 0.5, 2700.0), (1800.0, 0.999, 3598.2), (2.0, 0.25, 2.5),
])
def test_server_timeout_is_between_min_and_twice_min(minimum: float, rand: float,
                                                    expected: float) -> None:
    assert server_timeout(minimum, lambda: rand) == pytest.approx(expected)


@pytest.mark.parametrize("query", ["", "&timeoutSeconds=0"])
async def test_idle_watch_without_timeout_ends_after_the_server_timeout(query: str) -> None:
    async with in_process_api() as api:
        api.server.handlers.min_request_timeout = 1.0
        started = time.monotonic()
        async with api.http.get(CMS + "?watch=true" + query) as resp:
            assert resp.status == 200
            body = await asyncio.wait_for(resp.read(), 10)
        took = time.monotonic() - started
        assert body == b""
        assert 1.0 <= took < 2.5



async def test_a_timed_out_watch_ends_with_a_bookmark_when_asked_for() -> None:
    async with in_process_api() as api:
        async with api.http.post(CMS, json={"apiVersion": "v1", "kind": "ConfigMap",
                                            "metadata": {"name": "a"}}) as r:
            rv = (await r.json())["metadata"]["resourceVersion"]
        async with api.http.get(f"{CMS}?watch=true&timeoutSeconds=1&allowWatchBookmarks=true"
                                f"&resourceVersion={rv}") as resp:
            body = await asyncio.wait_for(resp.read(), 10)
        assert json.loads(body) == {"type": "BOOKMARK", "object": {
            "kind": "ConfigMap", "apiVersion": "v1", "metadata": {"resourceVersion": rv}}}
        # without allowWatchBookmarks the stream just ends
        async with api.http.get(f"{CMS}?watch=true&timeoutSeconds=1&resourceVersion={rv}"
                                ) as resp:
            assert await asyncio.wait_for(resp.read(), 10) == b""
