"""The container runtime seam, shaped like the Kubernetes CRI.

The kubelet talks to a :class:`ContainerRuntime`; two implementations exist:
``kubelite.runtime.oci.OciRuntime`` (runc + conmon + overlayfs + CNI) and
``kubelite.runtime.fake.FakeRuntime`` (in memory, for unit tests and scale benchmarks).

Contracts every implementation keeps:

- A sandbox is the pod's shared context: network namespace (and pod IP), IPC and UTS
  namespaces, ``/etc/resolv.conf``, ``/etc/hosts``, ``/etc/hostname`` and ``/dev/shm``.
  There is no pause container.
- Ids are opaque, unique strings (64 hex characters for the OCI runtime).
- Every method is idempotent where the CRI says so: stopping a stopped sandbox or
  container, and removing something already gone, succeed.
- Command resolution happens in the runtime, with Docker's and Kubernetes' rules:
  the kubelet passes the pod spec's ``command`` and ``args`` with ``$(VAR)`` references
  already expanded; :func:`resolve_argv` merges them with the image's Entrypoint and Cmd.
- ``ContainerConfig.log_path`` is relative to ``PodSandboxConfig.log_directory`` (as in the
  CRI); :attr:`ContainerStatus.log_path` is absolute. Logs are CRI-format lines:
  ``<RFC3339Nano timestamp> <stdout|stderr> <F|P> <text>``.
- Runtime state survives the process: a new instance over the same state directory lists
  the same sandboxes and containers with the same states.
- Errors are :class:`RuntimeServiceError` or a subclass; nothing else escapes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


# --------------------------------------------------------------------------- errors


class RuntimeServiceError(Exception):
    """Base of every error the runtime raises."""


class NotFoundError(RuntimeServiceError):
    """The named object does not exist."""


class SandboxNotFound(NotFoundError):
    """No sandbox with this id."""


class ContainerNotFound(NotFoundError):
    """No container with this id."""


class InvalidStateError(RuntimeServiceError):
    """The operation is not allowed in the object's current state (e.g. start twice)."""


class CreateContainerError(RuntimeServiceError):
    """The container could not be created (bad config, missing image layers, runc error).

    The kubelet reports this as the waiting reason ``CreateContainerError``.
    """


class StartContainerError(RuntimeServiceError):
    """The container process could not be started (e.g. executable not found).

    The kubelet reports this as the ``RunContainerError`` / ``StartError`` reasons.
    """


class NetworkSetupError(RuntimeServiceError):
    """The pod network could not be set up or torn down."""


class ExecError(RuntimeServiceError):
    """An exec could not be started (not the command's own failure)."""


class ExecTimeout(ExecError):
    """exec_sync exceeded its timeout; the process was killed."""


# --------------------------------------------------------------------------- enums


class ContainerState(enum.StrEnum):
    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"
    UNKNOWN = "unknown"


class SandboxState(enum.StrEnum):
    READY = "ready"
    NOTREADY = "notready"


class MountPropagation(enum.StrEnum):
    """Kubernetes' mountPropagation: None -> PRIVATE, HostToContainer -> RSLAVE,
    Bidirectional -> RSHARED (privileged containers only)."""

    PRIVATE = "rprivate"
    HOST_TO_CONTAINER = "rslave"
    BIDIRECTIONAL = "rshared"


# --------------------------------------------------------------------------- configs


@dataclass(frozen=True)
class ImageSpec:
    """An unpacked image: layer directories, bottom-most first, and its config."""

    ref: str
    layers: tuple[str, ...]
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ()  # "KEY=value"
    working_dir: str = ""
    user: str = ""  # "uid", "uid:gid", "name" or "name:group"
    stop_signal: str = ""  # e.g. "SIGQUIT"; empty means SIGTERM
    image_id: str = ""  # digest of the image config, reported as imageID


@dataclass(frozen=True)
class Mount:
    host_path: str
    container_path: str
    readonly: bool = False
    propagation: MountPropagation = MountPropagation.PRIVATE
    selinux_relabel: bool = False  # accepted, ignored (no SELinux here)


@dataclass(frozen=True)
class Resources:
    """Linux resources. ``None`` means unlimited / runtime default."""

    cpu_shares: int | None = None  # 2..262144; Kubernetes: milliCPU * 1024 / 1000
    cpu_quota: int | None = None  # microseconds per period
    cpu_period: int | None = None  # microseconds, default 100000
    memory_limit_bytes: int | None = None
    pids_limit: int | None = None
    oom_score_adj: int | None = None


@dataclass(frozen=True)
class SecurityContext:
    run_as_user: int | None = None
    run_as_group: int | None = None
    supplemental_groups: tuple[int, ...] = ()
    privileged: bool = False
    add_capabilities: tuple[str, ...] = ()  # "NET_ADMIN" or "CAP_NET_ADMIN"; "ALL" allowed
    drop_capabilities: tuple[str, ...] = ()
    readonly_rootfs: bool = False
    no_new_privs: bool = False  # allowPrivilegeEscalation: false


