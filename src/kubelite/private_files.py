"""Files only the owner may read: keys, tokens, kubeconfigs, the database.

Contract: a file written here is mode 0600 and a folder made here 0700 from the moment it
exists (created with that mode, never chmod-ed afterwards), so no other user can open it
in between. ``write_private`` replaces a file atomically: readers see the old content or
the new one, never a partial file. Files and folders that already exist with wider modes
(from an older release) are narrowed by ``tighten``.

Below every layer: storage, the API server, the kubelet and the command line use it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents with mode 0700 (existing ones are kept as
    they are, except ``path`` itself, which is narrowed to 0700)."""
    missing: list[Path] = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(d, DIR_MODE)
    tighten(path, DIR_MODE)
    return path


def tighten(path: Path, mode: int = FILE_MODE) -> None:
    """Narrow an existing file or folder to ``mode`` if it allows more (no-op if absent)."""
    try:
        current = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        return
    if current & ~mode:
        os.chmod(path, current & mode)


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` atomically, mode 0600 from creation; the parent folder is
    created (0700) if absent. The temporary file sits beside ``path``."""
    if isinstance(data, str):
        data = data.encode()
    if not path.parent.exists():
        private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if absent (e.g. a database before SQLite opens
    it: SQLite gives its -wal and -shm files the database file's mode); narrow it if it
    exists with a wider mode."""
    if not path.parent.exists():
        private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                         FILE_MODE))
    except FileExistsError:
        tighten(path)
