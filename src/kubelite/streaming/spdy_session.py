"""A SPDY/3.1 connection: streams over one :class:`~.bytestream.ByteStream`.

Contracts:

- The server side answers every ``SYN_STREAM`` with an empty ``SYN_REPLY`` at once (kubectl
  gives up on a stream not answered within 30 s) and hands the stream to :meth:`accept`.
- Stream ids: the client opens odd ids, the server even ones.
- A stream's :meth:`SpdyStream.read` returns ``b""`` after the peer's FIN, a RST_STREAM or
  the end of the connection. :meth:`SpdyStream.close` sends FIN once (a half-close).
- PINGs from the peer are echoed unchanged. Flow control is not enforced (kubectl does
  none); WINDOW_UPDATE and SETTINGS are accepted and ignored.
- GOAWAY from the peer ends :meth:`accept` (it returns None); open streams go on until the
  byte stream closes.
- Frames are written whole and in order; header blocks are compressed in send order.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable

from kubelite.streaming import spdy
from kubelite.streaming.bytestream import ByteStream

log = logging.getLogger(__name__)

_CHUNK = 32 * 1024


class SpdyStream:
    """One SPDY stream: headers, an inbound byte queue, and writes as DATA frames."""

    def __init__(self, conn: SpdyConnection, stream_id: int, headers: spdy.Headers) -> None:
        self.conn = conn
        self.id = stream_id
        self.headers = headers
        self.reply_headers: spdy.Headers = {}
        self.replied = asyncio.Event()
        self.remote_closed = False  # FIN or RST received (or connection gone)
        self.was_reset = False
        self.local_closed = False
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()

    def header(self, name: str, default: str = "") -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else default

    async def read(self) -> bytes:
        """The next chunk of data; ``b""`` at the end of the inbound side."""
        if self.remote_closed and self._queue.empty():
            return b""
        chunk = await self._queue.get()
        if not chunk:
            self._queue.put_nowait(b"")  # keep reporting EOF
        return chunk

    async def read_all(self) -> bytes:
        out = bytearray()
        while chunk := await self.read():
            out += chunk
        return bytes(out)

    async def write(self, data: bytes) -> None:
        if self.local_closed or self.was_reset:
            raise ConnectionResetError(f"stream {self.id} is closed")
        for i in range(0, len(data), _CHUNK):
            await self.conn.send(spdy.encode_data(self.id, data[i : i + _CHUNK]))

    async def close(self) -> None:
        """Half-close: an empty DATA frame with FIN. Idempotent; no-op after a reset."""
        if self.local_closed or self.was_reset or self.conn.is_closed:
            self.local_closed = True
            return
        self.local_closed = True
        with contextlib.suppress(ConnectionError):
            await self.conn.send(spdy.encode_data(self.id, b"", fin=True))

    async def reset(self, status: int = spdy.CANCEL) -> None:
        if self.was_reset:
            return
        self.was_reset = True
        self.local_closed = True
        self._end()
        with contextlib.suppress(ConnectionError):
            await self.conn.send(spdy.encode_rst_stream(self.id, status))

    def _feed(self, data: bytes) -> None:
        if data and not self.remote_closed:
            self._queue.put_nowait(data)

    def _end(self) -> None:
        if not self.remote_closed:
            self.remote_closed = True
            self._queue.put_nowait(b"")


class SpdyConnection:
    """Either side of a SPDY/3.1 connection. Run :meth:`serve` as a task."""

    def __init__(self, stream: ByteStream, *, server: bool) -> None:
        self.stream = stream
        self.server = server
        self.streams: dict[int, SpdyStream] = {}
        self.goaway_received = False
        self.is_closed = False
        self.done = asyncio.Event()
        self._ids = itertools.count(2 if server else 1, 2)
        self._ping_ids = itertools.count(2 if server else 1, 2)
        self._pings: dict[int, asyncio.Future[None]] = {}
        self._incoming: asyncio.Queue[SpdyStream | None] = asyncio.Queue()
        self._codec = spdy.HeaderCodec()
        self._parser = spdy.FrameParser()
        self._lock = asyncio.Lock()
        self._last_peer_id = 0

    # -- writing -------------------------------------------------------------------------

    async def send(self, frame: bytes) -> None:
        if self.is_closed:
            raise ConnectionResetError("SPDY connection closed")
        async with self._lock:
            await self.stream.write(frame)

    async def _send_with_headers(self, build: Callable[[spdy.HeaderCodec], bytes]) -> None:
        if self.is_closed:
            raise ConnectionResetError("SPDY connection closed")
        async with self._lock:  # compress and write in the same order
            await self.stream.write(build(self._codec))

    # -- public API ----------------------------------------------------------------------

    async def accept(self) -> SpdyStream | None:
        """The next stream the peer opened; None after GOAWAY or the connection's end."""
        item = await self._incoming.get()
        if item is None:
            self._incoming.put_nowait(None)
        return item

    async def open_stream(
        self, headers: dict[str, str], *, timeout: float = 30.0  # noqa: ASYNC109
    ) -> SpdyStream:
        """Open a stream and wait for the peer's SYN_REPLY."""
        sid = next(self._ids)
        st = SpdyStream(self, sid, {k.lower(): [v] for k, v in headers.items()})
        self.streams[sid] = st
        block = {k.lower(): [v] for k, v in headers.items()}
        await self._send_with_headers(lambda c: spdy.encode_syn_stream(c, sid, block))
        await asyncio.wait_for(st.replied.wait(), timeout)
        return st

    async def ping(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        pid = next(self._ping_ids)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pings[pid] = fut
        await self.send(spdy.encode_ping(pid))
        try:
            await asyncio.wait_for(fut, timeout)
        finally:
            self._pings.pop(pid, None)

    async def goaway(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self.send(spdy.encode_goaway(self._last_peer_id))

    async def close(self) -> None:
        """Close the byte stream; every stream sees EOF."""
        if not self.is_closed:
            self.is_closed = True
            await self.stream.close()
        self._finish()

    # -- reading -------------------------------------------------------------------------

    async def serve(self) -> None:
        """Read frames until the byte stream ends, dispatching them."""
        try:
            while True:
                chunk = await self.stream.read()
                if not chunk:
                    break
                for frame in self._parser.feed(chunk):
                    await self._dispatch(frame)
        except spdy.SpdyProtocolError as exc:
            log.debug("SPDY protocol error: %s", exc)
        except ConnectionError:
            pass
        finally:
            self.is_closed = True
            self._finish()

    def _finish(self) -> None:
        for st in self.streams.values():
            st._end()
            st.replied.set()
        for fut in self._pings.values():
            if not fut.done():
                fut.set_exception(ConnectionResetError("SPDY connection closed"))
        self._incoming.put_nowait(None)
        self.done.set()

    async def _dispatch(self, frame: spdy.Frame) -> None:
        if isinstance(frame, spdy.DataFrame):
            st = self.streams.get(frame.stream_id)
            if st is None:
                return
            st._feed(frame.data)
            if frame.fin:
                st._end()
            return
        t = frame.type
        if t == spdy.SYN_STREAM:
            await self._on_syn_stream(frame)
        elif t == spdy.SYN_REPLY:
            st = self.streams.get(frame.stream_id)
            if st is not None:
                st.reply_headers = frame.headers
                st.replied.set()
                if frame.fin:
                    st._end()
        elif t == spdy.RST_STREAM:
            st = self.streams.get(frame.stream_id)
            if st is not None:
                st.was_reset = True
                st.local_closed = True
                st._end()
        elif t == spdy.PING:
            fut = self._pings.get(frame.ping_id)
            if fut is not None:
                if not fut.done():
                    fut.set_result(None)
            else:
                await self.send(spdy.encode_ping(frame.ping_id))
        elif t == spdy.GOAWAY:
            self.goaway_received = True
            self._incoming.put_nowait(None)

    async def _on_syn_stream(self, frame: spdy.ControlFrame) -> None:
        sid = frame.stream_id
        if sid in self.streams or self.goaway_received:
            await self.send(spdy.encode_rst_stream(sid, spdy.PROTOCOL_ERROR))
            return
        self._last_peer_id = max(self._last_peer_id, sid)
        st = SpdyStream(self, sid, frame.headers)
        st.replied.set()
        self.streams[sid] = st
        await self._send_with_headers(lambda c: spdy.encode_syn_reply(c, sid, {}))
        if frame.fin:
            st._end()
        self._incoming.put_nowait(st)
