"""Reading CRI log files: parsing, timestamps, tail, limits, since, follow with rotation."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from kubelite.kubelet import crilog
from kubelite.testing.waiting import eventually

LINES = (
    "2024-01-01T00:00:00.000000000+00:00 stdout F one\n"
    "2024-01-01T00:00:01.500000000+00:00 stderr F two\n"
    "2024-01-01T00:00:02.123456789Z stdout P par\n"
    "2024-01-01T00:00:02.223456789Z stdout F tial\n"
)


async def collect(path: Path, opts: crilog.LogOptions) -> bytes:
    return b"".join([c async for c in crilog.read_logs(str(path), opts)])


def test_stamps_in_go_rfc3339nano_form() -> None:
    assert crilog.format_stamp(b"2024-01-01T00:00:01.500000000+00:00") == (
        datetime(2024, 1, 1, 0, 0, 1, 500000, tzinfo=UTC), b"2024-01-01T00:00:01.5Z")
    parsed = crilog.format_stamp(b"2024-01-01T02:00:00.000000000+02:00")
    assert parsed is not None
    assert parsed == (datetime(2024, 1, 1, 0, 0, tzinfo=UTC), b"2024-01-01T02:00:00+02:00")
    assert crilog.format_stamp(b"yesterday") is None


async def test_plain_timestamps_tail_and_limit(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    log.write_text("garbage line\n" + LINES)
    assert await collect(log, crilog.LogOptions()) == b"one\ntwo\npartial\n"
    stamped = await collect(log, crilog.LogOptions(timestamps=True, tail_lines=3))
    assert stamped == (b"2024-01-01T00:00:01.5Z two\n2024-01-01T00:00:02.123456789Z par"
                       b"2024-01-01T00:00:02.223456789Z tial\n")
    assert await collect(log, crilog.LogOptions(limit_bytes=6)) == b"one\ntw"
    assert await collect(log, crilog.LogOptions(tail_lines=0)) == b""
    since = datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert await collect(log, crilog.LogOptions(since=since)) == b"two\npartial\n"
    assert await collect(tmp_path / "missing.log", crilog.LogOptions()) == b""


async def test_follow_reopens_after_rotation_and_ends_when_stopped(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    log.write_text("2024-01-01T00:00:00.000000000+00:00 stdout F before\n")
    running = True

    async def still_running() -> bool:
        return running

    out: list[bytes] = []

    async def follow() -> None:
        async for chunk in crilog.read_logs(str(log), crilog.LogOptions(follow=True),
                                            still_running):
            out.append(chunk)

    def read_so_far(text: bytes) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return b"".join(out).endswith(text)
        return check

    task = asyncio.create_task(follow())
    await eventually(read_so_far(b"before\n"))
    with log.open("a") as f:
        f.write("2024-01-01T00:00:01.000000000+00:00 stdout F appended\n")
    await eventually(read_so_far(b"appended\n"))
    os.rename(log, tmp_path / "0.log.1")  # rotation: a new file under the same name
    log.write_text("2024-01-01T00:00:02.000000000+00:00 stdout F rotated\n")
    await eventually(read_so_far(b"rotated\n"))
    running = False
    await asyncio.wait_for(task, 5)
    assert b"".join(out) == b"before\nappended\nrotated\n"
