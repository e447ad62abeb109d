"""The OCI runtime's ground floor: its directory layout, records, locks and process helpers.

Contract: :class:`RuntimeBase` owns ``root`` and its subdirectories (``runc``, ``exits``,
``sandboxes``, ``containers``, ``sockets``) and ``root/runtime.json``; every record is read
from and saved to disk here (``_srec``/``_crec``/``_save_s``/``_save_c``), never kept only
in memory. ``_lock(key)`` serialises the operations on one sandbox or container id. The
module-level helpers run a subprocess with a deadline (:func:`_run`), read runc's error
text (:func:`_runc_error`) and test a pid for life (:func:`_pid_alive`); they never raise
for a missing process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from kubelite.runtime.oci.spec import HostLimits
from kubelite.runtime.oci.state import ContainerRecord, SandboxRecord, load, save, write_json
from kubelite.runtime.protocol import (
    ContainerNotFound,
    PodNetwork,
    SandboxNotFound,
)

log = logging.getLogger(__name__)

DEFAULT_CGROUP_ROOT = "kubelite"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _parse_time(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _pid_alive(pid: int) -> bool:
    """Alive and not a zombie."""
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _matches(labels: Mapping[str, str], wanted: Mapping[str, str] | None) -> bool:
    return not wanted or all(labels.get(k) == v for k, v in wanted.items())


async def _run(
    argv: Sequence[str], timeout: float = 60.0  # noqa: ASYNC109
) -> tuple[int, bytes, bytes]:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return -9, b"", f"{argv[0]} timed out".encode()
    assert proc.returncode is not None
    return proc.returncode, out, err


def _runc_error(err: bytes) -> str:
    """The message of runc's last error line (it logs JSON or logfmt)."""
    text = err.decode(errors="replace").strip()
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                return str(json.loads(line).get("msg", line))
        if 'msg="' in line:
            return line.split('msg="', 1)[1].rsplit('"', 1)[0].replace('\\"', '"')
        if line:
            return line
    return text


class RuntimeBase:
    """State shared by the runtime's parts: paths, on-disk records, per-id locks.

    Invariant: a record on disk is the truth; a new instance over the same ``root`` sees
    what an earlier one made (``cgroup_root`` is kept in ``runtime.json``).
    """
    def __init__(
        self,
        root: str,
        network: PodNetwork | None = None,
        *,
        cgroup_root: str = DEFAULT_CGROUP_ROOT,
        runc: str = "runc",
        conmon: str = "conmon",
    ) -> None:
        self.root = os.path.abspath(root)
        self.network = network
        self.runc = shutil.which(runc) or runc
        self.conmon = shutil.which(conmon) or conmon
        self.limits = HostLimits.current()
        self._runc_root = os.path.join(self.root, "runc")
        self._exits = os.path.join(self.root, "exits")
        self._sandboxes = os.path.join(self.root, "sandboxes")
        self._containers = os.path.join(self.root, "containers")
        self._sockets = os.path.join(self.root, "sockets")
        for d in (self._runc_root, self._exits, self._sandboxes, self._containers,
                  self._sockets):
            os.makedirs(d, exist_ok=True)
        settings_path = os.path.join(self.root, "runtime.json")
        settings: dict[str, str] = {}
        with contextlib.suppress(OSError, ValueError), open(settings_path) as f:
            settings = json.load(f)
        self.cgroup_root = settings.get("cgroup_root", cgroup_root)
        write_json(settings_path, {"cgroup_root": self.cgroup_root})
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    # ------------------------------------------------------------------ paths

    def _sdir(self, sid: str) -> str:
        return os.path.join(self._sandboxes, sid)

    def _cdir(self, cid: str) -> str:
        return os.path.join(self._containers, cid)

    def _srec(self, sid: str) -> SandboxRecord:
        rec = load(os.path.join(self._sdir(sid), "sandbox.json"), SandboxRecord) if sid else None
        if rec is None:
            raise SandboxNotFound(f"pod sandbox {sid!r} not found")
        return rec

    def _crec(self, cid: str) -> ContainerRecord:
        path = os.path.join(self._cdir(cid), "container.json")
        rec = load(path, ContainerRecord) if cid else None
        if rec is None:
            raise ContainerNotFound(f"container {cid!r} not found")
        return rec

    def _save_s(self, rec: SandboxRecord) -> None:
        save(os.path.join(self._sdir(rec.id), "sandbox.json"), rec)

    def _save_c(self, rec: ContainerRecord) -> None:
        save(os.path.join(self._cdir(rec.id), "container.json"), rec)

    def _runc_cmd(self, *args: str) -> list[str]:
        return [self.runc, "--root", self._runc_root, *args]
