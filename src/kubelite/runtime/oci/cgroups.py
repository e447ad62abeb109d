"""cgroupfs paths (v1, v2 and the hybrid mix), OOM evidence and cleanup.

runc (cgroupfs driver) is given ``linux.cgroupsPath = /<parent>/<container id>``; the
same relative path exists in every mounted hierarchy. The runtime never writes limits
itself; it only reads OOM counters and removes empty directories.
"""

from __future__ import annotations

import os

from kubelite.runtime.oci.linux import cgroup_mounts


def container_cgroup(parent: str, container_id: str) -> str:
    return "/" + "/".join(p for p in (parent.strip("/"), container_id) if p)


def oom_killed(relative: str) -> bool:
    """Whether the kernel OOM-killed a process in this cgroup (v2 memory.events, or v1
    memory.oom_control ``oom_kill``, falling back to ``under_oom``)."""
    rel = relative.strip("/")
    for point, fstype in cgroup_mounts():
        base = os.path.join(point, rel)
        if fstype == "cgroup2":
            counts = _read_kv(os.path.join(base, "memory.events"))
            if counts.get("oom_kill", 0) > 0:
                return True
        else:
            counts = _read_kv(os.path.join(base, "memory.oom_control"))
            if counts.get("oom_kill", 0) > 0 or counts.get("under_oom", 0) > 0:
                return True
    return False


def remove(relative: str) -> None:
    """rmdir the cgroup and its empty ancestors up to (excluding) the hierarchy roots.

    Stops silently at the first non-empty ancestor (EBUSY / ENOTEMPTY).
    """
    rel = relative.strip("/")
    if not rel:
        return
    for point, _ in cgroup_mounts():
        _remove_tree(os.path.join(point, rel))
        parts = rel.split("/")
        for depth in range(len(parts) - 1, 0, -1):
            try:
                os.rmdir(os.path.join(point, *parts[:depth]))
            except OSError:
                break


def _remove_tree(path: str) -> None:
    """Remove a cgroup directory with its (empty) children, deepest first."""
    if not os.path.isdir(path):
        return
    for root, dirs, _ in os.walk(path, topdown=False):
        for d in dirs:
            try:
                os.rmdir(os.path.join(root, d))
            except OSError:
                pass
    try:
        os.rmdir(path)
    except OSError:
        pass


def _read_kv(path: str) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(" ")
                try:
                    out[key] = int(value)
                except ValueError:
                    continue
    except OSError:
        pass
    return out
