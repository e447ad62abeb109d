"""exec and attach sessions served over WebSocket channels or SPDY streams.

:func:`serve` joins a runtime :class:`~kubelite.runtime.protocol.StreamSession` to a
client transport (:class:`WebSocketIO` or :class:`SpdyIO`). Contracts:

- All stdout/stderr output is sent before the error-stream Status; the Status carries the
  exit code (``NonZeroExitCode``/``ExitCode`` cause) or a failure message.
- The client's stdin EOF (v5 close channel, or SPDY FIN) closes the process's stdin.
- If the client goes away first, the session is closed (exec: the process is killed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import WSMsgType, web

from kubelite.runtime.protocol import ByteReader, RuntimeServiceError, StreamSession
from kubelite.streaming import channel
from kubelite.streaming.channel import Size
from kubelite.streaming.spdy_session import SpdyConnection, SpdyStream

log = logging.getLogger(__name__)

OUTPUT_GRACE = 0.5  # seconds of silence after the exit before output is given up


@dataclass(frozen=True)
class Options:
    """What the client asked for (the query of /exec and /attach)."""

    stdin: bool = False
    stdout: bool = True
    stderr: bool = True
    tty: bool = False
    command: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, query: object) -> Options:
        get = getattr(query, "get")  # noqa: B009
        getall = getattr(query, "getall")  # noqa: B009

        def flag(name: str) -> bool:
            return str(get(name, "")).lower() in ("true", "1")

        tty = flag("tty")
        return cls(stdin=flag("stdin"), stdout=flag("stdout"),
                   stderr=flag("stderr") and not tty, tty=tty,
                   command=tuple(getall("command", [])))


class ClientIO(Protocol):
    """The client side of a session, whatever carries it."""

    stdin: ByteReader | None
    resizes: asyncio.Queue[Size]
    gone: asyncio.Event

    async def write_stdout(self, data: bytes) -> None: ...

    async def write_stderr(self, data: bytes) -> None: ...

    async def finish(self, status: bytes) -> None:
        """Send the error-stream Status, then end the session's streams."""
        ...


class _Inbox:
    """A ByteReader fed by a transport's reader task."""

    def __init__(self) -> None:
        self._q: asyncio.Queue[bytes] = asyncio.Queue()
        self._eof = False

    def feed(self, data: bytes) -> None:
        if data and not self._eof:
            self._q.put_nowait(data)

    def feed_eof(self) -> None:
        if not self._eof:
            self._eof = True
            self._q.put_nowait(b"")

    async def read(self, n: int = -1) -> bytes:
        chunk = await self._q.get()
        if not chunk:
            self._q.put_nowait(b"")
        return chunk


# --------------------------------------------------------------------------- WebSocket


class WebSocketIO:
    """Channels over an accepted aiohttp WebSocket (``v4``/``v5.channel.k8s.io``).

    Client messages may be binary or text (see :mod:`.channel`); stdin, resize and the v5
    close of stdin are honoured, other channels ignored.
    """

    def __init__(self, ws: web.WebSocketResponse, opts: Options) -> None:
        self.ws = ws
        self.v5 = ws.ws_protocol == channel.V5
        self._stdin = _Inbox()
        self.stdin: ByteReader | None = self._stdin if opts.stdin else None
        self.resizes: asyncio.Queue[Size] = asyncio.Queue()
        self.gone = asyncio.Event()
        self._resize_buf = bytearray()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            while True:
                msg = await self.ws.receive()
                if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED,
                                WSMsgType.ERROR):
                    break
                decoded = channel.decode_message(msg.type == WSMsgType.TEXT, msg.data) \
                    if msg.type in (WSMsgType.BINARY, WSMsgType.TEXT) else None
                if decoded is None:
                    continue
                ch, payload = decoded
                if ch == channel.STDIN:
                    self._stdin.feed(payload)
                elif ch == channel.RESIZE:
                    self._resize_buf += payload + b"\n"
                    for size in channel.parse_resizes(self._resize_buf):
                        self.resizes.put_nowait(size)
                elif ch == channel.CLOSE and self.v5 and payload[:1] == bytes((channel.STDIN,)):
                    self._stdin.feed_eof()
        finally:
            self._stdin.feed_eof()
            self.gone.set()

    async def _send(self, ch: int, data: bytes) -> None:
        if not self.ws.closed:
            await self.ws.send_bytes(channel.frame(ch, data))

    async def write_stdout(self, data: bytes) -> None:
        await self._send(channel.STDOUT, data)

    async def write_stderr(self, data: bytes) -> None:
        await self._send(channel.STDERR, data)

    async def finish(self, status: bytes) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._send(channel.ERROR, status)
        with contextlib.suppress(Exception):
            await self.ws.close(code=1000)
        self._reader.cancel()


# --------------------------------------------------------------------------- SPDY


