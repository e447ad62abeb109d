"""Waiting in async tests for something a user would see to become true."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from kubelite.api.errors import StatusError


async def eventually(fn: Callable[[], Awaitable[Any]], timeout: float = 10.0,  # noqa: ASYNC109
                     *, interval: float = 0.05) -> Any:
    """Await ``fn()`` every ``interval`` seconds until it returns something truthy
    (returned), treating assertion, lookup and API errors as "not yet"; fail after
    ``timeout`` seconds."""
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
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not reached; last value {last!r}")