@dataclass(frozen=True)
class ContainerConfig:
    name: str
    image: ImageSpec
    attempt: int = 0
    command: tuple[str, ...] = ()  # pod spec "command", $(VAR) already expanded
    args: tuple[str, ...] = ()  # pod spec "args", $(VAR) already expanded
    env: tuple[tuple[str, str], ...] = ()  # overrides image env of the same name
    working_dir: str = ""
    mounts: tuple[Mount, ...] = ()
    log_path: str = ""  # relative to the sandbox log_directory, e.g. "app/0.log"
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    stdin: bool = False
    stdin_once: bool = False
    tty: bool = False
    resources: Resources = field(default_factory=Resources)
    security: SecurityContext = field(default_factory=SecurityContext)
    # a running container of the same sandbox whose PID namespace this one joins
    # (an ephemeral container's targetContainerName); "" = the container's own
    pid_namespace_of: str = ""


@dataclass(frozen=True)
class DNSConfig:
    servers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class PortMapping:
    container_port: int
    host_port: int
    protocol: str = "TCP"  # TCP | UDP | SCTP
    host_ip: str = ""


@dataclass(frozen=True)
class HostEntry:
    ip: str
    hostnames: tuple[str, ...]


@dataclass(frozen=True)
class PodSandboxConfig:
    name: str
    namespace: str
    uid: str
    attempt: int = 0
    hostname: str = ""  # defaults to the pod name
    log_directory: str = ""  # e.g. /var/log/pods/<ns>_<name>_<uid>
    dns: DNSConfig | None = None  # None: copy the host's /etc/resolv.conf
    host_entries: tuple[HostEntry, ...] = ()  # hostAliases; localhost and self are added
    port_mappings: tuple[PortMapping, ...] = ()
    cgroup_parent: str = ""  # relative cgroup path; default kubelite/pod<uid>
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    host_network: bool = False
    sysctls: Mapping[str, str] = field(default_factory=dict)
    host_pid: bool = False  # containers see the node's processes (hostPID)
    host_ipc: bool = False  # containers share the node's IPC namespace (hostIPC)
    # one PID namespace for all the pod's containers (shareProcessNamespace)
    share_process_namespace: bool = False


# --------------------------------------------------------------------------- statuses


@dataclass(frozen=True)
class PodSandboxStatus:
    id: str
    name: str
    namespace: str
    uid: str
    attempt: int
    state: SandboxState
    created_at: datetime
    ip: str  # "" when host network or not (yet) networked
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    host_network: bool = False
    netns_path: str = ""


@dataclass(frozen=True)
class ContainerStatus:
    id: str
    sandbox_id: str
    name: str
    attempt: int
    state: ContainerState
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    exit_code: int | None  # None until exited
    reason: str  # "" | "Completed" | "Error" | "OOMKilled" | "ContainerCannotRun"
    message: str
    image: str  # image reference
    image_id: str
    pid: int | None  # host pid of the container's init while running
    log_path: str  # absolute; "" when the sandbox has no log directory
    labels: Mapping[str, str]
    annotations: Mapping[str, str]


# --------------------------------------------------------------------------- streams


class ByteReader(Protocol):
    async def read(self, n: int = -1) -> bytes:
        """Up to n bytes; b"" at end of stream."""
        ...


class ByteWriter(Protocol):
    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def close(self) -> None: ...


class StreamSession(Protocol):
    """An interactive exec or attach.

    ``stdout`` carries both streams when ``tty`` is true (``stderr`` is then None).
    ``stdin`` is None when the session was opened without stdin. Closing stdin sends EOF.
    """

    stdin: ByteWriter | None
    stdout: ByteReader | None
    stderr: ByteReader | None
    tty: bool

    async def resize(self, width: int, height: int) -> None: ...

    async def wait(self) -> int:
        """The exit code (exec: the command's; attach: the container's)."""
        ...

    async def close(self) -> None:
        """Detach; for exec also kill the process if still running."""
        ...


# --------------------------------------------------------------------------- the seam


