"""Reading CRI-format container logs, as the kubelet serves them to ``kubectl logs``.

A CRI log line is ``<RFC3339Nano time> <stdout|stderr> <F|P> <text>``; ``P`` marks a
partial line continued by the next record. conmon writes the offset ``+00:00``; ``Z`` is
accepted too. Output is the text (a newline after ``F`` records); with ``timestamps`` each
record is prefixed by its time in Go's RFC3339Nano form (``Z`` for UTC, trailing zeros of
the fraction dropped). ``tail_lines`` counts records, ``limit_bytes`` cuts the output at
exactly that many bytes, ``since`` drops older records.

Following survives rotation: when the path names another file (or the file shrank), the
reader finishes the old file and reopens the path from its start. Following ends when
``still_running`` says the container stopped and the file has no more bytes.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_TS = re.compile(
    rb"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$"
)
POLL_INTERVAL = 0.1


@dataclass(frozen=True)
class LogOptions:
    follow: bool = False
    tail_lines: int | None = None
    timestamps: bool = False
    since: datetime | None = None
    limit_bytes: int | None = None


@dataclass(frozen=True)
class Record:
    time: datetime  # to the microsecond, for `since`
    stamp: bytes  # the time in RFC3339Nano output form
    stream: bytes
    partial: bool
    text: bytes


def format_stamp(raw: bytes) -> tuple[datetime, bytes] | None:
    """Parse a CRI timestamp; (time, Go RFC3339Nano text) or None if malformed."""
    m = _TS.match(raw)
    if m is None:
        return None
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    frac = (m.group(7) or b"").decode()
    zone = m.group(8).decode()
    if zone in ("Z", "+00:00", "-00:00"):
        offset = timedelta(0)
        zone_out = "Z"
    else:
        sign = 1 if zone[0] == "+" else -1
        offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        zone_out = zone
    try:
        t = datetime(y, mo, d, h, mi, s, int((frac + "000000")[:6]), tzinfo=UTC) - offset
    except ValueError:
        return None
    frac_out = frac.rstrip("0")
    text = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"
    if frac_out:
        text += "." + frac_out
    return t, (text + zone_out).encode()


def parse_record(line: bytes) -> Record | None:
    """One CRI line (without its newline); None if it is not CRI format."""
    parts = line.split(b" ", 3)
    if len(parts) < 3:
        return None
    parsed = format_stamp(parts[0])
    if parsed is None:
        return None
    tag = parts[2].split(b":")[0]
    return Record(parsed[0], parsed[1], parts[1], tag == b"P", parts[3] if len(parts) > 3 else b"")


def render(record: Record, timestamps: bool) -> bytes:
    out = record.text if record.partial else record.text + b"\n"
    return record.stamp + b" " + out if timestamps else out


class _File:
    """An open log file and the inode it was opened at (blocking calls: run in a thread)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.f = open(path, "rb")
        self.ino = os.fstat(self.f.fileno()).st_ino
        self.pending = b""

    def read_lines(self) -> list[bytes]:
        data = self.pending + self.f.read()
        lines = data.split(b"\n")
        self.pending = lines.pop()
        return lines

    def replaced(self) -> bool:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False  # being rotated: keep reading the old file
        return st.st_ino != self.ino or st.st_size < self.f.tell()

    def close(self) -> None:
        self.f.close()


def _tail(lines: list[bytes], n: int | None) -> list[bytes]:
    if n is None or n < 0:
        return lines
    return lines[-n:] if n else []


async def read_logs(
    path: str, opts: LogOptions, still_running: Callable[[], Awaitable[bool]] | None = None
) -> AsyncIterator[bytes]:
    """Yield log output chunks for ``path`` (a missing file is an empty log)."""
    budget = opts.limit_bytes if opts.limit_bytes and opts.limit_bytes > 0 else None

    def emit(lines: list[bytes]) -> bytes:
        out = bytearray()
        for line in lines:
            rec = parse_record(line)
            if rec is None or (opts.since is not None and rec.time < opts.since):
                continue
            out += render(rec, opts.timestamps)
        return bytes(out)

    try:
        current = await asyncio.to_thread(_File, path)
    except FileNotFoundError:
        current = None
    def trim(chunk: bytes) -> bytes:
        nonlocal budget
        if budget is not None:
            chunk = chunk[:budget]
            budget -= len(chunk)
        return chunk

    try:
        first = True
        while True:
            lines: list[bytes] = []
            if current is not None:
                lines = await asyncio.to_thread(current.read_lines)
                if first:
                    lines = _tail(lines, opts.tail_lines)
            first = False
            chunk = trim(emit(lines))
            if chunk:
                yield chunk
            if budget == 0 or not opts.follow:
                return
            if current is not None and await asyncio.to_thread(current.replaced):
                chunk = trim(emit(await asyncio.to_thread(current.read_lines)))
                if chunk:
                    yield chunk
                current.close()
                current = await asyncio.to_thread(_File, path)
                continue
            if current is None and await asyncio.to_thread(os.path.exists, path):
                current = await asyncio.to_thread(_File, path)
                continue
            if lines:
                continue
            if still_running is not None and not await still_running():
                if current is not None:
                    chunk = trim(emit(await asyncio.to_thread(current.read_lines)))
                    if chunk:
                        yield chunk
                return
            await asyncio.sleep(POLL_INTERVAL)
    finally:
        if current is not None:
            current.close()
