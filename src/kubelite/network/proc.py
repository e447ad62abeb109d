"""Run a helper program without blocking the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence


async def run(
    argv: Sequence[str],
    *,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,  # noqa: ASYNC109
) -> tuple[int, bytes, bytes]:
    """(exit code, stdout, stderr) of argv; a missing program gives code 127."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env) if env is not None else None,
        )
    except FileNotFoundError as exc:
        return 127, b"", str(exc).encode()
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return -9, b"", f"{argv[0]} timed out after {timeout}s".encode()
    assert proc.returncode is not None
    return proc.returncode, out, err
