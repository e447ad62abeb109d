"""Containers on runc and conmon: create, start, status, list, stop, remove.

Contract: a container's rootfs is an overlay of its image layers under
``root/containers/<id>``; conmon (launched by :meth:`ContainerOps._conmon_create`) is its
parent, writes its CRI log and its exit file ``root/exits/<id>``. The live state is always
derived from disk and /proc (:meth:`ContainerOps._refresh`), and an exit, once seen, is
recorded with its reason (OOMKilled when the cgroup says so). A failed create leaves
nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from kubelite.runtime.oci import cgroups, linux
from kubelite.runtime.oci.base import (
    RuntimeBase,
    _matches,
    _now,
    _parse_time,
    _pid_alive,
    _run,
    _runc_error,
)
from kubelite.runtime.oci.spec import SandboxPaths, build_spec
from kubelite.runtime.oci.state import ContainerRecord, load, write_json
from kubelite.runtime.oci.users import resolve_user
from kubelite.runtime.protocol import (
    ContainerConfig,
    ContainerNotFound,
    ContainerState,
    ContainerStatus,
    CreateContainerError,
    InvalidStateError,
    PodSandboxConfig,
    RuntimeServiceError,
    SandboxState,
    StartContainerError,
    exit_reason,
)


class ContainerOps(RuntimeBase):
    """The container half of the CRI runtime service (the sandbox it runs in must be ready)."""

    async def create_container(
        self, sandbox_id: str, config: ContainerConfig, sandbox_config: PodSandboxConfig
    ) -> str:
        srec = self._srec(sandbox_id)
        if srec.state != SandboxState.READY.value:
            raise InvalidStateError(f"pod sandbox {sandbox_id[:12]} is not ready")
        layers = list(config.image.layers)
        if not layers:
            raise CreateContainerError(f"image {config.image.ref} has no layers")
        missing = [layer for layer in layers if not _is_dir(layer)]
        if missing:
            raise CreateContainerError(f"image layer {missing[0]} does not exist")
        pidns = ""
        if srec.pid_holder and not config.pid_namespace_of:
            if not _pid_alive(srec.pid_holder):
                raise CreateContainerError("the pod's shared PID namespace is gone")
            pidns = f"/proc/{srec.pid_holder}/ns/pid"
        if config.pid_namespace_of:
            target = self._crec(config.pid_namespace_of)
            if target.sandbox_id != sandbox_id or not _pid_alive(target.pid):
                raise CreateContainerError(
                    f"container {config.pid_namespace_of[:12]} to share a PID namespace "
                    "with is not running")
            pidns = f"/proc/{target.pid}/ns/pid"
        cid = secrets.token_hex(32)
        cdir = self._cdir(cid)
        bundle, rootfs = os.path.join(cdir, "bundle"), os.path.join(cdir, "rootfs")
        for d in (bundle, rootfs, os.path.join(cdir, "upper"), os.path.join(cdir, "work")):
            os.makedirs(d)
        log_dir = srec.log_directory or sandbox_config.log_directory
        if log_dir and config.log_path:
            log_path = os.path.join(log_dir, config.log_path)
        else:
            log_path = os.path.join(cdir, "container.log")
        rec = ContainerRecord(
            id=cid, sandbox_id=sandbox_id, name=config.name, attempt=config.attempt,
            created_at=_now(), image=config.image.ref, image_id=config.image.image_id,
            log_path=log_path, cgroup_path=cgroups.container_cgroup(srec.cgroup_parent, cid),
            stop_signal=config.image.stop_signal, tty=config.tty, stdin=config.stdin,
            labels=dict(config.labels), annotations=dict(config.annotations),
        )
        self._save_c(rec)
        try:
            uid, gid, extra = resolve_user(layers, config.image.user, config.security)
            spec = build_spec(
                config, rootfs=rootfs,
                sandbox=SandboxPaths(
                    netns=srec.netns_path, ipcns=srec.ipcns_path, utsns=srec.utsns_path,
                    pidns=pidns, host_pid=srec.host_pid, host_ipc=srec.host_ipc,
                    hostname=srec.hostname,
                    resolv_conf=os.path.join(self._sdir(sandbox_id), "resolv.conf"),
                    hosts=os.path.join(self._sdir(sandbox_id), "hosts"),
                    hostname_file=os.path.join(self._sdir(sandbox_id), "hostname"),
                    shm=srec.shm_path, sysctls=srec.sysctls,
                ),
                cgroups_path=rec.cgroup_path, uid=uid, gid=gid, additional_gids=extra,
                limits=self.limits,
            )
            write_json(os.path.join(bundle, "config.json"), spec)
            lower = ":".join(reversed(layers))
            linux.mount(
                "overlay", rootfs, "overlay", 0,
                f"lowerdir={lower},upperdir={cdir}/upper,workdir={cdir}/work",
            )
            for m in config.mounts:  # missing host paths are created, as the kubelet does
                if not os.path.exists(m.host_path):  # noqa: ASYNC240
                    os.makedirs(m.host_path, exist_ok=True)
            os.makedirs(os.path.dirname(log_path), exist_ok=True)
            rec.pid, rec.conmon_pid = await self._conmon_create(rec, config, bundle)
            self._save_c(rec)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await self._destroy_container(rec)
            if isinstance(exc, RuntimeServiceError | asyncio.CancelledError):
                raise
            if isinstance(exc, Exception):
                raise CreateContainerError(str(exc)) from exc
            raise
        return cid

    async def _conmon_create(
        self, rec: ContainerRecord, config: ContainerConfig, bundle: str
    ) -> tuple[int, int]:
        """Launch conmon, which runs ``runc create``; return (container pid, conmon pid)."""
        cdir = self._cdir(rec.id)
        argv = [
            self.conmon, "--api-version", "1",
            "-c", rec.id, "-u", rec.id, "-n", rec.name,
            "-r", self.runc, "-b", bundle,
            "-p", os.path.join(bundle, "pidfile"),
            "-P", os.path.join(cdir, "conmon.pid"),
            "-l", f"k8s-file:{rec.log_path}",
            "--exit-dir", self._exits,
            "--socket-dir-path", self._sockets,
            "--runtime-arg", f"--root={self._runc_root}",
            "--log-level", "error",
        ]
        if config.tty:
            argv.append("-t")
        if config.stdin:
            argv.append("-i")
            if not config.stdin_once:
                argv.append("--leave-stdin-open")
        r, w = os.pipe()
        errfd = os.open(os.path.join(cdir, "conmon.err"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=errfd,
                pass_fds=(w,),
                env={**os.environ, "_OCI_SYNCPIPE": str(w)},
            )
            os.close(w)
            w = -1
            await proc.wait()
            data = await asyncio.to_thread(_read_line, r)
        finally:
            os.close(r)
            os.close(errfd)
            if w >= 0:
                os.close(w)
        try:
            doc = json.loads(data)
            pid = int(doc["data"])
        except (ValueError, KeyError, TypeError):
            detail = _read_text(os.path.join(cdir, "conmon.err"))
            raise CreateContainerError(f"conmon failed: {data!r} {detail}") from None
        if pid < 0:
            raise CreateContainerError(
                _runc_error(str(doc.get("message", "runc create failed")).encode())
            )
        conmon_pid = _read_text(os.path.join(cdir, "conmon.pid"))
        return pid, int(conmon_pid) if conmon_pid.isdigit() else 0

    async def start_container(self, container_id: str) -> None:
        async with self._lock(container_id):
            rec = self._crec(container_id)
            state = self._refresh(rec)
            if state != ContainerState.CREATED:
                raise InvalidStateError(
                    f"container {container_id[:12]} is {state.value}, not created"
                )
            started = _now()  # before: the process may exit before runc returns
            code, _, err = await _run(self._runc_cmd("start", container_id))
            if code != 0:
                msg = _runc_error(err)
                rec.exit_code, rec.reason, rec.message = 128, "StartError", msg
                rec.finished_at = rec.started_at = _now()
                self._save_c(rec)
                await _run(self._runc_cmd("kill", container_id, "KILL"))
                raise StartContainerError(msg)
            rec.started_at = started
            self._save_c(rec)

    def _exit_file(self, cid: str) -> str:
        return os.path.join(self._exits, cid)

    def _refresh(self, rec: ContainerRecord) -> ContainerState:
        """Derive the live state; record the exit (with OOM evidence) once seen."""
        if rec.exit_code is not None:
            return ContainerState.EXITED
        path = self._exit_file(rec.id)
        try:
            with open(path) as f:
                text = f.read().strip()
            finished = os.stat(path).st_mtime
        except OSError:
            text = ""
        if text:
            try:
                code = int(text)
            except ValueError:
                code = 255
            oom = cgroups.oom_killed(rec.cgroup_path) or os.path.exists(
                os.path.join(self._cdir(rec.id), "bundle", "oom")
            )
            rec.exit_code = code
            rec.reason = rec.reason or exit_reason(code, oom)
            # the mtime (coarse clock) may read before our start time: never end before it
            end, start = datetime.fromtimestamp(finished, UTC), _parse_time(rec.started_at)
            rec.finished_at = max(end, start or end).isoformat()
            if not rec.started_at:
                rec.started_at = rec.finished_at
            self._save_c(rec)
            return ContainerState.EXITED
        conmon_alive = _pid_alive(rec.conmon_pid)
        if not rec.started_at:
            return ContainerState.CREATED if conmon_alive or _pid_alive(rec.pid) else (
                ContainerState.UNKNOWN
            )
        if _pid_alive(rec.pid) or conmon_alive:
            return ContainerState.RUNNING
        return ContainerState.UNKNOWN

    def _status(self, rec: ContainerRecord, state: ContainerState) -> ContainerStatus:
        created = _parse_time(rec.created_at)
        assert created is not None
        return ContainerStatus(
            id=rec.id, sandbox_id=rec.sandbox_id, name=rec.name, attempt=rec.attempt,
            state=state, created_at=created, started_at=_parse_time(rec.started_at),
            finished_at=_parse_time(rec.finished_at), exit_code=rec.exit_code,
            reason=rec.reason, message=rec.message, image=rec.image, image_id=rec.image_id,
            pid=rec.pid if state in (ContainerState.RUNNING, ContainerState.CREATED) else None,
            log_path=rec.log_path, labels=rec.labels, annotations=rec.annotations,
        )

    async def container_status(self, container_id: str) -> ContainerStatus:
        rec = self._crec(container_id)
        return self._status(rec, self._refresh(rec))

    async def list_containers(
        self,
        *,
        sandbox_id: str | None = None,
        state: ContainerState | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[ContainerStatus]:
        # state and exit files are read off the event loop (a relist reads several per
        # container); a record saved here and on the loop at once is safe (state.write_json)
        return await asyncio.to_thread(self._list_containers, sandbox_id, state, labels)

    def _list_containers(
        self, sandbox_id: str | None, state: ContainerState | None,
        labels: Mapping[str, str] | None,
    ) -> list[ContainerStatus]:
        out: list[ContainerStatus] = []
        for cid in sorted(os.listdir(self._containers)):
            rec = load(os.path.join(self._cdir(cid), "container.json"), ContainerRecord)
            if rec is None or (sandbox_id is not None and rec.sandbox_id != sandbox_id):
                continue
            if not _matches(rec.labels, labels):
                continue
            try:
                st = self._status(rec, self._refresh(rec))
            except FileNotFoundError:  # removed while it was looked at
                continue
            if state is None or st.state == state:
                out.append(st)
        return sorted(out, key=lambda s: s.created_at)

    async def _wait_exit(self, cid: str, timeout: float) -> bool:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        path = self._exit_file(cid)
        delay = 0.005
        while True:
            if _nonempty(path):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    async def stop_container(self, container_id: str, timeout: float) -> None:  # noqa: ASYNC109
        async with self._lock(container_id):
            rec = self._crec(container_id)
            state = self._refresh(rec)
            if state == ContainerState.EXITED:
                return
            if state == ContainerState.UNKNOWN and not _pid_alive(rec.pid):
                return
            sig = rec.stop_signal.upper().removeprefix("SIG") or "TERM"
            if timeout > 0 and state == ContainerState.RUNNING:
                await _run(self._runc_cmd("kill", container_id, sig))
                if await self._wait_exit(container_id, timeout):
                    self._refresh(rec)
                    return
            await _run(self._runc_cmd("kill", container_id, "KILL"))
            if not await self._wait_exit(container_id, 10):
                raise RuntimeServiceError(f"container {container_id[:12]} did not exit")
            self._refresh(rec)

    async def remove_container(self, container_id: str) -> None:
        try:
            rec = self._crec(container_id)
        except ContainerNotFound:
            return
        state = self._refresh(rec)
        if state in (ContainerState.RUNNING, ContainerState.CREATED):
            await self.stop_container(container_id, 0)
            rec = self._crec(container_id)
            self._refresh(rec)
        async with self._lock(container_id):
            await self._destroy_container(rec)
        self._locks.pop(container_id, None)

    async def _destroy_container(self, rec: ContainerRecord) -> None:
        await _run(self._runc_cmd("delete", "--force", rec.id))
        if _pid_alive(rec.conmon_pid):
            with contextlib.suppress(OSError):
                os.kill(rec.conmon_pid, signal.SIGKILL)
        cdir = self._cdir(rec.id)
        for point in linux.mount_points_under(cdir):
            linux.umount(point)
        cgroups.remove(rec.cgroup_path)
        with contextlib.suppress(OSError):
            os.unlink(self._exit_file(rec.id))
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(self._sockets, rec.id))
        await asyncio.to_thread(shutil.rmtree, cdir, True)


def _is_dir(path: str) -> bool:
    return os.path.isdir(path)


def _nonempty(path: str) -> bool:
    try:
        return os.stat(path).st_size > 0
    except OSError:
        return False


def _read_text(path: str) -> str:
    with contextlib.suppress(OSError), open(path, errors="replace") as f:
        return f.read().strip()
    return ""


def _read_line(fd: int) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.strip()
