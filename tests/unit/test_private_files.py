"""Private files are 0600 and folders 0700 from creation, whatever the umask."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
from pathlib import Path

import pytest

from kubelite.apiserver.pki import ensure_pki
from kubelite.private_files import create_private, private_dir, write_private
from kubelite.storage.sqlite import SQLiteStore


def mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> object:
    old = os.umask(0o000)  # the worst case: nothing masked
    yield
    os.umask(old)


def test_write_private_creates_0600_and_missing_folders_0700(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "token"
    write_private(target, "secret\n")
    assert target.read_text() == "secret\n"
    assert mode(target) == 0o600
    assert mode(tmp_path / "a") == 0o700 and mode(tmp_path / "a" / "b") == 0o700
    write_private(target, b"new")  # replaced atomically, no temporary left behind
    assert target.read_bytes() == b"new" and mode(target) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["token"]


def test_existing_wide_files_are_narrowed(tmp_path: Path) -> None:
    f = tmp_path / "state.db"
    f.write_text("x")
    f.chmod(0o644)
    create_private(f)
    assert mode(f) == 0o600 and f.read_text() == "x"
    d = tmp_path / "server"
    d.mkdir(mode=0o755)
    private_dir(d)
    assert mode(d) == 0o700


def test_pki_files_are_never_readable_by_others(tmp_path: Path) -> None:
    """A thread watches the folder while the PKI is generated: no file ever shows a mode
    wider than 0600."""
    seen: dict[str, int] = {}
    done = threading.Event()
    tls = tmp_path / "tls"

    def watch() -> None:
        while not done.is_set():
            for p in list(tls.iterdir()) if tls.exists() else []:
                try:
                    seen[p.name] = seen.get(p.name, 0) | mode(p)
                except FileNotFoundError:
                    pass
    t = threading.Thread(target=watch)
    t.start()
    try:
        pki = ensure_pki(tls)
    finally:
        done.set()
        t.join()
    assert mode(tls) == 0o700
    for p in (pki.ca_key, pki.ca_cert, pki.serving_key, pki.admin_key):
        assert mode(p) == 0o600
    assert all(m & 0o077 == 0 for m in seen.values()), seen


def test_sqlite_database_and_its_wal_and_shm_are_0600(tmp_path: Path) -> None:
    async def main() -> None:
        store = SQLiteStore(tmp_path / "db" / "state.db")
        await store.start()
        try:
            await store.create("/registry/secrets/default/s", {"data": {"k": "dg=="}})
            files = sorted(p.name for p in (tmp_path / "db").iterdir())
            assert {"state.db", "state.db-wal", "state.db-shm"} <= set(files), files
            for name in files:
                assert mode(tmp_path / "db" / name) == 0o600, name
            assert mode(tmp_path / "db") == 0o700
        finally:
            await store.close()
    asyncio.run(main())
