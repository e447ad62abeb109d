"""klog-style logging: verbosity levels, the line format and repeat suppression."""

from __future__ import annotations

import argparse
import io
import logging

import pytest

from kubelite import logs


@pytest.mark.parametrize(("verbosity", "shown", "hidden"), [
    (0, [logs.V(0), logging.WARNING], [logs.V(1), logs.V(3), logging.DEBUG]),
    (3, [logs.V(2), logs.V(3)], [logs.V(4), logging.DEBUG]),
    (10, [logs.V(9), logging.DEBUG], []),
])
def test_verbosity_shows_levels_at_or_below_it(verbosity: int, shown: list[int],
                                                hidden: list[int]) -> None:
    out = io.StringIO()
    logs.setup(verbosity, out)
    try:
        log = logging.getLogger("kubelite.test.verbosity")
        for level in shown:
            assert log.isEnabledFor(level)
        for level in hidden:
            assert not log.isEnabledFor(level)
    finally:
        logs.setup(0)


def _record(msg: str, created: float, level: int = logging.INFO) -> logging.LogRecord:
    r = logging.LogRecord("kubelite.kubelet", level, __file__, 1, msg, None, None)
    r.created = created
    return r


def test_line_format_is_klogs() -> None:
    line = logs.KlogFormatter().format(_record('Killing container pod="default/web"',
                                               1_700_000_000.25, logging.WARNING))
    head, _, rest = line.partition("] ")
    assert head[0] == "W" and head[5] == " " and head.split()[-1] == "kubelite.kubelet"
    assert rest == 'Killing container pod="default/web"'
    assert "\n" not in logs.KlogFormatter().format(_record("two\nlines", 0))


def test_identical_repeats_are_dropped_then_counted() -> None:
    f = logs.RepeatFilter(window=10)
    assert f.filter(_record("probe failed", 100.0))
    assert not f.filter(_record("probe failed", 101.0))
    assert not f.filter(_record("probe failed", 105.0))
    assert f.filter(_record("other line", 105.0))
    later = _record("probe failed", 111.0)
    assert f.filter(later)
    assert later.getMessage() == "probe failed (2 identical lines suppressed)"
    assert f.filter(_record("probe failed", 122.0))


@pytest.mark.parametrize(("argv", "expected"), [
    ([], 0), (["-v", "3"], 3), (["--v=4"], 4), (["-v3"], 3), (["--debug"], 10)])
def test_flags(argv: list[str], expected: int) -> None:
    p = argparse.ArgumentParser()
    logs.add_flags(p)
    assert logs.verbosity_of(p.parse_args(argv)) == expected


def test_ref() -> None:
    assert logs.ref("default", "web") == "default/web"
    assert logs.ref(None, "node1") == "node1"
