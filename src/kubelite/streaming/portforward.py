"""port-forward over SPDY: an ``error`` + ``data`` stream pair per forwarded connection.

The client opens both streams of a pair with the same ``requestid`` and ``port`` headers.
For each complete pair the server dials the pod's port and copies bytes both ways:

- the client's FIN on the data stream half-closes the pod connection (write EOF);
- the pod's EOF gives FIN on the data stream, then FIN on the error stream (kubectl waits
  for the error stream's end before it forgets the connection);
- a failure writes a message on the error stream (kubectl prints
  ``an error occurred forwarding L -> R: <message>``), then FIN on both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from kubelite.runtime.protocol import ByteReader, ByteWriter
from kubelite.streaming.spdy_session import SpdyConnection, SpdyStream

log = logging.getLogger(__name__)

Dial = Callable[[int], Awaitable[tuple[ByteReader, ByteWriter]]]


def half_close(writer: ByteWriter) -> None:
    """Write EOF on ``writer`` where it can, else close it."""
    can = getattr(writer, "can_write_eof", None)
    if callable(can) and can():
        with contextlib.suppress(OSError, RuntimeError):
            writer.write_eof()  # type: ignore[attr-defined]
    else:
        writer.close()


async def _forward(error: SpdyStream, data: SpdyStream, dial: Dial, label: str) -> None:
    port_text = data.header("port") or error.header("port")
    try:
        port = int(port_text)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        await _fail(error, data, f'invalid port "{port_text}"')
        return
    try:
        reader, writer = await dial(port)
    except Exception as exc:  # the runtime's error becomes the client's message
        await _fail(error, data, f"error forwarding port {port} to {label}: {exc}")
        return

    async def up() -> None:
        while chunk := await data.read():
            writer.write(chunk)
            await writer.drain()
        if data.was_reset:
            return
        half_close(writer)

    async def down() -> None:
        while chunk := await reader.read(65536):
            await data.write(chunk)

    up_task = asyncio.create_task(up())
    down_task = asyncio.create_task(down())
    try:
        await asyncio.wait({down_task}, return_when=asyncio.FIRST_COMPLETED)
        if down_task.done() and down_task.exception() is None:
            await data.close()
            await error.close()
    except ConnectionError:
        pass
    finally:
        up_task.cancel()
        down_task.cancel()
        with contextlib.suppress(Exception):
            writer.close()


async def _fail(error: SpdyStream, data: SpdyStream, message: str) -> None:
    with contextlib.suppress(ConnectionError):
        await error.write(message.encode())
        await error.close()
        await data.close()


async def serve(conn: SpdyConnection, dial: Dial, label: str = "pod") -> None:
    """Serve stream pairs until the client sends GOAWAY or the connection ends."""
    pairs: dict[str, dict[str, SpdyStream]] = {}
    tasks: set[asyncio.Task[None]] = set()
    try:
        while (st := await conn.accept()) is not None:
            kind = st.header("streamtype")
            rid = st.header("requestid")
            if kind not in ("error", "data"):
                await st.reset()
                continue
            pair = pairs.setdefault(rid, {})
            pair[kind] = st
            if "error" in pair and "data" in pair:
                del pairs[rid]
                t = asyncio.create_task(_forward(pair["error"], pair["data"], dial, label))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
        await conn.done.wait()
    finally:
        for t in list(tasks):
            t.cancel()
        await conn.close()
