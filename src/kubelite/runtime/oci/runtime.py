"""The real runtime: runc (cgroupfs driver) + one conmon per container + overlayfs.

Invariants:

- Everything lives under ``root`` (see :mod:`kubelite.runtime.oci.state`); nothing is
  kept only in memory, so a new instance over the same root adopts running containers.
- conmon is the parent of every container process: it holds stdio, writes the CRI log
  and the exit file ``root/exits/<id>``. Containers outlive the process that made them.
- A sandbox has no process: its network namespace comes from the injected
  :class:`~kubelite.runtime.protocol.PodNetwork`; IPC and UTS namespaces are bind-mounted
  files made with ``unshare``; ``/dev/shm`` is one tmpfs per pod.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from kubelite.runtime.oci import cgroups, linux
from kubelite.runtime.oci.spec import HostLimits, SandboxPaths, build_spec
from kubelite.runtime.oci.state import ContainerRecord, SandboxRecord, load, save, write_json
from kubelite.runtime.oci.streams import (
    AttachSession,
    ExecSession,
    connect_attach,
    start_exec,
    write_ctl,
)
from kubelite.runtime.oci.users import resolve_user
from kubelite.runtime.protocol import (
    ByteReader,
    ByteWriter,
    ContainerConfig,
    ContainerNotFound,
    ContainerState,
    ContainerStatus,
    CreateContainerError,
    ExecError,
    ExecTimeout,
    InvalidStateError,
    NetworkSetupError,
    PodNetwork,
    PodSandboxConfig,
    PodSandboxStatus,
    RuntimeServiceError,
    SandboxNotFound,
    SandboxState,
    StartContainerError,
    StreamSession,
    exit_reason,
)

log = logging.getLogger(__name__)

DEFAULT_CGROUP_ROOT = "kubelite"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _parse_time(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _pid_alive(pid: int) -> bool:
    """Alive and not a zombie."""
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _matches(labels: Mapping[str, str], wanted: Mapping[str, str] | None) -> bool:
    return not wanted or all(labels.get(k) == v for k, v in wanted.items())


async def _run(
    argv: Sequence[str], timeout: float = 60.0  # noqa: ASYNC109
) -> tuple[int, bytes, bytes]:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return -9, b"", f"{argv[0]} timed out".encode()
    assert proc.returncode is not None
    return proc.returncode, out, err


def _runc_error(err: bytes) -> str:
    """The message of runc's last error line (it logs JSON or logfmt)."""
    text = err.decode(errors="replace").strip()
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                return str(json.loads(line).get("msg", line))
        if 'msg="' in line:
            return line.split('msg="', 1)[1].rsplit('"', 1)[0].replace('\\"', '"')
        if line:
            return line
    return text


