"""The node network's flags: the cluster DNS address and the proxy's table name."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from kubelite.cli import nodenet


def parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--service-cidr", default="10.43.0.0/16")
    nodenet.add_flags(p)
    return p.parse_args(list(argv))


@pytest.mark.parametrize(("argv", "expected"), [
    ((), "10.43.0.10"),
    (("--service-cidr", "10.170.0.0/16"), "10.170.0.10"),
    (("--cluster-dns", "10.43.0.53"), "10.43.0.53"),
])
def test_cluster_dns_address(argv: tuple[str, ...], expected: str) -> None:
    assert nodenet.cluster_dns_ip(parse(*argv)) == expected


@pytest.mark.parametrize(("argv", "suffix", "expected"), [
    ((), "", "kubelite"),
    ((), "ab12cd34", "kubelite-ab12cd34"),
    (("--proxy-table", "kubelite-e2e1"), "ab12cd34", "kubelite-e2e1"),
])
def test_table_name(argv: tuple[str, ...], suffix: str, expected: str) -> None:
    assert nodenet.table_name(parse(*argv), suffix) == expected


def test_the_recorded_table_is_read_back(tmp_path: Path) -> None:
    assert nodenet.recorded_table(tmp_path) is None
    (tmp_path / nodenet.TABLE_RECORD).write_text("kubelite-x\n")
    assert nodenet.recorded_table(tmp_path) == "kubelite-x"
