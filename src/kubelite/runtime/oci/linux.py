"""Thin wrappers over Linux system calls Python 3.11 lacks (mount, umount2, setns)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import socket
from collections.abc import Iterator

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.mount.argtypes = [
    ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p,
]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MNT_DETACH = 0x2
CLONE_NEWNET = 0x40000000


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(source: str, target: str, fstype: str, flags: int = 0, data: str = "") -> None:
    ret = _libc.mount(
        source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
        data.encode() if data else None,
    )
    _check(ret, f"mount {source} on {target}")


def umount(target: str) -> None:
    """Lazy unmount; no error when nothing is mounted there."""
    ret = _libc.umount2(target.encode(), MNT_DETACH)
    if ret != 0:
        err = ctypes.get_errno()
        if err in (22, 2):  # EINVAL: not a mount point, ENOENT: gone
            return
        raise OSError(err, f"umount {target}: {os.strerror(err)}")


def mount_points_under(prefix: str) -> list[str]:
    """Mount points at or below prefix, deepest first (the order to unmount them in)."""
    prefix = os.path.realpath(prefix).rstrip("/")
    found: list[str] = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = _unescape(line.split()[4])
            if point == prefix or point.startswith(prefix + "/"):
                found.append(point)
    return sorted(set(found), key=lambda p: (-p.count("/"), p))


def _unescape(text: str) -> str:
    return text.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace(
        "\\134", "\\"
    )


def connect_in_netns(netns_path: str, host: str, port: int, timeout: float = 10.0) -> socket.socket:
    """A TCP socket connected from inside the network namespace at netns_path.

    Blocking: call from a worker thread. setns only switches the calling thread, which
    switches back before returning; the socket stays bound to the pod's namespace.
    """
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    target = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        _check(_libc.setns(target, CLONE_NEWNET), f"setns {netns_path}")
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        finally:
            _check(_libc.setns(own, CLONE_NEWNET), "setns back")
    finally:
        os.close(own)
        os.close(target)
    try:
        sock.settimeout(timeout)
        sock.connect((host, port))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def cgroup_mounts() -> Iterator[tuple[str, str]]:
    """(mount point, fstype) of every cgroup v1 and v2 hierarchy."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstype = right.split()[0] if right else ""
            if fstype in ("cgroup", "cgroup2"):
                yield _unescape(left.split()[4]), fstype