class OciRuntime:
    """:class:`~kubelite.runtime.protocol.ContainerRuntime` on runc and conmon."""

    def __init__(
        self,
        root: str,
        network: PodNetwork | None = None,
        *,
        cgroup_root: str = DEFAULT_CGROUP_ROOT,
        runc: str = "runc",
        conmon: str = "conmon",
    ) -> None:
        self.root = os.path.abspath(root)
        self.network = network
        self.runc = shutil.which(runc) or runc
        self.conmon = shutil.which(conmon) or conmon
        self.limits = HostLimits.current()
        self._runc_root = os.path.join(self.root, "runc")
        self._exits = os.path.join(self.root, "exits")
        self._sandboxes = os.path.join(self.root, "sandboxes")
        self._containers = os.path.join(self.root, "containers")
        self._sockets = os.path.join(self.root, "sockets")
        for d in (self._runc_root, self._exits, self._sandboxes, self._containers,
                  self._sockets):
            os.makedirs(d, exist_ok=True)
        settings_path = os.path.join(self.root, "runtime.json")
        settings: dict[str, str] = {}
        with contextlib.suppress(OSError, ValueError), open(settings_path) as f:
            settings = json.load(f)
        self.cgroup_root = settings.get("cgroup_root", cgroup_root)
        write_json(settings_path, {"cgroup_root": self.cgroup_root})
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    # ------------------------------------------------------------------ paths

    def _sdir(self, sid: str) -> str:
        return os.path.join(self._sandboxes, sid)

    def _cdir(self, cid: str) -> str:
        return os.path.join(self._containers, cid)

    def _srec(self, sid: str) -> SandboxRecord:
        rec = load(os.path.join(self._sdir(sid), "sandbox.json"), SandboxRecord) if sid else None
        if rec is None:
            raise SandboxNotFound(f"pod sandbox {sid!r} not found")
        return rec

    def _crec(self, cid: str) -> ContainerRecord:
        path = os.path.join(self._cdir(cid), "container.json")
        rec = load(path, ContainerRecord) if cid else None
        if rec is None:
            raise ContainerNotFound(f"container {cid!r} not found")
        return rec

    def _save_s(self, rec: SandboxRecord) -> None:
        save(os.path.join(self._sdir(rec.id), "sandbox.json"), rec)

    def _save_c(self, rec: ContainerRecord) -> None:
        save(os.path.join(self._cdir(rec.id), "container.json"), rec)

    def _runc_cmd(self, *args: str) -> list[str]:
        return [self.runc, "--root", self._runc_root, *args]

    # ------------------------------------------------------------------ sandboxes

    async def run_pod_sandbox(self, config: PodSandboxConfig) -> str:
        sid = secrets.token_hex(32)
        sdir = self._sdir(sid)
        os.makedirs(os.path.join(sdir, "ns"))
        hostname = (config.hostname or config.name)[:63]
        parent = config.cgroup_parent.strip("/") or f"{self.cgroup_root}/pod{config.uid}"
        rec = SandboxRecord(
            id=sid, name=config.name, namespace=config.namespace, uid=config.uid,
            attempt=config.attempt, created_at=_now(), state=SandboxState.READY.value,
            hostname=hostname, log_directory=config.log_directory, cgroup_parent=parent,
            host_network=config.host_network, host_pid=config.host_pid,
            host_ipc=config.host_ipc,
            port_mappings=[
                {"hostPort": p.host_port, "containerPort": p.container_port,
                 "protocol": p.protocol.lower(), "hostIP": p.host_ip}
                for p in config.port_mappings if p.host_port
            ],
            labels=dict(config.labels), annotations=dict(config.annotations),
            sysctls=dict(config.sysctls),
        )
        self._save_s(rec)
        try:
            await self._setup_sandbox(rec, config)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.remove_pod_sandbox(sid)
            raise
        return sid

    async def _setup_sandbox(self, rec: SandboxRecord, config: PodSandboxConfig) -> None:
        sdir = self._sdir(rec.id)
        if config.log_directory:
            os.makedirs(config.log_directory, exist_ok=True)
        # IPC and UTS namespaces shared by the pod's containers.
        ipc, uts = os.path.join(sdir, "ns", "ipc"), os.path.join(sdir, "ns", "uts")
        args = ["unshare", f"--ipc={ipc}"]
        _write_file(ipc, "")
        _write_file(uts, "")
        if not rec.host_network:
            args.append(f"--uts={uts}")
        args += ["hostname", rec.hostname] if not rec.host_network else ["true"]
        code, _, err = await _run(args)
        if code != 0:
            raise RuntimeServiceError(f"creating pod namespaces: {err.decode().strip()}")
        rec.ipcns_path = ipc
        rec.utsns_path = "" if rec.host_network else uts
        if config.share_process_namespace and not config.host_pid:
            rec.pid_holder = await _start_pid_holder()
        # One /dev/shm per pod.
        shm = os.path.join(sdir, "shm")
        os.makedirs(shm, exist_ok=True)
        linux.mount("shm", shm, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC,
                    "mode=1777,size=65536k")
        rec.shm_path = shm
        self._save_s(rec)
        self._write_resolv_conf(rec, config)
        if not rec.host_network:
            if self.network is None:
                raise NetworkSetupError("no pod network configured (only hostNetwork pods)")
            try:
                rec.netns_path = await self.network.create_namespace(rec.id)
                self._save_s(rec)
                rec.ip = await self.network.setup(
                    rec.id, rec.netns_path, pod_namespace=rec.namespace, pod_name=rec.name,
                    pod_uid=rec.uid, port_mappings=rec.port_mappings,
                )
            except RuntimeServiceError:
                raise
            except Exception as exc:
                raise NetworkSetupError(f"pod network setup failed: {exc}") from exc
        self._write_hosts(rec, config)
        _write_file(os.path.join(sdir, "hostname"), rec.hostname + "\n")
        self._save_s(rec)

    def _write_resolv_conf(self, rec: SandboxRecord, config: PodSandboxConfig) -> None:
        path = os.path.join(self._sdir(rec.id), "resolv.conf")
        if config.dns is None:
            try:
                with open("/etc/resolv.conf") as f:
                    text = f.read()
            except OSError:
                text = ""
        else:
            lines = [f"nameserver {s}" for s in config.dns.servers]
            if config.dns.searches:
                lines.append("search " + " ".join(config.dns.searches))
            if config.dns.options:
                lines.append("options " + " ".join(config.dns.options))
            text = "\n".join(lines) + "\n"
        with open(path, "w") as f:
            f.write(text)

    def _write_hosts(self, rec: SandboxRecord, config: PodSandboxConfig) -> None:
        path = os.path.join(self._sdir(rec.id), "hosts")
        if rec.host_network:
            try:
                with open("/etc/hosts") as f:
                    text = f.read()
            except OSError:
                text = "127.0.0.1\tlocalhost\n"
        else:
            lines = [
                "# Kubernetes-managed hosts file.",
                "127.0.0.1\tlocalhost",
                "::1\tlocalhost ip6-localhost ip6-loopback",
                "fe00::0\tip6-localnet",
                "fe00::0\tip6-mcastprefix",
                "fe00::1\tip6-allnodes",
                "fe00::2\tip6-allrouters",
            ]
            if rec.ip:
                lines.append(f"{rec.ip}\t{rec.hostname}")
            if config.host_entries:
                lines.append("")
                lines.append("# Entries added by HostAliases.")
                for entry in config.host_entries:
                    lines.append(f"{entry.ip}\t" + "\t".join(entry.hostnames))
            text = "\n".join(lines) + "\n"
        with open(path, "w") as f:
            f.write(text)

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        rec = self._srec(sandbox_id)
        for c in await self.list_containers(sandbox_id=sandbox_id):
            if c.state in (ContainerState.RUNNING, ContainerState.CREATED, ContainerState.UNKNOWN):
                await self.stop_container(c.id, 0)
        async with self._lock(sandbox_id):
            rec = self._srec(sandbox_id)
            await self._teardown_network(rec)
            _kill_pid_holder(rec.pid_holder)
            rec.state = SandboxState.NOTREADY.value
            self._save_s(rec)

    async def _teardown_network(self, rec: SandboxRecord) -> None:
        if rec.host_network or not rec.netns_path:
            return
        if self.network is not None:
            try:
                await self.network.teardown(
                    rec.id, rec.netns_path, pod_namespace=rec.namespace, pod_name=rec.name,
                    pod_uid=rec.uid, port_mappings=rec.port_mappings,
                )
                await self.network.remove_namespace(rec.id)
            except Exception as exc:
                raise NetworkSetupError(f"pod network teardown failed: {exc}") from exc
        _remove_ns_file(rec.netns_path)  # if still there (no network object)
        rec.netns_path = ""
        self._save_s(rec)

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        try:
            rec = self._srec(sandbox_id)
        except SandboxNotFound:
            return
        for c in await self.list_containers(sandbox_id=sandbox_id):
            await self.remove_container(c.id)
        async with self._lock(sandbox_id):
            await self._teardown_network(rec)
            _kill_pid_holder(rec.pid_holder)
            sdir = self._sdir(sandbox_id)
            for point in linux.mount_points_under(sdir):
                linux.umount(point)
            cgroups.remove(rec.cgroup_parent)
            await asyncio.to_thread(shutil.rmtree, sdir, True)
        self._locks.pop(sandbox_id, None)

    def _sandbox_status(self, rec: SandboxRecord) -> PodSandboxStatus:
        created = _parse_time(rec.created_at)
        assert created is not None
        return PodSandboxStatus(
            id=rec.id, name=rec.name, namespace=rec.namespace, uid=rec.uid,
            attempt=rec.attempt, state=SandboxState(rec.state), created_at=created,
            ip=rec.ip, labels=rec.labels, annotations=rec.annotations,
            host_network=rec.host_network, netns_path=rec.netns_path,
        )

    async def pod_sandbox_status(self, sandbox_id: str) -> PodSandboxStatus:
        return self._sandbox_status(self._srec(sandbox_id))

    async def list_pod_sandboxes(
        self, *, state: SandboxState | None = None, labels: Mapping[str, str] | None = None
    ) -> list[PodSandboxStatus]:
        # state files are read off the event loop (a relist reads one per sandbox)
        return await asyncio.to_thread(self._list_sandboxes, state, labels)

    def _list_sandboxes(
        self, state: SandboxState | None, labels: Mapping[str, str] | None
    ) -> list[PodSandboxStatus]:
        out: list[PodSandboxStatus] = []
        for sid in sorted(os.listdir(self._sandboxes)):
            rec = load(os.path.join(self._sdir(sid), "sandbox.json"), SandboxRecord)
            if rec is None:
                continue
            st = self._sandbox_status(rec)
            if (state is None or st.state == state) and _matches(st.labels, labels):
                out.append(st)
        return out

    # ------------------------------------------------------------------ containers

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

    # ------------------------------------------------------------------ streaming

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