class SpdyIO:
    """Streams of a SPDY connection, one per ``streamtype``."""

    def __init__(self, conn: SpdyConnection, streams: dict[str, SpdyStream]) -> None:
        self.conn = conn
        self.streams = streams
        self.stdin: ByteReader | None = _StreamReader(streams["stdin"]) \
            if "stdin" in streams else None
        self.resizes: asyncio.Queue[Size] = asyncio.Queue()
        self.gone = conn.done
        self._resize_task: asyncio.Task[None] | None = None
        if "resize" in streams:
            self._resize_task = asyncio.create_task(self._read_resizes(streams["resize"]))

    @classmethod
    async def accept(
        cls, conn: SpdyConnection, opts: Options, timeout: float = 30.0  # noqa: ASYNC109
    ) -> SpdyIO:
        """Wait for the streams ``opts`` implies (error, stdin, stdout, stderr, resize)."""
        expected = {"error"}
        if opts.stdin:
            expected.add("stdin")
        if opts.stdout:
            expected.add("stdout")
        if opts.stderr:
            expected.add("stderr")
        if opts.tty:
            expected.add("resize")
        streams: dict[str, SpdyStream] = {}

        async def collect() -> None:
            while not expected <= streams.keys():
                st = await conn.accept()
                if st is None:
                    raise ConnectionResetError("connection closed before streams were created")
                streams[st.header("streamtype")] = st

        await asyncio.wait_for(collect(), timeout)
        return cls(conn, streams)

    async def _read_resizes(self, st: SpdyStream) -> None:
        buf = bytearray()
        while chunk := await st.read():
            buf += chunk
            for size in channel.parse_resizes(buf):
                self.resizes.put_nowait(size)

    async def _write(self, name: str, data: bytes) -> None:
        st = self.streams.get(name)
        if st is not None and not st.local_closed:
            await st.write(data)

    async def write_stdout(self, data: bytes) -> None:
        await self._write("stdout", data)

    async def write_stderr(self, data: bytes) -> None:
        await self._write("stderr", data)

    async def finish(self, status: bytes) -> None:
        with contextlib.suppress(ConnectionError):
            err = self.streams["error"]
            await err.write(status)
            await err.close()
            for name in ("stdout", "stderr"):
                if name in self.streams:
                    await self.streams[name].close()
        if self._resize_task is not None:
            self._resize_task.cancel()
        # Let the client read everything and hang up first; then close anyway.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.conn.done.wait(), 2.0)
        await self.conn.close()


class _StreamReader:
    def __init__(self, st: SpdyStream) -> None:
        self._st = st

    async def read(self, n: int = -1) -> bytes:
        return await self._st.read()


# --------------------------------------------------------------------------- the session


async def _pump_out(src: ByteReader | None, write: Callable[[bytes], Awaitable[None]]) -> None:
    if src is None:
        return
    while chunk := await src.read(65536):
        with contextlib.suppress(ConnectionError, RuntimeError):
            await write(chunk)


async def _pump_in(io: ClientIO, session: StreamSession) -> None:
    if io.stdin is None or session.stdin is None:
        return
    sink = session.stdin
    try:
        while chunk := await io.stdin.read(65536):
            sink.write(chunk)
            await sink.drain()
    except (ConnectionError, BrokenPipeError):
        return
    finally:
        with contextlib.suppress(Exception):
            sink.close()


async def _pump_resize(io: ClientIO, session: StreamSession) -> None:
    while True:
        size = await io.resizes.get()
        if session.tty:
            with contextlib.suppress(RuntimeServiceError):
                await session.resize(size.width, size.height)


async def serve(open_session: Callable[[], Awaitable[StreamSession]], io: ClientIO,
                command: tuple[str, ...] = ()) -> int | None:
    """Run one exec/attach session to its end; the exit code, or None if none was had."""
    try:
        session = await open_session()
    except RuntimeServiceError as exc:
        await io.finish(channel.failure_status(str(exc)))
        return None
    helpers = [asyncio.create_task(_pump_in(io, session)),
               asyncio.create_task(_pump_resize(io, session))]
    progress = [0]

    async def counted(write: Callable[[bytes], Awaitable[None]], data: bytes) -> None:
        progress[0] += len(data)
        await write(data)

    async def run() -> int:
        pumps = asyncio.gather(
            _pump_out(session.stdout, lambda d: counted(io.write_stdout, d)),
            _pump_out(session.stderr, lambda d: counted(io.write_stderr, d)))
        try:
            code = await session.wait()
            # Output normally ends with the process; a stream kept open by someone
            # else (attach, a background child) is given up once it goes quiet.
            while True:
                seen = progress[0]
                done, _ = await asyncio.wait([pumps], timeout=OUTPUT_GRACE)
                if done or progress[0] == seen:
                    return code
        finally:
            pumps.cancel()
            await asyncio.wait([pumps])
            if not pumps.cancelled():
                pumps.exception()

    finished: asyncio.Task[int] = asyncio.create_task(run())
    gone: asyncio.Task[bool] = asyncio.create_task(io.gone.wait())
    try:
        await asyncio.wait([finished, gone], return_when=asyncio.FIRST_COMPLETED)
        if not finished.done():
            finished.cancel()
            with contextlib.suppress(BaseException):
                await finished
            return None
        code = finished.result()
        await io.finish(channel.exit_status(code, command))
        return code
    except RuntimeServiceError as exc:
        await io.finish(channel.failure_status(str(exc)))
        return None
    finally:
        gone.cancel()
        for t in helpers:
            t.cancel()
        with contextlib.suppress(Exception):
            await session.close()
