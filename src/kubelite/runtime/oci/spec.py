"""OCI runtime spec (config.json) from a container config: a pure function.

Defaults follow runc's ``runc spec`` (mounts, masked and read-only paths) and
containerd's CRI plugin (capabilities, NOFILE limit, HOSTNAME); everything the host
forbids is clamped (rlimits above our hard limits, an oom_score_adj below our own).
"""

from __future__ import annotations

import os
import resource
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kubelite.runtime.protocol import (
    ContainerConfig,
    CreateContainerError,
    Mount,
    MountPropagation,
    resolve_argv,
    resolve_env,
)

# containerd's default capability set for CRI containers.
DEFAULT_CAPABILITIES: tuple[str, ...] = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)

# Every capability by number (linux/capability.h), for "ALL" and privileged containers.
ALL_CAPABILITIES: tuple[str, ...] = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)

MASKED_PATHS: tuple[str, ...] = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
)

READONLY_PATHS: tuple[str, ...] = (
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
)

DEFAULT_NOFILE = 1048576  # containerd's default, clamped to our hard limit


@dataclass(frozen=True)
class HostLimits:
    """What the host lets us give a container."""

    nofile_hard: int
    oom_score_adj_min: int
    cap_last: int

    @classmethod
    def current(cls) -> HostLimits:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if hard == resource.RLIM_INFINITY:
            hard = DEFAULT_NOFILE
        try:
            with open("/proc/self/oom_score_adj") as f:
                own = int(f.read().strip())
        except OSError:
            own = 0
        try:
            with open("/proc/sys/kernel/cap_last_cap") as f:
                last = int(f.read().strip())
        except OSError:
            last = len(ALL_CAPABILITIES) - 1
        return cls(nofile_hard=hard, oom_score_adj_min=own, cap_last=last)


@dataclass(frozen=True)
class SandboxPaths:
    """What a container shares with its pod."""

    netns: str = ""  # "" = host network
    ipcns: str = ""
    utsns: str = ""
    pidns: str = ""  # "" = a PID namespace of its own
    host_pid: bool = False  # the node's PID namespace (no namespace of its own)
    host_ipc: bool = False  # the node's IPC namespace
    hostname: str = ""
    resolv_conf: str = ""
    hosts: str = ""
    hostname_file: str = ""
    shm: str = ""
    sysctls: dict[str, str] = field(default_factory=dict)


def normalize_cap(name: str) -> str:
    name = name.upper()
    return name if name.startswith("CAP_") else "CAP_" + name


def capabilities(
    add: Sequence[str], drop: Sequence[str], privileged: bool, cap_last: int
) -> list[str]:
    known = list(ALL_CAPABILITIES[: cap_last + 1])
    if privileged:
        return known
    caps = list(DEFAULT_CAPABILITIES)
    adds = [normalize_cap(c) for c in add]
    drops = [normalize_cap(c) for c in drop]
    if "CAP_ALL" in adds:
        caps = list(known)
    else:
        caps += [c for c in adds if c not in caps]
    if "CAP_ALL" in drops:
        caps = [c for c in adds if c != "CAP_ALL"] if "CAP_ALL" not in adds else []
    else:
        caps = [c for c in caps if c not in drops]
    return [c for c in caps if c in known]


def _mount(
    dest: str, typ: str, src: str, options: Sequence[str]
) -> dict[str, Any]:
    return {"destination": dest, "type": typ, "source": src, "options": list(options)}