async def _start_pid_holder() -> int:
    """Start the process that holds a pod's shared PID namespace (the pause container's
    part in Kubernetes): ``unshare --pid --kill-child sleep infinity``; return the pid
    of its ``sleep``, pid 1 of the new namespace, which the pod's containers join."""
    proc = await asyncio.create_subprocess_exec(
        "unshare", "--pid", "--kill-child", "--", "sleep", "infinity",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
    children = f"/proc/{proc.pid}/task/{proc.pid}/children"
    for _ in range(200):
        text = _read_text(children)
        if text:
            return int(text.split()[0])
        if proc.returncode is not None:
            break
        await asyncio.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    raise RuntimeServiceError("creating the pod's PID namespace: unshare did not start")


def _kill_pid_holder(pid: int) -> None:
    if pid and _pid_alive(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _write_file(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _is_dir(path: str) -> bool:
    return os.path.isdir(path)


def _nonempty(path: str) -> bool:
    try:
        return os.stat(path).st_size > 0
    except OSError:
        return False


def _kill_pidfile(path: str) -> None:
    with contextlib.suppress(OSError, ValueError), open(path) as f:
        os.kill(int(f.read().strip()), signal.SIGKILL)


def _remove_ns_file(path: str) -> None:
    if path and os.path.lexists(path):
        linux.umount(path)
        with contextlib.suppress(OSError):
            os.unlink(path)


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
