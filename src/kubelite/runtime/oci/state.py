"""On-disk records of sandboxes and containers under the runtime's root directory.

Layout (``root``)::

    runtime.json                      settings a later process (or killall) needs
    runc/                             runc --root
    exits/<container id>              conmon's exit files (the exit code as text)
    sandboxes/<id>/sandbox.json       SandboxRecord
    sandboxes/<id>/{resolv.conf,hosts,hostname,shm/,ns/ipc,ns/uts}
    containers/<id>/container.json    ContainerRecord
    containers/<id>/{bundle/,rootfs/,upper/,work/}

Records are written atomically (rename); a record is the only truth about the
kubelite-side facts (times, names, config); the live facts (running or not, exit code)
come from the kernel, runc and conmon's exit file.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class SandboxRecord:
    id: str
    name: str
    namespace: str
    uid: str
    attempt: int
    created_at: str
    state: str  # "ready" | "notready"
    hostname: str
    log_directory: str
    cgroup_parent: str
    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False
    pid_holder: int = 0  # pid 1 of the pod's shared PID namespace (0: none)
    netns_path: str = ""
    ipcns_path: str = ""
    utsns_path: str = ""
    shm_path: str = ""
    ip: str = ""
    port_mappings: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    sysctls: dict[str, str] = field(default_factory=dict)


@dataclass
class ContainerRecord:
    id: str
    sandbox_id: str
    name: str
    attempt: int
    created_at: str
    image: str
    image_id: str
    log_path: str
    cgroup_path: str
    stop_signal: str = ""
    tty: bool = False
    stdin: bool = False
    started_at: str = ""
    finished_at: str = ""
    exit_code: int | None = None
    reason: str = ""
    message: str = ""
    pid: int = 0
    conmon_pid: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


def write_json(path: str, doc: Any) -> None:
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"  # one per writing thread
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, path)


def save(path: str, record: SandboxRecord | ContainerRecord) -> None:
    write_json(path, asdict(record))


def load(path: str, cls: type[T]) -> T | None:
    """The record, or None when missing or unreadable (half-created objects)."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in doc.items() if k in names})
