"""Raw HTTP/1.1 upgrades inside aiohttp: answer 101, then own the connection's bytes.

aiohttp itself only switches protocols for WebSocket. :class:`RawUpgrade` is a response
that writes ``101 Switching Protocols`` with the given headers and then exposes the socket
as a :class:`~.bytestream.ByteStream`. The handler keeps running while it uses the stream
and returns the response at the end; the connection is then closed (never reused).

Bytes the client sends after the request are captured from the moment the response is
prepared (the parser is installed before the 101 is written, so nothing is lost).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter


class _RawParser:
    """Receives the connection's bytes from aiohttp's protocol once installed."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.eof = False

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if data and not self.eof:
            self.queue.put_nowait(bytes(data))
        return False, b""

    def feed_eof(self) -> None:
        if not self.eof:
            self.eof = True
            self.queue.put_nowait(b"")


class RawUpgrade(web.StreamResponse):
    """A 101 response after which the handler reads and writes raw bytes."""

    _length_check = False

    def __init__(self, headers: Mapping[str, str] | list[tuple[str, str]]) -> None:
        super().__init__(status=101, reason="Switching Protocols")
        items = headers.items() if isinstance(headers, Mapping) else headers
        for k, v in items:
            self.headers.add(k, v)
        self._raw = _RawParser()
        self._request: web.BaseRequest | None = None

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        if self._request is None:
            self._request = request
            request.protocol.set_parser(self._raw)  # type: ignore[arg-type]
            request.protocol.keep_alive(False)
            self.force_close()
        return await super().prepare(request)

    async def read(self) -> bytes:
        if self._raw.eof and self._raw.queue.empty():
            return b""
        chunk = await self._raw.queue.get()
        if not chunk:
            self._raw.queue.put_nowait(b"")
        return chunk

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        req = self._request
        transport = req.transport if req is not None else None
        if transport is None or transport.is_closing():
            raise ConnectionResetError("connection closed")
        transport.write(bytes(data))
        writer = self._payload_writer
        if writer is not None:
            await writer.drain()

    async def close(self) -> None:
        req = self._request
        transport = req.transport if req is not None else None
        if transport is not None and not transport.is_closing():
            with contextlib.suppress(Exception):
                if transport.can_write_eof():
                    transport.write_eof()
            transport.close()
        self._raw.feed_eof()

    async def write_eof(self, data: bytes = b"") -> None:
        await self.close()
