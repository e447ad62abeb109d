"""Slow and abusive clients at the socket level: read deadlines, the per-client cap,
parser errors as Status, no Server header, back-pressure when out of descriptors."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import resource
import socket
import ssl
import time
from pathlib import Path

import pytest

from kubelite.apiserver.app import APIServer, ServingConfig
from kubelite.apiserver.auth import TokenFile
from kubelite.apiserver.pki import ensure_pki
from kubelite.apiserver.serving import ConnectionLimits, Listener, RateLimitedLog
from kubelite.testing.inprocess import in_process_api
from kubelite.testing.memory_store import MemoryStore

FAST = ConnectionLimits(tls_handshake_timeout=0.5, header_timeout=0.5, body_timeout=0.5,
                        idle_timeout=5.0, max_per_loopback=8)


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> float:
    """Seconds until the server closed the connection (read returns EOF or resets)."""
    start = time.monotonic()
    try:
        while await asyncio.wait_for(reader.read(4096), seconds):
            pass
    except ConnectionResetError:
        pass
    return time.monotonic() - start


async def trickle(writer: asyncio.StreamWriter, data: bytes, every: float) -> None:
    try:
        for i in range(len(data)):
            writer.write(data[i:i + 1])
            await writer.drain()
            await asyncio.sleep(every)
    except (ConnectionError, OSError):
        pass


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def test_headers_sent_byte_by_byte_are_cut_at_the_header_timeout() -> None:
    async with in_process_api(limits=FAST) as api:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(api.url))
        sender = asyncio.create_task(trickle(
            writer, b"GET /api HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200, 0.05))
        assert await closed_within(reader, 3) < 1.5
        sender.cancel()
        writer.close()


async def test_a_connection_that_sends_nothing_is_closed() -> None:
    async with in_process_api(limits=FAST) as api:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(api.url))
        assert await closed_within(reader, 3) < 1.5
        writer.close()


async def test_a_body_sent_byte_by_byte_is_cut_at_the_body_timeout() -> None:
    async with in_process_api(limits=FAST) as api:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(api.url))
        writer.write(b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer test-admin-token\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n")
        sender = asyncio.create_task(trickle(writer, b"{" + b" " * 499, 0.05))
        assert await closed_within(reader, 3) < 1.5
        sender.cancel()
        writer.close()
        async with api.http.get("/api/v1/namespaces/default/configmaps") as r:
            assert (await r.json())["items"] == []


async def test_keep_alive_requests_are_not_cut_by_the_header_timeout() -> None:
    """The header deadline runs from a request's first byte, not from the connection."""
    async with in_process_api(limits=FAST) as api:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(api.url))
        for _ in range(3):
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
            assert head.startswith(b"HTTP/1.1 200")
            assert b"\r\nserver:" not in head.lower()
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            await asyncio.sleep(0.8)  # longer than the header timeout, shorter than idle
        writer.close()


async def test_connections_over_the_per_client_cap_are_closed_at_once() -> None:
    async with in_process_api(limits=ConnectionLimits(
            header_timeout=30, max_per_loopback=5)) as api:
        port = port_of(api.url)
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(5)]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await closed_within(reader, 2) < 1
        writer.close()
        _, w0 = held.pop()
        w0.close()
        await w0.wait_closed()

        async def version_answers() -> bool:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = await asyncio.wait_for(r.read(), 2)
            w.close()
            return data.startswith(b"HTTP/1.1 200")
        deadline = time.monotonic() + 3
        while not await version_answers():  # the freed slot is released once lost
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        for _, w in held:
            w.close()


