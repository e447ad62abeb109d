"""An in-process API server (memory store by default, plain HTTP on loopback), with a
raw aiohttp session and API clients for it.

For integration tests without subprocesses: ``async with InProcessAPI(tmp_path) as api:``
then ``api.http`` (requests with the admin token) or ``api.client()`` (a kubelite client).
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType

import aiohttp

from kubelite.apiserver.app import APIServer, ServingConfig
from kubelite.apiserver.auth import TokenFile
from kubelite.apiserver.serving import ConnectionLimits
from kubelite.client import metrics as client_metrics
from kubelite.client.config import ClientConfig
from kubelite.client.rest import ApiClient
from kubelite.storage.interface import Store
from kubelite.testing.memory_store import MemoryStore

TOKEN = "test-admin-token"


class InProcessAPI:
    def __init__(self, workdir: Path, store: Store | None = None,
                 limits: ConnectionLimits | None = None) -> None:
        tokens = TokenFile(workdir / "tokens.csv")
        tokens.add(TOKEN, "admin", "", ["system:masters"])
        self.store: Store = store or MemoryStore()
        self.server = APIServer(self.store, tokens, ServingConfig(
            "127.0.0.1", 0, None, limits=limits or ConnectionLimits()))
        self._clients: list[ApiClient] = []
        self._http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return self.server.url()

    @property
    def http(self) -> aiohttp.ClientSession:
        """An aiohttp session on the server, authenticated as the admin."""
        if self._http is None:
            self._http = aiohttp.ClientSession(
                base_url=self.url, headers={"Authorization": f"Bearer {TOKEN}"})
        return self._http

    def client(self) -> ApiClient:
        """A client whose ``rest_client_*`` series go to the server's registry."""
        c = ApiClient(ClientConfig(self.url, None, TOKEN),
                      metrics=client_metrics.for_registry(self.server.metrics.registry))
        self._clients.append(c)
        return c

    async def __aenter__(self) -> InProcessAPI:
        await self.store.start()
        await self.server.start()
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        for c in self._clients:
            await c.close()
        if self._http is not None:
            await self._http.close()
        await self.server.stop()
        await self.store.close()


@asynccontextmanager
async def in_process_api(store: Store | None = None, limits: ConnectionLimits | None = None,
                         ) -> AsyncIterator[InProcessAPI]:
    """:class:`InProcessAPI` in a temporary folder of its own."""
    with tempfile.TemporaryDirectory() as d:
        async with InProcessAPI(Path(d), store, limits) as api:
            yield api
