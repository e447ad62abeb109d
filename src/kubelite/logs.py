"""Logging as klog does it: one line per event, ``-v`` verbosity, no floods.

- Lines read ``I1202 05:58:43.123456 4242 kubelite.kubelet.kubelet] message``: klog's
  severity letter (I, W, E, F) and timestamp, the process id, then the component (the
  logger's name). Callers put the object a line is about in the message, as klog's
  structured pairs: ``pod="default/web"`` (see :func:`ref`).
- Verbosity: ``V(0)`` is INFO; ``V(n)`` for n = 1..9 sits between INFO and DEBUG, and
  DEBUG is ``V(10)``. ``setup(verbosity)`` shows every line at or below it: ``-v 3``
  shows the API server's request lines, ``--debug`` is ``-v 10``.
- Floods: an identical line (same component, severity and text) repeated within
  ``window`` seconds is dropped; the next one after the window says how many were.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import TextIO

_LETTERS = {logging.CRITICAL: "F", logging.ERROR: "E", logging.WARNING: "W"}
MAX_REMEMBERED = 2048


def V(level: int) -> int:
    """The logging level of klog's ``V(level)``."""
    return logging.INFO - max(0, min(level, 10))


def ref(namespace: str | None, name: str) -> str:
    """klog's object reference: ``ns/name``, or ``name`` for cluster-scoped objects."""
    return f"{namespace}/{name}" if namespace else name


class KlogFormatter(logging.Formatter):
    """klog's header, then the component and the message, on one line (tracebacks
    follow on their own lines)."""

    def format(self, record: logging.LogRecord) -> str:
        letter = _LETTERS.get(record.levelno, "F" if record.levelno > logging.CRITICAL
                              else "I")
        t = time.localtime(record.created)
        micro = int((record.created % 1) * 1_000_000)
        head = (f"{letter}{t.tm_mon:02d}{t.tm_mday:02d} {t.tm_hour:02d}:{t.tm_min:02d}:"
                f"{t.tm_sec:02d}.{micro:06d} {os.getpid():7d} {record.name}] ")
        line = head + record.getMessage().replace("\n", "\\n")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class RepeatFilter(logging.Filter):
    """Drops a line identical to one let through less than ``window`` seconds ago.

    Invariant: for each distinct (component, level, text) at most one line per window
    passes; the first one after a window carries ``(N identical lines suppressed)``.
    """

    def __init__(self, window: float = 10.0) -> None:
        super().__init__()
        self.window = window
        self._seen: dict[tuple[str, int, str], list[float]] = {}  # key -> [since, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        key = (record.name, record.levelno, text)
        now = record.created
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self.window:
            seen[1] += 1
            return False
        if seen is not None and seen[1]:
            record.msg = f"{text} ({int(seen[1])} identical lines suppressed)"
            record.args = None
        if len(self._seen) >= MAX_REMEMBERED:
            self._seen.clear()
        self._seen[key] = [now, 0]
        return True


def setup(verbosity: int = 0, stream: TextIO | None = None, window: float = 10.0) -> None:
    """Send every logger's lines at or below ``verbosity`` to ``stream`` (stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(KlogFormatter())
    handler.addFilter(RepeatFilter(window))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(V(verbosity))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def add_flags(parser: argparse.ArgumentParser) -> None:
    """``-v``/``--v`` (klog's verbosity, 0 by default) and ``--debug`` (``-v 10``)."""
    parser.add_argument("-v", "--v", dest="verbosity", type=int, default=0, metavar="N",
                        help="log verbosity as klog's: 0 (default) shows info, warnings "
                             "and errors; 2 more detail; 3 every API request; 10 debug")
    parser.add_argument("--debug", action="store_true", help="log at debug level (-v 10)")


def verbosity_of(args: argparse.Namespace) -> int:
    level = int(getattr(args, "verbosity", 0) or 0)
    return 10 if getattr(args, "debug", False) else level
