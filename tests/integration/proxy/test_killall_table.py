"""``kubelite killall`` deletes the nftables table its data dir's proxy recorded, and no
other (root only; the tables are this test's own, with unique names)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kubelite.cli.killall import _killall
from kubelite.cli.nodenet import TABLE_RECORD
from kubelite.proxy.nft import run_nft

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(shutil.which("nft") is None, reason="needs nft"),
]


def exists(table: str) -> bool:
    return subprocess.run(["nft", "list", "table", "ip", table], capture_output=True,
                          check=False, timeout=10).returncode == 0


def test_killall_removes_the_recorded_table_only(tmp_path: Path) -> None:
    mine, other = f"kltestka{os.getpid()}", f"kltestkb{os.getpid()}"
    agent = tmp_path / "data" / "agent"
    agent.mkdir(parents=True)
    (agent / TABLE_RECORD).write_text(mine + "\n")
    try:
        for t in (mine, other):
            asyncio.run(run_nft(f"table ip {t} {{\n\tchain c {{\n\t\tcounter\n\t}}\n}}\n"))
        assert exists(mine) and exists(other)
        asyncio.run(_killall(tmp_path / "data", "10.42.0.0/16"))
        assert not exists(mine) and exists(other)
        asyncio.run(_killall(tmp_path / "data", "10.42.0.0/16"))  # again: nothing to do, no error
    finally:
        for t in (mine, other):
            subprocess.run(["nft", "delete", "table", "ip", t], capture_output=True,
                           check=False, timeout=10)
