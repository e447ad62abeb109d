"""An in-memory runtime behind the same seam, for kubelet tests and scale benchmarks.

Containers "run" in memory (as in kwok): they stay RUNNING until a test says otherwise
(:meth:`FakeRuntime.exit_container`), until stopped, or, when ``on_start`` returns an
exit code for their config, they exit right after starting. Every call is recorded in
:attr:`FakeRuntime.calls` as ``(method name, id or name)``. ``fail`` makes the next call
of a method raise a given error. Log lines go to the real log file when the sandbox has
a log directory (CRI format), so log readers can be tested too.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from kubelite.runtime.protocol import (
    ByteReader,
    ByteWriter,
    ContainerConfig,
    ContainerNotFound,
    ContainerState,
    ContainerStatus,
    ExecError,
    InvalidStateError,
    PodNetwork,
    PodSandboxConfig,
    PodSandboxStatus,
    SandboxNotFound,
    SandboxState,
    StreamSession,
    exit_reason,
    resolve_argv,
)

ExecHandler = Callable[[str, Sequence[str]], tuple[int, bytes, bytes]]
# An interactive exec: (container id, argv, process) -> exit code, run as a task.
ExecProcess = Callable[[str, Sequence[str], "FakeProcess"], Awaitable[int]]
# Where port_forward connects: (sandbox id, port) -> (reader, writer).
PortForwardHandler = Callable[[str, int], Awaitable[tuple[ByteReader, ByteWriter]]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class FakeSandbox:
    status: PodSandboxStatus
    config: PodSandboxConfig


@dataclass
class FakeContainer:
    status: ContainerStatus
    config: ContainerConfig
    argv: list[str]
    stdin_data: bytearray = field(default_factory=bytearray)
    exited: asyncio.Event = field(default_factory=asyncio.Event)


class _Session:
    """A finished-on-demand stream session with in-memory streams."""

    def __init__(self, tty: bool, out: bytes, err: bytes, code: int, stdin: bool) -> None:
        self.tty = tty
        self._code = code
        self.stdout: ByteReader | None = _reader(out + (err if tty else b""))
        self.stderr: ByteReader | None = None if tty else _reader(err)
        self.stdin: ByteWriter | None = _Sink() if stdin else None
        self.sizes: list[tuple[int, int]] = []

    async def resize(self, width: int, height: int) -> None:
        self.sizes.append((width, height))

    async def wait(self) -> int:
        return self._code

    async def close(self) -> None:
        return None


class _Sink:
    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True


class _Echo:
    """Port-forward stand-in: what is written can be read back."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def write(self, data: bytes) -> None:
        self._reader.feed_data(data)

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        self._reader.feed_eof()


class _Feed:
    """A ByteWriter that feeds a StreamReader (closing it is EOF)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader

    def write(self, data: bytes) -> None:
        self.reader.feed_data(data)

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        if not self.reader.at_eof():
            self.reader.feed_eof()


class FakeProcess:
    """The process side of an interactive fake exec: read ``stdin``, write ``stdout`` and
    ``stderr`` (with a tty, stderr goes to stdout). ``sizes`` records terminal resizes."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.stdin = asyncio.StreamReader()
        self._out = asyncio.StreamReader()
        self._err = asyncio.StreamReader()
        self.sizes: list[tuple[int, int]] = []

    def write(self, data: bytes) -> None:
        self._out.feed_data(data)

    def write_err(self, data: bytes) -> None:
        (self._out if self.tty else self._err).feed_data(data)


class _ProcessSession:
    """A StreamSession driven by an :data:`ExecProcess` coroutine."""

    def __init__(self, proc: FakeProcess, run: Awaitable[int], stdin: bool) -> None:
        self.tty = proc.tty
        self._proc = proc
        self.stdin: ByteWriter | None = _Feed(proc.stdin) if stdin else None
        if not stdin:
            proc.stdin.feed_eof()
        self.stdout: ByteReader | None = proc._out
        self.stderr: ByteReader | None = None if proc.tty else proc._err
        self._task = asyncio.ensure_future(run)
        self._task.add_done_callback(lambda _t: self._end())

    def _end(self) -> None:
        for r in (self._proc._out, self._proc._err):
            if not r.at_eof():
                r.feed_eof()

    async def resize(self, width: int, height: int) -> None:
        self._proc.sizes.append((width, height))

    async def wait(self) -> int:
        return await asyncio.shield(self._task)

    async def close(self) -> None:
        if not self._task.done():
            self._task.cancel()


