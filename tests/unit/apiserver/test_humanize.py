"""HumanDuration as kubectl users read it in the AGE column."""

from __future__ import annotations

import datetime as dt

import pytest

from kubelite.apiserver.printers.humanize import human_duration, since

M = 60
H = 3600
D = 86400
Y = 365 * D


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-3, "<invalid>"),
        (-2, "<invalid>"),
        (-1.5, "0s"),  # up to two seconds of clock skew reads as now
        (-1, "0s"),
        (0, "0s"),
        (0.9, "0s"),
        (5, "5s"),
        (59, "59s"),
        (60, "60s"),
        (119, "119s"),
        (2 * M, "2m"),
        (2 * M + 30, "2m30s"),
        (9 * M + 59, "9m59s"),
        (10 * M, "10m"),
        (10 * M + 30, "10m"),
        (179 * M, "179m"),
        (3 * H, "3h"),
        (5 * H, "5h"),
        (5 * H + 2 * M, "5h2m"),
        (7 * H + 59 * M + 59, "7h59m"),
        (8 * H, "8h"),
        (47 * H + 59 * M, "47h"),
        (2 * D, "2d"),
        (3 * D, "3d"),
        (3 * D + 4 * H, "3d4h"),
        (7 * D + 23 * H, "7d23h"),
        (8 * D, "8d"),
        (45 * D, "45d"),
        (729 * D, "729d"),
        (2 * Y, "2y"),
        (2 * Y + 30 * D, "2y30d"),
        (7 * Y + 364 * D, "7y364d"),
        (8 * Y, "8y"),
        (12 * Y + 100 * D, "12y"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text
    assert human_duration(dt.timedelta(seconds=seconds)) == text


NOW = dt.datetime(2026, 11, 25, 14, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("stamp", "text"),
    [
        ("2026-11-25T13:59:55Z", "5s"),
        ("2026-11-25T09:00:00Z", "5h"),
        ("2026-11-22T10:00:00Z", "3d4h"),
        ("2026-11-25T14:00:01Z", "0s"),
        ("2026-11-25T14:00:05Z", "<invalid>"),
        (None, "<unknown>"),
        ("", "<unknown>"),
        ("not a time", "<unknown>"),
    ],
)
def test_since(stamp: str | None, text: str) -> None:
    assert since(stamp, NOW) == text
