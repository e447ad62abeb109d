"""Per-key exponential back-off (``flowcontrol.Backoff``) for container restarts and pulls.

Contract: the first failure of a key is retried at once; each later one waits twice as
long as the previous wait (``initial`` to ``maximum``). A key left alone for
``2 * maximum`` (10 minutes by default) starts over. Time comes from the injected clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kubelite.api.meta_time import Clock, utcnow

INITIAL = 10.0
MAXIMUM = 300.0


@dataclass
class _Entry:
    delay: float
    last_update: datetime


class Backoff:
    def __init__(self, initial: float = INITIAL, maximum: float = MAXIMUM,
                 clock: Clock = utcnow) -> None:
        self.initial = initial
        self.maximum = maximum
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def delay(self, key: str) -> float:
        """The current wait for ``key`` (0 when it has none)."""
        e = self._entries.get(key)
        return e.delay if e else 0.0

    def next(self, key: str) -> float:
        """Record a retry now; return the wait the following retry will need."""
        now = self.clock()
        e = self._entries.get(key)
        if e is None or self._expired(e, now):
            self._entries[key] = _Entry(self.initial, now)
        else:
            e.delay = min(e.delay * 2, self.maximum)
            e.last_update = now
        return self._entries[key].delay

    def in_backoff_since(self, key: str, event: datetime) -> bool:
        """True while less than the current wait has passed since ``event``."""
        e = self._entries.get(key)
        if e is None:
            return False
        now = self.clock()
        if self._expired(e, now):
            return False
        return (now - event).total_seconds() < e.delay

    def remaining(self, key: str, event: datetime) -> float:
        e = self._entries.get(key)
        if e is None:
            return 0.0
        return max(0.0, e.delay - (self.clock() - event).total_seconds())

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def gc(self) -> None:
        now = self.clock()
        for k in [k for k, e in self._entries.items() if self._expired(e, now)]:
            del self._entries[k]

    def _expired(self, e: _Entry, now: datetime) -> bool:
        return (now - e.last_update).total_seconds() > 2 * self.maximum
