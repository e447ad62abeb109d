"""Blocking-socket helpers for tests that drive clients' forwarded sockets."""

from __future__ import annotations

import select
import socket


def read_until_eof(sock: socket.socket, timeout: float = 20.0) -> bytes:
    """Everything ``sock`` delivers until its peer closes; AssertionError if any wait for
    more data lasts over ``timeout`` seconds."""
    data = b""
    while True:
        ready, _, _ = select.select([sock], [], [], timeout)
        assert ready, f"no EOF within {timeout}s after {data!r}"
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
