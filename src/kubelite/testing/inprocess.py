"""An in-process API server (memory store, plain HTTP on loopback) and a client for it.

For integration tests of the client, scheduler and kubelet without subprocesses:
``async with InProcessAPI(tmp_path) as api: client = api.client()``.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from kubelite.apiserver.app import APIServer, ServingConfig
from kubelite.apiserver.auth import TokenFile
from kubelite.client.config import ClientConfig
from kubelite.client.rest import ApiClient
from kubelite.testing.memory_store import MemoryStore

TOKEN = "test-admin-token"


class InProcessAPI:
    def __init__(self, workdir: Path) -> None:
        tokens = TokenFile(workdir / "tokens.csv")
        tokens.add(TOKEN, "admin", "", ["system:masters"])
        self.store = MemoryStore()
        self.server = APIServer(self.store, tokens, ServingConfig("127.0.0.1", 0, None))
        self._clients: list[ApiClient] = []

    def client(self) -> ApiClient:
        c = ApiClient(ClientConfig(self.server.url(), None, TOKEN))
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
        await self.server.stop()
        await self.store.close()
