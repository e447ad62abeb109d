"""Supervised background tasks (as kopf's ``aiotasks``): start with :func:`guarded`,
end with :func:`stop`.

Contract:
- a guarded task that raises is logged once, with its name and traceback; with a
  ``restart`` policy it is started again after an exponential back-off (reset by a run
  that lasted longer than the cap), without one it ends with that error, which
  :func:`stop` raises: a dead loop brings its component down loudly, never silently;
- a guarded task that returns is done (loops that should run forever never return);
- :func:`stop` cancels every task not yet done, waits for all of them, and raises the first
  error one ended with (cancellation is not an error). Callers never cancel-and-await by hand.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from kubelite.aio.clock import REAL, Clock

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Restart:
    """Restart a task that died after ``initial * 2**n`` seconds, at most ``maximum``."""

    initial: float = 0.1
    maximum: float = 10.0


def guarded(work: Coroutine[Any, Any, T] | Callable[[], Awaitable[T]], name: str, *,
            restart: Restart | None = None, clock: Clock = REAL) -> asyncio.Task[T]:
    """Start ``work`` as a named task whose death is logged (and, with ``restart``, undone).

    ``work`` is a coroutine, or a function that makes one (needed for ``restart``)."""
    if restart is not None and not callable(work):
        raise TypeError(f"{name}: a restarted task needs a function, not a coroutine")
    if restart is None:
        coro = work if not callable(work) else _as_coroutine(work)
        return asyncio.get_running_loop().create_task(_logged(coro, name), name=name)
    assert callable(work)
    return asyncio.get_running_loop().create_task(
        _restarting(work, name, restart, clock), name=name)


async def stop(tasks: Iterable[asyncio.Task[Any] | None], *,
               errors: Literal["raise", "ignore"] = "raise") -> None:
    """Cancel ``tasks``, wait for every one, raise the first error one ended with (with
    ``errors="ignore"``: for one-shot helpers whose failure the caller has already seen,
    such as the two pumps of a proxied connection)."""
    pending = [t for t in tasks if t is not None]
    for t in pending:
        t.cancel()
    results = await asyncio.gather(*pending, return_exceptions=True)
    for r in results:
        if isinstance(r, Exception) and errors == "raise":
            raise r


async def _as_coroutine(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


async def _logged(coro: Coroutine[Any, Any, T], name: str) -> T:
    try:
        return await coro
    except Exception:
        log.exception("background task %s died", name)
        raise


async def _restarting(work: Callable[[], Awaitable[T]], name: str, policy: Restart,
                      clock: Clock) -> T:
    delay = policy.initial
    while True:
        began = clock.monotonic()
        try:
            return await work()
        except Exception:
            if clock.monotonic() - began > policy.maximum:
                delay = policy.initial
            log.exception("background task %s died; restarting in %.1fs", name, delay)
        await clock.sleep(delay)
        delay = min(delay * 2, policy.maximum)