def build_spec(
    config: ContainerConfig,
    *,
    rootfs: str,
    sandbox: SandboxPaths,
    cgroups_path: str,
    uid: int,
    gid: int,
    additional_gids: Sequence[int] = (),
    image_working_dir: str = "",
    limits: HostLimits,
) -> dict[str, Any]:
    """The OCI config for one container of a pod (runtime spec 1.0.2)."""
    sec = config.security
    res = config.resources
    caps = capabilities(sec.add_capabilities, sec.drop_capabilities, sec.privileged,
                        limits.cap_last)
    cwd = config.working_dir or config.image.working_dir or image_working_dir or "/"
    if not cwd.startswith("/"):
        raise CreateContainerError(f"working directory {cwd!r} is not absolute")
    nofile = min(DEFAULT_NOFILE, limits.nofile_hard)
    process: dict[str, Any] = {
        "terminal": config.tty,
        "user": {"uid": uid, "gid": gid},
        "args": resolve_argv(config),
        "env": resolve_env(config, sandbox.hostname),
        "cwd": cwd,
        "capabilities": {k: list(caps) for k in ("bounding", "effective", "permitted")},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile}],
        "noNewPrivileges": sec.no_new_privs and not sec.privileged,
    }
    gids = sorted({*additional_gids, *sec.supplemental_groups} - {gid})
    if gids:
        process["user"]["additionalGids"] = gids
    if res.oom_score_adj is not None:
        process["oomScoreAdj"] = max(res.oom_score_adj, limits.oom_score_adj_min)

    sys_opts = ["nosuid", "noexec", "nodev", "rw" if sec.privileged else "ro"]
    mounts: list[dict[str, Any]] = [
        _mount("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
        _mount("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        _mount("/dev/pts", "devpts", "devpts",
               ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
        _mount("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
        _mount("/sys", "sysfs", "sysfs", sys_opts),
        _mount("/sys/fs/cgroup", "cgroup", "cgroup", [*sys_opts, "relatime"]),
    ]
    if sandbox.shm:
        mounts.append(_mount("/dev/shm", "bind", sandbox.shm, ["rbind", "rprivate", "rw"]))
    else:
        mounts.append(_mount("/dev/shm", "tmpfs", "shm",
                             ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]))
    user_dests = {m.container_path.rstrip("/") or "/" for m in config.mounts}
    for dest, src in (
        ("/etc/resolv.conf", sandbox.resolv_conf),
        ("/etc/hosts", sandbox.hosts),
        ("/etc/hostname", sandbox.hostname_file),
    ):
        if src and dest not in user_dests:
            opts = ["rbind", "rprivate", "ro" if sec.readonly_rootfs else "rw"]
            mounts.append(_mount(dest, "bind", src, opts))
    for m in config.mounts:
        mounts.append(_user_mount(m))

    namespaces: list[dict[str, str]] = [{"type": "mount"}]
    if not sandbox.host_pid:
        namespaces.insert(0, {"type": "pid", "path": sandbox.pidns} if sandbox.pidns
                          else {"type": "pid"})
    for typ, path in (("network", sandbox.netns), ("ipc", sandbox.ipcns),
                      ("uts", sandbox.utsns)):
        if typ == "ipc" and sandbox.host_ipc:
            continue
        if path:
            namespaces.append({"type": typ, "path": path})
        elif typ == "ipc":
            namespaces.append({"type": "ipc"})
    if not sandbox.utsns and sandbox.netns:
        namespaces.append({"type": "uts"})

    linux_resources: dict[str, Any] = {
        "devices": [{"allow": sec.privileged, "access": "rwm"}],
    }
    cpu: dict[str, Any] = {}
    if res.cpu_shares is not None:
        cpu["shares"] = res.cpu_shares
    if res.cpu_quota is not None:
        cpu["quota"] = res.cpu_quota
        cpu["period"] = res.cpu_period or 100000
    elif res.cpu_period is not None:
        cpu["period"] = res.cpu_period
    if cpu:
        linux_resources["cpu"] = cpu
    if res.memory_limit_bytes:
        linux_resources["memory"] = {
            "limit": res.memory_limit_bytes,
            "swap": res.memory_limit_bytes,  # no swap beyond the limit, as the kubelet asks
        }
    if res.pids_limit:
        linux_resources["pids"] = {"limit": res.pids_limit}

    linux: dict[str, Any] = {
        "namespaces": namespaces,
        "cgroupsPath": cgroups_path,
        "resources": linux_resources,
        "rootfsPropagation": _root_propagation(config.mounts),
    }
    if not sec.privileged:
        linux["maskedPaths"] = list(MASKED_PATHS)
        linux["readonlyPaths"] = list(READONLY_PATHS)
    if sandbox.sysctls:
        linux["sysctl"] = dict(sandbox.sysctls)

    spec: dict[str, Any] = {
        "ociVersion": "1.0.2",
        "process": process,
        "root": {"path": rootfs, "readonly": sec.readonly_rootfs},
        "mounts": mounts,
        "linux": linux,
        "annotations": {
            "io.kubernetes.container.name": config.name,
            **{str(k): str(v) for k, v in config.annotations.items()},
        },
    }
    if sandbox.hostname and not sandbox.utsns and sandbox.netns:  # host network: host's name
        spec["hostname"] = sandbox.hostname
    return spec


def _user_mount(m: Mount) -> dict[str, Any]:
    if not os.path.isabs(m.container_path):
        raise CreateContainerError(f"mount path {m.container_path!r} is not absolute")
    opts = ["rbind", m.propagation.value, "ro" if m.readonly else "rw"]
    return _mount(m.container_path, "bind", m.host_path, opts)


def _root_propagation(mounts: Sequence[Mount]) -> str:
    """The root mount must propagate at least as much as the most shared bind mount."""
    props = {m.propagation for m in mounts}
    if MountPropagation.BIDIRECTIONAL in props:
        return "rshared"
    if MountPropagation.HOST_TO_CONTAINER in props:
        return "rslave"
    return "rprivate"
