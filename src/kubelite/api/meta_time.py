"""Time as the API writes it: RFC 3339 in UTC, seconds precision, and a clock seam."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """The real clock (aware, UTC)."""
    return dt.datetime.now(dt.UTC)


def rfc3339(t: dt.datetime) -> str:
    """``2024-05-01T10:00:00Z``: how metav1.Time is serialised."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro(t: dt.datetime) -> str:
    """``2024-05-01T10:00:00.123456Z``: how metav1.MicroTime is serialised."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str) -> dt.datetime:
    """Parse an RFC 3339 timestamp written by :func:`rfc3339` or by Kubernetes."""
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    return dt.datetime.fromisoformat(value)