@runtime_checkable
class ContainerRuntime(Protocol):
    """Sandbox and container lifecycle, CRI-shaped. All methods are coroutines."""

    # sandboxes
    async def run_pod_sandbox(self, config: PodSandboxConfig) -> str:
        """Create namespaces, network (pod IP) and files; the sandbox is READY."""
        ...

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        """Kill remaining containers, tear the network down; NOTREADY. Idempotent."""
        ...

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        """Stop, remove all its containers and every trace. Idempotent (no error if gone)."""
        ...

    async def pod_sandbox_status(self, sandbox_id: str) -> PodSandboxStatus: ...

    async def list_pod_sandboxes(
        self, *, state: SandboxState | None = None, labels: Mapping[str, str] | None = None
    ) -> list[PodSandboxStatus]: ...

    # containers
    async def create_container(
        self, sandbox_id: str, config: ContainerConfig, sandbox_config: PodSandboxConfig
    ) -> str: ...

    async def start_container(self, container_id: str) -> None: ...

    async def stop_container(self, container_id: str, timeout: float) -> None:  # noqa: ASYNC109
        """Stop signal (image StopSignal or SIGTERM), then SIGKILL after ``timeout``
        seconds; returns once exited. Idempotent."""
        ...

    async def remove_container(self, container_id: str) -> None:
        """Kill if running and remove; idempotent. The log file is kept."""
        ...

    async def container_status(self, container_id: str) -> ContainerStatus: ...

    async def list_containers(
        self,
        *,
        sandbox_id: str | None = None,
        state: ContainerState | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[ContainerStatus]: ...

    async def exec_sync(
        self, container_id: str, cmd: Sequence[str], timeout: float | None = None  # noqa: ASYNC109
    ) -> tuple[int, bytes, bytes]:
        """Run cmd in the container; (exit code, stdout, stderr). Raises ExecTimeout."""
        ...

    async def exec(
        self,
        container_id: str,
        cmd: Sequence[str],
        *,
        tty: bool = False,
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
    ) -> StreamSession: ...

    async def attach(
        self, container_id: str, *, stdin: bool = False, tty: bool = False
    ) -> StreamSession: ...

    async def port_forward(self, sandbox_id: str, port: int) -> tuple[ByteReader, ByteWriter]:
        """A TCP connection to ``port`` on localhost inside the pod's network namespace."""
        ...

    async def reopen_container_log(self, container_id: str) -> None:
        """Reopen the log file (after the kubelet rotated it)."""
        ...

    async def close(self) -> None:
        """Release process resources; containers keep running."""
        ...


class PodNetwork(Protocol):
    """What the OCI runtime needs from the network layer (``kubelite.network``).

    Structural (types are primitives) so that runtime and network stay independent
    layers. ``port_mappings`` use the CNI portmap ``runtimeConfig`` shape:
    ``{"hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": ""}``.
    """

    async def create_namespace(self, sandbox_id: str) -> str:
        """Create a network namespace, return its path (a bind mount)."""
        ...

    async def remove_namespace(self, sandbox_id: str) -> None:
        """Unmount and delete it; idempotent."""
        ...

    async def setup(
        self,
        sandbox_id: str,
        netns_path: str,
        *,
        pod_namespace: str,
        pod_name: str,
        pod_uid: str,
        port_mappings: Sequence[Mapping[str, object]] = (),
    ) -> str:
        """Attach the namespace to the pod network (CNI ADD); return the pod IP."""
        ...

    async def teardown(
        self,
        sandbox_id: str,
        netns_path: str,
        *,
        pod_namespace: str,
        pod_name: str,
        pod_uid: str,
        port_mappings: Sequence[Mapping[str, object]] = (),
    ) -> None:
        """CNI DEL; idempotent, tolerates a missing namespace."""
        ...


# --------------------------------------------------------------------------- helpers


def resolve_argv(config: ContainerConfig) -> list[str]:
    """The process argv, with Kubernetes' rules for command/args vs Entrypoint/Cmd:

    - neither command nor args: Entrypoint + Cmd
    - command given: command + args (the image's Entrypoint and Cmd are ignored)
    - only args: Entrypoint + args
    """
    image = config.image
    if config.command:
        argv = [*config.command, *config.args]
    elif config.args:
        argv = [*image.entrypoint, *config.args]
    else:
        argv = [*image.entrypoint, *image.cmd]
    if not argv:
        raise CreateContainerError(f"no command specified for container {config.name!r}")
    return argv


def resolve_env(config: ContainerConfig, hostname: str = "") -> list[str]:
    """Image env, then HOSTNAME, then the config's env; later names win, order kept.

    PATH defaults to :data:`DEFAULT_PATH` when neither sets it.
    """
    merged: dict[str, str] = {}
    for item in config.image.env:
        key, _, value = item.partition("=")
        merged[key] = value
    if hostname:
        merged["HOSTNAME"] = hostname
    for key, value in config.env:
        merged[key] = value
    merged.setdefault("PATH", DEFAULT_PATH)
    return [f"{k}={v}" for k, v in merged.items()]


def exit_reason(exit_code: int, oom_killed: bool) -> str:
    """Kubernetes' terminated reason for an exit."""
    if oom_killed:
        return "OOMKilled"
    return "Completed" if exit_code == 0 else "Error"