def _reader(data: bytes) -> asyncio.StreamReader:
    r = asyncio.StreamReader()
    r.feed_data(data)
    r.feed_eof()
    return r


class FakeRuntime:
    """:class:`~kubelite.runtime.protocol.ContainerRuntime` in memory."""

    def __init__(
        self,
        *,
        network: PodNetwork | None = None,
        clock: Callable[[], datetime] = _utcnow,
        on_start: Callable[[ContainerConfig], int | None] | None = None,
        exec_handler: ExecHandler | None = None,
        exec_process: ExecProcess | None = None,
        port_forward_handler: PortForwardHandler | None = None,
        stop_exit_code: int = 0,
        ip_prefix: str = "10.244.0.",
    ) -> None:
        self.network = network
        self.clock = clock
        self.on_start = on_start
        self.exec_handler = exec_handler
        self.exec_process = exec_process
        self.port_forward_handler = port_forward_handler
        self.stop_exit_code = stop_exit_code
        self.sandboxes: dict[str, FakeSandbox] = {}
        self.containers: dict[str, FakeContainer] = {}
        self.calls: list[tuple[str, str]] = []
        self.failures: dict[str, Exception] = {}
        self._ids = itertools.count(1)
        self._ip_prefix = ip_prefix
        self._pids = itertools.count(1000)

    # -------------------------------------------------------------- test controls

    def fail(self, method: str, error: Exception) -> None:
        """Make the next call of ``method`` raise ``error`` (a RuntimeServiceError, or an
        OSError as a runtime whose state files vanish raises)."""
        self.failures[method] = error

    def exit_container(
        self, container_id: str, exit_code: int = 0, *, reason: str = "", message: str = ""
    ) -> None:
        """End a running container as if its process exited (``reason`` e.g. OOMKilled)."""
        c = self._container(container_id)
        if c.status.state not in (ContainerState.RUNNING, ContainerState.CREATED):
            return
        self._finish(c, exit_code, reason or exit_reason(exit_code, False), message)

    def write_log(self, container_id: str, text: str, stream: str = "stdout") -> None:
        """Append CRI-format lines to the container's log file (if it has one)."""
        c = self._container(container_id)
        if not c.status.log_path:
            return
        os.makedirs(os.path.dirname(c.status.log_path), exist_ok=True)
        stamp = self.clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with open(c.status.log_path, "a") as f:
            for line in text.splitlines():
                f.write(f"{stamp} {stream} F {line}\n")

    def _check(self, method: str, key: str) -> None:
        self.calls.append((method, key))
        err = self.failures.pop(method, None)
        if err is not None:
            raise err

    def _sandbox(self, sid: str) -> FakeSandbox:
        try:
            return self.sandboxes[sid]
        except KeyError:
            raise SandboxNotFound(f"pod sandbox {sid!r} not found") from None

    def _container(self, cid: str) -> FakeContainer:
        try:
            return self.containers[cid]
        except KeyError:
            raise ContainerNotFound(f"container {cid!r} not found") from None

    def _finish(self, c: FakeContainer, code: int, reason: str, message: str = "") -> None:
        c.status = replace(
            c.status, state=ContainerState.EXITED, exit_code=code, reason=reason,
            message=message, finished_at=self.clock(), pid=None,
            started_at=c.status.started_at or self.clock(),
        )
        c.exited.set()

    def _new_id(self) -> str:
        return f"{next(self._ids):064x}"

    # -------------------------------------------------------------- sandboxes

    async def run_pod_sandbox(self, config: PodSandboxConfig) -> str:
        self._check("run_pod_sandbox", f"{config.namespace}/{config.name}")
        sid = self._new_id()
        netns, ip = "", ""
        if not config.host_network:
            if self.network is not None:
                netns = await self.network.create_namespace(sid)
                ip = await self.network.setup(
                    sid, netns, pod_namespace=config.namespace, pod_name=config.name,
                    pod_uid=config.uid,
                )
            else:
                n = int(sid, 16)
                ip = f"{self._ip_prefix}{n % 250 + 2}"
        self.sandboxes[sid] = FakeSandbox(
            PodSandboxStatus(
                id=sid, name=config.name, namespace=config.namespace, uid=config.uid,
                attempt=config.attempt, state=SandboxState.READY, created_at=self.clock(),
                ip=ip, labels=dict(config.labels), annotations=dict(config.annotations),
                host_network=config.host_network, netns_path=netns,
            ),
            config,
        )
        return sid

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        self._check("stop_pod_sandbox", sandbox_id)
        sb = self._sandbox(sandbox_id)
        for c in list(self.containers.values()):
            if c.status.sandbox_id == sandbox_id and c.status.state != ContainerState.EXITED:
                self._finish(c, 137, "Error")
        if sb.status.state == SandboxState.READY and self.network and sb.status.netns_path:
            await self.network.teardown(
                sandbox_id, sb.status.netns_path, pod_namespace=sb.status.namespace,
                pod_name=sb.status.name, pod_uid=sb.status.uid,
            )
            await self.network.remove_namespace(sandbox_id)
        # as OciRuntime: the namespace goes with the network, its path with it
        sb.status = replace(sb.status, state=SandboxState.NOTREADY, netns_path="")

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        self._check("remove_pod_sandbox", sandbox_id)
        if sandbox_id not in self.sandboxes:
            return
        await self.stop_pod_sandbox(sandbox_id)
        for cid in [c for c, v in self.containers.items() if v.status.sandbox_id == sandbox_id]:
            del self.containers[cid]
        del self.sandboxes[sandbox_id]

    async def pod_sandbox_status(self, sandbox_id: str) -> PodSandboxStatus:
        self._check("pod_sandbox_status", sandbox_id)
        return self._sandbox(sandbox_id).status

    async def list_pod_sandboxes(
        self, *, state: SandboxState | None = None, labels: Mapping[str, str] | None = None
    ) -> list[PodSandboxStatus]:
        self._check("list_pod_sandboxes", "")
        return [
            s.status for s in self.sandboxes.values()
            if (state is None or s.status.state == state)
            and all(s.status.labels.get(k) == v for k, v in (labels or {}).items())
        ]

    # -------------------------------------------------------------- containers

    async def create_container(
        self, sandbox_id: str, config: ContainerConfig, sandbox_config: PodSandboxConfig
    ) -> str:
        self._check("create_container", config.name)
        sb = self._sandbox(sandbox_id)
        if sb.status.state != SandboxState.READY:
            raise InvalidStateError(f"pod sandbox {sandbox_id[:12]} is not ready")
        argv = resolve_argv(config)
        cid = self._new_id()
        log_dir = sb.config.log_directory or sandbox_config.log_directory
        log_path = os.path.join(log_dir, config.log_path) if log_dir and config.log_path else ""
        self.containers[cid] = FakeContainer(
            ContainerStatus(
                id=cid, sandbox_id=sandbox_id, name=config.name, attempt=config.attempt,
                state=ContainerState.CREATED, created_at=self.clock(), started_at=None,
                finished_at=None, exit_code=None, reason="", message="",
                image=config.image.ref, image_id=config.image.image_id, pid=None,
                log_path=log_path, labels=dict(config.labels),
                annotations=dict(config.annotations),
            ),
            config,
            argv,
        )
        return cid

    async def start_container(self, container_id: str) -> None:
        self._check("start_container", container_id)
        c = self._container(container_id)
        if c.status.state != ContainerState.CREATED:
            raise InvalidStateError(f"container {container_id[:12]} is not created")
        c.status = replace(
            c.status, state=ContainerState.RUNNING, started_at=self.clock(), pid=next(self._pids)
        )
        code = self.on_start(c.config) if self.on_start else None
        if code is not None:
            self._finish(c, code, exit_reason(code, False))

    async def stop_container(self, container_id: str, timeout: float) -> None:  # noqa: ASYNC109
        self._check("stop_container", container_id)
        c = self._container(container_id)
        if c.status.state in (ContainerState.RUNNING, ContainerState.CREATED):
            # as OciRuntime: only a running process gets the stop signal (and may exit
            # with stop_exit_code); a created one, or no grace period, is SIGKILLed
            running = c.status.state == ContainerState.RUNNING
            code = self.stop_exit_code if timeout > 0 and running else 137
            self._finish(c, code, exit_reason(code, False))

    async def remove_container(self, container_id: str) -> None:
        self._check("remove_container", container_id)
        c = self.containers.get(container_id)
        if c is None:
            return
        if c.status.state != ContainerState.EXITED:
            self._finish(c, 137, "Error")
        del self.containers[container_id]

    async def container_status(self, container_id: str) -> ContainerStatus:
        self._check("container_status", container_id)
        return self._container(container_id).status

    async def list_containers(
        self,
        *,
        sandbox_id: str | None = None,
        state: ContainerState | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[ContainerStatus]:
        self._check("list_containers", sandbox_id or "")
        return [
            c.status for c in self.containers.values()
            if (sandbox_id is None or c.status.sandbox_id == sandbox_id)
            and (state is None or c.status.state == state)
            and all(c.status.labels.get(k) == v for k, v in (labels or {}).items())
        ]

    def _running(self, cid: str) -> FakeContainer:
        c = self._container(cid)
        if c.status.state != ContainerState.RUNNING:
            raise InvalidStateError(f"container {cid[:12]} is not running")
        return c

    async def exec_sync(
        self, container_id: str, cmd: Sequence[str], timeout: float | None = None  # noqa: ASYNC109
    ) -> tuple[int, bytes, bytes]:
        self._check("exec_sync", container_id)
        self._running(container_id)
        if not cmd:
            raise ExecError("empty command")
        if self.exec_handler is not None:
            return self.exec_handler(container_id, list(cmd))
        return 0, b"", b""

    async def exec(
        self,
        container_id: str,
        cmd: Sequence[str],
        *,
        tty: bool = False,
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
    ) -> StreamSession:
        self._check("exec", container_id)
        self._running(container_id)
        if not cmd:
            raise ExecError("empty command")
        if self.exec_process is not None:
            proc = FakeProcess(tty)
            return _ProcessSession(proc, self.exec_process(container_id, list(cmd), proc), stdin)
        code, out, err = (
            self.exec_handler(container_id, list(cmd)) if self.exec_handler else (0, b"", b"")
        )
        return _Session(tty, out if stdout else b"", err if stderr else b"", code, stdin)

    async def attach(
        self, container_id: str, *, stdin: bool = False, tty: bool = False
    ) -> StreamSession:
        self._check("attach", container_id)
        c = self._running(container_id)
        return _AttachSession(c, tty=c.config.tty, stdin=stdin and c.config.stdin)

    async def port_forward(self, sandbox_id: str, port: int) -> tuple[ByteReader, ByteWriter]:
        self._check("port_forward", sandbox_id)
        self._sandbox(sandbox_id)
        if self.port_forward_handler is not None:
            return await self.port_forward_handler(sandbox_id, port)
        reader = asyncio.StreamReader()
        return reader, _Echo(reader)

    async def reopen_container_log(self, container_id: str) -> None:
        self._check("reopen_container_log", container_id)
        self._running(container_id)

    async def close(self) -> None:
        return None


class _AttachSession:
    """Attach to a fake container: stdin goes to the container's stdin buffer; the
    session ends when the container exits."""

    def __init__(self, c: FakeContainer, *, tty: bool, stdin: bool) -> None:
        self.tty = tty
        self._c = c
        self.stdout: ByteReader | None = asyncio.StreamReader()
        self.stderr: ByteReader | None = None if tty else asyncio.StreamReader()
        self.stdin: ByteWriter | None = _ContainerStdin(c) if stdin else None

    async def resize(self, width: int, height: int) -> None:
        return None

    async def wait(self) -> int:
        await self._c.exited.wait()
        return self._c.status.exit_code if self._c.status.exit_code is not None else 255

    async def close(self) -> None:
        return None


class _ContainerStdin:
    def __init__(self, c: FakeContainer) -> None:
        self._c = c

    def write(self, data: bytes) -> None:
        self._c.stdin_data += data

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        return None


__all__ = ["FakeContainer", "FakeProcess", "FakeRuntime", "FakeSandbox"]
