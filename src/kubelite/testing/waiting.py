"""Waiting in async tests for something a user would see to become true."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from kubelite.api.errors import StatusError


async def eventually(fn: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:  # noqa: ASYNC109
    """Await ``fn()`` every 50 ms until it returns something truthy (returned), treating
    assertion, lookup and API errors as "not yet"; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        try:
            last = await fn()
            if last:
                return last
        except (AssertionError, KeyError, IndexError, StatusError):
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not reached; last value {last!r}")
