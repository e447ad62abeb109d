"""Stop everything a runtime root holds and remove every trace of it.

For ``kubelite killall``: containers are killed (SIGKILL), conmons go with them, then
network attachments, namespaces, mounts and cgroups are removed. Safe to run twice and
on a half-broken root.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
from typing import Protocol, runtime_checkable

from kubelite.runtime.oci import cgroups, linux
from kubelite.runtime.oci.base import DEFAULT_CGROUP_ROOT, _pid_alive, _run
from kubelite.runtime.oci.runtime import OciRuntime
from kubelite.runtime.oci.sandboxes import _remove_ns_file
from kubelite.runtime.oci.state import ContainerRecord, SandboxRecord, load
from kubelite.runtime.protocol import PodNetwork


@runtime_checkable
class NetworkJanitor(Protocol):
    """A network that can also remove everything it ever set up (its bridge)."""

    async def teardown_all(self) -> None: ...


def _scan(root: str) -> tuple[list[tuple[str, ContainerRecord | None]], list[SandboxRecord], str]:
    containers = os.path.join(root, "containers")
    crecs = [
        (cid, load(os.path.join(containers, cid, "container.json"), ContainerRecord))
        for cid in (sorted(os.listdir(containers)) if os.path.isdir(containers) else [])
    ]
    sandboxes = os.path.join(root, "sandboxes")
    srecs = [
        rec
        for sid in (sorted(os.listdir(sandboxes)) if os.path.isdir(sandboxes) else [])
        if (rec := load(os.path.join(sandboxes, sid, "sandbox.json"), SandboxRecord))
    ]
    cgroup_root = DEFAULT_CGROUP_ROOT
    with contextlib.suppress(OSError, ValueError), open(os.path.join(root, "runtime.json")) as f:
        cgroup_root = json.load(f).get("cgroup_root", cgroup_root)
    return crecs, srecs, cgroup_root


def _wipe(root: str, cgroup_root: str) -> None:
    for point in linux.mount_points_under(root):
        linux.umount(point)
    cgroups.remove(cgroup_root)
    for name in ("containers", "sandboxes", "exits", "runc", "sockets"):
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)


async def killall(root_dir: str, network: PodNetwork | None = None) -> int:
    """Kill every container under root_dir and clean up; return how many were running.

    With a ``network`` each pod's attachment is deleted (CNI DEL) and, if it is a
    :class:`NetworkJanitor`, its bridge too.
    """
    root = os.path.realpath(root_dir)  # noqa: ASYNC240
    crecs, srecs, cgroup_root = _scan(root)
    if not crecs and not srecs and not linux.mount_points_under(root):
        if isinstance(network, NetworkJanitor):
            await network.teardown_all()
        return 0
    rt = OciRuntime(root, network)
    killed = 0
    for cid, rec in crecs:
        killed += rec is not None and _pid_alive(rec.pid)
        await _run(rt._runc_cmd("kill", cid, "KILL"))
        await _run(rt._runc_cmd("delete", "--force", cid))
        if rec is not None:
            for pid in (rec.pid, rec.conmon_pid):
                if _pid_alive(pid):
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
            cgroups.remove(rec.cgroup_path)
    for srec in srecs:
        if srec.pid_holder and _pid_alive(srec.pid_holder):
            with contextlib.suppress(OSError):
                os.kill(srec.pid_holder, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await rt._teardown_network(srec)
        _remove_ns_file(srec.netns_path)
        cgroups.remove(srec.cgroup_parent)
    if isinstance(network, NetworkJanitor):
        with contextlib.suppress(Exception):
            await network.teardown_all()
    _wipe(root, cgroup_root)
    return killed
