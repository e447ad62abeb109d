"""Interactive streams: exec (runc exec, pipes or a pty) and attach (conmon's socket)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import signal
import socket
import struct
import termios
from collections.abc import Awaitable, Callable

from kubelite.aio import tasks as aiotasks
from kubelite.runtime.protocol import ByteReader, ByteWriter, ExecError

STDOUT_PIPE = 2  # conmon's attach socket: the first byte of each message names the stream
STDERR_PIPE = 3
ATTACH_BUF = 8192 + 1


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class FdReader:
    """Non-blocking reads from a file descriptor (a pty master); EIO counts as EOF."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)

    async def read(self, n: int = -1) -> bytes:
        size = 65536 if n is None or n < 0 else n
        loop = asyncio.get_running_loop()
        while True:
            try:
                return os.read(self.fd, size)
            except BlockingIOError:
                fut: asyncio.Future[None] = loop.create_future()
                loop.add_reader(self.fd, _wake, fut)
                try:
                    await fut
                finally:
                    loop.remove_reader(self.fd)
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EBADF):
                    return b""
                raise


class FdWriter:
    """Writes to a file descriptor; ``drain`` flushes what did not fit."""

    def __init__(self, fd: int, on_close: Callable[[], None] | None = None) -> None:
        self.fd = fd
        self._buf = bytearray()
        self._on_close = on_close
        os.set_blocking(fd, False)

    def write(self, data: bytes) -> None:
        self._buf += data
        self._flush()

    def _flush(self) -> None:
        while self._buf:
            try:
                n = os.write(self.fd, self._buf)
            except BlockingIOError:
                return
            del self._buf[:n]

    async def drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._buf:
            fut: asyncio.Future[None] = loop.create_future()
            loop.add_writer(self.fd, _wake, fut)
            try:
                await fut
            finally:
                loop.remove_writer(self.fd)
            self._flush()

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()


class QueueReader:
    """A ByteReader fed by a background task."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._pending = b""
        self._eof = False

    def feed(self, data: bytes) -> None:
        self._queue.put_nowait(data)

    def feed_eof(self) -> None:
        self._queue.put_nowait(b"")

    async def read(self, n: int = -1) -> bytes:
        if not self._pending:
            if self._eof:
                return b""
            self._pending = await self._queue.get()
            if not self._pending:
                self._eof = True
                return b""
        if n is None or n < 0:
            out, self._pending = self._pending, b""
        else:
            out, self._pending = self._pending[:n], self._pending[n:]
        return out


class ExecSession:
    """A running ``runc exec``. With a tty, stdout carries the pty (stderr is None)."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        *,
        tty: bool,
        master: int | None = None,
        want_stdin: bool = False,
    ) -> None:
        self.proc = proc
        self.tty = tty
        self._master = master
        self.stdin: ByteWriter | None
        self.stdout: ByteReader | None
        self.stderr: ByteReader | None
        if master is not None:
            self.stdout = FdReader(master)
            self.stdin = FdWriter(os.dup(master)) if want_stdin else None
            self.stderr = None
        else:
            self.stdin = proc.stdin
            self.stdout = proc.stdout
            self.stderr = proc.stderr

    async def resize(self, width: int, height: int) -> None:
        if self._master is not None:
            winsz = struct.pack("HHHH", height, width, 0, 0)
            fcntl.ioctl(self._master, termios.TIOCSWINSZ, winsz)
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGWINCH)

    async def wait(self) -> int:
        return await self.proc.wait()

    async def close(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()
        if self._master is not None:
            with contextlib.suppress(OSError):
                os.close(self._master)
            self._master = None


async def start_exec(
    argv: list[str], *, tty: bool, stdin: bool, stdout: bool, stderr: bool
) -> ExecSession:
    """Start ``argv`` (a runc exec command line without --tty/--console-socket)."""
    if not tty:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if stdout else asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE if stderr else asyncio.subprocess.DEVNULL,
        )
        return ExecSession(proc, tty=False)
    # runc allocates the container's pty and copies between it and its own stdio, which
    # is a pty of ours (runc puts it in raw mode and forwards SIGWINCH as resizes).
    master, slave = os.openpty()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv[:argv.index("exec") + 1], "--tty", *argv[argv.index("exec") + 1:],
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
        )
    except OSError as exc:
        os.close(master)
        raise ExecError(f"exec with a tty failed: {exc}") from exc
    finally:
        os.close(slave)
    return ExecSession(proc, tty=True, master=master, want_stdin=stdin)


class AttachSession:
    """Attached to a container's main process through conmon's attach socket."""

    def __init__(
        self,
        sock: socket.socket,
        *,
        tty: bool,
        stdin: bool,
        ctl_path: str,
        wait_exit: Callable[[], Awaitable[int]],
    ) -> None:
        self.tty = tty
        self._sock = sock
        self._ctl = ctl_path
        self._wait_exit = wait_exit
        out = QueueReader()
        err = QueueReader()
        self.stdout: ByteReader | None = out
        self.stderr: ByteReader | None = None if tty else err
        self.stdin: ByteWriter | None = _SocketWriter(sock) if stdin else None
        self._task = aiotasks.guarded(self._pump(out, err), "attach-pump")

    async def _pump(self, out: QueueReader, err: QueueReader) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                msg = await loop.sock_recv(self._sock, ATTACH_BUF)
                if not msg:
                    break
                (err if msg[0] == STDERR_PIPE else out).feed(msg[1:])
        except OSError:
            pass
        finally:
            out.feed_eof()
            err.feed_eof()

    async def resize(self, width: int, height: int) -> None:
        await asyncio.to_thread(_write_ctl, self._ctl, f"1 {height} {width}\n")

    async def wait(self) -> int:
        return await self._wait_exit()

    async def close(self) -> None:
        await aiotasks.stop([self._task])
        self._sock.close()


class _SocketWriter:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        self._pending.append(data)

    async def drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            await loop.sock_sendall(self._sock, self._pending.pop(0))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_WR)


def connect_attach(bundle: str) -> socket.socket:
    """Connect to conmon's attach socket in the bundle (path-length safe)."""
    fd = os.open(os.path.join(bundle, "attach"), os.O_PATH | os.O_CLOEXEC)
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sock.connect(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)
    sock.setblocking(False)
    return sock


def _write_ctl(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


write_ctl = _write_ctl
