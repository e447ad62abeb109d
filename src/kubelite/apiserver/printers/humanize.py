"""Durations as kube-apiserver prints them in Table cells (apimachinery ``HumanDuration``).

About two to three significant figures: ``45s``, ``2m30s``, ``15m``, ``5h2m``, ``20h``,
``3d4h``, ``45d``, ``2y30d``, ``9y``. A clock skew of up to two seconds into the future
reads ``0s``; anything further in the future reads ``<invalid>``.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache

from kubelite.api.meta_time import parse_time

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR


def human_duration(d: dt.timedelta | float) -> str:
    """Kubernetes' ``duration.HumanDuration`` of ``d`` (a timedelta or seconds)."""
    total = d.total_seconds() if isinstance(d, dt.timedelta) else float(d)
    seconds = math.trunc(total)  # Go truncates toward zero
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 2 * _MINUTE:
        return f"{seconds}s"
    minutes = seconds // _MINUTE
    if minutes < 10:
        rest = seconds % _MINUTE
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 3 * 60:
        return f"{minutes}m"
    hours = seconds // _HOUR
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = divmod(hours // 24, 365)
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def since(timestamp: str | None, now: dt.datetime) -> str:
    """Age of an RFC 3339 ``timestamp`` at ``now``; ``<unknown>`` when unset.

    This is the printers' ``translateTimestampSince``: what the AGE column shows.
    """
    if not timestamp:
        return "<unknown>"
    then = _parse(timestamp)
    if then is None:
        return "<unknown>"
    return human_duration(now - then)


@lru_cache(maxsize=8192)
def _parse(timestamp: str) -> dt.datetime | None:
    try:
        then = parse_time(timestamp)
    except ValueError:
        return None
    return then if then.tzinfo is not None else then.replace(tzinfo=dt.UTC)
