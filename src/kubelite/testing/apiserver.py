"""An API server in this process, over plain HTTP on loopback, for integration tests.

It authenticates with a bearer token (:data:`ADMIN_TOKEN`), serves from any Store
(an in-memory one by default) and hands out an aiohttp session already pointed at it.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from kubelite.api.meta_time import Clock, utcnow
from kubelite.apiserver.app import APIServer, ServingConfig
from kubelite.apiserver.auth import TokenFile
from kubelite.storage.interface import Store
from kubelite.testing.memory_store import MemoryStore

ADMIN_TOKEN = "admin-token-for-tests"


@dataclass
class InProcessAPI:
    server: APIServer
    http: aiohttp.ClientSession
    url: str


@asynccontextmanager
async def in_process_api(
    store: Store | None = None, clock: Clock = utcnow
) -> AsyncIterator[InProcessAPI]:
    """Start an API server on 127.0.0.1 (free port) over ``store``; stop it after."""
    store = store or MemoryStore()
    with tempfile.TemporaryDirectory() as d:
        tokens = TokenFile(Path(d) / "tokens.csv")
        tokens.add(ADMIN_TOKEN, "admin", "", ["system:masters"])
        await store.start()
        server = APIServer(store, tokens, ServingConfig("127.0.0.1", 0, None), clock=clock)
        await server.start()
        url = server.url()
        session = aiohttp.ClientSession(
            base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        try:
            yield InProcessAPI(server, session, url)
        finally:
            await session.close()
            await server.stop()
            await store.close()
