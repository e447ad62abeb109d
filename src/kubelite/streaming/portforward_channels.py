"""port-forward over WebSocket channels (``v4.channel.k8s.io``), as the kubelet serves it.

What every non-Go client speaks (the Python and JavaScript clients). One connection carries
every port of the request (``?port=80&port=8080``, or ``ports=80,8080`` through the API
server); contracts:

- port *i* has data channel ``2i`` and error channel ``2i+1``; the server's first frame on
  each is the port, two bytes little-endian (:func:`.channel.port_prefix`);
- each port gets one connection to the pod, dialled at once; the client's frames on the data
  channel (binary or text) are written to it, the pod's bytes come back on the data channel;
- a port that cannot be dialled gets ``error forwarding port P to pod ...: <why>`` on its
  error channel; the other ports carry on;
- a port is done when the pod closes its connection; once every port is done the server
  closes the WebSocket (1000), which is the clients' EOF. When the client goes away first,
  every pod connection is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import WSMsgType, web

from kubelite.streaming import channel
from kubelite.streaming.portforward import Dial, half_close

log = logging.getLogger(__name__)


class _Inbox:
    """Bytes the client sent on one data channel; ``b""`` once it went away."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def feed(self, data: bytes) -> None:
        if data:
            self.queue.put_nowait(data)

    def end(self) -> None:
        self.queue.put_nowait(b"")


class ChannelPortForward:
    """One WebSocket port-forward session over :data:`ports` (in request order)."""

    def __init__(self, ws: web.WebSocketResponse, ports: list[int], dial: Dial,
                 label: str) -> None:
        self.ws = ws
        self.ports = ports
        self.dial = dial
        self.label = label
        self._inboxes = {channel.port_channels(i)[0]: _Inbox() for i in range(len(ports))}
        self._send_lock = asyncio.Lock()

    async def _send(self, ch: int, payload: bytes) -> None:
        async with self._send_lock:
            if self.ws.closed:
                raise ConnectionResetError("websocket closed")
            await self.ws.send_bytes(channel.frame(ch, payload))

    async def _read(self) -> None:
        """Route the client's data frames to their port until the client closes."""
        try:
            while True:
                msg = await self.ws.receive()
                if msg.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
                    if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED,
                                    WSMsgType.ERROR):
                        return
                    continue
                decoded = channel.decode_message(msg.type == WSMsgType.TEXT, msg.data)
                if decoded is not None and decoded[0] in self._inboxes:
                    self._inboxes[decoded[0]].feed(decoded[1])
        finally:
            for inbox in self._inboxes.values():
                inbox.end()

    async def _forward(self, index: int) -> None:
        port = self.ports[index]
        data_ch, error_ch = channel.port_channels(index)
        inbox = self._inboxes[data_ch]
        try:
            reader, writer = await self.dial(port)
        except Exception as exc:  # the runtime's error becomes the client's message
            with contextlib.suppress(ConnectionError):
                await self._send(error_ch, f"error forwarding port {port} to {self.label}: "
                                           f"{exc}".encode())
            return

        async def up() -> None:
            while chunk := await inbox.queue.get():
                writer.write(chunk)
                await writer.drain()
            half_close(writer)

        # the pod's EOF ends the port; the client's end only half-closes the pod connection
        # (serve() cancels every port once the client has gone)
        up_task = asyncio.create_task(up())
        try:
            while chunk := await reader.read(65536):
                await self._send(data_ch, chunk)
        except ConnectionError:
            pass
        finally:
            up_task.cancel()
            with contextlib.suppress(BaseException):
                await up_task
            with contextlib.suppress(Exception):
                writer.close()

    async def serve(self) -> None:
        """Announce every channel, forward every port; close when all are done or the
        client has gone."""
        reader = asyncio.create_task(self._read())
        forwards: list[asyncio.Task[None]] = []
        try:
            for i, port in enumerate(self.ports):
                for ch in channel.port_channels(i):
                    await self._send(ch, channel.port_prefix(port))
            forwards = [asyncio.create_task(self._forward(i)) for i in range(len(self.ports))]
            everything: asyncio.Future[list[None]] = asyncio.gather(*forwards)
            waiters: list[asyncio.Future[Any]] = [everything, reader]
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            everything.cancel()
            with contextlib.suppress(BaseException):
                await everything
        except ConnectionError:
            pass
        finally:
            for t in (*forwards, reader):
                t.cancel()
            with contextlib.suppress(BaseException):
                await reader
            with contextlib.suppress(Exception):
                await self.ws.close(code=1000)


async def serve(ws: web.WebSocketResponse, ports: list[int], dial: Dial,
                label: str = "pod") -> None:
    """Serve one channel port-forward session on the prepared WebSocket ``ws``."""
    await ChannelPortForward(ws, ports, dial, label).serve()
