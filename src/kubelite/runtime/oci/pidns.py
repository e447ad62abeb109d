"""The process that holds a pod's shared PID namespace (``shareProcessNamespace``).

Contract: :func:`start_pid_holder` returns the pid of a ``sleep`` that is pid 1 of a new PID
namespace (the pause container's part in Kubernetes); the pod's containers join
``/proc/<pid>/ns/pid``. :func:`kill_pid_holder` ends it (a no-op for 0 or a dead pid), and with
it every process left in that namespace (``unshare --kill-child``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from kubelite.runtime.oci.base import _pid_alive
from kubelite.runtime.protocol import RuntimeServiceError


def _children(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return f.read()
    except OSError:
        return ""


async def start_pid_holder() -> int:
    """Start ``unshare --pid --kill-child sleep infinity``; return the ``sleep``'s pid."""
    proc = await asyncio.create_subprocess_exec(
        "unshare", "--pid", "--kill-child", "--", "sleep", "infinity",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
    for _ in range(200):
        text = _children(proc.pid)
        if text:
            return int(text.split()[0])
        if proc.returncode is not None:
            break
        await asyncio.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    raise RuntimeServiceError("creating the pod's PID namespace: unshare did not start")


def kill_pid_holder(pid: int) -> None:
    """SIGKILL the holder ``pid`` if it is alive (0 means the pod has none)."""
    if pid and _pid_alive(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