async def test_malformed_http_is_a_status_400_without_echo() -> None:
    async with in_process_api(limits=FAST) as api:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(api.url))
        writer.write(b"GET /api HTTP/1.1\r\nHost: x\r\nBad<script>Header\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), 3)
        writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith((b"HTTP/1.1 400", b"HTTP/1.0 400"))
        assert b"application/json" in head and b"\r\nserver:" not in head.lower()
        status = json.loads(body)
        assert status["kind"] == "Status" and status["code"] == 400
        assert status["reason"] == "BadRequest"
        assert b"script" not in body


async def test_a_tls_handshake_that_never_comes_is_cut(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "tls")
    store = MemoryStore()
    await store.start()
    api = APIServer(store, TokenFile(tmp_path / "tokens.csv"),
                    ServingConfig("127.0.0.1", 0, pki, FAST))
    await api.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
        writer.write(b"\x16\x03\x01")  # the start of a ClientHello, then nothing
        assert await closed_within(reader, 3) < 1.5
        writer.close()
        ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
        r, w = await asyncio.open_connection("127.0.0.1", api.port, ssl=ctx)
        w.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert (await asyncio.wait_for(r.read(), 3)).startswith(b"HTTP/1.1 200")
        w.close()
        assert api.site is not None and api.site.listener is not None
        assert sum(api.site.listener.per_client.values()) <= 1
    finally:
        await api.stop()
        await store.close()


class _ExhaustedSocket:
    """A listening socket whose accept() fails with EMFILE ``failures`` times."""

    def __init__(self, failures: int) -> None:
        self.real = socket.socket()
        self.real.bind(("127.0.0.1", 0))
        self.real.listen()
        self.failures = failures
        self.calls = 0

    def setblocking(self, flag: bool) -> None:
        self.real.setblocking(flag)

    def fileno(self) -> int:
        return self.real.fileno()

    def accept(self) -> tuple[socket.socket, object]:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise OSError(errno.EMFILE, "Too many open files")
        return self.real.accept()

    def close(self) -> None:
        self.real.close()


async def test_out_of_descriptors_pauses_accepting_and_logs_once(
        caplog: pytest.LogCaptureFixture) -> None:
    sock = _ExhaustedSocket(failures=20)
    accepted = asyncio.Event()

    class Proto(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.set()
            transport.close()

    listener = Listener(sock, lambda release: Proto(), None,  # type: ignore[arg-type]
                        ConnectionLimits(accept_pause=0.05, log_interval=60))
    caplog.set_level(logging.WARNING, "kubelite.apiserver.serving")
    listener.start()
    try:
        client = socket.create_connection(sock.real.getsockname())
        await asyncio.wait_for(accepted.wait(), 5)
        client.close()
        # one failed accept per pause, not a busy loop; one log line for all of them
        assert sock.calls <= 22
        assert len([r for r in caplog.records if "accept() failed" in r.message]) == 1
    finally:
        listener.close()


def test_rate_limited_log_counts_what_it_dropped(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    limited = RateLimitedLog(10, clock=lambda: now[0])
    caplog.set_level(logging.WARNING, "kubelite.apiserver.serving")
    for _ in range(100):
        limited.warning("boom")
    now[0] = 11
    limited.warning("boom")
    assert [r.getMessage() for r in caplog.records] == [
        "boom", "boom (99 similar messages suppressed)"]


async def test_running_out_of_descriptors_backs_off_and_recovers(
        caplog: pytest.LogCaptureFixture) -> None:
    """With the process at its descriptor limit, accept() fails: the server logs it once
    and pauses instead of spinning, then serves again once descriptors are free."""
    caplog.set_level(logging.WARNING, "kubelite.apiserver.serving")
    async with in_process_api(limits=ConnectionLimits(
            header_timeout=30, accept_pause=0.05, log_interval=60)) as api:
        port = port_of(api.url)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        in_use = len(os.listdir("/proc/self/fd"))
        clients: list[socket.socket] = []
        resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + 40, hard))
        try:
            for _ in range(60):  # the kernel queues them; the server cannot take them all
                try:
                    c = socket.socket()
                    c.setblocking(False)
                    c.connect_ex(("127.0.0.1", port))
                    clients.append(c)
                except OSError:
                    break
            await asyncio.sleep(1.0)
        finally:
            for c in clients:
                c.close()
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        failures = [r for r in caplog.records if "accept() failed" in r.getMessage()]
        assert len(failures) == 1, [r.getMessage() for r in caplog.records]
        async with api.http.get("/healthz") as r:
            assert r.status == 200


def test_the_soft_descriptor_limit_is_raised_to_the_hard_one() -> None:
    import subprocess
    import sys
    code = ("import resource\n"
            "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))\n"
            "from kubelite.apiserver.serving import raise_fd_limit\n"
            "print(raise_fd_limit() == (hard, hard))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(
                             Path(__file__).parents[3] / "src")})
    assert out.stdout.strip() == "True", out.stderr
