"""The real runtime: runc (cgroupfs driver) + one conmon per container + overlayfs.

Invariants:

- Everything lives under ``root`` (see :mod:`kubelite.runtime.oci.state`); nothing is
  kept only in memory, so a new instance over the same root adopts running containers.
- conmon is the parent of every container process: it holds stdio, writes the CRI log
  and the exit file ``root/exits/<id>``. Containers outlive the process that made them.
- A sandbox has no process: its network namespace comes from the injected
  :class:`~kubelite.runtime.protocol.PodNetwork`; IPC and UTS namespaces are bind-mounted
  files made with ``unshare``; ``/dev/shm`` is one tmpfs per pod.

The class is built in layers, one module each: :mod:`~kubelite.runtime.oci.base` (layout,
records, locks), :mod:`~kubelite.runtime.oci.containers`, :mod:`~kubelite.runtime.oci.sandboxes`;
this module adds the streaming calls (exec, attach, port-forward, log reopen), which need
a running container (or a sandbox, for port-forward) and never change a record.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
from collections.abc import Sequence

from kubelite.runtime.oci import linux
from kubelite.runtime.oci.base import _runc_error
from kubelite.runtime.oci.sandboxes import SandboxOps
from kubelite.runtime.oci.state import ContainerRecord
from kubelite.runtime.oci.streams import (
    AttachSession,
    ExecSession,
    connect_attach,
    start_exec,
    write_ctl,
)
from kubelite.runtime.protocol import (
    ByteReader,
    ByteWriter,
    ContainerState,
    ExecError,
    ExecTimeout,
    InvalidStateError,
    RuntimeServiceError,
    StreamSession,
)


class OciRuntime(SandboxOps):
    """:class:`~kubelite.runtime.protocol.ContainerRuntime` on runc and conmon."""

    def _running(self, container_id: str) -> ContainerRecord:
        rec = self._crec(container_id)
        state = self._refresh(rec)
        if state != ContainerState.RUNNING:
            raise InvalidStateError(f"container {container_id[:12]} is not running")
        return rec

    async def exec_sync(
        self, container_id: str, cmd: Sequence[str], timeout: float | None = None  # noqa: ASYNC109
    ) -> tuple[int, bytes, bytes]:
        self._running(container_id)
        if not cmd:
            raise ExecError("empty command")
        pidfile = os.path.join(self._cdir(container_id), f"exec-{secrets.token_hex(4)}.pid")
        proc = await asyncio.create_subprocess_exec(
            *self._runc_cmd("exec", "--pid-file", pidfile, container_id, *cmd),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout or None)
        except TimeoutError:
            _kill_pidfile(pidfile)
            proc.kill()
            await proc.wait()
            raise ExecTimeout(
                f"command {list(cmd)!r} timed out after {timeout}s"
            ) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(pidfile)
        code = proc.returncode
        assert code is not None
        if code == 255 and b"exec failed" in err:
            raise ExecError(_runc_error(err))
        return code, out, err

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
        self._running(container_id)
        session: ExecSession = await start_exec(
            self._runc_cmd("exec", container_id, *cmd),
            tty=tty, stdin=stdin, stdout=stdout, stderr=stderr,
        )
        return session

    async def attach(
        self, container_id: str, *, stdin: bool = False, tty: bool = False
    ) -> StreamSession:
        rec = self._running(container_id)
        bundle = os.path.join(self._cdir(container_id), "bundle")
        sock = await asyncio.to_thread(connect_attach, bundle)

        async def wait_exit() -> int:
            while not await self._wait_exit(container_id, 3600):
                pass
            status = await self.container_status(container_id)
            return status.exit_code if status.exit_code is not None else 255

        return AttachSession(
            sock, tty=rec.tty, stdin=stdin and rec.stdin,
            ctl_path=os.path.join(bundle, "ctl"), wait_exit=wait_exit,
        )

    async def port_forward(self, sandbox_id: str, port: int) -> tuple[ByteReader, ByteWriter]:
        rec = self._srec(sandbox_id)
        try:
            if rec.host_network or not rec.netns_path:
                return await asyncio.open_connection("127.0.0.1", port)
            sock = await asyncio.to_thread(linux.connect_in_netns, rec.netns_path, "127.0.0.1",
                                           port)
            return await asyncio.open_connection(sock=sock)
        except OSError as exc:
            raise RuntimeServiceError(
                f"port-forward to {rec.namespace}/{rec.name}:{port}: {exc.strerror or exc}"
            ) from exc

    async def reopen_container_log(self, container_id: str) -> None:
        self._running(container_id)
        ctl = os.path.join(self._cdir(container_id), "bundle", "ctl")
        try:
            await asyncio.to_thread(write_ctl, ctl, "2 0 0\n")
        except OSError as exc:
            raise RuntimeServiceError(f"reopen log of {container_id[:12]}: {exc}") from exc

    async def close(self) -> None:
        self._locks.clear()


def _kill_pidfile(path: str) -> None:
    with contextlib.suppress(OSError, ValueError), open(path) as f:
        os.kill(int(f.read().strip()), signal.SIGKILL)
