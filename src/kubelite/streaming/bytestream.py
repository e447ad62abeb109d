"""A bidirectional byte stream: what a SPDY connection runs over.

Implementations: a TCP/TLS socket (:class:`SocketStream`), an upgraded aiohttp request
(:mod:`.upgrade`), and binary WebSocket messages (:class:`WebSocketStream`, the
port-forward tunnel).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from aiohttp import WSMsgType, web
from aiohttp.client_ws import ClientWebSocketResponse


class ByteStream(Protocol):
    async def read(self) -> bytes:
        """The next chunk of bytes; ``b""`` once the peer closed."""
        ...

    async def write(self, data: bytes) -> None:
        """Send bytes, waiting while the peer is slow. Raises ConnectionError when closed."""
        ...

    async def close(self) -> None:
        """Close both directions; idempotent."""
        ...


class SocketStream:
    """A ByteStream over asyncio's stream reader and writer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def read(self) -> bytes:
        try:
            return await self.reader.read(65536)
        except (ConnectionError, OSError):
            return b""

    async def write(self, data: bytes) -> None:
        if self.writer.is_closing():
            raise ConnectionResetError("stream closed")
        self.writer.write(data)
        await self.writer.drain()

    async def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


class WebSocketStream:
    """A ByteStream whose chunks are binary WebSocket messages (no channel byte).

    A close frame (or a connection loss) is the end of the stream; :meth:`close` sends a
    normal close (1000).
    """

    def __init__(self, ws: web.WebSocketResponse | ClientWebSocketResponse) -> None:
        self.ws = ws

    async def read(self) -> bytes:
        while True:
            msg = await self.ws.receive()
            if msg.type == WSMsgType.BINARY:
                if msg.data:
                    return bytes(msg.data)
                continue
            if msg.type == WSMsgType.TEXT:
                continue
            return b""  # CLOSE, CLOSING, CLOSED, ERROR

    async def write(self, data: bytes) -> None:
        if self.ws.closed:
            raise ConnectionResetError("websocket closed")
        await self.ws.send_bytes(data)

    async def close(self) -> None:
        if not self.ws.closed:
            with contextlib.suppress(Exception):
                await self.ws.close()
